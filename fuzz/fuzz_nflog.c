/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for NFLOG records (netlink/nflog.c): the input is a sequence of datagrams
 * as the agent's NETLINK_NETFILTER socket receives them from the kernel, each preceded by its
 * 2-byte little-endian length (fuzz/capture-seeds.py records real ones), decoded by
 * nflog_parse(), the function nflog_read() hands every datagram to (mnl_attr_parse with the
 * module's attribute callback, then the packet headers). Each datagram is copied to a buffer
 * exactly as long as it, so a read past it is an ASan report; one nflog per input, so the
 * sequence-number accounting starts afresh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nflog.h"

static void on_record(const struct nflog_record *rec, void *userdata)
{
	size_t *sum = userdata;

	/* Every string of a record is terminated within its field. */
	if (strnlen(rec->prefix, sizeof(rec->prefix)) == sizeof(rec->prefix) ||
	    strnlen(rec->indev, sizeof(rec->indev)) == sizeof(rec->indev) ||
	    strnlen(rec->outdev, sizeof(rec->outdev)) == sizeof(rec->outdev) ||
	    strnlen(rec->physindev, sizeof(rec->physindev)) == sizeof(rec->physindev) ||
	    strnlen(rec->physoutdev, sizeof(rec->physoutdev)) == sizeof(rec->physoutdev))
		abort();
	*sum += rec->sport + rec->dport + rec->proto;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nflog *n;
	size_t sum = 0;

	if (nflog_new_detached(&n) < 0)
		return 0;
	while (size >= 2) {
		size_t len = (size_t)data[0] | (size_t)data[1] << 8;
		void *buf;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		buf = malloc(len ? len : 1);
		if (!buf)
			break;
		memcpy(buf, data, len);
		nflog_parse(n, buf, len, on_record, &sum);
		free(buf);
		data += len;
		size -= len;
	}
	(void)nflog_lost(n);
	(void)nflog_malformed(n);
	nflog_free(n);
	return 0;
}
