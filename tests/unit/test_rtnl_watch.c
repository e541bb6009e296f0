/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rtnl_watch against the kernel. The whole suite runs in a private network namespace and every
 * test unshares a fresh one of its own (check forks per test): the initial dump, link and
 * bridge-port events, renames, moves to another namespace, IPv4/IPv6 address events, the
 * enslave-to-callback latency (printed, not asserted) and overflow recovery (ENOBUFS -> RESYNC).
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rtnl_watch.h"
#include "testutil.h"

#define WAIT_MS 3000

struct ev {
	enum rtnl_watch_event ev;
	bool is_addr;
	struct rtnl_link_info link;
	int ifindex, family, prefixlen;
	uint8_t addr[16];
	struct timespec t;
};

struct rec {
	struct ev *v;
	size_t n, cap;
	int resyncs;
	size_t last_resync; /* index of the first event after the last RESYNC */
};

static void rec_push(struct rec *r, const struct ev *e)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->v = realloc(r->v, r->cap * sizeof(*r->v));
		ck_assert_ptr_nonnull(r->v);
	}
	r->v[r->n] = *e;
	clock_gettime(CLOCK_MONOTONIC, &r->v[r->n].t);
	r->n++;
}

static void on_link(enum rtnl_watch_event ev, const struct rtnl_link_info *l, void *ud)
{
	struct ev e = {.ev = ev, .link = *l};

	/* The strings must always be terminated, whatever the kernel sent. */
	ck_assert_uint_lt(strnlen(l->name, sizeof(l->name)), sizeof(l->name));
	ck_assert_uint_lt(strnlen(l->master, sizeof(l->master)), sizeof(l->master));
	rec_push(ud, &e);
}

static void on_addr(enum rtnl_watch_event ev, int ifindex, int family, const uint8_t *addr,
		    int prefixlen, void *ud)
{
	struct ev e = {.ev = ev,
		       .is_addr = true,
		       .ifindex = ifindex,
		       .family = family,
		       .prefixlen = prefixlen};

	ck_assert(family == AF_INET || family == AF_INET6);
	memcpy(e.addr, addr, family == AF_INET ? 4 : 16);
	rec_push(ud, &e);
}

static void on_resync(void *ud)
{
	struct rec *r = ud;

	r->resyncs++;
	r->last_resync = r->n;
}

static struct rtnl_watch *watch_open(struct rec *r)
{
	struct rtnl_watch_cb cb = {.link = on_link, .addr = on_addr, .resync = on_resync, .ud = r};
	struct rtnl_watch *w = NULL;

	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(rtnl_watch_open(&cb, &w), 0);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_ge(rtnl_watch_fd(w), 0);
	return w;
}

static void fresh_netns(void)
{
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare: %s", strerror(errno));
}

static void sh(const char *cmd)
{
	int st = system(cmd);

	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "failed: %s", cmd);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Polls and reads for up to MS milliseconds, or until nothing arrives for QUIET_MS if >0. */
static void pump(struct rtnl_watch *w, struct rec *r, int ms, int quiet_ms)
{
	struct timespec t0, tq;
	size_t seen = r->n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	tq = t0;
	while (ms_since(&t0) < ms) {
		struct pollfd p = {.fd = rtnl_watch_fd(w), .events = POLLIN};
		int n = poll(&p, 1, 20);

		ck_assert_int_ge(n, 0);
		if (n > 0)
			ck_assert_int_eq(rtnl_watch_read(w), 0);
		if (r->n != seen) {
			seen = r->n;
			clock_gettime(CLOCK_MONOTONIC, &tq);
		} else if (quiet_ms > 0 && ms_since(&tq) >= quiet_ms) {
			return;
		}
	}
}

struct want_link {
	enum rtnl_watch_event ev;
	const char *name;
	const char *master; /* NULL: any */
	int up;		    /* -1: any */
};

static bool match_link(const struct ev *e, const struct want_link *wl)
{
	return !e->is_addr && e->ev == wl->ev && strcmp(e->link.name, wl->name) == 0 &&
	       (!wl->master || strcmp(e->link.master, wl->master) == 0) &&
	       (wl->up < 0 || e->link.up == (bool)wl->up);
}

static ssize_t find_link(const struct rec *r, size_t from, const struct want_link *wl)
{
	for (size_t i = from; i < r->n; i++)
		if (match_link(&r->v[i], wl))
			return (ssize_t)i;
	return -1;
}

/* Reads until a link event matching WL at index >= FROM arrives; its index. */
static size_t wait_link(struct rtnl_watch *w, struct rec *r, size_t from, struct want_link wl)
{
	struct timespec t0;
	ssize_t i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((i = find_link(r, from, &wl)) < 0) {
		struct pollfd p = {.fd = rtnl_watch_fd(w), .events = POLLIN};
		int n;

		ck_assert_msg(ms_since(&t0) < WAIT_MS, "no %s event for %s (master %s)",
			      wl.ev == RTNL_WATCH_LINK_NEW ? "LINK_NEW" : "LINK_DEL", wl.name,
			      wl.master ? wl.master : "*");
		n = poll(&p, 1, 50);
		ck_assert_int_ge(n, 0);
		if (n > 0)
			ck_assert_int_eq(rtnl_watch_read(w), 0);
	}
	return (size_t)i;
}

static ssize_t find_addr(const struct rec *r, size_t from, enum rtnl_watch_event ev, int ifindex,
			 const char *text, int prefixlen)
{
	int family = strchr(text, ':') ? AF_INET6 : AF_INET;
	uint8_t a[16] = {0};

	ck_assert_int_eq(inet_pton(family, text, a), 1);
	for (size_t i = from; i < r->n; i++) {
		const struct ev *e = &r->v[i];

		if (e->is_addr && e->ev == ev && e->family == family && e->ifindex == ifindex &&
		    e->prefixlen == prefixlen &&
		    memcmp(e->addr, a, family == AF_INET ? 4 : 16) == 0)
			return (ssize_t)i;
	}
	return -1;
}

static size_t wait_addr(struct rtnl_watch *w, struct rec *r, size_t from, enum rtnl_watch_event ev,
			int ifindex, const char *text, int prefixlen)
{
	struct timespec t0;
	ssize_t i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((i = find_addr(r, from, ev, ifindex, text, prefixlen)) < 0) {
		struct pollfd p = {.fd = rtnl_watch_fd(w), .events = POLLIN};
		int n;

		ck_assert_msg(ms_since(&t0) < WAIT_MS, "no %s event for %s/%d on %d",
			      ev == RTNL_WATCH_ADDR_NEW ? "ADDR_NEW" : "ADDR_DEL", text, prefixlen,
			      ifindex);
		n = poll(&p, 1, 50);
		ck_assert_int_ge(n, 0);
		if (n > 0)
			ck_assert_int_eq(rtnl_watch_read(w), 0);
	}
	return (size_t)i;
}

static int ifindex_of(struct rtnl_watch *w, const char *name)
{
	struct rtnl_link_info li;

	ck_assert_msg(rtnl_watch_find(w, name, &li) == 0, "%s not in the cache", name);
	return li.ifindex;
}

static bool have_dummy(void)
{
	bool ok = system("ip link add nsdummy_probe type dummy 2>/dev/null") == 0;

	if (ok)
		sh("ip link del nsdummy_probe");
	return ok;
}

START_TEST(test_initial_dump)
{
	struct rtnl_link_info li;
	struct rtnl_watch *w;
	struct rec r;
	ssize_t iv, ib, ia4, ia6;

	fresh_netns();
	/* Port created before its bridge: the port's ifindex is lower, so the kernel dumps it
	 * first and its master must be resolved after the fact. */
	sh("ip link add v0a type veth peer name v0b && ip link add br0 type bridge && "
	   "ip link set v0a master br0 && ip link set br0 up && "
	   "ip addr add 10.0.0.1/24 dev br0 && ip addr add 2001:db8::1/64 dev br0 nodad");
	w = watch_open(&r);

	iv = find_link(&r, 0,
		       &(struct want_link){RTNL_WATCH_LINK_NEW, "v0a", .master = "br0", .up = 0});
	ck_assert_int_ge(iv, 0);
	ck_assert(r.v[iv].link.master_is_bridge);
	ck_assert(!r.v[iv].link.is_bridge);
	ck_assert_int_gt(r.v[iv].link.master_ifindex, r.v[iv].link.ifindex);
	ib = find_link(&r, 0,
		       &(struct want_link){RTNL_WATCH_LINK_NEW, "br0", .master = "", .up = 1});
	ck_assert_int_ge(ib, 0);
	ck_assert(r.v[ib].link.is_bridge);
	ck_assert_int_eq(r.v[ib].link.master_ifindex, 0);
	ck_assert_int_eq(r.v[iv].link.master_ifindex, r.v[ib].link.ifindex);
	ck_assert_int_ge(
	    find_link(&r, 0,
		      &(struct want_link){RTNL_WATCH_LINK_NEW, "v0b", .master = "", .up = -1}),
	    0);
	ck_assert_int_ge(
	    find_link(&r, 0,
		      &(struct want_link){RTNL_WATCH_LINK_NEW, "lo", .master = "", .up = -1}),
	    0);

	ia4 = find_addr(&r, 0, RTNL_WATCH_ADDR_NEW, r.v[ib].link.ifindex, "10.0.0.1", 24);
	ia6 = find_addr(&r, 0, RTNL_WATCH_ADDR_NEW, r.v[ib].link.ifindex, "2001:db8::1", 64);
	ck_assert_int_ge(ia4, 0);
	ck_assert_int_ge(ia6, 0);
	/* Links first, then addresses: an address's ifindex is always already known. */
	for (size_t i = 0; i < r.n; i++)
		if (r.v[i].is_addr)
			for (size_t j = i; j < r.n; j++)
				ck_assert(r.v[j].is_addr);
	ck_assert_int_eq(r.resyncs, 0);

	ck_assert_int_eq(rtnl_watch_find(w, "v0a", &li), 0);
	ck_assert_str_eq(li.master, "br0");
	ck_assert(li.master_is_bridge);
	ck_assert_int_eq(rtnl_watch_find_ifindex(w, li.master_ifindex, &li), 0);
	ck_assert_str_eq(li.name, "br0");
	ck_assert(li.is_bridge && li.up);
	rtnl_watch_free(w);
	free(r.v);
}
END_TEST

START_TEST(test_link_events)
{
	struct rtnl_link_info li;
	struct rtnl_watch *w;
	struct rec r;
	size_t i, mark;
	int br;

	fresh_netns();
	w = watch_open(&r);

	sh("ip link add br0 type bridge");
	i = wait_link(w, &r, 0, (struct want_link){RTNL_WATCH_LINK_NEW, "br0", "", 0});
	ck_assert(r.v[i].link.is_bridge);
	br = r.v[i].link.ifindex;

	sh("ip link add va type veth peer name vb");
	i = wait_link(w, &r, i, (struct want_link){RTNL_WATCH_LINK_NEW, "va", "", 0});
	ck_assert(!r.v[i].link.is_bridge && !r.v[i].link.master_is_bridge);
	wait_link(w, &r, 0, (struct want_link){RTNL_WATCH_LINK_NEW, "vb", "", 0});

	mark = r.n;
	sh("ip link set va master br0");
	i = wait_link(w, &r, mark, (struct want_link){RTNL_WATCH_LINK_NEW, "va", "br0", -1});
	ck_assert(r.v[i].link.master_is_bridge);
	ck_assert_int_eq(r.v[i].link.master_ifindex, br);
	ck_assert_int_eq(rtnl_watch_find(w, "va", &li), 0);
	ck_assert_str_eq(li.master, "br0");

	mark = r.n;
	sh("ip link set br0 up && ip link set va up");
	wait_link(w, &r, mark, (struct want_link){RTNL_WATCH_LINK_NEW, "br0", "", 1});
	wait_link(w, &r, mark, (struct want_link){RTNL_WATCH_LINK_NEW, "va", "br0", 1});

	/* The peer coming up changes va's carrier only: nothing the consumer sees, no event. */
	pump(w, &r, 300, 100);
	mark = r.n;
	sh("ip link set vb up");
	wait_link(w, &r, mark, (struct want_link){RTNL_WATCH_LINK_NEW, "vb", "", 1});
	pump(w, &r, 300, 100);
	ck_assert_int_lt(
	    find_link(&r, mark, &(struct want_link){RTNL_WATCH_LINK_NEW, "va", NULL, -1}), 0);

	/* Leaving a bridge: the kernel also sends an AF_BRIDGE RTM_DELLINK for the port, which
	 * must not be taken for a deletion. */
	mark = r.n;
	sh("ip link set va nomaster");
	i = wait_link(w, &r, mark, (struct want_link){RTNL_WATCH_LINK_NEW, "va", "", -1});
	ck_assert_int_eq(r.v[i].link.master_ifindex, 0);
	ck_assert(!r.v[i].link.master_is_bridge);
	pump(w, &r, 300, 100);
	ck_assert_int_lt(
	    find_link(&r, mark, &(struct want_link){RTNL_WATCH_LINK_DEL, "va", NULL, -1}), 0);
	ck_assert_int_eq(rtnl_watch_find(w, "va", &li), 0);

	/* A master renamed: its ports are re-reported with the new master name. */
	sh("ip link set va master br0");
	wait_link(w, &r, mark, (struct want_link){RTNL_WATCH_LINK_NEW, "va", "br0", -1});
	mark = r.n;
	sh("ip link set br0 down && ip link set br0 name br1");
	i = wait_link(w, &r, mark, (struct want_link){RTNL_WATCH_LINK_DEL, "br0", NULL, -1});
	ck_assert_int_eq(r.v[i].link.ifindex, br);
	i = wait_link(w, &r, mark, (struct want_link){RTNL_WATCH_LINK_NEW, "br1", "", 0});
	ck_assert(r.v[i].link.is_bridge);
	i = wait_link(w, &r, mark, (struct want_link){RTNL_WATCH_LINK_NEW, "va", "br1", -1});
	ck_assert(r.v[i].link.master_is_bridge);
	ck_assert_int_eq(rtnl_watch_find(w, "br0", &li), -ENOENT);

	/* Deletion carries the name; deleting one end of a veth deletes both. */
	mark = r.n;
	sh("ip link del va");
	i = wait_link(w, &r, mark, (struct want_link){RTNL_WATCH_LINK_DEL, "va", NULL, -1});
	wait_link(w, &r, mark, (struct want_link){RTNL_WATCH_LINK_DEL, "vb", NULL, -1});
	ck_assert_int_eq(rtnl_watch_find(w, "va", &li), -ENOENT);
	ck_assert_int_eq(rtnl_watch_find(w, "vb", &li), -ENOENT);

	mark = r.n;
	sh("ip link del br1");
	wait_link(w, &r, mark, (struct want_link){RTNL_WATCH_LINK_DEL, "br1", NULL, -1});
	ck_assert_int_eq(rtnl_watch_find_ifindex(w, br, &li), -ENOENT);
	ck_assert_int_eq(r.resyncs, 0);
	rtnl_watch_free(w);
	free(r.v);
}
END_TEST

/* A container's end of a veth leaves for its namespace: a deletion from our point of view. */
START_TEST(test_move_to_other_netns)
{
	struct rtnl_link_info li;
	struct rtnl_watch *w;
	struct rec r;
	char cmd[128];
	size_t mark;
	int pfd[2], st;
	pid_t pid;
	char c;

	fresh_netns();
	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pfd[0]);
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		if (write(pfd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	ck_assert_int_eq(read(pfd[0], &c, 1), 1);
	close(pfd[0]);

	sh("ip link add br0 type bridge && ip link add host0 type veth peer name ctr0 && "
	   "ip link set host0 master br0");
	w = watch_open(&r);
	ck_assert_int_eq(rtnl_watch_find(w, "ctr0", &li), 0);
	mark = r.n;
	snprintf(cmd, sizeof(cmd), "ip link set ctr0 netns %d", (int)pid);
	sh(cmd);
	wait_link(w, &r, mark, (struct want_link){RTNL_WATCH_LINK_DEL, "ctr0", NULL, -1});
	ck_assert_int_eq(rtnl_watch_find(w, "ctr0", &li), -ENOENT);
	ck_assert_int_eq(rtnl_watch_find(w, "host0", &li), 0);
	ck_assert_str_eq(li.master, "br0");

	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	rtnl_watch_free(w);
	free(r.v);
}
END_TEST

START_TEST(test_addr_events)
{
	struct rtnl_watch *w;
	struct rec r;
	size_t mark;
	int ifx;

	fresh_netns();
	sh("ip link add a0 type veth peer name a1 && ip link set a0 up && ip link set a1 up");
	w = watch_open(&r);
	ifx = ifindex_of(w, "a0");

	mark = r.n;
	sh("ip addr add 192.0.2.10/24 dev a0");
	wait_addr(w, &r, mark, RTNL_WATCH_ADDR_NEW, ifx, "192.0.2.10", 24);
	sh("ip addr add 198.51.100.7/32 dev a0");
	wait_addr(w, &r, mark, RTNL_WATCH_ADDR_NEW, ifx, "198.51.100.7", 32);
	sh("ip addr add 2001:db8:1::10/64 dev a0 nodad");
	wait_addr(w, &r, mark, RTNL_WATCH_ADDR_NEW, ifx, "2001:db8:1::10", 64);

	/* Point-to-point: IFA_ADDRESS is the peer, the local address is IFA_LOCAL. */
	sh("ip addr add 10.9.9.1 peer 10.9.9.2/32 dev a0");
	wait_addr(w, &r, mark, RTNL_WATCH_ADDR_NEW, ifx, "10.9.9.1", 32);
	ck_assert_int_lt(find_addr(&r, mark, RTNL_WATCH_ADDR_NEW, ifx, "10.9.9.2", 32), 0);

	mark = r.n;
	sh("ip addr del 192.0.2.10/24 dev a0");
	wait_addr(w, &r, mark, RTNL_WATCH_ADDR_DEL, ifx, "192.0.2.10", 24);
	sh("ip addr del 2001:db8:1::10/64 dev a0");
	wait_addr(w, &r, mark, RTNL_WATCH_ADDR_DEL, ifx, "2001:db8:1::10", 64);
	/* Addresses go with their link. */
	sh("ip link del a0");
	wait_addr(w, &r, mark, RTNL_WATCH_ADDR_DEL, ifx, "198.51.100.7", 32);
	wait_link(w, &r, mark, (struct want_link){RTNL_WATCH_LINK_DEL, "a0", NULL, -1});
	rtnl_watch_free(w);
	free(r.v);
}
END_TEST

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Median time from `ip link set vX master br0` returning to the callback (reported only). */
START_TEST(test_latency)
{
	enum { N = 40 };
	long after[N], total[N];
	struct rtnl_watch *w;
	struct rec r;
	char cmd[128], name[IFNAMSIZ];

	fresh_netns();
	sh("ip link add br0 type bridge && ip link set br0 up");
	for (int i = 0; i < N; i++) {
		snprintf(cmd, sizeof(cmd), "ip link add l%d type veth peer name lp%d", i, i);
		sh(cmd);
	}
	w = watch_open(&r);
	for (int i = 0; i < N; i++) {
		struct timespec t0, t1;
		size_t mark = r.n, k;
		const struct timespec *tc;

		snprintf(name, sizeof(name), "l%d", i);
		snprintf(cmd, sizeof(cmd), "ip link set %s master br0", name);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		sh(cmd);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		k = wait_link(w, &r, mark,
			      (struct want_link){RTNL_WATCH_LINK_NEW, name, "br0", -1});
		tc = &r.v[k].t;
		after[i] = (tc->tv_sec - t1.tv_sec) * 1000000000L + (tc->tv_nsec - t1.tv_nsec);
		total[i] = (tc->tv_sec - t0.tv_sec) * 1000000000L + (tc->tv_nsec - t0.tv_nsec);
	}
	qsort(after, N, sizeof(long), cmp_long);
	qsort(total, N, sizeof(long), cmp_long);
	/* Negative: the event was read while ip was still exiting. */
	printf("rtnl_watch latency over %d enslavements: ip returned -> callback median %.1f us "
	       "(min %.1f, max %.1f); ip started -> callback median %.1f us\n",
	       N, after[N / 2] / 1000.0, after[0] / 1000.0, after[N - 1] / 1000.0,
	       total[N / 2] / 1000.0);
	rtnl_watch_free(w);
	free(r.v);
}
END_TEST

/*
 * Overflow: a receive buffer at the kernel's minimum and 600 new links (plus 4 deletions)
 * without reading. The watch must report RESYNC, then the complete state, including the
 * deletions it never saw as events.
 */
START_TEST(test_resync_on_overflow)
{
	enum { PAIRS = 300, GONE = 4 };
	struct rtnl_link_info li;
	struct rtnl_watch *w;
	struct rec r;
	char path[] = "/tmp/rtnl_watch_batch.XXXXXX", cmd[128], name[IFNAMSIZ];
	int tiny = 1, fd, i;
	bool dummy;
	FILE *f;

	fresh_netns();
	dummy = have_dummy();
	sh("ip link add gone0 type veth peer name gonep0 && ip link add gone1 type veth peer name "
	   "gonep1");
	w = watch_open(&r);
	ck_assert_int_eq(rtnl_watch_find(w, "gone0", &li), 0);
	ck_assert_int_eq(setsockopt(rtnl_watch_fd(w), SOL_SOCKET, SO_RCVBUF, &tiny, sizeof(tiny)),
			 0);

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	for (i = 0; i < PAIRS; i++) {
		if (dummy)
			fprintf(f, "link add o%d type dummy\nlink add p%d type dummy\n", i, i);
		else
			fprintf(f, "link add o%d type veth peer name p%d\n", i, i);
	}
	fprintf(f, "link del gone0\nlink del gone1\naddress add 10.1.0.1/24 dev o0\n"
		   "address add 2001:db8:2::1/64 dev p0 nodad\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd), "ip -batch %s", path);
	sh(cmd);
	unlink(path);

	pump(w, &r, 20000, 500);
	printf("rtnl_watch overflow: %s links, %d resync(s), %zu callbacks\n",
	       dummy ? "dummy" : "veth", r.resyncs, r.n);
	ck_assert_int_ge(r.resyncs, 1);
	/* The replay after the last RESYNC plus the events since are the complete state. */
	for (i = 0; i < PAIRS; i++) {
		snprintf(name, sizeof(name), "o%d", i);
		ck_assert_msg(rtnl_watch_find(w, name, &li) == 0, "%s missing", name);
		ck_assert_msg(find_link(&r, r.last_resync,
					&(struct want_link){RTNL_WATCH_LINK_NEW, name, NULL, -1}) >=
				  0,
			      "%s not replayed", name);
		snprintf(name, sizeof(name), "p%d", i);
		ck_assert_msg(rtnl_watch_find(w, name, &li) == 0, "%s missing", name);
	}
	for (i = 0; i < GONE; i++) {
		static const char *const gone[GONE] = {"gone0", "gonep0", "gone1", "gonep1"};

		ck_assert_int_eq(rtnl_watch_find(w, gone[i], &li), -ENOENT);
		ck_assert_msg(
		    find_link(&r, 0, &(struct want_link){RTNL_WATCH_LINK_DEL, gone[i], NULL, -1}) >=
			0,
		    "no LINK_DEL for %s", gone[i]);
	}
	ck_assert_int_ge(
	    find_link(&r, r.last_resync, &(struct want_link){RTNL_WATCH_LINK_NEW, "lo", "", -1}),
	    0);
	ck_assert_int_ge(
	    find_addr(&r, r.last_resync, RTNL_WATCH_ADDR_NEW, ifindex_of(w, "o0"), "10.1.0.1", 24),
	    0);
	ck_assert_int_ge(find_addr(&r, r.last_resync, RTNL_WATCH_ADDR_NEW, ifindex_of(w, "p0"),
				   "2001:db8:2::1", 64),
			 0);

	/* And the watch keeps working afterwards. */
	tiny = 1 << 20;
	ck_assert_int_eq(setsockopt(rtnl_watch_fd(w), SOL_SOCKET, SO_RCVBUF, &tiny, sizeof(tiny)),
			 0);
	pump(w, &r, 2000, 200);
	i = (int)r.n;
	sh("ip link set o7 up");
	wait_link(w, &r, (size_t)i, (struct want_link){RTNL_WATCH_LINK_NEW, "o7", "", 1});
	rtnl_watch_free(w);
	free(r.v);
}
END_TEST

/*
 * The events still queued when the overflow is noticed are older than the lost ones: replayed
 * after the fresh dump they would undo what the lost events did. Here the queue holds "s0 joined
 * br0"; "s0 left br0" is lost in the overflow. The final state must be the kernel's: no master.
 */
START_TEST(test_resync_discards_stale_queue)
{
	struct rtnl_link_info li;
	struct rtnl_watch *w;
	struct rec r;
	char path[] = "/tmp/rtnl_watch_batch.XXXXXX", cmd[128];
	int tiny = 1, fd;
	FILE *f;

	fresh_netns();
	sh("ip link add br0 type bridge && ip link add s0 type veth peer name s1");
	w = watch_open(&r);
	pump(w, &r, 300, 100);
	ck_assert_int_eq(setsockopt(rtnl_watch_fd(w), SOL_SOCKET, SO_RCVBUF, &tiny, sizeof(tiny)),
			 0);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "link set s0 master br0\n");
	for (int i = 0; i < 50; i++)
		fprintf(f, "link add q%d type veth peer name qp%d\n", i, i);
	fprintf(f, "link set s0 nomaster\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd), "ip -batch %s", path);
	sh(cmd);
	unlink(path);

	pump(w, &r, 10000, 500);
	ck_assert_int_ge(r.resyncs, 1);
	ck_assert_int_eq(rtnl_watch_find(w, "s0", &li), 0);
	ck_assert_int_eq(li.master_ifindex, 0);
	ck_assert_str_eq(li.master, "");
	ck_assert_int_eq(rtnl_watch_find(w, "qp49", &li), 0);
	rtnl_watch_free(w);
	free(r.v);
}
END_TEST

/*
 * rtnl_watch_parse(), the fuzzer's entry point, on the datagrams the kernel multicast for a
 * bridge, a port joining and leaving it, a rename and addresses, reports exactly what the
 * socket watch reported for them.
 */
START_TEST(test_parse_matches_read)
{
	struct rec r1, r2 = {0};
	struct rtnl_watch_cb cb = {.link = on_link, .addr = on_addr, .ud = &r2};
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
				 .nl_groups =
				     RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR};
	static uint8_t buf[65536] __attribute__((aligned(4)));
	struct rtnl_watch *w1, *w2 = NULL;
	int fd;
	ssize_t n;

	fresh_netns();
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	w1 = watch_open(&r1);
	r1.n = 0; /* the initial dump: the detached watch has none */
	sh("ip link add pb0 type bridge && ip link set pb0 up && "
	   "ip link add pv0 type veth peer name pv1 && ip link set pv0 master pb0 up && "
	   "ip addr add 10.98.0.1/24 dev pb0 && ip -6 addr add fd00:98::1/64 dev pb0 nodad && "
	   "ip link set pv0 nomaster && ip link set pv1 name pv2 && ip link del pv0 && "
	   "ip addr del 10.98.0.1/24 dev pb0");
	pump(w1, &r1, WAIT_MS, 300);
	ck_assert_uint_gt(r1.n, 5);
	ck_assert_int_eq(rtnl_watch_new_detached(&cb, &w2), 0);
	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		ck_assert_int_eq(rtnl_watch_parse(w2, buf, (size_t)n), 0);
	ck_assert_uint_eq(r2.n, r1.n);
	for (size_t i = 0; i < r1.n; i++) {
		const struct ev *a = &r1.v[i], *b = &r2.v[i];

		ck_assert_int_eq(a->ev, b->ev);
		ck_assert_int_eq(a->is_addr, b->is_addr);
		ck_assert_int_eq(a->link.ifindex, b->link.ifindex);
		ck_assert_str_eq(a->link.name, b->link.name);
		ck_assert_str_eq(a->link.master, b->link.master);
		ck_assert_int_eq(a->link.is_bridge, b->link.is_bridge);
		ck_assert_int_eq(a->link.up, b->link.up);
		ck_assert_int_eq(a->ifindex, b->ifindex);
		ck_assert_int_eq(a->prefixlen, b->prefixlen);
		ck_assert_mem_eq(a->addr, b->addr, 16);
	}
	close(fd);
	rtnl_watch_free(w1);
	rtnl_watch_free(w2);
	free(r1.v);
	free(r2.v);
}
END_TEST

START_TEST(test_api_edges)
{
	struct rtnl_link_info li;
	struct rtnl_watch *w = NULL;

	fresh_netns();
	rtnl_watch_free(NULL);
	ck_assert_int_eq(rtnl_watch_open(NULL, NULL), -EINVAL);
	/* No callbacks at all is valid: a cache-only watch. */
	ck_assert_int_eq(rtnl_watch_open(NULL, &w), 0);
	ck_assert_int_eq(rtnl_watch_find(w, "lo", &li), 0);
	ck_assert_int_eq(li.ifindex, 1);
	ck_assert_int_eq(rtnl_watch_find(w, "nope", &li), -ENOENT);
	ck_assert_int_eq(rtnl_watch_find(w, "", &li), -EINVAL);
	ck_assert_int_eq(rtnl_watch_find(w, "0123456789abcdef", &li), -EINVAL);
	ck_assert_int_eq(rtnl_watch_find(w, NULL, &li), -EINVAL);
	ck_assert_int_eq(rtnl_watch_find_ifindex(w, 0, &li), -EINVAL);
	ck_assert_int_eq(rtnl_watch_find_ifindex(w, 12345, &li), -ENOENT);
	ck_assert_int_eq(rtnl_watch_read(NULL), -EINVAL);
	ck_assert_int_eq(rtnl_watch_fd(NULL), -EINVAL);
	/* Nothing pending: returns at once. */
	ck_assert_int_eq(rtnl_watch_read(w), 0);
	sh("ip link add e0 type veth peer name e1");
	usleep(50000);
	ck_assert_int_eq(rtnl_watch_read(w), 0);
	ck_assert_int_eq(rtnl_watch_find(w, "e1", &li), 0);
	rtnl_watch_free(w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rtnl_watch");
	TCase *tc = tcase_create("rtnl_watch");

	/* check ends a failing test with _exit: unflushed diagnostics would be lost. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("rtnl_watch: skipped: needs root to create network namespaces\n");
		return 77;
	}
	/* Never touch the host's interfaces, even if a test forgot its own namespace. */
	if (unshare(CLONE_NEWNET) < 0) {
		printf("rtnl_watch: skipped: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 77;
	}
	if (system("ip -V >/dev/null 2>&1") != 0) {
		printf("rtnl_watch: skipped: ip(8) not found\n");
		return 77;
	}
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_initial_dump);
	tcase_add_test(tc, test_link_events);
	tcase_add_test(tc, test_move_to_other_netns);
	tcase_add_test(tc, test_addr_events);
	tcase_add_test(tc, test_latency);
	tcase_add_test(tc, test_resync_on_overflow);
	tcase_add_test(tc, test_resync_discards_stale_queue);
	tcase_add_test(tc, test_api_edges);
	tcase_add_test(tc, test_parse_matches_read);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
