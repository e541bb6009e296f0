/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The encoder against the reference: for each ruleset, namespace A installs emit_nft()'s text
 * with `nft -f`, namespace B installs the IR with nft_batch_apply(), and the normalised state
 * of every table (nft -j objects, the kernel's expressions and element keys from
 * nft --debug=netlink, raw set attributes) must be the same in both.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compile.h"
#include "emit_nft.h"
#include "endpoints.h"
#include "ir.h"
#include "nft_batch.h"
#include "nft_encode.h"
#include "policy.h"
#include "testutil.h"

#include "nft_testlib.h"

/* ------------------------------------------------------------------ the comparison */

struct side {
	const struct ir_ruleset *rs;
	const char *nft_text; /* NULL: use the encoder */
	const char *out_dir;
	const char *tag;
};

static int side_run(void *arg)
{
	const struct side *sd = arg;
	char path[512];
	FILE *f;

	if (sd->nft_text) {
		snprintf(path, sizeof(path), "%s/ruleset.nft", sd->out_dir);
		f = fopen(path, "w");
		if (!f || fputs(sd->nft_text, f) < 0 || fclose(f) != 0)
			return 10;
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "nft -f %s", path);
		if (system(cmd) != 0) {
			fprintf(stderr, "nft -f rejected the emitted text (%s)\n", path);
			return 11;
		}
	} else {
		struct nft_batch_error err = {0};
		int r = nft_batch_apply(sd->rs, &err);

		if (r < 0) {
			fprintf(stderr, "nft_batch_apply: %d: %s\n", r, err.message);
			return 12;
		}
	}
	for (size_t i = 0; i < sd->rs->n; i++) {
		const struct ir_table *t = sd->rs->tables[i];
		char *state = nt_table_state(nft_encode_family_name(t->family), t->name);

		if (!state)
			return 13;
		snprintf(path, sizeof(path), "%s/%s.%zu", sd->out_dir, sd->tag, i);
		f = fopen(path, "w");
		if (!f || fputs(state, f) < 0 || fclose(f) != 0)
			return 14;
		free(state);
	}
	return 0;
}

static char *emit_text(const struct ir_ruleset *rs)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(emit_nft(rs, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

/* True when both namespaces end up with identical tables; prints the differences if not. */
static bool equivalent(const char *name, const struct ir_ruleset *rs)
{
	char dir[] = "/tmp/netseg-enc-XXXXXX", pa[600], pb[600];
	struct side a = {.rs = rs, .out_dir = dir, .tag = "nft"};
	struct side b = {.rs = rs, .out_dir = dir, .tag = "lib"};
	char *text = emit_text(rs);
	bool same = true;
	int ra, rb;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	a.nft_text = text;
	ra = nt_in_new_netns(side_run, &a);
	rb = nt_in_new_netns(side_run, &b);
	if (ra != 0 || rb != 0) {
		printf("%s: nft -f side %d, libnftnl side %d\n--- emitted text ---\n%s", name, ra,
		       rb, text);
		same = false;
	}
	for (size_t i = 0; same && i < rs->n; i++) {
		char *sa, *sb, what[300];

		snprintf(pa, sizeof(pa), "%s/nft.%zu", dir, i);
		snprintf(pb, sizeof(pb), "%s/lib.%zu", dir, i);
		sa = tu_read_file(pa, NULL);
		sb = tu_read_file(pb, NULL);
		ck_assert_ptr_nonnull(sa);
		ck_assert_ptr_nonnull(sb);
		snprintf(what, sizeof(what), "%s: table %s %s", name,
			 nft_encode_family_name(rs->tables[i]->family), rs->tables[i]->name);
		if (!nt_same_lines(what, sa, sb))
			same = false;
		free(sa);
		free(sb);
	}
	free(text);
	snprintf(pa, sizeof(pa), "rm -rf %s", dir);
	ck_assert_int_eq(system(pa), 0);
	return same;
}

/* ------------------------------------------------------------------ hand-built rulesets */

static const enum ir_type T_IF[] = {IR_TYPE_IFNAME};
static const enum ir_type T_V4[] = {IR_TYPE_IPV4};
static const enum ir_type T_V6[] = {IR_TYPE_IPV6};
static const enum ir_type T_IF_V4[] = {IR_TYPE_IFNAME, IR_TYPE_IPV4};
static const enum ir_type T_IF_V6[] = {IR_TYPE_IFNAME, IR_TYPE_IPV6};
static const enum ir_type T_PROTO_PORT[] = {IR_TYPE_INET_PROTO, IR_TYPE_INET_SERVICE};
static const enum ir_type T_ICMP6[] = {IR_TYPE_ICMPV6_TYPE};

#define MARK_CLASSIFIED 0x02000000u

static struct ir_set *set_add(struct ir_ruleset *rs, struct ir_table *t, const char *name,
			      const enum ir_type *types, size_t n, bool interval)
{
	struct ir_set *s = ir_set_add(rs, t, name, types, n, interval);

	ck_assert_ptr_nonnull(s);
	return s;
}

static void nd_types(struct ir_ruleset *rs, struct ir_table *t)
{
	struct ir_set *s = set_add(rs, t, "nd_types", T_ICMP6, 1, false);
	static const uint8_t types[] = {133, 135, 136, 130, 131, 143};

	s->constant = true;
	for (size_t i = 0; i < sizeof(types); i++)
		nt_elem1(s, ir_value_u8(types[i]));
}

/* The bridge table of docs/design.md, with two ports. */
static void build_bridge(struct ir_ruleset *rs)
{
	struct ir_table *t = ir_table_add(rs, IR_FAMILY_BRIDGE, "netseg");
	struct ir_set *ports, *pa4, *pa6;
	struct ir_chain *c;
	struct ir_stmt mark = {.kind = IR_STMT_MARK_OR, .mark_or = MARK_CLASSIFIED};

	ck_assert_ptr_nonnull(t);
	ports = set_add(rs, t, "ports", T_IF, 1, false);
	pa4 = set_add(rs, t, "port_addrs4", T_IF_V4, 2, false);
	pa6 = set_add(rs, t, "port_addrs6", T_IF_V6, 2, false);
	nd_types(rs, t);
	nt_elem1(ports, ir_value_ifname("veth-web"));
	nt_elem1(ports, ir_value_ifname("veth-db"));
	nt_elem2(pa4, ir_value_ifname("veth-web"), nt_v4("172.20.0.2", 32));
	nt_elem2(pa4, ir_value_ifname("veth-db"), nt_v4("172.20.0.3", 32));
	nt_elem2(pa6, ir_value_ifname("veth-web"), nt_v6("fd00:20::2", 128));

	c = nt_base_chain(rs, t, "prerouting", IR_HOOK_PREROUTING, -300);
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "ports", NT_KEYS(IR_KEY_IIFNAME)),
		nt_verdict(IR_VERDICT_GOTO, "port_in"));
	c = ir_chain_add(rs, t, "port_in");
	NT_RULE(c, mark);
	NT_RULE(c, nt_match(IR_KEY_ETHER_TYPE, IR_OP_EQ, ir_value_be16(0x0800)),
		nt_verdict(IR_VERDICT_GOTO, "port_in4"));
	NT_RULE(c, nt_match(IR_KEY_ETHER_TYPE, IR_OP_EQ, ir_value_be16(0x86dd)),
		nt_verdict(IR_VERDICT_GOTO, "port_in6"));
	NT_RULE(c, nt_match(IR_KEY_ETHER_TYPE, IR_OP_EQ, ir_value_be16(0x0806)),
		nt_verdict(IR_VERDICT_GOTO, "port_arp"));
	NT_RULE(c, nt_verdict(IR_VERDICT_DROP, NULL));
	c = ir_chain_add(rs, t, "port_in4");
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "port_addrs4", NT_KEYS(IR_KEY_IIFNAME, IR_KEY_IP_SADDR)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_verdict(IR_VERDICT_DROP, NULL));
	c = ir_chain_add(rs, t, "port_in6");
	NT_RULE(c,
		nt_lookup(IR_OP_LOOKUP, "port_addrs6", NT_KEYS(IR_KEY_IIFNAME, IR_KEY_IP6_SADDR)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_match(IR_KEY_IP6_SADDR, IR_OP_EQ, nt_v6("fe80::", 10)),
		nt_lookup(IR_OP_LOOKUP, "nd_types", NT_KEYS(IR_KEY_ICMPV6_TYPE)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_match(IR_KEY_IP6_SADDR, IR_OP_EQ, nt_v6("::", 128)),
		nt_lookup(IR_OP_LOOKUP, "nd_types", NT_KEYS(IR_KEY_ICMPV6_TYPE)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_verdict(IR_VERDICT_DROP, NULL));
	c = ir_chain_add(rs, t, "port_arp");
	NT_RULE(
	    c, nt_lookup(IR_OP_LOOKUP, "port_addrs4", NT_KEYS(IR_KEY_IIFNAME, IR_KEY_ARP_SADDR_IP)),
	    nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_match(IR_KEY_ARP_SADDR_IP, IR_OP_EQ, nt_v4("0.0.0.0", 32)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_verdict(IR_VERDICT_DROP, NULL));
	c = nt_base_chain(rs, t, "forward", IR_HOOK_FORWARD, -300);
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "ports", NT_KEYS(IR_KEY_IIFNAME)),
		nt_lookup(IR_OP_NOT_LOOKUP, "ports", NT_KEYS(IR_KEY_OIFNAME)),
		nt_verdict(IR_VERDICT_DROP, NULL));
	NT_RULE(c, nt_lookup(IR_OP_NOT_LOOKUP, "ports", NT_KEYS(IR_KEY_IIFNAME)),
		nt_lookup(IR_OP_LOOKUP, "ports", NT_KEYS(IR_KEY_OIFNAME)),
		nt_verdict(IR_VERDICT_DROP, NULL));
}

static void build_arp(struct ir_ruleset *rs)
{
	struct ir_table *t = ir_table_add(rs, IR_FAMILY_ARP, "netseg");
	struct ir_set *s;
	struct ir_chain *c;

	ck_assert_ptr_nonnull(t);
	s = set_add(rs, t, "bridges", T_IF, 1, false);
	nt_elem1(s, ir_value_ifname("br-app"));
	c = nt_base_chain(rs, t, "input", IR_HOOK_INPUT, 0);
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "bridges", NT_KEYS(IR_KEY_IIFNAME)),
		nt_match(IR_KEY_MARK, IR_OP_BITS_ZERO, ir_value_u32_host(MARK_CLASSIFIED)),
		nt_verdict(IR_VERDICT_DROP, NULL));
}

/* A policy chain line: [matches...] counter verdict. */
static void build_inet(struct ir_ruleset *rs)
{
	struct ir_table *t = ir_table_add(rs, IR_FAMILY_INET, "netseg");
	struct ir_set *in, *out, *pa4, *pa6, *c4, *c6, *g4, *n4, *n6, *p;
	struct ir_chain *c;
	struct ir_stmt lim = {.kind = IR_STMT_LIMIT, .limit = {.rate = 10, .burst = 20}};
	struct ir_stmt log = {.kind = IR_STMT_LOG,
			      .log = {.prefix = "netseg web-to-db: ", .group = 1650}};

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(ir_counter_add(rs, t, "r_web-to-db"), 0);
	ck_assert_int_eq(ir_counter_add(rs, t, "d_c2c"), 0);
	ck_assert_int_eq(ir_counter_add(rs, t, "d_c2w"), 0);
	in = set_add(rs, t, "in_dispatch", T_IF, 1, false);
	in->is_vmap = true;
	out = set_add(rs, t, "out_dispatch", T_IF, 1, false);
	out->is_vmap = true;
	pa4 = set_add(rs, t, "port_addrs4", T_IF_V4, 2, false);
	pa6 = set_add(rs, t, "port_addrs6", T_IF_V6, 2, false);
	c4 = set_add(rs, t, "containers4", T_V4, 1, false);
	c6 = set_add(rs, t, "containers6", T_V6, 1, false);
	g4 = set_add(rs, t, "g_web4", T_V4, 1, false);
	set_add(rs, t, "g_web6", T_V6, 1, false);
	n4 = set_add(rs, t, "n_office4", T_V4, 1, true);
	n6 = set_add(rs, t, "n_office6", T_V6, 1, true);
	p = set_add(rs, t, "p_web-to-db", T_PROTO_PORT, 2, true);
	nd_types(rs, t);

	nt_elem_vmap(in, ir_value_ifname("br-app"), IR_VERDICT_GOTO, "from_bridge");
	nt_elem_vmap(in, ir_value_ifname("veth-web"), IR_VERDICT_GOTO, "from_port");
	nt_elem_vmap(in, ir_value_ifname("veth-db"), IR_VERDICT_GOTO, "from_port");
	nt_elem_vmap(out, ir_value_ifname("br-app"), IR_VERDICT_GOTO, "to_bridge");
	nt_elem2(pa4, ir_value_ifname("veth-web"), nt_v4("172.20.0.2", 32));
	nt_elem2(pa6, ir_value_ifname("veth-web"), nt_v6("fd00:20::2", 128));
	nt_elem1(c4, nt_v4("172.20.0.2", 32));
	nt_elem1(c4, nt_v4("172.20.0.3", 32));
	nt_elem1(c6, nt_v6("fd00:20::2", 128));
	nt_elem1(g4, nt_v4("172.20.0.2", 32));
	nt_elem_range(n4, nt_v4("10.1.0.0", 32), nt_v4("10.1.255.255", 32));
	nt_elem_range(n4, nt_v4("192.168.7.1", 32), nt_v4("192.168.7.1", 32));
	nt_elem_range(n4, nt_v4("192.168.7.10", 32), nt_v4("192.168.7.20", 32));
	nt_elem_range(n6, nt_v6("fd00::", 128), nt_v6("fd00::ffff:ffff:ffff:ffff", 128));
	nt_elem2_range(p, ir_value_u8(6), ir_value_be16(5432), ir_value_be16(5432));
	nt_elem2_range(p, ir_value_u8(6), ir_value_be16(8000), ir_value_be16(8100));
	nt_elem2_range(p, ir_value_u8(17), ir_value_be16(53), ir_value_be16(53));

	c = nt_base_chain(rs, t, "prerouting", IR_HOOK_PREROUTING, -300);
	NT_RULE(c, nt_lookup(IR_OP_VMAP, "in_dispatch", NT_KEYS(IR_KEY_IIFNAME)));
	c = ir_chain_add(rs, t, "from_bridge");
	NT_RULE(c, nt_match(IR_KEY_MARK, IR_OP_BITS_ZERO, ir_value_u32_host(MARK_CLASSIFIED)),
		nt_verdict(IR_VERDICT_DROP, NULL));
	c = ir_chain_add(rs, t, "from_port");
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "port_addrs4", NT_KEYS(IR_KEY_IIFNAME, IR_KEY_IP_SADDR)),
		nt_verdict(IR_VERDICT_RETURN, NULL));
	NT_RULE(c,
		nt_lookup(IR_OP_LOOKUP, "port_addrs6", NT_KEYS(IR_KEY_IIFNAME, IR_KEY_IP6_SADDR)),
		nt_verdict(IR_VERDICT_RETURN, NULL));
	NT_RULE(c, nt_match(IR_KEY_IP6_SADDR, IR_OP_EQ, nt_v6("fe80::", 10)),
		nt_lookup(IR_OP_LOOKUP, "nd_types", NT_KEYS(IR_KEY_ICMPV6_TYPE)),
		nt_verdict(IR_VERDICT_RETURN, NULL));
	NT_RULE(c, nt_match(IR_KEY_IP6_SADDR, IR_OP_EQ, nt_v6("::", 128)),
		nt_lookup(IR_OP_LOOKUP, "nd_types", NT_KEYS(IR_KEY_ICMPV6_TYPE)),
		nt_verdict(IR_VERDICT_RETURN, NULL));
	NT_RULE(c, nt_verdict(IR_VERDICT_DROP, NULL));

	c = nt_base_chain(rs, t, "forward", IR_HOOK_FORWARD, -10);
	NT_RULE(c, nt_lookup(IR_OP_VMAP, "out_dispatch", NT_KEYS(IR_KEY_OIFNAME)));
	NT_RULE(c, nt_match(IR_KEY_CT_STATE, IR_OP_BITS_ANY, ir_value_u32_host(0x6)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_match(IR_KEY_CT_STATE, IR_OP_BITS_ANY, ir_value_u32_host(0x1)),
		nt_verdict(IR_VERDICT_JUMP, "invalid"));
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "containers4", NT_KEYS(IR_KEY_IP_SADDR)),
		nt_verdict(IR_VERDICT_GOTO, "from_container4"));
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "containers4", NT_KEYS(IR_KEY_IP_DADDR)),
		nt_verdict(IR_VERDICT_GOTO, "to_container4"));
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "containers6", NT_KEYS(IR_KEY_IP6_SADDR)),
		nt_verdict(IR_VERDICT_GOTO, "from_container6"));
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "containers6", NT_KEYS(IR_KEY_IP6_DADDR)),
		nt_verdict(IR_VERDICT_GOTO, "to_container6"));

	c = ir_chain_add(rs, t, "to_bridge");
	NT_RULE(c, nt_match(IR_KEY_PKTTYPE, IR_OP_EQ, ir_value_u8(1)),
		nt_verdict(IR_VERDICT_RETURN, NULL));
	NT_RULE(c, nt_match(IR_KEY_PKTTYPE, IR_OP_EQ, ir_value_u8(2)),
		nt_verdict(IR_VERDICT_RETURN, NULL));
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "containers4", NT_KEYS(IR_KEY_IP_DADDR)),
		nt_verdict(IR_VERDICT_RETURN, NULL));
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "containers6", NT_KEYS(IR_KEY_IP6_DADDR)),
		nt_verdict(IR_VERDICT_RETURN, NULL));
	NT_RULE(c, nt_match(IR_KEY_IP6_DADDR, IR_OP_EQ, nt_v6("fe80::", 10)),
		nt_verdict(IR_VERDICT_RETURN, NULL));
	NT_RULE(c, nt_verdict(IR_VERDICT_DROP, NULL));

	c = ir_chain_add(rs, t, "invalid");
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "containers4", NT_KEYS(IR_KEY_IP_SADDR)),
		nt_verdict(IR_VERDICT_DROP, NULL));
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "containers6", NT_KEYS(IR_KEY_IP6_DADDR)),
		nt_verdict(IR_VERDICT_DROP, NULL));

	c = nt_base_chain(rs, t, "input", IR_HOOK_INPUT, -10);
	NT_RULE(c, nt_match(IR_KEY_CT_STATE, IR_OP_BITS_ANY, ir_value_u32_host(0x6)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "containers4", NT_KEYS(IR_KEY_IP_SADDR)),
		nt_verdict(IR_VERDICT_GOTO, "to_host4"));
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "containers6", NT_KEYS(IR_KEY_IP6_SADDR)),
		nt_verdict(IR_VERDICT_GOTO, "to_host6"));

	c = ir_chain_add(rs, t, "from_container4");
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "g_web4", NT_KEYS(IR_KEY_IP_SADDR)),
		nt_lookup(IR_OP_LOOKUP, "n_office4", NT_KEYS(IR_KEY_IP_DADDR)),
		nt_lookup(IR_OP_LOOKUP, "p_web-to-db", NT_KEYS(IR_KEY_L4PROTO, IR_KEY_TH_DPORT)),
		nt_counter("r_web-to-db"), nt_verdict(IR_VERDICT_GOTO, "log_web-to-db"));
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "g_web4", NT_KEYS(IR_KEY_IP_SADDR)),
		nt_match(IR_KEY_L4PROTO, IR_OP_EQ, ir_value_u8(6)),
		nt_match(IR_KEY_TH_DPORT, IR_OP_EQ, ir_value_be16(5432)), nt_counter("r_web-to-db"),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_match(IR_KEY_L4PROTO, IR_OP_EQ, ir_value_u8(17)),
		nt_range(IR_KEY_TH_DPORT, ir_value_be16(8000), ir_value_be16(8080)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_match(IR_KEY_L4PROTO, IR_OP_EQ, ir_value_u8(1)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "containers4", NT_KEYS(IR_KEY_IP_DADDR)),
		nt_counter("d_c2c"), nt_verdict(IR_VERDICT_DROP, NULL));
	NT_RULE(c, nt_lookup(IR_OP_NOT_LOOKUP, "containers4", NT_KEYS(IR_KEY_IP_DADDR)),
		nt_counter("d_c2w"), nt_verdict(IR_VERDICT_ACCEPT, NULL));
	c = ir_chain_add(rs, t, "from_container6");
	NT_RULE(c, nt_match(IR_KEY_L4PROTO, IR_OP_EQ, ir_value_u8(58)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "n_office6", NT_KEYS(IR_KEY_IP6_DADDR)),
		nt_counter("d_c2w"), nt_verdict(IR_VERDICT_DROP, NULL));
	c = ir_chain_add(rs, t, "to_container4");
	NT_RULE(c, nt_match(IR_KEY_IP_SADDR, IR_OP_EQ, nt_v4("10.0.0.0", 8)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_verdict(IR_VERDICT_DROP, NULL));
	c = ir_chain_add(rs, t, "to_container6");
	NT_RULE(c, nt_verdict(IR_VERDICT_DROP, NULL));
	c = ir_chain_add(rs, t, "to_host4");
	NT_RULE(c, nt_verdict(IR_VERDICT_ACCEPT, NULL));
	c = ir_chain_add(rs, t, "to_host6");
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "nd_types", NT_KEYS(IR_KEY_ICMPV6_TYPE)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_verdict(IR_VERDICT_ACCEPT, NULL));
	c = ir_chain_add(rs, t, "log_web-to-db");
	NT_RULE(c, lim, log);
	NT_RULE(c, nt_verdict(IR_VERDICT_ACCEPT, NULL));
}

static struct ir_ruleset *build_design(void)
{
	struct ir_ruleset *rs = ir_ruleset_new();

	ck_assert_ptr_nonnull(rs);
	build_bridge(rs);
	build_inet(rs);
	build_arp(rs);
	ir_ruleset_normalize(rs);
	return rs;
}

/* Everything the design does not exercise: odd prefixes, open intervals, ranges, contexts. */
static struct ir_ruleset *build_edges(void)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *t, *b;
	struct ir_set *s;
	struct ir_chain *c;

	ck_assert_ptr_nonnull(rs);
	t = ir_table_add(rs, IR_FAMILY_INET, "netseg");
	ck_assert_ptr_nonnull(t);
	/* Intervals starting at 0, reaching the top, single addresses, everything. */
	s = set_add(rs, t, "iv_zero", T_V4, 1, true);
	nt_elem_range(s, nt_v4("0.0.0.0", 32), nt_v4("9.255.255.255", 32));
	nt_elem_range(s, nt_v4("200.0.0.0", 32), nt_v4("255.255.255.255", 32));
	s = set_add(rs, t, "iv_all", T_V4, 1, true);
	nt_elem_range(s, nt_v4("0.0.0.0", 32), nt_v4("255.255.255.255", 32));
	s = set_add(rs, t, "iv_top6", T_V6, 1, true);
	nt_elem_range(s, nt_v6("ff00::", 128),
		      nt_v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 128));
	nt_elem_range(s, nt_v6("::1", 128), nt_v6("::1", 128));
	s = set_add(rs, t, "iv_empty", T_V4, 1, true);
	s = set_add(rs, t, "p_all", T_PROTO_PORT, 2, true);
	nt_elem2_range(s, ir_value_u8(6), ir_value_be16(0), ir_value_be16(65535));
	nt_elem2_range(s, ir_value_u8(132), ir_value_be16(1), ir_value_be16(1));
	s = set_add(rs, t, "vm", T_IF, 1, false);
	s->is_vmap = true;
	nt_elem_vmap(s, ir_value_ifname("a"), IR_VERDICT_ACCEPT, NULL);
	nt_elem_vmap(s, ir_value_ifname("b"), IR_VERDICT_DROP, NULL);
	nt_elem_vmap(s, ir_value_ifname("c"), IR_VERDICT_RETURN, NULL);
	nt_elem_vmap(s, ir_value_ifname("d"), IR_VERDICT_JUMP, "sub");
	nt_elem_vmap(s, ir_value_ifname("averyveryverylo"), IR_VERDICT_GOTO, "sub");
	nd_types(rs, t);

	c = ir_chain_add(rs, t, "sub");
	c = nt_base_chain(rs, t, "out", IR_HOOK_OUTPUT, 5);
	NT_RULE(c, nt_lookup(IR_OP_VMAP, "vm", NT_KEYS(IR_KEY_OIFNAME)));
	static const int p4[] = {0, 1, 7, 8, 9, 12, 15, 16, 23, 24, 31, 32};
	for (size_t i = 0; i < sizeof(p4) / sizeof(p4[0]); i++) {
		NT_RULE(c, nt_match(IR_KEY_IP_DADDR, IR_OP_EQ, nt_v4("10.128.255.1", p4[i])),
			nt_verdict(IR_VERDICT_RETURN, NULL));
		NT_RULE(c, nt_match(IR_KEY_IP_SADDR, IR_OP_NE, nt_v4("10.128.255.1", p4[i])),
			nt_verdict(IR_VERDICT_RETURN, NULL));
	}
	static const int p6[] = {0, 7, 10, 48, 64, 65, 120, 128};
	for (size_t i = 0; i < sizeof(p6) / sizeof(p6[0]); i++)
		NT_RULE(c, nt_match(IR_KEY_IP6_SADDR, IR_OP_EQ, nt_v6("fd12:3456::1", p6[i])),
			nt_verdict(IR_VERDICT_RETURN, NULL));
	NT_RULE(c, nt_range(IR_KEY_MARK, ir_value_u32_host(1), ir_value_u32_host(0x10000)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_match(IR_KEY_MARK, IR_OP_EQ, ir_value_u32_host(0x1234)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_match(IR_KEY_MARK, IR_OP_BITS_ANY, ir_value_u32_host(0xff00)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_match(IR_KEY_CT_STATE, IR_OP_BITS_ZERO, ir_value_u32_host(0x8)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_match(IR_KEY_OIFNAME, IR_OP_NE, ir_value_ifname("lo")),
		nt_match(IR_KEY_IIFNAME, IR_OP_EQ, ir_value_ifname("averyveryverylo")),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_match(IR_KEY_L4PROTO, IR_OP_EQ, ir_value_u8(6)),
		nt_match(IR_KEY_TH_DPORT, IR_OP_NE, ir_value_be16(22)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "p_all", NT_KEYS(IR_KEY_L4PROTO, IR_KEY_TH_DPORT)),
		nt_lookup(IR_OP_NOT_LOOKUP, "iv_top6", NT_KEYS(IR_KEY_IP6_DADDR)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_lookup(IR_OP_NOT_LOOKUP, "iv_zero", NT_KEYS(IR_KEY_IP_DADDR)),
		nt_lookup(IR_OP_LOOKUP, "iv_all", NT_KEYS(IR_KEY_IP_SADDR)),
		nt_lookup(IR_OP_LOOKUP, "iv_empty", NT_KEYS(IR_KEY_IP_SADDR)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "nd_types", NT_KEYS(IR_KEY_ICMPV6_TYPE)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_match(IR_KEY_L4PROTO, IR_OP_EQ, ir_value_u8(58)),
		nt_lookup(IR_OP_LOOKUP, "nd_types", NT_KEYS(IR_KEY_ICMPV6_TYPE)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_verdict(IR_VERDICT_JUMP, "sub"));

	/* Bridge contexts: icmpv6 alone, ether type before ip, arp. */
	b = ir_table_add(rs, IR_FAMILY_BRIDGE, "netseg");
	ck_assert_ptr_nonnull(b);
	nd_types(rs, b);
	s = set_add(rs, b, "iv", T_V4, 1, true);
	nt_elem_range(s, nt_v4("10.0.0.0", 32), nt_v4("10.0.0.255", 32));
	c = nt_base_chain(rs, b, "in", IR_HOOK_INPUT, 0);
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "nd_types", NT_KEYS(IR_KEY_ICMPV6_TYPE)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_match(IR_KEY_ETHER_TYPE, IR_OP_EQ, ir_value_be16(0x0800)),
		nt_match(IR_KEY_IP_SADDR, IR_OP_EQ, nt_v4("10.1.2.3", 32)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "iv", NT_KEYS(IR_KEY_IP_DADDR)),
		nt_match(IR_KEY_L4PROTO, IR_OP_EQ, ir_value_u8(6)),
		nt_match(IR_KEY_TH_DPORT, IR_OP_EQ, ir_value_be16(80)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	NT_RULE(c, nt_match(IR_KEY_ARP_SADDR_IP, IR_OP_EQ, nt_v4("10.0.0.0", 24)),
		nt_verdict(IR_VERDICT_DROP, NULL));
	NT_RULE(c, nt_match(IR_KEY_ETHER_TYPE, IR_OP_NE, ir_value_be16(0x8100)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	ir_ruleset_normalize(rs);
	return rs;
}

/* Sets big enough to need several element messages (and one 64 KiB nest split). */
static struct ir_ruleset *build_big(void)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *t;
	struct ir_set *a, *iv, *pa6, *r6;
	struct ir_chain *c;

	ck_assert_ptr_nonnull(rs);
	t = ir_table_add(rs, IR_FAMILY_INET, "netseg");
	ck_assert_ptr_nonnull(t);
	a = set_add(rs, t, "containers4", T_V4, 1, false);
	iv = set_add(rs, t, "n_many4", T_V4, 1, true);
	pa6 = set_add(rs, t, "port_addrs6", T_IF_V6, 2, false);
	/* 88 bytes an element: 1024 of them overflow a 64 KiB nest, forcing a split. */
	r6 = set_add(rs, t, "port_ranges6", T_IF_V6, 2, true);
	for (unsigned i = 0; i < 3000; i++) {
		uint8_t ad[4] = {10, (uint8_t)(i >> 8), (uint8_t)i, 1};
		uint8_t a6[16] = {0xfd, 0, 0, 0x20};
		char ifn[16];

		nt_elem1(a, ir_value_addr(AF_INET, ad, 32));
		ad[0] = 11;
		ad[3] = 0;
		nt_elem_range(iv, ir_value_addr(AF_INET, ad, 32),
			      ir_value_addr(AF_INET, (uint8_t[]){11, ad[1], ad[2], 99}, 32));
		a6[14] = (uint8_t)(i >> 8);
		a6[15] = (uint8_t)i;
		snprintf(ifn, sizeof(ifn), "veth%u", i);
		nt_elem2(pa6, ir_value_ifname(ifn), ir_value_addr(AF_INET6, a6, 128));
		a6[15] = 0;
		nt_elem2_range(r6, ir_value_ifname(ifn), ir_value_addr(AF_INET6, a6, 128),
			       ir_value_addr(AF_INET6,
					     (uint8_t[]){0xfd, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0,
							 0, 0, a6[14], 0x7f},
					     128));
	}
	c = nt_base_chain(rs, t, "input", IR_HOOK_INPUT, 0);
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "containers4", NT_KEYS(IR_KEY_IP_SADDR)),
		nt_lookup(IR_OP_LOOKUP, "n_many4", NT_KEYS(IR_KEY_IP_DADDR)),
		nt_verdict(IR_VERDICT_DROP, NULL));
	NT_RULE(c,
		nt_lookup(IR_OP_LOOKUP, "port_addrs6", NT_KEYS(IR_KEY_IIFNAME, IR_KEY_IP6_SADDR)),
		nt_verdict(IR_VERDICT_DROP, NULL));
	NT_RULE(c,
		nt_lookup(IR_OP_LOOKUP, "port_ranges6", NT_KEYS(IR_KEY_IIFNAME, IR_KEY_IP6_DADDR)),
		nt_verdict(IR_VERDICT_DROP, NULL));
	ir_ruleset_normalize(rs);
	return rs;
}

START_TEST(test_design_layout)
{
	struct ir_ruleset *rs = build_design();

	ck_assert_msg(equivalent("design", rs), "design: nft -f and libnftnl differ");
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(test_edges)
{
	struct ir_ruleset *rs = build_edges();

	ck_assert_msg(equivalent("edges", rs), "edges: nft -f and libnftnl differ");
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(test_big_sets)
{
	struct ir_ruleset *rs = build_big();

	ck_assert_msg(equivalent("big", rs), "big: nft -f and libnftnl differ");
	ir_ruleset_free(rs);
}
END_TEST

/* A one-key interval verdict map whose intervals overlap has no meaning (which verdict for
 * port 90?): the encoder refuses it before anything reaches the kernel. */
START_TEST(test_overlapping_map_refused)
{
	static const enum ir_type t_port[] = {IR_TYPE_INET_SERVICE};
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *t = ir_table_add(rs, IR_FAMILY_INET, "netseg");
	struct ir_chain *a = ir_chain_add(rs, t, "a"), *b = ir_chain_add(rs, t, "b");
	struct ir_set *m = set_add(rs, t, "pd_x_tcp", t_port, 1, true);
	struct ir_elem e = {0};
	struct nft_encode *enc = nft_encode_new(1);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(enc);
	m->is_vmap = true;
	e.key[0] = ir_value_be16(80);
	e.key_end[0] = ir_value_be16(100);
	e.verdict = (struct ir_verdict){.kind = IR_VERDICT_JUMP, .chain = a->name};
	ck_assert_int_eq(ir_elem_add(m, &e), 0);
	e.key[0] = ir_value_be16(90);
	e.key_end[0] = ir_value_be16(120);
	e.verdict.chain = b->name;
	ck_assert_int_eq(ir_elem_add(m, &e), 0);
	ck_assert_int_eq(nft_encode_table_replace(enc, t), -EINVAL);
	/* Disjoint, adjacent intervals with different verdicts are fine. */
	m->elems[1].key[0] = ir_value_be16(101);
	nft_encode_free(enc);
	enc = nft_encode_new(1);
	ck_assert_int_eq(nft_encode_table_replace(enc, t), 0);
	nft_encode_free(enc);
	ir_ruleset_free(rs);
}
END_TEST

/* ------------------------------------------------------------------ golden cases */

static bool golden_file(const char *dir, const char *const *names, size_t n, char *out, size_t len)
{
	struct stat st;

	for (size_t i = 0; i < n; i++) {
		if (snprintf(out, len, "%s/%s", dir, names[i]) >= (int)len)
			continue;
		if (stat(out, &st) == 0)
			return true;
	}
	return false;
}

/* A bridges file: one name per line, '#' comments. */
static size_t golden_bridges(const char *path, char ***ret)
{
	char *text = tu_read_file(path, NULL), *save = NULL, *line;
	char **v = NULL;
	size_t n = 0;

	ck_assert_ptr_nonnull(text);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = line + strspn(line, " \t"), *e;

		if (*p == '#' || *p == '\0')
			continue;
		e = p + strcspn(p, " \t#");
		*e = '\0';
		v = realloc(v, (n + 1) * sizeof(*v));
		ck_assert_ptr_nonnull(v);
		v[n++] = strdup(p);
	}
	free(text);
	*ret = v;
	return n;
}

/* Compiles tests/golden/NAME into *RET; false if the case cannot be compiled (reported). */
static bool golden_compile(const char *dir, struct ir_ruleset **ret)
{
	static const char *const pol[] = {"policy.yaml", "policy.yml", "policy.json", "policy"};
	static const char *const ep[] = {"endpoints.yaml", "endpoints.yml", "endpoints.json"};
	static const char *const br[] = {"bridges", "bridges.txt"};
	struct diag_list *d = diag_list_new();
	struct compile_input in = {0};
	struct endpoint_set *eps = NULL;
	struct policy *p = NULL;
	char path[1024], **bridges = NULL;
	size_t nbridges = 0;
	bool ok = false;

	ck_assert_ptr_nonnull(d);
	if (!golden_file(dir, pol, 4, path, sizeof(path)) || policy_load(path, d, &p) < 0) {
		printf("golden %s: cannot load the policy\n", dir);
		diag_print(d, stdout);
		goto out;
	}
	if (golden_file(dir, ep, 3, path, sizeof(path))) {
		eps = endpoint_set_new();
		ck_assert_ptr_nonnull(eps);
		if (endpoint_set_load(eps, path, d) < 0) {
			printf("golden %s: cannot load the endpoints\n", dir);
			diag_print(d, stdout);
			goto out;
		}
	}
	if (golden_file(dir, br, 2, path, sizeof(path)))
		nbridges = golden_bridges(path, &bridges);
	in.policy = p;
	in.endpoints = eps;
	in.bridges = (const char *const *)bridges;
	in.nbridges = nbridges;
	ck_assert_int_eq(compile_ruleset(&in, ret), 0);
	ok = true;
out:
	for (size_t i = 0; i < nbridges; i++)
		free(bridges[i]);
	free(bridges);
	endpoint_set_free(eps);
	policy_free(p);
	diag_list_free(d);
	return ok;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(test_golden_cases)
{
	const char *root = tu_src_path("tests/golden");
	DIR *dir = opendir(root);
	char **names = NULL;
	size_t n = 0, same = 0, failed = 0;
	struct dirent *de;

	if (!dir) {
		printf("golden: no %s yet, nothing to compare\n", root);
		return;
	}
	while ((de = readdir(dir))) {
		char p[1024];
		struct stat st;

		snprintf(p, sizeof(p), "%s/%s", root, de->d_name);
		if (de->d_name[0] == '.' || stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		ck_assert_ptr_nonnull(names);
		names[n++] = strdup(de->d_name);
	}
	closedir(dir);
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		struct ir_ruleset *rs = NULL;
		char p[1024];

		snprintf(p, sizeof(p), "%s/%s", root, names[i]);
		if (!golden_compile(p, &rs)) {
			failed++;
		} else if (equivalent(names[i], rs)) {
			same++;
		} else {
			failed++;
		}
		ir_ruleset_free(rs);
		free(names[i]);
	}
	free(names);
	printf("golden: %zu of %zu cases identical\n", same, same + failed);
	ck_assert_msg(failed == 0, "%zu golden cases differ", failed);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nft_encode");
	TCase *tc = tcase_create("equivalence");

	nt_enter_netns_or_skip("nft_encode");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_design_layout);
	tcase_add_test(tc, test_edges);
	tcase_add_test(tc, test_big_sets);
	tcase_add_test(tc, test_overlapping_map_refused);
	tcase_add_test(tc, test_golden_cases);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
