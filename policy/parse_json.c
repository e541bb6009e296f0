/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * JSON to node tree. jansson does the parsing that matters (syntax, escapes, numbers) but gives
 * no positions for values, so it runs twice: once over the whole text to validate it and word
 * the syntax errors, then once per scalar token while a small scanner walks the (now known
 * valid) text, building the tree and noting where every node starts.
 */
#include "parse.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct json_ctx {
	const char *buf;
	size_t len, pos;
	int line;
	size_t line_start; /* offset of the current line's first byte */
	const char *file;
	struct diag_list *diags;
	bool failed; /* an error was reported but scanning went on (duplicate keys) */
};

static bool json_is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static void json_skip_space(struct json_ctx *c)
{
	for (; c->pos < c->len && json_is_space(c->buf[c->pos]); c->pos++) {
		if (c->buf[c->pos] == '\n') {
			c->line++;
			c->line_start = c->pos + 1;
		}
	}
}

static struct loc json_here(const struct json_ctx *c)
{
	return (struct loc){c->file, c->line, (int)(c->pos - c->line_start) + 1};
}

static bool json_peek_is(const struct json_ctx *c, char ch)
{
	return c->pos < c->len && c->buf[c->pos] == ch;
}

/* The scanner only runs on text jansson accepted; disagreeing with it is our bug, but must
 * still end in an error rather than in a read out of bounds. */
static int json_mismatch(struct json_ctx *c)
{
	diag_error(c->diags, json_here(c), NULL, "JSON: unexpected character (internal error)");
	return -EINVAL;
}

static int json_expect(struct json_ctx *c, char ch)
{
	json_skip_space(c);
	if (!json_peek_is(c, ch))
		return json_mismatch(c);
	c->pos++;
	return 0;
}

/* Length of the scalar token at pos: a string with its quotes, or a number/literal. */
static size_t json_token_length(const struct json_ctx *c)
{
	size_t i = c->pos;

	if (c->buf[i] == '"') {
		for (i++; i < c->len && c->buf[i] != '"'; i++)
			if (c->buf[i] == '\\')
				i++;
		return i < c->len ? i + 1 - c->pos : c->len - c->pos;
	}
	while (i < c->len && !json_is_space(c->buf[i]) && !strchr(",:]}", c->buf[i]))
		i++;
	return i - c->pos;
}

static int json_fill_scalar(struct node *n, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		free(n->str);
		n->str = strndup(json_string_value(v), json_string_length(v));
		if (!n->str)
			return -ENOMEM;
		n->type = NODE_STR;
		return 0;
	case JSON_INTEGER:
		n->type = NODE_INT;
		n->ival = json_integer_value(v);
		return 0;
	case JSON_REAL:
		n->type = NODE_FLOAT;
		n->fval = json_real_value(v);
		return 0;
	case JSON_TRUE:
	case JSON_FALSE:
		n->type = NODE_BOOL;
		n->bval = json_is_true(v);
		return 0;
	case JSON_NULL:
		n->type = NODE_NULL;
		return 0;
	default:
		return -EINVAL; /* a collection: not a scalar token */
	}
}

static bool json_token_is(const char *tok, size_t tlen, const char *word)
{
	return tlen == strlen(word) && memcmp(tok, word, tlen) == 0;
}

/* Bounded: the token is not NUL-terminated (the buffer may end right after it). */
static bool json_all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/*
 * Decodes the common tokens without jansson: escape-free strings, literals and integers.
 * jansson has already accepted the whole text (UTF-8, no control characters, integers in
 * range), so a copy or strtoll gives exactly its value, a few times faster on large files.
 * Returns 1 when decoded, 0 when jansson must do it, -ENOMEM.
 */
static int json_decode_simple(const char *tok, size_t tlen, struct node *n)
{
	size_t sign = tok[0] == '-';

	if (tok[0] == '"' && tlen >= 2 && !memchr(tok, '\\', tlen)) {
		free(n->str);
		n->str = strndup(tok + 1, tlen - 2);
		n->type = NODE_STR;
		return n->str ? 1 : -ENOMEM;
	}
	if (json_token_is(tok, tlen, "true") || json_token_is(tok, tlen, "false")) {
		n->type = NODE_BOOL;
		n->bval = tok[0] == 't';
		return 1;
	}
	if (json_token_is(tok, tlen, "null")) {
		n->type = NODE_NULL;
		return 1;
	}
	if (tlen > sign && json_all_digits(tok + sign, tlen - sign)) {
		n->type = NODE_INT;
		n->ival = strtoll(n->str, NULL, 10); /* n->str: the NUL-terminated spelling */
		return 1;
	}
	return 0;
}

/* Escaped strings and reals: jansson decodes them exactly as it validated them. */
static int json_decode_with_jansson(const char *tok, size_t tlen, struct node *n)
{
	json_error_t err;
	json_t *v = json_loadb(tok, tlen, JSON_DECODE_ANY, &err);
	int r;

	if (!v)
		return -EINVAL;
	r = json_fill_scalar(n, v);
	json_decref(v);
	return r;
}

/* A scalar node from the token at pos. */
static int json_parse_scalar(struct json_ctx *c, struct node **ret)
{
	size_t tlen = c->pos < c->len ? json_token_length(c) : 0;
	const char *tok = c->buf + c->pos;
	struct node *n = NULL;
	int r;

	if (tlen == 0)
		return json_mismatch(c);
	n = node_new(NODE_SCALAR, json_here(c));
	/* Numbers and literals keep their spelling; strings are replaced by their value. */
	if (!n || !(n->str = strndup(tok, tlen))) {
		r = -ENOMEM;
		goto out;
	}
	r = json_decode_simple(tok, tlen, n);
	if (r == 0)
		r = json_decode_with_jansson(tok, tlen, n);
	if (r == -EINVAL)
		r = json_mismatch(c);
	if (r < 0)
		goto out;
	c->pos += tlen;
	*ret = n;
	n = NULL;
	r = 0;
out:
	node_free(n);
	return r;
}

static int json_parse_value(struct json_ctx *c, int depth, struct node **ret);

static int json_open_collection(struct json_ctx *c, enum node_kind kind, int depth,
				struct node **ret)
{
	struct node *n;

	if (depth + 1 > NODE_MAX_DEPTH)
		return parse_too_deep(c->diags, json_here(c));
	n = node_new(kind, json_here(c));
	if (!n)
		return -ENOMEM;
	c->pos++; /* '[' or '{' */
	*ret = n;
	return 0;
}

/* After an item: true at the closing CLOSE (consumed), false after a ',' (consumed). */
static int json_next_item(struct json_ctx *c, char close, bool *ret_done)
{
	json_skip_space(c);
	if (json_peek_is(c, close) || json_peek_is(c, ',')) {
		*ret_done = c->buf[c->pos++] == close;
		return 0;
	}
	return json_mismatch(c);
}

static int json_parse_array(struct json_ctx *c, int depth, struct node **ret)
{
	struct node *seq = NULL, *item = NULL;
	bool done = false;
	int r;

	r = json_open_collection(c, NODE_SEQ, depth, &seq);
	if (r < 0)
		return r;
	json_skip_space(c);
	if (json_peek_is(c, ']')) {
		c->pos++;
		done = true;
	}
	while (!done) {
		r = json_parse_value(c, depth + 1, &item);
		if (r < 0)
			goto out;
		r = node_append(seq, NULL, item);
		if (r < 0)
			goto out;
		item = NULL;
		r = json_next_item(c, ']', &done);
		if (r < 0)
			goto out;
	}
	*ret = seq;
	seq = NULL;
out:
	node_free(item);
	node_free(seq);
	return r;
}

static int json_parse_member(struct json_ctx *c, int depth, struct node *map)
{
	struct node *key = NULL, *value = NULL;
	int r;

	json_skip_space(c);
	if (!json_peek_is(c, '"'))
		return json_mismatch(c);
	r = json_parse_scalar(c, &key);
	if (r < 0)
		goto out;
	r = json_expect(c, ':');
	if (r < 0)
		goto out;
	r = json_parse_value(c, depth + 1, &value);
	if (r < 0)
		goto out;
	r = node_append(map, key, value);
	if (r < 0)
		goto out;
	key = value = NULL;
out:
	node_free(key);
	node_free(value);
	return r;
}

static int json_parse_object(struct json_ctx *c, int depth, struct node **ret)
{
	struct node *map = NULL;
	bool done = false;
	int r;

	r = json_open_collection(c, NODE_MAP, depth, &map);
	if (r < 0)
		return r;
	json_skip_space(c);
	if (json_peek_is(c, '}')) {
		c->pos++;
		done = true;
	}
	while (!done) {
		r = json_parse_member(c, depth, map);
		if (r < 0)
			goto out;
		r = json_next_item(c, '}', &done);
		if (r < 0)
			goto out;
	}
	/* jansson would keep the last value silently; a policy must not depend on which. */
	r = parse_check_duplicates(map, c->diags, &c->failed);
	if (r < 0)
		goto out;
	*ret = map;
	map = NULL;
out:
	node_free(map);
	return r;
}

/* The value at pos, DEPTH collections deep. */
static int json_parse_value(struct json_ctx *c, int depth, struct node **ret)
{
	json_skip_space(c);
	if (json_peek_is(c, '{'))
		return json_parse_object(c, depth, ret);
	if (json_peek_is(c, '['))
		return json_parse_array(c, depth, ret);
	return json_parse_scalar(c, ret);
}

/* Where the first collection nested deeper than the limit opens; jansson stops much deeper. */
static size_t json_find_too_deep(const char *buf, size_t len)
{
	bool in_string = false;
	int depth = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = buf[i];

		if (in_string) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_string = false;
		} else if (ch == '"') {
			in_string = true;
		} else if (ch == '[' || ch == '{') {
			if (++depth > NODE_MAX_DEPTH)
				return i;
		} else if (ch == ']' || ch == '}') {
			depth--;
		}
	}
	return len;
}

/* Start of the number token ending at OFFSET, so "integer out of range" points at its start. */
static size_t json_number_start(const char *buf, size_t offset)
{
	while (offset > 0 && buf[offset - 1] && strchr("0123456789+-.eE", buf[offset - 1]))
		offset--;
	return offset;
}

static int json_report_syntax_error(const char *buf, size_t len, const char *file,
				    const json_error_t *err, struct diag_list *diags)
{
	size_t offset = err->position > 0 ? (size_t)err->position - 1 : 0;
	struct loc loc;

	switch (json_error_code(err)) {
	case json_error_out_of_memory:
		return -ENOMEM;
	case json_error_stack_overflow:
		return parse_too_deep(
		    diags, parse_loc_at_offset(buf, len, json_find_too_deep(buf, len), file));
	case json_error_invalid_utf8:
		/* Here jansson stops before the bad byte, not after it. */
		offset = (size_t)err->position;
		diag_error(diags, parse_loc_at_offset(buf, len, offset, file), NULL, "JSON: %s",
			   err->text);
		return -EINVAL;
	case json_error_numeric_overflow:
		offset = json_number_start(buf, offset);
		loc = parse_loc_at_offset(buf, len, offset, file);
		/* "too big integer" or "real number overflow": same words as the YAML side. */
		diag_error(diags, loc, NULL, "%s out of range",
			   strstr(err->text, "real") ? "number" : "integer");
		return -EINVAL;
	default:
		/* jansson's position is just past the offending byte; point at that character. */
		while (offset > 0 && offset < len && ((unsigned char)buf[offset] & 0xc0) == 0x80)
			offset--;
		diag_error(diags, parse_loc_at_offset(buf, len, offset, file), NULL, "JSON: %s",
			   err->text);
		return -EINVAL;
	}
}

static bool json_is_blank(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!json_is_space(buf[i]))
			return false;
	return true;
}

static int json_validate(const char *buf, size_t len, const char *file, struct diag_list *diags)
{
	json_error_t err;
	const char *nul;
	json_t *doc;

	if (json_is_blank(buf, len)) {
		diag_error(diags, (struct loc){file, 1, 1}, NULL, "empty document");
		return -EINVAL;
	}
	/* jansson takes a NUL byte for the end of input and would ignore what follows it. */
	nul = memchr(buf, '\0', len);
	if (nul) {
		diag_error(diags, parse_loc_at_offset(buf, len, (size_t)(nul - buf), file), NULL,
			   "NUL characters are not supported");
		return -EINVAL;
	}
	doc = json_loadb(buf, len, JSON_DECODE_ANY, &err);
	if (!doc)
		return json_report_syntax_error(buf, len, file, &err, diags);
	json_decref(doc);
	return 0;
}

int parse_json(const char *buf, size_t len, const char *file, struct diag_list *diags,
	       struct node **ret_root)
{
	struct json_ctx c = {.buf = buf, .len = len, .line = 1, .file = file, .diags = diags};
	struct node *root = NULL;
	int r;

	r = json_validate(buf, len, file, diags);
	if (r < 0)
		return r;
	r = json_parse_value(&c, 0, &root);
	if (r < 0)
		goto out;
	json_skip_space(&c);
	if (c.pos != c.len) {
		r = json_mismatch(&c);
		goto out;
	}
	if (c.failed) {
		r = -EINVAL;
		goto out;
	}
	*ret_root = root;
	root = NULL;
out:
	node_free(root);
	return r;
}
