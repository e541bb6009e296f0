/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The dns block and fqdn selectors: located errors, as the rest of validate.c. */
#include "validate_dns.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "schema.h"

static const char *const dns_keys[] = {"resolvers", "min_ttl", "max_ips_per_name"};
static const struct schema_keys dns_ks = SCHEMA_KEYS("dns", dns_keys);

static bool dns_uint(struct diag_list *d, const struct node *n, const char *what, long long lo,
		     long long hi, uint32_t *ret)
{
	if (!schema_is_int(n)) {
		schema_type_error(d, n, what, "an integer");
		return false;
	}
	if (n->ival < lo || n->ival > hi) {
		diag_error(d, n->loc, NULL, "'%s' must be %lld to %lld, got %lld", what, lo, hi,
			   n->ival);
		return false;
	}
	*ret = (uint32_t)n->ival;
	return true;
}

static int dns_resolvers(struct diag_list *d, struct policy_dns *dns, const struct node *n)
{
	if (!schema_want_seq(d, n, "resolvers"))
		return 0;
	if (n->n == 0) {
		diag_error(d, n->loc, "leave 'resolvers' out to use the host's resolv.conf",
			   "'resolvers' must not be empty");
		return 0;
	}
	if (n->n > POLICY_DNS_RESOLVERS_MAX) {
		diag_error(d, n->loc, NULL, "at most %d resolvers", POLICY_DNS_RESOLVERS_MAX);
		return 0;
	}
	dns->resolvers_set = true;
	for (size_t i = 0; i < n->n; i++) {
		const struct node *it = n->items[i];
		struct policy_cidr c;

		if (!schema_want_str(d, it, "resolver"))
			continue;
		if (strchr(it->str, '/') || policy_cidr_parse(it->str, &c) < 0 ||
		    policy_cidr_v4_mapped(&c, NULL)) {
			diag_error(d, it->loc, "write one IPv4 or IPv6 address per resolver",
				   "invalid resolver address '%s'", it->str);
			continue;
		}
		if (SCHEMA_GROW(dns->resolvers, dns->nresolvers) < 0)
			return -ENOMEM;
		dns->resolvers[dns->nresolvers++] = c;
	}
	return 0;
}

int validate_dns_block(struct diag_list *d, struct policy *p, const struct node *m)
{
	const struct node *n;

	if (!schema_want_map(d, m, "dns"))
		return 0;
	schema_check_keys(d, m, &dns_ks);
	if ((n = node_map_get(m, "min_ttl", NULL)))
		dns_uint(d, n, "min_ttl", 0, POLICY_DNS_TTL_MAX, &p->dns.min_ttl);
	if ((n = node_map_get(m, "max_ips_per_name", NULL)))
		dns_uint(d, n, "max_ips_per_name", 1, POLICY_DNS_IPS_MAX, &p->dns.max_ips_per_name);
	if ((n = node_map_get(m, "resolvers", NULL)))
		return dns_resolvers(d, &p->dns, n);
	return 0;
}

int validate_fqdn_list(struct diag_list *d, const struct node *n, struct policy_term *t)
{
	if (!schema_want_seq(d, n, "fqdn"))
		return 0;
	if (n->n == 0) {
		diag_error(d, n->loc, NULL, "'fqdn' must not be empty");
		return 0;
	}
	if (n->n > POLICY_FQDNS_MAX) {
		diag_error(d, n->loc, "split the names over several rules",
			   "at most %d names in one fqdn selector", POLICY_FQDNS_MAX);
		return 0;
	}
	for (size_t i = 0; i < n->n; i++) {
		const struct node *it = n->items[i];
		struct policy_fqdn f;
		const char *why = NULL;
		int r;

		if (!schema_want_str(d, it, "fqdn"))
			continue;
		r = policy_fqdn_parse(it->str, true, &f, &why);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			diag_error(d, it->loc,
				   "write a name like 'api.example.com' or '*.example.com'",
				   "invalid DNS name '%s': %s", it->str, why);
			continue;
		}
		if (SCHEMA_GROW(t->fqdns, t->nfqdns) < 0) {
			free(f.name);
			return -ENOMEM;
		}
		t->fqdns[t->nfqdns++] = f;
	}
	return 0;
}
