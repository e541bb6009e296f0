/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_TESTUTIL_H
#define NETSEG_TESTUTIL_H

#include <check.h>
#include <stddef.h>

struct diag_list;
struct endpoint_set;
struct policy;

/* Absolute path of a file in the source tree (NETSEG_SRCDIR). Static buffer per call slot. */
const char *tu_src_path(const char *rel);
/* Reads a whole file; NULL on error. Caller frees. */
char *tu_read_file(const char *path, size_t *ret_len);
/* Writes TEXT to DIR/NAME, failing the test if it cannot. */
void tu_write_file(const char *dir, const char *name, const char *text);
/* Runs SUITE and returns the process exit status (0 when every test passed). */
int tu_run(Suite *s);

/*
 * Diagnostics are compared as `netseg check` prints them, so a test pins the exact text a user
 * sees. Every helper below returns that rendering (caller frees); FILE's extension picks the
 * format, and FILE is the name the rendering shows.
 */
char *tu_render(const struct diag_list *d);

struct tu_doc {
	const char *file;
	const char *text;
};

/*
 * Parses and validates DOCS as one merged policy: the result in *ret_r, the policy in *ret_p
 * when not NULL (freed otherwise).
 */
char *tu_check_policy_docs(const struct tu_doc *docs, size_t n, int *ret_r, struct policy **ret_p);
char *tu_check_policy(const char *file, const char *text, int *ret_r, struct policy **ret_p);
/* Parses TEXT as an endpoint file and appends it to S; the result in *ret_r. */
char *tu_load_endpoints(struct endpoint_set *s, const char *file, const char *text, int *ret_r);

/*
 * Bad-input case NAME, read as FILE, gave result R and rendering OUT: it must fail with -EINVAL
 * and render exactly WANT. Frees OUT.
 */
void tu_assert_bad(const char *name, const char *file, int r, char *out, const char *want);

/* The policy example of the spec, in both formats (the same document). */
extern const char tu_spec_policy_yaml[];
extern const char tu_spec_policy_json[];

#endif
