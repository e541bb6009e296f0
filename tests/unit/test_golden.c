/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Golden files are the compiler's specification: every tests/golden/<case>/ holds a policy
 * (policy.yaml, policy.json or policy.d/), endpoints.yaml (optional), bridges (optional, one
 * name per line) and expected.nft, the exact text `netseg compile` must print. A mismatch
 * prints a diff. NETSEG_UPDATE_GOLDEN=1 rewrites expected.nft instead (review it by eye!).
 *
 * Each golden and each examples/<name>/ is also checked by nft itself (`nft -c -f`) in a
 * fresh network namespace, skipped with a message where that is impossible (not root, no
 * unshare, no nft).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compile.h"
#include "emit_nft.h"
#include "endpoints.h"
#include "policy.h"
#include "testutil.h"

#define GOLDEN_MAX_CASES   256
#define GOLDEN_MAX_BRIDGES 64

static char *golden_cases[GOLDEN_MAX_CASES];
static size_t golden_ncases;
static char *example_cases[GOLDEN_MAX_CASES];
static size_t example_ncases;

static int golden_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted subdirectory names of REL (relative to the source tree). */
static size_t golden_list(const char *rel, char **out)
{
	DIR *d = opendir(tu_src_path(rel));
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < GOLDEN_MAX_CASES) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		out[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(out, n, sizeof(*out), golden_name_cmp);
	return n;
}

static bool golden_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* The policy path of a case dir: policy.d/, policy.yaml, policy.yml or policy.json. */
static const char *golden_policy_path(const char *dir, char *buf, size_t len)
{
	static const char *const names[] = {"policy.d", "policy.yaml", "policy.yml", "policy.json"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(buf, len, "%s/%s", dir, names[i]);
		if (golden_exists(buf))
			return buf;
	}
	return NULL;
}

/* Compiles the case in DIR and returns the nft text (caller frees), or NULL with a message. */
static char *golden_compile(const char *dir)
{
	char ppath[4096], epath[4096], bpath[4096], line[256];
	char *bridges[GOLDEN_MAX_BRIDGES];
	size_t nbridges = 0, len = 0;
	struct diag_list *diags = diag_list_new();
	struct policy *p = NULL;
	struct endpoint_set *eps = NULL;
	struct ir_ruleset *rs = NULL;
	char *text = NULL;
	FILE *f;
	int r;

	ck_assert_ptr_nonnull(diags);
	ck_assert_msg(golden_policy_path(dir, ppath, sizeof(ppath)), "%s: no policy", dir);
	r = policy_load(ppath, diags, &p);
	if (r < 0) {
		diag_print(diags, stderr);
		ck_abort_msg("%s: policy_load: %s", dir, strerror(-r));
	}
	snprintf(epath, sizeof(epath), "%s/endpoints.yaml", dir);
	if (golden_exists(epath)) {
		eps = endpoint_set_new();
		ck_assert_ptr_nonnull(eps);
		r = endpoint_set_load(eps, epath, diags);
		if (r < 0) {
			diag_print(diags, stderr);
			ck_abort_msg("%s: endpoint_set_load: %s", dir, strerror(-r));
		}
	}
	snprintf(bpath, sizeof(bpath), "%s/bridges", dir);
	f = fopen(bpath, "r");
	while (f && fgets(line, sizeof(line), f) && nbridges < GOLDEN_MAX_BRIDGES) {
		line[strcspn(line, " \t\r\n")] = '\0';
		if (line[0] && line[0] != '#')
			bridges[nbridges++] = strdup(line);
	}
	if (f)
		fclose(f);

	struct compile_input in = {
	    .policy = p,
	    .endpoints = eps,
	    .bridges = (const char *const *)bridges,
	    .nbridges = nbridges,
	};
	r = compile_ruleset(&in, &rs);
	ck_assert_msg(r == 0, "%s: compile_ruleset: %s", dir, strerror(-r));
	f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	r = emit_nft(rs, f);
	fclose(f);
	ck_assert_msg(r == 0, "%s: emit_nft: %s", dir, strerror(-r));

	ir_ruleset_free(rs);
	policy_free(p);
	endpoint_set_free(eps);
	diag_list_free(diags);
	for (size_t i = 0; i < nbridges; i++)
		free(bridges[i]);
	return text;
}

/* --- a small line diff (LCS), enough to see what changed --- */

static size_t golden_split(char *s, char ***ret)
{
	size_t n = 0, cap = 64;
	char **v = malloc(cap * sizeof(*v));

	for (char *p = s; *p;) {
		char *nl = strchr(p, '\n');

		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof(*v));
		v[n++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	*ret = v;
	return n;
}

static void golden_diff(const char *name, const char *want, const char *got)
{
	char *a = strdup(want), *b = strdup(got);
	char **la, **lb;
	size_t na = golden_split(a, &la), nb = golden_split(b, &lb);
	unsigned *lcs = calloc((na + 1) * (nb + 1), sizeof(*lcs));
	size_t i = 0, j = 0, shown = 0;

#define L(x, y) lcs[(x) * (nb + 1) + (y)]
	for (size_t x = na; x-- > 0;)
		for (size_t y = nb; y-- > 0;)
			L(x, y) = strcmp(la[x], lb[y]) == 0   ? L(x + 1, y + 1) + 1
				  : L(x + 1, y) > L(x, y + 1) ? L(x + 1, y)
							      : L(x, y + 1);
	fprintf(stderr, "--- %s/expected.nft\n+++ compiled\n", name);
	while ((i < na || j < nb) && shown < 200) {
		if (i < na && j < nb && strcmp(la[i], lb[j]) == 0) {
			i++;
			j++;
		} else if (j < nb && (i == na || L(i, j + 1) >= L(i + 1, j))) {
			fprintf(stderr, "@%zu +%s\n", j + 1, lb[j]);
			j++;
			shown++;
		} else {
			fprintf(stderr, "@%zu -%s\n", i + 1, la[i]);
			i++;
			shown++;
		}
	}
#undef L
	free(lcs);
	free(la);
	free(lb);
	free(a);
	free(b);
}

/* --- nft -c in a fresh network namespace --- */

/* 0 accepted, 77 skipped (message printed), else failed. */
static int golden_nft_check(const char *name, const char *text)
{
	char path[] = "/tmp/netseg-golden-XXXXXX";
	int fd, status;
	pid_t pid;

	if (geteuid() != 0) {
		fprintf(stderr, "%s: nft -c skipped: not root\n", name);
		return 77;
	}
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int devnull;

		if (unshare(CLONE_NEWNET) < 0)
			_exit(77);
		devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, STDOUT_FILENO);
		execlp("nft", "nft", "-c", "-f", path, (char *)NULL);
		_exit(78);
	}
	waitpid(pid, &status, 0);
	unlink(path);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		fprintf(stderr, "%s: nft -c skipped: cannot unshare a network namespace\n", name);
		return 77;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 78) {
		fprintf(stderr, "%s: nft -c skipped: nft not found\n", name);
		return 77;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

START_TEST(test_golden_case)
{
	const char *name = golden_cases[_i];
	char dir[4096], exp_path[4096 + 16];
	char *got, *want;

	snprintf(dir, sizeof(dir), "%s", tu_src_path("tests/golden"));
	strncat(dir, "/", sizeof(dir) - strlen(dir) - 1);
	strncat(dir, name, sizeof(dir) - strlen(dir) - 1);
	snprintf(exp_path, sizeof(exp_path), "%s/expected.nft", dir);
	got = golden_compile(dir);

	/* Byte-identical across runs: compile again and compare with the first. */
	char *again = golden_compile(dir);
	ck_assert_msg(strcmp(got, again) == 0, "%s: two compilations differ", name);
	free(again);

	if (getenv("NETSEG_UPDATE_GOLDEN") && strcmp(getenv("NETSEG_UPDATE_GOLDEN"), "1") == 0) {
		FILE *f = fopen(exp_path, "w");

		ck_assert_ptr_nonnull(f);
		fputs(got, f);
		fclose(f);
		fprintf(stderr, "%s: expected.nft rewritten\n", name);
	}
	want = tu_read_file(exp_path, NULL);
	ck_assert_msg(want, "%s: no expected.nft (NETSEG_UPDATE_GOLDEN=1 writes it)", name);
	if (strcmp(want, got) != 0) {
		golden_diff(name, want, got);
		ck_abort_msg("%s: compiled text differs from expected.nft", name);
	}
	int r = golden_nft_check(name, got);
	ck_assert_msg(r == 0 || r == 77, "%s: nft -c -f rejected the text (exit %d)", name, r);
	free(want);
	free(got);
}
END_TEST

/* `netseg check` on an example: exit 0. */
static void golden_netseg_check(const char *name, const char *policy)
{
	const char *bin = getenv("NETSEG_BIN");
	char cmd[8192];
	int st;

	if (!bin)
		return;
	snprintf(cmd, sizeof(cmd), "'%s' check -p '%s' >/dev/null", bin, policy);
	st = system(cmd);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: netseg check failed", name);
}

START_TEST(test_example)
{
	const char *name = example_cases[_i];
	char dir[4096], ppath[4096];
	char *got;
	int r;

	snprintf(dir, sizeof(dir), "%s", tu_src_path("examples"));
	strncat(dir, "/", sizeof(dir) - strlen(dir) - 1);
	strncat(dir, name, sizeof(dir) - strlen(dir) - 1);
	if (!golden_policy_path(dir, ppath, sizeof(ppath)))
		return; /* not a policy example (e.g. demo scripts) */
	golden_netseg_check(name, ppath);
	got = golden_compile(dir);
	r = golden_nft_check(name, got);
	ck_assert_msg(r == 0 || r == 77, "%s: nft -c -f rejected the text (exit %d)", name, r);
	free(got);
}
END_TEST

static Suite *golden_suite(void)
{
	Suite *s = suite_create("golden");
	TCase *tc = tcase_create("golden");
	TCase *te = tcase_create("examples");

	golden_ncases = golden_list("tests/golden", golden_cases);
	example_ncases = golden_list("examples", example_cases);
	tcase_add_loop_test(tc, test_golden_case, 0, (int)golden_ncases);
	tcase_add_loop_test(te, test_example, 0, (int)example_ncases);
	tcase_set_timeout(tc, 120);
	tcase_set_timeout(te, 120);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, te);
	return s;
}

int main(void)
{
	return tu_run(golden_suite());
}
