/* The one parse of "Authorization: Bearer <token>", for the REST API and the
 * WebSocket upgrade alike: RFC 6750 section 2.1, credentials = "Bearer" 1*SP
 * b64token, the scheme in any case (RFC 7235). Trailing spaces and tabs are
 * dropped: HTTP says a field value has no trailing whitespace (RFC 9110 5.5), so
 * they are the sender's padding, not the token's. */
#include "portal/http.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static bool b64token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

int http_bearer(const char *authorization, char *out, size_t size)
{
	const char *p = authorization;
	size_t n, i;

	if (!p)
		return -ENOENT;
	if (strncasecmp(p, "Bearer", 6) != 0 || p[6] != ' ')
		return -EINVAL;
	p += 6;
	while (*p == ' ')
		p++;
	n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	for (i = 0; i < n && b64token_char(p[i]); i++)
		;
	if (i == 0)
		return -EINVAL;
	while (i < n && p[i] == '=')
		i++;
	if (i != n)
		return -EINVAL;
	if (n >= size)
		return -E2BIG;
	memcpy(out, p, n);
	out[n] = '\0';
	return (int)n;
}
