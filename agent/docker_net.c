/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The client's cache of Docker networks: which Linux bridge each network id stands for. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "docker_int.h"
#include "util.h"

void dk_nets_clear(struct dk_nets *ns)
{
	for (size_t i = 0; i < ns->n; i++) {
		free(ns->v[i].id);
		free(ns->v[i].bridge);
	}
	free(ns->v);
	memset(ns, 0, sizeof(*ns));
}

/*
 * The Linux bridge behind a bridge-driver network: its explicit name option, docker0 for the
 * default network, else Docker's "br-" + the first 12 characters of the id.
 */
int dk_net_add(struct dk_nets *ns, const json_t *net)
{
	const char *id = dk_jstr(net, "Id"), *name = dk_jstr(net, "Name"),
		   *driver = dk_jstr(net, "Driver");
	const char *opt =
	    dk_jstr(json_object_get(net, "Options"), "com.docker.network.bridge.name");
	char buf[IFNAMSIZ];
	struct dk_net n = {0};

	if (!id)
		return 0;
	if (driver && strcmp(driver, "bridge") == 0) {
		if (opt && strlen(opt) < IFNAMSIZ)
			snprintf(buf, sizeof(buf), "%s", opt);
		else if (name && strcmp(name, "bridge") == 0)
			snprintf(buf, sizeof(buf), "docker0");
		else if (strlen(id) >= 12)
			snprintf(buf, sizeof(buf), "br-%.12s", id);
		else
			buf[0] = '\0';
		if (buf[0] && !(n.bridge = strdup(buf)))
			return -ENOMEM;
	}
	n.id = strdup(id);
	if (!n.id) {
		free(n.bridge);
		return -ENOMEM;
	}
	if (GROW(ns->v, ns->cap, ns->n + 1, 16) < 0) {
		free(n.id);
		free(n.bridge);
		return -ENOMEM;
	}
	ns->v[ns->n++] = n;
	return 0;
}

const struct dk_net *dk_nets_find(const struct dk_nets *ns, const char *id)
{
	for (size_t i = 0; i < ns->n; i++)
		if (strcmp(ns->v[i].id, id) == 0)
			return &ns->v[i];
	return NULL;
}

int dk_net_add_none(struct dk_nets *ns, const char *id)
{
	json_t *j = json_pack("{ss}", "Id", id);
	int r = j ? dk_net_add(ns, j) : -ENOMEM;

	json_decref(j);
	return r;
}

const char *dk_unknown_network(const json_t *ins, const struct dk_nets *ns)
{
	const json_t *nets = json_object_get(json_object_get(ins, "NetworkSettings"), "Networks");
	const char *key, *id;
	json_t *att;

	if (!json_is_true(json_object_get(json_object_get(ins, "State"), "Running")))
		return NULL;
	json_object_foreach ((json_t *)nets, key, att) {
		id = dk_jstr(att, "NetworkID");
		if (id && !dk_nets_find(ns, id))
			return id;
	}
	return NULL;
}
