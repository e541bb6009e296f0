/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli.h"

#include <errno.h>
#include <stdio.h>

/* `netseg check`: exit 0 valid, 1 invalid (located errors on stderr), 2 usage. */
int cmd_check(int argc, char **argv)
{
	struct diag_list *diags = NULL;
	struct endpoint_set *eps = NULL;
	struct policy *policy = NULL;
	struct cli_opts o;
	const char *path;
	int r;

	r = cli_parse_opts("check", argc, argv, "pe", &o);
	if (r != CLI_OK)
		return r;
	path = cli_policy_path(&o);
	diags = diag_list_new();
	if (!diags)
		goto oom;
	r = policy_load(path, diags, &policy);
	if (r != -ENOMEM && o.endpoints_path) {
		int q;

		eps = endpoint_set_new();
		if (!eps)
			goto oom;
		q = endpoint_set_load(eps, o.endpoints_path, diags);
		if (r == 0)
			r = q;
	}
	if (r == -ENOMEM)
		goto oom;
	diag_print(diags, stderr);
	if (r == 0)
		printf("%s: ok: %zu rules, %zu groups, %zu nets%s\n", path, policy->nrules,
		       policy->ngroups, policy->nnets, diags->n ? " (see warnings)" : "");
	policy_free(policy);
	endpoint_set_free(eps);
	diag_list_free(diags);
	return r == 0 ? CLI_OK : CLI_FAIL;
oom:
	cli_error("check", "out of memory");
	policy_free(policy);
	endpoint_set_free(eps);
	diag_list_free(diags);
	return CLI_FAIL;
}
