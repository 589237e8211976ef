/* sluice-client's settings: the input is argv (NUL-separated) and, after a
 * 0x01 byte, environment lines NAME=VALUE. Any bytes parse without a crash;
 * what parses holds the documented invariants: a portal host and port, strings
 * terminated within their fields, every range of its family, length bounds and
 * without host bits, no sentinel range around its proxy range. The prefix
 * parser alone gets the whole input too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "client/config.h"

#include "config_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_prefix(const struct net_prefix *p, int family, unsigned min, unsigned max)
{
	struct net_prefix back;
	char text[PREFIX_STRLEN];

	if (p->family != family || p->len < min || p->len > max)
		abort();
	/* printed and parsed again it is the same prefix: no host bits either */
	if (prefix_parse(prefix_str(p, text, sizeof(text)), &back) != 0 ||
	    back.family != p->family || back.len != p->len ||
	    memcmp(back.addr, p->addr, sizeof(back.addr)) != 0)
		abort();
}

static bool around(const struct net_prefix *sentinel, const struct net_prefix *proxy)
{
	return sentinel->len <= proxy->len && prefix_overlaps(sentinel, proxy);
}

static bool terminated(const char *s, size_t cap)
{
	return memchr(s, 0, cap) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAX_ARGS + 1], err[256];
	struct fenv env;
	struct net_prefix pfx;
	struct cl_config c;
	int argc, r;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argc = config_input_split(buf, size, "sluice-client", argv, &env);
	r = cl_config_parse(&c, argc, argv, fenv_get, &env, err, sizeof(err));
	if (r == 0) {
		if (!c.portal.host[0] || !c.portal.port || !c.token_file[0] || !c.ca_file[0] ||
		    !terminated(c.ifname, sizeof(c.ifname)) || !c.ifname[0] ||
		    !terminated(c.name, sizeof(c.name)) ||
		    !terminated(c.status_socket, sizeof(c.status_socket)) ||
		    !terminated(c.dns_backup, sizeof(c.dns_backup)) ||
		    !strcmp(c.dns_backup, c.resolv_conf))
			abort();
		check_prefix(&c.proxy4, AF_INET, 8, 30);
		check_prefix(&c.proxy6, AF_INET6, 96, 126);
		check_prefix(&c.sentinel4, AF_INET, 16, CL_SENTINEL4_MAXLEN);
		check_prefix(&c.sentinel6, AF_INET6, 112, CL_SENTINEL6_MAXLEN);
		if (around(&c.sentinel4, &c.proxy4) || around(&c.sentinel6, &c.proxy6))
			abort();
	} else if (!terminated(err, sizeof(err)) || !err[0]) {
		abort(); /* every refusal says why */
	}
	if (prefix_parse(buf, &pfx) == 0)
		check_prefix(&pfx, pfx.family, 0, pfx.family == AF_INET ? 32 : 128);
	free(buf);
	return 0;
}
