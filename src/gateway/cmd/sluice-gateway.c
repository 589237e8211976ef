/* sluice-gateway: see src/gateway/gateway.h and docs/gateway.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/dial.h"
#include "gateway/config.h"
#include "gateway/gateway.h"
#include "lib/daemon.h"
#include "lib/log.h"

static const char *env_get(void *arg, const char *name)
{
	(void)arg;
	return getenv(name);
}

int main(int argc, char **argv)
{
	struct gw_config cfg;
	struct gateway *g = NULL;
	char err[1024], token[CTL_TOKEN_MAX];
	int r;

	r = gw_config_parse(&cfg, argc, argv, env_get, NULL, err, sizeof(err));
	if (r == 1) {
		fputs(err, stdout);
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "sluice-gateway: %s\n", err);
		return 2;
	}
	log_setup(cfg.log_level, "sluice-gateway");
	log_set_json(cfg.log_json);
	if (ctl_token_read(cfg.token_file, token, sizeof(token), err, sizeof(err)) < 0) {
		log_err("%s", err);
		return 2;
	}
	daemon_block_signals(); /* before any thread starts */

	r = gateway_new(&cfg, token, &g);
	explicit_bzero(token, sizeof(token));
	if (r < 0)
		return 1;
	r = gateway_run(g);
	gateway_free(g);
	log_info("stopped");
	return r < 0 ? 1 : 0;
}
