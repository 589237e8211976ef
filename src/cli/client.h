/* An HTTPS client for the portal's REST API over libwebsockets: one request at a
 * time, each on its own connection, with the bearer token, a JSON body and a
 * deadline; the answer's status and body come back whole (capped).
 *
 * TLS is always on and always verified: the chain against the CA file given (or
 * the system's store when there is none), and the certificate's names against
 * the host of the URL (a DNS name, or an IP address against the IP SANs). No
 * option turns either off. Redirects are not followed (they would carry the
 * token elsewhere). Not thread-safe; one client per thread. */
#ifndef SLUICE_CLI_CLIENT_H
#define SLUICE_CLI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

struct api_client;

struct api_client_config {
	const char *url;      /* "https://HOST[:PORT][/PREFIX]"; port 8443 when absent */
	const char *ca_file;  /* PEM; NULL: the system's trust store */
	const char *token;    /* sent as "Authorization: Bearer ..."; NULL: none */
	unsigned timeout_ms;  /* per request, connecting included; 0: 30 s */
	size_t max_response;  /* body cap; 0: 64 MiB */
	bool debug;           /* libwebsockets' own log lines on stderr */
};

struct api_response {
	unsigned status; /* the HTTP status */
	char *body;      /* NUL-terminated (not counted in len); "" when none */
	size_t len;
};

/* Checks the URL and the CA file and creates the TLS context. -EINVAL (a bad
 * URL), -ENOENT/-EACCES (the CA file), -EIO; err says which. The strings are
 * copied; the token is wiped when the client is freed. */
int api_client_new(const struct api_client_config *cfg, struct api_client **out,
		   char *err, size_t errlen);

/* Sends method ("GET", "POST", "PUT", "PATCH", "DELETE") to the API path (with
 * the query; the URL's prefix goes before it) with body (NULL or len 0: none,
 * else sent as application/json). 0 when an answer came, whatever its status;
 * else -ECONNREFUSED, -ETIMEDOUT, -EPROTO (TLS, certificate, malformed answer),
 * -EMSGSIZE (answer over the cap), -ENOMEM, with err saying what happened. */
int api_client_request(struct api_client *c, const char *method, const char *path,
		       const char *body, size_t len, struct api_response *resp,
		       char *err, size_t errlen);
void api_response_free(struct api_response *r);

/* The URL's parts, for messages: "HOST:PORT". */
const char *api_client_origin(const struct api_client *c);

void api_client_free(struct api_client *c);

#endif
