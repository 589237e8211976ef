/* The portal's URL and the token file. See dial.h. */
#include "ctl/dial.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Printable ASCII only (anything else percent-encoded): the host and the
 * prefix end up in an HTTP request line and headers. */
static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* A name or an IPv4 address (letters, digits, '.', '-', '_'); in brackets, an
 * IPv6 address (checked by inet_pton later). */
static bool host_chars(const char *h, size_t n, bool bracket)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)h[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_' ||
		      (bracket && ch == ':')))
			return false;
	}
	return true;
}

int ctl_portal_parse(const char *url, struct ctl_portal *out, char *err, size_t errlen)
{
	const char *p, *h, *hend;
	struct in6_addr a6;
	struct in_addr a4;
	bool bracket;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (strncasecmp(url, "https://", 8) != 0) {
		snprintf(err, errlen, "the portal URL must start with https://");
		return -EINVAL;
	}
	h = url + 8;
	bracket = *h == '[';
	if (bracket) {
		hend = strchr(++h, ']');
		if (!hend)
			goto bad;
		p = hend + 1;
	} else {
		hend = h + strcspn(h, ":/?#");
		p = hend;
	}
	n = (size_t)(hend - h);
	if (n == 0 || n >= sizeof(out->host) || !host_chars(h, n, bracket))
		goto bad;
	memcpy(out->host, h, n);
	out->host[n] = '\0';
	out->port = CTL_PORTAL_PORT;
	if (*p == ':') {
		char *e;
		long port = strtol(p + 1, &e, 10);

		if (e == p + 1 || port < 1 || port > 65535 || !(p[1] >= '0' && p[1] <= '9'))
			goto bad;
		out->port = (uint16_t)port;
		p = e;
	}
	if (*p && *p != '/')
		goto bad;
	n = strlen(p);
	if (strpbrk(p, "?#@") || n >= sizeof(out->prefix) || !printable(p, n))
		goto bad;
	memcpy(out->prefix, p, n + 1);
	while (n > 0 && out->prefix[n - 1] == '/')
		out->prefix[--n] = '\0';
	out->host_is_ip = inet_pton(AF_INET, out->host, &a4) == 1 ||
			  inet_pton(AF_INET6, out->host, &a6) == 1;
	if (bracket != (inet_pton(AF_INET6, out->host, &a6) == 1))
		goto bad; /* brackets hold an IPv6 address, and an IPv6 address needs them */
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	snprintf(err, errlen, "not a portal URL (https://HOST[:PORT]): %s", url);
	return -EINVAL;
}

int ctl_token_read(const char *path, char *tok, size_t len, char *err, size_t errlen)
{
	char buf[CTL_TOKEN_MAX + 2];
	ssize_t n;
	size_t i = 0, j;
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;

	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot read the token file %s: %s", path, strerror(e));
		return -e;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	e = errno;
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cannot read the token file %s: %s", path, strerror(e));
		return -EIO;
	}
	buf[n] = '\0';
	while (buf[i] == ' ' || buf[i] == '\t')
		i++;
	j = i + strcspn(buf + i, " \t\r\n");
	if (j == i || j - i >= len || (size_t)n > CTL_TOKEN_MAX) {
		explicit_bzero(buf, sizeof(buf));
		snprintf(err, errlen, "the token file %s does not hold a token", path);
		return -EINVAL;
	}
	memcpy(tok, buf + i, j - i);
	tok[j - i] = '\0';
	explicit_bzero(buf, sizeof(buf));
	return 0;
}
