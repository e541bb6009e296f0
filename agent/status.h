/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_STATUS_H
#define NETSEG_STATUS_H

/*
 * The agent's status document: endpoints, groups with their members, rules and defaults with
 * the kernel's packet and byte counters, logging (written, suppressed, lost), the last
 * reconcile, events, repairs and errors. `netseg status --json` prints it as is; the table
 * view and the Prometheus metrics are renderings of it.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "decisions.h"
#include "inventory.h"
#include "metrics.h"
#include "reconcile.h"

struct status_input {
	const struct inventory *inv;
	const struct policy *policy;
	const struct reconcile_stats *rs;
	const struct agent_stats *st;
	const struct decisions *dec;
	bool nflog_on;
	uint64_t nflog_lost;
	const char *policy_path;
};

/* NULL only when out of memory. A failed counter read is reported inside ("counters_error"). */
json_t *status_build(const struct status_input *in);

#endif
