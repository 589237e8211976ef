/* DNS resource patterns: validation, matching and precedence.
 *
 * A pattern is a name whose labels may be wildcards, compared label by label
 * and case-insensitively (ASCII):
 *   *      a whole label: exactly one label; when it is the leftmost label it may
 *          also match nothing, so *.slack.com matches slack.com and a.slack.com
 *          but not a.b.slack.com
 *   **     a whole label: zero or more labels (app.**.example.com matches
 *          app.example.com and app.x.y.example.com)
 *   ?      one character, never a dot (app?.x.com)
 *   *      inside a label (app*.x.com, *ample.com): zero or more characters of
 *          that one label, as Firezone allows
 * A trailing dot is accepted on patterns and names and ignored.
 *
 * Valid patterns (what the portal accepts): 1-63 characters per label, at most
 * 253 in all, letters, digits, '-', '_', '*' and '?' only, '**' only as a whole
 * label, no wildcard in the last label, not wildcards alone, no IP literal, no
 * port, and not under "localhost" (the host answers those itself).
 *
 * Precedence, most specific first: labels are ranked exact < has '?' < has '*'
 * inside < '*' < '**' and compared from the rightmost label; where one pattern
 * ends and the other goes on, an exact, '?' or partial-'*' label goes first and
 * a '*' or '**' label goes after (so example.com precedes *.example.com and
 * a.**.example.com precedes **.example.com); then the longer pattern; then the
 * text, so that only equal patterns compare equal.
 *
 * Names are presentation text as the wire module writes it. A name that is not
 * a plain host name (empty label, label over 63 or name over 253 characters, a
 * backslash escape) matches nothing. Compiled patterns are immutable, so any
 * number of threads may match against one at once. */
#ifndef SLUICE_DNS_PATTERN_H
#define SLUICE_DNS_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

#define PATTERN_MAX_LEN 253

struct pattern;

/* 0, or -EINVAL with the reason in err (always NUL-terminated if errlen > 0;
 * err may be NULL). */
int pattern_validate(const char *text, char *err, size_t errlen);
/* Validates and compiles: 0, -EINVAL (reason in err) or -ENOMEM. */
int pattern_compile(const char *text, struct pattern **out, char *err, size_t errlen);
void pattern_free(struct pattern *p);

/* Does the name (len bytes, not NUL-terminated, optional trailing dot) match?
 * Allocates nothing and takes time linear in the pattern and the name. */
bool pattern_match(const struct pattern *p, const char *name, size_t len);

/* A name split into labels once, to be matched against many patterns. The
 * fields are for reading; pattern_name_split() fills them. */
struct pattern_name {
	const char *text;
	size_t len;        /* without the trailing dot */
	unsigned nlabels;
	struct {
		unsigned char off, len;
	} labels[127];     /* left to right */
};

/* false if the name is not a host name, which no pattern matches. */
bool pattern_name_split(struct pattern_name *n, const char *name, size_t len);
bool pattern_match_name(const struct pattern *p, const struct pattern_name *n);

/* < 0 when a is more specific than b, 0 only for equal patterns. A total order. */
int pattern_compare(const struct pattern *a, const struct pattern *b);

/* The pattern in lowercase without a trailing dot. */
const char *pattern_text(const struct pattern *p);
bool pattern_is_exact(const struct pattern *p);
/* The literal labels right of the rightmost wildcard label, a tail of
 * pattern_text() (the whole text for an exact pattern). Every name a pattern
 * matches is this suffix or ends with "." and this suffix. */
const char *pattern_suffix(const struct pattern *p);

#endif
