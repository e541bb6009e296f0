/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nft_batch_apply / nft_batch_flush against the kernel, each test in its own network
 * namespace: replacement, all-or-nothing failure with the error mapped to its object, flush
 * touching only our tables, and a 10,000-element apply.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "brnf.h"
#include "ir.h"
#include "link.h"
#include "nft_batch.h"
#include "testutil.h"

#include "nft_testlib.h"

static const enum ir_type T_V4[] = {IR_TYPE_IPV4};
static const enum ir_type T_IF[] = {IR_TYPE_IFNAME};

/* inet netseg: set "allowed" with ADDRS, a forward chain using it, optionally a bad jump. */
static struct ir_ruleset *ruleset(const char *const *addrs, size_t n, const char *jump_to)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *t, *b;
	struct ir_set *s;
	struct ir_chain *c;

	ck_assert_ptr_nonnull(rs);
	t = ir_table_add(rs, IR_FAMILY_INET, "netseg");
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(ir_counter_add(rs, t, "r_allowed"), 0);
	s = ir_set_add(rs, t, "allowed", T_V4, 1, false);
	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++)
		nt_elem1(s, nt_v4(addrs[i], 32));
	c = nt_base_chain(rs, t, "forward", IR_HOOK_FORWARD, -10);
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "allowed", NT_KEYS(IR_KEY_IP_SADDR)),
		nt_counter("r_allowed"), nt_verdict(IR_VERDICT_ACCEPT, NULL));
	if (jump_to)
		NT_RULE(c, nt_verdict(IR_VERDICT_JUMP, jump_to));
	NT_RULE(c, nt_verdict(IR_VERDICT_DROP, NULL));

	b = ir_table_add(rs, IR_FAMILY_BRIDGE, "netseg");
	ck_assert_ptr_nonnull(b);
	s = ir_set_add(rs, b, "ports", T_IF, 1, false);
	ck_assert_ptr_nonnull(s);
	nt_elem1(s, ir_value_ifname("veth0"));
	c = nt_base_chain(rs, b, "forward", IR_HOOK_FORWARD, -300);
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "ports", NT_KEYS(IR_KEY_IIFNAME)),
		nt_verdict(IR_VERDICT_DROP, NULL));
	ir_ruleset_normalize(rs);
	return rs;
}

static char *listing(const char *what)
{
	char cmd[256];
	int st;
	char *s;

	snprintf(cmd, sizeof(cmd), "nft list %s 2>&1", what);
	s = nt_capture(cmd, &st);
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(st == 0, "nft list %s: %s", what, s);
	return s;
}

START_TEST(test_apply_then_replace)
{
	static const char *const a[] = {"10.0.0.1", "10.0.0.2"};
	static const char *const b[] = {"10.0.0.3"};
	struct ir_ruleset *rs1, *rs2;
	char *s;

	nt_fresh_netns(false);
	rs1 = ruleset(a, 2, NULL);
	rs2 = ruleset(b, 1, "allowed_chain_that_exists");
	/* The jump target must exist for the replacement to be valid. */
	ck_assert_ptr_nonnull(ir_chain_add(rs2, rs2->tables[0], "allowed_chain_that_exists"));
	nt_apply_ok(rs1);
	s = listing("set inet netseg allowed");
	ck_assert_ptr_nonnull(strstr(s, "10.0.0.1"));
	free(s);
	nt_apply_ok(rs2);
	s = listing("table inet netseg");
	ck_assert_msg(strstr(s, "10.0.0.3") && !strstr(s, "10.0.0.1"), "not replaced:\n%s", s);
	ck_assert_ptr_nonnull(strstr(s, "jump allowed_chain_that_exists"));
	free(s);
	/* Applying the same ruleset again is a no-op replacement, not an error. */
	nt_apply_ok(rs2);
	ir_ruleset_free(rs1);
	ir_ruleset_free(rs2);
}
END_TEST

START_TEST(test_failed_apply_keeps_state)
{
	static const char *const a[] = {"10.0.0.1"};
	static const char *const b[] = {"10.9.9.9"};
	struct ir_ruleset *good = ruleset(a, 1, NULL), *bad = ruleset(b, 1, "no_such_chain");
	struct nft_batch_error err = {0};
	char *before, *after;
	int r;

	nt_fresh_netns(false);
	nt_apply_ok(good);
	before = nt_ruleset_text();
	ck_assert_ptr_nonnull(before);
	r = nft_batch_apply(bad, &err);
	printf("failed apply: %s\n", err.message);
	ck_assert_int_lt(r, 0);
	ck_assert_int_eq(r, err.err);
	ck_assert_msg(strstr(err.message, "rule 2 of chain forward in table inet netseg"),
		      "error does not name the rule: %s", err.message);
	ck_assert_msg(strstr(err.message, strerror(-r)), "no reason in: %s", err.message);
	after = nt_ruleset_text();
	ck_assert_ptr_nonnull(after);
	ck_assert_msg(strcmp(before, after) == 0, "ruleset changed:\n%s\n---\n%s", before, after);
	ck_assert_ptr_null(strstr(after, "10.9.9.9"));
	free(before);
	free(after);
	ir_ruleset_free(good);
	ir_ruleset_free(bad);
}
END_TEST

START_TEST(test_encode_error_names_object)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct nft_batch_error err = {0};
	struct ir_table *t;
	struct ir_chain *c;
	char *text;
	int r;

	nt_fresh_netns(false);
	ck_assert_ptr_nonnull(rs);
	t = ir_table_add(rs, IR_FAMILY_ARP, "netseg");
	ck_assert_ptr_nonnull(t);
	c = nt_base_chain(rs, t, "input", IR_HOOK_INPUT, 0);
	/* ip saddr means nothing in an arp table: refused before anything is sent. */
	NT_RULE(c, nt_match(IR_KEY_IP_SADDR, IR_OP_EQ, nt_v4("10.0.0.1", 32)),
		nt_verdict(IR_VERDICT_DROP, NULL));
	r = nft_batch_apply(rs, &err);
	printf("encode error: %s\n", err.message);
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "rule 1 of chain input in table arp netseg"));
	ck_assert_ptr_nonnull(strstr(err.message, strerror(EINVAL)));
	text = nt_ruleset_text();
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_null(strstr(text, "netseg"));
	free(text);
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(test_flush_only_ours)
{
	static const char *const a[] = {"10.0.0.1"};
	struct ir_ruleset *rs = ruleset(a, 1, NULL);
	struct nft_batch_error err = {0};
	char *before, *after;
	int st, r;
	char *out;

	nt_fresh_netns(false);
	out = nt_capture("printf 'table ip filter {\\n chain input {\\n type filter hook input "
			 "priority 0; policy accept;\\n ip saddr 1.2.3.4 counter drop\\n }\\n}\\n"
			 "table inet other {\\n set s {\\n type ipv4_addr\\n }\\n}\\n' | nft -f - "
			 "2>&1",
			 &st);
	ck_assert_msg(st == 0, "foreign tables: %s", out);
	free(out);
	before = nt_ruleset_text();
	nt_apply_ok(rs);
	out = nt_ruleset_text();
	ck_assert_ptr_nonnull(strstr(out, "table inet netseg"));
	ck_assert_ptr_nonnull(strstr(out, "table bridge netseg"));
	free(out);
	r = nft_batch_flush(rs, &err);
	ck_assert_msg(r == 0, "flush: %s", err.message);
	after = nt_ruleset_text();
	ck_assert_msg(strcmp(before, after) == 0, "foreign state changed:\n%s\n---\n%s", before,
		      after);
	ck_assert_ptr_nonnull(strstr(after, "ip saddr 1.2.3.4 counter"));
	/* Twice: flushing what is not there is not an error. */
	r = nft_batch_flush(rs, &err);
	ck_assert_msg(r == 0, "second flush: %s", err.message);
	free(before);
	free(after);
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(test_flush_nothing_installed)
{
	static const char *const a[] = {"10.0.0.1"};
	struct ir_ruleset *rs = ruleset(a, 1, NULL);
	struct nft_batch_error err = {0};
	int r;

	nt_fresh_netns(false);
	r = nft_batch_flush(rs, &err);
	ck_assert_msg(r == 0, "flush: %s", err.message);
	ir_ruleset_free(rs);
}
END_TEST

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(test_apply_10k_elements)
{
	struct ir_ruleset *rs = ruleset(NULL, 0, NULL);
	struct ir_set *s = rs->tables[0]->sets[0];
	struct nft_batch_error err = {0};
	double t0, t1, t2;
	char *out;
	int st;

	nt_fresh_netns(false);
	for (unsigned i = 0; i < 10000; i++) {
		uint8_t a[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};

		nt_elem1(s, ir_value_addr(AF_INET, a, 32));
	}
	ir_ruleset_normalize(rs);
	t0 = now();
	ck_assert_msg(nft_batch_apply(rs, &err) == 0, "apply: %s", err.message);
	t1 = now();
	/* Replacing 10k elements with 10k elements: the agent's worst case. */
	ck_assert_msg(nft_batch_apply(rs, &err) == 0, "re-apply: %s", err.message);
	t2 = now();
	printf("10000 elements: apply %.1f ms, replace %.1f ms\n", (t1 - t0) * 1e3,
	       (t2 - t1) * 1e3);
	out = nt_capture("nft -j list set inet netseg allowed | grep -o '\"10\\.[0-9.]*\"' | wc -l",
			 &st);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(atoi(out), 10000);
	free(out);
	ir_ruleset_free(rs);
}
END_TEST

/* Without CAP_NET_ADMIN the error must say what is missing, not just "Operation not permitted". */
static int unprivileged_apply(void *arg)
{
	const struct ir_ruleset *rs = arg;
	struct nft_batch_error err = {0};
	int r;

	if (setgid(65534) < 0 || setuid(65534) < 0)
		return 2;
	r = nft_batch_apply(rs, &err);
	printf("unprivileged apply: %s\n", err.message);
	return r == -EPERM && strstr(err.message, "CAP_NET_ADMIN") ? 0 : 1;
}

START_TEST(test_apply_unprivileged)
{
	static const char *const a[] = {"10.0.0.1"};
	struct ir_ruleset *rs = ruleset(a, 1, NULL);

	ck_assert_int_eq(nt_in_new_netns(unprivileged_apply, rs), 0);
	ir_ruleset_free(rs);
}
END_TEST

/* link.c and brnf.c need a namespace as well; they live here rather than in a suite of one. */
START_TEST(test_link_bridge_of)
{
	char master[16];
	int st;
	char *out;

	nt_fresh_netns(false);
	/* A port of a non-bridge master (bond, VRF) would be -ENODEV too; this kernel has
	 * neither driver, so only the bridge and master-less cases are exercised. */
	out = nt_capture("ip link add br-t type bridge && "
			 "ip link add va type veth peer name vb && ip link set va master br-t 2>&1",
			 &st);
	ck_assert_msg(st == 0, "topology: %s", out);
	free(out);
	ck_assert_int_eq(link_bridge_of("va", master, sizeof(master)), 0);
	ck_assert_str_eq(master, "br-t");
	ck_assert_int_eq(link_bridge_of("vb", master, sizeof(master)), -ENODEV);
	ck_assert_int_eq(link_bridge_of("br-t", master, sizeof(master)), -ENODEV);
	ck_assert_int_eq(link_bridge_of("nosuch0", master, sizeof(master)), -ENOENT);
	ck_assert_int_eq(link_bridge_of("va", master, 4), -ENAMETOOLONG);
	ck_assert_int_eq(link_bridge_of("", master, sizeof(master)), -EINVAL);
}
END_TEST

/* One query answers for many interfaces, with the default routes dumped once: the same
 * answers as a fresh socket per question. */
START_TEST(test_link_query)
{
	static const char *const names[] = {"lo", "br-q", "qa", "qb", "qup", "qup6", "nosuch0"};
	static const int want[] = {LINK_ROLE_LOOPBACK, LINK_ROLE_BRIDGE, LINK_ROLE_PORT,
				   LINK_ROLE_PORT,     LINK_ROLE_UPLINK, LINK_ROLE_UPLINK};
	struct link_query *q;
	enum link_role role, alone;
	char master[16];
	int st;
	char *out;

	nt_fresh_netns(false);
	out = nt_capture("ip link set lo up && ip link add br-q type bridge && "
			 "ip link add qa type veth peer name qb && ip link set qa master br-q && "
			 "ip link add qup type veth peer name qupp && ip link set qup up && "
			 "ip link set qupp up && ip addr add 192.0.2.1/24 dev qup && "
			 "ip route add default via 192.0.2.254 && "
			 "ip link add qup6 type veth peer name qup6p && ip link set qup6 up && "
			 "ip link set qup6p up && ip -6 route add default dev qup6 table 7 2>&1",
			 &st);
	ck_assert_msg(st == 0, "topology: %s", out);
	free(out);
	ck_assert_int_eq(link_query_new(&q), 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ck_assert_int_eq(link_query_role(q, names[i], &role), 0);
		ck_assert_msg((int)role == want[i], "%s: role %d, want %d", names[i], role,
			      want[i]);
		ck_assert_int_eq(link_role_of(names[i], &alone), 0);
		ck_assert_int_eq(alone, role);
	}
	ck_assert_int_eq(link_query_role(q, "nosuch0", &role), -ENOENT);
	ck_assert_int_eq(link_query_role(q, "", &role), -EINVAL);
	ck_assert_int_eq(link_query_bridge_of(q, "qa", master, sizeof(master)), 0);
	ck_assert_str_eq(master, "br-q");
	ck_assert_int_eq(link_query_bridge_of(q, "qb", master, sizeof(master)), -ENODEV);
	ck_assert_int_eq(link_query_bridge_of(q, "nosuch0", master, sizeof(master)), -ENOENT);
	link_query_free(q);
	link_query_free(NULL);
}
END_TEST

START_TEST(test_brnf_ensure)
{
	struct brnf_state st;
	char *v4, *v6;
	int s;

	nt_fresh_netns(false);
	/* A new namespace starts from the kernel default; make it 0 to see the switch. */
	ck_assert_int_eq(system("echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables && "
				"echo 0 > /proc/sys/net/bridge/bridge-nf-call-ip6tables"),
			 0);
	ck_assert_int_eq(brnf_ensure(&st), 0);
	ck_assert(st.changed_v4 && st.changed_v6);
	v4 = nt_capture("cat /proc/sys/net/bridge/bridge-nf-call-iptables", &s);
	v6 = nt_capture("cat /proc/sys/net/bridge/bridge-nf-call-ip6tables", &s);
	ck_assert_str_eq(v4, "1\n");
	ck_assert_str_eq(v6, "1\n");
	free(v4);
	free(v6);
	ck_assert_int_eq(brnf_ensure(&st), 0);
	ck_assert(!st.changed_v4 && !st.changed_v6);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("apply");
	TCase *tc = tcase_create("apply");

	nt_enter_netns_or_skip("apply");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_apply_then_replace);
	tcase_add_test(tc, test_failed_apply_keeps_state);
	tcase_add_test(tc, test_encode_error_names_object);
	tcase_add_test(tc, test_flush_only_ours);
	tcase_add_test(tc, test_flush_nothing_installed);
	tcase_add_test(tc, test_apply_10k_elements);
	tcase_add_test(tc, test_apply_unprivileged);
	tcase_add_test(tc, test_link_bridge_of);
	tcase_add_test(tc, test_link_query);
	tcase_add_test(tc, test_brnf_ensure);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
