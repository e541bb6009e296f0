/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_COMPILE_H
#define NETSEG_COMPILE_H

/* Policy + endpoints + managed bridges -> ruleset IR, laid out as docs/design.md describes. */

#include <stddef.h>

#include "endpoints.h"
#include "ir.h"
#include "policy.h"

#define COMPILE_TABLE_NAME	"netseg"
#define COMPILE_MARK_CLASSIFIED 0x02000000u
#define COMPILE_NFLOG_GROUP	1650
#define COMPILE_LOG_RATE	10 /* per rule, per second */
#define COMPILE_LOG_BURST	20

struct compile_input {
	const struct policy *policy;
	const struct endpoint_set *endpoints; /* may be NULL: no containers yet */
	const char *const *bridges;	      /* managed bridges, deduplicated by the compiler */
	size_t nbridges;
};

/* Returns 0 and *ret, or -ENOMEM. The policy is already valid, so nothing else can fail. */
int compile_ruleset(const struct compile_input *in, struct ir_ruleset **ret);

#endif
