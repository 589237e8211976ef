/* sluice-gateway's settings: the command line, each option also as a SLUICE_*
 * environment variable (the command line wins). Pure: argv and the
 * environment are arguments, so every rule is unit-tested and fuzzed. */
#ifndef SLUICE_GATEWAY_CONFIG_H
#define SLUICE_GATEWAY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl/dial.h"
#include "lib/log.h"

enum {
	GW_PATH_MAX = 4096,
	GW_NAME_MAX = 128,
	GW_IFNAME_MAX = 16,
	GW_LISTEN_PORT = 51820,
	GW_DNS_PORT = 53535,
};

struct gw_config {
	struct ctl_portal portal;          /* --portal URL          SLUICE_PORTAL */
	char token_file[GW_PATH_MAX];      /* --token-file F        SLUICE_TOKEN_FILE */
	char ca_file[GW_PATH_MAX];         /* --ca FILE             SLUICE_CA */
	char state_dir[GW_PATH_MAX];       /* --state DIR           SLUICE_STATE */
	char name[GW_NAME_MAX + 1];        /* --name N              SLUICE_NAME ("": none) */
	uint16_t listen_port;              /* --listen-port P       SLUICE_LISTEN_PORT */
	char endpoint[CTL_HOST_MAX + 8];   /* --endpoint HOST:PORT  SLUICE_ENDPOINT */
	char ifname[GW_IFNAME_MAX];        /* --ifname IF           SLUICE_IFNAME */
	enum log_level log_level;          /* --log-level L         SLUICE_LOG_LEVEL */
	bool log_json;                     /* --log-json            SLUICE_LOG_JSON=1 */
};

/* Defaults, then the environment (getenv-like lookup), then argv. 0; 1 when
 * --help was asked (usage printed into err); -EINVAL with the reason in err. */
int gw_config_parse(struct gw_config *c, int argc, char *const argv[],
		    const char *(*env)(void *arg, const char *name), void *env_arg,
		    char *err, size_t errlen);
/* The usage text. */
const char *gw_config_usage(void);

#endif
