/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The policy front end: YAML/JSON to node tree, locations, limits, diagnostics. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "node.h"
#include "parse.h"
#include "testutil.h"

/* ---- helpers ---- */

static const char *file_for(enum parse_format fmt)
{
	return fmt == PARSE_JSON ? "t.json" : "t.yaml";
}

/* Parses TEXT, which must succeed; the diag list is returned too since it owns file names. */
static struct node *parse_ok(const char *text, enum parse_format fmt, struct diag_list **ret_d)
{
	struct diag_list *d = diag_list_new();
	struct node *root = NULL;
	int r = parse_buffer(text, strlen(text), file_for(fmt), fmt, d, &root);

	if (r != 0) {
		char *msg = tu_render(d);
		ck_abort_msg("parse failed (%d): %s", r, msg);
	}
	ck_assert_ptr_nonnull(root);
	ck_assert_uint_eq(d->nerrors, 0);
	*ret_d = d;
	return root;
}

/* Parses TEXT, which must fail with R, and returns the rendered diagnostics. */
static char *parse_fail_len(const char *text, size_t len, enum parse_format fmt, int expect_r)
{
	struct diag_list *d = diag_list_new();
	struct node *root = (struct node *)0x1;
	char *out;
	int r = parse_buffer(text, len, file_for(fmt), fmt, d, &root);

	ck_assert_int_eq(r, expect_r);
	ck_assert_ptr_eq(root, (struct node *)0x1); /* out-param untouched on failure */
	ck_assert_uint_ge(d->nerrors, 1);
	out = tu_render(d);
	diag_list_free(d);
	return out;
}

static char *parse_fail(const char *text, enum parse_format fmt)
{
	return parse_fail_len(text, strlen(text), fmt, -EINVAL);
}

#define ck_assert_parse_error_len(text, len, fmt, expected)                                        \
	do {                                                                                       \
		char *_out = parse_fail_len(text, len, fmt, -EINVAL);                              \
		ck_assert_str_eq(_out, expected);                                                  \
		free(_out);                                                                        \
	} while (0)

#define ck_assert_parse_error(text, fmt, expected)                                                 \
	do {                                                                                       \
		char *_out = parse_fail(text, fmt);                                                \
		ck_assert_str_eq(_out, expected);                                                  \
		free(_out);                                                                        \
	} while (0)

static void assert_loc(const struct node *n, int line, int col)
{
	ck_assert_ptr_nonnull(n);
	ck_assert_msg(n->loc.line == line && n->loc.col == col,
		      "node '%s' at %d:%d, expected %d:%d", n->str ? n->str : node_kind_name(n),
		      n->loc.line, n->loc.col, line, col);
}

static const struct node *get(const struct node *m, const char *key)
{
	const struct node *v = node_map_get(m, key, NULL);

	ck_assert_msg(v != NULL, "no key '%s'", key);
	return v;
}

static const struct node *key_of(const struct node *m, const char *key)
{
	struct node *k = NULL;

	ck_assert_ptr_nonnull(node_map_get(m, key, &k));
	return k;
}

/* Equal kinds, types and values; locations and spellings of non-strings may differ. */
static bool node_equal(const struct node *a, const struct node *b)
{
	if (a->kind != b->kind || a->n != b->n)
		return false;
	if (a->kind == NODE_SCALAR) {
		if (a->type != b->type)
			return false;
		switch (a->type) {
		case NODE_STR:
			return strcmp(a->str, b->str) == 0;
		case NODE_INT:
			return a->ival == b->ival;
		case NODE_BOOL:
			return a->bval == b->bval;
		case NODE_FLOAT:
			return a->fval == b->fval;
		case NODE_NULL:
			return true;
		}
	}
	for (size_t i = 0; i < a->n; i++) {
		if (a->kind == NODE_MAP && !node_equal(a->keys[i], b->keys[i]))
			return false;
		if (!node_equal(a->items[i], b->items[i]))
			return false;
	}
	return true;
}

static void assert_equivalent(const char *yaml, const char *json)
{
	struct diag_list *dy, *dj;
	struct node *y = parse_ok(yaml, PARSE_YAML, &dy);
	struct node *j = parse_ok(json, PARSE_JSON, &dj);

	ck_assert_msg(node_equal(y, j), "YAML and JSON trees differ:\n%s\n%s", yaml, json);
	node_free(y);
	node_free(j);
	diag_list_free(dy);
	diag_list_free(dj);
}

static char *nested(const char *open, const char *close, int depth)
{
	size_t lo = strlen(open), lc = strlen(close);
	char *s = malloc(depth * (lo + lc) + 2), *p = s;

	for (int i = 0; i < depth; i++, p += lo)
		memcpy(p, open, lo);
	*p++ = '1';
	for (int i = 0; i < depth; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	return s;
}

static char *make_tmpdir(void)
{
	char *dir = strdup("/tmp/netseg-test-parse-XXXXXX");

	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

static void remove_tree(const char *dir)
{
	char cmd[4200];

	/* Only ever our own mkdtemp directory. */
	ck_assert(strncmp(dir, "/tmp/netseg-test-parse-", 23) == 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* ---- locations ---- */

START_TEST(yaml_block_locations)
{
	struct diag_list *d;
	struct node *root = parse_ok("version: 1\n"
				     "rules:\n"
				     "  - name: web\n"
				     "    ports:\n"
				     "      - tcp/80\n"
				     "      - 'udp/53'\n",
				     PARSE_YAML, &d);
	const struct node *rules = get(root, "rules"), *rule, *ports;

	assert_loc(root, 1, 1);
	assert_loc(key_of(root, "version"), 1, 1);
	assert_loc(get(root, "version"), 1, 10);
	assert_loc(key_of(root, "rules"), 2, 1);
	assert_loc(rules, 3, 3);
	rule = rules->items[0];
	assert_loc(rule, 3, 5);
	assert_loc(get(rule, "name"), 3, 11);
	ports = get(rule, "ports");
	assert_loc(ports, 5, 7);
	assert_loc(ports->items[0], 5, 9);
	assert_loc(ports->items[1], 6, 9);
	ck_assert_ptr_eq(root->loc.file, d->files[0]);
	ck_assert_str_eq(root->loc.file, "t.yaml");
	node_free(root);
	diag_list_free(d);
}
END_TEST

START_TEST(yaml_flow_locations)
{
	struct diag_list *d;
	struct node *root = parse_ok("a: {b: [1, \"two\", {c: d}], e: []}\n", PARSE_YAML, &d);
	const struct node *a = get(root, "a"), *b = get(a, "b");

	assert_loc(a, 1, 4);
	assert_loc(key_of(a, "b"), 1, 5);
	assert_loc(b, 1, 8);
	assert_loc(b->items[0], 1, 9);
	assert_loc(b->items[1], 1, 12);
	assert_loc(b->items[2], 1, 19);
	assert_loc(get(b->items[2], "c"), 1, 23);
	assert_loc(get(a, "e"), 1, 31);
	ck_assert_uint_eq(get(a, "e")->n, 0);
	node_free(root);
	diag_list_free(d);
}
END_TEST

START_TEST(json_locations)
{
	struct diag_list *d;
	struct node *root = parse_ok("{\n"
				     "  \"version\": 1,\n"
				     "  \"rules\": [\n"
				     "    {\"name\": \"web\", \"ports\": [\"tcp/80\", 53]}\n"
				     "  ]\n"
				     "}\n",
				     PARSE_JSON, &d);
	const struct node *rules = get(root, "rules"), *rule, *ports;

	assert_loc(root, 1, 1);
	assert_loc(key_of(root, "version"), 2, 3);
	assert_loc(get(root, "version"), 2, 14);
	assert_loc(rules, 3, 12);
	rule = rules->items[0];
	assert_loc(rule, 4, 5);
	assert_loc(key_of(rule, "name"), 4, 6);
	assert_loc(get(rule, "name"), 4, 14);
	ports = get(rule, "ports");
	assert_loc(ports, 4, 30);
	assert_loc(ports->items[0], 4, 31);
	assert_loc(ports->items[1], 4, 41);
	node_free(root);
	diag_list_free(d);
}
END_TEST

/* Columns count bytes in both formats, so a UTF-8 label shifts what follows it alike. */
START_TEST(utf8_columns_are_bytes)
{
	struct diag_list *dy, *dj;
	struct node *y = parse_ok("l: {\xc3\xa9t\xc3\xa9: x, k: y}\n", PARSE_YAML, &dy);
	struct node *j =
	    parse_ok("{\"l\": {\"\xc3\xa9t\xc3\xa9\": \"x\", \"k\": \"y\"}}", PARSE_JSON, &dj);

	assert_loc(get(get(y, "l"), "\xc3\xa9t\xc3\xa9"), 1, 12);
	assert_loc(key_of(get(y, "l"), "k"), 1, 15);
	assert_loc(get(get(j, "l"), "\xc3\xa9t\xc3\xa9"), 1, 17);
	assert_loc(key_of(get(j, "l"), "k"), 1, 22);
	node_free(y);
	node_free(j);
	diag_list_free(dy);
	diag_list_free(dj);
}
END_TEST

/* A UTF-8 byte order mark is allowed in both formats and takes no column (issue 16). */
START_TEST(byte_order_mark)
{
	struct diag_list *dy, *dj;
	struct node *y = parse_ok("\xef\xbb\xbfversion: 1\nrules: []\n", PARSE_YAML, &dy);
	struct node *j = parse_ok("\xef\xbb\xbf{\"version\": 1,\n \"rules\": []}", PARSE_JSON, &dj);

	assert_loc(key_of(y, "version"), 1, 1);
	assert_loc(key_of(y, "rules"), 2, 1);
	assert_loc(key_of(j, "version"), 1, 2);
	assert_loc(key_of(j, "rules"), 2, 2);
	node_free(y);
	node_free(j);
	diag_list_free(dy);
	diag_list_free(dj);
	ck_assert_parse_error("\xef\xbb\xbf"
			      "a: [\n",
			      PARSE_YAML,
			      "t.yaml:2:1: error: YAML: did not find expected node content\n"
			      "  hint: while parsing a flow node at 2:1\n");
	ck_assert_parse_error("\xef\xbb\xbf{\"a\" 1}", PARSE_JSON,
			      "t.json:1:6: error: JSON: ':' expected near '1'\n");
	/* Only at the start: elsewhere it is text, and not a key's first character. */
	ck_assert_parse_error("\xef\xbb\xbf\xef\xbb\xbf{}", PARSE_JSON,
			      "t.json:1:1: error: JSON: invalid token near '\xef\xbb\xbf'"
			      "\n");
}
END_TEST

/* Past YAML's 1024-character implicit-key limit, a located netseg error, not libyaml's words. */
START_TEST(yaml_long_keys)
{
	static const char *const forms[] = {"%s: 1\n", "a:\n  b:\n    %s: 1\n", "a: {%s: 1}\n",
					    "- - %s: 1\n"};
	static const char *const where[] = {"1:1", "3:5", "1:5", "1:5"};
	char key[1100], text[1200], expected[200];
	struct diag_list *d;
	struct node *root;

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		memset(key, 'k', 1025);
		key[1025] = '\0';
		snprintf(text, sizeof(text), forms[i], key);
		snprintf(expected, sizeof(expected),
			 "t.yaml:%s: error: key longer than 1024 characters\n"
			 "  hint: write a longer key as an explicit key: '? KEY' on one line, "
			 "': VALUE' on the next\n",
			 where[i]);
		ck_assert_parse_error(text, PARSE_YAML, expected);
		key[1024] = '\0'; /* exactly at the limit: a key */
		snprintf(text, sizeof(text), forms[i], key);
		root = parse_ok(text, PARSE_YAML, &d);
		node_free(root);
		diag_list_free(d);
	}
	/* An explicit key has no limit. */
	memset(key, 'k', 1090);
	key[1090] = '\0';
	snprintf(text, sizeof(text), "? %s\n: 1\n", key);
	root = parse_ok(text, PARSE_YAML, &d);
	ck_assert_ptr_nonnull(get(root, key));
	node_free(root);
	diag_list_free(d);
}
END_TEST

START_TEST(crlf_line_endings)
{
	struct diag_list *dy, *dj;
	struct node *y = parse_ok("a: 1\r\nb:\r\n  - x\r\n", PARSE_YAML, &dy);
	struct node *j = parse_ok("{\"a\": 1,\r\n \"b\": [\"x\"]}\r\n", PARSE_JSON, &dj);

	assert_loc(get(y, "b")->items[0], 3, 5);
	assert_loc(get(j, "b")->items[0], 2, 8);
	node_free(y);
	node_free(j);
	diag_list_free(dy);
	diag_list_free(dj);
}
END_TEST

/* ---- scalar typing ---- */

struct typing_case {
	const char *text;
	enum node_scalar_type type;
};

static const struct typing_case yaml_typing_cases[] = {
    {"true", NODE_BOOL},  {"True", NODE_BOOL},	    {"TRUE", NODE_BOOL},   {"false", NODE_BOOL},
    {"FALSE", NODE_BOOL}, {"null", NODE_NULL},	    {"Null", NODE_NULL},   {"~", NODE_NULL},
    {"", NODE_NULL},	  {"42", NODE_INT},	    {"-7", NODE_INT},	   {"+3", NODE_INT},
    {"0o17", NODE_INT},	  {"0x1f", NODE_INT},	    {"1.5", NODE_FLOAT},   {"-.5", NODE_FLOAT},
    {"1e3", NODE_FLOAT},  {".inf", NODE_FLOAT},	    {"-.Inf", NODE_FLOAT}, {".NaN", NODE_FLOAT},
    {"yes", NODE_STR},	  {"on", NODE_STR},	    {"tRUE", NODE_STR},	   {"0x", NODE_STR},
    {"1_000", NODE_STR},  {"10.0.0.0/8", NODE_STR}, {"tcp/80", NODE_STR},  {"1.2.3", NODE_STR},
    {"nULL", NODE_STR},	  {"0b101", NODE_STR},
};

START_TEST(yaml_plain_scalar_types)
{
	const struct typing_case *tc = &yaml_typing_cases[_i];
	struct diag_list *d;
	char text[64];
	struct node *root;
	const struct node *v;

	snprintf(text, sizeof(text), "v: %s\n", tc->text);
	root = parse_ok(text, PARSE_YAML, &d);
	v = get(root, "v");
	ck_assert_int_eq(v->kind, NODE_SCALAR);
	ck_assert_msg(v->type == tc->type, "'%s' typed %s", tc->text, node_kind_name(v));
	ck_assert_str_eq(v->str, tc->text); /* spelling kept for messages */
	node_free(root);
	diag_list_free(d);
}
END_TEST

START_TEST(yaml_scalar_values)
{
	struct diag_list *d;
	struct node *root = parse_ok("[42, -7, 0o17, 0x1f, true, False, 2.5, -9223372036854775808]",
				     PARSE_YAML, &d);

	ck_assert_int_eq(root->items[0]->ival, 42);
	ck_assert_int_eq(root->items[1]->ival, -7);
	ck_assert_int_eq(root->items[2]->ival, 15);
	ck_assert_int_eq(root->items[3]->ival, 31);
	ck_assert(root->items[4]->bval);
	ck_assert(!root->items[5]->bval);
	ck_assert_double_eq(root->items[6]->fval, 2.5);
	ck_assert(root->items[7]->ival == -9223372036854775807LL - 1);
	node_free(root);
	diag_list_free(d);
}
END_TEST

START_TEST(yaml_quoted_and_block_scalars_are_strings)
{
	struct diag_list *d;
	struct node *root = parse_ok(
	    "a: 'true'\nb: \"42\"\nc: \"null\"\nd: ''\ne: |\n  80\nf: !!str 5\n", PARSE_YAML, &d);
	const char *keys[] = {"a", "b", "c", "d", "e", "f"};
	const char *values[] = {"true", "42", "null", "", "80\n", "5"};

	for (size_t i = 0; i < 6; i++) {
		const struct node *v = get(root, keys[i]);

		ck_assert_msg(v->type == NODE_STR, "%s is %s", keys[i], node_kind_name(v));
		ck_assert_str_eq(v->str, values[i]);
	}
	node_free(root);
	diag_list_free(d);
}
END_TEST

START_TEST(json_scalar_types_and_values)
{
	struct diag_list *d;
	struct node *root =
	    parse_ok("[1, -0, 2.5e3, true, false, null, \"\\u00e9\\n\\ud83d\\ude00\", "
		     "\"42\", 9223372036854775807]",
		     PARSE_JSON, &d);
	struct node **it = root->items;

	ck_assert_int_eq(it[0]->type, NODE_INT);
	ck_assert_int_eq(it[0]->ival, 1);
	ck_assert_str_eq(it[0]->str, "1");
	ck_assert_int_eq(it[1]->type, NODE_INT);
	ck_assert_int_eq(it[1]->ival, 0);
	ck_assert_int_eq(it[2]->type, NODE_FLOAT);
	ck_assert_double_eq(it[2]->fval, 2500.0);
	ck_assert_int_eq(it[3]->type, NODE_BOOL);
	ck_assert(it[3]->bval);
	ck_assert_str_eq(it[3]->str, "true");
	ck_assert(!it[4]->bval);
	ck_assert_int_eq(it[5]->type, NODE_NULL);
	ck_assert_str_eq(it[5]->str, "null");
	ck_assert_int_eq(it[6]->type, NODE_STR);
	ck_assert_str_eq(it[6]->str, "\xc3\xa9\n\xf0\x9f\x98\x80");
	ck_assert_int_eq(it[7]->type, NODE_STR);
	ck_assert_str_eq(it[7]->str, "42");
	ck_assert(it[8]->ival == 9223372036854775807LL);
	node_free(root);
	diag_list_free(d);
}
END_TEST

START_TEST(integer_out_of_range)
{
	ck_assert_parse_error("a: 9223372036854775808\n", PARSE_YAML,
			      "t.yaml:1:4: error: integer out of range\n");
	ck_assert_parse_error("a: [-9223372036854775809]\n", PARSE_YAML,
			      "t.yaml:1:5: error: integer out of range\n");
	ck_assert_parse_error("{\"a\":\n  9223372036854775808}", PARSE_JSON,
			      "t.json:2:3: error: integer out of range\n");
	ck_assert_parse_error("[1e999]", PARSE_JSON, "t.json:1:2: error: number out of range\n");
	ck_assert_parse_error("[1e999]", PARSE_YAML, "t.yaml:1:2: error: number out of range\n");
}
END_TEST

/* ---- syntax errors ---- */

START_TEST(yaml_syntax_errors)
{
	ck_assert_parse_error("version: 1\nrules:\n  name: a: b\n", PARSE_YAML,
			      "t.yaml:3:10: error: YAML: mapping values are not allowed in this "
			      "context\n");
	ck_assert_parse_error("a: [1, 2\n", PARSE_YAML,
			      "t.yaml:2:1: error: YAML: did not find expected ',' or ']'\n"
			      "  hint: while parsing a flow sequence at 1:4\n");
	ck_assert_parse_error("a: \"open\n", PARSE_YAML,
			      "t.yaml:2:1: error: YAML: found unexpected end of stream\n"
			      "  hint: while scanning a quoted scalar at 1:4\n");
}
END_TEST

START_TEST(yaml_bad_bytes)
{
	ck_assert_parse_error("a: b\nc: \xff\n", PARSE_YAML,
			      "t.yaml:2:4: error: YAML: invalid leading UTF-8 octet (byte 0xff)\n");
	ck_assert_parse_error("a: \"x\\0y\"\n", PARSE_YAML,
			      "t.yaml:1:4: error: NUL characters are not supported\n");
}
END_TEST

START_TEST(json_syntax_errors)
{
	ck_assert_parse_error("{\n  \"a\": x}", PARSE_JSON,
			      "t.json:2:8: error: JSON: invalid token near 'x'\n");
	ck_assert_parse_error("{\"a\": 1,}", PARSE_JSON,
			      "t.json:1:9: error: JSON: string or '}' expected near '}'\n");
	ck_assert_parse_error("[1,\n2 3]", PARSE_JSON,
			      "t.json:2:3: error: JSON: ']' expected near '3'\n");
	ck_assert_parse_error("{} x", PARSE_JSON,
			      "t.json:1:4: error: JSON: end of file expected near 'x'\n");
	ck_assert_parse_error("[\"a\\u0000b\"]", PARSE_JSON,
			      "t.json:1:11: error: JSON: \\u0000 is not allowed without "
			      "JSON_ALLOW_NUL near '\"a\\u0000b\"'\n");
	ck_assert_parse_error_len("{\"a\": 9}\0{\"b\": 1}", 17, PARSE_JSON,
				  "t.json:1:9: error: NUL characters are not supported\n");
	ck_assert_parse_error("[\"\xc3\xa9\", \xff]", PARSE_JSON,
			      "t.json:1:8: error: JSON: unable to decode byte 0xff\n");
}
END_TEST

/* A buffer is LEN bytes, not a C string: what follows must never be read. */
START_TEST(buffer_need_not_be_terminated)
{
	static const char text[] = "{\"a\": 12}garbage";
	struct diag_list *d = diag_list_new();
	struct node *root = NULL;

	ck_assert_int_eq(parse_buffer(text, 9, "t.json", PARSE_JSON, d, &root), 0);
	ck_assert_int_eq(get(root, "a")->ival, 12);
	node_free(root);
	root = NULL;
	ck_assert_int_eq(parse_buffer("a: 12garbage", 5, "t.yaml", PARSE_YAML, d, &root), 0);
	ck_assert_int_eq(get(root, "a")->ival, 12);
	node_free(root);
	/* A token that ends the buffer exactly (the ASan build sees any read past it). */
	for (int fmt = PARSE_YAML; fmt <= PARSE_JSON; fmt++) {
		char *exact = malloc(2);

		memcpy(exact, "12", 2);
		root = NULL;
		ck_assert_int_eq(parse_buffer(exact, 2, "t", fmt, d, &root), 0);
		ck_assert_int_eq(root->type, NODE_INT);
		ck_assert_int_eq(root->ival, 12);
		node_free(root);
		free(exact);
	}
	diag_list_free(d);
}
END_TEST

/* ---- rejected structures ---- */

START_TEST(yaml_multiple_documents)
{
	ck_assert_parse_error("version: 1\n---\nversion: 1\n", PARSE_YAML,
			      "t.yaml:2:1: error: multiple documents are not supported\n"
			      "  hint: put each policy in its own file\n");
	/* A lone leading marker is one document. */
	char *out = NULL;
	struct diag_list *d;
	struct node *root = parse_ok("---\nversion: 1\n...\n", PARSE_YAML, &d);

	ck_assert_int_eq(get(root, "version")->ival, 1);
	free(out);
	node_free(root);
	diag_list_free(d);
}
END_TEST

START_TEST(yaml_anchors_and_aliases)
{
	ck_assert_parse_error("a: &x [1]\nb: 2\n", PARSE_YAML,
			      "t.yaml:1:4: error: anchors and aliases are not supported\n");
	ck_assert_parse_error("a: 1\nb: *x\n", PARSE_YAML,
			      "t.yaml:2:4: error: anchors and aliases are not supported\n");
	ck_assert_parse_error("a: {&k b: 1}\n", PARSE_YAML,
			      "t.yaml:1:5: error: anchors and aliases are not supported\n");
}
END_TEST

START_TEST(yaml_tags)
{
	ck_assert_parse_error(
	    "a: !!int 5\n", PARSE_YAML,
	    "t.yaml:1:4: error: YAML tag 'tag:yaml.org,2002:int' is not supported\n");
	ck_assert_parse_error("a: !custom {}\n", PARSE_YAML,
			      "t.yaml:1:4: error: YAML tag '!custom' is not supported\n");
}
END_TEST

START_TEST(yaml_non_scalar_keys)
{
	ck_assert_parse_error("? [a, b]\n: 1\n", PARSE_YAML,
			      "t.yaml:1:3: error: mapping keys must be scalars, not lists\n");
	ck_assert_parse_error("{{a: 1}: 2}\n", PARSE_YAML,
			      "t.yaml:1:2: error: mapping keys must be scalars, not mappings\n");
}
END_TEST

START_TEST(yaml_duplicate_keys)
{
	/* Every duplicate, in every mapping, in position order. */
	ck_assert_parse_error("a: 1\n"
			      "b: {x: 1, y: 2, x: 3}\n"
			      "a: 2\n"
			      "a: 3\n",
			      PARSE_YAML,
			      "t.yaml:2:17: error: duplicate key 'x' (first at 2:5)\n"
			      "t.yaml:3:1: error: duplicate key 'a' (first at 1:1)\n"
			      "t.yaml:4:1: error: duplicate key 'a' (first at 1:1)\n");
	/* Quoting does not make a different key. */
	ck_assert_parse_error("name: a\n\"name\": b\n", PARSE_YAML,
			      "t.yaml:2:1: error: duplicate key 'name' (first at 1:1)\n");
}
END_TEST

START_TEST(json_duplicate_keys)
{
	ck_assert_parse_error("{\"a\": 1,\n \"b\": 2,\n \"a\": 3}", PARSE_JSON,
			      "t.json:3:2: error: duplicate key 'a' (first at 1:2)\n");
	/* Keys compare decoded: an escape is the same key. */
	ck_assert_parse_error("[{\"name\": 1, \"n\\u0061me\": 2}]", PARSE_JSON,
			      "t.json:1:14: error: duplicate key 'name' (first at 1:3)\n");
}
END_TEST

START_TEST(empty_documents)
{
	ck_assert_parse_error("", PARSE_YAML, "t.yaml:1:1: error: empty document\n");
	ck_assert_parse_error("# only a comment\n\n", PARSE_YAML,
			      "t.yaml:1:1: error: empty document\n");
	ck_assert_parse_error("", PARSE_JSON, "t.json:1:1: error: empty document\n");
	ck_assert_parse_error(" \n\t\r\n", PARSE_JSON, "t.json:1:1: error: empty document\n");
}
END_TEST

/* ---- limits ---- */

START_TEST(depth_limit_yaml_flow)
{
	struct diag_list *d;
	char *ok = nested("[", "]", NODE_MAX_DEPTH), *bad = nested("[", "]", NODE_MAX_DEPTH + 1);
	struct node *root = parse_ok(ok, PARSE_YAML, &d);

	node_free(root);
	diag_list_free(d);
	ck_assert_parse_error(bad, PARSE_YAML,
			      "t.yaml:1:65: error: nesting is deeper than 64 levels\n");
	free(ok);
	free(bad);
}
END_TEST

START_TEST(depth_limit_yaml_block)
{
	/* 64 mappings nest fine; the 65th is reported where it opens. */
	char *text = calloc(1, 65 * 140);
	struct diag_list *d;
	struct node *root;
	size_t len = 0;

	for (int i = 0; i < 64; i++)
		len += sprintf(text + len, "%*sk%d:\n", i, "", i);
	len += sprintf(text + len, "%*sv\n", 64, "");
	root = parse_ok(text, PARSE_YAML, &d);
	node_free(root);
	diag_list_free(d);
	len -= 66; /* replace the scalar with a 65th mapping */
	sprintf(text + len, "%*sk64:\n%*sv\n", 64, "", 65, "");
	ck_assert_parse_error(text, PARSE_YAML,
			      "t.yaml:65:65: error: nesting is deeper than 64 levels\n");
	free(text);
}
END_TEST

START_TEST(depth_limit_json)
{
	struct diag_list *d;
	char *ok = nested("{\"k\":", "}", NODE_MAX_DEPTH),
	     *bad = nested("[", "]", NODE_MAX_DEPTH + 1);
	char *very = nested("[", "]", 5000);
	struct node *root = parse_ok(ok, PARSE_JSON, &d);

	node_free(root);
	diag_list_free(d);
	ck_assert_parse_error(bad, PARSE_JSON,
			      "t.json:1:65: error: nesting is deeper than 64 levels\n");
	/* Deeper than jansson's own limit: still our message, at the same place. */
	ck_assert_parse_error(very, PARSE_JSON,
			      "t.json:1:65: error: nesting is deeper than 64 levels\n");
	free(ok);
	free(bad);
	free(very);
}
END_TEST

START_TEST(size_limit_buffer)
{
	size_t len = NODE_MAX_FILE_BYTES + 1;
	char *big = malloc(len);
	char *out;

	memset(big, ' ', len);
	out = parse_fail_len(big, len, PARSE_YAML, -EFBIG);
	ck_assert_str_eq(out, "t.yaml:1:1: error: file is larger than 16 MiB\n");
	free(out);
	out = parse_fail_len(big, len, PARSE_JSON, -EFBIG);
	ck_assert_str_eq(out, "t.json:1:1: error: file is larger than 16 MiB\n");
	free(out);
	/* Exactly at the limit is read, and found blank. */
	out = parse_fail_len(big, len - 1, PARSE_JSON, -EINVAL);
	ck_assert_str_eq(out, "t.json:1:1: error: empty document\n");
	free(out);
	free(big);
}
END_TEST

START_TEST(size_limit_file)
{
	char *dir = make_tmpdir(), path[4096], expected[4200];
	struct diag_list *d = diag_list_new();
	struct node *root = NULL;
	char *out;
	int fd;

	snprintf(path, sizeof(path), "%s/big.yaml", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, NODE_MAX_FILE_BYTES + 1), 0); /* sparse, cheap */
	close(fd);
	ck_assert_int_eq(parse_file(path, d, &root), -EFBIG);
	ck_assert_ptr_null(root);
	out = tu_render(d);
	snprintf(expected, sizeof(expected), "%s:1:1: error: file is larger than 16 MiB\n", path);
	ck_assert_str_eq(out, expected);
	free(out);
	diag_list_free(d);
	remove_tree(dir);
	free(dir);
}
END_TEST

/* ---- files and directories ---- */

START_TEST(file_cannot_read)
{
	struct diag_list *d = diag_list_new();
	struct node *root = NULL;
	char *out;

	ck_assert_int_eq(parse_file("/nonexistent/netseg.yaml", d, &root), -ENOENT);
	ck_assert_ptr_null(root);
	out = tu_render(d);
	ck_assert_str_eq(out, "/nonexistent/netseg.yaml:1:1: error: cannot read: No such file or "
			      "directory\n");
	free(out);
	diag_list_free(d);
}
END_TEST

/* A FIFO would block open(O_RDONLY) until a writer came: it is refused without being opened. */
START_TEST(file_not_regular)
{
	char *dir = make_tmpdir(), fifo[4096], link[4096], expected[8400], *out;
	struct diag_list *d = diag_list_new();
	struct node *root = NULL;

	snprintf(fifo, sizeof(fifo), "%s/fifo.yaml", dir);
	snprintf(link, sizeof(link), "%s/link.yaml", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(symlink("fifo.yaml", link), 0);
	ck_assert_int_eq(parse_file(fifo, d, &root), -EINVAL);
	ck_assert_int_eq(parse_listed_file(link, d, &root), PARSE_SKIPPED);
	ck_assert_ptr_null(root);
	ck_assert_uint_eq(d->nerrors, 1);
	out = tu_render(d);
	snprintf(expected, sizeof(expected),
		 "%s:1:1: error: not a regular file (a FIFO); only regular files are read\n"
		 "%s:1:1: warning: not a regular file (a FIFO); skipped\n",
		 fifo, link);
	ck_assert_str_eq(out, expected);
	free(out);
	diag_list_free(d);
	remove_tree(dir);
	free(dir);
}
END_TEST

/* Entries that are not regular files are warned about and skipped; a symlink to one is read. */
START_TEST(path_directory_special_entries)
{
	char *dir = make_tmpdir(), path[4096], expected[8400], *out;
	struct diag_list *d = diag_list_new();
	struct node **roots = NULL;
	size_t n = 0;

	tu_write_file(dir, "real.txt", "name: linked\n");
	snprintf(path, sizeof(path), "%s/a.yaml", dir);
	ck_assert_int_eq(symlink("real.txt", path), 0);
	snprintf(path, sizeof(path), "%s/b.yaml", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/c.yaml", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/d.yaml", dir);
	ck_assert_int_eq(symlink("gone.yaml", path), 0);
	ck_assert_int_eq(parse_path(dir, d, &roots, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(get(roots[0], "name")->str, "linked");
	out = tu_render(d);
	snprintf(expected, sizeof(expected),
		 "%s/b.yaml:1:1: warning: not a regular file (a directory); skipped\n"
		 "%s/c.yaml:1:1: warning: not a regular file (a FIFO); skipped\n"
		 "%s/d.yaml:1:1: warning: not a regular file (a dangling symlink); skipped\n",
		 dir, dir, dir);
	ck_assert_str_eq(out, expected);
	free(out);
	node_free(roots[0]);
	free(roots);
	diag_list_free(d);
	remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(path_single_file)
{
	char *dir = make_tmpdir(), path[4096];
	struct diag_list *d = diag_list_new();
	struct node **roots = NULL;
	size_t n = 0;

	tu_write_file(dir, "policy.json", "{\"version\": 1}");
	snprintf(path, sizeof(path), "%s/policy.json", dir);
	ck_assert_int_eq(parse_path(path, d, &roots, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(get(roots[0], "version")->ival, 1);
	ck_assert_str_eq(roots[0]->loc.file, path);
	node_free(roots[0]);
	free(roots);
	diag_list_free(d);
	remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(path_directory_order_and_filter)
{
	char *dir = make_tmpdir(), sub[4096];
	struct diag_list *d = diag_list_new();
	struct node **roots = NULL;
	size_t n = 0;
	const char *expect[] = {"10-a.json", "20-b.yaml", "30-c.yml", "B.yaml"};

	tu_write_file(dir, "30-c.yml", "name: 30-c.yml\n");
	tu_write_file(dir, "20-b.yaml", "name: 20-b.yaml\n");
	tu_write_file(dir, "10-a.json", "{\"name\": \"10-a.json\"}");
	tu_write_file(dir, "B.yaml", "name: B.yaml\n"); /* strcmp: uppercase after digits */
	tu_write_file(dir, "notes.txt", "not: [a policy\n");
	tu_write_file(dir, "old.yaml.bak", "x: [\n");
	tu_write_file(dir, ".hidden.yaml", "x: [\n");
	snprintf(sub, sizeof(sub), "%s/dir.yaml", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_int_eq(parse_path(dir, d, &roots, &n), 0);
	ck_assert_uint_eq(n, 4);
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(get(roots[i], "name")->str, expect[i]);
		node_free(roots[i]);
	}
	free(roots);
	diag_list_free(d);
	remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(path_directory_reports_every_file)
{
	char *dir = make_tmpdir(), expected[8192], *out;
	struct diag_list *d = diag_list_new();
	struct node **roots = (struct node **)0x1;
	size_t n = 77;

	tu_write_file(dir, "b.yaml", "a: 1\na: 2\n");
	tu_write_file(dir, "a.json", "{\"x\": }");
	tu_write_file(dir, "c.yaml", "ok: true\n");
	ck_assert_int_eq(parse_path(dir, d, &roots, &n), -EINVAL);
	ck_assert_ptr_eq(roots, (struct node **)0x1);
	ck_assert_uint_eq(n, 77);
	ck_assert_uint_eq(d->nerrors, 2);
	out = tu_render(d);
	snprintf(expected, sizeof(expected),
		 "%s/a.json:1:7: error: JSON: unexpected token near '}'\n"
		 "%s/b.yaml:2:1: error: duplicate key 'a' (first at 1:1)\n",
		 dir, dir);
	ck_assert_str_eq(out, expected);
	free(out);
	diag_list_free(d);
	remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(path_empty_directory)
{
	char *dir = make_tmpdir(), expected[4200], *out;
	struct diag_list *d = diag_list_new();
	struct node **roots = NULL;
	size_t n = 0;

	tu_write_file(dir, "README", "nothing here\n");
	ck_assert_int_lt(parse_path(dir, d, &roots, &n), 0);
	ck_assert_ptr_null(roots);
	out = tu_render(d);
	snprintf(expected, sizeof(expected),
		 "%s:1:1: error: no policy files (*.yaml, *.yml, *.json) in directory\n", dir);
	ck_assert_str_eq(out, expected);
	free(out);
	diag_list_free(d);
	remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(path_nonexistent)
{
	struct diag_list *d = diag_list_new();
	struct node **roots = NULL;
	size_t n = 0;
	char *out;

	ck_assert_int_eq(parse_path("/nonexistent/policy.d", d, &roots, &n), -ENOENT);
	out = tu_render(d);
	ck_assert_str_eq(out, "/nonexistent/policy.d:1:1: error: cannot read: No such file or "
			      "directory\n");
	free(out);
	diag_list_free(d);
}
END_TEST

START_TEST(format_from_name)
{
	enum parse_format f = PARSE_JSON;

	ck_assert_int_eq(parse_format_from_name("a.yaml", &f), 0);
	ck_assert_int_eq(f, PARSE_YAML);
	ck_assert_int_eq(parse_format_from_name("/x/a.json", &f), 0);
	ck_assert_int_eq(f, PARSE_JSON);
	ck_assert_int_eq(parse_format_from_name("b.yml", &f), 0);
	ck_assert_int_eq(f, PARSE_YAML);
	f = PARSE_JSON;
	ck_assert_int_eq(parse_format_from_name("a.yaml.bak", &f), -EINVAL);
	ck_assert_int_eq(parse_format_from_name("json", &f), -EINVAL);
	ck_assert_int_eq(parse_format_from_name(".json", &f), -EINVAL);
	ck_assert_int_eq(f, PARSE_JSON); /* untouched on failure */
}
END_TEST

/* ---- YAML and JSON mean the same ---- */

START_TEST(equivalence_spec_example)
{
	assert_equivalent(tu_spec_policy_yaml, tu_spec_policy_json);
}
END_TEST

START_TEST(equivalence_scalars)
{
	assert_equivalent("a: 1\nb: -2\nc: 2.5\nd: true\ne: false\nf: null\ng: ~\nh: \"x y\"\n"
			  "i: 1e3\nj: ''\n",
			  "{\"a\": 1, \"b\": -2, \"c\": 2.5, \"d\": true, \"e\": false, \"f\": "
			  "null, \"g\": null, \"h\": \"x y\", \"i\": 1e3, \"j\": \"\"}");
	assert_equivalent("[\"\\u00e9\", \"tab\\there\", '80']", "[\"é\", \"tab\\there\", \"80\"]");
}
END_TEST

START_TEST(equivalence_nesting)
{
	assert_equivalent("- [1, [2, [3, {}]]]\n- {a: {b: {c: []}}}\n- x\n",
			  "[[1,[2,[3,{}]]],{\"a\":{\"b\":{\"c\":[]}}},\"x\"]");
	/* A JSON document is YAML too, and means the same. */
	assert_equivalent(tu_spec_policy_json, tu_spec_policy_json);
}
END_TEST

START_TEST(equivalence_detects_difference)
{
	struct diag_list *dy, *dj;
	struct node *y = parse_ok("a: \"1\"\n", PARSE_YAML, &dy);
	struct node *j = parse_ok("{\"a\": 1}", PARSE_JSON, &dj);

	ck_assert(!node_equal(y, j)); /* the comparison itself is not vacuous */
	node_free(y);
	node_free(j);
	diag_list_free(dy);
	diag_list_free(dj);
}
END_TEST

/* ---- diagnostics ---- */

START_TEST(diag_render_forms)
{
	struct diag_list *d = diag_list_new();
	const char *f = diag_intern_file(d, "p.yaml");
	char *out;

	ck_assert_ptr_eq(diag_intern_file(d, "p.yaml"), f); /* interned once */
	diag_warning(d, (struct loc){f, 3, 7}, "remove it", "rule '%s' never matches", "x");
	diag_error(d, (struct loc){f, 0, 0}, NULL, "whole file");
	diag_error(d, (struct loc){f, 2, 0}, NULL, "whole line");
	ck_assert_uint_eq(d->nerrors, 2);
	ck_assert_uint_eq(d->n, 3);
	out = tu_render(d);
	/* Whole-file and whole-line problems keep the FILE:LINE:COL shape. */
	ck_assert_str_eq(out, "p.yaml:1:1: error: whole file\n"
			      "p.yaml:2:1: error: whole line\n"
			      "p.yaml:3:7: warning: rule 'x' never matches\n"
			      "  hint: remove it\n");
	free(out);
	diag_list_free(d);
	diag_list_free(NULL);
}
END_TEST

START_TEST(diag_sort_is_stable_by_file_order)
{
	struct diag_list *d = diag_list_new();
	const char *z = diag_intern_file(d, "z.yaml"), *a = diag_intern_file(d, "a.yaml");
	char *out;

	diag_error(d, (struct loc){a, 1, 1}, NULL, "a first");
	diag_error(d, (struct loc){z, 5, 2}, NULL, "z second");
	diag_error(d, (struct loc){z, 5, 2}, NULL, "z second, same place, later");
	diag_error(d, (struct loc){z, 1, 9}, NULL, "z first");
	diag_error(d, (struct loc){a, 1, 1}, NULL, "a first, later");
	out = tu_render(d);
	ck_assert_str_eq(out, "z.yaml:1:9: error: z first\n"
			      "z.yaml:5:2: error: z second\n"
			      "z.yaml:5:2: error: z second, same place, later\n"
			      "a.yaml:1:1: error: a first\n"
			      "a.yaml:1:1: error: a first, later\n");
	free(out);
	diag_list_free(d);
}
END_TEST

START_TEST(diag_did_you_mean)
{
	const char *keys[] = {"version", "defaults", "groups", "nets", "rules", "ports", "port"};
	const size_t n = sizeof(keys) / sizeof(keys[0]);

	ck_assert_str_eq(diag_closest("verison", keys, n), "version"); /* transposition: 1 */
	ck_assert_str_eq(diag_closest("rule", keys, n), "rules");
	ck_assert_str_eq(diag_closest("grups", keys, n), "groups");
	ck_assert_str_eq(diag_closest("defualts", keys, n), "defaults");
	ck_assert_str_eq(diag_closest("prots", keys, n), "ports"); /* ties: port is 2, ports 1 */
	ck_assert_str_eq(diag_closest("pors", keys, n), "ports");  /* tie at 1: first wins */
	ck_assert_ptr_null(diag_closest("xyzzy", keys, n));
	ck_assert_ptr_null(diag_closest("n", keys, n));	   /* distance must be below the length */
	ck_assert_ptr_null(diag_closest("vrsn", keys, n)); /* 3 edits */
	ck_assert_ptr_null(diag_closest("anything", NULL, 0));
}
END_TEST

START_TEST(node_helpers)
{
	struct diag_list *d;
	struct node *root =
	    parse_ok("s: x\ni: 1\nb: true\nn: null\nf: 1.5\nl: []\nm: {}\n", PARSE_YAML, &d);
	const char *keys[] = {"s", "i", "b", "n", "f", "l", "m"};
	const char *names[] = {"a string", "an integer", "a boolean", "null",
			       "a number", "a list",	 "a mapping"};
	struct node *k = NULL;

	for (size_t i = 0; i < 7; i++)
		ck_assert_str_eq(node_kind_name(get(root, keys[i])), names[i]);
	ck_assert_ptr_null(node_map_get(root, "missing", &k));
	ck_assert_ptr_null(k);
	ck_assert_ptr_null(node_map_get(get(root, "l"), "s", NULL)); /* not a map */
	ck_assert_ptr_null(node_map_get(NULL, "s", NULL));
	ck_assert_str_eq(node_kind_name(NULL), "nothing");
	node_free(root);
	node_free(NULL);
	diag_list_free(d);
}
END_TEST

static Suite *parse_suite(void)
{
	Suite *s = suite_create("parse");
	TCase *loc = tcase_create("locations"), *typ = tcase_create("typing");
	TCase *err = tcase_create("errors"), *lim = tcase_create("limits");
	TCase *files = tcase_create("files"), *eq = tcase_create("equivalence");
	TCase *diag = tcase_create("diag");

	tcase_add_test(loc, yaml_block_locations);
	tcase_add_test(loc, yaml_flow_locations);
	tcase_add_test(loc, json_locations);
	tcase_add_test(loc, utf8_columns_are_bytes);
	tcase_add_test(loc, crlf_line_endings);
	tcase_add_test(loc, byte_order_mark);
	tcase_add_test(err, yaml_long_keys);
	tcase_add_loop_test(typ, yaml_plain_scalar_types, 0,
			    sizeof(yaml_typing_cases) / sizeof(yaml_typing_cases[0]));
	tcase_add_test(typ, yaml_scalar_values);
	tcase_add_test(typ, yaml_quoted_and_block_scalars_are_strings);
	tcase_add_test(typ, json_scalar_types_and_values);
	tcase_add_test(typ, integer_out_of_range);
	tcase_add_test(err, yaml_syntax_errors);
	tcase_add_test(err, yaml_bad_bytes);
	tcase_add_test(err, json_syntax_errors);
	tcase_add_test(err, buffer_need_not_be_terminated);
	tcase_add_test(err, yaml_multiple_documents);
	tcase_add_test(err, yaml_anchors_and_aliases);
	tcase_add_test(err, yaml_tags);
	tcase_add_test(err, yaml_non_scalar_keys);
	tcase_add_test(err, yaml_duplicate_keys);
	tcase_add_test(err, json_duplicate_keys);
	tcase_add_test(err, empty_documents);
	tcase_add_test(lim, depth_limit_yaml_flow);
	tcase_add_test(lim, depth_limit_yaml_block);
	tcase_add_test(lim, depth_limit_json);
	tcase_add_test(lim, size_limit_buffer);
	tcase_add_test(lim, size_limit_file);
	tcase_add_test(files, file_cannot_read);
	tcase_add_test(files, file_not_regular);
	tcase_add_test(files, path_single_file);
	tcase_add_test(files, path_directory_special_entries);
	tcase_add_test(files, path_directory_order_and_filter);
	tcase_add_test(files, path_directory_reports_every_file);
	tcase_add_test(files, path_empty_directory);
	tcase_add_test(files, path_nonexistent);
	tcase_add_test(files, format_from_name);
	tcase_add_test(eq, equivalence_spec_example);
	tcase_add_test(eq, equivalence_scalars);
	tcase_add_test(eq, equivalence_nesting);
	tcase_add_test(eq, equivalence_detects_difference);
	tcase_add_test(diag, diag_render_forms);
	tcase_add_test(diag, diag_sort_is_stable_by_file_order);
	tcase_add_test(diag, diag_did_you_mean);
	tcase_add_test(diag, node_helpers);
	suite_add_tcase(s, loc);
	suite_add_tcase(s, typ);
	suite_add_tcase(s, err);
	suite_add_tcase(s, lim);
	suite_add_tcase(s, files);
	suite_add_tcase(s, eq);
	suite_add_tcase(s, diag);
	return s;
}

int main(void)
{
	return tu_run(parse_suite());
}
