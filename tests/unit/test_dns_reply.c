/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dns_reply_parse (libresolv underneath) on hand-made replies: CNAME chains in any order
 * and compressed, unrelated records ignored, TC, truncation, limits, loops, garbage; and
 * resolvconf_parse, the agent's default resolvers.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns_reply.h"
#include "resolvconf.h"

struct msg {
	uint8_t b[4096];
	size_t n;
};

static void put(struct msg *m, const void *p, size_t n)
{
	ck_assert_uint_le(m->n + n, sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put16(struct msg *m, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	put(m, b, 2);
}

static void put32(struct msg *m, uint32_t v)
{
	put16(m, (uint16_t)(v >> 16));
	put16(m, (uint16_t)v);
}

static void put_name(struct msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t len = dot ? (size_t)(dot - name) : strlen(name);
		uint8_t l = (uint8_t)len;

		put(m, &l, 1);
		put(m, name, len);
		name += len + (dot ? 1 : 0);
	}
	put(m, "", 1);
}

/* Header (QR set unless QUERY) and one question for QNAME, type A. */
static void start(struct msg *m, uint16_t flags, uint16_t ancount, const char *qname)
{
	m->n = 0;
	put16(m, 0x1234);
	put16(m, flags);
	put16(m, 1);
	put16(m, ancount);
	put16(m, 0);
	put16(m, 0);
	put_name(m, qname);
	put16(m, 1);
	put16(m, 1);
}

static void rr_head(struct msg *m, const char *owner, uint16_t type, uint32_t ttl)
{
	put_name(m, owner);
	put16(m, type);
	put16(m, 1);
	put32(m, ttl);
}

static void rr_a(struct msg *m, const char *owner, const char *addr, uint32_t ttl)
{
	uint8_t a[16];
	int v6 = strchr(addr, ':') != NULL;

	ck_assert_int_eq(inet_pton(v6 ? AF_INET6 : AF_INET, addr, a), 1);
	rr_head(m, owner, v6 ? 28 : 1, ttl);
	put16(m, v6 ? 16 : 4);
	put(m, a, v6 ? 16 : 4);
}

static void rr_cname(struct msg *m, const char *owner, const char *target)
{
	struct msg t = {0};

	put_name(&t, target);
	rr_head(m, owner, 5, 300);
	put16(m, (uint16_t)t.n);
	put(m, t.b, t.n);
}

#define REPLY 0x8180 /* QR, RD, RA, NOERROR */

START_TEST(test_a_aaaa)
{
	struct msg m;
	struct dns_reply r;
	char buf[64];

	start(&m, REPLY, 3, "API.Example.COM");
	rr_a(&m, "api.example.com", "192.0.2.7", 60);
	rr_a(&m, "other.example.com", "192.0.2.99", 60); /* not about the question */
	rr_a(&m, "api.example.com", "2001:db8::7", 5);
	ck_assert_int_eq(dns_reply_parse(m.b, m.n, 64, &r), 0);
	ck_assert_str_eq(r.names[0], "api.example.com");
	ck_assert_uint_eq(r.nnames, 1);
	ck_assert_uint_eq(r.naddrs, 2);
	ck_assert_int_eq(r.addrs[0].family, AF_INET);
	ck_assert_str_eq(inet_ntop(AF_INET, r.addrs[0].addr, buf, sizeof(buf)), "192.0.2.7");
	ck_assert_uint_eq(r.addrs[0].ttl, 60);
	ck_assert_int_eq(r.addrs[1].family, AF_INET6);
	ck_assert_str_eq(inet_ntop(AF_INET6, r.addrs[1].addr, buf, sizeof(buf)), "2001:db8::7");
	ck_assert_uint_eq(r.addrs[1].ttl, 5);
	dns_reply_clear(&r);
}
END_TEST

START_TEST(test_cname_chain)
{
	struct msg m;
	struct dns_reply r;

	/* Out of order, and the first CNAME's target compressed against the question. */
	start(&m, REPLY, 3, "www.example.com");
	rr_cname(&m, "mid.cdn.example.net", "edge.cdn.example.net");
	put_name(&m, "www.example.com");
	put16(&m, 5);
	put16(&m, 1);
	put32(&m, 300);
	put16(&m, 6);
	put(&m, "\3mid\xc0\x10", 6); /* "mid" + pointer to "example.com" at offset 16 */
	rr_a(&m, "edge.cdn.example.net", "198.51.100.1", 30);
	ck_assert_int_eq(dns_reply_parse(m.b, m.n, 64, &r), 0);
	/* mid.example.com (decompressed) is not mid.cdn.example.net: the chain stops there. */
	ck_assert_uint_eq(r.nnames, 2);
	ck_assert_str_eq(r.names[1], "mid.example.com");
	ck_assert_uint_eq(r.naddrs, 0);
	dns_reply_clear(&r);

	start(&m, REPLY, 3, "www.example.com");
	rr_cname(&m, "mid.cdn.example.net", "EDGE.cdn.example.net");
	rr_cname(&m, "www.example.com", "mid.cdn.example.net");
	rr_a(&m, "edge.cdn.example.net", "198.51.100.1", 30);
	ck_assert_int_eq(dns_reply_parse(m.b, m.n, 64, &r), 0);
	ck_assert_uint_eq(r.nnames, 3);
	ck_assert_str_eq(r.names[1], "mid.cdn.example.net");
	ck_assert_str_eq(r.names[2], "edge.cdn.example.net");
	ck_assert_uint_eq(r.naddrs, 1);
	ck_assert_uint_eq(r.addrs[0].name, 2);
	dns_reply_clear(&r);

	/* A loop ends; nothing to learn. */
	start(&m, REPLY, 2, "a.example.com");
	rr_cname(&m, "a.example.com", "b.example.com");
	rr_cname(&m, "b.example.com", "a.example.com");
	ck_assert_int_eq(dns_reply_parse(m.b, m.n, 64, &r), 0);
	ck_assert_uint_eq(r.nnames, 2);
	ck_assert_uint_eq(r.naddrs, 0);
	dns_reply_clear(&r);
}
END_TEST

START_TEST(test_refused)
{
	struct msg m;
	struct dns_reply r;

	start(&m, REPLY | 0x0200, 0, "many.example.com"); /* TC */
	ck_assert_int_eq(dns_reply_parse(m.b, m.n, 64, &r), -EMSGSIZE);
	start(&m, 0x0100, 0, "q.example.com"); /* a query, not a reply */
	ck_assert_int_eq(dns_reply_parse(m.b, m.n, 64, &r), -EBADMSG);
	start(&m, REPLY, 5, "five.example.com");
	for (int i = 0; i < 5; i++)
		rr_a(&m, "five.example.com", "192.0.2.1", 60);
	ck_assert_int_eq(dns_reply_parse(m.b, m.n, 4, &r), -E2BIG);
	ck_assert_ptr_null(r.addrs);
	ck_assert_int_eq(dns_reply_parse(m.b, m.n, 5, &r), 0);
	dns_reply_clear(&r);
	/* Cut anywhere inside: never a crash, never an address from beyond the cut. */
	for (size_t cut = 0; cut < m.n; cut++) {
		int e = dns_reply_parse(m.b, cut, 64, &r);

		ck_assert_msg(e == -EBADMSG || (e == 0 && r.naddrs < 5), "cut %zu: %d", cut, e);
		dns_reply_clear(&r);
	}
	/* An A record whose data is not 4 bytes. */
	start(&m, REPLY, 1, "bad.example.com");
	rr_head(&m, "bad.example.com", 1, 60);
	put16(&m, 5);
	put(&m, "\1\2\3\4\5", 5);
	ck_assert_int_eq(dns_reply_parse(m.b, m.n, 64, &r), -EBADMSG);
	/* NXDOMAIN: nothing, not an error. */
	start(&m, REPLY | 3, 0, "none.example.com");
	ck_assert_int_eq(dns_reply_parse(m.b, m.n, 64, &r), 0);
	ck_assert_uint_eq(r.naddrs, 0);
	dns_reply_clear(&r);
}
END_TEST

START_TEST(test_garbage)
{
	uint8_t b[512];
	struct dns_reply r;
	unsigned seed = 7;

	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)(rand_r(&seed) % sizeof(b));

		for (size_t k = 0; k < n; k++)
			b[k] = (uint8_t)rand_r(&seed);
		if (n > 3)
			b[2] |= 0x80; /* mostly "replies" */
		int e = dns_reply_parse(b, n, 8, &r);

		ck_assert(e == 0 || e == -EBADMSG || e == -EMSGSIZE || e == -E2BIG);
		ck_assert_uint_le(r.naddrs, 8);
		dns_reply_clear(&r);
	}
}
END_TEST

START_TEST(test_resolvconf)
{
	static const char text[] = "# generated\n"
				   "nameserver 127.0.0.53\n"
				   "nameserver\t10.0.0.2 # office\n"
				   "nameserver fe80::1%eth0\n"
				   "nameserver ::1\n"
				   "nameserver not-an-address\n"
				   "nameservers 10.9.9.9\n"
				   "search example.com\n"
				   "nameserver 2001:db8::53";
	struct policy_cidr *list = NULL;
	size_t n = 0;
	int stub = 0;
	char buf[64];

	ck_assert_int_eq(resolvconf_parse(text, sizeof(text) - 1, &list, &n, &stub), 0);
	ck_assert_int_eq(stub, 1);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(inet_ntop(AF_INET, list[0].addr, buf, sizeof(buf)), "10.0.0.2");
	ck_assert_str_eq(inet_ntop(AF_INET6, list[1].addr, buf, sizeof(buf)), "fe80::1");
	ck_assert_str_eq(inet_ntop(AF_INET6, list[2].addr, buf, sizeof(buf)), "2001:db8::53");
	free(list);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dns_reply");
	TCase *tc = tcase_create("dns_reply");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_a_aaaa);
	tcase_add_test(tc, test_cname_chain);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_resolvconf);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
