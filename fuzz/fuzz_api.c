/* Fuzzes the REST API with request bodies and query strings, through api_handle()
 * over a real SQLite store (on tmpfs when there is one), fresh for every input so
 * that a finding replays alone.
 *
 * Input: byte 0 picks the method (low 3 bits) and whether the rest is a body or
 * a query string (bit 7); byte 1 picks the path; the rest is the body or the
 * query ("limit=5&name=x"). Whatever comes in, the answer is not a 500 and is
 * well-formed: an error has a code and a message, a 204 no body, anything else
 * an object. ASan/LSan see every allocation freed. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "portal/api.h"
#include "portal/http_priv.h"
#include "portal/policy.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Not assert(): release builds define NDEBUG. */
#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

#define API_FUZZ_MAX 65536

static const char *const targets[] = {
	"/sites", "/gateways", "/resources", "/users", "/groups", "/policies", "/tokens",
	"/clients", "/flows", "/audit", "/settings", "/sites/1", "/gateways/1",
	"/resources/1", "/users/1", "/groups/1", "/policies/1", "/tokens/2", "/clients/1",
	"/tokens/2/revoke", "/clients/1/revoke", "/groups/1/members", "/groups/1/members/1",
	"/flows/1", "/audit/1",
};

/* Fixed for the process: the directory and the engine (its zone cache). */
static struct {
	char dir[64], db[96];
	struct policy_engine *pe;
} G;

static void db_remove(void)
{
	char p[128];

	unlink(G.db);
	snprintf(p, sizeof(p), "%s-wal", G.db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", G.db);
	unlink(p);
}

static void cleanup(void)
{
	db_remove();
	rmdir(G.dir);
	policy_engine_free(G.pe);
}

static void init_once(void)
{
	if (G.pe)
		return;
	log_setup(LOG_LVL_ERR, "fuzz_api");
	snprintf(G.dir, sizeof(G.dir), "%s/sluice-fuzz-api-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	CHECK(mkdtemp(G.dir));
	snprintf(G.db, sizeof(G.db), "%s/portal.db", G.dir);
	CHECK(policy_engine_new("/usr/share/zoneinfo", 3600, &G.pe) == 0);
	atexit(cleanup);
}

static void mk(struct store *st, const char *entity, const char *text)
{
	json_t *in = json_loads(text, 0, NULL);
	struct store_err err;

	CHECK(in && store_create(st, entity, in, NULL, &err) == 0);
	json_decref(in);
}

/* One of each, so that ids 1 (and token 2) name something. */
static void world(struct store *st, char auth[80])
{
	char secret[STORE_TOKEN_SECRET_SIZE];
	struct store_err err;

	CHECK(store_token_create(st, STORE_TOKEN_ADMIN, "fuzz", 0, 0, secret, NULL, &err) == 0);
	snprintf(auth, 80, "Bearer %s", secret);
	mk(st, "sites", "{\"name\":\"hq\"}");
	mk(st, "gateways", "{\"site_id\":1,\"name\":\"gw\"}");
	mk(st, "resources", "{\"site_id\":1,\"type\":\"dns\",\"address\":\"a.test\","
	   "\"name\":\"a\"}");
	mk(st, "users", "{\"name\":\"Ada\"}");
	mk(st, "groups", "{\"name\":\"eng\"}");
	mk(st, "policies", "{\"group_id\":1,\"resource_id\":1}");
	CHECK(store_member_add(st, 1, 1, NULL, &err) == 0);
	CHECK(store_token_create(st, STORE_TOKEN_CLIENT, "c", 1, 0, secret, NULL, &err) == 0);
	CHECK(store_client_upsert(st, 1, "Qmp3zTqcxmsm4BPp1uygMzUK2JB/1NQKQXfWoUTYWmY=", "l",
				  NULL, &err) == 0);
}

static void check_answer(const struct http_response *resp)
{
	unsigned status = resp->status ? resp->status : 200;
	json_t *e;

	CHECK(status >= 200 && status < 500);
	if (status >= 400) {
		e = json_object_get(resp->body, "error");
		CHECK(json_string_value(json_object_get(e, "code")));
		CHECK(json_string_value(json_object_get(e, "message")));
	} else if (status == 204) {
		CHECK(!resp->body);
	} else {
		CHECK(json_is_object(resp->body));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_err err;
	struct store *st;
	struct api *api;
	struct http_args args = { 0 };
	struct http_request req = { 0 };
	struct http_response resp = { 0 };
	char path[64], auth[80], *text, *save = NULL;
	size_t n;

	if (size < 2 || size > API_FUZZ_MAX)
		return 0;
	init_once();
	n = size - 2;
	text = malloc(n + 1);
	CHECK(text);
	memcpy(text, data + 2, n);
	text[n] = '\0';
	db_remove();
	CHECK(store_open(G.db, &st, &err) == 0);
	CHECK(api_new(st, G.pe, &api) == 0);
	world(st, auth);

	snprintf(path, sizeof(path), "%s%s", API_PREFIX,
		 targets[data[1] % (sizeof(targets) / sizeof(targets[0]))]);
	req.method = (enum http_method)((data[0] & 7) % 5);
	req.path = path;
	req.authorization = auth;
	req.peer = "192.0.2.1";
	req.body = "";
	req.args = &args;
	if (data[0] & 0x80) { /* a query string (the body stays empty) */
		for (char *a = strtok_r(text, "&", &save); a && args.n < HTTP_MAX_ARGS;
		     a = strtok_r(NULL, "&", &save))
			args.v[args.n++] = a;
	} else {
		req.body = text;
		req.body_len = n;
	}
	CHECK(api_handle(api, &req, &resp) == 0);
	check_answer(&resp);
	json_decref(resp.body);
	api_free(api);
	store_close(st);
	free(text);
	return 0;
}
