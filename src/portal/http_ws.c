/* WebSocket sessions: accepted (or refused with a real HTTP status) before the
 * upgrade is answered, messages reassembled up to a cap, an outgoing queue per
 * session, drained one fragment per writeable callback, and heartbeats.
 *
 * Heartbeats are ours, not lws's validity timers: a frame received only stamps
 * the session (O(1)), and one periodic sweep pings the silent and drops the
 * dead. lws 4.1 keeps every timer of the loop in one sorted list, so a timer
 * per session made every ping and pong cost O(sessions).
 *
 * Reassembly buffers hold only incomplete messages (freed once a message is
 * whole) and are counted server-wide: their allocated bytes stay under
 * max_rx_total. When a message would pass it, the session is closed 1009 if it
 * is over its share (the total over the sessions holding a buffer), else the
 * session holding the most (over its share, necessarily) is. Without this, each
 * session could hold a max_message buffer: 400 sessions, 800 MB (issue 12).
 *
 * The session lives in the wsi's opaque user pointer, not in lws's per-session
 * user space: lws frees and re-zeroes that space whenever it binds the
 * connection to a protocol, which it does during the upgrade, after open(). */
#include "portal/http_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/time.h"

enum {
	FRAGMENT = 32768,     /* bytes per frame: a big message does not hog the loop */
	CLOSE_WAIT_S = 5,     /* for the queue and close frame to go out */
	MAX_REASON = 123,     /* what fits in a close frame */
};

struct txmsg {
	struct txmsg *next;
	size_t len, off;
	unsigned char data[]; /* LWS_PRE + len */
};

struct http_session {
	struct http_server *srv;
	struct lws *wsi;
	struct http_session *prev, *next;
	struct http_reqinfo *ri; /* peer, for http_session_peer() */
	void *user;
	unsigned endpoint;
	bool established, closing, dead;
	bool in_open;            /* the upgrade's headers are readable */
	const char *refuse_code, *refuse_msg; /* http_session_refuse() */
	bool ping_due, pinged;   /* a ping to write; one is out, unanswered */
	bool delivering;         /* inside message(): rx holds the text it reads */
	uint64_t heard_ns;       /* time_mono_ns() of the peer's last frame */
	uint16_t close_code;
	char close_reason[MAX_REASON + 1];
	struct buf rx;
	struct txmsg *txq, *txq_tail;
	size_t txq_bytes;
};

/* Frees the session's reassembly buffer and takes it out of the server's count
 * (not under message(), which may close or kill its own session: the buffer
 * goes when it returns). */
static void rx_release(struct http_session *s)
{
	struct http_server *srv = s->srv;

	if (!s->rx.cap || s->delivering)
		return;
	srv->stats.rx_bytes -= s->rx.cap;
	srv->rx_sessions--;
	buf_free(&s->rx);
}

static void session_free(struct http_session *s)
{
	struct txmsg *m = s->txq;

	while (m) {
		struct txmsg *next = m->next;

		free(m);
		m = next;
	}
	rx_release(s);
	free(s->ri);
	free(s);
}

/* The one exit: whatever ended the connection, closed() once, then free. */
static void session_end(struct lws *wsi)
{
	struct http_session *s = lws_get_opaque_user_data(wsi);
	struct http_server *srv;

	if (!s)
		return;
	lws_set_opaque_user_data(wsi, NULL);
	srv = s->srv;
	if (s->prev)
		s->prev->next = s->next;
	else
		srv->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	srv->stats.sessions_open--;
	if (srv->ws->closed)
		srv->ws->closed(srv->ws_arg, s);
	session_free(s);
}

/* Answers an upgrade that open() refused with r (and maybe named why, with
 * http_session_refuse()); 1 tells lws it is answered. */
static int refuse(struct lws *wsi, int r, const struct http_session *s)
{
	unsigned status = r == -EACCES ? 401 : r == -EPERM ? 403 : 503;
	json_t *body = s->refuse_code ? http_error_json(s->refuse_code, "%s", s->refuse_msg) :
		       http_error_json(status == 401 ? "unauthorized" :
				       status == 403 ? "forbidden" : "internal",
				       "%s", status == 503 ? "try again later" : "not allowed");

	return http_respond_now(wsi, status, body) < 0 ? -1 : 1;
}

int http_ws_confirm(struct lws *wsi, struct http_server *srv)
{
	char path[256];
	struct http_session *s;
	int ep = -1, r;

	if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) < 0)
		path[0] = '\0';
	for (unsigned i = 0; i < srv->n_ws_paths; i++)
		if (strcmp(path, srv->ws_paths[i]) == 0)
			ep = (int)i;
	if (ep < 0)
		return http_respond_now(wsi, 404, http_error_json("not_found",
					"no WebSocket endpoint here")) < 0 ? -1 : 1;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	r = http_reqinfo_new(wsi, path, &s->ri);
	if (r < 0) {
		free(s);
		return r == -ENOMEM ? -1 :
			http_respond_now(wsi, 400, http_error_json("bad_request",
					 "request line too large")) < 0 ? -1 : 1;
	}
	s->srv = srv;
	s->wsi = wsi;
	s->endpoint = (unsigned)ep;
	buf_init(&s->rx, srv->max_message + 1); /* + 1: the NUL for message(); see rx_append() */
	s->heard_ns = time_mono_ns();
	s->in_open = true;
	r = srv->ws->open(srv->ws_arg, s, s->endpoint, &s->ri->req);
	s->in_open = false;
	if (r < 0) {
		r = refuse(wsi, r, s);
		session_free(s);
		return r;
	}
	lws_set_opaque_user_data(wsi, s);
	s->next = srv->sessions;
	if (s->next)
		s->next->prev = s;
	srv->sessions = s;
	srv->stats.sessions_open++;
	srv->stats.sessions_total++;
	return 0;
}

/* Drops the connection at the loop's next turn (the peer is not reading, so a
 * close frame would not get through either). */
static void session_kill(struct http_session *s)
{
	if (s->dead)
		return;
	s->dead = true;
	rx_release(s);
	lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

int http_session_send(struct http_session *s, const char *text, size_t len)
{
	struct http_server *srv = s->srv;
	struct txmsg *m;

	if (s->closing || s->dead)
		return -EPIPE;
	if (len > srv->max_queue)
		return -EMSGSIZE;
	if (s->txq_bytes + len > srv->max_queue) {
		srv->stats.slow_disconnects++;
		log_rl(&srv->rl, LOG_LVL_WARN,
		       "http: %s: session not reading (%zu bytes queued): disconnected",
		       s->ri->peer, s->txq_bytes);
		session_kill(s);
		return -ENOBUFS;
	}
	m = malloc(sizeof(*m) + LWS_PRE + len);
	if (!m)
		return -ENOMEM;
	m->next = NULL;
	m->len = len;
	m->off = 0;
	memcpy(m->data + LWS_PRE, text, len);
	if (s->txq_tail)
		s->txq_tail->next = m;
	else
		s->txq = m;
	s->txq_tail = m;
	s->txq_bytes += len;
	if (s->established)
		lws_callback_on_writable(s->wsi);
	return 0;
}

int http_session_send_json(struct http_session *s, const json_t *msg)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	int r;

	if (!text)
		return -ENOMEM;
	r = http_session_send(s, text, strlen(text));
	free(text);
	return r;
}

void http_session_close(struct http_session *s, uint16_t code, const char *reason)
{
	size_t n = reason ? strlen(reason) : 0;

	if (s->closing || s->dead)
		return;
	s->closing = true;
	rx_release(s); /* what arrives from now on is dropped */
	s->close_code = code;
	if (n > MAX_REASON)
		n = MAX_REASON;
	memcpy(s->close_reason, reason ? reason : "", n);
	s->close_reason[n] = '\0';
	/* a timer of the wsi's own, so lws's handshake timeouts stay as they are */
	lws_set_timer_usecs(s->wsi, (lws_usec_t)CLOSE_WAIT_S * LWS_USEC_PER_SEC);
	if (s->established)
		lws_callback_on_writable(s->wsi);
}

void http_session_set_user(struct http_session *s, void *user)
{
	s->user = user;
}

void *http_session_user(const struct http_session *s)
{
	return s->user;
}

unsigned http_session_endpoint(const struct http_session *s)
{
	return s->endpoint;
}

int http_session_header(const struct http_session *s, const char *name, char *out,
			size_t len)
{
	char key[64];
	size_t n = strlen(name);
	int vlen;

	if (!s->in_open || n + 2 > sizeof(key) || len == 0 || len > INT32_MAX)
		return -EINVAL;
	/* lws keeps unknown headers by their lower-case name with the colon */
	for (size_t i = 0; i < n; i++)
		key[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
	key[n] = ':';
	key[n + 1] = '\0';
	vlen = lws_hdr_custom_length(s->wsi, key, (int)n + 1);
	if (vlen < 0)
		return -ENOENT;
	if ((size_t)vlen >= len)
		return -E2BIG;
	if (lws_hdr_custom_copy(s->wsi, out, (int)len, key, (int)n + 1) < 0)
		return -ENOENT;
	return vlen;
}

void http_session_refuse(struct http_session *s, const char *code, const char *message)
{
	if (!s->in_open)
		return;
	s->refuse_code = code;
	s->refuse_msg = message;
}

const char *http_session_peer(const struct http_session *s)
{
	return s->ri->peer;
}

void http_ws_close_all(struct http_server *srv, uint16_t code, const char *reason)
{
	for (struct http_session *s = srv->sessions; s; s = s->next)
		http_session_close(s, code, reason);
}

void http_ws_heartbeat(struct http_server *srv, uint64_t now_ns)
{
	for (struct http_session *s = srv->sessions; s; s = s->next) {
		uint64_t silent = now_ns - s->heard_ns;

		/* a closing session has its own timer (http_session_close()) */
		if (!s->established || s->closing || s->dead)
			continue;
		if (silent >= srv->idle_ns) {
			srv->stats.idle_disconnects++;
			log_rl(&srv->rl, LOG_LVL_INFO, "http: %s: silent for %llu s: disconnected",
			       s->ri->peer, (unsigned long long)(silent / NSEC_PER_SEC));
			session_kill(s);
		} else if (silent >= srv->ping_ns && !s->pinged) {
			s->pinged = true;
			s->ping_due = true;
			lws_callback_on_writable(s->wsi);
		}
	}
}

/* One fragment of the head message, or the close frame once the queue is out. */
static int session_write(struct http_session *s)
{
	struct txmsg *m = s->txq;
	size_t n;
	int flags;

	if (s->dead)
		return -1;
	/* between messages only: a control frame inside a fragmented one is legal,
	 * but not something to rely on in every peer */
	if (s->ping_due && !s->closing && (!m || m->off == 0)) {
		/* with a payload: lws 4.1 hides empty pongs from the callback */
		unsigned char ping[LWS_PRE + 2] = { [LWS_PRE] = 'h', [LWS_PRE + 1] = 'b' };

		s->ping_due = false;
		if (lws_write(s->wsi, ping + LWS_PRE, 2, LWS_WRITE_PING) < 0)
			return -1;
		if (m)
			lws_callback_on_writable(s->wsi);
		return 0;
	}
	if (!m) {
		if (!s->closing)
			return 0;
		lws_close_reason(s->wsi, (enum lws_close_status)s->close_code,
				 (unsigned char *)s->close_reason, strlen(s->close_reason));
		return -1;
	}
	n = m->len - m->off;
	if (n > FRAGMENT)
		n = FRAGMENT;
	flags = lws_write_ws_flags(LWS_WRITE_TEXT, m->off == 0, m->off + n == m->len);
	/* lws writes the frame header into the LWS_PRE bytes before the fragment:
	 * past the first, those are bytes already sent (or copied by lws) */
	if (lws_write(s->wsi, m->data + LWS_PRE + m->off, n, (enum lws_write_protocol)flags) <
	    (int)n)
		return -1;
	m->off += n;
	s->txq_bytes -= n;
	if (m->off == m->len) {
		s->txq = m->next;
		if (!s->txq)
			s->txq_tail = NULL;
		free(m);
	}
	if (s->txq || s->closing)
		lws_callback_on_writable(s->wsi);
	return 0;
}

static int session_fail(struct http_session *s, enum lws_close_status code,
			const char *why)
{
	log_rl(&s->srv->rl, LOG_LVL_WARN, "http: %s: %s: session closed", s->ri->peer, why);
	lws_close_reason(s->wsi, code, (unsigned char *)why, strlen(why));
	s->closing = true;
	return -1;
}

/* The session with the biggest reassembly buffer, other than s. */
static struct http_session *rx_biggest(struct http_server *srv, const struct http_session *s)
{
	struct http_session *big = NULL;

	for (struct http_session *o = srv->sessions; o; o = o->next)
		if (o != s && o->rx.cap && (!big || o->rx.cap > big->rx.cap))
			big = o;
	return big;
}

/* Appends len bytes (and room for the NUL) to s's message within max_message
 * and the server's total: 0; -EMSGSIZE over max_message, -ENOSPC over its share,
 * -ENOMEM. Others over their share may be closed to make room. */
static int rx_append(struct http_session *s, const void *in, size_t len)
{
	struct http_server *srv = s->srv;
	size_t old = s->rx.cap, need = s->rx.len + len + 1;
	struct http_session *big;
	int r;

	if (need - 1 > srv->max_message)
		return -EMSGSIZE;
	/* the sum of the others is over total - need: the biggest is over its share */
	while (need > old && srv->stats.rx_bytes - old + need > srv->max_rx_total) {
		if (need > srv->max_rx_total / (srv->rx_sessions + !old))
			return -ENOSPC;
		big = rx_biggest(srv, s);
		if (!big)
			return -ENOSPC;
		srv->stats.rx_over_share++;
		log_rl(&srv->rl, LOG_LVL_WARN, "http: %s: %zu bytes of an incomplete message "
		       "while the buffers are full: session closed", big->ri->peer, big->rx.len);
		rx_release(big);
		http_session_close(big, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
				   "message buffers full: over this session's share");
	}
	/* the buffer doubles, but never past what the total leaves it */
	s->rx.max = srv->max_message + 1;
	if (s->rx.max > old + srv->max_rx_total - srv->stats.rx_bytes)
		s->rx.max = old + srv->max_rx_total - srv->stats.rx_bytes;
	r = buf_reserve(&s->rx, len + 1);
	if (r < 0)
		return r;
	if (s->rx.cap != old) {
		srv->rx_sessions += !old;
		srv->stats.rx_bytes += s->rx.cap - old;
	}
	return buf_append(&s->rx, in, len);
}

static int session_receive(struct http_session *s, const void *in, size_t len)
{
	struct http_server *srv = s->srv;
	int r;

	s->heard_ns = time_mono_ns();
	s->pinged = false;
	if (s->closing || s->dead)
		return 0; /* what arrives after our goodbye is dropped */
	if (lws_frame_is_binary(s->wsi))
		return session_fail(s, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
				    "binary frames are not accepted");
	r = rx_append(s, in, len);
	if (r == -ENOMEM)
		return -1;
	if (r < 0) {
		rx_release(s);
		if (r == -ENOSPC) {
			srv->stats.rx_over_share++;
			return session_fail(s, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
					    "message buffers full: over this session's share");
		}
		srv->stats.rejected_too_large++;
		return session_fail(s, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too big");
	}
	if (!lws_is_final_fragment(s->wsi) || lws_remaining_packet_payload(s->wsi))
		return 0;
	s->rx.data[s->rx.len] = '\0';
	s->delivering = true;
	srv->ws->message(srv->ws_arg, s, (const char *)s->rx.data, s->rx.len);
	s->delivering = false;
	rx_release(s); /* what stays between messages is what a peer cannot inflate */
	return 0;
}

int http_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *in,
		     size_t len)
{
	struct http_session *s = lws_get_opaque_user_data(wsi);

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		if (!s)
			return -1; /* an upgrade that did not pass http_ws_confirm() */
		s->established = true;
		if (s->txq || s->closing)
			lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		return s ? session_receive(s, in, len) : -1;
	case LWS_CALLBACK_RECEIVE_PONG:
		if (s) {
			s->heard_ns = time_mono_ns();
			s->pinged = false;
		}
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return s ? session_write(s) : -1;
	case LWS_CALLBACK_TIMER:
		return s && s->closing ? -1 : 0;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (s) {
			s->closing = true;
			rx_release(s);
		}
		return 0; /* lws echoes the close */
	case LWS_CALLBACK_CLOSED:
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_WSI_DESTROY:
		session_end(wsi);
		return 0;
	default:
		return 0;
	}
}
