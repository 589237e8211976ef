/* sluice-gateway's settings. See config.h. */
#include "gateway/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/opts.h"

static const char usage[] =
	"usage: sluice-gateway --portal URL --token-file F --ca FILE --endpoint HOST:PORT\n"
	"                      [--state DIR] [--name N] [--listen-port 51820] [--ifname IF]\n"
	"                      [--log-level err|warn|info|debug] [--log-json]\n"
	"Each option is also read from SLUICE_PORTAL, SLUICE_TOKEN_FILE, SLUICE_CA,\n"
	"SLUICE_ENDPOINT, SLUICE_STATE, SLUICE_NAME, SLUICE_LISTEN_PORT, SLUICE_IFNAME,\n"
	"SLUICE_LOG_LEVEL and SLUICE_LOG_JSON (1 or 0); the command line wins.\n";

const char *gw_config_usage(void)
{
	return usage;
}

enum opt { O_PORTAL, O_TOKEN, O_CA, O_STATE, O_NAME, O_PORT, O_ENDPOINT, O_IFNAME, O_LEVEL,
	   O_JSON, O_COUNT };

static const struct opt_spec specs[O_COUNT] = {
	[O_PORTAL] = { "--portal", "SLUICE_PORTAL", true },
	[O_TOKEN] = { "--token-file", "SLUICE_TOKEN_FILE", true },
	[O_CA] = { "--ca", "SLUICE_CA", true },
	[O_STATE] = { "--state", "SLUICE_STATE", true },
	[O_NAME] = { "--name", "SLUICE_NAME", true },
	[O_PORT] = { "--listen-port", "SLUICE_LISTEN_PORT", true },
	[O_ENDPOINT] = { "--endpoint", "SLUICE_ENDPOINT", true },
	[O_IFNAME] = { "--ifname", "SLUICE_IFNAME", true },
	[O_LEVEL] = { "--log-level", "SLUICE_LOG_LEVEL", true },
	[O_JSON] = { "--log-json", "SLUICE_LOG_JSON", false },
};

/* HOST:PORT or [IPv6]:PORT, as docs/protocol.md allows for endpoints. */
static bool endpoint_ok(const char *s)
{
	const char *colon = strrchr(s, ':');
	char host[CTL_HOST_MAX], *e;
	struct in6_addr a6;
	size_t n;
	long port;

	if (!colon || colon == s)
		return false;
	port = strtol(colon + 1, &e, 10);
	if (*e || e == colon + 1 || colon[1] == '0' || port < 1 || port > 65535)
		return false;
	n = (size_t)(colon - s);
	if (s[0] == '[') {
		if (n < 3 || s[n - 1] != ']' || n - 2 >= sizeof(host))
			return false;
		memcpy(host, s + 1, n - 2);
		host[n - 2] = '\0';
		return inet_pton(AF_INET6, host, &a6) == 1;
	}
	if (n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_'))
			return false;
	}
	return s[0] != '-' && s[0] != '.';
}

static int apply(void *ctx, unsigned o, const char *v, const char *what, char *err,
		 size_t errlen)
{
	struct gw_config *c = ctx;

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
	case O_PORT:
		return opts_port(&c->listen_port, v, what, err, errlen);
	case O_ENDPOINT:
		if (!endpoint_ok(v)) {
			snprintf(err, errlen, "%s: not HOST:PORT or [IPv6]:PORT: %s", what, v);
			return -EINVAL;
		}
		return opts_copy(c->endpoint, sizeof(c->endpoint), v, what, err, errlen);
	case O_IFNAME:
		return opts_ifname(c->ifname, sizeof(c->ifname), v, what, err, errlen);
	case O_LEVEL:
		return opts_log_level(&c->log_level, v, what, err, errlen);
	case O_JSON:
		return opts_bool(&c->log_json, v, what, err, errlen);
	case O_COUNT:
		break;
	}
	return -EINVAL;
}

int gw_config_parse(struct gw_config *c, int argc, char *const argv[],
		    const char *(*env)(void *arg, const char *name), void *env_arg,
		    char *err, size_t errlen)
{
	const struct opts o = { specs, O_COUNT, usage, apply, c };
	bool seen[O_COUNT];
	int r;

	memset(c, 0, sizeof(*c));
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/sluice-gateway");
	snprintf(c->ifname, sizeof(c->ifname), "sluice-gw");
	c->listen_port = GW_LISTEN_PORT;
	c->log_level = LOG_LVL_INFO;
	if ((r = opts_parse(&o, seen, argc, argv, env, env_arg, err, errlen)) != 0)
		return r;
	for (int i = O_PORTAL; i <= O_CA; i++)
		if (!seen[i])
			return opts_missing(&specs[i], err, errlen);
	if (!seen[O_ENDPOINT]) {
		snprintf(err, errlen, "--endpoint HOST:PORT is required (or SLUICE_ENDPOINT): "
				      "where clients reach this gateway's WireGuard port");
		return -EINVAL;
	}
	return 0;
}
