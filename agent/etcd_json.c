/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "etcd_json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *etcd_b64_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		v |= i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0;
		v |= i + 2 < len ? p[i + 2] : 0;
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < len ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64_val(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

int etcd_b64_decode(const char *text, size_t len, char **ret, size_t *ret_len)
{
	char *out;
	size_t n = 0;

	if (len % 4)
		return -EINVAL;
	if (!(out = malloc(len / 4 * 3 + 1)))
		return -ENOMEM;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];

		for (int k = 0; k < 4; k++) {
			bool pad = text[i + k] == '=' && i + 4 == len && k >= 2;

			v[k] = pad ? 0 : b64_val(text[i + k]);
			if (v[k] < 0 || (k == 2 && pad && text[i + 3] != '=')) {
				free(out);
				return -EINVAL;
			}
		}
		uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		out[n++] = (char)(x >> 16);
		if (text[i + 2] != '=')
			out[n++] = (char)(x >> 8 & 0xff);
		if (text[i + 3] != '=')
			out[n++] = (char)(x & 0xff);
	}
	out[n] = '\0';
	*ret = out;
	*ret_len = n;
	return 0;
}

char *etcd_prefix_end_b64(const char *prefix)
{
	size_t n = strlen(prefix);
	char *end = strdup(prefix), *r;

	if (!end || n == 0) {
		free(end);
		return etcd_b64_encode("\0", 1);
	}
	/* Our prefixes end in '/', never in 0xff: incrementing the last byte is enough. */
	end[n - 1]++;
	r = etcd_b64_encode(end, n);
	free(end);
	return r;
}

/* A 64-bit field, a string of digits or a number; absent is 0. */
static int get_i64(const json_t *o, const char *key, int64_t *ret)
{
	const json_t *v = json_object_get(o, key);
	char *end;

	if (!v) {
		*ret = 0;
		return 0;
	}
	if (json_is_integer(v)) {
		*ret = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v) || !json_string_length(v))
		return -EINVAL;
	errno = 0;
	if (json_string_value(v)[0] == '-')
		*ret = strtoll(json_string_value(v), &end, 10);
	else
		*ret = (int64_t)strtoull(json_string_value(v), &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static json_t *load(const char *buf, size_t len, char *err, size_t errlen, int *r)
{
	json_error_t je;
	json_t *root;

	if (len > ETCD_MAX_ANSWER) {
		snprintf(err, errlen, "answer larger than %u bytes", ETCD_MAX_ANSWER);
		*r = -EINVAL;
		return NULL;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root || !json_is_object(root)) {
		snprintf(err, errlen, "not a JSON object: %s", root ? "" : je.text);
		json_decref(root);
		*r = -EINVAL;
		return NULL;
	}
	const json_t *e = json_object_get(root, "error");
	if (e) {
		const json_t *m = json_object_get(root, "message");

		snprintf(err, errlen, "etcd: %s",
			 json_is_string(m)   ? json_string_value(m)
			 : json_is_string(e) ? json_string_value(e)
			 : json_is_object(e) && json_is_string(json_object_get(e, "message"))
			     ? json_string_value(json_object_get(e, "message"))
			     : "error");
		json_decref(root);
		*r = -EPROTO;
		return NULL;
	}
	return root;
}

static int decode_header(const json_t *o, struct etcd_header *ret)
{
	const json_t *h = json_object_get(o, "header");
	int64_t cid = 0;

	if (!json_is_object(h))
		return -EINVAL;
	if (get_i64(h, "cluster_id", &cid) < 0 || get_i64(h, "revision", &ret->revision) < 0)
		return -EINVAL;
	ret->cluster_id = (uint64_t)cid;
	return 0;
}

static int decode_b64_field(const json_t *o, const char *key, char **ret, size_t *ret_len)
{
	const json_t *v = json_object_get(o, key);

	if (!v) {
		*ret_len = 0;
		return (*ret = strdup("")) ? 0 : -ENOMEM;
	}
	if (!json_is_string(v))
		return -EINVAL;
	return etcd_b64_decode(json_string_value(v), json_string_length(v), ret, ret_len);
}

static void kv_clear(struct etcd_kv *kv)
{
	free(kv->key);
	free(kv->value);
	*kv = (struct etcd_kv){0};
}

static int decode_kv(const json_t *o, struct etcd_kv *ret)
{
	struct etcd_kv kv = {0};
	int r;

	if (!json_is_object(o))
		return -EINVAL;
	if ((r = decode_b64_field(o, "key", &kv.key, &kv.key_len)) < 0 ||
	    (r = decode_b64_field(o, "value", &kv.value, &kv.value_len)) < 0 ||
	    (r = get_i64(o, "mod_revision", &kv.mod_revision)) < 0 ||
	    (r = get_i64(o, "lease", &kv.lease)) < 0) {
		kv_clear(&kv);
		return r;
	}
	*ret = kv;
	return 0;
}

void etcd_range_clear(struct etcd_range *r)
{
	for (size_t i = 0; r && i < r->n; i++)
		kv_clear(&r->kvs[i]);
	if (r) {
		free(r->kvs);
		*r = (struct etcd_range){0};
	}
}

int etcd_decode_range(const char *buf, size_t len, struct etcd_range *ret, char *err, size_t errlen)
{
	struct etcd_range rg = {0};
	int r = 0;
	json_t *root = load(buf, len, err, errlen, &r), *kvs;

	if (!root)
		return r;
	kvs = json_object_get(root, "kvs");
	if (decode_header(root, &rg.hdr) < 0 || (kvs && !json_is_array(kvs))) {
		snprintf(err, errlen, "malformed range answer");
		r = -EINVAL;
		goto out;
	}
	rg.more = json_is_true(json_object_get(root, "more"));
	if (kvs && json_array_size(kvs) &&
	    !(rg.kvs = calloc(json_array_size(kvs), sizeof(*rg.kvs)))) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; kvs && i < json_array_size(kvs); i++, rg.n++)
		if ((r = decode_kv(json_array_get(kvs, i), &rg.kvs[i])) < 0) {
			snprintf(err, errlen, "malformed key-value %zu in a range answer", i);
			goto out;
		}
	*ret = rg;
	rg = (struct etcd_range){0};
out:
	etcd_range_clear(&rg);
	json_decref(root);
	return r;
}

void etcd_watch_msg_clear(struct etcd_watch_msg *m)
{
	for (size_t i = 0; m && i < m->n; i++)
		kv_clear(&m->events[i].kv);
	if (m) {
		free(m->events);
		*m = (struct etcd_watch_msg){0};
	}
}

static int decode_event(const json_t *o, struct etcd_event *ret)
{
	const json_t *t = json_object_get(o, "type");

	if (!json_is_object(o) || (t && !json_is_string(t)))
		return -EINVAL;
	/* The gateway leaves out PUT, the enum's zero. */
	if (!t || !strcmp(json_string_value(t), "PUT"))
		ret->type = ETCD_PUT;
	else if (!strcmp(json_string_value(t), "DELETE"))
		ret->type = ETCD_DELETE;
	else
		return -EINVAL;
	return decode_kv(json_object_get(o, "kv"), &ret->kv);
}

int etcd_decode_watch(const char *buf, size_t len, struct etcd_watch_msg *ret, char *err,
		      size_t errlen)
{
	struct etcd_watch_msg m = {0};
	int r = 0;
	json_t *root = load(buf, len, err, errlen, &r), *res, *evs;

	if (!root)
		return r;
	res = json_object_get(root, "result");
	evs = json_object_get(res, "events");
	if (!json_is_object(res) || decode_header(res, &m.hdr) < 0 ||
	    (evs && !json_is_array(evs)) ||
	    get_i64(res, "compact_revision", &m.compact_revision) < 0) {
		snprintf(err, errlen, "malformed watch message");
		r = -EINVAL;
		goto out;
	}
	m.created = json_is_true(json_object_get(res, "created"));
	m.canceled = json_is_true(json_object_get(res, "canceled"));
	if (evs && json_array_size(evs) &&
	    !(m.events = calloc(json_array_size(evs), sizeof(*m.events)))) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; evs && i < json_array_size(evs); i++, m.n++)
		if ((r = decode_event(json_array_get(evs, i), &m.events[i])) < 0) {
			snprintf(err, errlen, "malformed event %zu in a watch message", i);
			goto out;
		}
	*ret = m;
	m = (struct etcd_watch_msg){0};
out:
	etcd_watch_msg_clear(&m);
	json_decref(root);
	return r;
}

int etcd_decode_lease(const char *buf, size_t len, int64_t *ret_id, int64_t *ret_ttl, char *err,
		      size_t errlen)
{
	int r = 0;
	json_t *root = load(buf, len, err, errlen, &r), *o;
	int64_t id, ttl;

	if (!root)
		return r;
	o = json_object_get(root, "result") ? json_object_get(root, "result") : root;
	if (!json_is_object(o) || get_i64(o, "ID", &id) < 0 || get_i64(o, "TTL", &ttl) < 0) {
		snprintf(err, errlen, "malformed lease answer");
		r = -EINVAL;
	} else {
		*ret_id = id;
		*ret_ttl = ttl;
	}
	json_decref(root);
	return r;
}

int etcd_decode_txn(const char *buf, size_t len, bool *ret_succeeded, struct etcd_header *ret_hdr,
		    char *err, size_t errlen)
{
	struct etcd_header h;
	int r = 0;
	json_t *root = load(buf, len, err, errlen, &r);

	if (!root)
		return r;
	if (decode_header(root, &h) < 0) {
		snprintf(err, errlen, "malformed txn answer");
		r = -EINVAL;
	} else {
		*ret_succeeded = json_is_true(json_object_get(root, "succeeded"));
		*ret_hdr = h;
	}
	json_decref(root);
	return r;
}

int etcd_stream_feed(struct etcd_stream *s, const char *data, size_t len, etcd_stream_fn fn,
		     void *ud)
{
	size_t start = 0;
	int r = 0;

	if (!len)
		return 0;
	if (s->len + len > ETCD_MAX_ANSWER)
		return -EMSGSIZE;
	if (s->len + len > s->cap) {
		size_t cap = (s->len + len) * 2;
		char *b = realloc(s->buf, cap);

		if (!b)
			return -ENOMEM;
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	/* From where the last call stopped: rescanning the held bytes on every piece made a
	 * message arriving in N pieces cost N times its length (8 MB in 1 KB pieces: 12 s). */
	for (size_t i = s->scanned; i < s->len && r >= 0; i++)
		if (s->buf[i] == '\n') {
			if (i > start)
				r = fn(s->buf + start, i - start, ud);
			start = i + 1;
		}
	memmove(s->buf, s->buf + start, s->len - start);
	s->len -= start;
	s->scanned = r < 0 ? 0 : s->len; /* stopped early: what is left is not scanned yet */
	return r < 0 ? r : 0;
}

void etcd_stream_clear(struct etcd_stream *s)
{
	free(s->buf);
	*s = (struct etcd_stream){0};
}

static json_t *b64_string(const void *data, size_t len)
{
	char *t = etcd_b64_encode(data, len);
	json_t *j = t ? json_string(t) : NULL;

	free(t);
	return j;
}

json_t *etcd_req_range_prefix(const char *prefix, int64_t revision)
{
	char *end = etcd_prefix_end_b64(prefix);
	json_t *o = end ? json_pack("{s:o, s:s}", "key", b64_string(prefix, strlen(prefix)),
				    "range_end", end)
			: NULL;

	free(end);
	if (o && revision > 0)
		json_object_set_new(o, "revision", json_integer(revision));
	return o;
}

json_t *etcd_req_put(const char *key, const char *value, size_t value_len, int64_t lease)
{
	json_t *o = json_pack("{s:o, s:o}", "key", b64_string(key, strlen(key)), "value",
			      b64_string(value, value_len));

	if (o && lease)
		json_object_set_new(o, "lease", json_integer(lease));
	return o;
}

json_t *etcd_req_delete_prefix(const char *prefix)
{
	char *end = etcd_prefix_end_b64(prefix);
	json_t *o = end ? json_pack("{s:o, s:s}", "key", b64_string(prefix, strlen(prefix)),
				    "range_end", end)
			: NULL;

	free(end);
	return o;
}
