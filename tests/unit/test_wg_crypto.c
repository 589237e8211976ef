/* WireGuard primitives against published known answers: BLAKE2s (RFC 7693 and
 * the BLAKE2 repo's KAT), HMAC/KDF (wireguard-go kdf_test.go), C0/H0, X25519
 * (RFC 7748), ChaCha20-Poly1305 (RFC 8439), XChaCha20-Poly1305
 * (draft-irtf-cfrg-xchacha A.3), TAI64N, key encodings; plus the two pieces of
 * wire bookkeeping the data path leans on: message classification and the send
 * counter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wg/crypto.h"
#include "wg/noise.h"
#include "wg/wg_wire.h"

static struct wg_crypto *crypto;

static int setup(void **state)
{
	(void)state;
	return wg_crypto_new(&crypto);
}

static int teardown(void **state)
{
	(void)state;
	wg_crypto_free(crypto);
	crypto = NULL;
	return 0;
}

/* Decodes hex into a malloc'd buffer (tests only; aborts the test on bad hex). */
static uint8_t *unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *out = malloc(n ? n : 1);

	assert_non_null(out);
	assert_int_equal(strlen(hex) % 2, 0);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	if (len)
		*len = n;
	return out;
}

static void assert_hex(const uint8_t *got, const char *want)
{
	size_t n;
	uint8_t *w = unhex(want, &n);

	assert_memory_equal(got, w, n);
	free(w);
}

static void seq(uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)i;
}

static void test_blake2s_rfc7693(void **state)
{
	uint8_t out[WG_HASH_LEN];

	(void)state;
	assert_int_equal(wg_hash(crypto, out, "abc", 3, NULL, 0), 0);
	assert_hex(out, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
	/* HASH(a || b) is the hash of the concatenation. */
	assert_int_equal(wg_hash(crypto, out, "a", 1, "bc", 2), 0);
	assert_hex(out, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
}

/* blake2-kat.json: input 00 01 02 ..., key 00 .. 1f for the keyed ones. */
static void test_blake2s_kat(void **state)
{
	static const struct {
		size_t len;
		const char *out;
	} unkeyed[] = {
		{ 0, "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9" },
		{ 1, "e34d74dbaf4ff4c6abd871cc220451d2ea2648846c7757fbaac82fe51ad64bea" },
		{ 3, "e8f91c6ef232a041452ab0e149070cdd7dd1769e75b3a5921be37876c45c9900" },
		{ 63, "e57cb79487dd57902432b250733813bd96a84efce59f650fac26e6696aefafc3" },
		{ 64, "56f34e8b96557e90c1f24b52d0c89d51086acf1b00f634cf1dde9233b8eaaa3e" },
		{ 65, "1b53ee94aaf34e4b159d48de352c7f0661d0a40edff95a0b1639b4090e974472" },
		{ 255, "f03f5789d3336b80d002d59fdf918bdb775b00956ed5528e86aa994acb38fe2d" },
	}, keyed[] = {
		{ 0, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49" },
		{ 1, "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1" },
		{ 3, "1d220dbe2ee134661fdf6d9e74b41704710556f2f6e5a091b227697445dbea6b" },
		{ 32, "c03bc642b20959cbe133a0303e0c1abff3e31ec8e1a328ec8565c36decff5265" },
	};
	uint8_t in[256], key[32], out[32];

	(void)state;
	seq(in, sizeof(in));
	seq(key, sizeof(key));
	for (size_t i = 0; i < sizeof(unkeyed) / sizeof(unkeyed[0]); i++) {
		assert_int_equal(wg_hash(crypto, out, in, unkeyed[i].len, NULL, 0), 0);
		assert_hex(out, unkeyed[i].out);
	}
	for (size_t i = 0; i < sizeof(keyed) / sizeof(keyed[0]); i++) {
		assert_int_equal(wg_mac(crypto, out, 32, key, 32, in, keyed[i].len), 0);
		assert_hex(out, keyed[i].out);
	}
}

/* The 16-byte MAC is its own parameterisation, not a truncation; the answer is
 * from Python's hashlib.blake2s(range(64), key=range(32), digest_size=16). */
static void test_mac16(void **state)
{
	uint8_t in[64], key[32], out[32];

	(void)state;
	seq(in, sizeof(in));
	seq(key, sizeof(key));
	assert_int_equal(wg_mac(crypto, out, WG_MAC_LEN, key, 32, in, 64), 0);
	assert_hex(out, "f1efa90d2547036841ecd3627fafbc36");
	/* Switching the output size back and forth on the same context works. */
	assert_int_equal(wg_mac(crypto, out, 32, key, 32, in, 32), 0);
	assert_hex(out, "c03bc642b20959cbe133a0303e0c1abff3e31ec8e1a328ec8565c36decff5265");
	assert_int_equal(wg_mac(crypto, out, WG_MAC_LEN, key, 32, in, 64), 0);
	assert_hex(out, "f1efa90d2547036841ecd3627fafbc36");
	assert_int_equal(wg_mac(crypto, out, 0, key, 32, in, 1), -EINVAL);
	assert_int_equal(wg_mac(crypto, out, 33, key, 32, in, 1), -EINVAL);
	assert_int_equal(wg_mac(crypto, out, 16, key, 0, in, 1), -EINVAL);
	assert_int_equal(wg_mac(crypto, out, 16, key, 33, in, 1), -EINVAL);
}

/* wireguard-go device/kdf_test.go */
static void test_kdf_vectors(void **state)
{
	static const struct {
		const char *key, *input, *t0, *t1, *t2;
	} v[] = {
		{ "746573742d6b6579", "746573742d696e707574",
		  "6f0e5ad38daba1bea8a0d213688736f19763239305e0f58aba697f9ffc41c633",
		  "df1194df20802a4fe594cde27e92991c8cae66c366e8106aaa937a55fa371e8a",
		  "fac6e2745a325f5dc5d11a5b165aad08b0ada28e7b4e666b7c077934a4d76c24" },
		{ "776972656775617264", "776972656775617264",
		  "491d43bbfdaa8750aaf535e334ecbfe5129967cd64635101c566d4caefda96e8",
		  "1e71a379baefd8a79aa4662212fcafe19a23e2b609a3db7d6bcba8f560e3d25f",
		  "31e1ae48bddfbe5de38f295e5452b1909a1b4e38e183926af3780b0c1e1f0160" },
		{ "", "",
		  "8387b46bf43eccfcf349552a095d8315c4055beb90208fb1be23b894bc2ed5d0",
		  "58a0e5f6faefccf4807bff1f05fa8a9217945762040bcec2f4b4a62bdfe0e86e",
		  "0ce6ea98ec548f8e281e93e32db65621c45eb18dc6f0a7ad94178610a2f7338e" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t klen, ilen;
		uint8_t *key = unhex(v[i].key, &klen), *in = unhex(v[i].input, &ilen);
		uint8_t t0[32], t1[32], t2[32];

		memset(t2, 0xaa, sizeof(t2));
		assert_int_equal(wg_kdf(crypto, t0, t1, t2, key, klen, in, ilen), 0);
		assert_hex(t0, v[i].t0);
		assert_hex(t1, v[i].t1);
		assert_hex(t2, v[i].t2);
		memset(t0, 0, 32);
		memset(t1, 0, 32);
		assert_int_equal(wg_kdf(crypto, t0, t1, NULL, key, klen, in, ilen), 0);
		assert_hex(t0, v[i].t0);
		assert_hex(t1, v[i].t1);
		memset(t0, 0, 32);
		assert_int_equal(wg_kdf(crypto, t0, NULL, NULL, key, klen, in, ilen), 0);
		assert_hex(t0, v[i].t0);
		assert_int_equal(wg_kdf(crypto, t0, NULL, t2, key, klen, in, ilen), -EINVAL);
		free(key);
		free(in);
	}
}

static void test_c0_h0(void **state)
{
	uint8_t c0[32], h0[32];

	(void)state;
	assert_int_equal(wg_hash(crypto, c0, WG_CONSTRUCTION, sizeof(WG_CONSTRUCTION) - 1,
				 NULL, 0), 0);
	assert_hex(c0, "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
	assert_int_equal(wg_hash(crypto, h0, c0, 32, WG_IDENTIFIER, sizeof(WG_IDENTIFIER) - 1), 0);
	assert_hex(h0, "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
}

static void test_x25519_rfc7748(void **state)
{
	static const struct {
		const char *k, *u, *out;
	} v[] = {
		{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
		{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
	};
	uint8_t k[32], u[32], r[32], *a, *b, pa[32], pb[32], s1[32], s2[32];

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		uint8_t *kk = unhex(v[i].k, NULL), *uu = unhex(v[i].u, NULL);

		assert_int_equal(wg_dh(r, kk, uu), 0);
		assert_hex(r, v[i].out);
		free(kk);
		free(uu);
	}
	/* §5.2 iterated: k = X25519(k, u), u = old k, from k = u = 9. */
	memset(k, 0, 32);
	k[0] = 9;
	memcpy(u, k, 32);
	for (int i = 1; i <= 1000; i++) {
		assert_int_equal(wg_dh(r, k, u), 0);
		memcpy(u, k, 32);
		memcpy(k, r, 32);
		if (i == 1)
			assert_hex(k, "422c8e7a6227d7bca1350b3e2bb7279f"
				      "7897b87bb6854b783c60e80311ae3079");
	}
	assert_hex(k, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
	/* §6.1 Diffie-Hellman */
	a = unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", NULL);
	b = unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", NULL);
	assert_int_equal(wg_key_public(pa, a), 0);
	assert_int_equal(wg_key_public(pb, b), 0);
	assert_hex(pa, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	assert_hex(pb, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	assert_int_equal(wg_dh(s1, a, pb), 0);
	assert_int_equal(wg_dh(s2, b, pa), 0);
	assert_hex(s1, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	assert_memory_equal(s1, s2, 32);
	free(a);
	free(b);
}

/* Every low-order point gives an all-zero product after clamping. */
static void test_x25519_low_order(void **state)
{
	static const char *const pts[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	uint8_t priv[32], pub[32], out[32];

	(void)state;
	assert_int_equal(wg_key_generate(crypto, priv, pub), 0);
	for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
		uint8_t *p = unhex(pts[i], NULL);

		memset(out, 0x55, sizeof(out));
		assert_int_equal(wg_dh(out, priv, p), -EINVAL);
		assert_true(wg_is_zero(out, sizeof(out))); /* nothing half-computed leaks */
		free(p);
	}
}

static int counting_rng(void *arg, void *buf, size_t len)
{
	uint8_t *ctr = arg, *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = (*ctr)++;
	return 0;
}

static void test_key_generate(void **state)
{
	uint8_t priv[32], pub[32], pub2[32], ctr = 0;

	(void)state;
	for (int i = 0; i < 16; i++) {
		assert_int_equal(wg_key_generate(crypto, priv, pub), 0);
		assert_int_equal(priv[0] & 7, 0);
		assert_int_equal(priv[31] & 0xc0, 0x40);
		assert_int_equal(wg_key_public(pub2, priv), 0);
		assert_memory_equal(pub, pub2, 32);
	}
	/* The rng hook makes keys reproducible; clearing it restores the CSPRNG. */
	wg_crypto_set_rng(crypto, counting_rng, &ctr);
	assert_int_equal(wg_key_generate(crypto, priv, pub), 0);
	assert_int_equal(priv[0], 0);
	assert_int_equal(priv[1], 1);
	assert_int_equal(priv[31], (31 & 127) | 64);
	assert_int_equal(ctr, 32);
	wg_crypto_set_rng(crypto, NULL, NULL);
	assert_int_equal(wg_key_generate(crypto, priv, pub), 0);
	assert_int_equal(ctr, 32);
	wg_key_clamp(pub2);
	memset(pub2, 0xff, 32);
	wg_key_clamp(pub2);
	assert_int_equal(pub2[0], 0xf8);
	assert_int_equal(pub2[31], 0x7f);
}

#define KEY80 "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
static const char sunscreen[] = "Ladies and Gentlemen of the class of '99: If I could offer you "
				"only one tip for the future, sunscreen would be it.";

static void test_aead_rfc8439_282(void **state)
{
	uint8_t *key = unhex(KEY80, NULL);
	uint8_t *nonce = unhex("070000004041424344454647", NULL);
	uint8_t *ad = unhex("50515253c0c1c2c3c4c5c6c7", NULL);
	uint8_t buf[sizeof(sunscreen) - 1], tag[16];
	struct wg_aead *a;

	(void)state;
	assert_int_equal(wg_aead_new(&a), 0);
	memcpy(buf, sunscreen, sizeof(buf));
	assert_int_equal(wg_aead_seal_nonce(a, key, nonce, ad, 12, buf, sizeof(buf), tag), 0);
	assert_hex(buf, "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
			"3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
			"92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
			"3ff4def08e4b7a9de576d26586cec64b6116");
	assert_hex(tag, "1ae10b594f09e26a7e902ecbd0600691");
	assert_int_equal(wg_aead_open_nonce(a, key, nonce, ad, 12, buf, sizeof(buf), tag), 0);
	assert_memory_equal(buf, sunscreen, sizeof(buf));
	wg_aead_free(a);
	free(key);
	free(nonce);
	free(ad);
}

/* RFC 8439 A.5: its nonce 00000000 0102030405060708 is WireGuard-shaped, so it
 * runs through the counter API (counter 0x0807060504030201). */
static void test_aead_rfc8439_a5(void **state)
{
	uint8_t *key = unhex("1c9240a5eb55d38af333888604f6b5f0"
			     "473917c1402b80099dca5cbc207075c0", NULL);
	uint8_t *ad = unhex("f33388860000000000004e91", NULL);
	size_t n;
	uint8_t *ct = unhex(
		"64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
		"4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
		"332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
		"9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
		"b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
		"af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
		"0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
		"49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
		"a6ad5cb4022b02709b", &n);
	uint8_t *tag = unhex("eead9d67890cbb22392336fea1851f38", NULL);
	static const char pt_start[] = "Internet-Drafts are draft documents valid for a maximum";
	uint8_t tag2[16], *copy = malloc(n);
	struct wg_aead *a;

	(void)state;
	assert_int_equal(n, 265);
	memcpy(copy, ct, n);
	assert_int_equal(wg_aead_new(&a), 0);
	assert_int_equal(wg_aead_open(a, key, 0x0807060504030201ull, ad, 12, copy, n, tag), 0);
	assert_memory_equal(copy, pt_start, sizeof(pt_start) - 1);
	assert_memory_equal(copy + n - 13, "progress./", 10);
	assert_int_equal(wg_aead_seal(a, key, 0x0807060504030201ull, ad, 12, copy, n, tag2), 0);
	assert_memory_equal(copy, ct, n);
	assert_memory_equal(tag2, tag, 16);
	wg_aead_free(a);
	free(key);
	free(ad);
	free(ct);
	free(tag);
	free(copy);
}

static void test_aead_reuse_and_tamper(void **state)
{
	struct wg_aead *a;
	uint8_t key[32], key2[32], buf[1500], orig[1500], tag[16], tag2[16], ad[4] = "abcd";

	(void)state;
	assert_int_equal(wg_aead_new(&a), 0);
	seq(key, 32);
	memset(key2, 0x42, 32);
	for (size_t i = 0; i < sizeof(orig); i++)
		orig[i] = (uint8_t)(i * 7);
	/* Interleave directions, keys and lengths on one context. */
	for (size_t len = 0; len <= sizeof(buf); len += len < 40 ? 1 : 97) {
		memcpy(buf, orig, len);
		assert_int_equal(wg_aead_seal(a, key, len, ad, len % 5, buf, len, tag), 0);
		memcpy(tag2, tag, 16);
		assert_int_equal(wg_aead_seal(a, key2, len, NULL, 0, orig, 0, tag2), 0);
		assert_int_equal(wg_aead_open(a, key, len, ad, len % 5, buf, len, tag), 0);
		assert_memory_equal(buf, orig, len);
	}
	/* Every kind of tampering fails, and wipes the buffer. */
	memcpy(buf, orig, 100);
	assert_int_equal(wg_aead_seal(a, key, 7, ad, 4, buf, 100, tag), 0);
	memcpy(orig, buf, 100);
	assert_int_equal(wg_aead_open(a, key, 8, ad, 4, buf, 100, tag), -EBADMSG);
	assert_true(wg_is_zero(buf, 100));
	memcpy(buf, orig, 100);
	assert_int_equal(wg_aead_open(a, key2, 7, ad, 4, buf, 100, tag), -EBADMSG);
	memcpy(buf, orig, 100);
	assert_int_equal(wg_aead_open(a, key, 7, ad, 3, buf, 100, tag), -EBADMSG);
	memcpy(buf, orig, 100);
	buf[99] ^= 1;
	assert_int_equal(wg_aead_open(a, key, 7, ad, 4, buf, 100, tag), -EBADMSG);
	memcpy(buf, orig, 100);
	tag[0] ^= 0x80;
	assert_int_equal(wg_aead_open(a, key, 7, ad, 4, buf, 100, tag), -EBADMSG);
	tag[0] ^= 0x80;
	memcpy(buf, orig, 100);
	assert_int_equal(wg_aead_open(a, key, 7, ad, 4, buf, 100, tag), 0);
	/* Empty plaintext: the tag alone authenticates the AD (the handshake's
	 * enc_empty and keepalives). */
	assert_int_equal(wg_aead_seal(a, key, 0, ad, 4, NULL, 0, tag), 0);
	assert_int_equal(wg_aead_open(a, key, 0, ad, 4, NULL, 0, tag), 0);
	assert_int_equal(wg_aead_open(a, key, 1, ad, 4, NULL, 0, tag), -EBADMSG);
	wg_aead_free(a);
}

/* Small packets go to libsodium, large ones to OpenSSL: every length must give
 * the same bytes as an independent implementation (libsodium called directly,
 * which for the large ones is the other library), and fail alike. */
static void test_aead_paths_agree(void **state)
{
	static const size_t lens[] = { 0, 1, 63, 64, 1000, 1023, 1024, 1025, 1420, 4096 };
	static uint8_t buf[4096], ref[4096], orig[4096];
	uint8_t key[32], nonce[12] = { 0 }, tag[16], reftag[16], ad[13];
	struct wg_aead *a;

	(void)state;
	assert_int_equal(wg_aead_new(&a), 0);
	seq(key, sizeof(key));
	seq(ad, sizeof(ad));
	for (size_t i = 0; i < sizeof(orig); i++)
		orig[i] = (uint8_t)(i * 31 + 7);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t n = lens[i];
		uint64_t ctr = 0x0102030405060708ull + i;

		for (int b = 0; b < 8; b++)
			nonce[4 + b] = (uint8_t)(ctr >> (8 * b));
		memcpy(buf, orig, n);
		memcpy(ref, orig, n);
		assert_int_equal(wg_aead_seal(a, key, ctr, ad, sizeof(ad), buf, n, tag), 0);
		assert_int_equal(crypto_aead_chacha20poly1305_ietf_encrypt_detached(
					 ref, reftag, NULL, ref, n, ad, sizeof(ad), NULL, nonce, key), 0);
		assert_true(memcmp(buf, ref, n) == 0);
		assert_memory_equal(tag, reftag, 16);
		assert_int_equal(wg_aead_open(a, key, ctr, ad, sizeof(ad), buf, n, tag), 0);
		assert_true(memcmp(buf, orig, n) == 0);
		/* A flipped last byte (or tag bit when empty) fails and wipes. */
		memcpy(buf, ref, n);
		if (n)
			buf[n - 1] ^= 0x40;
		else
			tag[15] ^= 0x40;
		assert_int_equal(wg_aead_open(a, key, ctr, ad, sizeof(ad), buf, n, tag), -EBADMSG);
		assert_true(wg_is_zero(buf, n));
	}
	wg_aead_free(a);
}

static void test_xaead_draft_a3(void **state)
{
	uint8_t *key = unhex(KEY80, NULL);
	uint8_t *nonce = unhex("404142434445464748494a4b4c4d4e4f5051525354555657", NULL);
	uint8_t *ad = unhex("50515253c0c1c2c3c4c5c6c7", NULL);
	size_t n = sizeof(sunscreen) - 1;
	uint8_t out[sizeof(sunscreen) - 1 + 16], back[sizeof(sunscreen)];

	(void)state;
	assert_int_equal(wg_xaead_seal(out, (const uint8_t *)sunscreen, n, ad, 12, nonce, key), 0);
	assert_hex(out, "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
			"731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
			"2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
			"21f9664c97637da9768812f615c68b13b52e"
			"c0875924c1c7987947deafd8780acf49");
	assert_int_equal(wg_xaead_open(back, out, sizeof(out), ad, 12, nonce, key), 0);
	assert_memory_equal(back, sunscreen, n);
	out[5] ^= 1;
	assert_int_equal(wg_xaead_open(back, out, sizeof(out), ad, 12, nonce, key), -EBADMSG);
	assert_int_equal(wg_xaead_open(back, out, 15, ad, 12, nonce, key), -EINVAL);
	free(key);
	free(nonce);
	free(ad);
}

static void test_tai64n(void **state)
{
	uint8_t t[12], t2[12];
	/* 2021-01-01T00:00:00.987654321Z */
	uint64_t ns = 1609459200ull * NSEC_PER_SEC + 987654321ull;

	(void)state;
	wg_tai64n(t, ns);
	/* 0x400000000000000a + 1609459200 = 0x400000005fee660a; nanoseconds
	 * 987654321 rounded down to 2^24: 58 * 16777216 = 973078528 = 0x3a000000. */
	assert_hex(t, "400000005fee660a" "3a000000");
	/* Whitening: anything within the same 2^24 ns slot looks the same. */
	wg_tai64n(t2, ns - (987654321ull - 973078528ull));
	assert_memory_equal(t, t2, 12);
	wg_tai64n(t2, ns - (987654321ull - 973078528ull) - 1);
	assert_true(memcmp(t2, t, 12) < 0);
	/* Byte order compares like time, across a second boundary too. */
	wg_tai64n(t2, ns + NSEC_PER_SEC / 10);
	assert_true(memcmp(t2, t, 12) > 0);
	wg_tai64n(t, 0);
	assert_hex(t, "400000000000000a" "00000000");
	wg_tai64n(t, NSEC_PER_SEC - 1);
	assert_int_equal(t[8], 0x3b);
	assert_int_equal(t[9] | t[10] | t[11], 0);
}

static void test_key_encoding(void **state)
{
	/* A wg(8) style key and its hex. */
	static const char b64[] = "YGLkbzsG3Q6MEv3mTqhMTnS6dsaTRyAm4Y2tlYyWZVE=";
	static const char *const bad[] = {
		"YGLkbzsG3Q6MEv3mTqhMTnS6dsaTRyAm4Y2tlYyWZVE",	/* short */
		"YGLkbzsG3Q6MEv3mTqhMTnS6dsaTRyAm4Y2tlYyWZVE==",	/* long */
		"YGLkbzsG3Q6MEv3mTqhMTnS6dsaTRyAm4Y2tlYyWZVF=",	/* trailing bits */
		"YGLkbzsG3Q6MEv3mTqhMTnS6dsaTRyAm4Y2tlYy*ZVE=",	/* alphabet */
		"YGLkbzsG3Q6MEv3mTqhMTnS6dsaTRyAm4Y2tlYyWZVE= ",	/* trailing space */
		"YGLkbzsG3Q6MEv3mTqhMTnS6dsaTRyAm4Y2tlYyWZV==",	/* padding */
	};
	uint8_t key[32], key2[32];
	char out[WG_KEY_B64_LEN], hex[WG_KEY_HEX_LEN];

	(void)state;
	assert_int_equal(wg_key_from_base64(key, b64), 0);
	wg_key_to_base64(out, key);
	assert_string_equal(out, b64);
	wg_key_to_hex(hex, key);
	assert_int_equal(strlen(hex), 64);
	assert_int_equal(wg_key_from_hex(key2, hex), 0);
	assert_memory_equal(key, key2, 32);
	assert_hex(key, hex);
	/* Strictness: length, alphabet, padding and non-canonical trailing bits. */
	memset(key2, 0x77, 32);
	assert_int_equal(wg_key_from_base64(key2, ""), -EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(wg_key_from_base64(key2, bad[i]), -EINVAL);
	assert_int_equal(wg_key_from_hex(key2, "00"), -EINVAL);
	hex[10] = 'g';
	assert_int_equal(wg_key_from_hex(key2, hex), -EINVAL);
	for (int i = 0; i < 32; i++)
		assert_int_equal(key2[i], 0x77); /* failures leave the output alone */
}

static void test_ct_helpers(void **state)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 };

	(void)state;
	assert_true(wg_is_zero(a, 32));
	assert_true(wg_equal(a, b, 32));
	b[31] = 1;
	assert_false(wg_is_zero(b, 32));
	assert_false(wg_equal(a, b, 32));
	wg_wipe(b, 32);
	assert_true(wg_equal(a, b, 32));
}

static void test_keypair_counter(void **state)
{
	struct noise_keypair kp;
	uint64_t ctr = 77;

	(void)state;
	memset(&kp, 0, sizeof(kp));
	atomic_init(&kp.send_counter, 0);
	for (uint64_t i = 0; i < 5; i++) {
		assert_int_equal(wg_noise_keypair_next_counter(&kp, &ctr), 0);
		assert_true(ctr == i);
	}
	atomic_store(&kp.send_counter, WG_REJECT_AFTER_MESSAGES - 1);
	assert_int_equal(wg_noise_keypair_next_counter(&kp, &ctr), 0);
	assert_true(ctr == WG_REJECT_AFTER_MESSAGES - 1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(wg_noise_keypair_next_counter(&kp, &ctr), -EKEYEXPIRED);
	assert_true(ctr == WG_REJECT_AFTER_MESSAGES - 1);
	atomic_store(&kp.send_counter, UINT64_MAX);
	assert_int_equal(wg_noise_keypair_next_counter(&kp, &ctr), -EKEYEXPIRED);
	assert_int_equal(wg_noise_keypair_next_counter(&kp, &ctr), -EKEYEXPIRED); /* no wrap */
	wg_noise_keypair_wipe(&kp);
	assert_int_equal(wg_noise_keypair_next_counter(&kp, &ctr), -EKEYEXPIRED);
}

/* The classifier against the size table, for every type word and length. */
static void test_wire_classify(void **state)
{
	uint8_t msg[200];

	(void)state;
	memset(msg, 0, sizeof(msg));
	for (int type = 0; type < 6; type++) {
		msg[0] = (uint8_t)type;
		for (size_t len = 0; len < sizeof(msg); len++) {
			int want = 0;

			if ((type == 1 && len == 148) || (type == 2 && len == 92) ||
			    (type == 3 && len == 64) || (type == 4 && len >= 32))
				want = type;
			assert_int_equal(wg_wire_classify(msg, len), want);
			for (int r = 1; r < 4 && want; r++) { /* reserved bytes must be 0 */
				msg[r] = 0x80;
				assert_int_equal(wg_wire_classify(msg, len), 0);
				msg[r] = 0;
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blake2s_rfc7693),
		cmocka_unit_test(test_blake2s_kat),
		cmocka_unit_test(test_mac16),
		cmocka_unit_test(test_kdf_vectors),
		cmocka_unit_test(test_c0_h0),
		cmocka_unit_test(test_x25519_rfc7748),
		cmocka_unit_test(test_x25519_low_order),
		cmocka_unit_test(test_key_generate),
		cmocka_unit_test(test_aead_rfc8439_282),
		cmocka_unit_test(test_aead_rfc8439_a5),
		cmocka_unit_test(test_aead_reuse_and_tamper),
		cmocka_unit_test(test_aead_paths_agree),
		cmocka_unit_test(test_xaead_draft_a3),
		cmocka_unit_test(test_tai64n),
		cmocka_unit_test(test_key_encoding),
		cmocka_unit_test(test_ct_helpers),
		cmocka_unit_test(test_keypair_counter),
		cmocka_unit_test(test_wire_classify),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
