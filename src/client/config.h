/* sluice-client's settings: the command line, each option also as a SLUICE_*
 * environment variable (the command line wins). Pure: argv and the
 * environment are arguments, so every rule is unit-tested and fuzzed. */
#ifndef SLUICE_CLIENT_CONFIG_H
#define SLUICE_CLIENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl/dial.h"
#include "lib/log.h"
#include "net/prefix.h"

enum {
	CL_PATH_MAX = 4096,
	CL_NAME_MAX = 128,
	CL_IFNAME_MAX = 16,
	CL_SOCKET_MAX = 108,       /* sizeof(sockaddr_un.sun_path), NUL included */
	CL_SENTINEL4_MAXLEN = 27,  /* room for the .1-.16 sentinels (HOSTDNS_MAX_NS) */
	CL_SENTINEL6_MAXLEN = 123,
};

struct cl_config {
	struct ctl_portal portal;          /* --portal URL          SLUICE_PORTAL */
	char token_file[CL_PATH_MAX];      /* --token-file F        SLUICE_TOKEN_FILE */
	char ca_file[CL_PATH_MAX];         /* --ca FILE             SLUICE_CA */
	char state_dir[CL_PATH_MAX];       /* --state DIR           SLUICE_STATE */
	char name[CL_NAME_MAX + 1];        /* --name N              SLUICE_NAME ("": none) */
	char ifname[CL_IFNAME_MAX];        /* --ifname IF           SLUICE_IFNAME */
	char status_socket[CL_SOCKET_MAX]; /* --status-socket PATH  SLUICE_STATUS_SOCKET */
	char dns_backup[CL_PATH_MAX];      /* --dns-backup PATH     SLUICE_DNS_BACKUP
					    * (default: resolv_conf + ".sluice-backup") */
	char resolv_conf[CL_PATH_MAX];     /* --resolv-conf PATH    SLUICE_RESOLV_CONF */
	struct net_prefix proxy4;          /* --proxy4 CIDR         SLUICE_PROXY4, /8../30 */
	struct net_prefix proxy6;          /* --proxy6 CIDR         SLUICE_PROXY6, /96../126 */
	struct net_prefix sentinel4;       /* --sentinel4 CIDR      SLUICE_SENTINEL4, /16../27 */
	struct net_prefix sentinel6;       /* --sentinel6 CIDR      SLUICE_SENTINEL6, /112../123 */
	enum log_level log_level;          /* --log-level L         SLUICE_LOG_LEVEL */
	bool log_json;                     /* --log-json            SLUICE_LOG_JSON=1 */
};

/* Defaults, then the environment (getenv-like lookup), then argv. A sentinel
 * range lies inside its family's proxy range (the pool skips it, as the IPv4
 * default) or outside it (as the IPv6 default), never around it. 0; 1 when
 * --help was asked (usage printed into err); -EINVAL with the reason in err. */
int cl_config_parse(struct cl_config *c, int argc, char *const argv[],
		    const char *(*env)(void *arg, const char *name), void *env_arg,
		    char *err, size_t errlen);
/* The usage text. */
const char *cl_config_usage(void);

#endif
