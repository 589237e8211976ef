/* sluice-gateway's settings. See config.h. */
#include "gateway/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static const struct {
	const char *flag, *env;
	bool has_value;
} opts[O_COUNT] = {
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

static int copy(char *dst, size_t cap, const char *v, const char *what, char *err,
		size_t errlen)
{
	size_t n = strlen(v);

	if (n == 0 || n >= cap) {
		snprintf(err, errlen, "%s: %s", what, n ? "too long" : "empty");
		return -EINVAL;
	}
	memcpy(dst, v, n + 1);
	return 0;
}

static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= GW_IFNAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || s[i] <= ' ' || s[i] > '~')
			return false;
	return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

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

static int apply(struct gw_config *c, enum opt o, const char *v, const char *what, char *err,
		 size_t errlen)
{
	char *e;
	long port;

	switch (o) {
	case O_PORTAL:
		return ctl_portal_parse(v, &c->portal, err, errlen);
	case O_TOKEN:
		return copy(c->token_file, sizeof(c->token_file), v, what, err, errlen);
	case O_CA:
		return copy(c->ca_file, sizeof(c->ca_file), v, what, err, errlen);
	case O_STATE:
		return copy(c->state_dir, sizeof(c->state_dir), v, what, err, errlen);
	case O_NAME:
		return copy(c->name, sizeof(c->name), v, what, err, errlen);
	case O_PORT:
		port = strtol(v, &e, 10);
		if (*e || e == v || v[0] == '-' || v[0] == '+' || port < 1 || port > 65535) {
			snprintf(err, errlen, "%s: not a port (1-65535): %s", what, v);
			return -EINVAL;
		}
		c->listen_port = (uint16_t)port;
		return 0;
	case O_ENDPOINT:
		if (!endpoint_ok(v)) {
			snprintf(err, errlen, "%s: not HOST:PORT or [IPv6]:PORT: %s", what, v);
			return -EINVAL;
		}
		return copy(c->endpoint, sizeof(c->endpoint), v, what, err, errlen);
	case O_IFNAME:
		if (!ifname_ok(v)) {
			snprintf(err, errlen, "%s: not an interface name: %s", what, v);
			return -EINVAL;
		}
		return copy(c->ifname, sizeof(c->ifname), v, what, err, errlen);
	case O_LEVEL:
		if (log_level_parse(v, &c->log_level) < 0) {
			snprintf(err, errlen, "%s: err, warn, info or debug, not %s", what, v);
			return -EINVAL;
		}
		return 0;
	case O_JSON:
		if (strcmp(v, "1") && strcmp(v, "0")) {
			snprintf(err, errlen, "%s: 1 or 0, not %s", what, v);
			return -EINVAL;
		}
		c->log_json = v[0] == '1';
		return 0;
	case O_COUNT:
		break;
	}
	return -EINVAL;
}

int gw_config_parse(struct gw_config *c, int argc, char *const argv[],
		    const char *(*env)(void *arg, const char *name), void *env_arg,
		    char *err, size_t errlen)
{
	bool seen[O_COUNT] = { false };
	int r;

	memset(c, 0, sizeof(*c));
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/sluice-gateway");
	snprintf(c->ifname, sizeof(c->ifname), "sluice-gw");
	c->listen_port = GW_LISTEN_PORT;
	c->log_level = LOG_LVL_INFO;
	if (err && errlen)
		err[0] = '\0';

	for (int o = 0; env && o < O_COUNT; o++) {
		const char *v = env(env_arg, opts[o].env);

		if (!v)
			continue;
		if ((r = apply(c, (enum opt)o, v, opts[o].env, err, errlen)) < 0)
			return r;
		seen[o] = true;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		int o;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			snprintf(err, errlen, "%s", usage);
			return 1;
		}
		for (o = 0; o < O_COUNT; o++) {
			size_t n = strlen(opts[o].flag);

			if (strncmp(a, opts[o].flag, n) != 0)
				continue;
			if (a[n] == '=' && opts[o].has_value)
				v = a + n + 1;
			else if (a[n] != '\0')
				continue;
			break;
		}
		if (o == O_COUNT) {
			snprintf(err, errlen, "unknown argument: %s (--help for usage)", a);
			return -EINVAL;
		}
		if (!opts[o].has_value)
			v = "1";
		else if (!v) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "%s needs a value", opts[o].flag);
				return -EINVAL;
			}
			v = argv[++i];
		}
		if ((r = apply(c, (enum opt)o, v, opts[o].flag, err, errlen)) < 0)
			return r;
		seen[o] = true;
	}
	for (int o = O_PORTAL; o <= O_CA; o++)
		if (!seen[o]) {
			snprintf(err, errlen, "%s is required (or %s); --help for usage",
				 opts[o].flag, opts[o].env);
			return -EINVAL;
		}
	if (!seen[O_ENDPOINT]) {
		snprintf(err, errlen, "--endpoint HOST:PORT is required (or SLUICE_ENDPOINT): "
				      "where clients reach this gateway's WireGuard port");
		return -EINVAL;
	}
	return 0;
}
