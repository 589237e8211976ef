/* src/store: tokens (shown once, stored hashed, checked, revoked, expired, used),
 * devices (upsert by public key, tunnel addresses for life) and gateways' presence;
 * device limit, address quarantine, device and gateway keys disjoint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmpdb.h"
#include "store/store.h"

#define T0 1700000000

struct fx {
	char dir[64], path[128];
	struct store *st;
	int64_t now;
	int changes;
	char last_entity[32];
};

static int64_t fake_now(void *arg)
{
	return *(int64_t *)arg;
}

static void on_change(void *arg, const struct store_change *ch)
{
	struct fx *f = arg;

	f->changes++;
	snprintf(f->last_entity, sizeof(f->last_entity), "%s", ch->entity);
}

static void reopen(struct fx *f)
{
	struct store_err err;

	if (f->st)
		store_close(f->st);
	assert_int_equal(store_open(f->path, &f->st, &err), 0);
	store_set_clock(f->st, fake_now, &f->now);
	store_set_change_cb(f->st, on_change, f);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/sluice-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/portal.db", f->dir);
	f->now = T0;
	reopen(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->st);
	tmpdb_remove(f->path, f->dir);
	free(f);
	return 0;
}

static int64_t mk(struct fx *f, const char *entity, const char *text)
{
	struct store_err err;
	json_t *in = json_loads(text, 0, NULL), *out = NULL;
	int64_t id;

	assert_non_null(in);
	assert_int_equal(store_create(f->st, entity, in, &out, &err), 0);
	id = json_integer_value(json_object_get(out, "id"));
	json_decref(in);
	json_decref(out);
	return id;
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool file_has(const char *path, const void *needle, size_t len)
{
	struct stat sb;
	char *data;
	bool found;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return false;
	assert_int_equal(fstat(fd, &sb), 0);
	data = malloc((size_t)sb.st_size + 1);
	assert_int_equal(read(fd, data, (size_t)sb.st_size), sb.st_size);
	close(fd);
	found = memmem(data, (size_t)sb.st_size, needle, len) != NULL;
	free(data);
	return found;
}

static void test_token_roundtrip(void **state)
{
	struct fx *f = *state;
	char secret[STORE_TOKEN_SECRET_SIZE];
	enum store_token_kind kind;
	int64_t owner, id;
	struct store_err err;
	json_t *o = NULL;
	size_t i;

	mk(f, "users", "{\"name\": \"u\"}");
	mk(f, "sites", "{\"name\": \"s\"}");
	assert_int_equal(store_token_create(f->st, STORE_TOKEN_ADMIN, "root", 0, 0, secret, &o,
					    &err), 0);
	assert_int_equal(strlen(secret), STORE_TOKEN_SECRET_SIZE - 1);
	assert_memory_equal(secret, "sl_", 3);
	for (i = 3; secret[i]; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				       "0123456789-_", secret[i]));
	/* the object never holds the secret or its hash */
	assert_null(json_object_get(o, "secret_hash"));
	assert_null(json_object_get(o, "secret"));
	assert_string_equal(str(o, "kind"), "admin");
	assert_string_equal(str(o, "name"), "root");
	assert_true(json_is_null(json_object_get(o, "user_id")));
	assert_true(json_is_null(json_object_get(o, "expires_at")));
	assert_true(json_is_null(json_object_get(o, "last_used_at")));
	id = json_integer_value(json_object_get(o, "id"));
	json_decref(o);
	assert_int_equal(f->changes, 3);
	assert_string_equal(f->last_entity, "tokens");

	assert_int_equal(store_token_check(f->st, secret, &kind, &owner, &id), 0);
	assert_int_equal(kind, STORE_TOKEN_ADMIN);
	assert_int_equal(owner, 0);
	assert_int_equal(id, 1);

	assert_int_equal(store_token_create(f->st, STORE_TOKEN_CLIENT, NULL, 1, 0, secret, NULL,
					    &err), 0);
	assert_int_equal(store_token_check(f->st, secret, &kind, &owner, &id), 0);
	assert_int_equal(kind, STORE_TOKEN_CLIENT);
	assert_int_equal(owner, 1);
	assert_int_equal(id, 2);
	assert_int_equal(store_token_create(f->st, STORE_TOKEN_SITE, "gw", 1, 0, secret, NULL,
					    &err), 0);
	assert_int_equal(store_token_check(f->st, secret, &kind, &owner, NULL), 0);
	assert_int_equal(kind, STORE_TOKEN_SITE);
	assert_int_equal(owner, 1);
	/* lists show tokens by owner */
	o = json_pack("{sI}", "site_id", (json_int_t)1);
	{
		json_t *items = NULL;

		assert_int_equal(store_list(f->st, "tokens", o, 0, 0, &items, NULL, &err), 0);
		assert_int_equal(json_array_size(items), 1);
		json_decref(items);
	}
	json_decref(o);
	explicit_bzero(secret, sizeof(secret));
}

static void test_token_refused(void **state)
{
	struct fx *f = *state;
	char secret[STORE_TOKEN_SECRET_SIZE], bad[STORE_TOKEN_SECRET_SIZE + 1];
	struct store_err err;

	assert_int_equal(store_token_create(f->st, STORE_TOKEN_ADMIN, "a", 0, 0, secret, NULL,
					    &err), 0);
	memcpy(bad, secret, sizeof(secret));
	bad[10] = bad[10] == 'A' ? 'B' : 'A';
	assert_int_equal(store_token_check(f->st, bad, NULL, NULL, NULL), -EACCES);
	assert_int_equal(store_token_check(f->st, NULL, NULL, NULL, NULL), -EACCES);
	assert_int_equal(store_token_check(f->st, "", NULL, NULL, NULL), -EACCES);
	assert_int_equal(store_token_check(f->st, "sl_", NULL, NULL, NULL), -EACCES);
	memcpy(bad, secret, sizeof(secret));
	bad[0] = 'x';
	assert_int_equal(store_token_check(f->st, bad, NULL, NULL, NULL), -EACCES);
	memcpy(bad, secret, sizeof(secret));
	strcat(bad, "A");
	assert_int_equal(store_token_check(f->st, bad, NULL, NULL, NULL), -EACCES);
	assert_int_equal(store_token_check(f->st, secret, NULL, NULL, NULL), 0);

	/* owners */
	assert_int_equal(store_token_create(f->st, STORE_TOKEN_ADMIN, "a", 3, 0, secret, NULL,
					    &err), -EINVAL);
	assert_int_equal(store_token_create(f->st, STORE_TOKEN_CLIENT, "a", 0, 0, secret, NULL,
					    &err), -EINVAL);
	assert_string_equal(err.field, "user_id");
	assert_int_equal(store_token_create(f->st, STORE_TOKEN_CLIENT, "a", 5, 0, secret, NULL,
					    &err), -ENOENT);
	assert_string_equal(err.field, "user_id");
	assert_int_equal(store_token_create(f->st, STORE_TOKEN_SITE, "a", 5, 0, secret, NULL,
					    &err), -ENOENT);
	assert_string_equal(err.field, "site_id");
	assert_int_equal(store_token_create(f->st, 7, "a", 0, 0, secret, NULL, &err), -EINVAL);
	/* a refused create leaves no usable secret behind */
	assert_int_equal(secret[0], 0);
	{
		char name[200];

		memset(name, 'n', 129);
		name[129] = '\0';
		assert_int_equal(store_token_create(f->st, STORE_TOKEN_ADMIN, name, 0, 0, secret,
						    NULL, &err), -EINVAL);
		assert_string_equal(err.field, "name");
		assert_int_equal(store_token_create(f->st, STORE_TOKEN_ADMIN, "\xff", 0, 0,
						    secret, NULL, &err), -EINVAL);
	}
	/* admins edit the name only */
	{
		json_t *p = json_pack("{ss}", "name", "renamed"), *o = NULL;

		assert_int_equal(store_update(f->st, "tokens", 1, p, &o, &err), 0);
		assert_string_equal(str(o, "name"), "renamed");
		json_decref(o);
		json_decref(p);
		p = json_pack("{ss}", "kind", "client");
		assert_int_equal(store_update(f->st, "tokens", 1, p, NULL, &err), -EINVAL);
		json_decref(p);
		p = json_pack("{ss}", "revoked_at", "2023-11-14T22:13:20Z");
		assert_int_equal(store_update(f->st, "tokens", 1, p, NULL, &err), -EINVAL);
		json_decref(p);
	}
}

static void test_token_revoke_expire(void **state)
{
	struct fx *f = *state;
	char s1[STORE_TOKEN_SECRET_SIZE], s2[STORE_TOKEN_SECRET_SIZE];
	char s3[STORE_TOKEN_SECRET_SIZE];
	struct store_err err;
	json_t *o = NULL, *p;

	assert_int_equal(store_token_create(f->st, STORE_TOKEN_ADMIN, "a", 0, 0, s1, NULL,
					    &err), 0);
	assert_int_equal(store_token_create(f->st, STORE_TOKEN_ADMIN, "b", 0, T0 + 100, s2, &o,
					    &err), 0);
	assert_string_equal(str(o, "expires_at"), "2023-11-14T22:15:00Z");
	json_decref(o);

	f->changes = 0;
	assert_int_equal(store_token_revoke(f->st, 1, &o, &err), 0);
	assert_string_equal(str(o, "revoked_at"), "2023-11-14T22:13:20Z");
	json_decref(o);
	assert_int_equal(f->changes, 1);
	assert_int_equal(store_token_check(f->st, s1, NULL, NULL, NULL), -EACCES);
	/* revoking again keeps the first time */
	f->now += 5;
	assert_int_equal(store_token_revoke(f->st, 1, &o, &err), 0);
	assert_string_equal(str(o, "revoked_at"), "2023-11-14T22:13:20Z");
	json_decref(o);
	assert_int_equal(store_token_revoke(f->st, 9, NULL, &err), -ENOENT);

	assert_int_equal(store_token_check(f->st, s2, NULL, NULL, NULL), 0);
	f->now = T0 + 99;
	assert_int_equal(store_token_check(f->st, s2, NULL, NULL, NULL), 0);
	f->now = T0 + 100;
	assert_int_equal(store_token_check(f->st, s2, NULL, NULL, NULL), -EACCES);

	/* a disabled user's client tokens stop working, and work again */
	mk(f, "users", "{\"name\": \"u\"}");
	assert_int_equal(store_token_create(f->st, STORE_TOKEN_CLIENT, "c", 1, 0, s3, NULL,
					    &err), 0);
	p = json_pack("{sb}", "disabled", 1);
	assert_int_equal(store_update(f->st, "users", 1, p, NULL, &err), 0);
	assert_int_equal(store_token_check(f->st, s3, NULL, NULL, NULL), -EACCES);
	json_object_set_new(p, "disabled", json_false());
	assert_int_equal(store_update(f->st, "users", 1, p, NULL, &err), 0);
	assert_int_equal(store_token_check(f->st, s3, NULL, NULL, NULL), 0);
	json_decref(p);
	/* and a deleted user's are gone */
	assert_int_equal(store_delete(f->st, "users", 1, &err), 0);
	assert_int_equal(store_token_check(f->st, s3, NULL, NULL, NULL), -EACCES);
}

static void test_token_last_used(void **state)
{
	struct fx *f = *state;
	char secret[STORE_TOKEN_SECRET_SIZE];
	struct store_err err;
	json_t *o = NULL;

	assert_int_equal(store_token_create(f->st, STORE_TOKEN_ADMIN, "a", 0, 0, secret, NULL,
					    &err), 0);
	f->changes = 0;
	assert_int_equal(store_token_check(f->st, secret, NULL, NULL, NULL), 0);
	assert_int_equal(store_get(f->st, "tokens", 1, &o, &err), 0);
	assert_string_equal(str(o, "last_used_at"), "2023-11-14T22:13:20Z");
	json_decref(o);
	/* within a minute: no write */
	f->now = T0 + 59;
	assert_int_equal(store_token_check(f->st, secret, NULL, NULL, NULL), 0);
	assert_int_equal(store_get(f->st, "tokens", 1, &o, &err), 0);
	assert_string_equal(str(o, "last_used_at"), "2023-11-14T22:13:20Z");
	json_decref(o);
	f->now = T0 + 60;
	assert_int_equal(store_token_check(f->st, secret, NULL, NULL, NULL), 0);
	assert_int_equal(store_get(f->st, "tokens", 1, &o, &err), 0);
	assert_string_equal(str(o, "last_used_at"), "2023-11-14T22:14:20Z");
	json_decref(o);
	/* bookkeeping, not a change */
	assert_int_equal(f->changes, 0);
}

static void test_token_hash_only(void **state)
{
	struct fx *f = *state;
	char secret[STORE_TOKEN_SECRET_SIZE], wal[160];
	struct store_err err;
	sqlite3 *db;
	sqlite3_stmt *stmt;
	char hash[65];

	assert_int_equal(store_token_create(f->st, STORE_TOKEN_ADMIN, "a", 0, 0, secret, NULL,
					    &err), 0);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	/* the hash is on disk (in the log or the database) and the secret nowhere */
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT secret_hash FROM tokens", -1, &stmt,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	snprintf(hash, sizeof(hash), "%s", (const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	assert_int_equal(strlen(hash), 64);
	assert_true(file_has(f->path, hash, 64) || file_has(wal, hash, 64));
	assert_false(file_has(f->path, secret, strlen(secret)));
	assert_false(file_has(wal, secret, strlen(secret)));
	assert_false(file_has(f->path, secret + 3, 20));
	assert_false(file_has(wal, secret + 3, 20));
	/* also after a checkpoint folded the log into the database */
	store_close(f->st);
	f->st = NULL;
	reopen(f);
	assert_true(file_has(f->path, hash, 64) || file_has(wal, hash, 64));
	assert_false(file_has(f->path, secret + 3, 20));
	assert_int_equal(store_token_check(f->st, secret, NULL, NULL, NULL), 0);
}

static void test_client_upsert(void **state)
{
	struct fx *f = *state;
	struct store_err err;
	json_t *o = NULL, *again = NULL, *items = NULL;

	mk(f, "users", "{\"name\": \"ann\"}");
	mk(f, "users", "{\"name\": \"bob\"}");
	f->changes = 0;
	assert_int_equal(store_client_upsert(f->st, 1, "KEY-A", "laptop", &o, &err), 0);
	assert_int_equal(f->changes, 1);
	assert_string_equal(str(o, "tunnel_ipv4"), "100.64.0.1");
	assert_string_equal(str(o, "tunnel_ipv6"), "fd00:2021:1111::1");
	assert_string_equal(str(o, "name"), "laptop");
	assert_string_equal(str(o, "last_seen"), "2023-11-14T22:13:20Z");
	assert_true(json_is_null(json_object_get(o, "revoked_at")));

	/* later: the same device and addresses, last_seen moves, no change event */
	f->now += 30;
	assert_int_equal(store_client_upsert(f->st, 1, "KEY-A", "renamed?", &again, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(again, "id")),
			 json_integer_value(json_object_get(o, "id")));
	assert_string_equal(str(again, "tunnel_ipv4"), "100.64.0.1");
	assert_string_equal(str(again, "name"), "laptop");
	assert_string_equal(str(again, "last_seen"), "2023-11-14T22:13:50Z");
	assert_int_equal(f->changes, 1);
	json_decref(again);
	json_decref(o);

	/* a key is one user's */
	assert_int_equal(store_client_upsert(f->st, 2, "KEY-A", "x", NULL, &err), -EPERM);
	assert_string_equal(err.field, "public_key");
	assert_int_equal(store_client_upsert(f->st, 9, "KEY-Z", "x", NULL, &err), -ENOENT);
	assert_string_equal(err.field, "user_id");
	assert_int_equal(store_client_upsert(f->st, 1, NULL, "x", NULL, &err), -EINVAL);
	assert_int_equal(store_client_upsert(f->st, 1, "", "x", NULL, &err), -EINVAL);

	/* gateways draw from the same pool */
	mk(f, "sites", "{\"name\": \"s\"}");
	mk(f, "gateways", "{\"site_id\": 1, \"name\": \"g\"}");
	assert_int_equal(store_client_upsert(f->st, 2, "KEY-B", NULL, &o, &err), 0);
	assert_string_equal(str(o, "tunnel_ipv4"), "100.64.0.3");
	assert_string_equal(str(o, "name"), "");
	json_decref(o);

	/* revoked: refused for good */
	assert_int_equal(store_client_revoke(f->st, 1, &o, &err), 0);
	assert_string_equal(str(o, "revoked_at"), "2023-11-14T22:13:50Z");
	json_decref(o);
	assert_int_equal(store_client_upsert(f->st, 1, "KEY-A", "x", NULL, &err), -EPERM);
	assert_int_equal(store_client_revoke(f->st, 77, NULL, &err), -ENOENT);

	/* deleted and seen again: a new device with new addresses */
	assert_int_equal(store_delete(f->st, "clients", 1, &err), 0);
	assert_int_equal(store_client_upsert(f->st, 1, "KEY-A", "x", &o, &err), 0);
	assert_string_equal(str(o, "tunnel_ipv4"), "100.64.0.4");
	assert_int_equal(json_integer_value(json_object_get(o, "id")), 3);
	json_decref(o);

	/* admins may rename, nothing else */
	o = json_pack("{ss}", "name", "work laptop");
	assert_int_equal(store_update(f->st, "clients", 3, o, NULL, &err), 0);
	json_object_set_new(o, "tunnel_ipv4", json_string("100.64.0.9"));
	assert_int_equal(store_update(f->st, "clients", 3, o, NULL, &err), -EINVAL);
	json_decref(o);
	o = json_pack("{sI}", "user_id", (json_int_t)1);
	assert_int_equal(store_list(f->st, "clients", o, 0, 0, &items, NULL, &err), 0);
	assert_int_equal(json_array_size(items), 1);
	assert_string_equal(str(json_array_get(items, 0), "name"), "work laptop");
	json_decref(items);
	json_decref(o);
}

static void test_client_thousand(void **state)
{
	struct fx *f = *state;
	struct store_err err;
	char key[32], want4[24], want6[40];
	json_t *o = NULL;
	int i;

	mk(f, "users", "{\"name\": \"fleet\"}");
	o = json_pack("{si}", "device_limit", 1000);
	assert_int_equal(store_settings_set(f->st, o, NULL, &err), 0);
	json_decref(o);
	o = NULL;
	for (int round = 0; round < 2; round++) {
		for (i = 1; i <= 1000; i++) {
			snprintf(key, sizeof(key), "device-%04d", i);
			assert_int_equal(store_client_upsert(f->st, 1, key, key, &o, &err), 0);
			snprintf(want4, sizeof(want4), "100.64.%d.%d", i >> 8, i & 0xff);
			snprintf(want6, sizeof(want6), "fd00:2021:1111::%x", i);
			assert_string_equal(str(o, "tunnel_ipv4"), want4);
			assert_string_equal(str(o, "tunnel_ipv6"), want6);
			assert_int_equal(json_integer_value(json_object_get(o, "id")), i);
			json_decref(o);
		}
		/* and the same after a restart */
		reopen(f);
	}
	assert_int_equal(f->changes, 1 + 1 + 1000); /* the user, the setting, the devices */
}

static void test_pool_end(void **state)
{
	struct fx *f = *state;
	struct store_err err;
	sqlite3 *db;
	json_t *o = NULL;

	mk(f, "sites", "{\"name\": \"s\"}");
	store_close(f->st);
	f->st = NULL;
	/* move the counter near the end of the /11 by hand */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE alloc SET next = 2097150", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	reopen(f);
	mk(f, "gateways", "{\"site_id\": 1, \"name\": \"last\"}");
	assert_int_equal(store_get(f->st, "gateways", 1, &o, &err), 0);
	assert_string_equal(str(o, "tunnel_ipv4"), "100.95.255.254");
	assert_string_equal(str(o, "tunnel_ipv6"), "fd00:2021:1111::1f:fffe");
	json_decref(o);
	mk(f, "users", "{\"name\": \"u\"}");
	assert_int_equal(store_client_upsert(f->st, 1, "K", "x", NULL, &err), -ENOSPC);
	o = json_pack("{sIss}", "site_id", (json_int_t)1, "name", "one more");
	assert_int_equal(store_create(f->st, "gateways", o, NULL, &err), -ENOSPC);
	json_decref(o);
}

static void test_gateway_seen(void **state)
{
	struct fx *f = *state;
	struct store_err err;
	json_t *o = NULL;

	mk(f, "sites", "{\"name\": \"s\"}");
	mk(f, "gateways", "{\"site_id\": 1, \"name\": \"g\"}");
	f->changes = 0;
	f->now += 7;
	assert_int_equal(store_gateway_seen(f->st, 1, true, &o, &err), 0);
	assert_true(json_is_true(json_object_get(o, "online")));
	assert_string_equal(str(o, "last_seen"), "2023-11-14T22:13:27Z");
	json_decref(o);
	assert_int_equal(f->changes, 1);
	assert_string_equal(f->last_entity, "gateways");
	assert_int_equal(store_gateway_seen(f->st, 1, false, &o, &err), 0);
	assert_true(json_is_false(json_object_get(o, "online")));
	json_decref(o);
	assert_int_equal(store_gateway_seen(f->st, 2, true, NULL, &err), -ENOENT);
}


/* A device's tunnel number (its IPv4 address's last 21 bits). */
static int64_t dev_num(struct fx *f, const char *key, int rc)
{
	struct store_err err;
	json_t *o = NULL;
	unsigned a, b, c, d;
	int64_t n;

	assert_int_equal(store_client_upsert(f->st, 1, key, NULL, &o, &err), rc);
	if (rc)
		return 0;
	assert_int_equal(sscanf(str(o, "tunnel_ipv4"), "%u.%u.%u.%u", &a, &b, &c, &d), 4);
	n = (int64_t)(b - 64) << 16 | c << 8 | d;
	json_decref(o);
	return n;
}

static int64_t dev_id(struct fx *f, const char *key)
{
	struct store_err err;
	json_t *o = NULL;
	int64_t id;

	assert_int_equal(store_client_upsert(f->st, 1, key, NULL, &o, &err), 0);
	id = json_integer_value(json_object_get(o, "id"));
	json_decref(o);
	return id;
}

static void test_address_quarantine(void **state)
{
	struct fx *f = *state;
	struct store_err err;
	json_t *o;

	mk(f, "users", "{\"name\": \"u\"}");
	o = json_pack("{si}", "address_quarantine_seconds", 100);
	assert_int_equal(store_settings_set(f->st, o, NULL, &err), 0);
	json_decref(o);
	assert_int_equal(dev_num(f, "A", 0), 1);
	assert_int_equal(dev_num(f, "B", 0), 2);
	assert_int_equal(dev_num(f, "C", 0), 3);
	assert_int_equal(store_delete(f->st, "clients", dev_id(f, "B"), &err), 0);
	f->now += 10;
	assert_int_equal(store_delete(f->st, "clients", dev_id(f, "A"), &err), 0);
	f->now += 89; /* B's quarantine ends at +100 */
	assert_int_equal(dev_num(f, "D", 0), 4);
	f->now += 1;
	assert_int_equal(dev_num(f, "E", 0), 2); /* B's: freed first */
	assert_int_equal(dev_num(f, "F", 0), 5); /* A's is still in quarantine */
	f->now += 10;
	assert_int_equal(dev_num(f, "G", 0), 1);
	/* a gateway takes them too, and frees its own */
	f->now += 1000;
	assert_int_equal(store_delete(f->st, "clients", dev_id(f, "G"), &err), 0);
	mk(f, "sites", "{\"name\": \"s\"}");
	f->now += 100;
	assert_int_equal(mk(f, "gateways", "{\"site_id\": 1, \"name\": \"g\"}"), 1);
	assert_int_equal(dev_num(f, "H", 0), 6);
	assert_int_equal(store_delete(f->st, "gateways", 1, &err), 0);
	f->now += 100;
	assert_int_equal(dev_num(f, "I", 0), 1);
	/* deleting the user frees its devices' addresses (the cascade) */
	assert_int_equal(store_delete(f->st, "users", 1, &err), 0);
	f->now += 100;
	mk(f, "users", "{\"name\": \"v\"}");
	o = NULL;
	assert_int_equal(store_client_upsert(f->st, 2, "J", NULL, &o, &err), 0);
	assert_string_equal(str(o, "tunnel_ipv4"), "100.64.0.1");
	json_decref(o);
}

static void test_device_limit_and_keys(void **state)
{
	struct fx *f = *state;
	struct store_err err;
	json_t *o;

	mk(f, "users", "{\"name\": \"u\"}");
	mk(f, "sites", "{\"name\": \"s\"}");
	o = json_pack("{si}", "device_limit", 2);
	assert_int_equal(store_settings_set(f->st, o, NULL, &err), 0);
	json_decref(o);
	dev_num(f, "A", 0);
	dev_num(f, "B", 0);
	dev_num(f, "C", -EDQUOT);
	dev_num(f, "A", 0); /* a known one still comes in */
	assert_int_equal(store_client_revoke(f->st, dev_id(f, "A"), NULL, &err), 0);
	dev_num(f, "C", 0);
	dev_num(f, "D", -EDQUOT);
	assert_int_equal(store_delete(f->st, "clients", dev_id(f, "B"), &err), 0);
	dev_num(f, "D", 0);
	/* keys: a gateway's is never a device's, nor the reverse */
	o = json_pack("{sissss}", "site_id", 1, "name", "g", "public_key", "C");
	assert_int_equal(store_create(f->st, "gateways", o, NULL, &err), -EADDRINUSE);
	assert_string_equal(err.field, "public_key");
	json_decref(o);
	o = json_pack("{sissss}", "site_id", 1, "name", "g", "public_key", "GW");
	assert_int_equal(store_create(f->st, "gateways", o, NULL, &err), 0);
	json_decref(o);
	o = json_pack("{ss}", "public_key", "D");
	assert_int_equal(store_update(f->st, "gateways", 1, o, NULL, &err), -EADDRINUSE);
	json_decref(o);
	o = json_pack("{ss}", "public_key", "GW");
	assert_int_equal(store_update(f->st, "gateways", 1, o, NULL, &err), 0); /* its own */
	json_decref(o);
	assert_int_equal(store_delete(f->st, "clients", dev_id(f, "D"), &err), 0);
	dev_num(f, "GW", -EADDRINUSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_token_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_revoke_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_last_used, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_hash_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_upsert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_thousand, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gateway_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_address_quarantine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_limit_and_keys, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
