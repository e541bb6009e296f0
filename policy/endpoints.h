/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_ENDPOINTS_H
#define NETSEG_ENDPOINTS_H

/*
 * Managed containers, whatever told us about them (endpoint file, Docker, later a cluster
 * datastore). The compiler and the reconciler see only this.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "node.h"
#include "policy.h"

#define ENDPOINT_IFNAME_MAX 15 /* IFNAMSIZ - 1 */

struct endpoint_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
};

struct endpoint {
	char *name;
	char *id;	 /* may be NULL (endpoint files) */
	char *interface; /* host-side interface name */
	char *bridge;	 /* may be NULL: looked up in the kernel by the CLI/agent */
	char *image;	 /* may be NULL */
	struct endpoint_addr *addrs;
	size_t naddrs;
	struct policy_label *labels;
	size_t nlabels;
	char **networks;
	size_t nnetworks;
	struct loc loc;
	char *node; /* NULL: this host's; else the cluster node it runs on (no interface) */
};

struct endpoint_set {
	struct endpoint *items;
	size_t n, cap;
	/* File names the endpoints' locs borrow, owned here so the set outlives its diag_list. */
	char **files;
	size_t nfiles;
};

/* Frees what E owns and zeroes it; E itself is not freed (it lives in an array). NULL ok. */
void endpoint_clear(struct endpoint *e);

struct endpoint_set *endpoint_set_new(void);
void endpoint_set_free(struct endpoint_set *s);

/*
 * Validates an endpoint document ("endpoints: [...]") and appends its endpoints. Names,
 * interfaces and addresses must be unique across S and the document. All or nothing: on
 * -EINVAL (errors in DIAGS) or -ENOMEM, S is unchanged.
 */
int endpoint_set_from_node(struct endpoint_set *s, const struct node *root,
			   struct diag_list *diags);
/* parse_file() then endpoint_set_from_node(). */
int endpoint_set_load(struct endpoint_set *s, const char *path, struct diag_list *diags);
/* The same with parse_listed_file(), for a file of a watched directory: PARSE_SKIPPED (one
 * warning in DIAGS) when it is not a regular file. */
int endpoint_set_load_listed(struct endpoint_set *s, const char *path, struct diag_list *diags);

/* Whether endpoint E satisfies match M (labels exact, name/image fnmatch, network). */
bool endpoint_matches(const struct endpoint *e, const struct policy_match *m);

#endif
