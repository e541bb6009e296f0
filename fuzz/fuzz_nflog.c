/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for NFLOG records (netlink/nflog.c): the input is one datagram as the
 * agent's NETLINK_NETFILTER socket receives it, decoded by nflog_parse(), the function
 * nflog_read() hands every datagram to (mnl_attr_parse with the module's attribute callback,
 * then the packet headers). The copy is exactly as long as the input, so any read past the
 * datagram is an ASan report.
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
	static struct nflog *n;
	size_t sum = 0;
	void *buf;

	if (!n && nflog_new_detached(&n) < 0)
		abort();
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	nflog_parse(n, buf, size, on_record, &sum);
	(void)nflog_lost(n);
	(void)nflog_malformed(n);
	free(buf);
	return 0;
}
