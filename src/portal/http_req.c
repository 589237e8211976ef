/* Requests: what a careful HTTP/1.1 server refuses (RFC 9110, 9112), decided
 * once lws has parsed the head and before anything else reads it; then what the
 * handlers get of the head (path, Authorization, query), copied out of lws.
 *
 * lws 4.1.6 serves much of this without a word (HTTP/9.9, no Host, "+15" as a
 * length) and fails its parse silently on the rest. The token caps set by
 * http_req_limits() turn its silent failures on long fields into truncations
 * (lws stops storing a field at its cap and skips the rest of the line), which
 * http_req_check() sees as a field at its cap and answers. What lws still
 * closes without a word is listed in docs/security.md. */
#include "portal/http_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/cursor.h"

static const enum lws_token_indexes uri_tokens[] = {
	WSI_TOKEN_GET_URI,   WSI_TOKEN_POST_URI,   WSI_TOKEN_OPTIONS_URI,
	WSI_TOKEN_PUT_URI,   WSI_TOKEN_PATCH_URI,  WSI_TOKEN_DELETE_URI,
	WSI_TOKEN_CONNECT,   WSI_TOKEN_HEAD_URI,
};

void http_req_limits(struct lws_token_limits *tl)
{
	for (unsigned i = 0; i < WSI_TOKEN_COUNT; i++)
		tl->token_limit[i] = HTTP_MAX_FIELD;
	/* a method's cap also caps each query argument (lws carries it over) */
	for (unsigned i = 0; i < sizeof(uri_tokens) / sizeof(uri_tokens[0]); i++)
		tl->token_limit[uri_tokens[i]] = HTTP_MAX_URI;
	tl->token_limit[WSI_TOKEN_HTTP] = HTTP_MAX_VERSION;
}

static int refuse(struct http_req_head *h, unsigned status, const char *code,
		  const char *message)
{
	h->status = status;
	h->code = code;
	h->message = message;
	return (int)status;
}

/* "HTTP/1.1" -> 11; -1 for what is not "HTTP/" DIGIT "." DIGIT. */
static int version_of(struct lws *wsi)
{
	char v[HTTP_MAX_VERSION + 1];
	struct cursor c;
	const uint8_t *p;
	uint8_t major, dot, minor;

	if (lws_hdr_copy(wsi, v, sizeof(v), WSI_TOKEN_HTTP) <= 0)
		return -1;
	cur_init_ro(&c, v, strlen(v));
	p = cur_take(&c, 5);
	major = cur_u8(&c);
	dot = cur_u8(&c);
	minor = cur_u8(&c);
	if (c.err || cur_remaining(&c) || memcmp(p, "HTTP/", 5) || dot != '.' ||
	    major < '0' || major > '9' || minor < '0' || minor > '9')
		return -1;
	return (major - '0') * 10 + (minor - '0');
}

/* Whether the (non-URI) field tok reached its cap (lws truncated it); adds
 * its length to *total. */
static bool field_at_cap(struct lws *wsi, enum lws_token_indexes tok, unsigned *total)
{
	int len = lws_hdr_total_length(wsi, tok);

	*total += len > 0 ? (unsigned)len : 0;
	if (len < HTTP_MAX_FIELD)
		return false;
	/* each repeated line is a fragment, and an empty one ends no list */
	for (int f = 0; f < WSI_TOKEN_COUNT; f++)
		if (lws_hdr_fragment_length(wsi, tok, f) >= HTTP_MAX_FIELD)
			return true;
	return false;
}

static bool is_uri_token(unsigned t)
{
	for (unsigned i = 0; i < sizeof(uri_tokens) / sizeof(uri_tokens[0]); i++)
		if (t == uri_tokens[i])
			return true;
	return t == WSI_TOKEN_HTTP_URI_ARGS || t == WSI_TOKEN_HTTP;
}

/* The path and the query arguments, decoded: at their cap, too many, too
 * long together, or with a control character (lws itself refuses only NUL,
 * see docs/security.md). */
static int uri_check(struct lws *wsi, enum lws_token_indexes uri_tok,
		     struct http_req_head *h)
{
	char frag[HTTP_MAX_URI + 1];
	unsigned total = 0;
	int n;

	for (int f = -1;; f++) {
		enum lws_token_indexes tok = f < 0 ? uri_tok : WSI_TOKEN_HTTP_URI_ARGS;

		n = lws_hdr_copy_fragment(wsi, frag, (int)sizeof(frag), tok, f < 0 ? 0 : f);
		if (n == -1) { /* no such fragment */
			if (f < 0)
				continue;
			break;
		}
		if (f >= HTTP_MAX_ARGS)
			return refuse(h, 414, "uri_too_long", "too many query arguments");
		if (n < 0 || n >= HTTP_MAX_URI || (total += (unsigned)n) >= HTTP_MAX_URI)
			return refuse(h, 414, "uri_too_long", "URI too long");
		for (int k = 0; k < n; k++)
			if ((unsigned char)frag[k] < 0x20 || frag[k] == 0x7f)
				return refuse(h, 400, "bad_request",
					      "control character in the URI");
	}
	return 0;
}

static int length_check(struct lws *wsi, struct http_req_head *h)
{
	char cl[HTTP_MAX_LENGTH_DIGITS + 1];
	unsigned long long len = 0;
	int n;

	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0)
		return refuse(h, 411, "length_required", "Content-Length required");
	n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
	if (n <= 0)
		return 0;
	/* only digits: not "+15", "-1", "\t1", "1,1" (two headers join with ',') */
	if (n > HTTP_MAX_LENGTH_DIGITS ||
	    lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) != n)
		return refuse(h, 400, "bad_request", "bad Content-Length");
	for (int i = 0; i < n; i++) {
		if (cl[i] < '0' || cl[i] > '9')
			return refuse(h, 400, "bad_request", "bad Content-Length");
		len = len * 10 + (unsigned)(cl[i] - '0');
	}
	h->content_length = len;
	return 0;
}

int http_req_check(struct lws *wsi, struct http_req_head *h)
{
	enum lws_token_indexes uri_tok = WSI_TOKEN_GET_URI;
	unsigned total = 0;
	char *uri;
	int len, meth, version, r;

	*h = (struct http_req_head){ 0 };
	meth = lws_http_get_uri_and_method(wsi, &uri, &len);
	if (meth >= 0 && meth < (int)(sizeof(uri_tokens) / sizeof(uri_tokens[0])))
		uri_tok = uri_tokens[meth]; /* LWSHUMETH_* are in uri_tokens' order */
	/* the URI first: at its cap lws skipped the rest of the line, version too */
	r = uri_check(wsi, uri_tok, h);
	if (r)
		return r;
	version = version_of(wsi);
	if (version < 0)
		return refuse(h, 400, "bad_request", "bad request line");
	if (version / 10 != 1 || version % 10 > 1)
		return refuse(h, 505, "version_not_supported", "HTTP/1.1 only");
	switch (meth) {
	case LWSHUMETH_GET: h->method = HTTP_GET; break;
	case LWSHUMETH_HEAD: h->method = HTTP_GET; h->head = true; break;
	case LWSHUMETH_POST: h->method = HTTP_POST; break;
	case LWSHUMETH_PUT: h->method = HTTP_PUT; break;
	case LWSHUMETH_PATCH: h->method = HTTP_PATCH; break;
	case LWSHUMETH_DELETE: h->method = HTTP_DELETE; break;
	default: return refuse(h, 501, "not_implemented", "method not implemented");
	}
	for (unsigned t = 0; t < WSI_TOKEN_COUNT; t++)
		if (!is_uri_token(t) && field_at_cap(wsi, (enum lws_token_indexes)t, &total))
			return refuse(h, 431, "header_too_large", "header field too large");
	/* headers lws has no name for are not listed by 4.1.6: only its head
	 * buffer (HTTP_AH_SIZE) bounds them */
	if (total >= HTTP_MAX_HEAD)
		return refuse(h, 431, "header_too_large", "request head too large");
	if (version == 11 && lws_hdr_fragment_length(wsi, WSI_TOKEN_HOST, 0) <= 0)
		return refuse(h, 400, "bad_request", "Host required");
	if (lws_hdr_fragment_length(wsi, WSI_TOKEN_HOST, 1) > 0)
		return refuse(h, 400, "bad_request", "more than one Host");
	return length_check(wsi, h);
}

/* lws 4.1.6 hands CONNECT, and with LWS_SERVER_OPTION_FALLBACK_TO_APPLY_
 * LISTEN_ACCEPT_CONFIG a method it has no name for (TRACE, ...), to the protocol
 * as a raw connection: answered 501 here, whole, then closed. */
int http_req_raw(struct lws *wsi, enum lws_callback_reasons reason)
{
	static const char body[] = "{\"error\":{\"code\":\"not_implemented\","
				   "\"message\":\"method not implemented\"}}";
	unsigned char out[LWS_PRE + 512];
	int n;

	switch (reason) {
	case LWS_CALLBACK_RAW_ADOPT:
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_RAW_WRITEABLE:
		n = snprintf((char *)out + LWS_PRE, sizeof(out) - LWS_PRE,
			     "HTTP/1.1 501 Not Implemented\r\n"
			     "server: sluice-portal\r\n"
			     "content-type: application/json\r\n"
			     "content-length: %zu\r\n"
			     "cache-control: no-store\r\n"
			     "x-content-type-options: nosniff\r\n"
			     "connection: close\r\n\r\n%s",
			     sizeof(body) - 1, body);
		if (n > 0 && (size_t)n < sizeof(out) - LWS_PRE)
			lws_write(wsi, out + LWS_PRE, (size_t)n, LWS_WRITE_RAW);
		return -1;
	default: /* what the peer sends meanwhile is dropped */
		return 0;
	}
}

/* ---- request information ------------------------------------------------ */

static int hdr_dup(struct lws *wsi, enum lws_token_indexes h, int frag, struct buf *b,
		   size_t *off)
{
	int len = frag < 0 ? lws_hdr_total_length(wsi, h) :
			     lws_hdr_fragment_length(wsi, h, frag);
	int r;

	if (len < 0)
		return -EINVAL;
	r = buf_reserve(b, (size_t)len + 1);
	if (r < 0)
		return r;
	*off = b->len;
	len = frag < 0 ? lws_hdr_copy(wsi, (char *)b->data + b->len, len + 1, h) :
			 lws_hdr_copy_fragment(wsi, (char *)b->data + b->len, len + 1, h, frag);
	if (len < 0)
		return -EINVAL;
	b->len += (size_t)len + 1;
	return 0;
}

int http_reqinfo_new(struct lws *wsi, const char *path, struct http_reqinfo **out)
{
	size_t path_off, auth_off = 0, arg_off[HTTP_MAX_ARGS];
	bool has_auth = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION) > 0;
	struct http_reqinfo *ri;
	unsigned n = 0;
	struct buf b;
	int r;

	buf_init(&b, HTTP_MAX_REQINFO);
	path_off = 0;
	r = buf_append(&b, path, strlen(path) + 1);
	if (r == 0 && has_auth)
		r = hdr_dup(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, -1, &b, &auth_off);
	while (r == 0 && lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, (int)n) > 0) {
		if (n == HTTP_MAX_ARGS) {
			r = -E2BIG;
			break;
		}
		r = hdr_dup(wsi, WSI_TOKEN_HTTP_URI_ARGS, (int)n, &b, &arg_off[n]);
		n++;
	}
	if (r < 0)
		goto out;
	ri = calloc(1, sizeof(*ri) + b.len);
	if (!ri) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(ri->data, b.data, b.len);
	ri->req.path = ri->data + path_off;
	ri->req.authorization = has_auth ? ri->data + auth_off : NULL;
	ri->args.n = n;
	for (unsigned i = 0; i < n; i++)
		ri->args.v[i] = ri->data + arg_off[i];
	ri->req.args = &ri->args;
	ri->req.body = "";
	if (!lws_get_peer_simple(wsi, ri->peer, sizeof(ri->peer)))
		ri->peer[0] = '\0';
	/* a dual-stack listener sees IPv4 peers as mapped addresses */
	if (strncmp(ri->peer, "::ffff:", 7) == 0 && strchr(ri->peer, '.'))
		memmove(ri->peer, ri->peer + 7, strlen(ri->peer + 7) + 1);
	ri->req.peer = ri->peer;
	*out = ri;
out:
	buf_free(&b);
	return r;
}

const char *http_request_arg(const struct http_request *req, const char *name)
{
	size_t n = strlen(name);

	if (!req->args)
		return NULL;
	for (unsigned i = 0; i < req->args->n; i++) {
		const char *v = req->args->v[i];

		if (strncmp(v, name, n) == 0 && (v[n] == '=' || v[n] == '\0'))
			return v[n] ? v + n + 1 : v + n;
	}
	return NULL;
}

const char *http_request_arg_at(const struct http_request *req, unsigned i)
{
	return req->args && i < req->args->n ? req->args->v[i] : NULL;
}
