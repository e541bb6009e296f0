/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NETSEG_CLI_H
#define NETSEG_CLI_H

/*
 * The `netseg` command line. Exit codes (spec): 0 success, 1 a failure the user can fix
 * (bad policy, missing permission: always explained in one line), 2 usage error.
 */

#include <stddef.h>

#include "diag.h"
#include "endpoints.h"
#include "ir.h"
#include "policy.h"

/* CLI_HELP: --help was printed to stdout; the command stops there and netseg exits 0. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_HELP = 3 };

#define CLI_DEFAULT_POLICY_DIR	"/etc/netseg/policy.d"
#define CLI_DEFAULT_POLICY_FILE "/etc/netseg/policy.yaml"
#define CLI_MAX_BRIDGES		256

/* Options shared by check, compile and apply. */
struct cli_opts {
	const char *policy_path;    /* NULL: the default path */
	const char *endpoints_path; /* NULL: no endpoints */
	const char *bridges[CLI_MAX_BRIDGES];
	size_t nbridges;
};

int cli_main(int argc, char **argv);

/* Parses -p, -e and --bridge (ALLOWED says which: "pe b"). Returns CLI_OK, CLI_HELP or
 * CLI_USAGE. */
int cli_parse_opts(const char *cmd, int argc, char **argv, const char *allowed,
		   struct cli_opts *ret);
const char *cli_policy_path(const struct cli_opts *o);
__attribute__((format(printf, 2, 3))) void cli_error(const char *cmd, const char *fmt, ...);

/*
 * Loads the policy and endpoints, finds the managed bridges (flags, endpoint files, the
 * kernel) and compiles. On failure prints the located errors and returns -EINVAL.
 */
struct cli_build {
	struct ir_ruleset *ruleset;
	size_t nrules, nendpoints, nbridges;
};
int cli_build_ruleset(const char *cmd, const struct cli_opts *o, struct cli_build *ret);

int cmd_check(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_flush(int argc, char **argv);

#endif
