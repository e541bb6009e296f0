/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "agent.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "brnf.h"
#include "caps.h"
#include "docker.h"
#include "link.h"
#include "log.h"
#include "nft_monitor.h"
#include "rtnl_watch.h"

/* Editors save in several writes; wait for the burst to end before reloading the policy. */
#define RELOAD_DEBOUNCE_MS 50

enum tag { T_SIGNAL, T_POLICY, T_RELOAD, T_FILES, T_DOCKER, T_DOCKER_TIMER, T_RTNL, T_MONITOR };

struct agent_opts {
	struct cli_opts cli;
	const char *docker_socket;
	bool docker_explicit;
	const char *endpoints_dir;
	const char *control_socket;
};

struct agent {
	struct agent_opts o;
	struct agent_ctx ctx;
	int epfd, sigfd, policy_fd, reload_fd;
	char policy_watch_name[NAME_MAX + 1]; /* "" when the whole directory is the policy */
	struct src_files *files;
	struct src_docker *docker;
	struct nft_monitor *monitor;
	int docker_fd_registered;
	bool stop;
};

static const char agent_usage[] =
    "usage: netseg agent [-p PATH] [--docker SOCK|none] [--endpoints-dir DIR] [--bridge NAME]...\n"
    "                    [--control SOCK] [-v]\n";

static int parse_args(int argc, char **argv, struct agent_opts *ret)
{
	static const struct option longopts[] = {
	    {"policy", required_argument, NULL, 'p'},
	    {"docker", required_argument, NULL, 'd'},
	    {"endpoints-dir", required_argument, NULL, 'E'},
	    {"bridge", required_argument, NULL, 'b'},
	    {"control", required_argument, NULL, 'c'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct agent_opts o = {.docker_socket = DOCKER_DEFAULT_SOCKET};
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
			o.control_socket = optarg;
			break;
		case 'v':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'h':
			fputs(agent_usage, stdout);
			return CLI_USAGE;
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
	*ret = o;
	return CLI_OK;
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
		} else if (link_bridge_of(e->interface, master, sizeof(master)) == 0) {
			e->bridge = strdup(master);
		}
	}
}

static int epoll_add(struct agent *a, int fd, enum tag tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};

	return epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void log_diag_lines(const struct diag_list *d, enum log_level level)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	diag_print(d, f);
	fclose(f);
	for (char *save, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		log_msg(level, "%s", line);
	free(text);
}

static int load_policy(const struct agent *a, struct policy **ret)
{
	struct diag_list *d = diag_list_new();
	int r;

	if (!d)
		return -ENOMEM;
	r = policy_load(cli_policy_path(&a->o.cli), d, ret);
	log_diag_lines(d, r < 0 ? LOG_LEVEL_ERROR : LOG_LEVEL_WARNING);
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
		log_error("%s: %s", why, err.message[0] ? err.message : strerror(-r));
		return r;
	}
	log_info("%s: enforcing %zu rules for %zu endpoints (%.1f ms)", why,
		 reconcile_policy(a->ctx.rc)->nrules, inventory_count(a->ctx.inv),
		 reconcile_stats(a->ctx.rc)->last_ms);
	a->ctx.need_reapply = false;
	return 0;
}

static void reload_policy(struct agent *a)
{
	struct policy *p = NULL;

	if (load_policy(a, &p) < 0) {
		log_error("policy reload failed; still enforcing the last good policy");
		return;
	}
	if (full_apply(a, p, "policy reloaded") < 0) {
		policy_free(p);
		log_error("policy reload not installed; still enforcing the last good policy");
	}
}

static void arm_reload(struct agent *a)
{
	struct itimerspec its = {.it_value = {.tv_nsec = RELOAD_DEBOUNCE_MS * 1000000L}};

	timerfd_settime(a->reload_fd, 0, &its, NULL);
}

/* Watch the policy's directory: editors replace files by rename, which a watch on the file
 * itself would lose. */
static int watch_policy(struct agent *a)
{
	const char *path = cli_policy_path(&a->o.cli);
	char dir[PATH_MAX];
	struct stat st;

	a->policy_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (a->policy_fd < 0)
		return -errno;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(dir, sizeof(dir), "%s", path);
		a->policy_watch_name[0] = '\0';
	} else {
		char tmp[PATH_MAX];

		/* dirname() and basename() may modify their argument: give each its own copy. */
		snprintf(tmp, sizeof(tmp), "%s", path);
		snprintf(dir, sizeof(dir), "%s", dirname(tmp));
		snprintf(tmp, sizeof(tmp), "%s", path);
		snprintf(a->policy_watch_name, sizeof(a->policy_watch_name), "%s", basename(tmp));
	}
	if (inotify_add_watch(a->policy_fd, dir,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE) < 0) {
		int r = -errno;

		cli_error("agent", "cannot watch %s for policy changes: %s", dir, strerror(-r));
		return r;
	}
	return epoll_add(a, a->policy_fd, T_POLICY);
}

static void on_policy_event(struct agent *a)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool relevant = false;
	ssize_t n;

	while ((n = read(a->policy_fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			if (!a->policy_watch_name[0] ||
			    (ev->len && !strcmp(ev->name, a->policy_watch_name)))
				relevant = true;
			p += sizeof(*ev) + ev->len;
		}
	if (relevant)
		arm_reload(a);
}

static void on_signal(struct agent *a)
{
	struct signalfd_siginfo si;

	while (read(a->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_info("SIGHUP: reloading the policy");
			reload_policy(a);
		} else {
			log_info("%s: exiting; the rules stay installed ('netseg flush' removes "
				 "them)",
				 strsignal((int)si.ssi_signo));
			a->stop = true;
		}
	}
}

static void link_event(enum rtnl_watch_event ev, const struct rtnl_link_info *li, void *ud)
{
	(void)ev;
	(void)li;
	(void)ud;
	/* Ports need no action here: an unknown port on a managed bridge is already isolated by
	 * the kernel rules. Endpoint files without a bridge are re-resolved on rescan. */
}

static void resync_event(void *ud)
{
	struct agent *a = ud;

	log_warn("rtnetlink events were lost; resynchronising");
	a->ctx.need_reapply = true;
}

static void sync_docker_fd(struct agent *a)
{
	int fd;

	if (!a->docker || !src_docker_fd_changed(a->docker))
		return;
	fd = src_docker_events_fd(a->docker);
	if (a->docker_fd_registered >= 0 && a->docker_fd_registered != fd)
		epoll_ctl(a->epfd, EPOLL_CTL_DEL, a->docker_fd_registered, NULL);
	a->docker_fd_registered = -1;
	if (fd >= 0 && epoll_add(a, fd, T_DOCKER) == 0)
		a->docker_fd_registered = fd;
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
		log_error("element update failed: %s; re-applying everything",
			  err.message[0] ? err.message : strerror(-r));
		(void)full_apply(a, NULL, "repair");
	}
}

static void dispatch(struct agent *a, enum tag tag)
{
	uint64_t ticks;
	bool tampered = false;
	int r;

	switch (tag) {
	case T_SIGNAL:
		on_signal(a);
		break;
	case T_POLICY:
		on_policy_event(a);
		break;
	case T_RELOAD:
		(void)!read(a->reload_fd, &ticks, sizeof(ticks));
		log_info("policy changed on disk: reloading");
		reload_policy(a);
		break;
	case T_FILES:
		if ((r = src_files_read(a->files, &a->ctx)) < 0)
			log_warn("endpoint files: %s, ignoring", strerror(-r));
		break;
	case T_DOCKER:
		(void)src_docker_read(a->docker, &a->ctx);
		break;
	case T_DOCKER_TIMER:
		(void)src_docker_connect(a->docker, &a->ctx);
		break;
	case T_RTNL:
		if ((r = rtnl_watch_read(a->ctx.rtnl)) < 0)
			log_warn("rtnetlink: %s, ignoring", strerror(-r));
		break;
	case T_MONITOR:
		r = nft_monitor_read(a->monitor, &tampered);
		if (r < 0)
			log_warn("nftables monitor: %s, ignoring", strerror(-r));
		if (tampered) {
			log_warn("tamper: another process changed netseg's tables; restoring them");
			a->ctx.need_reapply = true;
		}
		break;
	}
	sync_docker_fd(a);
}

static int setup(struct agent *a)
{
	struct rtnl_watch_cb cb = {.link = link_event, .resync = resync_event, .ud = a};
	struct policy *policy = NULL;
	sigset_t mask;
	int r;

	if ((r = load_policy(a, &policy)) < 0) {
		cli_error("agent", "no valid policy to enforce; not starting");
		return r;
	}
	if ((r = reconcile_new(a->o.cli.bridges, a->o.cli.nbridges, &a->ctx.rc)) < 0 ||
	    !(a->ctx.inv = inventory_new())) {
		cli_error("agent", "out of memory");
		policy_free(policy);
		return r < 0 ? r : -ENOMEM;
	}
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	a->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	a->reload_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (a->epfd < 0 || a->sigfd < 0 || a->reload_fd < 0 ||
	    (r = epoll_add(a, a->sigfd, T_SIGNAL)) < 0 ||
	    (r = epoll_add(a, a->reload_fd, T_RELOAD)) < 0) {
		r = r < 0 ? r : -errno;
		cli_error("agent", "cannot set up the event loop: %s", strerror(-r));
		policy_free(policy);
		return r;
	}
	if ((r = watch_policy(a)) < 0) {
		policy_free(policy);
		return r;
	}
	if ((r = rtnl_watch_open(&cb, &a->ctx.rtnl)) < 0 ||
	    (r = epoll_add(a, rtnl_watch_fd(a->ctx.rtnl), T_RTNL)) < 0) {
		cli_error("agent", "cannot watch interfaces (rtnetlink): %s", strerror(-r));
		policy_free(policy);
		return r;
	}
	if (a->o.endpoints_dir) {
		if ((r = src_files_open(a->o.endpoints_dir, &a->files)) < 0 ||
		    (r = epoll_add(a, src_files_fd(a->files), T_FILES)) < 0) {
			cli_error("agent", "cannot watch %s: %s", a->o.endpoints_dir, strerror(-r));
			policy_free(policy);
			return r;
		}
		(void)src_files_scan(a->files, &a->ctx);
	}
	struct stat st;
	if (a->o.docker_socket && (a->o.docker_explicit || stat(a->o.docker_socket, &st) == 0)) {
		if ((r = src_docker_open(a->o.docker_socket, &a->docker)) < 0 ||
		    (r = epoll_add(a, src_docker_timer_fd(a->docker), T_DOCKER_TIMER)) < 0) {
			cli_error("agent", "cannot use docker socket %s: %s", a->o.docker_socket,
				  strerror(-r));
			policy_free(policy);
			return r;
		}
		(void)src_docker_connect(a->docker, &a->ctx);
		sync_docker_fd(a);
	} else if (a->o.docker_socket) {
		log_info("docker: no socket at %s; managing endpoint files only",
			 a->o.docker_socket);
	}
	if (a->o.control_socket)
		log_warn("--control: the control socket is not implemented yet; ignoring");
	/* The first install replaces whatever an earlier agent left in one transaction: no
	 * moment without rules, and nothing flushed. */
	if ((r = full_apply(a, policy, "started")) < 0) {
		cli_error("agent", "could not install the policy (see above); not starting");
		policy_free(policy);
		return r;
	}
	if ((r = nft_monitor_open(&a->monitor)) < 0 ||
	    (r = epoll_add(a, nft_monitor_fd(a->monitor), T_MONITOR)) < 0) {
		cli_error("agent", "cannot watch nftables for tampering: %s", strerror(-r));
		return r;
	}
	if ((r = caps_drop_to_agent_set()) < 0)
		log_warn("cannot drop capabilities: %s; running with all of them", strerror(-r));
	else
		log_debug("capabilities dropped to net_admin, sys_admin, sys_ptrace");
	return 0;
}

static void teardown(struct agent *a)
{
	nft_monitor_free(a->monitor);
	src_docker_free(a->docker);
	src_files_free(a->files);
	rtnl_watch_free(a->ctx.rtnl);
	inventory_free(a->ctx.inv);
	reconcile_free(a->ctx.rc);
	int fds[] = {a->epfd, a->sigfd, a->policy_fd, a->reload_fd};

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int cmd_agent(int argc, char **argv)
{
	struct agent a = {
	    .epfd = -1, .sigfd = -1, .policy_fd = -1, .reload_fd = -1, .docker_fd_registered = -1};
	int r = parse_args(argc, argv, &a.o);

	if (r != CLI_OK)
		return r;
	r = setup(&a);
	while (r == 0 && !a.stop) {
		struct epoll_event evs[16];
		int n = epoll_wait(a.epfd, evs, 16, -1);

		if (n < 0 && errno != EINTR) {
			log_error("epoll: %s", strerror(errno));
			r = -errno;
			break;
		}
		for (int i = 0; i < n; i++)
			dispatch(&a, (enum tag)evs[i].data.u32);
		/* One transaction per wakeup: a burst of events is committed together. */
		if (!a.stop)
			commit(&a);
	}
	teardown(&a);
	return r == 0 ? CLI_OK : CLI_FAIL;
}
