/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the host's resolv.conf as fqdn rules read it (resolvconf_parse): the
 * input is the file, parsed twice into one list as resolvconf_load does behind a stub.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "policy.h"
#include "resolvconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_cidr *list = NULL;
	size_t n = 0, first;
	int stub = 0;

	if (resolvconf_parse((const char *)data, size, &list, &n, &stub) == 0) {
		first = n;
		if (resolvconf_parse((const char *)data, size, &list, &n, &stub) == 0 &&
		    (n < first || n > POLICY_DNS_RESOLVERS_MAX))
			abort();
	}
	for (size_t i = 0; i < n; i++)
		if (list[i].family != AF_INET && list[i].family != AF_INET6)
			abort();
	free(list);
	return 0;
}
