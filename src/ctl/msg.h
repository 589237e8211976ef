/* Control-plane messages (docs/protocol.md "Control plane"): decoding a frame
 * into a typed message, validated field by field, and encoding one. Shared by
 * the portal, the client and the gateway.
 *
 * Decoding never trusts the peer: a frame that is not a JSON object, without a
 * "type" string, or with a field missing, of the wrong JSON type or out of range
 * is refused with -EBADMSG; a frame over CTL_FRAME_MAX or a list over its cap
 * with -E2BIG; a type that is unknown or that the reading role is never sent
 * with -ENOTSUP. err then names the field ("resources[2].filters[0].ports: ...").
 * Unknown fields are ignored, so either side can grow.
 *
 * Encoding checks the message as decoding would, so what encodes decodes, to an
 * equal message. Text is never truncated: too long is an error both ways. */
#ifndef SLUICE_CTL_MSG_H
#define SLUICE_CTL_MSG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

enum {
	CTL_FRAME_MAX = 1 << 20,
	CTL_KEY_LEN = 32,          /* X25519 keys and PSKs; base64 on the wire */
	CTL_NAME_MAX = 128,        /* characters (UTF-8 code points) */
	CTL_ADDRESS_MAX = 253,     /* bytes: resource addresses, endpoint hosts */
	CTL_IDENT_MAX = 31,        /* reason, code: [a-z0-9_], starting with a letter */
	CTL_MESSAGE_MAX = 255,     /* bytes of UTF-8: error message */
	CTL_FILTERS_MAX = 64,
	CTL_ENDPOINTS_MAX = 8,
	CTL_UPSTREAMS_MAX = 16,
	CTL_LIST_MAX = 100000,     /* resources in init, authorizations, flows */
};

/* Ids, req, ref and byte counts stay exact in any JSON reader: 1 (0 for byte
 * counts) to 2^53. */
#define CTL_ID_MAX ((uint64_t)1 << 53)

enum ctl_type {
	CTL_INIT_CLIENT = 1,       /* "init" to a client */
	CTL_INIT_GATEWAY,          /* "init" to a gateway */
	CTL_RESOURCE_UPSERT,
	CTL_RESOURCE_DELETE,
	CTL_DNS_SETTINGS,
	CTL_ACCESS_REQUEST,
	CTL_ACCESS_GRANTED,
	CTL_ACCESS_DENIED,
	CTL_ACCESS_REVOKED,
	CTL_AUTHORIZE,
	CTL_AUTHORIZED,
	CTL_REVOKE,
	CTL_FLOW_LOG,
	CTL_ERROR,
	CTL_GATEWAY_OFFLINE,       /* to a client only */
};

/* Which side a frame is read by decides what "init" means and which types are
 * accepted at all. */
enum ctl_role { CTL_ROLE_CLIENT, CTL_ROLE_GATEWAY, CTL_ROLE_PORTAL_FROM_CLIENT,
		CTL_ROLE_PORTAL_FROM_GATEWAY };

enum ctl_res_type { CTL_RES_DNS = 1, CTL_RES_IP, CTL_RES_CIDR };
enum ctl_proto { CTL_PROTO_TCP = 1, CTL_PROTO_UDP, CTL_PROTO_ICMP };

struct ctl_ip {
	int family;            /* AF_INET, AF_INET6 */
	uint8_t addr[16];      /* an IPv4 address in the first 4 bytes, the rest 0 */
};

struct ctl_filter {
	enum ctl_proto proto;
	uint16_t port_lo, port_hi; /* 0-65535 when no ports were given (always for icmp) */
};

struct ctl_resource {
	uint64_t id;
	enum ctl_res_type type;
	/* dns: the pattern as given. ip, cidr: the address ("10.0.0.0/8"), which
	 * is what encoding reads; decoding writes it back canonical (inet_ntop)
	 * and fills ip and prefix from it. */
	char address[CTL_ADDRESS_MAX + 1];
	char name[4 * CTL_NAME_MAX + 1];
	struct ctl_ip ip;      /* ip and cidr: the address (decoded) */
	uint8_t prefix;        /* cidr: the prefix length; ip: 32 or 128 (decoded) */
	struct ctl_filter filters[CTL_FILTERS_MAX];
	unsigned n_filters;    /* 0: everything */
};

struct ctl_endpoint {
	char host[CTL_ADDRESS_MAX + 1];  /* a host name, IPv4 or IPv6 (no brackets) */
	uint16_t port;                   /* 1-65535 */
};

struct ctl_gateway {
	uint64_t id;
	uint8_t public_key[CTL_KEY_LEN];
	struct ctl_endpoint endpoints[CTL_ENDPOINTS_MAX];
	unsigned n_endpoints;  /* at least 1 */
	struct ctl_ip tunnel_ipv4, tunnel_ipv6;
};

struct ctl_client {
	uint64_t id;
	uint8_t public_key[CTL_KEY_LEN];
	struct ctl_ip tunnel_ipv4, tunnel_ipv6;
};

struct ctl_authorization {
	uint64_t ref;
	struct ctl_client client;
	uint8_t psk[CTL_KEY_LEN];
	struct ctl_resource resource;
	int64_t expires_at;
};

/* Who a client session is: its user and its device (init, optional). */
struct ctl_named {
	uint64_t id;           /* 0: absent (not on the wire) */
	char name[4 * CTL_NAME_MAX + 1]; /* user: 1-128 characters; device: 0-128 */
};

struct ctl_flow {
	uint64_t client_id, resource_id;
	int64_t start, end;
	uint64_t rx_bytes, tx_bytes;
	enum ctl_proto proto;
	uint16_t dst_port;
};

/* A decoded message: only the fields of its type are set, the rest are zero.
 * Lists are allocated; free with ctl_msg_free(). */
struct ctl_msg {
	enum ctl_type type;
	uint64_t req;          /* access_request/granted/denied: the request id */
	uint64_t resource_id;  /* access_*, resource_delete (as id), revoke */
	uint64_t client_id;    /* revoke */
	uint64_t ref;          /* authorize, authorized */
	uint64_t gateway_id;   /* gateway_offline */
	int64_t expires_at;    /* access_granted, authorize */
	char reason[CTL_IDENT_MAX + 1];     /* access_denied */
	char code[CTL_IDENT_MAX + 1];       /* error */
	char message[CTL_MESSAGE_MAX + 1];  /* error */
	struct ctl_ip tunnel_ipv4, tunnel_ipv6;  /* init */
	struct ctl_ip upstreams[CTL_UPSTREAMS_MAX];
	unsigned n_upstreams;  /* init (client), dns_settings */
	struct ctl_resource resource;   /* resource_upsert, authorize */
	struct ctl_gateway gateway;     /* access_granted */
	struct ctl_client client;       /* authorize */
	uint8_t psk[CTL_KEY_LEN];       /* access_granted, authorize */
	struct ctl_named user, device;  /* init (client), each optional */
	struct ctl_resource *resources; /* init (client) */
	size_t n_resources;
	struct ctl_authorization *auths; /* init (gateway) */
	size_t n_auths;
	struct ctl_flow *flows;         /* flow_log */
	size_t n_flows;
};

/* Decodes one frame as read by `role`. 0, -EBADMSG, -E2BIG, -ENOTSUP, -ENOMEM;
 * err (errlen bytes, printable ASCII; empty on success) says why, and with
 * errlen <= CTL_MESSAGE_MAX + 1 fits the message of the error frame that
 * answers (code: ctl_error_code(r)). -EINVAL: role out of range. On failure
 * *m is all zero: nothing to free. */
int ctl_msg_decode(const char *frame, size_t len, enum ctl_role role, struct ctl_msg *m,
		   char *err, size_t errlen);
/* Frees the lists and wipes the keys; *m is all zero afterwards. */
void ctl_msg_free(struct ctl_msg *m);
/* Appends the frame for m to out (a JSON object, no newline; a NUL follows it,
 * outside out->len, unless out's cap leaves no room). 0; -EINVAL for a message
 * decoding would refuse; -E2BIG over CTL_FRAME_MAX or a list cap; -EMSGSIZE
 * past out's cap (out unchanged); -ENOMEM. The frames of access_granted,
 * authorize and init (gateway) hold PSKs: buf_wipe() them. */
int ctl_msg_encode(const struct ctl_msg *m, struct buf *out);

/* The wire names, for logs ("init" for both inits; "?" for no type). */
const char *ctl_type_name(enum ctl_type t);
/* The `code` of the error frame that answers a frame ctl_msg_decode() refused
 * with r: "bad_message", "too_large", "unsupported"; "internal" otherwise. */
const char *ctl_error_code(int r);

#endif
