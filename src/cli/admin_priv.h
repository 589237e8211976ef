/* Inside `sluice admin`: the tables of options and commands (admin_spec.c) that
 * the parser (admin_parse.c) and the help texts read. Not a public API. */
#ifndef SLUICE_CLI_ADMIN_PRIV_H
#define SLUICE_CLI_ADMIN_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/admin.h"

/* How an option's value reaches the request. */
enum admin_conv {
	CONV_GLOBAL,       /* the parser's own: connection and output */
	CONV_STR,          /* "field": "VALUE" (list: field=VALUE) */
	CONV_ID,           /* "field": 12 */
	CONV_COUNT,        /* "field": 0 or more */
	CONV_TRUE,         /* "field": true */
	CONV_FALSE,        /* "field": false */
	CONV_NULL,         /* "field": null */
	CONV_EMPTY_ARRAY,  /* "field": [] */
	CONV_EMPTY_OBJECT, /* "field": {} */
	/* Parts of one field, repeatable or combinable with each other: */
	CONV_FILTER,       /* "filters": [{"protocol": "tcp", "ports": "443"}, ...] */
	CONV_WINDOW,       /* "conditions": {"time_windows": [...]} */
	CONV_TZ,           /* "conditions": {"time_zone": "..."} */
	CONV_SOURCE,       /* "conditions": {"source_cidrs": [...]} */
	CONV_STRLIST,      /* "field": ["VALUE", ...] */
	CONV_PAGE,         /* list query: limit, after */
};

struct admin_opt {
	const char *name;  /* "site" for --site */
	char short_name;   /* 'q' for -q; 0: none */
	const char *arg;   /* the value's name in help; NULL: a flag */
	const char *field; /* JSON field (or query argument) */
	enum admin_conv conv;
	const char *help;
};

enum admin_act {
	ACT_LIST, ACT_GET, ACT_CREATE, ACT_UPDATE, ACT_DELETE, ACT_REVOKE,
	ACT_MEMBERS, ACT_ADD_MEMBER, ACT_REMOVE_MEMBER, ACT_SETTINGS_GET,
	ACT_SETTINGS_SET, ACT_RAW,
};

struct admin_cmd {
	const char *entity, *verb;
	enum admin_act act;
	const char *opts;     /* the options it takes, space-separated names */
	const char *required; /* of those, the ones it needs */
	const char *summary;
};

struct admin_entity {
	const char *name, *singular, *summary;
};

extern const struct admin_opt admin_opts[];
extern const size_t admin_n_opts;
extern const struct admin_cmd admin_cmds[];
extern const size_t admin_n_cmds;
extern const struct admin_entity admin_entities[];
extern const size_t admin_n_entities;

const struct admin_opt *admin_opt_find(const char *name, char short_name);
const struct admin_entity *admin_entity_find(const char *name);
const struct admin_cmd *admin_cmd_find(const char *entity, const char *verb);
/* Whether name is a word of the space-separated list. */
bool admin_word_in(const char *list, const char *name);
bool admin_opt_repeatable(const struct admin_opt *o);
/* The positional arguments of act in help: "ID", "GROUP_ID USER_ID", ... */
const char *admin_act_args(enum admin_act act, size_t *count);

/* Help for `admin`, an entity or one command (malloc'd). */
char *admin_help(const struct admin_entity *e, const struct admin_cmd *c);

#endif
