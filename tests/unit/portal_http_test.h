/* Shared by test_http.c and test_http_ws.c: certificates from portal/tls.c in a
 * temporary directory, a web root, portal-echo (tests/tools) as a child process,
 * and curl. */
#ifndef SLUICE_TEST_PORTAL_HTTP_TEST_H
#define SLUICE_TEST_PORTAL_HTTP_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "portal/tls.h"

extern char **environ;

struct server {
	pid_t pid;
	int port;
};

struct env {
	char dir[64];
	char ca[128], cert[128], key[128], www[128];
	struct server srv;
	pid_t children[8]; /* servers a failed test may have left running */
};

static struct env *E; /* the fixture, for helpers that format commands */

/* ---- portal-echo as a child process -------------------------------------- */

static void echo_path(char *out, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n;

	if (getenv("SLUICE_PORTAL_ECHO")) {
		snprintf(out, len, "%s", getenv("SLUICE_PORTAL_ECHO"));
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	snprintf(out, len, "%s/../tools/portal-echo", dirname(exe));
}

/* Starts portal-echo with extra arguments (NULL-terminated) and reads its port. */
static void server_start(struct server *s, const char *const *extra)
{
	char bin[PATH_MAX], line[64] = "";
	const char *argv[32] = { bin, "--cert", E->cert, "--key", E->key, "--listen",
				 "127.0.0.1", "--port", "0", "--web-root", E->www };
	posix_spawn_file_actions_t fa;
	struct pollfd pfd;
	size_t argc = 11, got = 0;
	int p[2];

	echo_path(bin, sizeof(bin));
	while (extra && *extra)
		argv[argc++] = *extra++;
	assert_int_equal(pipe(p), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	assert_int_equal(posix_spawn(&s->pid, bin, &fa, NULL, (char **)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	while (!strchr(line, '\n') && got < sizeof(line) - 1) {
		ssize_t n;

		assert_int_equal(poll(&pfd, 1, 10000), 1);
		n = read(p[0], line + got, sizeof(line) - 1 - got);
		assert_true(n > 0);
		got += (size_t)n;
		line[got] = '\0';
	}
	close(p[0]);
	for (size_t i = 0; i < 8; i++)
		if (!E->children[i]) {
			E->children[i] = s->pid;
			break;
		}
	assert_int_equal(sscanf(line, "port %d", &s->port), 1);
}

/* Waits for the server to exit: 0 when it stopped cleanly with no session left. */
static int server_wait(struct server *s)
{
	int st;

	for (size_t i = 0; i < 8; i++)
		if (E->children[i] == s->pid)
			E->children[i] = 0;
	assert_int_equal(waitpid(s->pid, &st, 0), s->pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int server_stop(struct server *s)
{
	kill(s->pid, SIGTERM);
	return server_wait(s);
}

static int setup(void **state)
{
	static const char *const dns[] = { "portal.test" };
	static const char *const ips[] = { "198.51.100.30", "127.0.0.1" };
	const struct tls_names names = { dns, 1, ips, 2 };
	struct env *e = calloc(1, sizeof(*e));
	char ca_key[128], cmd[1024];

	strcpy(e->dir, "/tmp/sluice-http-XXXXXX");
	if (!mkdtemp(e->dir))
		return -1;
	snprintf(e->ca, sizeof(e->ca), "%s/ca.pem", e->dir);
	snprintf(ca_key, sizeof(ca_key), "%s/ca.key", e->dir);
	snprintf(e->cert, sizeof(e->cert), "%s/server.pem", e->dir);
	snprintf(e->key, sizeof(e->key), "%s/server.key", e->dir);
	snprintf(e->www, sizeof(e->www), "%s/www", e->dir);
	if (tls_ca_create(e->ca, ca_key, "sluice test CA", 1) ||
	    tls_server_create(e->ca, ca_key, &names, 1, e->cert, e->key))
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "cd %s && mkdir -p www/sub www/.git && echo secret > secret.txt && cd www && "
		 "echo '<h1>sluice</h1>' > index.html && echo 'let a = 1;' > app.js && "
		 "echo 'body {}' > style.css && echo '<svg/>' > logo.svg && "
		 "printf '\\211PNG' > logo.png && echo '{}' > data.json && "
		 "echo sub > sub/index.html && echo x > .hidden && echo x > .git/config && "
		 "ln -s ../secret.txt link.txt && head -c 1500000 /dev/urandom > blob.bin",
		 e->dir);
	if (system(cmd) != 0)
		return -1;
	E = e;
	server_start(&e->srv, NULL);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	char cmd[128];
	int r = server_stop(&e->srv);

	for (size_t i = 0; i < 8; i++)
		if (e->children[i]) {
			kill(e->children[i], SIGKILL);
			waitpid(e->children[i], NULL, 0);
		}

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	if (system(cmd) != 0 || r != 0)
		return -1;
	free(e);
	return 0;
}

/* ---- curl ----------------------------------------------------------------- */

struct reply {
	int exit, status;
	char type[128];
	char body[8192];
	json_t *json;
};

static void reply_free(struct reply *r)
{
	json_decref(r->json);
}

/* curl ARGS with the test CA; the URL's "%P" stands for the port. */
__attribute__((format(printf, 2, 3)))
static void curl(struct reply *r, const char *fmt, ...)
{
	char args[1024], cmd[2048], out[160];
	va_list ap;
	FILE *f;
	size_t n;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	*r = (struct reply){ .exit = -1 };
	snprintf(out, sizeof(out), "%s/reply", E->dir);
	snprintf(cmd, sizeof(cmd), "curl -sS --max-time 20 -o %s -w '%%{http_code} "
		 "%%{content_type}' %s 2>/dev/null", out, args);
	f = popen(cmd, "r");
	assert_non_null(f);
	if (fscanf(f, "%d %127[^\n]", &r->status, r->type) < 1)
		r->status = 0;
	st = pclose(f);
	r->exit = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	f = fopen(out, "r");
	if (f) {
		n = fread(r->body, 1, sizeof(r->body) - 1, f);
		r->body[n] = '\0';
		fclose(f);
		unlink(out);
	}
	r->json = json_loads(r->body, 0, NULL);
}

#define URL "https://127.0.0.1:%d"
#define CA "--cacert %s"

static json_t *stats(int port)
{
	struct reply r;
	json_t *j;

	curl(&r, CA " " URL "/api/v1/stats", E->ca, port);
	assert_int_equal(r.status, 200);
	j = json_incref(r.json);
	reply_free(&r);
	return j;
}

static long long stat_get(int port, const char *name)
{
	json_t *j = stats(port);
	long long v = json_integer_value(json_object_get(j, name));

	json_decref(j);
	return v;
}

#endif
