/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The compiler (policy + endpoints -> IR) and the nft text emitter, below the golden files. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "compile.h"
#include "compile_internal.h"
#include "emit_nft.h"
#include "endpoints.h"
#include "parse.h"
#include "policy.h"
#include "testutil.h"

static struct policy *load_policy(const char *yaml)
{
	struct diag_list *d = diag_list_new();
	struct node *root = NULL;
	struct policy *p = NULL;

	ck_assert_int_eq(parse_buffer(yaml, strlen(yaml), "test.yaml", PARSE_YAML, d, &root), 0);
	if (policy_from_nodes(&root, 1, d, &p) < 0) {
		diag_print(d, stderr);
		ck_abort_msg("policy does not validate");
	}
	node_free(root);
	diag_list_free(d);
	return p;
}

static struct endpoint_set *load_endpoints(const char *yaml)
{
	struct diag_list *d = diag_list_new();
	struct endpoint_set *s = endpoint_set_new();
	struct node *root = NULL;

	ck_assert_int_eq(parse_buffer(yaml, strlen(yaml), "ep.yaml", PARSE_YAML, d, &root), 0);
	if (endpoint_set_from_node(s, root, d) < 0) {
		diag_print(d, stderr);
		ck_abort_msg("endpoints do not validate");
	}
	node_free(root);
	diag_list_free(d);
	return s;
}

static struct ir_ruleset *compile_yaml(const char *policy, const char *endpoints,
				       struct policy **ret_p, struct endpoint_set **ret_e)
{
	struct policy *p = load_policy(policy);
	struct endpoint_set *e = endpoints ? load_endpoints(endpoints) : NULL;
	struct compile_input in = {.policy = p, .endpoints = e};
	struct ir_ruleset *rs = NULL;

	ck_assert_int_eq(compile_ruleset(&in, &rs), 0);
	*ret_p = p;
	*ret_e = e;
	return rs;
}

static char *emit_text(const struct ir_ruleset *rs)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_int_eq(emit_nft(rs, f), 0);
	fclose(f);
	return text;
}

static char *compile_to_text(const char *policy, const char *endpoints)
{
	struct policy *p;
	struct endpoint_set *e;
	struct ir_ruleset *rs = compile_yaml(policy, endpoints, &p, &e);
	char *text = emit_text(rs);

	ir_ruleset_free(rs);
	policy_free(p);
	endpoint_set_free(e);
	return text;
}

/* The body of chain NAME in table FAMILY (text between its braces), or NULL. */
static char *chain_text(const char *text, const char *family, const char *name)
{
	char hdr[128], thdr[64];
	const char *t, *c, *end;

	snprintf(thdr, sizeof(thdr), "table %s netseg {", family);
	snprintf(hdr, sizeof(hdr), "\tchain %s {\n", name);
	t = strstr(text, thdr);
	if (!t)
		return NULL;
	c = strstr(t, hdr);
	if (!c)
		return NULL;
	c += strlen(hdr);
	end = strstr(c, "\n\t}\n");
	return end ? strndup(c, (size_t)(end - c + 1)) : NULL;
}

static const char *const EPS = "endpoints:\n"
			       "  - name: web-1\n"
			       "    interface: vethweb1\n"
			       "    bridge: br0\n"
			       "    addresses: [10.0.0.2, \"fd00::2\"]\n"
			       "    labels: { app: web }\n"
			       "  - name: db-1\n"
			       "    interface: vethdb1\n"
			       "    bridge: br0\n"
			       "    addresses: [10.0.0.3]\n"
			       "    labels: { app: db }\n";

static const char *const EPS_REVERSED = "endpoints:\n"
					"  - name: db-1\n"
					"    interface: vethdb1\n"
					"    bridge: br0\n"
					"    addresses: [10.0.0.3]\n"
					"    labels: { app: db }\n"
					"  - name: web-1\n"
					"    interface: vethweb1\n"
					"    bridge: br0\n"
					"    addresses: [\"fd00::2\", 10.0.0.2]\n"
					"    labels: { app: web }\n";

START_TEST(test_empty_policy)
{
	char *text = compile_to_text("version: 1\n", NULL);
	char *fc4 = chain_text(text, "inet", "from_container4");

	ck_assert_ptr_nonnull(strstr(text, "table bridge netseg\ndelete table bridge netseg\n"));
	ck_assert_ptr_nonnull(strstr(text, "table inet netseg {"));
	ck_assert_ptr_nonnull(strstr(text, "table arp netseg {"));
	ck_assert_ptr_nonnull(fc4);
	/* Broadcast and multicast were judged per receiving port in the bridge table. */
	ck_assert_str_eq(fc4, "\t\tmeta pkttype broadcast accept\n"
			      "\t\tmeta pkttype multicast accept\n"
			      "\t\tip daddr @containers4 counter name d_c2c accept\n"
			      "\t\tcounter name d_c2w accept\n");
	ck_assert_ptr_null(strstr(text, "log_"));
	ck_assert_ptr_null(strstr(text, "set g_"));
	free(fc4);
	free(text);
}
END_TEST

START_TEST(test_rule_ir)
{
	struct policy *p;
	struct endpoint_set *e;
	struct ir_ruleset *rs =
	    compile_yaml("version: 1\n"
			 "groups: { web: { labels: { app: web } },"
			 " db: { labels: { app: db } } }\n"
			 "rules:\n"
			 "  - { name: w2d, from: web, to: db, ports: [tcp/5432] }\n",
			 EPS, &p, &e);
	struct ir_table *inet = ir_table_find(rs, IR_FAMILY_INET, "netseg");
	struct ir_chain *fc4 = ir_chain_find(inet, "from_container4");
	struct ir_set *out = ir_set_find(inet, "out_dispatch");
	const struct ir_rule *r;

	ck_assert_ptr_nonnull(fc4);
	ck_assert_uint_eq(fc4->n, 5); /* 2 flood accepts, the port dispatch, 2 defaults */
	r = &fc4->rules[2];
	ck_assert_uint_eq(r->n, 2); /* meta l4proto tcp th dport vmap @pd_from_container4_tcp */
	ck_assert_int_eq(r->stmts[0].match.keys[0], IR_KEY_L4PROTO);
	ck_assert_int_eq(r->stmts[0].match.value.data[0], 6);
	ck_assert_int_eq(r->stmts[1].match.op, IR_OP_VMAP);
	ck_assert_uint_eq(r->stmts[1].match.nkeys, 1);
	ck_assert_int_eq(r->stmts[1].match.keys[0], IR_KEY_TH_DPORT);
	ck_assert_str_eq(r->stmts[1].match.set, "pd_from_container4_tcp");
	/* No udp or sctp ports in the policy: no maps for them. */
	ck_assert_ptr_null(ir_set_find(inet, "pd_from_container4_udp"));
	ck_assert_ptr_null(ir_set_find(inet, "pd_from_container4_sctp"));

	/* The dispatch maps tcp/5432 to the segment chain holding the rule, port match gone;
	 * one key, so the kernel keeps the map in an rbtree, not in pipapo. */
	struct ir_set *pd = ir_set_find(inet, "pd_from_container4_tcp");

	ck_assert_ptr_nonnull(pd);
	ck_assert(pd->is_vmap && pd->interval);
	ck_assert_uint_eq(pd->ntypes, 1);
	ck_assert_uint_eq(pd->n, 1);
	ck_assert_mem_eq(pd->elems[0].key[0].data, ir_value_be16(5432).data, 2);
	ck_assert_mem_eq(pd->elems[0].key_end[0].data, ir_value_be16(5432).data, 2);
	ck_assert_int_eq(pd->elems[0].verdict.kind, IR_VERDICT_JUMP);
	ck_assert_str_eq(pd->elems[0].verdict.chain, "pp_from_container4_0");
	ck_assert_ptr_null(ir_set_find(inet, "p_w2d"));
	struct ir_chain *seg = ir_chain_find(inet, "pp_from_container4_0");

	ck_assert_ptr_nonnull(seg);
	ck_assert_uint_eq(seg->n, 1);
	r = &seg->rules[0];
	ck_assert_uint_eq(r->n, 4);
	ck_assert_int_eq(r->stmts[0].match.keys[0], IR_KEY_IP_SADDR);
	ck_assert_int_eq(r->stmts[0].match.op, IR_OP_LOOKUP);
	ck_assert_str_eq(r->stmts[0].match.set, "g_web4");
	ck_assert_int_eq(r->stmts[1].match.keys[0], IR_KEY_IP_DADDR);
	ck_assert_str_eq(r->stmts[1].match.set, "g_db4");
	ck_assert_int_eq(r->stmts[2].kind, IR_STMT_COUNTER);
	ck_assert_str_eq(r->stmts[2].counter, "r_w2d");
	ck_assert_int_eq(r->stmts[3].verdict.kind, IR_VERDICT_ACCEPT);

	/* to_bridge returns: a goto there would end the forward chain (see design.md). */
	ck_assert_ptr_nonnull(out);
	ck_assert(out->is_vmap);
	ck_assert_uint_eq(out->n, 1);
	ck_assert_int_eq(out->elems[0].verdict.kind, IR_VERDICT_JUMP);
	ck_assert_str_eq(out->elems[0].verdict.chain, "to_bridge");

	/* The bridge judges broadcast between containers by port: same rule, port sets. */
	struct ir_table *br = ir_table_find(rs, IR_FAMILY_BRIDGE, "netseg");
	struct ir_chain *fl4 = ir_chain_find(br, "flood4");

	ck_assert_ptr_nonnull(fl4);
	ck_assert_uint_eq(fl4->n, 2); /* the port dispatch, the default */
	ck_assert_str_eq(fl4->rules[0].stmts[1].match.set, "pd_flood4_tcp");
	ck_assert_ptr_nonnull(ir_set_find(br, "pd_flood4_tcp"));
	r = &ir_chain_find(br, "pp_flood4_0")->rules[0];
	ck_assert_int_eq(r->stmts[0].match.keys[0], IR_KEY_IIFNAME);
	ck_assert_str_eq(r->stmts[0].match.set, "gp_web");
	ck_assert_int_eq(r->stmts[1].match.keys[0], IR_KEY_OIFNAME);
	ck_assert_str_eq(r->stmts[1].match.set, "gp_db");
	ck_assert_uint_eq(ir_set_find(br, "gp_web")->n, 1);
	ck_assert_uint_eq(ir_set_find(br, "gp_db")->n, 1);

	/* Group sets hold exactly the members' addresses of that family. */
	ck_assert_uint_eq(ir_set_find(inet, "g_web4")->n, 1);
	ck_assert_uint_eq(ir_set_find(inet, "g_web6")->n, 1);
	ck_assert_uint_eq(ir_set_find(inet, "g_db6")->n, 0);
	ir_ruleset_free(rs);
	policy_free(p);
	endpoint_set_free(e);
}
END_TEST

START_TEST(test_deny_before_allow)
{
	char *text =
	    compile_to_text("version: 1\n"
			    "groups: { web: { labels: { app: web } } }\n"
			    "rules:\n"
			    "  - { name: a-allow, from: web, to: world }\n"
			    "  - { name: b-deny, from: web, to: world, action: deny,"
			    " ports: [tcp/25] }\n"
			    "  - { name: c-allow, from: web, to: world, ports: [\"tcp/1-100\"] }\n"
			    "  - { name: d-deny, from: web, to: world, action: deny }\n",
			    EPS);
	char *fc4 = chain_text(text, "inet", "from_container4");
	char *seg = chain_text(text, "inet", "pp_from_container4_1");	/* tcp/25 */
	char *other = chain_text(text, "inet", "pp_from_container4_0"); /* tcp/1-24 */

	ck_assert_ptr_nonnull(fc4);
	ck_assert_ptr_nonnull(seg);
	ck_assert_ptr_nonnull(other);
	/* Denies without ports, the port dispatch, allows without ports, defaults. */
	char *deny = strstr(fc4, "r_d-deny goto log_d-deny"),
	     *vmap = strstr(fc4, "meta l4proto tcp th dport vmap @pd_from_container4_tcp"),
	     *allow = strstr(fc4, "r_a-allow accept");

	ck_assert_ptr_nonnull(deny);
	ck_assert_ptr_nonnull(vmap);
	ck_assert_ptr_nonnull(allow);
	ck_assert(deny < vmap && vmap < allow);
	ck_assert(allow < strstr(fc4, "d_c2c"));
	/* In the segment of port 25: the deny before the allow that also covers it. */
	ck_assert_ptr_nonnull(strstr(seg, "r_b-deny goto log_b-deny"));
	ck_assert(strstr(seg, "r_b-deny") < strstr(seg, "r_c-allow accept"));
	ck_assert_ptr_null(strstr(other, "r_b-deny"));
	ck_assert_ptr_nonnull(strstr(other, "r_c-allow accept"));
	ck_assert_ptr_nonnull(strstr(text, "1-24 : jump pp_from_container4_0"));
	ck_assert_ptr_nonnull(strstr(text, "25 : jump pp_from_container4_1"));
	ck_assert_ptr_nonnull(strstr(text, "26-100 : jump pp_from_container4_0"));
	free(other);
	free(seg);
	free(fc4);
	free(text);
}
END_TEST

START_TEST(test_deterministic)
{
	const char *pol = "version: 1\n"
			  "groups: { web: { labels: { app: web } } }\n"
			  "rules:\n"
			  "  - { name: r, from: web, to: { labels: { app: db } } }\n";
	char *a = compile_to_text(pol, EPS);
	char *b = compile_to_text(pol, EPS_REVERSED);
	char *c = compile_to_text(pol, EPS);

	ck_assert_str_eq(a, b);
	ck_assert_str_eq(a, c);
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(test_icmp_families)
{
	char *text =
	    compile_to_text("version: 1\n"
			    "rules:\n"
			    "  - { name: p4, from: containers, to: containers, ports: [icmp] }\n"
			    "  - { name: p6, from: containers, to: containers,"
			    " ports: [icmpv6] }\n",
			    EPS);
	char *fc4 = chain_text(text, "inet", "from_container4");
	char *fc6 = chain_text(text, "inet", "from_container6");

	ck_assert_ptr_nonnull(strstr(fc4, "meta l4proto icmp counter name r_p4"));
	ck_assert_ptr_null(strstr(fc4, "r_p6"));
	ck_assert_ptr_nonnull(strstr(fc6, "meta l4proto ipv6-icmp counter name r_p6"));
	ck_assert_ptr_null(strstr(fc6, "r_p4"));
	free(fc4);
	free(fc6);
	free(text);
}
END_TEST

START_TEST(test_no_lines_no_objects)
{
	/* from: host never compiles to a line: no log chain, no match set is left behind. */
	char *text = compile_to_text("version: 1\n"
				     "rules:\n"
				     "  - { name: h, from: host, to: { labels: { app: web } },"
				     " log: true, ports: [tcp/1, tcp/2] }\n",
				     EPS);

	ck_assert_ptr_null(strstr(text, "log_h"));
	ck_assert_ptr_null(strstr(text, "m_h_"));
	ck_assert_ptr_null(strstr(text, "p_h"));
	ck_assert_ptr_nonnull(strstr(text, "counter r_h {"));
	free(text);
}
END_TEST

START_TEST(test_logging)
{
	char *text = compile_to_text("version: 1\n"
				     "defaults: { container_to_world: deny, log: deny }\n"
				     "rules:\n"
				     "  - { name: x, from: containers, to: world, ports: [tcp/443],"
				     " log: true }\n",
				     EPS);
	char *lx = chain_text(text, "inet", "log_x");
	char *ld = chain_text(text, "inet", "log_d_c2w");

	ck_assert_ptr_nonnull(lx);
	/* Beyond the limit: counted as suppressed, same verdict, no log line. */
	ck_assert_str_eq(lx, "\t\tlimit rate over 10/second burst 20 packets counter name s_r_x "
			     "accept\n"
			     "\t\tlog prefix \"netseg r_x accept: \" group 1650\n\t\taccept\n");
	ck_assert_ptr_nonnull(ld);
	ck_assert_ptr_nonnull(strstr(ld, "counter name s_d_c2w drop\n"));
	ck_assert_ptr_nonnull(strstr(ld, "\t\tdrop\n"));
	ck_assert_ptr_nonnull(strstr(text, "counter s_r_x {"));
	ck_assert_ptr_nonnull(strstr(text, "counter s_d_c2w {"));
	ck_assert_ptr_null(strstr(text, "counter s_d_c2c {"));
	ck_assert_ptr_nonnull(strstr(text, "counter name d_c2w goto log_d_c2w"));
	ck_assert_ptr_null(strstr(text, "log_d_c2c")); /* allow default, log: deny */
	free(lx);
	free(ld);
	free(text);
}
END_TEST

static struct policy_cidr cidr(const char *s, int prefix)
{
	struct policy_cidr c = {0};

	c.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	ck_assert_int_eq(inet_pton(c.family, s, c.addr), 1);
	c.prefix = (uint8_t)prefix;
	return c;
}

static void ck_interval(const struct ir_elem *e, const char *lo, const char *hi)
{
	char a[64], b[64];

	inet_ntop(e->key[0].len == 16 ? AF_INET6 : AF_INET, e->key[0].data, a, sizeof(a));
	inet_ntop(e->key[0].len == 16 ? AF_INET6 : AF_INET, e->key_end[0].data, b, sizeof(b));
	ck_assert_str_eq(a, lo);
	ck_assert_str_eq(b, hi);
}

START_TEST(test_cidr_except)
{
	struct ir_set s = {.types = {IR_TYPE_IPV4}, .ntypes = 1, .interval = true};
	struct policy_cidr in[] = {cidr("0.0.0.0", 0)};
	struct policy_cidr ex[] = {cidr("0.0.0.0", 8), cidr("255.255.255.255", 32),
				   cidr("10.0.0.0", 8), cidr("fd00::", 8)};

	ck_assert_int_eq(compile_cidr_fill(&s, COMPILE_V4, in, 1, ex, 4), 0);
	ck_assert_uint_eq(s.n, 2);
	ck_interval(&s.elems[0], "1.0.0.0", "9.255.255.255");
	ck_interval(&s.elems[1], "11.0.0.0", "255.255.255.254");
	free(s.elems);

	/* Everything excepted: nothing left. */
	struct ir_set t = {.types = {IR_TYPE_IPV4}, .ntypes = 1, .interval = true};
	struct policy_cidr in2[] = {cidr("10.1.0.0", 24), cidr("10.1.0.0", 25)};
	struct policy_cidr ex2[] = {cidr("10.1.0.0", 25), cidr("10.1.0.128", 25)};

	ck_assert_int_eq(compile_cidr_fill(&t, COMPILE_V4, in2, 2, ex2, 2), 0);
	ck_assert_uint_eq(t.n, 0);
	free(t.elems);

	/* IPv6, with a hole in the middle and at the edge. */
	struct ir_set u = {.types = {IR_TYPE_IPV6}, .ntypes = 1, .interval = true};
	struct policy_cidr in3[] = {cidr("2001:db8::", 32), cidr("10.0.0.0", 8)};
	struct policy_cidr ex3[] = {cidr("2001:db8:1::", 48), cidr("2001:db8::", 48)};

	ck_assert_int_eq(compile_cidr_fill(&u, COMPILE_V6, in3, 2, ex3, 2), 0);
	ck_assert_uint_eq(u.n, 1);
	ck_interval(&u.elems[0], "2001:db8:2::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
	free(u.elems);
}
END_TEST

/* The label index must select exactly what a full scan with endpoint_matches() selects. */
START_TEST(test_members_index)
{
	struct endpoint_set *eps = endpoint_set_new();
	struct compile_members *idx = NULL;
	static const char *const keys[] = {"app", "tier", "env"};
	static const char *const vals[] = {"a", "b", "c", "d"};
	unsigned seed = 12345;

	for (size_t i = 0; i < 300; i++) {
		struct endpoint e = {0};

		if (eps->n == eps->cap) {
			eps->cap = eps->cap ? eps->cap * 2 : 16;
			eps->items = realloc(eps->items, eps->cap * sizeof(*eps->items));
		}
		e.nlabels = (seed = seed * 1103515245 + 12345) % 4;
		e.labels = calloc(e.nlabels + 1, sizeof(*e.labels));
		for (size_t j = 0; j < e.nlabels; j++) {
			e.labels[j].key = strdup(keys[j]);
			e.labels[j].value =
			    strdup(vals[(seed = seed * 1103515245 + 12345) >> 16 & 3]);
		}
		ck_assert_int_gt(asprintf(&e.name, "ep-%zu", i), 0);
		ck_assert_int_gt(asprintf(&e.interface, "veth%zu", i), 0);
		eps->items[eps->n++] = e;
	}
	ck_assert_int_eq(compile_members_new(eps, &idx), 0);
	for (size_t q = 0; q < 64; q++) {
		struct policy_label labels[3];
		struct policy_match m = {.labels = labels, .nlabels = q % 3};
		const size_t *ids;
		size_t n, k = 0;

		for (size_t j = 0; j < m.nlabels; j++) {
			labels[j].key = (char *)keys[(q + j) % 3];
			labels[j].value = (char *)vals[(q >> 2) % 4];
		}
		if (q % 7 == 0)
			m.name_glob = (char *)"ep-1*";
		ck_assert_int_eq(compile_members_query(idx, &m, &ids, &n), 0);
		for (size_t i = 0; i < eps->n; i++) {
			if (!endpoint_matches(&eps->items[i], &m))
				continue;
			ck_assert_uint_lt(k, n);
			ck_assert_uint_eq(ids[k], i);
			k++;
		}
		ck_assert_uint_eq(k, n);
	}
	compile_members_free(idx);
	endpoint_set_free(eps);
}
END_TEST

START_TEST(test_emit_values)
{
	char buf[64];
	uint8_t a4[4] = {10, 1, 2, 0};
	struct ir_value v;

	v = ir_value_ifname("eth0");
	ck_assert_int_eq(emit_nft_value(IR_KEY_IIFNAME, &v, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "\"eth0\"");
	v = ir_value_addr(AF_INET, a4, 8);
	ck_assert_int_eq(emit_nft_value(IR_KEY_IP_SADDR, &v, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "10.0.0.0/8");
	v = ir_value_addr(AF_INET, a4, 32);
	ck_assert_int_eq(emit_nft_value(IR_KEY_IP_DADDR, &v, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "10.1.2.0");
	v = ir_value_u8(6);
	ck_assert_int_eq(emit_nft_value(IR_KEY_L4PROTO, &v, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "tcp");
	v = ir_value_u8(47);
	ck_assert_int_eq(emit_nft_value(IR_KEY_L4PROTO, &v, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "47");
	v = ir_value_u32_host(6);
	ck_assert_int_eq(emit_nft_value(IR_KEY_CT_STATE, &v, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "established,related");
	v = ir_value_be16(0x86dd);
	ck_assert_int_eq(emit_nft_value(IR_KEY_ETHER_TYPE, &v, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "ip6");
	v = ir_value_u8(135);
	ck_assert_int_eq(emit_nft_value(IR_KEY_ICMPV6_TYPE, &v, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "nd-neighbor-solicit");
	v = ir_value_u32_host(0x02000000);
	ck_assert_int_eq(emit_nft_value(IR_KEY_MARK, &v, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "0x02000000");
	/* Text nft cannot read back unchanged is refused, not printed. */
	v = ir_value_ifname("a\"b");
	ck_assert_int_eq(emit_nft_value(IR_KEY_IIFNAME, &v, buf, sizeof(buf)), -EINVAL);
	v = ir_value_ifname("eth0");
	ck_assert_int_eq(emit_nft_value(IR_KEY_IIFNAME, &v, buf, 4), -ENOSPC);
}
END_TEST

START_TEST(test_emit_set_forms)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *t = ir_table_add(rs, IR_FAMILY_INET, "x");
	enum ir_type ty = IR_TYPE_IPV4;
	struct ir_set *s = ir_set_add(rs, t, "s", &ty, 1, true);
	uint8_t lo[4] = {10, 0, 0, 0}, hi[4] = {10, 0, 0, 255}, h2[4] = {10, 0, 1, 6};
	struct ir_elem e = {0};
	struct ir_chain *c = ir_chain_add(rs, t, "c");
	struct ir_rule *r;
	struct ir_stmt st[3] = {
	    {.kind = IR_STMT_MATCH,
	     .match = {.keys = {IR_KEY_CT_STATE},
		       .nkeys = 1,
		       .op = IR_OP_BITS_ZERO,
		       .value = ir_value_u32_host(6)}},
	    {.kind = IR_STMT_MATCH,
	     .match = {.keys = {IR_KEY_TH_DPORT},
		       .nkeys = 1,
		       .op = IR_OP_RANGE,
		       .value = ir_value_be16(1),
		       .value_end = ir_value_be16(1023)}},
	    {.kind = IR_STMT_VERDICT, .verdict = {IR_VERDICT_RETURN, NULL}},
	};
	char *text;

	e.key[0] = ir_value_addr(AF_INET, lo, 32);
	e.key_end[0] = ir_value_addr(AF_INET, hi, 32);
	ir_elem_add(s, &e);
	e.key[0] = ir_value_addr(AF_INET, (uint8_t[4]){10, 0, 1, 1}, 32);
	e.key_end[0] = ir_value_addr(AF_INET, h2, 32);
	ir_elem_add(s, &e);
	r = ir_rule_add(c);
	for (int i = 0; i < 3; i++)
		ir_rule_push(r, &st[i]);
	ir_ruleset_normalize(rs);
	text = emit_text(rs);
	ck_assert_str_eq(text, "table inet x\ndelete table inet x\ntable inet x {\n"
			       "\tset s {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
			       "\t\telements = { 10.0.0.0/24,\n"
			       "\t\t\t     10.0.1.1-10.0.1.6 }\n\t}\n\n"
			       "\tchain c {\n"
			       "\t\tct state & 0x00000006 == 0x00000000 th dport 1-1023 return\n"
			       "\t}\n}\n");
	free(text);
	ir_ruleset_free(rs);
}
END_TEST

/* fqdn: a learned set per rule and family, and the DNS replies of the resolvers to the
 * containers the rules' from may select queued (established only, bypass). */
START_TEST(test_fqdn_snoop)
{
	char *text = compile_to_text("version: 1\n"
				     "dns: {resolvers: [10.0.0.53]}\n"
				     "groups: {ci: {labels: {role: ci}}}\n"
				     "rules:\n"
				     "  - name: reg\n"
				     "    from: ci\n"
				     "    to: {fqdn: [registry.example.com]}\n"
				     "    ports: [tcp/443]\n",
				     NULL);
	char *snoop = chain_text(text, "inet", "dns_snoop");
	char *fwd = chain_text(text, "inet", "forward");

	ck_assert_ptr_nonnull(strstr(text, "set f_reg_to_04 {\n\t\ttype ipv4_addr\n\t\tflags "
					   "timeout\n"));
	ck_assert_ptr_nonnull(strstr(text, "set f_reg_to_06 {"));
	ck_assert_ptr_nonnull(snoop);
	ck_assert_str_eq(snoop,
			 "\t\tip saddr @dns_resolvers4 ip daddr @g_ci4 meta l4proto udp th sport "
			 "53 ct state established queue flags bypass to 1650\n"
			 "\t\tip saddr @dns_resolvers4 ip daddr @g_ci4 meta l4proto tcp th sport "
			 "53 ct state established queue flags bypass to 1650\n");
	/* before the established accept: the replies are established */
	ck_assert_ptr_nonnull(fwd);
	ck_assert_ptr_nonnull(strstr(fwd, "jump dns_snoop\n\t\tct state established,related "
					  "accept"));
	free(snoop);
	free(fwd);
	free(text);
	/* No resolver of a family, no line for it; no fqdn rule, no chain. */
	text = compile_to_text("version: 1\nrules: []\n", NULL);
	ck_assert_ptr_null(strstr(text, "dns_snoop"));
	free(text);
}
END_TEST

static Suite *compile_suite(void)
{
	Suite *s = suite_create("compile");
	TCase *tc = tcase_create("compile");
	TCase *te = tcase_create("emit");

	tcase_add_test(tc, test_empty_policy);
	tcase_add_test(tc, test_fqdn_snoop);
	tcase_add_test(tc, test_rule_ir);
	tcase_add_test(tc, test_deny_before_allow);
	tcase_add_test(tc, test_deterministic);
	tcase_add_test(tc, test_icmp_families);
	tcase_add_test(tc, test_no_lines_no_objects);
	tcase_add_test(tc, test_logging);
	tcase_add_test(tc, test_cidr_except);
	tcase_add_test(tc, test_members_index);
	tcase_add_test(te, test_emit_values);
	tcase_add_test(te, test_emit_set_forms);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, te);
	return s;
}

int main(void)
{
	return tu_run(compile_suite());
}
