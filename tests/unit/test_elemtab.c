/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent's reference-counted element table (agent/elemtab.c): what a burst of endpoint
 * changes asks of the kernel. Shared elements survive one holder leaving, a replaced endpoint
 * costs nothing, deletions are reported before additions, and the table stays right across
 * its own growth and the removals that close gaps in its probe chains.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elemtab.h"
#include "testutil.h"

/* A one-component element: the 4 bytes of N, big-endian (an IPv4 address). */
static struct ir_elem el(uint32_t n)
{
	struct ir_elem e;

	memset(&e, 0, sizeof(e));
	e.key[0].len = 4;
	e.key[0].prefix = 32;
	e.key[0].data[0] = (uint8_t)(n >> 24);
	e.key[0].data[1] = (uint8_t)(n >> 16);
	e.key[0].data[2] = (uint8_t)(n >> 8);
	e.key[0].data[3] = (uint8_t)n;
	return e;
}

/* A two-component element: interface name IFNAME . the address N. */
static struct ir_elem el2(const char *ifname, uint32_t n)
{
	struct ir_elem e = el(n);

	e.key[1] = e.key[0];
	memset(&e.key[0], 0, sizeof(e.key[0]));
	e.key[0].len = 16;
	snprintf((char *)e.key[0].data, sizeof(e.key[0].data), "%s", ifname);
	return e;
}

/* What elemtab_changes reported, one line per change in callback order. */
struct seen {
	char text[4096];
	size_t n, adds, dels;
	size_t fail_at; /* return -EIO from the change numbered fail_at (1-based); 0: never */
};

static void key_text(const struct ir_elem *e, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int c = 0; c < IR_CONCAT_MAX && e->key[c].len && o < len; c++) {
		const struct ir_value *v = &e->key[c];

		if (c)
			o += (size_t)snprintf(buf + o, len - o, " . ");
		if (v->len == 4)
			o += (size_t)snprintf(buf + o, len - o, "%u.%u.%u.%u", v->data[0],
					      v->data[1], v->data[2], v->data[3]);
		else
			o += (size_t)snprintf(buf + o, len - o, "%s", (const char *)v->data);
	}
}

static int record(enum ir_family family, const char *set, const struct ir_elem *e, bool add,
		  void *userdata)
{
	struct seen *s = userdata;
	size_t o = strlen(s->text);
	char key[128];

	s->n++;
	if (s->fail_at && s->n == s->fail_at)
		return -EIO;
	add ? s->adds++ : s->dels++;
	if (o + 200 > sizeof(s->text))
		return 0; /* large tables are checked by the counts */
	key_text(e, key, sizeof(key));
	snprintf(s->text + o, sizeof(s->text) - o, "%s %s %s %s\n", add ? "add" : "del",
		 family == IR_FAMILY_BRIDGE ? "bridge" : "inet", set, key);
	return 0;
}

static struct seen changes(const struct elemtab *t)
{
	struct seen s = {0};

	ck_assert_int_eq(elemtab_changes(t, record, &s), 0);
	return s;
}

#define ck_changes(t, want)                                                                        \
	do {                                                                                       \
		struct seen s_ = changes(t);                                                       \
		ck_assert_str_eq(s_.text, want);                                                   \
	} while (0)

static void ref(struct elemtab *t, const char *set, uint32_t n, int delta)
{
	struct ir_elem e = el(n);

	ck_assert_int_eq(elemtab_ref(t, IR_FAMILY_INET, set, &e, delta), 0);
}

START_TEST(add_commit_remove)
{
	struct elemtab *t = elemtab_new();

	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(elemtab_pending(t), 0);
	ck_changes(t, "");
	ref(t, "g_web4", 0x0a000001, +1);
	ck_assert_uint_eq(elemtab_pending(t), 1);
	ck_changes(t, "add inet g_web4 10.0.0.1\n");
	elemtab_commit(t);
	ck_assert_uint_eq(elemtab_pending(t), 0);
	ck_changes(t, "");
	ref(t, "g_web4", 0x0a000001, -1);
	ck_changes(t, "del inet g_web4 10.0.0.1\n");
	elemtab_commit(t);
	ck_changes(t, "");
	/* Forgotten after the commit: adding it again is an addition again. */
	ref(t, "g_web4", 0x0a000001, +1);
	ck_changes(t, "add inet g_web4 10.0.0.1\n");
	elemtab_free(t);
}
END_TEST

/* Two endpoints on one bridge share its dispatch entry: it goes with the last of them. */
START_TEST(shared_element_goes_with_last_holder)
{
	struct elemtab *t = elemtab_new();

	ref(t, "br_dispatch", 7, +1);
	ref(t, "br_dispatch", 7, +1);
	ck_changes(t, "add inet br_dispatch 0.0.0.7\n");
	elemtab_commit(t);
	ref(t, "br_dispatch", 7, -1);
	ck_assert_uint_eq(elemtab_pending(t), 1);
	ck_changes(t, "");
	elemtab_commit(t);
	ref(t, "br_dispatch", 7, -1);
	ck_changes(t, "del inet br_dispatch 0.0.0.7\n");
	elemtab_free(t);
}
END_TEST

/* An endpoint replaced by a changed copy: the unchanged elements cost nothing. */
START_TEST(replacement_is_net_difference)
{
	struct elemtab *t = elemtab_new();

	ref(t, "g_web4", 1, +1);
	ref(t, "g_web4", 2, +1);
	elemtab_commit(t);
	/* old copy out, new copy (address 2 kept, 1 -> 3) in, in one burst */
	ref(t, "g_web4", 1, -1);
	ref(t, "g_web4", 2, -1);
	ref(t, "g_web4", 3, +1);
	ref(t, "g_web4", 2, +1);
	ck_changes(t, "del inet g_web4 0.0.0.1\nadd inet g_web4 0.0.0.3\n");
	/* An element added and removed again before any commit never reaches the kernel. */
	ref(t, "g_web4", 9, +1);
	ref(t, "g_web4", 9, -1);
	ck_changes(t, "del inet g_web4 0.0.0.1\nadd inet g_web4 0.0.0.3\n");
	elemtab_free(t);
}
END_TEST

/* An address moving between endpoints in one burst is deleted before it is added. */
START_TEST(deletions_before_additions)
{
	struct elemtab *t = elemtab_new();
	struct ir_elem a = el2("veth1", 5), b = el2("veth2", 5);

	ck_assert_int_eq(elemtab_ref(t, IR_FAMILY_BRIDGE, "port_addrs4", &a, +1), 0);
	elemtab_commit(t);
	/* the addition is referenced first, the deletion last: still reported the other way */
	ck_assert_int_eq(elemtab_ref(t, IR_FAMILY_BRIDGE, "port_addrs4", &b, +1), 0);
	ck_assert_int_eq(elemtab_ref(t, IR_FAMILY_BRIDGE, "port_addrs4", &a, -1), 0);
	ck_changes(t, "del bridge port_addrs4 veth1 . 0.0.0.5\n"
		      "add bridge port_addrs4 veth2 . 0.0.0.5\n");
	elemtab_free(t);
}
END_TEST

/* The same key in another set or family is another element. */
START_TEST(set_and_family_distinguish)
{
	struct elemtab *t = elemtab_new();
	struct ir_elem e = el(0x0a000002);

	ck_assert_int_eq(elemtab_ref(t, IR_FAMILY_INET, "a", &e, +1), 0);
	ck_assert_int_eq(elemtab_ref(t, IR_FAMILY_INET, "b", &e, +1), 0);
	ck_assert_int_eq(elemtab_ref(t, IR_FAMILY_BRIDGE, "a", &e, +1), 0);
	ck_assert_uint_eq(elemtab_pending(t), 3);
	elemtab_commit(t);
	ck_assert_int_eq(elemtab_ref(t, IR_FAMILY_INET, "b", &e, -1), 0);
	ck_changes(t, "del inet b 10.0.0.2\n");
	elemtab_free(t);
}
END_TEST

/*
 * Thousands of elements: the table grows several times with changes pending (the pending list
 * is rebuilt), then every other one is removed (removals move neighbours back in their probe
 * chains) and each survivor must still be found, each removed one gone.
 */
START_TEST(growth_and_removal)
{
	enum { N = 5000 };
	struct elemtab *t = elemtab_new();
	struct seen s;

	for (uint32_t i = 0; i < N; i++)
		ref(t, "big", i, +1);
	ck_assert_uint_eq(elemtab_pending(t), N);
	s = changes(t);
	ck_assert_uint_eq(s.adds, N);
	ck_assert_uint_eq(s.dels, 0);
	elemtab_commit(t);
	for (uint32_t i = 0; i < N; i += 2)
		ref(t, "big", i, -1);
	s = changes(t);
	ck_assert_uint_eq(s.dels, N / 2);
	ck_assert_uint_eq(s.adds, 0);
	elemtab_commit(t);
	/* Survivors: a second reference changes nothing in the kernel. */
	for (uint32_t i = 1; i < N; i += 2)
		ref(t, "big", i, +1);
	s = changes(t);
	ck_assert_uint_eq(s.n, 0);
	elemtab_commit(t);
	/* Removed ones: each is an addition again, and each survivor's count is 2 now. */
	for (uint32_t i = 0; i < N; i += 2)
		ref(t, "big", i, +1);
	for (uint32_t i = 1; i < N; i += 2)
		ref(t, "big", i, -1);
	s = changes(t);
	ck_assert_uint_eq(s.adds, N / 2);
	ck_assert_uint_eq(s.dels, 0);
	elemtab_free(t);
}
END_TEST

/* After a full apply: clear, count what was installed, mark it so; nothing is pending. */
START_TEST(clear_and_mark_installed)
{
	struct elemtab *t = elemtab_new();

	ref(t, "g", 1, +1);
	ref(t, "g", 2, +1);
	elemtab_clear(t);
	ck_assert_uint_eq(elemtab_pending(t), 0);
	ck_changes(t, "");
	ref(t, "g", 2, +1);
	ref(t, "g", 3, +1);
	elemtab_mark_installed(t);
	ck_assert_uint_eq(elemtab_pending(t), 0);
	ck_changes(t, "");
	/* 1 was cleared with the rest: removing 2 and 3 deletes them, 1 is unknown. */
	ref(t, "g", 2, -1);
	ref(t, "g", 3, -1);
	ck_changes(t, "del inet g 0.0.0.2\ndel inet g 0.0.0.3\n");
	elemtab_free(t);
}
END_TEST

/* The callback's error stops the walk and is returned; nothing counts as installed. */
START_TEST(callback_error_propagates)
{
	struct elemtab *t = elemtab_new();
	struct seen s = {.fail_at = 2};

	ref(t, "g", 1, +1);
	ref(t, "g", 2, +1);
	ref(t, "g", 3, +1);
	ck_assert_int_eq(elemtab_changes(t, record, &s), -EIO);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_uint_eq(elemtab_pending(t), 3);
	s = changes(t);
	ck_assert_uint_eq(s.adds, 3);
	elemtab_free(t);
	elemtab_free(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("elemtab");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, add_commit_remove);
	tcase_add_test(tc, shared_element_goes_with_last_holder);
	tcase_add_test(tc, replacement_is_net_difference);
	tcase_add_test(tc, deletions_before_additions);
	tcase_add_test(tc, set_and_family_distinguish);
	tcase_add_test(tc, growth_and_removal);
	tcase_add_test(tc, clear_and_mark_installed);
	tcase_add_test(tc, callback_error_propagates);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
