/* TZif files and POSIX TZ rules (the TZif footer's language). Every input goes
 * to both parsers: as a TZif image, and as a rule string. A zone that parses
 * must answer every question within its own rules: offsets in RFC 8536's range,
 * broken-down times that add back up to the instant, transitions strictly later
 * each time with the offset changing exactly there, and wall times that map to
 * an instant showing them or jumping over them (in a zone that jumps forward
 * and falls back within a day, the jump may come before a later exact match). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "portal/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DAY 86400
#define MAX_CHAIN 12

static int month_days(int64_t y, int m)
{
	return (int)(tz_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) -
		     tz_days_from_civil(y, m, 1));
}

/* At u the clock shows w, or jumps from before w to after it. */
static bool shows_or_jumps(const struct tz *z, int64_t u, int64_t w)
{
	int64_t shown = tz_utc_to_wall(z, u);

	return shown == w || (shown > w && tz_utc_to_wall(z, u - 1) < w);
}

static void check_instant(const struct tz *z, int64_t t)
{
	struct tz_tm m;
	int32_t off = tz_utc_offset(z, t);
	int64_t w, u;

	if (off < TZ_OFFSET_MIN || off > TZ_OFFSET_MAX)
		abort();
	if (t < TZ_TIME_MIN + 2 * DAY || t > TZ_TIME_MAX - 2 * DAY)
		return; /* clamped: the sums below need not hold */
	tz_local(z, t, &m);
	if (m.utc_offset != off || !m.abbr || m.month < 1 || m.month > 12 || m.day < 1 ||
	    m.day > month_days(m.year, m.month) || m.wday < 0 || m.wday > 6 || m.hour < 0 ||
	    m.hour > 23 || m.min < 0 || m.min > 59 || m.sec < 0 || m.sec > 59)
		abort();
	w = tz_days_from_civil(m.year, m.month, m.day) * DAY + m.hour * 3600 + m.min * 60 + m.sec;
	if (w != t + off || tz_utc_to_wall(z, t) != w)
		abort();
	if (((tz_days_from_civil(m.year, m.month, m.day) + 4) % 7 + 7) % 7 != m.wday)
		abort();
	/* t's own wall time: t or an earlier instant shows it or jumps over it */
	u = tz_wall_to_utc(z, w);
	if (u > t || !shows_or_jumps(z, u, w))
		abort();
	/* t read as a wall time */
	if (!shows_or_jumps(z, tz_wall_to_utc(z, t), t))
		abort();
}

static void check_zone(const struct tz *z, const uint8_t *data, size_t size)
{
	static const int64_t fixed[] = {
		INT64_MIN, TZ_TIME_MIN, -(INT64_C(1) << 40), -10000000000, -2147483649,
		-1, 0, 1, 1000000000, 2147483647, 2208988800 /* 2040 */, 4102444800,
		(INT64_C(1) << 40), TZ_TIME_MAX, INT64_MAX,
	};
	int64_t starts[32];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		starts[n++] = fixed[i];
		check_instant(z, fixed[i]);
	}
	/* instants the input chooses: its last 16 bytes */
	for (size_t k = 0; k < 2 && size >= 8 * (k + 1); k++) {
		int64_t t;

		memcpy(&t, data + size - 8 * (k + 1), 8);
		t %= INT64_C(1) << 41;
		starts[n++] = t;
		check_instant(z, t);
	}
	for (size_t i = 0; i < n; i++) {
		int64_t t = starts[i], next;

		for (int k = 0; k < MAX_CHAIN && !tz_next_transition(z, t, &next); k++) {
			int64_t from = t < TZ_TIME_MIN ? TZ_TIME_MIN : t;

			if (next <= t || next <= from)
				abort();
			/* the offset holds from t up to next, and changes there */
			if (next <= TZ_TIME_MAX && next - 1 >= TZ_TIME_MIN &&
			    (tz_utc_offset(z, next - 1) != tz_utc_offset(z, from) ||
			     tz_utc_offset(z, next) == tz_utc_offset(z, from)))
				abort();
			check_instant(z, next - 1);
			check_instant(z, next);
			t = next;
		}
	}
	(void)tz_name(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tz *z;
	char *rule;

	if (!tz_parse(data, size, &z)) {
		check_zone(z, data, size);
		tz_free(z);
	}
	if (size > 300)
		return 0;
	rule = malloc(size + 1);
	if (!rule)
		abort();
	memcpy(rule, data, size);
	rule[size] = '\0';
	if (!tz_parse_posix(rule, &z)) {
		if (strcmp(tz_name(z), rule))
			abort();
		check_zone(z, data, size);
		tz_free(z);
	}
	free(rule);
	return 0;
}
