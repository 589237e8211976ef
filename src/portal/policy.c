/* The policy engine. Parsing checks everything once, so deciding is arithmetic
 * on validated structs: no I/O, no allocation except to group policies by
 * resource, no state between calls. */
#include "portal/policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/jsonx.h"
#include "portal/tz.h"

#define DAY 86400
#define MAX_ZONES 1024 /* more than tzdata has names */
#define HORIZON (8 * DAY)
#define NOW_MAX (INT64_C(1) << 46) /* far inside tz's range: day sums cannot overflow */
/* Local days whose windows can reach from now to now + POLICY_LIFETIME_MAX. */
#define SPAN_DAYS (POLICY_LIFETIME_MAX / DAY + 8)
#define MAX_SPANS (SPAN_DAYS * POLICY_MAX_WINDOWS)

struct policy_engine {
	struct tz_cache *tz;
	int64_t max_lifetime;
};

struct span {
	int64_t s, e; /* [s, e) */
};

static const char *const day_names[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

int policy_engine_new(const char *tz_dir, int64_t max_lifetime, struct policy_engine **out)
{
	struct policy_engine *e;
	int r;

	if (max_lifetime < 1 || max_lifetime > POLICY_LIFETIME_MAX)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	r = tz_cache_new(tz_dir, MAX_ZONES, &e->tz);
	if (r) {
		free(e);
		return r;
	}
	e->max_lifetime = max_lifetime;
	*out = e;
	return 0;
}

void policy_engine_free(struct policy_engine *e)
{
	if (!e)
		return;
	tz_cache_free(e->tz);
	free(e);
}

/* --- parsing -------------------------------------------------------------- */

__attribute__((format(printf, 4, 5))) static int fail(struct policy_error *err, int r,
						       const char *field, const char *fmt, ...)
{
	va_list ap;

	snprintf(err->field, sizeof(err->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return r;
}

static bool digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char ch = (*p)[i];

		if (ch < '0' || ch > '9')
			return false;
		v = v * 10 + (ch - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* RFC 3339: 2026-11-22T01:00:00Z, with optional fraction (dropped: an expiry
 * only gets earlier) and a numeric offset. */
static bool parse_time(const char *s, int64_t *out)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;

	if (!digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) || *s++ != '-' ||
	    !digits(&s, 2, &d) || (*s != 'T' && *s != 't') || (s++, !digits(&s, 2, &h)) ||
	    *s++ != ':' || !digits(&s, 2, &mi) || *s++ != ':' || !digits(&s, 2, &sec))
		return false;
	if (*s == '.') {
		if (*++s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '-' ? -1 : 1;
		if (!digits(&s, 2, &oh) || *s++ != ':' || !digits(&s, 2, &om) || oh > 23 ||
		    om > 59)
			return false;
	} else {
		return false;
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && is_leap(y)) ||
	    h > 23 || mi > 59 || sec > 59)
		return false;
	*out = tz_days_from_civil(y, mo, d) * DAY + h * 3600 + mi * 60 + sec -
	       sign * (oh * 3600 + om * 60);
	return true;
}

/* "HH:MM"; "24:00" only where allowed (an end). Minutes after midnight. */
static bool parse_hhmm(const char *s, bool end, int *out)
{
	int h, m;

	if (!digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &m) || *s || m > 59 ||
	    h > 24 || (h == 24 && (m || !end)))
		return false;
	*out = h * 60 + m;
	return true;
}

int policy_addr_parse(const char *text, struct policy_addr *out)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, out->bytes) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, out->bytes) != 1)
		return -EINVAL;
	out->family = AF_INET6;
	/* a dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d */
	if (!memcmp(out->bytes, mapped, 12)) {
		memmove(out->bytes, out->bytes + 12, 4);
		memset(out->bytes + 4, 0, 12);
		out->family = AF_INET;
	}
	return 0;
}

static bool cidr_has(const struct policy_cidr *c, const struct policy_addr *a)
{
	unsigned full = c->prefix / 8, rem = c->prefix % 8;

	if (a->family != c->net.family || memcmp(a->bytes, c->net.bytes, full))
		return false;
	return !rem || !((a->bytes[full] ^ c->net.bytes[full]) & (0xff00u >> rem) & 0xff);
}

/* "198.51.100.0/24", "2001:db8::/32", or one address. Host bits must be zero. */
static int cidr_parse(const char *text, struct policy_cidr *out, struct policy_error *err,
		      const char *field)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	struct policy_addr a;
	unsigned max, prefix = 0;
	char shown[INET6_ADDRSTRLEN];

	if (alen >= sizeof(addr))
		return fail(err, -EINVAL, field, "\"%.60s\" is not an address or CIDR", text);
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	if (policy_addr_parse(addr, &a))
		return fail(err, -EINVAL, field, "\"%.60s\" is not an address or CIDR", text);
	if (strchr(addr, ':') && a.family == AF_INET)
		return fail(err, -EINVAL, field, "\"%.60s\": write IPv4-mapped addresses as IPv4",
			    text);
	max = a.family == AF_INET ? 32 : 128;
	if (!slash) {
		prefix = max;
	} else {
		const char *p = slash + 1;
		size_t n = strlen(p);

		if (!n || n > 3 || strspn(p, "0123456789") != n || (n > 1 && p[0] == '0') ||
		    (prefix = (unsigned)atoi(p)) > max)
			return fail(err, -EINVAL, field, "\"%.60s\": prefix length must be 0-%u",
				    text, max);
	}
	out->net = a;
	out->prefix = prefix;
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = i * 8 >= prefix ? 0 : prefix - i * 8 >= 8 ? 8 : prefix - i * 8;

		out->net.bytes[i] &= (uint8_t)(0xff00u >> bits);
	}
	if (memcmp(out->net.bytes, a.bytes, sizeof(a.bytes))) {
		inet_ntop(a.family, out->net.bytes, shown, sizeof(shown));
		return fail(err, -EINVAL, field, "\"%.60s\" has host bits set (%s/%u?)", text,
			    shown, prefix);
	}
	return 0;
}

static int parse_window(const json_t *w, struct policy_window *out, struct policy_error *err,
			size_t wi)
{
	char base[48], field[80];
	const char *key, *str;
	json_t *val, *days;
	size_t i;
	int start, end;

	snprintf(base, sizeof(base), "conditions.time_windows[%zu]", wi);
	if (!json_is_object(w))
		return fail(err, -EINVAL, base, "must be an object {days, start, end}");
	json_object_foreach((json_t *)w, key, val) {
		if (strcmp(key, "days") && strcmp(key, "start") && strcmp(key, "end"))
			return fail(err, -EINVAL, base, "unknown field \"%.40s\" (days, start, end)",
				    key);
	}
	snprintf(field, sizeof(field), "conditions.time_windows[%zu].days", wi);
	if (jsonx_get_array(w, "days", &days) || !json_array_size(days))
		return fail(err, -EINVAL, field, "must be a non-empty list of days (mon ... sun)");
	out->days = 0;
	json_array_foreach(days, i, val) {
		const char *name = json_string_value(val);
		unsigned d = 0;

		snprintf(field, sizeof(field), "conditions.time_windows[%zu].days[%zu]", wi, i);
		while (d < 7 && (!name || strcmp(name, day_names[d])))
			d++;
		if (d == 7)
			return fail(err, -EINVAL, field,
				    "must be one of mon, tue, wed, thu, fri, sat, sun");
		if (out->days & (1u << d))
			return fail(err, -EINVAL, field, "\"%s\" is listed twice", name);
		out->days |= (uint8_t)(1u << d);
	}
	snprintf(field, sizeof(field), "conditions.time_windows[%zu].start", wi);
	if (jsonx_get_str(w, "start", &str) || !parse_hhmm(str, false, &start))
		return fail(err, -EINVAL, field, "must be a time of day \"HH:MM\" (00:00-23:59)");
	snprintf(field, sizeof(field), "conditions.time_windows[%zu].end", wi);
	if (jsonx_get_str(w, "end", &str) || !parse_hhmm(str, true, &end))
		return fail(err, -EINVAL, field, "must be a time of day \"HH:MM\" (00:00-24:00)");
	if (start == end)
		return fail(err, -EINVAL, base,
			    "start and end are equal (a whole day is 00:00-24:00)");
	out->start = (uint16_t)start;
	out->end = (uint16_t)(end ? end : 24 * 60); /* "00:00" as an end is midnight after */
	return 0;
}

static int parse_zone(struct policy_engine *e, const char *name, struct policy *p,
		      struct policy_error *err)
{
	static const char field[] = "conditions.time_zone";
	int r = tz_cache_get(e->tz, name, &p->tz);

	switch (r) {
	case 0:
		return 0;
	case -EINVAL:
		return fail(err, r, field, "\"%.60s\" is not a time zone name (Area/City)", name);
	case -ENOENT:
		return fail(err, -EINVAL, field, "unknown time zone \"%.60s\"", name);
	case -EBADMSG:
		return fail(err, -EINVAL, field, "the data of time zone \"%.60s\" is malformed",
			    name);
	case -EOPNOTSUPP:
		return fail(err, -EINVAL, field,
			    "time zone \"%.60s\" counts leap seconds: not supported", name);
	case -ENOSPC:
		return fail(err, r, field, "too many time zones in use (%d)", MAX_ZONES);
	default:
		return fail(err, r, field, "cannot read time zone \"%.60s\": %s", name,
			    strerror(-r));
	}
}

static int parse_conditions(struct policy_engine *e, const json_t *c, struct policy *p,
			    struct policy_error *err)
{
	char field[80];
	const char *key, *str;
	json_t *val, *arr;
	size_t i;
	int r;

	json_object_foreach((json_t *)c, key, val) {
		/* a misspelt condition silently ignored would grant more than meant */
		if (strcmp(key, "time_windows") && strcmp(key, "time_zone") &&
		    strcmp(key, "source_cidrs"))
			return fail(err, -EINVAL, "conditions",
				    "unknown condition \"%.40s\" (time_windows, time_zone, source_cidrs)",
				    key);
	}
	r = jsonx_get_str(c, "time_zone", &str);
	if (r == -EINVAL)
		return fail(err, r, "conditions.time_zone", "must be a string or null");
	r = parse_zone(e, r ? NULL : str, p, err);
	if (r)
		return r;

	/* An empty list is no condition, as the UI writes when one is cleared. */
	r = jsonx_get_array(c, "time_windows", &arr);
	if (r == -EINVAL)
		return fail(err, r, "conditions.time_windows", "must be a list or null");
	if (!r && json_array_size(arr) > POLICY_MAX_WINDOWS)
		return fail(err, -EINVAL, "conditions.time_windows", "at most %d windows",
			    POLICY_MAX_WINDOWS);
	if (!r) {
		json_array_foreach(arr, i, val) {
			r = parse_window(val, &p->windows[i], err, i);
			if (r)
				return r;
		}
		p->nwindows = json_array_size(arr);
	}

	r = jsonx_get_array(c, "source_cidrs", &arr);
	if (r == -EINVAL)
		return fail(err, r, "conditions.source_cidrs", "must be a list or null");
	if (r)
		return 0;
	if (json_array_size(arr) > POLICY_MAX_CIDRS)
		return fail(err, -EINVAL, "conditions.source_cidrs", "at most %d CIDRs",
			    POLICY_MAX_CIDRS);
	json_array_foreach(arr, i, val) {
		snprintf(field, sizeof(field), "conditions.source_cidrs[%zu]", i);
		if (!json_is_string(val))
			return fail(err, -EINVAL, field, "must be a string such as \"198.51.100.0/24\"");
		r = cidr_parse(json_string_value(val), &p->cidrs[i], err, field);
		if (r)
			return r;
	}
	p->ncidrs = json_array_size(arr);
	return 0;
}

static int parse_id(const json_t *obj, const char *key, bool required, uint64_t *out,
		    struct policy_error *err)
{
	int64_t v = 0;
	int r = jsonx_get_int(obj, key, 1, INT64_MAX, &v);

	if (r == -EINVAL || (r && required))
		return fail(err, -EINVAL, key, r == -EINVAL ? "must be a positive integer" :
							     "is required");
	*out = (uint64_t)v;
	return 0;
}

int policy_parse(struct policy_engine *e, const json_t *obj, struct policy *p,
		 struct policy_error *err)
{
	const char *str;
	json_t *cond;
	int r;

	memset(p, 0, sizeof(*p));
	memset(err, 0, sizeof(*err));
	p->expires_at = POLICY_NO_EXPIRY;
	if (!json_is_object(obj))
		return fail(err, -EINVAL, "", "a policy must be a JSON object");
	/* no id yet when an API request is validated before it is stored */
	if ((r = parse_id(obj, "id", false, &p->id, err)) ||
	    (r = parse_id(obj, "group_id", true, &p->group_id, err)) ||
	    (r = parse_id(obj, "resource_id", true, &p->resource_id, err)))
		return r;
	r = jsonx_get_str(obj, "expires_at", &str);
	if (r == -EINVAL || (!r && !parse_time(str, &p->expires_at)))
		return fail(err, -EINVAL, "expires_at",
			    "must be an RFC 3339 time such as \"2026-11-22T01:00:00Z\", or null");
	r = jsonx_get_object(obj, "conditions", &cond);
	if (r == -EINVAL)
		return fail(err, r, "conditions", "must be an object or null");
	if (r)
		return parse_zone(e, NULL, p, err);
	return parse_conditions(e, cond, p, err);
}

/* --- deciding ----------------------------------------------------------------- */

const char *policy_reason_str(enum policy_reason r)
{
	switch (r) {
	case POLICY_GRANTED:
		return "granted";
	case POLICY_NO_POLICY:
		return "no_policy";
	case POLICY_EXPIRED:
		return "expired";
	case POLICY_SOURCE_NOT_ALLOWED:
		return "source_not_allowed";
	case POLICY_OUTSIDE_TIME_WINDOW:
		return "outside_time_window";
	}
	return "unknown";
}

static bool in_groups(const struct policy_subject *s, uint64_t group)
{
	for (size_t i = 0; i < s->ngroups; i++)
		if (s->group_ids[i] == group)
			return true;
	return false;
}

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->s != y->s ? (x->s > y->s) - (x->s < y->s) : (x->e > y->e) - (x->e < y->e);
}

/* The windows of p starting on local days d0..d1 as instants, sorted, with
 * overlapping or touching ones merged (no change of decision where they meet). */
static size_t policy_spans(const struct policy *p, int64_t d0, int64_t d1, struct span *out)
{
	size_t n = 0, m = 0;

	for (int64_t d = d0; d <= d1; d++) {
		unsigned wday = (unsigned)(d + 4 - floor_div(d + 4, 7) * 7);

		for (size_t i = 0; i < p->nwindows; i++) {
			const struct policy_window *w = &p->windows[i];
			int64_t end_day = w->end > w->start ? d : d + 1;
			struct span sp;

			if (!(w->days & (1u << wday)))
				continue;
			sp.s = tz_wall_to_utc(p->tz, d * DAY + w->start * 60);
			sp.e = tz_wall_to_utc(p->tz, end_day * DAY + w->end * 60);
			if (sp.s < sp.e) /* a window inside a DST gap is empty */
				out[n++] = sp;
		}
	}
	qsort(out, n, sizeof(*out), span_cmp);
	for (size_t i = 0; i < n; i++) {
		if (m && out[i].s <= out[m - 1].e) {
			if (out[i].e > out[m - 1].e)
				out[m - 1].e = out[i].e;
		} else {
			out[m++] = out[i];
		}
	}
	return m;
}

/* Is now inside a window of p? *edge: the end of that window, else the next
 * start; limit when later (exact below limit, limit - now <= SPAN_DAYS - 8 days). */
static bool window_state_upto(const struct policy *p, int64_t now, int64_t limit,
			      int64_t *edge)
{
	struct span spans[MAX_SPANS];
	/* A window starting before d0 ends by now; one starting after d1 starts
	 * after limit, whatever the offsets. */
	int64_t d0 = floor_div(now + TZ_OFFSET_MIN, DAY) - 2;
	int64_t d1 = floor_div(limit + TZ_OFFSET_MAX, DAY);
	size_t n;

	if (d1 - d0 + 1 > SPAN_DAYS) { /* not reached with the callers' limits */
		d1 = d0 + SPAN_DAYS - 1;
		limit = min64(limit, (d1 + 1) * DAY - TZ_OFFSET_MAX - 1);
	}
	n = policy_spans(p, d0, d1, spans);
	for (size_t i = 0; i < n; i++) {
		if (spans[i].e <= now)
			continue;
		*edge = min64(spans[i].s <= now ? spans[i].e : spans[i].s, limit);
		return spans[i].s <= now;
	}
	*edge = limit;
	return false;
}

static bool window_state(const struct policy *p, int64_t now, int64_t limit, int64_t *edge)
{
	/* Most windows end within two days: look there first, as it is cheaper. */
	int64_t near = now + 2 * DAY;
	bool in;

	if (near < limit) {
		in = window_state_upto(p, now, near, edge);
		if (*edge < near)
			return in;
	}
	return window_state_upto(p, now, limit, edge);
}

static bool source_ok(const struct policy *p, const struct policy_addr *a)
{
	if (!a)
		return false;
	for (size_t i = 0; i < p->ncidrs; i++)
		if (cidr_has(&p->cidrs[i], a))
			return true;
	return false;
}

static enum policy_reason evaluate(const struct policy_engine *e, const struct policy *p,
				   const struct policy_subject *s, int64_t now, int64_t *exp)
{
	int64_t limit;

	if (now >= p->expires_at)
		return POLICY_EXPIRED;
	if (p->ncidrs && !source_ok(p, s->source))
		return POLICY_SOURCE_NOT_ALLOWED;
	limit = min64(p->expires_at, now + e->max_lifetime);
	if (p->nwindows && !window_state(p, now, limit, &limit))
		return POLICY_OUTSIDE_TIME_WINDOW;
	*exp = limit;
	return POLICY_GRANTED;
}

static int64_t clamp_now(int64_t t)
{
	return t < -NOW_MAX ? -NOW_MAX : t > NOW_MAX ? NOW_MAX : t;
}

/* Folds one policy into a decision under way. */
static void consider(const struct policy_engine *e, const struct policy *p,
		     const struct policy_subject *s, int64_t now, struct policy_decision *d)
{
	int64_t exp = 0;
	enum policy_reason r = evaluate(e, p, s, now, &exp);

	if (r == POLICY_GRANTED) {
		if (!d->allowed || exp > d->expires_at ||
		    (exp == d->expires_at && p->id < d->policy_id))
			*d = (struct policy_decision){ true, r, p->id, exp };
	} else if (!d->allowed && r > d->reason) {
		d->reason = r; /* the enum is ordered by closeness */
	}
}

void policy_decide(const struct policy_engine *e, const struct policy *pols, size_t npols,
		   const struct policy_subject *s, uint64_t resource_id,
		   struct policy_decision *out)
{
	int64_t now = clamp_now(s->now);

	*out = (struct policy_decision){ .reason = POLICY_NO_POLICY };
	for (size_t i = 0; i < npols; i++)
		if (pols[i].resource_id == resource_id && in_groups(s, pols[i].group_id))
			consider(e, &pols[i], s, now, out);
}

static int by_resource(const void *a, const void *b)
{
	const struct policy *x = *(const struct policy *const *)a;
	const struct policy *y = *(const struct policy *const *)b;

	return (x->resource_id > y->resource_id) - (x->resource_id < y->resource_id);
}

int policy_visible_resources(const struct policy_engine *e, const struct policy *pols,
			     size_t npols, const struct policy_subject *s,
			     struct policy_grant *out, size_t cap, size_t *count)
{
	const struct policy **mine = calloc(npols + 1, sizeof(*mine));
	int64_t now = clamp_now(s->now);
	size_t n = 0, found = 0;

	if (!mine)
		return -ENOMEM;
	for (size_t i = 0; i < npols; i++)
		if (in_groups(s, pols[i].group_id))
			mine[n++] = &pols[i];
	/* grouped by resource, each policy is evaluated once */
	qsort(mine, n, sizeof(*mine), by_resource);
	for (size_t i = 0, j; i < n; i = j) {
		struct policy_decision d = { .reason = POLICY_NO_POLICY };

		for (j = i; j < n && mine[j]->resource_id == mine[i]->resource_id; j++)
			consider(e, mine[j], s, now, &d);
		if (!d.allowed)
			continue;
		if (found < cap)
			out[found] = (struct policy_grant){ mine[i]->resource_id, d.policy_id,
							    d.expires_at };
		found++;
	}
	free(mine);
	*count = found;
	return found > cap ? -ENOBUFS : 0;
}

int policy_next_change(const struct policy_engine *e, const struct policy *pols, size_t npols,
		       const struct policy_subject *s, int64_t *out)
{
	int64_t now = clamp_now(s->now), best = INT64_MAX;

	(void)e;
	for (size_t i = 0; i < npols; i++) {
		const struct policy *p = &pols[i];
		int64_t edge;

		if (!in_groups(s, p->group_id) || now >= p->expires_at)
			continue;
		if (p->expires_at != POLICY_NO_EXPIRY)
			best = min64(best, p->expires_at);
		if (p->nwindows) {
			window_state(p, now, now + HORIZON, &edge);
			best = min64(best, edge);
		}
	}
	if (best == INT64_MAX)
		return -ENOENT;
	*out = best;
	return 0;
}
