/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nflog against the kernel, with netseg's own compiled ruleset and real packets.
 *
 *     container A (netns, child)          container B (netns, child)
 *     eth0 10.77.0.2                      eth0 10.77.0.3
 *        |                                   |
 *       vA ------------- br-t ------------- vB        test netns H: br-t 10.77.0.1/24,
 *                    (10.77.0.1)                      the ruleset, the NFLOG socket
 *
 * A sends one denied SYN, one allowed connection and one broadcast (a flood line of the bridge
 * table); each must give exactly one record with the right prefix, addresses, ports and
 * interfaces. Then A floods 100,000 denied datagrams: the records stay within the limit, and
 * records + s_<counter> = r_<counter> = datagrams sent, exactly. A loopback test covers IPv6
 * (through an extension header) and ICMP. IPv6 is off in the topology so that no neighbour
 * discovery or MLD adds records of its own.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "compile.h"
#include "endpoints.h"
#include "ir.h"
#include "nflog.h"
#include "nft_batch.h"
#include "nft_counters.h"
#include "node.h"
#include "parse.h"
#include "policy.h"
#include "testutil.h"

#include "nft_testlib.h"

#define GROUP	    COMPILE_NFLOG_GROUP
#define HOST	    "10.77.0.1"
#define BCAST	    "10.77.0.255"
#define FLOOD_N	    100000u
#define MAX_RECS    4096
#define FLOOD_LEN   16u			   /* UDP payload bytes */
#define FLOOD_IPLEN (20u + 8u + FLOOD_LEN) /* what the counters count per datagram */

static const char *const POLICY =
    "version: 1\n"
    "defaults:\n"
    "  container_to_container: deny\n"
    "  container_to_world: deny\n"
    "  container_to_host: allow\n"
    "  world_to_container: deny\n"
    "  log: deny\n"
    "rules:\n"
    "  - { name: deny-telnet, from: containers, to: host, ports: [tcp/23], action: deny }\n"
    "  - { name: no-discard, from: containers, to: host, ports: [udp/9], action: deny }\n"
    "  - { name: web-http, from: containers, to: host, ports: [tcp/80], log: true }\n";

static const char *const ENDPOINTS = "endpoints:\n"
				     "  - name: a\n"
				     "    interface: vA\n"
				     "    bridge: br-t\n"
				     "    addresses: [10.77.0.2]\n"
				     "  - name: b\n"
				     "    interface: vB\n"
				     "    bridge: br-t\n"
				     "    addresses: [10.77.0.3]\n";

/* ------------------------------------------------------------------ helpers */

__attribute__((format(printf, 1, 2))) static void sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	ck_assert_msg(st == 0, "command failed (%d): %s", st, cmd);
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);

	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void ipv6_off(void)
{
	/* Per network namespace: /proc/sys/net is the opener's namespace. */
	write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct ir_ruleset *compile_policy(void)
{
	struct diag_list *d = diag_list_new();
	struct node *proot = NULL, *eroot = NULL;
	struct policy *p = NULL;
	struct endpoint_set *e = endpoint_set_new();
	static const char *const bridges[] = {"br-t"};
	struct compile_input in = {.bridges = bridges, .nbridges = 1};
	struct ir_ruleset *rs = NULL;

	ck_assert_int_eq(parse_buffer(POLICY, strlen(POLICY), "p.yaml", PARSE_YAML, d, &proot), 0);
	ck_assert_int_eq(
	    parse_buffer(ENDPOINTS, strlen(ENDPOINTS), "e.yaml", PARSE_YAML, d, &eroot), 0);
	if (policy_from_nodes(&proot, 1, d, &p) < 0 || endpoint_set_from_node(e, eroot, d) < 0) {
		diag_print(d, stderr);
		ck_abort_msg("test policy or endpoints do not validate");
	}
	in.policy = p;
	in.endpoints = e;
	ck_assert_int_eq(compile_ruleset(&in, &rs), 0);
	node_free(proot);
	node_free(eroot);
	policy_free(p);
	endpoint_set_free(e);
	diag_list_free(d);
	return rs;
}

/* ------------------------------------------------------------------ containers */

enum op { OP_SYN, OP_CONNECT, OP_FLOOD, OP_BCAST };

struct cmd {
	enum op op;
	char dst[16];
	uint16_t sport, dport;
	uint32_t count;
};

struct res {
	int err; /* errno, 0 on success */
	uint32_t sent;
};

struct container {
	pid_t pid;
	int cmd_fd, res_fd;
};

static int ctr_socket(int type, const char *addr, uint16_t sport)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(sport)};
	int one = 1, fd = socket(AF_INET, type, 0);

	if (fd < 0)
		return -1;
	inet_pton(AF_INET, addr, &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static struct res ctr_do(const char *self, const struct cmd *c)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(c->dport)};
	struct timeval tv = {.tv_sec = 3};
	char payload[FLOOD_LEN] = "netseg-flood";
	struct res res = {0};
	int one = 1, fd;

	inet_pton(AF_INET, c->dst, &to.sin_addr);
	fd = ctr_socket(c->op == OP_SYN || c->op == OP_CONNECT ? SOCK_STREAM : SOCK_DGRAM, self,
			c->sport);
	if (fd < 0) {
		res.err = errno;
		return res;
	}
	switch (c->op) {
	case OP_SYN:
		/* One SYN: closing in SYN_SENT sends nothing, and the first retransmission
		 * would only come after a second. */
		fcntl(fd, F_SETFL, O_NONBLOCK);
		if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 && errno != EINPROGRESS)
			res.err = errno;
		usleep(300 * 1000);
		res.sent = 1;
		break;
	case OP_CONNECT:
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0)
			res.err = errno;
		break;
	case OP_BCAST:
		setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
		/* fall through */
	case OP_FLOOD:
		for (uint32_t i = 0; i < (c->op == OP_FLOOD ? c->count : 1); i++) {
			if (sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&to,
				   sizeof(to)) == (ssize_t)sizeof(payload))
				res.sent++;
			else
				res.err = errno;
		}
		break;
	}
	close(fd);
	return res;
}

/* The child: its own network namespace, eth0 configured once the parent has moved it in. */
static void ctr_main(int cmd_fd, int res_fd, const char *addr)
{
	struct cmd c;
	char ok = 1;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (unshare(CLONE_NEWNET) < 0)
		_exit(1);
	ipv6_off();
	if (write(res_fd, &ok, 1) != 1 || read(cmd_fd, &ok, 1) != 1)
		_exit(1);
	char cmd[512];
	/* A permanent neighbour: no ARP exchange to delay or drop the first datagrams. */
	snprintf(cmd, sizeof(cmd),
		 "ip link set lo up && ip addr add %s/24 brd + dev eth0 && ip link set eth0 up && "
		 "ip neigh replace " HOST " lladdr 02:00:00:00:77:01 dev eth0 nud permanent",
		 addr);
	ok = system(cmd) == 0;
	if (write(res_fd, &ok, 1) != 1)
		_exit(1);
	while (read(cmd_fd, &c, sizeof(c)) == (ssize_t)sizeof(c)) {
		struct res r = ctr_do(addr, &c);

		if (write(res_fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
			_exit(1);
	}
	_exit(0);
}

/* Container N (1-based) on br-t: host port vA/vB, address 10.77.0.(N+1). */
static struct container ctr_start(int n)
{
	int cmdp[2], resp[2];
	struct container c;
	char addr[32], ok = 0;
	char port = n == 1 ? 'A' : 'B';

	snprintf(addr, sizeof(addr), "10.77.0.%d", n + 1);
	ck_assert_int_eq(pipe(cmdp), 0);
	ck_assert_int_eq(pipe(resp), 0);
	c.pid = fork();
	ck_assert_int_ge(c.pid, 0);
	if (c.pid == 0) {
		/* Not the other containers' pipes: their EOF is how they learn to stop. */
		for (int fd = 3; fd < 1024; fd++)
			if (fd != cmdp[0] && fd != resp[1])
				close(fd);
		ctr_main(cmdp[0], resp[1], addr);
	}
	close(cmdp[0]);
	close(resp[1]);
	c.cmd_fd = cmdp[1];
	c.res_fd = resp[0];
	ck_assert_int_eq(read(c.res_fd, &ok, 1), 1);
	sh("ip link add v%c address 02:00:00:00:77:a%d type veth peer name eth0 address "
	   "02:00:00:00:77:0%d netns %d && ip link set v%c master br-t && ip link set v%c up",
	   port, n, n + 1, (int)c.pid, port, port);
	/* Our side knows the container's address too: replies need no ARP either. */
	sh("ip neigh replace %s lladdr 02:00:00:00:77:0%d dev br-t nud permanent", addr, n + 1);
	ck_assert_int_eq(write(c.cmd_fd, &ok, 1), 1);
	ck_assert_int_eq(read(c.res_fd, &ok, 1), 1);
	ck_assert_msg(ok, "container %d: configuration failed", n);
	return c;
}

static struct res ctr_run(const struct container *c, enum op op, const char *dst, uint16_t sport,
			  uint16_t dport, uint32_t count)
{
	struct cmd cmd = {.op = op, .sport = sport, .dport = dport, .count = count};
	struct res r;

	snprintf(cmd.dst, sizeof(cmd.dst), "%s", dst);
	ck_assert_int_eq(write(c->cmd_fd, &cmd, sizeof(cmd)), (ssize_t)sizeof(cmd));
	ck_assert_int_eq(read(c->res_fd, &r, sizeof(r)), (ssize_t)sizeof(r));
	return r;
}

static void ctr_stop(struct container *c)
{
	int st;

	close(c->cmd_fd);
	close(c->res_fd);
	ck_assert_int_eq(waitpid(c->pid, &st, 0), c->pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "container exited with %d", st);
}

/* The test namespace H with br-t; the containers; netseg's ruleset. */
static void topology(struct container *a, struct container *b)
{
	nt_fresh_netns(false);
	ipv6_off();
	sh("ip link set lo up && ip link add br-t address 02:00:00:00:77:01 type bridge && "
	   "ip addr add " HOST "/24 brd + dev br-t && ip link set br-t up");
	*a = ctr_start(1);
	*b = ctr_start(2);
}

/* ------------------------------------------------------------------ records */

struct recs {
	struct nflog_record r[MAX_RECS];
	size_t n;
	size_t dropped; /* beyond MAX_RECS */
};

static void recs_cb(const struct nflog_record *rec, void *userdata)
{
	struct recs *rs = userdata;

	if (rs->n < MAX_RECS)
		rs->r[rs->n++] = *rec;
	else
		rs->dropped++;
}

/* Reads until nothing has come for QUIET_MS (the kernel queues a record as it logs). */
static void collect(struct nflog *nl, struct recs *rs, int quiet_ms)
{
	struct pollfd pfd = {.fd = nflog_fd(nl), .events = POLLIN};

	for (;;) {
		int p = poll(&pfd, 1, quiet_ms);

		ck_assert_int_ge(p, 0);
		if (p == 0)
			return;
		ck_assert_int_eq(nflog_read(nl, recs_cb, rs), 0);
	}
}

static void print_rec(const struct nflog_record *r)
{
	char s[INET6_ADDRSTRLEN] = "?", d[INET6_ADDRSTRLEN] = "?";

	if (r->family) {
		inet_ntop(r->family, r->saddr, s, sizeof(s));
		inet_ntop(r->family, r->daddr, d, sizeof(d));
	}
	printf("  record: \"%s\" %s%s %u %s:%u -> %s:%u in %s/%s out %s/%s\n", r->prefix,
	       r->bridge ? "bridge " : "", r->family == AF_INET6 ? "ip6" : "ip", r->proto, s,
	       r->sport, d, r->dport, r->indev, r->physindev, r->outdev, r->physoutdev);
}

static void expect_one(struct recs *rs, const char *prefix, uint8_t proto, const char *saddr,
		       uint16_t sport, const char *daddr, uint16_t dport)
{
	uint8_t s[4], d[4];
	const struct nflog_record *r;

	for (size_t i = 0; i < rs->n; i++)
		print_rec(&rs->r[i]);
	ck_assert_msg(rs->n == 1, "expected exactly one record (%s), got %zu", prefix, rs->n);
	r = &rs->r[0];
	inet_pton(AF_INET, saddr, s);
	inet_pton(AF_INET, daddr, d);
	ck_assert_str_eq(r->prefix, prefix);
	ck_assert_int_eq(r->family, AF_INET);
	ck_assert_int_eq(r->proto, proto);
	ck_assert(memcmp(r->saddr, s, 4) == 0);
	ck_assert(memcmp(r->daddr, d, 4) == 0);
	ck_assert_int_eq(r->sport, sport);
	ck_assert_int_eq(r->dport, dport);
	ck_assert_uint_gt(r->time_ns, 1600000000ull * 1000000000ull);
	rs->n = 0;
}

/* ------------------------------------------------------------------ counters */

struct ctr_want {
	const char *name;
	uint64_t packets, bytes;
	int seen;
};

static int ctr_cb(const char *name, uint64_t packets, uint64_t bytes, void *userdata)
{
	struct ctr_want *w = userdata;

	for (; w->name; w++)
		if (strcmp(w->name, name) == 0) {
			w->packets = packets;
			w->bytes = bytes;
			w->seen++;
		}
	return 0;
}

/* ------------------------------------------------------------------ tests */

START_TEST(test_decisions)
{
	struct container a, b;
	struct ir_ruleset *rs;
	struct nflog *nl = NULL;
	struct recs *recs = calloc(1, sizeof(*recs));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(80)};
	int one = 1, lfd, cfd;
	struct res r;

	ck_assert_ptr_nonnull(recs);
	topology(&a, &b);
	rs = compile_policy();
	nt_apply_ok(rs);
	ck_assert_int_eq(nflog_open(GROUP, &nl), 0);

	/* The denied SYN, dropped by deny-telnet's log chain. */
	r = ctr_run(&a, OP_SYN, HOST, 40023, 23, 0);
	ck_assert_int_eq(r.err, 0);
	collect(nl, recs, 300);
	ck_assert_str_eq(recs->r[0].indev, "br-t");
	ck_assert(!recs->r[0].bridge);
	expect_one(recs, "netseg r_deny-telnet drop", IPPROTO_TCP, "10.77.0.2", 40023, HOST, 23);

	/* An allowed connection: only its first packet reaches the policy chains. */
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, HOST, &sa.sin_addr);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	r = ctr_run(&a, OP_CONNECT, HOST, 40080, 80, 0);
	ck_assert_msg(r.err == 0, "allowed connection failed: %s", strerror(r.err));
	cfd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(cfd, 0);
	close(cfd);
	close(lfd);
	collect(nl, recs, 300);
	expect_one(recs, "netseg r_web-http accept", IPPROTO_TCP, "10.77.0.2", 40080, HOST, 80);

	/* A broadcast: judged per receiving port by the bridge table's flood chain (d_c2c,
	 * deny, logged), and accepted silently on the way to the host (c2h allow). */
	r = ctr_run(&a, OP_BCAST, BCAST, 45000, 5000, 0);
	ck_assert_int_eq(r.err, 0);
	collect(nl, recs, 300);
	ck_assert_int_ge(recs->n, 1);
	ck_assert(recs->r[0].bridge);
	ck_assert_str_eq(recs->r[0].physindev, "vA");
	ck_assert_str_eq(recs->r[0].physoutdev, "vB");
	expect_one(recs, "netseg d_c2c drop", IPPROTO_UDP, "10.77.0.2", 45000, BCAST, 5000);

	ck_assert_uint_eq(nflog_lost(nl), 0);
	ck_assert_uint_eq(nflog_malformed(nl), 0);
	ctr_stop(&a);
	ctr_stop(&b);
	nflog_free(nl);
	ir_ruleset_free(rs);
	free(recs);
}
END_TEST

START_TEST(test_flood_is_bounded_and_counted)
{
	struct container a, b;
	struct ir_ruleset *rs;
	struct nflog *nl = NULL;
	struct recs *recs = calloc(1, sizeof(*recs));
	struct ctr_want want[] = {
	    {.name = "r_no-discard"}, {.name = "s_r_no-discard"}, {.name = NULL}};
	uint64_t t0, elapsed_ms, bound;
	size_t logged = 0;
	struct res r;

	ck_assert_ptr_nonnull(recs);
	topology(&a, &b);
	rs = compile_policy();
	nt_apply_ok(rs);
	ck_assert_int_eq(nflog_open(GROUP, &nl), 0);

	t0 = now_ns();
	r = ctr_run(&a, OP_FLOOD, HOST, 40009, 9, FLOOD_N);
	ck_assert_msg(r.err == 0 && r.sent == FLOOD_N, "sent %u of %u: %s", r.sent, FLOOD_N,
		      strerror(r.err));
	collect(nl, recs, 500);
	elapsed_ms = (now_ns() - t0) / 1000000;
	ck_assert_int_eq(nft_counters_read(IR_FAMILY_INET, COMPILE_TABLE_NAME, ctr_cb, want), 0);
	for (size_t i = 0; i < recs->n; i++) {
		if (strcmp(recs->r[i].prefix, "netseg r_no-discard drop") == 0 &&
		    recs->r[i].proto == IPPROTO_UDP && recs->r[i].dport == 9)
			logged++;
		else
			print_rec(&recs->r[i]);
	}
	printf("flood: sent %u in %llu ms (until quiet), r_no-discard %llu packets %llu bytes, "
	       "s_r_no-discard %llu, records %zu (other %zu), lost %llu, overruns %llu\n",
	       r.sent, (unsigned long long)elapsed_ms, (unsigned long long)want[0].packets,
	       (unsigned long long)want[0].bytes, (unsigned long long)want[1].packets, logged,
	       recs->n - logged, (unsigned long long)nflog_lost(nl),
	       (unsigned long long)nflog_overruns(nl));
	ck_assert_int_eq(want[0].seen, 1);
	ck_assert_int_eq(want[1].seen, 1);
	ck_assert_uint_eq(logged, recs->n);
	ck_assert_uint_eq(nflog_lost(nl), 0);
	/* Every datagram reached the rule, and each one was either logged or counted. */
	ck_assert_uint_eq(want[0].packets, FLOOD_N);
	ck_assert_uint_eq(want[0].bytes, (uint64_t)FLOOD_N * FLOOD_IPLEN);
	ck_assert_uint_eq(logged + want[1].packets, want[0].packets);
	/* The token bucket starts full with the burst and refills at the rate: that bounds
	 * the records, with one second of slack. */
	bound = COMPILE_LOG_BURST + COMPILE_LOG_RATE * (elapsed_ms / 1000 + 1);
	ck_assert_msg(logged >= COMPILE_LOG_BURST && logged <= bound,
		      "%zu records, expected %u..%llu", logged, COMPILE_LOG_BURST,
		      (unsigned long long)bound);
	ctr_stop(&a);
	ctr_stop(&b);
	nflog_free(nl);
	ir_ruleset_free(rs);
	free(recs);
}
END_TEST

/* inet netseg with one output chain logging udp/7777 and icmp/ipv6-icmp echo requests. */
static struct ir_ruleset *lo_ruleset(void)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *t = ir_table_add(rs, IR_FAMILY_INET, "netseg");
	struct ir_chain *c = nt_base_chain(rs, t, "output", IR_HOOK_OUTPUT, 0);
	struct ir_stmt log = {.kind = IR_STMT_LOG, .log = {"netseg lo: ", GROUP}};

	NT_RULE(c, nt_match(IR_KEY_L4PROTO, IR_OP_EQ, ir_value_u8(IPPROTO_UDP)),
		nt_match(IR_KEY_TH_DPORT, IR_OP_EQ, ir_value_be16(7777)), log);
	NT_RULE(c, nt_match(IR_KEY_L4PROTO, IR_OP_EQ, ir_value_u8(IPPROTO_ICMP)), log);
	NT_RULE(c, nt_match(IR_KEY_L4PROTO, IR_OP_EQ, ir_value_u8(IPPROTO_ICMPV6)),
		nt_match(IR_KEY_ICMPV6_TYPE, IR_OP_EQ, ir_value_u8(ICMP6_ECHO_REQUEST)), log);
	return rs;
}

START_TEST(test_ipv6_and_icmp)
{
	struct ir_ruleset *rs;
	struct nflog *nl = NULL;
	struct recs *recs = calloc(1, sizeof(*recs));
	struct sockaddr_in6 to6 = {
	    .sin6_family = AF_INET6, .sin6_port = htons(7777), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	struct sockaddr_in to4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_in6 from6;
	socklen_t flen = sizeof(from6);
	/* A destination options header of 8 bytes: next header, length 0, PadN of 4. */
	uint8_t dstopts[8] = {0, 0, 1, 4, 0, 0, 0, 0};
	struct icmphdr echo = {.type = ICMP_ECHO, .un.echo.id = htons(7)};
	struct icmp6_hdr echo6 = {.icmp6_type = ICMP6_ECHO_REQUEST};
	int fd;

	ck_assert_ptr_nonnull(recs);
	nt_fresh_netns(true);
	rs = lo_ruleset();
	nt_apply_ok(rs);
	ck_assert_int_eq(nflog_open(GROUP, &nl), 0);

	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(setsockopt(fd, IPPROTO_IPV6, IPV6_DSTOPTS, dstopts, sizeof(dstopts)), 0);
	ck_assert_int_eq(sendto(fd, "x", 1, 0, (struct sockaddr *)&to6, sizeof(to6)), 1);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&from6, &flen), 0);
	close(fd);
	/* Checksum 0 is wrong: the kernel drops the request, so no echo reply adds a record. */
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sendto(fd, &echo, sizeof(echo), 0, (struct sockaddr *)&to4, sizeof(to4)),
			 sizeof(echo));
	close(fd);
	fd = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	ck_assert_int_ge(fd, 0);
	to6.sin6_port = 0;
	ck_assert_int_eq(sendto(fd, &echo6, sizeof(echo6), 0, (struct sockaddr *)&to6, sizeof(to6)),
			 sizeof(echo6));
	close(fd);
	collect(nl, recs, 300);
	for (size_t i = 0; i < recs->n; i++)
		print_rec(&recs->r[i]);
	ck_assert_uint_eq(recs->n, 3);

	ck_assert_str_eq(recs->r[0].prefix, "netseg lo");
	ck_assert_int_eq(recs->r[0].family, AF_INET6);
	ck_assert_int_eq(recs->r[0].proto, IPPROTO_UDP); /* past the options header */
	ck_assert(memcmp(recs->r[0].saddr, &in6addr_loopback, 16) == 0);
	ck_assert(memcmp(recs->r[0].daddr, &in6addr_loopback, 16) == 0);
	ck_assert_int_eq(recs->r[0].sport, ntohs(from6.sin6_port));
	ck_assert_int_eq(recs->r[0].dport, 7777);
	ck_assert_str_eq(recs->r[0].outdev, "lo");
	ck_assert_str_eq(recs->r[0].indev, "");

	ck_assert_int_eq(recs->r[1].family, AF_INET);
	ck_assert_int_eq(recs->r[1].proto, IPPROTO_ICMP);
	ck_assert(recs->r[1].has_icmp);
	ck_assert_int_eq(recs->r[1].icmp_type, ICMP_ECHO);
	ck_assert_int_eq(recs->r[1].sport, 0);

	ck_assert_int_eq(recs->r[2].family, AF_INET6);
	ck_assert_int_eq(recs->r[2].proto, IPPROTO_ICMPV6);
	ck_assert(recs->r[2].has_icmp);
	ck_assert_int_eq(recs->r[2].icmp_type, ICMP6_ECHO_REQUEST);
	ck_assert_uint_eq(nflog_lost(nl), 0);
	nflog_free(nl);
	ir_ruleset_free(rs);
	free(recs);
}
END_TEST

/* A log line without limit on udp/7778, to overrun the reader on purpose. */
static struct ir_ruleset *unlimited_ruleset(void)
{
	struct ir_ruleset *rs = ir_ruleset_new();
	struct ir_table *t = ir_table_add(rs, IR_FAMILY_INET, "netseg");
	struct ir_chain *c = nt_base_chain(rs, t, "output", IR_HOOK_OUTPUT, 0);
	struct ir_stmt log = {.kind = IR_STMT_LOG, .log = {"netseg lo: ", GROUP}};

	NT_RULE(c, nt_match(IR_KEY_L4PROTO, IR_OP_EQ, ir_value_u8(IPPROTO_UDP)),
		nt_match(IR_KEY_TH_DPORT, IR_OP_EQ, ir_value_be16(7778)), log);
	return rs;
}

static void send_lo(unsigned n)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(7778),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	ck_assert_int_ge(fd, 0);
	for (unsigned i = 0; i < n; i++)
		ck_assert_int_eq(sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
	close(fd);
}

START_TEST(test_overrun_counts_lost)
{
	const unsigned n = 60000; /* far more than the socket buffer holds */
	struct ir_ruleset *rs;
	struct nflog *nl = NULL;
	struct recs *recs = calloc(1, sizeof(*recs));

	ck_assert_ptr_nonnull(recs);
	nt_fresh_netns(true);
	rs = unlimited_ruleset();
	nt_apply_ok(rs);
	ck_assert_int_eq(nflog_open(GROUP, &nl), 0);
	send_lo(n);
	collect(nl, recs, 300);
	/* A loss is known from the next message's sequence number: send one more. */
	send_lo(1);
	collect(nl, recs, 300);
	printf("overrun: %u + 1 logged, %zu records (+%zu beyond the test's array), lost %llu, "
	       "overruns %llu\n",
	       n, recs->n, recs->dropped, (unsigned long long)nflog_lost(nl),
	       (unsigned long long)nflog_overruns(nl));
	ck_assert_uint_ge(nflog_overruns(nl), 1);
	ck_assert_uint_gt(nflog_lost(nl), 0);
	ck_assert_uint_eq(recs->n + recs->dropped + nflog_lost(nl), n + 1);
	ck_assert_uint_eq(nflog_malformed(nl), 0);
	nflog_free(nl);
	ir_ruleset_free(rs);
	free(recs);
}
END_TEST

/*
 * Another process with CAP_NET_ADMIN sending look-alike records to our port is not the
 * kernel: a well-formed forged record is not a decision, and a datagram whose nlmsg_len is
 * over 2^31 (libmnl's mnl_nlmsg_ok() compares it as a signed int; found by fuzz_nflog) must
 * not walk the reader off its buffer.
 */
START_TEST(test_forged_records_ignored)
{
	static const uint8_t huge_len[17] = {0xab, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct sockaddr_nl self = {0}, to = {.nl_family = AF_NETLINK};
	socklen_t slen = sizeof(self);
	struct recs *recs = calloc(1, sizeof(*recs));
	struct nflog *n = NULL;
	uint8_t buf[256] __attribute__((aligned(4))) = {0};
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	int fd;

	ck_assert_ptr_nonnull(recs);
	nt_fresh_netns(false);
	ck_assert_int_eq(nflog_open(GROUP, &n), 0);
	ck_assert_int_eq(getsockname(nflog_fd(n), (struct sockaddr *)&self, &slen), 0);
	to.nl_pid = self.nl_pid;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	ck_assert_int_ge(fd, 0);

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(GROUP);
	mnl_attr_put_strz(nlh, NFULA_PREFIX, "netseg r_forged drop: ");
	ck_assert_int_gt(sendto(fd, buf, nlh->nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)), 0);
	ck_assert_int_eq(nflog_read(n, recs_cb, recs), 0);
	ck_assert_uint_eq(recs->n, 0);

	ck_assert_int_eq(
	    sendto(fd, huge_len, sizeof(huge_len), 0, (struct sockaddr *)&to, sizeof(to)),
	    (ssize_t)sizeof(huge_len));
	ck_assert_int_eq(nflog_read(n, recs_cb, recs), 0);
	ck_assert_uint_eq(recs->n, 0);
	ck_assert_uint_eq(nflog_malformed(n), 2);
	close(fd);
	nflog_free(n);
	free(recs);
}
END_TEST

/* The length guard itself, on the decoder alone: the fuzz_nflog reproducer. */
START_TEST(test_parse_huge_length)
{
	static const uint8_t huge_len[17] = {0xab, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct recs *recs = calloc(1, sizeof(*recs));
	uint8_t *buf = malloc(sizeof(huge_len));
	struct nflog *n = NULL;

	ck_assert_ptr_nonnull(recs);
	ck_assert_ptr_nonnull(buf);
	memcpy(buf, huge_len, sizeof(huge_len));
	/* The same length on a packet message. */
	ck_assert_int_eq(nflog_new_detached(&n), 0);
	nflog_parse(n, buf, sizeof(huge_len), recs_cb, recs);
	buf[4] = 0x00;
	buf[5] = (uint8_t)(NFNL_SUBSYS_ULOG);
	nflog_parse(n, buf, sizeof(huge_len), recs_cb, recs);
	ck_assert_uint_eq(recs->n, 0);
	nflog_free(n);
	free(buf);
	free(recs);
}
END_TEST

START_TEST(test_group_is_exclusive)
{
	struct nflog *a = NULL, *b = NULL;

	nt_fresh_netns(false);
	ck_assert_int_eq(nflog_open(GROUP, &a), 0);
	ck_assert_int_ge(nflog_fd(a), 0);
	/* The kernel says EPERM: the group belongs to another socket. */
	ck_assert_int_eq(nflog_open(GROUP, &b), -EPERM);
	/* Nothing pending: drained at once. */
	ck_assert_int_eq(nflog_read(a, recs_cb, NULL), 0);
	/* Closing releases the group. */
	nflog_free(a);
	ck_assert_int_eq(nflog_open(GROUP, &b), 0);
	nflog_free(b);
	nflog_free(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nflog");
	TCase *tc = tcase_create("nflog");

	nt_enter_netns_or_skip("nflog");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_group_is_exclusive);
	tcase_add_test(tc, test_forged_records_ignored);
	tcase_add_test(tc, test_parse_huge_length);
	tcase_add_test(tc, test_ipv6_and_icmp);
	tcase_add_test(tc, test_decisions);
	tcase_add_test(tc, test_flood_is_bounded_and_counted);
	tcase_add_test(tc, test_overrun_counts_lost);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
