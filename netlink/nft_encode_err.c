/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel errors located: which expression or element of a message an error offset points into. */
#include "nft_encode.h"

#include <stdint.h>
#include <stdio.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

/* Index (1-based) and attribute of the nested attribute of NEST that contains OFFSET. */
static const struct nlattr *enc_attr_at(const struct nlattr *nest, const char *base,
					uint32_t offset, int *ret_idx)
{
	const struct nlattr *a;
	int idx = 0;

	mnl_attr_for_each_nested(a, nest)
	{
		uint32_t start = (uint32_t)((const char *)a - base);

		idx++;
		if (offset >= start && offset < start + a->nla_len) {
			*ret_idx = idx;
			return a;
		}
	}
	return NULL;
}

void nft_encode_describe_offset(const struct nft_encode *e, uint32_t seq, uint32_t offset,
				char *buf, size_t len)
{
	const struct nlmsghdr *nlh = nft_encode_msg(e, seq);
	const struct nlattr *a, *in;
	const char *base = (const char *)nlh;
	int idx;

	buf[0] = '\0';
	if (!nlh || offset < mnl_nlmsg_size(sizeof(struct nfgenmsg)) || offset >= nlh->nlmsg_len)
		return;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		uint32_t start = (uint32_t)((const char *)a - base);
		uint16_t type = mnl_attr_get_type(a);
		uint16_t msg = NFNL_MSG_TYPE(nlh->nlmsg_type);

		if (offset < start || offset >= start + a->nla_len)
			continue;
		if (msg == NFT_MSG_NEWRULE && type == NFTA_RULE_EXPRESSIONS) {
			in = enc_attr_at(a, base, offset, &idx);
			if (!in) {
				snprintf(buf, len, "its expression list");
				return;
			}
			/* Each NFTA_LIST_ELEM holds NFTA_EXPR_NAME first. */
			const struct nlattr *name = mnl_attr_get_payload(in);

			if (mnl_attr_get_payload_len(in) >= sizeof(*name) + 1 &&
			    mnl_attr_get_type(name) == NFTA_EXPR_NAME &&
			    mnl_attr_validate(name, MNL_TYPE_NUL_STRING) == 0)
				snprintf(buf, len, "expression %d (%s)", idx,
					 mnl_attr_get_str(name));
			else
				snprintf(buf, len, "expression %d", idx);
			return;
		}
		if ((msg == NFT_MSG_NEWSETELEM || msg == NFT_MSG_DELSETELEM) &&
		    type == NFTA_SET_ELEM_LIST_ELEMENTS) {
			const struct nlattr *k;
			size_t o = 0;

			in = enc_attr_at(a, base, offset, &idx);
			if (!in) {
				snprintf(buf, len, "its element list");
				return;
			}
			o = (size_t)snprintf(buf, len, "element %d of the message", idx);
			mnl_attr_for_each_nested(k, in)
			{
				const struct nlattr *v;

				if (mnl_attr_get_type(k) != NFTA_SET_ELEM_KEY)
					continue;
				v = mnl_attr_get_payload(k);
				if (mnl_attr_get_payload_len(k) < sizeof(*v) ||
				    mnl_attr_get_type(v) != NFTA_DATA_VALUE)
					break;
				o += (size_t)snprintf(buf + o, o < len ? len - o : 0, ", key 0x");
				for (uint16_t i = 0; i < mnl_attr_get_payload_len(v) && o < len;
				     i++)
					o += (size_t)snprintf(
					    buf + o, len - o, "%02x",
					    ((const uint8_t *)mnl_attr_get_payload(v))[i]);
				break;
			}
			return;
		}
		snprintf(buf, len, "attribute %u", type);
		return;
	}
}
