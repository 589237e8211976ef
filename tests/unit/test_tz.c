/* Time zones: the TZif reader and POSIX rules against glibc (a test may set TZ;
 * the module may not), wall time to UTC in gaps and overlaps, zone names, the
 * cache, and malformed files: every truncation of real files, every byte
 * garbled, and a table of hand-made violations of RFC 8536. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "portal/tz.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ZONEINFO "/usr/share/zoneinfo"
#define DAY 86400

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
	return tz_days_from_civil(y, mo, d) * DAY + h * 3600 + mi * 60 + s;
}

static struct tz *load(const char *name)
{
	struct tz *z = NULL;
	int r = tz_load(ZONEINFO, name, &z);

	if (r)
		fail_msg("tz_load %s: %d (is tzdata installed?)", name, r);
	return z;
}

static uint8_t *slurp(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	uint8_t *buf = malloc(TZ_FILE_MAX);

	snprintf(path, sizeof(path), "%s/%s", ZONEINFO, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, TZ_FILE_MAX, f);
	fclose(f);
	return buf;
}

static void use_libc_zone(const char *tzenv)
{
	setenv("TZ", tzenv, 1);
	tzset();
}

/* One instant through both; libc's TZ must already be set to the same zone. */
static void same_as_libc(const struct tz *z, const char *what, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	struct tz_tm m;

	assert_non_null(localtime_r(&tt, &tm));
	tz_local(z, t, &m);
	if (tm.tm_gmtoff != m.utc_offset || tm.tm_year + 1900 != m.year ||
	    tm.tm_mon + 1 != m.month || tm.tm_mday != m.day || tm.tm_hour != m.hour ||
	    tm.tm_min != m.min || tm.tm_sec != m.sec || tm.tm_wday != m.wday ||
	    (tm.tm_isdst > 0) != m.is_dst || strcmp(tm.tm_zone, m.abbr))
		fail_msg("%s at %lld: libc %04d-%02d-%02d %02d:%02d:%02d %+ld %s dst %d; "
			 "tz %04lld-%02d-%02d %02d:%02d:%02d %+d %s dst %d",
			 what, (long long)t, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_gmtoff, tm.tm_zone, tm.tm_isdst,
			 (long long)m.year, m.month, m.day, m.hour, m.min, m.sec, m.utc_offset,
			 m.abbr, m.is_dst);
	assert_int_equal(tz_utc_offset(z, t), m.utc_offset);
	assert_true(tz_utc_to_wall(z, t) == t + m.utc_offset);
}

/* A sweep with an odd step, then each transition we find (and one second either
 * side), which must also be one for libc. */
static void sweep_against_libc(const struct tz *z, const char *what, int64_t from, int64_t to,
			       int64_t step)
{
	int64_t t;

	for (t = from; t < to; t += step)
		same_as_libc(z, what, t);
	for (t = from; !tz_next_transition(z, t, &t) && t < to;) {
		assert_int_not_equal(tz_utc_offset(z, t - 1), tz_utc_offset(z, t));
		same_as_libc(z, what, t - 1);
		same_as_libc(z, what, t);
		same_as_libc(z, what, t + 1);
	}
}

static const char *const real_zones[] = {
	"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
	"Pacific/Chatham", "America/Sao_Paulo", "Europe/Dublin", /* negative DST */
	"Africa/Casablanca", "Pacific/Apia", /* skipped 2011-12-30 */ "Antarctica/Troll",
	"America/St_Johns", "Asia/Kathmandu",
};

static void test_zones_match_libc(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(real_zones); i++) {
		struct tz *z = load(real_zones[i]);

		assert_string_equal(tz_name(z), real_zones[i]);
		use_libc_zone(real_zones[i]);
		/* 1900-2100 every ~11 h; hourly where the footer takes over */
		sweep_against_libc(z, real_zones[i], utc(1900, 1, 1, 0, 0, 0),
				   utc(2100, 1, 1, 0, 0, 0), 11 * 3600 + 7);
		sweep_against_libc(z, real_zones[i], utc(2037, 1, 1, 0, 0, 0),
				   utc(2039, 1, 1, 0, 0, 0), 3600 - 13);
		tz_free(z);
	}
}

/* The rules past 2037 come from the footer alone. */
static void test_far_future(void **state)
{
	struct tz *berlin = load("Europe/Berlin"), *sp = load("America/Sao_Paulo");
	int64_t t;

	(void)state;
	assert_int_equal(tz_utc_offset(berlin, utc(2040, 3, 25, 0, 59, 59)), 3600);
	assert_int_equal(tz_utc_offset(berlin, utc(2040, 3, 25, 1, 0, 0)), 7200);
	assert_int_equal(tz_utc_offset(berlin, utc(2040, 10, 28, 0, 59, 59)), 7200);
	assert_int_equal(tz_utc_offset(berlin, utc(2040, 10, 28, 1, 0, 0)), 3600);
	assert_int_equal(tz_next_transition(berlin, utc(2040, 1, 1, 0, 0, 0), &t), 0);
	assert_true(t == utc(2040, 3, 25, 1, 0, 0));
	assert_int_equal(tz_next_transition(berlin, t, &t), 0);
	assert_true(t == utc(2040, 10, 28, 1, 0, 0));
	assert_int_equal(tz_utc_offset(berlin, utc(3000, 7, 1, 0, 0, 0)), 7200);
	/* DST abolished in 2019: no change ever after */
	assert_int_equal(tz_utc_offset(sp, utc(2040, 1, 15, 0, 0, 0)), -3 * 3600);
	assert_int_equal(tz_next_transition(sp, utc(2020, 1, 1, 0, 0, 0), &t), -ENOENT);
	/* the clamp keeps absurd instants harmless */
	assert_int_equal(tz_utc_offset(berlin, INT64_MAX), tz_utc_offset(berlin, TZ_TIME_MAX));
	assert_int_equal(tz_utc_offset(berlin, INT64_MIN), tz_utc_offset(berlin, TZ_TIME_MIN));
	tz_free(berlin);
	tz_free(sp);
}

static const char *const posix_rules[] = {
	"UTC0",
	"<-03>3",
	"IST-5:30",
	"CET-1CEST,M3.5.0,M10.5.0/3",
	"EST5EDT,M3.2.0,M11.1.0",
	"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
	"<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45",
	"IST-1GMT0,M10.5.0,M3.5.0/1",         /* Dublin: DST in winter */
	"AAA3BBB,J60/2,J300/2",               /* Julian, Feb 29 not counted */
	"AAA3BBB,59/2,300/2",                 /* zero-based, Feb 29 counted */
	"XXX-3YYY,M3.5.0/-2,M10.5.0/26",      /* RFC 8536 times: negative, past 24 */
	"<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
	"ABC-2DEF-3:30:15,M4.1.1/1:2:3,M9.3.4/4:05:06",
	"NZST-12NZDT,M9.5.0,M4.1.0/3",
	"AAA+5BBB+4,M2.5.0,M12.5.6",
	"AAA0BBB-24,M3.1.0,M11.1.0",
};

static void test_posix_rules_match_libc(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(posix_rules); i++) {
		struct tz *z = NULL;

		if (tz_parse_posix(posix_rules[i], &z))
			fail_msg("rule %s refused", posix_rules[i]);
		assert_string_equal(tz_name(z), posix_rules[i]);
		use_libc_zone(posix_rules[i]);
		sweep_against_libc(z, posix_rules[i], utc(1970, 1, 1, 0, 0, 0),
				   utc(2101, 1, 1, 0, 0, 0), 13 * 3600 + 17);
		tz_free(z);
	}
}

/* RFC 8536 3.3.1: DST all year, as Jan 1 00:00 to Dec 31 24:00 + the DST
 * shift. glibc drops to standard time for the first hours of each UTC year
 * here (it compares within one year), so this one is checked by hand. */
static void test_posix_dst_all_year(void **state)
{
	struct tz *z;
	int64_t t;

	(void)state;
	assert_int_equal(tz_parse_posix("EST5EDT4,0/0,J365/25", &z), 0);
	for (int y = 1970; y < 2100; y += 7) {
		assert_int_equal(tz_utc_offset(z, utc(y, 1, 1, 0, 0, 0)), -4 * 3600);
		assert_int_equal(tz_utc_offset(z, utc(y, 1, 1, 4, 59, 59)), -4 * 3600);
		assert_int_equal(tz_utc_offset(z, utc(y, 7, 1, 0, 0, 0)), -4 * 3600);
		assert_int_equal(tz_utc_offset(z, utc(y, 12, 31, 23, 0, 0)), -4 * 3600);
	}
	assert_int_equal(tz_next_transition(z, 0, &t), -ENOENT);
	tz_free(z);
}

static void test_posix_rules_refused(void **state)
{
	static const char *const bad[] = {
		"", "C", "CE-1", "CET", "CET-", "CET-1CEST",  /* DST with no rule */
		"CET-25", "CET-1:60", "CET-1:00:60", "CET-1000", "CET+-1",
		"<CE>-1", "<CET-1", "<C_T>1", "CET 1", "CET-1 ", "CET-1CEST,",
		"CET-1CEST,M3.5.0", "CET-1CEST,M3.5.0,", "CET-1CEST,M3.5.0,M10.5.0,",
		"CET-1CEST,M13.1.0,M10.5.0", "CET-1CEST,M0.1.0,M10.5.0",
		"CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.0.0,M10.5.0",
		"CET-1CEST,M3.5.7,M10.5.0", "CET-1CEST,M3.5,M10.5.0", "CET-1CEST,M3..0,M10.5.0",
		"CET-1CEST,J0,J365", "CET-1CEST,J366,J1", "CET-1CEST,366,1",
		"CET-1CEST,M3.5.0/168,M10.5.0", "CET-1CEST,M3.5.0/-168,M10.5.0",
		"CET-1CEST,M3.5.0/,M10.5.0", "CET-1CEST-25,M3.5.0,M10.5.0",
		"ABCDEFGHIJKLMNOPQ0", "1CET", "CET-1CEST,M3.5.0/2:,M10.5.0",
		"CET-1\nCEST,M3.5.0,M10.5.0",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct tz *z = NULL;
		int r = tz_parse_posix(bad[i], &z);

		if (r != -EINVAL)
			fail_msg("rule \"%s\": %d, want -EINVAL", bad[i], r);
	}
}

struct wall_case {
	const char *zone;
	int64_t wall, want;
};

static void test_wall_to_utc_dst(void **state)
{
	/* gap: the end of the gap; overlap: the first occurrence */
	const struct wall_case cases[] = {
		/* Berlin 2026-03-29 02:00 CET -> 03:00 CEST (01:00 UTC) */
		{ "Europe/Berlin", utc(2026, 3, 29, 1, 59, 59), utc(2026, 3, 29, 0, 59, 59) },
		{ "Europe/Berlin", utc(2026, 3, 29, 2, 0, 0), utc(2026, 3, 29, 1, 0, 0) },
		{ "Europe/Berlin", utc(2026, 3, 29, 2, 30, 0), utc(2026, 3, 29, 1, 0, 0) },
		{ "Europe/Berlin", utc(2026, 3, 29, 3, 0, 0), utc(2026, 3, 29, 1, 0, 0) },
		{ "Europe/Berlin", utc(2026, 3, 29, 3, 0, 1), utc(2026, 3, 29, 1, 0, 1) },
		/* Berlin 2026-10-25 03:00 CEST -> 02:00 CET (01:00 UTC) */
		{ "Europe/Berlin", utc(2026, 10, 25, 1, 59, 0), utc(2026, 10, 24, 23, 59, 0) },
		{ "Europe/Berlin", utc(2026, 10, 25, 2, 0, 0), utc(2026, 10, 25, 0, 0, 0) },
		{ "Europe/Berlin", utc(2026, 10, 25, 2, 30, 0), utc(2026, 10, 25, 0, 30, 0) },
		{ "Europe/Berlin", utc(2026, 10, 25, 3, 0, 0), utc(2026, 10, 25, 2, 0, 0) },
		/* the same through the footer rule */
		{ "Europe/Berlin", utc(2040, 3, 25, 2, 30, 0), utc(2040, 3, 25, 1, 0, 0) },
		{ "Europe/Berlin", utc(2040, 10, 28, 2, 30, 0), utc(2040, 10, 28, 0, 30, 0) },
		/* New York 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 back */
		{ "America/New_York", utc(2026, 3, 8, 2, 30, 0), utc(2026, 3, 8, 7, 0, 0) },
		{ "America/New_York", utc(2026, 11, 1, 1, 30, 0), utc(2026, 11, 1, 5, 30, 0) },
		/* Lord Howe: half an hour. 2026-04-05 02:00 +11 -> 01:30 +1030 */
		{ "Australia/Lord_Howe", utc(2026, 4, 5, 1, 45, 0), utc(2026, 4, 4, 14, 45, 0) },
		{ "Australia/Lord_Howe", utc(2026, 4, 5, 2, 0, 0), utc(2026, 4, 4, 15, 30, 0) },
		/* 2026-10-04 02:00 +1030 -> 02:30 +11 */
		{ "Australia/Lord_Howe", utc(2026, 10, 4, 2, 15, 0), utc(2026, 10, 3, 15, 30, 0) },
		{ "Australia/Lord_Howe", utc(2026, 10, 4, 2, 30, 0), utc(2026, 10, 3, 15, 30, 0) },
		/* Chatham 2026-09-27 02:45 +1245 -> 03:45 +1345 */
		{ "Pacific/Chatham", utc(2026, 9, 27, 3, 0, 0), utc(2026, 9, 26, 14, 0, 0) },
		{ "Asia/Kolkata", utc(2026, 3, 29, 2, 30, 0), utc(2026, 3, 28, 21, 0, 0) },
		/* Apia skipped 2011-12-30 entirely (-10 -> +14 at midnight) */
		{ "Pacific/Apia", utc(2011, 12, 30, 12, 0, 0), utc(2011, 12, 30, 10, 0, 0) },
		{ "UTC", utc(2026, 3, 29, 2, 30, 0), utc(2026, 3, 29, 2, 30, 0) },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct tz *z = load(cases[i].zone);
		int64_t got = tz_wall_to_utc(z, cases[i].wall);

		if (got != cases[i].want)
			fail_msg("case %zu (%s): %lld, want %lld", i, cases[i].zone,
				 (long long)got, (long long)cases[i].want);
		tz_free(z);
	}
}

/* For every instant t: the wall time it shows maps back to t or to an earlier
 * instant showing the same; every wall time maps to the first instant the clock
 * shows it, or to the transition that jumps over it. */
static void test_wall_to_utc_properties(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(real_zones); i++) {
		struct tz *z = load(real_zones[i]);

		for (int64_t t = utc(1960, 1, 1, 0, 0, 0); t < utc(2060, 1, 1, 0, 0, 0);
		     t += 9 * 3600 + 11 * 60 + 3) {
			int64_t w = tz_utc_to_wall(z, t), u = tz_wall_to_utc(z, w);
			int64_t uw = tz_wall_to_utc(z, t), shown = tz_utc_to_wall(z, uw);
			const int64_t probes[] = { uw - DAY, uw - 3 * 3600, uw - 1 };

			assert_true(u <= t);
			assert_true(tz_utc_to_wall(z, u) == w);
			/* t read as a wall time */
			assert_true(shown >= t);
			if (shown > t) /* in a gap: just before, the clock was short of t */
				assert_true(tz_utc_to_wall(z, uw - 1) < t);
			for (size_t k = 0; k < ARRAY_SIZE(probes); k++) {
				int64_t c = t - tz_utc_offset(z, probes[k]);

				if (c < uw)
					assert_true(tz_utc_to_wall(z, c) != t);
			}
		}
		tz_free(z);
	}
}

static void test_local_fields(void **state)
{
	struct tz *z = load("Europe/Berlin");
	struct tz_tm m;

	(void)state;
	tz_local(z, utc(2026, 3, 29, 1, 0, 0), &m);
	assert_true(m.year == 2026);
	assert_int_equal(m.month, 3);
	assert_int_equal(m.day, 29);
	assert_int_equal(m.wday, 0);
	assert_int_equal(m.hour, 3);
	assert_int_equal(m.min, 0);
	assert_int_equal(m.sec, 0);
	assert_int_equal(m.utc_offset, 7200);
	assert_true(m.is_dst);
	assert_string_equal(m.abbr, "CEST");
	tz_local(z, utc(2026, 3, 29, 0, 59, 59), &m);
	assert_int_equal(m.hour, 1);
	assert_string_equal(m.abbr, "CET");
	tz_free(z);
	assert_true(tz_days_from_civil(1970, 1, 1) == 0);
	assert_true(tz_days_from_civil(2000, 3, 1) == 11017);
	assert_true(tz_days_from_civil(1969, 12, 31) == -1);
}

static void test_names(void **state)
{
	static const struct {
		const char *name;
		int want;
	} cases[] = {
		{ "Europe/Berlin", 0 },
		{ "Etc/GMT+5", 0 },
		{ "America/Port-au-Prince", 0 },
		{ "America/Argentina/Buenos_Aires", 0 },
		{ "UTC", 0 },
		{ "", -EINVAL },
		{ "/etc/passwd", -EINVAL },
		{ "../etc/passwd", -EINVAL },
		{ "Europe/../../etc/passwd", -EINVAL },
		{ "Europe/./Berlin", -EINVAL },
		{ "Europe//Berlin", -EINVAL },
		{ "Europe/", -EINVAL },
		{ "Europe/Berlin\n", -EINVAL },
		{ "Europe/Ber lin", -EINVAL },
		{ "Europe\\Berlin", -EINVAL },
		{ "zone.tab", -EINVAL },
		{ "Europe/Nowhere", -ENOENT },
		{ "Europe", -ENOENT },           /* a directory */
		{ "Europe/Berlin/x", -ENOENT },  /* under a file */
		{ "posixrules/x", -ENOENT },
	};
	char longname[TZ_NAME_MAX + 2];
	struct tz *z;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int r = tz_load(ZONEINFO, cases[i].name, &z);

		if (r != cases[i].want)
			fail_msg("\"%s\": %d, want %d", cases[i].name, r, cases[i].want);
		if (!r)
			tz_free(z);
	}
	memset(longname, 'A', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(tz_load(ZONEINFO, longname, &z), -EINVAL);
	longname[TZ_NAME_MAX] = '\0';
	assert_int_equal(tz_load(ZONEINFO, longname, &z), -ENOENT);
}

/* A directory of our own: the zone directory is a parameter. */
static void test_own_directory(void **state)
{
	char dir[] = "/tmp/test_tz.XXXXXX", path[128];
	size_t len;
	uint8_t *data = slurp("Europe/Berlin", &len), *big = calloc(1, TZ_FILE_MAX + 1);
	struct tz *z;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/Test", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/Test/Zone", dir);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	assert_int_equal(tz_load(dir, "Test/Zone", &z), 0);
	assert_int_equal(tz_utc_offset(z, utc(2026, 7, 1, 0, 0, 0)), 7200);
	tz_free(z);
	assert_int_equal(tz_load(dir, "Europe/Berlin", &z), -ENOENT);
	/* too large, however valid its start */
	snprintf(path, sizeof(path), "%s/Big", dir);
	memcpy(big, data, len);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(big, 1, TZ_FILE_MAX + 1, f), TZ_FILE_MAX + 1);
	fclose(f);
	assert_int_equal(tz_load(dir, "Big", &z), -EBADMSG);
	unlink(path);
	/* a FIFO is no zone, and opening it must not hang */
	snprintf(path, sizeof(path), "%s/Fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(tz_load(dir, "Fifo", &z), -ENOENT);
	unlink(path);
	snprintf(path, sizeof(path), "%s/Test/Zone", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/Test", dir);
	rmdir(path);
	rmdir(dir);
	free(big);
	free(data);
}

static void test_cache(void **state)
{
	struct tz_cache *c;
	const struct tz *a, *b, *u;

	(void)state;
	assert_int_equal(tz_cache_new(ZONEINFO, 2, &c), 0);
	assert_int_equal(tz_cache_get(c, NULL, &u), 0);
	assert_string_equal(tz_name(u), "UTC");
	assert_int_equal(tz_utc_offset(u, utc(2026, 7, 1, 0, 0, 0)), 0);
	assert_int_equal(tz_next_transition(u, 0, &(int64_t){ 0 }), -ENOENT);
	assert_int_equal(tz_cache_get(c, "Europe/Berlin", &a), 0);
	assert_int_equal(tz_cache_get(c, "Europe/Berlin", &b), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(tz_cache_get(c, "Mars/Olympus_Mons", &b), -ENOENT);
	assert_int_equal(tz_cache_get(c, "../x", &b), -EINVAL);
	assert_int_equal(tz_cache_get(c, "Asia/Kolkata", &b), 0);
	assert_int_equal(tz_cache_get(c, "America/New_York", &b), -ENOSPC);
	assert_int_equal(tz_cache_get(c, "Asia/Kolkata", &a), 0);
	assert_ptr_equal(a, b);
	tz_cache_free(c);
}

static const char *const seed_zones[] = { "UTC", "Europe/Berlin", "Asia/Kolkata",
					  "Australia/Lord_Howe", "America/New_York" };

static void test_truncations(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(seed_zones); i++) {
		size_t len;
		uint8_t *data = slurp(seed_zones[i], &len);
		struct tz *z;

		assert_int_equal(tz_parse(data, len, &z), 0);
		tz_free(z);
		for (size_t n = 0; n < len; n++) {
			/* a copy of exactly n bytes, so ASan sees any read past it */
			uint8_t *cut = malloc(n ? n : 1);
			int r;

			memcpy(cut, data, n);
			r = tz_parse(cut, n, &z);
			if (r != -EBADMSG)
				fail_msg("%s cut at %zu of %zu: %d", seed_zones[i], n, len, r);
			free(cut);
		}
		free(data);
	}
}

/* Whatever a byte becomes, the answer is a zone that works or an error. */
static void test_garbled(void **state)
{
	static const uint8_t masks[] = { 0x01, 0x10, 0x80, 0xff };
	unsigned ok = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(seed_zones); i++) {
		size_t len;
		uint8_t *data = slurp(seed_zones[i], &len);

		for (size_t pos = 0; pos < len; pos++) {
			for (size_t k = 0; k < ARRAY_SIZE(masks); k++) {
				struct tz *z;
				struct tz_tm m;
				int64_t t;

				data[pos] ^= masks[k];
				if (!tz_parse(data, len, &z)) {
					ok++;
					for (t = -(INT64_C(1) << 40); t < (INT64_C(1) << 40);
					     t += INT64_C(1) << 37) {
						int32_t off = tz_utc_offset(z, t);

						assert_true(off >= TZ_OFFSET_MIN && off <= TZ_OFFSET_MAX);
						tz_local(z, t, &m);
						assert_true(tz_utc_to_wall(z, tz_wall_to_utc(z, t)) >= t);
					}
					tz_free(z);
				}
				data[pos] ^= masks[k];
			}
		}
		free(data);
	}
	assert_true(ok > 0); /* names and padding may change freely */
}

/* --- hand-made files ------------------------------------------------------ */

struct tzspec {
	uint8_t version; /* 0, '2', '3' */
	uint32_t ntrans, ntypes, nchars, nstd, nut, nleap;
	int64_t trans[3];
	uint8_t idx[3];
	struct {
		int32_t off;
		uint8_t dst, abbr;
	} types[3];
	char chars[16];
	uint8_t std[3], ut[3];
	const char *footer; /* between the newlines; NULL: none at all */
};

static void put32(uint8_t **p, uint32_t v)
{
	for (int i = 3; i >= 0; i--)
		*(*p)++ = (uint8_t)(v >> (i * 8));
}

static void put64(uint8_t **p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p, (uint32_t)v);
}

static void put_block(uint8_t **p, const struct tzspec *s, int tsize)
{
	memcpy(*p, "TZif", 4);
	(*p)[4] = s->version;
	memset(*p + 5, 0, 15);
	*p += 20;
	put32(p, s->nut);
	put32(p, s->nstd);
	put32(p, s->nleap);
	put32(p, s->ntrans);
	put32(p, s->ntypes);
	put32(p, s->nchars);
	for (uint32_t i = 0; i < s->ntrans; i++)
		tsize == 8 ? put64(p, (uint64_t)s->trans[i]) : put32(p, (uint32_t)s->trans[i]);
	for (uint32_t i = 0; i < s->ntrans; i++)
		*(*p)++ = s->idx[i];
	for (uint32_t i = 0; i < s->ntypes; i++) {
		put32(p, (uint32_t)s->types[i].off);
		*(*p)++ = s->types[i].dst;
		*(*p)++ = s->types[i].abbr;
	}
	memcpy(*p, s->chars, s->nchars);
	*p += s->nchars;
	for (uint32_t i = 0; i < s->nleap; i++) {
		tsize == 8 ? put64(p, 78796800 + i * 15897600) : put32(p, 78796800 + i * 15897600);
		put32(p, i + 1);
	}
	memcpy(*p, s->std, s->nstd);
	*p += s->nstd;
	memcpy(*p, s->ut, s->nut);
	*p += s->nut;
}

static size_t build(const struct tzspec *s, uint8_t *out)
{
	uint8_t *p = out;

	put_block(&p, s, 4);
	if (s->version) {
		put_block(&p, s, 8);
		if (s->footer)
			p += sprintf((char *)p, "\n%s\n", s->footer);
	}
	return (size_t)(p - out);
}

/* Berlin-like: LMT, CET, CEST; two transitions; footer rule. */
static const struct tzspec base = {
	.version = '2', .ntrans = 2, .ntypes = 3, .nchars = 14, .nstd = 3, .nut = 3,
	.trans = { -2000000000, 1000000000 }, .idx = { 1, 2 },
	.types = { { 3208, 0, 0 }, { 3600, 0, 4 }, { 7200, 1, 8 } },
	.chars = "LMT\0CET\0CEST\0\0", .std = { 0, 1, 1 }, .ut = { 0, 1, 0 },
	.footer = "CET-1CEST,M3.5.0,M10.5.0/3",
};

static void test_handmade_valid(void **state)
{
	uint8_t buf[1024];
	struct tzspec s = base;
	struct tz *z;

	(void)state;
	assert_int_equal(tz_parse(buf, build(&s, buf), &z), 0);
	assert_int_equal(tz_utc_offset(z, -3000000000), 3208); /* type 0 before */
	assert_int_equal(tz_utc_offset(z, 0), 3600);
	assert_int_equal(tz_utc_offset(z, 1000000000), 7200);
	assert_int_equal(tz_utc_offset(z, utc(2030, 1, 1, 0, 0, 0)), 3600); /* the rule */
	tz_free(z);
	/* version 1: no footer, the last type goes on; 32-bit times */
	s.version = 0;
	assert_int_equal(tz_parse(buf, build(&s, buf), &z), 0);
	assert_int_equal(tz_utc_offset(z, utc(2030, 1, 1, 0, 0, 0)), 7200);
	tz_free(z);
	/* empty footer: the same */
	s = base;
	s.footer = "";
	assert_int_equal(tz_parse(buf, build(&s, buf), &z), 0);
	assert_int_equal(tz_utc_offset(z, utc(2030, 1, 1, 0, 0, 0)), 7200);
	tz_free(z);
	/* slim: no transitions, the rule answers everywhere; no isstd/isut */
	s = base;
	s.version = '3';
	s.ntrans = 0;
	s.nstd = s.nut = 0;
	assert_int_equal(tz_parse(buf, build(&s, buf), &z), 0);
	assert_int_equal(tz_utc_offset(z, utc(2026, 7, 1, 0, 0, 0)), 7200);
	assert_int_equal(tz_utc_offset(z, utc(1900, 1, 1, 0, 0, 0)), 3600);
	tz_free(z);
}

static void test_handmade_malformed(void **state)
{
	static const struct {
		const char *what;
		int want;
	} cases[] = {
		{ "magic", -EBADMSG },
		{ "version 5", -EBADMSG },
		{ "version of the second header", -EBADMSG },
		{ "no types", -EBADMSG },
		{ "257 types", -EBADMSG },
		{ "no characters", -EBADMSG },
		{ "isutcnt not typecnt", -EBADMSG },
		{ "isstdcnt not typecnt", -EBADMSG },
		{ "transitions equal", -EBADMSG },
		{ "transitions descending", -EBADMSG },
		{ "type index out of range", -EBADMSG },
		{ "offset below -25 h", -EBADMSG },
		{ "offset above 26 h", -EBADMSG },
		{ "isdst 2", -EBADMSG },
		{ "designation index out of range", -EBADMSG },
		{ "designation not terminated", -EBADMSG },
		{ "isstd 2", -EBADMSG },
		{ "isut without isstd", -EBADMSG },
		{ "leap seconds", -EOPNOTSUPP },
		{ "no footer", -EBADMSG },
		{ "footer rule malformed", -EBADMSG },
		{ "footer with NUL", -EBADMSG },
		{ "footer too long", -EBADMSG },
		{ "byte after the footer", -EBADMSG },
		{ "footer without first newline", -EBADMSG },
		{ "huge v1 counts", -EBADMSG },
		{ "huge v2 counts", -EBADMSG },
		{ "v1: trailing byte", -EBADMSG },
	};
	char longfooter[300];

	(void)state;
	memset(longfooter, 'A', sizeof(longfooter) - 2);
	longfooter[sizeof(longfooter) - 2] = '0';
	longfooter[sizeof(longfooter) - 1] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t buf[2048];
		struct tzspec s = base;
		size_t len, v2;
		struct tz *z;
		int r;

		switch (i) { /* the file's fields */
		case 3: s.ntypes = 0; s.nstd = s.nut = 0; s.ntrans = 0; break;
		case 4: s.nstd = s.nut = 0; break;
		case 5: s.nchars = 0; break;
		case 6: s.nut = 2; break;
		case 7: s.nstd = 1; break;
		case 8: s.trans[1] = s.trans[0]; break;
		case 9: s.trans[1] = s.trans[0] - 1; break;
		case 10: s.idx[1] = 3; break;
		case 11: s.types[1].off = -90000; break;
		case 12: s.types[1].off = 93600; break;
		case 13: s.types[2].dst = 2; break;
		case 14: s.types[2].abbr = 14; break;
		case 15: memcpy(s.chars, "LMT\0CET\0CEST\0ABC", 16); s.nchars = 16;
			 s.types[2].abbr = 13; break;
		case 16: s.std[1] = 2; break;
		case 17: s.std[1] = 0; break;
		case 18: s.nleap = 2; break;
		case 19: s.footer = NULL; break;
		case 20: s.footer = "CET-1CEST"; break;
		case 22: s.footer = longfooter; break;
		case 27: s.version = 0; break;
		}
		len = build(&s, buf);
		v2 = 44 + (size_t)s.ntrans * 5 + s.ntypes * 6 + s.nchars + s.nleap * 8 + s.nstd +
		     s.nut;
		switch (i) { /* the bytes */
		case 0: buf[3] = 'F'; break;
		case 1: buf[4] = buf[v2 + 4] = '5'; break;
		case 2: buf[v2 + 4] = '3'; break;
		case 4: buf[38] = buf[v2 + 38] = 1; buf[39] = buf[v2 + 39] = 1; break; /* 257 */
		case 21: buf[len - 3] = '\0'; break;
		case 23: buf[len++] = 'x'; break;
		case 24: buf[len - strlen(s.footer) - 2] = ' '; break;
		case 25: memset(buf + 32, 0xff, 4); memset(buf + 40, 0xff, 4); break;
		case 26: memset(buf + v2 + 32, 0xff, 4); break;
		case 27: buf[len++] = 0; break;
		}
		r = tz_parse(buf, len, &z);
		if (r != cases[i].want)
			fail_msg("%s: %d, want %d", cases[i].what, r, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zones_match_libc),
		cmocka_unit_test(test_far_future),
		cmocka_unit_test(test_posix_rules_match_libc),
		cmocka_unit_test(test_posix_dst_all_year),
		cmocka_unit_test(test_posix_rules_refused),
		cmocka_unit_test(test_wall_to_utc_dst),
		cmocka_unit_test(test_wall_to_utc_properties),
		cmocka_unit_test(test_local_fields),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_own_directory),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_garbled),
		cmocka_unit_test(test_handmade_valid),
		cmocka_unit_test(test_handmade_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
