/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Docker source. Three parts:
 *   http    the response framer, fed byte by byte and malformed (no sockets);
 *   fake    the client against a scripted HTTP server on a unix socket of our own (error
 *           statuses, odd JSON, timeouts, an event stream that ends);
 *   docker  the real daemon (tests/docker/dockerd.sh starts it and builds the busybox image):
 *
 *     docker0 ── nsdkPID-web (app=web)   nsdkPID-multi ── nsdkPIDnet ── nsdkPID-db (app=db)
 *                                                        nsdkPIDnet6 ── nsdkPID-v6 (IPv6)
 *     nsdkPID-none (--network none), nsdkPID-host (--network host), nsdkPID-stopped (created)
 *
 *   and a private second daemon (its own socket, data and exec roots, no bridge, no iptables)
 *   that the restart case stops and starts again.
 * Expected values come from `docker inspect` and `ip -o link` run in the container's
 * namespace, never from the code under test. Everything created carries this PID in its
 * name and is removed at exit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "docker.h"
#include "docker_http.h"
#include "veth_peer.h"
#include "endpoints.h"
#include "testutil.h"

static pid_t g_main_pid;
static char g_pfx[32];	   /* nsdkPID */
static bool g_have_docker; /* the shared daemon answers and the scene is built */
static bool g_have_v6;	   /* nsdkPIDnet6 could be created */
static char g_tmp[64];	   /* /tmp/nsdkPID: fake sockets, the private daemon */
static char g_d2[128];	   /* private daemon directory, under g_tmp */
static const char *g_image = "netseg-test/busybox";

/* ---- shell helpers ---- */

__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Stdout of a command, trailing newlines removed; NULL if it failed. */
__attribute__((format(printf, 1, 2))) static char *sh_out(const char *fmt, ...)
{
	char cmd[2048], *buf = NULL;
	size_t len = 0, cap = 0;
	va_list ap;
	FILE *f;
	int c, st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	if (!f)
		return NULL;
	while ((c = fgetc(f)) != EOF) {
		if (len + 2 > cap) {
			cap = cap ? cap * 2 : 256;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		buf[len++] = (char)c;
	}
	st = pclose(f);
	if (!buf)
		buf = strdup("");
	else
		buf[len] = '\0';
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static json_t *docker_inspect_json(const char *name)
{
	char *out = sh_out("docker inspect %s 2>/dev/null", name);
	json_t *arr, *o;

	ck_assert_msg(out, "docker inspect %s failed", name);
	arr = json_loads(out, 0, NULL);
	free(out);
	ck_assert(json_is_array(arr) && json_array_size(arr) == 1);
	o = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return o;
}

/* ---- endpoint helpers ---- */

static struct endpoint_set *set_new(void)
{
	struct endpoint_set *s = endpoint_set_new();

	ck_assert_ptr_nonnull(s);
	return s;
}

static size_t count_named(const struct endpoint_set *s, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += strcmp(s->items[i].name, name) == 0;
	return n;
}

static const struct endpoint *find_ep(const struct endpoint_set *s, const char *name,
				      const char *network_bridge)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->items[i].name, name) == 0 &&
		    (!network_bridge ||
		     (s->items[i].bridge && strcmp(s->items[i].bridge, network_bridge) == 0)))
			return &s->items[i];
	return NULL;
}

static bool ep_has_addr(const struct endpoint *e, const char *text)
{
	struct endpoint_addr a = {0};

	a.family = strchr(text, ':') ? AF_INET6 : AF_INET;
	ck_assert_int_eq(inet_pton(a.family, text, a.addr), 1);
	for (size_t i = 0; i < e->naddrs; i++)
		if (e->addrs[i].family == a.family &&
		    memcmp(e->addrs[i].addr, a.addr, a.family == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

static const char *ep_label(const struct endpoint *e, const char *key)
{
	for (size_t i = 0; i < e->nlabels; i++)
		if (strcmp(e->labels[i].key, key) == 0)
			return e->labels[i].value;
	return NULL;
}

/*
 * The host-side veth of the container interface with MAC, found independently of the code
 * under test: iproute2 inside the container's namespace prints "eth0@ifN ... link/ether MAC",
 * N being the peer's index here.
 */
static char *expected_veth(int pid, const char *mac)
{
	char *out = sh_out("nsenter -t %d -n ip -o link show | grep -i 'link/ether %s ' | "
			   "sed -n 's/^[0-9]*: [^@]*@if\\([0-9]*\\):.*/\\1/p'",
			   pid, mac);
	char name[IF_NAMESIZE];
	int idx;

	ck_assert_msg(out && *out, "no interface with MAC %s in pid %d", mac, pid);
	idx = atoi(out);
	free(out);
	ck_assert_ptr_nonnull(if_indextoname((unsigned)idx, name));
	return strdup(name);
}

static char *master_of(const char *ifname)
{
	char path[256], target[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/master", ifname);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return NULL;
	target[n] = '\0';
	return strdup(strrchr(target, '/') + 1);
}

/*
 * Checks every endpoint of container NAME in S against `docker inspect` and the kernel:
 * one endpoint per attachment, same id/image/labels/networks/addresses, the right veth, and
 * the bridge that veth is enslaved to.
 */
static void check_container(const struct endpoint_set *s, const char *name, size_t nattach)
{
	json_t *ins = docker_inspect_json(name);
	json_t *nets = json_object_get(json_object_get(ins, "NetworkSettings"), "Networks");
	json_t *labels = json_object_get(json_object_get(ins, "Config"), "Labels");
	int pid = (int)json_integer_value(json_object_get(json_object_get(ins, "State"), "Pid"));
	const char *netname, *key;
	json_t *att, *v;
	size_t matched = 0;

	ck_assert_uint_eq(count_named(s, name), nattach);
	ck_assert_uint_eq(json_object_size(nets), nattach);
	json_object_foreach (nets, netname, att) {
		const char *mac = json_string_value(json_object_get(att, "MacAddress"));
		const char *ip4 = json_string_value(json_object_get(att, "IPAddress"));
		const char *ip6 = json_string_value(json_object_get(att, "GlobalIPv6Address"));
		char *veth = expected_veth(pid, mac), *master = master_of(veth);
		const struct endpoint *e = NULL;

		for (size_t i = 0; i < s->n; i++)
			if (strcmp(s->items[i].name, name) == 0 &&
			    strcmp(s->items[i].interface, veth) == 0)
				e = &s->items[i];
		ck_assert_msg(e, "%s on %s: no endpoint with interface %s", name, netname, veth);
		matched++;
		ck_assert_str_eq(e->id, json_string_value(json_object_get(ins, "Id")));
		ck_assert_str_eq(e->image, g_image);
		ck_assert_ptr_nonnull(master);
		ck_assert_ptr_nonnull(e->bridge);
		ck_assert_str_eq(e->bridge, master);
		ck_assert(ep_has_addr(e, ip4));
		ck_assert_uint_eq(e->naddrs, 1 + (ip6 && *ip6));
		if (ip6 && *ip6)
			ck_assert(ep_has_addr(e, ip6));
		ck_assert_uint_eq(e->nlabels, json_object_size(labels));
		json_object_foreach (labels, key, v) {
			ck_assert_ptr_nonnull(ep_label(e, key));
			ck_assert_str_eq(ep_label(e, key), json_string_value(v));
		}
		ck_assert_uint_eq(e->nnetworks, nattach);
		for (size_t i = 0; i < e->nnetworks; i++) {
			ck_assert_ptr_nonnull(json_object_get(nets, e->networks[i]));
			if (i)
				ck_assert(strcmp(e->networks[i - 1], e->networks[i]) < 0);
		}
		free(veth);
		free(master);
	}
	ck_assert_uint_eq(matched, nattach);
	json_decref(ins);
}

/* ---- event helpers ---- */

struct want {
	enum docker_event_kind kind;
	char cid[80];
	char nid[80];
	char name[80]; /* "" = any */
	bool seen;
	size_t total;
};

static void want_cb(const struct docker_event *ev, void *ud)
{
	struct want *w = ud;

	w->total++;
	ck_assert_ptr_nonnull(ev->container_id);
	if (ev->kind != w->kind || strcmp(ev->container_id, w->cid) != 0)
		return;
	if (*w->nid && (!ev->network_id || strcmp(ev->network_id, w->nid) != 0))
		return;
	if (*w->name && (!ev->name || strcmp(ev->name, w->name) != 0))
		return;
	w->seen = true;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs the stream until W is seen (0), the stream fails (its error) or TIMEOUT (-ETIMEDOUT). */
static int wait_for(struct docker_client *c, int fd, struct want *w, int timeout_ms)
{
	int64_t end = mono_ms() + timeout_ms;

	while (!w->seen) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = end - mono_ms();
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		r = docker_events_read(c, want_cb, w);
		if (r != -EAGAIN && !w->seen)
			return r;
	}
	return 0;
}

static void want_init(struct want *w, enum docker_event_kind kind, const char *cid, const char *nid,
		      const char *name)
{
	memset(w, 0, sizeof(*w));
	w->kind = kind;
	snprintf(w->cid, sizeof(w->cid), "%s", cid);
	snprintf(w->nid, sizeof(w->nid), "%s", nid ? nid : "");
	snprintf(w->name, sizeof(w->name), "%s", name ? name : "");
}

/* ======================= http: the framer alone ======================= */

/* Feeds TEXT in pieces of STEP bytes (0: all at once); returns the first error or 0. */
static int feed_steps(struct docker_http *h, const char *text, size_t len, size_t step)
{
	size_t off = 0;

	if (!step)
		step = len ? len : 1;
	while (off < len) {
		size_t n = len - off < step ? len - off : step;
		int r = docker_http_feed(h, text + off, n);

		if (r < 0)
			return r;
		off += n;
	}
	return 0;
}

START_TEST(http_content_length)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				   "content-length:  11 \r\n\r\n{\"a\":\"bc\"}\nEXTRA";

	for (size_t step = 0; step <= 7; step++) {
		struct docker_http h;

		docker_http_init(&h, 1024);
		ck_assert_int_eq(feed_steps(&h, resp, strlen(resp), step), 0);
		ck_assert(docker_http_done(&h));
		ck_assert_int_eq(h.status, 200);
		ck_assert_uint_eq(h.body_len, 11);
		ck_assert_mem_eq(h.body, "{\"a\":\"bc\"}\n", 11);
		docker_http_release(&h);
	}
}
END_TEST

START_TEST(http_chunked)
{
	/* Extensions, upper-case hex, an event split across chunks, trailers. */
	static const char resp[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				   "5;ext=1\r\nhello\r\nA\r\n, world!!\n\r\n1\r\n\n\r\n"
				   "0\r\nX-Trailer: y\r\n\r\n";
	const size_t len = strlen(resp);

	for (size_t step = 0; step <= len; step += step < 10 ? 1 : 13) {
		struct docker_http h;

		docker_http_init(&h, 1024);
		ck_assert_int_eq(feed_steps(&h, resp, len, step), 0);
		ck_assert(docker_http_done(&h));
		ck_assert_str_eq(h.body, "hello, world!!\n\n");
		docker_http_release(&h);
	}
}
END_TEST

START_TEST(http_consume_and_stream)
{
	struct docker_http h;
	static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

	docker_http_init(&h, 16);
	ck_assert_int_eq(docker_http_feed(&h, head, strlen(head)), 0);
	ck_assert(docker_http_have_headers(&h));
	ck_assert(!docker_http_done(&h));
	ck_assert_int_eq(docker_http_feed(&h, "8\r\nabcdefgh\r\n", 13), 0);
	docker_http_consume(&h, 5);
	ck_assert_str_eq(h.body, "fgh");
	/* The cap is on what is buffered, so a consumer that keeps up can stream forever. */
	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(docker_http_feed(&h, "8\r\n12345678\r\n", 13), 0);
		docker_http_consume(&h, h.body_len);
	}
	ck_assert_int_eq(docker_http_feed(&h, "11\r\n", 4), 0);
	ck_assert_int_eq(docker_http_feed(&h, "0123456789abcdefg", 17), -EMSGSIZE);
	docker_http_release(&h);
}
END_TEST

START_TEST(http_eof_framing)
{
	struct docker_http h;
	static const char noframe[] = "HTTP/1.0 200 OK\r\n\r\nuntil close";
	static const char cut[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
	static const char cutchunk[] =
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab";
	static const char nocontent[] = "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n";
	static const char interim[] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\n"
				      "Content-Length: 2\r\n\r\n{}";

	docker_http_init(&h, 1024);
	ck_assert_int_eq(docker_http_feed(&h, noframe, strlen(noframe)), 0);
	ck_assert(!docker_http_done(&h));
	ck_assert_int_eq(docker_http_eof(&h), 0);
	ck_assert(docker_http_done(&h));
	ck_assert_str_eq(h.body, "until close");
	docker_http_release(&h);

	docker_http_init(&h, 1024);
	ck_assert_int_eq(docker_http_feed(&h, cut, strlen(cut)), 0);
	ck_assert_int_eq(docker_http_eof(&h), -ECONNRESET);
	docker_http_release(&h);

	docker_http_init(&h, 1024);
	ck_assert_int_eq(docker_http_feed(&h, cutchunk, strlen(cutchunk)), 0);
	ck_assert_int_eq(docker_http_eof(&h), -ECONNRESET);
	docker_http_release(&h);

	docker_http_init(&h, 1024);
	ck_assert_int_eq(docker_http_feed(&h, nocontent, strlen(nocontent)), 0);
	ck_assert(docker_http_done(&h));
	ck_assert_uint_eq(h.body_len, 0);
	docker_http_release(&h);

	docker_http_init(&h, 1024);
	ck_assert_int_eq(docker_http_feed(&h, interim, strlen(interim)), 0);
	ck_assert(docker_http_done(&h));
	ck_assert_int_eq(h.status, 404);
	ck_assert_str_eq(h.body, "{}");
	docker_http_release(&h);
}
END_TEST

START_TEST(http_malformed)
{
	static const struct {
		const char *text;
		int err;
	} cases[] = {
	    {"HTTP/2 200 OK\r\n\r\n", -EBADMSG},
	    {"HTTP/1.1 20 OK\r\n\r\n", -EBADMSG},
	    {"HTTP/1.1 2000 OK\r\n\r\n", -EBADMSG},
	    {"HTTP/1.1 099 Low\r\n\r\n", -EBADMSG},
	    {"SSH-2.0-OpenSSH\r\n", -EBADMSG},
	    {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", -EBADMSG},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", -EBADMSG},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", -EBADMSG},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", -EBADMSG},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n", -EMSGSIZE},
	    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", -EBADMSG},
	    {"HTTP/1.1 200 OK\r\n folded\r\n\r\n", -EBADMSG},
	    {"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", -EBADMSG},
	    {"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", -EBADMSG},
	    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", -EBADMSG},
	    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", -EBADMSG},
	    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", -EBADMSG},
	    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	     "fffffffffffffffffff\r\n",
	     -EBADMSG},
	    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct docker_http h;
		int r;

		docker_http_init(&h, 1024);
		r = docker_http_feed(&h, cases[i].text, strlen(cases[i].text));
		ck_assert_msg(r == cases[i].err, "case %zu: %d, want %d", i, r, cases[i].err);
		docker_http_release(&h);
	}
}
END_TEST

START_TEST(http_limits)
{
	struct docker_http h;
	char *big = malloc(DOCKER_HTTP_LINE_MAX + 32);
	const char nul[] = "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n";

	ck_assert_ptr_nonnull(big);
	/* A header line longer than the line buffer. */
	docker_http_init(&h, 1024);
	ck_assert_int_eq(docker_http_feed(&h, "HTTP/1.1 200 OK\r\nX: ", 21), 0);
	memset(big, 'a', DOCKER_HTTP_LINE_MAX + 32);
	ck_assert_int_eq(docker_http_feed(&h, big, DOCKER_HTTP_LINE_MAX + 32), -EMSGSIZE);
	docker_http_release(&h);
	/* Endless short headers. */
	docker_http_init(&h, 1024);
	ck_assert_int_eq(docker_http_feed(&h, "HTTP/1.1 200 OK\r\n", 17), 0);
	{
		int r = 0;

		for (int i = 0; i < 100000 && r == 0; i++)
			r = docker_http_feed(&h, "X-A: b\r\n", 8);
		ck_assert_int_eq(r, -EMSGSIZE);
	}
	docker_http_release(&h);
	/* NUL inside a header line. */
	docker_http_init(&h, 1024);
	ck_assert_int_eq(docker_http_feed(&h, nul, sizeof(nul) - 1), -EBADMSG);
	docker_http_release(&h);
	docker_http_release(NULL);
	free(big);
}
END_TEST

/* ======================= fake: a scripted server ======================= */

struct route {
	const char *prefix;   /* request path prefix */
	const char *response; /* raw bytes; NULL: accept and say nothing (a hung daemon) */
	bool hold;	      /* keep the connection open after responding */
};

struct fake {
	char path[108];
	int lfd;
	const struct route *routes;
	size_t nroutes;
	pthread_t thread;
	int held[16];
	size_t nheld;
	char last_path[1024];
	int nrequests;
	char *(*gen)(const char *path); /* instead of routes: made per request, freed after */
};

static void *fake_main(void *arg)
{
	struct fake *f = arg;

	for (;;) {
		char req[4096];
		size_t len = 0;
		int fd = accept(f->lfd, NULL, NULL);
		const struct route *rt = NULL;
		char *sp, *sp2;

		if (fd < 0)
			return NULL;
		while (len < sizeof(req) - 1) {
			ssize_t n = read(fd, req + len, sizeof(req) - 1 - len);

			if (n <= 0)
				break;
			len += (size_t)n;
			req[len] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		req[len] = '\0';
		sp = strchr(req, ' ');
		sp2 = sp ? strchr(sp + 1, ' ') : NULL;
		if (sp2) {
			*sp2 = '\0';
			snprintf(f->last_path, sizeof(f->last_path), "%s", sp + 1);
		}
		f->nrequests++;
		if (f->gen && sp2) {
			char *resp = f->gen(sp + 1);

			for (size_t off = 0, len = strlen(resp); off < len;) {
				ssize_t n = write(fd, resp + off, len - off);

				if (n <= 0)
					break;
				off += (size_t)n;
			}
			free(resp);
			close(fd);
			continue;
		}
		for (size_t i = 0; i < f->nroutes && sp2; i++)
			if (strncmp(sp + 1, f->routes[i].prefix, strlen(f->routes[i].prefix)) ==
			    0) {
				rt = &f->routes[i];
				break;
			}
		if (!rt) {
			static const char nf[] =
			    "HTTP/1.1 404 Not Found\r\nContent-Length: 26\r\n\r\n"
			    "{\"message\":\"no such path\"}";
			(void)!write(fd, nf, sizeof(nf) - 1);
			close(fd);
			continue;
		}
		if (rt->response)
			(void)!write(fd, rt->response, strlen(rt->response));
		if ((rt->hold || !rt->response) && f->nheld < 16)
			f->held[f->nheld++] = fd;
		else
			close(fd);
	}
}

static void fake_start_gen(struct fake *f, const struct route *routes, size_t n,
			   char *(*gen)(const char *path))
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(f, 0, sizeof(*f));
	f->gen = gen;
	snprintf(f->path, sizeof(f->path), "%s/fake-%d.sock", g_tmp, (int)getpid());
	unlink(f->path);
	f->routes = routes;
	f->nroutes = n;
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(f->lfd, 0);
	strcpy(sa.sun_path, f->path);
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(f->lfd, 16), 0);
	ck_assert_int_eq(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_start(struct fake *f, const struct route *routes, size_t n)
{
	fake_start_gen(f, routes, n, NULL);
}

/*
 * Stops the server and waits for its thread, so a test may free the responses it served:
 * shutdown() wakes the thread's accept(), and a write still in progress ends once the client
 * has closed its end (every test frees its client first).
 */
static void fake_stop(struct fake *f)
{
	shutdown(f->lfd, SHUT_RDWR);
	pthread_join(f->thread, NULL);
	for (size_t i = 0; i < f->nheld; i++)
		close(f->held[i]);
	close(f->lfd);
	unlink(f->path);
}

static char *http_resp(const char *status, const char *body)
{
	char *s;

	ck_assert_int_ge(asprintf(&s,
				  "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
				  "Content-Length: %zu\r\n\r\n%s",
				  status, strlen(body), body),
			 0);
	return s;
}

static char *json_resp(const char *body)
{
	return http_resp("200 OK", body);
}

START_TEST(fake_error_status)
{
	char *e500 =
	    http_resp("500 Internal Server Error", "{\"message\":\"boom\\nsecond line\"}\n");
	char *e404 = http_resp("404 Not Found", "{\"message\":\"No such container: gone\"}");
	struct route routes[] = {
	    {"/containers/json", e500, false},
	    {"/containers/gone/json", e404, false},
	    {"/containers/plain/json", "HTTP/1.1 502 Bad Gateway\r\n\r\nnot json\r\nat all", false},
	};
	struct fake f;
	struct docker_client *c;
	struct endpoint_set *s = set_new();
	char *url;

	fake_start(&f, routes, 3);
	c = docker_client_new(f.path);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(docker_client_last_error(c), "");
	ck_assert_int_eq(docker_list_endpoints(c, s), -EIO);
	ck_assert_msg(strstr(docker_client_last_error(c), "HTTP 500: boom second line"), "%s",
		      docker_client_last_error(c));
	ck_assert_ptr_null(strchr(docker_client_last_error(c), '\n'));
	ck_assert_int_eq(docker_inspect_endpoints(c, "gone", s), -ENOENT);
	ck_assert_msg(strstr(docker_client_last_error(c), "No such container: gone"), "%s",
		      docker_client_last_error(c));
	ck_assert_int_eq(docker_inspect_endpoints(c, "plain", s), -EIO);
	ck_assert_msg(strstr(docker_client_last_error(c), "HTTP 502: not json  at all"), "%s",
		      docker_client_last_error(c));
	/* Names are escaped into the path, not spliced into the request. */
	ck_assert_int_eq(docker_inspect_endpoints(c, "a b/../x\r\nHost: y", s), -ENOENT);
	ck_assert_str_eq(f.last_path, "/containers/a%20b%2F..%2Fx%0D%0AHost%3A%20y/json");
	ck_assert_int_eq(docker_inspect_endpoints(c, "", s), -EINVAL);
	ck_assert_uint_eq(s->n, 0);
	docker_client_free(c);
	docker_client_free(NULL);
	/* DOCKER_HOST's spelling of the same socket. */
	ck_assert_int_ge(asprintf(&url, "unix://%s", f.path), 0);
	c = docker_client_new(url);
	ck_assert_int_eq(docker_inspect_endpoints(c, "gone", s), -ENOENT);
	docker_client_free(c);
	free(url);
	endpoint_set_free(s);
	fake_stop(&f);
	free(e500);
	free(e404);
}
END_TEST

START_TEST(fake_odd_json)
{
	/* Wrong types everywhere: never a crash, never an endpoint from nonsense. */
	char *list = json_resp("[{\"Id\":\"a\"},{\"Id\":5},{},7,{\"Id\":\"b\"},{\"Id\":\"c\"},"
			       "{\"Id\":\"d\"},{\"Id\":\"gone\"}]");
	char *a = json_resp("{\"Id\":\"a\",\"State\":{\"Running\":\"yes\",\"Pid\":1}}");
	char *b = json_resp("{\"Id\":\"b\",\"Name\":7,\"State\":{\"Running\":true,\"Pid\":\"1\"},"
			    "\"NetworkSettings\":[]}");
	/* Our own PID: a "container" in our namespace (like --network host) yields nothing. */
	char *cc = NULL, *cbody = NULL;
	char *d = json_resp("{\"Id\":\"d\",\"State\":{\"Running\":true,\"Pid\":99999999999}}");
	char *nets = json_resp("{\"not\":\"an array\"}");
	struct route routes[6];
	struct fake f;
	struct docker_client *c;
	struct endpoint_set *s = set_new();

	ck_assert_int_ge(
	    asprintf(&cbody,
		     "{\"Id\":\"c\",\"Name\":\"/c\",\"State\":{\"Running\":true,\"Pid\":%d},"
		     "\"Config\":{\"Labels\":{\"x\":1,\"y\":\"z\"},\"Image\":[]},"
		     "\"NetworkSettings\":{\"Networks\":{\"n\":{\"MacAddress\":\"zz\","
		     "\"IPAddress\":\"10.0.0.300\"},\"m\":5,\"host\":{\"IPAddress\":"
		     "\"10.9.9.9\",\"MacAddress\":\"02:42:ac:11:00:99\"}}}}",
		     (int)getpid()),
	    0);
	cc = json_resp(cbody);
	memcpy(routes,
	       (struct route[]){
		   {"/containers/json", list, false},
		   {"/containers/a/", a, false},
		   {"/containers/b/", b, false},
		   {"/containers/c/", cc, false},
		   {"/containers/d/", d, false},
		   {"/networks", nets, false},
	       },
	       sizeof(routes));

	fake_start(&f, routes, 6);
	c = docker_client_new(f.path);
	ck_assert_int_eq(docker_list_endpoints(c, s), 0);
	ck_assert_uint_eq(s->n, 0);
	ck_assert_int_eq(docker_inspect_endpoints(c, "c", s), 0);
	ck_assert_uint_eq(s->n, 0);
	docker_client_free(c);
	endpoint_set_free(s);
	fake_stop(&f);
	free(list);
	free(a);
	free(b);
	free(cc);
	free(cbody);
	free(d);
	free(nets);
}
END_TEST

START_TEST(fake_bad_bodies)
{
	char *notarray = json_resp("{\"message\":\"hi\"}");
	struct route routes[] = {
	    {"/containers/json", notarray, false},
	    {"/containers/trunc/", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"Id\"", false},
	    {"/containers/badjson/", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{\"Id\"", false},
	    {"/containers/huge/", "HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n", true},
	    {"/containers/garbage/", "\x16\x03\x01\x02garbage\r\n", false},
	};
	struct fake f;
	struct docker_client *c;
	struct endpoint_set *s = set_new();

	fake_start(&f, routes, 5);
	c = docker_client_new(f.path);
	ck_assert_int_eq(docker_list_endpoints(c, s), -EBADMSG);
	ck_assert_int_eq(docker_inspect_endpoints(c, "trunc", s), -ECONNRESET);
	ck_assert_int_eq(docker_inspect_endpoints(c, "badjson", s), -EBADMSG);
	ck_assert_msg(strstr(docker_client_last_error(c), "bad JSON"), "%s",
		      docker_client_last_error(c));
	ck_assert_int_eq(docker_inspect_endpoints(c, "huge", s), -EMSGSIZE);
	ck_assert_msg(strstr(docker_client_last_error(c), "size limit"), "%s",
		      docker_client_last_error(c));
	ck_assert_int_eq(docker_inspect_endpoints(c, "garbage", s), -EBADMSG);
	ck_assert_uint_eq(s->n, 0);
	docker_client_free(c);
	endpoint_set_free(s);
	fake_stop(&f);
	free(notarray);
}
END_TEST

START_TEST(fake_timeout_and_refused)
{
	struct route routes[] = {{"/containers/json", NULL, false}};
	struct fake f;
	struct docker_client *c;
	struct endpoint_set *s = set_new();
	int64_t t0;
	int fd;

	fake_start(&f, routes, 1);
	c = docker_client_new(f.path);
	t0 = mono_ms();
	ck_assert_int_eq(docker_list_endpoints(c, s), -ETIMEDOUT);
	ck_assert_int_ge(mono_ms() - t0, DOCKER_TIMEOUT_MS - 100);
	ck_assert_int_le(mono_ms() - t0, DOCKER_TIMEOUT_MS + 2000);
	docker_client_free(c);
	fake_stop(&f);

	/* Nobody listening. */
	c = docker_client_new("/tmp/nsdk-no-such-dir/docker.sock");
	ck_assert_int_eq(docker_list_endpoints(c, s), -ENOENT);
	ck_assert_msg(strstr(docker_client_last_error(c), "connect /tmp/nsdk-no-such-dir"), "%s",
		      docker_client_last_error(c));
	ck_assert_int_eq(docker_events_open(c, &fd), -ENOENT);
	ck_assert_int_eq(docker_events_read(c, want_cb, NULL), -ENOTCONN);
	docker_events_close(c);
	docker_client_free(c);
	endpoint_set_free(s);
}
END_TEST

struct collect {
	struct docker_event ev[16];
	char cid[16][80], nid[16][80], name[16][80];
	size_t n;
	struct docker_client *c;
	bool close_in_cb;
};

static void collect_cb(const struct docker_event *ev, void *ud)
{
	struct collect *k = ud;
	int fd;

	ck_assert_uint_lt(k->n, 16);
	k->ev[k->n] = *ev;
	snprintf(k->cid[k->n], 80, "%s", ev->container_id);
	snprintf(k->nid[k->n], 80, "%s", ev->network_id ? ev->network_id : "");
	snprintf(k->name[k->n], 80, "%s", ev->name ? ev->name : "");
	k->n++;
	if (k->c) {
		ck_assert_int_eq(docker_events_open(k->c, &fd), -EBUSY);
		ck_assert_int_eq(docker_events_read(k->c, collect_cb, k), -EBUSY);
		if (k->close_in_cb)
			docker_events_close(k->c);
	}
}

/* Reads until the stream reports something other than -EAGAIN. */
static int drain(struct docker_client *c, int fd, struct collect *k)
{
	int64_t end = mono_ms() + 5000;
	int r = -EAGAIN;

	while (r == -EAGAIN && mono_ms() < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		poll(&p, 1, 200);
		r = docker_events_read(c, collect_cb, k);
	}
	return r;
}

START_TEST(fake_events_stream)
{
	/*
	 * Two events, the second split across chunks, an event we did not ask for, a line of
	 * garbage, a network event without a container, an old-style event; then the stream
	 * ends as when the daemon stops.
	 */
	static const char ev1[] =
	    "{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":\"c1\","
	    "\"Attributes\":{\"name\":\"web\",\"image\":\"x\"}},\"time\":1,\"timeNano\":1000}\n";
	static const char ev2a[] = "{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{\"ID\":"
				   "\"n1\",\"Attributes\":{\"container\":\"c1\",";
	static const char ev2b[] = "\"name\":\"front\",\"type\":\"bridge\"}}}\n";
	static const char other[] = "{\"Type\":\"container\",\"Action\":\"exec_start: sh\","
				    "\"Actor\":{\"ID\":\"c1\"}}\n";
	static const char junk[] = "this is not json\n";
	static const char nocont[] = "{\"Type\":\"network\",\"Action\":\"disconnect\","
				     "\"Actor\":{\"ID\":\"n1\",\"Attributes\":{}}}\n";
	static const char old[] = "{\"status\":\"die\",\"id\":\"c1\"}\n";
	static const char ev3[] =
	    "{\"Type\":\"container\",\"Action\":\"rename\",\"Actor\":{\"ID\":"
	    "\"c1\",\"Attributes\":{\"name\":\"web2\",\"oldName\":\"/web\"}}}\n"
	    "{\"Type\":\"container\",\"Action\":\"destroy\",\"Actor\":{\"ID\":"
	    "\"c1\"}}\n";
	char *resp;
	struct route routes[2];
	struct fake f;
	struct docker_client *c;
	struct collect k = {0};
	int fd, fd2;

	ck_assert_int_ge(asprintf(&resp,
				  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				  "Transfer-Encoding: chunked\r\n\r\n"
				  "%zx\r\n%s\r\n%zx\r\n%s\r\n%zx\r\n%s\r\n%zx\r\n%s%s%s%s\r\n"
				  "%zx\r\n%s\r\n0\r\n\r\n",
				  strlen(ev1), ev1, strlen(ev2a), ev2a, strlen(ev2b), ev2b,
				  strlen(other) + strlen(junk) + strlen(nocont) + strlen(old),
				  other, junk, nocont, old, strlen(ev3), ev3),
			 0);
	routes[0] = (struct route){"/events", resp, false};
	fake_start(&f, routes, 1);
	c = docker_client_new(f.path);
	ck_assert_int_eq(docker_events_read(c, collect_cb, &k), -ENOTCONN);
	ck_assert_int_eq(docker_events_open(c, &fd), 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(drain(c, fd, &k), -ECONNRESET);
	ck_assert_msg(strstr(f.last_path, "/events?since=") == f.last_path, "%s", f.last_path);
	ck_assert_ptr_nonnull(strstr(f.last_path, "filters=%7B%22type%22"));
	ck_assert_uint_eq(k.n, 4);
	ck_assert_int_eq(k.ev[0].kind, DOCKER_EVENT_START);
	ck_assert_str_eq(k.cid[0], "c1");
	ck_assert_str_eq(k.name[0], "web");
	ck_assert_str_eq(k.nid[0], "");
	ck_assert(k.ev[0].time_nano == 1000);
	ck_assert_int_eq(k.ev[1].kind, DOCKER_EVENT_NETWORK_CONNECT);
	ck_assert_str_eq(k.cid[1], "c1");
	ck_assert_str_eq(k.nid[1], "n1");
	ck_assert_str_eq(k.name[1], "front");
	ck_assert_int_eq(k.ev[2].kind, DOCKER_EVENT_RENAME);
	ck_assert_str_eq(k.name[2], "web2");
	ck_assert_int_eq(k.ev[3].kind, DOCKER_EVENT_DESTROY);
	/* The end is sticky until the caller reopens. */
	ck_assert_int_eq(docker_events_read(c, collect_cb, &k), -ECONNRESET);
	ck_assert_ptr_nonnull(strstr(docker_client_last_error(c), "ended the stream"));

	/* Reopen: a new stream, and a callback that closes it from inside. */
	ck_assert_int_eq(docker_events_open(c, &fd2), 0);
	k.n = 0;
	k.c = c;
	k.close_in_cb = true;
	ck_assert_int_eq(drain(c, fd2, &k), -ENOTCONN);
	ck_assert_uint_eq(k.n, 1);
	ck_assert_int_eq(docker_events_read(c, collect_cb, &k), -ENOTCONN);
	docker_client_free(c);
	fake_stop(&f);
	free(resp);
}
END_TEST

START_TEST(fake_events_errors)
{
	struct route routes[] = {
	    {"/events?since=",
	     "HTTP/1.1 400 Bad Request\r\nContent-Length: 29\r\n\r\n"
	     "{\"message\":\"invalid filter\"}\n",
	     false},
	};
	struct fake f;
	struct docker_client *c;
	struct collect k = {0};
	int fd;

	fake_start(&f, routes, 1);
	c = docker_client_new(f.path);
	ck_assert_int_eq(docker_events_open(c, &fd), 0);
	ck_assert_int_eq(drain(c, fd, &k), -EIO);
	ck_assert_msg(strstr(docker_client_last_error(c), "HTTP 400: invalid filter"), "%s",
		      docker_client_last_error(c));
	docker_events_close(c);
	docker_events_close(c);
	docker_client_free(c);
	fake_stop(&f);
}
END_TEST

START_TEST(fake_events_oversized)
{
	/* An event line that never ends: the stream fails instead of buffering forever. */
	size_t n = DOCKER_MAX_EVENT + 200000;
	char *resp = malloc(n + 256), *p;
	struct route routes[1];
	struct fake f;
	struct docker_client *c;
	struct collect k = {0};
	int fd;

	ck_assert_ptr_nonnull(resp);
	p = resp + sprintf(resp, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n{\"a\":\"", n);
	memset(p, 'x', n - 6);
	p[n - 6] = '\0';
	routes[0] = (struct route){"/events", resp, true};
	fake_start(&f, routes, 1);
	c = docker_client_new(f.path);
	ck_assert_int_eq(docker_events_open(c, &fd), 0);
	ck_assert_int_eq(drain(c, fd, &k), -EMSGSIZE);
	ck_assert_uint_eq(k.n, 0);
	docker_client_free(c);
	fake_stop(&f);
	free(resp);
}
END_TEST

/* ======================= veth: the namespace walk, without Docker ======================= */

static void ns_id(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/thread-self/ns/net", buf, size - 1);

	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
}

/*
 *   host: nsdkPIDh ──veth── ceth0 (02:00:5e:10:00:01, 192.0.2.10) in netns nsdkPIDv
 *   nsdkPIDv also holds d0 (a bridge, ..:02) and i0 ──veth── i1 (i0 ..:03, both inside)
 */
START_TEST(veth_lookup)
{
	static const uint8_t mac_ok[6] = {2, 0, 0x5e, 0x10, 0, 1};
	static const uint8_t mac_dummy[6] = {2, 0, 0x5e, 0x10, 0, 2};
	static const uint8_t mac_inner[6] = {2, 0, 0x5e, 0x10, 0, 3};
	static const uint8_t mac_none[6] = {2, 0, 0x5e, 0x10, 0, 9};
	struct endpoint_addr a4 = {.family = AF_INET}, a6 = {.family = AF_INET6};
	char ns[32], host[IFNAMSIZ], key[64], name[IFNAMSIZ], before[64], after[64];
	int host_fd, ns_fd, st;
	pid_t child;

	snprintf(ns, sizeof(ns), "%.20sv", g_pfx);
	snprintf(host, sizeof(host), "%.11sh", g_pfx);
	snprintf(key, sizeof(key), "/run/netns/%s", ns);
	ck_assert_int_eq(
	    sh("ip netns add %s && ip link add %s type veth peer name ceth0 netns %s && "
	       "ip -n %s link set ceth0 address 02:00:5e:10:00:01 up && "
	       "ip -n %s addr add 192.0.2.10/24 dev ceth0 && "
	       "ip -n %s link add d0 address 02:00:5e:10:00:02 type bridge && "
	       "ip -n %s link add i0 address 02:00:5e:10:00:03 type veth peer name i1",
	       ns, host, ns, ns, ns, ns, ns),
	    0);
	ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.10", a4.addr), 1);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::99", a6.addr), 1);
	ns_fd = open(key, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(ns_fd, 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		if (setns(ns_fd, CLONE_NEWNET) < 0)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ns_fd);
	usleep(100000);
	host_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(host_fd, 0);
	ns_id(before, sizeof(before));

	memset(name, 0, sizeof(name));
	ck_assert_int_eq(veth_host_peer(host_fd, child, NULL, mac_ok, NULL, name), 0);
	ck_assert_str_eq(name, host);
	memset(name, 0, sizeof(name));
	ck_assert_int_eq(veth_host_peer(host_fd, child, key, NULL, &a4, name), 0);
	ck_assert_str_eq(name, host);
	/* Not found, not a veth, a veth whose peer is not ours: nothing written. */
	memset(name, 0, sizeof(name));
	ck_assert_int_eq(veth_host_peer(host_fd, child, NULL, mac_none, NULL, name), -ENODEV);
	ck_assert_int_eq(veth_host_peer(host_fd, child, NULL, mac_dummy, NULL, name), -ENODEV);
	ck_assert_int_eq(veth_host_peer(host_fd, child, NULL, mac_inner, NULL, name), -ENODEV);
	ck_assert_int_eq(veth_host_peer(host_fd, child, NULL, NULL, &a6, name), -ENODEV);
	ck_assert_str_eq(name, "");
	/* The sandbox must be the PID's namespace (PID reuse). */
	ck_assert_int_eq(veth_host_peer(host_fd, child, "/proc/self/ns/net", mac_ok, NULL, name),
			 -ESTALE);
	/* Our own namespace, as with --network host. */
	ck_assert_int_eq(veth_host_peer(host_fd, getpid(), NULL, mac_ok, NULL, name), -ENODEV);
	ck_assert_int_eq(veth_host_peer(host_fd, 0, NULL, mac_ok, NULL, name), -EINVAL);
	ck_assert_int_eq(veth_host_peer(host_fd, child, NULL, NULL, NULL, name), -EINVAL);
	ck_assert_int_eq(veth_host_peer(-1, child, NULL, mac_ok, NULL, name), -EINVAL);
	/* Every call came back home. */
	ns_id(after, sizeof(after));
	ck_assert_str_eq(before, after);

	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	ck_assert_int_eq(veth_host_peer(host_fd, child, NULL, mac_ok, NULL, name), -ENOENT);
	close(host_fd);
	sh("ip netns del %s", ns);
}
END_TEST

/*
 * A list of containers with some bad ones among them: each bad one is skipped and named, the
 * others still come out, and there is no cap on their number.
 *   c00000: a real "container": a process in netns nsdkPIDs, its ceth0 ──veth── nsdkPIDk
 *   c00001: Pid 1 (here, as for a daemon in another PID namespace, not ours to enter)
 *   c00002: a Pid that is no process; c00003: 65 networks, over DOCKER_MAX_ATTACHMENTS
 *   the rest: not running
 */
static int g_list_n, g_list_child;

static char *list_gen(const char *path)
{
	char *body = NULL, *resp, id[16];
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	int i;

	ck_assert_ptr_nonnull(f);
	if (strcmp(path, "/containers/json") == 0) {
		fputc('[', f);
		for (i = 0; i < g_list_n; i++)
			fprintf(f, "%s{\"Id\":\"c%05d\"}", i ? "," : "", i);
		fputc(']', f);
	} else if (strcmp(path, "/networks") == 0) {
		fputs("[]", f);
	} else if (sscanf(path, "/containers/c%5d/json", &i) == 1) {
		snprintf(id, sizeof(id), "c%05d", i);
		fprintf(f,
			"{\"Id\":\"%s\",\"Name\":\"/%s\",\"State\":{\"Running\":%s,\"Pid\":%lld},"
			"\"NetworkSettings\":{\"Networks\":{",
			id, id, i <= 3 ? "true" : "false",
			i == 0	 ? (long long)g_list_child
			: i == 2 ? 99999999999LL
				 : 1LL);
		for (int k = 0; k < (i == 3 ? 65 : 1); k++)
			fprintf(f,
				"%s\"n%d\":{\"MacAddress\":\"02:00:5e:10:01:01\","
				"\"IPAddress\":\"192.0.2.20\"}",
				k ? "," : "", k);
		fputs("}}}", f);
	}
	fclose(f);
	resp = *body ? json_resp(body) : strdup("HTTP/1.1 404 Not Found\r\n\r\n");
	free(body);
	return resp;
}

static bool skipped_has(const struct docker_client *c, const char *id, const char *why)
{
	const struct docker_skip *sk;
	size_t n = docker_client_skipped(c, &sk);

	for (size_t i = 0; i < n; i++)
		if (strcmp(sk[i].id, id) == 0 && strstr(sk[i].reason, why))
			return true;
	return false;
}

START_TEST(fake_list_skips_bad)
{
	char ns[32], host[IFNAMSIZ], key[64];
	bool pid1_closed = open("/proc/1/ns/net", O_RDONLY | O_CLOEXEC) < 0;
	struct endpoint_set *s = set_new();
	struct docker_client *c;
	struct fake f;
	int ns_fd, st;

	snprintf(ns, sizeof(ns), "%.20ss", g_pfx);
	snprintf(host, sizeof(host), "%.11sk", g_pfx);
	snprintf(key, sizeof(key), "/run/netns/%s", ns);
	ck_assert_int_eq(sh("ip netns add %s && ip link add %s type veth peer name ceth0 netns %s "
			    "&& ip -n %s link set ceth0 address 02:00:5e:10:01:01 up",
			    ns, host, ns, ns),
			 0);
	ns_fd = open(key, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(ns_fd, 0);
	g_list_child = fork();
	ck_assert_int_ge(g_list_child, 0);
	if (g_list_child == 0) {
		if (setns(ns_fd, CLONE_NEWNET) < 0)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ns_fd);
	usleep(100000);

	fake_start_gen(&f, NULL, 0, list_gen);
	c = docker_client_new(f.path);
	for (int pass = 0; pass < 2; pass++) {
		/* A handful, then more than the old fixed cap of 4,096. */
		g_list_n = pass ? 5000 : 10;
		f.nrequests = 0;
		ck_assert_int_eq(docker_list_endpoints(c, s), 0);
		ck_assert_uint_eq(s->n, 1);
		ck_assert_str_eq(s->items[0].name, "c00000");
		ck_assert_str_eq(s->items[0].interface, host);
		ck_assert_int_eq(f.nrequests, g_list_n + 2);
		ck_assert(skipped_has(c, "c00002", "Pid 99999999999 is not a process"));
		ck_assert(skipped_has(c, "c00003", "65 networks, over the limit"));
		if (pid1_closed)
			ck_assert(skipped_has(c, "c00001", "host veth"));
		endpoint_set_free(s);
		s = set_new();
	}
	docker_client_free(c);
	endpoint_set_free(s);
	fake_stop(&f);
	kill(g_list_child, SIGKILL);
	waitpid(g_list_child, &st, 0);
	sh("ip netns del %s", ns);
}
END_TEST

/* ======================= docker: the real daemon ======================= */

START_TEST(docker_list)
{
	struct docker_client *c = docker_client_new(NULL);
	struct endpoint_set *s = set_new();
	char name[64];

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(docker_list_endpoints(c, s), 0);
	ck_assert_str_eq(docker_client_last_error(c), "");

	snprintf(name, sizeof(name), "%s-web", g_pfx);
	check_container(s, name, 1);
	ck_assert_str_eq(find_ep(s, name, NULL)->bridge, "docker0");
	ck_assert_str_eq(ep_label(find_ep(s, name, NULL), "app"), "web");
	snprintf(name, sizeof(name), "%s-db", g_pfx);
	check_container(s, name, 1);
	ck_assert_str_eq(ep_label(find_ep(s, name, NULL), "com.docker.compose.service"), "db");
	snprintf(name, sizeof(name), "%s-multi", g_pfx);
	check_container(s, name, 2);
	ck_assert_ptr_nonnull(find_ep(s, name, "docker0"));
	if (g_have_v6) {
		snprintf(name, sizeof(name), "%s-v6", g_pfx);
		check_container(s, name, 1);
		ck_assert_uint_eq(find_ep(s, name, NULL)->naddrs, 2);
	}
	snprintf(name, sizeof(name), "%s-none", g_pfx);
	ck_assert_uint_eq(count_named(s, name), 0);
	snprintf(name, sizeof(name), "%s-host", g_pfx);
	ck_assert_uint_eq(count_named(s, name), 0);
	snprintf(name, sizeof(name), "%s-stopped", g_pfx);
	ck_assert_uint_eq(count_named(s, name), 0);
	/* Sorted by name, then interface. */
	for (size_t i = 1; i < s->n; i++) {
		int r = strcmp(s->items[i - 1].name, s->items[i].name);

		ck_assert(r < 0 ||
			  (r == 0 && strcmp(s->items[i - 1].interface, s->items[i].interface) < 0));
	}
	docker_client_free(c);
	endpoint_set_free(s);
}
END_TEST

START_TEST(docker_list_appends)
{
	struct docker_client *c = docker_client_new(NULL);
	struct endpoint_set *s = set_new();
	size_t first;

	ck_assert_int_eq(docker_list_endpoints(c, s), 0);
	first = s->n;
	ck_assert_uint_ge(first, 4);
	ck_assert_int_eq(docker_list_endpoints(c, s), 0);
	ck_assert_uint_eq(s->n, 2 * first);
	docker_client_free(c);
	endpoint_set_free(s);
}
END_TEST

START_TEST(docker_inspect_one)
{
	struct docker_client *c = docker_client_new(NULL);
	struct endpoint_set *s = set_new();
	char name[64], *id;

	snprintf(name, sizeof(name), "%s-multi", g_pfx);
	ck_assert_int_eq(docker_inspect_endpoints(c, name, s), 0);
	ck_assert_uint_eq(s->n, 2);
	check_container(s, name, 2);
	/* By id, too. */
	id = sh_out("docker inspect -f '{{.Id}}' %s", name);
	ck_assert_ptr_nonnull(id);
	ck_assert_int_eq(docker_inspect_endpoints(c, id, s), 0);
	ck_assert_uint_eq(s->n, 4);
	free(id);

	snprintf(name, sizeof(name), "%s-stopped", g_pfx);
	ck_assert_int_eq(docker_inspect_endpoints(c, name, s), 0);
	snprintf(name, sizeof(name), "%s-none", g_pfx);
	ck_assert_int_eq(docker_inspect_endpoints(c, name, s), 0);
	snprintf(name, sizeof(name), "%s-host", g_pfx);
	ck_assert_int_eq(docker_inspect_endpoints(c, name, s), 0);
	ck_assert_uint_eq(s->n, 4);
	snprintf(name, sizeof(name), "%s-nonexistent", g_pfx);
	ck_assert_int_eq(docker_inspect_endpoints(c, name, s), -ENOENT);
	ck_assert_msg(strstr(docker_client_last_error(c), "404"), "%s",
		      docker_client_last_error(c));
	ck_assert_uint_eq(s->n, 4);
	docker_client_free(c);
	endpoint_set_free(s);
}
END_TEST

START_TEST(docker_events)
{
	struct docker_client *c = docker_client_new(NULL);
	char name[64], newname[64], *cid, *nid;
	struct endpoint_set *s = set_new();
	struct want w;
	int fd;

	snprintf(name, sizeof(name), "%s-ev", g_pfx);
	snprintf(newname, sizeof(newname), "%s-ev2", g_pfx);
	nid = sh_out("docker network inspect -f '{{.Id}}' %snet", g_pfx);
	ck_assert_ptr_nonnull(nid);
	ck_assert_int_eq(docker_events_open(c, &fd), 0);
	/* The stream is non-blocking: nothing to read yet is -EAGAIN, not a wait. */
	want_init(&w, DOCKER_EVENT_START, "", NULL, NULL);
	ck_assert_int_eq(docker_events_read(c, want_cb, &w), -EAGAIN);

	cid = sh_out("docker run -d --name %s --label app=ev %s sleep 3600", name, g_image);
	ck_assert_ptr_nonnull(cid);
	want_init(&w, DOCKER_EVENT_START, cid, NULL, name);
	ck_assert_int_eq(wait_for(c, fd, &w, 5000), 0);
	/* What the agent does on start. */
	ck_assert_int_eq(docker_inspect_endpoints(c, cid, s), 0);
	ck_assert_uint_eq(s->n, 1);
	ck_assert_str_eq(ep_label(&s->items[0], "app"), "ev");

	ck_assert_int_eq(sh("docker network connect %snet %s", g_pfx, name), 0);
	want_init(&w, DOCKER_EVENT_NETWORK_CONNECT, cid, nid, NULL);
	ck_assert_int_eq(wait_for(c, fd, &w, 5000), 0);
	ck_assert_int_eq(docker_inspect_endpoints(c, cid, s), 0);
	ck_assert_uint_eq(s->n, 3);

	ck_assert_int_eq(sh("docker network disconnect %snet %s", g_pfx, name), 0);
	want_init(&w, DOCKER_EVENT_NETWORK_DISCONNECT, cid, nid, NULL);
	ck_assert_int_eq(wait_for(c, fd, &w, 5000), 0);

	ck_assert_int_eq(sh("docker rename %s %s", name, newname), 0);
	want_init(&w, DOCKER_EVENT_RENAME, cid, NULL, newname);
	ck_assert_int_eq(wait_for(c, fd, &w, 5000), 0);

	ck_assert_int_eq(sh("docker kill %s >/dev/null", newname), 0);
	want_init(&w, DOCKER_EVENT_DIE, cid, NULL, NULL);
	ck_assert_int_eq(wait_for(c, fd, &w, 5000), 0);
	ck_assert_int_eq(docker_inspect_endpoints(c, cid, s), 0);
	ck_assert_uint_eq(s->n, 3);

	ck_assert_int_eq(sh("docker rm %s >/dev/null", newname), 0);
	want_init(&w, DOCKER_EVENT_DESTROY, cid, NULL, NULL);
	ck_assert_int_eq(wait_for(c, fd, &w, 5000), 0);
	ck_assert_int_eq(docker_inspect_endpoints(c, cid, s), -ENOENT);

	docker_events_close(c);
	free(cid);
	free(nid);
	docker_client_free(c);
	endpoint_set_free(s);
}
END_TEST

/* The private daemon: started and stopped by us alone, by PID. */
static int d2_start(void)
{
	/*
	 * Its own network namespace: a daemon with --bridge none deletes the host's docker0
	 * (removeDefaultBridgeInterface), and it must touch nothing of the shared daemon's.
	 */
	return sh("mkdir -p %s && (setsid unshare --net dockerd --host unix://%s/docker.sock "
		  "--data-root %s/data --exec-root %s/exec --pidfile %s/dockerd.pid "
		  "--bridge none --iptables=false --ip6tables=false --ip-forward=false "
		  "--ip-masq=false >>%s/log 2>&1 </dev/null & echo $! >%s/ppid) && "
		  "for i in $(seq 120); do docker -H unix://%s/docker.sock version >/dev/null 2>&1 "
		  "&& exit 0; sleep 0.5; done; exit 1",
		  g_d2, g_d2, g_d2, g_d2, g_d2, g_d2, g_d2, g_d2);
}

static void d2_stop(void)
{
	sh("p=$(cat %s/ppid 2>/dev/null) && [ -n \"$p\" ] && kill \"$p\" 2>/dev/null && "
	   "for i in $(seq 150); do kill -0 \"$p\" 2>/dev/null || exit 0; sleep 0.2; done; true",
	   g_d2);
}

START_TEST(docker_events_restart)
{
	char sock[256], name[64];
	struct docker_client *c;
	struct want w;
	char *cid;
	int fd, r;

	snprintf(sock, sizeof(sock), "%s/docker.sock", g_d2);
	snprintf(name, sizeof(name), "%s-d2", g_pfx);
	ck_assert_msg(d2_start() == 0, "private dockerd did not start (log: %s/log)", g_d2);
	c = docker_client_new(sock);
	ck_assert_int_eq(docker_events_open(c, &fd), 0);
	want_init(&w, DOCKER_EVENT_START, "", NULL, NULL);
	ck_assert_int_eq(docker_events_read(c, want_cb, &w), -EAGAIN);

	/* The daemon stops: the stream reports its end. */
	d2_stop();
	want_init(&w, DOCKER_EVENT_START, "never", NULL, NULL);
	r = wait_for(c, fd, &w, 20000);
	ck_assert_msg(r == -ECONNRESET, "stream end: %d (%s)", r, docker_client_last_error(c));
	docker_events_close(c);
	r = docker_events_open(c, &fd);
	ck_assert_msg(r == -ENOENT || r == -ECONNREFUSED, "open without daemon: %d", r);

	/* It comes back: the stream can be reopened and carries events again. */
	ck_assert_msg(d2_start() == 0, "private dockerd did not restart (log: %s/log)", g_d2);
	ck_assert_int_eq(docker_events_open(c, &fd), 0);
	ck_assert_int_eq(sh("docker save %s | docker -H unix://%s load >/dev/null", g_image, sock),
			 0);
	cid = sh_out("docker -H unix://%s run -d --network none --name %s %s sleep 3600", sock,
		     name, g_image);
	ck_assert_ptr_nonnull(cid);
	want_init(&w, DOCKER_EVENT_START, cid, NULL, name);
	ck_assert_int_eq(wait_for(c, fd, &w, 10000), 0);
	sh("docker -H unix://%s rm -f %s >/dev/null 2>&1", sock, name);
	free(cid);
	docker_client_free(c);
}
END_TEST

/* ======================= scene ======================= */

static void cleanup(void)
{
	static const char *const names[] = {"web",     "db", "multi", "none", "host",
					    "stopped", "ev", "ev2",   "v6"};

	if (getpid() != g_main_pid || !g_pfx[0])
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		sh("docker rm -f %s-%s >/dev/null 2>&1", g_pfx, names[i]);
	sh("docker network rm %snet %snet6 >/dev/null 2>&1", g_pfx, g_pfx);
	sh("ip netns del %sv 2>/dev/null; ip link del %sh 2>/dev/null", g_pfx, g_pfx);
	sh("ip netns del %ss 2>/dev/null; ip link del %sk 2>/dev/null", g_pfx, g_pfx);
	if (g_d2[0]) {
		sh("docker -H unix://%s/docker.sock rm -f %s-d2 >/dev/null 2>&1", g_d2, g_pfx);
		d2_stop();
	}
	if (g_tmp[0])
		sh("rm -rf %s", g_tmp);
	g_pfx[0] = '\0';
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int build_scene(void)
{
	const char *img = g_image;

	if (sh("docker network create %snet >/dev/null", g_pfx) ||
	    sh("docker run -d --name %s-web --label app=web %s sleep 3600 >/dev/null", g_pfx,
	       img) ||
	    sh("docker run -d --name %s-db --network %snet --label app=db "
	       "--label com.docker.compose.service=db --label tier=back %s sleep 3600 >/dev/null",
	       g_pfx, g_pfx, img) ||
	    sh("docker run -d --name %s-multi %s sleep 3600 >/dev/null", g_pfx, img) ||
	    sh("docker network connect %snet %s-multi", g_pfx, g_pfx) ||
	    sh("docker run -d --name %s-none --network none %s sleep 3600 >/dev/null", g_pfx,
	       img) ||
	    sh("docker run -d --name %s-host --network host %s sleep 3600 >/dev/null", g_pfx,
	       img) ||
	    sh("docker create --name %s-stopped %s sleep 3600 >/dev/null", g_pfx, img))
		return -1;
	g_have_v6 = sh("docker network create --ipv6 --subnet fd42:%x::/64 %snet6 >/dev/null "
		       "2>&1",
		       (unsigned)g_main_pid & 0xffff, g_pfx) == 0 &&
		    sh("docker run -d --name %s-v6 --network %snet6 %s sleep 3600 >/dev/null",
		       g_pfx, g_pfx, img) == 0;
	if (!g_have_v6)
		fprintf(stderr, "test_docker: no IPv6 network here; IPv6 checks skipped\n");
	return 0;
}

static Suite *docker_suite(bool with_docker)
{
	Suite *s = suite_create("docker");
	TCase *tc = tcase_create("http");

	tcase_add_test(tc, http_content_length);
	tcase_add_test(tc, http_chunked);
	tcase_add_test(tc, http_consume_and_stream);
	tcase_add_test(tc, http_eof_framing);
	tcase_add_test(tc, http_malformed);
	tcase_add_test(tc, http_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("fake");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, fake_error_status);
	tcase_add_test(tc, fake_odd_json);
	tcase_add_test(tc, fake_bad_bodies);
	tcase_add_test(tc, fake_timeout_and_refused);
	tcase_add_test(tc, fake_events_stream);
	tcase_add_test(tc, fake_events_errors);
	tcase_add_test(tc, fake_events_oversized);
	suite_add_tcase(s, tc);

	tc = tcase_create("veth");
	tcase_add_test(tc, veth_lookup);
	tcase_add_test(tc, fake_list_skips_bad);
	suite_add_tcase(s, tc);

	if (with_docker) {
		tc = tcase_create("docker");
		tcase_set_timeout(tc, 180);
		tcase_add_test(tc, docker_list);
		tcase_add_test(tc, docker_list_appends);
		tcase_add_test(tc, docker_inspect_one);
		tcase_add_test(tc, docker_events);
		tcase_add_test(tc, docker_events_restart);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	const char *why = NULL;
	int st, r;

	if (geteuid() != 0) {
		printf("test_docker: skip: needs root (setns, Docker)\n");
		return 77;
	}
	g_main_pid = getpid();
	snprintf(g_pfx, sizeof(g_pfx), "nsdk%d", (int)g_main_pid);
	snprintf(g_tmp, sizeof(g_tmp), "/tmp/%s", g_pfx);
	snprintf(g_d2, sizeof(g_d2), "%s/d2", g_tmp);
	if (mkdir(g_tmp, 0700) < 0 && errno != EEXIST) {
		printf("test_docker: cannot create %s: %s\n", g_tmp, strerror(errno));
		return EXIT_FAILURE;
	}
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	st = sh("%s", tu_src_path("tests/docker/dockerd.sh"));
	if (st == 77)
		why = "Docker is not available (see tests/docker/dockerd.sh output)";
	else if (st != 0)
		why = "tests/docker/dockerd.sh failed";
	else if (build_scene() < 0)
		why = "could not create the test containers";
	g_have_docker = why == NULL;

	r = tu_run(docker_suite(g_have_docker));
	if (r == 0 && !g_have_docker) {
		printf("test_docker: skip: %s (the offline cases passed)\n", why);
		return st == 77 ? 77 : EXIT_FAILURE;
	}
	return r;
}
