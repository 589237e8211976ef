/* How `sluice admin` shows the portal's JSON to a person: a list as a table with
 * the columns that matter for its kind of entity, one object as a FIELD VALUE
 * table of all its fields, and an API error as one line for stderr. Values read
 * as they are typed: null is "-", booleans "yes"/"no", filters "tcp:443",
 * policy conditions "mon-fri 09:00-17:00 Europe/Berlin, from 198.51.100.0/24". */
#ifndef SLUICE_CLI_RENDER_H
#define SLUICE_CLI_RENDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* items (an array of objects) as a table of the columns of view ("sites",
 * "gateways", "resources", "users", "groups", "members", "policies", "clients",
 * "tokens", "flows", "audit"; any other: the fields of the first item). */
int render_list(FILE *out, const char *view, const json_t *items, bool no_header);
/* One object: a FIELD VALUE line per field, in the portal's order. */
int render_object(FILE *out, const json_t *obj);
/* The text for one value of field (malloc'd; NULL when out of memory). */
char *render_value(const char *field, const json_t *v);

/* An answer with an error status, as one line (with a newline):
 * "validation: name: must be 1-64 characters (HTTP 400, field name)". */
void render_error(FILE *err, const char *prog, unsigned status, const char *body,
		  size_t len);

#endif
