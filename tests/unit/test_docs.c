/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * docs/policy.md must not lie: every ```yaml/```json block in it is checked. The info string
 * says what the block is:
 *   policy, endpoints        valid: no error at all
 *   warning                  valid, and the next ```text block is exactly the warnings
 *   invalid                  a policy whose errors are exactly the next ```text block
 *   endpoints-invalid        the same for an endpoint file
 * Files are named policy.yaml/.json or endpoints.yaml/.json in the rendered diagnostics.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints.h"
#include "parse.h"
#include "policy.h"
#include "testutil.h"

#define MAX_BLOCKS 128

struct block {
	char info[64];
	char *text;
	int line; /* of the opening fence, for failure messages */
};

static struct block blocks[MAX_BLOCKS];
static size_t nblocks;

/* Splits the markdown into fenced blocks (info string + body). */
static void extract(char *md)
{
	char *line = md, *body = NULL;
	struct block *cur = NULL;
	int lineno = 0;

	while (line && *line) {
		char *next = strchr(line, '\n');

		if (next)
			*next++ = '\0';
		lineno++;
		if (!cur && strncmp(line, "```", 3) == 0) {
			ck_assert_uint_lt(nblocks, MAX_BLOCKS);
			cur = &blocks[nblocks++];
			snprintf(cur->info, sizeof(cur->info), "%s", line + 3);
			cur->line = lineno;
			body = next;
		} else if (cur && strcmp(line, "```") == 0) {
			size_t len = (size_t)(line - body);

			/* The lines were split in place: turn their NULs back into newlines. */
			cur->text = calloc(1, len + 1);
			ck_assert_ptr_nonnull(cur->text);
			if (len)
				memcpy(cur->text, body, len);
			for (size_t k = 0; k < len; k++)
				if (!cur->text[k])
					cur->text[k] = '\n';
			cur = NULL;
		}
		line = next;
	}
	ck_assert_msg(!cur, "unterminated block at line %d", cur ? cur->line : 0);
}

static void setup(void)
{
	char *md = tu_read_file(tu_src_path("docs/policy.md"), NULL);

	ck_assert_msg(md != NULL, "cannot read docs/policy.md");
	nblocks = 0;
	extract(md);
	free(md);
}

static void teardown(void)
{
	for (size_t i = 0; i < nblocks; i++)
		free(blocks[i].text);
	nblocks = 0;
}

/* Validates block B as a policy or an endpoint file; returns the rendered diagnostics. */
static char *run(const struct block *b, bool endpoints, int *ret_r)
{
	bool json = strncmp(b->info, "json", 4) == 0;
	const char *file = endpoints ? (json ? "endpoints.json" : "endpoints.yaml")
				     : (json ? "policy.json" : "policy.yaml");
	struct endpoint_set *s;
	char *out;

	if (!endpoints)
		return tu_check_policy(file, b->text, ret_r, NULL);
	s = endpoint_set_new();
	ck_assert_ptr_nonnull(s);
	out = tu_load_endpoints(s, file, b->text, ret_r);
	endpoint_set_free(s);
	return out;
}

static const struct block *expected_text(size_t i)
{
	ck_assert_msg(i + 1 < nblocks && strcmp(blocks[i + 1].info, "text") == 0,
		      "block at line %d must be followed by a ```text block", blocks[i].line);
	return &blocks[i + 1];
}

START_TEST(test_examples)
{
	size_t checked = 0, invalid = 0;

	for (size_t i = 0; i < nblocks; i++) {
		const struct block *b = &blocks[i];
		const char *kind = strchr(b->info, ' ');
		char *out;
		int r;

		if (strncmp(b->info, "yaml", 4) != 0 && strncmp(b->info, "json", 4) != 0)
			continue;
		ck_assert_msg(kind, "line %d: ```%s needs a kind (policy, invalid, ...)", b->line,
			      b->info);
		kind++;
		checked++;
		if (!strcmp(kind, "policy") || !strcmp(kind, "endpoints")) {
			out = run(b, !strcmp(kind, "endpoints"), &r);
			ck_assert_msg(r == 0 && !strcmp(out, ""),
				      "line %d: expected valid, got:\n%s", b->line, out);
		} else if (!strcmp(kind, "warning") || !strcmp(kind, "invalid") ||
			   !strcmp(kind, "endpoints-invalid")) {
			const struct block *want = expected_text(i);
			bool valid = !strcmp(kind, "warning");

			out = run(b, !strcmp(kind, "endpoints-invalid"), &r);
			ck_assert_msg(valid ? r == 0 : r == -EINVAL, "line %d: r=%d", b->line, r);
			ck_assert_msg(!strcmp(out, want->text),
				      "line %d: documented:\n%sactual:\n%s", b->line, want->text,
				      out);
			invalid += !valid;
		} else {
			ck_abort_msg("line %d: unknown kind '%s'", b->line, kind);
		}
		free(out);
	}
	/* Guards against an extractor that silently finds nothing. */
	ck_assert_uint_ge(checked, 20);
	ck_assert_uint_ge(invalid, 10);
}
END_TEST

static Suite *docs_suite(void)
{
	Suite *s = suite_create("docs");
	TCase *tc = tcase_create("policy.md");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_examples);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(docs_suite());
}
