/* Control-plane messages: every type encoded and decoded back whole, by every
 * role (the wrong ones refuse); frames derived from those by deleting each field
 * and giving each the wrong JSON type (generated from the tree, so no field is
 * forgotten); a table of bad values, each with the error and the field named;
 * whole-frame refusals; list caps; the encoder refusing what would not decode;
 * truncation sweeps. */
#include "ctl_msg_test.h"

static void test_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(examples); i++) {
		const struct example *ex = &examples[i];
		struct ctl_msg m, d;
		char err[256], *s, *again;

		build(ex, &m);
		s = encode(&m);
		for (int role = CTL_ROLE_CLIENT; role <= CTL_ROLE_PORTAL_FROM_GATEWAY; role++) {
			int r = ctl_msg_decode(s, strlen(s), role, &d, err, sizeof(err));

			if (!(ex->readers & (1u << role))) {
				/* the other side's init is an init with the wrong fields */
				bool init = m.type == CTL_INIT_CLIENT || m.type == CTL_INIT_GATEWAY;
				bool other = role == CTL_ROLE_CLIENT || role == CTL_ROLE_GATEWAY;
				const char *want = !(init && other) ? "type: \"" :
						   role == CTL_ROLE_CLIENT ? "dns: missing" :
						   "authorizations: missing";

				if (r != (init && other ? -EBADMSG : -ENOTSUP) || !strstr(err, want))
					fail_msg("%s as role %d: %d %s", ex->name, role, r, err);
				continue;
			}
			if (r != 0)
				fail_msg("%s as role %d: %d %s\n%s", ex->name, role, r, err, s);
			if (!msg_equal(&m, &d))
				fail_msg("%s as role %d: decoded message differs\n%s", ex->name,
					 role, s);
			/* and the encoding is canonical: the same bytes again */
			again = encode(&d);
			assert_string_equal(again, s);
			free(again);
			ctl_msg_free(&d);
			assert_true(all_zero(&d, sizeof(d)));
		}
		free(s);
	}
}

/* The examples of docs/protocol.md, byte for byte. */
static void test_doc_examples(void **state)
{
	static const char granted[] =
		"{\"type\":\"access_granted\",\"req\":7,\"resource_id\":42,\"gateway\":{\"id\":3,"
		"\"public_key\":\"AwoRGB8mLTQ7QklQV15lbHN6gYiPlp2kq7K5wMfO1Vw=\",\"endpoints\":"
		"[\"gw1.example.com:51820\",\"[2001:db8::2]:51820\",\"198.51.100.1:65535\"],"
		"\"tunnel_ipv4\":\"100.64.0.1\",\"tunnel_ipv6\":\"fd00:2021:1111::1\"},"
		"\"psk\":\"yM/W3eTr8vkABw4VHCMqMTg/Rk1UW2JpcHd+hYyTmiE=\",\"expires_at\":1790000000}";
	static const char upsert[] =
		"{\"type\":\"resource_upsert\",\"resource\":{\"id\":42,\"type\":\"dns\","
		"\"address\":\"*.corp.example.com\",\"name\":\"Intranet \\\"wiki\\\" — é\","
		"\"filters\":[{\"protocol\":\"tcp\",\"ports\":\"443\"},{\"protocol\":\"udp\","
		"\"ports\":\"8000-8100\"},{\"protocol\":\"icmp\"},{\"protocol\":\"tcp\"}]}}";
	static const char init_who[] =
		"{\"type\":\"init\",\"tunnel\":{\"ipv4\":\"100.64.0.5\",\"ipv6\":"
		"\"fd00:2021:1111::5\"},\"dns\":{\"upstreams\":[]},\"resources\":[],\"user\":"
		"{\"id\":5,\"name\":\"Alice \\\"Ünal\\\" 😀\"},\"device\":{\"id\":9,"
		"\"name\":\"laptop\"}}";
	static const char offline[] = "{\"type\":\"gateway_offline\",\"gateway_id\":3}";
	struct ctl_msg m;
	char *s;

	(void)state;
	build(example("access_granted"), &m);
	s = encode(&m);
	assert_string_equal(s, granted);
	free(s);
	build(example("resource_upsert"), &m);
	s = encode(&m);
	assert_string_equal(s, upsert);
	free(s);
	build(example("init_client_who"), &m);
	s = encode(&m);
	assert_string_equal(s, init_who);
	free(s);
	build(example("gateway_offline"), &m);
	s = encode(&m);
	assert_string_equal(s, offline);
	free(s);
}

/* An older portal's init has neither user nor device: zeros, as for null; a
 * device's name may be empty, a user's may not. */
static void test_init_who(void **state)
{
	static const char older[] =
		"{\"type\":\"init\",\"tunnel\":{\"ipv4\":\"100.64.0.5\",\"ipv6\":\"fd00::5\"},"
		"\"dns\":{\"upstreams\":[]},\"resources\":[]%s}";
	static const struct {
		const char *extra;
		int rc;
		uint64_t user_id, device_id;
		const char *user_name, *device_name;
	} cases[] = {
		{ "", 0, 0, 0, "", "" },
		{ ",\"user\":null,\"device\":null", 0, 0, 0, "", "" },
		{ ",\"device\":{\"id\":4,\"name\":\"\"}", 0, 0, 4, "", "" },
		{ ",\"user\":{\"id\":2,\"name\":\"bob\"}", 0, 2, 0, "bob", "" },
		{ ",\"user\":{\"id\":2,\"name\":\"bob\"},\"device\":{\"id\":4,\"name\":\"pc\"}",
		  0, 2, 4, "bob", "pc" },
		{ ",\"user\":{\"id\":2,\"name\":\"\"}", -EBADMSG, 0, 0, "", "" },
		{ ",\"device\":{\"id\":0,\"name\":\"pc\"}", -EBADMSG, 0, 0, "", "" },
		{ ",\"device\":\"pc\"", -EBADMSG, 0, 0, "", "" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char frame[512], err[256];
		struct ctl_msg m;
		int r;

		snprintf(frame, sizeof(frame), older, cases[i].extra);
		r = ctl_msg_decode(frame, strlen(frame), CTL_ROLE_CLIENT, &m, err, sizeof(err));
		if (r != cases[i].rc)
			fail_msg("case %zu: %d (%s), want %d", i, r, err, cases[i].rc);
		if (r < 0) {
			assert_true(all_zero(&m, sizeof(m)));
			continue;
		}
		assert_int_equal(m.type, CTL_INIT_CLIENT);
		assert_int_equal(m.user.id, cases[i].user_id);
		assert_string_equal(m.user.name, cases[i].user_name);
		assert_int_equal(m.device.id, cases[i].device_id);
		assert_string_equal(m.device.name, cases[i].device_name);
		ctl_msg_free(&m);
	}
}

/* ---- generated: every field missing, of the wrong type, or joined by unknown ones */

static void test_each_field(void **state)
{
	static struct paths ps;
	char path[128] = "", want[160];
	unsigned cases = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(examples); i++) {
		const struct example *ex = &examples[i];
		json_t *root = example_tree(ex);

		ps.n = 0;
		collect(root, path, 0, &ps);
		for (size_t k = 0; k < ps.n; k++) {
			const char *p = ps.p[k];
			json_t *v = get_path(root, p);
			json_t *wrong[2];

			/* missing (and null, which reads as missing) */
			if (p[strlen(p) - 1] != ']') {
				snprintf(want, sizeof(want), "%s: missing", p);
				mutate_expect(root, ex, p, NULL, optional(p) ? 0 : -EBADMSG,
					      optional(p) ? NULL : want);
				mutate_expect(root, ex, p, json_null(), optional(p) ? 0 : -EBADMSG,
					      optional(p) ? NULL : want);
				cases += 2;
			}
			switch (json_typeof(v)) {
			case JSON_OBJECT:
				wrong[0] = json_array();
				wrong[1] = json_integer(7);
				break;
			case JSON_ARRAY:
				wrong[0] = json_object();
				wrong[1] = json_string("x");
				break;
			case JSON_STRING:
				wrong[0] = json_integer(7);
				wrong[1] = json_true();
				break;
			case JSON_INTEGER:
				wrong[0] = json_string("7");
				wrong[1] = json_real(1.5);
				break;
			default:
				fail_msg("%s: unexpected JSON at %s", ex->name, p);
				return;
			}
			snprintf(want, sizeof(want), "%s: expected ", p);
			mutate_expect(root, ex, p, wrong[0], -EBADMSG, want);
			mutate_expect(root, ex, p, wrong[1], -EBADMSG, want);
			cases += 2;
		}
		json_decref(root);
	}
	assert_true(cases > 300);
}

/* An unknown field in any object changes nothing. */
static void test_unknown_fields(void **state)
{
	static struct paths ps;
	char path[128] = "";

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(examples); i++) {
		const struct example *ex = &examples[i];
		json_t *root = example_tree(ex), *all = json_deep_copy(root);
		struct ctl_msg m, d;
		char err[256], *s;

		build(ex, &m);
		ps.n = 0;
		collect(root, path, 0, &ps);
		for (size_t k = 0; k <= ps.n; k++) {
			json_t *obj = k < ps.n ? get_path(all, ps.p[k]) : all;

			if (json_is_object(obj))
				json_object_set_new(obj, "zz_future",
						    json_pack("{s:[i,s],s:n}", "a", 1, "x", "b"));
		}
		s = dump(all);
		if (ctl_msg_decode(s, strlen(s), ex->role, &d, err, sizeof(err)) != 0)
			fail_msg("%s with unknown fields: %s\n%s", ex->name, err, s);
		if (d.type == m.type)
			assert_true(msg_equal(&m, &d));
		ctl_msg_free(&d);
		free(s);
		json_decref(all);
		json_decref(root);
	}
}

/* ---- a table of bad (and borderline good) values ----------------------------- */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_doc_examples),
		cmocka_unit_test(test_init_who),
		cmocka_unit_test(test_each_field),
		cmocka_unit_test(test_unknown_fields),
	};

	return cmocka_run_group_tests_name("ctl_msg", tests, NULL, NULL);
}
