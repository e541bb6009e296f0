/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The inventory's ownership of interfaces and addresses across owners (issue 16, finding 6):
 * the holder keeps a key, a newcomer is refused and listed, refused endpoints are reconsidered
 * in inventory order when keys are freed, and the checker's refusals follow recheck.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "inventory.h"
#include "testutil.h"

/* A set with one endpoint NAME on IFNAME with the IPv4 address ADDR. */
static struct endpoint_set *one(const char *name, const char *ifname, const char *addr)
{
	struct endpoint_set *s = endpoint_set_new();
	struct endpoint *e;

	ck_assert_ptr_nonnull(s);
	s->items = calloc(2, sizeof(*s->items));
	ck_assert_ptr_nonnull(s->items);
	s->n = 1;
	s->cap = 2;
	e = &s->items[0];
	e->name = strdup(name);
	e->interface = strdup(ifname);
	e->addrs = calloc(1, sizeof(*e->addrs));
	ck_assert_ptr_nonnull(e->addrs);
	e->naddrs = 1;
	e->addrs[0].family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, addr, e->addrs[0].addr), 1);
	return s;
}

struct seen {
	char text[1024];
	size_t n;
};

static void collect(const char *owner, const struct endpoint *e, const char *reason, void *ud)
{
	struct seen *s = ud;
	size_t len = strlen(s->text);

	snprintf(s->text + len, sizeof(s->text) - len, "%s[%s]: %s\n", e->name, owner, reason);
	s->n++;
}

static struct seen refused(const struct inventory *inv)
{
	struct seen s = {0};

	inventory_refused(inv, collect, &s);
	ck_assert_uint_eq(s.n, inventory_refused_count(inv));
	return s;
}

/* The enforced endpoints' names, in view order, space-separated. */
static void enforced(const struct inventory *inv, char *buf, size_t len)
{
	struct endpoint_set v;

	buf[0] = 0;
	ck_assert_int_eq(inventory_view(inv, &v), 0);
	ck_assert_uint_eq(v.n, inventory_count(inv));
	for (size_t i = 0; i < v.n; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? " " : "",
			 v.items[i].name);
	inventory_view_free(&v);
}

#define ck_enforced(inv, want)                                                                     \
	do {                                                                                       \
		char got_[256];                                                                    \
		enforced(inv, got_, sizeof(got_));                                                 \
		ck_assert_str_eq(got_, want);                                                      \
	} while (0)

START_TEST(address_conflict_across_owners)
{
	struct inventory *inv = inventory_new();
	struct seen s;

	ck_assert_int_eq(inventory_set(inv, "file:web", one("web", "vc1", "10.88.0.11"), NULL), 1);
	ck_assert_int_eq(
	    inventory_set(inv, "file:other", one("other-1", "vc3", "10.88.0.11"), NULL), 1);
	ck_enforced(inv, "web");
	s = refused(inv);
	ck_assert_str_eq(s.text, "other-1[file:other]: address 10.88.0.11 is already used by "
				 "endpoint 'web' (file:web)\n");
	/* The holder changing its file keeps the address. */
	ck_assert_int_eq(inventory_set(inv, "file:web", one("web", "vc9", "10.88.0.11"), NULL), 1);
	ck_enforced(inv, "web");
	ck_assert_uint_eq(refused(inv).n, 1);
	/* The holder goes: the refused one takes it. */
	ck_assert_int_eq(inventory_set(inv, "file:web", NULL, NULL), 1);
	ck_enforced(inv, "other-1");
	ck_assert_uint_eq(refused(inv).n, 0);
	inventory_free(inv);
}
END_TEST

START_TEST(interface_conflict)
{
	struct inventory *inv = inventory_new();

	ck_assert_int_eq(inventory_set(inv, "docker:a", one("a", "veth1", "10.0.0.1"), NULL), 1);
	ck_assert_int_eq(inventory_set(inv, "file:b", one("b", "veth1", "10.0.0.2"), NULL), 1);
	ck_enforced(inv, "a");
	ck_assert_str_eq(refused(inv).text, "b[file:b]: interface veth1 is already used by "
					    "endpoint 'a' (docker:a)\n");
	inventory_free(inv);
}
END_TEST

/* Oldest owner first, whatever order the names sort in. */
START_TEST(reconsidered_in_inventory_order)
{
	struct inventory *inv = inventory_new();

	ck_assert_int_eq(inventory_set(inv, "file:m", one("m", "v0", "10.0.0.1"), NULL), 1);
	ck_assert_int_eq(inventory_set(inv, "file:z", one("z", "vz", "10.0.0.1"), NULL), 1);
	ck_assert_int_eq(inventory_set(inv, "file:a", one("a", "va", "10.0.0.1"), NULL), 1);
	ck_enforced(inv, "m");
	ck_assert_uint_eq(refused(inv).n, 2);
	ck_assert_int_eq(inventory_set(inv, "file:m", NULL, NULL), 1);
	ck_enforced(inv, "z");
	ck_assert_str_eq(refused(inv).text, "a[file:a]: address 10.0.0.1 is already used by "
					    "endpoint 'z' (file:z)\n");
	ck_assert_int_eq(inventory_set(inv, "file:z", NULL, NULL), 1);
	ck_enforced(inv, "a");
	inventory_free(inv);
}
END_TEST

static int refuse_bad(const struct endpoint *e, char *why, size_t len, void *ud)
{
	const char *bad = *(const char **)ud;

	if (bad && !strcmp(e->interface, bad)) {
		snprintf(why, len, "interface %s is bad", e->interface);
		return 1;
	}
	return 0;
}

START_TEST(checker_and_recheck)
{
	struct inventory *inv = inventory_new();
	const char *bad = "lo";

	inventory_set_checker(inv, refuse_bad, &bad);
	ck_assert_int_eq(inventory_set(inv, "file:l", one("l", "lo", "10.0.0.1"), NULL), 1);
	ck_assert_int_eq(inventory_set(inv, "file:x", one("x", "vx", "10.0.0.2"), NULL), 1);
	ck_enforced(inv, "x");
	ck_assert_str_eq(refused(inv).text, "l[file:l]: interface lo is bad\n");
	/* vx turns out bad when it appears: withdrawn, its address freed. */
	bad = "vx";
	ck_assert_int_eq(inventory_recheck(inv, "vx", NULL), 1);
	ck_enforced(inv, "");
	ck_assert_int_eq(inventory_set(inv, "file:y", one("y", "vy", "10.0.0.2"), NULL), 1);
	ck_enforced(inv, "y");
	/* lo is fine now, but only a recheck of lo says so. */
	bad = NULL;
	ck_assert_int_eq(inventory_recheck(inv, "vy", NULL), 0);
	ck_enforced(inv, "y");
	ck_assert_int_eq(inventory_recheck(inv, "lo", NULL), 1);
	ck_enforced(inv, "l y");
	/* x is fine too, but y holds its address now. */
	ck_assert_int_eq(inventory_recheck(inv, "vx", NULL), 0);
	ck_assert_str_eq(refused(inv).text, "x[file:x]: address 10.0.0.2 is already used by "
					    "endpoint 'y' (file:y)\n");
	inventory_free(inv);
}
END_TEST

/* Many owners coming and going keep the key index consistent (deletions in probe runs). */
START_TEST(churn)
{
	struct inventory *inv = inventory_new();
	char owner[32], name[32], ifn[16], addr[32];

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 600; i++) {
			snprintf(owner, sizeof(owner), "o%d", i);
			snprintf(name, sizeof(name), "e%d", i);
			snprintf(ifn, sizeof(ifn), "v%d", i % 500);
			snprintf(addr, sizeof(addr), "10.1.%d.%d", (i % 450) / 250,
				 (i % 450) % 250);
			ck_assert_int_ge(inventory_set(inv, owner, one(name, ifn, addr), NULL), 0);
		}
		/* 0..449 hold their keys; 450..599 clash on an address or an interface. */
		ck_assert_uint_eq(inventory_count(inv), 450);
		ck_assert_uint_eq(inventory_refused_count(inv), 150);
		/* The even holders go: the even clashers (450..598) get both their keys. */
		for (int i = 0; i < 450; i += 2) {
			snprintf(owner, sizeof(owner), "o%d", i);
			ck_assert_int_eq(inventory_set(inv, owner, NULL, NULL), 1);
		}
		ck_assert_uint_eq(inventory_count(inv), 225 + 75);
		ck_assert_uint_eq(inventory_refused_count(inv), 75);
		for (int i = 1; i < 450; i += 2) {
			snprintf(owner, sizeof(owner), "o%d", i);
			ck_assert_int_eq(inventory_set(inv, owner, NULL, NULL), 1);
		}
		ck_assert_uint_eq(inventory_count(inv), 150);
		ck_assert_uint_eq(inventory_refused_count(inv), 0);
		for (int i = 450; i < 600; i++) {
			snprintf(owner, sizeof(owner), "o%d", i);
			ck_assert_int_eq(inventory_set(inv, owner, NULL, NULL), 1);
		}
		ck_assert_uint_eq(inventory_count(inv), 0);
	}
	inventory_free(inv);
}
END_TEST

static Suite *inventory_suite(void)
{
	Suite *s = suite_create("inventory");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, address_conflict_across_owners);
	tcase_add_test(tc, interface_conflict);
	tcase_add_test(tc, reconsidered_in_inventory_order);
	tcase_add_test(tc, checker_and_recheck);
	tcase_add_test(tc, churn);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(inventory_suite());
}
