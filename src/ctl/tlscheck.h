/* Checking, ourselves, that the portal's certificate names the host we dialled.
 * libwebsockets 4.1 leaves the name unchecked when the host is an IPv6 literal
 * (it strips "[...]" as if it were a port), so every client of the portal — the
 * control-plane sessions and `sluice admin` — runs this check from lws's
 * LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION, and refuses a
 * connection whose name was never checked. */
#ifndef SLUICE_CTL_TLSCHECK_H
#define SLUICE_CTL_TLSCHECK_H

#include <stdbool.h>

struct tlscheck {
	char host[256];   /* a DNS name, or an IPv4/IPv6 address without brackets */
	bool is_ip;
	bool checked;     /* the leaf certificate named host */
	char err[320];    /* why the certificate was refused, or "" */
};

/* host may carry IPv6 brackets; they are dropped. -ENAMETOOLONG if it does not fit. */
int tlscheck_init(struct tlscheck *t, const char *host);
/* For the callback: x509_ctx is its `user`, preverify_ok its `len`. Returns what
 * the callback should: 0 to go on (the chain's verdict stands), 1 to refuse. */
int tlscheck_verify(struct tlscheck *t, void *x509_ctx, int preverify_ok);

#endif
