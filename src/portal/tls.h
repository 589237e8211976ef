/* Certificates for the portal's TLS port (`sluice-portal init`): a self-signed
 * CA, and a server certificate signed by it for the portal's DNS names and IP
 * addresses. Clients and gateways trust the CA (ca.pem); the portal presents the
 * server certificate.
 *
 * Keys are ECDSA P-256 (accepted by OpenSSL, libwebsockets, curl and browsers
 * alike), certificates X.509 v3 signed with SHA-256, files PEM. Key files are
 * created 0600 and certificates 0644; nothing is overwritten (-EEXIST), and a
 * file appears whole or not at all. */
#ifndef SLUICE_PORTAL_TLS_H
#define SLUICE_PORTAL_TLS_H

#include <stddef.h>

/* A CA named cn (0 days: 3650), valid from an hour ago (clock skew). */
int tls_ca_create(const char *cert_path, const char *key_path, const char *cn,
		  unsigned days);

/* Subject alternative names: DNS names ("portal.example.com") and IPv4/IPv6
 * addresses in text form. At least one; the first DNS name is also the CN. */
struct tls_names {
	const char *const *dns;
	size_t n_dns;
	const char *const *ips;
	size_t n_ips;
};

/* A server certificate (serverAuth) signed by the CA in ca_cert_path and
 * ca_key_path, valid for days (0: 825). -EINVAL for a malformed name. */
int tls_server_create(const char *ca_cert_path, const char *ca_key_path,
		      const struct tls_names *names, unsigned days,
		      const char *cert_path, const char *key_path);

#endif
