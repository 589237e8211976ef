/* DNS resource patterns: every line of the input is tried as a pattern and as
 * a name. Validation and compilation must agree (same verdict, same message);
 * every compiled pattern is matched against every line and against names made
 * from the patterns themselves (wildcards filled in, case flipped, labels
 * dropped), and each answer must equal a slow reference matcher written
 * independently here: characters, recursion and a memo, no label splitting.
 * pattern_compare must be a total order, and a resource table holding the
 * patterns must list exactly the matching ones, in that order. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/pattern.h"
#include "dns/restable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINES 16
#define MAX_PATTERNS 8
#define MAX_LINE 300
#define VARIANTS 4

/* The reference's own branches are no coverage worth steering toward, and
 * tracing them would cost most of the run. */
#if defined(__clang__)
#define NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define NO_COVERAGE
#endif

struct ref {
	const char *p, *n;
	size_t plen, nlen;
	int8_t *memo; /* (plen + 1) * (nlen + 1): -1 unknown */
};

NO_COVERAGE static bool ref_rec(struct ref *r, size_t pi, size_t ni)
{
	int8_t *m = &r->memo[pi * (r->nlen + 1) + ni];
	const char *p = r->p, *n = r->n;
	bool res = false;

	if (*m >= 0)
		return *m;
	if (pi == r->plen) {
		res = ni == r->nlen;
	} else if ((pi == 0 || p[pi - 1] == '.') && pi + 2 < r->plen && p[pi] == '*' &&
		   p[pi + 1] == '*' && p[pi + 2] == '.') {
		/* "**.": no label at all, or one more whole label and its dot */
		size_t j = ni;

		while (j < r->nlen && n[j] != '.')
			j++;
		res = ref_rec(r, pi + 3, ni) || (j > ni && j < r->nlen && ref_rec(r, pi, j + 1));
	} else if (p[pi] == '*') {
		res = ref_rec(r, pi + 1, ni) ||
		      (ni < r->nlen && n[ni] != '.' && ref_rec(r, pi, ni + 1));
	} else if (ni < r->nlen) {
		if (p[pi] == '?')
			res = n[ni] != '.' && ref_rec(r, pi + 1, ni + 1);
		else
			res = tolower((unsigned char)p[pi]) == tolower((unsigned char)n[ni]) &&
			      ref_rec(r, pi + 1, ni + 1);
	}
	*m = res;
	return res;
}

NO_COVERAGE static bool ref_name_ok(const char *n, size_t len)
{
	size_t lab = 0;

	if (!len || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (n[i] == '\\')
			return false;
		if (n[i] == '.') {
			if (!lab)
				return false;
			lab = 0;
		} else if (++lab > 63) {
			return false;
		}
	}
	return lab > 0;
}

NO_COVERAGE static bool ref_match(const char *p, const char *n, size_t nlen, int8_t *memo)
{
	struct ref r = { .p = p, .n = n, .plen = strlen(p), .nlen = nlen, .memo = memo };
	bool res;

	if (r.plen && p[r.plen - 1] == '.')
		r.plen--;
	if (r.nlen && n[r.nlen - 1] == '.')
		r.nlen--;
	if (!ref_name_ok(n, r.nlen))
		return false;
	memset(memo, -1, (r.plen + 1) * (r.nlen + 1));
	res = ref_rec(&r, 0, 0);
	if (!res && r.plen > 2 && p[0] == '*' && p[1] == '.') {
		/* the leading '*' label may stand for nothing */
		r.p += 2;
		r.plen -= 2;
		memset(memo, -1, (r.plen + 1) * (r.nlen + 1));
		res = ref_rec(&r, 0, 0);
	}
	return res;
}

/* A name the pattern may well match: wildcards filled in one of a few ways
 * chosen by v, some letters in upper case. */
NO_COVERAGE static size_t derive(const char *p, unsigned v, char *out, size_t cap)
{
	static const char *const dstar[] = { NULL, "a", "b.C", "xy.z.w" };
	static const char *const star[] = { "", "x", "Yz", "a-b" };
	size_t o = 0, i = 0, len = strlen(p);
	unsigned k = v;

	while (i < len && o + 8 < cap) {
		bool at_label = i == 0 || p[i - 1] == '.';

		if (at_label && p[i] == '*' && p[i + 1] == '*' && (p[i + 2] == '.' || !p[i + 2])) {
			const char *fill = dstar[k++ % 4];

			if (!fill) {
				i += p[i + 2] ? 3 : 2;
				continue;
			}
			for (; *fill && o + 8 < cap; fill++)
				out[o++] = *fill;
			i += 2;
		} else if (p[i] == '*') {
			const char *fill = star[k++ % 4];

			/* dropping a whole leading '*' label tries the apex rule */
			if (i == 0 && p[1] == '.' && v % 3 == 0) {
				i += 2;
				continue;
			}
			for (; *fill && o + 8 < cap; fill++)
				out[o++] = *fill;
			i++;
		} else if (p[i] == '?') {
			out[o++] = "q7-_"[k++ % 4];
			i++;
		} else {
			out[o++] = (k++ + v) % 5 == 0 ? (char)toupper((unsigned char)p[i]) : p[i];
			i++;
		}
	}
	if (v & 1 && o && o + 1 < cap)
		out[o++] = '.';
	out[o] = '\0';
	return o;
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static void check_one(const struct pattern *p, const char *text, const char *name,
		      size_t len, int8_t *memo)
{
	struct pattern_name pn;
	bool got = pattern_match(p, name, len);
	size_t n = len && name[len - 1] == '.' ? len - 1 : len;

	if (got != ref_match(text, name, len, memo))
		abort();
	if (pattern_name_split(&pn, name, len) != ref_name_ok(name, n))
		abort();
	if (pattern_match_name(p, &pn) != got)
		abort();
}

struct pat {
	struct pattern *p;
	char text[MAX_LINE + 1];
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char (*lines)[MAX_LINE + 1] = malloc(MAX_LINES * sizeof(*lines));
	size_t line_len[MAX_LINES];
	struct pat *pats = calloc(MAX_PATTERNS, sizeof(*pats));
	int8_t *memo = malloc((MAX_LINE + 2) * (MAX_LINE + 2));
	struct restable *t = NULL;
	size_t nlines = 0, npats = 0, start = 0;

	if (!lines || !pats || !memo || restable_new(&t, MAX_PATTERNS))
		abort();
	for (size_t i = 0; i <= size && nlines < MAX_LINES; i++) {
		if (i < size && data[i] != '\n')
			continue;
		line_len[nlines] = i - start > MAX_LINE ? MAX_LINE : i - start;
		memcpy(lines[nlines], data + start, line_len[nlines]);
		lines[nlines][line_len[nlines]] = '\0';
		nlines++;
		start = i + 1;
	}

	for (size_t i = 0; i < nlines; i++) {
		char e1[128], e2[128];
		struct pattern *p;
		int r1 = pattern_validate(lines[i], e1, sizeof(e1));
		int r2 = pattern_compile(lines[i], &p, e2, sizeof(e2));

		if (r1 != r2 || (r1 && strcmp(e1, e2)) || (r1 && r1 != -EINVAL) || (!r2 && !p))
			abort();
		if (r2)
			continue;
		/* the canonical text: lowercase, one trailing dot gone */
		{
			const char *c = pattern_text(p), *s = pattern_suffix(p);
			size_t n = strlen(lines[i]);

			if (n && lines[i][n - 1] == '.')
				n--;
			if (strlen(c) != n || n > 253)
				abort();
			for (size_t j = 0; j < n; j++)
				if (c[j] != tolower((unsigned char)lines[i][j]))
					abort();
			if (s < c || s > c + n || (s > c && s[-1] != '.') ||
			    (pattern_is_exact(p) != (s == c)) || strpbrk(s, "*?"))
				abort();
		}
		if (npats == MAX_PATTERNS) {
			pattern_free(p);
			continue;
		}
		pats[npats].p = p;
		strcpy(pats[npats].text, lines[i]);
		if (restable_put(t, npats + 1, lines[i], NULL, NULL, 0))
			abort();
		npats++;
	}

	/* a total order: antisymmetric, transitive, 0 only for one text */
	for (size_t a = 0; a < npats; a++) {
		for (size_t b = 0; b < npats; b++) {
			int ab = sign(pattern_compare(pats[a].p, pats[b].p));

			if (ab != -sign(pattern_compare(pats[b].p, pats[a].p)) ||
			    (ab == 0) != !strcmp(pattern_text(pats[a].p), pattern_text(pats[b].p)))
				abort();
			for (size_t c = 0; c < npats; c++)
				if (ab <= 0 && sign(pattern_compare(pats[b].p, pats[c].p)) <= 0 &&
				    sign(pattern_compare(pats[a].p, pats[c].p)) > 0)
					abort();
		}
	}

	for (size_t a = 0; a < npats + nlines; a++) {
		for (unsigned v = 0; v < (a < npats ? VARIANTS : 1); v++) {
			const struct restable_entry *hits[MAX_PATTERNS];
			char nbuf[MAX_LINE + 1];
			const char *name = nbuf;
			size_t len, nhits, want = 0;
			uint64_t prev = 0;

			if (a < npats) {
				len = derive(pattern_text(pats[a].p), v, nbuf, sizeof(nbuf));
			} else {
				name = lines[a - npats];
				len = line_len[a - npats];
			}
			nhits = restable_match_all(t, name, len, hits, MAX_PATTERNS);
			for (size_t b = 0; b < npats; b++) {
				check_one(pats[b].p, pats[b].text, name, len, memo);
				want += pattern_match(pats[b].p, name, len);
			}
			if (nhits != want)
				abort();
			/* each hit matches; in order: by pattern, then id */
			for (size_t h = 0; h < nhits; h++) {
				const struct pattern *hp = pats[hits[h]->id - 1].p;

				if (!pattern_match(hp, name, len))
					abort();
				if (h) {
					int c = pattern_compare(pats[prev - 1].p, hp);

					if (c > 0 || (c == 0 && prev >= hits[h]->id))
						abort();
				}
				prev = hits[h]->id;
			}
		}
	}

	restable_free(t);
	for (size_t i = 0; i < npats; i++)
		pattern_free(pats[i].p);
	free(pats);
	free(memo);
	free(lines);
	return 0;
}
