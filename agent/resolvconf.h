/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_RESOLVCONF_H
#define NETSEG_RESOLVCONF_H

/*
 * The default trusted DNS resolvers of fqdn rules (policy without dns.resolvers): the
 * nameservers of the host's resolv.conf, loopback stubs skipped (their replies never cross a
 * container's path), plus systemd-resolved's upstreams when its stub is the nameserver.
 */

#include <stddef.h>

#include "policy.h"

#define RESOLVCONF_PATH		 "/etc/resolv.conf"
#define RESOLVCONF_RESOLVED_PATH "/run/systemd/resolve/resolv.conf"

/* Nameservers of the text BUF[0..len) (pure), appended to *list; loopback ones skipped. Sets
 * *ret_stub when one was skipped. 0 or -ENOMEM. */
int resolvconf_parse(const char *buf, size_t len, struct policy_cidr **list, size_t *n,
		     int *ret_stub);
/* Reads PATH (and, behind a stub, RESOLVCONF_RESOLVED_PATH). A missing file is an empty list.
 * 0 and a malloc'd list, or -errno. */
int resolvconf_load(const char *path, struct policy_cidr **ret, size_t *ret_n);

#endif
