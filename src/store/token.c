/* Bearer tokens: 32 random bytes shown once as "sl_" + base64url, stored as their
 * SHA-256. A fast hash is enough: the secret has 256 bits of entropy, so no one can
 * search for it, and a stolen database gives no usable token. */
#include "store/store_priv.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "lib/rand.h"

#define SECRET_RAW 32
#define PREFIX "sl_"
#define HASH_HEX (crypto_hash_sha256_BYTES * 2 + 1)
#define LAST_USED_EVERY 60 /* s: a token in use costs a write a minute, not one a request */

static const char *const kinds[] = { "admin", "client", "site" };

static void secret_hash(const char *secret, char hex[HASH_HEX])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)secret, strlen(secret));
	sodium_bin2hex(hex, HASH_HEX, h, sizeof(h));
}

static int secret_new(char secret[STORE_TOKEN_SECRET_SIZE])
{
	unsigned char raw[SECRET_RAW];
	int r;

	r = rand_bytes(raw, sizeof(raw));
	if (r < 0)
		return r;
	memcpy(secret, PREFIX, strlen(PREFIX));
	sodium_bin2base64(secret + strlen(PREFIX), STORE_TOKEN_SECRET_SIZE - strlen(PREFIX),
			  raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

/* The row to insert for a new token (the name and owner checked by the schema). */
static json_t *token_object(enum store_token_kind kind, const char *name, int64_t owner_id,
			    int64_t expires_at, const char *hash, struct store_err *err)
{
	json_t *o = json_object(), *v;
	char ts[32];

	if (!o)
		goto nomem;
	v = json_string(name ? name : "");
	if (!v) {
		json_decref(o);
		store_fail(err, -EINVAL, "name", "name must be UTF-8");
		return NULL;
	}
	if (json_object_set_new(o, "name", v) ||
	    json_object_set_new(o, "kind", json_string(kinds[kind])) ||
	    json_object_set_new(o, "secret_hash", json_string(hash)))
		goto nomem;
	if (kind != STORE_TOKEN_ADMIN &&
	    json_object_set_new(o, kind == STORE_TOKEN_CLIENT ? "user_id" : "site_id",
				json_integer(owner_id)))
		goto nomem;
	if (expires_at) {
		store_time_format(expires_at, ts);
		if (json_object_set_new(o, "expires_at", json_string(ts)))
			goto nomem;
	}
	return o;
nomem:
	json_decref(o);
	store_fail(err, -ENOMEM, "", "out of memory");
	return NULL;
}

int store_token_create(struct store *st, enum store_token_kind kind, const char *name,
		       int64_t owner_id, int64_t expires_at,
		       char secret[STORE_TOKEN_SECRET_SIZE], json_t **out,
		       struct store_err *err)
{
	const struct entity *e = schema_entity("tokens");
	char hex[HASH_HEX];
	json_t *obj;
	int r;

	if ((unsigned)kind > STORE_TOKEN_SITE)
		return store_fail(err, -EINVAL, "kind", "unknown token kind");
	if (kind == STORE_TOKEN_ADMIN ? owner_id != 0 : owner_id <= 0)
		return store_fail(err, -EINVAL, kind == STORE_TOKEN_SITE ? "site_id" : "user_id",
				  "%s tokens %s an owner", kinds[kind],
				  kind == STORE_TOKEN_ADMIN ? "have no" : "need");
	if (expires_at < 0)
		return store_fail(err, -EINVAL, "expires_at", "expires_at out of range");
	r = secret_new(secret);
	if (r < 0)
		return store_fail(err, r, "", "no randomness");
	secret_hash(secret, hex);
	obj = token_object(kind, name, owner_id, expires_at, hex, err);
	if (!obj) {
		r = -ENOMEM;
		if (err && !strcmp(err->field, "name"))
			r = -EINVAL;
		goto fail;
	}
	r = tx_begin(st, err);
	if (r == 0) {
		r = entity_insert(st, e, obj, WM_SYS, out, err);
		r = tx_end(st, r, err);
	}
	json_decref(obj);
	if (r == 0)
		return 0;
fail:
	sodium_memzero(secret, STORE_TOKEN_SECRET_SIZE);
	return r;
}

struct token_row {
	bool found;
	int64_t id, owner, expires_at, last_used_at;
	bool revoked, disabled;
	char kind[8];
	char hash[HASH_HEX];
};

static int token_row(void *arg, const struct sqlv *row, size_t n)
{
	struct token_row *t = arg;

	/* id, kind, user_id, site_id, secret_hash, expires_at, revoked_at,
	 * last_used_at, disabled */
	if (n != 9 || row[0].type != SQLV_INT || row[1].type != SQLV_TEXT ||
	    row[4].type != SQLV_TEXT)
		return -EIO;
	t->found = true;
	t->id = row[0].i;
	snprintf(t->kind, sizeof(t->kind), "%s", row[1].s);
	t->owner = row[2].type == SQLV_INT ? row[2].i : row[3].type == SQLV_INT ? row[3].i : 0;
	snprintf(t->hash, sizeof(t->hash), "%s", row[4].s);
	t->expires_at = row[5].type == SQLV_INT ? row[5].i : 0;
	t->revoked = row[6].type != SQLV_NULL;
	t->last_used_at = row[7].type == SQLV_INT ? row[7].i : 0;
	t->disabled = row[8].type == SQLV_INT && row[8].i;
	return 0;
}

/* Bookkeeping: a failure here does not refuse the token, and is not reported. */
static void token_used(struct store *st, int64_t id, int64_t now)
{
	struct sqlv args[2] = { { .type = SQLV_INT, .i = now }, { .type = SQLV_INT, .i = id } };
	struct store_err err = { 0 };
	int r;

	r = tx_begin(st, &err);
	if (r == 0) {
		r = st->ops->exec(st, "UPDATE tokens SET last_used_at = ? WHERE id = ?", args,
				  2, NULL, NULL, &err);
		r = tx_end(st, r, &err);
	}
	if (r < 0)
		log_warn("store: recording the use of token %lld: %s", (long long)id, err.msg);
}

int store_token_check(struct store *st, const char *secret, enum store_token_kind *kind,
		      int64_t *owner_id, int64_t *token_id)
{
	struct token_row t = { 0 };
	char hex[HASH_HEX];
	struct sqlv arg = { .type = SQLV_TEXT, .s = hex };
	int64_t now;
	unsigned k;
	int r;

	if (!secret || strlen(secret) != STORE_TOKEN_SECRET_SIZE - 1 ||
	    strncmp(secret, PREFIX, strlen(PREFIX)))
		return -EACCES;
	secret_hash(secret, hex);
	r = st->ops->exec(st,
			  "SELECT t.id, t.kind, t.user_id, t.site_id, t.secret_hash,"
			  " t.expires_at, t.revoked_at, t.last_used_at, u.disabled"
			  " FROM tokens t LEFT JOIN users u ON u.id = t.user_id"
			  " WHERE t.secret_hash = ?",
			  &arg, 1, token_row, &t, NULL);
	if (r < 0)
		return r;
	/* The index found the row by its hash; compare again in constant time so that
	 * nothing here depends on how much of a guess was right. */
	if (!t.found || sodium_memcmp(t.hash, hex, HASH_HEX - 1))
		return -EACCES;
	now = store_now(st);
	if (t.revoked || (t.expires_at && t.expires_at <= now) || t.disabled)
		return -EACCES;
	for (k = 0; k <= STORE_TOKEN_SITE && strcmp(kinds[k], t.kind); k++)
		;
	if (k > STORE_TOKEN_SITE)
		return -EACCES;
	if (!t.last_used_at || now - t.last_used_at >= LAST_USED_EVERY || now < t.last_used_at)
		token_used(st, t.id, now);
	if (kind)
		*kind = (enum store_token_kind)k;
	if (owner_id)
		*owner_id = t.owner;
	if (token_id)
		*token_id = t.id;
	return 0;
}

int store_token_revoke(struct store *st, int64_t id, json_t **out, struct store_err *err)
{
	json_t *row = NULL;
	int r;

	r = tx_begin(st, err);
	if (r < 0)
		return r;
	r = entity_stamp(st, schema_entity("tokens"), id, "revoked_at", &row, err);
	r = tx_end(st, r, err);
	if (r == 0 && out)
		*out = row;
	else
		json_decref(row);
	return r;
}
