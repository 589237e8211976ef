/* sluice-client's settings. See config.h. */
#include "client/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/opts.h"

static const char usage[] =
	"usage: sluice-client --portal URL --token-file F --ca FILE [--state DIR] [--name N]\n"
	"                     [--ifname IF] [--status-socket PATH] [--dns-backup PATH]\n"
	"                     [--resolv-conf PATH] [--proxy4 CIDR] [--proxy6 CIDR]\n"
	"                     [--sentinel4 CIDR] [--sentinel6 CIDR]\n"
	"                     [--log-level err|warn|info|debug] [--log-json]\n"
	"Defaults: --state /var/lib/sluice-client --ifname sluice0\n"
	"  --status-socket /run/sluice/client.sock --resolv-conf /etc/resolv.conf\n"
	"  --dns-backup RESOLV_CONF.sluice-backup --proxy4 100.96.0.0/11\n"
	"  --proxy6 fd00:2021:1111:8000::/107 --sentinel4 100.100.111.0/24\n"
	"  --sentinel6 fd00:2021:1111:8000:100:100:111:0/120\n"
	"Each option is also read from SLUICE_PORTAL, SLUICE_TOKEN_FILE, SLUICE_CA,\n"
	"SLUICE_STATE, SLUICE_NAME, SLUICE_IFNAME, SLUICE_STATUS_SOCKET, SLUICE_DNS_BACKUP,\n"
	"SLUICE_RESOLV_CONF, SLUICE_PROXY4, SLUICE_PROXY6, SLUICE_SENTINEL4,\n"
	"SLUICE_SENTINEL6, SLUICE_LOG_LEVEL and SLUICE_LOG_JSON (1 or 0); the command\n"
	"line wins.\n";

const char *cl_config_usage(void)
{
	return usage;
}

enum opt { O_PORTAL, O_TOKEN, O_CA, O_STATE, O_NAME, O_IFNAME, O_SOCKET, O_BACKUP, O_RESOLV,
	   O_PROXY4, O_PROXY6, O_SENT4, O_SENT6, O_LEVEL, O_JSON, O_COUNT };

static const struct opt_spec specs[O_COUNT] = {
	[O_PORTAL] = { "--portal", "SLUICE_PORTAL", true },
	[O_TOKEN] = { "--token-file", "SLUICE_TOKEN_FILE", true },
	[O_CA] = { "--ca", "SLUICE_CA", true },
	[O_STATE] = { "--state", "SLUICE_STATE", true },
	[O_NAME] = { "--name", "SLUICE_NAME", true },
	[O_IFNAME] = { "--ifname", "SLUICE_IFNAME", true },
	[O_SOCKET] = { "--status-socket", "SLUICE_STATUS_SOCKET", true },
	[O_BACKUP] = { "--dns-backup", "SLUICE_DNS_BACKUP", true },
	[O_RESOLV] = { "--resolv-conf", "SLUICE_RESOLV_CONF", true },
	[O_PROXY4] = { "--proxy4", "SLUICE_PROXY4", true },
	[O_PROXY6] = { "--proxy6", "SLUICE_PROXY6", true },
	[O_SENT4] = { "--sentinel4", "SLUICE_SENTINEL4", true },
	[O_SENT6] = { "--sentinel6", "SLUICE_SENTINEL6", true },
	[O_LEVEL] = { "--log-level", "SLUICE_LOG_LEVEL", true },
	[O_JSON] = { "--log-json", "SLUICE_LOG_JSON", false },
};

static int prefix_opt(struct net_prefix *out, int family, unsigned min, unsigned max,
		      const char *v, const char *what, char *err, size_t errlen)
{
	struct net_prefix p;

	if (prefix_parse(v, &p) < 0 || p.family != family || p.len < min || p.len > max) {
		snprintf(err, errlen, "%s: not an %s prefix /%u to /%u without host bits: %s",
			 what, family == AF_INET ? "IPv4" : "IPv6", min, max, v);
		return -EINVAL;
	}
	*out = p;
	return 0;
}

static int apply(void *ctx, unsigned o, const char *v, const char *what, char *err,
		 size_t errlen)
{
	struct cl_config *c = ctx;

	switch ((enum opt)o) {
	case O_PORTAL:
		return ctl_portal_parse(v, &c->portal, err, errlen);
	case O_TOKEN:
		return opts_copy(c->token_file, sizeof(c->token_file), v, what, err, errlen);
	case O_CA:
		return opts_copy(c->ca_file, sizeof(c->ca_file), v, what, err, errlen);
	case O_STATE:
		return opts_copy(c->state_dir, sizeof(c->state_dir), v, what, err, errlen);
	case O_NAME:
		return opts_copy(c->name, sizeof(c->name), v, what, err, errlen);
	case O_IFNAME:
		return opts_ifname(c->ifname, sizeof(c->ifname), v, what, err, errlen);
	case O_SOCKET:
		return opts_copy(c->status_socket, sizeof(c->status_socket), v, what, err,
				 errlen);
	case O_BACKUP:
		return opts_copy(c->dns_backup, sizeof(c->dns_backup), v, what, err, errlen);
	case O_RESOLV:
		return opts_copy(c->resolv_conf, sizeof(c->resolv_conf), v, what, err, errlen);
	case O_PROXY4:
		return prefix_opt(&c->proxy4, AF_INET, 8, 30, v, what, err, errlen);
	case O_PROXY6:
		return prefix_opt(&c->proxy6, AF_INET6, 96, 126, v, what, err, errlen);
	case O_SENT4:
		return prefix_opt(&c->sentinel4, AF_INET, 16, CL_SENTINEL4_MAXLEN, v, what, err,
				  errlen);
	case O_SENT6:
		return prefix_opt(&c->sentinel6, AF_INET6, 112, CL_SENTINEL6_MAXLEN, v, what, err,
				  errlen);
	case O_LEVEL:
		return opts_log_level(&c->log_level, v, what, err, errlen);
	case O_JSON:
		return opts_bool(&c->log_json, v, what, err, errlen);
	case O_COUNT:
		break;
	}
	return -EINVAL;
}

/* Inside the proxy range the pool skips the sentinels; outside they get a
 * route of their own. Around it, every proxy IP would be a sentinel. */
static int sentinel_check(const struct net_prefix *s, const struct net_prefix *proxy,
			  const char *sflag, const char *pflag, char *err, size_t errlen)
{
	char a[PREFIX_STRLEN], b[PREFIX_STRLEN];

	if (s->len > proxy->len || !prefix_overlaps(s, proxy))
		return 0;
	snprintf(err, errlen, "%s %s covers %s %s: the sentinels must lie inside or outside it",
		 sflag, prefix_str(s, a, sizeof(a)), pflag, prefix_str(proxy, b, sizeof(b)));
	return -EINVAL;
}

static void set_default(struct net_prefix *p, const char *s)
{
	int r = prefix_parse(s, p);

	(void)r; /* the literals below parse */
}

int cl_config_parse(struct cl_config *c, int argc, char *const argv[],
		    const char *(*env)(void *arg, const char *name), void *env_arg,
		    char *err, size_t errlen)
{
	const struct opts o = { specs, O_COUNT, usage, apply, c };
	bool seen[O_COUNT];
	int r;

	memset(c, 0, sizeof(*c));
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/sluice-client");
	snprintf(c->ifname, sizeof(c->ifname), "sluice0");
	snprintf(c->status_socket, sizeof(c->status_socket), "/run/sluice/client.sock");
	snprintf(c->resolv_conf, sizeof(c->resolv_conf), "/etc/resolv.conf");
	set_default(&c->proxy4, "100.96.0.0/11");
	set_default(&c->proxy6, "fd00:2021:1111:8000::/107");
	set_default(&c->sentinel4, "100.100.111.0/24");
	set_default(&c->sentinel6, "fd00:2021:1111:8000:100:100:111:0/120");
	c->log_level = LOG_LVL_INFO;
	if ((r = opts_parse(&o, seen, argc, argv, env, env_arg, err, errlen)) != 0)
		return r;
	for (int i = O_PORTAL; i <= O_CA; i++)
		if (!seen[i])
			return opts_missing(&specs[i], err, errlen);
	/* The backup goes next to the file it saves, as hostdns's default does. */
	if (!seen[O_BACKUP] && (size_t)snprintf(c->dns_backup, sizeof(c->dns_backup),
						"%s.sluice-backup", c->resolv_conf) >=
				       sizeof(c->dns_backup)) {
		snprintf(err, errlen, "--resolv-conf: too long for its backup's name");
		return -EINVAL;
	}
	if (strcmp(c->dns_backup, c->resolv_conf) == 0) {
		snprintf(err, errlen, "--dns-backup must differ from --resolv-conf");
		return -EINVAL;
	}
	if ((r = sentinel_check(&c->sentinel4, &c->proxy4, "--sentinel4", "--proxy4", err,
				errlen)) < 0 ||
	    (r = sentinel_check(&c->sentinel6, &c->proxy6, "--sentinel6", "--proxy6", err,
				errlen)) < 0)
		return r;
	return 0;
}
