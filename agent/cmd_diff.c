/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `netseg diff -p OLD -p NEW [-e FILE]`: what the change would open and close, grouped by the
 * rule (or default) that decides it under NEW, with what decided it before. Exit 0: nothing
 * changes; 1: something does; 2: usage, or a policy that cannot be read (like diff(1), so a
 * CI job never mistakes trouble for "no change").
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "cli.h"
#include "control.h"
#include "diff.h"
#include "parse.h"
#include "util.h"

#define DIFF_TROUBLE 2

static const char diff_usage[] =
    "usage: netseg diff -p OLD -p NEW [-e FILE | --agent [--control SOCK]]\n"
    "  exit 0: nothing changes, 1: something does, 2: usage or "
    "unreadable policy\n";

static void print_loc(FILE *out, struct loc l)
{
	if (l.file)
		fprintf(out, " at %s:%d:%d", l.file, l.line ? l.line : 1, l.col ? l.col : 1);
	else
		fprintf(out, " (built-in)");
}

static void print_decider(FILE *out, const struct policy *p, enum explain_reason reason,
			  size_t rule, enum policy_category cat)
{
	if (reason == EXPLAIN_RULE) {
		fprintf(out, "rule %s (%s)", p->rules[rule].name,
			p->rules[rule].action == POLICY_DENY ? "deny" : "allow");
		print_loc(out, p->rules[rule].loc);
	} else {
		fprintf(out, "default %s: %s", policy_category_name(cat),
			p->defaults[cat] == POLICY_DENY ? "deny" : "allow");
		print_loc(out, p->default_locs[cat]);
	}
}

static bool same_group(const struct diff_change *a, const struct diff_change *b)
{
	return a->opened == b->opened && a->new_reason == b->new_reason &&
	       a->old_reason == b->old_reason && a->category == b->category &&
	       (a->new_reason != EXPLAIN_RULE || a->new_rule == b->new_rule) &&
	       (a->old_reason != EXPLAIN_RULE || a->old_rule == b->old_rule);
}

static bool same_flow(const struct diff_change *a, const struct diff_change *b)
{
	return a->from == b->from && a->to == b->to && a->proto == b->proto &&
	       a->first == b->first && a->last == b->last;
}

static void print_item(FILE *out, const struct diff_change *c)
{
	static const struct {
		uint8_t proto;
		const char *name;
	} names[] = {{IPPROTO_TCP, "tcp"},
		     {IPPROTO_UDP, "udp"},
		     {IPPROTO_SCTP, "sctp"},
		     {IPPROTO_ICMP, "icmp"},
		     {IPPROTO_ICMPV6, "icmpv6"}};
	const char *name = "?";

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].proto == c->proto)
			name = names[i].name;
	if (c->proto == IPPROTO_ICMP || c->proto == IPPROTO_ICMPV6)
		fputs(name, out);
	else if (c->first == 1 && c->last == 65535)
		fprintf(out, "%s (every port)", name);
	else if (c->first == c->last)
		fprintf(out, "%s/%u", name, c->first);
	else
		fprintf(out, "%s/%u-%u", name, c->first, c->last);
}

/* Flags, per change of one group, which family it stands for: 4, 6, or 0 (both, the IPv6
 * twin folded in) or -1 (folded into its IPv4 twin). */
static void fold_families(const struct policy_diff *d, const size_t *idx, size_t n, int *fam)
{
	for (size_t i = 0; i < n; i++) {
		const struct diff_change *c = &d->changes[idx[i]];

		/* icmp and icmpv6 name their family themselves. */
		if (c->proto == IPPROTO_ICMP || c->proto == IPPROTO_ICMPV6)
			fam[i] = 0;
		else
			fam[i] = c->family == AF_INET ? 4 : 6;
	}
	for (size_t i = 0; i < n; i++) {
		const struct diff_change *c = &d->changes[idx[i]];

		if (fam[i] != 6)
			continue;
		for (size_t j = 0; j < n; j++)
			if (fam[j] == 4 && same_flow(&d->changes[idx[j]], c)) {
				fam[j] = 0;
				fam[i] = -1;
				break;
			}
	}
}

/* " (IPv4)" when the pair exists in IPv6 too but changes only in IPv4 (and vice versa). */
static const char *fam_tag(const struct policy_diff *d, const struct diff_change *c, int fam)
{
	struct explain_end x;
	int other = fam == 4 ? AF_INET6 : AF_INET;

	if (fam == 0 || !policy_diff_end_in(&d->ends[c->from], other, &x) ||
	    !policy_diff_end_in(&d->ends[c->to], other, &x))
		return "";
	return fam == 4 ? " (IPv4)" : " (IPv6)";
}

static void print_group(FILE *out, const struct policy *old, const struct policy *new,
			const struct policy_diff *d, const size_t *idx, size_t n, int *fam)
{
	const struct diff_change *g = &d->changes[idx[0]];
	const struct diff_change *prev = NULL;
	int pfam = 0;

	fprintf(out, "%s by ", g->opened ? "opened" : "closed");
	print_decider(out, new, g->new_reason, g->new_rule, g->category);
	fprintf(out, "; before: ");
	print_decider(out, old, g->old_reason, g->old_rule, g->category);
	fprintf(out, "\n");
	fold_families(d, idx, n, fam);
	for (size_t i = 0; i < n; i++) {
		const struct diff_change *c = &d->changes[idx[i]];

		if (fam[i] < 0)
			continue;
		if (prev && prev->from == c->from && prev->to == c->to && pfam == fam[i]) {
			fputs(", ", out);
		} else {
			if (prev)
				fprintf(out, "%s\n", fam_tag(d, prev, pfam));
			fprintf(out, "  %c %s -> %s ", c->opened ? '+' : '-',
				d->ends[c->from].label, d->ends[c->to].label);
		}
		print_item(out, c);
		prev = c;
		pfam = fam[i];
	}
	if (prev)
		fprintf(out, "%s\n", fam_tag(d, prev, pfam));
}

/* Every group, in order of first appearance. 0 or -ENOMEM. */
static int print_diff(FILE *out, const struct policy *old, const struct policy *new,
		      const struct policy_diff *d)
{
	size_t *idx = calloc(d->nchanges + 1, sizeof(*idx));
	int *fam = calloc(d->nchanges + 1, sizeof(*fam));
	bool *done = calloc(d->nchanges + 1, sizeof(*done));
	int r = -ENOMEM;

	if (!idx || !fam || !done)
		goto out;
	for (size_t i = 0; i < d->nchanges; i++) {
		size_t n = 0;

		if (done[i])
			continue;
		for (size_t j = i; j < d->nchanges; j++)
			if (!done[j] && same_group(&d->changes[i], &d->changes[j])) {
				done[j] = true;
				idx[n++] = j;
			}
		print_group(out, old, new, d, idx, n, fam);
	}
	if (d->synthetic && d->nchanges)
		fprintf(out, "note: no endpoints given: the containers above are stand-ins, one "
			     "per group and inline match (-e FILE names real ones)\n");
	r = 0;
out:
	free(idx);
	free(fam);
	free(done);
	return r;
}

/*
 * The running agent's endpoints (Docker's, endpoint files', any source's), from its status
 * document, read back through the endpoint-file validator so they are held to the same rules.
 */
static int agent_endpoints(const char *sock, struct diag_list *diags, struct endpoint_set *eps)
{
	char *reply = NULL, *text = NULL;
	json_t *st = NULL, *doc = NULL, *list, *e, *v;
	struct node *root = NULL;
	const char *key;
	void *tmp;
	size_t i;
	int r;

	r = control_ask(sock, "status\n", &reply);
	if (r < 0) {
		cli_error("diff", "cannot ask the agent at %s: %s", sock, strerror(-r));
		return r;
	}
	st = json_loads(reply, 0, NULL);
	list = json_object_get(st, "endpoints");
	if (!json_is_array(list)) {
		cli_error("diff", "the agent at %s sent no endpoint list", sock);
		r = -EBADMSG;
		goto out;
	}
	/* Absent fields come as null in status; an endpoint file leaves them out. */
	json_array_foreach (list, i, e)
		json_object_foreach_safe (e, tmp, key, v)
			if (json_is_null(v))
				json_object_del(e, key);
	doc = json_pack("{s:O}", "endpoints", list);
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	r = text ? parse_buffer(text, strlen(text), "agent", PARSE_JSON, diags, &root) : -ENOMEM;
	if (r == 0)
		r = endpoint_set_from_node(eps, root, diags);
out:
	node_free(root);
	free(text);
	json_decref(doc);
	json_decref(st);
	free(reply);
	return r;
}

int cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"policy", required_argument, NULL, 'p'}, {"endpoints", required_argument, NULL, 'e'},
	    {"agent", no_argument, NULL, 'A'},	      {"control", required_argument, NULL, 'C'},
	    {"help", no_argument, NULL, 'h'},	      {0}};
	const char *paths[2] = {0}, *eps_path = NULL, *control = NULL;
	bool agent = false;
	struct policy *p[2] = {0};
	struct endpoint_set *eps = NULL;
	struct policy_diff *d = NULL;
	struct diag_list *diags = diag_list_new();
	size_t np = 0;
	int ch, r = DIFF_TROUBLE;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":p:e:h", longopts, NULL)) != -1) {
		if (ch == 'p' && np < 2)
			paths[np++] = optarg;
		else if (ch == 'e')
			eps_path = optarg;
		else if (ch == 'A')
			agent = true;
		else if (ch == 'C')
			control = optarg;
		else if (ch == 'h') {
			fputs(diff_usage, stdout);
			r = CLI_OK;
			goto out;
		} else {
			cli_error("diff", "%s",
				  ch == 'p' ? "give -p twice: -p OLD -p NEW"
					    : "bad option; see 'netseg diff --help'");
			goto out;
		}
	}
	if (np != 2 || optind < argc || (agent && eps_path) || (control && !agent)) {
		cli_error("diff", np != 2 || optind < argc ? "want -p OLD -p NEW"
				  : control && !agent	   ? "--control goes with --agent"
						      : "-e and --agent both name the endpoints");
		fputs(diff_usage, stderr);
		goto out;
	}
	if (!diags)
		goto oom;
	int q0 = policy_load(paths[0], diags, &p[0]), q1 = policy_load(paths[1], diags, &p[1]),
	    q2 = 0;

	if (eps_path || agent) {
		if (!(eps = endpoint_set_new()))
			goto oom;
		q2 = agent ? agent_endpoints(control ? control : CONTROL_DEFAULT_SOCKET, diags, eps)
			   : endpoint_set_load(eps, eps_path, diags);
	}
	diag_print(diags, stderr);
	if (q0 == -ENOMEM || q1 == -ENOMEM || q2 == -ENOMEM)
		goto oom;
	if (q0 < 0 || q1 < 0 || q2 < 0)
		goto out;
	if (policy_diff_compute(p[0], p[1], eps, &d) < 0 || print_diff(stdout, p[0], p[1], d) < 0)
		goto oom;
	if (d->nchanges == 0)
		printf("no change: %s and %s decide every connection alike\n", paths[0], paths[1]);
	r = d->nchanges ? CLI_FAIL : CLI_OK;
	goto out;
oom:
	cli_error("diff", "out of memory");
	r = DIFF_TROUBLE;
out:
	policy_diff_free(d);
	policy_free(p[0]);
	policy_free(p[1]);
	endpoint_set_free(eps);
	diag_list_free(diags);
	return r;
}
