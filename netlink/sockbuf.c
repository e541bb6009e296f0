/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sockbuf.h"

#include <stdint.h>
#include <sys/socket.h>

void sockbuf_set(int fd, int force, int plain, size_t want)
{
	int v = want > (size_t)INT32_MAX / 2 ? INT32_MAX / 2 : (int)want;

	if (setsockopt(fd, SOL_SOCKET, force, &v, sizeof(v)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, plain, &v, sizeof(v));
}
