/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fqdn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "compile.h"
#include "dns_reply.h"
#include "log.h"
#include "nfqueue.h"
#include "nft_batch.h"
#include "nft_setelems.h"
#include "util.h"

#define FQDN_LEARNED_MAX 16384 /* addresses status remembers; the kernel holds them anyway */
#define FQDN_DELTAS_MAX	 1024  /* elements one commit adds */
#define FQDN_HELD_MAX	 256   /* replies one commit releases */

struct fqdn_entry {
	char rule[POLICY_NAME_MAX + 1];
	size_t term; /* of the rule's to, for entries adopted from the kernel (name "") */
	char name[POLICY_FQDN_MAX + 2];
	int family;
	uint8_t addr[16];
	double expiry; /* monotonic seconds */
};

/*
 * What the replies read in one wakeup teach, committed in one transaction before any of them
 * is released: a burst of replies costs one kernel commit, not one each.
 */
struct fqdn_batch {
	struct nft_elem_delta d[FQDN_DELTAS_MAX];
	struct ir_elem e[FQDN_DELTAS_MAX];
	struct fqdn_entry what[FQDN_DELTAS_MAX]; /* for status, once committed */
	size_t n;
	uint32_t held[FQDN_HELD_MAX]; /* replies waiting for the commit */
	size_t nheld;
};

struct fqdn {
	struct nfqueue *q;
	struct fqdn_batch *batch;
	struct dns_reply *reply; /* parse buffer */
	struct fqdn_stats stats;
	struct fqdn_entry *learned;
	size_t nlearned;
};

/* Monotonic seconds: learned entries expire on the same clock as the kernel's timeouts. */
static double fqdn_now(void)
{
	return (double)now_usec() / 1e6;
}

int fqdn_open(struct fqdn **ret)
{
	struct fqdn *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	f->learned = calloc(FQDN_LEARNED_MAX, sizeof(*f->learned));
	f->batch = calloc(1, sizeof(*f->batch));
	f->reply = calloc(1, sizeof(*f->reply));
	r = f->learned && f->batch && f->reply ? nfqueue_open(COMPILE_DNS_QUEUE, &f->q) : -ENOMEM;
	if (r < 0) {
		fqdn_free(f);
		return r;
	}
	*ret = f;
	return 0;
}

void fqdn_free(struct fqdn *f)
{
	if (!f)
		return;
	nfqueue_free(f->q);
	free(f->learned);
	free(f->batch);
	free(f->reply);
	free(f);
}

int fqdn_fd(const struct fqdn *f)
{
	return nfqueue_fd(f->q);
}

const struct fqdn_stats *fqdn_stats(const struct fqdn *f)
{
	return &f->stats;
}

/* --- the packet: IP and UDP/TCP headers, then the DNS message ---------------------------- */

int fqdn_split(const struct nfqueue_packet *p, struct fqdn_pkt *ret)
{
	const uint8_t *l4;
	size_t hl, left;
	int proto;

	if (p->len >= sizeof(struct iphdr) && (p->data[0] >> 4) == 4) {
		const struct iphdr *ip = (const struct iphdr *)p->data;

		hl = (size_t)ip->ihl * 4;
		if (hl < sizeof(*ip) || hl > p->len || (ntohs(ip->frag_off) & 0x3fff))
			return -EBADMSG; /* fragments: never reassembled here */
		ret->family = AF_INET;
		memcpy(ret->daddr, &ip->daddr, 4);
		proto = ip->protocol;
	} else if (p->len >= sizeof(struct ip6_hdr) && (p->data[0] >> 4) == 6) {
		const struct ip6_hdr *ip6 = (const struct ip6_hdr *)p->data;

		hl = sizeof(*ip6);
		ret->family = AF_INET6;
		memcpy(ret->daddr, &ip6->ip6_dst, 16);
		proto = ip6->ip6_nxt; /* extension headers: not a reply we understand */
	} else {
		return -EBADMSG;
	}
	l4 = p->data + hl;
	left = p->len - hl;
	if (proto == IPPROTO_UDP) {
		if (left < sizeof(struct udphdr))
			return -EBADMSG;
		ret->dns = l4 + sizeof(struct udphdr);
		ret->dnslen = left - sizeof(struct udphdr);
		return 1;
	}
	if (proto != IPPROTO_TCP || left < sizeof(struct tcphdr))
		return -EBADMSG;
	hl = (size_t)((const struct tcphdr *)l4)->doff * 4;
	if (hl < sizeof(struct tcphdr) || hl > left)
		return -EBADMSG;
	if (left == hl)
		return 0; /* SYN-ACK, ACK, FIN: no data */
	/* One segment holding exactly one length-prefixed message; anything else (a message
	 * split over segments, two in one) is released unlearned. */
	if (left - hl < 2 || (size_t)(l4[hl] << 8 | l4[hl + 1]) != left - hl - 2)
		return -EBADMSG;
	ret->dns = l4 + hl + 2;
	ret->dnslen = left - hl - 2;
	return 1;
}

/* --- which rules learn ------------------------------------------------------------------ */

static bool fqdn_addr_in(const struct policy_cidr *c, size_t n, int family, const uint8_t *addr)
{
	struct policy_cidr a = {.family = family, .prefix = family == AF_INET ? 32 : 128};

	memcpy(a.addr, addr, family == AF_INET ? 4 : 16);
	for (size_t i = 0; i < n; i++)
		if (policy_cidr_contains(&c[i], &a))
			return true;
	return false;
}

/* Whether rule R's `from` selects endpoint EP, reached at address (FAMILY, ADDR). */
static bool fqdn_from_selects(const struct policy *p, const struct policy_rule *r,
			      const struct endpoint *ep, int family, const uint8_t *addr)
{
	for (size_t i = 0; i < r->from.n; i++) {
		const struct policy_term *t = &r->from.terms[i];
		const struct policy_net *net;

		switch (t->kind) {
		case POLICY_TERM_CONTAINERS:
		case POLICY_TERM_ANY:
			return true;
		case POLICY_TERM_GROUP:
			if (endpoint_matches(ep, &p->groups[t->group].match))
				return true;
			break;
		case POLICY_TERM_MATCH:
			if (endpoint_matches(ep, &t->match))
				return true;
			break;
		case POLICY_TERM_NET:
			net = &p->nets[t->net];
			if (fqdn_addr_in(net->cidrs, net->ncidrs, family, addr))
				return true;
			break;
		case POLICY_TERM_CIDR:
			if (fqdn_addr_in(t->cidrs, t->ncidrs, family, addr) &&
			    !fqdn_addr_in(t->except, t->nexcept, family, addr))
				return true;
			break;
		default:
			break;
		}
	}
	return false;
}

static const struct endpoint *fqdn_endpoint(const struct endpoint_set *eps, int family,
					    const uint8_t *addr)
{
	for (size_t i = 0; eps && i < eps->n; i++)
		for (size_t k = 0; k < eps->items[i].naddrs; k++) {
			const struct endpoint_addr *a = &eps->items[i].addrs[k];

			if (a->family == family &&
			    memcmp(a->addr, addr, family == AF_INET ? 4 : 16) == 0)
				return &eps->items[i];
		}
	return NULL;
}

/* The chain name (index) term T matches, or -1. */
static int fqdn_term_matches(const struct policy_term *t, const struct dns_reply *d)
{
	for (size_t n = 0; n < d->nnames; n++)
		for (size_t k = 0; k < t->nfqdns; k++)
			if (policy_fqdn_match(&t->fqdns[k], d->names[n]))
				return (int)n;
	return -1;
}

/* --- learning --------------------------------------------------------------------------- */

static void fqdn_remember(struct fqdn *f, const char *rule, const char *name, int family,
			  const uint8_t *addr, double expiry, double now)
{
	struct fqdn_entry *e = NULL;
	size_t alen = family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < f->nlearned && !e; i++) {
		struct fqdn_entry *x = &f->learned[i];

		if (x->family == family && memcmp(x->addr, addr, alen) == 0 &&
		    strcmp(x->rule, rule) == 0)
			e = x;
	}
	if (!e) {
		/* Full: forget the expired ones (the kernel already did). */
		for (size_t i = 0; f->nlearned == FQDN_LEARNED_MAX && i < f->nlearned;)
			if (f->learned[i].expiry <= now)
				f->learned[i] = f->learned[--f->nlearned];
			else
				i++;
		if (f->nlearned == FQDN_LEARNED_MAX)
			return;
		e = &f->learned[f->nlearned++];
	}
	snprintf(e->rule, sizeof(e->rule), "%s", rule);
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->family = family;
	memcpy(e->addr, addr, alen);
	e->expiry = expiry; /* the kernel's timeout was just set to this too */
}

/* The elements rule RI's term TI learns from D (chain name NAME) into batch B. */
static void fqdn_add_term(const struct policy *p, const struct ir_table *inet, size_t ri, size_t ti,
			  int name, const struct dns_reply *d, struct fqdn_batch *b, double now)
{
	uint32_t min_ttl = p->dns.min_ttl;

	for (size_t i = 0; i < d->naddrs && b->n < FQDN_DELTAS_MAX; i++) {
		const struct dns_reply_addr *a = &d->addrs[i];
		char set[POLICY_NAME_MAX + 32];
		struct fqdn_entry *w = &b->what[b->n];
		const struct ir_set *s;
		uint32_t ttl = a->ttl > min_ttl ? a->ttl : min_ttl;

		snprintf(set, sizeof(set), "f_%s_to_%zu%c", p->rules[ri].name, ti,
			 a->family == AF_INET ? '4' : '6');
		s = ir_set_find(inet, set);
		if (!s)
			continue; /* the rule has no line in this family: nothing uses the set */
		b->e[b->n] = (struct ir_elem){0};
		b->e[b->n].key[0] =
		    ir_value_addr(a->family, a->addr, a->family == AF_INET ? 32 : 128);
		/* At least a second: 0 would be an element that never expires. */
		b->e[b->n].timeout_ms = (uint64_t)(ttl ? ttl : 1) * 1000;
		b->d[b->n] = (struct nft_elem_delta){.family = IR_FAMILY_INET,
						     .table = COMPILE_TABLE_NAME,
						     .set = s,
						     .elems = &b->e[b->n],
						     .n = 1};
		snprintf(w->rule, sizeof(w->rule), "%s", p->rules[ri].name);
		/* status keeps 253 characters: a longer (escaped) name is cut there */
		snprintf(w->name, sizeof(w->name), "%.*s", (int)sizeof(w->name) - 1,
			 d->names[name]);
		w->family = a->family;
		memcpy(w->addr, a->addr, 16);
		w->expiry = now + (double)b->e[b->n].timeout_ms / 1000.0;
		b->n++;
	}
}

/* Adds what D teaches to the batch; whether it taught anything. */
static bool fqdn_learn(struct fqdn *f, const struct policy *p, const struct ir_table *inet,
		       const struct fqdn_pkt *pk, const struct endpoint *ep,
		       const struct dns_reply *d)
{
	size_t before = f->batch->n;
	double now = fqdn_now();

	for (size_t ri = 0; ri < p->nrules; ri++) {
		const struct policy_rule *rule = &p->rules[ri];
		bool selected = false, checked = false;

		for (size_t ti = 0; ti < rule->to.n; ti++) {
			const struct policy_term *t = &rule->to.terms[ti];
			int name;

			if (t->kind != POLICY_TERM_FQDN || (name = fqdn_term_matches(t, d)) < 0)
				continue;
			if (!checked) {
				selected = fqdn_from_selects(p, rule, ep, pk->family, pk->daddr);
				checked = true;
			}
			if (selected)
				fqdn_add_term(p, inet, ri, ti, name, d, f->batch, now);
		}
	}
	return f->batch->n > before;
}

static void fqdn_release(struct fqdn *f, uint32_t id)
{
	int r = nfqueue_accept(f->q, id);

	if (r < 0)
		log_warn("fqdn: cannot release reply %u: %s, ignoring", id, strerror(-r));
}

/* Commits the batch, then releases the replies it holds, in that order: a container never
 * sees an address before the kernel allows it. Released unlearned if the commit fails. */
static void fqdn_flush(struct fqdn *f)
{
	struct fqdn_batch *b = f->batch;
	struct nft_batch_error err = {0};
	double now = fqdn_now();
	int r = 0;

	if (b->n)
		r = nft_batch_elements(b->d, b->n, &err);
	if (r < 0) {
		f->stats.commit_failures++;
		log_warn(
		    "fqdn: cannot add %zu learned addresses: %s; %zu replies released unlearned",
		    b->n, err.message[0] ? err.message : strerror(-r), b->nheld);
	} else {
		f->stats.learned += b->n;
		for (size_t i = 0; i < b->n; i++)
			fqdn_remember(f, b->what[i].rule, b->what[i].name, b->what[i].family,
				      b->what[i].addr, b->what[i].expiry, now);
	}
	for (size_t i = 0; i < b->nheld; i++)
		fqdn_release(f, b->held[i]);
	b->n = b->nheld = 0;
}

struct fqdn_read_ctx {
	struct fqdn *f;
	const struct policy *p;
	const struct ir_table *inet;
	const struct endpoint_set *eps;
};

static void fqdn_on_packet(const struct nfqueue_packet *pkt, void *ud)
{
	struct fqdn_read_ctx *c = ud;
	struct fqdn *f = c->f;
	const struct endpoint *ep;
	struct fqdn_pkt pk = {0};
	bool taught = false;
	int r;

	f->stats.held++;
	/* Room for this reply's addresses (at most max_ips_per_name per matching rule). */
	if (f->batch->nheld == FQDN_HELD_MAX || f->batch->n > FQDN_DELTAS_MAX / 2)
		fqdn_flush(f);
	r = pkt->truncated ? -EBADMSG : fqdn_split(pkt, &pk);
	if (r <= 0) {
		if (r < 0)
			f->stats.parse_failures++;
		goto out;
	}
	ep = fqdn_endpoint(c->eps, pk.family, pk.daddr);
	if (!ep || !c->p || !c->inet)
		goto out;
	r = dns_reply_parse(pk.dns, pk.dnslen, c->p->dns.max_ips_per_name, f->reply);
	if (r == -E2BIG)
		f->stats.over_limits++;
	else if (r < 0)
		f->stats.parse_failures++;
	else
		taught = fqdn_learn(f, c->p, c->inet, &pk, ep, f->reply);
	dns_reply_clear(f->reply);
out:
	/* A reply that teaches nothing is released at once, unchanged. */
	if (taught)
		f->batch->held[f->batch->nheld++] = pkt->id;
	else
		fqdn_release(f, pkt->id);
}

int fqdn_read(struct fqdn *f, const struct policy *p, const struct ir_ruleset *base,
	      const struct endpoint_set *eps)
{
	struct fqdn_read_ctx c = {
	    .f = f,
	    .p = p,
	    .inet = base ? ir_table_find(base, IR_FAMILY_INET, COMPILE_TABLE_NAME) : NULL,
	    .eps = eps};
	int r = nfqueue_read(f->q, fqdn_on_packet, &c);

	fqdn_flush(f);
	if (r == -ENOBUFS)
		f->stats.overflows++;
	return r;
}

/* --- status ----------------------------------------------------------------------------- */

json_t *fqdn_status(const struct fqdn *f)
{
	json_t *arr = json_array();
	double now = fqdn_now();

	for (size_t i = 0; arr && f && i < f->nlearned; i++) {
		const struct fqdn_entry *e = &f->learned[i];
		char addr[INET6_ADDRSTRLEN];

		if (e->expiry <= now)
			continue;
		inet_ntop(e->family, e->addr, addr, sizeof(addr));
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:I}", "rule", e->rule,
						     "name", e->name, "address", addr, "expires_in",
						     (json_int_t)(e->expiry - now + 0.5)));
	}
	return arr;
}

const char *fqdn_name_of(const struct fqdn *f, int family, const uint8_t *addr)
{
	double now = fqdn_now();

	for (size_t i = 0; f && i < f->nlearned; i++)
		if (f->learned[i].family == family && f->learned[i].expiry > now &&
		    memcmp(f->learned[i].addr, addr, family == AF_INET ? 4 : 16) == 0)
			return f->learned[i].name;
	return NULL;
}

/* --- after a full apply --------------------------------------------------------------- */

/* The set entry E belongs in under P (its rule's fqdn term matching its name), or NULL. */
static const struct ir_set *fqdn_entry_set(const struct policy *p, const struct ir_table *inet,
					   const struct fqdn_entry *e)
{
	for (size_t ri = 0; ri < p->nrules; ri++) {
		const struct policy_rule *r = &p->rules[ri];

		if (strcmp(r->name, e->rule) != 0)
			continue;
		for (size_t ti = 0; ti < r->to.n; ti++) {
			const struct policy_term *t = &r->to.terms[ti];
			char set[POLICY_NAME_MAX + 32];

			if (t->kind != POLICY_TERM_FQDN)
				continue;
			snprintf(set, sizeof(set), "f_%s_to_%zu%c", r->name, ti,
				 e->family == AF_INET ? '4' : '6');
			/* Adopted from the kernel: no name, its term is where it was. */
			if (!e->name[0]) {
				if (e->term == ti)
					return ir_set_find(inet, set);
				continue;
			}
			for (size_t k = 0; k < t->nfqdns; k++) {
				if (policy_fqdn_match(&t->fqdns[k], e->name))
					return ir_set_find(inet, set);
			}
		}
	}
	return NULL;
}

int fqdn_reinstall(struct fqdn *f, const struct policy *p, const struct ir_ruleset *base)
{
	const struct ir_table *inet =
	    base ? ir_table_find(base, IR_FAMILY_INET, COMPILE_TABLE_NAME) : NULL;
	struct fqdn_batch *b = calloc(1, sizeof(*b));
	struct nft_batch_error err = {0};
	double now = fqdn_now();
	size_t i = 0, done = 0;
	int r = 0;

	if (!b)
		return -ENOMEM;
	while (r == 0 && inet && p && i < f->nlearned) {
		struct fqdn_entry *e = &f->learned[i];
		const struct ir_set *s = e->expiry > now + 0.5 ? fqdn_entry_set(p, inet, e) : NULL;

		if (!s) { /* expired, or the policy no longer has it: forgotten */
			*e = f->learned[--f->nlearned];
			continue;
		}
		b->e[b->n] = (struct ir_elem){0};
		b->e[b->n].key[0] =
		    ir_value_addr(e->family, e->addr, e->family == AF_INET ? 32 : 128);
		b->e[b->n].timeout_ms = (uint64_t)((e->expiry - now) * 1000);
		b->d[b->n] = (struct nft_elem_delta){.family = IR_FAMILY_INET,
						     .table = COMPILE_TABLE_NAME,
						     .set = s,
						     .elems = &b->e[b->n],
						     .n = 1};
		b->n++;
		i++;
		if (b->n == FQDN_DELTAS_MAX) {
			r = nft_batch_elements(b->d, b->n, &err);
			done += r == 0 ? b->n : 0;
			b->n = 0;
		}
	}
	if (r == 0 && b->n) {
		r = nft_batch_elements(b->d, b->n, &err);
		done += r == 0 ? b->n : 0;
	}
	if (r < 0) {
		f->stats.commit_failures++;
		log_warn("fqdn: cannot restore learned addresses: %s",
			 err.message[0] ? err.message : strerror(-r));
	}
	free(b);
	return r < 0 ? r : (int)done;
}

/* --- at start ------------------------------------------------------------------------- */

struct fqdn_adopt_ctx {
	struct fqdn *f;
	const char *rule;
	size_t term;
	int family;
	double now;
};

static void fqdn_adopt_elem(const uint8_t *key, size_t len, uint64_t expires_ms, void *ud)
{
	struct fqdn_adopt_ctx *c = ud;
	struct fqdn_entry *e;

	if (len != (c->family == AF_INET ? 4u : 16u) || !expires_ms ||
	    c->f->nlearned == FQDN_LEARNED_MAX)
		return;
	e = &c->f->learned[c->f->nlearned++];
	*e = (struct fqdn_entry){
	    .term = c->term, .family = c->family, .expiry = c->now + (double)expires_ms / 1000.0};
	snprintf(e->rule, sizeof(e->rule), "%s", c->rule);
	memcpy(e->addr, key, len);
}

int fqdn_adopt(struct fqdn *f, const struct policy *p)
{
	struct fqdn_adopt_ctx c = {.f = f, .now = fqdn_now()};
	size_t before = f->nlearned;

	for (size_t ri = 0; p && ri < p->nrules; ri++)
		for (size_t ti = 0; ti < p->rules[ri].to.n; ti++) {
			if (p->rules[ri].to.terms[ti].kind != POLICY_TERM_FQDN)
				continue;
			for (int fam = 0; fam < 2; fam++) {
				char set[POLICY_NAME_MAX + 32];

				c.rule = p->rules[ri].name;
				c.term = ti;
				c.family = fam ? AF_INET6 : AF_INET;
				snprintf(set, sizeof(set), "f_%s_to_%zu%c", c.rule, ti,
					 fam ? '6' : '4');
				/* Absent (first start, another policy): nothing to adopt. */
				(void)nft_setelems_dump(IR_FAMILY_INET, COMPILE_TABLE_NAME, set,
							fqdn_adopt_elem, &c);
			}
		}
	return (int)(f->nlearned - before);
}
