/* Aligned text tables. See table.h. */
#include "cli/table.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

enum { CELL_MAX = 1 << 20 }; /* bytes of one sanitized cell */

struct table {
	size_t ncols, nrows, cap;
	char **headers;
	size_t *max;  /* per column cap, 0: none */
	char **cells; /* nrows * ncols, row-major */
};

struct range {
	uint32_t lo, hi;
};

/* Characters that take no column of their own: combining marks, zero-width
 * joiners and spaces, variation selectors, Hangul medial and final jamo. */
static const struct range zero_width[] = {
	{ 0x0300, 0x036f }, { 0x0483, 0x0489 }, { 0x0591, 0x05bd }, { 0x05bf, 0x05bf },
	{ 0x05c1, 0x05c2 }, { 0x05c4, 0x05c5 }, { 0x05c7, 0x05c7 }, { 0x0610, 0x061a },
	{ 0x064b, 0x065f }, { 0x0670, 0x0670 }, { 0x06d6, 0x06dc }, { 0x06df, 0x06e4 },
	{ 0x06e7, 0x06e8 }, { 0x06ea, 0x06ed }, { 0x0900, 0x0902 }, { 0x093a, 0x093a },
	{ 0x093c, 0x093c }, { 0x0941, 0x0948 }, { 0x094d, 0x094d }, { 0x0951, 0x0957 },
	{ 0x0e31, 0x0e31 }, { 0x0e34, 0x0e3a }, { 0x0e47, 0x0e4e }, { 0x1160, 0x11ff },
	{ 0x1ab0, 0x1aff }, { 0x1dc0, 0x1dff }, { 0x200b, 0x200f }, { 0x2060, 0x2064 },
	{ 0x20d0, 0x20ff }, { 0x302a, 0x302d }, { 0x3099, 0x309a }, { 0xfe00, 0xfe0f },
	{ 0xfe20, 0xfe2f }, { 0xfeff, 0xfeff }, { 0x1f3fb, 0x1f3ff }, { 0xe0000, 0xe0fff },
};

/* East Asian Wide and Fullwidth characters, and the emoji shown two wide. */
static const struct range wide[] = {
	{ 0x1100, 0x115f }, { 0x231a, 0x231b }, { 0x2329, 0x232a }, { 0x23e9, 0x23ec },
	{ 0x23f0, 0x23f0 }, { 0x23f3, 0x23f3 }, { 0x25fd, 0x25fe }, { 0x2614, 0x2615 },
	{ 0x2648, 0x2653 }, { 0x267f, 0x267f }, { 0x2693, 0x2693 }, { 0x26a1, 0x26a1 },
	{ 0x26aa, 0x26ab }, { 0x26bd, 0x26be }, { 0x26c4, 0x26c5 }, { 0x26ce, 0x26ce },
	{ 0x26d4, 0x26d4 }, { 0x26ea, 0x26ea }, { 0x26f2, 0x26f3 }, { 0x26f5, 0x26f5 },
	{ 0x26fa, 0x26fa }, { 0x26fd, 0x26fd }, { 0x2705, 0x2705 }, { 0x270a, 0x270b },
	{ 0x2728, 0x2728 }, { 0x274c, 0x274c }, { 0x274e, 0x274e }, { 0x2753, 0x2755 },
	{ 0x2757, 0x2757 }, { 0x2795, 0x2797 }, { 0x27b0, 0x27b0 }, { 0x27bf, 0x27bf },
	{ 0x2b1b, 0x2b1c }, { 0x2b50, 0x2b50 }, { 0x2b55, 0x2b55 }, { 0x2e80, 0x303e },
	{ 0x3041, 0x33ff }, { 0x3400, 0x4dbf }, { 0x4e00, 0x9fff }, { 0xa000, 0xa4cf },
	{ 0xa960, 0xa97f }, { 0xac00, 0xd7a3 }, { 0xf900, 0xfaff }, { 0xfe10, 0xfe19 },
	{ 0xfe30, 0xfe6f }, { 0xff00, 0xff60 }, { 0xffe0, 0xffe6 }, { 0x16fe0, 0x16fe4 },
	{ 0x17000, 0x18cff }, { 0x1b000, 0x1b2ff }, { 0x1f004, 0x1f004 },
	{ 0x1f0cf, 0x1f0cf }, { 0x1f18e, 0x1f18e }, { 0x1f191, 0x1f19a },
	{ 0x1f200, 0x1f251 }, { 0x1f300, 0x1f320 }, { 0x1f32d, 0x1f335 },
	{ 0x1f337, 0x1f37c }, { 0x1f37e, 0x1f393 }, { 0x1f3a0, 0x1f3ca },
	{ 0x1f3cf, 0x1f3d3 }, { 0x1f3e0, 0x1f3f0 }, { 0x1f3f4, 0x1f3f4 },
	{ 0x1f3f8, 0x1f43e }, { 0x1f440, 0x1f440 }, { 0x1f442, 0x1f4fc },
	{ 0x1f4ff, 0x1f53d }, { 0x1f54b, 0x1f54e }, { 0x1f550, 0x1f567 },
	{ 0x1f57a, 0x1f57a }, { 0x1f595, 0x1f596 }, { 0x1f5a4, 0x1f5a4 },
	{ 0x1f5fb, 0x1f64f }, { 0x1f680, 0x1f6c5 }, { 0x1f6cc, 0x1f6cc },
	{ 0x1f6d0, 0x1f6d2 }, { 0x1f6d5, 0x1f6d7 }, { 0x1f6eb, 0x1f6ec },
	{ 0x1f6f4, 0x1f6fc }, { 0x1f7e0, 0x1f7eb }, { 0x1f90c, 0x1f93a },
	{ 0x1f93c, 0x1f945 }, { 0x1f947, 0x1f9ff }, { 0x1fa70, 0x1faff },
	{ 0x20000, 0x2fffd }, { 0x30000, 0x3fffd },
};

static bool in_ranges(const struct range *r, size_t n, uint32_t cp)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cp < r[mid].lo)
			hi = mid;
		else if (cp > r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

static unsigned cp_width(uint32_t cp)
{
	if (cp < 0x300)
		return 1;
	if (in_ranges(zero_width, sizeof(zero_width) / sizeof(zero_width[0]), cp))
		return 0;
	return in_ranges(wide, sizeof(wide) / sizeof(wide[0]), cp) ? 2 : 1;
}

/* One code point from s (NUL-terminated): its value, or -1 for a malformed,
 * overlong or surrogate sequence; *n the bytes it took (at least 1). */
static int32_t utf8_next(const unsigned char *s, size_t *n)
{
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len;
	uint32_t cp;

	*n = 1;
	if (s[0] < 0x80)
		return s[0];
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return -1;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1; /* also stops at the NUL */
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*n = len;
	return (int32_t)cp;
}

size_t table_text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0, n;

	while (*p) {
		int32_t cp = utf8_next(p, &n);

		w += cp < 0 ? 1 : cp_width((uint32_t)cp);
		p += n;
	}
	return w;
}

static bool is_bidi_control(uint32_t cp)
{
	return cp == 0x061c || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

char *table_sanitize(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	struct buf b;
	size_t n;

	buf_init(&b, CELL_MAX + 4);
	if (buf_reserve(&b, 1) < 0)
		return NULL;
	b.data[0] = '\0';
	while (*p && b.len <= CELL_MAX - 4) { /* past that, the rest is dropped */
		int32_t cp = utf8_next(p, &n);
		int r;

		if (cp == '\t' || cp == '\n' || cp == '\r')
			r = buf_append(&b, " ", 1);
		else if (cp >= 0 && (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)))
			r = buf_append(&b, "?", 1);
		else if (cp < 0 || is_bidi_control((uint32_t)cp))
			r = buf_append(&b, "\xef\xbf\xbd", 3); /* U+FFFD */
		else
			r = buf_append(&b, p, n);
		if (r < 0) {
			buf_free(&b);
			return NULL;
		}
		p += n;
	}
	if (buf_reserve(&b, 1) < 0) {
		buf_free(&b);
		return NULL;
	}
	b.data[b.len] = '\0';
	return (char *)b.data;
}

/* Cuts sanitized text s in place to at most max columns, ending in "…". */
static int cut(char **s, size_t max)
{
	const unsigned char *p = (const unsigned char *)*s;
	size_t w = 0, n, keep;
	char *out;

	if (max == 0 || table_text_width(*s) <= max)
		return 0;
	while (*p) {
		unsigned cw = cp_width((uint32_t)utf8_next(p, &n)); /* sanitized: valid */

		if (w + cw > max - 1)
			break;
		w += cw;
		p += n;
	}
	/* Zero-width marks that belong to the last character kept stay with it. */
	while (*p && cp_width((uint32_t)utf8_next(p, &n)) == 0)
		p += n;
	keep = (size_t)(p - (const unsigned char *)*s);
	out = malloc(keep + 4);
	if (!out)
		return -ENOMEM;
	memcpy(out, *s, keep);
	memcpy(out + keep, "\xe2\x80\xa6", 4); /* "…" and the NUL */
	free(*s);
	*s = out;
	return 0;
}

int table_new(size_t ncols, const char *const *headers, struct table **out)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t || ncols == 0)
		goto fail;
	t->ncols = ncols;
	t->headers = calloc(ncols, sizeof(*t->headers));
	t->max = calloc(ncols, sizeof(*t->max));
	if (!t->headers || !t->max)
		goto fail;
	for (size_t i = 0; i < ncols; i++)
		if (!(t->headers[i] = table_sanitize(headers[i])))
			goto fail;
	*out = t;
	return 0;
fail:
	table_free(t);
	return ncols ? -ENOMEM : -EINVAL;
}

void table_set_max(struct table *t, size_t col, size_t width)
{
	if (col < t->ncols)
		t->max[col] = width;
}

int table_add_row(struct table *t, const char *const *cells)
{
	char **row;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = reallocarray(t->cells, cap * t->ncols, sizeof(*c));

		if (!c)
			return -ENOMEM;
		t->cells = c;
		t->cap = cap;
	}
	row = t->cells + t->nrows * t->ncols;
	for (size_t i = 0; i < t->ncols; i++) {
		row[i] = table_sanitize(cells[i]);
		if (!row[i] || cut(&row[i], t->max[i]) < 0) {
			for (size_t j = 0; j <= i; j++)
				free(row[j]);
			return -ENOMEM;
		}
	}
	t->nrows++;
	return 0;
}

size_t table_rows(const struct table *t)
{
	return t->nrows;
}

static void print_row(FILE *out, char *const *cells, const size_t *widths, size_t ncols)
{
	size_t last = ncols;

	/* No padding after the last non-empty cell: no trailing blanks. */
	while (last > 0 && !cells[last - 1][0])
		last--;
	for (size_t i = 0; i < last; i++) {
		fputs(cells[i], out);
		if (i + 1 < last)
			for (size_t w = table_text_width(cells[i]); w < widths[i] + 2; w++)
				fputc(' ', out);
	}
	fputc('\n', out);
}

int table_print(const struct table *t, FILE *out, int no_header)
{
	size_t *widths = calloc(t->ncols, sizeof(*widths));

	if (!widths)
		return -ENOMEM;
	for (size_t i = 0; i < t->ncols; i++) {
		widths[i] = no_header ? 0 : table_text_width(t->headers[i]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t w = table_text_width(t->cells[r * t->ncols + i]);

			if (w > widths[i])
				widths[i] = w;
		}
	}
	if (!no_header)
		print_row(out, t->headers, widths, t->ncols);
	for (size_t r = 0; r < t->nrows; r++)
		print_row(out, t->cells + r * t->ncols, widths, t->ncols);
	free(widths);
	return ferror(out) ? -EIO : 0;
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->headers && i < t->ncols; i++)
		free(t->headers[i]);
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->headers);
	free(t->max);
	free(t->cells);
	free(t);
}
