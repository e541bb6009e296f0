/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "docker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "docker_http.h"
#include "docker_veth.h"

#define RECV_CHUNK (64 * 1024)

/*
 * Docker networks seen: id -> bridge name (NULL: no bridge). A network's id never names
 * another network and its bridge never changes, so the client keeps them: a container event
 * costs no network request for a network seen before. A full list refreshes them.
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

struct docker_client {
	char *socket_path;
	int host_ns_fd;
	char error[512];

	/* The event stream. */
	int ev_fd;
	struct docker_http ev_http;
	int ev_err; /* sticky: once the stream failed it stays failed until reopened */
	bool ev_in_cb;
	bool ev_close_pending;

	struct dk_nets nets;

	/* Containers the last list left out, each with the reason. */
	struct docker_skip *skipped;
	size_t nskipped;
	bool io_failed; /* the last request failed talking to the daemon, not in its answer */
};

__attribute__((format(printf, 2, 3))) static void set_error(struct docker_client *c,
							    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
}

const char *docker_client_last_error(const struct docker_client *c)
{
	return c ? c->error : "";
}

struct docker_client *docker_client_new(const char *socket_path)
{
	struct docker_client *c = calloc(1, sizeof(*c));
	int e;

	if (!c)
		return NULL;
	c->ev_fd = -1;
	c->host_ns_fd = -1;
	if (socket_path && strncmp(socket_path, "unix://", 7) == 0)
		socket_path += 7; /* DOCKER_HOST's spelling */
	c->socket_path = strdup(socket_path ? socket_path : DOCKER_DEFAULT_SOCKET);
	if (!c->socket_path) {
		e = ENOMEM;
		goto fail;
	}
	if (strlen(c->socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		e = ENAMETOOLONG;
		goto fail;
	}
	/* Our namespace, held from the start: the way back from each container's namespace. */
	c->host_ns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (c->host_ns_fd < 0) {
		e = errno;
		goto fail;
	}
	return c;
fail:
	docker_client_free(c);
	errno = e;
	return NULL;
}

static void nets_clear(struct dk_nets *ns);

static void skipped_clear(struct docker_client *c)
{
	for (size_t i = 0; i < c->nskipped; i++) {
		free(c->skipped[i].id);
		free(c->skipped[i].reason);
	}
	free(c->skipped);
	c->skipped = NULL;
	c->nskipped = 0;
}

/* Remembers why container ID was left out (the client's last error says it). */
static int skipped_add(struct docker_client *c, const char *id)
{
	struct docker_skip *v = realloc(c->skipped, (c->nskipped + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	c->skipped = v;
	v[c->nskipped].id = strdup(id);
	v[c->nskipped].reason = strdup(c->error[0] ? c->error : "unknown error");
	if (!v[c->nskipped].id || !v[c->nskipped].reason) {
		free(v[c->nskipped].id);
		free(v[c->nskipped].reason);
		return -ENOMEM;
	}
	c->nskipped++;
	return 0;
}

size_t docker_client_skipped(const struct docker_client *c, const struct docker_skip **ret)
{
	*ret = c->skipped;
	return c->nskipped;
}

void docker_client_free(struct docker_client *c)
{
	if (!c)
		return;
	c->ev_in_cb = false;
	docker_events_close(c);
	nets_clear(&c->nets);
	skipped_clear(c);
	if (c->host_ns_fd >= 0)
		close(c->host_ns_fd);
	free(c->socket_path);
	free(c);
}

/* ---- transport ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int dk_connect(struct docker_client *c, int64_t deadline, int *ret_fd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int64_t left = deadline - now_ms();
	struct timeval tv = {.tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000};
	int fd, r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(sa.sun_path, c->socket_path);
	/* A blocking connect bounded by SO_SNDTIMEO: a unix connect only blocks on a full
	 * backlog, and then a non-blocking one would just fail with EAGAIN. */
	if (left <= 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = left <= 0 ? -ETIMEDOUT : -errno;
		if (r == -EAGAIN || r == -EINPROGRESS)
			r = -ETIMEDOUT;
		set_error(c, "connect %s: %s", c->socket_path, strerror(-r));
		close(fd);
		return r;
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

static int send_all(int fd, const char *buf, size_t len, int64_t deadline)
{
	while (len > 0) {
		/* MSG_NOSIGNAL: a daemon going away must not SIGPIPE the agent. */
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			int r;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			r = wait_fd(fd, POLLOUT, deadline);
			if (r < 0)
				return r;
			continue;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Path characters passed as they are; the rest is percent-encoded. */
static bool url_plain(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_' || ch == '.' || ch == '~';
}

static char *url_escape(const char *s)
{
	size_t len = strlen(s);
	char *out = malloc(len * 3 + 1), *p = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (url_plain(ch)) {
			*p++ = (char)ch;
		} else {
			sprintf(p, "%%%02X", ch);
			p += 3;
		}
	}
	*p = '\0';
	return out;
}

static int send_request(struct docker_client *c, int fd, const char *path, int64_t deadline)
{
	char *req = NULL;
	int r, n;

	n = asprintf(&req,
		     "GET %s HTTP/1.1\r\n"
		     "Host: docker\r\n"
		     "User-Agent: netseg/" NETSEG_VERSION "\r\n"
		     "Accept: application/json\r\n"
		     "\r\n",
		     path);
	if (n < 0)
		return -ENOMEM;
	r = send_all(fd, req, (size_t)n, deadline);
	free(req);
	if (r < 0)
		set_error(c, "GET %s: send: %s", path, strerror(-r));
	return r;
}

/* The "message" of Docker's error body, else the body itself, shortened to one line. */
static void describe_failure(struct docker_client *c, const char *path, int status,
			     const char *body, size_t len)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *msg =
	    json_is_object(j) ? json_string_value(json_object_get(j, "message")) : NULL;
	const char *src = msg ? msg : body;
	size_t srclen = msg ? strlen(msg) : len;
	char line[256];
	size_t i;

	if (srclen >= sizeof(line))
		srclen = sizeof(line) - 1;
	for (i = 0; i < srclen && src[i]; i++)
		line[i] = src[i] == '\n' || src[i] == '\r' || src[i] == '\t' ? ' ' : src[i];
	while (i > 0 && line[i - 1] == ' ')
		i--;
	line[i] = '\0';
	set_error(c, "GET %s: HTTP %d%s%s", path, status, *line ? ": " : "", line);
	json_decref(j);
}

/*
 * One GET on its own connection, bounded by DOCKER_TIMEOUT_MS, body parsed as JSON.
 * Non-2xx: -ENOENT for 404 (gone is an answer the callers handle), -EIO otherwise.
 */
static int dk_get(struct docker_client *c, const char *path, json_t **ret)
{
	int64_t deadline = now_ms() + DOCKER_TIMEOUT_MS;
	struct docker_http h;
	char *buf = NULL;
	json_error_t jerr;
	json_t *j;
	int fd = -1, r;

	c->io_failed = true;
	docker_http_init(&h, DOCKER_MAX_RESPONSE);
	r = dk_connect(c, deadline, &fd);
	if (r < 0)
		goto out;
	r = send_request(c, fd, path, deadline);
	if (r < 0)
		goto out;
	buf = malloc(RECV_CHUNK);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	while (!docker_http_done(&h)) {
		ssize_t n = recv(fd, buf, RECV_CHUNK, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			r = wait_fd(fd, POLLIN, deadline);
			if (r < 0)
				break;
			continue;
		}
		if (n < 0) {
			r = -errno;
			break;
		}
		r = n == 0 ? docker_http_eof(&h) : docker_http_feed(&h, buf, (size_t)n);
		if (r < 0)
			break;
	}
	if (r < 0) {
		set_error(c, "GET %s: %s", path,
			  r == -EMSGSIZE ? "response over the size limit" : strerror(-r));
		/* An answer we refuse says nothing about the daemon being reachable. */
		c->io_failed = r != -EMSGSIZE && r != -EBADMSG;
		goto out;
	}
	c->io_failed = false;
	if (h.status < 200 || h.status > 299) {
		describe_failure(c, path, h.status, h.body ? h.body : "", h.body_len);
		r = h.status == 404 ? -ENOENT : -EIO;
		goto out;
	}
	j = json_loadb(h.body ? h.body : "", h.body_len, 0, &jerr);
	if (!j) {
		set_error(c, "GET %s: bad JSON at byte %d: %s", path, jerr.position, jerr.text);
		r = -EBADMSG;
		goto out;
	}
	*ret = j;
	r = 0;
out:
	free(buf);
	docker_http_release(&h);
	if (fd >= 0)
		close(fd);
	return r;
}

/* ---- JSON helpers: every field may be missing or of the wrong type ---- */

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : NULL;
}

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

/* ---- networks ---- */

static void nets_clear(struct dk_nets *ns)
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
static int net_add(struct dk_nets *ns, const json_t *net)
{
	const char *id = jstr(net, "Id"), *name = jstr(net, "Name"), *driver = jstr(net, "Driver");
	const char *opt = jstr(json_object_get(net, "Options"), "com.docker.network.bridge.name");
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
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 16;
		struct dk_net *v = realloc(ns->v, cap * sizeof(*v));

		if (!v) {
			free(n.id);
			free(n.bridge);
			return -ENOMEM;
		}
		ns->v = v;
		ns->cap = cap;
	}
	ns->v[ns->n++] = n;
	return 0;
}

static int nets_load_all(struct docker_client *c, struct dk_nets *ns)
{
	json_t *arr = NULL, *net;
	size_t i;
	int r;

	r = dk_get(c, "/networks", &arr);
	if (r < 0)
		return r;
	json_array_foreach (arr, i, net) {
		r = net_add(ns, net);
		if (r < 0)
			break;
	}
	json_decref(arr);
	return r;
}

/* Bridge name of network ID (borrowed from NS), fetching networks we have not seen; NULL
 * in *ret when it has none or is gone. */
static int nets_bridge(struct docker_client *c, struct dk_nets *ns, const char *id,
		       const char **ret)
{
	json_t *net = NULL;
	char *esc, path[256];
	int r;

	if (ns->n >= DK_NETS_MAX)
		nets_clear(ns);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < ns->n; i++)
			if (strcmp(ns->v[i].id, id) == 0) {
				*ret = ns->v[i].bridge;
				return 0;
			}
		if (pass)
			break;
		esc = url_escape(id);
		if (!esc)
			return -ENOMEM;
		snprintf(path, sizeof(path), "/networks/%.200s", esc);
		free(esc);
		r = dk_get(c, path, &net);
		if (r == -ENOENT)
			break;
		if (r < 0)
			return r;
		r = net_add(ns, net);
		json_decref(net);
		if (r < 0)
			return r;
	}
	*ret = NULL;
	return 0;
}

/* ---- endpoints ---- */

struct ep_vec {
	struct endpoint *v;
	size_t n, cap;
};

static void ep_vec_clear(struct ep_vec *ev)
{
	for (size_t i = 0; i < ev->n; i++)
		endpoint_clear(&ev->v[i]);
	free(ev->v);
	memset(ev, 0, sizeof(*ev));
}

static struct endpoint *ep_vec_push(struct ep_vec *ev)
{
	if (ev->n == ev->cap) {
		size_t cap = ev->cap ? ev->cap * 2 : 8;
		struct endpoint *v = realloc(ev->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		ev->v = v;
		ev->cap = cap;
	}
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
 * Appends the endpoints of one inspected container to OUT. A container that is not running,
 * or stops while we look, adds nothing and is not an error.
 */
static int container_endpoints(struct docker_client *c, const json_t *ins, struct dk_nets *ns,
			       struct ep_vec *out)
{
	const json_t *state = json_object_get(ins, "State");
	const json_t *config = json_object_get(ins, "Config");
	const json_t *settings = json_object_get(ins, "NetworkSettings");
	json_int_t pid = json_integer_value(json_object_get(state, "Pid"));
	struct ctr ct = {0};
	size_t mark = out->n;
	const char *key;
	json_t *att, *v;
	int r;

	ct.id = jstr(ins, "Id");
	ct.name = jstr(ins, "Name");
	if (!ct.id || !json_is_true(json_object_get(state, "Running")))
		return 0;
	if (pid <= 0 || pid > INT32_MAX) {
		set_error(c, "container %.64s: Pid %lld is not a process",
			  ct.name ? ct.name : ct.id, (long long)pid);
		return -ERANGE;
	}
	ct.pid = (int)pid;
	if (!ct.name)
		ct.name = ct.id;
	if (ct.name[0] == '/' && ct.name[1])
		ct.name++;
	ct.image = jstr(config, "Image");
	ct.sandbox_key = jstr(settings, "SandboxKey");
	ct.labels = json_object_get(config, "Labels");
	if (json_is_object(ct.labels)) {
		json_object_foreach ((json_t *)ct.labels, key, v) {
			if (json_is_string(v))
				ct.nlabels++;
		}
	}
	if (ct.nlabels > DOCKER_MAX_LABELS) {
		set_error(c, "container %s: %zu labels, over the limit of %u", ct.name, ct.nlabels,
			  DOCKER_MAX_LABELS);
		return -E2BIG;
	}
	ct.nets = json_object_get(settings, "Networks");
	ct.nnets = json_is_object(ct.nets) ? json_object_size(ct.nets) : 0;
	if (ct.nnets > DOCKER_MAX_ATTACHMENTS) {
		set_error(c, "container %s: %zu networks, over the limit of %u", ct.name, ct.nnets,
			  DOCKER_MAX_ATTACHMENTS);
		return -E2BIG;
	}
	if (!ct.nnets)
		return 0;

	json_object_foreach ((json_t *)ct.nets, key, att) {
		struct endpoint_addr a4, a6;
		bool has4 = parse_addr(jstr(att, "IPAddress"), AF_INET, &a4);
		bool has6 = parse_addr(jstr(att, "GlobalIPv6Address"), AF_INET6, &a6);
		const char *netid = jstr(att, "NetworkID"), *bridge = NULL;
		char ifname[IFNAMSIZ];
		uint8_t mac[6];
		bool hasmac = parse_mac(jstr(att, "MacAddress"), mac) == 0;
		struct endpoint *e;

		if (!json_is_object(att) || (!hasmac && !has4 && !has6))
			continue;
		r = docker_veth_peer(c->host_ns_fd, ct.pid, ct.sandbox_key, hasmac ? mac : NULL,
				     has4 ? &a4 : &a6, ifname);
		if (r == -ENODEV)
			continue;
		if (r == -ENOENT || r == -ESTALE) {
			/* It stopped under us: the die event follows. */
			ep_vec_pop_to(out, mark);
			return 0;
		}
		if (r < 0) {
			set_error(c, "container %s, network %s: host veth: %s", ct.name, key,
				  strerror(-r));
			goto fail;
		}
		if (netid) {
			r = nets_bridge(c, ns, netid, &bridge);
			if (r < 0)
				goto fail;
		}
		r = -ENOMEM;
		e = ep_vec_push(out);
		if (!e)
			goto fail;
		r = ep_fill_common(e, &ct);
		if (r < 0)
			goto fail;
		r = -ENOMEM;
		e->interface = strdup(ifname);
		e->bridge = xstrdup(bridge);
		e->addrs = calloc(2, sizeof(*e->addrs));
		if (!e->interface || (bridge && !e->bridge) || !e->addrs)
			goto fail;
		if (has4)
			e->addrs[e->naddrs++] = a4;
		if (has6)
			e->addrs[e->naddrs++] = a6;
	}
	return 0;
fail:
	if (r == -ENOMEM)
		set_error(c, "out of memory");
	ep_vec_pop_to(out, mark);
	return r;
}

/* Moves every endpoint of EV into SET (sorted), leaving EV empty; nothing moves on failure. */
static int ep_vec_move_to(struct ep_vec *ev, struct endpoint_set *set)
{
	if (ev->n == 0)
		return 0;
	qsort(ev->v, ev->n, sizeof(*ev->v), cmp_ep);
	if (set->n + ev->n > set->cap) {
		size_t cap = set->cap ? set->cap : 8;
		struct endpoint *items;

		while (cap < set->n + ev->n)
			cap *= 2;
		items = realloc(set->items, cap * sizeof(*items));
		if (!items)
			return -ENOMEM;
		set->items = items;
		set->cap = cap;
	}
	memcpy(set->items + set->n, ev->v, ev->n * sizeof(*ev->v));
	set->n += ev->n;
	ev->n = 0;
	return 0;
}

static int inspect_one(struct docker_client *c, const char *container, struct dk_nets *ns,
		       struct ep_vec *out)
{
	char *esc = url_escape(container), *path = NULL;
	json_t *ins = NULL;
	int r;

	if (!esc || asprintf(&path, "/containers/%s/json", esc) < 0) {
		free(esc);
		set_error(c, "out of memory");
		return -ENOMEM;
	}
	r = dk_get(c, path, &ins);
	if (r == 0)
		r = container_endpoints(c, ins, ns, out);
	json_decref(ins);
	free(path);
	free(esc);
	return r;
}

int docker_inspect_endpoints(struct docker_client *c, const char *container,
			     struct endpoint_set *ret)
{
	struct ep_vec ev = {0};
	int r;

	c->error[0] = '\0';
	if (!container || !*container)
		return -EINVAL;
	r = inspect_one(c, container, &c->nets, &ev);
	if (r == 0)
		r = ep_vec_move_to(&ev, ret);
	if (r == 0)
		c->error[0] = '\0';
	ep_vec_clear(&ev);
	return r;
}

int docker_list_endpoints(struct docker_client *c, struct endpoint_set *ret)
{
	struct ep_vec ev = {0};
	json_t *list = NULL, *item;
	size_t i;
	int r;

	c->error[0] = '\0';
	r = dk_get(c, "/containers/json", &list);
	if (r < 0)
		goto out;
	r = -EBADMSG;
	if (!json_is_array(list)) {
		set_error(c, "GET /containers/json: not a JSON array");
		goto out;
	}
	skipped_clear(c);
	nets_clear(&c->nets);
	r = nets_load_all(c, &c->nets);
	if (r < 0)
		goto out;
	json_array_foreach (list, i, item) {
		const char *id = jstr(item, "Id");

		if (!id)
			continue;
		r = inspect_one(c, id, &c->nets, &ev);
		/* Removed between the list and the inspect. */
		if (r == -ENOENT)
			r = 0;
		/*
		 * One container we cannot make sense of (an unreadable namespace, a nonsense
		 * answer) is left out, not the whole list; losing the daemon fails the list.
		 */
		if (r < 0 && r != -ENOMEM && !c->io_failed)
			r = skipped_add(c, id);
		if (r < 0)
			goto out;
	}
	r = ep_vec_move_to(&ev, ret);
out:
	if (r == 0)
		c->error[0] = '\0';
	ep_vec_clear(&ev);
	json_decref(list);
	return r;
}

/* ---- events ---- */

void docker_events_close(struct docker_client *c)
{
	if (!c)
		return;
	if (c->ev_in_cb) {
		c->ev_close_pending = true;
		return;
	}
	if (c->ev_fd >= 0)
		close(c->ev_fd);
	c->ev_fd = -1;
	c->ev_err = 0;
	c->ev_close_pending = false;
	docker_http_release(&c->ev_http);
}

int docker_events_open(struct docker_client *c, int *ret_fd)
{
	static const char filters[] =
	    "{\"type\":[\"container\",\"network\"],"
	    "\"event\":[\"start\",\"die\",\"destroy\",\"rename\",\"connect\",\"disconnect\"]}";
	int64_t deadline = now_ms() + DOCKER_TIMEOUT_MS;
	char *esc = NULL, *path = NULL;
	struct timespec ts;
	int fd = -1, r;

	if (c->ev_in_cb)
		return -EBUSY;
	docker_events_close(c);
	c->error[0] = '\0';
	esc = url_escape(filters);
	clock_gettime(CLOCK_REALTIME, &ts);
	/*
	 * "since" a little before now: Docker replays buffered events from that moment before
	 * streaming live ones. That closes the window between our request and its subscription,
	 * and also catches a container that was still starting when the caller listed them
	 * (seen after a daemon restart). Replays cost a re-inspect each and change nothing.
	 */
	ts.tv_sec -= DOCKER_EVENTS_REPLAY_S;
	if (!esc || asprintf(&path, "/events?since=%lld.%09ld&filters=%s", (long long)ts.tv_sec,
			     ts.tv_nsec, esc) < 0) {
		r = -ENOMEM;
		goto out;
	}
	r = dk_connect(c, deadline, &fd);
	if (r < 0)
		goto out;
	r = send_request(c, fd, path, deadline);
	if (r < 0)
		goto out;
	/* The status arrives with the first read: an epoll loop must not block here. */
	docker_http_init(&c->ev_http, DOCKER_MAX_EVENT + RECV_CHUNK);
	c->ev_fd = fd;
	fd = -1;
	*ret_fd = c->ev_fd;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	free(esc);
	return r;
}

static void dispatch_line(const char *line, size_t len, docker_event_cb cb, void *userdata)
{
	json_t *j = json_loadb(line, len, 0, NULL);
	const char *type, *action, *actor_id;
	const json_t *attrs;
	struct docker_event ev = {0};

	if (!json_is_object(j))
		goto out;
	type = jstr(j, "Type");
	action = jstr(j, "Action");
	actor_id = jstr(json_object_get(j, "Actor"), "ID");
	attrs = json_object_get(json_object_get(j, "Actor"), "Attributes");
	if (!type || !action || !actor_id)
		goto out;
	if (strcmp(type, "container") == 0) {
		if (strcmp(action, "start") == 0)
			ev.kind = DOCKER_EVENT_START;
		else if (strcmp(action, "die") == 0)
			ev.kind = DOCKER_EVENT_DIE;
		else if (strcmp(action, "destroy") == 0)
			ev.kind = DOCKER_EVENT_DESTROY;
		else if (strcmp(action, "rename") == 0)
			ev.kind = DOCKER_EVENT_RENAME;
		else
			goto out;
		ev.container_id = actor_id;
	} else if (strcmp(type, "network") == 0) {
		if (strcmp(action, "connect") == 0)
			ev.kind = DOCKER_EVENT_NETWORK_CONNECT;
		else if (strcmp(action, "disconnect") == 0)
			ev.kind = DOCKER_EVENT_NETWORK_DISCONNECT;
		else
			goto out;
		ev.network_id = actor_id;
		ev.container_id = jstr(attrs, "container");
		if (!ev.container_id)
			goto out;
	} else {
		goto out;
	}
	ev.name = jstr(attrs, "name");
	ev.time_nano = json_integer_value(json_object_get(j, "timeNano"));
	cb(&ev, userdata);
out:
	json_decref(j);
}

/* Calls back for every complete line in the buffered body; -EMSGSIZE if a line is too long. */
static int dispatch(struct docker_client *c, docker_event_cb cb, void *userdata)
{
	struct docker_http *h = &c->ev_http;
	size_t off = 0;
	int r = 0;

	c->ev_in_cb = true;
	while (off < h->body_len && !c->ev_close_pending) {
		const char *nl = memchr(h->body + off, '\n', h->body_len - off);
		size_t len;

		if (!nl)
			break;
		len = (size_t)(nl - (h->body + off));
		if (len > 0)
			dispatch_line(h->body + off, len, cb, userdata);
		off += len + 1;
	}
	c->ev_in_cb = false;
	docker_http_consume(h, off);
	if (h->body_len > DOCKER_MAX_EVENT) {
		set_error(c, "events: an event over %u bytes", DOCKER_MAX_EVENT);
		r = -EMSGSIZE;
	}
	return r;
}

int docker_events_read(struct docker_client *c, docker_event_cb cb, void *userdata)
{
	struct docker_http *h = &c->ev_http;
	char buf[16384];
	int r;

	if (c->ev_fd < 0)
		return -ENOTCONN;
	if (c->ev_in_cb)
		return -EBUSY;
	if (c->ev_err)
		return c->ev_err;
	for (;;) {
		ssize_t n = recv(c->ev_fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -EAGAIN;
		if (n < 0) {
			r = -errno;
			if (r == -EPIPE)
				r = -ECONNRESET;
			set_error(c, "events: %s", strerror(-r));
			break;
		}
		if (n == 0) {
			bool whole = docker_http_eof(h) == 0;

			r = -ECONNRESET;
			set_error(c, "events: the daemon closed the stream");
			if (!docker_http_have_headers(h))
				break;
			if (h->status < 200 || h->status > 299) {
				if (whole)
					describe_failure(c, "/events", h->status,
							 h->body ? h->body : "", h->body_len);
				r = -EIO;
				break;
			}
			(void)dispatch(c, cb, userdata);
			if (c->ev_close_pending) {
				docker_events_close(c);
				return -ENOTCONN;
			}
			break;
		}
		r = docker_http_feed(h, buf, (size_t)n);
		if (r < 0) {
			set_error(c, "events: %s",
				  r == -EMSGSIZE ? "over a size limit" : "malformed HTTP");
			break;
		}
		if (!docker_http_have_headers(h))
			continue;
		if (h->status < 200 || h->status > 299) {
			/* The error body is short; wait for all of it so the message is whole. */
			if (!docker_http_done(h))
				continue;
			describe_failure(c, "/events", h->status, h->body ? h->body : "",
					 h->body_len);
			r = -EIO;
			break;
		}
		r = dispatch(c, cb, userdata);
		if (c->ev_close_pending) {
			docker_events_close(c);
			return -ENOTCONN;
		}
		if (r < 0)
			break;
		if (docker_http_done(h)) {
			set_error(c, "events: the daemon ended the stream");
			r = -ECONNRESET;
			break;
		}
	}
	c->ev_err = r;
	return r;
}
