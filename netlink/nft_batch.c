/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One nf_tables transaction per call: the encoder fills a libnftnl batch, we send all of it with
 * one sendmsg and read back what the kernel says. nfnetlink processes a batch synchronously in
 * the sender's context, so by the time sendmsg returns every error (and the one acknowledgement
 * we ask for, on the last message) is queued on our socket; like nft, we drain it without
 * blocking. Errors carry the sequence number of the failing message; the encoder knows which
 * object each number created.
 */
#include "nft_batch.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "nft_encode.h"
#include "sockbuf.h"

/* Socket receive buffer: room for many error messages before the kernel drops any. */
#define BATCH_RCVBUF (4u * 1024u * 1024u)

struct batch_reply {
	int err;	  /* first error, negative errno; 0 if none */
	uint32_t err_seq; /* its message */
	char extack[256]; /* NLMSGERR_ATTR_MSG, "" if none */
	uint32_t offset;  /* NLMSGERR_ATTR_OFFS, 0 if none */
	bool acked;	  /* the last message was acknowledged */
	bool overrun;	  /* ENOBUFS: the kernel dropped replies */
};

__attribute__((format(printf, 3, 4))) static int batch_fail(struct nft_batch_error *ret_err,
							    int err, const char *fmt, ...)
{
	va_list ap;

	if (ret_err) {
		ret_err->err = err;
		va_start(ap, fmt);
		vsnprintf(ret_err->message, sizeof(ret_err->message), fmt, ap);
		va_end(ap);
	}
	return err;
}

/* Reads the NLMSGERR_ATTR_* TLVs that follow an error when NETLINK_EXT_ACK is on. */
static void batch_parse_extack(const struct nlmsghdr *nlh, struct batch_reply *rep)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*err);
	const struct nlattr *attr; /* the name mnl_attr_for_each_payload() iterates with */

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if (off > mnl_nlmsg_get_payload_len(nlh))
		return;
	mnl_attr_for_each_payload((const struct nlattr *)((const char *)err + off),
				  mnl_nlmsg_get_payload_len(nlh) - off)
	{
		switch (mnl_attr_get_type(attr)) {
		case NLMSGERR_ATTR_MSG:
			if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
				snprintf(rep->extack, sizeof(rep->extack), "%s",
					 mnl_attr_get_str(attr));
			break;
		case NLMSGERR_ATTR_OFFS:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
				rep->offset = mnl_attr_get_u32(attr);
			break;
		default:
			break;
		}
	}
}

static void batch_parse(const void *buf, size_t len, uint32_t portid, uint32_t last_seq,
			struct batch_reply *rep)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		const struct nlmsgerr *err;

		if (nlh->nlmsg_pid != portid || nlh->nlmsg_type != NLMSG_ERROR)
			continue;
		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*err))
			continue;
		err = mnl_nlmsg_get_payload(nlh);
		if (err->error == 0) {
			if (err->msg.nlmsg_seq == last_seq)
				rep->acked = true;
			continue;
		}
		if (err->error < 0 && rep->err == 0) {
			/* The first error is the cause; later ones usually follow from it. */
			rep->err = err->error;
			rep->err_seq = err->msg.nlmsg_seq;
			batch_parse_extack(nlh, rep);
		}
	}
}

static int batch_talk(struct nft_encode *e, struct batch_reply *rep)
{
	struct nftnl_batch *b = nft_encode_batch(e);
	struct sockaddr_nl snl = {.nl_family = AF_NETLINK};
	struct iovec *iov = NULL;
	struct msghdr msg = {0};
	struct mnl_socket *nl;
	char *buf = NULL;
	size_t total = 0;
	uint32_t portid;
	ssize_t n;
	int one = 1, niov, fd, r;

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	fd = mnl_socket_get_fd(nl);
	/* Extended acks name the failing attribute; capped acks keep error replies small. */
	(void)mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));

	niov = nftnl_batch_iovec_len(b);
	iov = calloc((size_t)niov, sizeof(*iov));
	buf = malloc(MNL_SOCKET_BUFFER_SIZE * 4);
	if (!iov || !buf) {
		r = -ENOMEM;
		goto out;
	}
	nftnl_batch_iovec(b, iov, (uint32_t)niov);
	for (int i = 0; i < niov; i++)
		total += iov[i].iov_len;
	/* netlink refuses a datagram larger than the send buffer: make it fit the batch. */
	sockbuf_set(fd, SO_SNDBUFFORCE, SO_SNDBUF, total + 4096);
	sockbuf_set(fd, SO_RCVBUFFORCE, SO_RCVBUF, BATCH_RCVBUF);

	msg.msg_name = &snl;
	msg.msg_namelen = sizeof(snl);
	msg.msg_iov = iov;
	msg.msg_iovlen = (size_t)niov;
	do {
		n = sendmsg(fd, &msg, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		r = -errno;
		goto out;
	}

	for (;;) {
		n = recv(fd, buf, MNL_SOCKET_BUFFER_SIZE * 4, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				rep->overrun = true;
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			r = -errno;
			goto out;
		}
		batch_parse(buf, (size_t)n, portid, nft_encode_last_seq(e), rep);
	}
	r = 0;
out:
	free(buf);
	free(iov);
	mnl_socket_close(nl);
	return r;
}

/* Top-level attribute of message NLH that holds byte OFFSET (NLMSGERR_ATTR_OFFS), or NULL. */
static const struct nlattr *batch_attr_at(const struct nlmsghdr *nlh, uint32_t offset)
{
	const struct nlattr *attr;

	if (offset < mnl_nlmsg_size(sizeof(struct nfgenmsg)) || offset >= nlh->nlmsg_len)
		return NULL;
	mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg))
	{
		uint32_t start = (uint32_t)((const char *)attr - (const char *)nlh);

		if (offset >= start && offset < start + attr->nla_len)
			return attr;
	}
	return NULL;
}

/* Whether the element list ELEMS (of a message we built) holds an element with data. */
static bool batch_elem_has_data(const struct nlattr *elems)
{
	const struct nlattr *el, *a;

	mnl_attr_for_each_nested(el, elems)
	{
		mnl_attr_for_each_nested(a, el)
		{
			if (mnl_attr_get_type(a) == NFTA_SET_ELEM_DATA)
				return true;
		}
	}
	return false;
}

/*
 * An element change fails for one of a few reasons the errno alone does not tell apart (ENOENT:
 * no table, no set, no such element, or no such chain for a verdict); the attribute the kernel
 * points at does. NULL when the failing message is not an element message or we cannot tell.
 */
static const char *batch_elem_hint(struct nft_encode *e, const struct batch_reply *rep)
{
	const struct nlmsghdr *nlh = nft_encode_msg(e, rep->err_seq);
	const struct nlattr *attr;
	uint16_t type;
	bool del;

	if (!nlh)
		return NULL;
	type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	if (type != NFT_MSG_NEWSETELEM && type != NFT_MSG_DELSETELEM)
		return NULL;
	del = type == NFT_MSG_DELSETELEM;
	attr = rep->offset ? batch_attr_at(nlh, rep->offset) : NULL;
	if (!attr)
		return rep->err == -ENOENT && del ? "no such table, set or element" : NULL;
	switch (mnl_attr_get_type(attr)) {
	case NFTA_SET_ELEM_LIST_TABLE:
		return rep->err == -ENOENT ? "no such table" : NULL;
	case NFTA_SET_ELEM_LIST_SET:
		return rep->err == -ENOENT ? "no such set in the table" : NULL;
	case NFTA_SET_ELEM_LIST_ELEMENTS:
		if (rep->err == -ENOENT && del)
			return "the element is not in the set";
		if (rep->err == -ENOENT && batch_elem_has_data(attr))
			return "the chain its verdict names does not exist";
		/* Without NLM_F_EXCL the kernel accepts a duplicate only with the same data. */
		if ((rep->err == -EEXIST || rep->err == -EBUSY) && !del &&
		    batch_elem_has_data(attr))
			return "the element is in the map with another verdict: delete it first";
		if (rep->err == -EINVAL)
			return "the set refuses the element (wrong key or data)";
		return NULL;
	default:
		return NULL;
	}
}

static int batch_report(struct nft_encode *e, const struct batch_reply *rep,
			struct nft_batch_error *ret_err)
{
	const char *what = nft_encode_describe(e, rep->err_seq);
	const char *hint = batch_elem_hint(e, rep);
	char where[160] = "", extra[512] = "";
	int err = rep->err;

	/* An element message holds one element, already named: say why instead of where. */
	if (hint)
		snprintf(where, sizeof(where), "%s", hint);
	else if (rep->offset)
		snprintf(where, sizeof(where), "at ");
	if (!hint && rep->offset)
		nft_encode_describe_offset(e, rep->err_seq, rep->offset, where + 3,
					   sizeof(where) - 3);
	if (!hint && !where[3])
		where[0] = '\0';
	if (rep->extack[0] && where[0])
		snprintf(extra, sizeof(extra), " (kernel: %s; %s)", rep->extack, where);
	else if (rep->extack[0])
		snprintf(extra, sizeof(extra), " (kernel: %s)", rep->extack);
	else if (where[0])
		snprintf(extra, sizeof(extra), " (%s)", where);
	/* nfnetlink checks the capability once, on the batch: "commit" would mislead. */
	if (err == -EPERM)
		return batch_fail(ret_err, err,
				  "cannot change nftables: %s: root or CAP_NET_ADMIN in this "
				  "network namespace is needed",
				  strerror(-err));
	return batch_fail(ret_err, err, "cannot %s: %s%s", what ? what : "apply the ruleset",
			  strerror(-err), extra);
}

/* Sends E and turns the kernel's answer into 0 or a one-line error. */
static int batch_run(struct nft_encode *e, struct nft_batch_error *ret_err)
{
	struct batch_reply rep = {0};
	int r;

	if (nft_encode_nmsgs(e) == 0)
		return 0;
	r = nft_encode_finish(e);
	if (r < 0)
		return batch_fail(ret_err, r, "cannot build the nftables batch: %s", strerror(-r));
	r = batch_talk(e, &rep);
	if (r == -EPERM)
		return batch_fail(ret_err, r,
				  "cannot talk to nftables: %s: root or CAP_NET_ADMIN in this "
				  "network namespace is needed",
				  strerror(-r));
	if (r < 0)
		return batch_fail(ret_err, r, "cannot send the nftables batch (%zu messages): %s",
				  nft_encode_nmsgs(e), strerror(-r));
	if (rep.err)
		return batch_report(e, &rep, ret_err);
	if (rep.overrun)
		return batch_fail(ret_err, -ENOBUFS,
				  "cannot tell whether the ruleset was applied: replies from the "
				  "kernel were lost (%s)",
				  strerror(ENOBUFS));
	if (!rep.acked)
		return batch_fail(ret_err, -EIO,
				  "cannot tell whether the ruleset was applied: the kernel did not "
				  "acknowledge the batch");
	return 0;
}

static uint32_t batch_seq(void)
{
	/* Distinct across runs, like nft, so stale replies can never match. */
	return (uint32_t)time(NULL) << 8;
}

int nft_batch_apply(const struct ir_ruleset *rs, struct nft_batch_error *ret_err)
{
	struct nft_encode *e;
	int r = 0;

	e = nft_encode_new(batch_seq());
	if (!e)
		return batch_fail(ret_err, -ENOMEM, "cannot build the nftables batch: %s",
				  strerror(ENOMEM));
	for (size_t i = 0; i < rs->n; i++) {
		r = nft_encode_table_replace(e, rs->tables[i]);
		if (r < 0) {
			const char *what = nft_encode_describe(e, nft_encode_last_seq(e));

			batch_fail(ret_err, r, "cannot %s: %s%s",
				   what ? what : "encode the ruleset", strerror(-r),
				   r == -EINVAL ? " (it holds a match or object nftables cannot "
						  "express there)"
						: "");
			goto out;
		}
	}
	r = batch_run(e, ret_err);
out:
	nft_encode_free(e);
	return r;
}

int nft_batch_flush(const struct ir_ruleset *tables_only, struct nft_batch_error *ret_err)
{
	struct nft_encode *e;
	int r = 0;

	e = nft_encode_new(batch_seq());
	if (!e)
		return batch_fail(ret_err, -ENOMEM, "cannot build the nftables batch: %s",
				  strerror(ENOMEM));
	for (size_t i = 0; i < tables_only->n; i++) {
		const struct ir_table *t = tables_only->tables[i];

		r = nft_encode_table_delete(e, t->family, t->name);
		if (r < 0) {
			batch_fail(ret_err, r, "cannot encode the deletion of table %s %s: %s",
				   nft_encode_family_name(t->family), t->name ? t->name : "?",
				   strerror(-r));
			goto out;
		}
	}
	r = batch_run(e, ret_err);
out:
	nft_encode_free(e);
	return r;
}

/* Names the set a delta could not be encoded for, or the element when one was described. */
static int batch_delta_fail(struct nft_encode *e, size_t before, const struct nft_elem_delta *d,
			    int r, struct nft_batch_error *ret_err)
{
	const char *fam = nft_encode_family_name(d->family);
	const char *kind = d->set && d->set->is_vmap ? "map" : "set";
	const char *name = d->set && d->set->name ? d->set->name : "?";
	const char *table = d->table ? d->table : "?";

	if (r == -EOPNOTSUPP)
		return batch_fail(
		    ret_err, r, "cannot change %s %s in table %s %s element by element: %s", kind,
		    name, fam, table,
		    d->set && d->set->interval ? "it is an interval set" : "it is a constant set");
	if (r == -E2BIG)
		return batch_fail(ret_err, r,
				  "cannot change %s %s in table %s %s: %zu elements in one delta, "
				  "at most %d",
				  kind, name, fam, table, d->n, NFT_ENCODE_DELTA_MAX);
	if (nft_encode_nmsgs(e) > before)
		return batch_fail(ret_err, r, "cannot %s: %s%s",
				  nft_encode_describe(e, nft_encode_last_seq(e)), strerror(-r),
				  r == -EINVAL
				      ? " (a key does not fit the set's type, or a verdict "
					"names no chain)"
				      : "");
	return batch_fail(ret_err, r, "cannot change %s %s in table %s %s: %s%s", kind, name, fam,
			  table, strerror(-r),
			  r == -EINVAL ? " (its definition is incomplete or invalid)" : "");
}

int nft_batch_elements(const struct nft_elem_delta *d, size_t n, struct nft_batch_error *ret_err)
{
	struct nft_encode *e;
	int r = 0;

	e = nft_encode_new(batch_seq());
	if (!e)
		return batch_fail(ret_err, -ENOMEM, "cannot build the nftables batch: %s",
				  strerror(ENOMEM));
	for (size_t i = 0; i < n; i++) {
		size_t before = nft_encode_nmsgs(e);

		r = nft_encode_elems(e, d[i].family, d[i].table, d[i].set, d[i].elems, d[i].n,
				     d[i].del);
		if (r < 0) {
			batch_delta_fail(e, before, &d[i], r, ret_err);
			goto out;
		}
	}
	r = batch_run(e, ret_err);
out:
	nft_encode_free(e);
	return r;
}
