/* The control plane's limits in the hub, over real WSS and a real SQLite file:
 * access_request's rate limit (answered rate_limited, no flows row), its
 * settings applied live, and the retention of the flows and audit logs. */
#include "hub_test.h"

#include "portal/hub_priv.h" /* HUB_FLOW_BATCH */

static void set_settings(struct fx *f, void *arg)
{
	struct store_err err = { 0 };

	if (store_settings_set(f->st, arg, NULL, &err) < 0)
		fail_msg("settings: %s: %s", err.field, err.msg);
}

static void settings(struct fx *f, const char *json)
{
	json_t *p = J("%s", json);

	srv_run(f, set_settings, p);
	json_decref(p);
}

static void stats(struct fx *f, void *arg)
{
	hub_get_stats(f->hub, arg);
}

struct count {
	const char *entity, *event;
	size_t n;
};

static void count_rows(struct fx *f, void *arg)
{
	struct count *c = arg;
	json_t *filter = c->event ? J("{\"event\": \"%s\"}", c->event) : NULL, *items = NULL;

	hub_flows_flush(f->hub);
	assert_int_equal(store_list(f->st, c->entity, filter, 0, 0, &items, NULL, NULL), 0);
	c->n = json_array_size(items);
	json_decref(items);
	json_decref(filter);
}

static size_t rows(struct fx *f, const char *entity, const char *event)
{
	struct count c = { entity, event, 0 };

	srv_run(f, count_rows, &c);
	return c.n;
}

/* Waits for n answers (granted or denied) after the mark; counts the
 * rate_limited denials. */
static size_t answers(struct peer *c, size_t n, size_t *limited)
{
	uint64_t end = time_mono_ns() + 5 * NSEC_PER_SEC;
	size_t got = 0;

	for (;;) {
		got = 0;
		*limited = 0;
		for (size_t i = c->mark; i < c->n; i++) {
			if (c->recs[i].type != CTL_ACCESS_DENIED &&
			    c->recs[i].type != CTL_ACCESS_GRANTED)
				continue;
			got++;
			*limited += !strcmp(c->recs[i].reason, "rate_limited");
		}
		if (got >= n || time_mono_ns() >= end)
			return got;
		ctl_loop_run(c->fx->loop, 10);
	}
}

static void test_rate_limited(void **state)
{
	struct fx *f = *state;
	struct hub_stats hs;
	struct peer *c;
	size_t limited, limited0;
	uint64_t i;

	/* a slow rate, so that no token comes back during the test */
	settings(f, "{\"access_request_rate\": 1, \"access_request_burst\": 5}");
	c = client_up(f);
	for (i = 1; i <= 20; i++)
		send_request(c, i, 424242);
	assert_int_equal(answers(c, 20, &limited), 20);
	/* 15, or 14 if a token came back meanwhile (a second on a loaded machine) */
	assert_true(limited == 15 || limited == 14);
	/* the first 5 were decided (and logged), the others not */
	for (i = c->mark; i < c->mark + 5; i++)
		assert_string_equal(c->recs[i].reason, "unknown_resource");
	assert_int_equal(c->recs[c->mark + 19].req, 20);
	assert_int_equal(rows(f, "flows", "denied"), 20 - limited);
	srv_run(f, stats, &hs);
	assert_int_equal(hs.rate_limited, limited);
	assert_int_equal(hs.denied, 20 - limited);
	/* applied live: 0 is no limit */
	limited0 = limited;
	settings(f, "{\"access_request_rate\": 0}");
	mark(c);
	for (i = 21; i <= 60; i++)
		send_request(c, i, 424242);
	assert_int_equal(answers(c, 40, &limited), 40);
	assert_int_equal(limited, 0);
	assert_int_equal(rows(f, "flows", "denied"), 60 - limited0);
	peer_close(c);
}

/* A device that reconnects does not get a full bucket back. */
static void test_reconnect(void **state)
{
	struct fx *f = *state;
	struct hub_stats hs;
	struct peer *c;
	char key[64];
	size_t limited;
	uint64_t i, end;

	settings(f, "{\"access_request_rate\": 1, \"access_request_burst\": 5}");
	random_key(key);
	c = peer_open(f, f->client_tok, key, NULL, "laptop");
	assert_true(wait_connected(c, 5000));
	assert_non_null(wait_for(c, CTL_INIT_CLIENT, 5000));
	mark(c);
	for (i = 1; i <= 10; i++)
		send_request(c, i, 424242);
	assert_int_equal(answers(c, 10, &limited), 10);
	assert_true(limited >= 4);
	peer_close(c);
	end = time_mono_ns() + 5 * NSEC_PER_SEC;
	do {
		ctl_loop_run(f->loop, 20);
		srv_run(f, stats, &hs);
	} while (hs.clients && time_mono_ns() < end);
	assert_int_equal(hs.clients, 0); /* the hub forgot the device */
	c = peer_open(f, f->client_tok, key, NULL, "laptop");
	assert_true(wait_connected(c, 5000));
	assert_non_null(wait_for(c, CTL_INIT_CLIENT, 5000));
	mark(c);
	for (i = 1; i <= 4; i++)
		send_request(c, i, 424242);
	assert_int_equal(answers(c, 4, &limited), 4);
	assert_true(limited >= 2); /* a token a second came back, not five */
	peer_close(c);
}

/* The defaults let a device ask for its resources at start, tens at once. */
static void test_default_burst(void **state)
{
	struct fx *f = *state;
	struct peer *c = client_up(f);
	size_t limited;

	for (uint64_t i = 1; i <= 60; i++)
		send_request(c, i, 424242);
	assert_int_equal(answers(c, 60, &limited), 60);
	assert_int_equal(limited, 0);
	peer_close(c);
}

/* Rows stored now, without flushing the queue. */
static void count_stored(struct fx *f, void *arg)
{
	json_t *items = NULL;

	assert_int_equal(store_list(f->st, "flows", NULL, 0, 0, &items, NULL, NULL), 0);
	*(size_t *)arg = json_array_size(items);
	json_decref(items);
}

/* With a long delay, rows wait in the queue for a full batch, a reader's
 * flush, or the hub's end. */
static void test_flow_batches(void **state)
{
	struct fx *f = *state;
	struct peer *c, *c2;
	json_t *items = NULL;
	size_t limited, n = 0, stored;
	uint64_t i, end;

	fx_stop(f);
	fx_flow_delay_ms = 60000;
	fx_start(f);
	settings(f, "{\"access_request_rate\": 0}");
	c = client_up(f);
	for (i = 1; i <= 100; i++)
		send_request(c, i, 424242);
	assert_int_equal(answers(c, 100, &limited), 100);
	srv_run(f, count_stored, &n);
	assert_int_equal(n, 0); /* queued */
	/* a full batch is written at the next tick (another device: a peer
	 * records MAX_RECS frames) */
	c2 = client_up(f);
	for (i = 1; i <= HUB_FLOW_BATCH - 50; i++)
		send_request(c2, i, 424242);
	assert_int_equal(answers(c2, HUB_FLOW_BATCH - 50, &limited), HUB_FLOW_BATCH - 50);
	end = time_mono_ns() + 5 * NSEC_PER_SEC;
	do
		srv_run(f, count_stored, &n);
	while (n < HUB_FLOW_BATCH && time_mono_ns() < end);
	/* the whole queue when it reached a batch (answers may have come after) */
	assert_true(n >= HUB_FLOW_BATCH && n <= HUB_FLOW_BATCH + 50);
	stored = n;
	/* ten more wait with the rest, and are written when the hub ends */
	mark(c);
	for (i = 101; i <= 110; i++)
		send_request(c, i, 424242);
	assert_int_equal(answers(c, 10, &limited), 10);
	srv_run(f, count_stored, &n);
	assert_int_equal(n, stored);
	fx_stop(f);
	fx_flow_delay_ms = 0;
	assert_int_equal(store_list(f->st, "flows", NULL, 0, 0, &items, NULL, NULL), 0);
	assert_int_equal(json_array_size(items), HUB_FLOW_BATCH + 60);
	json_decref(items);
	peer_close(c);
	peer_close(c2);
}

static void add_rows(struct fx *f, void *arg)
{
	json_t *flows = json_array(), *row;
	struct store_err err = { 0 };
	int n = *(int *)arg;

	for (int i = 0; i < n; i++)
		json_array_append_new(flows, json_pack("{ss}", "event", "denied"));
	if (store_append(f->st, "flows", flows, &err) < 0)
		fail_msg("flows: %s", err.msg);
	json_decref(flows);
	row = J("{\"action\": \"create\", \"entity\": \"sites\"}");
	assert_int_equal(store_create(f->st, "audit", row, NULL, &err), 0);
	json_decref(row);
}

/* Waits until entity has n rows; the count it last saw. */
static size_t wait_rows(struct fx *f, const char *entity, size_t n)
{
	uint64_t end = time_mono_ns() + 5 * NSEC_PER_SEC;
	size_t have;

	while ((have = rows(f, entity, NULL)) != n && time_mono_ns() < end)
		ctl_loop_run(f->loop, 20);
	return have;
}

static void test_retention(void **state)
{
	struct fx *f = *state;
	const int64_t t0 = 1790000000;
	size_t audit;
	int n = 2500; /* more than two batches */

	/* the pass of the hub's first tick is over (it runs after the first
	 * srv_run's work, the second waits for the next tick): no pass reads the
	 * clock while it moves below, until HUB_PRUNE_EVERY_S */
	rows(f, "flows", NULL);
	rows(f, "flows", NULL);
	atomic_store(&f->now, t0);
	srv_run(f, add_rows, &n);
	/* 100 days on: one young row of each */
	atomic_store(&f->now, t0 + 100 * 86400);
	n = 1;
	srv_run(f, add_rows, &n);
	audit = rows(f, "audit", NULL);
	/* retention 0: a pass (at the tick after the change, which ends before
	 * the next srv_run starts) deletes nothing */
	settings(f, "{\"flow_retention_days\": 0, \"audit_retention_days\": 0}");
	assert_int_equal(rows(f, "flows", NULL), 2501);
	assert_int_equal(rows(f, "audit", NULL), audit);
	/* 90 days: the old rows go, a batch at a time, the young stay */
	settings(f, "{\"flow_retention_days\": 90}");
	assert_int_equal(wait_rows(f, "flows", 1), 1);
	assert_int_equal(rows(f, "audit", NULL), audit);
	settings(f, "{\"audit_retention_days\": 90}");
	assert_int_equal(wait_rows(f, "audit", audit - 1), audit - 1);
	assert_int_equal(rows(f, "flows", NULL), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rate_limited, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_reconnect, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_default_burst, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_flow_batches, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_retention, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
