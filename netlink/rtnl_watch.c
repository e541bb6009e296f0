/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rtnetlink link and address watcher over libnl.
 *
 * Race-free start: the event socket subscribes before the state is dumped on a second socket, so
 * every change after the dump is also queued as an event; replaying queued events on top of the
 * dump converges because each NEWLINK carries the full state of its link.
 *
 * Overflow: once the kernel reports ENOBUFS, the events still queued are older than the gap, and
 * replaying them after a fresh dump would resurrect state the lost messages had changed. So the
 * queue is drained first, then dumped; what arrives after the drain follows the gap and is safe.
 *
 * Messages are parsed from raw attributes against policies (libnl checks lengths, NUL
 * termination), not through rtnl_link objects: the agent needs five fields, and owning the
 * parse keeps the validation explicit.
 */
#include "rtnl_watch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include "link.h"
#include "util.h"

/* Large enough for a burst of a few thousand link events (each ~1.5 KiB of skb) between reads. */
#define RW_RCVBUF (4 * 1024 * 1024)
/* A dump interrupted by concurrent changes (NLM_F_DUMP_INTR) is retried this often. */
#define RW_DUMP_TRIES 8
/* Resyncs within one rtnl_watch_read before yielding to the event loop under a storm. */
#define RW_RESYNCS_PER_READ 4

struct rw_link {
	int ifindex;
	char name[IFNAMSIZ];
	int master;
	bool is_bridge;
	bool up;
};

/* ifindex -> link, sorted by ifindex. */
struct rw_cache {
	struct rw_link *v;
	size_t n, cap;
};

struct rw_addr {
	int ifindex;
	int family;
	int prefixlen;
	uint8_t addr[16];
};

struct rw_dump {
	struct rw_cache links;
	struct rw_addr *addrs;
	size_t n_addrs, cap_addrs;
	int err; /* first -errno from a callback (allocation) */
};

struct rtnl_watch {
	struct rtnl_watch_cb cb;
	struct nl_sock *sk;
	struct nl_cb *nlcb;
	struct rw_cache links;
	bool need_resync;
};

/* ---- cache ---- */

/* Index of IFINDEX, or of where it would be inserted (*found false). */
static size_t rw_cache_pos(const struct rw_cache *c, int ifindex, bool *found)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->v[mid].ifindex < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < c->n && c->v[lo].ifindex == ifindex;
	return lo;
}

static const struct rw_link *rw_cache_get(const struct rw_cache *c, int ifindex)
{
	bool found;
	size_t i = rw_cache_pos(c, ifindex, &found);

	return found ? &c->v[i] : NULL;
}

static int rw_cache_put(struct rw_cache *c, const struct rw_link *l)
{
	bool found;
	size_t i = rw_cache_pos(c, l->ifindex, &found);

	if (!found) {
		if (GROW(c->v, c->cap, c->n + 1, 64) < 0)
			return -ENOMEM;
		memmove(&c->v[i + 1], &c->v[i], (c->n - i) * sizeof(*c->v));
		c->n++;
	}
	c->v[i] = *l;
	return 0;
}

static void rw_cache_del(struct rw_cache *c, int ifindex)
{
	bool found;
	size_t i = rw_cache_pos(c, ifindex, &found);

	if (!found)
		return;
	memmove(&c->v[i], &c->v[i + 1], (c->n - i - 1) * sizeof(*c->v));
	c->n--;
}

static void rw_cache_clear(struct rw_cache *c)
{
	free(c->v);
	*c = (struct rw_cache){0};
}

/* The public view of L, with the master resolved from C at the time of the call. */
static void rw_info(const struct rw_cache *c, const struct rw_link *l, struct rtnl_link_info *ret)
{
	const struct rw_link *m;

	*ret = (struct rtnl_link_info){
	    .ifindex = l->ifindex,
	    .master_ifindex = l->master,
	    .is_bridge = l->is_bridge,
	    .up = l->up,
	};
	memcpy(ret->name, l->name, sizeof(ret->name));
	if (l->master > 0 && (m = rw_cache_get(c, l->master))) {
		memcpy(ret->master, m->name, sizeof(ret->master));
		ret->master_is_bridge = m->is_bridge;
	}
}

/* ---- parsing ---- */

static const struct nla_policy rw_link_policy[IFLA_MAX + 1] = {
    [IFLA_IFNAME] = {.type = NLA_STRING, .maxlen = IFNAMSIZ},
    [IFLA_MASTER] = {.type = NLA_U32},
    [IFLA_LINKINFO] = {.type = NLA_NESTED},
};

static const struct nla_policy rw_info_policy[IFLA_INFO_MAX + 1] = {
    [IFLA_INFO_KIND] = {.type = NLA_STRING},
};

/*
 * RTM_NEWLINK/RTM_DELLINK of the AF_UNSPEC family into RET. *ret_has_name / *ret_has_kind say
 * whether IFLA_IFNAME / IFLA_INFO_KIND were present (a DELLINK may lack them; a kind never
 * changes, so a NEWLINK without one keeps the cached value). -EAFNOSUPPORT for other families:
 * the bridge sends AF_BRIDGE NEWLINK/DELLINK for port state, and a DELLINK there means "left the
 * bridge", not "deleted". -EBADMSG when malformed.
 */
static int rw_parse_link(struct nlmsghdr *nlh, struct rw_link *ret, bool *ret_has_name,
			 bool *ret_has_kind)
{
	struct nlattr *tb[IFLA_MAX + 1], *info[IFLA_INFO_MAX + 1];
	struct ifinfomsg *ifi;
	struct rw_link l = {0};
	bool has_name = false, has_kind = false;

	if (!nlmsg_valid_hdr(nlh, sizeof(*ifi)))
		return -EBADMSG;
	ifi = nlmsg_data(nlh);
	if (ifi->ifi_family != AF_UNSPEC)
		return -EAFNOSUPPORT;
	if (ifi->ifi_index <= 0)
		return -EBADMSG;
	if (nlmsg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX, rw_link_policy) < 0)
		return -EBADMSG;
	l.ifindex = ifi->ifi_index;
	l.up = ifi->ifi_flags & IFF_UP;
	if (tb[IFLA_IFNAME]) {
		/* The policy guarantees NUL termination within IFNAMSIZ bytes. */
		const char *name = nla_data(tb[IFLA_IFNAME]);

		if (!name[0])
			return -EBADMSG;
		memcpy(l.name, name, strnlen(name, IFNAMSIZ - 1));
		has_name = true;
	}
	if (tb[IFLA_MASTER]) {
		uint32_t m = nla_get_u32(tb[IFLA_MASTER]);

		if (m > INT32_MAX)
			return -EBADMSG;
		l.master = (int)m;
	}
	if (tb[IFLA_LINKINFO]) {
		if (nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], rw_info_policy) < 0)
			return -EBADMSG;
		if (info[IFLA_INFO_KIND]) {
			l.is_bridge = strcmp(nla_data(info[IFLA_INFO_KIND]), "bridge") == 0;
			has_kind = true;
		}
	}
	*ret = l;
	*ret_has_name = has_name;
	*ret_has_kind = has_kind;
	return 0;
}

static const struct nla_policy rw_addr_policy[IFA_MAX + 1] = {
    [IFA_ADDRESS] = {.minlen = 4, .maxlen = 16},
    [IFA_LOCAL] = {.minlen = 4, .maxlen = 16},
};

/* RTM_NEWADDR/RTM_DELADDR into RET; -EAFNOSUPPORT for families other than IPv4/IPv6. */
static int rw_parse_addr(struct nlmsghdr *nlh, struct rw_addr *ret)
{
	struct nlattr *tb[IFA_MAX + 1], *a;
	struct ifaddrmsg *ifa;
	struct rw_addr r = {0};
	int alen, maxplen;

	if (!nlmsg_valid_hdr(nlh, sizeof(*ifa)))
		return -EBADMSG;
	ifa = nlmsg_data(nlh);
	switch (ifa->ifa_family) {
	case AF_INET:
		alen = 4;
		maxplen = 32;
		break;
	case AF_INET6:
		alen = 16;
		maxplen = 128;
		break;
	default:
		return -EAFNOSUPPORT;
	}
	if (ifa->ifa_index == 0 || ifa->ifa_index > INT32_MAX || ifa->ifa_prefixlen > maxplen)
		return -EBADMSG;
	if (nlmsg_parse(nlh, sizeof(*ifa), tb, IFA_MAX, rw_addr_policy) < 0)
		return -EBADMSG;
	/* On point-to-point links IFA_ADDRESS is the peer; IFA_LOCAL is ours when present. */
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || nla_len(a) != alen)
		return -EBADMSG;
	r.ifindex = (int)ifa->ifa_index;
	r.family = ifa->ifa_family;
	r.prefixlen = ifa->ifa_prefixlen;
	memcpy(r.addr, nla_data(a), (size_t)alen);
	*ret = r;
	return 0;
}

/* Only the kernel may speak on these groups; anything else is not ours to believe. */
static bool rw_from_kernel(struct nl_msg *msg)
{
	struct sockaddr_nl *src = nlmsg_get_src(msg);

	return src && src->nl_pid == 0;
}

/* ---- reporting ---- */

static void rw_report_link(struct rtnl_watch *w, enum rtnl_watch_event ev,
			   const struct rtnl_link_info *info)
{
	if (w->cb.link)
		w->cb.link(ev, info, w->cb.ud);
}

static void rw_report_addr(struct rtnl_watch *w, enum rtnl_watch_event ev, const struct rw_addr *a)
{
	if (w->cb.addr)
		w->cb.addr(ev, a->ifindex, a->family, a->addr, a->prefixlen, w->cb.ud);
}

/* Ports of MASTER whose master name or bridge-ness the consumer saw differently until now. */
static void rw_report_ports(struct rtnl_watch *w, int master)
{
	struct rtnl_link_info info;

	for (size_t i = 0; i < w->links.n; i++) {
		if (w->links.v[i].master != master)
			continue;
		rw_info(&w->links, &w->links.v[i], &info);
		rw_report_link(w, RTNL_WATCH_LINK_NEW, &info);
	}
}

/* ---- events ---- */

static void rw_on_newlink(struct rtnl_watch *w, const struct rw_link *parsed, bool has_kind)
{
	const struct rw_link *old = rw_cache_get(&w->links, parsed->ifindex);
	struct rtnl_link_info old_info, info;
	struct rw_link l = *parsed;
	bool renamed = false, identity_changed;

	if (old) {
		if (!has_kind)
			l.is_bridge = old->is_bridge;
		if (old->master == l.master && old->is_bridge == l.is_bridge && old->up == l.up &&
		    strcmp(old->name, l.name) == 0)
			return;
		renamed = strcmp(old->name, l.name) != 0;
		rw_info(&w->links, old, &old_info);
	}
	identity_changed = !old || renamed || old->is_bridge != l.is_bridge;
	if (rw_cache_put(&w->links, &l) < 0) {
		/* The cache is now behind the kernel: rebuild it from a dump. */
		w->need_resync = true;
		return;
	}
	if (renamed)
		rw_report_link(w, RTNL_WATCH_LINK_DEL, &old_info);
	rw_info(&w->links, &l, &info);
	rw_report_link(w, RTNL_WATCH_LINK_NEW, &info);
	if (identity_changed)
		rw_report_ports(w, l.ifindex);
}

static void rw_on_dellink(struct rtnl_watch *w, const struct rw_link *parsed, bool has_name)
{
	const struct rw_link *old = rw_cache_get(&w->links, parsed->ifindex);
	struct rtnl_link_info info;

	rw_info(&w->links, old ? old : parsed, &info);
	if (has_name)
		memcpy(info.name, parsed->name, sizeof(info.name));
	rw_cache_del(&w->links, parsed->ifindex);
	rw_report_link(w, RTNL_WATCH_LINK_DEL, &info);
}

/* NL_CB_VALID on the event socket. Malformed messages are skipped: one bad message from the
 * kernel must not stop the watch. */
static int rw_event_valid(struct nl_msg *msg, void *arg)
{
	struct rtnl_watch *w = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct rw_link l;
	struct rw_addr a;
	bool has_name, has_kind;

	if (!rw_from_kernel(msg))
		return NL_SKIP;
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
		if (rw_parse_link(nlh, &l, &has_name, &has_kind) == 0 && has_name)
			rw_on_newlink(w, &l, has_kind);
		break;
	case RTM_DELLINK:
		if (rw_parse_link(nlh, &l, &has_name, &has_kind) == 0)
			rw_on_dellink(w, &l, has_name);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		if (rw_parse_addr(nlh, &a) == 0)
			rw_report_addr(w,
				       nlh->nlmsg_type == RTM_NEWADDR ? RTNL_WATCH_ADDR_NEW
								      : RTNL_WATCH_ADDR_DEL,
				       &a);
		break;
	default:
		break;
	}
	return NL_OK;
}

/* ---- dumps ---- */

static void rw_dump_clear(struct rw_dump *d)
{
	rw_cache_clear(&d->links);
	free(d->addrs);
	*d = (struct rw_dump){0};
}

static int rw_dump_valid(struct nl_msg *msg, void *arg)
{
	struct rw_dump *d = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct rw_link l;
	struct rw_addr a;
	bool has_name, has_kind;
	int r;

	if (d->err < 0 || !rw_from_kernel(msg))
		return NL_SKIP;
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
		if (rw_parse_link(nlh, &l, &has_name, &has_kind) == 0 && has_name) {
			r = rw_cache_put(&d->links, &l);
			if (r < 0)
				d->err = r;
		}
		break;
	case RTM_NEWADDR:
		if (rw_parse_addr(nlh, &a) < 0)
			break;
		if (d->n_addrs == d->cap_addrs) {
			size_t cap = d->cap_addrs ? d->cap_addrs * 2 : 64;
			struct rw_addr *v = reallocarray(d->addrs, cap, sizeof(*v));

			if (!v) {
				d->err = -ENOMEM;
				break;
			}
			d->addrs = v;
			d->cap_addrs = cap;
		}
		d->addrs[d->n_addrs++] = a;
		break;
	default:
		break;
	}
	return NL_OK;
}

/* One RTM_GET* dump request and its multi-part answer, up to NLMSG_DONE. */
static int rw_dump_one(struct nl_sock *sk, int type)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct ifaddrmsg ifa = {.ifa_family = AF_UNSPEC};
	int r;

	if (type == RTM_GETLINK)
		r = nl_send_simple(sk, type, NLM_F_DUMP, &ifi, sizeof(ifi));
	else
		r = nl_send_simple(sk, type, NLM_F_DUMP, &ifa, sizeof(ifa));
	if (r < 0)
		return r;
	return nl_recvmsgs_default(sk);
}

/*
 * Links then addresses into RET, on a private blocking socket, retried while the kernel flags
 * the dump as interrupted by concurrent changes. Nothing is reported from here.
 */
static int rw_dump(struct rw_dump *ret)
{
	struct rw_dump d = {0};
	struct nl_sock *sk;
	int r;

	r = link_route_socket(&sk);
	if (r < 0)
		return r;
	r = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, rw_dump_valid, &d);
	if (r < 0) {
		r = link_nl_errno(r);
		goto out;
	}
	for (int attempt = 0; attempt < RW_DUMP_TRIES; attempt++) {
		rw_dump_clear(&d);
		r = rw_dump_one(sk, RTM_GETLINK);
		if (r >= 0)
			r = rw_dump_one(sk, RTM_GETADDR);
		if (r == -NLE_DUMP_INTR)
			continue;
		if (r < 0) {
			r = link_nl_errno(r);
			goto out;
		}
		if (d.err < 0) {
			r = d.err;
			goto out;
		}
		*ret = d;
		d = (struct rw_dump){0};
		r = 0;
		goto out;
	}
	r = -EBUSY;
out:
	rw_dump_clear(&d);
	nl_socket_free(sk);
	return r;
}

/*
 * Replaces the cache with the dump D and reports it: with RESYNC first and DEL for links gone
 * when REPLACING, plain NEWs at open. Consumes D.
 */
static void rw_apply_dump(struct rtnl_watch *w, struct rw_dump *d, bool replacing)
{
	struct rtnl_link_info info;
	struct rw_cache old = w->links;

	w->links = d->links;
	d->links = (struct rw_cache){0};
	if (replacing) {
		if (w->cb.resync)
			w->cb.resync(w->cb.ud);
		for (size_t i = 0; i < old.n; i++) {
			if (rw_cache_get(&w->links, old.v[i].ifindex))
				continue;
			rw_info(&old, &old.v[i], &info);
			rw_report_link(w, RTNL_WATCH_LINK_DEL, &info);
		}
	}
	rw_cache_clear(&old);
	for (size_t i = 0; i < w->links.n; i++) {
		rw_info(&w->links, &w->links.v[i], &info);
		rw_report_link(w, RTNL_WATCH_LINK_NEW, &info);
	}
	for (size_t i = 0; i < d->n_addrs; i++)
		rw_report_addr(w, RTNL_WATCH_ADDR_NEW, &d->addrs[i]);
	rw_dump_clear(d);
}

/*
 * Discards the queued events, all older than the dump about to be taken. Bounded by the receive
 * buffer size so an event storm cannot keep us here: the queue cannot hold more than that.
 */
static void rw_drain(struct rtnl_watch *w)
{
	int fd = nl_socket_get_fd(w->sk);
	int rcvbuf = 0;
	socklen_t len = sizeof(rcvbuf);
	size_t budget, drained = 0;
	char buf[8192];

	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len) < 0 || rcvbuf <= 0)
		rcvbuf = RW_RCVBUF;
	budget = (size_t)rcvbuf;
	while (drained <= budget) {
		/* MSG_TRUNC: the full datagram length is returned and the datagram dropped. */
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			break;
		}
		drained += (size_t)n + 1;
	}
}

static int rw_resync(struct rtnl_watch *w)
{
	struct rw_dump d;
	int r;

	w->need_resync = true;
	rw_drain(w);
	r = rw_dump(&d);
	if (r < 0)
		return r;
	w->need_resync = false;
	rw_apply_dump(w, &d, true);
	return 0;
}

/* ---- public ---- */

int rtnl_watch_open(const struct rtnl_watch_cb *cb, struct rtnl_watch **ret_watch)
{
	struct rtnl_watch *w;
	struct rw_dump d;
	int r, fd, sz = RW_RCVBUF;

	if (!ret_watch)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	if (cb)
		w->cb = *cb;
	w->sk = nl_socket_alloc();
	if (!w->sk) {
		r = -ENOMEM;
		goto fail;
	}
	nl_socket_disable_seq_check(w->sk);
	r = nl_socket_modify_cb(w->sk, NL_CB_VALID, NL_CB_CUSTOM, rw_event_valid, w);
	if (r < 0)
		goto fail_nl;
	r = nl_connect(w->sk, NETLINK_ROUTE);
	if (r < 0)
		goto fail_nl;
	r = nl_socket_set_buffer_size(w->sk, RW_RCVBUF, 0);
	if (r < 0)
		goto fail_nl;
	/* SO_RCVBUF is capped by net.core.rmem_max (~208 KiB by default); with CAP_NET_ADMIN the
	 * cap does not apply. Unprivileged, the capped size is what we get. */
	fd = nl_socket_get_fd(w->sk);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	r = nl_socket_set_nonblocking(w->sk);
	if (r < 0)
		goto fail_nl;
	r = nl_socket_add_memberships(w->sk, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR,
				      0);
	if (r < 0)
		goto fail_nl;
	w->nlcb = nl_socket_get_cb(w->sk);
	if (!w->nlcb) {
		r = -ENOMEM;
		goto fail;
	}
	/* Subscribed first: everything after this dump is queued on w->sk as well. */
	r = rw_dump(&d);
	if (r < 0)
		goto fail;
	rw_apply_dump(w, &d, false);
	*ret_watch = w;
	return 0;

fail_nl:
	r = link_nl_errno(r);
fail:
	rtnl_watch_free(w);
	return r;
}

int rtnl_watch_new_detached(const struct rtnl_watch_cb *cb, struct rtnl_watch **ret_watch)
{
	struct rtnl_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	if (cb)
		w->cb = *cb;
	*ret_watch = w;
	return 0;
}

/*
 * What nl_recvmsgs() does with a datagram from the kernel, up to the NL_CB_VALID callback:
 * each message copied into an nl_msg that names the kernel as its sender; control messages
 * (NOOP, DONE, ERROR, OVERRUN) never reach that callback.
 */
int rtnl_watch_parse(struct rtnl_watch *w, const void *buf, size_t len)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	int left = len > INT32_MAX ? INT32_MAX : (int)len;

	for (; nlmsg_ok(nlh, left); nlh = nlmsg_next(nlh, &left)) {
		struct nl_msg *msg;

		if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
			continue;
		msg = nlmsg_convert(nlh);
		if (!msg)
			return -ENOMEM;
		nlmsg_set_proto(msg, NETLINK_ROUTE);
		nlmsg_set_src(msg, &kernel);
		(void)rw_event_valid(msg, w);
		nlmsg_free(msg);
	}
	return 0;
}

int rtnl_watch_fd(const struct rtnl_watch *w)
{
	if (!w)
		return -EINVAL;
	return nl_socket_get_fd(w->sk);
}

int rtnl_watch_read(struct rtnl_watch *w)
{
	int r, resyncs = 0;

	if (!w)
		return -EINVAL;
	if (w->need_resync) {
		r = rw_resync(w);
		if (r < 0)
			return r;
		resyncs++;
	}
	for (;;) {
		/* >0: messages handled; 0 or NLE_AGAIN: queue empty (depends on libnl version). */
		r = nl_recvmsgs_report(w->sk, w->nlcb);
		if (r > 0 || r == -NLE_INTR)
			continue;
		if (r == 0 || r == -NLE_AGAIN)
			break;
		switch (-r) {
		case NLE_NOMEM:	       /* ENOBUFS: the kernel dropped events */
		case NLE_MSG_OVERFLOW: /* NLMSG_OVERRUN */
		case NLE_MSG_TRUNC:
		case NLE_MSG_TOOSHORT:
			break;
		default:
			return link_nl_errno(r);
		}
		r = rw_resync(w);
		if (r < 0)
			return r;
		/* Still overflowing after a few rounds: leave the rest to the next call so the
		 * event loop can breathe. The state is consistent now, and anything newer keeps
		 * the fd readable. */
		if (++resyncs >= RW_RESYNCS_PER_READ)
			return 0;
	}
	/* A cache allocation failed while handling events. */
	if (w->need_resync)
		return rw_resync(w);
	return 0;
}

void rtnl_watch_free(struct rtnl_watch *w)
{
	if (!w)
		return;
	if (w->nlcb)
		nl_cb_put(w->nlcb);
	nl_socket_free(w->sk);
	rw_cache_clear(&w->links);
	free(w);
}

int rtnl_watch_find(const struct rtnl_watch *w, const char *name, struct rtnl_link_info *ret)
{
	if (!w || !name || !name[0] || strnlen(name, IFNAMSIZ) >= IFNAMSIZ || !ret)
		return -EINVAL;
	for (size_t i = 0; i < w->links.n; i++) {
		if (strcmp(w->links.v[i].name, name) == 0) {
			rw_info(&w->links, &w->links.v[i], ret);
			return 0;
		}
	}
	return -ENOENT;
}

int rtnl_watch_find_ifindex(const struct rtnl_watch *w, int ifindex, struct rtnl_link_info *ret)
{
	const struct rw_link *l;

	if (!w || ifindex <= 0 || !ret)
		return -EINVAL;
	l = rw_cache_get(&w->links, ifindex);
	if (!l)
		return -ENOENT;
	rw_info(&w->links, l, ret);
	return 0;
}
