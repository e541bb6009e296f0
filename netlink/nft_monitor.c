/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nf_tables notifications -> "someone else changed our tables". The kernel sends a committed
 * transaction's notifications together, under its commit mutex, object messages first and
 * NFT_MSG_NEWGEN last, so a socket sees transactions one after the other, never interleaved:
 * whatever arrives before a NEWGEN belongs to the transaction that NEWGEN closes.
 */
#include "nft_monitor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "sockbuf.h"

#define MONITOR_TABLE "netseg"

/*
 * Room for the notifications of a full apply of a large ruleset (one message per element, the
 * kernel packing them into page-sized buffers) while the agent is busy: overflowing would
 * report our own apply as tampering and make the agent apply again.
 */
#define MONITOR_RCVBUF (32u * 1024u * 1024u)
/* One datagram: the kernel builds notifications in buffers of at most a few pages. */
#define MONITOR_BUF (64u * 1024u)

/* Message types of newer kernels than our headers know; the values are ABI. */
#define MONITOR_MSG_DESTROYTABLE     26
#define MONITOR_MSG_DESTROYFLOWTABLE 32

struct nft_monitor {
	struct mnl_socket *nl;
	bool touched;  /* the open transaction changed one of our tables */
	bool tampered; /* to report on the next successful read */
	char culprit[64];
	uint8_t *buf;
};

int nft_monitor_new_detached(struct nft_monitor **ret)
{
	struct nft_monitor *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->buf = malloc(MONITOR_BUF);
	if (!m->buf) {
		free(m);
		return -ENOMEM;
	}
	*ret = m;
	return 0;
}

int nft_monitor_open(struct nft_monitor **ret)
{
	struct nft_monitor *m;
	int grp = NFNLGRP_NFTABLES;
	int r;

	r = nft_monitor_new_detached(&m);
	if (r < 0)
		return r;
	m->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!m->nl) {
		r = -errno;
		goto fail;
	}
	if (mnl_socket_bind(m->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(m->nl, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) < 0) {
		r = -errno;
		goto fail;
	}
	sockbuf_set(mnl_socket_get_fd(m->nl), SO_RCVBUFFORCE, SO_RCVBUF, MONITOR_RCVBUF);
	*ret = m;
	return 0;
fail:
	nft_monitor_free(m);
	return r;
}

void nft_monitor_free(struct nft_monitor *m)
{
	if (!m)
		return;
	if (m->nl)
		mnl_socket_close(m->nl);
	free(m->buf);
	free(m);
}

int nft_monitor_fd(const struct nft_monitor *m)
{
	return mnl_socket_get_fd(m->nl);
}

const char *nft_monitor_culprit(const struct nft_monitor *m)
{
	return m->culprit;
}

/* The attribute that names the table an object message is about, or -1 if none does. */
static int mon_table_attr(uint16_t msg)
{
	switch (msg) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE:
	case MONITOR_MSG_DESTROYTABLE:
		return NFTA_TABLE_NAME;
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
	case MONITOR_MSG_DESTROYTABLE + 1: /* DESTROYCHAIN */
		return NFTA_CHAIN_TABLE;
	case NFT_MSG_NEWRULE:
	case NFT_MSG_DELRULE:
	case MONITOR_MSG_DESTROYTABLE + 2: /* DESTROYRULE */
		return NFTA_RULE_TABLE;
	case NFT_MSG_NEWSET:
	case NFT_MSG_DELSET:
	case MONITOR_MSG_DESTROYTABLE + 3: /* DESTROYSET */
		return NFTA_SET_TABLE;
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM:
	case MONITOR_MSG_DESTROYTABLE + 4: /* DESTROYSETELEM */
		return NFTA_SET_ELEM_LIST_TABLE;
	case NFT_MSG_NEWOBJ:
	case NFT_MSG_DELOBJ:
	case MONITOR_MSG_DESTROYTABLE + 5: /* DESTROYOBJ */
		return NFTA_OBJ_TABLE;
	case NFT_MSG_NEWFLOWTABLE:
	case NFT_MSG_DELFLOWTABLE:
	case MONITOR_MSG_DESTROYFLOWTABLE:
		return NFTA_FLOWTABLE_TABLE;
	default:
		return -1;
	}
}

static bool mon_family_ours(uint8_t family)
{
	return family == NFPROTO_INET || family == NFPROTO_BRIDGE || family == NFPROTO_ARP;
}

struct mon_attr {
	uint16_t type;
	enum mnl_attr_data_type kind;
	const struct nlattr *found; /* NULL: absent or malformed */
	bool malformed;
};

static int mon_attr_cb(const struct nlattr *attr, void *data)
{
	struct mon_attr *want = data;

	if (mnl_attr_get_type(attr) != want->type)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, want->kind) < 0) {
		want->malformed = true;
		return MNL_CB_OK;
	}
	want->found = attr;
	return MNL_CB_OK;
}

/* Attribute TYPE of NLH's nfgenmsg payload, validated as KIND; NULL if absent or malformed. */
static const struct nlattr *mon_attr(const struct nlmsghdr *nlh, uint16_t type,
				     enum mnl_attr_data_type kind)
{
	struct mon_attr want = {.type = type, .kind = kind};

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), mon_attr_cb, &want) < 0)
		want.malformed = true;
	return want.malformed ? NULL : want.found;
}

/*
 * The kernel records the committing thread's id: ours if it is the process or, for a batch
 * sent from another thread, one of its live threads. A thread gone by the time we read
 * counts as foreign: a needless re-apply, never a missed tamper.
 */
static bool mon_pid_ours(pid_t pid)
{
	char path[64];

	if (pid <= 0)
		return false;
	if (pid == getpid())
		return true;
	snprintf(path, sizeof(path), "/proc/self/task/%ld", (long)pid);
	return access(path, F_OK) == 0;
}

/* The end of a transaction: judge it by who committed it. */
static void mon_newgen(struct nft_monitor *m, const struct nlmsghdr *nlh)
{
	const struct nlattr *pid, *name;

	if (!m->touched)
		return;
	m->touched = false;
	pid = mon_attr(nlh, NFTA_GEN_PROC_PID, MNL_TYPE_U32);
	name = mon_attr(nlh, NFTA_GEN_PROC_NAME, MNL_TYPE_NUL_STRING);
	/* A transaction that does not say who made it cannot be ours. */
	if (pid && mon_pid_ours((pid_t)ntohl(mnl_attr_get_u32(pid))))
		return;
	m->tampered = true;
	snprintf(m->culprit, sizeof(m->culprit), "%s (pid %ld)",
		 name ? mnl_attr_get_str(name) : "?",
		 pid ? (long)ntohl(mnl_attr_get_u32(pid)) : -1L);
}

static void mon_message(struct nft_monitor *m, const struct nlmsghdr *nlh)
{
	const struct nfgenmsg *nfg;
	const struct nlattr *table;
	uint16_t msg;
	int attr;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*nfg))
		return;
	msg = NFNL_MSG_TYPE(nlh->nlmsg_type);
	if (msg == NFT_MSG_NEWGEN) {
		mon_newgen(m, nlh);
		return;
	}
	attr = mon_table_attr(msg);
	nfg = mnl_nlmsg_get_payload(nlh);
	if (attr < 0 || !mon_family_ours(nfg->nfgen_family))
		return;
	table = mon_attr(nlh, (uint16_t)attr, MNL_TYPE_NUL_STRING);
	/* A change we cannot attribute to a table might be to ours: count it. */
	if (!table || strcmp(mnl_attr_get_str(table), MONITOR_TABLE) == 0)
		m->touched = true;
}

static void mon_lost(struct nft_monitor *m)
{
	/* The open transaction's messages may be among the lost: start afresh. */
	m->touched = false;
	m->tampered = true;
	snprintf(m->culprit, sizeof(m->culprit), "lost notifications (ENOBUFS)");
}

int nft_monitor_read(struct nft_monitor *m, bool *ret_tampered)
{
	int fd = mnl_socket_get_fd(m->nl);

	for (;;) {
		struct sockaddr_nl from = {0};
		socklen_t fromlen = sizeof(from);
		ssize_t n;

		/* MSG_TRUNC: the datagram's real length, so a cut one counts as lost. */
		n = recvfrom(fd, m->buf, MONITOR_BUF, MSG_DONTWAIT | MSG_TRUNC,
			     (struct sockaddr *)&from, &fromlen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS) {
				mon_lost(m);
				continue;
			}
			return -errno;
		}
		if ((size_t)n > MONITOR_BUF) {
			mon_lost(m);
			continue;
		}
		/*
		 * Any process in the namespace may send to our port: believe only the kernel,
		 * or a forged NEWGEN could pass a foreign transaction off as ours.
		 */
		if (fromlen != sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0)
			continue;
		nft_monitor_parse(m, m->buf, (size_t)n);
	}
	return nft_monitor_take(m, ret_tampered);
}

void nft_monitor_parse(struct nft_monitor *m, const void *buf, size_t len)
{
	const struct nlmsghdr *nlh;
	int left = len > MONITOR_BUF ? (int)MONITOR_BUF : (int)len;

	/* libmnl compares nlmsg_len as a signed int: a length of 2^31 or more would pass
	 * mnl_nlmsg_ok() and send the walk gigabytes past the buffer. */
	for (nlh = buf; mnl_nlmsg_ok(nlh, left) && nlh->nlmsg_len <= (uint32_t)left;
	     nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
			continue;
		mon_message(m, nlh);
	}
}

int nft_monitor_take(struct nft_monitor *m, bool *ret_tampered)
{
	*ret_tampered = m->tampered;
	m->tampered = false;
	return 0;
}
