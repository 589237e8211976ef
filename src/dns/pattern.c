/* Patterns are parsed once into labels tagged with a kind; matching is then the
 * classic one-backtrack-point glob twice over: '**' against whole labels, and a
 * partial '*' against the characters of one label. Each level keeps only the
 * last star to return to, so no input can make it exponential: the work is at
 * most (pattern labels x name labels) label comparisons. */
#include "dns/pattern.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LABELS 127 /* 253 characters hold at most 127 one-character labels */
#define MAX_LABEL_LEN 63
#define ALLOWED "(letters, digits, '-', '_', '*', '?')"

/* Ordered by specificity; ABSENT ranks where one pattern has run out of labels
 * and the other has not: a '*' or '**' there may match nothing, so the pattern
 * that ends is the narrower one; any other label needs a label the shorter
 * pattern cannot match, so the longer one is narrower. */
enum kind {
	K_EXACT,   /* literal characters only */
	K_QMARK,   /* literals and '?' */
	K_GLOB,    /* a '*' inside the label (maybe '?' too) */
	K_ABSENT,  /* not a label: only used by pattern_compare() */
	K_STAR,    /* the whole label is '*' */
	K_DSTAR,   /* the whole label is '**' */
};

struct plabel {
	uint8_t off, len, kind;
};

struct pattern {
	uint8_t nlabels;
	uint8_t len;       /* strlen(text) */
	uint8_t suffix;    /* offset of the literal suffix in text */
	uint8_t min_labels, max_labels; /* in a name it can match */
	bool exact;
	struct plabel labels[]; /* left to right, followed by the text */
};

struct parsed {
	char text[PATTERN_MAX_LEN + 1];
	size_t len;
	unsigned nlabels;
	struct plabel labels[MAX_LABELS];
};

static inline unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static const char *ptext(const struct pattern *p)
{
	return (const char *)&p->labels[p->nlabels];
}

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool allowed_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '*' || c == '?';
}

/* Anything with a ':' is an IPv6 literal (bare, bracketed, with a zone or a
 * prefix length, maybe followed by a port) or a name with a port. */
static bool looks_ipv6(const char *s, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 8];
	struct in6_addr a;
	size_t n;

	if (len && s[0] == '[') {
		s++;
		len--;
	}
	for (n = 0; n < len && s[n] != ']' && s[n] != '/' && s[n] != '%'; n++)
		;
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, &a) == 1;
}

static enum kind label_kind(const char *s, size_t len, bool *bad_dstar)
{
	size_t stars = 0, qmarks = 0;

	for (size_t i = 0; i < len; i++) {
		stars += s[i] == '*';
		qmarks += s[i] == '?';
		if (i && s[i] == '*' && s[i - 1] == '*')
			*bad_dstar = true;
	}
	if (len == 1 && stars == 1)
		return K_STAR;
	if (len == 2 && stars == 2) {
		*bad_dstar = false;
		return K_DSTAR;
	}
	if (stars)
		return K_GLOB;
	return qmarks ? K_QMARK : K_EXACT;
}

static int parse(const char *in, struct parsed *ps, char *err, size_t errlen)
{
	size_t len, start, i;
	bool wild_only = true;
	const struct plabel *tld;
	const char *t;

	if (!in)
		return fail(err, errlen, "empty pattern");
	len = strlen(in);
	if (len && in[len - 1] == '.')
		len--;
	if (!len)
		return fail(err, errlen, "empty pattern");

	/* Reasons that explain a whole class of input go first. */
	if (memchr(in, ':', len)) {
		if (looks_ipv6(in, len))
			return fail(err, errlen, "an IPv6 address is not a name: "
				    "use an IP or CIDR resource");
		return fail(err, errlen, "':' at offset %zu: a pattern has no port "
			    "(use the resource's filters)",
			    (size_t)((const char *)memchr(in, ':', len) - in));
	}
	if (memchr(in, '/', len))
		return fail(err, errlen, "'/' at offset %zu: address ranges need a CIDR resource",
			    (size_t)((const char *)memchr(in, '/', len) - in));
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '.' || allowed_char(c))
			continue;
		if (c >= ' ' && c < 0x7f)
			return fail(err, errlen, "character '%c' at offset %zu is not allowed "
				    ALLOWED, c, i);
		return fail(err, errlen, "byte 0x%02x at offset %zu is not allowed " ALLOWED,
			    c, i);
	}
	if (len > PATTERN_MAX_LEN)
		return fail(err, errlen, "pattern is %zu characters; at most %d", len,
			    PATTERN_MAX_LEN);

	for (i = 0; i < len; i++)
		ps->text[i] = (char)lower((unsigned char)in[i]);
	ps->text[len] = '\0';
	ps->len = len;
	t = ps->text;

	ps->nlabels = 0;
	for (start = 0; start <= len; start = i + 1) {
		struct plabel *l;
		bool bad_dstar = false;

		for (i = start; i < len && t[i] != '.'; i++)
			;
		if (i == start)
			return fail(err, errlen, "empty label at offset %zu", start);
		if (i - start > MAX_LABEL_LEN)
			return fail(err, errlen,
				    "label at offset %zu is %zu characters; at most %d",
				    start, i - start, MAX_LABEL_LEN);
		/* 253 characters and no empty label: never more than MAX_LABELS */
		l = &ps->labels[ps->nlabels++];
		l->off = (uint8_t)start;
		l->len = (uint8_t)(i - start);
		l->kind = (uint8_t)label_kind(t + start, i - start, &bad_dstar);
		if (bad_dstar)
			return fail(err, errlen,
				    "'**' must be a whole label (label at offset %zu)", start);
		if (strspn(t + start, "*?") < i - start)
			wild_only = false;
	}

	tld = &ps->labels[ps->nlabels - 1];
	if (wild_only)
		return fail(err, errlen, "pattern is made of wildcards only");
	if (tld->kind != K_EXACT)
		return fail(err, errlen, "wildcard in the last label '%s'", t + tld->off);
	{
		struct in_addr a4;

		if (inet_pton(AF_INET, t, &a4) == 1)
			return fail(err, errlen, "an IPv4 address is not a name: "
				    "use an IP or CIDR resource");
	}
	if (strspn(t + tld->off, "0123456789") == tld->len)
		return fail(err, errlen,
			    "last label '%s' is numeric: an IP address needs an IP resource",
			    t + tld->off);
	if (!strcmp(t + tld->off, "localhost"))
		return fail(err, errlen, "'localhost' names are answered by the host itself");
	return 0;
}

int pattern_validate(const char *text, char *err, size_t errlen)
{
	struct parsed ps;

	return parse(text, &ps, err, errlen);
}

int pattern_compile(const char *text, struct pattern **out, char *err, size_t errlen)
{
	struct parsed ps;
	struct pattern *p;
	unsigned i;
	int r;

	*out = NULL;
	r = parse(text, &ps, err, errlen);
	if (r)
		return r;
	p = malloc(sizeof(*p) + ps.nlabels * sizeof(p->labels[0]) + ps.len + 1);
	if (!p)
		return -ENOMEM;
	p->nlabels = (uint8_t)ps.nlabels;
	p->len = (uint8_t)ps.len;
	p->exact = true;
	p->suffix = 0;
	memcpy(p->labels, ps.labels, ps.nlabels * sizeof(p->labels[0]));
	memcpy((char *)ptext(p), ps.text, ps.len + 1);
	p->min_labels = p->max_labels = (uint8_t)ps.nlabels;
	for (i = 0; i < ps.nlabels; i++) {
		if (ps.labels[i].kind == K_DSTAR) {
			p->min_labels--;
			p->max_labels = UINT8_MAX;
		}
		if (ps.labels[i].kind != K_EXACT) {
			p->exact = false;
			/* the TLD is exact, so a label follows */
			p->suffix = ps.labels[i + 1].off;
		}
	}
	if (ps.labels[0].kind == K_STAR)
		p->min_labels--; /* the bare parent; the TLD keeps it above 0 */
	*out = p;
	return 0;
}

void pattern_free(struct pattern *p)
{
	free(p);
}

const char *pattern_text(const struct pattern *p)
{
	return ptext(p);
}

bool pattern_is_exact(const struct pattern *p)
{
	return p->exact;
}

const char *pattern_suffix(const struct pattern *p)
{
	return ptext(p) + p->suffix;
}

bool pattern_name_split(struct pattern_name *n, const char *name, size_t len)
{
	size_t start = 0;

	n->nlabels = 0;
	if (len && name[len - 1] == '.')
		len--;
	n->text = name;
	n->len = len;
	if (!len || len > PATTERN_MAX_LEN)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && name[i] != '.') {
			if (name[i] == '\\')
				goto bad;
			continue;
		}
		if (i == start || i - start > MAX_LABEL_LEN)
			goto bad;
		n->labels[n->nlabels].off = (unsigned char)start;
		n->labels[n->nlabels].len = (unsigned char)(i - start);
		n->nlabels++;
		start = i + 1;
	}
	return true;
bad:
	n->nlabels = 0;
	return false;
}

static bool exact_match(const struct pattern *p, const char *name, size_t len)
{
	const char *pt = ptext(p);

	if (len != p->len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (pt[i] != (char)lower((unsigned char)name[i]))
			return false;
	return true;
}

/* '*' and '?' within one label; the name's characters are folded here. */
static bool glob_label(const char *p, size_t plen, const char *s, size_t slen)
{
	size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;

	while (si < slen) {
		if (pi < plen && p[pi] == '*') {
			star_p = pi++;
			star_s = si;
		} else if (pi < plen &&
			   (p[pi] == '?' || p[pi] == (char)lower((unsigned char)s[si]))) {
			pi++;
			si++;
		} else if (star_p != SIZE_MAX) {
			pi = star_p + 1;
			si = ++star_s;
		} else {
			return false;
		}
	}
	while (pi < plen && p[pi] == '*')
		pi++;
	return pi == plen;
}

static bool label_match(const char *pt, const struct plabel *pl, const char *name,
			size_t off, size_t len)
{
	const char *p = pt + pl->off;
	const char *s = name + off;

	switch (pl->kind) {
	case K_STAR:
		return true;
	case K_EXACT:
	case K_QMARK:
		if (pl->len != len)
			return false;
		for (size_t i = 0; i < len; i++)
			if (p[i] != (char)lower((unsigned char)s[i]) && p[i] != '?')
				return false;
		return true;
	default:
		return glob_label(p, pl->len, s, len);
	}
}

/* Labels first.. of p against the whole name, '**' as the star. */
static bool match_labels(const struct pattern *p, unsigned first,
			 const struct pattern_name *nl)
{
	const char *pt = ptext(p), *name = nl->text;
	unsigned pi = first, ni = 0, star_p = UINT32_MAX, star_n = 0;

	while (ni < nl->nlabels) {
		if (pi < p->nlabels && p->labels[pi].kind == K_DSTAR) {
			star_p = pi++;
			star_n = ni;
		} else if (pi < p->nlabels &&
			   label_match(pt, &p->labels[pi], name, nl->labels[ni].off,
				       nl->labels[ni].len)) {
			pi++;
			ni++;
		} else if (star_p != UINT32_MAX) {
			pi = star_p + 1;
			ni = ++star_n;
		} else {
			return false;
		}
	}
	while (pi < p->nlabels && p->labels[pi].kind == K_DSTAR)
		pi++;
	return pi == p->nlabels;
}

bool pattern_match_name(const struct pattern *p, const struct pattern_name *n)
{
	if (n->nlabels < p->min_labels || n->nlabels > p->max_labels)
		return false;
	if (p->exact)
		return exact_match(p, n->text, n->len);
	/* A leading '*' label may also stand for nothing: the bare parent. */
	if (p->labels[0].kind == K_STAR && p->nlabels > 1 && match_labels(p, 1, n))
		return true;
	return match_labels(p, 0, n);
}

bool pattern_match(const struct pattern *p, const char *name, size_t len)
{
	struct pattern_name n;

	/* equal to a valid pattern: a valid name, no split needed */
	if (p->exact)
		return exact_match(p, name, len && name[len - 1] == '.' ? len - 1 : len);
	return pattern_name_split(&n, name, len) && pattern_match_name(p, &n);
}

int pattern_compare(const struct pattern *a, const struct pattern *b)
{
	unsigned ia = a->nlabels, ib = b->nlabels;
	int r;

	while (ia || ib) {
		int ka = ia ? a->labels[ia - 1].kind : K_ABSENT;
		int kb = ib ? b->labels[ib - 1].kind : K_ABSENT;

		if (ka != kb)
			return ka - kb;
		/* both present and of one kind */
		ia--;
		ib--;
	}
	if (a->len != b->len)
		return (int)b->len - (int)a->len;
	r = strcmp(ptext(a), ptext(b));
	return r < 0 ? -1 : r > 0;
}
