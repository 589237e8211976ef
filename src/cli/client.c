/* The REST API client over libwebsockets. See client.h.
 *
 * One lws client context per api_client; one connection per request, closed
 * when the answer is in (a CLI makes few requests, and no state is left behind
 * between them). The loop runs lws_service() until the transaction ends or the
 * deadline passes; a timer keeps it from sleeping past the deadline. */
#include "cli/client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "ctl/dial.h"
#include "ctl/tlscheck.h"
#include "lib/buf.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <libwebsockets.h>
#pragma GCC diagnostic pop

enum {
	TICK_US = 100 * 1000,
	DEFAULT_TIMEOUT_MS = 30 * 1000,
	DEFAULT_MAX_RESPONSE = 64 << 20,
	PATH_MAX_LEN = 8192,
	AUTH_MAX = 1024,
};

struct api_client {
	struct lws_context *ctx;
	lws_sorted_usec_list_t tick;
	struct ctl_portal url; /* host, port, prefix */
	char origin[CTL_HOST_MAX + 16];
	char *ca_file;
	char *auth;            /* "Bearer ..."; wiped on free */
	unsigned timeout_ms;
	size_t max_response;
};

/* One request in flight. */
struct txn {
	struct api_client *c;
	struct lws *wsi;
	const char *method;
	unsigned char *body;   /* LWS_PRE bytes of headroom, then the JSON */
	size_t body_len;
	struct buf rx;
	unsigned status;
	struct tlscheck tls;   /* the portal's name, checked in the handshake */
	bool done, body_sent;
	int result;            /* 0 or -errno once done */
	char err[256];
};

/* Ends the transaction with an error; the first reason stays. */
__attribute__((format(printf, 3, 4)))
static void fail(struct txn *t, int r, const char *fmt, ...)
{
	va_list ap;

	if (t->done)
		return;
	t->done = true;
	t->result = r;
	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
}

/* The peer's certificate must name the host we asked for (ctl/tlscheck.h). */
static int check_name(struct txn *t, void *x509_ctx, int preverify_ok)
{
	int r = tlscheck_verify(&t->tls, x509_ctx, preverify_ok);

	if (t->tls.err[0])
		fail(t, -EPROTO, "TLS: the portal's %s", t->tls.err + strlen("the "));
	return r;
}

static int add_header(struct lws *wsi, const char *name, const char *value,
		      unsigned char **p, unsigned char *end)
{
	return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
					   (const unsigned char *)value, (int)strlen(value), p,
					   end);
}

static int append_headers(struct txn *t, struct lws *wsi, unsigned char **p,
			  unsigned char *end)
{
	char len[24];

	if (t->c->auth && add_header(wsi, "authorization:", t->c->auth, p, end))
		return -1;
	if (add_header(wsi, "accept:", "application/json", p, end))
		return -1;
	if (!t->body_len)
		return 0;
	snprintf(len, sizeof(len), "%zu", t->body_len);
	if (add_header(wsi, "content-type:", "application/json", p, end) ||
	    add_header(wsi, "content-length:", len, p, end))
		return -1;
	lws_client_http_body_pending(wsi, 1);
	lws_callback_on_writable(wsi);
	return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct txn *t = wsi ? lws_get_opaque_user_data(wsi) : NULL;
	SSL *ssl;

	switch (reason) {
	case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
		if (!t)
			return 1;
		return check_name(t, user, (int)len);
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		if (!t)
			return -1;
		return append_headers(t, wsi, in, *(unsigned char **)in + len);
	case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
		if (!t || !t->body_len || t->body_sent)
			return 0;
		t->body_sent = true;
		lws_client_http_body_pending(wsi, 0);
		if (lws_write(wsi, t->body + LWS_PRE, t->body_len, LWS_WRITE_HTTP_FINAL) <
		    (int)t->body_len) {
			fail(t, -EPIPE, "the connection failed while sending");
			return -1;
		}
		return 0;
	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
		if (!t)
			return -1;
		/* A resumed session was checked when it was made, in this context,
		 * for this host (lws builds with a session cache resume). */
		ssl = lws_get_ssl(wsi);
		if (!t->tls.checked && !(ssl && SSL_session_reused(ssl))) {
			fail(t, -EPROTO, "TLS: the certificate's names were not checked");
			return -1;
		}
		t->status = lws_http_client_http_response(wsi);
		/* No body follows these, and no Content-Length says so: done. */
		if (t->status == 204 || t->status == 304 || t->status < 200) {
			t->done = true;
			return -1;
		}
		return 0;
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
		char buf[LWS_PRE + 4096], *px = buf + LWS_PRE;
		int lenx = (int)sizeof(buf) - LWS_PRE;

		return lws_http_client_read(wsi, &px, &lenx) < 0 ? -1 : 0;
	}
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
		if (!t)
			return -1;
		if (t->rx.len + len > t->c->max_response || buf_append(&t->rx, in, len) < 0) {
			fail(t, -EMSGSIZE, "the portal's answer is over the size limit");
			return -1;
		}
		return 0;
	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
		if (t)
			t->done = true;
		return -1; /* one request per connection: close it now */
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (t)
			fail(t, -ECONNREFUSED, "cannot connect: %s",
			     in ? (const char *)in : "connection failed");
		return 0;
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		if (t)
			fail(t, -EPROTO, "the portal closed the connection before answering");
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		if (t && t->wsi == wsi)
			t->wsi = NULL;
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols protocols[] = {
	{ "sluice-api", callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void tick_cb(lws_sorted_usec_list_t *sul)
{
	struct api_client *c = lws_container_of(sul, struct api_client, tick);

	lws_sul_schedule(c->ctx, 0, &c->tick, tick_cb, TICK_US);
}

int api_client_new(const struct api_client_config *cfg, struct api_client **out,
		   char *err, size_t errlen)
{
	struct lws_context_creation_info info = { 0 };
	struct api_client *c = calloc(1, sizeof(*c));
	size_t alen;
	int r;

	if (!c)
		return -ENOMEM;
	c->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
	c->max_response = cfg->max_response ? cfg->max_response : DEFAULT_MAX_RESPONSE;
	r = ctl_portal_parse(cfg->url ? cfg->url : "", &c->url, err, errlen);
	if (r < 0)
		goto fail;
	snprintf(c->origin, sizeof(c->origin), strchr(c->url.host, ':') ? "[%s]:%u" : "%s:%u",
		 c->url.host, c->url.port);
	if (cfg->ca_file) {
		if (access(cfg->ca_file, R_OK) < 0) {
			r = -errno;
			snprintf(err, errlen, "cannot read the CA file %s: %s", cfg->ca_file,
				 strerror(errno));
			goto fail;
		}
		c->ca_file = strdup(cfg->ca_file);
		if (!c->ca_file)
			goto nomem;
	}
	if (cfg->token) {
		alen = strlen(cfg->token) + 8;
		if (alen > AUTH_MAX || strpbrk(cfg->token, "\r\n")) {
			r = -EINVAL;
			snprintf(err, errlen, "the token is malformed");
			goto fail;
		}
		c->auth = malloc(alen);
		if (!c->auth)
			goto nomem;
		snprintf(c->auth, alen, "Bearer %s", cfg->token);
	}
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	/* A CA given is the only one trusted; else the system's store (which lws
	 * would otherwise load in both cases). */
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
		       (c->ca_file ? LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS : 0);
	info.client_ssl_ca_filepath = c->ca_file;
	info.user = c;
	info.fd_limit_per_thread = 64;
	/* lws logs to stderr with its own format; the caller reports errors. */
	lws_set_log_level(cfg->debug ? LLL_ERR | LLL_WARN | LLL_NOTICE : 0, NULL);
	c->ctx = lws_create_context(&info);
	if (!c->ctx) {
		r = -EIO;
		snprintf(err, errlen, "cannot set up TLS%s%s", c->ca_file ? " with " : "",
			 c->ca_file ? c->ca_file : "");
		goto fail;
	}
	lws_sul_schedule(c->ctx, 0, &c->tick, tick_cb, TICK_US);
	*out = c;
	return 0;
nomem:
	r = -ENOMEM;
	snprintf(err, errlen, "out of memory");
fail:
	api_client_free(c);
	return r;
}

static int connect_txn(struct api_client *c, struct txn *t, const char *path)
{
	struct lws_client_connect_info ci = { 0 };

	ci.context = c->ctx;
	ci.address = c->url.host;
	ci.port = c->url.port;
	ci.path = path;
	ci.host = c->url.host;
	ci.method = t->method;
	ci.alpn = "http/1.1";
	ci.ssl_connection = LCCSCF_USE_SSL | LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
	ci.local_protocol_name = protocols[0].name;
	ci.opaque_user_data = t;
	ci.pwsi = &t->wsi;
	if (!lws_client_connect_via_info(&ci)) {
		t->wsi = NULL;
		fail(t, -ECONNREFUSED, "cannot connect to the portal");
		return t->result;
	}
	return 0;
}

static bool method_ok(const char *m)
{
	static const char *const known[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(m, known[i]) == 0)
			return true;
	return false;
}

int api_client_request(struct api_client *c, const char *method, const char *path,
		       const char *body, size_t len, struct api_response *resp,
		       char *err, size_t errlen)
{
	struct txn t = { .c = c, .method = method };
	char full[PATH_MAX_LEN];
	lws_usec_t deadline;
	int r;

	*resp = (struct api_response){ 0 };
	if (tlscheck_init(&t.tls, c->url.host) < 0) {
		snprintf(err, errlen, "host name too long: %s", c->url.host);
		return -EINVAL;
	}
	if (!method_ok(method) || path[0] != '/' ||
	    (size_t)snprintf(full, sizeof(full), "%s/api/v1%s", c->url.prefix, path) >=
	    sizeof(full) || strpbrk(full, " \r\n")) {
		snprintf(err, errlen, "bad request: %s %s", method, path);
		return -EINVAL;
	}
	buf_init(&t.rx, c->max_response + 1); /* + 1: the NUL */
	if (body && len) {
		t.body = malloc(LWS_PRE + len);
		if (!t.body) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		memcpy(t.body + LWS_PRE, body, len);
		t.body_len = len;
	}
	deadline = lws_now_usecs() + (lws_usec_t)c->timeout_ms * 1000;
	r = connect_txn(c, &t, full);
	while (r == 0 && !t.done) {
		if (lws_now_usecs() >= deadline) {
			fail(&t, -ETIMEDOUT, "no answer from the portal within the timeout");
			break;
		}
		if (lws_service(c->ctx, 0) < 0)
			fail(&t, -EIO, "the event loop failed");
	}
	if (t.wsi) {
		/* Still open (timeout): detach it, then let lws close it. */
		lws_set_opaque_user_data(t.wsi, NULL);
		lws_set_timeout(t.wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_SYNC);
	}
	free(t.body);
	if (t.result < 0 || buf_reserve(&t.rx, 1) < 0) {
		r = t.result < 0 ? t.result : -ENOMEM;
		snprintf(err, errlen, "%s", t.result < 0 ? t.err : "out of memory");
		buf_free(&t.rx);
		return r;
	}
	t.rx.data[t.rx.len] = '\0';
	resp->status = t.status;
	resp->body = (char *)t.rx.data;
	resp->len = t.rx.len;
	return 0;
}

void api_response_free(struct api_response *r)
{
	free(r->body);
	*r = (struct api_response){ 0 };
}

const char *api_client_origin(const struct api_client *c)
{
	return c->origin;
}

void api_client_free(struct api_client *c)
{
	if (!c)
		return;
	if (c->ctx)
		lws_context_destroy(c->ctx);
	if (c->auth) {
		explicit_bzero(c->auth, strlen(c->auth));
		free(c->auth);
	}
	free(c->ca_file);
	free(c);
}
