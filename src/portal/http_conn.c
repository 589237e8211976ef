/* The connection table: what keeps one peer, or many, from starving the portal
 * before a request is even made (docs/security.md, "Connections").
 *
 * Every accepted connection has an entry, found by its wsi in a hash, counted
 * under its source address in a second hash (both keyed with a random SipHash
 * key, so no peer can choose colliding addresses). A connection in the head or
 * body phase is on the timed list with its deadline; the server's heartbeat
 * sweeps that list. lws 4.1 keeps its timers in one sorted list (an O(n)
 * insert), so no lws timer is armed per connection: only a connection being
 * killed gets one (LWS_TO_KILL_ASYNC). */
#include "portal/http_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <sodium.h>

#include "lib/rand.h"
#include "lib/time.h"

enum { BUCKETS_MIN = 64 };

/* The chain link both tables' entries start with, so one table code serves
 * both (an entry is found again from its link by a cast: it is the first
 * member). */
struct hnode {
	struct hnode *next;
};

struct htab {
	struct hnode **b;
	size_t nb, n; /* buckets (a power of two), entries */
};

struct src {
	struct hnode h; /* first */
	uint32_t n; /* connections from here not yet authenticated */
	uint8_t addr[16]; /* IPv4 as ::ffff:a.b.c.d; IPv6: its /64 */
};

enum conn_state { C_HEAD, C_BODY, C_ANSWER, C_WS };

struct conn {
	struct hnode h;             /* first: the wsi hash's chain */
	struct lws *wsi;
	struct conn *tprev, *tnext; /* the timed list, while deadline_ns */
	struct src *src;            /* NULL once authenticated */
	uint64_t deadline_ns;       /* 0: none */
	enum conn_state state;
	bool killed;
};

struct http_conns {
	struct http_limits lim;
	unsigned char key[crypto_shorthash_KEYBYTES];
	struct htab conns; /* struct conn, by wsi */
	struct htab srcs;  /* struct src, by source address */
	struct conn *timed;
	struct lws *listener; /* seen in the filter callback: what a pause stops */
	lws_sorted_usec_list_t resume_sul;
	bool paused;
	struct log_ratelimit rl;
};

/* Set by lws's log hook, which has no user pointer; EMFILE and ENFILE are
 * process-wide conditions anyway. */
static volatile sig_atomic_t accept_failed;

/* ---- hashing ------------------------------------------------------------ */

static size_t hash(const struct http_conns *c, const void *p, size_t len, size_t nb)
{
	uint64_t h;

	crypto_shorthash((unsigned char *)&h, p, len, c->key);
	return (size_t)h & (nb - 1);
}

static size_t conn_slot(const struct http_conns *c, const struct lws *wsi, size_t nb)
{
	return hash(c, &wsi, sizeof(wsi), nb);
}

static size_t src_slot(const struct http_conns *c, const uint8_t addr[16], size_t nb)
{
	return hash(c, addr, 16, nb);
}

/* Where an entry of either table goes among nb buckets. */
static size_t node_slot(const struct http_conns *c, const struct htab *t,
			const struct hnode *e, size_t nb)
{
	return t == &c->conns ? conn_slot(c, ((const struct conn *)e)->wsi, nb) :
				src_slot(c, ((const struct src *)e)->addr, nb);
}

static void htab_link(const struct http_conns *c, struct htab *t, struct hnode *e)
{
	size_t s = node_slot(c, t, e, t->nb);

	e->next = t->b[s];
	t->b[s] = e;
	t->n++;
}

static void htab_unlink(const struct http_conns *c, struct htab *t, struct hnode *e)
{
	struct hnode **pp;

	for (pp = &t->b[node_slot(c, t, e, t->nb)]; *pp != e; pp = &(*pp)->next)
		;
	*pp = e->next;
	t->n--;
}

/* Doubles a table once it holds as many entries as buckets. */
static int htab_grow(const struct http_conns *c, struct htab *t)
{
	size_t nb = t->nb * 2;
	struct hnode **b;

	if (t->n < t->nb)
		return 0;
	b = calloc(nb, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < t->nb; i++)
		for (struct hnode *e = t->b[i], *next; e; e = next) {
			size_t s = node_slot(c, t, e, nb);

			next = e->next;
			e->next = b[s];
			b[s] = e;
		}
	free(t->b);
	t->b = b;
	t->nb = nb;
	return 0;
}

static void htab_free(struct htab *t)
{
	for (size_t i = 0; t->b && i < t->nb; i++)
		for (struct hnode *e = t->b[i], *next; e; e = next) {
			next = e->next;
			free(e);
		}
	free(t->b);
}

static struct conn *conn_find(const struct http_conns *c, const struct lws *wsi)
{
	if (!c)
		return NULL;
	for (struct hnode *e = c->conns.b[conn_slot(c, wsi, c->conns.nb)]; e; e = e->next)
		if (((struct conn *)e)->wsi == wsi)
			return (struct conn *)e;
	return NULL;
}

static struct src *src_find(const struct http_conns *c, const uint8_t addr[16])
{
	for (struct hnode *e = c->srcs.b[src_slot(c, addr, c->srcs.nb)]; e; e = e->next)
		if (memcmp(((struct src *)e)->addr, addr, 16) == 0)
			return (struct src *)e;
	return NULL;
}

static void src_put(struct http_conns *c, struct src *s)
{
	if (--s->n)
		return;
	htab_unlink(c, &c->srcs, &s->h);
	free(s);
}

/* The source of fd as 16 bytes: an IPv4 address (mapped), or an IPv6 /64 (one
 * host commonly has a whole /64 to pick addresses from); -errno. */
static int peer_addr(int fd, uint8_t out[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	if (ss.ss_family == AF_INET6) {
		memcpy(out, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
		if (memcmp(out, mapped, 12) != 0)
			memset(out + 8, 0, 8);
		return 0;
	}
	if (ss.ss_family == AF_INET) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		return 0;
	}
	return -EAFNOSUPPORT;
}

static const char *addr_str(const uint8_t a[16], char *buf, size_t len)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (memcmp(a, mapped, 12) == 0)
		return inet_ntop(AF_INET, a + 12, buf, (socklen_t)len);
	return inet_ntop(AF_INET6, a, buf, (socklen_t)len);
}

/* ---- deadlines ---------------------------------------------------------- */

static void timed_unlink(struct http_conns *c, struct conn *e)
{
	if (!e->deadline_ns)
		return;
	if (e->tprev)
		e->tprev->tnext = e->tnext;
	else
		c->timed = e->tnext;
	if (e->tnext)
		e->tnext->tprev = e->tprev;
	e->tprev = e->tnext = NULL;
	e->deadline_ns = 0;
}

static void set_deadline(struct http_conns *c, struct conn *e, enum conn_state st,
			 uint64_t deadline_ns)
{
	timed_unlink(c, e);
	e->state = st;
	if (!deadline_ns)
		return;
	e->deadline_ns = deadline_ns;
	e->tnext = c->timed;
	if (e->tnext)
		e->tnext->tprev = e;
	c->timed = e;
}

/* ---- the table ---------------------------------------------------------- */

int http_conns_new(const struct http_limits *lim, struct http_conns **out)
{
	struct http_conns *c;
	struct rlimit rl;
	int r = -ENOMEM;

	if (sodium_init() < 0)
		return -EIO;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->lim = *lim;
	if (!c->lim.head_timeout_ms)
		c->lim.head_timeout_ms = HTTP_LIMIT_HEAD_TIMEOUT_MS;
	if (!c->lim.body_min_rate)
		c->lim.body_min_rate = HTTP_LIMIT_BODY_MIN_RATE;
	if (!c->lim.body_grace_ms)
		c->lim.body_grace_ms = HTTP_LIMIT_BODY_GRACE_MS;
	if (!c->lim.max_conns_per_source)
		c->lim.max_conns_per_source = HTTP_LIMIT_MAX_CONNS_PER_SOURCE;
	if (!c->lim.accept_pause_ms)
		c->lim.accept_pause_ms = HTTP_LIMIT_ACCEPT_PAUSE_MS;
	if (!c->lim.max_conns) {
		/* the file limit less what the rest of the process needs: accept()
		 * never reaches EMFILE on connections alone */
		if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
			rl.rlim_cur = 1024;
		if (rl.rlim_cur > 1000000)
			rl.rlim_cur = 1000000;
		c->lim.max_conns = rl.rlim_cur > 2 * HTTP_LIMIT_FD_RESERVE ?
			(unsigned)rl.rlim_cur - HTTP_LIMIT_FD_RESERVE :
			(unsigned)rl.rlim_cur / 2;
	}
	c->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	c->conns.b = calloc(BUCKETS_MIN, sizeof(*c->conns.b));
	c->srcs.b = calloc(BUCKETS_MIN, sizeof(*c->srcs.b));
	if (!c->conns.b || !c->srcs.b)
		goto fail;
	c->conns.nb = c->srcs.nb = BUCKETS_MIN;
	r = rand_bytes(c->key, sizeof(c->key));
	if (r < 0)
		goto fail;
	*out = c;
	return 0;
fail:
	free(c->srcs.b);
	free(c->conns.b);
	free(c);
	return r;
}

void http_conns_free(struct http_conns *c)
{
	if (!c)
		return;
	htab_free(&c->conns);
	htab_free(&c->srcs);
	free(c);
}

int http_conn_filter(struct http_server *srv, struct lws *listener, int fd)
{
	struct http_conns *c = srv->conns;
	uint8_t addr[16];
	char str[INET6_ADDRSTRLEN];
	struct src *s;

	c->listener = listener;
	if (peer_addr(fd, addr) < 0) {
		srv->stats.conns_refused++;
		return -EUSERS;
	}
	if (c->conns.n >= c->lim.max_conns) {
		srv->stats.conns_refused++;
		log_rl(&c->rl, LOG_LVL_WARN, "http: %s: refused: %u connections open (the cap)",
		       addr_str(addr, str, sizeof(str)), c->lim.max_conns);
		return -EUSERS;
	}
	s = src_find(c, addr);
	if (s && s->n >= c->lim.max_conns_per_source) {
		srv->stats.conns_refused++;
		log_rl(&c->rl, LOG_LVL_WARN,
		       "http: %s: refused: %u unauthenticated connections from it (the cap)",
		       addr_str(addr, str, sizeof(str)), c->lim.max_conns_per_source);
		return -EUSERS;
	}
	return 0;
}

int http_conn_add(struct http_server *srv, struct lws *wsi)
{
	struct http_conns *c = srv->conns;
	uint8_t addr[16];
	struct conn *e;
	struct src *s;
	int r;

	r = peer_addr(lws_get_socket_fd(wsi), addr); /* gone already: ENOTCONN */
	if (r == 0)
		r = htab_grow(c, &c->conns);
	if (r == 0)
		r = htab_grow(c, &c->srcs);
	if (r < 0)
		return r;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	s = src_find(c, addr);
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s) {
			free(e);
			return -ENOMEM;
		}
		memcpy(s->addr, addr, 16);
		htab_link(c, &c->srcs, &s->h);
	}
	s->n++;
	e->src = s;
	e->wsi = wsi;
	htab_link(c, &c->conns, &e->h);
	srv->stats.conns_open = c->conns.n;
	set_deadline(c, e, C_HEAD,
		     time_mono_ns() + (uint64_t)c->lim.head_timeout_ms * NSEC_PER_MSEC);
	return 0;
}

void http_conn_remove(struct http_server *srv, struct lws *wsi)
{
	struct http_conns *c = srv->conns;
	struct conn *e = conn_find(c, wsi);

	if (!e)
		return;
	timed_unlink(c, e);
	if (e->src)
		src_put(c, e->src);
	htab_unlink(c, &c->conns, &e->h);
	srv->stats.conns_open = c->conns.n;
	free(e);
}

void http_conn_head_done(struct http_server *srv, struct lws *wsi)
{
	struct conn *e = conn_find(srv->conns, wsi);

	if (e && !e->killed)
		set_deadline(srv->conns, e, C_ANSWER, 0);
}

/* The body deadline: grace + len / the minimum rate, at most max_ms. */
static void body_deadline(struct http_server *srv, struct lws *wsi, unsigned long long len,
			  uint64_t max_ms)
{
	struct http_conns *c = srv->conns;
	struct conn *e = conn_find(c, wsi);
	uint64_t ms;

	if (!e || e->killed)
		return;
	ms = c->lim.body_grace_ms + len * 1000 / c->lim.body_min_rate;
	if (ms > max_ms)
		ms = max_ms;
	set_deadline(c, e, C_BODY, time_mono_ns() + ms * NSEC_PER_MSEC);
}

void http_conn_body(struct http_server *srv, struct lws *wsi, unsigned long long len)
{
	body_deadline(srv, wsi, len, UINT64_MAX);
}

void http_conn_linger(struct http_server *srv, struct lws *wsi, unsigned long long len)
{
	body_deadline(srv, wsi, len, HTTP_LIMIT_LINGER_MS);
}

void http_conn_idle(struct http_server *srv, struct lws *wsi)
{
	struct http_conns *c = srv->conns;
	struct conn *e = conn_find(c, wsi);

	if (e && !e->killed)
		set_deadline(c, e, C_HEAD,
			     time_mono_ns() + (uint64_t)c->lim.head_timeout_ms * NSEC_PER_MSEC);
}

void http_conn_authenticated(struct http_server *srv, struct lws *wsi)
{
	struct conn *e = conn_find(srv->conns, wsi);

	if (e && e->src) {
		src_put(srv->conns, e->src);
		e->src = NULL;
	}
}

void http_conn_upgraded(struct http_server *srv, struct lws *wsi)
{
	struct conn *e = conn_find(srv->conns, wsi);

	if (e && !e->killed)
		set_deadline(srv->conns, e, C_WS, 0);
	http_conn_authenticated(srv, wsi);
}

void http_conn_sweep(struct http_server *srv, uint64_t now_ns)
{
	struct http_conns *c = srv->conns;
	struct conn *e, *next;

	for (e = c->timed; e; e = next) {
		next = e->tnext;
		if (now_ns < e->deadline_ns)
			continue;
		if (e->state == C_BODY)
			srv->stats.body_timeouts++;
		else
			srv->stats.head_timeouts++;
		log_rl(&c->rl, LOG_LVL_INFO, "http: closing a connection: %s deadline passed",
		       e->state == C_BODY ? "body" : "head");
		timed_unlink(c, e);
		e->killed = true;
		lws_set_timeout(e->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
}

/* ---- accept failures ---------------------------------------------------- */

static void resume_cb(lws_sorted_usec_list_t *sul)
{
	struct http_conns *c = lws_container_of(sul, struct http_conns, resume_sul);

	c->paused = false;
	if (c->listener)
		lws_rx_flow_control(c->listener, 1);
}

void http_conns_stop(struct http_conns *c)
{
	if (c)
		lws_sul_cancel(&c->resume_sul);
}

void http_conn_accept_failed(void)
{
	accept_failed = 1;
}

void http_conn_check_accept(struct http_server *srv)
{
	struct http_conns *c = srv->conns;

	if (!accept_failed)
		return;
	accept_failed = 0;
	if (c->paused || !c->listener)
		return;
	/* the listener stays readable while accept() fails: without this, every
	 * lws_service() would return at once to fail again */
	c->paused = true;
	srv->stats.accept_pauses++;
	log_rl(&c->rl, LOG_LVL_WARN, "http: accept failed (%u connections open): "
	       "not accepting for %u ms", (unsigned)c->conns.n, c->lim.accept_pause_ms);
	lws_rx_flow_control(c->listener, 0);
	lws_sul_schedule(srv->ctx, 0, &c->resume_sul, resume_cb,
			 (lws_usec_t)c->lim.accept_pause_ms * LWS_US_PER_MS);
}
