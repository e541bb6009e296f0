/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "resolvconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define RESOLVCONF_MAX_BYTES (64 * 1024)

static int resolvconf_loopback(const struct policy_cidr *c)
{
	static const uint8_t v6lo[16] = {[15] = 1};

	if (c->family == AF_INET)
		return c->addr[0] == 127;
	return memcmp(c->addr, v6lo, 16) == 0;
}

int resolvconf_parse(const char *buf, size_t len, struct policy_cidr **list, size_t *n,
		     int *ret_stub)
{
	size_t i = 0;

	while (i < len) {
		size_t e = i, k;
		char addr[64];
		struct policy_cidr c, *grown;

		while (e < len && buf[e] != '\n')
			e++;
		/* "nameserver ADDR", optionally an IPv6 scope ("%eth0"), which we cannot match. */
		if (e - i > 11 && memcmp(buf + i, "nameserver", 10) == 0 &&
		    (buf[i + 10] == ' ' || buf[i + 10] == '\t')) {
			k = i + 11;
			while (k < e && (buf[k] == ' ' || buf[k] == '\t'))
				k++;
			size_t l = 0;
			while (k < e && l + 1 < sizeof(addr) && buf[k] != ' ' && buf[k] != '\t' &&
			       buf[k] != '\r' && buf[k] != '%' && buf[k] != '#')
				addr[l++] = buf[k++];
			addr[l] = '\0';
			if (l && !strchr(addr, '/') && policy_cidr_parse(addr, &c) == 0 &&
			    *n < POLICY_DNS_RESOLVERS_MAX) {
				if (resolvconf_loopback(&c)) {
					*ret_stub = 1;
				} else {
					grown = realloc(*list, (*n + 1) * sizeof(**list));
					if (!grown)
						return -ENOMEM;
					*list = grown;
					(*list)[(*n)++] = c;
				}
			}
		}
		i = e + 1;
	}
	return 0;
}

static int resolvconf_file(const char *path, struct policy_cidr **list, size_t *n, int *stub)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t len;
	int r;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	buf = malloc(RESOLVCONF_MAX_BYTES);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	len = fread(buf, 1, RESOLVCONF_MAX_BYTES, f);
	r = ferror(f) ? -EIO : resolvconf_parse(buf, len, list, n, stub);
	fclose(f);
	free(buf);
	return r;
}

int resolvconf_load(const char *path, struct policy_cidr **ret, size_t *ret_n)
{
	struct policy_cidr *list = NULL;
	size_t n = 0;
	int stub = 0, ignored = 0, r;

	r = resolvconf_file(path, &list, &n, &stub);
	if (r == 0 && stub)
		r = resolvconf_file(RESOLVCONF_RESOLVED_PATH, &list, &n, &ignored);
	if (r < 0) {
		free(list);
		return r;
	}
	*ret = list;
	*ret_n = n;
	return 0;
}
