/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NFLOG reader (nfnetlink_log over libmnl). One socket binds one group; the kernel sends each
 * logged packet as an NFULNL_MSG_PACKET message with the prefix, the interfaces and the first
 * NFLOG_COPY_RANGE bytes of the packet from its network header, whichever table logged it: the
 * bridge hooks see skb->data at the network header as the inet hooks do.
 */
#include "nflog.h"

#include <endian.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>

#include "sockbuf.h"

/* IPv4/IPv6 headers, a few extension headers and the ports: the rest is never read. */
#define NFLOG_COPY_RANGE 128u
/*
 * Room for bursts while the agent is busy. Each message is a few hundred bytes of skb, and
 * the rules' limits bound the rate at ~10/s per log chain beyond their burst of 20.
 */
#define NFLOG_RCVBUF (8u * 1024u * 1024u)
/* One datagram: with a queue threshold of 1 the kernel sends one message per datagram, but
 * accept its batching buffer (NFULNL_NLBUFSIZ_DEFAULT, a page or two) in case. */
#define NFLOG_BUF (64u * 1024u)
/* Bounds the IPv6 extension header walk: more than this is not a packet we describe. */
#define NFLOG_MAX_EXTHDRS 8
/* How long nflog_open waits for the kernel's answer to the bind. */
#define NFLOG_ACK_TIMEOUT_MS 1000

struct nflog {
	struct mnl_socket *nl;
	uint32_t next_seq; /* NFULA_SEQ the next message should carry */
	uint64_t lost, overruns, malformed;
	uint8_t *buf;
};

void nflog_free(struct nflog *n)
{
	if (!n)
		return;
	/* Closing is the unbind: nfnetlink_log destroys the instances of a released portid. */
	if (n->nl)
		mnl_socket_close(n->nl);
	free(n->buf);
	free(n);
}

int nflog_fd(const struct nflog *n)
{
	return mnl_socket_get_fd(n->nl);
}

uint64_t nflog_lost(const struct nflog *n)
{
	return n->lost;
}

uint64_t nflog_overruns(const struct nflog *n)
{
	return n->overruns;
}

uint64_t nflog_malformed(const struct nflog *n)
{
	return n->malformed;
}

/*
 * Waits for the answer to config message SEQ. Packets may be queued before it: the instance
 * exists, and logs, from the moment the kernel binds it, before the ack is queued. Such a
 * packet proves the bind worked, so it is left for nflog_read (which ignores the late ack).
 */
static int nflog_wait_ack(struct nflog *n, uint32_t seq)
{
	struct pollfd pfd = {.fd = mnl_socket_get_fd(n->nl), .events = POLLIN};
	const struct nlmsghdr *nlh;
	ssize_t len;

	if (poll(&pfd, 1, NFLOG_ACK_TIMEOUT_MS) <= 0)
		return -ETIMEDOUT;
	len = recv(pfd.fd, n->buf, NFLOG_BUF, MSG_PEEK);
	if (len < 0)
		return -errno;
	nlh = (const struct nlmsghdr *)n->buf;
	if (!mnl_nlmsg_ok(nlh, (int)len))
		return -EBADMSG;
	if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq != seq)
		return 0;
	(void)recv(pfd.fd, n->buf, NFLOG_BUF, 0);
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nlmsgerr)))
		return -EBADMSG;
	return ((const struct nlmsgerr *)mnl_nlmsg_get_payload(nlh))->error;
}

int nflog_new_detached(struct nflog **ret)
{
	struct nflog *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	n->buf = malloc(NFLOG_BUF);
	if (!n->buf) {
		free(n);
		return -ENOMEM;
	}
	*ret = n;
	return 0;
}

int nflog_open(uint16_t group, struct nflog **ret)
{
	struct nfulnl_msg_config_cmd cmd = {.command = NFULNL_CFG_CMD_BIND};
	struct nfulnl_msg_config_mode mode = {.copy_range = htonl(NFLOG_COPY_RANGE),
					      .copy_mode = NFULNL_COPY_PACKET};
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	struct nflog *n;
	uint32_t seq = (uint32_t)time(NULL);
	int r;

	r = nflog_new_detached(&n);
	if (r < 0)
		return r;
	n->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!n->nl || mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto fail;
	}
	sockbuf_set(mnl_socket_get_fd(n->nl), SO_RCVBUFFORCE, SO_RCVBUF, NFLOG_RCVBUF);

	/*
	 * One message: the kernel binds first, then applies the mode and flags to the new
	 * instance, so no packet is ever copied whole. No PF_BIND: nft's log statement names the
	 * nfnetlink_log logger itself (NF_LOG_TYPE_ULOG), registered for every family; PF_BIND
	 * only picks the default logger of the legacy LOG paths. F_SEQ numbers the messages, which
	 * turns socket overruns into an exact count of lost ones. A queue threshold of 1 sends
	 * each message at once rather than after the instance's flush timeout.
	 */
	nlh = mnl_nlmsg_put_header(n->buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(group);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	mnl_attr_put_u16(nlh, NFULA_CFG_FLAGS, htons(NFULNL_CFG_F_SEQ));
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
	if (mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto fail;
	}
	r = nflog_wait_ack(n, seq);
	if (r < 0)
		goto fail;
	*ret = n;
	return 0;
fail:
	nflog_free(n);
	return r;
}

/* --- messages --- */

static int nflog_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);
	int r;

	/* Newer kernels may add attributes: skip what we do not know. */
	if (mnl_attr_type_valid(attr, NFULA_MAX) < 0)
		return MNL_CB_OK;
	switch (type) {
	case NFULA_PACKET_HDR:
		r = mnl_attr_validate2(attr, MNL_TYPE_UNSPEC, sizeof(struct nfulnl_msg_packet_hdr));
		break;
	case NFULA_TIMESTAMP:
		r = mnl_attr_validate2(attr, MNL_TYPE_UNSPEC,
				       sizeof(struct nfulnl_msg_packet_timestamp));
		break;
	case NFULA_MARK:
	case NFULA_IFINDEX_INDEV:
	case NFULA_IFINDEX_OUTDEV:
	case NFULA_IFINDEX_PHYSINDEV:
	case NFULA_IFINDEX_PHYSOUTDEV:
	case NFULA_UID:
	case NFULA_GID:
	case NFULA_SEQ:
	case NFULA_SEQ_GLOBAL:
		r = mnl_attr_validate(attr, MNL_TYPE_U32);
		break;
	case NFULA_HWTYPE:
	case NFULA_HWLEN:
		r = mnl_attr_validate(attr, MNL_TYPE_U16);
		break;
	case NFULA_PREFIX:
		r = mnl_attr_validate(attr, MNL_TYPE_NUL_STRING);
		break;
	case NFULA_VLAN:
		r = mnl_attr_validate(attr, MNL_TYPE_NESTED);
		break;
	default: /* payload, hardware address and header, conntrack: opaque bytes */
		r = mnl_attr_validate(attr, MNL_TYPE_UNSPEC);
		break;
	}
	if (r < 0)
		return MNL_CB_ERROR;
	tb[type] = attr;
	return MNL_CB_OK;
}

static void nflog_ifname(const struct nlattr *attr, char out[16])
{
	char name[IF_NAMESIZE];

	out[0] = '\0';
	/* A name lookup at read time: an interface already gone leaves "". */
	if (attr && if_indextoname(ntohl(mnl_attr_get_u32(attr)), name))
		snprintf(out, 16, "%s", name);
}

static bool nflog_has_ports(uint8_t proto)
{
	/* The transport headers that start with 16-bit source and destination ports. */
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP ||
	       proto == IPPROTO_UDPLITE || proto == IPPROTO_DCCP;
}

/* The transport header at P[0..LEN), if complete enough to read; LEN may be short. */
static void nflog_transport(struct nflog_record *rec, const uint8_t *p, size_t len)
{
	if (nflog_has_ports(rec->proto) && len >= 4) {
		rec->sport = (uint16_t)(p[0] << 8 | p[1]);
		rec->dport = (uint16_t)(p[2] << 8 | p[3]);
	} else if ((rec->proto == IPPROTO_ICMP || rec->proto == IPPROTO_ICMPV6) && len >= 2) {
		rec->has_icmp = true;
		rec->icmp_type = p[0];
		rec->icmp_code = p[1];
	}
}

static void nflog_ipv4(struct nflog_record *rec, const uint8_t *p, size_t len)
{
	size_t ihl;

	if (len < 20 || (p[0] >> 4) != 4 || (ihl = (size_t)(p[0] & 0x0f) * 4) < 20 || ihl > len)
		return;
	rec->family = AF_INET;
	rec->proto = p[9];
	memcpy(rec->saddr, p + 12, 4);
	memcpy(rec->daddr, p + 16, 4);
	/* A later fragment carries no transport header. */
	if (((p[6] << 8 | p[7]) & 0x1fff) == 0)
		nflog_transport(rec, p + ihl, len - ihl);
}

static void nflog_ipv6(struct nflog_record *rec, const uint8_t *p, size_t len)
{
	size_t off = 40;
	uint8_t nh;

	if (len < 40 || (p[0] >> 4) != 6)
		return;
	rec->family = AF_INET6;
	memcpy(rec->saddr, p + 8, 16);
	memcpy(rec->daddr, p + 24, 16);
	nh = p[6];
	for (int i = 0; i < NFLOG_MAX_EXTHDRS; i++) {
		size_t hl;

		switch (nh) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (off + 2 > len)
				goto truncated;
			hl = ((size_t)p[off + 1] + 1) * 8;
			break;
		case IPPROTO_AH:
			if (off + 2 > len)
				goto truncated;
			hl = ((size_t)p[off + 1] + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			if (off + 8 > len)
				goto truncated;
			if ((p[off + 2] << 8 | p[off + 3]) & 0xfff8) {
				/* A later fragment: the protocol, not its ports. */
				rec->proto = p[off];
				return;
			}
			hl = 8;
			break;
		default:
			rec->proto = nh;
			nflog_transport(rec, p + off, len - off);
			return;
		}
		nh = p[off];
		off += hl;
		if (off > len)
			goto truncated;
	}
truncated:
	/* Beyond the copy range or the walk's bound: the last header we know of, no ports. */
	rec->proto = nh;
}

/*
 * The packet from the network header. The hardware protocol says which header to expect;
 * the version nibble must agree. Bridge hooks hand over the network header too (skb->data is
 * past the Ethernet header there; tests/unit/test_nflog.c checks a flood line's record), but
 * the Ethernet header is in front of it at the netdev egress hook: skip one announcing IP
 * rather than report an IP packet as unparsable.
 */
static void nflog_payload(struct nflog_record *rec, uint16_t hw_proto, const uint8_t *p, size_t len)
{
	if (rec->bridge && len >= ETH_HLEN && (p[0] >> 4) != 4 && (p[0] >> 4) != 6) {
		uint16_t et = (uint16_t)(p[12] << 8 | p[13]);

		if (et == ETH_P_IP || et == ETH_P_IPV6) {
			hw_proto = et;
			p += ETH_HLEN;
			len -= ETH_HLEN;
		}
	}
	if (hw_proto == ETH_P_IP || (hw_proto == 0 && len && (p[0] >> 4) == 4))
		nflog_ipv4(rec, p, len);
	else if (hw_proto == ETH_P_IPV6 || (hw_proto == 0 && len && (p[0] >> 4) == 6))
		nflog_ipv6(rec, p, len);
}

static void nflog_prefix(struct nflog_record *rec, const struct nlattr *attr)
{
	size_t len;

	if (!attr)
		return;
	snprintf(rec->prefix, sizeof(rec->prefix), "%s", mnl_attr_get_str(attr));
	/* The rules end the prefix with ": " so that kernel log lines read well. */
	len = strlen(rec->prefix);
	while (len && (rec->prefix[len - 1] == ' ' || rec->prefix[len - 1] == ':'))
		rec->prefix[--len] = '\0';
}

static void nflog_seq(struct nflog *n, const struct nlattr *attr)
{
	uint32_t seq;

	if (!attr)
		return;
	seq = ntohl(mnl_attr_get_u32(attr));
	/* Unsigned difference: wraps with the kernel's counter. */
	n->lost += (uint32_t)(seq - n->next_seq);
	n->next_seq = seq + 1;
}

static void nflog_packet(struct nflog *n, const struct nlmsghdr *nlh, nflog_cb cb, void *userdata)
{
	const struct nlattr *tb[NFULA_MAX + 1] = {NULL};
	const struct nfgenmsg *nfg;
	struct nflog_record rec = {0};
	uint16_t hw_proto = 0;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*nfg)) ||
	    mnl_attr_parse(nlh, sizeof(*nfg), nflog_attr_cb, tb) < 0) {
		n->malformed++;
		return;
	}
	nfg = mnl_nlmsg_get_payload(nlh);
	nflog_seq(n, tb[NFULA_SEQ]);
	rec.bridge = nfg->nfgen_family == NFPROTO_BRIDGE;
	if (tb[NFULA_PACKET_HDR]) {
		const struct nfulnl_msg_packet_hdr *ph = mnl_attr_get_payload(tb[NFULA_PACKET_HDR]);

		hw_proto = ntohs(ph->hw_protocol);
	}
	if (tb[NFULA_TIMESTAMP]) {
		struct nfulnl_msg_packet_timestamp ts;

		/* Attributes are only 4-byte aligned; the struct holds 64-bit fields. */
		memcpy(&ts, mnl_attr_get_payload(tb[NFULA_TIMESTAMP]), sizeof(ts));
		rec.time_ns = be64toh(ts.sec) * 1000000000ull + be64toh(ts.usec) * 1000ull;
	} else {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		rec.time_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	}
	nflog_prefix(&rec, tb[NFULA_PREFIX]);
	nflog_ifname(tb[NFULA_IFINDEX_INDEV], rec.indev);
	nflog_ifname(tb[NFULA_IFINDEX_OUTDEV], rec.outdev);
	nflog_ifname(tb[NFULA_IFINDEX_PHYSINDEV], rec.physindev);
	nflog_ifname(tb[NFULA_IFINDEX_PHYSOUTDEV], rec.physoutdev);
	if (tb[NFULA_PAYLOAD])
		nflog_payload(&rec, hw_proto, mnl_attr_get_payload(tb[NFULA_PAYLOAD]),
			      mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]));
	cb(&rec, userdata);
}

void nflog_parse(struct nflog *n, const void *buf, size_t len, nflog_cb cb, void *userdata)
{
	const struct nlmsghdr *nlh = buf;
	int rest = len > NFLOG_BUF ? (int)NFLOG_BUF : (int)len;

	/* libmnl compares nlmsg_len as a signed int: a length of 2^31 or more would pass
	 * mnl_nlmsg_ok() and send the walk gigabytes past the buffer. */
	for (; mnl_nlmsg_ok(nlh, rest) && nlh->nlmsg_len <= (uint32_t)rest;
	     nlh = mnl_nlmsg_next(nlh, &rest)) {
		/* Anything else is a late config ack (see nflog_wait_ack). */
		if (nlh->nlmsg_type == ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET))
			nflog_packet(n, nlh, cb, userdata);
	}
}

int nflog_read(struct nflog *n, nflog_cb cb, void *userdata)
{
	for (;;) {
		struct sockaddr_nl from = {0};
		socklen_t fromlen = sizeof(from);
		ssize_t len = recvfrom(mnl_socket_get_fd(n->nl), n->buf, NFLOG_BUF, MSG_TRUNC,
				       (struct sockaddr *)&from, &fromlen);

		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == ENOBUFS) {
				/* The kernel dropped messages; the sequence gap says how many. */
				n->overruns++;
				continue;
			}
			return -errno;
		}
		/*
		 * Any process with CAP_NET_ADMIN in the namespace may send to our port: believe
		 * only the kernel, or forged records would pass for the dataplane's decisions.
		 * A datagram cut short (MSG_TRUNC says its real length) is not decoded either.
		 */
		if (fromlen != sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0 ||
		    (size_t)len > NFLOG_BUF) {
			n->malformed++;
			continue;
		}
		nflog_parse(n, n->buf, (size_t)len, cb, userdata);
	}
}
