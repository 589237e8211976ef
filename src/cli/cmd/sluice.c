/* sluice: the command line of the sluice project.
 *
 *   sluice admin ...   the portal's REST API (docs/cli.md)
 *   sluice status      the local sluice-client's state, from its status socket
 *
 * The connection comes from options or from the environment: SLUICE_PORTAL,
 * SLUICE_CA, SLUICE_TOKEN, SLUICE_TOKEN_FILE (SLUICE_DEBUG=1: libwebsockets'
 * own log lines). The token is never an option: a
 * command line is visible to every user of the machine (ps). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/admin.h"
#include "cli/status.h"

static void usage(FILE *f)
{
	fputs("Usage: sluice COMMAND ...\n\n"
	      "Commands:\n"
	      "  admin    the portal's REST API: sites, gateways, resources, users, groups,\n"
	      "           policies, clients, tokens, settings, flows, audit\n"
	      "  status   what the local sluice-client is doing (needs root)\n\n"
	      "sluice admin --help, sluice status --help: more.\n", f);
}

int main(int argc, char **argv)
{
	struct admin_env env = {
		.portal = getenv("SLUICE_PORTAL"),
		.ca_file = getenv("SLUICE_CA"),
		.token = getenv("SLUICE_TOKEN"),
		.token_file = getenv("SLUICE_TOKEN_FILE"),
		.debug = getenv("SLUICE_DEBUG") && strcmp(getenv("SLUICE_DEBUG"), "0") != 0,
	};

	if (argc < 2) {
		usage(stderr);
		return ADMIN_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		puts("sluice 0.1.0");
		return 0;
	}
	if (strcmp(argv[1], "admin") == 0)
		return admin_main(argc - 1, argv + 1, &env, stdout, stderr);
	if (strcmp(argv[1], "status") == 0)
		return cli_status_main(argc - 1, argv + 1, stdout, stderr);
	fprintf(stderr, "sluice: no command %s (sluice --help)\n", argv[1]);
	return ADMIN_EXIT_USAGE;
}
