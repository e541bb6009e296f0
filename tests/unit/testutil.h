/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_TESTUTIL_H
#define NETSEG_TESTUTIL_H

#include <check.h>
#include <stddef.h>

/* Absolute path of a file in the source tree (NETSEG_SRCDIR). Static buffer per call slot. */
const char *tu_src_path(const char *rel);
/* Reads a whole file; NULL on error. Caller frees. */
char *tu_read_file(const char *path, size_t *ret_len);
/* Runs SUITE and returns the process exit status (0 when every test passed). */
int tu_run(Suite *s);

#endif
