/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "netns_peer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>

/* Room for one whole dump datagram: the kernel fills up to 32 KiB before it waits for us. */
#define NETNS_PEER_BUFSIZE 32768

struct nl_ctx {
	struct mnl_socket *nl;
	char *buf;
	unsigned int portid, seq;
};

static void nl_ctx_close(struct nl_ctx *c)
{
	if (c->nl)
		mnl_socket_close(c->nl);
	free(c->buf);
}

static int nl_ctx_open(struct nl_ctx *c)
{
	int one = 1;

	*c = (struct nl_ctx){.seq = (unsigned int)time(NULL)};
	c->buf = malloc(NETNS_PEER_BUFSIZE);
	c->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!c->buf || !c->nl || mnl_socket_bind(c->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int r = c->buf ? -errno : -ENOMEM;

		nl_ctx_close(c);
		return r;
	}
	/* Without strict checking the kernel ignores IFA_TARGET_NETNSID and dumps our own
	 * addresses instead: a silent wrong answer. */
	if (mnl_socket_setsockopt(c->nl, NETLINK_GET_STRICT_CHK, &one, sizeof(one)) < 0) {
		int r = -errno;

		nl_ctx_close(c);
		return r;
	}
	c->portid = mnl_socket_get_portid(c->nl);
	return 0;
}

static struct nlmsghdr *nl_ctx_msg(struct nl_ctx *c, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(c->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++c->seq;
	return nlh;
}

/* Sends NLH and feeds every reply to CB until the ack or the end of the dump. */
static int nl_ctx_talk(struct nl_ctx *c, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	unsigned int seq = nlh->nlmsg_seq;
	int r;

	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t n = mnl_socket_recvfrom(c->nl, c->buf, NETNS_PEER_BUFSIZE);

		if (n < 0)
			return -errno;
		r = mnl_cb_run(c->buf, (size_t)n, seq, c->portid, cb, data);
	} while (r == MNL_CB_OK);
	return r < 0 ? -errno : 0;
}

/* --- nsid ------------------------------------------------------------------------------- */

static int nsid_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWNSID)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(struct rtgenmsg))
	{
		if (mnl_attr_get_type(a) == NETNSA_NSID && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			*(int *)data = (int32_t)mnl_attr_get_u32(a);
	}
	return MNL_CB_OK;
}

static int nsid_request(struct nl_ctx *c, uint16_t type, int ns_fd, pid_t pid, int *ret)
{
	struct nlmsghdr *nlh = nl_ctx_msg(c, type, NLM_F_ACK);
	struct rtgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));

	g->rtgen_family = AF_UNSPEC;
	if (ns_fd >= 0)
		mnl_attr_put_u32(nlh, NETNSA_FD, (uint32_t)ns_fd);
	else
		mnl_attr_put_u32(nlh, NETNSA_PID, (uint32_t)pid);
	if (type == RTM_NEWNSID) /* -1: the kernel picks a free one */
		mnl_attr_put_u32(nlh, NETNSA_NSID, (uint32_t)NETNSA_NSID_NOT_ASSIGNED);
	return nl_ctx_talk(c, nlh, nsid_cb, ret);
}

int netns_peer_nsid(int ns_fd, pid_t pid, int *ret_nsid)
{
	struct nl_ctx c;
	int nsid = NETNSA_NSID_NOT_ASSIGNED, r;

	if (ns_fd < 0 && pid <= 0)
		return -EINVAL;
	if ((r = nl_ctx_open(&c)) < 0)
		return r;
	r = nsid_request(&c, RTM_GETNSID, ns_fd, pid, &nsid);
	/* No id yet (nothing of ours links there): assign one, then read what it became. A
	 * concurrent assignment by someone else makes ours fail with EEXIST: read theirs. */
	if (r == 0 && nsid < 0) {
		r = nsid_request(&c, RTM_NEWNSID, ns_fd, pid, &nsid);
		if (r == 0 || r == -EEXIST)
			r = nsid_request(&c, RTM_GETNSID, ns_fd, pid, &nsid);
	}
	nl_ctx_close(&c);
	if (r == -ESRCH)
		r = -ENOENT;
	if (r == 0 && nsid < 0)
		r = -EIO;
	if (r == 0)
		*ret_nsid = nsid;
	return r;
}

/* --- links ------------------------------------------------------------------------------ */

struct link_row {
	int ifindex, link, link_nsid; /* link_nsid -1: the peer is in the same namespace */
	bool veth, has_mac;
	uint8_t mac[6];
	char name[IFNAMSIZ];
};

static bool kind_is_veth(const struct nlattr *linkinfo)
{
	struct nlattr *a;

	if (mnl_attr_validate(linkinfo, MNL_TYPE_NESTED) < 0)
		return false;
	mnl_attr_for_each_nested(a, linkinfo)
	{
		if (mnl_attr_get_type(a) == IFLA_INFO_KIND &&
		    mnl_attr_validate(a, MNL_TYPE_STRING) == 0 &&
		    strcmp(mnl_attr_get_str(a), "veth") == 0)
			return true;
	}
	return false;
}

/* One RTM_NEWLINK, every attribute validated before use. */
static void link_parse(const struct nlmsghdr *nlh, struct link_row *row)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct nlattr *a;

	*row = (struct link_row){.ifindex = ifi->ifi_index, .link_nsid = -1};
	mnl_attr_for_each(a, nlh, sizeof(*ifi))
	{
		switch (mnl_attr_get_type(a)) {
		case IFLA_IFNAME:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 &&
			    strlen(mnl_attr_get_str(a)) < IFNAMSIZ)
				strcpy(row->name, mnl_attr_get_str(a));
			break;
		case IFLA_ADDRESS:
			if (mnl_attr_get_payload_len(a) == 6) {
				memcpy(row->mac, mnl_attr_get_payload(a), 6);
				row->has_mac = true;
			}
			break;
		case IFLA_LINK:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				row->link = (int)mnl_attr_get_u32(a);
			break;
		case IFLA_LINK_NETNSID:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				row->link_nsid = (int32_t)mnl_attr_get_u32(a);
			break;
		case IFLA_LINKINFO:
			row->veth = kind_is_veth(a);
			break;
		}
	}
}

struct link_find {
	const uint8_t *mac; /* match by MAC, or else by ifindex */
	int ifindex;
	bool found;
	struct link_row row;
};

static int link_find_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_find *f = data;
	struct link_row row;

	if (nlh->nlmsg_type != RTM_NEWLINK || f->found ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg))
		return MNL_CB_OK;
	link_parse(nlh, &row);
	if (f->mac ? row.has_mac && memcmp(row.mac, f->mac, 6) == 0 : row.ifindex == f->ifindex) {
		f->row = row;
		f->found = true;
	}
	return MNL_CB_OK;
}

/* A dump of namespace NSID's links (NSID < 0: ours), or one link of ours by IFINDEX. */
static int link_lookup(struct nl_ctx *c, int nsid, struct link_find *f)
{
	bool dump = nsid >= 0;
	struct nlmsghdr *nlh = nl_ctx_msg(c, RTM_GETLINK, dump ? NLM_F_DUMP : NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	int r;

	ifi->ifi_family = AF_UNSPEC;
	if (dump)
		mnl_attr_put_u32(nlh, IFLA_TARGET_NETNSID, (uint32_t)nsid);
	else
		ifi->ifi_index = f->ifindex;
	r = nl_ctx_talk(c, nlh, link_find_cb, f);
	if (r == -ENODEV || (r == 0 && !f->found))
		return -ENODEV;
	return r;
}

/* --- addresses -------------------------------------------------------------------------- */

struct addr_find {
	int family;
	const void *addr;
	int ifindex; /* 0: not found */
};

static int addr_find_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_find *f = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	size_t len = f->family == AF_INET ? 4 : 16;
	const struct nlattr *local = NULL, *address = NULL, *pick;
	struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWADDR || f->ifindex ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa) || ifa->ifa_family != f->family)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ifa))
	{
		if (mnl_attr_get_type(a) == IFA_LOCAL)
			local = a;
		else if (mnl_attr_get_type(a) == IFA_ADDRESS)
			address = a;
	}
	/* IFA_LOCAL is the interface's own address on point-to-point links; IPv6 has only
	 * IFA_ADDRESS. */
	pick = local ? local : address;
	if (pick && mnl_attr_get_payload_len(pick) == len &&
	    memcmp(mnl_attr_get_payload(pick), f->addr, len) == 0)
		f->ifindex = (int)ifa->ifa_index;
	return MNL_CB_OK;
}

static int addr_lookup(struct nl_ctx *c, int nsid, int family, const void *addr, int *ret)
{
	struct addr_find f = {.family = family, .addr = addr};
	struct nlmsghdr *nlh = nl_ctx_msg(c, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	int r;

	ifa->ifa_family = (uint8_t)family;
	mnl_attr_put_u32(nlh, IFA_TARGET_NETNSID, (uint32_t)nsid);
	r = nl_ctx_talk(c, nlh, addr_find_cb, &f);
	if (r == 0 && !f.ifindex)
		r = -ENODEV;
	if (r == 0)
		*ret = f.ifindex;
	return r;
}

int netns_peer_veth(int nsid, const uint8_t *mac, int family, const void *addr,
		    char ret_ifname[IFNAMSIZ])
{
	struct link_find inner = {.mac = mac}, host = {0};
	struct nl_ctx c;
	int r;

	if (nsid < 0 || (!mac && (!addr || (family != AF_INET && family != AF_INET6))))
		return -EINVAL;
	if ((r = nl_ctx_open(&c)) < 0)
		return r;
	if (!mac && (r = addr_lookup(&c, nsid, family, addr, &inner.ifindex)) < 0)
		goto out;
	if ((r = link_lookup(&c, nsid, &inner)) < 0)
		goto out;
	/* Its peer must be in another namespace (link_nsid there names it, relative to that
	 * namespace: not a number we can compare); which one, our side decides below. */
	r = -ENODEV;
	if (!inner.row.veth || inner.row.link <= 0 || inner.row.link_nsid < 0)
		goto out;
	host.ifindex = inner.row.link;
	if ((r = link_lookup(&c, -1, &host)) < 0)
		goto out;
	/* Ifindexes are per namespace: our link with that index must point back at exactly this
	 * interface of exactly that namespace. */
	r = -ENODEV;
	if (!host.row.veth || host.row.link != inner.row.ifindex || host.row.link_nsid != nsid ||
	    !host.row.name[0])
		goto out;
	strcpy(ret_ifname, host.row.name);
	r = 0;
out:
	nl_ctx_close(&c);
	return r;
}
