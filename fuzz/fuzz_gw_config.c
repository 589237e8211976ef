/* sluice-gateway's settings: the input is argv (NUL-separated) and, after a
 * 0x01 byte, environment lines NAME=VALUE. Any bytes parse without a crash;
 * what parses holds the documented invariants: a portal host and port, a port
 * in range, strings terminated within their fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/dial.h"
#include "gateway/config.h"

#include "config_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAX_ARGS + 1], err[256];
	struct fenv env;
	struct ctl_portal portal;
	struct gw_config c;
	int argc, r;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argc = config_input_split(buf, size, "sluice-gateway", argv, &env);
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
