/* Shared by the store tests: a temporary store with a fake clock and a
 * change log, and helpers to create rows. Static inline, so each program takes
 * what it uses. */
#ifndef SLUICE_TEST_STORE_H
#define SLUICE_TEST_STORE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tmpdb.h"
#include "store/store.h"

#define T0 1700000000 /* 2023-11-14T22:13:20Z */

struct ev {
	char entity[32];
	int64_t id;
	enum store_action action;
	json_t *row;
};

struct fx {
	char dir[64], path[128];
	struct store *st;
	int64_t now;
	struct ev ev[64];
	size_t nev;
};

static int64_t fake_now(void *arg)
{
	return *(int64_t *)arg;
}

static inline void on_change(void *arg, const struct store_change *ch)
{
	struct fx *f = arg;
	struct ev *e;

	if (f->nev == sizeof(f->ev) / sizeof(f->ev[0]))
		return;
	e = &f->ev[f->nev++];
	snprintf(e->entity, sizeof(e->entity), "%s", ch->entity);
	e->id = ch->id;
	e->action = ch->action;
	e->row = json_deep_copy(ch->row);
}

static inline void ev_clear(struct fx *f)
{
	size_t i;

	for (i = 0; i < f->nev; i++)
		json_decref(f->ev[i].row);
	f->nev = 0;
}

/* Was (entity, id, action) reported? */
static inline bool ev_has(struct fx *f, const char *entity, int64_t id, enum store_action a)
{
	size_t i;

	for (i = 0; i < f->nev; i++)
		if (!strcmp(f->ev[i].entity, entity) && f->ev[i].id == id &&
		    f->ev[i].action == a)
			return true;
	return false;
}

static inline const json_t *ev_row(struct fx *f, const char *entity, int64_t id)
{
	size_t i;

	for (i = 0; i < f->nev; i++)
		if (!strcmp(f->ev[i].entity, entity) && f->ev[i].id == id)
			return f->ev[i].row;
	fail_msg("no event for %s %lld", entity, (long long)id);
	return NULL;
}

static inline int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_err err;

	snprintf(f->dir, sizeof(f->dir), "/tmp/sluice-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/portal.db", f->dir);
	assert_int_equal(store_open(f->path, &f->st, &err), 0);
	f->now = T0;
	store_set_clock(f->st, fake_now, &f->now);
	store_set_change_cb(f->st, on_change, f);
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->st);
	ev_clear(f);
	tmpdb_remove(f->path, f->dir);
	free(f);
	return 0;
}

static inline json_t *J(const char *text)
{
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

	assert_non_null(v);
	return v;
}

/* Creates a row from JSON text and returns its id. */
static int64_t mk(struct fx *f, const char *entity, const char *text)
{
	struct store_err err = { 0 };
	json_t *in = J(text), *out = NULL;
	int64_t id;
	int r = store_create(f->st, entity, in, &out, &err);

	if (r)
		print_error("store_create %s %s: %d %s: %s\n", entity, text, r, err.field,
			    err.msg);
	assert_int_equal(r, 0);
	id = json_integer_value(json_object_get(out, "id"));
	assert_true(id > 0);
	json_decref(in);
	json_decref(out);
	return id;
}

static inline const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int64_t num(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static inline int try_create(struct fx *f, const char *entity, const char *text,
		      struct store_err *err)
{
	json_t *in = J(text);
	int r;

	memset(err, 0, sizeof(*err));
	r = store_create(f->st, entity, in, NULL, err);
	json_decref(in);
	return r;
}

static inline void expect_create(struct fx *f, const char *entity, const char *text, int want,
			  const char *field)
{
	struct store_err err;
	int r = try_create(f, entity, text, &err);

	if (r != want || strcmp(err.field, field))
		print_error("%s %s: got %d field '%s' (%s)\n", entity, text, r, err.field,
			    err.msg);
	assert_int_equal(r, want);
	assert_string_equal(err.field, field);
	if (r)
		assert_true(strlen(err.msg) > 0);
}

#endif
