/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The spec's Meaning, evaluated for one new connection: host -> container passes, traffic
 * touching no managed container is untouched; otherwise any matching deny drops, else any
 * matching allow accepts, else the default of the category the two ends' kinds give.
 */
#include "explain.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

static bool addr_parse(const char *s, struct endpoint_addr *ret)
{
	struct endpoint_addr a = {0};

	if (inet_pton(AF_INET, s, a.addr) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, a.addr) == 1)
		a.family = AF_INET6;
	else
		return false;
	*ret = a;
	return true;
}

static bool addr_eq(const struct endpoint_addr *a, const struct endpoint_addr *b)
{
	size_t len = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && memcmp(a->addr, b->addr, len) == 0;
}

static const struct endpoint *endpoint_by_addr(const struct endpoint_set *eps,
					       const struct endpoint_addr *a)
{
	for (size_t i = 0; eps && i < eps->n; i++)
		for (size_t j = 0; j < eps->items[i].naddrs; j++)
			if (addr_eq(&eps->items[i].addrs[j], a))
				return &eps->items[i];
	return NULL;
}

int explain_end_parse(const struct endpoint_set *eps, const struct endpoint_addr *host,
		      size_t nhost, const char *spec, int family, struct explain_end *ret)
{
	struct explain_end e = {.kind = EXPLAIN_WORLD};

	if (!strcmp(spec, "world") || !strcmp(spec, "host")) {
		e.kind = spec[0] == 'w' ? EXPLAIN_WORLD : EXPLAIN_HOST;
	} else if (addr_parse(spec, &e.addr)) {
		e.has_addr = true;
		e.ep = endpoint_by_addr(eps, &e.addr);
		if (e.ep)
			e.kind = EXPLAIN_CONTAINER;
		for (size_t i = 0; !e.ep && i < nhost; i++)
			if (addr_eq(&host[i], &e.addr))
				e.kind = EXPLAIN_HOST;
	} else {
		for (size_t i = 0; eps && i < eps->n && !e.ep; i++)
			if (eps->items[i].name && !strcmp(eps->items[i].name, spec))
				e.ep = &eps->items[i];
		if (!e.ep)
			return -ENOENT;
		e.kind = EXPLAIN_CONTAINER;
		for (size_t j = 0; j < e.ep->naddrs && !e.has_addr; j++)
			if (family == AF_UNSPEC || e.ep->addrs[j].family == family) {
				e.addr = e.ep->addrs[j];
				e.has_addr = true;
			}
		if (!e.has_addr)
			return -EAFNOSUPPORT;
	}
	*ret = e;
	return 0;
}

int explain_proto_parse(const char *s, uint8_t *ret_proto, uint16_t *ret_port)
{
	static const struct {
		const char *name;
		uint8_t proto;
	} protos[] = {{"tcp", IPPROTO_TCP}, {"udp", IPPROTO_UDP}, {"sctp", IPPROTO_SCTP}};
	const char *slash = strchr(s, '/');
	char *end;
	unsigned long port;

	if (!strcmp(s, "icmp") || !strcmp(s, "icmpv6")) {
		*ret_proto = s[4] ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
		*ret_port = 0;
		return 0;
	}
	if (!slash || slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	errno = 0;
	port = strtoul(slash + 1, &end, 10);
	if (errno || *end || port < 1 || port > 65535)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(protos); i++)
		if (strlen(protos[i].name) == (size_t)(slash - s) &&
		    !strncmp(s, protos[i].name, slash - s)) {
			*ret_proto = protos[i].proto;
			*ret_port = (uint16_t)port;
			return 0;
		}
	return -EINVAL;
}

static bool in_cidrs(const struct endpoint_addr *a, const struct policy_cidr *c, size_t n)
{
	struct policy_cidr host = {.family = a->family, .prefix = a->family == AF_INET ? 32 : 128};

	memcpy(host.addr, a->addr, sizeof(host.addr));
	for (size_t i = 0; i < n; i++)
		if (policy_cidr_contains(&c[i], &host))
			return true;
	return false;
}

/* Whether term T selects end E. Terms by address need an address: without one (`world`,
 * `host`) they match nothing, as for an address none of them names (EXPLAIN_F_ABSTRACT). */
static bool term_matches(const struct policy *p, const struct policy_term *t,
			 const struct explain_end *e, unsigned *flags)
{
	bool ctr = e->kind == EXPLAIN_CONTAINER;

	switch (t->kind) {
	case POLICY_TERM_ANY:
		return true;
	case POLICY_TERM_CONTAINERS:
		return ctr;
	case POLICY_TERM_WORLD:
		return e->kind == EXPLAIN_WORLD;
	case POLICY_TERM_HOST:
		return e->kind == EXPLAIN_HOST;
	case POLICY_TERM_GROUP:
		return ctr && endpoint_matches(e->ep, &p->groups[t->group].match);
	case POLICY_TERM_MATCH:
		return ctr && endpoint_matches(e->ep, &t->match);
	case POLICY_TERM_NET:
		if (!e->has_addr)
			break;
		return in_cidrs(&e->addr, p->nets[t->net].cidrs, p->nets[t->net].ncidrs);
	case POLICY_TERM_CIDR:
		if (!e->has_addr)
			break;
		return in_cidrs(&e->addr, t->cidrs, t->ncidrs) &&
		       !in_cidrs(&e->addr, t->except, t->nexcept);
	default:
		/* fqdn: its addresses are learned from DNS at run time, which a policy and an
		 * endpoint list cannot tell; say so rather than guess. */
		*flags |= EXPLAIN_F_LEARNED;
		return false;
	}
	*flags |= EXPLAIN_F_ABSTRACT;
	return false;
}

static bool selector_matches(const struct policy *p, const struct policy_selector *s,
			     const struct explain_end *e, unsigned *flags)
{
	for (size_t i = 0; i < s->n; i++)
		if (term_matches(p, &s->terms[i], e, flags))
			return true;
	return false;
}

static bool ports_match(const struct policy_rule *r, const struct explain_query *q)
{
	if (r->nports == 0)
		return true;
	for (size_t i = 0; i < r->nports; i++) {
		const struct policy_port *pp = &r->ports[i];

		if (pp->proto != q->proto)
			continue;
		if (pp->proto == IPPROTO_ICMP || pp->proto == IPPROTO_ICMPV6)
			return true;
		if (pp->first <= q->port && q->port <= pp->last)
			return true;
	}
	return false;
}

bool explain_rule_matches(const struct policy *p, const struct policy_rule *r,
			  const struct explain_query *q, unsigned *ret_flags)
{
	unsigned flags = 0;
	bool m;

	m = ports_match(r, q) && selector_matches(p, &r->from, &q->from, &flags) &&
	    selector_matches(p, &r->to, &q->to, &flags);
	if (ret_flags)
		*ret_flags |= flags;
	return m;
}

static bool category_of(enum explain_kind from, enum explain_kind to, enum policy_category *ret)
{
	if (from != EXPLAIN_CONTAINER) {
		*ret = POLICY_W2C; /* host -> container never gets here */
		return to == EXPLAIN_CONTAINER;
	}
	*ret = to == EXPLAIN_CONTAINER ? POLICY_C2C : to == EXPLAIN_HOST ? POLICY_C2H : POLICY_C2W;
	return true;
}

int explain_decide(const struct policy *p, const struct explain_query *q,
		   struct explain_result *ret)
{
	struct explain_result r = {.verdict = POLICY_ALLOW, .reason = EXPLAIN_UNTOUCHED};
	bool deny = false, allow = false;
	unsigned flags = 0;

	if (q->from.ep && q->from.ep == q->to.ep) {
		r.reason = EXPLAIN_SAME_CONTAINER;
		*ret = r;
		return 0;
	}
	if (q->from.kind == EXPLAIN_HOST && q->to.kind == EXPLAIN_CONTAINER) {
		r.reason = EXPLAIN_HOST_TO_CONTAINER;
		*ret = r;
		return 0;
	}
	if (!category_of(q->from.kind, q->to.kind, &r.category)) {
		*ret = r;
		return 0;
	}
	r.has_category = true;
	for (size_t i = 0; i < p->nrules; i++) {
		const struct policy_rule *rule = &p->rules[i];

		if (!explain_rule_matches(p, rule, q, &flags))
			continue;
		if (!r.matched && !(r.matched = calloc(p->nrules, sizeof(*r.matched))))
			return -ENOMEM;
		r.matched[r.nmatched++] = i;
		/* The first deny (else the first allow) in policy order is named as the decider:
		 * order never changes the verdict, only which of equals is shown first. */
		if (rule->action == POLICY_DENY && !deny) {
			deny = true;
			r.decider = i;
		} else if (rule->action == POLICY_ALLOW && !deny && !allow) {
			allow = true;
			r.decider = i;
		}
	}
	r.abstract = flags & EXPLAIN_F_ABSTRACT;
	r.learned = flags & EXPLAIN_F_LEARNED;
	if (deny || allow) {
		r.reason = EXPLAIN_RULE;
		r.verdict = deny ? POLICY_DENY : POLICY_ALLOW;
	} else {
		r.reason = EXPLAIN_DEFAULT;
		r.verdict = p->defaults[r.category];
	}
	*ret = r;
	return 0;
}

void explain_result_clear(struct explain_result *r)
{
	if (!r)
		return;
	free(r->matched);
	*r = (struct explain_result){0};
}

const char *explain_kind_name(enum explain_kind k)
{
	return k == EXPLAIN_CONTAINER ? "container" : k == EXPLAIN_HOST ? "host" : "world";
}
