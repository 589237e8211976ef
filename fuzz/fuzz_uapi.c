/* The UAPI codec: the input is a connection's byte stream, framed request by
 * request as the server does; every set body is parsed, and whatever parses must
 * format and parse back to the same structure. The whole input is also tried as
 * a bare body, so the parser is reached without the "set=1\n" prefix. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "wg/uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_or_die(const struct uapi_set *a, const struct uapi_set *b)
{
	if (a->flags != b->flags || a->listen_port != b->listen_port ||
	    a->fwmark != b->fwmark || memcmp(a->private_key, b->private_key, UAPI_KEY_LEN) ||
	    a->n_peers != b->n_peers || a->n_allowed_ips != b->n_allowed_ips ||
	    (a->n_allowed_ips && memcmp(a->allowed_ips, b->allowed_ips,
					a->n_allowed_ips * sizeof(*a->allowed_ips))))
		abort();
	for (size_t i = 0; i < a->n_peers; i++) {
		const struct uapi_set_peer *p = &a->peers[i], *q = &b->peers[i];

		if (p->flags != q->flags || p->persistent_keepalive != q->persistent_keepalive ||
		    p->n_allowed_ips != q->n_allowed_ips ||
		    memcmp(p->public_key, q->public_key, UAPI_KEY_LEN) ||
		    memcmp(p->preshared_key, q->preshared_key, UAPI_KEY_LEN) ||
		    memcmp(&p->endpoint, &q->endpoint, sizeof(p->endpoint)))
			abort();
	}
}

static void body(const char *text, size_t len)
{
	struct uapi_set set, again;
	struct buf out;

	if (wg_uapi_parse_set(text, len, &set)) {
		wg_uapi_set_free(&set);
		return;
	}
	buf_init(&out, 64 << 20);
	if (wg_uapi_format_set(&out, &set) || out.len < 6 ||
	    wg_uapi_parse_set((const char *)out.data + 6, out.len - 6, &again))
		abort();
	same_or_die(&set, &again);
	/* the get side too, on the same peers */
	buf_reset(&out);
	for (size_t i = 0; i < set.n_peers; i++) {
		struct uapi_peer_info pi = {
			.endpoint = set.peers[i].endpoint,
			.allowed_ips = set.peers[i].allowed_ips,
			.n_allowed_ips = set.peers[i].n_allowed_ips,
		};

		if (wg_uapi_format_peer(&out, &pi))
			abort();
	}
	wg_uapi_set_free(&again);
	wg_uapi_set_free(&set);
	buf_wipe(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t off = 0, scan = 0;

	while (off < size) {
		struct uapi_request req;

		wg_uapi_frame(s + off, size - off, true, &scan, &req);
		if (req.op == UAPI_OP_SET)
			body(req.body, req.body_len);
		if (req.op != UAPI_OP_GET && req.op != UAPI_OP_BAD_GET && req.op != UAPI_OP_SET)
			break;
		if (req.len == 0 || req.len > size - off)
			abort();
		off += req.len;
	}
	body(s, size);
	return 0;
}
