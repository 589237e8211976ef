/* Client side of the control plane over libwebsockets. See session.h. */
#include "ctl/session.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "ctl/tlscheck.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/rand.h"
#include "lib/time.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <libwebsockets.h>
#pragma GCC diagnostic pop

enum {
	OUTQ_MAX = 1024,              /* frames queued while the socket is busy */
	BACKOFF_MIN_MS = 500,
	BACKOFF_MAX_MS = 30000,
	HDR_MAX = 512,
	CLOSE_REVOKED = 4001,         /* docs/protocol.md: credentials revoked */
	PING_S = 15,                  /* docs/protocol.md: ping after 15 s of silence, */
	IDLE_S = 45,                  /* the portal is gone after 45 s */
	HEARTBEAT_MS = 500,           /* how often the loop checks for silence */
	CONNECTING_MS = 20,           /* how often it passes while a session connects */
};

struct frame {
	struct frame *next;
	size_t len;
	unsigned char data[];         /* LWS_PRE bytes of headroom, then the text */
};

struct ctl_session {
	struct ctl_loop *loop;
	struct ctl_session *next;     /* loop's list */
	struct ctl_session_config cfg;
	char *host, *path, *token, *pubkey, *endpoint, *name;
	struct lws *wsi;
	struct tlscheck tls;          /* the portal's name, checked per connection */
	bool connected, closing;
	bool ping_due, pinged;        /* a ping to write; one is out, unanswered */
	bool silent;                  /* hung up for silence */
	uint64_t heard_ns;            /* time_mono_ns() of the portal's last frame */
	uint64_t ping_ns, idle_ns;
	uint16_t close_code;          /* of the portal's close frame, 0: none */
	char close_reason[64];
	unsigned attempts;
	lws_sorted_usec_list_t retry;
	uint64_t retry_ns;            /* time_mono_ns() the retry is due, 0: none */
	int fd;                       /* the socket in loop->ep, or -1 */
	uint32_t fd_events;
	bool fd_connected;            /* s->connected when it was watched */
	struct frame *out_head, *out_tail;
	unsigned out_n;
	struct buf rx;
	struct log_ratelimit rl;
};

struct ctl_loop {
	struct lws_context *ctx;
	/* The sessions' sockets (ctl_loop_fd), kept by watch_session(). */
	int ep;
	/* Every turn of an lws 4.1 loop polls all of its connections: a loop with
	 * thousands of sessions (the load tool) wakes only when it must. */
	lws_sorted_usec_list_t heartbeat;
	uint64_t heartbeat_ns;        /* time_mono_ns() the heartbeat is due */
	bool kick;                    /* lws has work due now (a kill we asked for) */
	bool dispatching;
	struct ctl_session *sessions;
};

static void schedule_retry(struct ctl_session *s);
static void watch_session(struct ctl_session *s);

static void outq_clear(struct ctl_session *s)
{
	while (s->out_head) {
		struct frame *f = s->out_head;

		s->out_head = f->next;
		free(f);
	}
	s->out_tail = NULL;
	s->out_n = 0;
}

static int add_header(struct lws *wsi, const char *name, const char *value,
		      unsigned char **p, unsigned char *end)
{
	if (!value)
		return 0;
	return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
					   (const unsigned char *)value, (int)strlen(value), p,
					   end);
}

static void deliver(struct ctl_session *s)
{
	struct ctl_msg m;
	char err[256];
	int r;

	r = ctl_msg_decode((const char *)s->rx.data, s->rx.len, s->cfg.role, &m, err, sizeof(err));
	buf_reset(&s->rx);
	if (r < 0) {
		log_rl(&s->rl, LOG_LVL_WARN, "ctl: a frame from the portal was refused: %s", err);
		if (s->cfg.on_event)
			s->cfg.on_event(s->cfg.arg, s, CTL_EV_BAD_FRAME, err);
		return;
	}
	if (s->cfg.on_message)
		s->cfg.on_message(s->cfg.arg, s, &m);
	ctl_msg_free(&m);
}

static void lost(struct ctl_session *s, const char *why)
{
	char text[160];

	s->connected = false;
	s->wsi = NULL;
	buf_reset(&s->rx);
	outq_clear(s);
	if (s->closing)
		return;
	if (s->close_code) {
		snprintf(text, sizeof(text), "closed by the portal: %u %s", s->close_code,
			 s->close_reason);
		why = text;
	} else if (s->silent) {
		snprintf(text, sizeof(text), "nothing from the portal for %llu s",
			 (unsigned long long)(s->idle_ns / NSEC_PER_SEC));
		why = text;
	}
	s->silent = false;
	if (s->cfg.on_event)
		s->cfg.on_event(s->cfg.arg, s, CTL_EV_DISCONNECTED, why);
}

/* After an event callback: the owner may not free s from there (session.h), so
 * s is still valid; retry unless told not to. */
static void after_loss(struct ctl_session *s)
{
	if (s->closing || s->cfg.no_reconnect || s->close_code == CLOSE_REVOKED)
		return;
	schedule_retry(s);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct ctl_session *s = lws_get_opaque_user_data(wsi);
	char auth[HDR_MAX];

	(void)user;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
		unsigned char **p = in, *end = *p + len;

		if (!s)
			return -1;
		snprintf(auth, sizeof(auth), "Bearer %s", s->token ? s->token : "");
		if (add_header(wsi, "authorization:", auth, p, end) ||
		    add_header(wsi, "x-sluice-public-key:", s->pubkey, p, end) ||
		    add_header(wsi, "x-sluice-endpoint:", s->endpoint, p, end) ||
		    add_header(wsi, "x-sluice-name:", s->name, p, end))
			return -1;
		break;
	}
	case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
		return s ? tlscheck_verify(&s->tls, user, (int)len) : 1;
	case LWS_CALLBACK_CLIENT_ESTABLISHED: {
		SSL *ssl = lws_get_ssl(wsi);

		if (!s)
			return -1;
		/* A resumed TLS session was checked when it was made (same context). */
		if (!s->tls.checked && !(ssl && SSL_session_reused(ssl))) {
			snprintf(s->tls.err, sizeof(s->tls.err),
				 "the certificate's names were not checked");
			return -1;
		}
		s->connected = true;
		s->heard_ns = time_mono_ns();
		s->ping_due = s->pinged = s->silent = false;
		s->close_code = 0;
		s->close_reason[0] = '\0';
		s->attempts = 0;
		if (s->cfg.on_event)
			s->cfg.on_event(s->cfg.arg, s, CTL_EV_CONNECTED, NULL);
		if (s->out_head)
			lws_callback_on_writable(wsi);
		break;
	}
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (!s)
			return -1;
		s->heard_ns = time_mono_ns();
		s->pinged = false;
		if (buf_append(&s->rx, in, len) < 0) {
			log_rl(&s->rl, LOG_LVL_WARN, "ctl: a frame over %d bytes: closing",
			       CTL_FRAME_MAX);
			return -1;
		}
		if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi))
			deliver(s);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
		if (s) {
			s->heard_ns = time_mono_ns();
			s->pinged = false;
		}
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE: {
		struct frame *f = s ? s->out_head : NULL;

		if (s && s->ping_due) {
			/* with a payload: lws 4.1 hides empty pongs from the callback */
			unsigned char ping[LWS_PRE + 2] = { [LWS_PRE] = 'h', [LWS_PRE + 1] = 'b' };

			s->ping_due = false;
			if (lws_write(wsi, ping + LWS_PRE, 2, LWS_WRITE_PING) < 0)
				return -1;
			if (f)
				lws_callback_on_writable(wsi);
			break;
		}
		if (!f)
			break;
		s->out_head = f->next;
		if (!s->out_head)
			s->out_tail = NULL;
		s->out_n--;
		if (lws_write(wsi, f->data + LWS_PRE, f->len, LWS_WRITE_TEXT) < (int)f->len) {
			free(f);
			return -1;
		}
		free(f);
		if (s->out_head)
			lws_callback_on_writable(wsi);
		break;
	}
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (s) {
			unsigned status = lws_http_client_http_response(wsi);
			char why[160];

			/* a refused upgrade: say with which status */
			snprintf(why, sizeof(why), "%s%s%u", in ? (const char *)in :
				 "connection failed", status ? ": HTTP " : "", status);
			if (!status)
				snprintf(why, sizeof(why), "%s", in ? (const char *)in :
					 "connection failed");
			if (s->tls.err[0])
				snprintf(why, sizeof(why), "TLS: %.150s", s->tls.err);
			s->close_code = 0;
			lost(s, why);
			after_loss(s);
		}
		break;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (s && len >= 2) {
			const unsigned char *p = in;
			size_t n = len - 2 < sizeof(s->close_reason) - 1 ?
				   len - 2 : sizeof(s->close_reason) - 1;

			s->close_code = (uint16_t)(p[0] << 8 | p[1]);
			memcpy(s->close_reason, p + 2, n);
			s->close_reason[n] = '\0';
			for (size_t i = 0; i < n; i++) /* it goes into logs */
				if (s->close_reason[i] < 0x20 || s->close_reason[i] > 0x7e)
					s->close_reason[i] = '?';
		}
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (s) {
			lost(s, "closed");
			after_loss(s);
		}
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		if (s && s->wsi == wsi)
			s->wsi = NULL;
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "sluice-ctl", callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

/* All zeros: no lws validity timer per connection. lws 4.1 keeps every timer
 * of a loop in one sorted list, so with thousands of sessions on a loop (the
 * load tool) each ping and pong was an O(sessions) insert; heartbeat() below
 * does the same work from one timer of the loop. */
static const lws_retry_bo_t no_validity;

static void connect_now(struct ctl_session *s)
{
	struct lws_client_connect_info ci = { 0 };

	ci.context = s->loop->ctx;
	ci.address = s->host;
	ci.port = s->cfg.port;
	ci.path = s->path;
	ci.host = s->host;
	ci.origin = s->host;
	ci.ssl_connection = LCCSCF_USE_SSL;
	tlscheck_init(&s->tls, s->host); /* fits: checked in ctl_session_open() */
	/* no Sec-WebSocket-Protocol: docs/protocol.md names none, and the portal
	 * refuses an upgrade asking for one it does not serve */
	ci.local_protocol_name = protocols[0].name;
	ci.retry_and_idle_policy = &no_validity;
	ci.opaque_user_data = s;
	ci.pwsi = &s->wsi;
	if (!lws_client_connect_via_info(&ci)) {
		s->wsi = NULL;
		if (!s->cfg.no_reconnect)
			schedule_retry(s);
		return;
	}
	watch_session(s);
}

static void retry_cb(lws_sorted_usec_list_t *sul)
{
	struct ctl_session *s = lws_container_of(sul, struct ctl_session, retry);

	s->retry_ns = 0;
	if (!s->closing && !s->wsi)
		connect_now(s);
}

static void schedule_retry(struct ctl_session *s)
{
	uint64_t ms = BACKOFF_MIN_MS;

	for (unsigned i = 0; i < s->attempts && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	/* Jitter up to half the delay, so a portal restart is not met by every
	 * client at the same instant. */
	ms += rand_uniform((uint32_t)ms / 2 + 1);
	s->attempts++;
	lws_sul_schedule(s->loop->ctx, 0, &s->retry, retry_cb, (lws_usec_t)ms * 1000);
	s->retry_ns = time_mono_ns() + ms * NSEC_PER_MSEC;
}

/* Pings each session the portal has been silent on for ping_ns (no frame, no
 * pong), hangs up on one silent for idle_ns; a reconnect follows as after any
 * loss. */
static void heartbeat(struct ctl_loop *l, uint64_t now)
{
	for (struct ctl_session *s = l->sessions; s; s = s->next) {
		uint64_t silent = now - s->heard_ns;

		if (!s->connected || !s->wsi || s->silent)
			continue;
		if (silent >= s->idle_ns) {
			log_rl(&s->rl, LOG_LVL_WARN, "ctl: nothing from the portal for %llu s: "
			       "hanging up", (unsigned long long)(silent / NSEC_PER_SEC));
			s->silent = true;
			lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
			l->kick = true;
		} else if (silent >= s->ping_ns && !s->pinged) {
			s->pinged = s->ping_due = true;
			lws_callback_on_writable(s->wsi);
		}
	}
}

static void heartbeat_cb(lws_sorted_usec_list_t *sul);

static void schedule_heartbeat(struct ctl_loop *l)
{
	/* due times taken after lws takes its own: never before lws's */
	lws_sul_schedule(l->ctx, 0, &l->heartbeat, heartbeat_cb,
			 (lws_usec_t)HEARTBEAT_MS * LWS_US_PER_MS);
	l->heartbeat_ns = time_mono_ns() + HEARTBEAT_MS * NSEC_PER_MSEC;
}

static void heartbeat_cb(lws_sorted_usec_list_t *sul)
{
	struct ctl_loop *l = lws_container_of(sul, struct ctl_loop, heartbeat);

	schedule_heartbeat(l);
	heartbeat(l, time_mono_ns());
}

int ctl_loop_new(const char *ca_file, struct ctl_loop **out)
{
	struct lws_context_creation_info info = { 0 };
	struct ctl_loop *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0) {
		free(l);
		return -errno;
	}
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	/* A CA given is the only one trusted (lws would add the system's). */
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
		       (ca_file ? LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS : 0);
	info.client_ssl_ca_filepath = ca_file;
	/* no fd_limit_per_thread: below the process's limit, lws 4.1 finds the
	 * connection of each ready fd by a linear search (O(sessions) per event);
	 * sized from RLIMIT_NOFILE, it is an index */
	lws_set_log_level(LLL_ERR, NULL);
	l->ctx = lws_create_context(&info);
	if (!l->ctx) {
		close(l->ep);
		free(l);
		return -EIO;
	}
	schedule_heartbeat(l);
	*out = l;
	return 0;
}

void ctl_loop_free(struct ctl_loop *l)
{
	if (!l)
		return;
	while (l->sessions)
		ctl_session_close(l->sessions);
	lws_sul_cancel(&l->heartbeat);
	lws_context_destroy(l->ctx);
	close(l->ep);
	free(l);
}

/* lws 4.1 as Debian builds it has no external-poll callbacks
 * (LWS_WITH_EXTERNAL_POLL is off): the loop watches its sessions' sockets
 * itself, for reading always, for writing while frames or a ping wait or lws
 * holds part of a write. What lws alone waits for (the steps of a connect, a
 * pong or a close to write) is met by the pass ctl_loop_timeout_ms() asks for
 * within CONNECTING_MS while a session connects, HEARTBEAT_MS otherwise. A
 * socket closed leaves the epoll set by itself. While connecting, lws may swap
 * sockets under one wsi (the next address of a name), perhaps with the same
 * number: the watch is renewed once connected. */
static void watch_session(struct ctl_session *s)
{
	int fd = s->wsi && !s->closing ? lws_get_socket_fd(s->wsi) : -1;
	uint32_t events = EPOLLIN;
	struct epoll_event ev;

	if (fd < 0) {
		s->fd = -1;
		return;
	}
	if (s->connected && (s->out_head || s->ping_due || lws_partial_buffered(s->wsi)))
		events |= EPOLLOUT;
	if (fd == s->fd && events == s->fd_events && s->connected == s->fd_connected)
		return;
	ev = (struct epoll_event){ .events = events, .data.fd = fd };
	if (epoll_ctl(s->loop->ep, EPOLL_CTL_MOD, fd, &ev) < 0 &&
	    (errno != ENOENT || epoll_ctl(s->loop->ep, EPOLL_CTL_ADD, fd, &ev) < 0)) {
		log_rl(&s->rl, LOG_LVL_WARN, "ctl: watching a socket: %s", strerror(errno));
		return; /* the next pass tries again: s->fd unchanged */
	}
	s->fd = fd;
	s->fd_events = events;
	s->fd_connected = s->connected;
}

int ctl_loop_fd(const struct ctl_loop *l)
{
	return l->ep;
}

int ctl_loop_dispatch(struct ctl_loop *l)
{
	int r;

	if (l->dispatching)
		return -EBUSY;
	l->dispatching = true;
	l->kick = false;
	/* Timeout -1: lws 4.1 runs its due timers, polls its sockets without
	 * waiting, and services the ready ones and those with TLS data already
	 * read (lws-service.h: "a timeout of -1 to only service" what is due). */
	r = lws_service(l->ctx, -1);
	for (struct ctl_session *s = l->sessions; s; s = s->next)
		watch_session(s);
	l->dispatching = false;
	return r < 0 ? -EIO : 0;
}

int ctl_loop_timeout_ms(const struct ctl_loop *l)
{
	uint64_t now = time_mono_ns(), due = l->heartbeat_ns;

	/* 0 from lws_service_adjust_timeout(): data already read into TLS, or
	 * rx held back, waits for service with no socket to say so. */
	if (l->kick || lws_service_adjust_timeout(l->ctx, 1, 0) == 0)
		return 0;
	for (const struct ctl_session *s = l->sessions; s; s = s->next) {
		if (s->retry_ns && s->retry_ns < due)
			due = s->retry_ns;
		if (s->wsi && !s->connected && now + CONNECTING_MS * NSEC_PER_MSEC < due)
			due = now + CONNECTING_MS * NSEC_PER_MSEC;
	}
	if (due <= now)
		return 0;
	/* The heartbeat is always due within HEARTBEAT_MS: lws 4.1 does not
	 * say when its own timers (connection and close timeouts, seconds
	 * long) are due, nor what it waits for on its own (watch_session()),
	 * so those are met at that granularity. */
	return (int)((due - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
}

int ctl_loop_run(struct ctl_loop *l, int timeout_ms)
{
	uint64_t end = time_mono_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * NSEC_PER_MSEC;
	struct pollfd pfd = { .fd = l->ep, .events = POLLIN };

	for (;;) {
		uint64_t now = time_mono_ns();
		int wait = ctl_loop_timeout_ms(l), r;
		uint64_t left = now < end ? (end - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC : 0;

		if ((uint64_t)wait > left)
			wait = (int)left;
		if (poll(&pfd, 1, wait) < 0 && errno != EINTR)
			return -errno;
		r = ctl_loop_dispatch(l);
		if (r < 0)
			return r;
		if (time_mono_ns() >= end)
			return 0;
	}
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int ctl_session_open(struct ctl_loop *l, const struct ctl_session_config *cfg,
		     struct ctl_session **out)
{
	unsigned ping_s = cfg->ping_s ? cfg->ping_s : PING_S;
	unsigned idle_s = cfg->idle_s ? cfg->idle_s : IDLE_S;
	struct ctl_session *s;

	if (!cfg->host || !cfg->path || !cfg->port || idle_s <= ping_s ||
	    strlen(cfg->host) >= sizeof(s->tls.host))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->loop = l;
	s->fd = -1;
	s->cfg = *cfg;
	s->host = strdup(cfg->host);
	s->path = strdup(cfg->path);
	s->token = dup_or_null(cfg->token);
	s->pubkey = dup_or_null(cfg->public_key);
	s->endpoint = dup_or_null(cfg->endpoint);
	s->name = dup_or_null(cfg->name);
	s->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	s->ping_ns = (uint64_t)ping_s * NSEC_PER_SEC;
	s->idle_ns = (uint64_t)idle_s * NSEC_PER_SEC;
	buf_init(&s->rx, CTL_FRAME_MAX);
	if (!s->host || !s->path || (cfg->token && !s->token) ||
	    (cfg->public_key && !s->pubkey) || (cfg->endpoint && !s->endpoint) ||
	    (cfg->name && !s->name)) {
		s->closing = true;
		ctl_session_close(s);
		return -ENOMEM;
	}
	s->next = l->sessions;
	l->sessions = s;
	connect_now(s);
	*out = s;
	return 0;
}

int ctl_session_send_raw(struct ctl_session *s, const char *frame, size_t len)
{
	struct frame *f;

	if (!s->connected || !s->wsi)
		return -ENOTCONN;
	if (s->out_n >= OUTQ_MAX)
		return -ENOBUFS;
	f = malloc(sizeof(*f) + LWS_PRE + len);
	if (!f)
		return -ENOMEM;
	f->next = NULL;
	f->len = len;
	memcpy(f->data + LWS_PRE, frame, len);
	if (s->out_tail)
		s->out_tail->next = f;
	else
		s->out_head = f;
	s->out_tail = f;
	s->out_n++;
	lws_callback_on_writable(s->wsi);
	watch_session(s);
	return 0;
}

int ctl_session_send(struct ctl_session *s, const struct ctl_msg *m)
{
	struct buf b;
	int r;

	buf_init(&b, CTL_FRAME_MAX);
	r = ctl_msg_encode(m, &b);
	if (r == 0)
		r = ctl_session_send_raw(s, (const char *)b.data, b.len);
	buf_free(&b);
	return r;
}

bool ctl_session_connected(const struct ctl_session *s)
{
	return s->connected;
}

uint16_t ctl_session_close_code(const struct ctl_session *s)
{
	return s->close_code;
}

void ctl_session_close(struct ctl_session *s)
{
	struct ctl_loop *l = s->loop;

	s->closing = true;
	lws_sul_cancel(&s->retry);
	if (s->wsi) {
		/* lws closes the socket later: until then, not the owner's to wake on */
		if (s->fd >= 0)
			epoll_ctl(l->ep, EPOLL_CTL_DEL, s->fd, NULL);
		/* Detach first: the close runs later, in the loop, and must not find
		 * a freed session. */
		lws_set_opaque_user_data(s->wsi, NULL);
		lws_set_timeout(s->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
		l->kick = true;
	}
	for (struct ctl_session **pp = &l->sessions; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	outq_clear(s);
	buf_free(&s->rx);
	free(s->host);
	free(s->path);
	if (s->token) /* a bearer secret */
		explicit_bzero(s->token, strlen(s->token));
	free(s->token);
	free(s->pubkey);
	free(s->endpoint);
	free(s->name);
	free(s);
}
