/* sluice-client: see src/client/client.h and docs/client.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "client/config.h"
#include "ctl/dial.h"
#include "lib/daemon.h"
#include "lib/log.h"

static const char *env_get(void *arg, const char *name)
{
	(void)arg;
	return getenv(name);
}

int main(int argc, char **argv)
{
	struct cl_config cfg;
	struct client *c = NULL;
	char err[1024], token[CTL_TOKEN_MAX];
	int r;

	r = cl_config_parse(&cfg, argc, argv, env_get, NULL, err, sizeof(err));
	if (r == 1) {
		fputs(err, stdout);
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "sluice-client: %s\n", err);
		return 2;
	}
	log_setup(cfg.log_level, "sluice-client");
	log_set_json(cfg.log_json);
	if (ctl_token_read(cfg.token_file, token, sizeof(token), err, sizeof(err)) < 0) {
		log_err("%s", err);
		return 2;
	}
	daemon_block_signals(); /* before any thread starts */

	r = client_new(&cfg, token, &c);
	explicit_bzero(token, sizeof(token));
	if (r < 0)
		return r == -EADDRINUSE ? 3 : 1;
	r = client_run(c);
	client_free(c);
	log_info("stopped");
	return r < 0 ? 1 : 0;
}
