/* sluice-gateway's settings: the input is argv (NUL-separated) and, after a
 * 0x01 byte, environment lines NAME=VALUE. Any bytes parse without a crash;
 * what parses holds the documented invariants: a portal host and port, a port
 * in range, strings terminated within their fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/dial.h"
#include "gateway/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_ARGS = 32 };

struct fenv {
	char *lines[MAX_ARGS];
	int n;
};

static const char *fenv_get(void *arg, const char *name)
{
	struct fenv *e = arg;
	size_t n = strlen(name);

	for (int i = 0; i < e->n; i++)
		if (strncmp(e->lines[i], name, n) == 0 && e->lines[i][n] == '=')
			return e->lines[i] + n + 1;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAX_ARGS + 1], *p, *end, err[256];
	struct fenv env = { .n = 0 };
	struct ctl_portal portal;
	struct gw_config c;
	int argc = 1, r;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	end = memchr(buf, 0x01, size);
	if (end) {
		*end = '\0';
		for (p = end + 1; p < buf + size && env.n < MAX_ARGS;) {
			env.lines[env.n++] = p;
			p += strcspn(p, "\n");
			if (*p)
				*p++ = '\0';
		}
	} else {
		end = buf + size;
	}
	argv[0] = "sluice-gateway";
	for (p = buf; p < end && argc < MAX_ARGS; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	r = gw_config_parse(&c, argc, argv, fenv_get, &env, err, sizeof(err));
	if (r == 0) {
		if (!c.portal.host[0] || !c.portal.port || !c.listen_port || !c.endpoint[0] ||
		    !memchr(c.ifname, 0, sizeof(c.ifname)) || !memchr(c.name, 0, sizeof(c.name)))
			abort();
	} else if (!memchr(err, 0, sizeof(err)) || !err[0]) {
		abort(); /* every refusal says why */
	}
	if (ctl_portal_parse(buf, &portal, err, sizeof(err)) == 0 &&
	    (!portal.host[0] || !portal.port))
		abort();
	free(buf);
	return 0;
}
