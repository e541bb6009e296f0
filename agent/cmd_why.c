/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `netseg why FROM TO PROTO/PORT [-p PATH] [-e FILE] [--json] [--batch FILE]`: the verdict
 * for one new connection, the rule or default deciding it with its location, every other rule
 * that matched and why it lost. The evaluation is policy/explain.c's; this file resolves the
 * ends (the host's addresses come from this namespace's kernel) and prints.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hostaddr.h"
#include "cli.h"
#include "explain.h"

static const char why_usage[] =
    "usage: netseg why FROM TO PROTO/PORT [-p PATH] [-e FILE] [--json]\n"
    "       netseg why --batch FILE [-p PATH] [-e FILE] [--json]   (one FROM TO PROTO a line)\n"
    "  FROM, TO: an endpoint name, an address, 'world' or 'host'\n"
    "  PROTO/PORT: tcp/80, udp/53, sctp/9, icmp, icmpv6\n";

#define WHY_LINE_MAX 1024

struct why_ctx {
	const struct policy *p;
	const struct endpoint_set *eps;
	struct endpoint_addr *host;
	size_t nhost;
	bool json;
};

static bool spec_family(const char *s, int *fam)
{
	unsigned char buf[16];

	if (inet_pton(AF_INET, s, buf) == 1)
		*fam = AF_INET;
	else if (inet_pton(AF_INET6, s, buf) == 1)
		*fam = AF_INET6;
	else
		return false;
	return true;
}

static int end_error(const char *spec, int r, int fam)
{
	if (r == -ENOENT)
		cli_error("why", "'%s' is not an endpoint name, an address, 'world' or 'host'",
			  spec);
	else
		cli_error("why", "endpoint '%s' has no %s address", spec,
			  fam == AF_INET6 ? "IPv6" : "IPv4");
	return CLI_FAIL;
}

/* Fills Q from the three words. Family: an address end's, else icmp's or icmpv6's, else IPv4
 * where both named ends have one, else IPv6. */
static int why_query(const struct why_ctx *c, const char *from, const char *to, const char *proto,
		     struct explain_query *ret)
{
	struct explain_query q = {0};
	int ff = AF_UNSPEC, tf = AF_UNSPEC, fam, r;

	if (explain_proto_parse(proto, &q.proto, &q.port) < 0) {
		cli_error("why",
			  "'%s' is not a protocol: write tcp/80, udp/53, sctp/9, icmp or "
			  "icmpv6",
			  proto);
		return CLI_USAGE;
	}
	spec_family(from, &ff);
	spec_family(to, &tf);
	if (ff != AF_UNSPEC && tf != AF_UNSPEC && ff != tf) {
		cli_error("why", "'%s' and '%s' are of different address families", from, to);
		return CLI_USAGE;
	}
	fam = ff != AF_UNSPEC ? ff : tf;
	if (fam == AF_UNSPEC && (q.proto == IPPROTO_ICMP || q.proto == IPPROTO_ICMPV6))
		fam = q.proto == IPPROTO_ICMP ? AF_INET : AF_INET6;
	if ((q.proto == IPPROTO_ICMP && fam == AF_INET6) ||
	    (q.proto == IPPROTO_ICMPV6 && fam == AF_INET)) {
		cli_error("why", "%s is IPv%d's; use %s", proto, fam == AF_INET ? 6 : 4,
			  fam == AF_INET ? "icmp" : "icmpv6");
		return CLI_USAGE;
	}
	for (int f = fam == AF_UNSPEC ? AF_INET : fam;; f = AF_INET6) {
		r = explain_end_parse(c->eps, c->host, c->nhost, from, f, &q.from);
		if (r == 0)
			r = explain_end_parse(c->eps, c->host, c->nhost, to, f, &q.to);
		q.family = f;
		if (r != -EAFNOSUPPORT || fam != AF_UNSPEC || f == AF_INET6)
			break;
	}
	if (r < 0) {
		const char *bad =
		    explain_end_parse(c->eps, c->host, c->nhost, from, q.family, &q.from) < 0 ? from
											      : to;

		return end_error(bad, r, q.family);
	}
	if (!q.from.has_addr && !q.to.has_addr && fam == AF_UNSPEC)
		q.family = AF_UNSPEC;
	*ret = q;
	return CLI_OK;
}

static const char *proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_ICMP:
		return "icmp";
	default:
		return "icmpv6";
	}
}

static const char *end_addr(const struct explain_end *e, char *buf, size_t len)
{
	if (!e->has_addr)
		return NULL;
	return inet_ntop(e->addr.family, e->addr.addr, buf, len);
}

static const char *outcome(const struct policy *p, const struct explain_result *r, size_t ri)
{
	if (ri == r->decider)
		return "decides";
	if (p->rules[ri].action == p->rules[r->decider].action)
		return p->rules[ri].action == POLICY_DENY ? "agrees (any deny drops)"
							  : "agrees (any allow accepts)";
	return "lost: deny beats allow";
}

static const char *reason_name(enum explain_reason r)
{
	static const char *const names[] = {"untouched", "host_to_container", "rule", "default"};

	return names[r];
}

static json_t *loc_json(json_t *o, struct loc l)
{
	json_object_set_new(o, "file", l.file ? json_string(l.file) : json_null());
	json_object_set_new(o, "line", json_integer(l.file ? (l.line ? l.line : 1) : 0));
	json_object_set_new(o, "column", json_integer(l.file ? (l.col ? l.col : 1) : 0));
	return o;
}

static json_t *end_json(const char *spec, const struct explain_end *e)
{
	char buf[INET6_ADDRSTRLEN];
	const char *a = end_addr(e, buf, sizeof(buf));

	return json_pack("{s:s, s:s, s:o, s:o}", "spec", spec, "kind", explain_kind_name(e->kind),
			 "name", e->ep && e->ep->name ? json_string(e->ep->name) : json_null(),
			 "address", a ? json_string(a) : json_null());
}

static int print_json(const struct why_ctx *c, const char *from, const char *to,
		      const struct explain_query *q, const struct explain_result *r)
{
	const struct policy *p = c->p;
	json_t *o = json_object(), *m = json_array(), *d = json_object();
	int ret;

	json_object_set_new(o, "from", end_json(from, &q->from));
	json_object_set_new(o, "to", end_json(to, &q->to));
	json_object_set_new(o, "protocol", json_string(proto_name(q->proto)));
	json_object_set_new(o, "port", json_integer(q->port));
	json_object_set_new(o, "family",
			    q->family == AF_UNSPEC
				? json_null()
				: json_string(q->family == AF_INET ? "ipv4" : "ipv6"));
	json_object_set_new(o, "verdict",
			    json_string(r->verdict == POLICY_DENY ? "deny" : "allow"));
	json_object_set_new(o, "reason", json_string(reason_name(r->reason)));
	json_object_set_new(o, "category",
			    r->has_category ? json_string(policy_category_name(r->category))
					    : json_null());
	if (r->reason == EXPLAIN_RULE) {
		const struct policy_rule *rule = &p->rules[r->decider];

		json_object_set_new(d, "rule", json_string(rule->name));
		json_object_set_new(d, "action", json_string(rule->action ? "deny" : "allow"));
		loc_json(d, rule->loc);
	} else if (r->reason == EXPLAIN_DEFAULT) {
		json_object_set_new(d, "default", json_string(policy_category_name(r->category)));
		json_object_set_new(d, "action", json_string(r->verdict ? "deny" : "allow"));
		loc_json(d, p->default_locs[r->category]);
	}
	json_object_set_new(o, "decided_by", d);
	for (size_t i = 0; i < r->nmatched; i++) {
		const struct policy_rule *rule = &p->rules[r->matched[i]];
		json_t *e = json_pack("{s:s, s:s, s:s}", "rule", rule->name, "action",
				      rule->action ? "deny" : "allow", "outcome",
				      outcome(p, r, r->matched[i]));

		json_array_append_new(m, loc_json(e, rule->loc));
	}
	json_object_set_new(o, "matched", m);
	json_object_set_new(o, "abstract_end", json_boolean(r->abstract));
	ret = json_dumpf(o, stdout, JSON_COMPACT) < 0 ? -EIO : 0;
	fputc('\n', stdout);
	json_decref(o);
	return ret;
}

static void print_end(const char *spec, const struct explain_end *e)
{
	char buf[INET6_ADDRSTRLEN];
	const char *a = end_addr(e, buf, sizeof(buf));

	printf("%s (%s", spec, explain_kind_name(e->kind));
	if (e->ep && e->ep->name && strcmp(e->ep->name, spec))
		printf(" %s", e->ep->name);
	if (a && strcmp(a, spec))
		printf(" %s", a);
	printf(")");
}

static void print_loc(struct loc l)
{
	if (l.file)
		printf(" at %s:%d:%d", l.file, l.line ? l.line : 1, l.col ? l.col : 1);
	else
		printf(" (built-in)");
}

static void print_text(const struct why_ctx *c, const char *from, const char *to,
		       const struct explain_query *q, const struct explain_result *r)
{
	const struct policy *p = c->p;

	printf("new connection ");
	print_end(from, &q->from);
	printf(" -> ");
	print_end(to, &q->to);
	if (q->port)
		printf(" %s/%u\n", proto_name(q->proto), q->port);
	else
		printf(" %s\n", proto_name(q->proto));
	printf("verdict: %s\n", r->verdict == POLICY_DENY ? "deny" : "allow");
	printf("category: %s\n", r->has_category ? policy_category_name(r->category) : "none");
	if (r->reason == EXPLAIN_UNTOUCHED)
		printf("decided by: nothing: it touches no managed container, netseg leaves it "
		       "alone\n");
	else if (r->reason == EXPLAIN_HOST_TO_CONTAINER)
		printf("decided by: the host may always reach its containers\n");
	else if (r->reason == EXPLAIN_DEFAULT) {
		printf("decided by: default %s: %s", policy_category_name(r->category),
		       r->verdict == POLICY_DENY ? "deny" : "allow");
		print_loc(p->default_locs[r->category]);
		printf(", no rule matched\n");
	} else {
		const struct policy_rule *rule = &p->rules[r->decider];

		printf("decided by: rule %s (%s)", rule->name, rule->action ? "deny" : "allow");
		print_loc(rule->loc);
		printf("\n");
	}
	for (size_t i = 0; i < r->nmatched; i++) {
		const struct policy_rule *rule = &p->rules[r->matched[i]];

		if (r->matched[i] == r->decider)
			continue;
		printf("also matched: rule %s (%s)", rule->name, rule->action ? "deny" : "allow");
		print_loc(rule->loc);
		printf(": %s\n", outcome(p, r, r->matched[i]));
	}
	if (r->abstract)
		printf("note: an end without an address matches no cidr or net; give an address "
		       "to test those\n");
}

static int why_one(const struct why_ctx *c, const char *from, const char *to, const char *proto)
{
	struct explain_result res;
	struct explain_query q;
	int r;

	r = why_query(c, from, to, proto, &q);
	if (r != CLI_OK)
		return r;
	if (explain_decide(c->p, &q, &res) < 0) {
		cli_error("why", "out of memory");
		return CLI_FAIL;
	}
	if (c->json)
		r = print_json(c, from, to, &q, &res);
	else
		print_text(c, from, to, &q, &res);
	explain_result_clear(&res);
	return r < 0 ? CLI_FAIL : CLI_OK;
}

/* One query a line; blank lines and '#' comments skipped. Every line is answered or gets one
 * located error; the exit status is the worst of them. */
static int why_batch(const struct why_ctx *c, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	char line[WHY_LINE_MAX];
	int worst = CLI_OK, lineno = 0;

	if (!f) {
		cli_error("why", "cannot open '%s': %s", path, strerror(errno));
		return CLI_FAIL;
	}
	while (fgets(line, sizeof(line), f)) {
		char *w[4] = {0}, *save = NULL;
		int n = 0, r;

		lineno++;
		for (char *t = strtok_r(line, " \t\r\n", &save); t && n < 4;
		     t = strtok_r(NULL, " \t\r\n", &save))
			w[n++] = t;
		if (n == 0 || w[0][0] == '#')
			continue;
		if (n != 3) {
			cli_error("why", "%s:%d: want FROM TO PROTO/PORT", path, lineno);
			r = CLI_USAGE;
		} else
			r = why_one(c, w[0], w[1], w[2]);
		if (r > worst)
			worst = r;
	}
	if (f != stdin)
		fclose(f);
	fflush(stdout);
	return worst;
}

static int why_load(const char *path, const char *eps_path, struct policy **ret_p,
		    struct endpoint_set **ret_eps)
{
	struct diag_list *diags = diag_list_new();
	struct endpoint_set *eps = endpoint_set_new();
	struct policy *p = NULL;
	int r = -ENOMEM, q = 0;

	if (!diags || !eps)
		goto out;
	r = policy_load(path, diags, &p);
	if (r != -ENOMEM && eps_path)
		q = endpoint_set_load(eps, eps_path, diags);
	if (r == 0)
		r = q;
	diag_print(diags, stderr);
	if (r == 0) {
		*ret_p = p;
		*ret_eps = eps;
		p = NULL;
		eps = NULL;
	}
out:
	if (r == -ENOMEM)
		cli_error("why", "out of memory");
	policy_free(p);
	endpoint_set_free(eps);
	diag_list_free(diags);
	return r;
}

int cmd_why(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"policy", required_argument, NULL, 'p'}, {"endpoints", required_argument, NULL, 'e'},
	    {"json", no_argument, NULL, 'j'},	      {"batch", required_argument, NULL, 'B'},
	    {"help", no_argument, NULL, 'h'},	      {0},
	};
	struct cli_opts o = {0};
	struct why_ctx c = {0};
	struct policy *p = NULL;
	struct endpoint_set *eps = NULL;
	const char *batch = NULL;
	int ch, r;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":p:e:h", longopts, NULL)) != -1) {
		if (ch == 'p')
			o.policy_path = optarg;
		else if (ch == 'e')
			o.endpoints_path = optarg;
		else if (ch == 'j')
			c.json = true;
		else if (ch == 'B')
			batch = optarg;
		else if (ch == 'h') {
			fputs(why_usage, stdout);
			return CLI_OK;
		} else {
			cli_error("why", "%s '%s'",
				  ch == ':' ? "option needs a value:" : "unknown option",
				  argv[optind - 1]);
			fputs(why_usage, stderr);
			return CLI_USAGE;
		}
	}
	if (argc - optind != (batch ? 0 : 3)) {
		cli_error("why", batch ? "--batch takes its queries from the file"
				       : "want FROM TO PROTO/PORT");
		fputs(why_usage, stderr);
		return CLI_USAGE;
	}
	if (why_load(cli_policy_path(&o), o.endpoints_path, &p, &eps) < 0)
		return CLI_FAIL;
	r = hostaddr_list(&c.host, &c.nhost);
	if (r < 0) {
		cli_error("why", "cannot read this host's addresses: %s", strerror(-r));
		r = CLI_FAIL;
		goto out;
	}
	c.p = p;
	c.eps = eps;
	r = batch ? why_batch(&c, batch)
		  : why_one(&c, argv[optind], argv[optind + 1], argv[optind + 2]);
out:
	free(c.host);
	policy_free(p);
	endpoint_set_free(eps);
	return r;
}
