/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ruleset IR: builders, ownership, values and set normalization. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ir.h"
#include "testutil.h"

static struct ir_value v4(const char *s, int prefix)
{
	uint8_t a[4];

	ck_assert_int_eq(inet_pton(AF_INET, s, a), 1);
	return ir_value_addr(AF_INET, a, prefix);
}

static struct ir_value v6(const char *s, int prefix)
{
	uint8_t a[16];

	ck_assert_int_eq(inet_pton(AF_INET6, s, a), 1);
	return ir_value_addr(AF_INET6, a, prefix);
}

static struct ir_elem range4(const char *lo, const char *hi)
{
	struct ir_elem e = {0};

	e.key[0] = v4(lo, 32);
	e.key_end[0] = v4(hi, 32);
	return e;
}

static void ck_v4(const struct ir_value *v, const char *s)
{
	struct ir_value w = v4(s, 32);

	ck_assert_int_eq(v->len, 4);
	ck_assert_mem_eq(v->data, w.data, 4);
}

START_TEST(test_build_and_free)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	enum ir_type t[] = {IR_TYPE_IFNAME, IR_TYPE_IPV4};
	struct ir_table *tb;
	struct ir_set *s;
	struct ir_chain *c;
	struct ir_rule *r;
	struct ir_stmt st = {.kind = IR_STMT_VERDICT, .verdict = {.kind = IR_VERDICT_DROP}};
	char name[32];

	ck_assert_ptr_nonnull(rs);
	tb = ir_table_add(rs, IR_FAMILY_INET, "netseg");
	ck_assert_ptr_nonnull(tb);
	ck_assert_ptr_eq(ir_table_find(rs, IR_FAMILY_INET, "netseg"), tb);
	ck_assert_ptr_null(ir_table_find(rs, IR_FAMILY_BRIDGE, "netseg"));
	ck_assert_int_eq(ir_counter_add(rs, tb, "r_x"), 0);
	ck_assert_str_eq(tb->counters[0], "r_x");

	s = ir_set_add(rs, tb, "port_addrs4", t, 2, false);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->ntypes, 2);
	ck_assert_ptr_eq(ir_set_find(tb, "port_addrs4"), s);
	ck_assert_ptr_null(ir_set_find(tb, "nope"));

	/* Many chains, rules and statements: exercises every growth path. */
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		c = ir_chain_add(rs, tb, name);
		ck_assert_ptr_nonnull(c);
		for (int j = 0; j < 20; j++) {
			r = ir_rule_add(c);
			ck_assert_ptr_nonnull(r);
			for (int k = 0; k < 10; k++)
				ck_assert_int_eq(ir_rule_push(r, &st), 0);
		}
	}
	c = ir_chain_find(tb, "c42");
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->name, "c42");
	ck_assert_uint_eq(c->n, 20);
	ck_assert_uint_eq(c->rules[19].n, 10);
	ck_assert_ptr_null(ir_set_add(rs, tb, "bad", t, 0, false));
	ir_ruleset_free(rs);
	ir_ruleset_free(NULL);
}
END_TEST

START_TEST(test_values)
{
	struct ir_value v;

	v = ir_value_ifname("veth0");
	ck_assert_int_eq(v.len, 16);
	ck_assert_str_eq((const char *)v.data, "veth0");
	ck_assert_int_eq(v.data[15], 0);
	v = ir_value_ifname("0123456789abcdefXYZ"); /* truncated, always NUL terminated */
	ck_assert_int_eq(v.data[15], 0);
	ck_assert_int_eq(v.data[14], 'e');

	v = ir_value_be16(5432);
	ck_assert_int_eq(v.len, 2);
	ck_assert_int_eq(v.data[0], 0x15);
	ck_assert_int_eq(v.data[1], 0x38);

	v = ir_value_u32_host(0x02000000);
	ck_assert_int_eq(v.len, 4);
	ck_assert_mem_eq(v.data, &(uint32_t){0x02000000}, 4);

	v = ir_value_u8(6);
	ck_assert_int_eq(v.len, 1);
	ck_assert_int_eq(v.data[0], 6);

	v = v4("10.1.2.3", 8); /* host bits are cleared */
	ck_assert_int_eq(v.prefix, 8);
	ck_v4(&v, "10.0.0.0");
	v = v4("10.1.2.3", 33);
	ck_assert_int_eq(v.prefix, 32);
	v = v6("fe80::1", 10);
	ck_assert_int_eq(v.len, 16);
	ck_assert_int_eq(v.data[0], 0xfe);
	ck_assert_int_eq(v.data[1], 0x80);
	ck_assert_int_eq(v.data[15], 0);
	v = v6("fe80::1", 11);
	ck_assert_int_eq(v.data[1], 0x80);

	ck_assert_int_eq(ir_key_len(IR_KEY_IIFNAME), 16);
	ck_assert_int_eq(ir_key_len(IR_KEY_IP6_DADDR), 16);
	ck_assert_int_eq(ir_key_len(IR_KEY_TH_DPORT), 2);
	ck_assert_int_eq(ir_key_len(IR_KEY_CT_STATE), 4);
	ck_assert_int_eq(ir_key_len(IR_KEY_L4PROTO), 1);
	ck_assert_int_eq(ir_type_of_key(IR_KEY_ARP_SADDR_IP), IR_TYPE_IPV4);
	ck_assert_int_eq(ir_type_of_key(IR_KEY_OIFNAME), IR_TYPE_IFNAME);
	ck_assert_int_eq(ir_type_of_key(IR_KEY_TH_DPORT), IR_TYPE_INET_SERVICE);
	ck_assert_int_eq(ir_type_len(IR_TYPE_INET_SERVICE), 2);
	ck_assert_int_eq(ir_type_len(IR_TYPE_IPV6), 16);
}
END_TEST

START_TEST(test_normalize_plain)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *tb = ir_table_add(rs, IR_FAMILY_INET, "t");
	enum ir_type t = IR_TYPE_IPV4;
	struct ir_set *s = ir_set_add(rs, tb, "s", &t, 1, false);
	const char *in[] = {"10.0.0.3",	     "10.0.0.1", "10.0.0.3",
			    "9.255.255.255", "10.0.0.2", "10.0.0.1"};
	struct ir_elem e = {0};

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		e.key[0] = v4(in[i], 32);
		ck_assert_int_eq(ir_elem_add(s, &e), 0);
	}
	ir_set_normalize(s);
	ck_assert_uint_eq(s->n, 4);
	ck_v4(&s->elems[0].key[0], "9.255.255.255");
	ck_v4(&s->elems[1].key[0], "10.0.0.1");
	ck_v4(&s->elems[2].key[0], "10.0.0.2");
	ck_v4(&s->elems[3].key[0], "10.0.0.3");
	ir_set_normalize(s); /* idempotent */
	ck_assert_uint_eq(s->n, 4);
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(test_normalize_interval)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *tb = ir_table_add(rs, IR_FAMILY_INET, "t");
	enum ir_type t = IR_TYPE_IPV4;
	struct ir_set *s = ir_set_add(rs, tb, "s", &t, 1, true);
	struct ir_elem e;

	/* [10.0.0.0-10.0.0.6] + [10.0.0.7] touch; [10.0.0.5-10.0.0.9] overlaps; 10.0.1.0 apart;
	 * [255.255.255.0-255.255.255.255] exercises the no-successor edge. */
	e = range4("10.0.0.7", "10.0.0.7");
	ir_elem_add(s, &e);
	e = range4("10.0.1.0", "10.0.1.0");
	ir_elem_add(s, &e);
	e = range4("10.0.0.0", "10.0.0.6");
	ir_elem_add(s, &e);
	e = range4("10.0.0.5", "10.0.0.9");
	ir_elem_add(s, &e);
	e = range4("255.255.255.0", "255.255.255.255");
	ir_elem_add(s, &e);
	e = range4("255.255.255.128", "255.255.255.129");
	ir_elem_add(s, &e);
	/* key_end left empty means a single value */
	memset(&e, 0, sizeof(e));
	e.key[0] = v4("10.0.0.10", 32);
	ir_elem_add(s, &e);

	ir_set_normalize(s);
	ck_assert_uint_eq(s->n, 3);
	ck_v4(&s->elems[0].key[0], "10.0.0.0");
	ck_v4(&s->elems[0].key_end[0], "10.0.0.10");
	ck_v4(&s->elems[1].key[0], "10.0.1.0");
	ck_v4(&s->elems[1].key_end[0], "10.0.1.0");
	ck_v4(&s->elems[2].key[0], "255.255.255.0");
	ck_v4(&s->elems[2].key_end[0], "255.255.255.255");
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(test_normalize_concat_interval)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *tb = ir_table_add(rs, IR_FAMILY_INET, "t");
	enum ir_type t[] = {IR_TYPE_INET_PROTO, IR_TYPE_INET_SERVICE};
	struct ir_set *s = ir_set_add(rs, tb, "p", t, 2, true);
	struct ir_elem e;
	struct {
		uint8_t proto;
		uint16_t lo, hi;
	} in[] = {{17, 53, 53}, {6, 8000, 8100}, {6, 443, 443}, {6, 8050, 9000},
		  {17, 54, 60}, {6, 444, 444},	 {6, 442, 442}, {132, 9, 9}};

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		memset(&e, 0, sizeof(e));
		e.key[0] = ir_value_u8(in[i].proto);
		e.key[1] = ir_value_be16(in[i].lo);
		e.key_end[1] = ir_value_be16(in[i].hi);
		ir_elem_add(s, &e);
	}
	ir_set_normalize(s);
	/* tcp . 442-444, tcp . 8000-9000, udp . 53-60, sctp . 9: protocols never merge. */
	ck_assert_uint_eq(s->n, 4);
	ck_assert_int_eq(s->elems[0].key[0].data[0], 6);
	ck_assert_mem_eq(s->elems[0].key[1].data, ir_value_be16(442).data, 2);
	ck_assert_mem_eq(s->elems[0].key_end[1].data, ir_value_be16(444).data, 2);
	ck_assert_mem_eq(s->elems[0].key_end[0].data, s->elems[0].key[0].data, 1);
	ck_assert_mem_eq(s->elems[1].key[1].data, ir_value_be16(8000).data, 2);
	ck_assert_mem_eq(s->elems[1].key_end[1].data, ir_value_be16(9000).data, 2);
	ck_assert_int_eq(s->elems[2].key[0].data[0], 17);
	ck_assert_mem_eq(s->elems[2].key[1].data, ir_value_be16(53).data, 2);
	ck_assert_mem_eq(s->elems[2].key_end[1].data, ir_value_be16(60).data, 2);
	ck_assert_int_eq(s->elems[3].key[0].data[0], 132);
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(test_normalize_vmap)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *tb = ir_table_add(rs, IR_FAMILY_INET, "t");
	enum ir_type t = IR_TYPE_IFNAME;
	struct ir_set *s = ir_set_add(rs, tb, "d", &t, 1, false);
	const char *fb = ir_strdup(rs, "from_bridge"), *fp = ir_strdup(rs, "from_port");
	struct ir_elem e = {0};

	s->is_vmap = true;
	e.key[0] = ir_value_ifname("vethb");
	e.verdict = (struct ir_verdict){IR_VERDICT_GOTO, fp};
	ir_elem_add(s, &e);
	e.key[0] = ir_value_ifname("br0");
	e.verdict = (struct ir_verdict){IR_VERDICT_GOTO, fb};
	ir_elem_add(s, &e);
	e.key[0] = ir_value_ifname("vetha");
	e.verdict = (struct ir_verdict){IR_VERDICT_GOTO, fp};
	ir_elem_add(s, &e);
	ir_elem_add(s, &e);
	ir_set_normalize(s);
	ck_assert_uint_eq(s->n, 3);
	ck_assert_str_eq((const char *)s->elems[0].key[0].data, "br0");
	ck_assert_str_eq(s->elems[0].verdict.chain, "from_bridge");
	ck_assert_str_eq((const char *)s->elems[1].key[0].data, "vetha");
	ck_assert_str_eq((const char *)s->elems[2].key[0].data, "vethb");
	ck_assert_str_eq(s->elems[2].verdict.chain, "from_port");
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(test_normalize_ipv6_interval)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *tb = ir_table_add(rs, IR_FAMILY_INET, "t");
	enum ir_type t = IR_TYPE_IPV6;
	struct ir_set *s = ir_set_add(rs, tb, "s", &t, 1, true);
	struct ir_elem e = {0};

	e.key[0] = v6("fd00::", 128);
	e.key_end[0] = v6("fd00::ffff:ffff", 128);
	ir_elem_add(s, &e);
	e.key[0] = v6("fd00::1:0:0", 128);
	e.key_end[0] = v6("fd00::1:0:0", 128);
	ir_elem_add(s, &e);
	ir_set_normalize(s);
	ck_assert_uint_eq(s->n, 1);
	ck_assert_mem_eq(s->elems[0].key_end[0].data, v6("fd00::1:0:0", 128).data, 16);
	ir_ruleset_free(rs);
}
END_TEST

static Suite *ir_suite(void)
{
	Suite *s = suite_create("ir");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_build_and_free);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_normalize_plain);
	tcase_add_test(tc, test_normalize_interval);
	tcase_add_test(tc, test_normalize_concat_interval);
	tcase_add_test(tc, test_normalize_vmap);
	tcase_add_test(tc, test_normalize_ipv6_interval);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(ir_suite());
}
