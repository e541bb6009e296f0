/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The reconciler's change collection (agent/reconcile.c: reconcile_count,
 * reconcile_count_endpoint, reconcile_changes), without a kernel: for every golden case with
 * endpoints, starting from the elements installed for one endpoint set and applying the
 * collected deltas must give exactly the elements the compiler puts in the sets for the next
 * endpoint set. Every deletion must name an installed element and come before the additions,
 * every addition an element not installed, and a shared element (a bridge's dispatch entry, the
 * baseline's own) must stay while anything still holds it.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "compile.h"
#include "elemtab.h"
#include "endpoints.h"
#include "policy.h"
#include "reconcile.h"
#include "testutil.h"

/* The kernel's view of our element sets: one line per element, "family set key [: verdict]". */
struct state {
	char **v;
	size_t n, cap;
};

static void elem_line(enum ir_family family, const struct ir_set *s, const struct ir_elem *e,
		      bool with_data, char *buf, size_t len)
{
	size_t o = (size_t)snprintf(buf, len, "%d %s", (int)family, s->name);

	for (size_t c = 0; c < s->ntypes; c++) {
		const struct ir_value *v = &e->key[c];

		o += (size_t)snprintf(buf + o, len - o, " %u/", (unsigned)v->prefix);
		for (size_t i = 0; i < v->len; i++)
			o += (size_t)snprintf(buf + o, len - o, "%02x", v->data[i]);
	}
	if (with_data && s->is_vmap)
		snprintf(buf + o, len - o, " : %d %s", (int)e->verdict.kind,
			 e->verdict.chain ? e->verdict.chain : "");
}

/* The line of E in ST whose key matches (data ignored), or -1. */
static long state_find(const struct state *st, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i < st->n; i++)
		if (strncmp(st->v[i], key, klen) == 0 &&
		    (st->v[i][klen] == '\0' || st->v[i][klen] == ' '))
			return (long)i;
	return -1;
}

static void state_add(struct state *st, const char *line)
{
	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 64;
		st->v = realloc(st->v, st->cap * sizeof(*st->v));
		ck_assert_ptr_nonnull(st->v);
	}
	st->v[st->n] = strdup(line);
	ck_assert_ptr_nonnull(st->v[st->n]);
	st->n++;
}

static void state_free(struct state *st)
{
	for (size_t i = 0; i < st->n; i++)
		free(st->v[i]);
	free(st->v);
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The elements of RS's sets that endpoints may change (neither interval nor constant). */
static struct state state_of(const struct ir_ruleset *rs)
{
	struct state st = {0};
	char line[512];

	for (size_t ti = 0; ti < rs->n; ti++) {
		const struct ir_table *t = rs->tables[ti];

		if (strcmp(t->name, COMPILE_TABLE_NAME) != 0)
			continue;
		for (size_t si = 0; si < t->nsets; si++) {
			const struct ir_set *s = t->sets[si];

			if (s->interval || s->constant)
				continue;
			for (size_t k = 0; k < s->n; k++) {
				elem_line(t->family, s, &s->elems[k], true, line, sizeof(line));
				ck_assert_msg(state_find(&st, line) < 0, "duplicate element %s",
					      line);
				state_add(&st, line);
			}
		}
	}
	return st;
}

/* Applies C to ST as the kernel would, refusing what the kernel would refuse. */
static void state_apply(struct state *st, const struct reconcile_changes *c, const char *what)
{
	char key[512], line[512];
	bool adding = false;

	for (size_t i = 0; i < c->n; i++) {
		const struct nft_elem_delta *d = &c->deltas[i];
		long at;

		ck_assert_uint_eq(d->n, 1);
		ck_assert_ptr_eq(d->elems, &c->elems[i]);
		ck_assert_str_eq(d->table, COMPILE_TABLE_NAME);
		elem_line(d->family, d->set, d->elems, false, key, sizeof(key));
		at = state_find(st, key);
		if (d->del) {
			ck_assert_msg(!adding, "%s: deletion %s after an addition", what, key);
			ck_assert_msg(at >= 0, "%s: deletes %s, which is not installed", what, key);
			free(st->v[at]);
			st->v[at] = st->v[--st->n];
		} else {
			adding = true;
			ck_assert_msg(at < 0, "%s: adds %s, which is installed", what, key);
			elem_line(d->family, d->set, d->elems, true, line, sizeof(line));
			state_add(st, line);
		}
	}
}

static void ck_same_state(struct state *got, struct state *want, const char *what)
{
	/* qsort's array may not be NULL, even for no elements (UBSan holds it to that). */
	if (got->n)
		qsort(got->v, got->n, sizeof(*got->v), cmp_line);
	if (want->n)
		qsort(want->v, want->n, sizeof(*want->v), cmp_line);
	for (size_t i = 0; i < got->n && i < want->n; i++)
		ck_assert_msg(strcmp(got->v[i], want->v[i]) == 0, "%s: element %zu: %s, want %s",
			      what, i, got->v[i], want->v[i]);
	ck_assert_msg(got->n == want->n, "%s: %zu elements, want %zu", what, got->n, want->n);
}

struct fixture {
	const char *dir;
	struct policy *p;
	const char *bridges[16];
	char bridge_names[16][16];
	size_t nbridges;
	struct ir_ruleset *base;
};

static struct ir_ruleset *compile_for(const struct fixture *f, const struct endpoint_set *eps)
{
	struct compile_input in = {
	    .policy = f->p, .endpoints = eps, .bridges = f->bridges, .nbridges = f->nbridges};
	struct ir_ruleset *rs = NULL;

	ck_assert_int_eq(compile_ruleset(&in, &rs), 0);
	return rs;
}

static struct endpoint_set *load_eps(const char *dir)
{
	struct endpoint_set *eps = endpoint_set_new();
	struct diag_list *diags = diag_list_new();
	char path[4200];

	snprintf(path, sizeof(path), "%s/endpoints.yaml", dir);
	ck_assert_int_eq(endpoint_set_load(eps, path, diags), 0);
	diag_list_free(diags);
	return eps;
}

/*
 * The next endpoint set: the first endpoint gone, the (new) first one's first address moved.
 * Both a removal and a replacement by a changed copy.
 */
static struct endpoint_set *load_next(const char *dir)
{
	struct endpoint_set *eps = load_eps(dir);

	if (eps->n == 0)
		return eps;
	endpoint_clear(&eps->items[0]);
	memmove(&eps->items[0], &eps->items[1], (eps->n - 1) * sizeof(eps->items[0]));
	eps->n--;
	if (eps->n && eps->items[0].naddrs) {
		struct endpoint_addr *a = &eps->items[0].addrs[0];

		a->addr[a->family == AF_INET ? 3 : 15] ^= 0x40;
	}
	return eps;
}

/*
 * TAB counts FROM (installed); the transition takes FROM's endpoints out and TO's in, collects
 * the changes, applies them to the installed elements and compares with the compiler's for TO.
 */
static size_t check_transition(const struct fixture *f, struct elemtab *tab,
			       const struct endpoint_set *from, const struct endpoint_set *to,
			       const char *name)
{
	struct ir_ruleset *rs_from = compile_for(f, from), *rs_to = compile_for(f, to);
	struct state got = state_of(rs_from), want = state_of(rs_to);
	struct reconcile_changes c = {0};
	char what[4200];
	size_t n;

	snprintf(what, sizeof(what), "%s: %s", f->dir, name);
	ck_assert_int_eq(reconcile_count(tab, f->p, f->base, from), 0);
	elemtab_mark_installed(tab);
	for (size_t i = 0; from && i < from->n; i++)
		ck_assert_int_eq(reconcile_count_endpoint(tab, f->p, f->base, &from->items[i], -1),
				 0);
	for (size_t i = 0; to && i < to->n; i++)
		ck_assert_int_eq(reconcile_count_endpoint(tab, f->p, f->base, &to->items[i], +1),
				 0);
	ck_assert_int_eq(reconcile_changes(tab, f->base, &c), 0);
	state_apply(&got, &c, what);
	ck_same_state(&got, &want, what);
	n = c.n;
	reconcile_changes_free(&c);
	/* Committed, the table has nothing more to say. */
	elemtab_commit(tab);
	ck_assert_int_eq(reconcile_changes(tab, f->base, &c), 0);
	ck_assert_uint_eq(c.n, 0);
	reconcile_changes_free(&c);
	state_free(&got);
	state_free(&want);
	ir_ruleset_free(rs_from);
	ir_ruleset_free(rs_to);
	return n;
}

static void read_bridges(struct fixture *f)
{
	char path[4200], line[64];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/bridges", f->dir);
	fp = fopen(path, "r");
	if (!fp)
		return;
	while (f->nbridges < 16 && fgets(line, sizeof(line), fp))
		if (sscanf(line, "%15s", f->bridge_names[f->nbridges]) == 1) {
			f->bridges[f->nbridges] = f->bridge_names[f->nbridges];
			f->nbridges++;
		}
	fclose(fp);
}

/* Returns the number of element changes the case's transitions collected. */
static size_t check_case(const char *dir)
{
	struct fixture f = {.dir = dir};
	struct diag_list *diags = diag_list_new();
	struct elemtab *tab = elemtab_new();
	struct endpoint_set *all = load_eps(dir), *next = load_next(dir);
	char path[4200];
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	ck_assert_int_eq(policy_load(path, diags, &f.p), 0);
	read_bridges(&f);
	f.base = compile_for(&f, NULL);
	n += check_transition(&f, tab, NULL, all, "none -> all");
	n += check_transition(&f, tab, all, next, "all -> next");
	n += check_transition(&f, tab, next, all, "next -> all");
	n += check_transition(&f, tab, all, NULL, "all -> none");
	n += check_transition(&f, tab, all, all, "all -> all");
	endpoint_set_free(all);
	endpoint_set_free(next);
	ir_ruleset_free(f.base);
	policy_free(f.p);
	elemtab_free(tab);
	diag_list_free(diags);
	return n;
}

START_TEST(golden_transitions)
{
	const char *root = tu_src_path("tests/golden");
	DIR *d = opendir(root);
	struct dirent *de;
	size_t cases = 0, changes = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		char dir[4096], eps[4200];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", root, de->d_name);
		snprintf(eps, sizeof(eps), "%s/endpoints.yaml", dir);
		if (stat(eps, &st) != 0)
			continue;
		changes += check_case(dir);
		cases++;
	}
	closedir(d);
	printf("reconcile: %zu golden cases, %zu element changes checked\n", cases, changes);
	ck_assert_uint_ge(cases, 10);
	ck_assert_uint_gt(changes, 100);
}
END_TEST

/* A bridge's dispatch entry is shared: it goes with the last endpoint on that bridge only. */
START_TEST(shared_dispatch_entry)
{
	static const char policy[] = "version: 1\n"
				     "defaults: { container_to_container: deny }\n"
				     "groups:\n"
				     "  web: { labels: { app: web } }\n"
				     "rules:\n"
				     "  - { name: w, from: web, to: web, ports: [tcp/80] }\n";
	static const char eps_text[] = "endpoints:\n"
				       "  - name: a\n"
				       "    interface: veth-a\n"
				       "    bridge: br-x\n"
				       "    addresses: [10.0.0.2]\n"
				       "    labels: { app: web }\n"
				       "  - name: b\n"
				       "    interface: veth-b\n"
				       "    bridge: br-x\n"
				       "    addresses: [10.0.0.3]\n"
				       "    labels: { app: web }\n";
	struct fixture f = {.dir = "inline"};
	struct endpoint_set *eps = endpoint_set_new();
	struct elemtab *tab = elemtab_new();
	struct reconcile_changes c = {0};
	struct state before, after;
	char *out;
	int r;

	out = tu_check_policy("policy.yaml", policy, &r, &f.p);
	ck_assert_msg(r == 0, "%s", out);
	free(out);
	out = tu_load_endpoints(eps, "endpoints.yaml", eps_text, &r);
	ck_assert_msg(r == 0, "%s", out);
	free(out);
	f.base = compile_for(&f, NULL);
	ck_assert_int_eq(reconcile_count(tab, f.p, f.base, eps), 0);
	elemtab_mark_installed(tab);
	/* a leaves: its own elements go, br-x's entries stay (b is still on br-x) */
	ck_assert_int_eq(reconcile_count_endpoint(tab, f.p, f.base, &eps->items[0], -1), 0);
	ck_assert_int_eq(reconcile_changes(tab, f.base, &c), 0);
	ck_assert_uint_gt(c.n, 0);
	for (size_t i = 0; i < c.n; i++) {
		char line[512];

		ck_assert(c.deltas[i].del);
		elem_line(c.deltas[i].family, c.deltas[i].set, c.deltas[i].elems, false, line,
			  sizeof(line));
		/* 62722d78: "br-x" in a key */
		ck_assert_msg(!strstr(line, "62722d78"), "a's leaving deletes a br-x element: %s",
			      line);
	}
	{
		struct ir_ruleset *full = compile_for(&f, eps), *rest;
		struct endpoint_set *only_b = endpoint_set_new();

		before = state_of(full);
		state_apply(&before, &c, "a leaves");
		out = tu_load_endpoints(only_b, "endpoints.yaml",
					"endpoints:\n  - name: b\n    interface: veth-b\n"
					"    bridge: br-x\n    addresses: [10.0.0.3]\n"
					"    labels: { app: web }\n",
					&r);
		ck_assert_msg(r == 0, "%s", out);
		free(out);
		rest = compile_for(&f, only_b);
		after = state_of(rest);
		ck_same_state(&before, &after, "a leaves");
		state_free(&before);
		state_free(&after);
		ir_ruleset_free(full);
		ir_ruleset_free(rest);
		endpoint_set_free(only_b);
	}
	reconcile_changes_free(&c);
	reconcile_changes_free(NULL);
	endpoint_set_free(eps);
	ir_ruleset_free(f.base);
	policy_free(f.p);
	elemtab_free(tab);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reconcile");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, golden_transitions);
	tcase_add_test(tc, shared_dispatch_entry);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
