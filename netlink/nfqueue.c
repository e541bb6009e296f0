/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NFQUEUE with libmnl and libnetfilter_queue's nfq_nlmsg_* builders only (not its nfq_handle
 * API): the messages are libmnl messages like every other netlink socket here, the socket
 * stays ours (non-blocking, in our epoll loop), and libnetfilter_queue spares hand-building
 * the config and verdict attributes.
 */
#include "nfqueue.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define NFQUEUE_COPY 0xffff /* a DNS message over UDP or one TCP segment fits */

struct nfqueue {
	struct mnl_socket *nl;
	uint32_t portid;
	uint16_t num;
	char *buf;
	size_t buflen;
};

static int nfqueue_send(struct nfqueue *q, struct nlmsghdr *nlh)
{
	return mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0 ? -errno : 0;
}

/* A config message, acknowledged, read before the socket turns non-blocking. */
static int nfqueue_config(struct nfqueue *q, struct nlmsghdr *nlh)
{
	char ack[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	if (nfqueue_send(q, nlh) < 0)
		return -errno;
	n = mnl_socket_recvfrom(q->nl, ack, sizeof(ack));
	if (n < 0)
		return -errno;
	return mnl_cb_run(ack, (size_t)n, 1, q->portid, NULL, NULL) < 0 ? -errno : 0;
}

static int nfqueue_bind(struct nfqueue *q)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int r;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	r = nfqueue_config(q, nlh);
	if (r < 0)
		return r;
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, NFQUEUE_COPY);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, NFQUEUE_MAXLEN);
	/* Fail open: beyond maxlen the kernel accepts (DNS works, nothing is learned) rather
	 * than drops; conntrack keeps the reply ours to see only once. */
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO));
	return nfqueue_config(q, nlh);
}

int nfqueue_open(uint16_t num, struct nfqueue **ret)
{
	struct nfqueue *q = calloc(1, sizeof(*q));
	int r = -ENOMEM, one;

	if (!q)
		return -ENOMEM;
	q->num = num;
	q->buflen = NFQUEUE_COPY + MNL_SOCKET_BUFFER_SIZE;
	q->buf = malloc(q->buflen);
	if (!q->buf)
		goto fail;
	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!q->nl || mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto fail;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	/* Room for a burst of held replies; beyond it recv reports ENOBUFS, which is counted. */
	one = 4 * 1024 * 1024;
	(void)setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUF, &one, sizeof(one));
	r = nfqueue_bind(q);
	if (r == 0 && fcntl(mnl_socket_get_fd(q->nl), F_SETFL, O_NONBLOCK) < 0)
		r = -errno;
	if (r < 0)
		goto fail;
	*ret = q;
	return 0;
fail:
	nfqueue_free(q);
	return r;
}

void nfqueue_free(struct nfqueue *q)
{
	if (!q)
		return;
	if (q->nl)
		mnl_socket_close(q->nl);
	free(q->buf);
	free(q);
}

int nfqueue_fd(const struct nfqueue *q)
{
	return mnl_socket_get_fd(q->nl);
}

struct nfqueue_cb {
	nfqueue_fn fn;
	void *ud;
};

static int nfqueue_packet_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *attr[NFQA_MAX + 1] = {0};
	const struct nfqueue_cb *cb = data;
	struct nfqueue_packet pkt = {0};
	const struct nfqnl_msg_packet_hdr *ph;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR] || !attr[NFQA_PAYLOAD] ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph))
		return MNL_CB_OK; /* nothing we can give a verdict on */
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	pkt.id = ntohl(ph->packet_id);
	pkt.data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
	pkt.len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	if (attr[NFQA_CAP_LEN] && mnl_attr_validate(attr[NFQA_CAP_LEN], MNL_TYPE_U32) == 0 &&
	    ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN])) > pkt.len)
		pkt.truncated = true;
	cb->fn(&pkt, cb->ud);
	return MNL_CB_OK;
}

int nfqueue_read(struct nfqueue *q, nfqueue_fn fn, void *ud)
{
	struct nfqueue_cb cb = {fn, ud};

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(q->nl, q->buf, q->buflen);

		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		/* Packets carry seq 0; a stray error message is not fatal to the loop. */
		(void)mnl_cb_run(q->buf, (size_t)n, 0, q->portid, nfqueue_packet_cb, &cb);
	}
}

int nfqueue_accept(struct nfqueue *q, uint32_t id)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, q->num);

	nfq_nlmsg_verdict_put(nlh, (int)id, NF_ACCEPT);
	return nfqueue_send(q, nlh);
}
