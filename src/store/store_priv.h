/* Internals of the store: the backend interface, the schema and the generic row
 * helpers. Only the store's own files and the store's tests include it.
 *
 * A backend runs SQL with '?' placeholders (one with $n placeholders rewrites them:
 * no SQL of the store puts '?' inside a literal) and begins, commits and rolls back
 * write transactions. Everything above that (validation, SQL building, references,
 * cascades, change events) is shared. */
#ifndef SLUICE_STORE_STORE_PRIV_H
#define SLUICE_STORE_STORE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "store/store.h"

#define STORE_MAX_COLS 16
#define STORE_SQL_MAX 4096 /* longest statement the generic code builds */

/* ---- backend ---- */

enum sqlv_type { SQLV_NULL, SQLV_INT, SQLV_TEXT };

struct sqlv {
	enum sqlv_type type;
	int64_t i;
	const char *s; /* SQLV_TEXT, NUL-terminated */
};

/* Called per result row, values valid during the call only; a nonzero return stops
 * the statement and is returned by exec. */
typedef int (*store_row_fn)(void *arg, const struct sqlv *row, size_t n);

struct store_ops {
	/* Runs one statement. Maps constraint failures: unique -EEXIST, foreign key
	 * -ENOENT, others -EINVAL. */
	int (*exec)(struct store *st, const char *sql, const struct sqlv *args, size_t nargs,
		    store_row_fn fn, void *arg, struct store_err *err);
	int (*begin)(struct store *st, struct store_err *err); /* a write transaction */
	int (*commit)(struct store *st, struct store_err *err);
	void (*rollback)(struct store *st);
	void (*close)(struct store *st);
};

struct store_event {
	const struct entity *ent; /* NULL: settings */
	int64_t id;
	enum store_action action;
	json_t *row;
};

/* Embedded first in each backend's own struct. */
struct store {
	const struct store_ops *ops;
	store_change_fn change_cb;
	void *change_arg;
	int64_t (*now)(void *arg);
	void *now_arg;
	bool in_tx;
	json_t *audit;                 /* store_set_audit(): written by the next write */
	/* Changes of the open transaction, reported once it commits. */
	struct store_event *ev;
	size_t nev, evcap;
};

int store_sqlite_open(const char *path, struct store **out, struct store_err *err);

/* SQLite's migration steps, in order: step i brings user_version to i + 1. */
const char *const *store_sqlite_migrations(size_t *n);
#define STORE_SQLITE_APP_ID 0x736c7563 /* "sluc": PRAGMA application_id */

/* ---- schema (schema.c) ---- */

enum col_type { COL_INT, COL_TEXT, COL_BOOL, COL_TIME, COL_JSON };

enum col_flag {
	COLF_REQUIRED = 1 << 0, /* create needs a non-null value */
	COLF_NULLABLE = 1 << 1,
	COLF_UNIQUE = 1 << 2,   /* alone, or together with unique_with */
	COLF_NOCASE = 1 << 3,   /* compares without regard to ASCII case */
	COLF_FIXED = 1 << 4,    /* set at create, never changed */
	COLF_SYS = 1 << 5,      /* set by the store's own calls only: read-only */
	COLF_HIDDEN = 1 << 6,   /* never shown or filtered on (implies SYS) */
	COLF_NOW = 1 << 7,      /* defaults to the current time at create */
};

enum fk_action { FK_NONE, FK_RESTRICT, FK_CASCADE };

struct col {
	const char *name;
	enum col_type type;
	unsigned flags;
	uint32_t min, max;          /* text: characters; json: bytes (max only) */
	const char *const *enums;   /* text: the allowed values, NULL-terminated */
	json_type json_kind;        /* json: JSON_ARRAY, JSON_OBJECT, JSON_INTEGER,
				     * or JSON_NULL (any) */
	const char *def;            /* default at create, as JSON text */
	const char *ref;            /* int: the entity this refers to by id */
	enum fk_action on_delete;
	const char *unique_with;
};

enum ent_flag {
	ENT_NO_CREATE = 1 << 0, /* rows come from dedicated calls (tokens, clients) */
	ENT_LOG = 1 << 1,       /* append-only: no update or delete, pruned by time */
	ENT_TUNNEL = 1 << 2,    /* rows get tunnel addresses at create */
};

struct entity {
	const char *name; /* table and API name */
	const char *one;  /* one row, for messages */
	const struct col *cols; /* cols[0] is "id" */
	size_t ncols;
	unsigned flags;
};

const struct entity *schema_entity(const char *name);
const struct entity *schema_entities(size_t *n);
const struct col *schema_col(const struct entity *e, const char *name);
/* The settings keys as columns of a pseudo-entity named "settings". */
const struct entity *schema_settings(void);

/* ---- values (value.c) ---- */

int store_fail(struct store_err *err, int r, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int64_t store_now(struct store *st);
/* A statement that did not fit STORE_SQL_MAX, or no memory: -ENOMEM. */
int sql_fail(struct store_err *err);

/* A JSON value as a column value: type checks (and, if check, nullability, length,
 * enum). A JSON column is serialized into *own, which the caller frees. */
int value_from_json(const struct col *c, const json_t *v, bool check, struct sqlv *out,
		    char **own, struct store_err *err);
/* A column value as JSON (new reference), NULL on corrupt data or no memory. */
json_t *value_to_json(const struct col *c, const struct sqlv *v);
/* The visible columns of e, comma separated, each prefixed with prefix. */
int sql_cols(struct buf *b, const struct entity *e, const char *prefix);
/* A row selected with sql_cols as a JSON object. */
json_t *row_to_json(const struct entity *e, const struct sqlv *row, size_t n);

/* ---- generic rows (store.c, entity.c) ---- */

int tx_begin(struct store *st, struct store_err *err);
/* Commits if r is 0, else rolls back; reports the changes after a commit. */
int tx_end(struct store *st, int r, struct store_err *err);
int event_add(struct store *st, const struct entity *e, int64_t id, enum store_action a,
	      json_t *row);

enum write_mode { WM_ADMIN, WM_SYS }; /* WM_SYS may set COLF_SYS columns */

/* Inside a transaction. */
int entity_insert(struct store *st, const struct entity *e, const json_t *in,
		  enum write_mode mode, json_t **row, struct store_err *err);
int entity_update(struct store *st, const struct entity *e, int64_t id,
		  const json_t *patch, enum write_mode mode, json_t **row,
		  struct store_err *err);
int entity_delete(struct store *st, const struct entity *e, int64_t id,
		  struct store_err *err);
/* Sets a time column to now unless it is set already (revocations). */
int entity_stamp(struct store *st, const struct entity *e, int64_t id, const char *field,
		 json_t **row, struct store_err *err);
int entity_load(struct store *st, const struct entity *e, int64_t id, json_t **row,
		struct store_err *err);
/* One page of rows by id (sql selects limit + 1 rows when limit is not 0). */
int rows_page(struct store *st, const struct entity *e, const char *sql,
	      struct sqlv *args, size_t nargs, size_t limit, json_t **items,
	      int64_t *next, struct store_err *err);
/* Collects selected rows into a JSON array. */
int rows_query(struct store *st, const struct entity *e, const char *sql,
	       const struct sqlv *args, size_t nargs, json_t **rows, struct store_err *err);
int entity_by_name(const char *name, const struct entity **e, struct store_err *err);

#endif
