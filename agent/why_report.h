/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_WHY_REPORT_H
#define NETSEG_WHY_REPORT_H

/*
 * One `netseg why` answer as a JSON object, and its text rendering. The CLI builds it from
 * files, the agent from its inventory and enforced policy (control request "why FROM TO
 * PROTO"); both print it through the same renderer.
 */

#include <jansson.h>
#include <stdio.h>

#include "endpoints.h"
#include "inventory.h"
#include "policy.h"

struct why_ctx {
	const struct policy *p;
	const struct endpoint_set *eps;
	const struct endpoint_addr *host; /* the host's own addresses */
	size_t nhost;
};

/* CLI_OK and *ret; CLI_USAGE (bad protocol, mixed families) or CLI_FAIL (unknown end, out of
 * memory) with one line in ERR. */
int why_answer(const struct why_ctx *c, const char *from, const char *to, const char *proto,
	       json_t **ret, char *err, size_t errlen);

/* The text form of an answer. */
void why_print_text(const json_t *o, FILE *out);

/* The agent's answer to the control request "why QUERY" (QUERY: "FROM TO PROTO/PORT") over
 * its inventory and enforced policy P (NULL before the first good policy): the same object,
 * or {"error": MESSAGE, "exit": CODE}. NULL only when out of memory. */
#define WHY_QUERY_MAX 1000
json_t *why_agent_answer(const struct inventory *inv, const struct policy *p, const char *query);

#endif
