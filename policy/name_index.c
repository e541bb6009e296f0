/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "name_index.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t name_index_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return (size_t)(h ^ (h >> 32));
}

/* The slot holding NAME, or the empty one where it would go. */
static size_t name_index_slot(const struct name_index *x, const char *name)
{
	size_t mask = x->cap - 1, i = name_index_hash(name) & mask;

	while (x->names[i] && strcmp(x->names[i], name) != 0)
		i = (i + 1) & mask;
	return i;
}

/* At most half full, so a probe ends soon. */
static int name_index_reserve(struct name_index *x)
{
	struct name_index grown = {0};

	if ((x->n + 1) * 2 <= x->cap)
		return 0;
	grown.cap = x->cap ? x->cap * 2 : 64;
	grown.names = calloc(grown.cap, sizeof(*grown.names));
	grown.values = calloc(grown.cap, sizeof(*grown.values));
	if (!grown.names || !grown.values) {
		name_index_clear(&grown);
		return -ENOMEM;
	}
	for (size_t i = 0; i < x->cap; i++) {
		if (!x->names[i])
			continue;
		size_t s = name_index_slot(&grown, x->names[i]);

		grown.names[s] = x->names[i];
		grown.values[s] = x->values[i];
	}
	grown.n = x->n;
	name_index_clear(x);
	*x = grown;
	return 0;
}

int name_index_add(struct name_index *x, const char *name, size_t value)
{
	size_t s;

	if (name_index_reserve(x) < 0)
		return -ENOMEM;
	s = name_index_slot(x, name);
	if (x->names[s])
		return 0;
	x->names[s] = name;
	x->values[s] = value;
	x->n++;
	return 0;
}

bool name_index_find(const struct name_index *x, const char *name, size_t *ret_value)
{
	size_t s;

	if (!x->cap)
		return false;
	s = name_index_slot(x, name);
	if (!x->names[s])
		return false;
	if (ret_value)
		*ret_value = x->values[s];
	return true;
}

void name_index_clear(struct name_index *x)
{
	free(x->names);
	free(x->values);
	*x = (struct name_index){0};
}
