/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Old and new policy, evaluated side by side over the same ends (see diff.h). */
#include "diff.h"

#include <errno.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "schema.h"
#include "util.h"

#define DIFF_PORT_END 65536u /* one past the last port */

/* A name or image satisfying GLOB: '*' -> "", '?' -> 'x', '[set]' -> its first member,
 * escapes taken literally. Checked with fnmatch(3) by the caller. */
static char *glob_example(const char *glob)
{
	char *out = malloc(strlen(glob) + 1), *o = out;

	if (!out)
		return NULL;
	for (const char *g = glob; *g; g++) {
		if (*g == '*')
			continue;
		if (*g == '?')
			*o++ = 'x';
		else if (*g == '[') {
			const char *close = strchr(g + 1, ']');

			if (!close || g[1] == '!' || g[1] == '^') {
				*o++ = *g;
				continue;
			}
			*o++ = g[1];
			g = close;
		} else if (*g == '\\' && g[1])
			*o++ = *++g;
		else
			*o++ = *g;
	}
	*o = '\0';
	return out;
}

static int synth_add(struct policy_diff *d, const struct policy_match *m, const char *label)
{
	struct endpoint e = {0};
	int r = -ENOMEM;

	/* Both policies usually define the same groups: one stand-in will do for both. */
	for (size_t i = 0; i < d->nsynth; i++)
		if (!strcmp(d->synth[i].id, label) && endpoint_matches(&d->synth[i], m))
			return 0;
	if (SCHEMA_GROW(d->synth, d->nsynth) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < m->nlabels; i++)
		if (schema_add_label(&e.labels, &e.nlabels, m->labels[i].key, m->labels[i].value) <
		    0)
			goto fail;
	if (m->name_glob && !(e.name = glob_example(m->name_glob)))
		goto fail;
	if (!m->name_glob && !(e.name = strdup(label)))
		goto fail;
	if (m->image_glob && !(e.image = glob_example(m->image_glob)))
		goto fail;
	if (m->network) {
		if (!(e.networks = calloc(1, sizeof(*e.networks))) ||
		    !(e.networks[0] = strdup(m->network)))
			goto fail;
		e.nnetworks = 1;
	}
	/* A glob with a negated set has no example here: the container in no group stands
	 * for what it would have matched, no worse than leaving it out. */
	if (!endpoint_matches(&e, m)) {
		endpoint_clear(&e);
		return 0;
	}
	/* The same name defined otherwise in NEW: a second stand-in, told apart. */
	for (size_t i = 0; i < d->nsynth; i++)
		if (!strcmp(d->synth[i].id, label)) {
			if (asprintf(&e.id, "%s (as redefined)", label) < 0) {
				e.id = NULL;
				goto fail;
			}
			break;
		}
	if (!e.id && !(e.id = strdup(label)))
		goto fail;
	d->synth[d->nsynth++] = e;
	return 0;
fail:
	endpoint_clear(&e);
	return r;
}

static int synth_policy(struct policy_diff *d, const struct policy *p)
{
	char label[POLICY_NAME_MAX + 64];
	int r;

	for (size_t i = 0; i < p->ngroups; i++) {
		snprintf(label, sizeof(label), "group %s", p->groups[i].name);
		r = synth_add(d, &p->groups[i].match, label);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < p->nrules; i++)
		for (int side = 0; side < 2; side++) {
			const struct policy_selector *s =
			    side ? &p->rules[i].to : &p->rules[i].from;

			for (size_t t = 0; t < s->n; t++) {
				if (s->terms[t].kind != POLICY_TERM_MATCH)
					continue;
				snprintf(label, sizeof(label), "%s of rule %s",
					 side ? "to" : "from", p->rules[i].name);
				r = synth_add(d, &s->terms[t].match, label);
				if (r < 0)
					return r;
			}
		}
	return 0;
}

static int end_add(struct policy_diff *d, const char *label, enum explain_kind kind,
		   const struct endpoint *ep, const struct endpoint_addr *addr)
{
	struct diff_end *e;

	if (SCHEMA_GROW(d->ends, d->nends) < 0)
		return -ENOMEM;
	e = &d->ends[d->nends];
	*e = (struct diff_end){.kind = kind, .ep = ep};
	if (addr) {
		e->has_addr = true;
		e->addr = *addr;
	}
	if (!(e->label = strdup(label)))
		return -ENOMEM;
	d->nends++;
	return 0;
}

static bool addr_taken(const struct policy_diff *d, const struct endpoint_set *eps,
		       const struct endpoint_addr *a)
{
	size_t len = a->family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < d->nends; i++)
		if (d->ends[i].has_addr && d->ends[i].addr.family == a->family &&
		    !memcmp(d->ends[i].addr.addr, a->addr, len))
			return true;
	for (size_t i = 0; eps && i < eps->n; i++)
		for (size_t j = 0; j < eps->items[i].naddrs; j++)
			if (eps->items[i].addrs[j].family == a->family &&
			    !memcmp(eps->items[i].addrs[j].addr, a->addr, len))
				return true;
	return false;
}

static int cidr_ends(struct policy_diff *d, const struct endpoint_set *eps,
		     const struct policy_cidr *c, size_t n)
{
	char label[POLICY_CIDR_STRLEN];
	int r;

	for (size_t i = 0; i < n; i++) {
		struct endpoint_addr a = {.family = c[i].family};

		memcpy(a.addr, c[i].addr, sizeof(a.addr));
		if (addr_taken(d, eps, &a))
			continue;
		r = end_add(d, policy_cidr_format(&c[i], label, sizeof(label)), EXPLAIN_WORLD, NULL,
			    &a);
		if (r < 0)
			return r;
	}
	return 0;
}

static int policy_cidr_ends(struct policy_diff *d, const struct endpoint_set *eps,
			    const struct policy *p)
{
	int r = 0;

	for (size_t i = 0; i < p->nnets && r == 0; i++)
		r = cidr_ends(d, eps, p->nets[i].cidrs, p->nets[i].ncidrs);
	for (size_t i = 0; i < p->nrules && r == 0; i++)
		for (int side = 0; side < 2 && r == 0; side++) {
			const struct policy_selector *s =
			    side ? &p->rules[i].to : &p->rules[i].from;

			for (size_t t = 0; t < s->n && r == 0; t++) {
				if (s->terms[t].kind != POLICY_TERM_CIDR)
					continue;
				r = cidr_ends(d, eps, s->terms[t].cidrs, s->terms[t].ncidrs);
				if (r == 0)
					r = cidr_ends(d, eps, s->terms[t].except,
						      s->terms[t].nexcept);
			}
		}
	return r;
}

static int build_ends(struct policy_diff *d, const struct policy *old, const struct policy *new,
		      const struct endpoint_set *eps)
{
	static const struct policy_match none = {0};
	int r;

	if (!eps || eps->n == 0) {
		d->synthetic = true;
		r = synth_policy(d, old);
		if (r == 0)
			r = synth_policy(d, new);
		if (r == 0)
			r = synth_add(d, &none, "a container in no group");
		if (r < 0)
			return r;
		for (size_t i = 0; i < d->nsynth; i++) {
			r = end_add(d, d->synth[i].id, EXPLAIN_CONTAINER, &d->synth[i], NULL);
			if (r < 0)
				return r;
		}
	} else {
		for (size_t i = 0; i < eps->n; i++) {
			r = end_add(d, eps->items[i].name, EXPLAIN_CONTAINER, &eps->items[i], NULL);
			if (r < 0)
				return r;
		}
	}
	r = end_add(d, "world", EXPLAIN_WORLD, NULL, NULL);
	if (r == 0)
		r = end_add(d, "host", EXPLAIN_HOST, NULL, NULL);
	if (r == 0)
		r = policy_cidr_ends(d, eps, old);
	if (r == 0)
		r = policy_cidr_ends(d, eps, new);
	return r;
}

bool policy_diff_end_in(const struct diff_end *e, int family, struct explain_end *ret)
{
	struct explain_end x = {.kind = e->kind, .ep = e->ep};

	if (e->has_addr) {
		if (e->addr.family != family)
			return false;
		x.has_addr = true;
		x.addr = e->addr;
	} else if (e->ep && e->ep->naddrs) {
		for (size_t i = 0; i < e->ep->naddrs && !x.has_addr; i++)
			if (e->ep->addrs[i].family == family) {
				x.has_addr = true;
				x.addr = e->ep->addrs[i];
			}
		if (!x.has_addr)
			return false;
	}
	*ret = x;
	return true;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The sorted, unique starts of PROTO's port segments in OLD and NEW, DIFF_PORT_END last. */
static int port_cuts(const struct policy *old, const struct policy *new, uint8_t proto,
		     uint32_t **ret, size_t *ret_n)
{
	const struct policy *ps[2] = {old, new};
	uint32_t *v = NULL;
	size_t n = 0, u = 0;

	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < ps[k]->nrules; i++)
			n += 2 * ps[k]->rules[i].nports;
	v = malloc((n + 2) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	n = 0;
	v[n++] = 1;
	v[n++] = DIFF_PORT_END;
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < ps[k]->nrules; i++)
			for (size_t j = 0; j < ps[k]->rules[i].nports; j++) {
				const struct policy_port *pp = &ps[k]->rules[i].ports[j];

				if (pp->proto != proto)
					continue;
				v[n++] = pp->first;
				v[n++] = (uint32_t)pp->last + 1;
			}
	qsort(v, n, sizeof(*v), cmp_u32);
	for (size_t i = 0; i < n; i++)
		if (u == 0 || v[u - 1] != v[i])
			v[u++] = v[i];
	*ret = v;
	*ret_n = u;
	return 0;
}

static bool same_decision(const struct diff_change *c, const struct diff_change *x)
{
	return c->opened == x->opened && c->from == x->from && c->to == x->to &&
	       c->family == x->family && c->proto == x->proto && c->old_reason == x->old_reason &&
	       c->new_reason == x->new_reason && c->old_rule == x->old_rule &&
	       c->new_rule == x->new_rule && (uint32_t)c->last + 1 == x->first;
}

/* Evaluates one (from, to, family, protocol, port) under both policies; a difference is
 * appended, or extends the previous change when it continues it. */
static int diff_point(struct policy_diff *d, const struct policy *old, const struct policy *new,
		      const struct explain_query *q, size_t from, size_t to, uint16_t last)
{
	struct explain_result ro, rn;
	struct diff_change c;
	int r;

	r = explain_decide(old, q, &ro);
	if (r < 0)
		return r;
	r = explain_decide(new, q, &rn);
	if (r < 0) {
		explain_result_clear(&ro);
		return r;
	}
	c = (struct diff_change){.opened = rn.verdict == POLICY_ALLOW,
				 .from = from,
				 .to = to,
				 .family = q->family,
				 .proto = q->proto,
				 .first = q->port,
				 .last = last,
				 .old_reason = ro.reason,
				 .new_reason = rn.reason,
				 .old_rule = ro.decider,
				 .new_rule = rn.decider,
				 .category = rn.category};
	r = 0;
	if (ro.verdict == rn.verdict)
		goto out;
	if (d->nchanges && same_decision(&d->changes[d->nchanges - 1], &c)) {
		d->changes[d->nchanges - 1].last = last;
		goto out;
	}
	if (SCHEMA_GROW(d->changes, d->nchanges) < 0) {
		r = -ENOMEM;
		goto out;
	}
	d->changes[d->nchanges++] = c;
out:
	explain_result_clear(&ro);
	explain_result_clear(&rn);
	return r;
}

static const uint8_t diff_protos[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, IPPROTO_ICMP,
				      IPPROTO_ICMPV6};

static int diff_pair(struct policy_diff *d, const struct policy *old, const struct policy *new,
		     uint32_t *const cuts[], const size_t ncuts[], size_t from, size_t to)
{
	static const int fams[] = {AF_INET, AF_INET6};
	int r;

	for (size_t f = 0; f < 2; f++) {
		struct explain_query q = {.family = fams[f]};

		if (!policy_diff_end_in(&d->ends[from], fams[f], &q.from) ||
		    !policy_diff_end_in(&d->ends[to], fams[f], &q.to))
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(diff_protos); k++) {
			q.proto = diff_protos[k];
			if ((q.proto == IPPROTO_ICMP && fams[f] != AF_INET) ||
			    (q.proto == IPPROTO_ICMPV6 && fams[f] != AF_INET6))
				continue;
			if (!cuts[k]) {
				q.port = 0;
				r = diff_point(d, old, new, &q, from, to, 0);
				if (r < 0)
					return r;
				continue;
			}
			for (size_t i = 0; i + 1 < ncuts[k]; i++) {
				q.port = (uint16_t)cuts[k][i];
				r = diff_point(d, old, new, &q, from, to,
					       (uint16_t)(cuts[k][i + 1] - 1));
				if (r < 0)
					return r;
			}
		}
	}
	return 0;
}

int policy_diff_compute(const struct policy *old, const struct policy *new,
			const struct endpoint_set *eps, struct policy_diff **ret)
{
	struct policy_diff *d = calloc(1, sizeof(*d));
	uint32_t *cuts[ARRAY_SIZE(diff_protos)] = {0};
	size_t ncuts[ARRAY_SIZE(diff_protos)] = {0};
	int r = -ENOMEM;

	if (!d)
		goto out;
	r = build_ends(d, old, new, eps);
	for (size_t k = 0; k < 3 && r == 0; k++) /* tcp, udp, sctp have ports */
		r = port_cuts(old, new, diff_protos[k], &cuts[k], &ncuts[k]);
	for (size_t i = 0; i < d->nends && r == 0; i++)
		for (size_t j = 0; j < d->nends && r == 0; j++) {
			bool ci = d->ends[i].kind == EXPLAIN_CONTAINER;
			bool cj = d->ends[j].kind == EXPLAIN_CONTAINER;

			/* Untouched or always allowed: no policy changes those. */
			if (i == j || (!ci && !cj) || (d->ends[i].kind == EXPLAIN_HOST && cj))
				continue;
			r = diff_pair(d, old, new, cuts, ncuts, i, j);
		}
	if (r == 0) {
		*ret = d;
		d = NULL;
	}
out:
	for (size_t k = 0; k < ARRAY_SIZE(diff_protos); k++)
		free(cuts[k]);
	policy_diff_free(d);
	return r;
}

void policy_diff_free(struct policy_diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nends; i++)
		free(d->ends[i].label);
	free(d->ends);
	free(d->changes);
	for (size_t i = 0; i < d->nsynth; i++)
		endpoint_clear(&d->synth[i]);
	free(d->synth);
	free(d);
}
