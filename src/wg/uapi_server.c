/* The UAPI server: an epoll set (listener, connections, an idle timer and an
 * inotify watch on the socket file) behind the single fd the owner polls.
 *
 * Per connection the input is framed with wg_uapi_frame(); each request is answered
 * before the next is looked at, and nothing more is read while an answer is
 * still queued, so both buffers stay bounded whatever the client does. */
#include "wg/uapi_server.h"

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/time.h"
#include "net/unixsock.h"
#include "wg/uapi.h"

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#define UAPI_DIR "/var/run/wireguard"

enum {
	TAG_LISTEN = UAPI_SERVER_MAX_CONNS,
	TAG_TIMER,
	TAG_WATCH,
	READ_CHUNK = 64 << 10,
	IN_MAX = UAPI_MAX_REQUEST + 1, /* one byte past a request: enough to know */
	ACCEPT_PAUSE_MS = 1000,
	REQUESTS_PER_TURN = 32,
};

struct uapi_conn {
	int fd; /* -1: free slot */
	uint32_t events;
	bool eof, closing;
	bool busy; /* whole requests left over from its last turn */
	uint64_t deadline;
	/* Input holds hex keys: grown by hand so every old copy is wiped. */
	char *in;
	size_t in_len, in_cap, scan;
	struct buf out;
	size_t sent;
};

struct uapi_server {
	int listen_fd, epoll_fd, timer_fd, watch_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	bool gone;
	uint64_t idle_ns;
	uint64_t accept_resume; /* 0: accepting */
	struct log_ratelimit rl;
	struct uapi_conn conns[UAPI_SERVER_MAX_CONNS];
};

static int epoll_set(struct uapi_server *srv, int op, int fd, uint32_t events, uint32_t tag)
{
	struct epoll_event ev = { .events = events, .data.u32 = tag };

	return epoll_ctl(srv->epoll_fd, op, fd, &ev) ? -errno : 0;
}

/* ---- connections -------------------------------------------------------- */

static void conn_close(struct uapi_server *srv, struct uapi_conn *c)
{
	epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->in) {
		explicit_bzero(c->in, c->in_cap);
		free(c->in);
	}
	buf_wipe(&c->out);
	*c = (struct uapi_conn){ .fd = -1 };
}

static int in_reserve(struct uapi_conn *c, size_t n)
{
	size_t cap = c->in_cap ? c->in_cap : READ_CHUNK;
	char *p;

	if (c->in_len + n <= c->in_cap)
		return 0;
	while (cap < c->in_len + n)
		cap *= 2;
	if (cap > IN_MAX)
		cap = IN_MAX;
	p = malloc(cap);
	if (!p)
		return -ENOMEM;
	if (c->in) {
		memcpy(p, c->in, c->in_len);
		explicit_bzero(c->in, c->in_cap);
		free(c->in);
	}
	c->in = p;
	c->in_cap = cap;
	return 0;
}

static void in_consume(struct uapi_conn *c, size_t n)
{
	size_t old = c->in_len;

	memmove(c->in, c->in + n, old - n);
	c->in_len = old - n;
	explicit_bzero(c->in + c->in_len, n);
}

/* Reads what is there, up to the cap. 0, or -errno when the connection is dead. */
static int conn_read(struct uapi_conn *c, bool *progress)
{
	while (!c->eof && c->in_len < IN_MAX) {
		size_t room = IN_MAX - c->in_len;
		ssize_t r;
		int ret = in_reserve(c, room < READ_CHUNK ? room : READ_CHUNK);

		if (ret)
			return ret;
		r = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
		if (r > 0) {
			c->in_len += (size_t)r;
			*progress = true;
		} else if (r == 0) {
			c->eof = true;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			break;
		} else if (errno != EINTR) {
			return -errno;
		}
	}
	return 0;
}

static int conn_flush(struct uapi_conn *c, bool *progress)
{
	while (c->sent < c->out.len) {
		ssize_t r = send(c->fd, c->out.data + c->sent, c->out.len - c->sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r > 0) {
			c->sent += (size_t)r;
			*progress = true;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return 0;
		} else if (errno != EINTR) {
			return -errno;
		}
	}
	/* The answer may have held the private key. */
	if (c->out.cap > 4 * READ_CHUNK) {
		buf_wipe(&c->out);
	} else if (c->out.data) {
		explicit_bzero(c->out.data, c->out.cap);
		buf_reset(&c->out);
	}
	c->sent = 0;
	return 0;
}

static void reply(struct uapi_conn *c, int err)
{
	/* Positive or odd codes become wireguard-go's IpcErrorUnknown (-ENOANO). */
	if (err > 0)
		err = -ENOANO;
	if (c->out.data)
		explicit_bzero(c->out.data, c->out.len);
	buf_reset(&c->out);
	wg_uapi_format_errno(&c->out, err);
}

static void do_get(struct uapi_conn *c, const struct uapi_ops *ops, void *arg)
{
	int ret;

	/* Room up front: a small device's answer, key included, never moves. */
	ret = buf_reserve(&c->out, 4 * READ_CHUNK);
	if (!ret)
		ret = ops->get(arg, &c->out);
	if (!ret)
		ret = wg_uapi_format_errno(&c->out, 0);
	if (ret)
		reply(c, ret);
}

static void do_set(struct uapi_server *srv, struct uapi_conn *c, const struct uapi_request *req,
		   const struct uapi_ops *ops, void *arg)
{
	struct uapi_set set;
	int ret = wg_uapi_parse_set(req->body, req->body_len, &set);

	if (ret) {
		log_rl(&srv->rl, LOG_LVL_WARN, "uapi: set refused at line %zu: %s",
		       set.error_line, strerror(-ret));
	} else {
		ret = ops->set(arg, &set);
	}
	wg_uapi_set_free(&set);
	reply(c, ret);
}

/* Answers one request if a whole one is there. False when it needs more input
 * or the connection is closing. */
static bool conn_process(struct uapi_server *srv, struct uapi_conn *c,
			 const struct uapi_ops *ops, void *arg)
{
	struct uapi_request req;

	if (c->closing)
		return false;
	wg_uapi_frame(c->in, c->in_len, c->eof, &c->scan, &req);
	switch (req.op) {
	case UAPI_OP_MORE:
		if (c->eof)
			c->closing = true; /* a clean end between requests */
		return false;
	case UAPI_OP_GET:
		do_get(c, ops, arg);
		break;
	case UAPI_OP_BAD_GET:
		reply(c, -EINVAL);
		break;
	case UAPI_OP_SET:
		do_set(srv, c, &req, ops, arg);
		break;
	case UAPI_OP_TRUNCATED:
		reply(c, -EPROTO);
		c->closing = true;
		break;
	case UAPI_OP_TOO_BIG:
		/* The rest is never read: the writer fails, then reads this. */
		reply(c, -E2BIG);
		shutdown(c->fd, SHUT_RD);
		c->closing = true;
		break;
	case UAPI_OP_INVALID:
		/* as wireguard-go: no answer to something that is not an operation */
		log_rl(&srv->rl, LOG_LVL_WARN, "uapi: not an operation, closing");
		c->closing = true;
		return false;
	}
	in_consume(c, req.len);
	return true;
}

/* Reads, then answers and sends until an answer is stuck in the socket, the
 * input runs out or the budget is spent (then c->busy asks for another turn, so
 * a pipelining client cannot hold the owner's loop). */
static void conn_run(struct uapi_server *srv, struct uapi_conn *c, bool readable,
		     const struct uapi_ops *ops, void *arg)
{
	bool progress = false;
	unsigned budget = REQUESTS_PER_TURN;
	uint32_t want;

	c->busy = false;
	if (readable && !c->closing && c->out.len == 0 && conn_read(c, &progress))
		goto drop;
	if (c->out.len && conn_flush(c, &progress))
		goto drop;
	while (c->out.len == 0 && conn_process(srv, c, ops, arg)) {
		if (conn_flush(c, &progress))
			goto drop;
		if (--budget == 0) {
			c->busy = c->out.len == 0;
			break;
		}
	}
	if (c->closing && c->out.len == 0)
		goto drop;
	want = c->out.len ? EPOLLOUT : EPOLLIN;
	if (want != c->events) {
		if (epoll_set(srv, EPOLL_CTL_MOD, c->fd, want, (uint32_t)(c - srv->conns)))
			goto drop;
		c->events = want;
	}
	if (progress)
		c->deadline = time_mono_ns() + srv->idle_ns;
	return;
drop:
	conn_close(srv, c);
}

/* ---- listener, timer, watch --------------------------------------------- */

static void accept_all(struct uapi_server *srv)
{
	for (;;) {
		struct uapi_conn *c = NULL;
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* Out of fds or memory: stop polling the listener for a while
			 * rather than spin on it. */
			log_rl(&srv->rl, LOG_LVL_WARN, "uapi: accept: %s", strerror(errno));
			epoll_set(srv, EPOLL_CTL_MOD, srv->listen_fd, 0, TAG_LISTEN);
			srv->accept_resume = time_mono_ns() + ACCEPT_PAUSE_MS * NSEC_PER_MSEC;
			return;
		}
		for (size_t i = 0; i < UAPI_SERVER_MAX_CONNS && !c; i++)
			if (srv->conns[i].fd < 0)
				c = &srv->conns[i];
		if (!c) {
			log_rl(&srv->rl, LOG_LVL_WARN, "uapi: too many connections");
			close(fd);
			continue;
		}
		*c = (struct uapi_conn){ .fd = fd, .events = EPOLLIN };
		buf_init(&c->out, UAPI_SERVER_MAX_REPLY);
		c->deadline = time_mono_ns() + srv->idle_ns;
		if (epoll_set(srv, EPOLL_CTL_ADD, fd, EPOLLIN, (uint32_t)(c - srv->conns)))
			conn_close(srv, c);
	}
}

/* Fires at the earliest idle deadline or accept resumption; disarmed if none. */
static void timer_arm(struct uapi_server *srv)
{
	struct itimerspec its = { 0 };
	uint64_t next = srv->accept_resume;

	for (size_t i = 0; i < UAPI_SERVER_MAX_CONNS; i++) {
		const struct uapi_conn *c = &srv->conns[i];

		if (c->fd >= 0 && (!next || c->deadline < next))
			next = c->deadline;
		if (c->fd >= 0 && c->busy)
			next = 1; /* long past: fire at once */
	}
	its.it_value.tv_sec = (time_t)(next / NSEC_PER_SEC);
	its.it_value.tv_nsec = (long)(next % NSEC_PER_SEC);
	timerfd_settime(srv->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void timers_run(struct uapi_server *srv, const struct uapi_ops *ops, void *arg)
{
	uint64_t now = time_mono_ns(), ticks;
	/* Drains the timer; nothing to read is fine, this runs on every turn. */
	ssize_t r = read(srv->timer_fd, &ticks, sizeof(ticks));

	(void)r;
	for (size_t i = 0; i < UAPI_SERVER_MAX_CONNS; i++) {
		struct uapi_conn *c = &srv->conns[i];

		if (c->fd >= 0 && c->busy)
			conn_run(srv, c, false, ops, arg);
		if (c->fd >= 0 && c->deadline <= now) {
			log_rl(&srv->rl, LOG_LVL_INFO, "uapi: dropping an idle connection");
			conn_close(srv, c);
		}
	}
	if (srv->accept_resume && srv->accept_resume <= now) {
		srv->accept_resume = 0;
		epoll_set(srv, EPOLL_CTL_MOD, srv->listen_fd, EPOLLIN, TAG_LISTEN);
	}
}

/* Any change to the socket file: is the name still ours? */
static void watch_check(struct uapi_server *srv)
{
	char ev[sizeof(struct inotify_event) + NAME_MAX + 1]
		__attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(srv->watch_fd, ev, sizeof(ev)) > 0)
		;
	if (!unixsock_ours(srv->path, srv->dev, srv->ino)) {
		if (!srv->gone)
			log_warn("uapi: %s was removed", srv->path);
		srv->gone = true;
	}
}

int wg_uapi_server_handle(struct uapi_server *srv, const struct uapi_ops *ops, void *arg)
{
	struct epoll_event ev[UAPI_SERVER_MAX_CONNS + 3];
	int n = epoll_wait(srv->epoll_fd, ev, (int)(sizeof(ev) / sizeof(ev[0])), 0);

	for (int i = 0; i < n; i++) {
		uint32_t tag = ev[i].data.u32;

		if (tag == TAG_LISTEN)
			accept_all(srv);
		else if (tag == TAG_WATCH)
			watch_check(srv);
		else if (tag < UAPI_SERVER_MAX_CONNS && srv->conns[tag].fd >= 0)
			conn_run(srv, &srv->conns[tag], true, ops, arg);
	}
	timers_run(srv, ops, arg);
	timer_arm(srv);
	return srv->gone ? -ENOENT : 0;
}

/* ---- open and close ----------------------------------------------------- */

static bool ifname_ok(const char *name)
{
	size_t len = strnlen(name, IFNAMSIZ);

	return len > 0 && len < IFNAMSIZ && !strchr(name, '/') &&
	       strcmp(name, ".") && strcmp(name, "..");
}

int wg_uapi_server_open(const char *ifname, struct uapi_server **out)
{
	struct uapi_server *srv;
	int ret;

	*out = NULL;
	if (!ifname_ok(ifname))
		return -EINVAL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->listen_fd = srv->epoll_fd = srv->timer_fd = srv->watch_fd = -1;
	srv->idle_ns = UAPI_SERVER_IDLE_MS * NSEC_PER_MSEC;
	srv->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	for (size_t i = 0; i < UAPI_SERVER_MAX_CONNS; i++)
		srv->conns[i].fd = -1;
	snprintf(srv->path, sizeof(srv->path), UAPI_DIR "/%s.sock", ifname);

	if (mkdir(UAPI_DIR, 0755) && errno != EEXIST) {
		ret = -errno;
		goto err_free;
	}
	srv->listen_fd = unixsock_listen(srv->path, S_IRWXU, UAPI_SERVER_MAX_CONNS, &srv->dev,
					 &srv->ino);
	if (srv->listen_fd < 0) {
		ret = srv->listen_fd;
		goto err_free;
	}

	srv->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	srv->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	srv->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (srv->epoll_fd < 0 || srv->timer_fd < 0 || srv->watch_fd < 0) {
		ret = -errno;
		goto err_unlink;
	}
	/* IN_ATTRIB: an unlink only drops the link count while we hold the inode */
	if (inotify_add_watch(srv->watch_fd, srv->path,
			      IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
		ret = -errno;
		goto err_unlink;
	}
	ret = epoll_set(srv, EPOLL_CTL_ADD, srv->listen_fd, EPOLLIN, TAG_LISTEN);
	if (!ret)
		ret = epoll_set(srv, EPOLL_CTL_ADD, srv->timer_fd, EPOLLIN, TAG_TIMER);
	if (!ret)
		ret = epoll_set(srv, EPOLL_CTL_ADD, srv->watch_fd, EPOLLIN, TAG_WATCH);
	if (ret)
		goto err_unlink;
	*out = srv;
	return 0;

err_unlink:
	unixsock_unlink(srv->path, srv->dev, srv->ino);
	if (srv->watch_fd >= 0)
		close(srv->watch_fd);
	if (srv->timer_fd >= 0)
		close(srv->timer_fd);
	if (srv->epoll_fd >= 0)
		close(srv->epoll_fd);
	close(srv->listen_fd);
err_free:
	free(srv);
	return ret;
}

int wg_uapi_server_fd(const struct uapi_server *srv)
{
	return srv->epoll_fd;
}

void wg_uapi_server_set_idle_timeout(struct uapi_server *srv, unsigned ms)
{
	uint64_t now = time_mono_ns();

	srv->idle_ns = (uint64_t)ms * NSEC_PER_MSEC;
	/* open connections get the shorter of their old and new deadlines */
	for (size_t i = 0; i < UAPI_SERVER_MAX_CONNS; i++) {
		struct uapi_conn *c = &srv->conns[i];

		if (c->fd >= 0 && c->deadline > now + srv->idle_ns)
			c->deadline = now + srv->idle_ns;
	}
	timer_arm(srv);
}

void wg_uapi_server_close(struct uapi_server *srv)
{
	if (!srv)
		return;
	for (size_t i = 0; i < UAPI_SERVER_MAX_CONNS; i++)
		if (srv->conns[i].fd >= 0)
			conn_close(srv, &srv->conns[i]);
	/* Another daemon may have taken the name since: leave its socket be. */
	unixsock_unlink(srv->path, srv->dev, srv->ino);
	close(srv->watch_fd);
	close(srv->timer_fd);
	close(srv->epoll_fd);
	close(srv->listen_fd);
	free(srv);
}
