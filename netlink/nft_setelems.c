/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "nft_setelems.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>

struct setelems_cb {
	nft_setelems_fn fn;
	void *ud;
};

static int setelems_msg(const struct nlmsghdr *nlh, void *data)
{
	const struct setelems_cb *cb = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0 || !(it = nftnl_set_elems_iter_create(s))) {
		nftnl_set_free(s);
		return MNL_CB_OK; /* a message we cannot read: skipped, the rest still counts */
	}
	/* iter_next returns the element it stands on, then moves on. */
	while ((e = nftnl_set_elems_iter_next(it))) {
		uint32_t len = 0;
		const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
		uint64_t exp = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION)
				   ? nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION)
				   : 0;

		if (key && len)
			cb->fn(key, len, exp, cb->ud);
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return MNL_CB_OK;
}

int nft_setelems_dump(enum ir_family family, const char *table, const char *set, nft_setelems_fn fn,
		      void *ud)
{
	struct setelems_cb cb = {fn, ud};
	uint32_t seq = (uint32_t)time(NULL), portid;
	struct nftnl_set *s = nftnl_set_alloc();
	struct mnl_socket *nl = NULL;
	struct nlmsghdr *nlh;
	char *buf = malloc(MNL_SOCKET_BUFFER_SIZE * 4);
	ssize_t n;
	int r = -ENOMEM;

	if (!s || !buf)
		goto out;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, (uint16_t)family,
				    NLM_F_DUMP | NLM_F_ACK, seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	do {
		n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE * 4);
		if (n < 0) {
			r = -errno;
			goto out;
		}
		r = mnl_cb_run(buf, (size_t)n, seq, portid, setelems_msg, &cb);
	} while (r > MNL_CB_STOP);
	r = r < 0 ? -errno : 0;
out:
	if (nl)
		mnl_socket_close(nl);
	nftnl_set_free(s);
	free(buf);
	return r;
}
