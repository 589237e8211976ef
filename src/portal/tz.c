/* TZif (RFC 8536) and POSIX TZ rules. The transition table answers for the
 * instants it covers; the footer rule answers after the last transition (and
 * everywhere when there is none), which is how 2040 works with a file that
 * stops at 2037 and how slim files work at all. */
#include "portal/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cursor.h"

#define DAY 86400
#define ABBR_MAX 15
#define FOOTER_MAX 255

struct tz_type {
	int32_t off;
	bool dst;
	uint8_t abbr; /* index into chars */
};

struct tz_date {
	char kind;    /* 'J': day 1-365, Feb 29 not counted; 'N': day 0-365; 'M': m.w.d */
	int n, m, w, d;
	int32_t time; /* local time of day: -167 h .. 167 h (RFC 8536 extension) */
};

struct tz_rule {
	int32_t std_off, dst_off;
	bool has_dst;
	struct tz_date start, end; /* start in standard time, end in daylight time */
	char std_abbr[ABBR_MAX + 1], dst_abbr[ABBR_MAX + 1];
};

struct tz {
	char *name;
	size_t ntrans, ntypes;
	int64_t *trans;      /* strictly ascending */
	uint8_t *trans_type; /* each < ntypes */
	struct tz_type *types;
	char *chars;
	bool has_rule;
	struct tz_rule rule;
};

struct tz_info {
	int32_t off;
	bool dst;
	const char *abbr;
};

struct tz_event {
	int64_t at;
	bool dst; /* daylight time from here on */
};

struct tz_cache {
	char *dir;
	size_t n, cap, max;
	struct tz **zones;
	struct tz *utc;
};

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int64_t clamp_time(int64_t t)
{
	return t < TZ_TIME_MIN ? TZ_TIME_MIN : t > TZ_TIME_MAX ? TZ_TIME_MAX : t;
}

/* Howard Hinnant's days_from_civil / civil_from_days, in 400-year eras. */
int64_t tz_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
	int64_t z = days + 719468, era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return len[m - 1] + (m == 2 && is_leap(y));
}

static int64_t year_of(int64_t t)
{
	int64_t y;
	int m, d;

	civil_from_days(floor_div(t, DAY), &y, &m, &d);
	return y;
}

/* --- POSIX TZ rules ------------------------------------------------------ */

static bool is_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* "CET" (letters only) or "<+0530>" (letters, digits, '+', '-'): 3 or more. */
static bool parse_abbr(const char **s, char *out)
{
	const char *p = *s;
	bool quoted = *p == '<';
	size_t n = 0;

	p += quoted;
	while (is_alpha(*p) || (quoted && (is_digit(*p) || *p == '+' || *p == '-'))) {
		if (n == ABBR_MAX)
			return false;
		out[n++] = *p++;
	}
	if (n < 3 || (quoted && *p++ != '>'))
		return false;
	out[n] = '\0';
	*s = p;
	return true;
}

static bool parse_num(const char **s, int lo, int hi, int *out)
{
	const char *p = *s;
	int v = 0;

	if (!is_digit(*p))
		return false;
	/* three digits at most: enough for 365, and no overflow */
	for (int i = 0; i < 3 && is_digit(*p); i++)
		v = v * 10 + (*p++ - '0');
	if (is_digit(*p) || v < lo || v > hi)
		return false;
	*out = v;
	*s = p;
	return true;
}

/* [+-]hh[:mm[:ss]] in seconds, hh <= max_h. */
static bool parse_hms(const char **s, int max_h, int32_t *out)
{
	const char *p = *s;
	bool neg = *p == '-';
	int h, m = 0, sec = 0;

	p += *p == '-' || *p == '+';
	if (!parse_num(&p, 0, max_h, &h))
		return false;
	if (*p == ':' && (p++, !parse_num(&p, 0, 59, &m)))
		return false;
	if (*p == ':' && (p++, !parse_num(&p, 0, 59, &sec)))
		return false;
	*out = (h * 3600 + m * 60 + sec) * (neg ? -1 : 1);
	*s = p;
	return true;
}

static bool parse_date(const char **s, struct tz_date *d)
{
	const char *p = *s;
	bool ok;

	if (*p == 'J') {
		p++;
		d->kind = 'J';
		ok = parse_num(&p, 1, 365, &d->n);
	} else if (*p == 'M') {
		p++;
		d->kind = 'M';
		ok = parse_num(&p, 1, 12, &d->m) && *p++ == '.' && parse_num(&p, 1, 5, &d->w) &&
		     *p++ == '.' && parse_num(&p, 0, 6, &d->d);
	} else {
		d->kind = 'N';
		ok = parse_num(&p, 0, 365, &d->n);
	}
	d->time = 2 * 3600;
	if (!ok || (*p == '/' && (p++, !parse_hms(&p, 167, &d->time))))
		return false;
	*s = p;
	return true;
}

/* std offset [dst [offset] ,start[/time],end[/time]]. A daylight name without
 * a rule is refused: POSIX leaves the dates to the implementation, and zic
 * never writes one. Offsets are west-positive in the text. */
static int rule_parse(const char *s, struct tz_rule *r)
{
	int32_t off;

	memset(r, 0, sizeof(*r));
	if (!parse_abbr(&s, r->std_abbr) || !parse_hms(&s, 24, &off))
		return -EINVAL;
	r->std_off = r->dst_off = -off;
	if (!*s)
		return 0;
	if (!parse_abbr(&s, r->dst_abbr))
		return -EINVAL;
	r->has_dst = true;
	r->dst_off = r->std_off + 3600;
	if (*s != ',') {
		if (!parse_hms(&s, 24, &off))
			return -EINVAL;
		r->dst_off = -off;
	}
	if (*s != ',' || (s++, !parse_date(&s, &r->start)) || *s != ',' ||
	    (s++, !parse_date(&s, &r->end)) || *s)
		return -EINVAL;
	return 0;
}

static int64_t wday_of(int64_t days)
{
	return days + 4 - floor_div(days + 4, 7) * 7; /* 1970-01-01 was a Thursday */
}

static int64_t rule_day(const struct tz_date *d, int64_t y)
{
	int64_t first, day;

	if (d->kind == 'J')
		return tz_days_from_civil(y, 1, 1) + d->n - 1 + (is_leap(y) && d->n >= 60);
	if (d->kind == 'N')
		return tz_days_from_civil(y, 1, 1) + d->n;
	first = tz_days_from_civil(y, d->m, 1);
	day = (d->d - wday_of(first) + 7) % 7 + 7 * (d->w - 1);
	while (day >= month_days(y, d->m)) /* week 5 means the last one */
		day -= 7;
	return first + day;
}

/* The rule's switches in years y0..y1 (at most 4 years), sorted; at one
 * instant a switch to standard time sorts first, so DST all year
 * ("EST5EDT4,0/0,J365/25": one year's end meets the next one's start) holds. */
static size_t rule_events(const struct tz_rule *r, int64_t y0, int64_t y1, struct tz_event *ev)
{
	size_t n = 0;

	for (int64_t y = y0; y <= y1 && n < 8; y++) {
		ev[n++] = (struct tz_event){ rule_day(&r->start, y) * DAY + r->start.time -
						     r->std_off, true };
		ev[n++] = (struct tz_event){ rule_day(&r->end, y) * DAY + r->end.time -
						     r->dst_off, false };
	}
	for (size_t i = 1; i < n; i++) {
		struct tz_event e = ev[i];
		size_t j = i;

		for (; j && (ev[j - 1].at > e.at || (ev[j - 1].at == e.at && ev[j - 1].dst && !e.dst));
		     j--)
			ev[j] = ev[j - 1];
		ev[j] = e;
	}
	return n;
}

/* The latest switch at or before t decides (at one instant the switch to
 * daylight time counts last, as in rule_events). Year Y's switches lie within
 * 9 days of Y (times up to 167 h, offsets up to 26 h): walk back from y+1 until
 * no earlier year can hold a later switch. */
static struct tz_info rule_info(const struct tz_rule *r, int64_t t)
{
	struct tz_event ev[2], best = { INT64_MIN, false };
	int64_t y = year_of(t);

	for (int64_t yy = y + 1; r->has_dst && yy >= y - 4; yy--) {
		if (tz_days_from_civil(yy, 1, 1) * DAY - 9 * DAY > t)
			continue;
		if (best.at >= tz_days_from_civil(yy + 1, 1, 1) * DAY + 9 * DAY)
			break;
		rule_events(r, yy, yy, ev);
		for (int i = 0; i < 2; i++)
			if (ev[i].at <= t && (ev[i].at > best.at || (ev[i].at == best.at && ev[i].dst)))
				best = ev[i];
	}
	if (best.dst)
		return (struct tz_info){ r->dst_off, true, r->dst_abbr };
	return (struct tz_info){ r->std_off, false, r->std_abbr };
}

/* --- lookups ---------------------------------------------------------------- */

static struct tz_info type_info(const struct tz *z, size_t i)
{
	const struct tz_type *ty = &z->types[i];

	return (struct tz_info){ ty->off, ty->dst, z->chars + ty->abbr };
}

/* The index of the first transition after t (ntrans if none). */
static size_t first_after(const struct tz *z, int64_t t)
{
	size_t lo = 0, hi = z->ntrans;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (z->trans[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct tz_info lookup(const struct tz *z, int64_t t)
{
	t = clamp_time(t); /* nothing changes outside the range, table or not */
	if (!z->ntrans)
		return z->has_rule ? rule_info(&z->rule, t) : type_info(z, 0);
	if (t < z->trans[0])
		return type_info(z, 0);
	if (z->has_rule && t >= z->trans[z->ntrans - 1])
		return rule_info(&z->rule, t);
	return type_info(z, z->trans_type[first_after(z, t) - 1]);
}

int32_t tz_utc_offset(const struct tz *z, int64_t t)
{
	return lookup(z, t).off;
}

int64_t tz_utc_to_wall(const struct tz *z, int64_t t)
{
	t = clamp_time(t);
	return t + lookup(z, t).off;
}

void tz_local(const struct tz *z, int64_t t, struct tz_tm *out)
{
	struct tz_info i;
	int64_t wall, days, sod;

	t = clamp_time(t);
	i = lookup(z, t);
	wall = t + i.off;
	days = floor_div(wall, DAY);
	sod = wall - days * DAY;
	civil_from_days(days, &out->year, &out->month, &out->day);
	out->wday = (int)wday_of(days);
	out->hour = (int)(sod / 3600);
	out->min = (int)(sod / 60 % 60);
	out->sec = (int)(sod % 60);
	out->utc_offset = i.off;
	out->is_dst = i.dst;
	out->abbr = i.abbr;
}

int tz_next_transition(const struct tz *z, int64_t t, int64_t *out)
{
	struct tz_event ev[8];
	int32_t cur;
	int64_t y;

	t = clamp_time(t);
	cur = lookup(z, t).off;
	if (z->ntrans && t < z->trans[z->ntrans - 1]) {
		/* a transition may keep the offset (only the name or DST flag) */
		for (size_t i = first_after(z, t); i < z->ntrans && z->trans[i] <= TZ_TIME_MAX;
		     i++) {
			if (lookup(z, z->trans[i]).off != cur) {
				*out = z->trans[i];
				return 0;
			}
		}
		t = z->trans[z->ntrans - 1];
		if (t >= TZ_TIME_MAX) /* the rule starts beyond the clamped range */
			return -ENOENT;
	}
	if (!z->has_rule || !z->rule.has_dst || z->rule.std_off == z->rule.dst_off)
		return -ENOENT;
	/* Year by year: a switch landing in year Y comes from year Y-1, Y or Y+1,
	 * so those hold the latest switch before any instant of Y. Four years
	 * without a change means the rule never changes the offset. */
	y = year_of(t);
	for (int64_t k = 0; k < 4; k++) {
		int64_t lo = tz_days_from_civil(y + k, 1, 1) * DAY;
		int64_t hi = tz_days_from_civil(y + k + 1, 1, 1) * DAY;
		size_t n = rule_events(&z->rule, y + k - 1, y + k + 1, ev);

		for (size_t i = 0, j; i < n; i = j + 1) {
			int64_t at = ev[i].at;
			int32_t off;

			/* the last switch at an instant decides, as in rule_info */
			for (j = i; j + 1 < n && ev[j + 1].at == at;)
				j++;
			off = ev[j].dst ? z->rule.dst_off : z->rule.std_off;
			if (at > t && at >= lo && at < hi && at <= TZ_TIME_MAX && off != cur) {
				*out = at;
				return 0;
			}
		}
	}
	return -ENOENT;
}

int64_t tz_wall_to_utc(const struct tz *z, int64_t wall)
{
	/* Every instant whose local time can be wall lies in [lo, hi]. Walk the
	 * stretches of constant offset there in order; the first that shows wall,
	 * or the first transition that jumps over it, gives the answer. */
	int64_t hi, seg, next;
	int32_t off;

	wall = clamp_time(wall);
	hi = wall - TZ_OFFSET_MIN + 1;
	seg = wall - TZ_OFFSET_MAX - 1;
	off = lookup(z, seg).off;
	for (;;) {
		int64_t cand = wall - off;
		int32_t off2;

		if (tz_next_transition(z, seg, &next))
			next = INT64_MAX;
		if (cand >= seg && cand < next)
			return cand;
		if (next > hi)
			break;
		off2 = lookup(z, next).off;
		if (next + off <= wall && wall < next + off2)
			return next;
		seg = next;
		off = off2;
	}
	return wall - lookup(z, wall).off; /* not reached: offsets are bounded */
}

/* --- TZif ------------------------------------------------------------------ */

struct tzif_hdr {
	uint8_t version;
	uint32_t isut, isstd, leap, time, type, chr;
};

static void read_header(struct cursor *c, struct tzif_hdr *h)
{
	const uint8_t *magic = cur_take(c, 4);

	if (magic && memcmp(magic, "TZif", 4))
		cur_fail(c, -EBADMSG);
	h->version = cur_u8(c);
	cur_skip(c, 15);
	h->isut = cur_be32(c);
	h->isstd = cur_be32(c);
	h->leap = cur_be32(c);
	h->time = cur_be32(c);
	h->type = cur_be32(c);
	h->chr = cur_be32(c);
	/* type indices are one octet: more than 256 types cannot be used */
	if ((h->version && (h->version < '2' || h->version > '4')) ||
	    (h->isut && h->isut != h->type) || (h->isstd && h->isstd != h->type) ||
	    !h->type || h->type > 256 || !h->chr)
		cur_fail(c, -EBADMSG);
}

static uint64_t block_len(const struct tzif_hdr *h, unsigned tsize)
{
	return (uint64_t)h->time * (tsize + 1) + (uint64_t)h->type * 6 + h->chr +
	       (uint64_t)h->leap * (tsize + 4) + h->isstd + h->isut;
}

static int read_block(struct cursor *c, const struct tzif_hdr *h, unsigned tsize, struct tz *z)
{
	const uint8_t *std, *ut;

	if (c->err || block_len(h, tsize) > cur_remaining(c))
		return -EBADMSG;
	/* leap-second zones count time differently from unix time */
	if (h->leap)
		return -EOPNOTSUPP;
	z->trans = calloc(h->time + 1, sizeof(*z->trans));
	z->trans_type = calloc(h->time + 1, 1);
	z->types = calloc(h->type, sizeof(*z->types));
	z->chars = malloc(h->chr);
	if (!z->trans || !z->trans_type || !z->types || !z->chars)
		return -ENOMEM;
	z->ntrans = h->time;
	z->ntypes = h->type;
	for (size_t i = 0; i < z->ntrans; i++) {
		z->trans[i] = tsize == 8 ? (int64_t)cur_be64(c) : (int32_t)cur_be32(c);
		if (i && z->trans[i] <= z->trans[i - 1])
			return -EBADMSG;
	}
	for (size_t i = 0; i < z->ntrans; i++)
		if ((z->trans_type[i] = cur_u8(c)) >= z->ntypes)
			return -EBADMSG;
	for (size_t i = 0; i < z->ntypes; i++) {
		int32_t off = (int32_t)cur_be32(c);
		uint8_t dst = cur_u8(c), abbr = cur_u8(c);

		/* RFC 8536's range, which bounds the search in tz_wall_to_utc */
		if (off < TZ_OFFSET_MIN || off > TZ_OFFSET_MAX || dst > 1 || abbr >= h->chr)
			return -EBADMSG;
		z->types[i] = (struct tz_type){ off, dst, abbr };
	}
	cur_bytes(c, z->chars, h->chr);
	for (size_t i = 0; i < z->ntypes; i++)
		if (!memchr(z->chars + z->types[i].abbr, '\0', h->chr - z->types[i].abbr))
			return -EBADMSG;
	/* isstd and isut only matter to zic's POSIX-rule fallback; they must still
	 * be 0 or 1, and "UT" implies "standard" */
	std = cur_take(c, h->isstd);
	ut = cur_take(c, h->isut);
	for (size_t i = 0; i < h->type; i++) {
		uint8_t s = h->isstd ? std[i] : 0, u = h->isut ? ut[i] : 0;

		if (s > 1 || u > 1 || (u && !s))
			return -EBADMSG;
	}
	return c->err;
}

static int read_footer(struct cursor *c, struct tz *z)
{
	char buf[FOOTER_MAX + 1];
	const uint8_t *p, *nl;
	size_t len;

	if (cur_u8(c) != '\n' || c->err)
		return -EBADMSG;
	p = c->base + c->pos;
	nl = memchr(p, '\n', cur_remaining(c));
	if (!nl)
		return -EBADMSG;
	len = (size_t)(nl - p);
	if (len > FOOTER_MAX || memchr(p, '\0', len))
		return -EBADMSG;
	memcpy(buf, p, len);
	buf[len] = '\0';
	cur_skip(c, len + 1);
	if (!len) /* no rule: the last type goes on */
		return 0;
	if (rule_parse(buf, &z->rule))
		return -EBADMSG;
	z->has_rule = true;
	return 0;
}

static int tzif_parse(const uint8_t *data, size_t len, struct tz *z)
{
	struct cursor c;
	struct tzif_hdr h, h2;
	uint64_t skip;
	int r;

	cur_init_ro(&c, data, len);
	read_header(&c, &h);
	if (c.err)
		return -EBADMSG;
	if (!h.version) {
		r = read_block(&c, &h, 4, z);
	} else {
		/* the 32-bit block is for old readers: skip it, its size a claim too */
		skip = block_len(&h, 4);
		if (skip > cur_remaining(&c))
			return -EBADMSG;
		cur_skip(&c, (size_t)skip);
		read_header(&c, &h2);
		if (c.err || h2.version != h.version)
			return -EBADMSG;
		r = read_block(&c, &h2, 8, z);
		if (!r)
			r = read_footer(&c, z);
	}
	if (!r && cur_remaining(&c))
		r = -EBADMSG; /* nothing may follow */
	return r;
}

static struct tz *tz_alloc(const char *name)
{
	struct tz *z = calloc(1, sizeof(*z));

	if (z && !(z->name = strdup(name))) {
		free(z);
		z = NULL;
	}
	return z;
}

void tz_free(struct tz *z)
{
	if (!z)
		return;
	free(z->trans);
	free(z->trans_type);
	free(z->types);
	free(z->chars);
	free(z->name);
	free(z);
}

const char *tz_name(const struct tz *z)
{
	return z->name;
}

static int tz_parse_named(const void *data, size_t len, const char *name, struct tz **out)
{
	struct tz *z = tz_alloc(name);
	int r;

	if (!z)
		return -ENOMEM;
	r = tzif_parse(data, len, z);
	if (r) {
		tz_free(z);
		return r;
	}
	*out = z;
	return 0;
}

int tz_parse(const void *data, size_t len, struct tz **out)
{
	return tz_parse_named(data, len, "", out);
}

static int posix_new(const char *rule, const char *name, struct tz **out)
{
	struct tz_rule r;
	struct tz *z;

	if (strnlen(rule, FOOTER_MAX + 1) > FOOTER_MAX || rule_parse(rule, &r))
		return -EINVAL;
	z = tz_alloc(name);
	if (!z)
		return -ENOMEM;
	z->rule = r;
	z->has_rule = true;
	*out = z;
	return 0;
}

int tz_parse_posix(const char *rule, struct tz **out)
{
	return posix_new(rule, rule, out);
}

/* Names never contain '.', so no ".." can climb out of dir. */
static bool name_ok(const char *name)
{
	size_t n = strnlen(name, TZ_NAME_MAX + 1);

	if (!n || n > TZ_NAME_MAX || name[0] == '/' || name[n - 1] == '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];

		if (!is_alpha(ch) && !is_digit(ch) && !strchr("_+-/", ch))
			return false;
		if (ch == '/' && name[i + 1] == '/')
			return false;
	}
	return true;
}

int tz_load(const char *dir, const char *name, struct tz **out)
{
	char path[PATH_MAX];
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, r;

	if (!name_ok(name))
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	/* O_NONBLOCK: a FIFO planted in the directory must not hang the portal */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOTDIR ? -ENOENT : -errno;
	r = fstat(fd, &st) ? -errno : S_ISREG(st.st_mode) ? 0 : -ENOENT; /* "Europe" is none */
	if (!r && !(buf = malloc(TZ_FILE_MAX + 1)))
		r = -ENOMEM;
	/* read to the cap whatever fstat said: the file may change under us */
	while (!r && len <= TZ_FILE_MAX) {
		ssize_t n = read(fd, buf + len, TZ_FILE_MAX + 1 - len);

		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (!n)
			break;
		else if (n > 0)
			len += (size_t)n;
	}
	if (!r)
		r = len > TZ_FILE_MAX ? -EBADMSG : tz_parse_named(buf, len, name, out);
	free(buf);
	close(fd);
	return r;
}

int tz_cache_new(const char *dir, size_t max_zones, struct tz_cache **out)
{
	struct tz_cache *c = calloc(1, sizeof(*c));
	int r = -ENOMEM;

	if (!c || !(c->dir = strdup(dir)))
		goto fail;
	r = posix_new("UTC0", "UTC", &c->utc);
	if (r)
		goto fail;
	c->max = max_zones;
	*out = c;
	return 0;
fail:
	tz_cache_free(c);
	return r;
}

void tz_cache_free(struct tz_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		tz_free(c->zones[i]);
	free(c->zones);
	tz_free(c->utc);
	free(c->dir);
	free(c);
}

int tz_cache_get(struct tz_cache *c, const char *name, const struct tz **out)
{
	struct tz *z;
	int r;

	if (!name) {
		*out = c->utc;
		return 0;
	}
	for (size_t i = 0; i < c->n; i++) {
		if (!strcmp(c->zones[i]->name, name)) {
			*out = c->zones[i];
			return 0;
		}
	}
	if (c->n == c->max)
		return -ENOSPC;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct tz **zones;

		cap = cap > c->max ? c->max : cap;
		zones = realloc(c->zones, cap * sizeof(*zones));
		if (!zones)
			return -ENOMEM;
		c->zones = zones;
		c->cap = cap;
	}
	r = tz_load(c->dir, name, &z);
	if (r)
		return r;
	c->zones[c->n++] = z;
	*out = z;
	return 0;
}
