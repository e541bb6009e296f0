/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nft_monitor against the kernel, each test in its own network namespace: our own applies and
 * element deltas are not tampering; nft(8) deleting our table or adding an element to one of
 * our sets is, after one poll and one read; changes to other tables are not; lost
 * notifications are; messages that do not come from the kernel are ignored.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "ir.h"
#include "nft_batch.h"
#include "nft_monitor.h"
#include "testutil.h"

#include "nft_testlib.h"

static const enum ir_type T_V4[] = {IR_TYPE_IPV4};

/* inet netseg with containers4 holding NFILL addresses, and bridge netseg. */
static struct ir_ruleset *ruleset(size_t nfill)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *t;
	struct ir_set *s;
	struct ir_chain *c;

	ck_assert_ptr_nonnull(rs);
	t = ir_table_add(rs, IR_FAMILY_INET, "netseg");
	ck_assert_ptr_nonnull(t);
	s = ir_set_add(rs, t, "containers4", T_V4, 1, false);
	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < nfill; i++) {
		uint8_t a[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};

		nt_elem1(s, ir_value_addr(AF_INET, a, 32));
	}
	c = nt_base_chain(rs, t, "forward", IR_HOOK_FORWARD, -10);
	NT_RULE(c, nt_lookup(IR_OP_LOOKUP, "containers4", NT_KEYS(IR_KEY_IP_SADDR)),
		nt_verdict(IR_VERDICT_ACCEPT, NULL));
	ck_assert_ptr_nonnull(ir_table_add(rs, IR_FAMILY_BRIDGE, "netseg"));
	ir_ruleset_normalize(rs);
	return rs;
}

static void sh_ok(const char *cmd)
{
	int st;
	char *out = nt_capture(cmd, &st);

	ck_assert_ptr_nonnull(out);
	ck_assert_msg(st == 0, "%s: %s", cmd, out);
	free(out);
}

/* What the agent does on EPOLLIN: one read. false if nothing became readable in time. */
static bool poll_read(struct nft_monitor *m, int timeout_ms)
{
	struct pollfd p = {.fd = nft_monitor_fd(m), .events = POLLIN};
	bool tampered = true;
	int r;

	r = poll(&p, 1, timeout_ms);
	ck_assert_int_ge(r, 0);
	if (r == 0)
		return false;
	r = nft_monitor_read(m, &tampered);
	ck_assert_msg(r == 0, "nft_monitor_read: %s", strerror(-r));
	return tampered;
}

static struct nft_monitor *monitor(void)
{
	struct nft_monitor *m = NULL;
	bool tampered = true;
	int r = nft_monitor_open(&m);

	ck_assert_msg(r == 0, "nft_monitor_open: %s", strerror(-r));
	ck_assert_int_ge(nft_monitor_fd(m), 0);
	/* Nothing pending: a read says so and does not block. */
	ck_assert_int_eq(nft_monitor_read(m, &tampered), 0);
	ck_assert(!tampered);
	return m;
}

START_TEST(test_own_changes_are_not_tamper)
{
	struct ir_ruleset *rs;
	struct nft_monitor *m;
	struct ir_elem el = {0};
	struct nft_elem_delta d;
	struct nft_batch_error err = {0};

	nt_fresh_netns(false);
	m = monitor();
	rs = ruleset(3);
	nt_apply_ok(rs);
	ck_assert_msg(!poll_read(m, 1000), "own apply reported: %s", nft_monitor_culprit(m));
	/* Applying again replaces the tables: deletions of ours, by us. */
	nt_apply_ok(rs);
	ck_assert(!poll_read(m, 1000));

	el.key[0] = nt_v4("10.7.7.7", 32);
	d = (struct nft_elem_delta){IR_FAMILY_INET, "netseg", rs->tables[0]->sets[0], &el, 1,
				    false};
	ck_assert_int_eq(nft_batch_elements(&d, 1, &err), 0);
	d.del = true;
	ck_assert_int_eq(nft_batch_elements(&d, 1, &err), 0);
	ck_assert(!poll_read(m, 1000));
	ck_assert_str_eq(nft_monitor_culprit(m), "");
	nft_monitor_free(m);
	ir_ruleset_free(rs);
}
END_TEST

struct thread_apply {
	struct ir_ruleset *rs;
	sem_t applied, read;
};

static void *apply_thread(void *arg)
{
	struct thread_apply *ta = arg;

	nt_apply_ok(ta->rs);
	sem_post(&ta->applied);
	/* Stay alive until the monitor has judged the transaction. */
	while (sem_wait(&ta->read) < 0 && errno == EINTR)
		;
	return NULL;
}

/* The kernel names the committing thread, not the process: a batch from a thread is ours. */
START_TEST(test_own_thread_is_not_tamper)
{
	struct thread_apply ta = {0};
	struct nft_monitor *m;
	bool tampered = true;
	pthread_t th;

	nt_fresh_netns(false);
	m = monitor();
	ta.rs = ruleset(3);
	ck_assert_int_eq(sem_init(&ta.applied, 0, 0), 0);
	ck_assert_int_eq(sem_init(&ta.read, 0, 0), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, apply_thread, &ta), 0);
	while (sem_wait(&ta.applied) < 0)
		ck_assert_int_eq(errno, EINTR);
	/* The whole transaction, NEWGEN included, is queued once the apply returned. */
	ck_assert_int_eq(nft_monitor_read(m, &tampered), 0);
	ck_assert_msg(!tampered, "reported: %s", nft_monitor_culprit(m));
	ck_assert_str_eq(nft_monitor_culprit(m), "");
	sem_post(&ta.read);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	/* After the thread is gone, the same transaction would count as foreign: prove it was
	 * judged above by checking that nothing is left to judge. */
	ck_assert(!poll_read(m, 100));
	nft_monitor_free(m);
	ir_ruleset_free(ta.rs);
}
END_TEST

START_TEST(test_foreign_delete_table)
{
	struct ir_ruleset *rs;
	struct nft_monitor *m;

	nt_fresh_netns(false);
	rs = ruleset(3);
	nt_apply_ok(rs);
	m = monitor();
	sh_ok("nft delete table inet netseg 2>&1");
	ck_assert(poll_read(m, 1000));
	printf("culprit: %s\n", nft_monitor_culprit(m));
	ck_assert_ptr_nonnull(strstr(nft_monitor_culprit(m), "nft (pid "));
	/* Reported once. */
	ck_assert(!poll_read(m, 100));
	nft_monitor_free(m);
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(test_foreign_add_element)
{
	struct ir_ruleset *rs;
	struct nft_monitor *m;

	nt_fresh_netns(false);
	rs = ruleset(3);
	nt_apply_ok(rs);
	m = monitor();
	sh_ok("nft add element inet netseg containers4 { 10.9.9.9 } 2>&1");
	ck_assert(poll_read(m, 1000));
	nft_monitor_free(m);
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(test_foreign_unrelated_change)
{
	struct ir_ruleset *rs;
	struct nft_monitor *m;

	nt_fresh_netns(false);
	rs = ruleset(3);
	nt_apply_ok(rs);
	m = monitor();
	/* Another table, and a table named netseg in a family we do not own. */
	sh_ok("nft add table inet other && nft add set inet other s '{ type ipv4_addr; }' && "
	      "nft add element inet other s '{ 10.9.9.9 }' && nft add table ip netseg && "
	      "nft add chain ip netseg c && nft delete table ip netseg && nft delete table inet "
	      "other 2>&1");
	ck_assert_msg(!poll_read(m, 1000), "reported: %s", nft_monitor_culprit(m));
	/* A transaction touching both another table and ours is tampering. */
	sh_ok("printf 'add table inet other\\nadd chain inet netseg sneaky\\n' | nft -f - 2>&1");
	ck_assert(poll_read(m, 1000));
	nft_monitor_free(m);
	ir_ruleset_free(rs);
}
END_TEST

/* A 10,000-element apply must fit the receive buffer, or the agent would re-apply forever. */
START_TEST(test_big_own_apply_fits)
{
	struct ir_ruleset *rs;
	struct nft_monitor *m;

	nt_fresh_netns(false);
	m = monitor();
	rs = ruleset(10000);
	nt_apply_ok(rs);
	nt_apply_ok(rs);
	ck_assert_msg(!poll_read(m, 1000), "reported: %s", nft_monitor_culprit(m));
	nft_monitor_free(m);
	ir_ruleset_free(rs);
}
END_TEST

START_TEST(test_lost_events_are_tamper)
{
	struct ir_ruleset *rs;
	struct nft_monitor *m;
	int small = 1;

	nt_fresh_netns(false);
	m = monitor();
	/* The kernel rounds this up to its minimum: a few notifications at most. */
	ck_assert_int_eq(
	    setsockopt(nft_monitor_fd(m), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	rs = ruleset(2000);
	nt_apply_ok(rs);
	ck_assert(poll_read(m, 1000));
	printf("culprit: %s\n", nft_monitor_culprit(m));
	ck_assert_ptr_nonnull(strstr(nft_monitor_culprit(m), "ENOBUFS"));
	nft_monitor_free(m);
	ir_ruleset_free(rs);
}
END_TEST

static struct nlmsghdr *put_msg(char *buf, uint16_t type, uint8_t family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | type;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	return nlh;
}

/*
 * A datagram whose nlmsg_len is over 2^31, on the decoder alone (the fuzz_nft_monitor
 * reproducer): libmnl's mnl_nlmsg_ok() compares the length as a signed int and took it.
 */
START_TEST(test_parse_huge_length)
{
	static const uint8_t huge_len[17] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t *buf = malloc(sizeof(huge_len));
	struct nft_monitor *m = NULL;
	bool tampered = true;

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, huge_len, sizeof(huge_len));
	ck_assert_int_eq(nft_monitor_new_detached(&m), 0);
	nft_monitor_parse(m, buf, sizeof(huge_len));
	/* An nf_tables DELTABLE type: the message would be looked at if the walk took it. */
	buf[4] = NFT_MSG_DELTABLE;
	buf[5] = NFNL_SUBSYS_NFTABLES;
	nft_monitor_parse(m, buf, sizeof(huge_len));
	ck_assert_int_eq(nft_monitor_take(m, &tampered), 0);
	ck_assert(!tampered);
	nft_monitor_free(m);
	free(buf);
}
END_TEST

/* Another process sending look-alike notifications to our port is not the kernel. */
START_TEST(test_forged_messages_ignored)
{
	struct sockaddr_nl self = {0}, to = {.nl_family = AF_NETLINK};
	socklen_t len = sizeof(self);
	struct nft_monitor *m;
	char buf[512];
	struct nlmsghdr *nlh;
	int fd;

	nt_fresh_netns(false);
	m = monitor();
	ck_assert_int_eq(getsockname(nft_monitor_fd(m), (struct sockaddr *)&self, &len), 0);
	to.nl_pid = self.nl_pid;
	fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER);
	ck_assert_int_ge(fd, 0);

	nlh = put_msg(buf, NFT_MSG_DELTABLE, NFPROTO_INET);
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, "netseg");
	ck_assert_int_gt(sendto(fd, buf, nlh->nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)), 0);
	nlh = put_msg(buf, NFT_MSG_NEWGEN, AF_UNSPEC);
	mnl_attr_put_u32(nlh, NFTA_GEN_ID, htonl(7));
	mnl_attr_put_u32(nlh, NFTA_GEN_PROC_PID, htonl(1));
	mnl_attr_put_strz(nlh, NFTA_GEN_PROC_NAME, "forger");
	ck_assert_int_gt(sendto(fd, buf, nlh->nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)), 0);
	ck_assert(!poll_read(m, 1000));
	close(fd);
	nft_monitor_free(m);
}
END_TEST

/* Flushing our set from outside; and reading with nothing pending, or freeing NULL. */
START_TEST(test_foreign_flush_set)
{
	struct ir_ruleset *rs;
	struct nft_monitor *m;
	bool tampered = true;

	nt_fresh_netns(false);
	rs = ruleset(1);
	nt_apply_ok(rs);
	m = monitor();
	/* Reading twice with nothing in between changes nothing. */
	ck_assert_int_eq(nft_monitor_read(m, &tampered), 0);
	ck_assert(!tampered);
	sh_ok("nft flush set inet netseg containers4 2>&1");
	ck_assert(poll_read(m, 1000));
	nft_monitor_free(m);
	nft_monitor_free(NULL);
	ir_ruleset_free(rs);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("monitor");
	TCase *tc = tcase_create("monitor");

	nt_enter_netns_or_skip("monitor");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_own_changes_are_not_tamper);
	tcase_add_test(tc, test_own_thread_is_not_tamper);
	tcase_add_test(tc, test_foreign_delete_table);
	tcase_add_test(tc, test_foreign_add_element);
	tcase_add_test(tc, test_foreign_unrelated_change);
	tcase_add_test(tc, test_big_own_apply_fits);
	tcase_add_test(tc, test_lost_events_are_tamper);
	tcase_add_test(tc, test_forged_messages_ignored);
	tcase_add_test(tc, test_parse_huge_length);
	tcase_add_test(tc, test_foreign_flush_set);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
