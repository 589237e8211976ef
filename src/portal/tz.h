/* Time zones without process state: TZif files (RFC 8536, versions 1-4) and POSIX
 * TZ rules, so each policy can use its own zone (localtime_r follows the one TZ of
 * the process). Times are unix seconds; offsets are seconds east of UTC.
 *
 * A "wall" time is local time counted like unix time: the local date and clock
 * read as if they were UTC (days * 86400 + seconds of the day). Instants outside
 * [TZ_TIME_MIN, TZ_TIME_MAX] (about +-4 million years) are clamped. */
#ifndef SLUICE_PORTAL_TZ_H
#define SLUICE_PORTAL_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TZ_TIME_MAX (INT64_C(1) << 47)
#define TZ_TIME_MIN (-TZ_TIME_MAX)
#define TZ_NAME_MAX 255       /* longest zone name tz_load accepts */
#define TZ_FILE_MAX 65536     /* larger files are refused (the largest real one is ~4 KiB) */
/* Every offset a zone may have (RFC 8536's -25 h .. +26 h); others are refused. */
#define TZ_OFFSET_MIN (-89999)
#define TZ_OFFSET_MAX 93599

struct tz;
struct tz_cache;

struct tz_tm {
	int64_t year;
	int month, day;        /* 1-12, 1-31 */
	int wday;              /* 0 = Sunday */
	int hour, min, sec;
	int32_t utc_offset;    /* seconds east of UTC */
	bool is_dst;
	const char *abbr;      /* "CEST"; owned by the zone */
};

/* Loads dir/name. 0; -EINVAL if name is not a zone name (characters other than
 * A-Z a-z 0-9 _ + - /, an empty, leading or trailing component, too long);
 * -ENOENT no such zone; -EBADMSG malformed; -EOPNOTSUPP leap-second ("right/")
 * data; -ENOMEM; other -errno from the file system. */
int tz_load(const char *dir, const char *name, struct tz **out);
/* Parses a TZif image (errors as tz_load), or a POSIX TZ rule such as
 * "CET-1CEST,M3.5.0,M10.5.0/3" (-EINVAL if it is not one). Named "" and the
 * rule itself respectively. */
int tz_parse(const void *data, size_t len, struct tz **out);
int tz_parse_posix(const char *rule, struct tz **out);
void tz_free(struct tz *z);
const char *tz_name(const struct tz *z);

int32_t tz_utc_offset(const struct tz *z, int64_t t);
void tz_local(const struct tz *z, int64_t t, struct tz_tm *out);
int64_t tz_utc_to_wall(const struct tz *z, int64_t t);
/* The first instant at which the local clock shows wall or jumps over it: in a
 * gap (spring forward) the instant the gap ends, in an overlap (fall back) the
 * first occurrence. Monotonic: a later wall never maps to an earlier instant. */
int64_t tz_wall_to_utc(const struct tz *z, int64_t wall);
/* The next instant after t at which the UTC offset changes; -ENOENT if never. */
int tz_next_transition(const struct tz *z, int64_t t, int64_t *out);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12, day 1-31). */
int64_t tz_days_from_civil(int64_t year, int month, int day);

/* Zones loaded once and kept for the cache's lifetime (at most max_zones names),
 * so a struct tz from it may be held as long as the cache lives. name NULL
 * gives built-in UTC. Errors as tz_load, and -ENOSPC when full. */
int tz_cache_new(const char *dir, size_t max_zones, struct tz_cache **out);
void tz_cache_free(struct tz_cache *c);
int tz_cache_get(struct tz_cache *c, const char *name, const struct tz **out);

#endif
