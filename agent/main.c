/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <signal.h>

#include "cli.h"

int main(int argc, char **argv)
{
	/* Every socket write passes MSG_NOSIGNAL; this is the belt for any other write to a
	 * peer that went away (a closed stdout pipe included): an EPIPE to handle, not death. */
	signal(SIGPIPE, SIG_IGN);
	return cli_main(argc, argv);
}
