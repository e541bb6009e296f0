/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the JSON of Docker's answers, through the functions the client's
 * request machine (agent/docker_op.c) hands them to. Byte 0 names the answer:
 *   'c' GET /containers/json  an array whose members' Id are inspected next;
 *   'n' GET /networks         an array of networks, each becoming a bridge (dk_net_add);
 *   'N' GET /networks/ID      one network;
 *   'i' GET /containers/ID/json, optionally preceded by a /networks array and a NUL byte: the
 *       networks it names that are unknown are "fetched" (recorded as gone, as a 404 does),
 *       then its endpoints are built (dk_container_endpoints) and moved into a set;
 *   anything else: an error body (dk_describe_failure).
 * The host-side veth lookup, which would enter the namespace of whatever Pid the JSON names,
 * is replaced by a pure function of its arguments returning each of its outcomes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "docker_int.h"

static int fuzz_veth_peer(int host_ns_fd, int pid, const char *sandbox_key, const uint8_t *mac,
			  const struct endpoint_addr *addr, char ret_ifname[IFNAMSIZ])
{
	(void)host_ns_fd;
	if (!mac && !addr)
		return -EINVAL;
	switch (pid % 7) {
	case 1:
		return -ENODEV;
	case 2:
		return -ENOENT;
	case 3:
		return -ESTALE;
	case 4:
		return -EPERM;
	default:
		break;
	}
	snprintf(ret_ifname, IFNAMSIZ, "v%.2s%02x%02x%08x", sandbox_key ? sandbox_key : "-",
		 mac ? mac[5] : 0, addr ? addr->addr[3] : 0, (unsigned)pid);
	return 0;
}

static struct docker_client *client(void)
{
	static struct docker_client *c;

	if (!c) {
		c = docker_client_new("/nonexistent/docker.sock");
		if (!c)
			abort();
		c->veth_peer = fuzz_veth_peer;
	}
	return c;
}

static void networks(struct dk_nets *ns, const json_t *j)
{
	const json_t *net;
	size_t i;

	json_array_foreach (j, i, net) {
		const char *id = dk_jstr(net, "Id");

		if (dk_net_add(ns, net) < 0)
			break;
		if (id && !dk_nets_find(ns, id))
			abort(); /* an id it took must be found again */
	}
}

static void containers(const json_t *j)
{
	const json_t *ct;
	size_t i;

	json_array_foreach (j, i, ct) {
		const char *id = dk_jstr(ct, "Id");
		char *esc = id ? dk_url_escape(id) : NULL;

		free(esc);
	}
}

static void inspect(struct docker_client *c, struct dk_nets *ns, const json_t *ins)
{
	struct ep_vec ev = {0};
	struct endpoint_set *set;
	const char *netid;
	int guard = 0;

	/* As container_continue() does: every unknown network is asked for, once. */
	while ((netid = dk_unknown_network(ins, ns)) && guard++ < DOCKER_MAX_ATTACHMENTS + 8)
		if (dk_net_add_none(ns, netid) < 0)
			return;
	if (dk_container_endpoints(c, ins, ns, &ev) == 0 && (set = endpoint_set_new())) {
		(void)dk_ep_vec_move_to(&ev, set);
		endpoint_set_free(set);
	}
	dk_ep_vec_clear(&ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct docker_client *c = client();
	struct dk_nets ns = {0};
	const char *body;
	size_t len;
	json_t *j;

	if (size < 1)
		return 0;
	body = (const char *)data + 1;
	len = size - 1;
	c->error[0] = '\0';
	switch (data[0]) {
	case 'c':
	case 'n':
	case 'N':
		j = json_loadb(body, len, 0, NULL);
		if (data[0] == 'c')
			containers(j);
		else if (data[0] == 'n')
			networks(&ns, j);
		else
			(void)dk_net_add(&ns, j);
		json_decref(j);
		break;
	case 'i': {
		const char *nul = memchr(body, '\0', len);

		if (nul) {
			j = json_loadb(body, (size_t)(nul - body), 0, NULL);
			networks(&ns, j);
			json_decref(j);
			len -= (size_t)(nul + 1 - body);
			body = nul + 1;
		}
		j = json_loadb(body, len, 0, NULL);
		if (j)
			inspect(c, &ns, j);
		json_decref(j);
		break;
	}
	default:
		dk_describe_failure(c, "/containers/x/json", 500, body, len);
		break;
	}
	dk_nets_clear(&ns);
	return 0;
}
