/* hostdns: the resolv.conf parser against tables, and apply/revert/recover on
 * real files in a temporary directory of each test's own, including a real bind
 * mount in a private mount namespace (what `ip netns exec` does to resolv.conf).
 * The bind-mount test needs root (CAP_SYS_ADMIN); the rest do not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "dns/hostdns.h"
#include "lib/buf.h"

static struct hostdns_conf conf; /* 5 KiB: off the cmocka stack */

static void parse_str(const char *s)
{
	assert_int_equal(hostdns_parse(s, strlen(s), &conf), 0);
}

static const char *ns_text(const struct sockaddr_storage *ss)
{
	static char txt[INET6_ADDRSTRLEN];
	const void *a = ss->ss_family == AF_INET ?
		(const void *)&((const struct sockaddr_in *)ss)->sin_addr :
		(const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;

	assert_non_null(inet_ntop(ss->ss_family, a, txt, sizeof(txt)));
	assert_int_equal(ntohs(((const struct sockaddr_in *)ss)->sin_port), 53);
	return txt;
}

/* A sockaddr as the parser makes one (port 53). */
static struct sockaddr_storage addr(const char *txt)
{
	struct hostdns_conf c;
	char line[80];

	snprintf(line, sizeof(line), "nameserver %s", txt);
	assert_int_equal(hostdns_parse(line, strlen(line), &c), 0);
	assert_int_equal(c.n_ns, 1);
	return c.ns[0].addr;
}

static const struct hostdns_prefix *sentinel_ranges(void)
{
	static struct hostdns_prefix p[2];

	p[0].family = AF_INET;
	p[0].bits = 24;
	inet_pton(AF_INET, "100.100.111.0", &p[0].ip4);
	p[1].family = AF_INET6;
	p[1].bits = 120;
	inet_pton(AF_INET6, "fd00:2021:1111:8000:100:100:111:0", &p[1].ip6);
	return p;
}

struct env {
	char dir[64], resolv[128], backup[128], rdir[128], tool[128], log[128];
	struct hostdns_paths paths;
	struct sockaddr_storage sent[3];
};

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void write_str(const char *path, const char *s)
{
	write_file(path, s, strlen(s), 0644);
}

/* The whole file, NUL-terminated; *len gets its size. */
static char *slurp(const char *path, size_t *len)
{
	static char data[HOSTDNS_MAX_FILE + 2];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	n = read(fd, data, sizeof(data) - 1);
	assert_true(n >= 0);
	close(fd);
	data[n] = '\0';
	if (len)
		*len = (size_t)n;
	return data;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int setup(void **state)
{
	static const char *const dirs[] = { "etc", "etc/netns", "etc/netns/blue", "run",
					    "run/systemd", "run/systemd/resolve", "run/resolvconf" };
	static struct env e;
	char p[256];

	memset(&e, 0, sizeof(e));
	snprintf(e.dir, sizeof(e.dir), "/tmp/hostdns.XXXXXX");
	if (!mkdtemp(e.dir))
		return -1;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (snprintf(p, sizeof(p), "%s/%s", e.dir, dirs[i]) < 0 || mkdir(p, 0755) < 0)
			return -1;
	snprintf(e.resolv, sizeof(e.resolv), "%s/etc/resolv.conf", e.dir);
	snprintf(e.backup, sizeof(e.backup), "%s/etc/resolv.conf.sluice-backup", e.dir);
	snprintf(e.rdir, sizeof(e.rdir), "%s/run/systemd/resolve", e.dir);
	snprintf(e.tool, sizeof(e.tool), "%s/resolvectl", e.dir);
	snprintf(e.log, sizeof(e.log), "%s/resolvectl.log", e.dir);
	e.paths = (struct hostdns_paths){
		.resolv = e.resolv, .backup = e.backup, .resolved_dir = e.rdir,
		.resolvectl = e.tool, .sentinels = sentinel_ranges(), .n_sentinels = 2,
	};
	e.sent[0] = addr("100.100.111.1");
	e.sent[1] = addr("100.100.111.2");
	e.sent[2] = addr("fd00:2021:1111:8000:100:100:111:1");
	*state = &e;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	return nftw(((struct env *)*state)->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- parsing ------------------------------------------------------------- */

static void test_parse_basic(void **state)
{
	(void)state;
	parse_str("nameserver 192.0.2.1\nnameserver 2001:db8::53\nnameserver 198.51.100.7");
	assert_int_equal(conf.n_ns, 3);
	assert_string_equal(ns_text(&conf.ns[0].addr), "192.0.2.1");
	assert_string_equal(ns_text(&conf.ns[1].addr), "2001:db8::53");
	assert_string_equal(ns_text(&conf.ns[2].addr), "198.51.100.7"); /* no final LF */
	assert_int_equal(conf.n_ignored, 0);
	assert_int_equal(conf.search_kw, HOSTDNS_NO_SEARCH);
	assert_string_equal(conf.options, "");

	parse_str("");
	assert_int_equal(conf.n_ns, 0);
	assert_int_equal(hostdns_parse(NULL, 0, &conf), 0);
}

static void test_parse_zone(void **state)
{
	(void)state;
	parse_str("nameserver fe80::1%eth0\n"
		  "nameserver fe80::2%3\n"
		  "nameserver fe80::3%\n"
		  "nameserver fe80::4%a-name-far-too-long-for-ifnamsiz\n"
		  "nameserver 192.0.2.1%eth0\n"          /* not IPv6: glibc drops it */
		  "nameserver fe80::5%eth1 trailing\n");
	assert_int_equal(conf.n_ns, 5);
	assert_int_equal(conf.n_ignored, 1);
	assert_string_equal(ns_text(&conf.ns[0].addr), "fe80::1");
	assert_string_equal(conf.ns[0].zone, "eth0");
	assert_int_equal(((struct sockaddr_in6 *)&conf.ns[0].addr)->sin6_scope_id, 0);
	assert_int_equal(((struct sockaddr_in6 *)&conf.ns[1].addr)->sin6_scope_id, 3);
	assert_string_equal(conf.ns[1].zone, "");
	assert_string_equal(conf.ns[2].zone, "");
	assert_string_equal(conf.ns[3].zone, ""); /* glibc: scope 0, server kept */
	assert_string_equal(ns_text(&conf.ns[4].addr), "fe80::5");
	assert_string_equal(conf.ns[4].zone, "eth1");
}

static void test_parse_search_domain(void **state)
{
	static const struct {
		const char *text;
		enum hostdns_search_kw kw;
		const char *value;
	} t[] = {
		{ "search a.example b.example\n", HOSTDNS_SEARCH, "a.example b.example" },
		{ "domain corp.example\n", HOSTDNS_DOMAIN, "corp.example" },
		/* mutually exclusive, the last wins */
		{ "search a.example\ndomain d.example\n", HOSTDNS_DOMAIN, "d.example" },
		{ "domain d.example\nsearch a.example\n", HOSTDNS_SEARCH, "a.example" },
		{ "search a\nsearch b c\n", HOSTDNS_SEARCH, "b c" },
		/* an empty one changes nothing (glibc `continue`s) */
		{ "search a.example\ndomain\n", HOSTDNS_SEARCH, "a.example" },
		{ "search a.example\nsearch \t \r\n", HOSTDNS_SEARCH, "a.example" },
		/* verbatim: glibc uses the first word of domain; written back as is */
		{ "domain\t x.example  y.example \t\r\n", HOSTDNS_DOMAIN, "x.example  y.example" },
		{ " search indented.example\n", HOSTDNS_NO_SEARCH, "" },
		{ "searching x\nsearch\n", HOSTDNS_NO_SEARCH, "" },
		{ "SEARCH upper.example\n", HOSTDNS_NO_SEARCH, "" },
		{ "search a.example # not a comment to glibc\n", HOSTDNS_SEARCH,
		  "a.example # not a comment to glibc" },
		{ "# search c.example\n; domain d.example\n", HOSTDNS_NO_SEARCH, "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		parse_str(t[i].text);
		assert_int_equal(conf.search_kw, t[i].kw);
		assert_string_equal(conf.search, t[i].value);
	}
}

static void test_parse_options(void **state)
{
	(void)state;
	parse_str("options ndots:2 edns0 timeout:1\n");
	assert_string_equal(conf.options, "ndots:2 edns0 timeout:1");
	parse_str("options ndots:2\r\noptions\ttrust-ad   rotate \nsortlist 10.0.0.0/255.0.0.0\n"
		  "sortlist 192.0.2.0\noptions\n");
	assert_string_equal(conf.options, "ndots:2 trust-ad   rotate");
	assert_string_equal(conf.sortlist, "10.0.0.0/255.0.0.0 192.0.2.0");
	assert_int_equal(conf.n_ignored, 1); /* the empty options line */
}

static void test_parse_comments_whitespace(void **state)
{
	static const struct {
		const char *text;
		size_t n_ns;
		unsigned ignored;
		const char *first;
	} t[] = {
		{ "# comment\n; comment\nnameserver 192.0.2.1\n", 1, 0, "192.0.2.1" },
		{ "nameserver\t192.0.2.1\n", 1, 0, "192.0.2.1" },
		{ "nameserver  \t 192.0.2.1  \t\n", 1, 0, "192.0.2.1" },
		{ "nameserver 192.0.2.1\r\nnameserver 192.0.2.2\r\n", 2, 0, "192.0.2.1" },
		{ "nameserver 192.0.2.1 # upstream\n", 1, 0, "192.0.2.1" },
		{ "nameserver 192.0.2.1;x\n", 0, 1, NULL },
		{ "\n\n   \n\t\r\n", 0, 0, NULL },
		{ " nameserver 192.0.2.1\n", 0, 1, NULL },   /* glibc: column 0 only */
		{ "nameserver192.0.2.1\n", 0, 1, NULL },
		{ "nameserver\n", 0, 1, NULL },
		{ "nameserver \r\n", 0, 1, NULL },
		{ "nameservers 192.0.2.1\n", 0, 1, NULL },
		{ "#nameserver 192.0.2.1\n", 0, 0, NULL },
		{ "nameserver 127.1\n", 1, 0, "127.0.0.1" }, /* inet_aton, as glibc */
		{ "nameserver 1.2.3.4.5\nnameserver 256.1.1.1\n", 0, 2, NULL },
		{ "nameserver ::g\nnameserver 2001:db8:::1\n", 0, 2, NULL },
		{ "nameserver ::ffff:192.0.2.9\n", 1, 0, "::ffff:192.0.2.9" },
		{ "lookup file bind\nfamily inet4\n", 0, 2, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		parse_str(t[i].text);
		assert_int_equal(conf.n_ns, t[i].n_ns);
		assert_int_equal(conf.n_ignored, t[i].ignored);
		if (t[i].first)
			assert_string_equal(ns_text(&conf.ns[0].addr), t[i].first);
	}
}

static void test_parse_garbage(void **state)
{
	static const char nul[] = "nameserver 192.0.2.1\0junk\nnameserver 192.0.2.2\n";
	uint8_t junk[4096];
	uint32_t x = 12345;

	(void)state;
	assert_int_equal(hostdns_parse(nul, sizeof(nul) - 1, &conf), 0);
	assert_int_equal(conf.n_ns, 1);
	assert_string_equal(ns_text(&conf.ns[0].addr), "192.0.2.2");
	assert_int_equal(conf.n_ignored, 1);
	/* noise, noise with newlines, noise after a keyword: never a crash */
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < sizeof(junk); i++) {
			x = x * 1103515245 + 12345;
			junk[i] = (uint8_t)(x >> 16);
		}
		if (round % 2)
			memcpy(junk, "nameserver ", 11);
		assert_int_equal(hostdns_parse((const char *)junk, sizeof(junk), &conf), 0);
		assert_true(conf.n_ns <= HOSTDNS_MAX_NS);
	}
}

static void test_parse_caps(void **state)
{
	static char big[HOSTDNS_MAX_FILE + 2];
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 20);
	for (int i = 0; i < 20; i++)
		assert_int_equal(buf_printf(&b, "nameserver 192.0.2.%d\n", i + 1), 0);
	assert_int_equal(hostdns_parse((const char *)b.data, b.len, &conf), 0);
	assert_int_equal(conf.n_ns, HOSTDNS_MAX_NS);
	assert_int_equal(conf.n_ns_dropped, 4);
	assert_string_equal(ns_text(&conf.ns[15].addr), "192.0.2.16");

	/* a line of exactly HOSTDNS_MAX_LINE counts, one byte more is ignored whole */
	buf_reset(&b);
	buf_printf(&b, "search %0*d\n", HOSTDNS_MAX_LINE - 7, 7);
	buf_printf(&b, "options %0*d\n", HOSTDNS_MAX_LINE - 8 + 1, 8);
	buf_printf(&b, "nameserver 192.0.2.1%*s\n", HOSTDNS_MAX_LINE, "");
	assert_int_equal(hostdns_parse((const char *)b.data, b.len, &conf), 0);
	assert_int_equal(strlen(conf.search), HOSTDNS_MAX_LINE - 7);
	assert_string_equal(conf.options, "");
	assert_int_equal(conf.n_ns, 0);
	assert_int_equal(conf.n_ignored, 2);

	/* options add up until one written line would be too long */
	buf_reset(&b);
	for (int i = 0; i < 200; i++)
		buf_printf(&b, "options opt%03d\n", i);
	assert_int_equal(hostdns_parse((const char *)b.data, b.len, &conf), 0);
	assert_true(strlen(conf.options) <= HOSTDNS_MAX_LINE - 8);
	assert_int_equal(strncmp(conf.options, "opt000 opt001 ", 14), 0);
	assert_true(conf.n_ignored > 0);
	buf_free(&b);

	memset(big, '#', sizeof(big));
	assert_int_equal(hostdns_parse(big, HOSTDNS_MAX_FILE, &conf), 0);
	assert_int_equal(hostdns_parse(big, HOSTDNS_MAX_FILE + 1, &conf), -EFBIG);
}

static void test_upstreams(void **state)
{
	struct sockaddr_storage up[HOSTDNS_MAX_NS];
	size_t n;

	(void)state;
	parse_str("nameserver 100.100.111.1\n"
		  "nameserver 192.0.2.1\n"
		  "nameserver fd00:2021:1111:8000:100:100:111:7\n"
		  "nameserver ::ffff:100.100.111.9\n"
		  "nameserver 100.100.112.1\n"                       /* next /24: real */
		  "nameserver fd00:2021:1111:8000:100:100:111:100\n" /* next /120: real */
		  "nameserver fe80::1%lo\n");
	n = hostdns_upstreams(&conf, sentinel_ranges(), 2, up, HOSTDNS_MAX_NS);
	assert_int_equal(n, 4);
	assert_string_equal(ns_text(&up[0]), "192.0.2.1");
	assert_string_equal(ns_text(&up[1]), "100.100.112.1");
	assert_string_equal(ns_text(&up[2]), "fd00:2021:1111:8000:100:100:111:100");
	assert_string_equal(ns_text(&up[3]), "fe80::1");
	assert_int_equal(((struct sockaddr_in6 *)&up[3])->sin6_scope_id, if_nametoindex("lo"));
	assert_int_equal(hostdns_upstreams(&conf, sentinel_ranges(), 2, up, 2), 2);
	assert_int_equal(hostdns_upstreams(&conf, NULL, 0, up, HOSTDNS_MAX_NS), 7);

	/* no nameserver line: glibc asks the local host */
	parse_str("search a.example\n");
	assert_int_equal(hostdns_upstreams(&conf, sentinel_ranges(), 2, up, 4), 1);
	assert_string_equal(ns_text(&up[0]), "127.0.0.1");
	/* only sentinels (our own file survived): nothing to forward to */
	parse_str("nameserver 100.100.111.1\nnameserver 100.100.111.2\n");
	assert_int_equal(hostdns_upstreams(&conf, sentinel_ranges(), 2, up, 4), 0);
}

static void test_format_roundtrip(void **state)
{
	struct env *e = *state;
	struct hostdns_conf again;
	struct sockaddr_storage bad = { .ss_family = AF_UNIX };
	struct buf b;
	const char *text;

	parse_str("nameserver 192.0.2.1\ndomain corp.example\noptions ndots:2 edns0\n"
		  "options timeout:1\nsortlist 10.0.0.0\n");
	buf_init(&b, HOSTDNS_MAX_FILE);
	assert_int_equal(hostdns_format(&b, &conf, e->sent, 3, "/etc/x.bak"), 0);
	assert_int_equal(buf_append(&b, "", 1), 0);
	text = (const char *)b.data;
	assert_int_equal(strncmp(text, "# Managed by sluice. The original is in /etc/x.bak", 50), 0);
	assert_non_null(strstr(text, "\nnameserver 100.100.111.1\nnameserver 100.100.111.2\n"
				     "nameserver fd00:2021:1111:8000:100:100:111:1\n"
				     "domain corp.example\noptions ndots:2 edns0 timeout:1\n"
				     "sortlist 10.0.0.0\n"));
	assert_int_equal(hostdns_parse(text, b.len - 1, &again), 0);
	assert_int_equal(again.n_ns, 3);
	assert_int_equal(again.n_ignored, 0);
	assert_int_equal(again.search_kw, HOSTDNS_DOMAIN);
	assert_string_equal(again.search, conf.search);
	assert_string_equal(again.options, conf.options);
	assert_string_equal(again.sortlist, conf.sortlist);

	buf_reset(&b);
	assert_int_equal(hostdns_format(&b, &conf, e->sent, 0, "/x"), -EINVAL);
	assert_int_equal(hostdns_format(&b, &conf, e->sent, HOSTDNS_MAX_NS + 1, "/x"), -EINVAL);
	assert_int_equal(hostdns_format(&b, &conf, &bad, 1, "/x"), -EINVAL);
	assert_int_equal(hostdns_format(&b, &conf, e->sent, 1, "/x\nnameserver 1.1.1.1"),
			 -EINVAL);
	buf_free(&b);
}

/* ---- apply, revert, recover ------------------------------------------------ */

static const char ORIG[] = "# written by dhclient\r\nnameserver 192.0.2.1\n"
			   "nameserver 2001:db8::1\nsearch corp.example lab.example\n"
			   "options edns0 trust-ad\n\tweird line\n\xff\xfe no final newline";

/* resolv.conf is ORIG, then sluice applies n sentinels. */
static void apply_orig(struct env *e, size_t n)
{
	write_file(e->resolv, ORIG, sizeof(ORIG) - 1, 0644);
	parse_str(ORIG);
	assert_int_equal(hostdns_apply(&e->paths, &conf, e->sent, n), HOSTDNS_DONE);
}

static void assert_is_orig(const char *path)
{
	size_t len;
	const char *data = slurp(path, &len);

	assert_int_equal(len, sizeof(ORIG) - 1);
	assert_memory_equal(data, ORIG, len);
}

static void test_apply_revert_identical(void **state)
{
	struct env *e = *state;
	struct stat st;
	const char *now;

	apply_orig(e, 2);
	assert_int_equal(hostdns_revert(&e->paths), HOSTDNS_DONE);
	assert_int_equal(chmod(e->resolv, 0640), 0);
	assert_int_equal(hostdns_apply(&e->paths, &conf, e->sent, 2), HOSTDNS_DONE);
	assert_is_orig(e->backup);
	assert_int_equal(stat(e->backup, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(stat(e->resolv, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640); /* the original's mode, not umask */
	now = slurp(e->resolv, NULL);
	assert_non_null(strstr(now, e->backup));
	assert_non_null(strstr(now, "\nnameserver 100.100.111.1\nnameserver 100.100.111.2\n"
				    "search corp.example lab.example\noptions edns0 trust-ad\n"));
	assert_null(strstr(now, "192.0.2.1"));

	assert_int_equal(hostdns_revert(&e->paths), HOSTDNS_DONE);
	assert_is_orig(e->resolv);
	assert_int_equal(stat(e->resolv, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_false(exists(e->backup));
	/* idempotent */
	assert_int_equal(hostdns_revert(&e->paths), HOSTDNS_DONE);
	assert_int_equal(hostdns_recover(&e->paths), HOSTDNS_DONE);
	assert_is_orig(e->resolv);
}

static void test_apply_twice_keeps_original(void **state)
{
	struct env *e = *state;

	apply_orig(e, 1);
	/* upstreams changed: re-applied with more sentinels; the backup stays */
	parse_str(slurp(e->resolv, NULL));
	assert_int_equal(hostdns_apply(&e->paths, &conf, e->sent, 3), HOSTDNS_DONE);
	assert_is_orig(e->backup);
	parse_str(slurp(e->resolv, NULL));
	assert_int_equal(conf.n_ns, 3);
	assert_string_equal(conf.search, "corp.example lab.example");
	assert_int_equal(hostdns_revert(&e->paths), HOSTDNS_DONE);
	assert_is_orig(e->resolv);
}

static void test_crash_recover(void **state)
{
	struct env *e = *state;
	char tmp[160];

	apply_orig(e, 2);
	/* kill -9: nothing reverted, a temporary file left behind */
	snprintf(tmp, sizeof(tmp), "%s.sluice-tmp", e->resolv);
	write_str(tmp, "half written");
	assert_int_equal(hostdns_recover(&e->paths), HOSTDNS_DONE);
	assert_is_orig(e->resolv);
	assert_false(exists(e->backup));
	assert_false(exists(tmp));
	assert_int_equal(hostdns_recover(&e->paths), HOSTDNS_DONE);
	assert_is_orig(e->resolv);

	/* died after saving the backup, before writing resolv.conf */
	write_file(e->backup, ORIG, sizeof(ORIG) - 1, 0644);
	assert_int_equal(hostdns_recover(&e->paths), HOSTDNS_FOREIGN);
	assert_is_orig(e->resolv);
	assert_false(exists(e->backup));
}

static void test_foreign_rewrite_kept(void **state)
{
	struct env *e = *state;

	apply_orig(e, 2);
	write_str(e->resolv, "nameserver 198.51.100.1\n"); /* DHCP renewal */
	assert_int_equal(hostdns_revert(&e->paths), HOSTDNS_FOREIGN);
	assert_string_equal(slurp(e->resolv, NULL), "nameserver 198.51.100.1\n");
	assert_false(exists(e->backup));
}

static void test_edited_file(void **state)
{
	struct env *e = *state;
	char text[4096];
	const char *now;
	size_t len;

	/* our header kept, the sentinels replaced by real servers: the digest no
	 * longer matches, so it is someone else's file now and kept */
	apply_orig(e, 2);
	now = slurp(e->resolv, NULL);
	len = (size_t)(strstr(now, "nameserver") - now);
	len = (size_t)snprintf(text, sizeof(text), "%.*snameserver 198.51.100.1\n", (int)len, now);
	write_file(e->resolv, text, len, 0644);
	assert_int_equal(hostdns_recover(&e->paths), HOSTDNS_FOREIGN);
	assert_string_equal(slurp(e->resolv, NULL), text);
	assert_false(exists(e->backup));

	/* an edit that still names the sentinels would leave a dead stub: restored */
	apply_orig(e, 2);
	len = (size_t)snprintf(text, sizeof(text), "%soptions rotate\n", slurp(e->resolv, NULL));
	write_file(e->resolv, text, len, 0644);
	assert_int_equal(hostdns_revert(&e->paths), HOSTDNS_DONE);
	assert_is_orig(e->resolv);
}

static void test_foreign_naming_sentinel_restored(void **state)
{
	struct env *e = *state;

	apply_orig(e, 2);
	/* a tool rebuilt the file from ours: keeping it would leave a dead stub */
	write_str(e->resolv, "search x.example\nnameserver 100.100.111.1\n");
	assert_int_equal(hostdns_revert(&e->paths), HOSTDNS_DONE);
	assert_is_orig(e->resolv);
	assert_false(exists(e->backup));
}

static void test_foreign_then_reapply(void **state)
{
	struct env *e = *state;

	apply_orig(e, 2);
	write_str(e->resolv, "nameserver 198.51.100.1\n");
	/* the client notices, re-reads, re-applies: the new file becomes the original */
	parse_str(slurp(e->resolv, NULL));
	assert_int_equal(hostdns_apply(&e->paths, &conf, e->sent, 1), HOSTDNS_DONE);
	assert_string_equal(slurp(e->backup, NULL), "nameserver 198.51.100.1\n");
	assert_int_equal(hostdns_revert(&e->paths), HOSTDNS_DONE);
	assert_string_equal(slurp(e->resolv, NULL), "nameserver 198.51.100.1\n");
}

static void test_refusals(void **state)
{
	static char big[HOSTDNS_MAX_FILE + 1];
	struct env *e = *state;
	struct hostdns_paths p = e->paths;

	parse_str(ORIG);
	assert_int_equal(hostdns_apply(&e->paths, &conf, e->sent, 2), -ENOENT);
	assert_false(exists(e->backup));
	memset(big, '#', sizeof(big));
	write_file(e->resolv, big, sizeof(big), 0644);
	assert_int_equal(hostdns_apply(&e->paths, &conf, e->sent, 2), -EFBIG);
	assert_false(exists(e->backup));
	assert_int_equal(hostdns_read(&e->paths, &conf), -EFBIG);
	assert_int_equal(hostdns_apply(&e->paths, &conf, e->sent, 0), -EINVAL);
	p.backup = p.resolv;
	assert_int_equal(hostdns_revert(&p), -EINVAL);
	/* our file without its backup: no original to come back to, so refused */
	apply_orig(e, 2);
	assert_int_equal(unlink(e->backup), 0);
	assert_int_equal(hostdns_apply(&e->paths, &conf, e->sent, 2), -ESTALE);
	assert_false(exists(e->backup));
	unlink(e->resolv);
	mkdir(e->resolv, 0755);
	assert_int_equal(hostdns_apply(&e->paths, &conf, e->sent, 1), -EINVAL);
}

static void test_symlink_restored_as_symlink(void **state)
{
	struct env *e = *state;
	char target[160], link[256];
	ssize_t n;

	/* resolvconf's layout: /etc/resolv.conf -> ../run/resolvconf/resolv.conf */
	snprintf(target, sizeof(target), "%s/run/resolvconf/resolv.conf", e->dir);
	write_file(target, ORIG, sizeof(ORIG) - 1, 0644);
	assert_int_equal(symlink("../run/resolvconf/resolv.conf", e->resolv), 0);
	assert_int_equal(hostdns_read(&e->paths, &conf), HOSTDNS_DONE);
	assert_int_equal(conf.n_ns, 2);
	for (int crash = 0; crash < 2; crash++) {
		struct stat st;

		assert_int_equal(hostdns_apply(&e->paths, &conf, e->sent, 2), HOSTDNS_DONE);
		assert_int_equal(lstat(e->resolv, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0644);
		assert_is_orig(target); /* the link's target is not touched */
		n = readlink(e->backup, link, sizeof(link));
		assert_int_equal(n, strlen("../run/resolvconf/resolv.conf"));
		assert_int_equal(crash ? hostdns_recover(&e->paths) : hostdns_revert(&e->paths),
				 HOSTDNS_DONE);
		n = readlink(e->resolv, link, sizeof(link));
		assert_true(n > 0);
		link[n] = '\0';
		assert_string_equal(link, "../run/resolvconf/resolv.conf");
		assert_false(exists(e->backup));
	}
}

/* A unix socket at resolved's varlink path; listening or not (a stale file). */
static int fake_resolved(const struct env *e, bool listening)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/io.systemd.Resolve",
			     e->rdir) < (int)sizeof(sun.sun_path));
	unlink(sun.sun_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	if (listening) {
		assert_int_equal(listen(fd, 4), 0);
		return fd;
	}
	close(fd);
	return -1;
}

static void test_resolved_detect(void **state)
{
	struct env *e = *state;
	char stub[192], up[192], link[256];
	ssize_t n;
	int fd;

	snprintf(stub, sizeof(stub), "%s/stub-resolv.conf", e->rdir);
	snprintf(up, sizeof(up), "%s/resolv.conf", e->rdir);
	write_str(stub, "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n");
	write_str(up, "nameserver 192.0.2.53\nnameserver 100.100.111.1\nsearch .\n");
	assert_int_equal(symlink("../run/systemd/resolve/stub-resolv.conf", e->resolv), 0);

	/* resolved running: hands off, and the upstreams come from its own list */
	fd = fake_resolved(e, true);
	assert_int_equal(hostdns_detect(&e->paths), HOSTDNS_RESOLVED);
	assert_int_equal(hostdns_read(&e->paths, &conf), HOSTDNS_RESOLVED);
	assert_int_equal(conf.n_ns, 2);
	assert_string_equal(ns_text(&conf.ns[0].addr), "192.0.2.53");
	assert_int_equal(hostdns_apply(&e->paths, &conf, e->sent, 1), HOSTDNS_RESOLVED);
	assert_false(exists(e->backup));
	n = readlink(e->resolv, link, sizeof(link));
	assert_int_equal(n, strlen("../run/systemd/resolve/stub-resolv.conf"));
	close(fd);

	/* the socket file left by a stopped resolved: the link is a plain file link */
	fake_resolved(e, false);
	assert_int_equal(hostdns_detect(&e->paths), HOSTDNS_DONE);
	assert_int_equal(hostdns_read(&e->paths, &conf), HOSTDNS_DONE);
	assert_string_equal(ns_text(&conf.ns[0].addr), "127.0.0.53");
	assert_int_equal(hostdns_apply(&e->paths, &conf, e->sent, 1), HOSTDNS_DONE);
	assert_true(exists(e->backup));
	assert_int_equal(hostdns_revert(&e->paths), HOSTDNS_DONE);
	n = readlink(e->resolv, link, sizeof(link));
	assert_int_equal(n, strlen("../run/systemd/resolve/stub-resolv.conf"));

	/* an absolute link into resolved's directory counts; elsewhere, or a file, not */
	unlink(e->resolv);
	fd = fake_resolved(e, true);
	assert_int_equal(symlink(up, e->resolv), 0);
	assert_int_equal(hostdns_detect(&e->paths), HOSTDNS_RESOLVED);
	unlink(e->resolv);
	assert_int_equal(symlink("../run/systemd/resolve-not/x", e->resolv), 0);
	assert_int_equal(hostdns_detect(&e->paths), HOSTDNS_DONE);
	unlink(e->resolv);
	write_str(e->resolv, "nameserver 192.0.2.1\n");
	assert_int_equal(hostdns_detect(&e->paths), HOSTDNS_DONE);
	close(fd);
}

static void make_tool(const struct env *e, int rc)
{
	char script[512];

	snprintf(script, sizeof(script), "#!/bin/sh\necho \"$*\" >> '%s'\nexit %d\n", e->log, rc);
	write_file(e->tool, script, strlen(script), 0755);
}

static void test_resolved_commands(void **state)
{
	struct env *e = *state;

	/* resolvectl itself is not installed here: a stand-in records its argv */
	make_tool(e, 0);
	assert_int_equal(hostdns_resolved_apply(&e->paths, "sluice0", e->sent, 3), 0);
	assert_int_equal(hostdns_resolved_revert(&e->paths, "sluice0"), 0);
	assert_string_equal(slurp(e->log, NULL),
			    "dns sluice0 100.100.111.1 100.100.111.2 "
			    "fd00:2021:1111:8000:100:100:111:1\n"
			    "domain sluice0 ~.\n"
			    "default-route sluice0 true\n"
			    "revert sluice0\n");
	make_tool(e, 1);
	assert_int_equal(hostdns_resolved_apply(&e->paths, "sluice0", e->sent, 1), -EIO);
	assert_int_equal(hostdns_resolved_apply(&e->paths, "-x", e->sent, 1), -EINVAL);
	assert_int_equal(hostdns_resolved_apply(&e->paths, "a-name-too-long-x", e->sent, 1),
			 -EINVAL);
	assert_int_equal(hostdns_resolved_apply(&e->paths, "sluice0", e->sent, 0), -EINVAL);
	unlink(e->tool);
	assert_int_equal(hostdns_resolved_revert(&e->paths, "sluice0"), -ENOENT);
}

/* `ip netns exec` bind-mounts /etc/netns/NAME/resolv.conf over /etc/resolv.conf:
 * rename() over a mount point fails, so both ways must write in place. */
static void test_bind_mount(void **state)
{
	struct env *e = *state;
	char src[160], tmp[160];

	if (unshare(CLONE_NEWNS) < 0)
		fail_msg("the bind-mount test needs root (CAP_SYS_ADMIN) for "
			 "unshare(CLONE_NEWNS): %s", strerror(errno));
	assert_int_equal(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	snprintf(src, sizeof(src), "%s/etc/netns/blue/resolv.conf", e->dir);
	snprintf(tmp, sizeof(tmp), "%s.sluice-tmp", e->resolv);
	write_file(src, ORIG, sizeof(ORIG) - 1, 0644);
	write_str(e->resolv, "the host's file, hidden by the mount\n");
	assert_int_equal(mount(src, e->resolv, NULL, MS_BIND, NULL), 0);

	for (int crash = 0; crash < 2; crash++) {
		assert_int_equal(hostdns_read(&e->paths, &conf), HOSTDNS_DONE);
		assert_int_equal(hostdns_apply(&e->paths, &conf, e->sent, 2), HOSTDNS_DONE);
		assert_is_orig(e->backup);
		/* the bind source holds the new file: the mount was written through */
		parse_str(slurp(src, NULL));
		assert_int_equal(conf.n_ns, 2);
		assert_string_equal(ns_text(&conf.ns[0].addr), "100.100.111.1");
		assert_string_equal(conf.search, "corp.example lab.example");
		assert_false(exists(tmp));
		assert_int_equal(crash ? hostdns_recover(&e->paths) : hostdns_revert(&e->paths),
				 HOSTDNS_DONE);
		assert_is_orig(src);
		assert_is_orig(e->resolv);
		assert_false(exists(e->backup));
		assert_false(exists(tmp));
	}
	assert_int_equal(umount(e->resolv), 0);
	assert_string_equal(slurp(e->resolv, NULL), "the host's file, hidden by the mount\n");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_parse_basic),
		T(test_parse_zone),
		T(test_parse_search_domain),
		T(test_parse_options),
		T(test_parse_comments_whitespace),
		T(test_parse_garbage),
		T(test_parse_caps),
		T(test_upstreams),
		T(test_format_roundtrip),
		T(test_apply_revert_identical),
		T(test_apply_twice_keeps_original),
		T(test_crash_recover),
		T(test_foreign_rewrite_kept),
		T(test_edited_file),
		T(test_foreign_naming_sentinel_restored),
		T(test_foreign_then_reapply),
		T(test_refusals),
		T(test_symlink_restored_as_symlink),
		T(test_resolved_detect),
		T(test_resolved_commands),
		T(test_bind_mount),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
