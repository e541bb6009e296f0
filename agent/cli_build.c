/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli.h"
#include "resolvconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "link.h"

struct bridge_list {
	const char *names[CLI_MAX_BRIDGES];
	char owned[CLI_MAX_BRIDGES][16];
	size_t n;
};

static bool bridge_list_has(const struct bridge_list *b, const char *name)
{
	for (size_t i = 0; i < b->n; i++)
		if (!strcmp(b->names[i], name))
			return true;
	return false;
}

/*
 * Endpoint files may name an endpoint's bridge; when they don't, the kernel knows it. compile
 * and apply both ask, so compile prints what apply installs on this machine. An interface
 * that does not exist yet, or is not on a bridge (a routed port), adds nothing.
 */
static int find_bridges(const char *cmd, const struct cli_opts *o, const struct endpoint_set *eps,
			struct bridge_list *ret)
{
	for (size_t i = 0; i < o->nbridges; i++)
		if (!bridge_list_has(ret, o->bridges[i]))
			ret->names[ret->n++] = o->bridges[i];
	for (size_t i = 0; eps && i < eps->n; i++) {
		const struct endpoint *e = &eps->items[i];
		char master[16];
		int r;

		if (e->bridge)
			continue; /* the compiler takes it from the endpoint */
		r = link_bridge_of(e->interface, master, sizeof(master));
		if (r == -ENOENT || r == -ENODEV)
			continue;
		if (r < 0) {
			cli_error(cmd, "cannot ask the kernel which bridge '%s' is on: %s",
				  e->interface, strerror(-r));
			return r;
		}
		if (bridge_list_has(ret, master))
			continue;
		if (ret->n == CLI_MAX_BRIDGES) {
			cli_error(cmd, "more than %d managed bridges", CLI_MAX_BRIDGES);
			return -E2BIG;
		}
		memcpy(ret->owned[ret->n], master, sizeof(master));
		ret->names[ret->n] = ret->owned[ret->n];
		ret->n++;
	}
	return 0;
}

int cli_build_ruleset(const char *cmd, const struct cli_opts *o, struct cli_build *ret)
{
	struct diag_list *diags = diag_list_new();
	struct endpoint_set *eps = NULL;
	struct policy *policy = NULL;
	struct bridge_list *bridges = calloc(1, sizeof(*bridges));
	struct ir_ruleset *rs = NULL;
	struct policy_cidr *resolvers = NULL;
	int r = -ENOMEM;

	if (!diags || !bridges)
		goto out;
	r = policy_load(cli_policy_path(o), diags, &policy);
	if (o->endpoints_path) {
		int q;

		eps = endpoint_set_new();
		if (!eps) {
			r = -ENOMEM;
			goto out;
		}
		q = endpoint_set_load(eps, o->endpoints_path, diags);
		if (r == 0)
			r = q;
	}
	diag_print(diags, stderr);
	if (r < 0)
		goto out;
	r = find_bridges(cmd, o, eps, bridges);
	if (r < 0)
		goto out;

	struct compile_input in = {
	    .policy = policy,
	    .endpoints = eps,
	    .bridges = bridges->names,
	    .nbridges = bridges->n,
	};
	if (policy_has_fqdn(policy) && !policy->dns.resolvers_set &&
	    resolvconf_load(RESOLVCONF_PATH, &resolvers, &in.nresolvers) == 0)
		in.resolvers = resolvers;
	r = compile_ruleset(&in, &rs);
	if (r < 0) {
		cli_error(cmd, "cannot compile: %s", strerror(-r));
		goto out;
	}
	/* The compiled ruleset already knows every managed bridge, endpoint files' included. */
	const struct ir_table *arp = ir_table_find(rs, IR_FAMILY_ARP, COMPILE_TABLE_NAME);
	const struct ir_set *managed = arp ? ir_set_find(arp, "bridges") : NULL;

	*ret = (struct cli_build){
	    .ruleset = rs,
	    .nrules = policy->nrules,
	    .nendpoints = eps ? eps->n : 0,
	    .nbridges = managed ? managed->n : 0,
	};
	rs = NULL;
out:
	if (r == -ENOMEM)
		cli_error(cmd, "out of memory");
	ir_ruleset_free(rs);
	policy_free(policy);
	endpoint_set_free(eps);
	diag_list_free(diags);
	free(bridges);
	free(resolvers);
	return r;
}
