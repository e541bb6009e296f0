/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_SOCKBUF_H
#define NETSEG_SOCKBUF_H

#include <stddef.h>

/*
 * Sets FD's socket buffer to WANT bytes with FORCE (SO_RCVBUFFORCE / SO_SNDBUFFORCE), which
 * ignores net.core.[rw]mem_max but needs CAP_NET_ADMIN, else with PLAIN (SO_RCVBUF /
 * SO_SNDBUF), which the kernel caps. Best effort: a small buffer only means more ENOBUFS,
 * which every reader here handles.
 */
void sockbuf_set(int fd, int force, int plain, size_t want);

#endif
