/* Control messages: the parts the decoder (msg_decode.c) and the encoder
 * (msg_encode.c) share — wire names, text rules, resource addresses — and
 * freeing. */
#include "ctl/msg_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "dns/pattern.h"

static const char *const type_names[] = {
	[CTL_INIT_CLIENT] = "init",
	[CTL_INIT_GATEWAY] = "init",
	[CTL_RESOURCE_UPSERT] = "resource_upsert",
	[CTL_RESOURCE_DELETE] = "resource_delete",
	[CTL_DNS_SETTINGS] = "dns_settings",
	[CTL_ACCESS_REQUEST] = "access_request",
	[CTL_ACCESS_GRANTED] = "access_granted",
	[CTL_ACCESS_DENIED] = "access_denied",
	[CTL_ACCESS_REVOKED] = "access_revoked",
	[CTL_AUTHORIZE] = "authorize",
	[CTL_AUTHORIZED] = "authorized",
	[CTL_REVOKE] = "revoke",
	[CTL_FLOW_LOG] = "flow_log",
	[CTL_ERROR] = "error",
	[CTL_GATEWAY_OFFLINE] = "gateway_offline",
};

const char *ctl_type_name(enum ctl_type t)
{
	if ((unsigned)t >= sizeof(type_names) / sizeof(type_names[0]) || !type_names[t])
		return "?";
	return type_names[t];
}

const char *ctl_error_code(int r)
{
	switch (r) {
	case -EBADMSG:
		return "bad_message";
	case -E2BIG:
		return "too_large";
	case -ENOTSUP:
		return "unsupported";
	default:
		return "internal";
	}
}

static const char *const res_names[] = { [CTL_RES_DNS] = "dns", [CTL_RES_IP] = "ip",
					 [CTL_RES_CIDR] = "cidr" };
static const char *const proto_names[] = { [CTL_PROTO_TCP] = "tcp", [CTL_PROTO_UDP] = "udp",
					   [CTL_PROTO_ICMP] = "icmp" };

const char *ctl_res_type_str(enum ctl_res_type t)
{
	return (unsigned)t >= 1 && (unsigned)t <= CTL_RES_CIDR ? res_names[t] : NULL;
}

enum ctl_res_type ctl_res_type_parse(const char *s)
{
	for (unsigned i = 1; i <= CTL_RES_CIDR; i++)
		if (!strcmp(s, res_names[i]))
			return (enum ctl_res_type)i;
	return 0;
}

const char *ctl_proto_str(enum ctl_proto p)
{
	return (unsigned)p >= 1 && (unsigned)p <= CTL_PROTO_ICMP ? proto_names[p] : NULL;
}

enum ctl_proto ctl_proto_parse(const char *s)
{
	for (unsigned i = 1; i <= CTL_PROTO_ICMP; i++)
		if (!strcmp(s, proto_names[i]))
			return (enum ctl_proto)i;
	return 0;
}

int ctl_parse_port(const char *s, size_t len, uint16_t *out)
{
	unsigned v = 0;

	if (len == 0 || len > 5 || (s[0] == '0' && len > 1))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* Code points in s[0..n), or -1 if it is not UTF-8 as jansson reads it (no
 * overlong forms, surrogates or values past U+10FFFF). */
static long utf8_chars(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	long chars = 0;
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i], len;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			chars++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return -1;
		}
		if (n - i < len)
			return -1;
		for (unsigned k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return -1;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
		i += len;
		chars++;
	}
	return chars;
}

const char *ctl_check_ident(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n == size || n > CTL_IDENT_MAX)
		return "too long (at most 31 characters)";
	if (n == 0)
		return "empty";
	if (s[0] < 'a' || s[0] > 'z')
		return "must start with a letter a-z";
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return "only a-z, 0-9 and '_' are allowed";
	return NULL;
}

static const char *check_name(const char *s, size_t size, bool may_be_empty)
{
	size_t n = strnlen(s, size);
	long chars;

	if (n == size)
		return "too long (at most 128 characters)";
	chars = utf8_chars(s, n);
	if (chars < 0)
		return "not UTF-8";
	if (chars == 0 && !may_be_empty)
		return "empty";
	if (chars > CTL_NAME_MAX)
		return "too long (at most 128 characters)";
	return NULL;
}

const char *ctl_check_name(const char *s, size_t size)
{
	return check_name(s, size, false);
}

const char *ctl_check_name0(const char *s, size_t size)
{
	return check_name(s, size, true);
}

const char *ctl_check_message(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n == size || n > CTL_MESSAGE_MAX)
		return "too long (at most 255 bytes)";
	return utf8_chars(s, n) < 0 ? "not UTF-8" : NULL;
}

static bool ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

const char *ctl_check_host(const char *s, size_t size)
{
	size_t n = strnlen(s, size), start, i;
	uint8_t a[16];

	if (n == size || n > CTL_ADDRESS_MAX)
		return "host too long (at most 253 characters)";
	if (n == 0)
		return "empty host";
	if (memchr(s, ':', n))
		return inet_pton(AF_INET6, s, a) == 1 ? NULL : "host is not an IPv6 address";
	if (strspn(s, "0123456789.") == n)
		return inet_pton(AF_INET, s, a) == 1 ? NULL : "host is not an IPv4 address";
	for (start = 0; start <= n; start = i + 1) {
		for (i = start; i < n && s[i] != '.'; i++)
			if (!ldh(s[i]))
				return "host name has a character other than letters, digits, '-', '_'";
		if (i == start || i - start > 63)
			return "host name has an empty label or one over 63 characters";
		if (s[start] == '-' || s[i - 1] == '-')
			return "host name label starts or ends with '-'";
	}
	return NULL;
}

const char *ctl_check_filter(const struct ctl_filter *f)
{
	if (!ctl_proto_str(f->proto))
		return "protocol must be tcp, udp or icmp";
	if (f->port_lo > f->port_hi)
		return "port range is reversed";
	if (f->proto == CTL_PROTO_ICMP && (f->port_lo != 0 || f->port_hi != 65535))
		return "icmp has no ports";
	return NULL;
}

/* 0-32 or 0-128, decimal, no leading zero. */
static int parse_prefix(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 3 || (s[0] == '0' && n > 1))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_ip(const char *s, struct ctl_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, ip->addr) == 1)
		ip->family = AF_INET;
	else if (inet_pton(AF_INET6, s, ip->addr) == 1)
		ip->family = AF_INET6;
	else
		return -EINVAL;
	return 0;
}

const char *ctl_parse_address(enum ctl_res_type t, const char *text, struct ctl_resource *r,
			      char *scratch, size_t scratch_len)
{
	char a[INET6_ADDRSTRLEN];
	const char *slash;
	unsigned prefix, bits;
	size_t n = strlen(text);

	memset(r->address, 0, sizeof(r->address));
	memset(&r->ip, 0, sizeof(r->ip));
	r->prefix = 0;
	if (n > CTL_ADDRESS_MAX)
		return "too long (at most 253 characters)";
	switch (t) {
	case CTL_RES_DNS:
		if (pattern_validate(text, scratch, scratch_len) < 0)
			return scratch;
		memcpy(r->address, text, n);
		return NULL;
	case CTL_RES_IP:
		if (n >= sizeof(a) || parse_ip(text, &r->ip) < 0)
			return "not an IPv4 or IPv6 address";
		r->prefix = r->ip.family == AF_INET ? 32 : 128;
		inet_ntop(r->ip.family, r->ip.addr, r->address, sizeof(r->address));
		return NULL;
	case CTL_RES_CIDR:
		slash = strchr(text, '/');
		if (!slash || (size_t)(slash - text) >= sizeof(a))
			return "not a prefix (address/length)";
		memcpy(a, text, (size_t)(slash - text));
		a[slash - text] = '\0';
		if (parse_ip(a, &r->ip) < 0)
			return "not a prefix: the address is not IPv4 or IPv6";
		bits = r->ip.family == AF_INET ? 32 : 128;
		if (parse_prefix(slash + 1, bits, &prefix) < 0)
			return r->ip.family == AF_INET ? "prefix length must be 0-32"
						       : "prefix length must be 0-128";
		for (unsigned b = prefix; b < bits; b++)
			if (r->ip.addr[b / 8] & (0x80 >> (b % 8))) {
				memset(&r->ip, 0, sizeof(r->ip));
				return "host bits set: the address must be the prefix's first";
			}
		r->prefix = (uint8_t)prefix;
		inet_ntop(r->ip.family, r->ip.addr, a, sizeof(a));
		snprintf(r->address, sizeof(r->address), "%s/%u", a, prefix);
		return NULL;
	}
	return "unknown resource type";
}

void ctl_msg_free(struct ctl_msg *m)
{
	if (m->auths)
		sodium_memzero(m->auths, m->n_auths * sizeof(*m->auths));
	free(m->resources);
	free(m->auths);
	free(m->flows);
	sodium_memzero(m, sizeof(*m));
}
