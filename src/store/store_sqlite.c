/* The SQLite backend: one connection in WAL mode with synchronous=FULL (a commit
 * reaches the disk before it returns), foreign keys on, and a busy timeout for the
 * odd second process (sluice admin) reading or writing the same file. */
#include "store/store_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"

#define BUSY_TIMEOUT_MS 5000

struct store_sqlite {
	struct store st; /* first: the generic code's view */
	sqlite3 *db;
};

static sqlite3 *db_of(struct store *st)
{
	return ((struct store_sqlite *)st)->db;
}

/* An SQLite result as -errno, with SQLite's message in err. */
static int sq_error(sqlite3 *db, int rc, struct store_err *err)
{
	int r, sys;

	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		r = -EEXIST;
		break;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		r = -ENOENT;
		break;
	case SQLITE_NOMEM:
		r = -ENOMEM;
		break;
	case SQLITE_FULL:
		r = -ENOSPC;
		break;
	case SQLITE_NOTADB:
		r = -EPROTO;
		break;
	default:
		switch (rc & 0xff) {
		case SQLITE_CONSTRAINT:
			r = -EINVAL;
			break;
		case SQLITE_BUSY:
		case SQLITE_LOCKED:
			r = -EBUSY;
			break;
		case SQLITE_READONLY:
			r = -EROFS;
			break;
		case SQLITE_CANTOPEN:
		case SQLITE_IOERR:
			sys = db ? sqlite3_system_errno(db) : 0;
			r = sys > 0 ? -sys : -EIO;
			break;
		default:
			r = -EIO;
		}
	}
	store_fail(err, r, "", "database: %s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	return r;
}

static int sq_bind(sqlite3_stmt *stmt, const struct sqlv *args, size_t nargs)
{
	size_t i;
	int rc = SQLITE_OK;

	for (i = 0; i < nargs && rc == SQLITE_OK; i++) {
		switch (args[i].type) {
		case SQLV_NULL:
			rc = sqlite3_bind_null(stmt, (int)i + 1);
			break;
		case SQLV_INT:
			rc = sqlite3_bind_int64(stmt, (int)i + 1, args[i].i);
			break;
		case SQLV_TEXT:
			rc = sqlite3_bind_text(stmt, (int)i + 1, args[i].s, -1, SQLITE_STATIC);
			break;
		}
	}
	return rc;
}

/* A row as values; a REAL or BLOB was never written by the store: corrupt. */
static int sq_row(sqlite3_stmt *stmt, struct sqlv *row, size_t *n)
{
	int i, cols = sqlite3_column_count(stmt);

	if (cols > STORE_MAX_COLS)
		return -EIO;
	for (i = 0; i < cols; i++) {
		switch (sqlite3_column_type(stmt, i)) {
		case SQLITE_NULL:
			row[i] = (struct sqlv){ .type = SQLV_NULL };
			break;
		case SQLITE_INTEGER:
			row[i] = (struct sqlv){ .type = SQLV_INT,
						.i = sqlite3_column_int64(stmt, i) };
			break;
		case SQLITE_TEXT:
			row[i] = (struct sqlv){ .type = SQLV_TEXT,
						.s = (const char *)sqlite3_column_text(stmt, i) };
			if (!row[i].s)
				return -ENOMEM;
			break;
		default:
			return -EIO;
		}
	}
	*n = (size_t)cols;
	return 0;
}

static int sq_exec(struct store *st, const char *sql, const struct sqlv *args,
		   size_t nargs, store_row_fn fn, void *arg, struct store_err *err)
{
	sqlite3 *db = db_of(st);
	struct sqlv row[STORE_MAX_COLS];
	sqlite3_stmt *stmt;
	size_t n;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return sq_error(db, rc, err);
	rc = sq_bind(stmt, args, nargs);
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		rc = sqlite3_step(stmt);
		if (rc != SQLITE_ROW || !fn)
			continue;
		r = sq_row(stmt, row, &n);
		if (r < 0) {
			store_fail(err, r, "", "database: unexpected value in a row");
			break;
		}
		r = fn(arg, row, n);
		if (r)
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = sq_error(db, rc, err);
	sqlite3_finalize(stmt);
	return r;
}

static int sq_simple(struct store *st, const char *sql, struct store_err *err)
{
	return sq_exec(st, sql, NULL, 0, NULL, NULL, err);
}

/* IMMEDIATE: take the write lock now, so that a transaction never fails half-way
 * for want of it (and the busy timeout covers the wait). */
static int sq_begin(struct store *st, struct store_err *err)
{
	return sq_simple(st, "BEGIN IMMEDIATE", err);
}

static int sq_commit(struct store *st, struct store_err *err)
{
	return sq_simple(st, "COMMIT", err);
}

static void sq_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(db_of(st)))
		sq_simple(st, "ROLLBACK", NULL);
}

static void sq_close(struct store *st)
{
	struct store_sqlite *s = (struct store_sqlite *)st;

	if (sqlite3_close(s->db) != SQLITE_OK)
		log_warn("store: closing the database: %s", sqlite3_errmsg(s->db));
	free(s);
}

static const struct store_ops sqlite_ops = {
	.exec = sq_exec,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.close = sq_close,
};

static int get_int(void *arg, const struct sqlv *row, size_t n)
{
	if (n < 1 || row[0].type != SQLV_INT)
		return -EIO;
	*(int64_t *)arg = row[0].i;
	return 0;
}

static int pragma_int(struct store *st, const char *sql, int64_t *out,
		      struct store_err *err)
{
	*out = -1;
	return sq_exec(st, sql, NULL, 0, get_int, out, err);
}

static int get_text(void *arg, const struct sqlv *row, size_t n)
{
	if (n < 1 || row[0].type != SQLV_TEXT)
		return -EIO;
	snprintf(arg, 16, "%s", row[0].s);
	return 0;
}

/* Runs the migration steps the file lacks, all in one transaction. */
static int migrate(struct store *st, struct store_err *err)
{
	const char *const *steps;
	int64_t app = -1, version = -1, tables = -1; /* -O3 cannot see pragma_int set them */
	size_t n, i;
	char sql[64];
	int r;

	steps = store_sqlite_migrations(&n);
	r = sq_begin(st, err);
	if (r == 0)
		r = pragma_int(st, "PRAGMA application_id", &app, err);
	if (r == 0)
		r = pragma_int(st, "PRAGMA user_version", &version, err);
	if (r == 0)
		r = pragma_int(st, "SELECT count(*) FROM sqlite_master", &tables, err);
	if (r < 0)
		goto fail;
	if ((app != STORE_SQLITE_APP_ID && (app != 0 || version != 0 || tables != 0)) ||
	    version < 0) {
		r = store_fail(err, -EPROTO, "", "not a sluice database");
		goto fail;
	}
	if (version > (int64_t)n) {
		r = store_fail(err, -EPROTO, "",
			       "database schema version %lld is newer than this sluice's (%zu): "
			       "run a newer sluice", (long long)version, n);
		goto fail;
	}
	for (i = (size_t)version; i < n; i++) {
		if (sqlite3_exec(db_of(st), steps[i], NULL, NULL, NULL) != SQLITE_OK) {
			r = sq_error(db_of(st), sqlite3_errcode(db_of(st)), err);
			goto fail;
		}
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", n);
	r = sq_simple(st, sql, err);
	if (r == 0 && app == 0) {
		snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", STORE_SQLITE_APP_ID);
		r = sq_simple(st, sql, err);
	}
	if (r == 0)
		r = sq_commit(st, err);
	if (r < 0)
		goto fail;
	if ((size_t)version < n)
		log_info("store: database schema migrated from version %lld to %zu",
			 (long long)version, n);
	return 0;
fail:
	sq_rollback(st);
	return r;
}

static int configure(struct store *st, struct store_err *err)
{
	sqlite3 *db = db_of(st);
	char mode[16] = "";
	int64_t fk;
	int r, on = 1;

	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	/* A corrupting write to the schema is refused, and views or triggers in a
	 * file someone handed us run no functions with side effects. */
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, &on);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, &on);
	r = sq_simple(st, "PRAGMA foreign_keys = ON", err);
	if (r == 0)
		r = pragma_int(st, "PRAGMA foreign_keys", &fk, err);
	if (r == 0 && fk != 1)
		r = store_fail(err, -ENOTSUP, "", "SQLite without foreign keys");
	if (r == 0)
		r = sq_exec(st, "PRAGMA journal_mode = WAL", NULL, 0, get_text, mode, err);
	if (r == 0 && strcmp(mode, "wal"))
		r = store_fail(err, -ENOTSUP, "", "cannot use WAL mode (journal mode %s)",
			       mode);
	if (r == 0)
		r = sq_simple(st, "PRAGMA synchronous = FULL", err);
	/* Deleted rows are overwritten: an ended authorization's PSK (authz.c)
	 * does not linger in free pages. */
	if (r == 0)
		r = sq_simple(st, "PRAGMA secure_delete = ON", err);
	return r;
}

int store_sqlite_open(const char *path, struct store **out, struct store_err *err)
{
	struct store_sqlite *s;
	int fd, rc, r;

	/* Token hashes and users live here: created private (the -wal and -shm
	 * files take the database's mode). */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return store_fail(err, -errno, "", "cannot open %s: %s", path, strerror(errno));
	close(fd);
	s = calloc(1, sizeof(*s));
	if (!s)
		return store_fail(err, -ENOMEM, "", "out of memory");
	s->st.ops = &sqlite_ops;
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		r = sq_error(s->db, rc, err);
		goto fail;
	}
	r = configure(&s->st, err);
	if (r == 0)
		r = migrate(&s->st, err);
	if (r < 0)
		goto fail;
	*out = &s->st;
	return 0;
fail:
	sqlite3_close(s->db);
	free(s);
	return r;
}
