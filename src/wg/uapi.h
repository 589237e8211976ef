/* The WireGuard cross-platform userspace API (wireguard.com/xplatform): the text
 * protocol `wg` speaks over /var/run/wireguard/IFNAME.sock. This is the pure codec;
 * uapi_server.h owns the socket.
 *
 * A set request is parsed completely into a struct uapi_set before anything is
 * applied, so the device can apply it all at once: a half-applied set never
 * happens. Errors are those wireguard-go puts on the wire (ipc/uapi_unix.go):
 * -EPROTO for a line without '=' or a truncated request, -EINVAL for a bad key or
 * value, plus -E2BIG past the caps below and -ENOMEM. */
#ifndef SLUICE_WG_UAPI_H
#define SLUICE_WG_UAPI_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct buf;

enum {
	UAPI_KEY_LEN = 32,
	UAPI_MAX_REQUEST = 16 << 20,    /* bytes in one request, "set=1\n" included */
	UAPI_MAX_PEERS = 10000,         /* public_key sections in one set */
	UAPI_MAX_ALLOWED_IPS = 100000,  /* allowed_ip entries kept from one set */
};

struct uapi_allowed_ip {
	sa_family_t family; /* AF_INET or AF_INET6 */
	uint8_t cidr;       /* host bits are kept as given; the table masks */
	bool remove;        /* "allowed_ip=-PREFIX": take this one away */
	union {
		struct in_addr ip4;
		struct in6_addr ip6;
	};
};

/* Numeric only; sa.sa_family == AF_UNSPEC means none. Network byte order. */
union uapi_endpoint {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

enum {
	UAPI_SET_PRIVATE_KEY = 1 << 0,   /* private_key: all zero removes it */
	UAPI_SET_LISTEN_PORT = 1 << 1,   /* listen_port: 0 picks one */
	UAPI_SET_FWMARK = 1 << 2,        /* fwmark: 0 turns it off */
	UAPI_SET_REPLACE_PEERS = 1 << 3, /* remove every peer before the ones below */
};

enum {
	UAPI_PEER_REMOVE = 1 << 0,       /* remove it; no other field is kept */
	UAPI_PEER_UPDATE_ONLY = 1 << 1,  /* skip the section if the peer does not exist */
	UAPI_PEER_PRESHARED_KEY = 1 << 2,
	UAPI_PEER_ENDPOINT = 1 << 3,
	UAPI_PEER_KEEPALIVE = 1 << 4,
	UAPI_PEER_REPLACE_ALLOWED_IPS = 1 << 5, /* drop its allowed IPs first */
};

/* One public_key section. The same key may appear in several sections: the
 * device applies them in order. A section naming the device's own public key is
 * ignored (wireguard-go does so; only the device knows that key). */
struct uapi_set_peer {
	uint8_t public_key[UAPI_KEY_LEN];
	uint8_t preshared_key[UAPI_KEY_LEN]; /* all zero: no preshared key */
	union uapi_endpoint endpoint;
	uint16_t persistent_keepalive;      /* seconds, 0 off */
	unsigned flags;                     /* UAPI_PEER_* */
	const struct uapi_allowed_ip *allowed_ips; /* add/remove in this order */
	size_t n_allowed_ips;
};

/* What one set request asks for. Applied as wireguard-go does, but all or
 * nothing: the device fields, then replace_peers, then the sections in order.
 *
 * A daemon composes one by hand for wg_device_set() (wg/device.h): zero it,
 * point peers at its own sections and each section's allowed_ips at its own
 * entries; leave allowed_ips/n_allowed_ips of the set (the parser's storage)
 * empty and do not call wg_uapi_set_free() on it. Only the fields a flag names
 * are read. Granting a peer access:
 *
 *	struct uapi_allowed_ip ip = { .family = AF_INET, .cidr = 32, .ip4 = addr };
 *	struct uapi_set_peer sp = {
 *		.flags = UAPI_PEER_PRESHARED_KEY | UAPI_PEER_REPLACE_ALLOWED_IPS,
 *		.allowed_ips = &ip, .n_allowed_ips = 1,
 *	};
 *	struct uapi_set set = { .peers = &sp, .n_peers = 1 };
 *	memcpy(sp.public_key, pub, UAPI_KEY_LEN);
 *	memcpy(sp.preshared_key, psk, UAPI_KEY_LEN);
 *	r = wg_device_set(dev, &set);
 *
 * and taking it away: .flags = UAPI_PEER_REMOVE with the key alone. A private
 * key is set with UAPI_SET_PRIVATE_KEY (the device clamps it). */
struct uapi_set {
	unsigned flags; /* UAPI_SET_* */
	uint8_t private_key[UAPI_KEY_LEN]; /* clamped, as wireguard-go stores it */
	uint16_t listen_port;
	uint32_t fwmark;
	struct uapi_set_peer *peers;
	size_t n_peers;
	struct uapi_allowed_ip *allowed_ips; /* storage behind the peers' slices */
	size_t n_allowed_ips;
	size_t error_line; /* on failure: 1-based line of the body that failed */
};

/* Parses the body of a set request: the lines after "set=1\n" up to and
 * including the empty line that ends it, nothing after. 0 or -errno; on error
 * *out holds nothing but error_line. Free with wg_uapi_set_free() either way. */
int wg_uapi_parse_set(const char *body, size_t len, struct uapi_set *out);
/* Wipes the keys and frees. */
void wg_uapi_set_free(struct uapi_set *set);
/* Writes a whole set request ("set=1\n" ... "\n") that parses back to *set. */
int wg_uapi_format_set(struct buf *out, const struct uapi_set *set);

/* The state a get answer reports, filled by the device. */
struct uapi_device_info {
	uint8_t private_key[UAPI_KEY_LEN]; /* all zero: none, line left out */
	uint16_t listen_port;              /* 0: line left out */
	uint32_t fwmark;                   /* 0: line left out */
};

struct uapi_peer_info {
	uint8_t public_key[UAPI_KEY_LEN];
	uint8_t preshared_key[UAPI_KEY_LEN]; /* printed even when all zero */
	union uapi_endpoint endpoint;
	uint64_t last_handshake_sec; /* 0/0: never */
	uint32_t last_handshake_nsec;
	uint64_t tx_bytes, rx_bytes;
	uint16_t persistent_keepalive;
	const struct uapi_allowed_ip *allowed_ips; /* printed masked, remove ignored */
	size_t n_allowed_ips;
};

/* A get answer is wg_uapi_format_device() once, wg_uapi_format_peer() per peer, then
 * the server's "errno=0\n\n". Line order as wireguard-go's IpcGetOperation. */
int wg_uapi_format_device(struct buf *out, const struct uapi_device_info *dev);
int wg_uapi_format_peer(struct buf *out, const struct uapi_peer_info *peer);
/* Appends "errno=N\n\n"; N is 0 or a negative errno, as wireguard-go sends it. */
int wg_uapi_format_errno(struct buf *out, int err);

/* Request framing on a connection's input stream. */
enum uapi_op {
	UAPI_OP_MORE,      /* incomplete: read more */
	UAPI_OP_GET,       /* "get=1\n\n" */
	UAPI_OP_SET,       /* "set=1\n" + body; body/body_len for wg_uapi_parse_set() */
	UAPI_OP_BAD_GET,   /* "get=1\n" then not "\n": answer -EINVAL, go on */
	UAPI_OP_TRUNCATED, /* the stream ended inside a set: answer -EPROTO, close */
	UAPI_OP_TOO_BIG,   /* a set past UAPI_MAX_REQUEST: answer -E2BIG, close */
	UAPI_OP_INVALID,   /* not an operation: close without an answer */
};

struct uapi_request {
	enum uapi_op op;
	size_t len; /* bytes of input the request used */
	const char *body;
	size_t body_len;
};

/* Looks at the start of data[0..len); eof says no more will come. *scan keeps
 * where the search for the end of a set stopped: zero it after consuming. */
void wg_uapi_frame(const char *data, size_t len, bool eof, size_t *scan,
		   struct uapi_request *req);

#endif
