/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for nf_tables notifications (netlink/nft_monitor.c): the input is a
 * sequence of datagrams from the kernel, each preceded by its 2-byte little-endian length
 * (fuzz/capture-seeds.py records real transactions), judged by nft_monitor_parse(), the
 * function nft_monitor_read() hands every datagram to (mnl_attr_parse and mnl_attr_validate
 * per attribute), with the verdict taken after each as nft_monitor_read() does. Each datagram
 * is copied to a buffer exactly as long as it; one monitor per input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nft_monitor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nft_monitor *m;
	bool tampered;

	if (nft_monitor_new_detached(&m) < 0)
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
		nft_monitor_parse(m, buf, len);
		(void)nft_monitor_take(m, &tampered);
		if (strnlen(nft_monitor_culprit(m), 64) == 64)
			abort();
		free(buf);
		data += len;
		size -= len;
	}
	nft_monitor_free(m);
	return 0;
}
