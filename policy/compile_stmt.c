/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The statement helpers every compiler file builds its lines with, and the line equality and
 * hash by which a rule's repeated lines are dropped (the seen table, used by compile_rules.c).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compile_internal.h"
#include "util.h"

struct ir_stmt compile_lookup(enum ir_key k, const struct ir_set *s)
{
	return (struct ir_stmt){
	    .kind = IR_STMT_MATCH,
	    .match = {.keys = {k}, .nkeys = 1, .op = IR_OP_LOOKUP, .set = s->name}};
}

struct ir_stmt compile_not_lookup(enum ir_key k, const struct ir_set *s)
{
	struct ir_stmt st = compile_lookup(k, s);

	st.match.op = IR_OP_NOT_LOOKUP;
	return st;
}

struct ir_stmt compile_lookup2(enum ir_key k1, enum ir_key k2, const struct ir_set *s)
{
	return (struct ir_stmt){
	    .kind = IR_STMT_MATCH,
	    .match = {.keys = {k1, k2}, .nkeys = 2, .op = IR_OP_LOOKUP, .set = s->name}};
}

struct ir_stmt compile_eq(enum ir_key k, struct ir_value v)
{
	return (struct ir_stmt){.kind = IR_STMT_MATCH,
				.match = {.keys = {k}, .nkeys = 1, .op = IR_OP_EQ, .value = v}};
}

struct ir_stmt compile_verdict(enum ir_verdict_kind kind, const struct ir_chain *target)
{
	return (struct ir_stmt){.kind = IR_STMT_VERDICT,
				.verdict = {.kind = kind, .chain = target ? target->name : NULL}};
}

struct ir_stmt compile_counter(const char *name)
{
	return (struct ir_stmt){.kind = IR_STMT_COUNTER, .counter = name};
}

int compile_line(struct ir_chain *c, size_t n, const struct ir_stmt *stmts)
{
	return ir_rule_add_copy(c, stmts, n);
}

static bool compile_str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool compile_value_eq(const struct ir_value *a, const struct ir_value *b)
{
	return a->len == b->len && a->prefix == b->prefix && memcmp(a->data, b->data, a->len) == 0;
}

static bool compile_stmt_eq(const struct ir_stmt *a, const struct ir_stmt *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case IR_STMT_MATCH:
		if (a->match.nkeys != b->match.nkeys || a->match.op != b->match.op ||
		    !compile_str_eq(a->match.set, b->match.set) ||
		    !compile_value_eq(&a->match.value, &b->match.value) ||
		    !compile_value_eq(&a->match.value_end, &b->match.value_end))
			return false;
		for (size_t i = 0; i < a->match.nkeys; i++)
			if (a->match.keys[i] != b->match.keys[i])
				return false;
		return true;
	case IR_STMT_COUNTER:
		return compile_str_eq(a->counter, b->counter);
	case IR_STMT_LIMIT:
		return a->limit.rate == b->limit.rate && a->limit.burst == b->limit.burst &&
		       a->limit.over == b->limit.over;
	case IR_STMT_LOG:
		return a->log.group == b->log.group && compile_str_eq(a->log.prefix, b->log.prefix);
	case IR_STMT_MARK_OR:
		return a->mark_or == b->mark_or;
	case IR_STMT_QUEUE:
		return a->queue_num == b->queue_num;
	case IR_STMT_VERDICT:
		return a->verdict.kind == b->verdict.kind &&
		       compile_str_eq(a->verdict.chain, b->verdict.chain);
	}
	return false;
}

bool compile_rule_eq(const struct ir_rule *a, const struct ir_rule *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!compile_stmt_eq(&a->stmts[i], &b->stmts[i]))
			return false;
	return true;
}

/* FNV-1a over what compile_rule_eq() compares, so equal lines hash alike. */
static uint64_t compile_hash_bytes(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static uint64_t compile_hash_u32(uint64_t h, uint32_t x)
{
	return compile_hash_bytes(h, &x, sizeof(x));
}

static uint64_t compile_hash_str(uint64_t h, const char *s)
{
	return s ? compile_hash_bytes(h, s, strlen(s) + 1) : compile_hash_u32(h, 0xffffffffu);
}

static uint64_t compile_hash_value(uint64_t h, const struct ir_value *v)
{
	h = compile_hash_u32(h, (uint32_t)v->len << 8 | v->prefix);
	return compile_hash_bytes(h, v->data, v->len);
}

static uint64_t compile_stmt_hash(uint64_t h, const struct ir_stmt *s)
{
	h = compile_hash_u32(h, s->kind);
	switch (s->kind) {
	case IR_STMT_MATCH:
		h = compile_hash_u32(h, (uint32_t)s->match.nkeys << 8 | s->match.op);
		h = compile_hash_str(h, s->match.set);
		h = compile_hash_value(h, &s->match.value);
		h = compile_hash_value(h, &s->match.value_end);
		for (size_t i = 0; i < s->match.nkeys; i++)
			h = compile_hash_u32(h, s->match.keys[i]);
		return h;
	case IR_STMT_COUNTER:
		return compile_hash_str(h, s->counter);
	case IR_STMT_LIMIT:
		h = compile_hash_u32(h, s->limit.rate);
		h = compile_hash_u32(h, s->limit.burst);
		return compile_hash_u32(h, s->limit.over);
	case IR_STMT_LOG:
		h = compile_hash_u32(h, s->log.group);
		return compile_hash_str(h, s->log.prefix);
	case IR_STMT_MARK_OR:
		return compile_hash_u32(h, s->mark_or);
	case IR_STMT_QUEUE:
		return compile_hash_u32(h, s->queue_num);
	case IR_STMT_VERDICT:
		h = compile_hash_u32(h, s->verdict.kind);
		return compile_hash_str(h, s->verdict.chain);
	}
	return h;
}

uint64_t compile_rule_hash(const struct ir_stmt *stmts, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = compile_stmt_hash(h, &stmts[i]);
	return h;
}

/* --- a rule's lines so far (struct compile_seen) --- */

static struct ir_rule compile_seen_line(const struct compile_seen_slot *sl)
{
	const struct compile_port_lines *pl = sl->owner;
	const struct ir_chain *c = sl->owner;

	if (sl->port_line)
		return (struct ir_rule){.stmts = pl->v[sl->idx].st, .n = pl->v[sl->idx].n};
	return c->rules[sl->idx];
}

static size_t compile_seen_probe(const struct compile_seen *s, uint64_t hash, const void *owner,
				 const struct ir_rule *line)
{
	size_t mask = s->cap - 1, i = (size_t)hash & mask;

	for (; s->v[i].gen == s->gen; i = (i + 1) & mask) {
		const struct compile_seen_slot *sl = &s->v[i];

		if (!line) /* rehashing: any free slot */
			continue;
		if (sl->hash == hash && sl->owner == owner) {
			struct ir_rule other = compile_seen_line(sl);

			if (compile_rule_eq(&other, line))
				return i;
		}
	}
	return i;
}

/* At most half full. */
static int compile_seen_reserve(struct compile_seen *s)
{
	struct compile_seen grown = {.gen = s->gen, .n = s->n};

	if ((s->n + 1) * 2 <= s->cap)
		return 0;
	grown.cap = s->cap ? s->cap * 2 : 64;
	grown.v = calloc(grown.cap, sizeof(*grown.v));
	if (!grown.v)
		return -ENOMEM;
	for (size_t i = 0; i < s->cap; i++)
		if (s->v[i].gen == s->gen)
			grown.v[compile_seen_probe(&grown, s->v[i].hash, NULL, NULL)] = s->v[i];
	free(s->v);
	*s = grown;
	return 0;
}

/* Whether the current rule already has line STMTS[0..N) in OWNER; if not, records it as the
 * line IDX there (placed next by the caller). */
static int compile_seen_add(struct compile_seen *s, const void *owner, bool port_line, size_t idx,
			    size_t n, const struct ir_stmt *stmts, bool *ret_dup)
{
	struct ir_rule line = {.stmts = (struct ir_stmt *)stmts, .n = n};
	uint64_t hash = compile_rule_hash(stmts, n);
	size_t i;

	if (compile_seen_reserve(s) < 0)
		return -ENOMEM;
	i = compile_seen_probe(s, hash, owner, &line);
	*ret_dup = s->v[i].gen == s->gen;
	if (!*ret_dup) {
		s->v[i] = (struct compile_seen_slot){.hash = hash,
						     .owner = owner,
						     .idx = idx,
						     .gen = s->gen,
						     .port_line = port_line};
		s->n++;
	}
	return 0;
}

/* Appends STMTS as a line of the current rule unless the rule already has the same line in
 * C (lists like [containers, any] would otherwise repeat it). */
int compile_rule_line(struct compile_seen *seen, struct ir_chain *c, size_t n,
		      const struct ir_stmt *stmts)
{
	bool dup;
	int r = compile_seen_add(seen, c, false, c->n, n, stmts, &dup);

	if (r < 0 || dup)
		return r;
	return compile_line(c, n, stmts);
}

/* Queues STMTS as a port line of rule RI unless the rule already queued the same line. */
int compile_port_line_add(struct compile_seen *seen, struct compile_port_lines *pl, size_t ri,
			  size_t n, const struct ir_stmt *stmts)
{
	struct compile_port_line *l;
	struct ir_stmt *st;
	bool dup;
	int r;

	if (n > COMPILE_LINE_MAX)
		return -EINVAL;
	r = compile_seen_add(seen, pl, true, pl->n, n, stmts, &dup);
	if (r < 0 || dup)
		return r;
	st = reallocarray(NULL, n, sizeof(*st));
	if (!st)
		return -ENOMEM;
	memcpy(st, stmts, n * sizeof(*stmts));
	if (GROW(pl->v, pl->cap, pl->n + 1, 16) < 0) {
		free(st);
		return -ENOMEM;
	}
	l = &pl->v[pl->n++];
	*l = (struct compile_port_line){.ri = ri, .n = n, .st = st};
	return 0;
}
