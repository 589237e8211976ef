#include "ctl/tlscheck.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

int tlscheck_init(struct tlscheck *t, const char *host)
{
	size_t n = strlen(host);
	unsigned char a[16];

	memset(t, 0, sizeof(*t));
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n >= sizeof(t->host))
		return -ENAMETOOLONG;
	memcpy(t->host, host, n);
	t->is_ip = inet_pton(AF_INET, t->host, a) == 1 || inet_pton(AF_INET6, t->host, a) == 1;
	return 0;
}

int tlscheck_verify(struct tlscheck *t, void *x509_ctx, int preverify_ok)
{
	X509_STORE_CTX *xs = x509_ctx;
	X509 *cert;
	int ok;

	if (!preverify_ok) {
		/* lws keeps OpenSSL's verdict when the error stays set. */
		snprintf(t->err, sizeof(t->err), "the certificate was refused: %s",
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(xs)));
		return 0;
	}
	if (X509_STORE_CTX_get_error_depth(xs) != 0)
		return 0; /* a CA of the chain: only the leaf names hosts */
	cert = X509_STORE_CTX_get_current_cert(xs);
	if (t->is_ip)
		ok = cert && X509_check_ip_asc(cert, t->host, 0) == 1;
	else
		ok = cert && X509_check_host(cert, t->host, 0,
					     X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
	if (!ok) {
		X509_STORE_CTX_set_error(xs, X509_V_ERR_HOSTNAME_MISMATCH);
		snprintf(t->err, sizeof(t->err), "the certificate is not valid for %s", t->host);
		return 1;
	}
	t->checked = true;
	return 0;
}
