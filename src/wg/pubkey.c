/* Public key validation. See pubkey.h. */
#include "wg/pubkey.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

/* p = 2^255 - 19, little-endian */
static const uint8_t p_le[WG_PUBKEY_LEN] = {
	0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
};

/* The canonical encodings (u < p) of every point of small order on Curve25519
 * and its twist. The curve is Z/8 x Z/l and the twist Z/4 x Z/l': their torsion
 * points are u = 0 (order 2), u = 1 and u = p - 1 (order 4, one on the curve,
 * one on the twist) and the two u of the curve's points of order 8; the point at
 * infinity encodes as 0. The same five are libsodium's has_small_order list less
 * its two non-canonical encodings, and the unit test checks that X25519 with a
 * clamped scalar sends each of them to 0. A comparison, not a multiplication:
 * the portal checks a key on every session it opens. */
static const uint8_t small_order[][WG_PUBKEY_LEN] = {
	{ 0 },
	{ 1 },
	{ 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
	{ 0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
	  0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
	  0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00 },
	{ 0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1,
	  0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c,
	  0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57 },
};

int wg_pubkey_check(const uint8_t key[WG_PUBKEY_LEN])
{
	if (key[31] & 0x80)
		return -ERANGE;
	/* u < p, compared as little-endian numbers from the top byte down */
	for (int i = WG_PUBKEY_LEN - 1;; i--) {
		if (key[i] < p_le[i])
			break;
		if (key[i] > p_le[i] || i == 0)
			return -ERANGE;
	}
	for (size_t i = 0; i < sizeof(small_order) / sizeof(small_order[0]); i++)
		if (memcmp(key, small_order[i], WG_PUBKEY_LEN) == 0)
			return -EDOM;
	return 0;
}

int wg_pubkey_from_base64n(uint8_t out[WG_PUBKEY_LEN], const char *s, size_t len)
{
	uint8_t k[WG_PUBKEY_LEN];
	char canon[WG_PUBKEY_B64_LEN + 1];
	size_t n = 0;
	const char *end = NULL;
	int r;

	if (len != WG_PUBKEY_B64_LEN ||
	    sodium_base642bin(k, sizeof(k), s, len, NULL, &n, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n != WG_PUBKEY_LEN || end != s + len)
		return -EINVAL;
	/* libsodium already refuses set padding bits; this keeps the rule ours */
	sodium_bin2base64(canon, sizeof(canon), k, sizeof(k), sodium_base64_VARIANT_ORIGINAL);
	if (memcmp(canon, s, len) != 0)
		return -EINVAL;
	r = wg_pubkey_check(k);
	if (r == 0 && out)
		memcpy(out, k, sizeof(k));
	return r;
}

int wg_pubkey_from_base64(uint8_t out[WG_PUBKEY_LEN], const char *s)
{
	return wg_pubkey_from_base64n(out, s, strlen(s));
}

const char *wg_pubkey_strerror(int r)
{
	switch (r) {
	case 0:
		return "valid";
	case -EDOM:
		return "a point of small order";
	case -ERANGE:
		return "not a canonical X25519 encoding (top bit set or u >= 2^255-19)";
	default:
		return "not the canonical base64 of 32 bytes (44 characters)";
	}
}
