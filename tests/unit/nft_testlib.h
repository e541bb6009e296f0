/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_NFT_TESTLIB_H
#define NETSEG_NFT_TESTLIB_H

/*
 * Helpers shared by the kernel-touching nft suites (test_nft_encode.c, test_apply.c, ...): building
 * IR by hand, running commands in a fresh network namespace, and normalised listings of our
 * tables that two namespaces can be compared by.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir.h"

/* Exits 77 (skip) with a reason unless we are root in a fresh network namespace with nft. */
void nt_enter_netns_or_skip(const char *suite);
/* A new, empty network namespace for the calling test (process), loopback up if LO_UP. */
void nt_fresh_netns(bool lo_up);
/* nft_batch_apply() of RS, which must succeed (the kernel's message on failure). */
void nt_apply_ok(const struct ir_ruleset *rs);

/* --- IR building (literal strings are fine: they outlive the ruleset) --- */
struct ir_value nt_v4(const char *addr, int prefix);
struct ir_value nt_v6(const char *addr, int prefix);
struct ir_stmt nt_match(enum ir_key k, enum ir_op op, struct ir_value v);
struct ir_stmt nt_range(enum ir_key k, struct ir_value lo, struct ir_value hi);
struct ir_stmt nt_lookup(enum ir_op op, const char *set, size_t nkeys, const enum ir_key *keys);
struct ir_stmt nt_verdict(enum ir_verdict_kind kind, const char *chain);
struct ir_stmt nt_counter(const char *name);
void nt_rule(struct ir_chain *c, const struct ir_stmt *s, size_t n);
#define NT_RULE(c, ...)                                                                            \
	do {                                                                                       \
		const struct ir_stmt nt_s_[] = {__VA_ARGS__};                                      \
		nt_rule(c, nt_s_, sizeof(nt_s_) / sizeof(nt_s_[0]));                               \
	} while (0)
#define NT_KEYS(...)                                                                               \
	(sizeof((const enum ir_key[]){__VA_ARGS__}) / sizeof(enum ir_key)), (const enum ir_key[])  \
	{                                                                                          \
		__VA_ARGS__                                                                        \
	}
struct ir_chain *nt_base_chain(struct ir_ruleset *rs, struct ir_table *t, const char *name,
			       enum ir_hook hook, int prio);
void nt_elem1(struct ir_set *s, struct ir_value v);
void nt_elem_range(struct ir_set *s, struct ir_value lo, struct ir_value hi);
void nt_elem2(struct ir_set *s, struct ir_value a, struct ir_value b);
void nt_elem2_range(struct ir_set *s, struct ir_value a, struct ir_value b_lo,
		    struct ir_value b_hi);
void nt_elem_vmap(struct ir_set *s, struct ir_value k, enum ir_verdict_kind kind,
		  const char *chain);

/* --- namespaces and listings --- */

/* Runs FN(ARG) in a child in its own new network namespace; returns its exit status. */
int nt_in_new_netns(int (*fn)(void *), void *arg);

/* Output of a shell command (run in the caller's namespace), NULL on failure. */
char *nt_capture(const char *cmd, int *ret_status);

/*
 * Normalised state of table FAMILY NAME in the current namespace, one item per line:
 * nft -j objects without handles and with sorted elements, nft --debug=netlink expressions
 * without handles, and the raw set attributes (flags, key type and length, user data, ...).
 * NULL if the table cannot be listed.
 */
char *nt_table_state(const char *family, const char *name);

/* Prints lines present in only one of A and B (as multisets); true if there are none. */
bool nt_same_lines(const char *what, const char *a, const char *b);

/* Full `nft list ruleset` text, NULL on failure. */
char *nt_ruleset_text(void);

#endif
