/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_ELEMTAB_H
#define NETSEG_ELEMTAB_H

/*
 * Reference-counted set elements: what the inventory wants in the kernel's sets, next to what
 * is there. Two endpoints may share an element (their bridge's dispatch entries), an endpoint
 * may be replaced by a changed copy of itself: counting makes both cases a no-op in the
 * kernel, and a burst of changes collapses into the net difference at commit time.
 */

#include <stdbool.h>
#include <stddef.h>

#include "ir.h"

struct elemtab;

struct elemtab *elemtab_new(void);
void elemtab_free(struct elemtab *t);
/* Forgets every element (before a full apply rebuilds the table). */
void elemtab_clear(struct elemtab *t);

/* Adds DELTA (+1 or -1) to the count of element E of set SET (name is copied). */
int elemtab_ref(struct elemtab *t, enum ir_family family, const char *set, const struct ir_elem *e,
		int delta);

/* Called for each element whose wanted state (count > 0) differs from the installed one. */
typedef int (*elemtab_change_fn)(enum ir_family family, const char *set, const struct ir_elem *e,
				 bool add, void *userdata);
int elemtab_changes(const struct elemtab *t, elemtab_change_fn fn, void *userdata);
size_t elemtab_pending(const struct elemtab *t);

/* The changes reached the kernel: installed := wanted; unreferenced elements are forgotten. */
void elemtab_commit(struct elemtab *t);
/* After a full apply installed exactly what the table wants. */
void elemtab_mark_installed(struct elemtab *t);

#endif
