/* client/state: the bindings file parsed line by line (every way a line can be
 * wrong is skipped and counted, never fatal), formatted and parsed back, its
 * caps, and the file itself: written atomically 0600, read back, refused when
 * others may read it, too big, or not a regular file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/state.h"
#include "lib/buf.h"

struct got {
	struct state_binding *b;
	size_t n, cap;
	int stop_at; /* > 0: return -ECANCELED on that call */
};

static int collect(void *arg, const struct state_binding *b)
{
	struct got *g = arg;

	if (g->stop_at && (int)g->n + 1 == g->stop_at)
		return -ECANCELED;
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		g->b = realloc(g->b, g->cap * sizeof(*g->b));
		assert_non_null(g->b);
	}
	g->b[g->n++] = *b;
	return 1; /* positive: carries on as 0 does */
}

static int parse(const char *text, struct got *g, size_t *bad)
{
	memset(g, 0, sizeof(*g));
	return state_parse(text, strlen(text), collect, g, bad);
}

static void check(const struct state_binding *b, int family, const char *addr, const char *name,
		  uint64_t res, uint64_t gw)
{
	uint8_t a[16];

	assert_int_equal(b->family, family);
	assert_int_equal(inet_pton(family, addr, a), 1);
	assert_memory_equal(b->addr, a, family == AF_INET ? 4 : 16);
	assert_string_equal(b->name, name);
	assert_int_equal(b->resource_id, res);
	assert_int_equal(b->gateway_id, gw);
}

static void test_parse_good(void **state)
{
	struct got g;
	size_t bad = 99;

	(void)state;
	assert_int_equal(parse("# sluice-client bindings v1\n"
			       "100.96.0.1 nas.home.int 1 1\n"
			       "fd00:2021:1111:8000::1 nas.home.int 1 1\n"
			       "\n"
			       "# a comment\n"
			       "100.96.0.2\tgit-01.corp_x.example  42   0\r\n"
			       "100.96.0.3 a 18446744073709551615 18446744073709551615",
			       &g, &bad),
			 0);
	assert_int_equal(bad, 0);
	assert_int_equal(g.n, 4);
	check(&g.b[0], AF_INET, "100.96.0.1", "nas.home.int", 1, 1);
	check(&g.b[1], AF_INET6, "fd00:2021:1111:8000::1", "nas.home.int", 1, 1);
	check(&g.b[2], AF_INET, "100.96.0.2", "git-01.corp_x.example", 42, 0);
	check(&g.b[3], AF_INET, "100.96.0.3", "a", UINT64_MAX, UINT64_MAX);
	free(g.b);

	/* A header alone: no bindings. */
	assert_int_equal(parse("# sluice-client bindings v1\n", &g, NULL), 0);
	assert_int_equal(g.n, 0);
	assert_int_equal(parse("# sluice-client bindings v1", &g, NULL), 0);
	assert_int_equal(g.n, 0);
}

static void test_parse_bad_lines(void **state)
{
	char label64[80], name254[300], text[4096];
	struct got g;
	size_t bad = 0;

	(void)state;
	memset(label64, 'a', 64);
	strcpy(label64 + 64, ".int");
	for (size_t i = 0; i < 254; i += 2)
		memcpy(name254 + i, i == 252 ? "ab" : "a.", 2);
	name254[254] = '\0';
	snprintf(text, sizeof(text),
		 "# sluice-client bindings v1\n"
		 "100.96.0.1 ok.int 1 1\n"
		 "100.96.0.300 a.int 1 1\n"        /* address */
		 "100.96.0 a.int 1 1\n"
		 "fd00::g a.int 1 1\n"
		 "100.96.0.2 Nas.int 1 1\n"        /* names: uppercase */
		 "100.96.0.3 a..int 1 1\n"         /* empty label */
		 "100.96.0.4 a.int. 1 1\n"         /* trailing dot */
		 "100.96.0.5 .a.int 1 1\n"
		 "100.96.0.6 a*b.int 1 1\n"
		 "100.96.0.7 %s 1 1\n"             /* a label of 64 */
		 "100.96.0.8 %s 1 1\n"             /* 254 characters */
		 "100.96.0.9 a.int 0 1\n"          /* resource 0 */
		 "100.96.0.10 a.int x 1\n"
		 "100.96.0.11 a.int -1 1\n"
		 "100.96.0.12 a.int +1 1\n"
		 "100.96.0.13 a.int 1 18446744073709551616\n" /* 2^64 */
		 "100.96.0.14 a.int 1 000000000000000000001\n" /* 21 digits */
		 "100.96.0.15 a.int 1\n"           /* three fields */
		 "100.96.0.16 a.int 1 1 1\n"       /* five */
		 "100.96.0.1 dup.int 2 2\n"        /* the first stays */
		 "100.96.0.17 a.int 1 1x\n"
		 " 100.96.0.18 last.int 7 8 \n",
		 label64, name254);
	assert_int_equal(parse(text, &g, &bad), 0);
	assert_int_equal(bad, 20);
	assert_int_equal(g.n, 2);
	check(&g.b[0], AF_INET, "100.96.0.1", "ok.int", 1, 1);
	check(&g.b[1], AF_INET, "100.96.0.18", "last.int", 7, 8);
	free(g.b);

	/* 253 characters and a label of 63 are fine. */
	name254[253] = '\0';
	memmove(label64, label64 + 1, strlen(label64)); /* a label of 63 */
	snprintf(text, sizeof(text), "# sluice-client bindings v1\n1.2.3.4 %s 1 1\n1.2.3.5 %s 1 1\n",
		 name254, label64);
	assert_int_equal(parse(text, &g, &bad), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(strlen(g.b[0].name), 253);
	free(g.b);

	/* An IPv4 and an IPv6 address with the same bytes are different. */
	assert_int_equal(parse("# sluice-client bindings v1\n0.0.0.1 a 1 1\n::1 a 1 1\n"
			       "::0.0.0.1 a 1 1\n::0:1 a 1 1\n", &g, &bad), 0);
	assert_int_equal(g.n, 2); /* ::0.0.0.1 and ::0:1 are ::1 again */
	assert_int_equal(bad, 2);
	free(g.b);
}

static void test_parse_headers(void **state)
{
	struct got g;
	size_t bad = 5;
	char *big;

	(void)state;
	assert_int_equal(parse("# sluice-client bindings v2\n1.2.3.4 a 1 1\n", &g, &bad),
			 -EPROTONOSUPPORT);
	assert_int_equal(g.n, 0);
	assert_int_equal(parse("# sluice-client bindings v10\n", &g, NULL), -EPROTONOSUPPORT);
	assert_int_equal(parse("# sluice-client bindings v1 \n", &g, NULL), -EPROTONOSUPPORT);
	assert_int_equal(parse("", &g, &bad), -EBADMSG);
	assert_int_equal(state_parse(NULL, 0, collect, &g, &bad), -EBADMSG);
	/* A NUL inside a field: a bad line, not the text before it. */
	{
		static const char nul[] = "# sluice-client bindings v1\n1.2.3.4\0x a 1 1\n1.2.3.5 a 1 1\n";

		memset(&g, 0, sizeof(g));
		assert_int_equal(state_parse(nul, sizeof(nul) - 1, collect, &g, &bad), 0);
		assert_int_equal(bad, 1);
		assert_int_equal(g.n, 1);
		free(g.b);
	}
	assert_int_equal(parse("\n# sluice-client bindings v1\n", &g, NULL), -EBADMSG);
	assert_int_equal(parse("1.2.3.4 a 1 1\n", &g, NULL), -EBADMSG);
	assert_int_equal(g.n, 0);
	assert_int_equal(parse("# sluice-client bindings v1\r\n1.2.3.4 a 1 1\r\n", &g, &bad), 0);
	assert_int_equal(g.n, 1);
	free(g.b);

	/* Over the cap: refused whole, before a line is read. */
	big = malloc((size_t)STATE_MAX_FILE + 1);
	assert_non_null(big);
	memset(big, '\n', (size_t)STATE_MAX_FILE + 1);
	memcpy(big, STATE_HEADER, strlen(STATE_HEADER));
	memset(&g, 0, sizeof(g));
	assert_int_equal(state_parse(big, (size_t)STATE_MAX_FILE + 1, collect, &g, &bad), -EFBIG);
	assert_int_equal(state_parse(big, STATE_MAX_FILE, collect, &g, &bad), 0);
	assert_int_equal(g.n, 0);
	free(big);
}

/* The callback's negative return stops the parse and is returned. */
static void test_parse_stop(void **state)
{
	struct got g = { .stop_at = 2 };
	const char *t = "# sluice-client bindings v1\n1.1.1.1 a 1 1\n1.1.1.2 a 1 1\n1.1.1.3 a 1 1\n";

	(void)state;
	assert_int_equal(state_parse(t, strlen(t), collect, &g, NULL), -ECANCELED);
	assert_int_equal(g.n, 1);
	free(g.b);
}

static void fill(struct state_binding *b, size_t i)
{
	memset(b, 0, sizeof(*b));
	if (i % 3 == 2) {
		b->family = AF_INET6;
		inet_pton(AF_INET6, "fd00:2021:1111:8000::", b->addr);
		b->addr[12] = (uint8_t)(i >> 24);
		b->addr[13] = (uint8_t)(i >> 16);
		b->addr[14] = (uint8_t)(i >> 8);
		b->addr[15] = (uint8_t)i;
	} else {
		b->family = AF_INET;
		b->addr[0] = 100;
		b->addr[1] = (uint8_t)(96 + (i >> 16 & 31));
		b->addr[2] = (uint8_t)(i >> 8);
		b->addr[3] = (uint8_t)i;
	}
	snprintf(b->name, sizeof(b->name), "host-%zu.svc_%zu.example", i, i % 7);
	b->resource_id = i + 1;
	b->gateway_id = i % 5;
}

/* Many bindings through format and parse: equal, in order, none bad. */
static void test_roundtrip(void **state)
{
	enum { N = 100000 };
	struct state_binding *b = calloc(N, sizeof(*b));
	struct buf out;
	struct got g = { 0 };
	size_t bad = 1;

	(void)state;
	assert_non_null(b);
	for (size_t i = 0; i < N; i++)
		fill(&b[i], i);
	buf_init(&out, STATE_MAX_FILE + 1);
	assert_int_equal(state_format(&out, b, N), 0);
	assert_memory_equal(out.data, STATE_HEADER "\n", strlen(STATE_HEADER) + 1);
	assert_int_equal(state_parse((const char *)out.data, out.len, collect, &g, &bad), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(g.n, N);
	for (size_t i = 0; i < N; i++)
		assert_memory_equal(&g.b[i], &b[i], sizeof(b[i]));
	free(g.b);
	buf_free(&out);
	free(b);
}

static void test_format_refuses(void **state)
{
	struct state_binding b[2];
	struct buf out;
	size_t len;

	(void)state;
	fill(&b[0], 1);
	fill(&b[1], 2);
	buf_init(&out, 1 << 20);
	assert_int_equal(buf_append(&out, "x", 1), 0);
	assert_int_equal(state_format(&out, b, 2), 0);
	len = out.len;
	strcpy(b[1].name, "Upper.case");
	assert_int_equal(state_format(&out, b, 2), -EINVAL);
	assert_int_equal(out.len, len); /* as it was */
	fill(&b[1], 2);
	b[1].resource_id = 0;
	assert_int_equal(state_format(&out, b, 2), -EINVAL);
	fill(&b[1], 2);
	b[1].family = AF_UNIX;
	assert_int_equal(state_format(&out, b, 2), -EINVAL);
	fill(&b[1], 2);
	memset(b[1].name, 'a', sizeof(b[1].name)); /* no NUL */
	assert_int_equal(state_format(&out, b, 2), -EINVAL);
	assert_int_equal(out.len, len);
	buf_free(&out);
}

/* Past STATE_MAX_FILE: -EFBIG, nothing appended. */
static void test_format_too_big(void **state)
{
	enum { N = 70000 }; /* lines of 271 bytes or more: over 16 MiB */
	struct state_binding *b = calloc(N, sizeof(*b));
	struct buf out;

	(void)state;
	assert_non_null(b);
	for (size_t i = 0; i < N; i++) {
		fill(&b[i], i);
		memset(b[i].name, 'a', 250);
		snprintf(b[i].name + 250, 4, "%03zu", i % 1000);
		b[i].name[63] = b[i].name[127] = b[i].name[191] = '.';
	}
	buf_init(&out, 2 * STATE_MAX_FILE);
	assert_int_equal(state_format(&out, b, N), -EFBIG);
	assert_int_equal(out.len, 0);
	buf_free(&out);
	free(b);
}

static char dir[256];

static int files_in_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."));
	closedir(d);
	return n;
}

static int setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/test_client_state.XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	(void)state;
	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (unlink(p) < 0)
			rmdir(p);
	}
	if (d)
		closedir(d);
	return rmdir(dir);
}

static void test_file(void **state)
{
	struct state_binding b[3];
	struct buf text, in;
	struct stat st;
	char path[512], other[512];
	int fd;

	(void)state;
	for (size_t i = 0; i < 3; i++)
		fill(&b[i], i);
	buf_init(&text, STATE_MAX_FILE);
	buf_init(&in, STATE_MAX_FILE);
	snprintf(path, sizeof(path), "%s/bindings", dir);

	assert_int_equal(state_read(dir, "bindings", &in), -ENOENT);
	assert_int_equal(state_format(&text, b, 3), 0);
	assert_int_equal(state_write(dir, "bindings", &text), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(files_in_dir(), 1); /* no temporary left behind */
	assert_int_equal(state_read(dir, "bindings", &in), 0);
	assert_int_equal(in.len, text.len);
	assert_memory_equal(in.data, text.data, text.len);

	/* Replaced whole. */
	buf_reset(&text);
	assert_int_equal(state_format(&text, b, 1), 0);
	assert_int_equal(state_write(dir, "bindings", &text), 0);
	buf_reset(&in);
	assert_int_equal(state_read(dir, "bindings", &in), 0);
	assert_int_equal(in.len, text.len);
	assert_memory_equal(in.data, text.data, text.len);
	assert_int_equal(files_in_dir(), 1);

	/* Others may read it, or write it: refused. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(state_read(dir, "bindings", &in), -EPERM);
	assert_int_equal(chmod(path, 0602), 0);
	assert_int_equal(state_read(dir, "bindings", &in), -EPERM);
	assert_int_equal(chmod(path, 0600), 0);

	/* Not a regular file, a symlink, names that are paths. */
	snprintf(other, sizeof(other), "%s/sub", dir);
	assert_int_equal(mkdir(other, 0700), 0);
	assert_int_equal(state_read(dir, "sub", &in), -EINVAL);
	snprintf(other, sizeof(other), "%s/link", dir);
	assert_int_equal(symlink(path, other), 0);
	assert_int_equal(state_read(dir, "link", &in), -EINVAL);
	assert_int_equal(state_read(dir, "sub/../bindings", &in), -EINVAL);
	assert_int_equal(state_read(dir, "", &in), -EINVAL);
	assert_int_equal(state_read(dir, "..", &in), -EINVAL);
	assert_int_equal(state_write(dir, "a/b", &text), -EINVAL);

	/* Too big: refused by its size (a sparse file: nothing is read). */
	snprintf(other, sizeof(other), "%s/big", dir);
	fd = open(other, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)STATE_MAX_FILE + 1), 0);
	close(fd);
	buf_reset(&in);
	assert_int_equal(state_read(dir, "big", &in), -EFBIG);
	assert_int_equal(in.len, 0);
	/* Exactly at the cap: read whole. */
	assert_int_equal(truncate(other, STATE_MAX_FILE), 0);
	assert_int_equal(state_read(dir, "big", &in), 0);
	assert_int_equal(in.len, STATE_MAX_FILE);

	/* A directory that does not exist: the error, nothing made. */
	snprintf(other, sizeof(other), "%s/missing", dir);
	assert_int_equal(state_write(other, "bindings", &text), -ENOENT);
	buf_free(&text);
	buf_free(&in);
}

/* A text over the cap is not written; the old file stays. */
static void test_write_too_big(void **state)
{
	struct buf text;

	(void)state;
	buf_init(&text, 2 * STATE_MAX_FILE);
	assert_int_equal(buf_reserve(&text, (size_t)STATE_MAX_FILE + 1), 0);
	memset(text.data, '#', (size_t)STATE_MAX_FILE + 1);
	text.len = (size_t)STATE_MAX_FILE + 1;
	assert_int_equal(state_write(dir, "huge", &text), -EFBIG);
	assert_int_equal(access(dir, F_OK), 0);
	buf_free(&text);
	{
		char p[512];

		snprintf(p, sizeof(p), "%s/huge", dir);
		assert_int_equal(access(p, F_OK), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad_lines),
		cmocka_unit_test(test_parse_headers),
		cmocka_unit_test(test_parse_stop),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_format_refuses),
		cmocka_unit_test(test_format_too_big),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_write_too_big),
	};

	return cmocka_run_group_tests_name("client_state", tests, setup, teardown);
}
