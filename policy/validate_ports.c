/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A rule's `ports`: protocols, numbers and ranges, with located errors as the rest of
 * validate.c. */
#include "validate_ports.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "util.h"

static const char *const port_keys[] = {"proto", "port", "end_port"};
static const struct schema_keys port_ks = SCHEMA_KEYS("a port", port_keys);

static const char *const proto_names[] = {"tcp", "udp", "sctp", "icmp", "icmpv6"};
static const uint8_t proto_numbers[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, IPPROTO_ICMP,
					IPPROTO_ICMPV6};

static bool proto_has_ports(uint8_t proto)
{
	return proto != IPPROTO_ICMP && proto != IPPROTO_ICMPV6;
}

/* Looks up a protocol name, reporting unknown ones (with a near miss) at N. */
static bool proto_lookup(struct diag_list *d, const struct node *n, const char *name, size_t len,
			 uint8_t *ret)
{
	char hint[SCHEMA_HINT_MAX];
	char word[16];
	const char *close;

	if (len < sizeof(word)) {
		memcpy(word, name, len);
		word[len] = '\0';
		for (size_t i = 0; i < ARRAY_SIZE(proto_names); i++)
			if (strcmp(word, proto_names[i]) == 0) {
				*ret = proto_numbers[i];
				return true;
			}
		close = diag_closest(word, proto_names, ARRAY_SIZE(proto_names));
	} else {
		close = NULL;
	}
	diag_error(d, n->loc,
		   close ? schema_hintf(hint, sizeof(hint), "did you mean '%s'?", close)
			 : "protocols are tcp, udp, sctp, icmp and icmpv6",
		   "unknown protocol '%.*s'", (int)len, name);
	return false;
}

/* Decimal 1..65535 from S[0..LEN); -EINVAL not a number, -ERANGE out of range. */
static int port_number(const char *s, size_t len, uint16_t *ret)
{
	unsigned long v = 0;

	if (len == 0 || len > 6)
		return len ? -ERANGE : -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -ERANGE;
	*ret = (uint16_t)v;
	return 0;
}

static bool port_range_check(struct diag_list *d, const struct node *n, const char *s, size_t len,
			     uint16_t *ret)
{
	int r = port_number(s, len, ret);

	if (r == -ERANGE)
		diag_error(d, n->loc, "ports are 1 to 65535", "port %.*s is out of range in '%s'",
			   (int)len, s, n->str);
	else if (r < 0)
		diag_error(d, n->loc, "ports are numbers from 1 to 65535",
			   "invalid port '%.*s' in '%s'", (int)len, s, n->str);
	return r == 0;
}

/* "tcp/80", "udp/1000-2000", "icmp". */
static bool port_from_string(struct diag_list *d, const struct node *n, struct policy_port *ret)
{
	const char *s = n->str, *slash = strchr(s, '/'), *dash;
	struct policy_port pp = {0};
	char hint[SCHEMA_HINT_MAX];

	if (!proto_lookup(d, n, s, slash ? (size_t)(slash - s) : strlen(s), &pp.proto))
		return false;
	if (!proto_has_ports(pp.proto)) {
		if (slash) {
			diag_error(d, n->loc,
				   schema_hintf(hint, sizeof(hint), "write '%.*s' alone",
						(int)(slash - s), s),
				   "%.*s has no ports: '%s'", (int)(slash - s), s, s);
			return false;
		}
		*ret = pp;
		return true;
	}
	if (!slash) {
		diag_error(d, n->loc,
			   schema_hintf(hint, sizeof(hint),
					"write %s/PORT, or %s/1-65535 for every port", s, s),
			   "missing port in '%s'", s);
		return false;
	}
	dash = strchr(slash + 1, '-');
	if (!port_range_check(d, n, slash + 1,
			      dash ? (size_t)(dash - slash - 1) : strlen(slash + 1), &pp.first))
		return false;
	pp.last = pp.first;
	if (dash && !port_range_check(d, n, dash + 1, strlen(dash + 1), &pp.last))
		return false;
	if (pp.first > pp.last) {
		diag_error(d, n->loc,
			   schema_hintf(hint, sizeof(hint), "did you mean %.*s/%u-%u?",
					(int)(slash - s), s, pp.last, pp.first),
			   "reversed port range in '%s'", s);
		return false;
	}
	*ret = pp;
	return true;
}

static bool port_int(struct diag_list *d, const struct node *n, const char *what, uint16_t *ret)
{
	if (!schema_is_int(n)) {
		schema_type_error(d, n, what, "an integer");
		return false;
	}
	if (n->ival < 1 || n->ival > 65535) {
		diag_error(d, n->loc, "ports are 1 to 65535", "'%s' %lld is out of range", what,
			   n->ival);
		return false;
	}
	*ret = (uint16_t)n->ival;
	return true;
}

/* {proto: tcp, port: 80, end_port: 90} */
static bool port_from_map(struct diag_list *d, const struct node *m, struct policy_port *ret)
{
	struct node *proto = node_map_get(m, "proto", NULL), *pkey, *ekey;
	struct node *port = node_map_get(m, "port", &pkey),
		    *end = node_map_get(m, "end_port", &ekey);
	struct policy_port pp = {0};

	schema_check_keys(d, m, &port_ks);
	if (!proto) {
		if (!schema_misspelt(m, "proto", &port_ks))
			diag_error(d, m->loc, NULL, "port mapping is missing 'proto'");
		return false;
	}
	if (!schema_want_str(d, proto, "proto") ||
	    !proto_lookup(d, proto, proto->str, strlen(proto->str), &pp.proto))
		return false;
	if (!proto_has_ports(pp.proto)) {
		if (port || end) {
			diag_error(d, (port ? pkey : ekey)->loc, "remove it", "%s has no ports",
				   proto->str);
			return false;
		}
		*ret = pp;
		return true;
	}
	if (!port) {
		if (!schema_misspelt(m, "port", &port_ks))
			diag_error(d, m->loc, NULL, "port mapping for %s is missing 'port'",
				   proto->str);
		return false;
	}
	if (!port_int(d, port, "port", &pp.first))
		return false;
	pp.last = pp.first;
	if (end && !port_int(d, end, "end_port", &pp.last))
		return false;
	if (pp.first > pp.last) {
		diag_error(d, end->loc, NULL, "'end_port' %u is below 'port' %u", pp.last,
			   pp.first);
		return false;
	}
	*ret = pp;
	return true;
}

int validate_ports(struct diag_list *d, const struct node *n, struct policy_rule *r)
{
	char hint[SCHEMA_HINT_MAX];

	if (!schema_want_seq(d, n, "ports"))
		return 0;
	if (n->n == 0) {
		diag_error(d, n->loc, "leave 'ports' out to match every port and protocol",
			   "'ports' must not be empty");
		return 0;
	}
	for (size_t i = 0; i < n->n; i++) {
		const struct node *it = n->items[i];
		struct policy_port pp;
		bool ok;

		if (schema_is_str(it))
			ok = port_from_string(d, it, &pp);
		else if (it->kind == NODE_MAP)
			ok = port_from_map(d, it, &pp);
		else {
			diag_error(d, it->loc,
				   schema_is_int(it) ? schema_hintf(hint, sizeof(hint),
								    "did you mean tcp/%s?", it->str)
						     : NULL,
				   "a port must be a string like 'tcp/80' or a mapping, got %s",
				   node_kind_name(it));
			ok = false;
		}
		if (!ok)
			continue;
		if (SCHEMA_GROW(r->ports, r->nports) < 0)
			return -ENOMEM;
		r->ports[r->nports++] = pp;
	}
	return 0;
}
