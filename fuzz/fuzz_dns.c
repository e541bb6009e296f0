/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the DNS replies fqdn rules learn from: the packet split of the
 * NFQUEUE'd reply (fqdn_split) and libresolv's parse of the message (dns_reply_parse), as
 * fqdn_read runs them. Byte 0: the low two bits say what follows, the other six are the
 * policy's max_ips_per_name (0..63):
 *   0  a DNS message, as a UDP datagram carries it;
 *   1  a TCP reply as the stream carries it (2-byte length, then the message), put in one
 *      IPv4 TCP segment;
 *   2  a DNS message in an IPv6 UDP datagram;
 *   3  a whole IP packet, as the queue hands it over.
 */
#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns_reply.h"
#include "fqdn.h"

#define HDR_MAX (sizeof(struct ip6_hdr) + sizeof(struct tcphdr))

static uint8_t pkt[HDR_MAX + 65536];
static struct dns_reply reply; /* 16 KiB of names: not on the stack */

static size_t wrap_tcp4(const uint8_t *data, size_t len)
{
	struct iphdr *ip = (struct iphdr *)pkt;
	struct tcphdr *tcp = (struct tcphdr *)(pkt + sizeof(*ip));

	memset(pkt, 0, sizeof(*ip) + sizeof(*tcp));
	*ip = (struct iphdr){.version = 4, .ihl = 5, .ttl = 64, .protocol = IPPROTO_TCP};
	ip->daddr = htonl(0x0a000002);
	tcp->source = htons(53);
	tcp->doff = 5;
	memcpy(pkt + sizeof(*ip) + sizeof(*tcp), data, len);
	return sizeof(*ip) + sizeof(*tcp) + len;
}

static size_t wrap_udp6(const uint8_t *data, size_t len)
{
	struct ip6_hdr *ip6 = (struct ip6_hdr *)pkt;
	struct udphdr *udp = (struct udphdr *)(pkt + sizeof(*ip6));

	memset(pkt, 0, sizeof(*ip6) + sizeof(*udp));
	ip6->ip6_vfc = 6 << 4;
	ip6->ip6_nxt = IPPROTO_UDP;
	ip6->ip6_dst.s6_addr[15] = 2;
	udp->source = htons(53);
	udp->len = htons((uint16_t)(sizeof(*udp) + len));
	memcpy(pkt + sizeof(*ip6) + sizeof(*udp), data, len);
	return sizeof(*ip6) + sizeof(*udp) + len;
}

static void parse(const uint8_t *msg, size_t len, size_t max_ips)
{
	int r = dns_reply_parse(msg, len, max_ips, &reply);

	if (r == 0) {
		if (reply.nnames < 1 || reply.nnames > DNS_REPLY_NAMES_MAX ||
		    reply.naddrs > max_ips)
			abort();
		for (size_t i = 0; i < reply.nnames; i++)
			if (!memchr(reply.names[i], '\0', DNS_REPLY_NAME_LEN))
				abort();
		for (size_t i = 0; i < reply.naddrs; i++)
			if (reply.addrs[i].name >= reply.nnames ||
			    (reply.addrs[i].family != AF_INET && reply.addrs[i].family != AF_INET6))
				abort();
	} else if (reply.addrs) {
		abort(); /* a failed parse keeps nothing */
	}
	dns_reply_clear(&reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nfqueue_packet p = {.id = 1, .data = pkt};
	struct fqdn_pkt pk = {0};
	size_t max_ips, len;
	int path, r;

	if (size < 1 || size - 1 > sizeof(pkt) - HDR_MAX)
		return 0;
	path = data[0] & 3;
	max_ips = data[0] >> 2;
	data++;
	len = size - 1;
	if (path == 0) {
		parse(data, len, max_ips);
		return 0;
	}
	if (path == 1)
		p.len = wrap_tcp4(data, len);
	else if (path == 2)
		p.len = wrap_udp6(data, len);
	else
		p.len = (memcpy(pkt, data, len), len);
	r = fqdn_split(&p, &pk);
	/* A segment carrying exactly one length-prefixed message, and only that, is split. */
	if (path == 1 && (r == 1) != (len >= 2 && (size_t)(data[0] << 8 | data[1]) == len - 2))
		abort();
	if (path == 2 && (r != 1 || pk.dnslen != len))
		abort();
	if (r == 1) {
		if (pk.dns < pkt || pk.dns + pk.dnslen > pkt + p.len)
			abort();
		parse(pk.dns, pk.dnslen, max_ips);
	}
	return 0;
}
