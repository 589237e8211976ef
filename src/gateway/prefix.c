#include "gateway/prefix.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

unsigned gw_addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static uint8_t bit_mask(unsigned plen, unsigned byte)
{
	unsigned bits = plen > byte * 8 ? plen - byte * 8 : 0;

	return bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);
}

int gw_prefix_parse(const char *s, struct gw_prefix *out)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct gw_prefix p = { 0 };
	unsigned long len;
	char *end;

	if (alen >= INET6_ADDRSTRLEN)
		return -EINVAL;
	memcpy(tmp, s, alen);
	tmp[alen] = '\0';
	if (inet_pton(AF_INET, tmp, p.addr) == 1)
		p.family = AF_INET;
	else if (inet_pton(AF_INET6, tmp, p.addr) == 1)
		p.family = AF_INET6;
	else
		return -EINVAL;
	len = gw_addr_len(p.family) * 8;
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno || *end || len > gw_addr_len(p.family) * 8)
			return -EINVAL;
	}
	p.len = (uint8_t)len;
	if (!gw_prefix_valid(&p))
		return -EINVAL;
	*out = p;
	return 0;
}

bool gw_prefix_valid(const struct gw_prefix *p)
{
	unsigned alen = gw_addr_len(p->family);

	if (!alen || p->len > alen * 8)
		return false;
	for (unsigned i = 0; i < alen; i++)
		if (p->addr[i] & ~bit_mask(p->len, i))
			return false;
	return true;
}

bool gw_prefix_contains(const struct gw_prefix *p, int family, const uint8_t *addr)
{
	unsigned alen = gw_addr_len(family);

	if (family != p->family || !alen)
		return false;
	for (unsigned i = 0; i < alen; i++)
		if ((addr[i] & bit_mask(p->len, i)) != p->addr[i])
			return false;
	return true;
}
