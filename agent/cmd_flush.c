/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "compile.h"
#include "nft_batch.h"
#include "util.h"

/* `netseg flush`: delete netseg's own tables, and nothing else, in one transaction. */
int cmd_flush(int argc, char **argv)
{
	static const enum ir_family families[] = {IR_FAMILY_BRIDGE, IR_FAMILY_INET, IR_FAMILY_ARP};
	struct nft_batch_error err = {0};
	struct ir_ruleset *rs;
	struct cli_opts o;
	int r;

	r = cli_parse_opts("flush", argc, argv, "", &o);
	if (r != CLI_OK)
		return r;
	rs = ir_ruleset_new();
	if (!rs) {
		cli_error("flush", "out of memory");
		return CLI_FAIL;
	}
	r = 0;
	for (size_t i = 0; i < ARRAY_SIZE(families) && r == 0; i++)
		if (!ir_table_add(rs, families[i], COMPILE_TABLE_NAME))
			r = -ENOMEM;
	if (r == 0)
		r = nft_batch_flush(rs, &err);
	ir_ruleset_free(rs);
	if (r < 0) {
		cli_error("flush", "%s", err.message[0] ? err.message : strerror(-r));
		return CLI_FAIL;
	}
	printf("netseg: removed tables bridge, inet and arp netseg\n");
	return CLI_OK;
}
