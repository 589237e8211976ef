/* Micro-benchmarks for the per-packet tables: allowed-IPs lookups, the replay
 * window and the receiver-index table. Not part of the build; from the repo root:
 *
 *   gcc -O2 -D_GNU_SOURCE -Isrc -o /tmp/micro_allowedips bench/micro_allowedips.c \
 *       src/wg/allowedips.c src/wg/replay.c src/wg/index.c src/lib/rand.c
 *   /tmp/micro_allowedips
 *
 * Prefixes and queries come from a fixed-seed xorshift so runs compare. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "wg/allowedips.h"
#include "wg/index.h"
#include "wg/replay.h"

enum { NPREFIX = 10000, NPEERS = 1000, NQUERY = 1 << 20, REPS = 8 };

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t xs(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void fill(uint8_t *b, size_t n)
{
	while (n--)
		*b++ = (uint8_t)xs();
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A realistic mix: v4 mostly /32 hosts with some /16–/30 subnets; v6 mostly
 * /128 and /64 with some /48. Exactly NPREFIX distinct prefixes per family;
 * their addresses are kept for the queries that hit. */
static void load(struct allowedips *t, char *peers, uint8_t (*v4)[4], uint8_t (*v6)[16])
{
	static const unsigned c4[] = { 32, 32, 32, 32, 24, 24, 16, 30 };
	static const unsigned c6[] = { 128, 128, 128, 64, 64, 48, 56, 96 };
	size_t i, before;

	for (i = 0; i < NPREFIX;) {
		fill(v4[i], 4);
		v4[i][0] = 10 + (uint8_t)(xs() % 4); /* clustered, like real pools */
		before = wg_allowedips_count(t);
		if (wg_allowedips_insert(t, AF_INET, v4[i], c4[xs() % 8], &peers[xs() % NPEERS]))
			abort();
		i += wg_allowedips_count(t) > before; /* an owner change adds nothing */
	}
	for (i = 0; i < NPREFIX;) {
		fill(v6[i], 16);
		v6[i][0] = 0xfd;
		before = wg_allowedips_count(t);
		if (wg_allowedips_insert(t, AF_INET6, v6[i], c6[xs() % 8], &peers[xs() % NPEERS]))
			abort();
		i += wg_allowedips_count(t) > before;
	}
}

static double bench_lookup(const struct allowedips *t, int family, const uint8_t *q,
			   size_t stride, unsigned *hits)
{
	uintptr_t acc = 0;
	double t0, best = 1e30;
	size_t i;
	int r;

	for (r = 0; r < REPS; r++) {
		t0 = now_ns();
		for (i = 0; i < NQUERY; i++)
			acc += (uintptr_t)wg_allowedips_lookup(t, family, q + i * stride) != 0;
		t0 = now_ns() - t0;
		if (t0 < best)
			best = t0;
	}
	*hits = (unsigned)(acc / REPS);
	return best / NQUERY;
}

static void run_allowedips(void)
{
	uint8_t (*v4)[4] = malloc(NPREFIX * 4), (*v6)[16] = malloc(NPREFIX * 16);
	uint8_t *q4h = malloc(NQUERY * 4), *q4r = malloc(NQUERY * 4);
	uint8_t *q6h = malloc(NQUERY * 16), *q6r = malloc(NQUERY * 16);
	char *peers = calloc(NPEERS, 1);
	struct allowedips *t;
	unsigned hits;
	double ns, t0;
	size_t i;

	if (!v4 || !v6 || !q4h || !q4r || !q6h || !q6r || !peers ||
	    wg_allowedips_new(&t, 4 * NPREFIX))
		abort();
	t0 = now_ns();
	load(t, peers, v4, v6);
	t0 = now_ns() - t0;
	printf("allowedips: %zu prefixes (%d v4 + %d v6), %zu nodes, %d peers, "
	       "insert %.0f ns/prefix\n", wg_allowedips_count(t), NPREFIX, NPREFIX,
	       wg_allowedips_nodes(t), NPEERS, t0 / (2 * NPREFIX));
	for (i = 0; i < NQUERY; i++) {
		/* hits: a stored prefix with random host bits below /16 or /64 */
		memcpy(q4h + 4 * i, v4[xs() % NPREFIX], 4);
		q4h[4 * i + 3] ^= (uint8_t)(xs() & 1);
		memcpy(q6h + 16 * i, v6[xs() % NPREFIX], 16);
		q6h[16 * i + 15] ^= (uint8_t)(xs() & 1);
	}
	fill(q4r, NQUERY * 4);
	fill(q6r, NQUERY * 16);

	ns = bench_lookup(t, AF_INET, q4h, 4, &hits);
	printf("  v4 near stored prefixes: %6.1f ns/lookup  %6.2f M/s  (%u%% matched)\n",
	       ns, 1e3 / ns, (unsigned)(100.0 * hits / NQUERY));
	ns = bench_lookup(t, AF_INET, q4r, 4, &hits);
	printf("  v4 uniform random:       %6.1f ns/lookup  %6.2f M/s  (%u%% matched)\n",
	       ns, 1e3 / ns, (unsigned)(100.0 * hits / NQUERY));
	ns = bench_lookup(t, AF_INET6, q6h, 16, &hits);
	printf("  v6 near stored prefixes: %6.1f ns/lookup  %6.2f M/s  (%u%% matched)\n",
	       ns, 1e3 / ns, (unsigned)(100.0 * hits / NQUERY));
	ns = bench_lookup(t, AF_INET6, q6r, 16, &hits);
	printf("  v6 uniform random:       %6.1f ns/lookup  %6.2f M/s  (%u%% matched)\n",
	       ns, 1e3 / ns, (unsigned)(100.0 * hits / NQUERY));

	/* a busy gateway's steady state: packets of 256 active flows */
	for (i = 0; i < NQUERY; i++) {
		memcpy(q4h + 4 * i, q4h + 4 * (i % 256), 4);
		memcpy(q6h + 16 * i, q6h + 16 * (i % 256), 16);
	}
	ns = bench_lookup(t, AF_INET, q4h, 4, &hits);
	printf("  v4, 256 active flows:    %6.1f ns/lookup  %6.2f M/s\n", ns, 1e3 / ns);
	ns = bench_lookup(t, AF_INET6, q6h, 16, &hits);
	printf("  v6, 256 active flows:    %6.1f ns/lookup  %6.2f M/s\n", ns, 1e3 / ns);

	wg_allowedips_free(t);
	free(v4);
	free(v6);
	free(q4h);
	free(q4r);
	free(q6h);
	free(q6r);
	free(peers);
}

static void run_replay(void)
{
	const uint64_t limit = UINT64_MAX - (1ull << 13);
	static struct replay_window w;
	uint64_t *ctr = malloc(NQUERY * sizeof(*ctr)), i;
	unsigned ok = 0;
	double t0;
	int r;

	if (!ctr)
		abort();
	/* in order, as on an unloaded single-queue path */
	wg_replay_reset(&w);
	t0 = now_ns();
	for (r = 0; r < REPS; r++)
		for (i = 0; i < NQUERY; i++)
			ok += wg_replay_check_update(&w, (uint64_t)r * NQUERY + i, limit);
	t0 = now_ns() - t0;
	printf("replay: in order           %6.2f ns/op (%u accepted)\n",
	       t0 / (REPS * (double)NQUERY), ok);

	/* reordered by up to 1000 with 1 in 16 duplicated */
	for (i = 0; i < NQUERY; i++)
		ctr[i] = i + 1000 - xs() % 1000 - (xs() % 16 == 0 ? 1 : 0);
	wg_replay_reset(&w);
	ok = 0;
	t0 = now_ns();
	for (i = 0; i < NQUERY; i++)
		ok += wg_replay_check_update(&w, ctr[i], limit);
	t0 = now_ns() - t0;
	printf("replay: reordered          %6.2f ns/op (%u of %u accepted)\n",
	       t0 / NQUERY, ok, (unsigned)NQUERY);

	/* the worst single step: every call jumps a full ring ahead */
	wg_replay_reset(&w);
	t0 = now_ns();
	for (i = 0; i < NQUERY; i++)
		ok += wg_replay_check_update(&w, i * 10000, limit);
	t0 = now_ns() - t0;
	printf("replay: jump of a full ring %5.2f ns/op (clears 128 words each)\n",
	       t0 / NQUERY);
	free(ctr);
}

static void run_index(void)
{
	enum { N = 40000 };
	uint32_t *idx = malloc(N * sizeof(*idx)), *q = malloc(NQUERY * sizeof(*q));
	char *objs = calloc(N, 1);
	struct index_table *t;
	uintptr_t acc = 0;
	double t0;
	size_t i;

	if (!idx || !q || !objs || wg_index_table_new(&t, N, NULL, NULL))
		abort();
	for (i = 0; i < N; i++)
		if (wg_index_insert(t, i % 4 ? INDEX_KEYPAIR : INDEX_HANDSHAKE, &objs[i], &idx[i]))
			abort();
	for (i = 0; i < NQUERY; i++)
		q[i] = i % 2 ? idx[xs() % N] : (uint32_t)xs(); /* half misses */
	t0 = now_ns();
	for (i = 0; i < NQUERY; i++)
		acc += (uintptr_t)wg_index_lookup(t, q[i], INDEX_KEYPAIR, NULL);
	t0 = now_ns() - t0;
	printf("index: %d entries, typed lookup %.1f ns/op (half misses) [%lx]\n", N,
	       t0 / NQUERY, (unsigned long)(acc & 0xf));
	wg_index_table_free(t);
	free(idx);
	free(q);
	free(objs);
}

int main(void)
{
	run_allowedips();
	run_replay();
	run_index();
	return 0;
}
