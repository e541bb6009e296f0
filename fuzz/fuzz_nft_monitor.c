/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for nf_tables notifications (netlink/nft_monitor.c): the input is one
 * datagram from the kernel as the tamper monitor receives it, judged by nft_monitor_parse(),
 * the function nft_monitor_read() hands every datagram to (mnl_attr_parse and
 * mnl_attr_validate per attribute). The copy is exactly as long as the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nft_monitor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nft_monitor *m;
	bool tampered;
	void *buf;

	if (!m && nft_monitor_new_detached(&m) < 0)
		abort();
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	nft_monitor_parse(m, buf, size);
	(void)nft_monitor_take(m, &tampered);
	if (strnlen(nft_monitor_culprit(m), 64) == 64)
		abort();
	free(buf);
	return 0;
}
