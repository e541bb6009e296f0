/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_PARSE_H
#define NETSEG_PARSE_H

/*
 * Text to node tree. Buffers in, so tests and fuzzers need no files; the path loaders only add
 * reading (with the size limit) and the directory walk.
 */

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "node.h"

enum parse_format { PARSE_YAML, PARSE_JSON };

/* Format from a file name's extension: 0 and *ret on .yaml/.yml/.json, -EINVAL otherwise. */
int parse_format_from_name(const char *name, enum parse_format *ret);

/*
 * Parses BUF (LEN bytes, need not be NUL-terminated) as FMT. FILENAME is used for locations.
 * Returns 0 and *ret_root, or -EINVAL with located errors appended to DIAGS (-ENOMEM on OOM).
 * Enforces NODE_MAX_FILE_BYTES and NODE_MAX_DEPTH (at most 64 nested lists/mappings).
 * Duplicate mapping keys are errors. The tree's locations borrow the file name interned in
 * DIAGS, so DIAGS must outlive the tree.
 */
int parse_buffer(const char *buf, size_t len, const char *filename, enum parse_format fmt,
		 struct diag_list *diags, struct node **ret_root);

/*
 * The back ends of parse_buffer(), which has already interned FILE in DIAGS and checked LEN
 * against NODE_MAX_FILE_BYTES; call that instead.
 */
int parse_yaml(const char *buf, size_t len, const char *file, struct diag_list *diags,
	       struct node **ret_root);
int parse_json(const char *buf, size_t len, const char *file, struct diag_list *diags,
	       struct node **ret_root);

/* Shared by the parsers, so both formats word the same problem alike. */

/*
 * Location of byte OFFSET in BUF (1-based line, 1-based column counted in bytes), for errors
 * reported as offsets.
 */
struct loc parse_loc_at_offset(const char *buf, size_t len, size_t offset, const char *file);
/* "nesting is deeper than NODE_MAX_DEPTH levels" at LOC; returns -EINVAL. */
int parse_too_deep(struct diag_list *diags, struct loc loc);
/*
 * Reports the duplicate keys of the mapping MAP just built, setting *failed when there are any.
 * Parsing goes on after them: the rest of the file may hold more errors. 0 or -ENOMEM.
 */
int parse_check_duplicates(const struct node *map, struct diag_list *diags, bool *failed);

/*
 * Reads and parses one file (limit checked before reading it all). Symlinks are followed;
 * what is not a regular file then (a FIFO, a directory, a device, a socket, a dangling
 * symlink) is a located error, found without opening it for reading, so a FIFO never blocks.
 */
int parse_file(const char *path, struct diag_list *diags, struct node **ret_root);

/* parse_listed_file(): the entry was skipped (one warning in DIAGS says why). */
#define PARSE_SKIPPED 1

/*
 * parse_file() for an entry found in a directory (a policy directory, --endpoints-dir): what
 * is not a regular file is skipped with a located warning, returning PARSE_SKIPPED and
 * leaving *ret_root alone.
 */
int parse_listed_file(const char *path, struct diag_list *diags, struct node **ret_root);

/*
 * A policy path: a file, or a directory whose *.yaml|*.yml|*.json entries are parsed in name
 * (strcmp) order, each as by parse_listed_file(): what is not a regular file is skipped with a
 * warning. Returns the roots in *ret_roots (count in *ret_n); every file is parsed even after
 * an error so that all errors are reported at once.
 */
int parse_path(const char *path, struct diag_list *diags, struct node ***ret_roots, size_t *ret_n);

#endif
