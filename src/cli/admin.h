/* `sluice admin`: the portal's REST API (docs/api.md) from the command line.
 *
 *   sluice admin [GLOBAL OPTIONS] ENTITY VERB [ARGS] [OPTIONS]
 *   sluice admin raw METHOD PATH [JSON]
 *
 * admin_parse() turns the words into one request (method, path, query, body)
 * and how to show its answer, without touching the network; admin_main() adds
 * the connection (options first, then the environment given), sends it, follows
 * "next" for --all, and prints a table, the portal's JSON (--json) or only ids
 * (-q). docs/cli.md lists every command. */
#ifndef SLUICE_CLI_ADMIN_H
#define SLUICE_CLI_ADMIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit codes. */
enum {
	ADMIN_EXIT_OK = 0,
	ADMIN_EXIT_API = 1,   /* the portal answered with an error */
	ADMIN_EXIT_USAGE = 2, /* bad words, options or local files */
	ADMIN_EXIT_CONN = 3,  /* no answer: connection, TLS, timeout */
};

enum admin_output { ADMIN_OUT_TABLE, ADMIN_OUT_JSON, ADMIN_OUT_QUIET };

enum admin_shape {
	ADMIN_SHAPE_LIST,   /* {"items": [...], "next": ...} */
	ADMIN_SHAPE_OBJECT, /* one entity */
	ADMIN_SHAPE_SECRET, /* {"token": {...}, "secret": "..."}: shown once */
	ADMIN_SHAPE_NONE,   /* 204: a line saying what was done */
	ADMIN_SHAPE_RAW,    /* whatever came: its JSON */
};

struct admin_req {
	const char *method;     /* "GET", "POST", "PUT", "PATCH", "DELETE" */
	char *path;             /* under /api/v1, without the query: "/sites/3" */
	char *query;            /* "limit=5&site_id=2" (encoded), "" for none; no after */
	char *after;            /* the first page's "after", NULL for none */
	json_t *body;           /* NULL: none */
	enum admin_shape shape;
	const char *view;       /* render.h view of a list */
	char *done;             /* ADMIN_SHAPE_NONE: "deleted site 3" */
	bool all;               /* follow "next" to the end */
	enum admin_output output;
	char *help;             /* --help: this text, and nothing is sent */
	/* The connection, as options gave it (NULL / 0: absent). */
	const char *portal, *ca_file, *token_file;
	unsigned timeout_s;
};

/* argv[0] is "admin". 0, or -EINVAL with the reason in err (a usage error). */
int admin_parse(int argc, char *const *argv, struct admin_req *out, char *err,
		size_t errlen);
void admin_req_free(struct admin_req *r);

/* What the environment says (SLUICE_PORTAL, SLUICE_CA, SLUICE_TOKEN,
 * SLUICE_TOKEN_FILE, SLUICE_DEBUG); main() fills it, tests set it. Options win. */
struct admin_env {
	const char *portal, *ca_file, *token, *token_file;
	bool debug; /* libwebsockets' log lines on stderr */
};

/* Runs `sluice admin ...`: answers on out, errors on err; an ADMIN_EXIT_ code. */
int admin_main(int argc, char *const *argv, const struct admin_env *env, FILE *out,
	       FILE *err);

#endif
