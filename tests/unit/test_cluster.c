/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pure half of cluster mode: etcd's JSON gateway answers (as etcd 3.4 sends them, copied
 * from a real server), base64, the watch stream's framing, and what netseg stores (endpoints,
 * nodes, the policy document) decoded back with its limits and refusals.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_ep.h"
#include "etcd_json.h"
#include "testutil.h"

#define HDR                                                                                        \
	"\"header\":{\"cluster_id\":\"15118495548433857066\",\"member_id\":\"1\",\"revision\":"    \
	"\"3\",\"raft_term\":\"2\"}"

START_TEST(b64_roundtrip)
{
	const char *in[] = {"", "a", "ab", "abc", "/netseg/v1/policy", "\xff\x00\x01"};
	size_t lens[] = {0, 1, 2, 3, 17, 3};

	for (size_t i = 0; i < 6; i++) {
		char *e = etcd_b64_encode(in[i], lens[i]), *d;
		size_t n;

		ck_assert_int_eq(etcd_b64_decode(e, strlen(e), &d, &n), 0);
		ck_assert_uint_eq(n, lens[i]);
		ck_assert_int_eq(memcmp(d, in[i], n), 0);
		free(e);
		free(d);
	}
	char *d;
	size_t n;
	ck_assert_int_eq(etcd_b64_decode("abc", 3, &d, &n), -EINVAL);
	ck_assert_int_eq(etcd_b64_decode("a=bc", 4, &d, &n), -EINVAL);
	ck_assert_int_eq(etcd_b64_decode("ab!c", 4, &d, &n), -EINVAL);
	char *end = etcd_prefix_end_b64("/netseg/");
	ck_assert_str_eq(end, "L25ldHNlZzA="); /* "/netseg0" */
	free(end);
}
END_TEST

START_TEST(range_answer)
{
	const char *a = "{" HDR ",\"kvs\":[{\"key\":\"L25ldHNlZy92MS9ub2Rlcy9oMQ==\",\"create_"
			"revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\",\"value\":"
			"\"eyJjaWRycyI6WyIxMC4xLjAuMC8yNCIsImZkMDE6Oi82NCJdfQ==\",\"lease\":"
			"\"4111120425949970442\"}],\"count\":\"1\"}";
	struct etcd_range rg;
	char err[256];

	ck_assert_int_eq(etcd_decode_range(a, strlen(a), &rg, err, sizeof(err)), 0);
	ck_assert_uint_eq(rg.hdr.cluster_id, 15118495548433857066ull);
	ck_assert_int_eq(rg.hdr.revision, 3);
	ck_assert_uint_eq(rg.n, 1);
	ck_assert_str_eq(rg.kvs[0].key, "/netseg/v1/nodes/h1");
	ck_assert_str_eq(rg.kvs[0].value, "{\"cidrs\":[\"10.1.0.0/24\",\"fd01::/64\"]}");
	ck_assert_int_eq(rg.kvs[0].lease, 4111120425949970442ll);
	etcd_range_clear(&rg);

	const char *empty = "{" HDR "}";
	ck_assert_int_eq(etcd_decode_range(empty, strlen(empty), &rg, err, sizeof(err)), 0);
	ck_assert_uint_eq(rg.n, 0);
	etcd_range_clear(&rg);

	const char *bad[] = {"",
			     "[]",
			     "{}",
			     "{" HDR ",\"kvs\":{}}",
			     "{" HDR ",\"kvs\":[{\"key\":\"!!!!\"}]}",
			     "{" HDR ",\"kvs\":[{\"key\":\"YQ==\",\"mod_revision\":\"x\"}]}"};
	for (size_t i = 0; i < 6; i++)
		ck_assert_int_eq(etcd_decode_range(bad[i], strlen(bad[i]), &rg, err, sizeof(err)),
				 -EINVAL);
	const char *e = "{\"error\":\"etcdserver: mvcc: required revision has been compacted\","
			"\"code\":11,\"message\":\"etcdserver: mvcc: required revision has been "
			"compacted\"}";
	ck_assert_int_eq(etcd_decode_range(e, strlen(e), &rg, err, sizeof(err)), -EPROTO);
	ck_assert_ptr_nonnull(strstr(err, "compacted"));
}
END_TEST

START_TEST(watch_messages)
{
	const char *created = "{\"result\":{" HDR ",\"created\":true}}";
	const char *events =
	    "{\"result\":{" HDR ",\"events\":[{\"kv\":{\"key\":\"YQ==\",\"mod_revision\":\"3\","
	    "\"value\":\"Yg==\"}},{\"type\":\"DELETE\",\"kv\":{\"key\":\"Yw==\",\"mod_revision\":"
	    "\"4\"}}]}}";
	const char *compacted = "{\"result\":{\"header\":{\"cluster_id\":\"1\",\"member_id\":"
				"\"1\",\"raft_term\":\"2\"},\"canceled\":true,\"compact_revision\":"
				"\"3\"}}";
	struct etcd_watch_msg m;
	char err[256];

	ck_assert_int_eq(etcd_decode_watch(created, strlen(created), &m, err, sizeof(err)), 0);
	ck_assert(m.created && !m.canceled && m.n == 0);
	etcd_watch_msg_clear(&m);
	ck_assert_int_eq(etcd_decode_watch(events, strlen(events), &m, err, sizeof(err)), 0);
	ck_assert_uint_eq(m.n, 2);
	ck_assert_int_eq(m.events[0].type, ETCD_PUT);
	ck_assert_str_eq(m.events[0].kv.key, "a");
	ck_assert_str_eq(m.events[0].kv.value, "b");
	ck_assert_int_eq(m.events[1].type, ETCD_DELETE);
	ck_assert_int_eq(m.events[1].kv.mod_revision, 4);
	etcd_watch_msg_clear(&m);
	ck_assert_int_eq(etcd_decode_watch(compacted, strlen(compacted), &m, err, sizeof(err)), 0);
	ck_assert(m.canceled);
	ck_assert_int_eq(m.compact_revision, 3);
	etcd_watch_msg_clear(&m);
	const char *bad = "{\"result\":{" HDR ",\"events\":[{\"type\":\"EXPIRE\",\"kv\":{}}]}}";
	ck_assert_int_eq(etcd_decode_watch(bad, strlen(bad), &m, err, sizeof(err)), -EINVAL);
}
END_TEST

START_TEST(lease_and_txn)
{
	const char *grant = "{" HDR ",\"ID\":\"4111120425949970442\",\"TTL\":\"5\"}";
	const char *ka = "{\"result\":{" HDR ",\"ID\":\"7\",\"TTL\":\"0\"}}";
	const char *txn = "{" HDR ",\"succeeded\":true,\"responses\":[]}";
	int64_t id, ttl;
	struct etcd_header h;
	bool ok = false;
	char err[256];

	ck_assert_int_eq(etcd_decode_lease(grant, strlen(grant), &id, &ttl, err, sizeof(err)), 0);
	ck_assert_int_eq(id, 4111120425949970442ll);
	ck_assert_int_eq(ttl, 5);
	ck_assert_int_eq(etcd_decode_lease(ka, strlen(ka), &id, &ttl, err, sizeof(err)), 0);
	ck_assert_int_eq(id, 7);
	ck_assert_int_eq(ttl, 0);
	ck_assert_int_eq(etcd_decode_txn(txn, strlen(txn), &ok, &h, err, sizeof(err)), 0);
	ck_assert(ok);
	ck_assert_int_eq(h.revision, 3);
}
END_TEST

static int count_msg(const char *msg, size_t len, void *ud)
{
	(void)msg;
	*(size_t *)ud += len;
	return 0;
}

START_TEST(stream_framing)
{
	struct etcd_stream s = {0};
	size_t total = 0;

	ck_assert_int_eq(etcd_stream_feed(&s, "{\"a\":1}\n{\"b\"", 12, count_msg, &total), 0);
	ck_assert_uint_eq(total, 7);
	ck_assert_int_eq(etcd_stream_feed(&s, ":2}\n\n", 5, count_msg, &total), 0);
	ck_assert_uint_eq(total, 14);
	ck_assert_uint_eq(s.len, 0);
	etcd_stream_clear(&s);
}
END_TEST

static int fail_on_a(const char *msg, size_t len, void *ud)
{
	*(size_t *)ud += len;
	return len == 1 && msg[0] == 'a' ? -EIO : 0;
}

/* A callback's error stops the feed; the messages still held come out on the next one. */
START_TEST(stream_error_then_rest)
{
	struct etcd_stream s = {0};
	size_t total = 0;

	ck_assert_int_eq(etcd_stream_feed(&s, "a\nbb\ncc", 7, fail_on_a, &total), -EIO);
	ck_assert_uint_eq(total, 1);
	ck_assert_int_eq(etcd_stream_feed(&s, "c\n", 2, fail_on_a, &total), 0);
	ck_assert_uint_eq(total, 1 + 2 + 3);
	ck_assert_uint_eq(s.len, 0);
	etcd_stream_clear(&s);
}
END_TEST

/*
 * One 4 MB message in 256-byte pieces, as a slow etcd connection delivers it: each byte is
 * scanned once (about 0.02 s). Rescanning the held bytes per piece made it quadratic (8 MB in
 * 1 KB pieces took 12 s with the agent's loop stalled; this case 16 s). The bound is a
 * robustness bound, 100x the linear time.
 */
START_TEST(stream_many_pieces_linear)
{
	static char piece[256];
	struct etcd_stream s = {0};
	struct timespec a, b;
	size_t total = 0;

	memset(piece, 'x', sizeof(piece));
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (size_t off = 0; off < (4u << 20); off += sizeof(piece))
		ck_assert_int_eq(etcd_stream_feed(&s, piece, sizeof(piece), count_msg, &total), 0);
	ck_assert_int_eq(etcd_stream_feed(&s, "\n", 1, count_msg, &total), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ck_assert_uint_eq(total, 4u << 20);
	ck_assert_double_lt((double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9,
			    2.0);
	etcd_stream_clear(&s);
}
END_TEST

START_TEST(endpoint_roundtrip)
{
	struct endpoint_addr addrs[2] = {{.family = AF_INET}, {.family = AF_INET6}};
	struct policy_label labels[1] = {{.key = "app", .value = "web"}};
	char *nets[1] = {"front"};
	struct endpoint e = {.name = "web-1",
			     .interface = "veth0",
			     .bridge = "br0",
			     .image = "nginx",
			     .addrs = addrs,
			     .naddrs = 2,
			     .labels = labels,
			     .nlabels = 1,
			     .networks = nets,
			     .nnetworks = 1},
			d;
	char err[256], *text;

	inet_pton(AF_INET, "10.1.0.2", addrs[0].addr);
	inet_pton(AF_INET6, "fd01::2", addrs[1].addr);
	text = cluster_ep_encode(&e);
	ck_assert_ptr_null(strstr(text, "veth0"));
	ck_assert_ptr_null(strstr(text, "br0"));
	ck_assert_int_eq(cluster_ep_decode("/netseg/v1/endpoints/h1/web-1", text, strlen(text), &d,
					   err, sizeof(err)),
			 0);
	ck_assert_str_eq(d.name, "web-1");
	ck_assert_str_eq(d.node, "h1");
	ck_assert_ptr_null(d.interface);
	ck_assert_ptr_null(d.bridge);
	ck_assert_uint_eq(d.naddrs, 2);
	ck_assert_str_eq(d.labels[0].value, "web");
	ck_assert_str_eq(d.networks[0], "front");
	ck_assert_str_eq(d.image, "nginx");
	endpoint_clear(&d);
	/* No image: left out, and decoded back as none (a null is tolerated too). */
	e.image = NULL;
	free(text);
	text = cluster_ep_encode(&e);
	ck_assert_ptr_null(strstr(text, "image"));
	ck_assert_int_eq(cluster_ep_decode("/netseg/v1/endpoints/h1/web-1", text, strlen(text), &d,
					   err, sizeof(err)),
			 0);
	ck_assert_ptr_null(d.image);
	endpoint_clear(&d);
	const char *null_image = "{\"name\":\"a\",\"image\":null,\"addresses\":[\"10.1.0.3\"]}";
	ck_assert_int_eq(cluster_ep_decode("/netseg/v1/endpoints/h1/a", null_image,
					   strlen(null_image), &d, err, sizeof(err)),
			 0);
	endpoint_clear(&d);
	ck_assert_int_eq(cluster_ep_decode("/netseg/v1/endpoints/h1/web-1", text, strlen(text), &d,
					   err, sizeof(err)),
			 0);

	struct cluster_cidrs c;
	ck_assert_int_eq(cluster_cidrs_parse("10.1.0.0/24,fd01::/64", &c, err, sizeof(err)), 0);
	ck_assert(cluster_cidrs_cover(&c, &d, err, sizeof(err)));
	cluster_cidrs_clear(&c);
	ck_assert_int_eq(cluster_cidrs_parse("10.1.0.0/24", &c, err, sizeof(err)), 0);
	ck_assert(!cluster_cidrs_cover(&c, &d, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "fd01::2"));
	char *nt = cluster_node_encode(&c);
	cluster_cidrs_clear(&c);
	ck_assert_int_eq(cluster_node_decode(nt, strlen(nt), &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.n, 1);
	cluster_cidrs_clear(&c);
	free(nt);
	ck_assert_int_eq(cluster_cidrs_parse("10.1.0.1", &c, err, sizeof(err)), -EINVAL);
	endpoint_clear(&d);

	const char *keys[] = {"/netseg/v1/endpoints/h1", "/netseg/v1/endpoints//x",
			      "/netseg/v1/endpoints/h1/a/b", "/netseg/v1/nodes/h1/x"};
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(
		    cluster_ep_decode(keys[i], text, strlen(text), &d, err, sizeof(err)), -EINVAL);
	const char *vals[] = {"{}", "{\"name\":\"a\"}", "{\"name\":\"a\",\"addresses\":[\"x\"]}",
			      "{\"name\":\"a\",\"addresses\":[],\"labels\":{\"k\":1}}", "[1]"};
	for (size_t i = 0; i < 5; i++)
		ck_assert_int_eq(cluster_ep_decode("/netseg/v1/endpoints/h1/a", vals[i],
						   strlen(vals[i]), &d, err, sizeof(err)),
				 -EINVAL);
	free(text);
}
END_TEST

START_TEST(policy_document)
{
	struct cluster_policy_file f[1] = {{.name = "p.yaml", .text = "version: 1\n", .len = 11}};
	struct diag_list *d = diag_list_new();
	struct policy *p = NULL;
	char *doc = cluster_policy_encode(f, 1);

	ck_assert_int_eq(cluster_policy_decode(doc, strlen(doc), d, &p), 0);
	policy_free(p);
	free(doc);
	f[0].text = "version: 1\nrules: [{name: x, from: nope, to: world}]\n";
	f[0].len = strlen(f[0].text);
	doc = cluster_policy_encode(f, 1);
	ck_assert_int_eq(cluster_policy_decode(doc, strlen(doc), d, &p), -EINVAL);
	ck_assert_uint_gt(d->nerrors, 0);
	ck_assert_str_eq(d->items[0].loc.file, "etcd:p.yaml");
	free(doc);
	ck_assert_int_eq(cluster_policy_decode("{}", 2, d, &p), -EINVAL);
	diag_list_free(d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cluster");
	TCase *tc = tcase_create("pure");

	tcase_add_test(tc, b64_roundtrip);
	tcase_add_test(tc, range_answer);
	tcase_add_test(tc, watch_messages);
	tcase_add_test(tc, lease_and_txn);
	tcase_add_test(tc, stream_framing);
	tcase_add_test(tc, stream_error_then_rest);
	tcase_add_test(tc, stream_many_pieces_linear);
	tcase_add_test(tc, endpoint_roundtrip);
	tcase_add_test(tc, policy_document);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
