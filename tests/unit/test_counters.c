/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nft_counters_read against the kernel, each test in its own network namespace: counters move
 * by exactly the packets (and bytes) sent through them; each table is read on its own; an
 * absent table is -ENOENT; the callback's error stops the read; a dump of thousands of
 * counters spans many datagrams and gives each once; a compiled ruleset's counters (rules,
 * defaults, suppressed log lines) are all there.
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "compile.h"
#include "endpoints.h"
#include "ir.h"
#include "nft_batch.h"
#include "nft_counters.h"
#include "node.h"
#include "parse.h"
#include "policy.h"
#include "testutil.h"

#include "nft_testlib.h"

#define PORT	  9999
#define NSEND	  1000u
#define PAYLOAD	  100u
#define IPLEN	  (20u + 8u + PAYLOAD)
#define MANY	  3000u
#define NAMES_MAX 4096

/* Every counter read: names (copied), packets, bytes. */
struct seen {
	char *names[NAMES_MAX];
	uint64_t packets[NAMES_MAX], bytes[NAMES_MAX];
	size_t n;
	int fail_with; /* returned by the callback when set */
};

static int seen_cb(const char *name, uint64_t packets, uint64_t bytes, void *userdata)
{
	struct seen *s = userdata;

	if (s->fail_with)
		return s->fail_with;
	ck_assert_uint_lt(s->n, NAMES_MAX);
	s->names[s->n] = strdup(name);
	s->packets[s->n] = packets;
	s->bytes[s->n] = bytes;
	s->n++;
	return 0;
}

static void seen_clear(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->names[i]);
	s->n = 0;
}

static ssize_t seen_find(const struct seen *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return (ssize_t)i;
	return -1;
}

static struct seen *read_table(enum ir_family f, const char *table)
{
	struct seen *s = calloc(1, sizeof(*s));

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(nft_counters_read(f, table, seen_cb, s), 0);
	return s;
}

static void seen_free(struct seen *s)
{
	seen_clear(s);
	free(s);
}

/* inet netseg: r_udp counts udp/PORT on output, r_idle nothing; bridge netseg: d_c2c. */
static struct ir_ruleset *small_ruleset(void)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *t = ir_table_add(rs, IR_FAMILY_INET, "netseg");
	struct ir_table *b = ir_table_add(rs, IR_FAMILY_BRIDGE, "netseg");
	struct ir_chain *c;

	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(ir_counter_add(rs, t, "r_udp"), 0);
	ck_assert_int_eq(ir_counter_add(rs, t, "r_idle"), 0);
	ck_assert_int_eq(ir_counter_add(rs, b, "d_c2c"), 0);
	c = nt_base_chain(rs, t, "output", IR_HOOK_OUTPUT, 0);
	NT_RULE(c, nt_match(IR_KEY_L4PROTO, IR_OP_EQ, ir_value_u8(IPPROTO_UDP)),
		nt_match(IR_KEY_TH_DPORT, IR_OP_EQ, ir_value_be16(PORT)), nt_counter("r_udp"),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	return rs;
}

static void send_udp(unsigned n)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	char payload[PAYLOAD] = {0};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	ck_assert_int_ge(fd, 0);
	for (unsigned i = 0; i < n; i++)
		ck_assert_int_eq(
		    sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&to, sizeof(to)),
		    sizeof(payload));
	close(fd);
}

START_TEST(test_counters_move_exactly)
{
	struct ir_ruleset *rs = small_ruleset();
	struct seen *s;
	ssize_t u, i;

	nt_fresh_netns(true);
	nt_apply_ok(rs);
	s = read_table(IR_FAMILY_INET, "netseg");
	ck_assert_uint_eq(s->n, 2);
	u = seen_find(s, "r_udp");
	ck_assert_int_ge(u, 0);
	ck_assert_uint_eq(s->packets[u], 0);
	ck_assert_uint_eq(s->bytes[u], 0);
	seen_free(s);

	send_udp(NSEND);
	s = read_table(IR_FAMILY_INET, "netseg");
	u = seen_find(s, "r_udp");
	i = seen_find(s, "r_idle");
	ck_assert_int_ge(u, 0);
	ck_assert_int_ge(i, 0);
	printf("r_udp: %llu packets, %llu bytes after %u datagrams of %u bytes\n",
	       (unsigned long long)s->packets[u], (unsigned long long)s->bytes[u], NSEND, IPLEN);
	ck_assert_uint_eq(s->packets[u], NSEND);
	ck_assert_uint_eq(s->bytes[u], (uint64_t)NSEND * IPLEN);
	ck_assert_uint_eq(s->packets[i], 0);
	seen_free(s);

	/* The same again: the counters add up, a read resets nothing. */
	send_udp(7);
	s = read_table(IR_FAMILY_INET, "netseg");
	ck_assert_uint_eq(s->packets[seen_find(s, "r_udp")], NSEND + 7);
	seen_free(s);

	/* Each table on its own. */
	s = read_table(IR_FAMILY_BRIDGE, "netseg");
	ck_assert_uint_eq(s->n, 1);
	ck_assert_str_eq(s->names[0], "d_c2c");
	seen_free(s);
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(test_absent_table_and_callback_error)
{
	struct ir_ruleset *rs = small_ruleset();
	struct seen *s = calloc(1, sizeof(*s));

	ck_assert_ptr_nonnull(s);
	nt_fresh_netns(true);
	ck_assert_int_eq(nft_counters_read(IR_FAMILY_INET, "netseg", seen_cb, s), -ENOENT);
	nt_apply_ok(rs);
	ck_assert_int_eq(nft_counters_read(IR_FAMILY_ARP, "netseg", seen_cb, s), -ENOENT);
	ck_assert_int_eq(nft_counters_read(IR_FAMILY_INET, "other", seen_cb, s), -ENOENT);
	ck_assert_uint_eq(s->n, 0);
	/* A table without counters is not an error. */
	ck_assert_int_eq(system("nft add table inet empty"), 0);
	ck_assert_int_eq(nft_counters_read(IR_FAMILY_INET, "empty", seen_cb, s), 0);
	ck_assert_uint_eq(s->n, 0);
	s->fail_with = -ECANCELED;
	ck_assert_int_eq(nft_counters_read(IR_FAMILY_INET, "netseg", seen_cb, s), -ECANCELED);
	seen_free(s);
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(test_many_counters)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *t = ir_table_add(rs, IR_FAMILY_INET, "netseg");
	struct seen *s;
	char name[32];

	ck_assert_ptr_nonnull(t);
	for (unsigned i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "r_rule-%04u", i);
		ck_assert_int_eq(ir_counter_add(rs, t, name), 0);
	}
	nt_fresh_netns(true);
	nt_apply_ok(rs);
	s = read_table(IR_FAMILY_INET, "netseg");
	ck_assert_uint_eq(s->n, MANY);
	for (unsigned i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "r_rule-%04u", i);
		ck_assert_msg(seen_find(s, name) >= 0, "%s missing", name);
	}
	seen_free(s);
	ir_ruleset_free(rs);
}
END_TEST

/* Every counter object of a golden's compiled ruleset, in both tables, comes back by name. */
START_TEST(test_compiled_ruleset)
{
	struct diag_list *d = diag_list_new();
	struct endpoint_set *e = endpoint_set_new();
	struct policy *p = NULL;
	struct ir_ruleset *rs = NULL;
	static const char *const bridges[] = {"br-app"};
	struct compile_input in = {.bridges = bridges, .nbridges = 1};

	ck_assert_int_eq(policy_load(tu_src_path("tests/golden/logging/policy.yaml"), d, &p), 0);
	ck_assert_int_eq(
	    endpoint_set_load(e, tu_src_path("tests/golden/logging/endpoints.yaml"), d), 0);
	in.policy = p;
	in.endpoints = e;
	ck_assert_int_eq(compile_ruleset(&in, &rs), 0);
	nt_fresh_netns(true);
	nt_apply_ok(rs);
	for (size_t ti = 0; ti < rs->n; ti++) {
		const struct ir_table *t = rs->tables[ti];
		struct seen *s;

		if (t->family == IR_FAMILY_ARP)
			continue;
		s = read_table(t->family, t->name);
		ck_assert_uint_eq(s->n, t->ncounters);
		for (size_t i = 0; i < t->ncounters; i++) {
			ck_assert_msg(seen_find(s, t->counters[i]) >= 0, "%s missing",
				      t->counters[i]);
			ck_assert_uint_eq(s->packets[seen_find(s, t->counters[i])], 0);
		}
		ck_assert_int_ge(seen_find(s, "s_d_c2c"), 0);
		seen_free(s);
	}
	ir_ruleset_free(rs);
	policy_free(p);
	endpoint_set_free(e);
	diag_list_free(d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("counters");
	TCase *tc = tcase_create("counters");

	nt_enter_netns_or_skip("counters");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_counters_move_exactly);
	tcase_add_test(tc, test_absent_table_and_callback_error);
	tcase_add_test(tc, test_many_counters);
	tcase_add_test(tc, test_compiled_ruleset);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
