/* Control-plane messages (docs/protocol.md "Control plane"): decoding a frame
 * into a typed message, validated field by field, and encoding one. Shared by
 * the portal, the client and the gateway.
 *
 * Decoding never trusts the peer: a frame over CTL_FRAME_MAX, not a JSON object,
 * without a known "type", or with a field missing, of the wrong type or out of
 * range is refused with -EBADMSG (unknown type: -ENOTSUP) and a message naming
 * the field in err. Unknown fields are ignored, so either side can grow. */
#ifndef SLUICE_CTL_MSG_H
#define SLUICE_CTL_MSG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

enum {
	CTL_FRAME_MAX = 1 << 20,
	CTL_KEY_LEN = 32,
	CTL_NAME_MAX = 128,
	CTL_ADDRESS_MAX = 253,
	CTL_FILTERS_MAX = 64,
	CTL_ENDPOINTS_MAX = 8,
	CTL_UPSTREAMS_MAX = 16,
	CTL_LIST_MAX = 100000,     /* resources in init, authorizations, flows */
};

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
};

/* Which side a frame is read by decides what "init" means. */
enum ctl_role { CTL_ROLE_CLIENT, CTL_ROLE_GATEWAY, CTL_ROLE_PORTAL_FROM_CLIENT,
		CTL_ROLE_PORTAL_FROM_GATEWAY };

enum ctl_res_type { CTL_RES_DNS = 1, CTL_RES_IP, CTL_RES_CIDR };
enum ctl_proto { CTL_PROTO_TCP = 1, CTL_PROTO_UDP, CTL_PROTO_ICMP };

struct ctl_ip {
	int family;            /* AF_INET, AF_INET6 */
	uint8_t addr[16];
};

struct ctl_filter {
	enum ctl_proto proto;
	uint16_t port_lo, port_hi; /* 0-65535 when no ports were given */
};

struct ctl_resource {
	uint64_t id;
	enum ctl_res_type type;
	char address[CTL_ADDRESS_MAX + 1];
	char name[CTL_NAME_MAX + 1];
	struct ctl_ip ip;      /* ip and cidr: the address */
	uint8_t prefix;        /* cidr: the prefix length */
	struct ctl_filter filters[CTL_FILTERS_MAX];
	unsigned n_filters;
};

struct ctl_endpoint {
	char host[CTL_ADDRESS_MAX + 1];
	uint16_t port;
};

struct ctl_gateway {
	uint64_t id;
	uint8_t public_key[CTL_KEY_LEN];
	struct ctl_endpoint endpoints[CTL_ENDPOINTS_MAX];
	unsigned n_endpoints;
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

struct ctl_flow {
	uint64_t client_id, resource_id;
	int64_t start, end;
	uint64_t rx_bytes, tx_bytes;
	enum ctl_proto proto;
	uint16_t dst_port;
};

/* A decoded message. Lists are allocated; free with ctl_msg_free(). */
struct ctl_msg {
	enum ctl_type type;
	uint64_t req;          /* access_request/granted/denied: the request id */
	uint64_t resource_id;  /* access_*, resource_delete (as id), revoke */
	uint64_t client_id;    /* revoke */
	uint64_t ref;          /* authorize, authorized */
	int64_t expires_at;
	char reason[32];       /* access_denied */
	char code[32];         /* error */
	char message[256];     /* error */
	struct ctl_ip tunnel_ipv4, tunnel_ipv6;  /* init */
	struct ctl_ip upstreams[CTL_UPSTREAMS_MAX];
	unsigned n_upstreams;  /* init (client), dns_settings */
	struct ctl_resource resource;   /* resource_upsert, authorize */
	struct ctl_gateway gateway;     /* access_granted */
	struct ctl_client client;       /* authorize */
	uint8_t psk[CTL_KEY_LEN];       /* access_granted, authorize */
	struct ctl_resource *resources; /* init (client) */
	size_t n_resources;
	struct ctl_authorization *auths; /* init (gateway) */
	size_t n_auths;
	struct ctl_flow *flows;         /* flow_log */
	size_t n_flows;
};

/* Decodes one frame as read by `role`. 0, -EBADMSG, -ENOTSUP, -E2BIG, -ENOMEM;
 * err (errlen bytes) says why. On failure *m holds nothing to free. */
int ctl_msg_decode(const char *frame, size_t len, enum ctl_role role, struct ctl_msg *m,
		   char *err, size_t errlen);
void ctl_msg_free(struct ctl_msg *m);
/* Appends the frame for m to out (a JSON object, no newline). 0 or -errno. */
int ctl_msg_encode(const struct ctl_msg *m, struct buf *out);

/* The wire names, for logs. */
const char *ctl_type_name(enum ctl_type t);

#endif
