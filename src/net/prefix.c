/* Address prefixes. See prefix.h. */
#include "net/prefix.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

unsigned prefix_addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static uint8_t bit_mask(unsigned plen, unsigned byte)
{
	unsigned bits = plen > byte * 8 ? plen - byte * 8 : 0;

	return bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);
}

int prefix_parse(const char *s, struct net_prefix *out)
{
	char tmp[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct net_prefix p = { 0 };
	unsigned long len;
	char *end;

	if (alen >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, alen);
	tmp[alen] = '\0';
	if (inet_pton(AF_INET, tmp, p.addr) == 1)
		p.family = AF_INET;
	else if (inet_pton(AF_INET6, tmp, p.addr) == 1)
		p.family = AF_INET6;
	else
		return -EINVAL;
	len = prefix_addr_len(p.family) * 8;
	if (slash) {
		/* digits only: strtoul would take a sign or spaces */
		if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3)
			return -EINVAL;
		len = strtoul(slash + 1, &end, 10);
		if (*end || len > prefix_addr_len(p.family) * 8)
			return -EINVAL;
	}
	p.len = (uint8_t)len;
	if (!prefix_valid(&p))
		return -EINVAL;
	*out = p;
	return 0;
}

struct net_prefix prefix_make(int family, const uint8_t *addr, unsigned len)
{
	struct net_prefix p = { .family = family };
	unsigned alen = prefix_addr_len(family);

	p.len = (uint8_t)(len > alen * 8 ? alen * 8 : len);
	for (unsigned i = 0; i < alen; i++)
		p.addr[i] = addr[i] & bit_mask(p.len, i);
	return p;
}

bool prefix_valid(const struct net_prefix *p)
{
	unsigned alen = prefix_addr_len(p->family);

	if (!alen || p->len > alen * 8)
		return false;
	for (unsigned i = 0; i < alen; i++)
		if (p->addr[i] & ~bit_mask(p->len, i))
			return false;
	return true;
}

const char *prefix_str(const struct net_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!prefix_addr_len(p->family) || !inet_ntop(p->family, p->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s/%u", a, p->len);
	return buf;
}

bool prefix_contains(const struct net_prefix *p, int family, const uint8_t *addr)
{
	unsigned alen = prefix_addr_len(family);

	if (family != p->family || !alen)
		return false;
	for (unsigned i = 0; i < alen; i++)
		if ((addr[i] & bit_mask(p->len, i)) != (p->addr[i] & bit_mask(p->len, i)))
			return false;
	return true;
}

bool prefix_inside(const struct net_prefix *in, const struct net_prefix *out)
{
	return in->len >= out->len && prefix_contains(out, in->family, in->addr);
}

bool prefix_overlaps(const struct net_prefix *a, const struct net_prefix *b)
{
	return prefix_inside(a, b) || prefix_inside(b, a);
}
