/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "brnf.h"
#include "emit_nft.h"
#include "nft_batch.h"
#include "util.h"

/* `netseg compile`: the exact ruleset `apply` would install, as nft text on stdout. */
int cmd_compile(int argc, char **argv)
{
	struct cli_build b;
	struct cli_opts o;
	int r;

	r = cli_parse_opts("compile", argc, argv, "peb", &o);
	if (r != CLI_OK)
		return r;
	if (cli_build_ruleset("compile", &o, &b) < 0)
		return CLI_FAIL;
	r = emit_nft(b.ruleset, stdout);
	if (r == 0 && fflush(stdout) != 0)
		r = -errno;
	ir_ruleset_free(b.ruleset);
	if (r < 0) {
		cli_error("compile", "cannot write the ruleset: %s", strerror(-r));
		return CLI_FAIL;
	}
	return CLI_OK;
}

/*
 * Same-bridge traffic reaches conntrack and the inet hooks only through br_netfilter, so a
 * managed bridge needs it on. We turn it on and say so, or refuse to apply: a policy that
 * silently does not hold between containers on one bridge is worse than no policy.
 */
static int ensure_brnf(void)
{
	struct brnf_state st;
	int r = brnf_ensure(&st);

	if (r == -ENOENT) {
		cli_error("apply", "br_netfilter is not available (no /proc/sys/net/bridge): "
				   "same-bridge traffic could not be filtered; nothing applied");
		return r;
	}
	if (r < 0) {
		cli_error("apply",
			  "cannot enable net.bridge.bridge-nf-call-iptables/ip6tables: "
			  "%s; nothing applied",
			  strerror(-r));
		return r;
	}
	if (st.changed_v4)
		fprintf(stderr, "netseg: apply: set net.bridge.bridge-nf-call-iptables=1 so "
				"same-bridge traffic is filtered\n");
	if (st.changed_v6)
		fprintf(stderr, "netseg: apply: set net.bridge.bridge-nf-call-ip6tables=1 so "
				"same-bridge traffic is filtered\n");
	return 0;
}

/* `netseg apply`: compile and install in one atomic transaction. */
int cmd_apply(int argc, char **argv)
{
	struct nft_batch_error err = {0};
	int64_t start;
	struct cli_build b;
	struct cli_opts o;
	int r;

	r = cli_parse_opts("apply", argc, argv, "peb", &o);
	if (r != CLI_OK)
		return r;
	start = now_usec();
	if (cli_build_ruleset("apply", &o, &b) < 0)
		return CLI_FAIL;
	r = b.nbridges ? ensure_brnf() : 0;
	if (r == 0) {
		r = nft_batch_apply(b.ruleset, &err);
		if (r < 0)
			cli_error("apply", "%s; nothing changed",
				  err.message[0] ? err.message : strerror(-r));
	}
	ir_ruleset_free(b.ruleset);
	if (r < 0)
		return CLI_FAIL;
	printf("netseg: applied %zu rules for %zu endpoints on %zu managed bridges in %.1f ms\n",
	       b.nrules, b.nendpoints, b.nbridges, (double)(now_usec() - start) / 1e3);
	return CLI_OK;
}
