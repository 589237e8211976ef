/* The UAPI codec. Behaviour follows wireguard-go's device/uapi.go (what the stock
 * `wg` is tested against) and wireguard-tools' src/ipc-uapi.h (what `wg` sends and
 * how it reads our answers); differences are noted where they are made. */
#include "wg/uapi.h"

#include "lib/buf.h"
#include "wg/pubkey.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small parsers ------------------------------------------------------ */

/* Hex digit value or -1, without branches or tables on the key material:
 * (lo - 1 - c) & (c - hi - 1) is negative exactly when lo <= c <= hi. */
static int hex_nibble(unsigned char ch)
{
	int c = ch, lc = ch | 0x20, v = -1;

	v += ((('0' - 1 - c) & (c - '9' - 1)) >> 8) & (c - '0' + 1);
	v += ((('a' - 1 - lc) & (lc - 'f' - 1)) >> 8) & (lc - 'a' + 11);
	return v;
}

static char hex_digit(unsigned n)
{
	int d = (int)n;

	/* '0'+n, plus the gap to 'a' when n > 9 */
	return (char)('0' + d + (((9 - d) >> 8) & ('a' - '0' - 10)));
}

/* Exactly 64 hex digits, either case (Go's hex.DecodeString). */
static bool key_from_hex(uint8_t key[UAPI_KEY_LEN], const char *s, size_t len)
{
	int bad = 0;

	if (len != 2 * UAPI_KEY_LEN)
		return false;
	for (size_t i = 0; i < UAPI_KEY_LEN; i++) {
		int hi = hex_nibble((unsigned char)s[2 * i]);
		int lo = hex_nibble((unsigned char)s[2 * i + 1]);

		bad |= hi | lo;
		key[i] = (uint8_t)(((unsigned)hi << 4) | ((unsigned)lo & 0xf));
	}
	if (bad < 0) {
		explicit_bzero(key, UAPI_KEY_LEN);
		return false;
	}
	return true;
}

static bool key_is_zero(const uint8_t key[UAPI_KEY_LEN])
{
	uint8_t acc = 0;

	for (size_t i = 0; i < UAPI_KEY_LEN; i++)
		acc |= key[i];
	return acc == 0;
}

/* Decimal digits only, leading zeros allowed, like Go's strconv.ParseUint. */
static bool parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* Copies s[0..len) into a C string for inet_pton; false if it does not fit or
 * holds a NUL (which would cut the text short). */
static bool to_cstr(char *dst, size_t cap, const char *s, size_t len)
{
	if (len >= cap || memchr(s, '\0', len))
		return false;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return true;
}

static bool is(const char *s, size_t len, const char *lit)
{
	return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

/* A scope: a number or an interface name ("[fe80::1%eth0]:51820", which `wg`
 * sends for a link-local endpoint). */
static bool parse_zone(const char *zone, uint32_t *scope)
{
	uint64_t v;

	if (parse_uint(zone, strlen(zone), UINT32_MAX, &v)) {
		*scope = (uint32_t)v;
		return true;
	}
	*scope = if_nametoindex(zone);
	return *scope != 0;
}

/* "a.b.c.d:port" or "[v6%zone]:port", numeric only, port 0-65535: what
 * wireguard-go accepts through netip.ParseAddrPort. */
static int parse_endpoint(const char *v, size_t len, union uapi_endpoint *ep)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
	const char *h, *port;
	size_t hlen, plen;
	uint64_t p;
	char *pct;
	bool v6;

	memset(ep, 0, sizeof(*ep));
	if (len && v[0] == '[') {
		const char *end = memchr(v, ']', len);

		if (!end || (size_t)(end - v) + 1 >= len || end[1] != ':')
			return -EINVAL;
		h = v + 1;
		hlen = (size_t)(end - h);
		port = end + 2;
		v6 = true;
	} else {
		const char *colon = memrchr(v, ':', len);

		if (!colon)
			return -EINVAL;
		h = v;
		hlen = (size_t)(colon - v);
		port = colon + 1;
		v6 = false;
	}
	plen = (size_t)(v + len - port);
	if (!parse_uint(port, plen, UINT16_MAX, &p) || !to_cstr(host, sizeof(host), h, hlen))
		return -EINVAL;
	if (!v6) {
		if (inet_pton(AF_INET, host, &ep->in4.sin_addr) != 1)
			return -EINVAL;
		ep->in4.sin_family = AF_INET;
		ep->in4.sin_port = htons((uint16_t)p);
		return 0;
	}
	pct = strchr(host, '%');
	if (pct) {
		*pct++ = '\0';
		if (!parse_zone(pct, &ep->in6.sin6_scope_id))
			goto bad;
	}
	if (inet_pton(AF_INET6, host, &ep->in6.sin6_addr) != 1)
		goto bad;
	ep->in6.sin6_family = AF_INET6;
	ep->in6.sin6_port = htons((uint16_t)p);
	return 0;
bad:
	memset(ep, 0, sizeof(*ep));
	return -EINVAL;
}

/* "[-]addr/cidr", v4 or v6, no zone: netip.ParsePrefix plus the '-' that
 * wireguard-go and wireguard-tools use to remove one entry. */
static int parse_allowed_ip(const char *v, size_t len, struct uapi_allowed_ip *a)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash;
	uint64_t cidr;

	memset(a, 0, sizeof(*a));
	if (len && v[0] == '-') {
		a->remove = true;
		v++;
		len--;
	}
	slash = memchr(v, '/', len);
	if (!slash || !to_cstr(addr, sizeof(addr), v, (size_t)(slash - v)))
		return -EINVAL;
	a->family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(a->family, addr, a->family == AF_INET ? (void *)&a->ip4 : (void *)&a->ip6) != 1)
		return -EINVAL;
	if (!parse_uint(slash + 1, (size_t)(v + len - slash - 1),
			a->family == AF_INET ? 32 : 128, &cidr))
		return -EINVAL;
	a->cidr = (uint8_t)cidr;
	return 0;
}

/* ---- set parser --------------------------------------------------------- */

struct parse_ctx {
	struct uapi_set *set;
	size_t peers_cap, aips_cap;
	size_t first_aip; /* where the current section's allowed IPs start */
	bool dead;        /* section removed: later lines are checked, not kept */
};

/* Grows the peer array by copying, so the old block (with preshared keys) can be
 * wiped before it is freed; realloc would leave it behind. */
static int peers_grow(struct parse_ctx *ctx)
{
	struct uapi_set *set = ctx->set;
	size_t cap = ctx->peers_cap ? ctx->peers_cap * 2 : 8;
	struct uapi_set_peer *p;

	if (cap > UAPI_MAX_PEERS)
		cap = UAPI_MAX_PEERS;
	p = calloc(cap, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (set->peers) {
		memcpy(p, set->peers, set->n_peers * sizeof(*p));
		explicit_bzero(set->peers, set->n_peers * sizeof(*p));
		free(set->peers);
	}
	set->peers = p;
	ctx->peers_cap = cap;
	return 0;
}

static int aip_append(struct parse_ctx *ctx, const struct uapi_allowed_ip *a)
{
	struct uapi_set *set = ctx->set;

	if (set->n_allowed_ips == UAPI_MAX_ALLOWED_IPS)
		return -E2BIG;
	if (set->n_allowed_ips == ctx->aips_cap) {
		size_t cap = ctx->aips_cap ? ctx->aips_cap * 2 : 16;
		struct uapi_allowed_ip *p;

		if (cap > UAPI_MAX_ALLOWED_IPS)
			cap = UAPI_MAX_ALLOWED_IPS;
		p = realloc(set->allowed_ips, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		set->allowed_ips = p;
		ctx->aips_cap = cap;
	}
	set->allowed_ips[set->n_allowed_ips++] = *a;
	set->peers[set->n_peers - 1].n_allowed_ips++;
	return 0;
}

/* The section's allowed IPs so far no longer matter (replace or remove). */
static void aips_truncate(struct parse_ctx *ctx)
{
	ctx->set->n_allowed_ips = ctx->first_aip;
	ctx->set->peers[ctx->set->n_peers - 1].n_allowed_ips = 0;
}

static int start_peer(struct parse_ctx *ctx, const char *v, size_t len)
{
	struct uapi_set *set = ctx->set;
	uint8_t key[UAPI_KEY_LEN];
	int ret;

	/* A non-canonical or small-order key could never complete a handshake:
	 * the request is refused before anything of it applies, as any bad value
	 * (wireguard-go would take it and fail later, peer by peer). */
	if (!key_from_hex(key, v, len) || !wg_pubkey_ok(key))
		return -EINVAL;
	if (set->n_peers == UAPI_MAX_PEERS)
		return -E2BIG;
	if (set->n_peers == ctx->peers_cap) {
		ret = peers_grow(ctx);
		if (ret)
			return ret;
	}
	memcpy(set->peers[set->n_peers++].public_key, key, UAPI_KEY_LEN);
	ctx->first_aip = set->n_allowed_ips;
	ctx->dead = false;
	return 0;
}

static int device_line(struct uapi_set *set, const char *k, size_t klen,
		       const char *v, size_t vlen)
{
	uint64_t n;

	if (is(k, klen, "private_key")) {
		if (!key_from_hex(set->private_key, v, vlen))
			return -EINVAL;
		/* all zero means "remove", which must stay zero */
		if (!key_is_zero(set->private_key)) {
			set->private_key[0] &= 248;
			set->private_key[31] = (set->private_key[31] & 127) | 64;
		}
		set->flags |= UAPI_SET_PRIVATE_KEY;
	} else if (is(k, klen, "listen_port")) {
		if (!parse_uint(v, vlen, UINT16_MAX, &n))
			return -EINVAL;
		set->listen_port = (uint16_t)n;
		set->flags |= UAPI_SET_LISTEN_PORT;
	} else if (is(k, klen, "fwmark")) {
		if (!parse_uint(v, vlen, UINT32_MAX, &n))
			return -EINVAL;
		set->fwmark = (uint32_t)n;
		set->flags |= UAPI_SET_FWMARK;
	} else if (is(k, klen, "replace_peers")) {
		if (!is(v, vlen, "true"))
			return -EINVAL;
		set->flags |= UAPI_SET_REPLACE_PEERS;
	} else {
		return -EINVAL; /* includes peer keys before any public_key */
	}
	return 0;
}

/* Every value is checked even in a removed section, as wireguard-go does. */
static int peer_line(struct parse_ctx *ctx, const char *k, size_t klen,
		     const char *v, size_t vlen)
{
	struct uapi_set_peer *peer = &ctx->set->peers[ctx->set->n_peers - 1];
	uint64_t n;

	if (is(k, klen, "update_only")) {
		if (!is(v, vlen, "true"))
			return -EINVAL;
		if (!ctx->dead)
			peer->flags |= UAPI_PEER_UPDATE_ONLY;
	} else if (is(k, klen, "remove")) {
		if (!is(v, vlen, "true"))
			return -EINVAL;
		if (!ctx->dead) {
			aips_truncate(ctx);
			explicit_bzero(peer->preshared_key, UAPI_KEY_LEN);
			memset(&peer->endpoint, 0, sizeof(peer->endpoint));
			peer->persistent_keepalive = 0;
			peer->flags = UAPI_PEER_REMOVE;
			ctx->dead = true;
		}
	} else if (is(k, klen, "preshared_key")) {
		uint8_t psk[UAPI_KEY_LEN];

		if (!key_from_hex(psk, v, vlen))
			return -EINVAL;
		if (!ctx->dead) {
			memcpy(peer->preshared_key, psk, UAPI_KEY_LEN);
			peer->flags |= UAPI_PEER_PRESHARED_KEY;
		}
		explicit_bzero(psk, sizeof(psk));
	} else if (is(k, klen, "endpoint")) {
		union uapi_endpoint ep;

		if (parse_endpoint(v, vlen, &ep))
			return -EINVAL;
		if (!ctx->dead) {
			peer->endpoint = ep;
			peer->flags |= UAPI_PEER_ENDPOINT;
		}
	} else if (is(k, klen, "persistent_keepalive_interval")) {
		if (!parse_uint(v, vlen, UINT16_MAX, &n))
			return -EINVAL;
		if (!ctx->dead) {
			peer->persistent_keepalive = (uint16_t)n;
			peer->flags |= UAPI_PEER_KEEPALIVE;
		}
	} else if (is(k, klen, "replace_allowed_ips")) {
		if (!is(v, vlen, "true"))
			return -EINVAL;
		if (!ctx->dead) {
			aips_truncate(ctx);
			peer->flags |= UAPI_PEER_REPLACE_ALLOWED_IPS;
		}
	} else if (is(k, klen, "allowed_ip")) {
		struct uapi_allowed_ip a;

		if (parse_allowed_ip(v, vlen, &a))
			return -EINVAL;
		if (!ctx->dead)
			return aip_append(ctx, &a);
	} else if (is(k, klen, "protocol_version")) {
		if (!is(v, vlen, "1"))
			return -EINVAL;
	} else {
		return -EINVAL; /* includes device keys after a public_key */
	}
	return 0;
}

static int parse_line(struct parse_ctx *ctx, const char *line, size_t len)
{
	const char *eq = memchr(line, '=', len);
	size_t klen;

	if (!eq)
		return -EPROTO;
	klen = (size_t)(eq - line);
	if (is(line, klen, "public_key"))
		return start_peer(ctx, eq + 1, len - klen - 1);
	if (ctx->set->n_peers == 0)
		return device_line(ctx->set, line, klen, eq + 1, len - klen - 1);
	return peer_line(ctx, line, klen, eq + 1, len - klen - 1);
}

int wg_uapi_parse_set(const char *body, size_t len, struct uapi_set *out)
{
	struct parse_ctx ctx = { .set = out };
	size_t pos = 0, line = 0, off = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	if (len > UAPI_MAX_REQUEST)
		return -E2BIG;
	for (;;) {
		const char *nl = pos < len ? memchr(body + pos, '\n', len - pos) : NULL;
		size_t llen;

		line++;
		if (!nl) {
			ret = -EPROTO; /* last line unterminated, or no empty line */
			goto fail;
		}
		llen = (size_t)(nl - (body + pos));
		if (llen == 0)
			break;
		ret = parse_line(&ctx, body + pos, llen);
		if (ret)
			goto fail;
		pos += llen + 1;
	}
	if (pos + 1 != len) {
		ret = -EPROTO; /* something after the empty line */
		goto fail;
	}
	/* The sections' allowed IPs are contiguous and in order: hand out slices
	 * only now that the array has stopped moving. */
	for (size_t i = 0; i < out->n_peers; i++) {
		struct uapi_set_peer *p = &out->peers[i];

		p->allowed_ips = p->n_allowed_ips ? out->allowed_ips + off : NULL;
		off += p->n_allowed_ips;
	}
	return 0;
fail:
	wg_uapi_set_free(out);
	out->error_line = line;
	return ret;
}

void wg_uapi_set_free(struct uapi_set *set)
{
	if (set->peers) {
		explicit_bzero(set->peers, set->n_peers * sizeof(*set->peers));
		free(set->peers);
	}
	free(set->allowed_ips);
	explicit_bzero(set, sizeof(*set));
}

/* ---- formatting --------------------------------------------------------- */

static int put_key(struct buf *out, const char *name, const uint8_t key[UAPI_KEY_LEN])
{
	char line[32 + 2 * UAPI_KEY_LEN];
	size_t n = strlen(name);
	int ret;

	memcpy(line, name, n);
	line[n++] = '=';
	for (size_t i = 0; i < UAPI_KEY_LEN; i++) {
		line[n++] = hex_digit(key[i] >> 4);
		line[n++] = hex_digit(key[i] & 0xf);
	}
	line[n++] = '\n';
	ret = buf_append(out, line, n);
	explicit_bzero(line, sizeof(line));
	return ret;
}

/* As wireguard-go's DstToString: "1.2.3.4:5", "[fe80::1%eth0]:5". */
static int put_endpoint(struct buf *out, const union uapi_endpoint *ep)
{
	char addr[INET6_ADDRSTRLEN], zone[IF_NAMESIZE + 12] = "";

	if (ep->sa.sa_family == AF_INET) {
		if (!inet_ntop(AF_INET, &ep->in4.sin_addr, addr, sizeof(addr)))
			return -EINVAL;
		return buf_printf(out, "endpoint=%s:%u\n", addr, ntohs(ep->in4.sin_port));
	}
	if (ep->sa.sa_family != AF_INET6)
		return 0;
	if (!inet_ntop(AF_INET6, &ep->in6.sin6_addr, addr, sizeof(addr)))
		return -EINVAL;
	if (ep->in6.sin6_scope_id) {
		char name[IF_NAMESIZE];

		if (if_indextoname(ep->in6.sin6_scope_id, name))
			snprintf(zone, sizeof(zone), "%%%s", name);
		else
			snprintf(zone, sizeof(zone), "%%%" PRIu32, ep->in6.sin6_scope_id);
	}
	return buf_printf(out, "endpoint=[%s%s]:%u\n", addr, zone, ntohs(ep->in6.sin6_port));
}

static int put_allowed_ip(struct buf *out, const struct uapi_allowed_ip *a, bool masked,
			  bool with_sign)
{
	char addr[INET6_ADDRSTRLEN];
	uint8_t bytes[16] = { 0 };
	size_t n = a->family == AF_INET ? 4 : 16;

	if ((a->family != AF_INET && a->family != AF_INET6) || a->cidr > n * 8)
		return -EINVAL;
	memcpy(bytes, a->family == AF_INET ? (const void *)&a->ip4 : (const void *)&a->ip6, n);
	if (masked) {
		for (size_t i = 0; i < n; i++) {
			unsigned keep = a->cidr > 8 * i ? a->cidr - 8 * i : 0;

			if (keep < 8)
				bytes[i] &= (uint8_t)(0xff00u >> keep);
		}
	}
	if (!inet_ntop(a->family, bytes, addr, sizeof(addr)))
		return -EINVAL;
	return buf_printf(out, "allowed_ip=%s%s/%u\n", with_sign && a->remove ? "-" : "",
			  addr, a->cidr);
}

int wg_uapi_format_set(struct buf *out, const struct uapi_set *set)
{
	int ret = buf_printf(out, "set=1\n");

	if (!ret && (set->flags & UAPI_SET_PRIVATE_KEY))
		ret = put_key(out, "private_key", set->private_key);
	if (!ret && (set->flags & UAPI_SET_LISTEN_PORT))
		ret = buf_printf(out, "listen_port=%u\n", set->listen_port);
	if (!ret && (set->flags & UAPI_SET_FWMARK))
		ret = buf_printf(out, "fwmark=%" PRIu32 "\n", set->fwmark);
	if (!ret && (set->flags & UAPI_SET_REPLACE_PEERS))
		ret = buf_printf(out, "replace_peers=true\n");
	for (size_t i = 0; !ret && i < set->n_peers; i++) {
		const struct uapi_set_peer *p = &set->peers[i];

		ret = put_key(out, "public_key", p->public_key);
		if (!ret && (p->flags & UAPI_PEER_REMOVE)) {
			ret = buf_printf(out, "remove=true\n");
			continue;
		}
		if (!ret && (p->flags & UAPI_PEER_UPDATE_ONLY))
			ret = buf_printf(out, "update_only=true\n");
		if (!ret && (p->flags & UAPI_PEER_PRESHARED_KEY))
			ret = put_key(out, "preshared_key", p->preshared_key);
		if (!ret && (p->flags & UAPI_PEER_ENDPOINT))
			ret = put_endpoint(out, &p->endpoint);
		if (!ret && (p->flags & UAPI_PEER_KEEPALIVE))
			ret = buf_printf(out, "persistent_keepalive_interval=%u\n",
					 p->persistent_keepalive);
		if (!ret && (p->flags & UAPI_PEER_REPLACE_ALLOWED_IPS))
			ret = buf_printf(out, "replace_allowed_ips=true\n");
		for (size_t j = 0; !ret && j < p->n_allowed_ips; j++)
			ret = put_allowed_ip(out, &p->allowed_ips[j], false, true);
	}
	return ret ? ret : buf_append(out, "\n", 1);
}

int wg_uapi_format_device(struct buf *out, const struct uapi_device_info *dev)
{
	int ret = 0;

	if (!key_is_zero(dev->private_key))
		ret = put_key(out, "private_key", dev->private_key);
	if (!ret && dev->listen_port)
		ret = buf_printf(out, "listen_port=%u\n", dev->listen_port);
	if (!ret && dev->fwmark)
		ret = buf_printf(out, "fwmark=%" PRIu32 "\n", dev->fwmark);
	return ret;
}

int wg_uapi_format_peer(struct buf *out, const struct uapi_peer_info *p)
{
	int ret = put_key(out, "public_key", p->public_key);

	if (!ret)
		ret = put_key(out, "preshared_key", p->preshared_key);
	if (!ret)
		ret = buf_printf(out, "protocol_version=1\n");
	if (!ret)
		ret = put_endpoint(out, &p->endpoint);
	if (!ret)
		ret = buf_printf(out,
				 "last_handshake_time_sec=%" PRIu64 "\n"
				 "last_handshake_time_nsec=%" PRIu32 "\n"
				 "tx_bytes=%" PRIu64 "\nrx_bytes=%" PRIu64 "\n"
				 "persistent_keepalive_interval=%u\n",
				 p->last_handshake_sec, p->last_handshake_nsec,
				 p->tx_bytes, p->rx_bytes, p->persistent_keepalive);
	for (size_t i = 0; !ret && i < p->n_allowed_ips; i++)
		ret = put_allowed_ip(out, &p->allowed_ips[i], true, false);
	return ret;
}

int wg_uapi_format_errno(struct buf *out, int err)
{
	return buf_printf(out, "errno=%d\n\n", err);
}

/* ---- framing ------------------------------------------------------------ */

void wg_uapi_frame(const char *data, size_t len, bool eof, size_t *scan,
		   struct uapi_request *req)
{
	static const char get[] = "get=1\n", set[] = "set=1\n";
	const size_t oplen = sizeof(get) - 1;
	size_t n = len < oplen ? len : oplen, from;
	const char *end;

	memset(req, 0, sizeof(*req));
	req->op = UAPI_OP_MORE;
	if (len == 0)
		return;
	if (memcmp(data, get, n) && memcmp(data, set, n)) {
		req->op = UAPI_OP_INVALID;
		return;
	}
	if (len < oplen) {
		/* wireguard-go drops a connection whose op line never ends */
		if (eof)
			req->op = UAPI_OP_INVALID;
		return;
	}
	if (data[0] == 'g') {
		if (len == oplen) {
			if (eof)
				req->op = UAPI_OP_INVALID;
			return;
		}
		req->op = data[oplen] == '\n' ? UAPI_OP_GET : UAPI_OP_BAD_GET;
		req->len = oplen + 1;
		return;
	}
	/* The set ends at the first empty line; its op line's '\n' may begin the
	 * "\n\n" when the body is empty. */
	from = *scan > oplen - 1 ? *scan : oplen - 1;
	end = from < len ? memmem(data + from, len - from, "\n\n", 2) : NULL;
	if (end) {
		req->len = (size_t)(end - data) + 2;
		*scan = 0;
		if (req->len > UAPI_MAX_REQUEST) {
			req->op = UAPI_OP_TOO_BIG;
			return;
		}
		req->op = UAPI_OP_SET;
		req->body = data + oplen;
		req->body_len = req->len - oplen;
		return;
	}
	*scan = len - 1;
	req->len = len;
	if (len > UAPI_MAX_REQUEST)
		req->op = UAPI_OP_TOO_BIG;
	else if (eof)
		req->op = UAPI_OP_TRUNCATED;
	else
		req->len = 0;
}
