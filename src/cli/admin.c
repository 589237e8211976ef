/* `sluice admin`: the connection, the requests and the output. See admin.h. */
#include "cli/admin.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "cli/render.h"
#include "ctl/dial.h"

enum { PATH_LEN = 8192, MAX_PAGES = 100000 };

static const char prog[] = "sluice admin";

struct run {
	const struct admin_req *req;
	struct api_client *client;
	FILE *out, *err;
};

static void print_json(FILE *out, const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY);

	if (s) {
		fprintf(out, "%s\n", s);
		explicit_bzero(s, strlen(s)); /* it may hold a token's secret */
		free(s);
	}
}

static void print_id(FILE *out, const json_t *obj)
{
	json_t *id = json_object_get(obj, "id");

	if (json_is_integer(id))
		fprintf(out, "%" JSON_INTEGER_FORMAT "\n", json_integer_value(id));
}

/* One request; the parsed answer in *body (NULL for none). An ADMIN_EXIT_ code. */
static int call(struct run *rn, const char *path, json_t **body)
{
	const struct admin_req *req = rn->req;
	char *data = NULL, err[320];
	size_t len = 0;
	struct api_response resp;
	json_error_t je;
	int r;

	*body = NULL;
	if (req->body) {
		data = json_dumps(req->body, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!data) {
			fprintf(rn->err, "%s: out of memory\n", prog);
			return ADMIN_EXIT_USAGE;
		}
		len = strlen(data);
	}
	r = api_client_request(rn->client, req->method, path, data, len, &resp, err,
			       sizeof(err));
	free(data);
	if (r < 0) {
		fprintf(rn->err, "%s: %s: %s\n", prog, api_client_origin(rn->client), err);
		return r == -EINVAL ? ADMIN_EXIT_USAGE : ADMIN_EXIT_CONN;
	}
	r = ADMIN_EXIT_OK;
	if (resp.status < 200 || resp.status > 299) {
		render_error(rn->err, prog, resp.status, resp.body, resp.len);
		r = ADMIN_EXIT_API;
	} else if (resp.len) {
		*body = json_loadb(resp.body, resp.len, JSON_DECODE_ANY, &je);
		if (!*body) {
			fprintf(rn->err, "%s: the portal's answer (HTTP %u) is not JSON: %s\n",
				prog, resp.status, je.text);
			r = ADMIN_EXIT_API;
		}
	}
	explicit_bzero(resp.body, resp.len);
	api_response_free(&resp);
	return r;
}

static int list_path(char *out, size_t len, const struct admin_req *req, const char *after)
{
	int n = snprintf(out, len, "%s%s%s%s%s%s", req->path,
			 req->query[0] || after ? "?" : "", req->query,
			 req->query[0] && after ? "&" : "", after ? "after=" : "",
			 after ? after : "");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* A list, page after page with --all, as one {"items": [...], "next": ...}. */
static int get_list(struct run *rn, json_t **out)
{
	const struct admin_req *req = rn->req;
	char path[PATH_LEN], after[24];
	const char *cursor = req->after;
	json_t *all = NULL, *page;
	int64_t last = 0;
	int r;

	for (unsigned n = 0; n < MAX_PAGES; n++) {
		json_t *items, *next;

		if (list_path(path, sizeof(path), req, cursor) < 0) {
			fprintf(rn->err, "%s: the request is too long\n", prog);
			r = ADMIN_EXIT_USAGE;
			goto fail;
		}
		r = call(rn, path, &page);
		if (r)
			goto fail;
		items = json_object_get(page, "items");
		next = json_object_get(page, "next");
		if (!json_is_array(items) || (next && !json_is_null(next) && !json_is_integer(next))) {
			fprintf(rn->err, "%s: the portal's answer is not a list\n", prog);
			json_decref(page);
			r = ADMIN_EXIT_API;
			goto fail;
		}
		if (!all) {
			all = page;
		} else {
			json_array_extend(json_object_get(all, "items"), items);
			json_object_set(all, "next", next ? next : json_null());
			json_decref(page);
		}
		if (!req->all || !json_is_integer(next))
			break;
		/* Ids only grow: a "next" that does not is a loop. */
		if (json_integer_value(next) <= last) {
			fprintf(rn->err, "%s: the portal's pages do not advance\n", prog);
			r = ADMIN_EXIT_API;
			goto fail;
		}
		last = json_integer_value(next);
		snprintf(after, sizeof(after), "%" PRId64, last);
		cursor = after;
	}
	*out = all;
	return ADMIN_EXIT_OK;
fail:
	json_decref(all);
	return r;
}

static void show_list(struct run *rn, json_t *page)
{
	const struct admin_req *req = rn->req;
	json_t *items = json_object_get(page, "items"), *next = json_object_get(page, "next"), *it;
	size_t i;

	switch (req->output) {
	case ADMIN_OUT_JSON:
		print_json(rn->out, page);
		break;
	case ADMIN_OUT_QUIET:
		json_array_foreach(items, i, it)
			print_id(rn->out, it);
		break;
	default:
		if (render_list(rn->out, req->view, items, false) < 0)
			fprintf(rn->err, "%s: out of memory\n", prog);
		if (json_is_integer(next))
			fprintf(rn->err, "(more: --after %" JSON_INTEGER_FORMAT ", or --all)\n",
				json_integer_value(next));
	}
}

/* tokens create: the secret, once. */
static int show_secret(struct run *rn, json_t *body)
{
	json_t *tok = json_object_get(body, "token");
	json_t *sec = json_object_get(body, "secret");
	const char *secret = json_string_value(sec);

	if (!secret || !json_is_object(tok)) {
		fprintf(rn->err, "%s: the portal's answer holds no secret\n", prog);
		return ADMIN_EXIT_API;
	}
	if (rn->req->output == ADMIN_OUT_JSON) {
		print_json(rn->out, body);
	} else if (rn->req->output == ADMIN_OUT_QUIET) {
		fprintf(rn->out, "%s\n", secret);
	} else {
		render_object(rn->out, tok);
		fprintf(rn->out, "\nsecret  %s\n", secret);
		fprintf(rn->err, "(the secret is shown this once: keep it now)\n");
	}
	/* Wipe the copies this process holds; the caller frees them. */
	explicit_bzero((char *)secret, strlen(secret));
	return ADMIN_EXIT_OK;
}

static int show(struct run *rn)
{
	const struct admin_req *req = rn->req;
	char path[PATH_LEN];
	json_t *body = NULL;
	int r;

	if (req->shape == ADMIN_SHAPE_LIST) {
		r = get_list(rn, &body);
		if (r == ADMIN_EXIT_OK)
			show_list(rn, body);
		json_decref(body);
		return r;
	}
	if (list_path(path, sizeof(path), req, NULL) < 0) {
		fprintf(rn->err, "%s: the request is too long\n", prog);
		return ADMIN_EXIT_USAGE;
	}
	r = call(rn, path, &body);
	if (r)
		return r;
	if (req->shape == ADMIN_SHAPE_SECRET) {
		r = show_secret(rn, body);
	} else if (!body) {
		/* 204 */
		if (req->output == ADMIN_OUT_TABLE && req->done)
			fprintf(rn->out, "%s\n", req->done);
	} else if (req->output == ADMIN_OUT_JSON || req->shape == ADMIN_SHAPE_RAW) {
		print_json(rn->out, body);
	} else if (req->output == ADMIN_OUT_QUIET) {
		print_id(rn->out, body);
	} else if (json_is_object(body)) {
		if (render_object(rn->out, body) < 0)
			fprintf(rn->err, "%s: out of memory\n", prog);
	} else {
		print_json(rn->out, body);
	}
	json_decref(body);
	return r;
}

/* The connection from the options, else the environment. */
static int connect_portal(const struct admin_req *req, const struct admin_env *env,
			  struct api_client **out, FILE *err)
{
	struct api_client_config cfg = {
		.url = req->portal ? req->portal : env->portal,
		.ca_file = req->ca_file ? req->ca_file : env->ca_file,
		.timeout_ms = req->timeout_s * 1000,
		.debug = env->debug,
	};
	const char *tfile = req->token_file ? req->token_file :
			    env->token ? NULL : env->token_file;
	char tok[CTL_TOKEN_MAX], msg[512];
	int r;

	if (!cfg.url || !cfg.url[0]) {
		fprintf(err, "%s: which portal? --portal https://HOST:PORT or SLUICE_PORTAL\n",
			prog);
		return ADMIN_EXIT_USAGE;
	}
	if (tfile) {
		r = ctl_token_read(tfile, tok, sizeof(tok), msg, sizeof(msg));
		if (r < 0) {
			fprintf(err, "%s: %s\n", prog, msg);
			return ADMIN_EXIT_USAGE;
		}
		cfg.token = tok;
	} else if (env->token && env->token[0]) {
		cfg.token = env->token;
	} else {
		fprintf(err, "%s: no admin token: --token-file FILE, SLUICE_TOKEN or "
			"SLUICE_TOKEN_FILE\n", prog);
		return ADMIN_EXIT_USAGE;
	}
	r = api_client_new(&cfg, out, msg, sizeof(msg));
	explicit_bzero(tok, sizeof(tok));
	if (r < 0) {
		fprintf(err, "%s: %s\n", prog, msg);
		return r == -EINVAL || r == -ENOENT || r == -EACCES ? ADMIN_EXIT_USAGE :
		       ADMIN_EXIT_CONN;
	}
	return ADMIN_EXIT_OK;
}

int admin_main(int argc, char *const *argv, const struct admin_env *env, FILE *out,
	       FILE *err)
{
	static const struct admin_env none;
	struct admin_req req;
	struct run rn = { .req = &req, .out = out, .err = err };
	char msg[512];
	int r;

	if (admin_parse(argc, argv, &req, msg, sizeof(msg)) < 0) {
		fprintf(err, "%s: %s\n", prog, msg);
		return ADMIN_EXIT_USAGE;
	}
	if (req.help) {
		fputs(req.help, out);
		admin_req_free(&req);
		return ADMIN_EXIT_OK;
	}
	r = connect_portal(&req, env ? env : &none, &rn.client, err);
	if (r == ADMIN_EXIT_OK)
		r = show(&rn);
	api_client_free(rn.client);
	admin_req_free(&req);
	if (fflush(out) != 0 && r == ADMIN_EXIT_OK) {
		fprintf(err, "%s: cannot write the output: %s\n", prog, strerror(errno));
		r = ADMIN_EXIT_USAGE;
	}
	return r;
}
