/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An inspected container's JSON -> its endpoints, one per attachment with a host veth. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "docker_int.h"
#include "util.h"
#include "veth_peer.h"

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (!s || strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

void dk_ep_vec_clear(struct ep_vec *ev)
{
	for (size_t i = 0; i < ev->n; i++)
		endpoint_clear(&ev->v[i]);
	free(ev->v);
	memset(ev, 0, sizeof(*ev));
}

static struct endpoint *ep_vec_push(struct ep_vec *ev)
{
	if (GROW(ev->v, ev->cap, ev->n + 1, 8) < 0)
		return NULL;
	memset(&ev->v[ev->n], 0, sizeof(ev->v[0]));
	return &ev->v[ev->n++];
}

static void ep_vec_pop_to(struct ep_vec *ev, size_t n)
{
	while (ev->n > n)
		endpoint_clear(&ev->v[--ev->n]);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct policy_label *)a)->key, ((const struct policy_label *)b)->key);
}

static int cmp_ep(const void *a, const void *b)
{
	const struct endpoint *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	return r ? r : strcmp(x->interface, y->interface);
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Container facts every endpoint of it shares: copied into each (the set owns each copy). */
struct ctr {
	const char *id, *name, *image, *sandbox_key;
	int pid;
	const json_t *labels; /* object or NULL */
	const json_t *nets;   /* object or NULL */
	size_t nlabels, nnets;
};

static int ep_fill_common(struct endpoint *e, const struct ctr *ct)
{
	const char *key;
	json_t *v;

	e->name = strdup(ct->name);
	e->id = strdup(ct->id);
	e->image = xstrdup(ct->image);
	if (!e->name || !e->id || (ct->image && !e->image))
		return -ENOMEM;
	if (ct->nlabels) {
		e->labels = calloc(ct->nlabels, sizeof(*e->labels));
		if (!e->labels)
			return -ENOMEM;
		json_object_foreach ((json_t *)ct->labels, key, v) {
			if (!json_is_string(v))
				continue;
			e->labels[e->nlabels].key = strdup(key);
			e->labels[e->nlabels].value = strdup(json_string_value(v));
			e->nlabels++;
			if (!e->labels[e->nlabels - 1].key || !e->labels[e->nlabels - 1].value)
				return -ENOMEM;
		}
		qsort(e->labels, e->nlabels, sizeof(*e->labels), cmp_label);
	}
	if (ct->nnets) {
		e->networks = calloc(ct->nnets, sizeof(*e->networks));
		if (!e->networks)
			return -ENOMEM;
		json_object_foreach ((json_t *)ct->nets, key, v) {
			e->networks[e->nnetworks] = strdup(key);
			if (!e->networks[e->nnetworks++])
				return -ENOMEM;
		}
		qsort(e->networks, e->nnetworks, sizeof(*e->networks), cmp_str);
	}
	return 0;
}

static bool parse_addr(const char *s, int family, struct endpoint_addr *ret)
{
	struct endpoint_addr a = {.family = family};

	if (!s || inet_pton(family, s, a.addr) != 1)
		return false;
	*ret = a;
	return true;
}

/*
 * The facts of inspected container INS every endpoint shares, checked against the limits.
 * CT->nnets stays 0 when the container adds nothing (not running, no networks).
 */
static int ctr_read(struct docker_client *c, const json_t *ins, struct ctr *ct)
{
	const json_t *state = json_object_get(ins, "State");
	const json_t *config = json_object_get(ins, "Config");
	const json_t *settings = json_object_get(ins, "NetworkSettings");
	json_int_t pid = json_integer_value(json_object_get(state, "Pid"));
	const char *key;
	json_t *v;

	*ct = (struct ctr){0};
	ct->id = dk_jstr(ins, "Id");
	ct->name = dk_jstr(ins, "Name");
	if (!ct->id || !json_is_true(json_object_get(state, "Running")))
		return 0;
	if (!ct->name)
		ct->name = ct->id;
	if (ct->name[0] == '/' && ct->name[1])
		ct->name++;
	if (pid <= 0 || pid > INT32_MAX) {
		dk_set_error(c, "container %.64s: Pid %lld is not a process", ct->name,
			     (long long)pid);
		return -ERANGE;
	}
	ct->pid = (int)pid;
	ct->image = dk_jstr(config, "Image");
	ct->sandbox_key = dk_jstr(settings, "SandboxKey");
	ct->labels = json_object_get(config, "Labels");
	if (json_is_object(ct->labels)) {
		json_object_foreach ((json_t *)ct->labels, key, v) {
			if (json_is_string(v))
				ct->nlabels++;
		}
	}
	if (ct->nlabels > DOCKER_MAX_LABELS) {
		dk_set_error(c, "container %s: %zu labels, over the limit of %u", ct->name,
			     ct->nlabels, DOCKER_MAX_LABELS);
		return -E2BIG;
	}
	ct->nets = json_object_get(settings, "Networks");
	ct->nnets = json_is_object(ct->nets) ? json_object_size(ct->nets) : 0;
	if (ct->nnets > DOCKER_MAX_ATTACHMENTS) {
		dk_set_error(c, "container %s: %zu networks, over the limit of %u", ct->name,
			     ct->nnets, DOCKER_MAX_ATTACHMENTS);
		return -E2BIG;
	}
	return 0;
}

/* One attachment's endpoint: the container's facts, its host veth, bridge and addresses. */
static int ep_fill(struct endpoint *e, const struct ctr *ct, const char *ifname, const char *bridge,
		   const struct endpoint_addr *a4, const struct endpoint_addr *a6)
{
	int r = ep_fill_common(e, ct);

	if (r < 0)
		return r;
	e->interface = strdup(ifname);
	e->bridge = xstrdup(bridge);
	e->addrs = calloc(2, sizeof(*e->addrs));
	if (!e->interface || (bridge && !e->bridge) || !e->addrs)
		return -ENOMEM;
	if (a4)
		e->addrs[e->naddrs++] = *a4;
	if (a6)
		e->addrs[e->naddrs++] = *a6;
	return 0;
}

/*
 * Appends the endpoint of attachment ATT (network KEY) to OUT, if it has a host veth. 0 also
 * when it has none; -ENOENT or -ESTALE when the container stopped under us; else -errno with
 * the client's error set (but for -ENOMEM).
 */
static int ep_attachment(struct docker_client *c, const struct ctr *ct, const char *key,
			 const json_t *att, const struct dk_nets *ns, struct ep_vec *out)
{
	struct endpoint_addr a4, a6;
	bool has4 = parse_addr(dk_jstr(att, "IPAddress"), AF_INET, &a4);
	bool has6 = parse_addr(dk_jstr(att, "GlobalIPv6Address"), AF_INET6, &a6);
	const char *netid = dk_jstr(att, "NetworkID");
	const struct dk_net *net = netid ? dk_nets_find(ns, netid) : NULL;
	char ifname[IFNAMSIZ];
	uint8_t mac[6];
	bool hasmac = parse_mac(dk_jstr(att, "MacAddress"), mac) == 0;
	struct endpoint *e;
	int r;

	if (!json_is_object(att) || (!hasmac && !has4 && !has6))
		return 0;
	r = c->veth_peer(c->host_ns_fd, c->netns_dir_fd, ct->pid, ct->sandbox_key,
			 hasmac ? mac : NULL, has4 ? &a4 : &a6, ifname);
	if (r == -ENODEV)
		return 0;
	if (r == -ENOENT || r == -ESTALE)
		return r;
	if (r < 0) {
		dk_set_error(c, "container %s, network %s: host veth: %s", ct->name, key,
			     strerror(-r));
		return r;
	}
	e = ep_vec_push(out);
	if (!e)
		return -ENOMEM;
	return ep_fill(e, ct, ifname, net ? net->bridge : NULL, has4 ? &a4 : NULL,
		       has6 ? &a6 : NULL);
}

/*
 * Appends the endpoints of one inspected container to OUT. A container that is not running,
 * or stops while we look, adds nothing and is not an error.
 */
int dk_container_endpoints(struct docker_client *c, const json_t *ins, const struct dk_nets *ns,
			   struct ep_vec *out)
{
	size_t mark = out->n;
	struct ctr ct;
	const char *key;
	json_t *att;
	int r;

	r = ctr_read(c, ins, &ct);
	if (r < 0 || !ct.nnets)
		return r;
	json_object_foreach ((json_t *)ct.nets, key, att) {
		r = ep_attachment(c, &ct, key, att, ns, out);
		if (r < 0)
			break;
	}
	if (r == -ENOENT || r == -ESTALE) {
		/* It stopped under us: the die event follows. */
		ep_vec_pop_to(out, mark);
		return 0;
	}
	if (r < 0) {
		if (r == -ENOMEM)
			dk_set_error(c, "out of memory");
		ep_vec_pop_to(out, mark);
	}
	return r;
}

/* Moves every endpoint of EV into SET (sorted), leaving EV empty; nothing moves on failure. */
int dk_ep_vec_move_to(struct ep_vec *ev, struct endpoint_set *set)
{
	if (ev->n == 0)
		return 0;
	qsort(ev->v, ev->n, sizeof(*ev->v), cmp_ep);
	if (GROW(set->items, set->cap, set->n + ev->n, 8) < 0)
		return -ENOMEM;
	memcpy(set->items + set->n, ev->v, ev->n * sizeof(*ev->v));
	set->n += ev->n;
	ev->n = 0;
	return 0;
}
