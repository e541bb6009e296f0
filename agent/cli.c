/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli.h"

#include "agent.h"
#include "control.h"
#include "util.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char usage_text[] =
    "usage: netseg COMMAND [OPTIONS]\n"
    "\n"
    "  check   [-p PATH]                          validate a policy\n"
    "  compile [-p PATH] [-e FILE] [--bridge NAME] print the nftables ruleset apply installs\n"
    "  apply   [-p PATH] [-e FILE] [--bridge NAME] install it in one atomic transaction\n"
    "  flush                                      remove everything netseg installed\n"
    "  agent   [-p PATH] [--docker SOCK] [--endpoints-dir DIR] [--bridge NAME]\n"
    "                                             the daemon: follow Docker, endpoint files\n"
    "                                             and the policy, incrementally\n"
    "  status  [--json] [--control SOCK]          ask the running agent: endpoints, groups,\n"
    "                                             rules with counters, errors\n"
    "\n"
    "  -p, --policy PATH     policy file or directory (default " CLI_DEFAULT_POLICY_DIR "/,\n"
    "                        else " CLI_DEFAULT_POLICY_FILE ")\n"
    "  -e, --endpoints FILE  endpoint file declaring the containers to manage\n"
    "  -b, --bridge NAME     manage this bridge even before a container is on it\n"
    "\n"
    "Exit status: 0 success, 1 failure (explained), 2 usage error.\n";

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "netseg: %s%s", cmd ? cmd : "", cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *cli_policy_path(const struct cli_opts *o)
{
	struct stat st;

	if (o->policy_path)
		return o->policy_path;
	if (stat(CLI_DEFAULT_POLICY_DIR, &st) == 0 && S_ISDIR(st.st_mode))
		return CLI_DEFAULT_POLICY_DIR;
	return CLI_DEFAULT_POLICY_FILE;
}

int cli_parse_opts(const char *cmd, int argc, char **argv, const char *allowed,
		   struct cli_opts *ret)
{
	static const struct option longopts[] = {
	    {"policy", required_argument, NULL, 'p'},
	    {"endpoints", required_argument, NULL, 'e'},
	    {"bridge", required_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct cli_opts o = {0};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:e:b:h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return CLI_HELP;
		}
		if (c == ':' || c == '?') {
			if (c == ':')
				cli_error(cmd, "option '%s' needs a value", argv[optind - 1]);
			else
				cli_error(cmd, "unknown option '%s'; see 'netseg --help'",
					  argv[optind - 1]);
			return CLI_USAGE;
		}
		if (!strchr(allowed, c)) {
			cli_error(cmd, "option '%s' does not apply here; see 'netseg --help'",
				  argv[optind - 1 - (optarg ? 1 : 0)]);
			return CLI_USAGE;
		}
		if (c == 'p')
			o.policy_path = optarg;
		else if (c == 'e')
			o.endpoints_path = optarg;
		else if (o.nbridges == CLI_MAX_BRIDGES) {
			cli_error(cmd, "too many --bridge options (at most %d)", CLI_MAX_BRIDGES);
			return CLI_USAGE;
		} else if (strlen(optarg) == 0 || strlen(optarg) > 15) {
			cli_error(cmd, "'%s' is not an interface name (1 to 15 characters)",
				  optarg);
			return CLI_USAGE;
		} else
			o.bridges[o.nbridges++] = optarg;
	}
	if (optind < argc) {
		cli_error(cmd, "unexpected argument '%s'; see 'netseg --help'", argv[optind]);
		return CLI_USAGE;
	}
	*ret = o;
	return CLI_OK;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
    {"check", cmd_check}, {"compile", cmd_compile}, {"apply", cmd_apply},
    {"flush", cmd_flush}, {"agent", cmd_agent},	    {"status", cmd_status},
};

int cli_main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd || !strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		fputs(usage_text, cmd ? stdout : stderr);
		return cmd ? CLI_OK : CLI_USAGE;
	}
	if (!strcmp(cmd, "--version")) {
		puts("netseg " NETSEG_VERSION);
		return CLI_OK;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(cmd, commands[i].name)) {
			int r = commands[i].run(argc - 1, argv + 1);

			return r == CLI_HELP ? CLI_OK : r;
		}
	cli_error(NULL, "unknown command '%s'; see 'netseg --help'", cmd);
	return CLI_USAGE;
}
