/* sluice-client's status socket (client/status.h) on a real socket in a temp
 * directory, and the real `sluice status` against it: root gets the document,
 * another user is refused (by the file's mode, and by SO_PEERCRED when the mode
 * is loosened), partial writes to a slow reader, a reader that never reads is
 * dropped, 17 connections at once, a stale socket replaced, a live one refused,
 * and the CLI's exit codes. Needs root (setresuid). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "client/status.h"
#include "lib/time.h"

#define NOBODY 65534
#define DEADLINE_NS (10 * NSEC_PER_SEC)

static const char sample[] =
	"{\"user\":{\"id\":1,\"name\":\"alice\"},\"device\":{\"id\":3,\"name\":\"laptop\"},"
	"\"portal\":{\"url\":\"https://198.51.100.30:8443\",\"connected\":true,\"since\":1765000000},"
	"\"tunnel\":{\"interface\":\"sluice0\",\"ipv4\":\"100.64.0.2\",\"ipv6\":\"fd00:2021:1111::2\"},"
	"\"resources\":[{\"id\":1,\"name\":\"NAS\",\"type\":\"dns\",\"address\":\"nas.home.int\","
	"\"state\":\"granted\",\"gateway_id\":1,\"expires_at\":1765003600,"
	"\"proxy_ips\":[{\"ip\":\"100.96.0.1\",\"name\":\"nas.home.int\"}]}],"
	"\"gateways\":[{\"id\":1,\"public_key\":\"base64\",\"endpoint\":\"198.51.100.20:51820\","
	"\"tunnel_ipv4\":\"100.64.0.1\",\"tunnel_ipv6\":\"fd00:2021:1111::1\","
	"\"last_handshake\":1765000100,\"rx_bytes\":1234,\"tx_bytes\":5678}],"
	"\"dns\":{\"sentinels\":[{\"address\":\"100.100.111.1\",\"upstream\":\"198.51.100.53\"}],"
	"\"queries_udp\":10,\"queries_tcp\":0,\"forwarded\":4,\"answered_local\":3,"
	"\"resource_queries\":3,\"resource_failed\":0,\"timeouts\":0,\"spoofed_dropped\":0,"
	"\"truncated\":0,\"formerr\":0}}";

struct fx {
	char dir[64], path[128];
	struct status_server *srv;
	json_t *doc;    /* what the snapshot hands out (a new reference each time) */
	unsigned calls; /* snapshots taken */
	pid_t child;
};

static json_t *snap(void *arg)
{
	struct fx *f = arg;

	f->calls++;
	return f->doc ? json_incref(f->doc) : NULL;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/sluice-status-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	/* Other users must reach the socket's directory for the peer tests. */
	chmod(f->dir, 0755);
	/* run/: status_open() creates it */
	snprintf(f->path, sizeof(f->path), "%s/run/client.sock", f->dir);
	f->doc = json_loads(sample, 0, NULL);
	*state = f;
	return f->doc ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[192];

	if (f->child > 0) {
		kill(f->child, SIGKILL);
		waitpid(f->child, NULL, 0);
	}
	status_close(f->srv);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s/out", f->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/err", f->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/run", f->dir);
	rmdir(p);
	rmdir(f->dir);
	json_decref(f->doc);
	free(f);
	return 0;
}

static void open_server(struct fx *f)
{
	struct status_config c = { .path = f->path, .snapshot = snap, .arg = f };

	assert_int_equal(status_open(&c, &f->srv), 0);
}

static int client_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* Runs the server until the peer fd has its whole answer (EOF): the text, or
 * fails at the deadline. */
static char *fetch(struct fx *f, int fd)
{
	uint64_t deadline = time_mono_ns() + DEADLINE_NS;
	size_t len = 0, cap = 1 << 16;
	char *text = malloc(cap);

	assert_non_null(text);
	for (;;) {
		struct pollfd p[2] = { { .fd = status_fd(f->srv), .events = POLLIN },
				       { .fd = fd, .events = POLLIN } };
		ssize_t r;

		assert_true(time_mono_ns() < deadline);
		poll(p, 2, 100);
		status_dispatch(f->srv);
		if (len + 1 >= cap) {
			cap *= 2;
			text = realloc(text, cap);
			assert_non_null(text);
		}
		r = recv(fd, text + len, cap - len - 1, MSG_DONTWAIT);
		if (r == 0)
			break;
		if (r > 0)
			len += (size_t)r;
		else
			assert_true(errno == EAGAIN);
	}
	text[len] = '\0';
	close(fd);
	return text;
}

static void assert_doc(const char *text, const json_t *want)
{
	size_t len = strlen(text);
	json_t *got;

	assert_true(len > 1 && text[len - 1] == '\n');
	got = json_loads(text, 0, NULL);
	assert_non_null(got);
	assert_true(json_equal(got, want));
	json_decref(got);
}

static void test_root_gets_document(void **state)
{
	struct fx *f = *state;
	char run[160];
	struct stat st;
	char *text;

	open_server(f);
	snprintf(run, sizeof(run), "%s/run", f->dir);
	assert_int_equal(stat(run, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_uid, 0);

	text = fetch(f, client_connect(f->path));
	assert_doc(text, f->doc);
	free(text);
	assert_int_equal(f->calls, 1);

	/* No snapshot: an error object, still one line. */
	json_decref(f->doc);
	f->doc = NULL;
	text = fetch(f, client_connect(f->path));
	assert_non_null(strstr(text, "{\"error\":"));
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);

	/* Closing removes the file. */
	status_close(f->srv);
	f->srv = NULL;
	assert_int_equal(lstat(f->path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void drop_root(void)
{
	gid_t g = NOBODY;

	if (setgroups(1, &g) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		_exit(90);
}

/* A child as nobody: 10 when connecting is refused by the file's mode, 20 when
 * it got an {"error":...} line, other codes for anything else. */
static int nobody_child(const char *path)
{
	char buf[4096];
	size_t len = 0;
	ssize_t r;
	int fd;

	drop_root();
	alarm(10);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		strcpy(sa.sun_path, path);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return errno == EACCES ? 10 : 91;
	}
	while ((r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)r;
	buf[len] = '\0';
	if (r < 0)
		return 92;
	return strncmp(buf, "{\"error\":", 9) == 0 && buf[len - 1] == '\n' ? 20 : 93;
}

/* Serves until the child exits; its exit code. */
static int serve_until_exit(struct fx *f)
{
	uint64_t deadline = time_mono_ns() + DEADLINE_NS;
	int st;

	for (;;) {
		struct pollfd p = { .fd = status_fd(f->srv), .events = POLLIN };
		pid_t r;

		assert_true(time_mono_ns() < deadline);
		poll(&p, 1, 20);
		status_dispatch(f->srv);
		r = waitpid(f->child, &st, WNOHANG);
		if (r == f->child)
			break;
	}
	f->child = 0;
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void test_nobody_refused(void **state)
{
	struct fx *f = *state;

	open_server(f);
	/* The file's mode (0600) keeps another user out... */
	f->child = fork();
	assert_true(f->child >= 0);
	if (f->child == 0)
		_exit(nobody_child(f->path));
	assert_int_equal(serve_until_exit(f), 10);
	/* ...and with the mode loosened, the peer's credentials still do. */
	assert_int_equal(chmod(f->path, 0666), 0);
	f->child = fork();
	assert_true(f->child >= 0);
	if (f->child == 0)
		_exit(nobody_child(f->path));
	assert_int_equal(serve_until_exit(f), 20);
	assert_int_equal(f->calls, 0); /* no snapshot taken for it */
}

/* A document larger than a unix socket takes at once. */
static json_t *big_doc(size_t size)
{
	char *s = malloc(size + 1);
	json_t *j;

	assert_non_null(s);
	for (size_t i = 0; i < size; i++)
		s[i] = (char)('a' + i % 26);
	s[size] = '\0';
	j = json_pack("{ss}", "padding", s);
	free(s);
	assert_non_null(j);
	return j;
}

static void test_slow_reader(void **state)
{
	struct fx *f = *state;
	uint64_t t0, worst = 0;
	size_t got = 0;
	char buf[4096];
	char *text;
	int fd;

	json_decref(f->doc);
	f->doc = big_doc(2 << 20);
	open_server(f);
	fd = client_connect(f->path);
	assert_true(fd >= 0);
	/* The daemon's passes never wait for the reader: a pass that did would
	 * last until the drop at 2 s. The first one builds the answer: not timed. */
	status_dispatch(f->srv);
	for (int i = 0; i < 20; i++) {
		t0 = time_mono_ns();
		status_dispatch(f->srv);
		if (time_mono_ns() - t0 > worst)
			worst = time_mono_ns() - t0;
	}
	assert_true(worst < 1000 * NSEC_PER_MSEC);
	/* Only part of it is there: the rest waits for the reader. */
	while (got < (1 << 20)) {
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r < 0 && errno == EAGAIN)
			break;
		assert_true(r > 0);
		got += (size_t)r;
	}
	assert_true(got > 0 && got < (2 << 20));
	/* The rest, a pass at a time; the first bytes were read above, so the
	 * rest alone is not a document: its length says it is all there. */
	text = fetch(f, fd);
	assert_int_equal(got + strlen(text), strlen(json_string_value(json_object_get(
					       f->doc, "padding"))) + strlen("{\"padding\":\"\"}\n"));
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);

	/* Whole this time, through many passes. */
	text = fetch(f, client_connect(f->path));
	assert_doc(text, f->doc);
	free(text);
}

static void test_reader_dropped(void **state)
{
	struct fx *f = *state;
	uint64_t t0, deadline;
	size_t got = 0, want;
	char buf[65536];
	int fd;

	json_decref(f->doc);
	f->doc = big_doc(4 << 20);
	want = (4 << 20) + strlen("{\"padding\":\"\"}\n");
	open_server(f);
	t0 = time_mono_ns();
	fd = client_connect(f->path);
	assert_true(fd >= 0);
	/* The peer never reads: served until its deadline, then closed. */
	deadline = t0 + DEADLINE_NS;
	for (;;) {
		struct pollfd p = { .fd = status_fd(f->srv), .events = POLLIN };
		struct pollfd q = { .fd = fd, .events = POLLRDHUP };

		assert_true(time_mono_ns() < deadline);
		poll(&p, 1, 50);
		status_dispatch(f->srv);
		if (poll(&q, 1, 0) == 1 && (q.revents & (POLLRDHUP | POLLHUP)))
			break;
	}
	assert_true(time_mono_ns() - t0 >= (STATUS_PEER_TIMEOUT_MS - 100) * NSEC_PER_MSEC);
	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	assert_true(got < want);
	close(fd);
}

static void test_seventeen(void **state)
{
	enum { N = STATUS_MAX_CONNS + 1 };
	struct fx *f = *state;
	int fds[N];
	size_t got[N] = { 0 }, want;
	char buf[65536];
	uint64_t deadline;
	bool done[N] = { false };
	size_t left = N;

	json_decref(f->doc);
	f->doc = big_doc(1 << 20);
	want = (1 << 20) + strlen("{\"padding\":\"\"}\n");
	open_server(f);
	for (int i = 0; i < N; i++) {
		fds[i] = client_connect(f->path);
		assert_true(fds[i] >= 0);
	}
	for (int i = 0; i < 5; i++)
		status_dispatch(f->srv);
	/* 16 served at once (their answers stuck, nobody reads), the 17th waits in
	 * the backlog, and the server's fd is quiet: no spinning loop. */
	assert_int_equal(f->calls, STATUS_MAX_CONNS);
	assert_int_equal(recv(fds[N - 1], buf, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	{
		struct pollfd p = { .fd = status_fd(f->srv), .events = POLLIN };

		assert_int_equal(poll(&p, 1, 0), 0);
	}
	/* Everyone reads: all 17 get the whole answer. */
	deadline = time_mono_ns() + DEADLINE_NS;
	while (left) {
		assert_true(time_mono_ns() < deadline);
		status_dispatch(f->srv);
		for (int i = 0; i < N; i++) {
			ssize_t r;

			if (done[i])
				continue;
			r = recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT);
			if (r > 0) {
				got[i] += (size_t)r;
			} else if (r == 0) {
				done[i] = true;
				left--;
				close(fds[i]);
			} else {
				assert_int_equal(errno, EAGAIN);
			}
		}
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(got[i], want);
	assert_int_equal(f->calls, N);
}

static void test_stale_and_live(void **state)
{
	struct fx *f = *state;
	struct status_config c = { .path = f->path, .snapshot = snap, .arg = f };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct status_server *other = NULL;
	char run[160], long_path[sizeof(sa.sun_path) + 1];
	char *text;
	int fd;

	/* A killed run's socket file: nobody listens on it. */
	snprintf(run, sizeof(run), "%s/run", f->dir);
	assert_int_equal(mkdir(run, 0755), 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sa.sun_path, f->path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(client_connect(f->path), -ECONNREFUSED);
	open_server(f);
	text = fetch(f, client_connect(f->path));
	assert_doc(text, f->doc);
	free(text);

	/* A live one is not taken over, and keeps working. */
	assert_int_equal(status_open(&c, &other), -EADDRINUSE);
	assert_null(other);
	text = fetch(f, client_connect(f->path));
	assert_doc(text, f->doc);
	free(text);

	/* Something that is not a socket is not deleted. */
	status_close(f->srv);
	f->srv = NULL;
	fd = open(f->path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(status_open(&c, &other), -EEXIST);
	assert_int_equal(unlink(f->path), 0);

	memset(long_path, 'x', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	c.path = long_path;
	assert_int_equal(status_open(&c, &other), -ENAMETOOLONG);
}

/* ---- the real `sluice status` against the server ------------------------ */

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *text = NULL;
	size_t cap = 0;

	assert_non_null(fp);
	if (getdelim(&text, &cap, '\0', fp) < 0) {
		free(text);
		text = strdup("");
	}
	fclose(fp);
	assert_non_null(text);
	return text;
}

/* Runs the sluice binary with args (as nobody if asked), serving meanwhile;
 * its exit code, its stdout and stderr in *out and *err (malloc'd). */
static int run_cli(struct fx *f, const char *const *args, bool as_nobody, char **out, char **err)
{
	char po[160], pe[160];
	int code;

	snprintf(po, sizeof(po), "%s/out", f->dir);
	snprintf(pe, sizeof(pe), "%s/err", f->dir);
	f->child = fork();
	assert_true(f->child >= 0);
	if (f->child == 0) {
		char *argv[8];
		size_t n = 0;
		int o = open(po, O_CREAT | O_TRUNC | O_WRONLY, 0644);
		int e = open(pe, O_CREAT | O_TRUNC | O_WRONLY, 0644);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(95);
		if (as_nobody)
			drop_root();
		argv[n++] = (char *)SLUICE_BIN;
		while (*args && n < 7)
			argv[n++] = (char *)*args++;
		argv[n] = NULL;
		execv(SLUICE_BIN, argv);
		_exit(96);
	}
	if (f->srv) {
		code = serve_until_exit(f);
	} else {
		int st;

		assert_int_equal(waitpid(f->child, &st, 0), f->child);
		f->child = 0;
		assert_true(WIFEXITED(st));
		code = WEXITSTATUS(st);
	}
	*out = slurp(po);
	*err = slurp(pe);
	return code;
}

static void test_cli(void **state)
{
	struct fx *f = *state;
	char *out = NULL, *err = NULL;
	json_t *got;

	/* No daemon. */
	assert_int_equal(run_cli(f, (const char *[]){ "status", "--socket", f->path, NULL },
				 false, &out, &err), 3);
	assert_non_null(strstr(err, "sluice-client is not running"));
	free(out);
	free(err);

	open_server(f);
	assert_int_equal(run_cli(f, (const char *[]){ "status", "--json", "--socket", f->path,
						       NULL }, false, &out, &err), 0);
	got = json_loads(out, 0, NULL);
	assert_non_null(got);
	assert_true(json_equal(got, f->doc));
	json_decref(got);
	assert_non_null(strstr(out, "\n  \"user\": {")); /* indented */
	free(out);
	free(err);

	assert_int_equal(run_cli(f, (const char *[]){ "status", "--socket", f->path, NULL },
				 false, &out, &err), 0);
	assert_non_null(strstr(out, "alice (1)"));
	assert_non_null(strstr(out, "nas.home.int"));
	assert_non_null(strstr(out, "100.96.0.1"));
	assert_non_null(strstr(out, "198.51.100.20:51820"));
	assert_string_equal(err, "");
	free(out);
	free(err);

	/* Usage. */
	assert_int_equal(run_cli(f, (const char *[]){ "status", "--bogus", NULL }, false, &out,
				 &err), 2);
	free(out);
	free(err);
	assert_int_equal(run_cli(f, (const char *[]){ "status", "--socket", NULL }, false, &out,
				 &err), 2);
	free(out);
	free(err);

	/* Not root: the file's mode, then (loosened) the daemon's answer. */
	assert_int_equal(run_cli(f, (const char *[]){ "status", "--socket", f->path, NULL },
				 true, &out, &err), 1);
	assert_non_null(strstr(err, "needs root"));
	free(out);
	free(err);
	assert_int_equal(chmod(f->path, 0666), 0);
	assert_int_equal(run_cli(f, (const char *[]){ "status", "--socket", f->path, NULL },
				 true, &out, &err), 1);
	assert_non_null(strstr(err, "sluice-client: permission denied"));
	assert_string_equal(out, "");
	free(out);
	free(err);

	/* The daemon has nothing to say: an error, exit 1. */
	json_decref(f->doc);
	f->doc = NULL;
	assert_int_equal(run_cli(f, (const char *[]){ "status", "--socket", f->path, NULL },
				 false, &out, &err), 1);
	assert_non_null(strstr(err, "sluice-client:"));
	free(out);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_root_gets_document, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nobody_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_reader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seventeen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_and_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
	};

	/* Root: the socket's owner, and setresuid() for the other user. */
	if (geteuid() != 0) {
		fprintf(stderr, "test_client_status: run as root\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
