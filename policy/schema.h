/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_SCHEMA_H
#define NETSEG_SCHEMA_H

/*
 * Checks of the node tree shared by every document kind (policies, endpoint files), so that a
 * wrong type or an unknown key reads the same whichever file it is in. Checks append located
 * errors to a diag list and return whether the node passed; validation goes on after them.
 * Also the small allocation helpers the models built from those trees share.
 */

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "node.h"
#include "policy.h"
#include "util.h"

/* Room for a hint or a formatted location; longer ones are cut, never overflowed. */
#define SCHEMA_HINT_MAX 160

/* Keys a mapping may hold; drives both the unknown-key error and its "did you mean". */
struct schema_keys {
	const char *what; /* as in "unknown key 'x' in a rule" */
	const char *const *keys;
	size_t n;
};

#define SCHEMA_KEYS(what, arr)                                                                     \
	{                                                                                          \
		(what), (arr), ARRAY_SIZE(arr)                                                     \
	}

/* snprintf into BUF, returning BUF, so a hint can be built inside a diag_error() call. */
__attribute__((format(printf, 3, 4))) const char *schema_hintf(char *buf, size_t len,
							       const char *fmt, ...);
/* "FILE:LINE:COL" ("?" for no file) into BUF; returns BUF. */
const char *schema_fmt_loc(char *buf, size_t len, struct loc l);

bool schema_is_str(const struct node *n);
bool schema_is_int(const struct node *n);

/* "'WHAT' must be WANT, got a list" at N. */
void schema_type_error(struct diag_list *d, const struct node *n, const char *what,
		       const char *want);
/* Whether N is a mapping (resp. a list); a type error at N otherwise. */
bool schema_want_map(struct diag_list *d, const struct node *n, const char *what);
bool schema_want_seq(struct diag_list *d, const struct node *n, const char *what);
/* N's text when it is a non-empty string; NULL after a located error otherwise. */
const char *schema_want_str(struct diag_list *d, const struct node *n, const char *what);

/* One "unknown key" error (with a "did you mean" when one is close) per key of M not in KS. */
void schema_check_keys(struct diag_list *d, const struct node *m, const struct schema_keys *ks);
/*
 * Whether KEY is absent from M only because of a misspelling schema_check_keys() already
 * reported ("nmae"): then "missing 'name'" would be the same mistake told twice.
 */
bool schema_misspelt(const struct node *m, const char *key, const struct schema_keys *ks);

/*
 * "WHAT 'NAME' is missing 'KEY'" at mapping M ("WHAT is missing 'KEY'" while NAME is NULL),
 * unless schema_misspelt() says the unknown-key error already told it.
 */
void schema_missing(struct diag_list *d, const struct node *m, const struct schema_keys *ks,
		    const char *what, const char *name, const char *key);

/* Copies the string at KEY of M into *ret when present and valid; absent is not an error. */
int schema_optional_str(struct diag_list *d, const struct node *m, const char *key, char **ret);

/*
 * Appends the labels of mapping N ("labels: {app: web}") to *labels. Values that are not
 * strings are reported and skipped. 0 or -ENOMEM.
 */
int schema_labels(struct diag_list *d, const struct node *n, struct policy_label **labels,
		  size_t *nlabels);
int schema_add_label(struct policy_label **labels, size_t *nlabels, const char *key,
		     const char *value);

/*
 * Makes room for element N of *ITEMS: arrays hold 4, then double, so the capacity is implied
 * by the count and need not be stored (grow_array does the growing). 0, -ENOMEM or -EOVERFLOW
 * (*ITEMS unchanged).
 */
int schema_grow(void **items, size_t n, size_t size);
#define SCHEMA_GROW(arr, n) schema_grow((void **)&(arr), (n), sizeof(*(arr)))

/* strdup() as 0 / -ENOMEM, *ret written only on success. */
int schema_dup_str(const char *s, char **ret);

/*
 * IN with its file name replaced by the model's own copy in FILES (added when new), so the
 * model outlives the diag list whose names the node tree borrows. 0 or -ENOMEM.
 */
int schema_own_loc(char ***files, size_t *nfiles, struct loc in, struct loc *ret);

#endif
