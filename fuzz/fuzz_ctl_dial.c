/* The portal's URL (ctl/dial.h): any bytes parse without a crash, and what
 * parses holds the documented invariants: a host of name or address bytes (an
 * IPv6 address only when bracketed), a port, a prefix "" or "/..." without a
 * trailing '/', and no space, control byte, '?', '#' or '@' anywhere. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/dial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_bytes(const char *s, size_t cap)
{
	size_t n;

	if (!memchr(s, 0, cap))
		abort();
	n = strlen(s);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f ||
		    strchr("?#@", s[i]))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = malloc(size + 1), err[128];
	struct ctl_portal p;
	struct in6_addr a6;
	size_t n;

	if (!url)
		return 0;
	memcpy(url, data, size);
	url[size] = '\0';
	if (ctl_portal_parse(url, &p, err, sizeof(err)) == 0) {
		check_bytes(p.host, sizeof(p.host));
		check_bytes(p.prefix, sizeof(p.prefix));
		n = strlen(p.prefix);
		if (!p.host[0] || !p.port || (n && (p.prefix[0] != '/' || p.prefix[n - 1] == '/')))
			abort();
		/* a colon in the host only in an IPv6 address, which the URL bracketed */
		if (strchr(p.host, ':') && (inet_pton(AF_INET6, p.host, &a6) != 1 ||
					    url[8] != '[' || !p.host_is_ip))
			abort();
	} else if (!memchr(err, 0, sizeof(err)) || !err[0] || p.host[0]) {
		abort(); /* every refusal says why and leaves nothing behind */
	}
	free(url);
	return 0;
}
