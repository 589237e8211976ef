/* A TLS server for client tests: the project's own HTTPS/WSS transport
 * (portal/http.c) in a thread of the test, with a fresh CA, a second CA that
 * signed nothing here, and a server certificate for portal.test and 127.0.0.1
 * only, so a test can dial a name or address the certificate does not hold. */
#ifndef SLUICE_TEST_TLS_ENV_H
#define SLUICE_TEST_TLS_ENV_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portal/http.h"
#include "portal/tls.h"

struct tls_env {
	char dir[64], ca[128], other_ca[128], cert[128], key[128];
	struct http_server *srv;
	pthread_t thread;
	int port, run_rc;
};

static inline void *tls_env_serve(void *arg)
{
	struct tls_env *t = arg;

	t->run_rc = http_server_run(t->srv);
	return NULL;
}

/* cfg holds the caller's handlers; the certificate and key are filled in here.
 * dir_template: a mkdtemp() template. 0 or -1. */
static inline int tls_env_start(struct tls_env *t, struct http_config *cfg,
				const char *dir_template)
{
	static const char *const dns[] = { "portal.test" };
	static const char *const ips[] = { "127.0.0.1" };
	const struct tls_names names = { dns, 1, ips, 1 };
	char ca_key[160], other_key[160];

	snprintf(t->dir, sizeof(t->dir), "%s", dir_template);
	if (!mkdtemp(t->dir))
		return -1;
	snprintf(t->ca, sizeof(t->ca), "%s/ca.pem", t->dir);
	snprintf(ca_key, sizeof(ca_key), "%s/ca.key", t->dir);
	snprintf(t->other_ca, sizeof(t->other_ca), "%s/other.pem", t->dir);
	snprintf(other_key, sizeof(other_key), "%s/other.key", t->dir);
	snprintf(t->cert, sizeof(t->cert), "%s/server.pem", t->dir);
	snprintf(t->key, sizeof(t->key), "%s/server.key", t->dir);
	if (tls_ca_create(t->ca, ca_key, "sluice test CA", 1) ||
	    tls_ca_create(t->other_ca, other_key, "sluice test CA", 1) ||
	    tls_server_create(t->ca, ca_key, &names, 1, t->cert, t->key))
		return -1;
	cfg->cert_path = t->cert;
	cfg->key_path = t->key;
	if (http_server_new(cfg, &t->srv) != 0)
		return -1;
	t->port = http_server_port(t->srv);
	return pthread_create(&t->thread, NULL, tls_env_serve, t) == 0 ? 0 : -1;
}

/* Stops the server and removes the directory: 0, or -1 if either failed. */
static inline int tls_env_stop(struct tls_env *t)
{
	char cmd[128];

	http_server_stop(t->srv);
	pthread_join(t->thread, NULL);
	http_server_free(t->srv);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	return system(cmd) != 0 || t->run_rc != 0 ? -1 : 0;
}

#endif
