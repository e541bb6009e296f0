/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The statement helpers every compiler file builds its lines with, and the line equality and
 * hash compile_rules.c drops repeated lines by.
 */
#include <stdint.h>
#include <string.h>

#include "compile_internal.h"

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
