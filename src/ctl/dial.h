/* What every client of the portal is given to reach it: the portal's URL and
 * the file holding its bearer token. One parser for `sluice admin`, the
 * daemons and the test tools. */
#ifndef SLUICE_CTL_DIAL_H
#define SLUICE_CTL_DIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	CTL_HOST_MAX = 256,    /* a DNS name (253) or an address, NUL included */
	CTL_PREFIX_MAX = 257,  /* a path prefix of at most 256 bytes */
	CTL_TOKEN_MAX = 512,   /* bytes of a token file that are read */
	CTL_PORTAL_PORT = 8443,
};

struct ctl_portal {
	char host[CTL_HOST_MAX];     /* as in the URL, without brackets */
	uint16_t port;               /* 8443 unless given */
	char prefix[CTL_PREFIX_MAX]; /* "" or "/something", no trailing '/' */
	bool host_is_ip;
};

/* "https://HOST[:PORT][/PREFIX]" (the scheme in any case): HOST a name or an
 * IPv4 address, or an IPv6 address in brackets; no user info, query, fragment,
 * nor any byte but printable ASCII (a prefix's others percent-encoded). 0 or
 * -EINVAL with the reason in err (out zeroed). */
int ctl_portal_parse(const char *url, struct ctl_portal *out, char *err, size_t errlen);
/* The first word of the file's first line into tok (len bytes): 0, or -errno
 * (-EINVAL: no token there) with the reason in err. Wipes what it read. */
int ctl_token_read(const char *path, char *tok, size_t len, char *err, size_t errlen);

#endif
