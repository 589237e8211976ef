/* resolv.conf: any bytes parse without a crash and within the caps; the
 * upstream list never holds a sentinel; and what parses survives sluice's own
 * file: written with fixed sentinels and parsed again, search/domain, options
 * and sortlist come back unchanged and the nameservers are the sentinels. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/hostdns.h"
#include "lib/buf.h"
#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hostdns_prefix ranges[2];
static struct sockaddr_storage sent[3];

static void init(void)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&sent[0];
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sent[2];

	log_setup(LOG_LVL_ERR, "fuzz"); /* sentinel nameservers are logged at info */
	ranges[0].family = AF_INET;
	ranges[0].bits = 24;
	inet_pton(AF_INET, "100.100.111.0", &ranges[0].ip4);
	ranges[1].family = AF_INET6;
	ranges[1].bits = 120;
	inet_pton(AF_INET6, "fd00:2021:1111:8000:100:100:111:0", &ranges[1].ip6);
	s4->sin_family = AF_INET;
	inet_pton(AF_INET, "100.100.111.1", &s4->sin_addr);
	sent[1] = sent[0];
	((struct sockaddr_in *)&sent[1])->sin_addr.s_addr = htonl(0x64646f02);
	s6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, "fd00:2021:1111:8000:100:100:111:1", &s6->sin6_addr);
}

static void bounded_or_die(const struct hostdns_conf *c)
{
	if (c->n_ns > HOSTDNS_MAX_NS || strlen(c->search) >= HOSTDNS_MAX_LINE ||
	    strlen(c->options) > HOSTDNS_MAX_LINE - sizeof("options") ||
	    strlen(c->sortlist) > HOSTDNS_MAX_LINE - sizeof("sortlist") ||
	    (c->search_kw == HOSTDNS_NO_SEARCH) != (c->search[0] == '\0'))
		abort();
	for (size_t i = 0; i < c->n_ns; i++)
		if (strnlen(c->ns[i].zone, IF_NAMESIZE) == IF_NAMESIZE)
			abort();
}

/* The address bytes, IPv4-mapped IPv6 as IPv4 (the parser keeps the family). */
static const uint8_t *bytes(const struct sockaddr_storage *ss, size_t *len)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET) {
		*len = 4;
		return (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
	}
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		*len = 4;
		return s6->sin6_addr.s6_addr + 12;
	}
	*len = 16;
	return s6->sin6_addr.s6_addr;
}

static bool is_sentinel(const struct sockaddr_storage *ss)
{
	size_t len;
	const uint8_t *a = bytes(ss, &len);

	return len == 4 ? !memcmp(a, &ranges[0].ip4, 3) : !memcmp(a, &ranges[1].ip6, 15);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hostdns_conf a, b;
	static int ready;
	struct sockaddr_storage up[HOSTDNS_MAX_NS];
	size_t n, n_sent = 1 + size % 3;
	struct buf out;

	if (!ready++)
		init();
	if (hostdns_parse((const char *)data, size, &a)) {
		if (size <= HOSTDNS_MAX_FILE)
			abort();
		return 0;
	}
	bounded_or_die(&a);
	n = hostdns_upstreams(&a, ranges, 2, up, HOSTDNS_MAX_NS);
	if (n > HOSTDNS_MAX_NS || (a.n_ns == 0 && n != 1))
		abort();
	for (size_t i = 0; i < n; i++)
		if ((up[i].ss_family != AF_INET && up[i].ss_family != AF_INET6) ||
		    is_sentinel(&up[i]))
			abort();

	buf_init(&out, HOSTDNS_MAX_FILE);
	if (hostdns_format(&out, &a, sent, n_sent, "/etc/resolv.conf.sluice-backup") ||
	    hostdns_parse((const char *)out.data, out.len, &b))
		abort();
	bounded_or_die(&b);
	if (b.n_ns != n_sent || b.n_ignored || b.n_ns_dropped || b.search_kw != a.search_kw ||
	    strcmp(b.search, a.search) || strcmp(b.options, a.options) ||
	    strcmp(b.sortlist, a.sortlist))
		abort();
	for (size_t i = 0; i < n_sent; i++) {
		size_t l1, l2;
		const uint8_t *x = bytes(&b.ns[i].addr, &l1), *y = bytes(&sent[i], &l2);

		if (l1 != l2 || memcmp(x, y, l1))
			abort(); /* the sentinels, in order */
	}
	/* every nameserver written is a sentinel, so none is an upstream */
	if (hostdns_upstreams(&b, ranges, 2, up, HOSTDNS_MAX_NS) != 0)
		abort();
	buf_free(&out);
	return 0;
}
