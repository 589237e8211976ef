/* src/store on disk: migrations (an old database made by hand, a newer one, a file
 * that is not ours), the schema against the DDL, the file's mode, durability across
 * reopening, and crashes: a writer SIGKILLed right after a call returned, and one
 * killed at a random moment while writing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tmpdb.h"
#include "store/store.h"
#include "store/store_priv.h"

struct fx {
	char dir[64], path[128];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/sluice-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/portal.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tmpdb_remove(f->path, f->dir);
	free(f);
	return 0;
}

static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(db);
}

static int64_t raw_int(const char *path, const char *sql)
{
	sqlite3_stmt *stmt;
	sqlite3 *db;
	int64_t v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return v;
}

static int64_t mk(struct store *st, const char *entity, const char *text)
{
	struct store_err err;
	json_t *in = json_loads(text, 0, NULL), *out = NULL;
	int64_t id;
	int r;

	assert_non_null(in);
	r = store_create(st, entity, in, &out, &err);
	if (r)
		fail_msg("%s: %s", entity, err.msg);
	id = json_integer_value(json_object_get(out, "id"));
	json_decref(in);
	json_decref(out);
	return id;
}

static void test_migrate_old(void **state)
{
	struct fx *f = *state;
	const char *const *steps;
	struct store_err err;
	struct store *st;
	json_t *o = NULL;
	char sql[96];
	size_t n;

	/* a database as version 1 left it, with a row in it */
	steps = store_sqlite_migrations(&n);
	assert_true(n >= 2);
	raw_exec(f->path, steps[0]);
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = 1;",
		 STORE_SQLITE_APP_ID);
	raw_exec(f->path, sql);
	raw_exec(f->path, "INSERT INTO sites (name, created_at) VALUES ('old', 1600000000)");

	assert_int_equal(store_open(f->path, &st, &err), 0);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), (int64_t)n);
	assert_int_equal(store_get(st, "sites", 1, &o, &err), 0);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "old");
	assert_string_equal(json_string_value(json_object_get(o, "created_at")),
			    "2020-09-13T12:26:40Z");
	json_decref(o);
	/* what version 2 added works */
	mk(st, "flows", "{\"event\": \"granted\"}");
	mk(st, "audit", "{\"action\": \"create\", \"entity\": \"sites\"}");
	store_close(st);

	/* reopening a current database changes nothing */
	assert_int_equal(store_open(f->path, &st, &err), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM flows"), 1);
	store_close(st);
}

/* Version 2's flows log gains the traffic columns (step 3): its rows stay, with
 * the new fields null, and traffic rows go in beside them. */
static void test_migrate_flows(void **state)
{
	struct fx *f = *state;
	const char *const *steps;
	struct store_err err;
	struct store *st;
	json_t *o = NULL;
	char sql[96];
	size_t n;

	steps = store_sqlite_migrations(&n);
	assert_true(n >= 3);
	raw_exec(f->path, steps[0]);
	raw_exec(f->path, steps[1]);
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = 2;",
		 STORE_SQLITE_APP_ID);
	raw_exec(f->path, sql);
	raw_exec(f->path, "INSERT INTO flows (time, event, client_id, user_id, resource_id,"
		 " gateway_id, reason) VALUES (1600000000, 'denied', 1, 2, 3, NULL, 'offline')");

	assert_int_equal(store_open(f->path, &st, &err), 0);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), (int64_t)n);
	assert_int_equal(store_get(st, "flows", 1, &o, &err), 0);
	assert_string_equal(json_string_value(json_object_get(o, "event")), "denied");
	assert_string_equal(json_string_value(json_object_get(o, "reason")), "offline");
	assert_true(json_is_null(json_object_get(o, "protocol")));
	assert_true(json_is_null(json_object_get(o, "rx_bytes")));
	assert_true(json_is_null(json_object_get(o, "end")));
	json_decref(o);
	mk(st, "flows", "{\"event\": \"traffic\", \"client_id\": 1, \"protocol\": \"udp\","
	   " \"port\": 53, \"rx_bytes\": 10, \"tx_bytes\": 20, \"start\":"
	   " \"2026-01-01T00:00:00Z\", \"end\": \"2026-01-01T00:00:05Z\"}");
	assert_int_equal(store_get(st, "flows", 2, &o, &err), 0);
	assert_string_equal(json_string_value(json_object_get(o, "end")), "2026-01-01T00:00:05Z");
	assert_int_equal(json_integer_value(json_object_get(o, "tx_bytes")), 20);
	json_decref(o);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM authorizations"), 0);
	store_close(st);
}

/* Whether the file at path holds the bytes of text. */
static bool file_has(const char *path, const char *text)
{
	FILE *fp = fopen(path, "rb");
	size_t len = strlen(text), n;
	char *data;
	bool found;

	assert_non_null(fp);
	data = malloc(1 << 22);
	assert_non_null(data);
	n = fread(data, 1, 1 << 22, fp);
	fclose(fp);
	found = n >= len && memmem(data, n, text, len) != NULL;
	free(data);
	return found;
}

struct seen {
	struct store_authz v[4];
	size_t n;
};

static int collect(void *arg, const struct store_authz *a)
{
	struct seen *s = arg;

	assert_true(s->n < 4);
	s->v[s->n++] = *a;
	return 0;
}

static int stop_at_first(void *arg, const struct store_authz *a)
{
	(void)a;
	++*(int *)arg;
	return 7;
}

/* The hub's authorizations: kept across a reopen, one per (client, resource),
 * the PSK as it was; gone when deleted, and not left in the file. */
static void test_authz(void **state)
{
	struct fx *f = *state;
	struct store_authz a = { .client_id = 1, .resource_id = 2, .gateway_id = 3,
				 .token_id = 4, .ref = 5, .expires_at = 1790000000,
				 .source = "198.51.100.7" };
	struct store_authz b = { .client_id = 1, .resource_id = 6, .gateway_id = 3,
				 .ref = 9, .expires_at = 1790000001 };
	struct store_err err;
	struct seen seen = { 0 };
	struct store *st;
	int calls = 0;

	memset(a.psk, 0xa5, sizeof(a.psk));
	memset(b.psk, 0x5a, sizeof(b.psk));
	assert_int_equal(store_open(f->path, &st, &err), 0);
	assert_int_equal(store_authz_put(st, &a, &err), 0);
	assert_int_equal(store_authz_put(st, &b, &err), 0);
	store_close(st);
	/* stored as it is (it must be sent again), in the 0600 file */
	assert_true(file_has(f->path, "paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU="));

	assert_int_equal(store_open(f->path, &st, &err), 0);
	assert_int_equal(store_authz_each(st, collect, &seen, &err), 0);
	assert_int_equal(seen.n, 2);
	assert_memory_equal(&seen.v[0], &a, sizeof(a));
	assert_memory_equal(&seen.v[1], &b, sizeof(b));
	/* the same (client, resource) again: replaced, and now the newest */
	a.ref = 10;
	a.gateway_id = 11;
	assert_int_equal(store_authz_put(st, &a, &err), 0);
	seen.n = 0;
	assert_int_equal(store_authz_each(st, collect, &seen, &err), 0);
	assert_int_equal(seen.n, 2);
	assert_memory_equal(&seen.v[0], &b, sizeof(b));
	assert_memory_equal(&seen.v[1], &a, sizeof(a));
	assert_int_equal(store_authz_each(st, stop_at_first, &calls, &err), 7);
	assert_int_equal(calls, 1);
	/* bad input is refused */
	b.client_id = 0;
	assert_int_equal(store_authz_put(st, &b, &err), -EINVAL);
	/* deleted: gone, a second delete is no error */
	assert_int_equal(store_authz_delete(st, 1, 2, &err), 0);
	assert_int_equal(store_authz_delete(st, 1, 2, &err), 0);
	assert_int_equal(store_authz_delete(st, 1, 6, &err), 0);
	seen.n = 0;
	assert_int_equal(store_authz_each(st, collect, &seen, &err), 0);
	assert_int_equal(seen.n, 0);
	/* a row that does not read back is skipped */
	raw_exec(f->path, "INSERT INTO authorizations (client_id, resource_id, gateway_id,"
		 " ref, psk, expires_at) VALUES (1, 2, 3, 4, 'not base64', 5)");
	assert_int_equal(store_authz_each(st, collect, &seen, &err), 0);
	assert_int_equal(seen.n, 0);
	store_close(st);
	/* the deleted PSKs were overwritten, not left in free pages */
	assert_false(file_has(f->path, "paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU="));
	assert_false(file_has(f->path, "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo="));
}

static void test_migrate_refused(void **state)
{
	struct fx *f = *state;
	struct store_err err;
	struct store *st = NULL;
	char p[160];
	int fd;

	/* from a newer sluice */
	assert_int_equal(store_open(f->path, &st, &err), 0);
	store_close(st);
	raw_exec(f->path, "PRAGMA user_version = 99");
	assert_int_equal(store_open(f->path, &st, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "newer"));
	assert_non_null(strstr(err.msg, "99"));
	teardown(state);
	setup(state);
	f = *state;

	/* somebody else's SQLite database */
	raw_exec(f->path, "CREATE TABLE notes (t TEXT)");
	assert_int_equal(store_open(f->path, &st, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "not a sluice database"));
	raw_exec(f->path, "DROP TABLE notes; PRAGMA application_id = 42");
	assert_int_equal(store_open(f->path, &st, &err), -EPROTO);
	unlink(f->path);

	/* not a database at all */
	fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello, this is not SQLite at all, not even close......", 54),
			 54);
	close(fd);
	assert_int_equal(store_open(f->path, &st, &err), -EPROTO);
	snprintf(p, sizeof(p), "%s/missing/dir/portal.db", f->dir);
	assert_int_equal(store_open(p, &st, &err), -ENOENT);
}

static const char *fk_action(enum fk_action a)
{
	return a == FK_CASCADE ? "CASCADE" : a == FK_RESTRICT ? "RESTRICT" : "NO ACTION";
}

/* The schema (schema.c) and the migrations (migrate.c) describe the same tables. */
static void test_schema_matches_ddl(void **state)
{
	struct fx *f = *state;
	const struct entity *all;
	struct store_err err;
	struct store *st;
	sqlite3_stmt *stmt;
	const struct col *c;
	size_t n, i, cols, fks, want_fks, j;
	char sql[128];
	sqlite3 *db;

	assert_int_equal(store_open(f->path, &st, &err), 0);
	store_close(st);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	all = schema_entities(&n);
	for (i = 0; i < n; i++) {
		snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", all[i].name);
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
		for (cols = 0; sqlite3_step(stmt) == SQLITE_ROW; cols++) {
			const char *name = (const char *)sqlite3_column_text(stmt, 1);
			bool notnull = sqlite3_column_int(stmt, 3);

			c = schema_col(&all[i], name);
			if (!c)
				fail_msg("%s.%s is not in the schema", all[i].name, name);
			/* NOT NULL in the table exactly when the schema forbids null */
			if (c != &all[i].cols[0] && notnull == !!(c->flags & COLF_NULLABLE))
				fail_msg("%s.%s: NOT NULL disagrees", all[i].name, name);
		}
		sqlite3_finalize(stmt);
		assert_int_equal(cols, all[i].ncols);

		snprintf(sql, sizeof(sql), "PRAGMA foreign_key_list(%s)", all[i].name);
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
		for (fks = 0; sqlite3_step(stmt) == SQLITE_ROW; fks++) {
			const char *table = (const char *)sqlite3_column_text(stmt, 2);
			const char *from = (const char *)sqlite3_column_text(stmt, 3);
			const char *on_delete = (const char *)sqlite3_column_text(stmt, 6);

			c = schema_col(&all[i], from);
			assert_non_null(c);
			if (!c->ref || strcmp(c->ref, table) ||
			    strcmp(fk_action(c->on_delete), on_delete))
				fail_msg("%s.%s: reference disagrees", all[i].name, from);
		}
		sqlite3_finalize(stmt);
		for (want_fks = 0, j = 0; j < all[i].ncols; j++)
			want_fks += all[i].cols[j].ref != NULL;
		assert_int_equal(fks, want_fks);
	}
	sqlite3_close(db);
}

static void test_file_and_pragmas(void **state)
{
	struct fx *f = *state;
	struct store_err err;
	struct store *st;
	struct stat sb;
	mode_t old = umask(022);

	assert_int_equal(store_open(f->path, &st, &err), 0);
	umask(old);
	mk(st, "sites", "{\"name\": \"s\"}");
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(raw_int(f->path, "PRAGMA application_id"), STORE_SQLITE_APP_ID);
	/* WAL is a property of the file: a fresh connection sees it */
	{
		sqlite3 *db;
		sqlite3_stmt *stmt;

		assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
		sqlite3_finalize(stmt);
		sqlite3_close(db);
	}
	store_close(st);
}

static void test_reopen(void **state)
{
	struct fx *f = *state;
	char secret[STORE_TOKEN_SECRET_SIZE];
	struct store_err err;
	struct store *st, *other;
	json_t *o = NULL, *p;

	assert_int_equal(store_open(f->path, &st, &err), 0);
	mk(st, "sites", "{\"name\": \"s\"}");
	mk(st, "users", "{\"name\": \"u\", \"email\": \"u@x\"}");
	assert_int_equal(store_token_create(st, STORE_TOKEN_CLIENT, "t", 1, 0, secret, NULL, &err),
			 0);
	assert_int_equal(store_client_upsert(st, 1, "KEY", "laptop", NULL, &err), 0);
	p = json_pack("{s[s]}", "upstream_dns", "9.9.9.9");
	assert_int_equal(store_settings_set(st, p, NULL, &err), 0);

	/* a second connection (sluice admin, say) sees every committed write */
	assert_int_equal(store_open(f->path, &other, &err), 0);
	assert_int_equal(store_get(other, "users", 1, &o, &err), 0);
	json_decref(o);
	mk(other, "groups", "{\"name\": \"from the other\"}");
	store_close(other);
	assert_int_equal(store_get(st, "groups", 1, &o, &err), 0);
	json_decref(o);
	store_close(st);

	assert_int_equal(store_open(f->path, &st, &err), 0);
	assert_int_equal(store_get(st, "sites", 1, &o, &err), 0);
	json_decref(o);
	assert_int_equal(store_token_check(st, secret, NULL, NULL, NULL), 0);
	assert_int_equal(store_client_upsert(st, 1, "KEY", "laptop", &o, &err), 0);
	assert_string_equal(json_string_value(json_object_get(o, "tunnel_ipv4")), "100.64.0.1");
	json_decref(o);
	/* the counter survives too: the next device gets the next address */
	assert_int_equal(store_client_upsert(st, 1, "KEY2", "phone", &o, &err), 0);
	assert_string_equal(json_string_value(json_object_get(o, "tunnel_ipv4")), "100.64.0.2");
	json_decref(o);
	assert_int_equal(store_settings_get(st, &o, &err), 0);
	/* the key set, beside the others' defaults */
	assert_true(json_equal(json_object_get(o, "upstream_dns"),
			       json_object_get(p, "upstream_dns")));
	json_decref(o);
	json_decref(p);
	store_close(st);
}

/* The child writes one site and dies at once, before it could close anything. */
static void test_kill_after_return(void **state)
{
	struct fx *f = *state;
	struct store_err err;
	struct store *st;
	json_t *o = NULL;
	int status;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (store_open(f->path, &st, &err) < 0)
			_exit(1);
		o = json_pack("{ss}", "name", "survivor");
		if (store_create(st, "sites", o, NULL, &err) < 0)
			_exit(2);
		raise(SIGKILL);
		_exit(3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_int_equal(store_open(f->path, &st, &err), 0);
	assert_int_equal(store_get(st, "sites", 1, &o, &err), 0);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "survivor");
	json_decref(o);
	store_close(st);
}

/* The child writes as fast as it can and reports each id once its call returned;
 * the parent kills it at some moment and then finds every reported row. */
static void test_kill_while_writing(void **state)
{
	struct fx *f = *state;
	struct store_err err;
	struct store *st;
	int64_t id, last = 0, count = 0;
	json_t *o = NULL;
	int fds[2], status;
	struct timespec ts;
	char name[32];
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if (store_open(f->path, &st, &err) < 0)
			_exit(1);
		for (int i = 0;; i++) {
			snprintf(name, sizeof(name), "user %d", i);
			o = json_pack("{ss}", "name", name);
			if (store_create(st, "users", o, &o, &err) < 0)
				_exit(2);
			id = json_integer_value(json_object_get(o, "id"));
			json_decref(o);
			if (write(fds[1], &id, sizeof(id)) != sizeof(id))
				_exit(3);
		}
	}
	close(fds[1]);
	/* wait for 100 writes, then kill it somewhere in the next few milliseconds */
	while (count < 100 && read(fds[0], &id, sizeof(id)) == sizeof(id))
		last = id, count++;
	assert_int_equal(count, 100);
	ts = (struct timespec){ 0, (long)(rand() % 5000) * 1000 };
	nanosleep(&ts, NULL);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	while (read(fds[0], &id, sizeof(id)) == sizeof(id))
		last = id, count++;
	close(fds[0]);

	assert_int_equal(store_open(f->path, &st, &err), 0);
	assert_int_equal(store_get(st, "users", last, &o, &err), 0);
	json_decref(o);
	/* every reported row (perhaps one more, committed but not yet reported), and
	 * the database is sound */
	assert_int_equal(last, count);
	assert_true(raw_int(f->path, "SELECT count(*) FROM users") - count <= 1);
	for (id = 1; id <= last; id++) {
		assert_int_equal(store_get(st, "users", id, &o, &err), 0);
		json_decref(o);
	}
	store_close(st);
	{
		sqlite3 *db;
		sqlite3_stmt *stmt;

		assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt,
						    NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "ok");
		sqlite3_finalize(stmt);
		sqlite3_close(db);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_old, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_flows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_authz, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_matches_ddl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_and_pragmas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_after_return, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_while_writing, setup, teardown),
	};

	srand((unsigned)time(NULL));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
