/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Named counters of one table: an NFT_MSG_GETOBJ dump filtered by table and type, parsed with
 * libnftnl. A dump of a table that does not exist is empty rather than an error, so the table
 * is asked for first: "no counters" and "no table" mean different things to the agent.
 */
#include "nft_counters.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/object.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

/* Dump datagrams: the kernel fills up to about a page per message batch; ask for room. */
#define COUNTERS_BUF (64u * 1024u)

struct counters_dump {
	nft_counters_cb cb;
	void *userdata;
	int err; /* first error of the callback or of parsing */
};

static int counters_obj_cb(const struct nlmsghdr *nlh, void *data)
{
	struct counters_dump *d = data;
	struct nftnl_obj *o = nftnl_obj_alloc();
	const char *name;
	int r = MNL_CB_OK;

	if (!o) {
		d->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	/* libnftnl validates every attribute it parses (nftnl_obj_parse_attr_cb). */
	if (nftnl_obj_nlmsg_parse(nlh, o) < 0) {
		d->err = -EBADMSG;
		r = MNL_CB_ERROR;
		goto out;
	}
	/* The kernel filters by type; check anyway, a quota or limit has no packets to read. */
	if (nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) != NFT_OBJECT_COUNTER)
		goto out;
	name = nftnl_obj_get_str(o, NFTNL_OBJ_NAME);
	if (!name) {
		d->err = -EBADMSG;
		r = MNL_CB_ERROR;
		goto out;
	}
	d->err = d->cb(name, nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS),
		       nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES), d->userdata);
	if (d->err < 0)
		r = MNL_CB_ERROR;
out:
	nftnl_obj_free(o);
	return r;
}

/* Sends the request in BUF and runs the answers through CB until done or the ack. */
static int counters_talk(struct mnl_socket *nl, struct nlmsghdr *nlh, uint8_t *buf, mnl_cb_t cb,
			 struct counters_dump *d)
{
	uint32_t seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(nl);
	ssize_t len;
	int r;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		len = mnl_socket_recvfrom(nl, buf, COUNTERS_BUF);
		if (len < 0)
			return -errno;
		errno = 0;
		r = mnl_cb_run(buf, (size_t)len, seq, portid, cb, d);
	} while (r == MNL_CB_OK);
	if (r == MNL_CB_ERROR) {
		if (d && d->err < 0)
			return d->err;
		return errno ? -errno : -EPROTO;
	}
	return 0;
}

int nft_counters_read(enum ir_family family, const char *table, nft_counters_cb cb, void *userdata)
{
	struct counters_dump d = {.cb = cb, .userdata = userdata};
	uint32_t seq = (uint32_t)time(NULL);
	struct mnl_socket *nl = NULL;
	struct nftnl_table *t = NULL;
	struct nftnl_obj *o = NULL;
	struct nlmsghdr *nlh;
	uint8_t *buf;
	int r;

	buf = malloc(COUNTERS_BUF);
	if (!buf)
		return -ENOMEM;
	t = nftnl_table_alloc();
	o = nftnl_obj_alloc();
	if (!t || !o) {
		r = -ENOMEM;
		goto out;
	}
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}

	/* The table: -ENOENT comes back as the ack's error. The reply itself needs no parsing. */
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nlh = nftnl_nlmsg_build_hdr((char *)buf, NFT_MSG_GETTABLE, (uint16_t)family, NLM_F_ACK,
				    seq++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	r = counters_talk(nl, nlh, buf, NULL, NULL);
	if (r < 0)
		goto out;

	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, table);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	nlh = nftnl_nlmsg_build_hdr((char *)buf, NFT_MSG_GETOBJ, (uint16_t)family, NLM_F_DUMP, seq);
	nftnl_obj_nlmsg_build_payload(nlh, o);
	r = counters_talk(nl, nlh, buf, counters_obj_cb, &d);
out:
	if (nl)
		mnl_socket_close(nl);
	nftnl_obj_free(o);
	nftnl_table_free(t);
	free(buf);
	return r;
}
