/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "agent.h"
#include "agent_internal.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "brnf.h"
#include "caps.h"
#include "cluster.h"
#include "cluster_ep.h"
#include "compile.h"
#include "control.h"
#include "decisions.h"
#include "docker.h"
#include "link.h"
#include "log.h"
#include "metrics.h"
#include "nflog.h"
#include "nft_monitor.h"
#include "parse.h"
#include "policy_watch.h"
#include "fqdn.h"
#include "rtnl_watch.h"
#include "sandbox.h"
#include "status.h"
#include "util.h"
#include "why_report.h"

/* Which source each tag counts as in the events metric. */
static const enum metrics_source tag_source[] = {
    [T_SIGNAL] = METRICS_SRC_SIGNAL,	   [T_POLICY] = METRICS_SRC_POLICY,
    [T_RELOAD] = METRICS_SRC_POLICY,	   [T_FILES] = METRICS_SRC_FILES,
    [T_DOCKER] = METRICS_SRC_DOCKER,	   [T_RTNL] = METRICS_SRC_RTNL,
    [T_MONITOR] = METRICS_SRC_NFT_MONITOR, [T_NFLOG] = METRICS_SRC_NFLOG,
    [T_CONTROL] = METRICS_SRC_CONTROL,	   [T_METRICS] = METRICS_SRC_METRICS,
    [T_FQDN] = METRICS_SRC_FQDN,
};

static const char agent_usage[] =
    "usage: netseg agent [-p PATH] [--docker SOCK|none] [--endpoints-dir DIR] [--bridge NAME]...\n"
    "                    [--control SOCK|none] [--metrics ADDR:PORT [--metrics-allow-remote]]\n"
    "                    [--user NAME|root]\n"
    "                    [--cluster URL[,URL...] [--node NAME] [--cluster-ttl S]] [-v]\n";

static int cluster_opt(struct agent_opts *o, int c, const char *arg)
{
	char *end;
	long v;

	if (c == 'K') {
		o->cluster = arg;
	} else if (c == 'N') {
		if (!cluster_node_name_valid(arg)) {
			cli_error("agent",
				  "--node: '%s' is not a node name ([A-Za-z0-9._-], at "
				  "most 63)",
				  arg);
			return -EINVAL;
		}
		o->node = arg;
	} else {
		v = strtol(arg, &end, 10);
		if (*end || v < 2 || v > 3600) {
			cli_error("agent", "--cluster-ttl: '%s' is not 2 to 3600 seconds", arg);
			return -EINVAL;
		}
		o->cluster_ttl = (int)v;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct agent_opts *ret)
{
	static const struct option longopts[] = {
	    {"policy", required_argument, NULL, 'p'},
	    {"docker", required_argument, NULL, 'd'},
	    {"endpoints-dir", required_argument, NULL, 'E'},
	    {"bridge", required_argument, NULL, 'b'},
	    {"control", required_argument, NULL, 'c'},
	    {"metrics", required_argument, NULL, 'm'},
	    {"metrics-allow-remote", no_argument, NULL, 'R'},
	    {"user", required_argument, NULL, 'u'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"cluster", required_argument, NULL, 'K'},
	    {"node", required_argument, NULL, 'N'},
	    {"cluster-ttl", required_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct agent_opts o = {.docker_socket = DOCKER_DEFAULT_SOCKET,
			       .control_socket = CONTROL_DEFAULT_SOCKET,
			       .user = CAPS_DEFAULT_USER};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:b:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.cli.policy_path = optarg;
			break;
		case 'd':
			/* "none": endpoint files only, even where a Docker socket exists. */
			o.docker_socket = strcmp(optarg, "none") ? optarg : NULL;
			o.docker_explicit = true;
			break;
		case 'E':
			o.endpoints_dir = optarg;
			break;
		case 'b':
			if (o.cli.nbridges == CLI_MAX_BRIDGES || !*optarg || strlen(optarg) > 15) {
				cli_error("agent", "bad --bridge '%s'", optarg);
				return CLI_USAGE;
			}
			o.cli.bridges[o.cli.nbridges++] = optarg;
			break;
		case 'c':
			o.control_socket = strcmp(optarg, "none") ? optarg : NULL;
			break;
		case 'm':
			o.metrics_addr = optarg;
			break;
		case 'R':
			o.metrics_allow_remote = true;
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'v':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'K':
		case 'N':
		case 'T':
			if (cluster_opt(&o, c, optarg) < 0)
				return CLI_USAGE;
			break;
		case 'h':
			fputs(agent_usage, stdout);
			return CLI_HELP;
		case ':':
			cli_error("agent", "option '%s' needs a value", argv[optind - 1]);
			return CLI_USAGE;
		default:
			cli_error("agent", "unknown option '%s'; see 'netseg agent --help'",
				  argv[optind - 1]);
			return CLI_USAGE;
		}
	}
	if (optind < argc) {
		cli_error("agent", "unexpected argument '%s'", argv[optind]);
		return CLI_USAGE;
	}
	if (o.metrics_addr) {
		struct sockaddr_storage ss;
		char err[256];

		/* A typo is a usage error now, not a start that fails after the policy loaded. */
		if (metrics_parse_addr(o.metrics_addr, &ss, err, sizeof(err)) < 0) {
			cli_error("agent", "--metrics: %s", err);
			return CLI_USAGE;
		}
	}
	if (o.cluster && o.cli.policy_path) {
		cli_error("agent", "-p and --cluster exclude each other: with --cluster the policy "
				   "is the one 'netseg cluster push' stored in etcd");
		return CLI_USAGE;
	}
	if ((o.node || o.cluster_ttl) && !o.cluster) {
		cli_error("agent", "--node and --cluster-ttl need --cluster");
		return CLI_USAGE;
	}
	if (o.metrics_allow_remote && !o.metrics_addr) {
		cli_error("agent", "--metrics-allow-remote needs --metrics ADDR:PORT");
		return CLI_USAGE;
	}
	*ret = o;
	return CLI_OK;
}

struct link_query *agent_links(struct agent_ctx *ctx)
{
	if (!ctx->links && link_query_new(&ctx->links) < 0)
		ctx->links = NULL;
	return ctx->links;
}

void agent_links_drop(struct agent_ctx *ctx)
{
	link_query_free(ctx->links);
	ctx->links = NULL;
}

void agent_resolve_bridges(struct agent_ctx *ctx, struct endpoint_set *eps)
{
	for (size_t i = 0; eps && i < eps->n; i++) {
		struct endpoint *e = &eps->items[i];
		struct rtnl_link_info li;
		char master[16];

		if (e->bridge || !e->interface)
			continue;
		if (ctx->rtnl && rtnl_watch_find(ctx->rtnl, e->interface, &li) == 0) {
			if (li.master_is_bridge && li.master[0])
				e->bridge = strdup(li.master);
		} else if (agent_links(ctx) && link_query_bridge_of(ctx->links, e->interface,
								    master, sizeof(master)) == 0) {
			e->bridge = strdup(master);
		}
	}
}

/* The inventory's checker: a container's endpoint is never the host's own loopback, a bridge
 * or its way out (enforcing one cuts the host's traffic). A missing interface is fine: it is
 * checked again when it appears (link_event). */
static int check_endpoint(const struct endpoint *e, char *why, size_t len, void *ud)
{
	struct agent_ctx *ctx = ud;
	enum link_role role;

	if (!e->interface || !agent_links(ctx) ||
	    link_query_role(ctx->links, e->interface, &role) < 0 || role == LINK_ROLE_PORT)
		return 0;
	snprintf(why, len, "interface %s is %s", e->interface, link_role_name(role));
	return 1;
}

static void link_event(enum rtnl_watch_event ev, const struct rtnl_link_info *link, void *ud)
{
	struct agent *a = ud;

	if (ev == RTNL_WATCH_LINK_NEW && a->ctx.inv &&
	    inventory_recheck(a->ctx.inv, link->name, a->ctx.rc) < 0)
		log_error("cannot re-check endpoints on %s: out of memory", link->name);
}

int agent_epoll_add(struct agent *a, int fd, enum tag tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};

	return epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* Logs an error and keeps it for `netseg status`. */
__attribute__((format(printf, 2, 3))) void agent_error(struct agent *a, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s", msg);
	metrics_note_error(&a->stats, msg);
}

static int load_policy(const struct agent *a, struct policy **ret)
{
	struct diag_list *d = diag_list_new();
	int r;

	if (!d)
		return -ENOMEM;
	r = policy_load(cli_policy_path(&a->o.cli), d, ret);
	log_diag(d, r < 0 ? LOG_LEVEL_ERROR : LOG_LEVEL_WARNING);
	diag_list_free(d);
	return r;
}

static void ensure_brnf(void)
{
	struct brnf_state st;
	int r = brnf_ensure(&st);

	if (r < 0)
		log_error("cannot enable net.bridge.bridge-nf-call-iptables/ip6tables (%s): "
			  "same-bridge traffic between containers is NOT filtered",
			  strerror(-r));
	if (st.changed_v4 || st.changed_v6)
		log_info("set net.bridge.bridge-nf-call-iptables/ip6tables=1 so same-bridge "
			 "traffic is filtered");
}

/* Replaces our tables with POLICY (or the current one) for the whole inventory. */
static int full_apply(struct agent *a, struct policy *policy, const char *why)
{
	struct nft_batch_error err = {0};
	struct endpoint_set view;
	int r = inventory_view(a->ctx.inv, &view);

	if (r < 0)
		return r;
	ensure_brnf();
	r = policy ? reconcile_full(a->ctx.rc, policy, &view, &err)
		   : reconcile_reapply(a->ctx.rc, &view, &err);
	inventory_view_free(&view);
	if (r < 0) {
		agent_error(a, "%s: %s", why, err.message[0] ? err.message : strerror(-r));
		return r;
	}
	/* New tables, new counters: the logged counts that pair with them restart too. */
	metrics_observe_reconcile(&a->stats, true, reconcile_stats(a->ctx.rc)->last_ms);
	if (a->decisions)
		decisions_reset_epoch(a->decisions);
	/* The tables were replaced: what DNS taught is back in them a moment later (until
	 * then those connections wait for their SYN retransmission, never the other way). */
	if (a->fqdn && (r = fqdn_reinstall(a->fqdn, reconcile_policy(a->ctx.rc),
					   reconcile_base(a->ctx.rc))) > 0)
		log_info("fqdn: %d learned addresses restored", r);
	log_info("%s: enforcing %zu rules for %zu endpoints (%.1f ms)", why,
		 reconcile_policy(a->ctx.rc)->nrules, inventory_count(a->ctx.inv),
		 reconcile_stats(a->ctx.rc)->last_ms);
	a->ctx.need_reapply = false;
	return 0;
}

static void reload_policy(struct agent *a)
{
	struct policy *p = NULL;
	int r = load_policy(a, &p);

	policy_watch_result(a->policy_watch, r == 0);
	if (r < 0) {
		a->stats.reload_failures++;
		agent_error(a, "policy reload failed; still enforcing the last good policy");
		return;
	}
	if (full_apply(a, p, "policy reloaded") < 0) {
		policy_free(p);
		a->stats.reload_failures++;
		agent_error(a, "policy reload not installed; still enforcing the last good policy");
	}
}

/* Watches the policy path; changes come in as T_POLICY, due reloads as T_RELOAD. */
static int watch_policy(struct agent *a)
{
	int r = policy_watch_open(cli_policy_path(&a->o.cli), &a->policy_watch);

	if (r < 0)
		return r;
	if ((r = agent_epoll_add(a, policy_watch_inotify_fd(a->policy_watch), T_POLICY)) < 0 ||
	    (r = agent_epoll_add(a, policy_watch_timer_fd(a->policy_watch), T_RELOAD)) < 0)
		cli_error("agent", "cannot set up the event loop: %s", strerror(-r));
	return r;
}

static void on_signal(struct agent *a)
{
	struct signalfd_siginfo si;

	while (read(a->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_info("SIGHUP: reloading the policy");
			if (!a->cluster)
				reload_policy(a);
			if (a->files)
				(void)src_files_rescan(a->files, &a->ctx, "SIGHUP");
		} else {
			log_info("%s: exiting; the rules stay installed ('netseg flush' removes "
				 "them)",
				 strsignal((int)si.ssi_signo));
			a->stop = true;
		}
	}
}

static void resync_event(void *ud)
{
	struct agent *a = ud;

	log_warn("rtnetlink events were lost; resynchronising");
	a->stats.resyncs++;
	a->ctx.need_reapply = true;
}

/* Milliseconds epoll may sleep: until the next control or metrics client expires; not at all
 * while endpoint files wait to be read. */
static int loop_timeout(const struct agent *a)
{
	if (a->files && src_files_busy(a->files))
		return 0;
	int t1 = a->control ? control_timeout_ms(a->control) : -1;
	int t2 = a->metrics ? control_timeout_ms(a->metrics) : -1;

	if (t1 < 0)
		return t2;
	return t2 < 0 || t1 < t2 ? t1 : t2;
}

static void commit(struct agent *a)
{
	struct nft_batch_error err = {0};
	int r;

	if (a->ctx.need_reapply) {
		(void)full_apply(a, NULL, "resync");
		return;
	}
	r = reconcile_commit(a->ctx.rc, &err);
	if (r < 0) {
		agent_error(a, "element update failed: %s; re-applying everything",
			    err.message[0] ? err.message : strerror(-r));
		(void)full_apply(a, NULL, "repair");
	} else if (r > 0) {
		metrics_observe_reconcile(&a->stats, false, reconcile_stats(a->ctx.rc)->last_ms);
	}
}

/*
 * A batch of endpoint files per wakeup: the rest is read on the next ones, which come at
 * once (loop_timeout), with the control socket and signals served in between. A batch may
 * take as long as the loop spent elsewhere since the last one (SRC_FILES_BATCH_MS at least):
 * a status answer of 10,000 endpoints costs as much as a thousand files, and a stream of
 * them must not starve the files, nor the files the answers.
 */
static void read_files(struct agent *a)
{
	int64_t other = now_ms() - a->files_end_ms;
	int r;

	if (!a->files || (!a->files_ready && !src_files_busy(a->files)))
		return;
	a->files_ready = false;
	r = src_files_read(a->files, &a->ctx,
			   other > SRC_FILES_BATCH_MS ? other : SRC_FILES_BATCH_MS);
	if (r < 0)
		log_warn("endpoint files: %s, ignoring", strerror(-r));
	a->files_end_ms = now_ms();
}

static void dispatch(struct agent *a, enum tag tag)
{
	bool tampered = false;
	int r;

	if ((size_t)tag < ARRAY_SIZE(tag_source))
		a->stats.events[tag_source[tag]]++;
	switch (tag) {
	case T_SIGNAL:
		on_signal(a);
		break;
	case T_POLICY:
		policy_watch_read(a->policy_watch);
		break;
	case T_RELOAD:
		if (!policy_watch_due(a->policy_watch))
			break;
		log_info("policy changed on disk: reloading");
		reload_policy(a);
		break;
	case T_FILES:
		/* Read once per wakeup, after the other sources (read_files). */
		a->files_ready = true;
		break;
	case T_DOCKER:
		(void)src_docker_dispatch(a->docker, &a->ctx);
		break;
	case T_RTNL:
		/* Links change: what the checker learnt this wakeup may not hold any more. */
		agent_links_drop(&a->ctx);
		if ((r = rtnl_watch_read(a->ctx.rtnl)) < 0)
			log_warn("rtnetlink: %s, ignoring", strerror(-r));
		break;
	case T_MONITOR:
		r = nft_monitor_read(a->monitor, &tampered);
		if (r < 0)
			log_warn("nftables monitor: %s, ignoring", strerror(-r));
		if (tampered) {
			log_warn("tamper: another process changed netseg's tables; restoring them");
			a->stats.tamper_repairs++;
			a->ctx.need_reapply = true;
		}
		break;
	case T_NFLOG:
		if ((r = nflog_read(a->nflog, agent_on_decision, a)) < 0)
			log_warn("nflog: %s, ignoring", strerror(-r));
		break;
	case T_CONTROL:
		(void)control_process(a->control);
		break;
	case T_METRICS:
		(void)control_process(a->metrics);
		break;
	case T_CLUSTER:
		if ((r = src_cluster_dispatch(a->cluster, &a->ctx)) < 0)
			log_warn("cluster: %s, ignoring", strerror(-r));
		break;
	case T_FQDN:
		r = fqdn_read(a->fqdn, reconcile_policy(a->ctx.rc), reconcile_base(a->ctx.rc),
			      agent_current_view(a));
		if (r < 0)
			log_warn("fqdn: DNS queue: %s, ignoring", strerror(-r));
		break;
	}
}

/* Who --user is, looked up while the user database is still reachable. */
static int resolve_user(struct agent *a)
{
	int r;

	if (geteuid() != 0)
		return 0;
	r = caps_user_lookup(a->o.user, &a->user);
	if (r == -ENOENT)
		cli_error("agent",
			  "--user %s: no such user; create it (scripts/deps.sh does, or "
			  "useradd --system %s) or pass --user root",
			  a->o.user, a->o.user);
	else if (r < 0)
		cli_error("agent", "--user %s: %s", a->o.user, strerror(-r));
	return r;
}

/* Everything that needs root is open by now: become --user, keeping CAP_NET_ADMIN only,
 * then install the seccomp filter. */
static int confine(struct agent *a)
{
	const struct caps_user *u = &a->user;
	bool root = geteuid() == 0;
	int r;

	if (root && u->uid != 0 && a->control &&
	    (r = control_chown(a->control, u->uid, u->gid)) < 0)
		log_warn("control socket: cannot hand it to user %s: %s; it stays behind at exit",
			 u->name, strerror(-r));
	if ((r = caps_drop_to_user(u)) < 0) {
		cli_error("agent", "cannot drop privileges to user %s: %s; not starting",
			  root ? u->name : "(unchanged)", strerror(-r));
		return r;
	}
	/* Last: from here on the agent only runs its loop. */
	if ((r = sandbox_install()) < 0) {
		cli_error("agent", "cannot install the seccomp filter: %s; not starting",
			  strerror(-r));
		return r;
	}
	if (root && u->uid == 0)
		log_warn("--user root: still root, with CAP_NET_ADMIN only; a compromised agent "
			 "could rewrite every file root owns");
	/* The last line of the start: tests wait for it before reading /proc/PID/status. */
	log_info("confined: uid %u%s%s%s, CAP_NET_ADMIN only, seccomp allow-list%s",
		 (unsigned)getuid(), root ? " (user " : " (as started", root ? u->name : "", ")",
		 sandbox_is_sanitized() ? " (sanitizer build: ptrace, clone, wait4 allowed)" : "");
	return 0;
}

/* --- cluster mode ------------------------------------------------------------------------ */

/* Until the cluster's policy is known: nothing is allowed that a policy would decide. */
static int fail_closed_policy(struct policy **ret)
{
	static const char text[] = "version: 1\n"
				   "defaults:\n"
				   "  container_to_container: deny\n"
				   "  container_to_world: deny\n"
				   "  container_to_host: deny\n"
				   "  world_to_container: deny\n";
	struct diag_list *d = diag_list_new();
	struct node *root = NULL;
	int r = d ? parse_buffer(text, sizeof(text) - 1, "netseg:fail-closed", PARSE_YAML, d, &root)
		  : -ENOMEM;

	if (r == 0)
		r = policy_from_nodes(&root, 1, d, ret);
	node_free(root);
	diag_list_free(d);
	return r;
}

static void cluster_policy(struct policy *p, int64_t revision, void *ud)
{
	struct agent *a = ud;
	char why[64];

	if (!a->started) {
		/* Read before the first install: that install uses it. */
		policy_free(a->cluster_first);
		a->cluster_first = p;
		a->cluster_first_rev = revision;
		return;
	}
	snprintf(why, sizeof(why), "cluster policy revision %lld", (long long)revision);
	if (full_apply(a, p, why) < 0) {
		policy_free(p);
		agent_error(a,
			    "cluster policy not installed; still enforcing the last good policy");
		return;
	}
	src_cluster_applied(a->cluster, revision);
}

/* Connects to etcd and waits briefly for the first read, so the first install already has
 * the cluster's policy and the other nodes' endpoints; else the loop goes on connecting and
 * the agent enforces fail-closed meanwhile. */
static int open_cluster(struct agent *a, struct policy **policy)
{
	struct src_cluster_hooks hooks = {.policy = cluster_policy, .ud = a};
	const char *node = a->o.node;
	int r;

	if (!a->o.cluster)
		return 0;
	if (!node) {
		if (gethostname(a->node, sizeof(a->node) - 1) < 0 ||
		    !cluster_node_name_valid(a->node)) {
			cli_error("agent", "the host name is not a node name; give --node NAME");
			return -EINVAL;
		}
		node = a->node;
	}
	if ((r = src_cluster_open(a->o.cluster, node, a->o.cluster_ttl ? a->o.cluster_ttl : 30,
				  &hooks, &a->cluster)) < 0 ||
	    (r = agent_epoll_add(a, src_cluster_fd(a->cluster), T_CLUSTER)) < 0) {
		cli_error("agent", "--cluster: %s", strerror(-r));
		return r;
	}
	if (src_cluster_start(a->cluster, &a->ctx, 3000) < 0)
		log_warn("cluster: etcd not reachable yet; enforcing fail-closed until it is");
	if (a->cluster_first) {
		policy_free(*policy);
		*policy = a->cluster_first;
		a->cluster_first = NULL;
	}
	return 0;
}

static int setup(struct agent *a)
{
	/* Links only to re-check endpoints whose interface appears or changes: an unknown port
	 * on a managed bridge is already isolated by the kernel rules. */
	struct rtnl_watch_cb cb = {.link = link_event, .resync = resync_event, .ud = a};
	struct policy *policy = NULL;
	sigset_t mask;
	int r;

	if ((r = resolve_user(a)) < 0)
		return r;
	if ((r = a->o.cluster ? fail_closed_policy(&policy) : load_policy(a, &policy)) < 0) {
		cli_error("agent", "no valid policy to enforce; not starting");
		return r;
	}
	if ((r = reconcile_new(a->o.cli.bridges, a->o.cli.nbridges, &a->ctx.rc)) < 0 ||
	    !(a->ctx.inv = inventory_new())) {
		cli_error("agent", "out of memory");
		r = r < 0 ? r : -ENOMEM;
		goto fail;
	}
	inventory_set_checker(a->ctx.inv, check_endpoint, &a->ctx);
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	a->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (a->epfd < 0 || a->sigfd < 0 || (r = agent_epoll_add(a, a->sigfd, T_SIGNAL)) < 0) {
		r = r < 0 ? r : -errno;
		cli_error("agent", "cannot set up the event loop: %s", strerror(-r));
		goto fail;
	}
	if (!a->o.cluster && (r = watch_policy(a)) < 0)
		goto fail;
	if ((r = rtnl_watch_open(&cb, &a->ctx.rtnl)) < 0 ||
	    (r = agent_epoll_add(a, rtnl_watch_fd(a->ctx.rtnl), T_RTNL)) < 0) {
		cli_error("agent", "cannot watch interfaces (rtnetlink): %s", strerror(-r));
		goto fail;
	}
	if (a->o.endpoints_dir) {
		if ((r = src_files_open(a->o.endpoints_dir, &a->files)) < 0 ||
		    (r = agent_epoll_add(a, src_files_fd(a->files), T_FILES)) < 0) {
			cli_error("agent", "cannot watch %s: %s", a->o.endpoints_dir, strerror(-r));
			goto fail;
		}
		(void)src_files_scan(a->files, &a->ctx);
		agent_links_drop(&a->ctx); /* Docker's first list may come seconds later */
	}
	struct stat st;
	if (a->o.docker_socket && (a->o.docker_explicit || stat(a->o.docker_socket, &st) == 0)) {
		if ((r = src_docker_open(a->o.docker_socket, &a->docker)) < 0 ||
		    (r = agent_epoll_add(a, src_docker_fd(a->docker), T_DOCKER)) < 0) {
			cli_error("agent", "cannot use docker socket %s: %s", a->o.docker_socket,
				  strerror(-r));
			goto fail;
		}
		(void)src_docker_start(a->docker, &a->ctx, DOCKER_TIMEOUT_MS);
	} else if (a->o.docker_socket) {
		log_info("docker: no socket at %s; managing endpoint files only",
			 a->o.docker_socket);
	}
	if ((r = agent_open_metrics(a)) < 0 || (r = open_cluster(a, &policy)) < 0)
		goto fail;
	agent_open_observers(a);
	/* What an earlier agent learned from DNS is in the sets about to be replaced: taken
	 * over, and put back right after the install with what is left of its lifetime. */
	if (a->fqdn && (r = fqdn_adopt(a->fqdn, policy)) > 0)
		log_info("fqdn: %d learned addresses taken over from the installed sets", r);
	/* The first install replaces whatever an earlier agent left in one transaction: no
	 * moment without rules, and nothing flushed. */
	if ((r = full_apply(a, policy, "started")) < 0) {
		cli_error("agent", "could not install the policy (see above); not starting");
		goto fail;
	}
	policy = NULL; /* the reconciler owns it now */
	a->started = true;
	if (a->cluster)
		src_cluster_applied(a->cluster, a->cluster_first_rev);
	if ((r = nft_monitor_open(&a->monitor)) < 0 ||
	    (r = agent_epoll_add(a, nft_monitor_fd(a->monitor), T_MONITOR)) < 0) {
		cli_error("agent", "cannot watch nftables for tampering: %s", strerror(-r));
		goto fail;
	}
	/* What the checker learnt while starting must not answer for later wakeups. */
	agent_links_drop(&a->ctx);
	if ((r = confine(a)) < 0)
		goto fail;
	return 0;
fail:
	/* teardown() frees whatever was opened here; only the policy is not the agent's yet. */
	policy_free(policy);
	return r;
}

static void teardown(struct agent *a)
{
	src_cluster_free(a->cluster);
	control_free(a->metrics);
	control_free(a->control);
	nflog_free(a->nflog);
	fqdn_free(a->fqdn);
	agent_endpoints_changed(a);
	decisions_free(a->decisions);
	nft_monitor_free(a->monitor);
	src_docker_free(a->docker);
	src_files_free(a->files);
	agent_links_drop(&a->ctx);
	rtnl_watch_free(a->ctx.rtnl);
	inventory_free(a->ctx.inv);
	reconcile_free(a->ctx.rc);
	policy_watch_free(a->policy_watch);
	int fds[] = {a->epfd, a->sigfd};

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int cmd_agent(int argc, char **argv)
{
	struct agent a = {.epfd = -1, .sigfd = -1};
	int r = parse_args(argc, argv, &a.o);

	if (r != CLI_OK)
		return r;
	a.stats.started_ns = metrics_now_ns();
	r = setup(&a);
	while (r == 0 && !a.stop) {
		struct epoll_event evs[16];
		int n = epoll_wait(a.epfd, evs, 16, loop_timeout(&a));

		if (n < 0 && errno != EINTR) {
			log_error("epoll: %s", strerror(errno));
			r = -errno;
			break;
		}
		for (int i = 0; i < n; i++)
			dispatch(&a, (enum tag)evs[i].data.u64);
		read_files(&a);
		/* Silent clients expire without an event of their own. */
		if (a.control && control_timeout_ms(a.control) == 0)
			(void)control_process(a.control);
		if (a.metrics && control_timeout_ms(a.metrics) == 0)
			(void)control_process(a.metrics);
		/* One transaction per wakeup: a burst of events is committed together. */
		if (!a.stop)
			commit(&a);
		/* Local endpoints changed: the cluster publishes them (non-blocking). */
		if (a.cluster)
			src_cluster_local_changed(a.cluster);
		agent_links_drop(&a.ctx);
	}
	teardown(&a);
	return r == 0 ? CLI_OK : CLI_FAIL;
}
