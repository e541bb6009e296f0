/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_HOSTADDR_H
#define NETSEG_HOSTADDR_H

/* The host's own addresses (what the spec calls `host`), from rtnetlink. */

#include <stddef.h>

#include "endpoints.h"

/*
 * Every IPv4 and IPv6 address of every interface of this network namespace, loopback and
 * link-local included (the kernel delivers to all of them locally). 0 and a malloc'ed array
 * the caller frees, or -errno.
 */
int hostaddr_list(struct endpoint_addr **ret, size_t *ret_n);

#endif
