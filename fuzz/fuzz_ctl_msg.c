/* Fuzzes control-frame decoding, as each of the four readers.
 *
 * A refusal must be one of the documented errors, leave the message all zero
 * (nothing to free) and explain itself in printable ASCII naming a field. What
 * decodes must stay within every cap and encode — the decoder's output is a
 * valid message — and the encoding must decode again, as the same reader, to
 * an equal message (byte for byte, lists included) and encode to the very same
 * bytes: one canonical form. ASan/LSan see every allocation freed. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/msg.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Not assert(): release builds define NDEBUG. */
#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

static bool msg_equal(const struct ctl_msg *a, const struct ctl_msg *b)
{
	struct ctl_msg x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	x.resources = y.resources = NULL;
	x.auths = y.auths = NULL;
	x.flows = y.flows = NULL;
	return !memcmp(&x, &y, sizeof(x)) &&
	       (!a->n_resources ||
		!memcmp(a->resources, b->resources, a->n_resources * sizeof(*a->resources))) &&
	       (!a->n_auths || !memcmp(a->auths, b->auths, a->n_auths * sizeof(*a->auths))) &&
	       (!a->n_flows || !memcmp(a->flows, b->flows, a->n_flows * sizeof(*a->flows)));
}

static void check_resource(const struct ctl_resource *r)
{
	CHECK(r->id >= 1 && r->id <= CTL_ID_MAX);
	CHECK(r->n_filters <= CTL_FILTERS_MAX);
	CHECK(memchr(r->address, '\0', sizeof(r->address)));
	CHECK(memchr(r->name, '\0', sizeof(r->name)) && r->name[0]);
	for (unsigned i = 0; i < r->n_filters; i++)
		CHECK(r->filters[i].port_lo <= r->filters[i].port_hi);
}

static void check_caps(const struct ctl_msg *m, enum ctl_role role)
{
	CHECK(m->n_upstreams <= CTL_UPSTREAMS_MAX);
	CHECK(m->n_resources <= CTL_LIST_MAX && (m->resources != NULL) == (m->n_resources > 0));
	CHECK(m->n_auths <= CTL_LIST_MAX && (m->auths != NULL) == (m->n_auths > 0));
	CHECK(m->n_flows <= CTL_LIST_MAX && (m->flows != NULL) == (m->n_flows > 0));
	CHECK(m->gateway.n_endpoints <= CTL_ENDPOINTS_MAX);
	if (m->type == CTL_INIT_CLIENT)
		CHECK(role == CTL_ROLE_CLIENT);
	if (m->type == CTL_INIT_GATEWAY)
		CHECK(role == CTL_ROLE_GATEWAY);
	if (m->type == CTL_ACCESS_GRANTED)
		CHECK(m->gateway.n_endpoints >= 1);
	if (m->type == CTL_RESOURCE_UPSERT || m->type == CTL_AUTHORIZE)
		check_resource(&m->resource);
	for (size_t i = 0; i < m->n_resources; i++)
		check_resource(&m->resources[i]);
	for (size_t i = 0; i < m->n_auths; i++)
		check_resource(&m->auths[i].resource);
}

static void check_role(const uint8_t *data, size_t size, enum ctl_role role)
{
	struct ctl_msg m, d;
	struct buf b, b2;
	char err[256];
	int r = ctl_msg_decode((const char *)data, size, role, &m, err, sizeof(err));

	if (r < 0) {
		CHECK(r == -EBADMSG || r == -E2BIG || r == -ENOTSUP || r == -ENOMEM);
		CHECK(all_zero(&m, sizeof(m)));
		CHECK(printable(err) && strstr(err, ": "));
		return;
	}
	CHECK(err[0] == '\0');
	check_caps(&m, role);

	buf_init(&b, 2 * CTL_FRAME_MAX);
	r = ctl_msg_encode(&m, &b);
	/* Canonical text may be longer (IPv4-mapped IPv6 written dotted), so only
	 * a frame near the limit may fail to encode back under it. */
	CHECK(r == 0 || (r == -E2BIG && size > CTL_FRAME_MAX / 2));
	if (r == 0) {
		CHECK(ctl_msg_decode((const char *)b.data, b.len, role, &d, err, sizeof(err)) == 0);
		CHECK(msg_equal(&m, &d));
		buf_init(&b2, 2 * CTL_FRAME_MAX);
		CHECK(ctl_msg_encode(&d, &b2) == 0);
		CHECK(b2.len == b.len && !memcmp(b2.data, b.data, b.len));
		buf_wipe(&b2);
		ctl_msg_free(&d);
		CHECK(all_zero(&d, sizeof(d)));
	}
	buf_wipe(&b);
	ctl_msg_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_role(data, size, CTL_ROLE_CLIENT);
	check_role(data, size, CTL_ROLE_GATEWAY);
	check_role(data, size, CTL_ROLE_PORTAL_FROM_CLIENT);
	check_role(data, size, CTL_ROLE_PORTAL_FROM_GATEWAY);
	return 0;
}
