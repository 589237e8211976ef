/* The portal's certificates: a CA and a server certificate made in a temporary
 * directory, checked with OpenSSL's own verifier (chain, purpose, host and IP
 * names), field by field (SANs, key usage, validity, key type), by the openssl
 * command line, and on the file system (permissions, no overwrite). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "portal/tls.h"

struct env {
	char dir[64];
	char ca[128], ca_key[128], srv[128], srv_key[128];
};

static const char *const dns[] = { "portal.test" };
static const char *const ips[] = { "198.51.100.30", "127.0.0.1" };
static const struct tls_names names = { dns, 1, ips, 2 };

static void path(char *out, const struct env *e, const char *name)
{
	snprintf(out, 128, "%s/%s", e->dir, name);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	strcpy(e->dir, "/tmp/sluice-tls-XXXXXX");
	if (!mkdtemp(e->dir))
		return -1;
	path(e->ca, e, "ca.pem");
	path(e->ca_key, e, "ca.key");
	path(e->srv, e, "server.pem");
	path(e->srv_key, e, "server.key");
	if (tls_ca_create(e->ca, e->ca_key, "sluice test CA", 0) != 0 ||
	    tls_server_create(e->ca, e->ca_key, &names, 0, e->srv, e->srv_key) != 0)
		return -1;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	if (system(cmd) != 0)
		return -1;
	free(e);
	return 0;
}

static X509 *cert_load(const char *file)
{
	FILE *f = fopen(file, "r");
	X509 *x;

	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

static EVP_PKEY *key_load(const char *file)
{
	FILE *f = fopen(file, "r");
	EVP_PKEY *k;

	assert_non_null(f);
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(k);
	return k;
}

/* X509_verify_cert of leaf against ca; host/ip are checked when given. */
static int verify(X509 *ca, X509 *leaf, const char *host, const char *ip)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *param;
	int ok;

	assert_int_equal(X509_STORE_add_cert(store, ca), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, NULL), 1);
	param = X509_STORE_CTX_get0_param(ctx);
	assert_int_equal(X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER), 1);
	if (host)
		assert_int_equal(X509_VERIFY_PARAM_set1_host(param, host, 0), 1);
	if (ip)
		assert_int_equal(X509_VERIFY_PARAM_set1_ip_asc(param, ip), 1);
	ok = X509_verify_cert(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

static void test_chain_verifies(void **state)
{
	struct env *e = *state;
	X509 *ca = cert_load(e->ca), *srv = cert_load(e->srv);

	assert_int_equal(verify(ca, srv, NULL, NULL), 1);
	assert_int_equal(verify(ca, srv, "portal.test", NULL), 1);
	assert_int_equal(verify(ca, srv, "PORTAL.test", NULL), 1);
	assert_int_equal(verify(ca, srv, NULL, "198.51.100.30"), 1);
	assert_int_equal(verify(ca, srv, NULL, "127.0.0.1"), 1);
	assert_int_not_equal(verify(ca, srv, "other.test", NULL), 1);
	assert_int_not_equal(verify(ca, srv, NULL, "198.51.100.31"), 1);
	/* the leaf cannot vouch for itself */
	assert_int_not_equal(verify(srv, srv, NULL, NULL), 1);
	X509_free(ca);
	X509_free(srv);
}

static void test_fields(void **state)
{
	struct env *e = *state;
	X509 *ca = cert_load(e->ca), *srv = cert_load(e->srv);
	EVP_PKEY *k = key_load(e->srv_key), *cak = key_load(e->ca_key);
	GENERAL_NAMES *gens;
	char group[32];
	bool seen_dns = false, seen_ip1 = false, seen_ip2 = false;
	int days, secs;
	time_t now = time(NULL);

	/* SANs: exactly the names asked for */
	gens = X509_get_ext_d2i(srv, NID_subject_alt_name, NULL, NULL);
	assert_non_null(gens);
	assert_int_equal(sk_GENERAL_NAME_num(gens), 3);
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		int type;
		const ASN1_STRING *v = GENERAL_NAME_get0_value(g, &type);
		char ip[INET6_ADDRSTRLEN];

		if (type == GEN_DNS) {
			assert_int_equal(ASN1_STRING_length(v), 11);
			assert_memory_equal(ASN1_STRING_get0_data(v), "portal.test", 11);
			seen_dns = true;
		} else {
			assert_int_equal(type, GEN_IPADD);
			assert_int_equal(ASN1_STRING_length(v), 4);
			inet_ntop(AF_INET, ASN1_STRING_get0_data(v), ip, sizeof(ip));
			seen_ip1 |= strcmp(ip, "198.51.100.30") == 0;
			seen_ip2 |= strcmp(ip, "127.0.0.1") == 0;
		}
	}
	assert_true(seen_dns && seen_ip1 && seen_ip2);
	GENERAL_NAMES_free(gens);

	/* key usage: the CA signs certificates, the server only signs handshakes */
	assert_int_equal(X509_check_ca(ca), 1);
	assert_int_equal(X509_check_ca(srv), 0);
	assert_true(X509_get_key_usage(ca) & KU_KEY_CERT_SIGN);
	assert_int_equal(X509_get_key_usage(srv), KU_DIGITAL_SIGNATURE);
	assert_int_equal(X509_get_extended_key_usage(srv), XKU_SSL_SERVER);
	assert_int_equal(X509_check_purpose(srv, X509_PURPOSE_SSL_SERVER, 0), 1);
	assert_non_null(X509_get0_subject_key_id(srv));
	assert_non_null(X509_get0_authority_key_id(srv));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(srv),
					       X509_get0_subject_key_id(ca)), 0);
	assert_int_equal(X509_get_version(srv), X509_VERSION_3);

	/* validity: started (backdated an hour), lasts the default 825 / 3650 days */
	assert_true(X509_cmp_time(X509_get0_notBefore(srv), &now) < 0);
	assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(srv)), 1);
	assert_true(days == 824 || days == 825);
	assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(ca)), 1);
	assert_true(days == 3649 || days == 3650);

	/* P-256 keys that belong to their certificates */
	assert_int_equal(EVP_PKEY_get_base_id(k), EVP_PKEY_EC);
	assert_int_equal(EVP_PKEY_get_group_name(k, group, sizeof(group), NULL), 1);
	assert_string_equal(group, "prime256v1");
	assert_int_equal(X509_check_private_key(srv, k), 1);
	assert_int_equal(X509_check_private_key(ca, cak), 1);
	assert_int_not_equal(X509_check_private_key(srv, cak), 1);
	/* distinct serials */
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(ca),
					      X509_get0_serialNumber(srv)), 0);
	EVP_PKEY_free(k);
	EVP_PKEY_free(cak);
	X509_free(ca);
	X509_free(srv);
}

static void test_permissions(void **state)
{
	struct env *e = *state;
	struct stat st;

	assert_int_equal(stat(e->ca_key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(e->srv_key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(e->ca, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(stat(e->srv, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
}

__attribute__((format(printf, 1, 2)))
static int run(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_openssl_cli(void **state)
{
	struct env *e = *state;
	char other[128], other_key[128];

	if (system("command -v openssl >/dev/null") != 0)
		skip();
	assert_int_equal(run("openssl verify -CAfile %s %s >/dev/null", e->ca, e->srv), 0);
	assert_int_equal(run("openssl verify -purpose sslserver -verify_hostname portal.test "
			     "-CAfile %s %s >/dev/null", e->ca, e->srv), 0);
	assert_int_equal(run("openssl verify -verify_ip 198.51.100.30 "
			     "-CAfile %s %s >/dev/null", e->ca, e->srv), 0);
	assert_int_not_equal(run("openssl verify -verify_hostname other.test "
				 "-CAfile %s %s >/dev/null 2>&1", e->ca, e->srv), 0);
	/* another CA does not vouch for this server */
	path(other, e, "other.pem");
	path(other_key, e, "other.key");
	assert_int_equal(tls_ca_create(other, other_key, "another CA", 30), 0);
	assert_int_not_equal(run("openssl verify -CAfile %s %s >/dev/null 2>&1", other,
				 e->srv), 0);
	/* and the key file is one openssl reads as an EC key */
	assert_int_equal(run("openssl pkey -in %s -noout", e->srv_key), 0);
	unlink(other);
	unlink(other_key);
}

static void test_no_overwrite(void **state)
{
	struct env *e = *state;
	char c2[128], k2[128];
	struct stat before, after;

	assert_int_equal(stat(e->srv, &before), 0);
	assert_int_equal(tls_ca_create(e->ca, e->ca_key, "again", 0), -EEXIST);
	assert_int_equal(tls_server_create(e->ca, e->ca_key, &names, 0, e->srv, e->srv_key),
			 -EEXIST);
	/* one of the pair existing is enough to refuse, and nothing is left behind */
	path(c2, e, "new.pem");
	assert_int_equal(tls_server_create(e->ca, e->ca_key, &names, 0, c2, e->srv_key),
			 -EEXIST);
	assert_int_equal(access(c2, F_OK), -1);
	assert_int_equal(stat(e->srv, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	assert_int_equal(before.st_mtime, after.st_mtime);
	/* a missing directory is an error, not a crash */
	assert_int_equal(tls_ca_create("/nonexistent/ca.pem", "/nonexistent/ca.key", "x", 0),
			 -ENOENT);
	path(k2, e, "new.key");
	assert_int_equal(access(k2, F_OK), -1);
}

static void test_bad_input(void **state)
{
	struct env *e = *state;
	static const char *const bad_dns[] = { "", "a..b", "-a.test", "a-.test", "a_b.test",
					       "x.test.", "*.test", "a b" };
	static const char *const bad_ips[] = { "1.2.3.999", "fe80::1%eth0", "portal.test" };
	char c[128], k[128], other[128], other_key[128], long_name[300];

	path(c, e, "bad.pem");
	path(k, e, "bad.key");
	for (size_t i = 0; i < sizeof(bad_dns) / sizeof(bad_dns[0]); i++) {
		struct tls_names n = { &bad_dns[i], 1, NULL, 0 };

		assert_int_equal(tls_server_create(e->ca, e->ca_key, &n, 0, c, k), -EINVAL);
	}
	for (size_t i = 0; i < sizeof(bad_ips) / sizeof(bad_ips[0]); i++) {
		struct tls_names n = { NULL, 0, &bad_ips[i], 1 };

		assert_int_equal(tls_server_create(e->ca, e->ca_key, &n, 0, c, k), -EINVAL);
	}
	{
		struct tls_names none = { NULL, 0, NULL, 0 };

		assert_int_equal(tls_server_create(e->ca, e->ca_key, &none, 0, c, k), -EINVAL);
	}
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	{
		const char *ln = long_name;
		struct tls_names n = { &ln, 1, NULL, 0 };

		assert_int_equal(tls_server_create(e->ca, e->ca_key, &n, 0, c, k), -EINVAL);
	}
	assert_int_equal(tls_ca_create(c, k, "", 0), -EINVAL);
	/* a CA certificate with someone else's key is refused */
	path(other, e, "o.pem");
	path(other_key, e, "o.key");
	assert_int_equal(tls_ca_create(other, other_key, "other", 0), 0);
	assert_int_equal(tls_server_create(e->ca, other_key, &names, 0, c, k), -EINVAL);
	assert_int_equal(tls_server_create(e->ca, "/nonexistent", &names, 0, c, k), -ENOENT);
	assert_int_equal(access(c, F_OK), -1);
	assert_int_equal(access(k, F_OK), -1);
	unlink(other);
	unlink(other_key);
}

static void test_ipv6_and_long_names(void **state)
{
	struct env *e = *state;
	static const char *const d[] = {
		"a-very-long-label-that-is-still-within-sixty-three-characters-x.portal.test",
		"localhost",
	};
	static const char *const ip6[] = { "2001:db8::30" };
	struct tls_names n = { d, 2, ip6, 1 };
	char c[128], k[128];
	X509 *ca, *srv;

	path(c, e, "v6.pem");
	path(k, e, "v6.key");
	assert_int_equal(tls_server_create(e->ca, e->ca_key, &n, 30, c, k), 0);
	ca = cert_load(e->ca);
	srv = cert_load(c);
	assert_int_equal(verify(ca, srv, NULL, "2001:db8::30"), 1);
	assert_int_equal(verify(ca, srv, "localhost", NULL), 1);
	assert_int_equal(verify(ca, srv, d[0], NULL), 1);
	X509_free(ca);
	X509_free(srv);
	unlink(c);
	unlink(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_verifies),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_openssl_cli),
		cmocka_unit_test(test_no_overwrite),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_ipv6_and_long_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
