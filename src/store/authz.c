/* The hub's live authorizations (store.h store_authz_*): one row per (client,
 * resource) in the table "authorizations" (migrate.c step 3). One statement
 * each, so every write is its own transaction, and none of them takes the
 * audit row of store_set_audit(), which belongs to an admin's write. */
#include "store/store_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/log.h"

enum { PSK_B64 = sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL) };

int store_authz_put(struct store *st, const struct store_authz *a, struct store_err *err)
{
	char psk[PSK_B64];
	struct sqlv args[8] = {
		{ .type = SQLV_INT, .i = a->client_id },
		{ .type = SQLV_INT, .i = a->resource_id },
		{ .type = SQLV_INT, .i = a->gateway_id },
		{ .type = a->token_id ? SQLV_INT : SQLV_NULL, .i = a->token_id },
		{ .type = SQLV_INT, .i = (int64_t)a->ref },
		{ .type = SQLV_TEXT, .s = psk },
		{ .type = SQLV_INT, .i = a->expires_at },
		{ .type = a->source[0] ? SQLV_TEXT : SQLV_NULL, .s = a->source },
	};
	int r;

	if (err)
		memset(err, 0, sizeof(*err));
	if (a->client_id <= 0 || a->resource_id <= 0 || a->gateway_id <= 0 ||
	    a->ref > (uint64_t)INT64_MAX || !memchr(a->source, '\0', sizeof(a->source)))
		return store_fail(err, -EINVAL, "", "not an authorization");
	sodium_bin2base64(psk, sizeof(psk), a->psk, sizeof(a->psk),
			  sodium_base64_VARIANT_ORIGINAL);
	r = st->ops->exec(st, "INSERT OR REPLACE INTO authorizations (client_id, resource_id,"
			  " gateway_id, token_id, ref, psk, expires_at, source)"
			  " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", args, 8, NULL, NULL, err);
	sodium_memzero(psk, sizeof(psk));
	return r;
}

int store_authz_delete(struct store *st, int64_t client_id, int64_t resource_id,
		       struct store_err *err)
{
	struct sqlv args[2] = { { .type = SQLV_INT, .i = client_id },
				{ .type = SQLV_INT, .i = resource_id } };

	if (err)
		memset(err, 0, sizeof(*err));
	return st->ops->exec(st, "DELETE FROM authorizations WHERE client_id = ? AND"
			     " resource_id = ?", args, 2, NULL, NULL, err);
}

struct collect {
	struct store_authz *v;
	size_t n, cap;
};

static void collect_free(struct collect *c)
{
	if (c->v)
		sodium_memzero(c->v, c->cap * sizeof(*c->v));
	free(c->v);
}

static int collect_row(void *arg, const struct sqlv *row, size_t n)
{
	struct collect *c = arg;
	struct store_authz *a;
	size_t len = 0;

	if (n != 8 || row[0].type != SQLV_INT || row[1].type != SQLV_INT ||
	    row[2].type != SQLV_INT || row[4].type != SQLV_INT || row[4].i <= 0 ||
	    row[5].type != SQLV_TEXT || row[6].type != SQLV_INT) {
		log_warn("store: an authorization row that does not read back: skipped");
		return 0;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct store_authz *v = calloc(cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		if (c->n)
			memcpy(v, c->v, c->n * sizeof(*v));
		collect_free(c); /* not realloc: the old copy is wiped */
		c->v = v;
		c->cap = cap;
	}
	a = &c->v[c->n];
	memset(a, 0, sizeof(*a));
	a->client_id = row[0].i;
	a->resource_id = row[1].i;
	a->gateway_id = row[2].i;
	a->token_id = row[3].type == SQLV_INT ? row[3].i : 0;
	a->ref = (uint64_t)row[4].i;
	a->expires_at = row[6].i;
	if (row[7].type == SQLV_TEXT)
		snprintf(a->source, sizeof(a->source), "%s", row[7].s);
	if (sodium_base642bin(a->psk, sizeof(a->psk), row[5].s, strlen(row[5].s), NULL, &len,
			      NULL, sodium_base64_VARIANT_ORIGINAL) != 0 || len != sizeof(a->psk)) {
		log_warn("store: the authorization of client %lld for resource %lld has a bad "
			 "PSK: skipped", (long long)a->client_id, (long long)a->resource_id);
		sodium_memzero(a, sizeof(*a));
		return 0;
	}
	c->n++;
	return 0;
}

int store_authz_each(struct store *st, store_authz_fn fn, void *arg, struct store_err *err)
{
	struct collect c = { 0 };
	int r;

	if (err)
		memset(err, 0, sizeof(*err));
	r = st->ops->exec(st, "SELECT client_id, resource_id, gateway_id, token_id, ref, psk,"
			  " expires_at, source FROM authorizations ORDER BY rowid", NULL, 0,
			  collect_row, &c, err);
	if (r == -ENOMEM)
		store_fail(err, r, "", "out of memory");
	for (size_t i = 0; r == 0 && i < c.n; i++)
		r = fn(arg, &c.v[i]);
	collect_free(&c);
	return r;
}
