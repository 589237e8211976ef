/* The stub's whole query path: arbitrary bytes as a query arriving on a
 * sentinel (parse, canary, PTR, resource match, cache, offers, forwarding), and
 * arbitrary bytes as the resource resolver's (the gateway's) answer to it.
 *
 * Input: flags (1) | query length (2, big-endian) | query | answer.
 *   flags bit 1: give the answer the ID the stub sent, so it gets past that check
 *   flags bit 2: answer the same query twice (a late duplicate)
 *   flags bit 3: a forwarded query: give the upstream's answer the forward's ID
 *   flags bit 4: a forwarded query: the answer was cut short by the read buffer
 *   flags bit 5: the resolver fails the query (stub_resource_fail) instead
 *   flags bit 6: then a refresh of every resource; the last query it sent gets
 *                the same answer bytes
 *   flags bit 7: then every resource removed (its proxy IPs freed) and set again
 * When the query is forwarded over UDP, the answer bytes are the upstream's.
 * The stub is real: a sentinel on 127.0.0.1 at a free port, an upstream nobody
 * answers, the default proxy pool; replies go to a socket nobody reads. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/pool.h"
#include "dns/stub_priv.h"
#include "lib/log.h"

struct harness {
	struct stub *stub;
	struct pool *pool;
	uint64_t token;
	bool have_token;
	uint8_t sent[1024];
	size_t sent_len;
};

static int fake_send(void *arg, uint64_t token, uint64_t resource_id, const uint8_t *q, size_t len)
{
	struct harness *h = arg;

	(void)resource_id;
	h->token = token;
	h->have_token = true;
	h->sent_len = len < sizeof(h->sent) ? len : sizeof(h->sent);
	memcpy(h->sent, q, h->sent_len);
	return 0;
}

static struct stub_resolver resolver = { .send = fake_send };

static struct sockaddr_storage loopback(uint16_t port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;

	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return ss;
}

static const char *const patterns[] = { "*.corp.test", "nas.home.int", "**.deep.test",
					 "a?.q.test", "app*.x.test" };
enum { N_PATTERNS = sizeof(patterns) / sizeof(patterns[0]) };

static void set_all(struct stub *s)
{
	char err[128];

	for (size_t i = 0; i < N_PATTERNS; i++)
		if (stub_resource_set(s, i + 1, patterns[i], err, sizeof(err)) < 0)
			abort();
}

static struct harness *setup(void)
{
	static struct harness h;
	static struct sockaddr_storage sen, up;
	struct stub_config cfg = { 0 };
	struct pool_config pc;

	if (h.stub)
		return &h;
	log_setup(LOG_LVL_ERR, "fuzz");
	pool_config_default(&pc);
	if (pool_new(&h.pool, &pc) < 0)
		abort();
	resolver.arg = &h;
	/* A free port: try a few from a pid-dependent start. */
	for (uint16_t p = (uint16_t)(20000 + getpid() % 20000), i = 0; i < 100; i++, p++) {
		sen = loopback(p);
		up = loopback((uint16_t)(p + 1));
		cfg = (struct stub_config){ .sentinels = &sen, .upstreams = &up, .n = 1,
					    .max_pending = 32, .timeout_ms = 50,
					    .resolver = &resolver, .pool = h.pool };
		if (stub_new(&cfg, &h.stub) == 0)
			break;
	}
	if (!h.stub)
		abort();
	set_all(h.stub);
	return &h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct harness *h = setup();
	struct stub *s = h->stub;
	struct stub_client cl = { .sen = &s->sen[0] };
	uint8_t *ans = NULL;
	size_t qlen, alen;
	unsigned n_fwd;
	uint8_t flags;

	if (size < 3)
		return 0;
	flags = data[0];
	qlen = (size_t)data[1] << 8 | data[2];
	if (qlen > size - 3)
		qlen = size - 3;
	alen = size - 3 - qlen;
	cl.addr = loopback(9); /* discard: nobody reads the replies */
	cl.addrlen = sizeof(struct sockaddr_in);
	h->have_token = false;
	n_fwd = s->n_fwd;
	stub_handle_query(s, &cl, data + 3, qlen);
	if (s->n_fwd > n_fwd && s->fwd_tail->fs) {
		struct stub_fwd *f = s->fwd_tail;

		ans = malloc(alen ? alen : 1);
		memcpy(ans, data + 3 + qlen, alen);
		if ((flags & 8) && alen >= 2) {
			ans[0] = (uint8_t)(f->new_id >> 8);
			ans[1] = (uint8_t)f->new_id;
		}
		stub_fwd_answer(s, f->fs, ans, alen, flags & 16);
		free(ans);
	} else if (h->have_token) {
		ans = malloc(alen ? alen : 1);
		memcpy(ans, data + 3 + qlen, alen);
		if ((flags & 2) && alen >= 2 && h->sent_len >= 2)
			memcpy(ans, h->sent, 2);
		if (flags & 32)
			stub_resource_fail(s, h->token, DNS_RCODE_REFUSED);
		else
			stub_resource_answer(s, h->token, ans, alen);
		if (flags & 4)
			stub_resource_answer(s, h->token, ans, alen);
		if (flags & 64) {
			h->have_token = false;
			for (uint64_t id = 1; id <= N_PATTERNS; id++)
				stub_resource_refresh(s, id);
			if (h->have_token) {
				if ((flags & 2) && alen >= 2 && h->sent_len >= 2)
					memcpy(ans, h->sent, 2);
				stub_resource_answer(s, h->token, ans, alen);
			}
		}
		free(ans);
	}
	if (flags & 128) {
		for (uint64_t id = 1; id <= N_PATTERNS; id++)
			stub_resource_remove(s, id);
		set_all(s);
	}
	/* Time out whatever is still waiting, so state does not pile up. */
	stub_fwd_expire(s, UINT64_MAX);
	stub_res_expire(s, UINT64_MAX);
	stub_graveyard_empty(s);
	return 0;
}
