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

/* A fixed clamped scalar: a multiple of 8, so X25519 with it maps every point
 * of small order (and only those) to 0, whatever its encoding. Public keys are
 * public: neither the scalar nor the timing is a secret here. */
static const uint8_t probe_scalar[WG_PUBKEY_LEN] = {
	0x48, 0x2c, 0x31, 0x97, 0x5e, 0x3a, 0x0b, 0x71, 0x84, 0x22, 0x6d,
	0x19, 0xf0, 0xa5, 0x3c, 0x66, 0x0e, 0x5d, 0x91, 0x27, 0xb3, 0x48,
	0x7a, 0xc4, 0x13, 0xe8, 0x55, 0x2f, 0x9b, 0x06, 0xd1, 0x5a,
};

int wg_pubkey_check(const uint8_t key[WG_PUBKEY_LEN])
{
	uint8_t out[crypto_scalarmult_curve25519_BYTES];
	int r;

	if (key[31] & 0x80)
		return -ERANGE;
	/* u < p, compared as little-endian numbers from the top byte down */
	for (int i = WG_PUBKEY_LEN - 1;; i--) {
		if (key[i] < p_le[i])
			break;
		if (key[i] > p_le[i] || i == 0)
			return -ERANGE;
	}
	/* libsodium 1.0.18 refuses its blacklist of small-order encodings before
	 * the multiplication and an all-zero result after it: -1 either way. */
	r = crypto_scalarmult_curve25519(out, probe_scalar, key);
	if (r == 0 && sodium_is_zero(out, sizeof(out)))
		r = -1;
	sodium_memzero(out, sizeof(out));
	return r == 0 ? 0 : -EDOM;
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
