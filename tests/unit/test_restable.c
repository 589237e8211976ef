/* The resource table: precedence across and within suffixes, live updates,
 * limits, a randomized comparison with a linear scan, and the lookup speed
 * with 10k resources (printed, not asserted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/pattern.h"
#include "dns/restable.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void put_ok(struct restable *t, uint64_t id, const char *pattern)
{
	char err[160];
	int r = restable_put(t, id, pattern, (void *)(uintptr_t)(id * 10), err, sizeof(err));

	if (r)
		fail_msg("put %llu '%s': %d %s", (unsigned long long)id, pattern, r, err);
}

static uint64_t match_id(const struct restable *t, const char *name)
{
	const struct restable_entry *e = restable_match(t, name, strlen(name));

	return e ? e->id : 0;
}

static void test_basic(void **state)
{
	static const struct {
		uint64_t id;
		const char *pattern;
	} res[] = {
		{ 1, "gitlab.company.com" },
		{ 2, "*.slack.com" },
		{ 3, "**.corp.example" },
		{ 4, "app?.x.com" },
		{ 5, "api.corp.example" },
		{ 6, "*.api.corp.example" },
		{ 7, "app.**.web.**.example.com" },
		{ 8, "*ample.com" },
		{ 9, "**.company.com" },
	};
	static const struct {
		const char *name;
		uint64_t id;
	} q[] = {
		{ "gitlab.company.com", 1 },
		{ "GITLAB.Company.com.", 1 },
		{ "wiki.company.com", 9 },
		{ "company.com", 9 },
		{ "a.gitlab.company.com", 9 },
		{ "slack.com", 2 },
		{ "x.slack.com", 2 },
		{ "x.y.slack.com", 0 },
		{ "corp.example", 3 },
		{ "a.b.corp.example", 3 },
		{ "api.corp.example", 5 },      /* exact beats * (apex) and ** */
		{ "v1.api.corp.example", 6 },   /* * beats ** further right */
		{ "a.v1.api.corp.example", 3 },
		{ "app1.x.com", 4 },
		{ "app12.x.com", 0 },
		{ "app.q.web.r.example.com", 7 },
		{ "example.com", 8 },
		{ "www.example.com", 0 },
		{ "google.com", 0 },
		{ "com", 0 },
		{ "", 0 },
		{ ".", 0 },
		{ "a..corp.example", 0 },
	};
	struct restable *t;

	(void)state;
	assert_int_equal(restable_new(&t, 100), 0);
	for (size_t i = 0; i < ARRAY_SIZE(res); i++)
		put_ok(t, res[i].id, res[i].pattern);
	assert_int_equal(restable_count(t), ARRAY_SIZE(res));
	for (size_t i = 0; i < ARRAY_SIZE(q); i++) {
		uint64_t got = match_id(t, q[i].name);

		if (got != q[i].id)
			fail_msg("'%s': got %llu want %llu", q[i].name, (unsigned long long)got,
				 (unsigned long long)q[i].id);
	}
	{
		const struct restable_entry *e = restable_match(t, "x.slack.com", 11);

		assert_non_null(e);
		assert_ptr_equal(e->data, (void *)20);
		assert_string_equal(pattern_text(e->pattern), "*.slack.com");
	}
	restable_free(t);
}

static void test_match_all_order(void **state)
{
	const struct restable_entry *out[8];
	struct restable *t;

	(void)state;
	assert_int_equal(restable_new(&t, 100), 0);
	put_ok(t, 10, "**.com");
	put_ok(t, 11, "**.example.com");
	put_ok(t, 12, "*.example.com");
	put_ok(t, 21, "*.a.example.com");
	put_ok(t, 20, "*.a.example.com");  /* same pattern: the lower id first */
	put_ok(t, 31, "b.a.example.com");
	put_ok(t, 30, "B.A.example.com."); /* the same pattern, once canonical */
	put_ok(t, 40, "c.a.example.com");  /* no match */

	assert_int_equal(restable_match_all(t, "b.a.example.com", 15, out, 8), 6);
	/* *.example.com cannot match b.a.example.com: 6, not 7 */
	{
		static const uint64_t w6[] = { 30, 31, 20, 21, 11, 10 };

		for (size_t i = 0; i < 6; i++)
			assert_int_equal(out[i]->id, w6[i]);
	}
	/* a short array still gets the total */
	assert_int_equal(restable_match_all(t, "b.a.example.com", 15, out, 2), 6);
	assert_int_equal(out[0]->id, 30);
	assert_int_equal(out[1]->id, 31);
	assert_int_equal(restable_match_all(t, "b.a.example.com", 15, NULL, 0), 6);
	assert_int_equal(restable_match_all(t, "a.example.com", 13, out, 8), 5);
	assert_int_equal(out[0]->id, 20); /* *.a.example.com, by the apex rule */
	assert_int_equal(out[1]->id, 21);
	assert_int_equal(out[2]->id, 12);
	assert_int_equal(out[3]->id, 11);
	assert_int_equal(out[4]->id, 10);
	assert_int_equal(restable_match_all(t, "example.org", 11, out, 8), 0);
	restable_free(t);
}

static void test_updates(void **state)
{
	struct restable *t;
	char err[160];
	int marker;

	(void)state;
	assert_int_equal(restable_new(&t, 3), 0);
	put_ok(t, 1, "*.example.com");
	put_ok(t, 2, "a.example.com");
	assert_int_equal(match_id(t, "a.example.com"), 2);
	assert_int_equal(match_id(t, "b.example.com"), 1);

	/* data only */
	assert_int_equal(restable_put(t, 1, "*.EXAMPLE.com", &marker, err, sizeof(err)), 0);
	assert_ptr_equal(restable_get(t, 1)->data, &marker);
	assert_int_equal(restable_count(t), 2);

	/* a new pattern under the same suffix, then under another one */
	put_ok(t, 2, "**.example.com");
	assert_int_equal(match_id(t, "a.example.com"), 1);
	assert_int_equal(match_id(t, "x.y.example.com"), 2);
	put_ok(t, 2, "a.example.org");
	assert_int_equal(match_id(t, "x.y.example.com"), 0);
	assert_int_equal(match_id(t, "a.example.org"), 2);
	assert_string_equal(pattern_text(restable_get(t, 2)->pattern), "a.example.org");

	/* the cap counts resources, and replacing one is not adding */
	put_ok(t, 3, "c.example.net");
	assert_int_equal(restable_put(t, 4, "d.example.net", NULL, err, sizeof(err)), -ENOSPC);
	put_ok(t, 3, "e.example.net");
	assert_int_equal(restable_count(t), 3);

	/* an invalid pattern leaves everything as it was */
	assert_int_equal(restable_put(t, 3, "*.*", NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "pattern is made of wildcards only");
	assert_int_equal(match_id(t, "e.example.net"), 3);

	assert_int_equal(restable_remove(t, 3), 0);
	assert_int_equal(restable_remove(t, 3), -ENOENT);
	assert_null(restable_get(t, 3));
	assert_int_equal(match_id(t, "e.example.net"), 0);
	assert_int_equal(restable_count(t), 2);
	put_ok(t, 4, "d.example.net");
	assert_int_equal(match_id(t, "d.example.net"), 4);
	assert_int_equal(restable_remove(t, 1), 0);
	assert_int_equal(restable_remove(t, 2), 0);
	assert_int_equal(restable_remove(t, 4), 0);
	assert_int_equal(restable_count(t), 0);
	assert_null(restable_match(t, "d.example.net", 13));
	restable_free(t);

	assert_int_equal(restable_new(&t, 0), -EINVAL);
	assert_null(t);
	assert_int_equal(restable_new(&t, (1u << 24) + 1), -EINVAL);
	restable_free(NULL);
}

static int count_fn(const struct restable_entry *e, void *ctx)
{
	size_t *n = ctx;

	(*n)++;
	return e->id == 77 ? 5 : 0;
}

static void test_walk(void **state)
{
	struct restable *t;
	size_t n = 0;

	(void)state;
	assert_int_equal(restable_new(&t, 1000), 0);
	for (uint64_t i = 1; i <= 100; i++) {
		char p[64];

		snprintf(p, sizeof(p), "h%llu.example.com", (unsigned long long)i);
		put_ok(t, i, p);
	}
	assert_int_equal(restable_walk(t, count_fn, &n), 5);
	n = 0;
	assert_int_equal(restable_remove(t, 77), 0);
	assert_int_equal(restable_walk(t, count_fn, &n), 0);
	assert_int_equal(n, 99);
	restable_free(t);
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static const char *pick(uint64_t *s, const char *const *v, size_t n)
{
	return v[rng_next(s) % n];
}

#define MODEL_IDS 400

struct model {
	struct pattern *p[MODEL_IDS + 1];
};

static int model_cmp_ctx_sort(const void *a, const void *b, void *ctx)
{
	const struct model *m = ctx;
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	int r = pattern_compare(m->p[x], m->p[y]);

	return r ? r : (x > y) - (x < y);
}

/* Random puts, replaces and removes over a small alphabet (so that patterns
 * overlap a lot), each lookup checked against a scan of every pattern. */
static void test_random_vs_scan(void **state)
{
	static const char *const literals[] = { "a", "b", "ab", "x", "y", "xb", "q", "abb" };
	static const char *const wildcards[] = { "*", "**", "?", "a*", "?b", "*b*" };
	static const char *const nlabels[] = {
		"a", "b", "ab", "x", "y", "abb", "xb", "B", "AB", "q",
	};
	static const char *const tlds[] = { "com", "org", "net", "io" };
	const struct restable_entry *got[MODEL_IDS];
	uint64_t want[MODEL_IDS];
	struct model m = { { NULL } };
	struct restable *t;
	uint64_t s = 0x9e3779b97f4a7c15ull;
	size_t checked = 0, matched = 0, multi = 0;

	(void)state;
	assert_int_equal(restable_new(&t, MODEL_IDS), 0);
	for (int round = 0; round < 20000; round++) {
		uint64_t id = 1 + rng_next(&s) % MODEL_IDS;
		unsigned op = rng_next(&s) % 8;
		char text[128] = "";
		size_t n;

		if (op == 0) {
			assert_int_equal(restable_remove(t, id), m.p[id] ? 0 : -ENOENT);
			pattern_free(m.p[id]);
			m.p[id] = NULL;
		} else if (op < 3) {
			struct pattern *p;

			n = 2 + rng_next(&s) % 3;
			for (size_t i = 0; i < n; i++) {
				if (rng_next(&s) % 4)
					strcat(text, pick(&s, literals, ARRAY_SIZE(literals)));
				else
					strcat(text, pick(&s, wildcards, ARRAY_SIZE(wildcards)));
				strcat(text, ".");
			}
			strcat(text, pick(&s, tlds, ARRAY_SIZE(tlds)));
			if (pattern_compile(text, &p, NULL, 0))
				continue;
			put_ok(t, id, text);
			pattern_free(m.p[id]);
			m.p[id] = p;
		}

		n = 1 + rng_next(&s) % 5;
		text[0] = '\0';
		for (size_t i = 0; i < n; i++) {
			strcat(text, pick(&s, nlabels, ARRAY_SIZE(nlabels)));
			strcat(text, ".");
		}
		strcat(text, pick(&s, tlds, ARRAY_SIZE(tlds)));
		if (rng_next(&s) % 4 == 0)
			strcat(text, ".");

		size_t nwant = 0;

		for (uint64_t i = 1; i <= MODEL_IDS; i++)
			if (m.p[i] && pattern_match(m.p[i], text, strlen(text)))
				want[nwant++] = i;
		qsort_r(want, nwant, sizeof(want[0]), model_cmp_ctx_sort, &m);
		n = restable_match_all(t, text, strlen(text), got, MODEL_IDS);
		if (n != nwant)
			fail_msg("'%s': %zu matches, want %zu", text, n, nwant);
		for (size_t i = 0; i < n; i++) {
			if (got[i]->id != want[i])
				fail_msg("'%s' #%zu: id %llu, want %llu", text, i,
					 (unsigned long long)got[i]->id, (unsigned long long)want[i]);
		}
		assert_int_equal(match_id(t, text), nwant ? want[0] : 0);
		checked++;
		matched += nwant > 0;
		multi += nwant > 1;
	}
	assert_true(matched > checked / 4 && matched < checked / 4 * 3);
	assert_true(multi > checked / 10);
	print_message("random: %zu lookups, %zu with a match, %zu with several, "
		      "%zu resources at the end\n", checked, matched, multi, restable_count(t));
	for (uint64_t i = 1; i <= MODEL_IDS; i++)
		pattern_free(m.p[i]);
	restable_free(t);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* 10k resources: 7000 exact names, 2000 '*.' zones, 500 '**.' zones, 500 with
 * '?' or a partial '*'. Queries: half resource names, half other names (the
 * common case for a stub: most queries are not resources). */
static void test_speed_10k(void **state)
{
	enum { NQ = 4096, ROUNDS = 200 };
	struct restable *t;
	char (*names)[96] = malloc(NQ * sizeof(*names));
	uint64_t s = 12345;
	size_t hits = 0;
	double t0, t1;

	(void)state;
	assert_non_null(names);
	assert_int_equal(restable_new(&t, 10000), 0);
	for (unsigned i = 0; i < 10000; i++) {
		char p[96];

		if (i < 7000)
			snprintf(p, sizeof(p), "host%u.svc%u.corp%u.example", i, i % 50, i % 20);
		else if (i < 9000)
			snprintf(p, sizeof(p), "*.team%u.corp%u.example", i, i % 20);
		else if (i < 9500)
			snprintf(p, sizeof(p), "**.zone%u.example", i);
		else if (i < 9750)
			snprintf(p, sizeof(p), "app%u-?.corp%u.example", i, i % 20);
		else
			snprintf(p, sizeof(p), "db*.x%u.example", i);
		put_ok(t, i + 1, p);
	}
	for (unsigned i = 0; i < NQ; i++) {
		unsigned r = (unsigned)(rng_next(&s) % 10000), k = (unsigned)(rng_next(&s) % 8);
		unsigned h = r % 7000, z = 7000 + r % 2000;

		switch (k) {
		case 0: snprintf(names[i], 96, "host%u.svc%u.corp%u.example", h, h % 50, h % 20); break;
		case 1: snprintf(names[i], 96, "www.team%u.corp%u.example", z, z % 20); break;
		case 2: snprintf(names[i], 96, "a.b.zone%u.example", 9000 + r % 500); break;
		case 3: snprintf(names[i], 96, "db%u.x%u.example", r, 9750 + r % 250); break;
		case 4: snprintf(names[i], 96, "www.google%u.com", r); break;
		case 5: snprintf(names[i], 96, "r%u---sn-4g5e6nsz.googlevideo.com", r); break;
		case 6: snprintf(names[i], 96, "nohost%u.svc1.corp1.example", r); break;
		default: snprintf(names[i], 96, "api.github.com"); break;
		}
	}
	for (unsigned i = 0; i < NQ; i++)
		hits += restable_match(t, names[i], strlen(names[i])) != NULL;
	assert_true(hits >= NQ / 2 - NQ / 10 && hits <= NQ / 2 + NQ / 10);

	t0 = now_ns();
	for (int r = 0; r < ROUNDS; r++)
		for (unsigned i = 0; i < NQ; i++)
			hits += restable_match(t, names[i], strlen(names[i])) != NULL;
	t1 = now_ns();
	print_message("10k resources: %.1f ns per lookup (%.2f M lookups/s, %zu%% hits)\n",
		      (t1 - t0) / (NQ * ROUNDS), NQ * ROUNDS / (t1 - t0) * 1e3,
		      hits * 100 / ((size_t)NQ * (ROUNDS + 1)));
	restable_free(t);
	free(names);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_match_all_order),
		cmocka_unit_test(test_updates),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_random_vs_scan),
		cmocka_unit_test(test_speed_10k),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
