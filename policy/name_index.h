/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_NAME_INDEX_H
#define NETSEG_NAME_INDEX_H

/*
 * Name -> index, for the validator's duplicate and reference checks: a policy may define
 * hundreds of thousands of groups and rules, and a scan of the earlier ones per name made
 * `netseg check` quadratic. The names are borrowed: they must outlive the index.
 */
#include <stdbool.h>
#include <stddef.h>

struct name_index {
	const char **names; /* open addressing, linear probing; NULL: empty slot */
	size_t *values;
	size_t n, cap; /* cap: 0 or a power of two */
};

/* Adds NAME -> VALUE unless NAME is there already (the first one stays). 0 or -ENOMEM. */
int name_index_add(struct name_index *x, const char *name, size_t value);
/* Whether NAME is there; its value in *ret_value then. */
bool name_index_find(const struct name_index *x, const char *name, size_t *ret_value);
/* Frees the tables (not the names) and leaves an empty index. */
void name_index_clear(struct name_index *x);

#endif
