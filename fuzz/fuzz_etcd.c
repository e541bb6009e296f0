/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for etcd's JSON gateway answers (agent/etcd_json.c), and for the values
 * they carry as the agent handles them (agent/cluster_ep.c through fuzz_cluster_values.h).
 * Byte 0 names the answer:
 *   'r' POST /v3/kv/range         every key-value decoded, then handled by its key;
 *   'w' POST /v3/watch            the stream, cut into pieces (byte 1 seeds the cuts), every
 *                                 newline-separated message decoded, its events handled;
 *   'l' POST /v3/lease/grant or /keepalive;
 *   't' POST /v3/kv/txn;
 *   anything else: base64 text (etcd_b64_decode), re-encoded and compared.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etcd_json.h"
#include "fuzz_cluster_values.h"

struct watch_ctx {
	struct cluster_cidrs node;
	size_t msgs, bytes;
};

static void kv(const struct etcd_kv *k, struct cluster_cidrs *node)
{
	if (!k->key || !k->value || k->key[k->key_len] || k->value[k->value_len])
		abort(); /* decoded text is NUL-terminated */
	fuzz_cluster_value(k->key, k->value, k->value_len, node);
}

static int watch_msg(const char *msg, size_t len, void *ud)
{
	struct watch_ctx *c = ud;
	struct etcd_watch_msg m = {0};
	char err[256];

	c->msgs++;
	c->bytes += len;
	if (!len || memchr(msg, '\n', len))
		abort(); /* one whole line, never empty */
	if (etcd_decode_watch(msg, len, &m, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < m.n; i++)
			if (m.events[i].type == ETCD_PUT)
				kv(&m.events[i].kv, &c->node);
			else if (!m.events[i].kv.key)
				abort();
		etcd_watch_msg_clear(&m);
	}
	return 0;
}

static void watch(const char *body, size_t len, unsigned seed)
{
	struct etcd_stream s = {0};
	struct watch_ctx c = {0};
	size_t off = 0, lines = 0, line_bytes = 0, start = 0;

	for (size_t i = 0; i < len; i++)
		if (body[i] == '\n') {
			lines += i > start;
			line_bytes += i - start;
			start = i + 1;
		}
	while (off < len) {
		size_t piece = 1 + (seed = seed * 1103515245u + 12345u) % 97;

		if (piece > len - off)
			piece = len - off;
		if (etcd_stream_feed(&s, body + off, piece, watch_msg, &c) < 0)
			break;
		off += piece;
	}
	if (off == len && (c.msgs != lines || c.bytes != line_bytes))
		abort(); /* every complete line once, however the stream was cut */
	etcd_stream_clear(&s);
	cluster_cidrs_clear(&c.node);
}

/* Decoding is lenient (unused bits may be set, as Go's decoder allows), so the check is that
 * what it decodes to encodes to the same length and decodes back to itself. */
static void b64(const char *text, size_t len)
{
	char *raw, *again, *raw2 = NULL;
	size_t n, n2;

	if (etcd_b64_decode(text, len, &raw, &n) < 0)
		return;
	if (raw[n])
		abort();
	again = etcd_b64_encode(raw, n);
	if (again && (strlen(again) != len || etcd_b64_decode(again, len, &raw2, &n2) < 0 ||
		      n2 != n || memcmp(raw, raw2, n)))
		abort();
	free(raw2);
	free(again);
	free(raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;
	struct cluster_cidrs node = {0};
	struct etcd_range rg = {0};
	struct etcd_header h = {0};
	int64_t id, ttl;
	char err[256];
	bool ok;

	if (size < 1)
		return 0;
	switch (data[0]) {
	case 'r':
		if (etcd_decode_range(body, len, &rg, err, sizeof(err)) == 0) {
			for (size_t i = 0; i < rg.n; i++)
				kv(&rg.kvs[i], &node);
			etcd_range_clear(&rg);
		}
		cluster_cidrs_clear(&node);
		break;
	case 'w':
		if (len >= 1)
			watch(body + 1, len - 1, (unsigned char)body[0]);
		break;
	case 'l':
		(void)etcd_decode_lease(body, len, &id, &ttl, err, sizeof(err));
		break;
	case 't':
		(void)etcd_decode_txn(body, len, &ok, &h, err, sizeof(err));
		break;
	default:
		b64(body, len);
		break;
	}
	return 0;
}
