/* The policy engine: pure decisions over a snapshot (the user's groups, the
 * policies, the client's source address, now). Default deny; a policy grants its
 * group its resource while all its conditions hold. Time zones come from the
 * engine's cache, loaded when a policy is parsed, so deciding does no I/O.
 *
 * A grant lasts until the earliest of the policy's expiry, the end of the time
 * window it is in, and now + the engine's max_lifetime; expiry and window ends
 * are exclusive, window starts inclusive. An empty time_windows or source_cidrs
 * list is no condition, as is an absent one.
 *
 * Time windows: days are those on which a window starts, in the policy's zone
 * (UTC when none); end "24:00" (or "00:00") is the midnight after the day; an end
 * before the start runs into the next day ("fri" 22:00-02:00 is Friday 22:00 to
 * Saturday 02:00); start = end is refused. Wall times become instants with
 * tz_wall_to_utc: a window edge inside a DST gap moves to the end of the gap (so
 * 02:00-03:00 on a spring-forward day is empty), and in a repeated hour the first
 * occurrence counts. Windows of one policy that overlap or touch count as one.
 *
 * policy_parse may load a zone into the engine's cache, so it runs on one thread;
 * the deciding functions only read and may run anywhere. */
#ifndef SLUICE_PORTAL_POLICY_H
#define SLUICE_PORTAL_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tz;
struct policy_engine;

#define POLICY_MAX_WINDOWS 32
#define POLICY_MAX_CIDRS 64
#define POLICY_NO_EXPIRY INT64_MAX
#define POLICY_LIFETIME_MAX (31 * 86400) /* longest max_lifetime an engine takes */

struct policy_addr {
	int family; /* AF_INET, AF_INET6, or AF_UNSPEC when unknown */
	uint8_t bytes[16];
};

struct policy_cidr {
	struct policy_addr net;
	unsigned prefix;
};

struct policy_window {
	uint8_t days;        /* bit 0 Sunday .. bit 6 Saturday */
	uint16_t start, end; /* minutes after midnight; end 1..1440 */
};

struct policy {
	uint64_t id, group_id, resource_id;
	int64_t expires_at;  /* POLICY_NO_EXPIRY if none */
	const struct tz *tz; /* borrowed from the engine; UTC when no time_zone */
	size_t nwindows;     /* 0: any time */
	struct policy_window windows[POLICY_MAX_WINDOWS];
	size_t ncidrs;       /* 0: any source */
	struct policy_cidr cidrs[POLICY_MAX_CIDRS];
};

struct policy_error {
	char field[80];      /* "conditions.time_windows[0].start" */
	char message[160];
};

struct policy_subject {
	const uint64_t *group_ids;
	size_t ngroups;
	const struct policy_addr *source; /* NULL: unknown, fails source_cidrs */
	int64_t now;
};

enum policy_reason {
	POLICY_GRANTED,
	POLICY_NO_POLICY,
	POLICY_EXPIRED,
	POLICY_SOURCE_NOT_ALLOWED,
	POLICY_OUTSIDE_TIME_WINDOW,
};

struct policy_decision {
	bool allowed;
	enum policy_reason reason;
	uint64_t policy_id;  /* the granting policy; 0 when denied */
	int64_t expires_at;  /* when allowed: > now */
};

struct policy_grant {
	uint64_t resource_id, policy_id;
	int64_t expires_at;
};

/* tz_dir: the zoneinfo directory; max_lifetime: 1..POLICY_LIFETIME_MAX s. */
int policy_engine_new(const char *tz_dir, int64_t max_lifetime, struct policy_engine **out);
void policy_engine_free(struct policy_engine *e);

/* A policy as stored ({"id", "group_id", "resource_id", "conditions",
 * "expires_at", ...}; unknown keys inside conditions are refused, others are
 * ignored). 0; -EINVAL with err filled; -ENOMEM; -ENOSPC (too many zones) or
 * another -errno reading the zone, err filled too. */
int policy_parse(struct policy_engine *e, const json_t *obj, struct policy *out,
		 struct policy_error *err);
/* An IPv4 or IPv6 address; IPv4-mapped IPv6 becomes IPv4. 0 or -EINVAL. */
int policy_addr_parse(const char *text, struct policy_addr *out);

/* May the subject reach resource_id now? When several policies grant, the one
 * whose authorization lasts longest wins (lowest id on a tie). A denial names the
 * policy that came closest: outside_time_window over source_not_allowed over
 * expired over no_policy. */
void policy_decide(const struct policy_engine *e, const struct policy *pols, size_t npols,
		   const struct policy_subject *s, uint64_t resource_id,
		   struct policy_decision *out);
/* The resources the subject may reach now, by resource id, each with its
 * decision. *count is the number there are; -ENOBUFS if more than cap (cap =
 * npols always suffices); -ENOMEM. */
int policy_visible_resources(const struct policy_engine *e, const struct policy *pols,
			     size_t npols, const struct policy_subject *s,
			     struct policy_grant *out, size_t cap, size_t *count);
/* The next instant after now at which a decision for the subject's groups may
 * change (a window opens or closes, a policy expires), from any source
 * address. Never late; at most 8 days ahead while a time window is in play,
 * whether or not anything changes then. -ENOENT if nothing ever changes. */
int policy_next_change(const struct policy_engine *e, const struct policy *pols, size_t npols,
		       const struct policy_subject *s, int64_t *out);

const char *policy_reason_str(enum policy_reason r); /* "no_policy", ... */

#endif
