/* Fuzzes state_parse() (the client's bindings file): every binding it hands
 * over is valid and unique; formatted again and parsed again, the same
 * bindings come back, with no bad line. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "client/state.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

struct list {
	struct state_binding *b;
	size_t n, cap;
};

static int add(void *arg, const struct state_binding *b)
{
	struct list *l = arg;
	size_t len = strnlen(b->name, sizeof(b->name));

	CHECK(b->family == AF_INET || b->family == AF_INET6);
	CHECK(len > 0 && len <= STATE_NAME_MAX && b->name[len - 1] != '.');
	CHECK(b->resource_id != 0);
	for (size_t i = 0; i < l->n; i++)
		CHECK(l->b[i].family != b->family ||
		      memcmp(l->b[i].addr, b->addr, b->family == AF_INET ? 4 : 16) != 0);
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		void *v = realloc(l->b, cap * sizeof(*l->b));

		if (!v)
			return -ENOMEM;
		l->b = v;
		l->cap = cap;
	}
	l->b[l->n++] = *b;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct list a = { 0 }, b = { 0 };
	struct buf text;
	size_t bad = 0;
	int r;

	r = state_parse((const char *)data, size, add, &a, &bad);
	CHECK(r == 0 || r == -EPROTONOSUPPORT || r == -EBADMSG || r == -ENOMEM);
	if (r == 0) {
		buf_init(&text, STATE_MAX_FILE);
		CHECK(state_format(&text, a.b, a.n) == 0);
		bad = 1;
		CHECK(state_parse((const char *)text.data, text.len, add, &b, &bad) == 0);
		CHECK(bad == 0 && b.n == a.n);
		for (size_t i = 0; i < a.n; i++)
			CHECK(memcmp(&a.b[i], &b.b[i], sizeof(a.b[i])) == 0);
		buf_free(&text);
	}
	free(a.b);
	free(b.b);
	return 0;
}
