/* The policy engine: decisions as tables (default deny, groups, expiry, source
 * CIDRs, time windows at their edges, across midnight, "24:00", in zones across
 * DST changes, a policy whose zone changes), next_change checked against a
 * minute-by-minute replay, visible resources, and validation with its exact
 * messages. Policies are written with ' for " to keep the tables readable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "portal/policy.h"
#include "portal/tz.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ZONEINFO "/usr/share/zoneinfo"
#define DAY 86400
#define MAX_POLS 8

static int64_t at(const char *s)
{
	int y, mo, d, h, mi, sec;

	if (sscanf(s, "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &sec) != 6)
		fail_msg("bad time in test: %s", s);
	return tz_days_from_civil(y, mo, d) * DAY + h * 3600 + mi * 60 + sec;
}

static void show(int64_t t, char *out, size_t len)
{
	struct tz *u;
	struct tz_tm m;

	assert_int_equal(tz_parse_posix("UTC0", &u), 0);
	tz_local(u, t, &m);
	snprintf(out, len, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)m.year, m.month, m.day,
		 m.hour, m.min, m.sec);
	tz_free(u);
}

static json_t *load_json(const char *text)
{
	char *s = strdup(text);
	json_error_t jerr;
	json_t *v;

	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	v = json_loads(s, 0, &jerr);
	if (!v)
		fail_msg("bad JSON in test: %s: %s", s, jerr.text);
	free(s);
	return v;
}

static size_t parse_all(struct policy_engine *e, const char *text, struct policy *pols)
{
	json_t *arr = load_json(text), *v;
	size_t i;

	assert_true(json_array_size(arr) <= MAX_POLS);
	json_array_foreach(arr, i, v) {
		struct policy_error err;

		if (policy_parse(e, v, &pols[i], &err))
			fail_msg("policy %zu refused: %s: %s", i, err.field, err.message);
	}
	json_decref(arr);
	return i;
}

static struct policy_engine *engine(int64_t lifetime)
{
	struct policy_engine *e;

	assert_int_equal(policy_engine_new(ZONEINFO, lifetime ? lifetime : DAY, &e), 0);
	return e;
}

static size_t parse_groups(const char *s, uint64_t *out)
{
	size_t n = 0;

	for (char *end; s && *s && n < 4; s = *end ? end + 1 : end)
		out[n++] = strtoull(s, &end, 10);
	return n;
}

struct decide_case {
	const char *what;
	const char *policies;
	const char *now;
	const char *want;     /* "granted until <time> by <id>", or the reason */
	const char *groups;   /* NULL: "1" */
	const char *source;   /* NULL: unknown */
	uint64_t resource;    /* 0: 10 */
	int64_t lifetime;     /* 0: one day */
};

#define P(extra) "{'id':1,'group_id':1,'resource_id':10" extra "}"
#define WIN(zone, days, start, end) \
	P(",'conditions':{'time_zone':'" zone "','time_windows':[{'days':[" days "]," \
	  "'start':'" start "','end':'" end "'}]}")
#define CIDRS(list) P(",'conditions':{'source_cidrs':[" list "]}")
#define MONFRI "'mon','tue','wed','thu','fri'"
#define ALLDAYS "'mon','tue','wed','thu','fri','sat','sun'"

/* 2026-06-01 is a Monday; 2026-03-29 and 2026-10-25 are the Sundays on which
 * Berlin springs forward and falls back. */
static const struct decide_case decide_cases[] = {
	/* default deny */
	{ "no policies", "[]", "2026-06-01T12:00:00Z", "no_policy", NULL, NULL, 0, 0 },
	{ "another group's", "[{'id':1,'group_id':2,'resource_id':10}]", "2026-06-01T12:00:00Z",
	  "no_policy", NULL, NULL, 0, 0 },
	{ "another resource's", "[{'id':1,'group_id':1,'resource_id':11}]",
	  "2026-06-01T12:00:00Z", "no_policy", NULL, NULL, 0, 0 },
	{ "user in no group", "[" P("") "]", "2026-06-01T12:00:00Z", "no_policy", "", NULL, 0, 0 },
	/* one policy; the lifetime caps it */
	{ "plain", "[" P("") "]", "2026-06-01T12:00:00Z", "granted until 2026-06-02T12:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "short lifetime", "[" P("") "]", "2026-06-01T12:00:00Z",
	  "granted until 2026-06-01T12:05:00Z by 1", NULL, NULL, 0, 300 },
	/* expiry: exclusive */
	{ "expires later", "[" P(",'expires_at':'2026-06-01T18:00:00Z'") "]",
	  "2026-06-01T12:00:00Z", "granted until 2026-06-01T18:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "expires now", "[" P(",'expires_at':'2026-06-01T12:00:00Z'") "]",
	  "2026-06-01T12:00:00Z", "expired", NULL, NULL, 0, 0 },
	{ "expired", "[" P(",'expires_at':'2026-06-01T11:59:59Z'") "]", "2026-06-01T12:00:00Z",
	  "expired", NULL, NULL, 0, 0 },
	{ "expiry with an offset", "[" P(",'expires_at':'2026-06-01T20:00:00.75+02:00'") "]",
	  "2026-06-01T12:00:00Z", "granted until 2026-06-01T18:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "expires after the lifetime", "[" P(",'expires_at':'2027-01-01T00:00:00Z'") "]",
	  "2026-06-01T12:00:00Z", "granted until 2026-06-02T12:00:00Z by 1", NULL, NULL, 0, 0 },
	/* several groups and policies: the longest-lived grant wins */
	{ "latest expiry wins",
	  "[{'id':1,'group_id':1,'resource_id':10,'expires_at':'2026-06-01T15:00:00Z'},"
	  "{'id':2,'group_id':2,'resource_id':10,'expires_at':'2026-06-01T20:00:00Z'},"
	  "{'id':3,'group_id':3,'resource_id':10}]",
	  "2026-06-01T12:00:00Z", "granted until 2026-06-01T20:00:00Z by 2", "1,2", NULL, 0, 0 },
	{ "no expiry beats an expiry",
	  "[{'id':1,'group_id':2,'resource_id':10,'expires_at':'2026-06-01T20:00:00Z'},"
	  "{'id':5,'group_id':1,'resource_id':10}]",
	  "2026-06-01T12:00:00Z", "granted until 2026-06-02T12:00:00Z by 5", "2,1", NULL, 0, 0 },
	{ "tie: lowest id", "[{'id':7,'group_id':1,'resource_id':10},{'id':3,'group_id':2,"
	  "'resource_id':10},{'id':9,'group_id':1,'resource_id':10}]",
	  "2026-06-01T12:00:00Z", "granted until 2026-06-02T12:00:00Z by 3", "1,2", NULL, 0, 0 },
	{ "granted beats denied",
	  "[{'id':1,'group_id':1,'resource_id':10,'expires_at':'2020-01-01T00:00:00Z'},"
	  "{'id':2,'group_id':1,'resource_id':10}]",
	  "2026-06-01T12:00:00Z", "granted until 2026-06-02T12:00:00Z by 2", NULL, NULL, 0, 0 },
	{ "closest denial: source over expired",
	  "[{'id':1,'group_id':1,'resource_id':10,'expires_at':'2020-01-01T00:00:00Z'},"
	  "{'id':2,'group_id':1,'resource_id':10,'conditions':{'source_cidrs':['10.0.0.0/8']}}]",
	  "2026-06-01T12:00:00Z", "source_not_allowed", NULL, "198.51.100.10", 0, 0 },
	{ "closest denial: window over source",
	  "[{'id':1,'group_id':1,'resource_id':10,'conditions':{'source_cidrs':['10.0.0.0/8']}},"
	  "{'id':2,'group_id':1,'resource_id':10,'conditions':{'time_windows':"
	  "[{'days':['sun'],'start':'09:00','end':'10:00'}]}}]",
	  "2026-06-01T12:00:00Z", "outside_time_window", NULL, "198.51.100.10", 0, 0 },
	/* source CIDRs */
	{ "v4 in", "[" CIDRS("'198.51.100.0/24'") "]", "2026-06-01T12:00:00Z",
	  "granted until 2026-06-02T12:00:00Z by 1", NULL, "198.51.100.10", 0, 0 },
	{ "v4 out", "[" CIDRS("'198.51.100.0/24'") "]", "2026-06-01T12:00:00Z",
	  "source_not_allowed", NULL, "198.51.101.10", 0, 0 },
	{ "v4 /25 in", "[" CIDRS("'198.51.100.128/25'") "]", "2026-06-01T12:00:00Z",
	  "granted until 2026-06-02T12:00:00Z by 1", NULL, "198.51.100.200", 0, 0 },
	{ "v4 /25 out", "[" CIDRS("'198.51.100.128/25'") "]", "2026-06-01T12:00:00Z",
	  "source_not_allowed", NULL, "198.51.100.127", 0, 0 },
	{ "v4 one address", "[" CIDRS("'198.51.100.10'") "]", "2026-06-01T12:00:00Z",
	  "granted until 2026-06-02T12:00:00Z by 1", NULL, "198.51.100.10", 0, 0 },
	{ "v4 one address, other", "[" CIDRS("'198.51.100.10'") "]", "2026-06-01T12:00:00Z",
	  "source_not_allowed", NULL, "198.51.100.11", 0, 0 },
	{ "v4 /0", "[" CIDRS("'0.0.0.0/0'") "]", "2026-06-01T12:00:00Z",
	  "granted until 2026-06-02T12:00:00Z by 1", NULL, "203.0.113.5", 0, 0 },
	{ "v4-mapped source", "[" CIDRS("'198.51.100.0/24'") "]", "2026-06-01T12:00:00Z",
	  "granted until 2026-06-02T12:00:00Z by 1", NULL, "::ffff:198.51.100.10", 0, 0 },
	{ "v6 in", "[" CIDRS("'2001:db8::/32'") "]", "2026-06-01T12:00:00Z",
	  "granted until 2026-06-02T12:00:00Z by 1", NULL, "2001:db8:1::5", 0, 0 },
	{ "v6 out", "[" CIDRS("'2001:db8::/32'") "]", "2026-06-01T12:00:00Z",
	  "source_not_allowed", NULL, "2001:db9::5", 0, 0 },
	{ "v6 /127", "[" CIDRS("'2001:db8::4/127'") "]", "2026-06-01T12:00:00Z",
	  "granted until 2026-06-02T12:00:00Z by 1", NULL, "2001:db8::5", 0, 0 },
	{ "v4 rule, v6 source", "[" CIDRS("'0.0.0.0/0'") "]", "2026-06-01T12:00:00Z",
	  "source_not_allowed", NULL, "2001:db8::5", 0, 0 },
	{ "v6 rule, v4 source", "[" CIDRS("'::/0'") "]", "2026-06-01T12:00:00Z",
	  "source_not_allowed", NULL, "198.51.100.10", 0, 0 },
	{ "second CIDR", "[" CIDRS("'10.0.0.0/8','2001:db8::/32'") "]", "2026-06-01T12:00:00Z",
	  "granted until 2026-06-02T12:00:00Z by 1", NULL, "2001:db8::5", 0, 0 },
	{ "unknown source", "[" CIDRS("'0.0.0.0/0','::/0'") "]", "2026-06-01T12:00:00Z",
	  "source_not_allowed", NULL, NULL, 0, 0 },
	{ "empty list: any source", "[" CIDRS("") "]", "2026-06-01T12:00:00Z",
	  "granted until 2026-06-02T12:00:00Z by 1", NULL, NULL, 0, 0 },
	/* windows in UTC: start inclusive, end exclusive */
	{ "inside", "[" WIN("UTC", MONFRI, "09:00", "17:00") "]", "2026-06-01T12:00:00Z",
	  "granted until 2026-06-01T17:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "at the start", "[" WIN("UTC", MONFRI, "09:00", "17:00") "]", "2026-06-01T09:00:00Z",
	  "granted until 2026-06-01T17:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "just before", "[" WIN("UTC", MONFRI, "09:00", "17:00") "]", "2026-06-01T08:59:59Z",
	  "outside_time_window", NULL, NULL, 0, 0 },
	{ "last second", "[" WIN("UTC", MONFRI, "09:00", "17:00") "]", "2026-06-01T16:59:59Z",
	  "granted until 2026-06-01T17:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "at the end", "[" WIN("UTC", MONFRI, "09:00", "17:00") "]", "2026-06-01T17:00:00Z",
	  "outside_time_window", NULL, NULL, 0, 0 },
	{ "other day", "[" WIN("UTC", "'tue'", "09:00", "17:00") "]", "2026-06-01T12:00:00Z",
	  "outside_time_window", NULL, NULL, 0, 0 },
	{ "no zone is UTC", "[" P(",'conditions':{'time_windows':[{'days':['mon'],"
	  "'start':'09:00','end':'17:00'}]}") "]", "2026-06-01T12:00:00Z",
	  "granted until 2026-06-01T17:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "lifetime first", "[" WIN("UTC", MONFRI, "09:00", "17:00") "]", "2026-06-01T12:00:00Z",
	  "granted until 2026-06-01T13:00:00Z by 1", NULL, NULL, 0, 3600 },
	{ "expiry first", "[" P(",'expires_at':'2026-06-01T14:00:00Z','conditions':{"
	  "'time_windows':[{'days':['mon'],'start':'09:00','end':'17:00'}]}") "]",
	  "2026-06-01T12:00:00Z", "granted until 2026-06-01T14:00:00Z by 1", NULL, NULL, 0, 0 },
	/* across midnight: the days are the days the window starts */
	{ "fri night, fri", "[" WIN("UTC", "'fri'", "22:00", "02:00") "]", "2026-06-05T23:00:00Z",
	  "granted until 2026-06-06T02:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "fri night, sat early", "[" WIN("UTC", "'fri'", "22:00", "02:00") "]",
	  "2026-06-06T01:59:59Z", "granted until 2026-06-06T02:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "fri night, sat 02:00", "[" WIN("UTC", "'fri'", "22:00", "02:00") "]",
	  "2026-06-06T02:00:00Z", "outside_time_window", NULL, NULL, 0, 0 },
	{ "fri night, sat night", "[" WIN("UTC", "'fri'", "22:00", "02:00") "]",
	  "2026-06-06T23:00:00Z", "outside_time_window", NULL, NULL, 0, 0 },
	{ "fri night, fri early", "[" WIN("UTC", "'fri'", "22:00", "02:00") "]",
	  "2026-06-05T01:00:00Z", "outside_time_window", NULL, NULL, 0, 0 },
	{ "sun night into mon", "[" WIN("UTC", "'sun'", "20:00", "08:00") "]",
	  "2026-06-01T07:00:00Z", "granted until 2026-06-01T08:00:00Z by 1", NULL, NULL, 0, 0 },
	/* "24:00", and "00:00" as an end: midnight after */
	{ "24:00", "[" WIN("UTC", "'mon'", "18:00", "24:00") "]", "2026-06-01T23:59:59Z",
	  "granted until 2026-06-02T00:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "24:00, next day", "[" WIN("UTC", "'mon'", "18:00", "24:00") "]",
	  "2026-06-02T00:00:00Z", "outside_time_window", NULL, NULL, 0, 0 },
	{ "end 00:00", "[" WIN("UTC", "'mon'", "18:00", "00:00") "]", "2026-06-01T20:00:00Z",
	  "granted until 2026-06-02T00:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "whole days merge", "[" WIN("UTC", "'mon','tue','wed'", "00:00", "24:00") "]",
	  "2026-06-01T12:00:00Z", "granted until 2026-06-04T00:00:00Z by 1", NULL, NULL, 0,
	  7 * DAY },
	{ "always", "[" WIN("UTC", ALLDAYS, "00:00", "24:00") "]", "2026-06-01T12:00:00Z",
	  "granted until 2026-06-02T12:00:00Z by 1", NULL, NULL, 0, 0 },
	/* several windows: touching or overlapping ones count as one */
	{ "gap between windows",
	  "[" P(",'conditions':{'time_windows':[{'days':['mon'],'start':'09:00','end':'12:00'},"
	  "{'days':['mon'],'start':'13:00','end':'17:00'}]}") "]",
	  "2026-06-01T12:30:00Z", "outside_time_window", NULL, NULL, 0, 0 },
	{ "first of two",
	  "[" P(",'conditions':{'time_windows':[{'days':['mon'],'start':'09:00','end':'12:00'},"
	  "{'days':['mon'],'start':'13:00','end':'17:00'}]}") "]",
	  "2026-06-01T11:00:00Z", "granted until 2026-06-01T12:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "touching",
	  "[" P(",'conditions':{'time_windows':[{'days':['mon'],'start':'12:00','end':'17:00'},"
	  "{'days':['mon'],'start':'09:00','end':'12:00'}]}") "]",
	  "2026-06-01T10:00:00Z", "granted until 2026-06-01T17:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "overlapping",
	  "[" P(",'conditions':{'time_windows':[{'days':['mon'],'start':'09:00','end':'13:00'},"
	  "{'days':['mon'],'start':'12:00','end':'17:00'}]}") "]",
	  "2026-06-01T10:00:00Z", "granted until 2026-06-01T17:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "night into the day window",
	  "[" P(",'conditions':{'time_windows':[{'days':['sun'],'start':'22:00','end':'06:00'},"
	  "{'days':['mon'],'start':'06:00','end':'10:00'}]}") "]",
	  "2026-05-31T23:00:00Z", "granted until 2026-06-01T10:00:00Z by 1", NULL, NULL, 0, 0 },
	/* zones: the same window in three zones at one instant (14:00 in Berlin,
	 * 08:00 in New York, 17:30 in Kolkata) */
	{ "Berlin", "[" WIN("Europe/Berlin", MONFRI, "09:00", "17:00") "]", "2026-06-01T12:00:00Z",
	  "granted until 2026-06-01T15:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "New York", "[" WIN("America/New_York", MONFRI, "09:00", "17:00") "]",
	  "2026-06-01T12:00:00Z", "outside_time_window", NULL, NULL, 0, 0 },
	{ "Kolkata", "[" WIN("Asia/Kolkata", MONFRI, "09:00", "17:00") "]",
	  "2026-06-01T12:00:00Z", "outside_time_window", NULL, NULL, 0, 0 },
	{ "Kolkata, earlier", "[" WIN("Asia/Kolkata", MONFRI, "09:00", "17:00") "]",
	  "2026-06-01T11:00:00Z", "granted until 2026-06-01T11:30:00Z by 1", NULL, NULL, 0, 0 },
	{ "day in the zone, not UTC", "[" WIN("Pacific/Chatham", "'tue'", "00:00", "24:00") "]",
	  "2026-06-01T12:00:00Z", "granted until 2026-06-02T11:15:00Z by 1", NULL, NULL, 0, 0 },
	/* Berlin springs forward on 2026-03-29: 02:00 CET becomes 03:00 CEST */
	{ "spring: 02-03 is empty", "[" WIN("Europe/Berlin", "'sun'", "02:00", "03:00") "]",
	  "2026-03-29T01:00:00Z", "outside_time_window", NULL, NULL, 0, 0 },
	{ "spring: 02-03, before", "[" WIN("Europe/Berlin", "'sun'", "02:00", "03:00") "]",
	  "2026-03-29T00:59:59Z", "outside_time_window", NULL, NULL, 0, 0 },
	{ "spring: 02-03 next week", "[" WIN("Europe/Berlin", "'sun'", "02:00", "03:00") "]",
	  "2026-04-05T00:30:00Z", "granted until 2026-04-05T01:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "spring: 01-04 lasts 2 h", "[" WIN("Europe/Berlin", "'sun'", "01:00", "04:00") "]",
	  "2026-03-29T00:30:00Z", "granted until 2026-03-29T02:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "spring: start in the gap", "[" WIN("Europe/Berlin", "'sun'", "02:30", "05:00") "]",
	  "2026-03-29T01:00:00Z", "granted until 2026-03-29T03:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "spring: before the gap's end", "[" WIN("Europe/Berlin", "'sun'", "02:30", "05:00") "]",
	  "2026-03-29T00:59:59Z", "outside_time_window", NULL, NULL, 0, 0 },
	{ "spring: across midnight", "[" WIN("Europe/Berlin", "'sat'", "22:00", "04:00") "]",
	  "2026-03-29T01:30:00Z", "granted until 2026-03-29T02:00:00Z by 1", NULL, NULL, 0, 0 },
	/* falls back on 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:xx twice */
	{ "fall: 01-04 lasts 4 h", "[" WIN("Europe/Berlin", "'sun'", "01:00", "04:00") "]",
	  "2026-10-24T23:00:00Z", "granted until 2026-10-25T03:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "fall: start at the first 02:30", "[" WIN("Europe/Berlin", "'sun'", "02:30", "03:00") "]",
	  "2026-10-25T00:30:00Z", "granted until 2026-10-25T02:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "fall: the second 02:30 too", "[" WIN("Europe/Berlin", "'sun'", "02:30", "03:00") "]",
	  "2026-10-25T01:30:00Z", "granted until 2026-10-25T02:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "fall: end at the first 02:30", "[" WIN("Europe/Berlin", "'sun'", "00:00", "02:30") "]",
	  "2026-10-25T00:29:59Z", "granted until 2026-10-25T00:30:00Z by 1", NULL, NULL, 0, 0 },
	{ "fall: not at the second", "[" WIN("Europe/Berlin", "'sun'", "00:00", "02:30") "]",
	  "2026-10-25T01:00:00Z", "outside_time_window", NULL, NULL, 0, 0 },
	/* Lord Howe springs forward by 30 minutes (02:00 -> 02:30) on 2026-10-04 */
	{ "Lord Howe: 02-03 is 30 min", "[" WIN("Australia/Lord_Howe", "'sun'", "02:00", "03:00") "]",
	  "2026-10-03T15:30:00Z", "granted until 2026-10-03T16:00:00Z by 1", NULL, NULL, 0, 0 },
	/* the footer rule: Berlin in 2040 (springs forward on 2040-03-25) */
	{ "2040 spring", "[" WIN("Europe/Berlin", "'sun'", "01:00", "04:00") "]",
	  "2040-03-25T00:30:00Z", "granted until 2040-03-25T02:00:00Z by 1", NULL, NULL, 0, 0 },
	{ "2040 summer", "[" WIN("Europe/Berlin", MONFRI, "09:00", "17:00") "]",
	  "2040-07-02T14:59:59Z", "granted until 2040-07-02T15:00:00Z by 1", NULL, NULL, 0, 0 },
};

static void test_decide_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(decide_cases); i++) {
		const struct decide_case *c = &decide_cases[i];
		struct policy_engine *e = engine(c->lifetime);
		struct policy pols[MAX_POLS];
		struct policy_addr src;
		uint64_t groups[4];
		struct policy_subject s = { groups, parse_groups(c->groups ? c->groups : "1", groups),
					    NULL, at(c->now) };
		struct policy_decision d;
		size_t n = parse_all(e, c->policies, pols);
		char got[96], when[32];

		if (c->source) {
			assert_int_equal(policy_addr_parse(c->source, &src), 0);
			s.source = &src;
		}
		policy_decide(e, pols, n, &s, c->resource ? c->resource : 10, &d);
		if (d.allowed) {
			show(d.expires_at, when, sizeof(when));
			snprintf(got, sizeof(got), "granted until %s by %llu", when,
				 (unsigned long long)d.policy_id);
			assert_true(d.expires_at > s.now);
			assert_int_equal(d.reason, POLICY_GRANTED);
		} else {
			snprintf(got, sizeof(got), "%s", policy_reason_str(d.reason));
			assert_true(d.policy_id == 0);
		}
		if (strcmp(got, c->want))
			fail_msg("case %zu \"%s\": %s, want %s", i, c->what, got, c->want);
		policy_engine_free(e);
	}
}

/* The same policy, its zone changed: other decisions from the same instant. */
static void test_zone_change(void **state)
{
	static const char *const zones[] = { "UTC", "Europe/Berlin", "America/New_York",
					     "Asia/Tokyo" };
	static const bool want[] = { true, true, false, false }; /* at 2026-06-01 12:00Z */
	struct policy_engine *e = engine(0);
	uint64_t g = 1;
	struct policy_subject s = { &g, 1, NULL, at("2026-06-01T12:00:00Z") };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(zones); i++) {
		char text[256];
		struct policy p;
		struct policy_decision d;

		snprintf(text, sizeof(text), "[" WIN("%s", "'mon'", "09:00", "17:00") "]", zones[i]);
		parse_all(e, text, &p);
		assert_string_equal(tz_name(p.tz), zones[i]);
		policy_decide(e, &p, 1, &s, 10, &d);
		if (d.allowed != want[i])
			fail_msg("%s: allowed %d", zones[i], d.allowed);
	}
	policy_engine_free(e);
}

struct next_case {
	const char *what;
	const char *policies;
	const char *now;
	const char *want; /* a time, or "none" */
};

static const struct next_case next_cases[] = {
	{ "nothing", "[]", "2026-06-01T12:00:00Z", "none" },
	{ "no conditions", "[" P("") "]", "2026-06-01T12:00:00Z", "none" },
	{ "source only", "[" CIDRS("'10.0.0.0/8'") "]", "2026-06-01T12:00:00Z", "none" },
	{ "expiry", "[" P(",'expires_at':'2026-06-03T00:00:00Z'") "]", "2026-06-01T12:00:00Z",
	  "2026-06-03T00:00:00Z" },
	{ "already expired", "[" P(",'expires_at':'2026-06-01T00:00:00Z'") "]",
	  "2026-06-01T12:00:00Z", "none" },
	{ "another group's", "[{'id':1,'group_id':2,'resource_id':10,"
	  "'expires_at':'2026-06-03T00:00:00Z'}]", "2026-06-01T12:00:00Z", "none" },
	{ "window closes", "[" WIN("UTC", "'mon'", "09:00", "17:00") "]", "2026-06-01T12:00:00Z",
	  "2026-06-01T17:00:00Z" },
	{ "window opens next week", "[" WIN("UTC", "'mon'", "09:00", "17:00") "]",
	  "2026-06-01T17:00:00Z", "2026-06-08T09:00:00Z" },
	{ "window opens tomorrow", "[" WIN("UTC", MONFRI, "09:00", "17:00") "]",
	  "2026-06-01T18:00:00Z", "2026-06-02T09:00:00Z" },
	{ "merged days close once", "[" WIN("UTC", "'mon','tue'", "00:00", "24:00") "]",
	  "2026-06-01T12:00:00Z", "2026-06-03T00:00:00Z" },
	{ "always: the horizon", "[" WIN("UTC", ALLDAYS, "00:00", "24:00") "]",
	  "2026-06-01T12:00:00Z", "2026-06-09T12:00:00Z" },
	{ "earliest of several",
	  "[{'id':1,'group_id':1,'resource_id':10,'expires_at':'2026-06-01T16:00:00Z'},"
	  "" WIN("UTC", "'mon'", "09:00", "17:00") "]", "2026-06-01T12:00:00Z",
	  "2026-06-01T16:00:00Z" },
	{ "expiry before the window", "[" P(",'expires_at':'2026-06-01T13:00:00Z',"
	  "'conditions':{'time_windows':[{'days':['mon'],'start':'09:00','end':'17:00'}]}") "]",
	  "2026-06-01T12:00:00Z", "2026-06-01T13:00:00Z" },
	{ "Berlin across spring", "[" WIN("Europe/Berlin", ALLDAYS, "09:00", "17:00") "]",
	  "2026-03-28T18:00:00Z", "2026-03-29T07:00:00Z" },
	{ "Berlin across autumn", "[" WIN("Europe/Berlin", ALLDAYS, "09:00", "17:00") "]",
	  "2026-10-24T18:00:00Z", "2026-10-25T08:00:00Z" },
};

static void test_next_change_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(next_cases); i++) {
		const struct next_case *c = &next_cases[i];
		struct policy_engine *e = engine(0);
		struct policy pols[MAX_POLS];
		uint64_t g = 1;
		struct policy_subject s = { &g, 1, NULL, at(c->now) };
		size_t n = parse_all(e, c->policies, pols);
		int64_t t = 0;
		int r = policy_next_change(e, pols, n, &s, &t);
		char got[32] = "none";

		if (!r)
			show(t, got, sizeof(got));
		else
			assert_int_equal(r, -ENOENT);
		if (strcmp(got, c->want))
			fail_msg("case %zu \"%s\": %s, want %s", i, c->what, got, c->want);
		policy_engine_free(e);
	}
}

/* Minute by minute over ten days (every window edge falls on a minute):
 * next_change is never later than the first change of any decision, and for
 * one policy it is exactly that change unless it is the horizon. */
static void test_next_change_replay(void **state)
{
	static const char *const sets[] = {
		"[" WIN("Europe/Berlin", "'sat','sun'", "01:30", "03:30") "]",
		"[" WIN("Europe/Berlin", MONFRI, "22:00", "02:30") "]",
		"[" WIN("Australia/Lord_Howe", "'sun','mon'", "01:45", "02:45") "]",
		"[" WIN("Pacific/Chatham", "'sun'", "02:00", "04:00") "]",
		"[{'id':1,'group_id':1,'resource_id':10,'expires_at':'2026-03-30T10:17:00Z',"
		"'conditions':{'time_windows':[{'days':['mon','tue'],'start':'09:00','end':'11:00'}]}},"
		"{'id':2,'group_id':1,'resource_id':20,'conditions':{'time_zone':'America/New_York',"
		"'time_windows':[{'days':['sun'],'start':'00:00','end':'24:00'},"
		"{'days':['mon'],'start':'00:00','end':'01:00'}]}}]",
	};
	const int64_t from = at("2026-03-26T00:00:00Z"), steps = 10 * 24 * 60;
	int8_t *state_at = malloc((size_t)steps * 2);
	int64_t *first_change = malloc((size_t)steps * sizeof(int64_t));

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(sets); k++) {
		struct policy_engine *e = engine(0);
		struct policy pols[MAX_POLS];
		size_t n = parse_all(e, sets[k], pols);
		uint64_t g = 1;

		for (int64_t i = 0; i < steps; i++) {
			struct policy_subject s = { &g, 1, NULL, from + i * 60 };
			struct policy_decision d10, d20;

			policy_decide(e, pols, n, &s, 10, &d10);
			policy_decide(e, pols, n, &s, 20, &d20);
			state_at[i * 2] = (int8_t)d10.reason;
			state_at[i * 2 + 1] = (int8_t)d20.reason;
		}
		first_change[steps - 1] = INT64_MAX;
		for (int64_t i = steps - 2; i >= 0; i--)
			first_change[i] = memcmp(&state_at[i * 2], &state_at[i * 2 + 2], 2) ?
						  from + (i + 1) * 60 : first_change[i + 1];
		for (int64_t i = 0; i < steps; i += 7) {
			struct policy_subject s = { &g, 1, NULL, from + i * 60 + 13 };
			int64_t next = 0, want = first_change[i];

			assert_int_equal(policy_next_change(e, pols, n, &s, &next), 0);
			if (next > want || (n == 1 && want != INT64_MAX && next != want &&
					    next != s.now + 8 * DAY))
				fail_msg("set %zu at %lld: next change %lld, decisions change at %lld",
					 k, (long long)s.now, (long long)next, (long long)want);
		}
		policy_engine_free(e);
	}
	free(state_at);
	free(first_change);
}

static void test_visible_resources(void **state)
{
	struct policy_engine *e = engine(0);
	struct policy pols[MAX_POLS];
	size_t n = parse_all(e,
		"[{'id':1,'group_id':1,'resource_id':30},"
		"{'id':2,'group_id':2,'resource_id':10,'expires_at':'2026-06-01T18:00:00Z'},"
		"{'id':3,'group_id':1,'resource_id':10,'expires_at':'2026-06-01T15:00:00Z'},"
		"{'id':4,'group_id':1,'resource_id':20,'expires_at':'2020-01-01T00:00:00Z'},"
		"{'id':5,'group_id':3,'resource_id':40},"
		"{'id':6,'group_id':2,'resource_id':50,'conditions':{'source_cidrs':['10.0.0.0/8']}},"
		"{'id':7,'group_id':2,'resource_id':60,'conditions':{'source_cidrs':['198.51.100.0/24']}}]",
		pols);
	uint64_t groups[] = { 1, 2 };
	struct policy_addr src;
	struct policy_subject s = { groups, 2, &src, at("2026-06-01T12:00:00Z") };
	struct policy_grant out[MAX_POLS];
	size_t count = 99;

	(void)state;
	assert_int_equal(policy_addr_parse("198.51.100.10", &src), 0);
	assert_int_equal(policy_visible_resources(e, pols, n, &s, out, n, &count), 0);
	assert_int_equal(count, 3);
	assert_true(out[0].resource_id == 10 && out[0].policy_id == 2 &&
		    out[0].expires_at == at("2026-06-01T18:00:00Z"));
	assert_true(out[1].resource_id == 30 && out[1].policy_id == 1 &&
		    out[1].expires_at == at("2026-06-02T12:00:00Z"));
	assert_true(out[2].resource_id == 60 && out[2].policy_id == 7);
	assert_int_equal(policy_visible_resources(e, pols, n, &s, out, 2, &count), -ENOBUFS);
	assert_int_equal(count, 3);
	s.ngroups = 0;
	assert_int_equal(policy_visible_resources(e, pols, n, &s, out, n, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(policy_visible_resources(e, pols, 0, &s, out, 0, &count), 0);
	policy_engine_free(e);
}

static void test_parse_fields(void **state)
{
	struct policy_engine *e = engine(0);
	struct policy p;
	struct policy_error err;
	json_t *v = load_json(
		"{'group_id':4,'resource_id':9,'description':'x','created_at':'whenever',"
		"'expires_at':'2026-11-22T01:00:00Z','conditions':{'time_zone':'Europe/Berlin',"
		"'time_windows':[{'days':['sun','sat'],'start':'22:15','end':'00:00'},"
		"{'days':['wed'],'start':'00:00','end':'24:00'}],"
		"'source_cidrs':['198.51.100.0/24','2001:db8::/48','203.0.113.7']}}");

	(void)state;
	assert_int_equal(policy_parse(e, v, &p, &err), 0);
	assert_true(p.id == 0 && p.group_id == 4 && p.resource_id == 9);
	assert_true(p.expires_at == at("2026-11-22T01:00:00Z"));
	assert_string_equal(tz_name(p.tz), "Europe/Berlin");
	assert_int_equal(p.nwindows, 2);
	assert_int_equal(p.windows[0].days, (1 << 0) | (1 << 6));
	assert_int_equal(p.windows[0].start, 22 * 60 + 15);
	assert_int_equal(p.windows[0].end, 24 * 60);
	assert_int_equal(p.windows[1].days, 1 << 3);
	assert_int_equal(p.ncidrs, 3);
	assert_int_equal(p.cidrs[0].net.family, AF_INET);
	assert_int_equal(p.cidrs[0].prefix, 24);
	assert_int_equal(p.cidrs[1].net.family, AF_INET6);
	assert_int_equal(p.cidrs[1].prefix, 48);
	assert_int_equal(p.cidrs[2].prefix, 32);
	json_decref(v);
	/* nulls and empty lists are no conditions */
	v = load_json("{'id':3,'group_id':4,'resource_id':9,'expires_at':null,'conditions':"
		      "{'time_zone':null,'time_windows':[],'source_cidrs':null}}");
	assert_int_equal(policy_parse(e, v, &p, &err), 0);
	assert_true(p.id == 3 && p.expires_at == POLICY_NO_EXPIRY);
	assert_true(p.nwindows == 0 && p.ncidrs == 0);
	assert_string_equal(tz_name(p.tz), "UTC");
	json_decref(v);
	v = load_json("{'group_id':4,'resource_id':9,'conditions':null}");
	assert_int_equal(policy_parse(e, v, &p, &err), 0);
	json_decref(v);
	policy_engine_free(e);
}

struct invalid_case {
	const char *policy;
	const char *field, *message;
};

#define HEAD "{'group_id':1,'resource_id':2,'conditions':{"
#define C(x) HEAD x "}}"
#define W1(x) C("'time_windows':[{" x "}]")
#define DAYS "'days':['mon']"

static const struct invalid_case invalid_cases[] = {
	{ "[]", "", "a policy must be a JSON object" },
	{ "{'resource_id':2}", "group_id", "is required" },
	{ "{'group_id':'1','resource_id':2}", "group_id", "must be a positive integer" },
	{ "{'group_id':0,'resource_id':2}", "group_id", "must be a positive integer" },
	{ "{'group_id':1,'resource_id':-2}", "resource_id", "must be a positive integer" },
	{ "{'group_id':1}", "resource_id", "is required" },
	{ "{'id':0,'group_id':1,'resource_id':2}", "id", "must be a positive integer" },
	{ "{'group_id':1,'resource_id':2,'expires_at':'tomorrow'}", "expires_at",
	  "must be an RFC 3339 time such as \"2026-11-22T01:00:00Z\", or null" },
	{ "{'group_id':1,'resource_id':2,'expires_at':'2026-02-29T00:00:00Z'}", "expires_at",
	  "must be an RFC 3339 time such as \"2026-11-22T01:00:00Z\", or null" },
	{ "{'group_id':1,'resource_id':2,'expires_at':'2026-06-01 12:00:00Z'}", "expires_at",
	  "must be an RFC 3339 time such as \"2026-11-22T01:00:00Z\", or null" },
	{ "{'group_id':1,'resource_id':2,'expires_at':'2026-06-01T12:00:00'}", "expires_at",
	  "must be an RFC 3339 time such as \"2026-11-22T01:00:00Z\", or null" },
	{ "{'group_id':1,'resource_id':2,'expires_at':1780000000}", "expires_at",
	  "must be an RFC 3339 time such as \"2026-11-22T01:00:00Z\", or null" },
	{ "{'group_id':1,'resource_id':2,'conditions':'always'}", "conditions",
	  "must be an object or null" },
	{ C("'time_window':[]"), "conditions",
	  "unknown condition \"time_window\" (time_windows, time_zone, source_cidrs)" },
	{ C("'time_zone':'Mars/Olympus_Mons'"), "conditions.time_zone",
	  "unknown time zone \"Mars/Olympus_Mons\"" },
	{ C("'time_zone':'../../etc/passwd'"), "conditions.time_zone",
	  "\"../../etc/passwd\" is not a time zone name (Area/City)" },
	{ C("'time_zone':'Europe'"), "conditions.time_zone", "unknown time zone \"Europe\"" },
	{ C("'time_zone':'right/UTC'"), "conditions.time_zone",
	  "time zone \"right/UTC\" counts leap seconds: not supported" },
	{ C("'time_zone':1"), "conditions.time_zone", "must be a string or null" },
	{ C("'time_windows':{}"), "conditions.time_windows", "must be a list or null" },
	{ C("'time_windows':[5]"), "conditions.time_windows[0]",
	  "must be an object {days, start, end}" },
	{ W1(DAYS ",'start':'09:00','end':'10:00','day':'mon'"), "conditions.time_windows[0]",
	  "unknown field \"day\" (days, start, end)" },
	{ W1("'start':'09:00','end':'10:00'"), "conditions.time_windows[0].days",
	  "must be a non-empty list of days (mon ... sun)" },
	{ W1("'days':[],'start':'09:00','end':'10:00'"), "conditions.time_windows[0].days",
	  "must be a non-empty list of days (mon ... sun)" },
	{ W1("'days':['mon','Tue'],'start':'09:00','end':'10:00'"),
	  "conditions.time_windows[0].days[1]", "must be one of mon, tue, wed, thu, fri, sat, sun" },
	{ W1("'days':['monday'],'start':'09:00','end':'10:00'"),
	  "conditions.time_windows[0].days[0]", "must be one of mon, tue, wed, thu, fri, sat, sun" },
	{ W1("'days':[1],'start':'09:00','end':'10:00'"),
	  "conditions.time_windows[0].days[0]", "must be one of mon, tue, wed, thu, fri, sat, sun" },
	{ W1("'days':['mon','fri','mon'],'start':'09:00','end':'10:00'"),
	  "conditions.time_windows[0].days[2]", "\"mon\" is listed twice" },
	{ W1(DAYS ",'end':'10:00'"), "conditions.time_windows[0].start",
	  "must be a time of day \"HH:MM\" (00:00-23:59)" },
	{ W1(DAYS ",'start':'9:00','end':'10:00'"), "conditions.time_windows[0].start",
	  "must be a time of day \"HH:MM\" (00:00-23:59)" },
	{ W1(DAYS ",'start':'24:00','end':'10:00'"), "conditions.time_windows[0].start",
	  "must be a time of day \"HH:MM\" (00:00-23:59)" },
	{ W1(DAYS ",'start':'12:60','end':'10:00'"), "conditions.time_windows[0].start",
	  "must be a time of day \"HH:MM\" (00:00-23:59)" },
	{ W1(DAYS ",'start':'09:00:00','end':'10:00'"), "conditions.time_windows[0].start",
	  "must be a time of day \"HH:MM\" (00:00-23:59)" },
	{ W1(DAYS ",'start':'09:00','end':'24:01'"), "conditions.time_windows[0].end",
	  "must be a time of day \"HH:MM\" (00:00-24:00)" },
	{ W1(DAYS ",'start':'09:00','end':'25:00'"), "conditions.time_windows[0].end",
	  "must be a time of day \"HH:MM\" (00:00-24:00)" },
	{ W1(DAYS ",'start':'09:00','end':10"), "conditions.time_windows[0].end",
	  "must be a time of day \"HH:MM\" (00:00-24:00)" },
	{ W1(DAYS ",'start':'10:00','end':'10:00'"), "conditions.time_windows[0]",
	  "start and end are equal (a whole day is 00:00-24:00)" },
	{ C("'time_windows':[{'days':['mon'],'start':'09:00','end':'10:00'},"
	    "{'days':['mon'],'start':'09:00','end':'1000'}]"),
	  "conditions.time_windows[1].end", "must be a time of day \"HH:MM\" (00:00-24:00)" },
	{ C("'source_cidrs':'10.0.0.0/8'"), "conditions.source_cidrs", "must be a list or null" },
	{ C("'source_cidrs':[10]"), "conditions.source_cidrs[0]",
	  "must be a string such as \"198.51.100.0/24\"" },
	{ C("'source_cidrs':['10.0.0.0/8','198.51.100.1/24']"), "conditions.source_cidrs[1]",
	  "\"198.51.100.1/24\" has host bits set (198.51.100.0/24?)" },
	{ C("'source_cidrs':['2001:db8::1/32']"), "conditions.source_cidrs[0]",
	  "\"2001:db8::1/32\" has host bits set (2001:db8::/32?)" },
	{ C("'source_cidrs':['198.51.100.0/33']"), "conditions.source_cidrs[0]",
	  "\"198.51.100.0/33\": prefix length must be 0-32" },
	{ C("'source_cidrs':['2001:db8::/129']"), "conditions.source_cidrs[0]",
	  "\"2001:db8::/129\": prefix length must be 0-128" },
	{ C("'source_cidrs':['198.51.100.0/']"), "conditions.source_cidrs[0]",
	  "\"198.51.100.0/\": prefix length must be 0-32" },
	{ C("'source_cidrs':['198.51.100.0/024']"), "conditions.source_cidrs[0]",
	  "\"198.51.100.0/024\": prefix length must be 0-32" },
	{ C("'source_cidrs':['198.51.100.0/+24']"), "conditions.source_cidrs[0]",
	  "\"198.51.100.0/+24\": prefix length must be 0-32" },
	{ C("'source_cidrs':['/24']"), "conditions.source_cidrs[0]",
	  "\"/24\" is not an address or CIDR" },
	{ C("'source_cidrs':['300.1.1.0/24']"), "conditions.source_cidrs[0]",
	  "\"300.1.1.0/24\" is not an address or CIDR" },
	{ C("'source_cidrs':['example.com']"), "conditions.source_cidrs[0]",
	  "\"example.com\" is not an address or CIDR" },
	{ C("'source_cidrs':['::ffff:198.51.100.0/120']"), "conditions.source_cidrs[0]",
	  "\"::ffff:198.51.100.0/120\": write IPv4-mapped addresses as IPv4" },
};

static void test_invalid_table(void **state)
{
	struct policy_engine *e = engine(0);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(invalid_cases); i++) {
		const struct invalid_case *c = &invalid_cases[i];
		json_t *v = load_json(c->policy);
		struct policy p;
		struct policy_error err;
		int r = policy_parse(e, v, &p, &err);

		if (r != -EINVAL || strcmp(err.field, c->field) || strcmp(err.message, c->message))
			fail_msg("case %zu: %d [%s] %s\n  want [%s] %s", i, r, err.field,
				 err.message, c->field, c->message);
		json_decref(v);
	}
	policy_engine_free(e);
}

/* The caps: 32 windows and 64 CIDRs pass, one more does not. */
static void test_invalid_counts(void **state)
{
	struct policy_engine *e = engine(0);
	char text[8192];
	struct policy p;
	struct policy_error err;

	(void)state;
	for (int extra = 0; extra < 2; extra++) {
		size_t o = (size_t)snprintf(text, sizeof(text), "%s", HEAD "'time_windows':[");
		json_t *v;

		for (int i = 0; i < POLICY_MAX_WINDOWS + extra; i++)
			o += (size_t)snprintf(text + o, sizeof(text) - o,
					      "%s{'days':['mon'],'start':'%02d:00','end':'%02d:30'}",
					      i ? "," : "", i % 24, i % 24);
		snprintf(text + o, sizeof(text) - o, "]}}");
		v = load_json(text);
		assert_int_equal(policy_parse(e, v, &p, &err), extra ? -EINVAL : 0);
		if (extra)
			assert_string_equal(err.message, "at most 32 windows");
		json_decref(v);

		o = (size_t)snprintf(text, sizeof(text), "%s", HEAD "'source_cidrs':[");
		for (int i = 0; i < POLICY_MAX_CIDRS + extra; i++)
			o += (size_t)snprintf(text + o, sizeof(text) - o, "%s'10.%d.0.0/16'",
					      i ? "," : "", i);
		snprintf(text + o, sizeof(text) - o, "]}}");
		v = load_json(text);
		assert_int_equal(policy_parse(e, v, &p, &err), extra ? -EINVAL : 0);
		if (extra) {
			assert_string_equal(err.field, "conditions.source_cidrs");
			assert_string_equal(err.message, "at most 64 CIDRs");
		}
		json_decref(v);
	}
	policy_engine_free(e);
}

static void test_engine_and_addresses(void **state)
{
	struct policy_engine *e;
	struct policy_addr a;

	(void)state;
	assert_int_equal(policy_engine_new(ZONEINFO, 0, &e), -EINVAL);
	assert_int_equal(policy_engine_new(ZONEINFO, POLICY_LIFETIME_MAX + 1, &e), -EINVAL);
	assert_int_equal(policy_engine_new(ZONEINFO, POLICY_LIFETIME_MAX, &e), 0);
	policy_engine_free(e);
	policy_engine_free(NULL);
	assert_int_equal(policy_addr_parse("198.51.100.7", &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(a.bytes[3], 7);
	assert_int_equal(policy_addr_parse("::ffff:198.51.100.7", &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(a.bytes[0], 198);
	assert_int_equal(policy_addr_parse("2001:db8::7", &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(policy_addr_parse("198.51.100.7/32", &a), -EINVAL);
	assert_int_equal(policy_addr_parse("", &a), -EINVAL);
	assert_string_equal(policy_reason_str(POLICY_OUTSIDE_TIME_WINDOW), "outside_time_window");
	assert_string_equal(policy_reason_str(POLICY_SOURCE_NOT_ALLOWED), "source_not_allowed");
	assert_string_equal(policy_reason_str(POLICY_NO_POLICY), "no_policy");
	assert_string_equal(policy_reason_str(POLICY_EXPIRED), "expired");
	assert_string_equal(policy_reason_str(POLICY_GRANTED), "granted");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide_table),
		cmocka_unit_test(test_zone_change),
		cmocka_unit_test(test_next_change_table),
		cmocka_unit_test(test_next_change_replay),
		cmocka_unit_test(test_visible_resources),
		cmocka_unit_test(test_parse_fields),
		cmocka_unit_test(test_invalid_table),
		cmocka_unit_test(test_invalid_counts),
		cmocka_unit_test(test_engine_and_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
