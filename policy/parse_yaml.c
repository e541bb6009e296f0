/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * YAML to node tree through libyaml's event API. Only the subset that maps onto JSON is
 * accepted: one document, no anchors/aliases, no tags but !!str, scalar keys. Plain scalars are
 * typed by the YAML 1.2 core schema, so "80", "true" and "null" mean what they mean in JSON.
 */
#include "parse.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* libyaml counts columns in characters; diagnostics count bytes like the JSON side. A cursor
 * only moves forward as events do, so converting every mark costs linear time overall. */
struct yaml_char_cursor {
	size_t chars, bytes;
};

/* The YAML spec's (and libyaml's) limit on an implicit key, in characters. */
#define YAML_KEY_MAX 1024

struct yaml_ctx {
	yaml_parser_t parser;
	const unsigned char *buf;
	size_t len;
	bool ascii; /* no conversion needed */
	struct yaml_char_cursor line_cursor, mark_cursor;
	const char *file;
	struct diag_list *diags;
	bool failed; /* an error was reported but parsing could go on (duplicate keys) */
};

static size_t yaml_utf8_width(unsigned char lead)
{
	if (lead < 0x80)
		return 1;
	if ((lead & 0xe0) == 0xc0)
		return 2;
	if ((lead & 0xf0) == 0xe0)
		return 3;
	if ((lead & 0xf8) == 0xf0)
		return 4;
	return 1;
}

static size_t yaml_char_to_byte(const struct yaml_ctx *c, struct yaml_char_cursor *cur,
				size_t chars)
{
	if (chars < cur->chars)
		*cur = (struct yaml_char_cursor){0, 0};
	while (cur->chars < chars && cur->bytes < c->len) {
		cur->bytes += yaml_utf8_width(c->buf[cur->bytes]);
		cur->chars++;
	}
	return cur->bytes;
}

static struct loc yaml_loc(struct yaml_ctx *c, yaml_mark_t mark)
{
	struct loc loc = {c->file, (int)mark.line + 1, (int)mark.column + 1};
	size_t line_start, at;

	if (c->ascii || mark.column > mark.index)
		return loc;
	line_start = yaml_char_to_byte(c, &c->line_cursor, mark.index - mark.column);
	at = yaml_char_to_byte(c, &c->mark_cursor, mark.index);
	loc.col = (int)(at - line_start) + 1;
	return loc;
}

/*
 * YAML caps an implicit key at 1024 characters. Past that libyaml stops treating it as a key
 * and says whatever it stumbles on next at the ':' after it ("could not find expected ':'",
 * "mapping values are not allowed in this context", ...), which names neither the problem nor
 * the key. Returns where that key starts when the error is at such a ':', else SIZE_MAX. A
 * quoted key holding ',' or '{' is measured short and keeps libyaml's words.
 */
static size_t yaml_long_key_start(struct yaml_ctx *c, yaml_mark_t problem)
{
	size_t colon =
	    c->ascii ? problem.index : yaml_char_to_byte(c, &c->mark_cursor, problem.index);
	size_t start = colon, chars = 0;

	if (colon >= c->len || c->buf[colon] != ':')
		return SIZE_MAX;
	while (start > 0 && !strchr("\n{[,", c->buf[start - 1]))
		start--;
	/* Indentation and block sequence dashes ("- - key:") are not part of the key. */
	while (start < colon && (c->buf[start] == ' ' || c->buf[start] == '\t' ||
				 (c->buf[start] == '-' && start + 1 < colon &&
				  (c->buf[start + 1] == ' ' || c->buf[start + 1] == '\t'))))
		start++;
	for (size_t i = start; i < colon; i++)
		chars += (c->buf[i] & 0xc0) != 0x80;
	return chars > YAML_KEY_MAX ? start : SIZE_MAX;
}

static int yaml_report_parser_error(struct yaml_ctx *c)
{
	const yaml_parser_t *p = &c->parser;
	const char *problem = p->problem ? p->problem : "syntax error";
	char hint[160];
	struct loc ctx_loc;
	size_t key;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return -ENOMEM;
	case YAML_READER_ERROR:
		/* Reader errors (bad UTF-8, control characters) have an offset, not a mark. */
		if (p->problem_value != -1)
			diag_error(c->diags,
				   parse_loc_at_offset((const char *)c->buf, c->len,
						       p->problem_offset, c->file),
				   NULL, "YAML: %s (byte 0x%02x)", problem, p->problem_value);
		else
			diag_error(c->diags,
				   parse_loc_at_offset((const char *)c->buf, c->len,
						       p->problem_offset, c->file),
				   NULL, "YAML: %s", problem);
		return -EINVAL;
	default:
		break;
	}
	key = yaml_long_key_start(c, p->problem_mark);
	if (key != SIZE_MAX) {
		diag_error(c->diags,
			   parse_loc_at_offset((const char *)c->buf, c->len, key, c->file),
			   "write a longer key as an explicit key: '? KEY' on one line, ': VALUE' "
			   "on the next",
			   "key longer than %d characters", YAML_KEY_MAX);
		return -EINVAL;
	}
	if (p->context) {
		ctx_loc = yaml_loc(c, p->context_mark);
		snprintf(hint, sizeof(hint), "%s at %d:%d", p->context, ctx_loc.line, ctx_loc.col);
	}
	diag_error(c->diags, yaml_loc(c, p->problem_mark), p->context ? hint : NULL, "YAML: %s",
		   problem);
	return -EINVAL;
}

/* The next event, or a located syntax error. */
static int yaml_next(struct yaml_ctx *c, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&c->parser, ev))
		return yaml_report_parser_error(c);
	return 0;
}

static bool yaml_all_digits(const char *s, const char *accept)
{
	return *s && strspn(s, accept) == strlen(s);
}

/* [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+ (YAML 1.2 core schema). Base 0 when not an int. */
static int yaml_int_base(const char *s, const char **ret_digits)
{
	if (s[0] == '0' && s[1] == 'o' && yaml_all_digits(s + 2, "01234567")) {
		*ret_digits = s + 2;
		return 8;
	}
	if (s[0] == '0' && s[1] == 'x' && yaml_all_digits(s + 2, "0123456789abcdefABCDEF")) {
		*ret_digits = s + 2;
		return 16;
	}
	if (yaml_all_digits(s + (*s == '-' || *s == '+'), "0123456789")) {
		*ret_digits = s;
		return 10;
	}
	return 0;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool yaml_is_float(const char *s)
{
	size_t before, after = 0;

	s += *s == '-' || *s == '+';
	before = strspn(s, "0123456789");
	s += before;
	if (*s == '.') {
		after = strspn(s + 1, "0123456789");
		s += 1 + after;
	}
	if (before == 0 && after == 0)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		s += *s == '-' || *s == '+';
		if (!yaml_all_digits(s, "0123456789"))
			return false;
		return true;
	}
	return *s == '\0';
}

static bool yaml_is_one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

/* Types a plain scalar; 0 or -EINVAL with a located error (number out of range). */
static int yaml_resolve_plain(struct yaml_ctx *c, struct node *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"true", "True", "TRUE", NULL};
	static const char *const falses[] = {"false", "False", "FALSE", NULL};
	static const char *const infs[] = {".inf", ".Inf", ".INF", NULL};
	static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};
	const char *s = n->str, *digits, *unsigned_s = s + (*s == '-' || *s == '+');
	char *end;
	int base;

	if (yaml_is_one_of(s, nulls)) {
		n->type = NODE_NULL;
	} else if (yaml_is_one_of(s, trues) || yaml_is_one_of(s, falses)) {
		n->type = NODE_BOOL;
		n->bval = yaml_is_one_of(s, trues);
	} else if ((base = yaml_int_base(s, &digits))) {
		errno = 0;
		n->ival = strtoll(digits, &end, base);
		if (errno == ERANGE) {
			diag_error(c->diags, n->loc, NULL, "integer out of range");
			return -EINVAL;
		}
		n->type = NODE_INT;
	} else if (yaml_is_float(s)) {
		errno = 0;
		n->fval = strtod(s, &end);
		if (errno == ERANGE && isinf(n->fval)) {
			diag_error(c->diags, n->loc, NULL, "number out of range");
			return -EINVAL;
		}
		n->type = NODE_FLOAT;
	} else if (yaml_is_one_of(unsigned_s, infs)) {
		n->type = NODE_FLOAT;
		n->fval = *s == '-' ? -INFINITY : INFINITY;
	} else if (yaml_is_one_of(s, nans)) {
		n->type = NODE_FLOAT;
		n->fval = NAN;
	}
	return 0;
}

static int yaml_reject_anchor(struct yaml_ctx *c, const yaml_event_t *ev, const yaml_char_t *anchor)
{
	if (ev->type != YAML_ALIAS_EVENT && !anchor)
		return 0;
	diag_error(c->diags, yaml_loc(c, ev->start_mark), NULL,
		   "anchors and aliases are not supported");
	return -EINVAL;
}

static int yaml_build_scalar(struct yaml_ctx *c, const yaml_event_t *ev, struct node **ret)
{
	const char *tag = (const char *)ev->data.scalar.tag;
	const char *value = (const char *)ev->data.scalar.value;
	size_t length = ev->data.scalar.length;
	struct node *n = NULL;
	int r;

	r = yaml_reject_anchor(c, ev, ev->data.scalar.anchor);
	if (r < 0)
		return r;
	if (tag && strcmp(tag, YAML_STR_TAG) != 0) {
		diag_error(c->diags, yaml_loc(c, ev->start_mark), NULL,
			   "YAML tag '%s' is not supported", tag);
		return -EINVAL;
	}
	/* The tree holds C strings; an embedded NUL would silently cut the value short. */
	if (memchr(value, '\0', length)) {
		diag_error(c->diags, yaml_loc(c, ev->start_mark), NULL,
			   "NUL characters are not supported");
		return -EINVAL;
	}
	n = node_new(NODE_SCALAR, yaml_loc(c, ev->start_mark));
	if (!n || !(n->str = strndup(value, length))) {
		r = -ENOMEM;
		goto out;
	}
	if (!tag && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		r = yaml_resolve_plain(c, n);
		if (r < 0)
			goto out;
	}
	*ret = n;
	n = NULL;
out:
	node_free(n);
	return r;
}

static int yaml_parse_node(struct yaml_ctx *c, yaml_event_t *ev, int depth, struct node **ret);

/* Starts a collection node at EV, enforcing the depth limit where it is exceeded. */
static int yaml_open_collection(struct yaml_ctx *c, const yaml_event_t *ev,
				const yaml_char_t *anchor, const yaml_char_t *tag,
				enum node_kind kind, int depth, struct node **ret)
{
	struct node *n;
	int r;

	r = yaml_reject_anchor(c, ev, anchor);
	if (r < 0)
		return r;
	if (tag) {
		diag_error(c->diags, yaml_loc(c, ev->start_mark), NULL,
			   "YAML tag '%s' is not supported", (const char *)tag);
		return -EINVAL;
	}
	if (depth + 1 > NODE_MAX_DEPTH)
		return parse_too_deep(c->diags, yaml_loc(c, ev->start_mark));
	n = node_new(kind, yaml_loc(c, ev->start_mark));
	if (!n)
		return -ENOMEM;
	*ret = n;
	return 0;
}

static int yaml_parse_seq(struct yaml_ctx *c, const yaml_event_t *start, int depth,
			  struct node **ret)
{
	struct node *seq = NULL, *item = NULL;
	yaml_event_t ev;
	int r;

	r = yaml_open_collection(c, start, start->data.sequence_start.anchor,
				 start->data.sequence_start.tag, NODE_SEQ, depth, &seq);
	if (r < 0)
		return r;
	for (;;) {
		r = yaml_next(c, &ev);
		if (r < 0)
			goto out;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		r = yaml_parse_node(c, &ev, depth + 1, &item);
		if (r < 0)
			goto out;
		r = node_append(seq, NULL, item);
		if (r < 0)
			goto out;
		item = NULL;
	}
	*ret = seq;
	seq = NULL;
out:
	node_free(item);
	node_free(seq);
	return r;
}

static int yaml_parse_key(struct yaml_ctx *c, yaml_event_t *ev, struct node **ret)
{
	int r;

	if (ev->type == YAML_SCALAR_EVENT)
		r = yaml_build_scalar(c, ev, ret);
	else if (ev->type == YAML_ALIAS_EVENT)
		r = yaml_reject_anchor(c, ev, NULL);
	else {
		diag_error(c->diags, yaml_loc(c, ev->start_mark), NULL,
			   "mapping keys must be scalars, not %s",
			   ev->type == YAML_MAPPING_START_EVENT ? "mappings" : "lists");
		r = -EINVAL;
	}
	yaml_event_delete(ev);
	return r;
}

static int yaml_parse_map(struct yaml_ctx *c, const yaml_event_t *start, int depth,
			  struct node **ret)
{
	struct node *map = NULL, *key = NULL, *value = NULL;
	yaml_event_t ev;
	int r;

	r = yaml_open_collection(c, start, start->data.mapping_start.anchor,
				 start->data.mapping_start.tag, NODE_MAP, depth, &map);
	if (r < 0)
		return r;
	for (;;) {
		r = yaml_next(c, &ev);
		if (r < 0)
			goto out;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		r = yaml_parse_key(c, &ev, &key);
		if (r < 0)
			goto out;
		r = yaml_next(c, &ev);
		if (r < 0)
			goto out;
		r = yaml_parse_node(c, &ev, depth + 1, &value);
		if (r < 0)
			goto out;
		r = node_append(map, key, value);
		if (r < 0)
			goto out;
		key = value = NULL;
	}
	r = parse_check_duplicates(map, c->diags, &c->failed);
	if (r < 0)
		goto out;
	*ret = map;
	map = NULL;
out:
	node_free(key);
	node_free(value);
	node_free(map);
	return r;
}

/* Builds the node that starts with EV (consumed) at DEPTH enclosing collections. */
static int yaml_parse_node(struct yaml_ctx *c, yaml_event_t *ev, int depth, struct node **ret)
{
	int r;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		r = yaml_build_scalar(c, ev, ret);
		break;
	case YAML_SEQUENCE_START_EVENT:
		r = yaml_parse_seq(c, ev, depth, ret);
		break;
	case YAML_MAPPING_START_EVENT:
		r = yaml_parse_map(c, ev, depth, ret);
		break;
	case YAML_ALIAS_EVENT:
		r = yaml_reject_anchor(c, ev, NULL);
		break;
	default:
		/* libyaml guarantees a node here; anything else is a bug we refuse to hide. */
		diag_error(c->diags, yaml_loc(c, ev->start_mark), NULL, "YAML: unexpected event %d",
			   (int)ev->type);
		r = -EINVAL;
		break;
	}
	yaml_event_delete(ev);
	return r;
}

/* Expects an event of TYPE (which libyaml guarantees after a successful parse step). */
static int yaml_expect(struct yaml_ctx *c, yaml_event_type_t type, yaml_event_t *ev)
{
	int r = yaml_next(c, ev);

	if (r < 0)
		return r;
	if (ev->type != type) {
		diag_error(c->diags, yaml_loc(c, ev->start_mark), NULL, "YAML: unexpected event %d",
			   (int)ev->type);
		yaml_event_delete(ev);
		return -EINVAL;
	}
	return 0;
}

static int yaml_parse_stream(struct yaml_ctx *c, struct node **ret_root)
{
	struct node *root = NULL;
	yaml_event_t ev;
	int r;

	r = yaml_expect(c, YAML_STREAM_START_EVENT, &ev);
	if (r < 0)
		return r;
	yaml_event_delete(&ev);
	r = yaml_next(c, &ev);
	if (r < 0)
		return r;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		diag_error(c->diags, (struct loc){c->file, 1, 1}, NULL, "empty document");
		return -EINVAL;
	}
	yaml_event_delete(&ev); /* DOCUMENT-START */
	r = yaml_next(c, &ev);
	if (r < 0)
		return r;
	r = yaml_parse_node(c, &ev, 0, &root);
	if (r < 0)
		goto out;
	r = yaml_expect(c, YAML_DOCUMENT_END_EVENT, &ev);
	if (r < 0)
		goto out;
	yaml_event_delete(&ev);
	r = yaml_next(c, &ev);
	if (r < 0)
		goto out;
	if (ev.type == YAML_DOCUMENT_START_EVENT) {
		diag_error(c->diags, yaml_loc(c, ev.start_mark), "put each policy in its own file",
			   "multiple documents are not supported");
		r = -EINVAL;
	}
	yaml_event_delete(&ev);
	if (r < 0)
		goto out;
	*ret_root = root;
	root = NULL;
out:
	node_free(root);
	return r;
}

int parse_yaml(const char *buf, size_t len, const char *file, struct diag_list *diags,
	       struct node **ret_root)
{
	struct yaml_ctx c = {
	    .buf = (const unsigned char *)buf, .len = len, .file = file, .diags = diags};
	struct node *root = NULL;
	int r;

	c.ascii = true;
	for (size_t i = 0; i < len && c.ascii; i++)
		c.ascii = (unsigned char)buf[i] < 0x80;
	if (!yaml_parser_initialize(&c.parser))
		return -ENOMEM;
	/* UTF-8 only, like JSON: byte columns stay meaningful and UTF-16 is refused. */
	yaml_parser_set_encoding(&c.parser, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&c.parser, c.buf, len);
	r = yaml_parse_stream(&c, &root);
	if (r == 0 && c.failed)
		r = -EINVAL;
	if (r < 0)
		goto out;
	*ret_root = root;
	root = NULL;
out:
	node_free(root);
	yaml_parser_delete(&c.parser);
	return r;
}
