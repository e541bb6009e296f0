/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the agent does with one value read from etcd (agent/cluster_sync.c), for the etcd
 * harnesses: by its key, a node's CIDRs, an endpoint (checked against the last node's
 * CIDRs, as sync checks it against its node's) or the stored policy.
 */
#ifndef NETSEG_FUZZ_CLUSTER_VALUES_H
#define NETSEG_FUZZ_CLUSTER_VALUES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_ep.h"
#include "diag.h"
#include "policy.h"

static inline void fuzz_cluster_value(const char *key, const char *val, size_t len,
				      struct cluster_cidrs *node)
{
	char err[256], why[256];

	err[0] = '\0';
	if (strncmp(key, CLUSTER_KEY_NODES, strlen(CLUSTER_KEY_NODES)) == 0) {
		struct cluster_cidrs c = {0};

		if (cluster_node_decode(val, len, &c, err, sizeof(err)) == 0) {
			char *enc = cluster_node_encode(&c);

			free(enc);
			cluster_cidrs_clear(node);
			*node = c;
		}
	} else if (strncmp(key, CLUSTER_KEY_ENDPOINTS, strlen(CLUSTER_KEY_ENDPOINTS)) == 0) {
		struct endpoint e = {0};

		if (cluster_ep_decode(key, val, len, &e, err, sizeof(err)) == 0) {
			char *enc = cluster_ep_encode(&e);

			if (!e.node || !e.name)
				abort();
			(void)cluster_cidrs_cover(node, &e, why, sizeof(why));
			free(enc);
			endpoint_clear(&e);
		}
	} else if (strcmp(key, CLUSTER_KEY_POLICY) == 0) {
		struct diag_list *d = diag_list_new();
		struct policy *p = NULL;

		if (d && cluster_policy_decode(val, len, d, &p) == 0)
			policy_free(p);
		diag_list_free(d);
	}
	if (!memchr(err, '\0', sizeof(err)))
		abort();
}

#endif
