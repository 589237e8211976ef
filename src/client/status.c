/* The status socket: an epoll set (listener, connections, a deadline timer)
 * behind the one fd the owner polls. See status.h.
 *
 * Each connection only ever writes: its answer is built whole when it is
 * accepted and sent as the socket takes it. */
#include "client/status.h"

#include "lib/log.h"
#include "lib/time.h"
#include "net/unixsock.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

enum {
	TAG_LISTEN = STATUS_MAX_CONNS,
	TAG_TIMER,
	ACCEPT_PAUSE_MS = 1000,
};

struct status_conn {
	int fd; /* -1: a free slot */
	char *out;
	size_t len, sent;
	uint64_t deadline;
};

struct status_server {
	int listen_fd, epoll_fd, timer_fd;
	bool paused; /* every slot taken: the listener is not polled */
	uint64_t accept_resume; /* after an accept error: poll it again then (0: no) */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	json_t *(*snapshot)(void *arg);
	void *arg;
	struct log_ratelimit rl;
	struct status_conn conns[STATUS_MAX_CONNS];
};

static int epoll_set(struct status_server *s, int op, int fd, uint32_t events, uint32_t tag)
{
	struct epoll_event ev = { .events = events, .data.u32 = tag };

	return epoll_ctl(s->epoll_fd, op, fd, &ev) ? -errno : 0;
}

static void listen_pause(struct status_server *s, bool pause)
{
	if (s->paused == pause)
		return;
	if (epoll_set(s, EPOLL_CTL_MOD, s->listen_fd, pause ? 0 : EPOLLIN, TAG_LISTEN) == 0)
		s->paused = pause;
}

/* ---- connections -------------------------------------------------------- */

static void conn_close(struct status_server *s, struct status_conn *c)
{
	char sink[256];

	/* Whatever the peer sent is read first: closing a unix socket with unread
	 * input makes the peer's next read fail with ECONNRESET instead of EOF. */
	for (int i = 0; i < 16 && recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
		;
	epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	*c = (struct status_conn){ .fd = -1 };
	listen_pause(s, false);
}

static char *error_doc(const char *msg)
{
	json_t *j = json_pack("{ss}", "error", msg);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	return text;
}

/* The answer for a peer of user uid, with its newline. NULL: out of memory. */
static char *answer(struct status_server *s, uid_t uid)
{
	json_t *doc;
	char *text, *line;
	size_t len;

	if (uid != 0) {
		text = error_doc("permission denied: sluice status needs root");
	} else {
		doc = s->snapshot(s->arg);
		text = doc ? json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY)
			   : error_doc("sluice-client has no status to give");
		json_decref(doc);
		if (text && strlen(text) >= STATUS_MAX_DOC) {
			free(text);
			text = error_doc("the status is too large to send");
		}
	}
	if (!text)
		return NULL;
	len = strlen(text);
	line = realloc(text, len + 2);
	if (!line) {
		free(text);
		return NULL;
	}
	memcpy(line + len, "\n", 2);
	return line;
}

/* Sends what the socket takes. True when the connection is finished (all sent,
 * or the peer is gone). */
static bool conn_flush(struct status_conn *c)
{
	while (c->sent < c->len) {
		ssize_t r = send(c->fd, c->out + c->sent, c->len - c->sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r > 0)
			c->sent += (size_t)r;
		else if (r < 0 && errno == EINTR)
			continue;
		else
			return !(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
	}
	return true;
}

static void conn_start(struct status_server *s, struct status_conn *c, int fd)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	uid_t uid = (uid_t)-1;

	*c = (struct status_conn){ .fd = fd };
	c->deadline = time_mono_ns() + STATUS_PEER_TIMEOUT_MS * NSEC_PER_MSEC;
	/* Checked on the connection, not the file: the socket's mode is the first
	 * gate, this the second if someone loosened it. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0 && clen == sizeof(cred))
		uid = cred.uid;
	if (uid != 0)
		log_rl(&s->rl, LOG_LVL_INFO, "status: refused a peer of uid %ld", (long)(int)uid);
	c->out = answer(s, uid);
	if (!c->out) {
		log_rl(&s->rl, LOG_LVL_WARN, "status: out of memory for an answer");
		conn_close(s, c);
		return;
	}
	c->len = strlen(c->out);
	if (conn_flush(c) ||
	    epoll_set(s, EPOLL_CTL_ADD, fd, EPOLLOUT, (uint32_t)(c - s->conns)))
		conn_close(s, c);
}

static struct status_conn *slot_free(struct status_server *s)
{
	for (size_t i = 0; i < STATUS_MAX_CONNS; i++)
		if (s->conns[i].fd < 0)
			return &s->conns[i];
	return NULL;
}

static void accept_all(struct status_server *s)
{
	struct status_conn *c;

	while ((c = slot_free(s))) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* Out of fds or memory: a pause rather than a spin on the
			 * listener; the timer resumes it. */
			log_rl(&s->rl, LOG_LVL_WARN, "status: accept: %s", strerror(errno));
			listen_pause(s, true);
			s->accept_resume = time_mono_ns() + ACCEPT_PAUSE_MS * NSEC_PER_MSEC;
			return;
		}
		conn_start(s, c, fd);
	}
	/* Every slot taken: later peers wait in the backlog, unpolled, so a
	 * level-triggered listener does not keep the owner's loop spinning. */
	listen_pause(s, true);
}

/* ---- the deadline timer ------------------------------------------------- */

static void timer_arm(struct status_server *s)
{
	struct itimerspec its = { 0 };
	uint64_t next = s->accept_resume;

	for (size_t i = 0; i < STATUS_MAX_CONNS; i++) {
		const struct status_conn *c = &s->conns[i];

		if (c->fd >= 0 && (!next || c->deadline < next))
			next = c->deadline;
	}
	its.it_value.tv_sec = (time_t)(next / NSEC_PER_SEC);
	its.it_value.tv_nsec = (long)(next % NSEC_PER_SEC);
	timerfd_settime(s->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void timers_run(struct status_server *s)
{
	uint64_t now = time_mono_ns(), ticks;
	/* Drains the timer; nothing to read is fine, this runs on every pass. */
	ssize_t r = read(s->timer_fd, &ticks, sizeof(ticks));

	(void)r;
	for (size_t i = 0; i < STATUS_MAX_CONNS; i++) {
		struct status_conn *c = &s->conns[i];

		if (c->fd >= 0 && c->deadline <= now) {
			log_rl(&s->rl, LOG_LVL_INFO,
			       "status: dropping a peer that did not read its answer");
			conn_close(s, c);
		}
	}
	if (s->accept_resume && s->accept_resume <= now) {
		s->accept_resume = 0;
		listen_pause(s, false);
	}
}

void status_dispatch(struct status_server *s)
{
	struct epoll_event ev[STATUS_MAX_CONNS + 2];
	int n = epoll_wait(s->epoll_fd, ev, (int)(sizeof(ev) / sizeof(ev[0])), 0);

	for (int i = 0; i < n; i++) {
		uint32_t tag = ev[i].data.u32;

		if (tag < STATUS_MAX_CONNS && s->conns[tag].fd >= 0 &&
		    conn_flush(&s->conns[tag]))
			conn_close(s, &s->conns[tag]);
	}
	timers_run(s);
	/* After the writes: slots they freed take waiting peers at once. */
	if (!s->paused)
		accept_all(s);
	timer_arm(s);
}

int status_fd(const struct status_server *s)
{
	return s->epoll_fd;
}

/* ---- open and close ----------------------------------------------------- */

static int make_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	memcpy(dir, path, strlen(path) + 1);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) == 0)
		return chmod(dir, 0755) ? -errno : 0; /* whatever the umask */
	return errno == EEXIST ? 0 : -errno;
}

int status_open(const struct status_config *cfg, struct status_server **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = cfg->path ? cfg->path : STATUS_DEFAULT_PATH;
	struct status_server *s;
	int r;

	*out = NULL;
	if (!cfg->snapshot || !*path)
		return -EINVAL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->listen_fd = s->epoll_fd = s->timer_fd = -1;
	s->snapshot = cfg->snapshot;
	s->arg = cfg->arg;
	s->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	for (size_t i = 0; i < STATUS_MAX_CONNS; i++)
		s->conns[i].fd = -1;
	memcpy(s->path, path, strlen(path) + 1);

	r = make_dir(path);
	if (r)
		goto err_free;
	s->listen_fd = unixsock_listen(path, S_IRUSR | S_IWUSR, STATUS_MAX_CONNS, &s->dev, &s->ino);
	if (s->listen_fd < 0) {
		r = s->listen_fd;
		goto err_free;
	}
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->epoll_fd < 0 || s->timer_fd < 0) {
		r = -errno;
		goto err_unlink;
	}
	r = epoll_set(s, EPOLL_CTL_ADD, s->listen_fd, EPOLLIN, TAG_LISTEN);
	if (!r)
		r = epoll_set(s, EPOLL_CTL_ADD, s->timer_fd, EPOLLIN, TAG_TIMER);
	if (r)
		goto err_unlink;
	*out = s;
	return 0;

err_unlink:
	unixsock_unlink(path, s->dev, s->ino);
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
	close(s->listen_fd);
err_free:
	free(s);
	return r;
}

void status_close(struct status_server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < STATUS_MAX_CONNS; i++)
		if (s->conns[i].fd >= 0)
			conn_close(s, &s->conns[i]);
	/* Only our own file: a newer daemon may have replaced it. */
	unixsock_unlink(s->path, s->dev, s->ino);
	close(s->timer_fd);
	close(s->epoll_fd);
	close(s->listen_fd);
	free(s);
}
