/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_DOCKER_INT_H
#define NETSEG_DOCKER_INT_H

/*
 * What the Docker client's files share (docker.c: the client; docker_net.c: the network
 * cache; docker_ep.c: the JSON of a container; docker_op.c: the requests in flight;
 * docker_events.c: the event stream). Not for use outside them.
 */

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "docker.h"
#include "docker_http.h"
#include "docker_req.h"

/*
 * Docker networks seen: id -> bridge name (NULL: no bridge, or the network is gone). A
 * network's id never names another network and its bridge never changes, so the client keeps
 * them: a container event costs no network request for a network seen before. A full list
 * refreshes them.
 */
struct dk_net {
	char *id;
	char *bridge;
};

struct dk_nets {
	struct dk_net *v;
	size_t n, cap;
};

#define DK_NETS_MAX 4096 /* networks come and go: start over rather than grow forever */

struct ep_vec {
	struct endpoint *v;
	size_t n, cap;
};

enum dk_phase {
	DK_IDLE,
	DK_CONTAINERS, /* GET /containers/json */
	DK_NETWORKS,   /* GET /networks */
	DK_INSPECT,    /* GET /containers/ID/json */
	DK_NETWORK,    /* GET /networks/ID, a network the container names that we do not know */
};

/* The operation in flight: a full list, or one container's inspect. */
struct dk_op {
	enum dk_phase phase;
	bool list;
	json_t *containers; /* list: the array */
	size_t next;	    /* list: the next index to inspect */
	char *target;	    /* the container being inspected */
	char *netid;	    /* the network being fetched */
	json_t *ins;	    /* the inspected container, while its networks are fetched */
	struct ep_vec ev;
	struct dk_req req;
};

/* veth_host_peer()'s signature (netlink/veth_peer.h): the client calls it through a pointer
 * so that a fuzzer can run an inspected container's JSON through dk_container_endpoints()
 * without entering namespaces. */
typedef int (*dk_veth_peer_fn)(int host_ns_fd, int pid, const char *sandbox_key, const uint8_t *mac,
			       const struct endpoint_addr *addr, char ret_ifname[IFNAMSIZ]);

struct docker_client {
	char *socket_path;
	dk_veth_peer_fn veth_peer;
	int host_ns_fd;
	char error[512];

	/* The event stream. */
	int ev_fd;
	struct docker_http ev_http;
	int ev_err; /* sticky: once the stream failed it stays failed until reopened */
	bool ev_in_cb;
	bool ev_close_pending;

	struct dk_nets nets;
	struct dk_op op;

	/* Containers the last list left out, each with the reason. */
	struct docker_skip *skipped;
	size_t nskipped;
};

__attribute__((format(printf, 2, 3))) void dk_set_error(struct docker_client *c, const char *fmt,
							...);
/* Percent-encodes everything but unreserved characters; NULL on OOM. */
char *dk_url_escape(const char *s);
/* Sets the error to "GET PATH: HTTP STATUS: <the message of Docker's error body>". */
void dk_describe_failure(struct docker_client *c, const char *path, int status, const char *body,
			 size_t len);
/* A non-empty string member of O, else NULL. */
const char *dk_jstr(const json_t *o, const char *key);

void dk_skipped_clear(struct docker_client *c);
/* Remembers why container ID was left out: the client's error says it. */
int dk_skipped_add(struct docker_client *c, const char *id);

void dk_nets_clear(struct dk_nets *ns);
int dk_net_add(struct dk_nets *ns, const json_t *net);
/* A network known, gone (bridge NULL) or not: an entry for id, or NULL. */
const struct dk_net *dk_nets_find(const struct dk_nets *ns, const char *id);
/* Records ID as a network without a bridge (it is gone, or its answer named none). */
int dk_net_add_none(struct dk_nets *ns, const char *id);
/* The first network the running container INS attaches to that NS does not know, or NULL. */
const char *dk_unknown_network(const json_t *ins, const struct dk_nets *ns);

void dk_ep_vec_clear(struct ep_vec *ev);
/* Moves every endpoint of EV into SET (sorted), leaving EV empty; nothing moves on failure. */
int dk_ep_vec_move_to(struct ep_vec *ev, struct endpoint_set *set);
/*
 * Appends the endpoints of one inspected container to OUT, bridges from NS (every network
 * it names must be in NS by now). A container that is not running, or stops while we look,
 * adds nothing and is not an error.
 */
int dk_container_endpoints(struct docker_client *c, const json_t *ins, const struct dk_nets *ns,
			   struct ep_vec *out);

#endif
