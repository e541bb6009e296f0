/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the policy front end: byte 0 picks the format ('j' JSON, anything else
 * YAML), the rest is the document. Parsed trees also go through validation, and diagnostics
 * are rendered, so every path a bad policy can take from text to error message is exercised.
 */
#include <stdint.h>
#include <stdio.h>

#include "parse.h"
#include "policy.h"

/* Rendering must run but its output is noise; one sink for the whole run. */
static FILE *fuzz_sink(void)
{
	static FILE *sink;

	if (!sink)
		sink = fopen("/dev/null", "w");
	return sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum parse_format fmt;
	struct diag_list *diags;
	struct policy *policy = NULL;
	struct node *root = NULL;

	if (size < 1)
		return 0;
	fmt = data[0] == 'j' ? PARSE_JSON : PARSE_YAML;
	diags = diag_list_new();
	if (!diags)
		return 0;
	if (parse_buffer((const char *)data + 1, size - 1,
			 fmt == PARSE_JSON ? "fuzz.json" : "fuzz.yaml", fmt, diags, &root) == 0) {
		if (policy_from_nodes(&root, 1, diags, &policy) == 0)
			policy_free(policy);
		node_free(root);
	}
	if (fuzz_sink())
		diag_print(diags, fuzz_sink());
	diag_list_free(diags);
	return 0;
}
