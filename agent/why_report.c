/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One `netseg why` answer: the ends resolved (endpoint name, address, `world`, `host`), the
 * decision of policy/explain.c, as a JSON object; and the text the CLI prints from it.
 */
#include "why_report.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"
#include "explain.h"
#include "hostaddr.h"

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

static int end_error(const char *spec, int r, int fam, char *err, size_t errlen)
{
	if (r == -ENOENT)
		snprintf(err, errlen, "'%s' is not an endpoint name, an address, 'world' or 'host'",
			 spec);
	else
		snprintf(err, errlen, "endpoint '%s' has no %s address", spec,
			 fam == AF_INET6 ? "IPv6" : "IPv4");
	return CLI_FAIL;
}

/* Fills Q from the three words. Family: an address end's, else icmp's or icmpv6's, else IPv4
 * where both named ends have one, else IPv6. */
static int why_query(const struct why_ctx *c, const char *from, const char *to, const char *proto,
		     struct explain_query *ret, char *err, size_t errlen)
{
	struct explain_query q = {0};
	int ff = AF_UNSPEC, tf = AF_UNSPEC, fam, r;

	if (explain_proto_parse(proto, &q.proto, &q.port) < 0) {
		snprintf(err, errlen,
			 "'%s' is not a protocol: write tcp/80, udp/53, sctp/9, icmp or icmpv6",
			 proto);
		return CLI_USAGE;
	}
	spec_family(from, &ff);
	spec_family(to, &tf);
	if (ff != AF_UNSPEC && tf != AF_UNSPEC && ff != tf) {
		snprintf(err, errlen, "'%s' and '%s' are of different address families", from, to);
		return CLI_USAGE;
	}
	fam = ff != AF_UNSPEC ? ff : tf;
	if (fam == AF_UNSPEC && (q.proto == IPPROTO_ICMP || q.proto == IPPROTO_ICMPV6))
		fam = q.proto == IPPROTO_ICMP ? AF_INET : AF_INET6;
	if ((q.proto == IPPROTO_ICMP && fam == AF_INET6) ||
	    (q.proto == IPPROTO_ICMPV6 && fam == AF_INET)) {
		snprintf(err, errlen, "%s is IPv%d's; use %s", proto, fam == AF_INET ? 6 : 4,
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

		return end_error(bad, r, q.family, err, errlen);
	}
	if (!q.from.has_addr && !q.to.has_addr && fam == AF_UNSPEC)
		q.family = AF_UNSPEC;
	*ret = q;
	return CLI_OK;
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
	static const char *const names[] = {"untouched", "host_to_container", "rule", "default",
					    "same_container"};

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

static json_t *decision_json(const struct policy *p, const struct explain_result *r)
{
	json_t *d = json_object(), *m = json_array(), *o = json_object();

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
	json_object_set_new(o, "learned_not_evaluated", json_boolean(r->learned));
	return o;
}

/* 224.0.0.0/4, 255.255.255.255, ff00::/8: delivered to many ends, each its own category. */
static bool multicast(const struct endpoint_addr *a)
{
	static const uint8_t bcast[4] = {255, 255, 255, 255};

	if (a->family == AF_INET)
		return (a->addr[0] & 0xf0) == 224 || !memcmp(a->addr, bcast, 4);
	return a->addr[0] == 0xff;
}

int why_answer(const struct why_ctx *c, const char *from, const char *to, const char *proto,
	       json_t **ret, char *err, size_t errlen)
{
	struct explain_result res;
	struct explain_query q;
	json_t *o;
	int r;

	r = why_query(c, from, to, proto, &q, err, errlen);
	if (r != CLI_OK)
		return r;
	if (explain_decide(c->p, &q, &res) < 0) {
		snprintf(err, errlen, "out of memory");
		return CLI_FAIL;
	}
	o = json_object();
	json_object_set_new(o, "from", end_json(from, &q.from));
	json_object_set_new(o, "to", end_json(to, &q.to));
	json_object_set_new(o, "protocol", json_string(ip_proto_name(q.proto)));
	json_object_set_new(o, "port", json_integer(q.port));
	json_object_set_new(o, "family",
			    q.family == AF_UNSPEC
				? json_null()
				: json_string(q.family == AF_INET ? "ipv4" : "ipv6"));
	json_object_update_new(o, decision_json(c->p, &res));
	json_object_set_new(o, "multicast", json_boolean(q.to.has_addr && multicast(&q.to.addr)));
	explain_result_clear(&res);
	*ret = o;
	return CLI_OK;
}

/* --- text ----------------------------------------------------------------------------- */

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static void text_end(const json_t *e, FILE *out)
{
	const char *spec = str(e, "spec"), *name = str(e, "name"), *addr = str(e, "address");

	fprintf(out, "%s (%s", spec, str(e, "kind"));
	if (*name && strcmp(name, spec))
		fprintf(out, " %s", name);
	if (*addr && strcmp(addr, spec))
		fprintf(out, " %s", addr);
	fputc(')', out);
}

static void text_loc(const json_t *o, FILE *out)
{
	if (json_is_string(json_object_get(o, "file")))
		fprintf(out, " at %s:%lld:%lld", str(o, "file"),
			json_integer_value(json_object_get(o, "line")),
			json_integer_value(json_object_get(o, "column")));
	else
		fputs(" (built-in)", out);
}

void why_print_text(const json_t *o, FILE *out)
{
	const json_t *d = json_object_get(o, "decided_by"), *m = json_object_get(o, "matched");
	const char *reason = str(o, "reason"), *cat = str(o, "category");
	json_int_t port = json_integer_value(json_object_get(o, "port"));
	size_t i;
	json_t *e;

	fputs("new connection ", out);
	text_end(json_object_get(o, "from"), out);
	fputs(" -> ", out);
	text_end(json_object_get(o, "to"), out);
	if (port)
		fprintf(out, " %s/%lld\n", str(o, "protocol"), (long long)port);
	else
		fprintf(out, " %s\n", str(o, "protocol"));
	fprintf(out, "verdict: %s\ncategory: %s\n", str(o, "verdict"), *cat ? cat : "none");
	if (!strcmp(reason, "untouched"))
		fputs("decided by: nothing: it touches no managed container, netseg leaves it "
		      "alone\n",
		      out);
	else if (!strcmp(reason, "same_container"))
		fputs("decided by: nothing: a container's traffic to itself never leaves it\n",
		      out);
	else if (!strcmp(reason, "host_to_container"))
		fputs("decided by: the host may always reach its containers\n", out);
	else if (!strcmp(reason, "default")) {
		fprintf(out, "decided by: default %s: %s", str(d, "default"), str(d, "action"));
		text_loc(d, out);
		fputs(", no rule matched\n", out);
	} else {
		fprintf(out, "decided by: rule %s (%s)", str(d, "rule"), str(d, "action"));
		text_loc(d, out);
		fputc('\n', out);
	}
	json_array_foreach (m, i, e) {
		if (!strcmp(str(e, "outcome"), "decides"))
			continue;
		fprintf(out, "also matched: rule %s (%s)", str(e, "rule"), str(e, "action"));
		text_loc(e, out);
		fprintf(out, ": %s\n", str(e, "outcome"));
	}
	if (json_is_true(json_object_get(o, "multicast")))
		fputs("note: a multicast or broadcast destination reaches every receiver: each "
		      "receiving end has its own category; ask with the receiver as TO\n",
		      out);
	if (json_is_true(json_object_get(o, "learned_not_evaluated")))
		fputs("note: fqdn selectors match addresses learned from DNS at run time; they "
		      "were not evaluated (an allow by name may still apply)\n",
		      out);
	if (json_is_true(json_object_get(o, "abstract_end")))
		fputs("note: an end without an address matches no cidr or net; give an address "
		      "to test those\n",
		      out);
}

/* --- the agent's side ---------------------------------------------------------------- */

static json_t *agent_error(const char *msg, int code)
{
	return json_pack("{s:s, s:i}", "error", msg, "exit", code);
}

json_t *why_agent_answer(const struct inventory *inv, const struct policy *p, const char *query)
{
	char buf[WHY_QUERY_MAX + 1], err[512], *w[4] = {0}, *save = NULL;
	struct endpoint_set view = {0};
	struct endpoint_addr *host = NULL;
	struct why_ctx c = {.p = p};
	json_t *o = NULL;
	int n = 0, r;

	if (!p)
		return agent_error("the agent has no policy yet", CLI_FAIL);
	if (strlen(query) > WHY_QUERY_MAX)
		return agent_error("query too long", CLI_USAGE);
	strcpy(buf, query);
	for (char *t = strtok_r(buf, " \t", &save); t && n < 4; t = strtok_r(NULL, " \t", &save))
		w[n++] = t;
	if (n != 3)
		return agent_error("want: why FROM TO PROTO/PORT", CLI_USAGE);
	r = hostaddr_list(&host, &c.nhost);
	if (r < 0) {
		snprintf(err, sizeof(err), "the agent cannot read its host's addresses: %s",
			 strerror(-r));
		return agent_error(err, CLI_FAIL);
	}
	c.host = host;
	if (inventory_view(inv, &view) < 0) {
		free(host);
		return agent_error("out of memory", CLI_FAIL);
	}
	c.eps = &view;
	r = why_answer(&c, w[0], w[1], w[2], &o, err, sizeof(err));
	inventory_view_free(&view);
	free(host);
	return r == CLI_OK ? o : agent_error(err, r);
}
