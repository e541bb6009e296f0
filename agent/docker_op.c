/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The requests in flight: a full list (containers, networks, then each container and any
 * network it names that we do not know) or one container's inspect, as a state machine over
 * non-blocking GETs, each on its own connection with its own deadline.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <jansson.h>

#include "docker_int.h"
#include "util.h"

/* The next step of the operation: STARTED means a new GET is under way. */
enum { STARTED = 1 };

__attribute__((format(printf, 2, 3))) static int op_get(struct docker_client *c, const char *fmt,
							...)
{
	char *path = NULL;
	va_list ap;
	int r, n;

	va_start(ap, fmt);
	n = vasprintf(&path, fmt, ap);
	va_end(ap);
	if (n < 0) {
		dk_set_error(c, "out of memory");
		return -ENOMEM;
	}
	r = dk_req_start(&c->op.req, c->socket_path, path, DOCKER_MAX_RESPONSE, DOCKER_TIMEOUT_MS);
	if (r < 0)
		dk_set_error(c, "%s", c->op.req.error);
	free(path);
	return r < 0 ? r : STARTED;
}

/* GET PREFIX/<ID escaped>SUFFIX. */
static int op_get_id(struct docker_client *c, const char *prefix, const char *id,
		     const char *suffix)
{
	char *esc = dk_url_escape(id);
	int r;

	if (!esc) {
		dk_set_error(c, "out of memory");
		return -ENOMEM;
	}
	r = op_get(c, "%s%s%s", prefix, esc, suffix);
	free(esc);
	return r;
}

/*
 * The finished GET's answer as JSON. Non-2xx: -ENOENT for 404 (gone is an answer the callers
 * handle), -EIO otherwise. *RET_IO says whether the failure was in reaching the daemon rather
 * than in what it answered.
 */
static int op_result(struct docker_client *c, int r, json_t **ret, bool *ret_io)
{
	struct dk_req *q = &c->op.req;
	json_error_t jerr;
	json_t *j;

	*ret_io = false;
	if (r < 0) {
		dk_set_error(c, "%s", q->error);
		/* An answer we refuse says nothing about the daemon being reachable. */
		*ret_io = r != -EMSGSIZE && r != -EBADMSG;
		return r;
	}
	if (q->h.status < 200 || q->h.status > 299) {
		dk_describe_failure(c, q->path, q->h.status, q->h.body ? q->h.body : "",
				    q->h.body_len);
		return q->h.status == 404 ? -ENOENT : -EIO;
	}
	j = json_loadb(q->h.body ? q->h.body : "", q->h.body_len, 0, &jerr);
	if (!j) {
		dk_set_error(c, "GET %s: bad JSON at byte %d: %s", q->path, jerr.position,
			     jerr.text);
		return -EBADMSG;
	}
	*ret = j;
	return 0;
}

static int next_container(struct docker_client *c)
{
	struct dk_op *op = &c->op;

	free(op->target);
	op->target = NULL;
	while (op->next < json_array_size(op->containers)) {
		const char *id = dk_jstr(json_array_get(op->containers, op->next++), "Id");

		if (!id)
			continue;
		if (!(op->target = strdup(id))) {
			dk_set_error(c, "out of memory");
			return -ENOMEM;
		}
		op->phase = DK_INSPECT;
		return op_get_id(c, "/containers/", id, "/json");
	}
	op->phase = DK_IDLE;
	return 0;
}

/*
 * The current container failed with R. A list leaves out one we cannot make sense of (an
 * unreadable namespace, a nonsense answer) and goes on; losing the daemon fails it whole.
 */
static int container_failed(struct docker_client *c, int r, bool io)
{
	json_decref(c->op.ins);
	c->op.ins = NULL;
	if (!c->op.list || r == -ENOMEM || io)
		return r;
	r = dk_skipped_add(c, c->op.target);
	return r < 0 ? r : next_container(c);
}

/* The inspected container: fetch the networks it names that we do not know, then convert. */
static int container_continue(struct docker_client *c)
{
	struct dk_op *op = &c->op;
	const char *netid = dk_unknown_network(op->ins, &c->nets);
	int r;

	if (netid) {
		free(op->netid);
		if (!(op->netid = strdup(netid))) {
			dk_set_error(c, "out of memory");
			return -ENOMEM;
		}
		op->phase = DK_NETWORK;
		return op_get_id(c, "/networks/", netid, "");
	}
	r = dk_container_endpoints(c, op->ins, &c->nets, &op->ev);
	if (r < 0)
		return container_failed(c, r, false);
	json_decref(op->ins);
	op->ins = NULL;
	if (!op->list) {
		op->phase = DK_IDLE;
		return 0;
	}
	return next_container(c);
}

/* The GET of the current phase ended with R: the next step. */
static int op_step(struct docker_client *c, int r)
{
	struct dk_op *op = &c->op;
	json_t *j = NULL, *net;
	bool io;
	size_t i;

	r = op_result(c, r, &j, &io);
	switch (op->phase) {
	case DK_CONTAINERS:
		if (r == 0 && !json_is_array(j)) {
			dk_set_error(c, "GET /containers/json: not a JSON array");
			r = -EBADMSG;
		}
		if (r < 0)
			break;
		op->containers = j;
		j = NULL;
		dk_nets_clear(&c->nets);
		op->phase = DK_NETWORKS;
		return op_get(c, "/networks");
	case DK_NETWORKS:
		if (r < 0)
			break;
		json_array_foreach (j, i, net) {
			if ((r = dk_net_add(&c->nets, net)) < 0)
				break;
		}
		json_decref(j);
		return r < 0 ? r : next_container(c);
	case DK_INSPECT:
		if (r == -ENOENT && op->list) /* removed between the list and the inspect */
			return next_container(c);
		if (r < 0)
			return container_failed(c, r, io);
		op->ins = j;
		return container_continue(c);
	case DK_NETWORK:
		if (r == 0)
			r = dk_net_add(&c->nets, j);
		/* Gone, or an answer without that id: no bridge, and no asking again. */
		if ((r == 0 || r == -ENOENT) && !dk_nets_find(&c->nets, op->netid))
			r = dk_net_add_none(&c->nets, op->netid);
		json_decref(j);
		return r < 0 ? container_failed(c, r, io) : container_continue(c);
	case DK_IDLE:
		r = -EINVAL;
	}
	json_decref(j);
	return r;
}

void docker_op_cancel(struct docker_client *c)
{
	struct dk_op *op;

	if (!c)
		return;
	op = &c->op;
	dk_req_reset(&op->req);
	json_decref(op->containers);
	json_decref(op->ins);
	free(op->target);
	free(op->netid);
	dk_ep_vec_clear(&op->ev);
	op->containers = op->ins = NULL;
	op->target = op->netid = NULL;
	op->next = 0;
	op->list = false;
	op->phase = DK_IDLE;
}

bool docker_op_busy(const struct docker_client *c)
{
	return c->op.phase != DK_IDLE;
}

static int op_begin(struct docker_client *c, int r)
{
	if (r < 0)
		docker_op_cancel(c);
	return r < 0 ? r : 0;
}

int docker_list_begin(struct docker_client *c)
{
	if (docker_op_busy(c))
		return -EBUSY;
	c->error[0] = '\0';
	dk_skipped_clear(c);
	c->op.list = true;
	c->op.phase = DK_CONTAINERS;
	return op_begin(c, op_get(c, "/containers/json"));
}

int docker_inspect_begin(struct docker_client *c, const char *container)
{
	if (docker_op_busy(c))
		return -EBUSY;
	c->error[0] = '\0';
	if (!container || !*container)
		return -EINVAL;
	if (c->nets.n >= DK_NETS_MAX)
		dk_nets_clear(&c->nets);
	if (!(c->op.target = strdup(container)))
		return -ENOMEM;
	c->op.phase = DK_INSPECT;
	return op_begin(c, op_get_id(c, "/containers/", container, "/json"));
}

int docker_op_fd(const struct docker_client *c, uint32_t *ret_events, int64_t *ret_deadline_ms)
{
	if (!docker_op_busy(c) || c->op.req.fd < 0)
		return -1;
	*ret_events = dk_req_events(&c->op.req);
	*ret_deadline_ms = c->op.req.deadline_ms;
	return c->op.req.fd;
}

int docker_op_run(struct docker_client *c, struct endpoint_set *ret)
{
	int r = docker_op_busy(c) ? STARTED : -EINVAL;

	while (r == STARTED) {
		r = dk_req_run(&c->op.req);
		if (r == -EAGAIN)
			return r;
		r = op_step(c, r);
	}
	if (r == 0 && docker_op_busy(c))
		return -EAGAIN;
	if (r == 0)
		r = dk_ep_vec_move_to(&c->op.ev, ret);
	if (r == 0)
		c->error[0] = '\0';
	docker_op_cancel(c);
	return r;
}

/* The blocking form, for the tests and one-shot commands: the same machine under poll(). */
static int op_wait(struct docker_client *c, int r, struct endpoint_set *ret)
{
	if (r < 0)
		return r;
	while ((r = docker_op_run(c, ret)) == -EAGAIN) {
		uint32_t events = 0;
		int64_t deadline = 0, left;
		int fd = docker_op_fd(c, &events, &deadline);
		struct pollfd p = {.fd = fd, .events = events & EPOLLOUT ? POLLOUT : POLLIN};

		left = deadline - now_ms();
		(void)poll(&p, 1, left < 0 ? 0 : (int)left);
	}
	return r;
}

int docker_list_endpoints(struct docker_client *c, struct endpoint_set *ret)
{
	return op_wait(c, docker_list_begin(c), ret);
}

int docker_inspect_endpoints(struct docker_client *c, const char *container,
			     struct endpoint_set *ret)
{
	return op_wait(c, docker_inspect_begin(c, container), ret);
}
