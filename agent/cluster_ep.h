/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_CLUSTER_EP_H
#define NETSEG_CLUSTER_EP_H

/*
 * What netseg keeps in etcd, and its encoding (pure: buffers in, structs or one-line errors
 * out). The key layout (docs/cluster.md):
 *
 *   /netseg/v1/policy                {"files": [{"name", "text"}...]}          (cluster push)
 *   /netseg/v1/nodes/NODE            {"cidrs": ["10.1.0.0/24", ...]}           (add-node)
 *   /netseg/v1/endpoints/NODE/NAME   {"name","labels","image","networks","addresses"}
 *                                    bound to NODE's lease, written by its agent
 *   /netseg/v1/live/NODE             {"lease": ID, "started": T} on the same lease
 *   /netseg/v1/status/NODE           {"policy_revision": R, "applied": T, "endpoints": N}
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "endpoints.h"
#include "policy.h"

#define CLUSTER_KEY_ROOT      "/netseg/v1/"
#define CLUSTER_KEY_POLICY    "/netseg/v1/policy"
#define CLUSTER_KEY_NODES     "/netseg/v1/nodes/"
#define CLUSTER_KEY_ENDPOINTS "/netseg/v1/endpoints/"
#define CLUSTER_KEY_LIVE      "/netseg/v1/live/"
#define CLUSTER_KEY_STATUS    "/netseg/v1/status/"

#define CLUSTER_MAX_VALUE  (64u << 10) /* bytes of one endpoint or node value */
#define CLUSTER_MAX_POLICY (4u << 20)  /* bytes of the stored policy */
#define CLUSTER_MAX_CIDRS  64
#define CLUSTER_NODE_MAX   63 /* a node name: [A-Za-z0-9._-], like a host name */

bool cluster_node_name_valid(const char *name);

/* An endpoint as published: never its interface or bridge. NULL on ENOMEM. */
char *cluster_ep_encode(const struct endpoint *e);
/* The endpoint under KEY (/netseg/v1/endpoints/NODE/NAME) from its value: no interface,
 * node set. */
int cluster_ep_decode(const char *key, const char *buf, size_t len, struct endpoint *ret, char *err,
		      size_t errlen);
/* NODE and NAME of an endpoint key; false when KEY is not one. */
bool cluster_ep_key_split(const char *key, char *node, size_t nodelen);

struct cluster_cidrs {
	struct policy_cidr *c;
	size_t n;
};
char *cluster_node_encode(const struct cluster_cidrs *cidrs);
int cluster_node_decode(const char *buf, size_t len, struct cluster_cidrs *ret, char *err,
			size_t errlen);
void cluster_cidrs_clear(struct cluster_cidrs *c);
/* Parses "10.1.0.0/24,fd01::/64". */
int cluster_cidrs_parse(const char *list, struct cluster_cidrs *ret, char *err, size_t errlen);
/* Whether every address of E lies in CIDRS; else the first one that does not, in WHY. */
bool cluster_cidrs_cover(const struct cluster_cidrs *cidrs, const struct endpoint *e, char *why,
			 size_t len);

/* The stored policy document: files by name and text. */
struct cluster_policy_file {
	char *name, *text;
	size_t len;
};
char *cluster_policy_encode(const struct cluster_policy_file *files, size_t n);
/* Parses and validates the stored document; located errors ("etcd:NAME:L:C") in DIAGS. */
int cluster_policy_decode(const char *buf, size_t len, struct diag_list *diags,
			  struct policy **ret);

#endif
