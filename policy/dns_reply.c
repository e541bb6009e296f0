/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dns_reply.h"

#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static void dns_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* Index of NAME in the chain so far, or -1 (DNS names compare without case). */
static int dns_chain_index(const struct dns_reply *r, const char *name)
{
	for (size_t i = 0; i < r->nnames; i++)
		if (strcasecmp(r->names[i], name) == 0)
			return (int)i;
	return -1;
}

/*
 * Extends the chain with the targets of CNAMEs whose owner is in it, until nothing changes:
 * answers may list the CNAMEs in any order. A CNAME loop adds nothing new and ends.
 */
static int dns_follow_cnames(ns_msg *h, int count, struct dns_reply *r)
{
	bool grew = true;

	while (grew) {
		grew = false;
		for (int i = 0; i < count; i++) {
			char target[DNS_REPLY_NAME_LEN];
			ns_rr rr;

			if (ns_parserr(h, ns_s_an, i, &rr) < 0)
				return -EBADMSG;
			if (ns_rr_type(rr) != ns_t_cname || ns_rr_class(rr) != ns_c_in ||
			    dns_chain_index(r, ns_rr_name(rr)) < 0)
				continue;
			if (ns_name_uncompress(ns_msg_base(*h), ns_msg_end(*h), ns_rr_rdata(rr),
					       target, sizeof(target)) < 0)
				return -EBADMSG;
			if (dns_chain_index(r, target) >= 0)
				continue;
			if (r->nnames == DNS_REPLY_NAMES_MAX)
				return -E2BIG;
			strcpy(r->names[r->nnames], target);
			dns_lower(r->names[r->nnames++]);
			grew = true;
		}
	}
	return 0;
}

static int dns_collect_addrs(ns_msg *h, int count, size_t max_ips, struct dns_reply *r)
{
	for (int i = 0; i < count; i++) {
		struct dns_reply_addr *a;
		int idx, type;
		ns_rr rr;

		if (ns_parserr(h, ns_s_an, i, &rr) < 0)
			return -EBADMSG;
		type = ns_rr_type(rr);
		if ((type != ns_t_a && type != ns_t_aaaa) || ns_rr_class(rr) != ns_c_in)
			continue;
		idx = dns_chain_index(r, ns_rr_name(rr));
		if (idx < 0)
			continue; /* not about the question: an unrelated record teaches nothing */
		if (ns_rr_rdlen(rr) != (type == ns_t_a ? 4 : 16))
			return -EBADMSG;
		if (r->naddrs == max_ips)
			return -E2BIG;
		a = &r->addrs[r->naddrs++];
		*a = (struct dns_reply_addr){.family = type == ns_t_a ? AF_INET : AF_INET6,
					     .ttl = ns_rr_ttl(rr),
					     .name = (uint8_t)idx};
		memcpy(a->addr, ns_rr_rdata(rr), ns_rr_rdlen(rr));
	}
	return 0;
}

int dns_reply_parse(const uint8_t *buf, size_t len, size_t max_ips, struct dns_reply *ret)
{
	struct dns_reply *r = ret;
	int count, e;
	ns_msg h;
	ns_rr q;

	*r = (struct dns_reply){0};
	if (len > NS_MAXMSG || ns_initparse(buf, (int)len, &h) < 0)
		return -EBADMSG;
	if (!ns_msg_getflag(h, ns_f_qr) || ns_msg_count(h, ns_s_qd) != 1 ||
	    ns_parserr(&h, ns_s_qd, 0, &q) < 0)
		return -EBADMSG;
	if (ns_msg_getflag(h, ns_f_tc))
		return -EMSGSIZE;
	strcpy(r->names[0], ns_rr_name(q));
	dns_lower(r->names[0]);
	r->nnames = 1;
	count = ns_msg_count(h, ns_s_an);
	if (ns_msg_getflag(h, ns_f_rcode) != ns_r_noerror || count == 0)
		return 0;
	r->addrs = calloc(max_ips ? max_ips : 1, sizeof(*r->addrs));
	if (!r->addrs)
		return -ENOMEM;
	e = dns_follow_cnames(&h, count, r);
	if (e == 0)
		e = dns_collect_addrs(&h, count, max_ips, r);
	if (e < 0)
		dns_reply_clear(r);
	return e;
}

void dns_reply_clear(struct dns_reply *r)
{
	if (!r)
		return;
	free(r->addrs);
	r->addrs = NULL;
	r->naddrs = 0;
}
