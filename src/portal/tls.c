#include "portal/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/log.h"

enum {
	CA_DAYS = 3650,
	SERVER_DAYS = 825,   /* the longest that Apple's TLS clients accept */
	BACKDATE_S = 3600,   /* tolerate clocks an hour behind ours */
	MAX_NAMES = 64,
	CN_MAX = 64,         /* ub_common_name */
};

/* Logs the OpenSSL error queue behind a failed step; -EIO for the caller. */
static int ssl_fail(const char *what)
{
	char msg[256] = "no detail";
	unsigned long e, last = 0;

	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last)
		ERR_error_string_n(last, msg, sizeof(msg));
	log_err("tls: %s: %s", what, msg);
	return -EIO;
}

/* An LDH host name: labels of 1-63 letters, digits and inner hyphens. */
static bool dns_name_ok(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || (c == '-' && label > 0)))
			return false;
		label++;
	}
	return true;
}

static EVP_PKEY *key_new(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	if (!k)
		ssl_fail("key generation");
	return k;
}

/* A new certificate for key: v3, random positive serial, validity from
 * BACKDATE_S ago for days, subject O=sluice CN=cn. */
static X509 *cert_new(EVP_PKEY *key, const char *cn, unsigned days)
{
	unsigned char serial[16];
	X509_NAME *name;
	BIGNUM *bn = NULL;
	X509 *x;

	x = X509_new();
	if (!x)
		goto fail;
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f;  /* positive */
	serial[0] |= 0x40;  /* and full length */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		goto fail;
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -BACKDATE_S) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) ||
	    !X509_set_pubkey(x, key))
		goto fail;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
					(const unsigned char *)"sluice", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					(const unsigned char *)cn, -1, -1, 0))
		goto fail;
	BN_free(bn);
	return x;
fail:
	ssl_fail("certificate");
	BN_free(bn);
	X509_free(x);
	return NULL;
}

/* Adds one extension in OpenSSL's config syntax (fixed strings only: names from
 * the caller never pass through this parser). */
static int ext_add(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return ssl_fail(value);
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : ssl_fail("add extension");
}

static int san_add(X509 *x, const struct tls_names *names)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	unsigned char addr[16];
	int r = -EIO;

	if (!gens)
		return ssl_fail("SAN");
	for (size_t i = 0; i < names->n_dns; i++) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();

		if (!g || !s || !ASN1_STRING_set(s, names->dns[i], -1)) {
			GENERAL_NAME_free(g);
			ASN1_IA5STRING_free(s);
			goto out;
		}
		GENERAL_NAME_set0_value(g, GEN_DNS, s);
		if (!sk_GENERAL_NAME_push(gens, g)) {
			GENERAL_NAME_free(g);
			goto out;
		}
	}
	for (size_t i = 0; i < names->n_ips; i++) {
		GENERAL_NAME *g;
		ASN1_OCTET_STRING *o;
		int len;

		if (inet_pton(AF_INET, names->ips[i], addr) == 1)
			len = 4;
		else if (inet_pton(AF_INET6, names->ips[i], addr) == 1)
			len = 16;
		else
			continue; /* checked by the caller */
		g = GENERAL_NAME_new();
		o = ASN1_OCTET_STRING_new();
		if (!g || !o || !ASN1_OCTET_STRING_set(o, addr, len)) {
			GENERAL_NAME_free(g);
			ASN1_OCTET_STRING_free(o);
			goto out;
		}
		GENERAL_NAME_set0_value(g, GEN_IPADD, o);
		if (!sk_GENERAL_NAME_push(gens, g)) {
			GENERAL_NAME_free(g);
			goto out;
		}
	}
	r = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1 ?
		0 : -EIO;
out:
	GENERAL_NAMES_free(gens);
	return r < 0 ? ssl_fail("SAN") : 0;
}

/* Writes one PEM file next to its final name, then links it into place: the
 * file is whole when it appears, and an existing one is never replaced. */
static int pem_write(const char *path, mode_t mode, X509 *cert, EVP_PKEY *key)
{
	size_t n = strlen(path);
	char *tmp = malloc(n + 8);
	FILE *f = NULL;
	int fd, r = -EIO, ok;

	if (!tmp)
		return -ENOMEM;
	memcpy(tmp, path, n);
	memcpy(tmp + n, ".XXXXXX", 8);
	fd = mkstemp(tmp); /* 0600 from the start: the key is never readable */
	if (fd < 0) {
		r = -errno;
		goto out_free;
	}
	if (fchmod(fd, mode) < 0 || !(f = fdopen(fd, "w"))) {
		r = -errno;
		close(fd);
		goto out_unlink;
	}
	if (cert)
		ok = PEM_write_X509(f, cert);
	else
		ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	if (!ok) {
		r = ssl_fail("PEM write");
		fclose(f);
		goto out_unlink;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) < 0) {
		r = -errno;
		fclose(f);
		goto out_unlink;
	}
	if (fclose(f) != 0) {
		r = -errno;
		goto out_unlink;
	}
	r = link(tmp, path) < 0 ? -errno : 0;
out_unlink:
	unlink(tmp);
out_free:
	free(tmp);
	return r;
}

/* Writes key then certificate; on failure neither is left behind. */
static int pair_write(const char *cert_path, const char *key_path, X509 *cert,
		      EVP_PKEY *key)
{
	int r;

	if (access(cert_path, F_OK) == 0 || access(key_path, F_OK) == 0)
		return -EEXIST;
	r = pem_write(key_path, 0600, NULL, key);
	if (r < 0)
		return r;
	r = pem_write(cert_path, 0644, cert, NULL);
	if (r < 0)
		unlink(key_path);
	return r;
}

int tls_ca_create(const char *cert_path, const char *key_path, const char *cn,
		  unsigned days)
{
	EVP_PKEY *key;
	X509 *x = NULL;
	int r = -EIO;

	if (!cn || !*cn || strlen(cn) > CN_MAX)
		return -EINVAL;
	key = key_new();
	if (!key)
		return -EIO;
	x = cert_new(key, cn, days ? days : CA_DAYS);
	if (!x)
		goto out;
	if (!X509_set_issuer_name(x, X509_get_subject_name(x)))
		goto out;
	if (ext_add(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    ext_add(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    ext_add(x, x, NID_subject_key_identifier, "hash"))
		goto out;
	if (!X509_sign(x, key, EVP_sha256())) {
		ssl_fail("sign CA");
		goto out;
	}
	r = pair_write(cert_path, key_path, x, key);
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return r;
}

/* Reads the CA's certificate and key, and checks that they belong together. */
static int ca_load(const char *cert_path, const char *key_path, X509 **cert,
		   EVP_PKEY **key)
{
	FILE *f;

	*cert = NULL;
	*key = NULL;
	f = fopen(cert_path, "r");
	if (!f)
		return -errno;
	*cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	f = fopen(key_path, "r");
	if (!f) {
		int r = -errno;

		X509_free(*cert);
		*cert = NULL;
		return r;
	}
	*key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!*cert || !*key || X509_check_private_key(*cert, *key) != 1) {
		ssl_fail("CA certificate and key");
		X509_free(*cert);
		EVP_PKEY_free(*key);
		*cert = NULL;
		*key = NULL;
		return -EINVAL;
	}
	return 0;
}

static int names_check(const struct tls_names *names)
{
	unsigned char addr[16];

	if (names->n_dns + names->n_ips == 0 || names->n_dns + names->n_ips > MAX_NAMES)
		return -EINVAL;
	for (size_t i = 0; i < names->n_dns; i++)
		if (!dns_name_ok(names->dns[i]))
			return -EINVAL;
	for (size_t i = 0; i < names->n_ips; i++)
		if (inet_pton(AF_INET, names->ips[i], addr) != 1 &&
		    inet_pton(AF_INET6, names->ips[i], addr) != 1)
			return -EINVAL;
	return 0;
}

int tls_server_create(const char *ca_cert_path, const char *ca_key_path,
		      const struct tls_names *names, unsigned days,
		      const char *cert_path, const char *key_path)
{
	EVP_PKEY *ca_key, *key = NULL;
	X509 *ca, *x = NULL;
	const char *cn;
	int r;

	r = names_check(names);
	if (r < 0)
		return r;
	r = ca_load(ca_cert_path, ca_key_path, &ca, &ca_key);
	if (r < 0)
		return r;
	r = -EIO;
	key = key_new();
	if (!key)
		goto out;
	cn = names->n_dns && strlen(names->dns[0]) <= CN_MAX ? names->dns[0] :
	     names->n_dns ? "sluice portal" : names->ips[0];
	x = cert_new(key, cn, days ? days : SERVER_DAYS);
	if (!x)
		goto out;
	if (!X509_set_issuer_name(x, X509_get_subject_name(ca)))
		goto out;
	if (ext_add(x, ca, NID_basic_constraints, "critical,CA:FALSE") ||
	    ext_add(x, ca, NID_key_usage, "critical,digitalSignature") ||
	    ext_add(x, ca, NID_ext_key_usage, "serverAuth") ||
	    ext_add(x, ca, NID_subject_key_identifier, "hash") ||
	    ext_add(x, ca, NID_authority_key_identifier, "keyid:always") ||
	    san_add(x, names))
		goto out;
	if (!X509_sign(x, ca_key, EVP_sha256())) {
		ssl_fail("sign server certificate");
		goto out;
	}
	r = pair_write(cert_path, key_path, x, key);
out:
	X509_free(x);
	EVP_PKEY_free(key);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	return r;
}
