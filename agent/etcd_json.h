/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_ETCD_JSON_H
#define NETSEG_ETCD_JSON_H

/*
 * etcd v3's JSON gateway, as data: request bodies and the decoding of its answers. Pure (a
 * buffer in, a struct or a one-line error out), so the fuzzer and the unit tests need no etcd.
 * Keys and values travel base64-encoded; 64-bit numbers arrive as strings (or, tolerated,
 * numbers).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define ETCD_MAX_ANSWER (64u << 20) /* bytes of one range answer or watch message */

struct etcd_header {
	uint64_t cluster_id;
	int64_t revision;
};

struct etcd_kv {
	char *key, *value; /* decoded, NUL-terminated (values may hold NULs: use the lengths) */
	size_t key_len, value_len;
	int64_t mod_revision, lease;
};

struct etcd_range {
	struct etcd_header hdr;
	struct etcd_kv *kvs;
	size_t n;
	bool more;
};

enum etcd_event_type { ETCD_PUT, ETCD_DELETE };

struct etcd_event {
	enum etcd_event_type type;
	struct etcd_kv kv;
};

struct etcd_watch_msg {
	struct etcd_header hdr;
	bool created, canceled;
	int64_t compact_revision; /* > 0: canceled because the start revision was compacted */
	struct etcd_event *events;
	size_t n;
};

/* Base64 (standard alphabet, padded). */
char *etcd_b64_encode(const void *data, size_t len);
int etcd_b64_decode(const char *text, size_t len, char **ret, size_t *ret_len);

/* The end of the key range of every key starting with PREFIX (last byte + 1), base64. */
char *etcd_prefix_end_b64(const char *prefix);

/* Every decoder: 0 and *ret, or -EINVAL/-ENOMEM with ERR saying why. An {"error": ...}
 * answer is -EPROTO with etcd's message in ERR. */
int etcd_decode_range(const char *buf, size_t len, struct etcd_range *ret, char *err,
		      size_t errlen);
void etcd_range_clear(struct etcd_range *r);
/* One message of the watch stream ({"result": {...}}). */
int etcd_decode_watch(const char *buf, size_t len, struct etcd_watch_msg *ret, char *err,
		      size_t errlen);
void etcd_watch_msg_clear(struct etcd_watch_msg *m);
/* A lease grant ({"ID","TTL"}) or a keepalive answer ({"result": {"ID","TTL"}}); TTL 0 from a
 * keepalive means the lease is gone. */
int etcd_decode_lease(const char *buf, size_t len, int64_t *ret_id, int64_t *ret_ttl, char *err,
		      size_t errlen);
int etcd_decode_txn(const char *buf, size_t len, bool *ret_succeeded, struct etcd_header *ret_hdr,
		    char *err, size_t errlen);

/* Splits a stream of newline-separated JSON messages. Bounded by ETCD_MAX_ANSWER. */
struct etcd_stream {
	char *buf;
	size_t len, cap;
	size_t scanned; /* bytes of buf known to hold no newline: each byte is looked at once */
};
typedef int (*etcd_stream_fn)(const char *msg, size_t len, void *ud);
/* Calls FN for every complete message; its negative return stops and is returned. */
int etcd_stream_feed(struct etcd_stream *s, const char *data, size_t len, etcd_stream_fn fn,
		     void *ud);
void etcd_stream_clear(struct etcd_stream *s);

/* Request bodies (json_t, owned by the caller). KEY/VALUE raw, encoded here. */
json_t *etcd_req_range_prefix(const char *prefix, int64_t revision);
json_t *etcd_req_put(const char *key, const char *value, size_t value_len, int64_t lease);
json_t *etcd_req_delete_prefix(const char *prefix);

#endif
