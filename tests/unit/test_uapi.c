/* The UAPI codec: set parsing (valid and invalid tables, semantics, caps,
 * truncation and mutation sweeps), get and set formatting, request framing.
 * The socket server and the real `wg` tool: test_uapi_server.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "wg/uapi.h"

#define HEX_A "a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf40" /* a canonical public key: top bit clear */
#define HEX_B "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
#define HEX_Z "0000000000000000000000000000000000000000000000000000000000000000"
#define HEX_F "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
/* more valid public keys (HEX_Z and HEX_F are not: small order, u >= p) */
#define HEX_C "0303030303030303030303030303030303030303030303030303030303030303"
#define HEX_D "0404040404040404040404040404040404040404040404040404040404040404"

static int parse(const char *s, struct uapi_set *set)
{
	return wg_uapi_parse_set(s, strlen(s), set);
}

static void hex_bytes(const char *hex, uint8_t *out)
{
	for (size_t i = 0; i < 32; i++)
		sscanf(hex + 2 * i, "%2hhx", &out[i]);
}

static void test_parse_device(void **state)
{
	struct uapi_set s;
	uint8_t want[32];

	(void)state;
	assert_int_equal(parse("private_key=" HEX_F "\nlisten_port=51820\nfwmark=4294967295\n"
			       "replace_peers=true\n\n", &s), 0);
	assert_int_equal(s.flags, UAPI_SET_PRIVATE_KEY | UAPI_SET_LISTEN_PORT |
				  UAPI_SET_FWMARK | UAPI_SET_REPLACE_PEERS);
	memset(want, 0xff, 32);
	want[0] = 0xf8; /* clamped, as wireguard-go's FromMaybeZeroHex */
	want[31] = 0x7f;
	assert_memory_equal(s.private_key, want, 32);
	assert_int_equal(s.listen_port, 51820);
	assert_true(s.fwmark == 4294967295u);
	assert_int_equal(s.n_peers, 0);
	wg_uapi_set_free(&s);

	/* all zero removes the key and stays zero; 0 port and fwmark are values */
	assert_int_equal(parse("private_key=" HEX_Z "\nlisten_port=0\nfwmark=0\n\n", &s), 0);
	assert_int_equal(s.flags, UAPI_SET_PRIVATE_KEY | UAPI_SET_LISTEN_PORT | UAPI_SET_FWMARK);
	memset(want, 0, 32);
	assert_memory_equal(s.private_key, want, 32);
	wg_uapi_set_free(&s);

	/* empty set, upper-case hex, leading zeros, a repeated key: last wins */
	assert_int_equal(parse("\n", &s), 0);
	assert_int_equal(s.flags, 0);
	wg_uapi_set_free(&s);
	assert_int_equal(parse("private_key=A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBFC0\n"
			       "listen_port=1\nlisten_port=00080\n\n", &s), 0);
	hex_bytes(HEX_A, want);
	want[0] &= 248;
	want[31] = (want[31] & 127) | 64;
	assert_memory_equal(s.private_key, want, 32);
	assert_int_equal(s.listen_port, 80);
	wg_uapi_set_free(&s);
}

static void test_parse_peer(void **state)
{
	struct uapi_set s;
	const struct uapi_set_peer *p;
	uint8_t k[32];
	char a[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(parse("listen_port=1\npublic_key=" HEX_A "\nprotocol_version=1\n"
			       "update_only=true\npreshared_key=" HEX_B "\n"
			       "endpoint=198.51.100.1:51820\npersistent_keepalive_interval=25\n"
			       "replace_allowed_ips=true\nallowed_ip=198.18.0.7/24\n"
			       "allowed_ip=fd00::1/64\nallowed_ip=-10.0.0.0/8\n"
			       "public_key=" HEX_B "\n\n", &s), 0);
	assert_int_equal(s.n_peers, 2);
	p = &s.peers[0];
	hex_bytes(HEX_A, k);
	assert_memory_equal(p->public_key, k, 32);
	hex_bytes(HEX_B, k);
	assert_memory_equal(p->preshared_key, k, 32);
	assert_int_equal(p->flags, UAPI_PEER_UPDATE_ONLY | UAPI_PEER_PRESHARED_KEY |
				   UAPI_PEER_ENDPOINT | UAPI_PEER_KEEPALIVE |
				   UAPI_PEER_REPLACE_ALLOWED_IPS);
	assert_int_equal(p->endpoint.sa.sa_family, AF_INET);
	assert_int_equal(ntohs(p->endpoint.in4.sin_port), 51820);
	assert_int_equal(p->endpoint.in4.sin_addr.s_addr, inet_addr("198.51.100.1"));
	assert_int_equal(p->persistent_keepalive, 25);
	assert_int_equal(p->n_allowed_ips, 3);
	/* host bits kept as given: the allowed-IPs table masks */
	inet_ntop(AF_INET, &p->allowed_ips[0].ip4, a, sizeof(a));
	assert_string_equal(a, "198.18.0.7");
	assert_int_equal(p->allowed_ips[0].cidr, 24);
	assert_false(p->allowed_ips[0].remove);
	inet_ntop(AF_INET6, &p->allowed_ips[1].ip6, a, sizeof(a));
	assert_string_equal(a, "fd00::1");
	assert_int_equal(p->allowed_ips[1].family, AF_INET6);
	assert_true(p->allowed_ips[2].remove);
	assert_int_equal(s.peers[1].flags, 0);
	assert_int_equal(s.peers[1].n_allowed_ips, 0);
	assert_null(s.peers[1].allowed_ips);
	wg_uapi_set_free(&s);
}

struct ep_case {
	const char *text;
	int family;
	const char *addr;
	unsigned port;
	unsigned scope;
};

static void test_parse_endpoints(void **state)
{
	static const struct ep_case good[] = {
		{ "1.2.3.4:5", AF_INET, "1.2.3.4", 5, 0 },
		{ "255.255.255.255:65535", AF_INET, "255.255.255.255", 65535, 0 },
		{ "[::1]:51820", AF_INET6, "::1", 51820, 0 },
		{ "[::ffff:1.2.3.4]:0", AF_INET6, "::ffff:1.2.3.4", 0, 0 },
		{ "[fe80::1%7]:5", AF_INET6, "fe80::1", 5, 7 },
		{ "[fe80::1%lo]:5", AF_INET6, "fe80::1", 5, 1000 }, /* 1000: lo's index */
	};
	static const char *const bad[] = {
		"", "host:5", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1",
		"1.2.3.4:+5", "1.2.3.4:0x10", "01.2.3.4:5", "1.2.3:5", "[1.2.3.4]:5",
		"::1:5", "[::1]5", "[::1]:", "[::1", "::1]:5", "[fe80::1%]:5",
		"[fe80::1%nosuchif0]:5", "1.2.3.4:5 ", " 1.2.3.4:5", "[::1]:5:6",
		"[[::1]]:5", "1.2.3.4:99999999999999999999999",
	};
	char req[256], a[INET6_ADDRSTRLEN];
	struct uapi_set s;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const union uapi_endpoint *ep;
		unsigned scope = good[i].scope == 1000 ? if_nametoindex("lo") : good[i].scope;

		snprintf(req, sizeof(req), "public_key=" HEX_A "\nendpoint=%s\n\n", good[i].text);
		assert_int_equal(parse(req, &s), 0);
		ep = &s.peers[0].endpoint;
		assert_int_equal(ep->sa.sa_family, good[i].family);
		if (good[i].family == AF_INET) {
			inet_ntop(AF_INET, &ep->in4.sin_addr, a, sizeof(a));
			assert_int_equal(ntohs(ep->in4.sin_port), good[i].port);
		} else {
			inet_ntop(AF_INET6, &ep->in6.sin6_addr, a, sizeof(a));
			assert_int_equal(ntohs(ep->in6.sin6_port), good[i].port);
			assert_int_equal(ep->in6.sin6_scope_id, scope);
		}
		assert_string_equal(a, good[i].addr);
		wg_uapi_set_free(&s);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(req, sizeof(req), "public_key=" HEX_A "\nendpoint=%s\n\n", bad[i]);
		if (parse(req, &s) != -EINVAL)
			fail_msg("endpoint \"%s\" accepted", bad[i]);
		assert_int_equal(s.error_line, 2);
	}
}

static void test_parse_allowed_ips(void **state)
{
	static const struct {
		const char *text;
		int family;
		unsigned cidr;
		bool remove;
	} good[] = {
		{ "0.0.0.0/0", AF_INET, 0, false },
		{ "10.1.2.3/24", AF_INET, 24, false },
		{ "10.0.0.0/08", AF_INET, 8, false }, /* wireguard-go 0.0.20220316 takes it */
		{ "::/0", AF_INET6, 0, false },
		{ "fd00::1/128", AF_INET6, 128, false },
		{ "::ffff:10.0.0.0/104", AF_INET6, 104, false },
		{ "-10.0.0.0/8", AF_INET, 8, true },
		{ "-::/0", AF_INET6, 0, true },
	};
	static const char *const bad[] = {
		"", "10.0.0.0/33", "fd00::/129", "10.0.0.0", "10.0.0.0/", "/8", "10.0.0/8",
		"fe80::1%lo/64", "--10.0.0.0/8", "+10.0.0.0/8", "10.0.0.0/-1", "10.0.0.0/+8",
		"10.0.0.0/8 ", " 10.0.0.0/8", "10.0.0.256/8", "10.0.0.0/8/8", "1:2:3/64",
		"10.0.0.0/999999999999999999999",
	};
	char req[256];
	struct uapi_set s;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(req, sizeof(req), "public_key=" HEX_A "\nallowed_ip=%s\n\n", good[i].text);
		assert_int_equal(parse(req, &s), 0);
		assert_int_equal(s.peers[0].n_allowed_ips, 1);
		assert_int_equal(s.peers[0].allowed_ips[0].family, good[i].family);
		assert_int_equal(s.peers[0].allowed_ips[0].cidr, good[i].cidr);
		assert_int_equal(s.peers[0].allowed_ips[0].remove, good[i].remove);
		wg_uapi_set_free(&s);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(req, sizeof(req), "public_key=" HEX_A "\nallowed_ip=%s\n\n", bad[i]);
		if (parse(req, &s) != -EINVAL)
			fail_msg("allowed_ip \"%s\" accepted", bad[i]);
	}
}

static void test_parse_invalid(void **state)
{
	static const struct {
		const char *text;
		int err;
		size_t line;
	} cases[] = {
		{ "listen_port=abc\n\n", -EINVAL, 1 },
		{ "listen_port=65536\n\n", -EINVAL, 1 },
		{ "listen_port=\n\n", -EINVAL, 1 },
		{ "listen_port=-1\n\n", -EINVAL, 1 },
		{ "listen_port=1\r\n\n", -EINVAL, 1 },
		{ "fwmark=4294967296\n\n", -EINVAL, 1 },
		{ "fwmark=off\n\n", -EINVAL, 1 },
		{ "private_key=" HEX_A "0\n\n", -EINVAL, 1 },
		{ "private_key=a1a2\n\n", -EINVAL, 1 },
		{ "private_key=g1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0\n\n", -EINVAL, 1 },
		{ "private_key=\n\n", -EINVAL, 1 },
		{ "replace_peers=false\n\n", -EINVAL, 1 },
		{ "replace_peers=1\n\n", -EINVAL, 1 },
		{ "bogus=1\n\n", -EINVAL, 1 },
		{ "Listen_port=1\n\n", -EINVAL, 1 },
		{ " listen_port=1\n\n", -EINVAL, 1 },
		{ "=\n\n", -EINVAL, 1 },
		{ "listen_port\n\n", -EPROTO, 1 },
		{ "listen_port=1\nfoo\n\n", -EPROTO, 2 },
		/* a peer key before any public_key, a device key after one */
		{ "endpoint=1.2.3.4:5\n\n", -EINVAL, 1 },
		{ "allowed_ip=10.0.0.0/8\n\n", -EINVAL, 1 },
		{ "protocol_version=1\n\n", -EINVAL, 1 },
		{ "public_key=" HEX_A "\nlisten_port=1\n\n", -EINVAL, 2 },
		{ "public_key=" HEX_A "\nreplace_peers=true\n\n", -EINVAL, 2 },
		{ "public_key=" HEX_A "\nprivate_key=" HEX_B "\n\n", -EINVAL, 2 },
		{ "public_key=\n\n", -EINVAL, 1 },
		/* keys a handshake can never use (wg/pubkey.h): small order, top bit,
		 * u >= p; the whole request goes, a second peer included */
		{ "public_key=" HEX_Z "\n\n", -EINVAL, 1 },
		{ "public_key=" HEX_B "\npublic_key=" HEX_Z "\n\n", -EINVAL, 2 },
		{ "public_key=e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800\n\n",
		  -EINVAL, 1 },
		{ "public_key=" HEX_F "\n\n", -EINVAL, 1 },
		{ "public_key=edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f\n\n",
		  -EINVAL, 1 },
		{ "public_key=0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1fa0\n\n",
		  -EINVAL, 1 },
		{ "public_key=" HEX_A "\nremove=false\n\n", -EINVAL, 2 },
		{ "public_key=" HEX_A "\nupdate_only=1\n\n", -EINVAL, 2 },
		{ "public_key=" HEX_A "\nreplace_allowed_ips=yes\n\n", -EINVAL, 2 },
		{ "public_key=" HEX_A "\nprotocol_version=2\n\n", -EINVAL, 2 },
		{ "public_key=" HEX_A "\nprotocol_version=\n\n", -EINVAL, 2 },
		{ "public_key=" HEX_A "\npersistent_keepalive_interval=65536\n\n", -EINVAL, 2 },
		{ "public_key=" HEX_A "\npersistent_keepalive_interval=-1\n\n", -EINVAL, 2 },
		{ "public_key=" HEX_A "\npreshared_key=" HEX_A "a\n\n", -EINVAL, 2 },
		{ "public_key=" HEX_A "\ntx_bytes=0\n\n", -EINVAL, 2 },
		{ "public_key=" HEX_A "\nlast_handshake_time_sec=0\n\n", -EINVAL, 2 },
		/* checked even after remove, as wireguard-go */
		{ "public_key=" HEX_A "\nremove=true\nallowed_ip=bad\n\n", -EINVAL, 3 },
		{ "public_key=" HEX_A "\nremove=true\npreshared_key=x\n\n", -EINVAL, 3 },
		/* framing: unterminated line, no empty line, data after it */
		{ "", -EPROTO, 1 },
		{ "listen_port=1", -EPROTO, 1 },
		{ "listen_port=1\n", -EPROTO, 2 },
		{ "public_key=" HEX_A "\n", -EPROTO, 2 },
		{ "listen_port=1\n\nlisten_port=2\n\n", -EPROTO, 2 },
		{ "\n\n", -EPROTO, 1 },
	};
	struct uapi_set s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = parse(cases[i].text, &s);

		if (ret != cases[i].err || s.error_line != cases[i].line)
			fail_msg("case %zu \"%s\": %d at line %zu", i, cases[i].text, ret, s.error_line);
		assert_null(s.peers);
		assert_null(s.allowed_ips);
		assert_int_equal(s.n_peers, 0);
		assert_int_equal(s.flags, 0);
		wg_uapi_set_free(&s);
	}
	/* a NUL inside a value */
	assert_int_equal(wg_uapi_parse_set("listen_port=1\0\n\n", 16, &s), -EINVAL);
}

static void test_parse_remove_replace(void **state)
{
	struct uapi_set s;
	uint8_t zero[32] = { 0 };

	(void)state;
	/* remove wins over everything in its section, before or after it */
	assert_int_equal(parse("public_key=" HEX_A "\nallowed_ip=1.0.0.0/8\npreshared_key=" HEX_B
			       "\nupdate_only=true\nremove=true\nendpoint=1.2.3.4:5\n"
			       "allowed_ip=2.0.0.0/8\npersistent_keepalive_interval=5\n"
			       "public_key=" HEX_A "\nallowed_ip=3.0.0.0/8\n\n", &s), 0);
	assert_int_equal(s.n_peers, 2);
	assert_int_equal(s.peers[0].flags, UAPI_PEER_REMOVE);
	assert_int_equal(s.peers[0].n_allowed_ips, 0);
	assert_memory_equal(s.peers[0].preshared_key, zero, 32);
	assert_int_equal(s.peers[0].endpoint.sa.sa_family, AF_UNSPEC);
	/* the same key again: a new section, applied after the removal */
	assert_int_equal(s.peers[1].flags, 0);
	assert_int_equal(s.peers[1].n_allowed_ips, 1);
	assert_int_equal(s.peers[1].allowed_ips[0].ip4.s_addr, inet_addr("3.0.0.0"));
	assert_int_equal(s.n_allowed_ips, 1);
	wg_uapi_set_free(&s);

	/* replace_allowed_ips drops what came before it in the section only */
	assert_int_equal(parse("replace_peers=true\npublic_key=" HEX_A "\nallowed_ip=1.0.0.0/8\n"
			       "allowed_ip=4.0.0.0/8\npublic_key=" HEX_B "\nallowed_ip=5.0.0.0/8\n"
			       "replace_allowed_ips=true\nallowed_ip=2.0.0.0/8\n"
			       "public_key=" HEX_C "\npublic_key=" HEX_D "\nallowed_ip=6.0.0.0/8\n\n",
			       &s), 0);
	assert_true(s.flags & UAPI_SET_REPLACE_PEERS);
	assert_int_equal(s.n_peers, 4);
	assert_int_equal(s.peers[0].n_allowed_ips, 2);
	assert_int_equal(s.peers[0].allowed_ips[1].ip4.s_addr, inet_addr("4.0.0.0"));
	assert_int_equal(s.peers[1].flags, UAPI_PEER_REPLACE_ALLOWED_IPS);
	assert_int_equal(s.peers[1].n_allowed_ips, 1);
	assert_int_equal(s.peers[1].allowed_ips[0].ip4.s_addr, inet_addr("2.0.0.0"));
	assert_int_equal(s.peers[2].n_allowed_ips, 0);
	assert_int_equal(s.peers[3].n_allowed_ips, 1);
	assert_int_equal(s.peers[3].allowed_ips[0].ip4.s_addr, inet_addr("6.0.0.0"));
	assert_int_equal(s.n_allowed_ips, 4);
	wg_uapi_set_free(&s);
}

static char *big_request(size_t peers, size_t aips_per_peer)
{
	struct buf b;

	buf_init(&b, UAPI_MAX_REQUEST);
	for (size_t i = 0; i < peers; i++) {
		/* i + 1 in the first bytes: never 0, the top bit clear */
		assert_int_equal(buf_printf(&b, "public_key=%016zx%048d\n", i + 1, 0), 0);
		for (size_t j = 0; j < aips_per_peer; j++)
			assert_int_equal(buf_printf(&b, "allowed_ip=10.%zu.%zu.0/24\n",
						    j >> 8 & 0xff, j & 0xff), 0);
	}
	assert_int_equal(buf_printf(&b, "\n"), 0);
	return (char *)b.data;
}

static void test_parse_caps(void **state)
{
	struct uapi_set s;
	char *req;

	(void)state;
	req = big_request(UAPI_MAX_PEERS, 0);
	assert_int_equal(parse(req, &s), 0);
	assert_int_equal(s.n_peers, UAPI_MAX_PEERS);
	wg_uapi_set_free(&s);
	free(req);
	req = big_request(UAPI_MAX_PEERS + 1, 0);
	assert_int_equal(parse(req, &s), -E2BIG);
	assert_int_equal(s.error_line, UAPI_MAX_PEERS + 1);
	free(req);
	req = big_request(2, UAPI_MAX_ALLOWED_IPS / 2);
	assert_int_equal(parse(req, &s), 0);
	assert_int_equal(s.n_allowed_ips, UAPI_MAX_ALLOWED_IPS);
	assert_ptr_equal(s.peers[1].allowed_ips, s.allowed_ips + UAPI_MAX_ALLOWED_IPS / 2);
	wg_uapi_set_free(&s);
	free(req);
	req = big_request(1, UAPI_MAX_ALLOWED_IPS + 1);
	assert_int_equal(parse(req, &s), -E2BIG);
	free(req);
	assert_int_equal(wg_uapi_parse_set("\n", (size_t)UAPI_MAX_REQUEST + 1, &s), -E2BIG);
}

/* In the formatter's own order, format(parse(x)) gives back x exactly. */
static const char canonical[] =
	"set=1\n"
	"private_key=a0a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf40\n"
	"listen_port=51820\nfwmark=7\nreplace_peers=true\n"
	"public_key=" HEX_A "\nremove=true\n"
	"public_key=" HEX_B "\nupdate_only=true\npreshared_key=" HEX_A "\n"
	"endpoint=[fe80::1%lo]:51820\npersistent_keepalive_interval=25\n"
	"replace_allowed_ips=true\nallowed_ip=10.1.2.3/24\nallowed_ip=-fd00::1/64\n"
	"public_key=" HEX_C "\nendpoint=198.51.100.1:0\nallowed_ip=::ffff:1.2.3.4/128\n"
	"\n";

static void test_format_set_roundtrip(void **state)
{
	struct uapi_set s, again;
	struct buf b;

	(void)state;
	assert_int_equal(parse(canonical + 6, &s), 0);
	buf_init(&b, 1 << 20);
	assert_int_equal(wg_uapi_format_set(&b, &s), 0);
	assert_int_equal(b.len, strlen(canonical));
	assert_memory_equal(b.data, canonical, b.len);
	assert_int_equal(wg_uapi_parse_set((char *)b.data + 6, b.len - 6, &again), 0);
	assert_int_equal(again.n_peers, s.n_peers);
	for (size_t i = 0; i < s.n_peers; i++) {
		assert_int_equal(again.peers[i].flags, s.peers[i].flags);
		assert_memory_equal(&again.peers[i].endpoint, &s.peers[i].endpoint,
				    sizeof(s.peers[i].endpoint));
		assert_int_equal(again.peers[i].n_allowed_ips, s.peers[i].n_allowed_ips);
	}
	assert_memory_equal(again.allowed_ips, s.allowed_ips,
			    s.n_allowed_ips * sizeof(*s.allowed_ips));
	wg_uapi_set_free(&again);
	wg_uapi_set_free(&s);
	buf_wipe(&b);
}

static void test_format_get(void **state)
{
	static const char want[] =
		"private_key=" HEX_A "\nlisten_port=51999\n"
		"public_key=" HEX_B "\npreshared_key=" HEX_Z "\nprotocol_version=1\n"
		"endpoint=[2001:db8::1]:51820\nlast_handshake_time_sec=1700000000\n"
		"last_handshake_time_nsec=5\ntx_bytes=18446744073709551615\nrx_bytes=7\n"
		"persistent_keepalive_interval=0\nallowed_ip=198.18.0.0/24\n"
		"allowed_ip=fd00::/64\nallowed_ip=0.0.0.0/0\nallowed_ip=10.1.2.3/32\n"
		"public_key=" HEX_A "\npreshared_key=" HEX_B "\nprotocol_version=1\n"
		"last_handshake_time_sec=0\nlast_handshake_time_nsec=0\ntx_bytes=0\n"
		"rx_bytes=0\npersistent_keepalive_interval=65535\n"
		"errno=0\n\n";
	struct uapi_device_info dev = { .listen_port = 51999 };
	struct uapi_allowed_ip aips[4] = {
		{ .family = AF_INET, .cidr = 24 },
		{ .family = AF_INET6, .cidr = 64 },
		{ .family = AF_INET, .cidr = 0 },
		{ .family = AF_INET, .cidr = 32 },
	};
	struct uapi_peer_info p1 = {
		.last_handshake_sec = 1700000000, .last_handshake_nsec = 5,
		.tx_bytes = UINT64_MAX, .rx_bytes = 7, .allowed_ips = aips, .n_allowed_ips = 4,
	}, p2 = { .persistent_keepalive = 65535 };
	struct buf b;

	(void)state;
	hex_bytes(HEX_A, dev.private_key);
	hex_bytes(HEX_B, p1.public_key);
	hex_bytes(HEX_A, p2.public_key);
	hex_bytes(HEX_B, p2.preshared_key);
	inet_pton(AF_INET, "198.18.0.77", &aips[0].ip4); /* printed masked */
	inet_pton(AF_INET6, "fd00::1:2", &aips[1].ip6);
	inet_pton(AF_INET, "1.2.3.4", &aips[2].ip4);
	inet_pton(AF_INET, "10.1.2.3", &aips[3].ip4);
	p1.endpoint.in6.sin6_family = AF_INET6;
	p1.endpoint.in6.sin6_port = htons(51820);
	inet_pton(AF_INET6, "2001:db8::1", &p1.endpoint.in6.sin6_addr);
	buf_init(&b, 1 << 16);
	assert_int_equal(wg_uapi_format_device(&b, &dev), 0);
	assert_int_equal(wg_uapi_format_peer(&b, &p1), 0);
	assert_int_equal(wg_uapi_format_peer(&b, &p2), 0);
	assert_int_equal(wg_uapi_format_errno(&b, 0), 0);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);

	/* nothing set: no device lines at all; errors go out negative */
	buf_reset(&b);
	memset(&dev, 0, sizeof(dev));
	assert_int_equal(wg_uapi_format_device(&b, &dev), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(wg_uapi_format_errno(&b, -EINVAL), 0);
	assert_string_equal((char *)b.data, "errno=-22\n\n");
	/* past the buffer's cap: an error, not a short answer */
	buf_free(&b);
	buf_init(&b, 100);
	assert_int_equal(wg_uapi_format_peer(&b, &p1), -EMSGSIZE);
	buf_wipe(&b);
}

static void test_frame(void **state)
{
	static const struct {
		const char *in;
		bool eof;
		enum uapi_op op;
		size_t len;
	} cases[] = {
		{ "", false, UAPI_OP_MORE, 0 },
		{ "g", false, UAPI_OP_MORE, 0 },
		{ "g", true, UAPI_OP_INVALID, 0 },
		{ "get=1\n", false, UAPI_OP_MORE, 0 },
		{ "get=1\n", true, UAPI_OP_INVALID, 0 },
		{ "get=1\n\n", false, UAPI_OP_GET, 7 },
		{ "get=1\n\nget=1\n\n", false, UAPI_OP_GET, 7 },
		{ "get=1\nx", false, UAPI_OP_BAD_GET, 7 },
		{ "get=2\n\n", false, UAPI_OP_INVALID, 0 },
		{ "hello\n", false, UAPI_OP_INVALID, 0 },
		{ "x", false, UAPI_OP_INVALID, 0 },
		{ "set=1", true, UAPI_OP_INVALID, 0 },
		{ "set=1\n", false, UAPI_OP_MORE, 0 },
		{ "set=1\n", true, UAPI_OP_TRUNCATED, 6 },
		{ "set=1\n\n", false, UAPI_OP_SET, 7 },
		{ "set=1\nlisten_port=1\n", false, UAPI_OP_MORE, 0 },
		{ "set=1\nlisten_port=1\n", true, UAPI_OP_TRUNCATED, 20 },
		{ "set=1\nlisten_port=1\n\nget=1\n\n", false, UAPI_OP_SET, 21 },
	};
	struct uapi_request r;
	size_t scan;
	char *big;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		scan = 0;
		wg_uapi_frame(cases[i].in, strlen(cases[i].in), cases[i].eof, &scan, &r);
		if (r.op != cases[i].op || r.len != cases[i].len)
			fail_msg("case %zu: op %d len %zu", i, r.op, r.len);
	}
	scan = 0;
	wg_uapi_frame("set=1\nlisten_port=1\n\n", 21, false, &scan, &r);
	assert_int_equal(r.body_len, 15);
	assert_memory_equal(r.body, "listen_port=1\n\n", 15);

	/* byte by byte, resuming the scan: found exactly at the end */
	{
		static const char req[] = "set=1\npublic_key=" HEX_A "\n\n";
		size_t n;

		scan = 0;
		for (n = 1; n < sizeof(req) - 1; n++) {
			wg_uapi_frame(req, n, false, &scan, &r);
			assert_int_equal(r.op, UAPI_OP_MORE);
		}
		wg_uapi_frame(req, n, false, &scan, &r);
		assert_int_equal(r.op, UAPI_OP_SET);
		assert_int_equal(r.len, n);
		assert_int_equal(scan, 0);
	}
	big = calloc(1, (size_t)UAPI_MAX_REQUEST + 2);
	assert_non_null(big);
	memcpy(big, "set=1\n", 6);
	memset(big + 6, 'a', (size_t)UAPI_MAX_REQUEST - 5);
	scan = 0;
	wg_uapi_frame(big, UAPI_MAX_REQUEST, false, &scan, &r);
	assert_int_equal(r.op, UAPI_OP_MORE);
	wg_uapi_frame(big, (size_t)UAPI_MAX_REQUEST + 1, false, &scan, &r);
	assert_int_equal(r.op, UAPI_OP_TOO_BIG);
	free(big);
}

/* Every strict prefix of a valid body fails cleanly with -EPROTO; every
 * single-byte mutation either fails or parses into something that formats and
 * parses back the same (ASan watches the rest). */
static void test_truncation_and_mutation(void **state)
{
	static const char body[] =
		"private_key=" HEX_A "\nlisten_port=51820\nreplace_peers=true\n"
		"public_key=" HEX_B "\npreshared_key=" HEX_A "\nendpoint=[::1]:5\n"
		"allowed_ip=10.0.0.0/8\nallowed_ip=-::/0\npersistent_keepalive_interval=9\n\n";
	static const char subst[] = { 0, '\n', '=', '-', '0', '9', 'a', ':', '[', '/', '%' };
	char m[sizeof(body)];
	struct uapi_set s, again;
	struct buf b;

	(void)state;
	for (size_t n = 0; n < sizeof(body) - 1; n++) {
		if (wg_uapi_parse_set(body, n, &s) != -EPROTO)
			fail_msg("prefix of %zu bytes", n);
		wg_uapi_set_free(&s);
	}
	buf_init(&b, 1 << 16);
	for (size_t i = 0; i < sizeof(body) - 1; i++) {
		for (size_t j = 0; j < sizeof(subst); j++) {
			memcpy(m, body, sizeof(body));
			m[i] = subst[j];
			if (wg_uapi_parse_set(m, sizeof(body) - 1, &s))
				continue;
			buf_reset(&b);
			assert_int_equal(wg_uapi_format_set(&b, &s), 0);
			assert_int_equal(wg_uapi_parse_set((char *)b.data + 6, b.len - 6, &again),
					 0);
			assert_int_equal(again.flags, s.flags);
			assert_int_equal(again.n_peers, s.n_peers);
			assert_int_equal(again.n_allowed_ips, s.n_allowed_ips);
			wg_uapi_set_free(&again);
			wg_uapi_set_free(&s);
		}
	}
	buf_wipe(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_device),
		cmocka_unit_test(test_parse_peer),
		cmocka_unit_test(test_parse_endpoints),
		cmocka_unit_test(test_parse_allowed_ips),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_parse_remove_replace),
		cmocka_unit_test(test_parse_caps),
		cmocka_unit_test(test_format_set_roundtrip),
		cmocka_unit_test(test_format_get),
		cmocka_unit_test(test_frame),
		cmocka_unit_test(test_truncation_and_mutation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
