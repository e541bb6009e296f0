/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The DNS snooping lines for fqdn selectors (docs/design.md, "fqdn"): replies from the trusted
 * resolvers to the containers an fqdn rule's `from` may select go to NFQUEUE, where the agent
 * learns their addresses into the rules' f_* sets before releasing them. Only established
 * replies: a queued packet the agent accepts skips the rest of the hook, so a packet that
 * starts a connection must never get there. bypass: with no agent listening the kernel accepts
 * them, DNS keeps working and nothing is learned (allow lists fail closed).
 */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "compile_internal.h"
#include "util.h"

#define FQDN_CT_ESTABLISHED 0x2u

/* The resolvers of FAM as a set in *ret; NULL when there are none of that family. */
static int fqdn_resolver_set(struct compile_ctx *cx, enum compile_fam fam, struct ir_set **ret)
{
	const struct policy_dns *dns = &cx->p->dns;
	const struct policy_cidr *rv = dns->resolvers_set ? dns->resolvers : cx->in->resolvers;
	size_t n = dns->resolvers_set ? dns->nresolvers : cx->in->nresolvers;
	int af = fam == COMPILE_V4 ? AF_INET : AF_INET6;
	struct ir_set *s = NULL;

	for (size_t i = 0; i < n; i++) {
		struct ir_elem e = {0};

		if (rv[i].family != af)
			continue;
		if (!s) {
			s = compile_set1(cx, cx->inet,
					 fam == COMPILE_V4 ? "dns_resolvers4" : "dns_resolvers6",
					 fam == COMPILE_V4 ? IR_TYPE_IPV4 : IR_TYPE_IPV6, false);
			if (!s)
				return -ENOMEM;
			s->constant = true;
		}
		e.key[0] = ir_value_addr(af, rv[i].addr, af == AF_INET ? 32 : 128);
		if (ir_elem_add(s, &e) < 0)
			return -ENOMEM;
	}
	*ret = s;
	return 0;
}

/*
 * The address sets holding every container some fqdn rule's `from` may select: a group's set,
 * else containers4/6 (a superset; the agent checks the rule's `from` exactly before learning).
 */
static size_t fqdn_dest_sets(struct compile_ctx *cx, enum compile_fam fam, struct ir_set **out,
			     size_t max)
{
	size_t n = 0;

	for (size_t ri = 0; ri < cx->p->nrules; ri++) {
		const struct policy_rule *r = &cx->p->rules[ri];
		bool fq = false;

		for (size_t k = 0; k < r->to.n; k++)
			fq |= r->to.terms[k].kind == POLICY_TERM_FQDN;
		for (size_t k = 0; fq && k < r->from.n; k++) {
			const struct policy_term *t = &r->from.terms[k];
			struct ir_set *s = cx->containers[fam];
			bool dup = false;

			if (t->kind == POLICY_TERM_WORLD || t->kind == POLICY_TERM_HOST)
				continue;
			if (t->kind == POLICY_TERM_GROUP)
				s = cx->group_sets[t->group * 2 + fam];
			for (size_t i = 0; i < n; i++)
				dup |= out[i] == s || out[i] == cx->containers[fam];
			if (!dup && n < max)
				out[n++] = s;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (out[i] == cx->containers[fam]) { /* the superset makes the others redundant */
			out[0] = out[i];
			return 1;
		}
	return n;
}

static int fqdn_lines(struct compile_ctx *cx, enum compile_fam fam, struct ir_chain **chain,
		      struct ir_chain *fwd)
{
	static const uint8_t protos[] = {IPPROTO_UDP, IPPROTO_TCP};
	struct ir_set *res = NULL, *dst[64];
	size_t nd;
	int r;

	r = fqdn_resolver_set(cx, fam, &res);
	if (r < 0 || !res)
		return r;
	nd = fqdn_dest_sets(cx, fam, dst, ARRAY_SIZE(dst));
	if (nd == ARRAY_SIZE(dst)) /* many groups: one superset line instead */
		dst[0] = cx->containers[fam], nd = 1;
	if (nd && !*chain) {
		struct ir_stmt jump = compile_verdict(IR_VERDICT_JUMP, NULL);

		*chain = ir_chain_add(cx->rs, cx->inet, "dns_snoop");
		if (!*chain)
			return -ENOMEM;
		jump.verdict.chain = (*chain)->name;
		if ((r = compile_line(fwd, 1, &jump)) < 0)
			return r;
	}
	for (size_t i = 0; i < nd; i++)
		for (size_t p = 0; p < ARRAY_SIZE(protos); p++) {
			struct ir_stmt st[] = {
			    compile_lookup(fam == COMPILE_V4 ? IR_KEY_IP_SADDR : IR_KEY_IP6_SADDR,
					   res),
			    compile_lookup(fam == COMPILE_V4 ? IR_KEY_IP_DADDR : IR_KEY_IP6_DADDR,
					   dst[i]),
			    compile_eq(IR_KEY_L4PROTO, ir_value_u8(protos[p])),
			    compile_eq(IR_KEY_TH_SPORT, ir_value_be16(53)),
			    {.kind = IR_STMT_MATCH,
			     .match = {.keys = {IR_KEY_CT_STATE},
				       .nkeys = 1,
				       .op = IR_OP_BITS_ANY,
				       .value = ir_value_u32_host(FQDN_CT_ESTABLISHED)}},
			    {.kind = IR_STMT_QUEUE, .queue_num = COMPILE_DNS_QUEUE},
			};

			if ((r = compile_line(*chain, ARRAY_SIZE(st), st)) < 0)
				return r;
		}
	return 0;
}

int compile_fqdn_snoop(struct compile_ctx *cx, struct ir_chain *fwd)
{
	struct ir_chain *chain = NULL;
	int r;

	if (!policy_has_fqdn(cx->p))
		return 0;
	r = fqdn_lines(cx, COMPILE_V4, &chain, fwd);
	if (r == 0)
		r = fqdn_lines(cx, COMPILE_V6, &chain, fwd);
	return r;
}
