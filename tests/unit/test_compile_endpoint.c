/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * compile_endpoint_elems() against the full compiler: for every golden case and every
 * example, compiling with all endpoints must give exactly the ruleset compiled with none,
 * plus each endpoint's elements added one by one. That is what lets the agent add and remove
 * containers as element changes only.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compile.h"
#include "emit_nft.h"
#include "endpoints.h"
#include "policy.h"
#include "testutil.h"

struct added {
	struct ir_ruleset *base;
	size_t n;
	size_t ifname_elems; /* elements keyed by an interface name */
};

/* Adds E to the set of the same name in the baseline (the set S belongs to it already). */
static int add_to_base(const struct ir_table *t, const struct ir_set *s, const struct ir_elem *e,
		       void *userdata)
{
	struct added *a = userdata;

	(void)t;
	a->n++;
	for (size_t i = 0; i < s->ntypes; i++)
		a->ifname_elems += s->types[i] == IR_TYPE_IFNAME;
	return ir_elem_add((struct ir_set *)s, e);
}

static char *render(const struct ir_ruleset *rs)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(emit_nft(rs, f), 0);
	fclose(f);
	return text;
}

static const char *first_file(const char *dir, const char *const *names, size_t n)
{
	static char path[8192];
	struct stat st;

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0)
			return path;
	}
	return NULL;
}

static size_t read_bridges(const char *dir, char names[][16], size_t max)
{
	char path[8192], line[64];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/bridges", dir);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f))
		if (sscanf(line, "%15s", names[n]) == 1)
			n++;
	fclose(f);
	return n;
}

/* Another host's container, as the cluster source gives it: addresses and labels, no
 * interface and no bridge. */
static void make_remote(struct endpoint_set *eps)
{
	for (size_t i = 0; i < eps->n; i++) {
		free(eps->items[i].interface);
		free(eps->items[i].bridge);
		eps->items[i].interface = eps->items[i].bridge = NULL;
	}
}

/* Returns the number of endpoint elements checked, or 0 when DIR has no endpoints. REMOTE:
 * every endpoint as a remote one, which must cost no interface element at all. */
static size_t check_case(const char *dir, bool remote)
{
	static const char *const policies[] = {"policy.d", "policy.yaml", "policy.json"};
	static const char *const endpoint_files[] = {"endpoints.yaml", "endpoints.json"};
	char bridge_names[16][16];
	const char *bridges[16];
	struct diag_list *diags = diag_list_new();
	struct endpoint_set *eps = endpoint_set_new();
	struct policy *p = NULL;
	struct ir_ruleset *full = NULL, *base = NULL;
	const char *path;
	size_t nbridges = read_bridges(dir, bridge_names, 16);
	struct added a = {0};
	char *full_text, *base_text;

	for (size_t i = 0; i < nbridges; i++)
		bridges[i] = bridge_names[i];
	path = first_file(dir, policies, 3);
	ck_assert_msg(path != NULL, "%s: no policy", dir);
	ck_assert_int_eq(policy_load(path, diags, &p), 0);
	path = first_file(dir, endpoint_files, 2);
	if (!path || endpoint_set_load(eps, path, diags) < 0 || eps->n == 0) {
		policy_free(p);
		endpoint_set_free(eps);
		diag_list_free(diags);
		return 0;
	}
	if (remote)
		make_remote(eps);

	struct compile_input in = {
	    .policy = p, .endpoints = eps, .bridges = bridges, .nbridges = nbridges};
	ck_assert_int_eq(compile_ruleset(&in, &full), 0);
	in.endpoints = NULL;
	ck_assert_int_eq(compile_ruleset(&in, &base), 0);
	a.base = base;
	for (size_t i = 0; i < eps->n; i++)
		ck_assert_int_eq(compile_endpoint_elems(p, base, &eps->items[i], add_to_base, &a),
				 0);
	ir_ruleset_normalize(base);
	if (remote)
		ck_assert_msg(a.ifname_elems == 0,
			      "%s: %zu interface elements for remote endpoints", dir,
			      a.ifname_elems);

	full_text = render(full);
	base_text = render(base);
	ck_assert_msg(strcmp(full_text, base_text) == 0,
		      "%s: baseline + endpoint elements differ from the full compile", dir);
	free(full_text);
	free(base_text);
	ir_ruleset_free(full);
	ir_ruleset_free(base);
	policy_free(p);
	endpoint_set_free(eps);
	diag_list_free(diags);
	return a.n;
}

static size_t check_tree(const char *rel, bool remote)
{
	const char *root = tu_src_path(rel);
	struct dirent **names;
	size_t total = 0, cases = 0;
	int n = scandir(root, &names, NULL, alphasort);

	ck_assert_int_ge(n, 0);
	for (int i = 0; i < n; i++) {
		char dir[4096];
		struct stat st;

		snprintf(dir, sizeof(dir), "%s/%s", root, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
			size_t k = check_case(dir, remote);

			total += k;
			cases += k > 0;
		}
		free(names[i]);
	}
	free(names);
	ck_assert_msg(cases >= 3, "%s: only %zu cases with endpoints", rel, cases);
	return total;
}

START_TEST(golden_cases_decompose)
{
	ck_assert_uint_gt(check_tree("tests/golden", false), 0);
}
END_TEST

START_TEST(examples_decompose)
{
	ck_assert_uint_gt(check_tree("examples", false), 0);
}
END_TEST

/* Remote endpoints decompose too, with address elements only. */
START_TEST(remote_endpoints_decompose)
{
	ck_assert_uint_gt(check_tree("tests/golden", true), 0);
	ck_assert_uint_gt(check_tree("examples", true), 0);
}
END_TEST

/* A remote endpoint's addresses are containers and members of its groups. */
START_TEST(remote_endpoint_is_a_container)
{
	struct diag_list *diags = diag_list_new();
	struct policy *p = NULL;
	struct endpoint_set *eps = endpoint_set_new();
	struct ir_ruleset *rs = NULL;
	char *text;

	ck_assert_int_eq(policy_load(tu_src_path("examples/dual-stack/policy.yaml"), diags, &p), 0);
	ck_assert_int_eq(
	    endpoint_set_load(eps, tu_src_path("examples/dual-stack/endpoints.yaml"), diags), 0);
	make_remote(eps);
	struct compile_input in = {.policy = p, .endpoints = eps};
	ck_assert_int_eq(compile_ruleset(&in, &rs), 0);
	text = render(rs);
	ck_assert_ptr_null(strstr(text, "veth-api1"));
	ck_assert_ptr_nonnull(strstr(text, "10.60.0.2"));
	ck_assert_ptr_nonnull(strstr(text, "fd60::9"));
	free(text);
	ir_ruleset_free(rs);
	policy_free(p);
	endpoint_set_free(eps);
	diag_list_free(diags);
}
END_TEST

/* An endpoint's elements do not depend on how many other endpoints exist. */
START_TEST(elements_independent_of_inventory)
{
	struct diag_list *diags = diag_list_new();
	struct policy *p = NULL;
	struct endpoint_set *eps = endpoint_set_new();
	struct ir_ruleset *rs = NULL;
	struct added a = {0};
	size_t first;

	ck_assert_int_eq(policy_load(tu_src_path("examples/icc-off/policy.yaml"), diags, &p), 0);
	ck_assert_int_eq(
	    endpoint_set_load(eps, tu_src_path("examples/icc-off/endpoints.yaml"), diags), 0);
	struct compile_input in = {.policy = p, .endpoints = eps};
	ck_assert_int_eq(compile_ruleset(&in, &rs), 0);
	a.base = rs;
	ck_assert_int_eq(compile_endpoint_elems(p, rs, &eps->items[0], add_to_base, &a), 0);
	first = a.n;
	in.endpoints = NULL;
	ir_ruleset_free(rs);
	ck_assert_int_eq(compile_ruleset(&in, &rs), 0);
	a.n = 0;
	a.base = rs;
	ck_assert_int_eq(compile_endpoint_elems(p, rs, &eps->items[0], add_to_base, &a), 0);
	ck_assert_uint_eq(a.n, first);
	ck_assert_uint_gt(first, 4);
	ir_ruleset_free(rs);
	policy_free(p);
	endpoint_set_free(eps);
	diag_list_free(diags);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("compile_endpoint");
	TCase *tc = tcase_create("decompose");

	tcase_add_test(tc, golden_cases_decompose);
	tcase_add_test(tc, examples_decompose);
	tcase_add_test(tc, remote_endpoints_decompose);
	tcase_add_test(tc, remote_endpoint_is_a_container);
	tcase_add_test(tc, elements_independent_of_inventory);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
