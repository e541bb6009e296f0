/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the values netseg stores in etcd, decoded (agent/cluster_ep.c) as
 * agent/cluster_sync.c does once etcd's answer is unwrapped: the input is a key, a NUL, and
 * the value (no NUL: the key is byte 0's choice of /netseg/v1/nodes/n1,
 * /netseg/v1/endpoints/n1/web, /netseg/v1/policy; 'c' instead parses a --cidr list). A
 * value may be preceded by a node's value and a NUL byte (byte 0 'E'), whose CIDRs the
 * endpoint is checked against.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_cluster_values.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data, *nul, *key;
	struct cluster_cidrs node = {0};
	size_t len = size;
	char err[256], *list;

	if (size < 1)
		return 0;
	nul = memchr(body, '\0', len);
	if (nul) {
		key = body; /* a NUL-terminated key of its own */
		len -= (size_t)(nul + 1 - body);
		body = nul + 1;
	} else {
		key = data[0] == 'n'   ? CLUSTER_KEY_NODES "n1"
		      : data[0] == 'p' ? CLUSTER_KEY_POLICY
				       : CLUSTER_KEY_ENDPOINTS "n1/web";
		if (data[0] == 'c') {
			if (!(list = strndup(body + 1, len - 1)))
				return 0;
			if (cluster_cidrs_parse(list, &node, err, sizeof(err)) == 0) {
				free(cluster_node_encode(&node));
				cluster_cidrs_clear(&node);
			}
			free(list);
			return 0;
		}
		if (data[0] == 'E' && (nul = memchr(body + 1, '\n', len - 1))) {
			/* the node's value, a newline, then the endpoint's */
			fuzz_cluster_value(CLUSTER_KEY_NODES "n1", body + 1,
					   (size_t)(nul - body - 1), &node);
			len -= (size_t)(nul + 1 - body);
			body = nul + 1;
		} else {
			body++;
			len--;
		}
	}
	fuzz_cluster_value(key, body, len, &node);
	cluster_cidrs_clear(&node);
	return 0;
}
