/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for endpoint files (policy/endpoints.c), as the agent reads a watched
 * directory: byte 0 picks the format ('j' JSON, anything else YAML), the rest is the file.
 * The document is loaded twice into one set, so the second load meets every name, interface
 * and address of the first (the cross-file uniqueness checks); the set must outlive the
 * diagnostics its locations came from, so those are freed first and the locations read after.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "endpoints.h"
#include "parse.h"

static FILE *fuzz_sink(void)
{
	static FILE *sink;

	if (!sink)
		sink = fopen("/dev/null", "w");
	return sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list *d1 = NULL, *d2 = NULL;
	struct endpoint_set *set = NULL;
	struct node *root = NULL;
	enum parse_format fmt;
	size_t sum = 0;

	if (size < 1)
		return 0;
	fmt = data[0] == 'j' ? PARSE_JSON : PARSE_YAML;
	d1 = diag_list_new();
	d2 = diag_list_new();
	set = endpoint_set_new();
	if (!d1 || !d2 || !set)
		goto out;
	if (parse_buffer((const char *)data + 1, size - 1,
			 fmt == PARSE_JSON ? "ep.json" : "ep.yaml", fmt, d1, &root) == 0) {
		(void)endpoint_set_from_node(set, root, d1);
		(void)endpoint_set_from_node(set, root, d2);
		node_free(root);
	}
	if (fuzz_sink()) {
		diag_print(d1, fuzz_sink());
		diag_print(d2, fuzz_sink());
	}
	diag_list_free(d1);
	diag_list_free(d2);
	d1 = d2 = NULL;
	for (size_t i = 0; i < set->n; i++)
		sum += strlen(set->items[i].loc.file) + strlen(set->items[i].name) +
		       strlen(set->items[i].interface);
	if (fuzz_sink())
		fprintf(fuzz_sink(), "%zu\n", sum);
out:
	endpoint_set_free(set);
	diag_list_free(d1);
	diag_list_free(d2);
	return 0;
}
