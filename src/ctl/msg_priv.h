/* What the control-message decoder and encoder share (msg.c): names on the
 * wire and the checks both sides make, so that what encodes also decodes.
 * Checks return NULL when the value is fine, else why (for err). */
#ifndef SLUICE_CTL_MSG_PRIV_H
#define SLUICE_CTL_MSG_PRIV_H

#include "ctl/msg.h"

#define CTL_B64_LEN 44 /* base64 of CTL_KEY_LEN bytes, with its one '=' */

/* "dns", "tcp"... and back; NULL or 0 when unknown. */
const char *ctl_res_type_str(enum ctl_res_type t);
enum ctl_res_type ctl_res_type_parse(const char *s);
const char *ctl_proto_str(enum ctl_proto p);
enum ctl_proto ctl_proto_parse(const char *s);

/* A decimal 0-65535 written the one way ("0", "443"; not "0443" or "+1"). */
int ctl_parse_port(const char *s, size_t len, uint16_t *out);

/* Text in a char[size] field: NUL-terminated inside it, then its own rules. */
const char *ctl_check_ident(const char *s, size_t size);
const char *ctl_check_name(const char *s, size_t size);
/* A name that may be empty (a device's). */
const char *ctl_check_name0(const char *s, size_t size);
const char *ctl_check_message(const char *s, size_t size);
/* An endpoint host: IPv6 (no brackets), IPv4 or a host name. */
const char *ctl_check_host(const char *s, size_t size);
const char *ctl_check_filter(const struct ctl_filter *f);

/* Parses a resource address of type t (text of any length) into r: address
 * (dns: as given; ip, cidr: canonical), ip and prefix. why may be written to
 * scratch (dns pattern errors). */
const char *ctl_parse_address(enum ctl_res_type t, const char *text, struct ctl_resource *r,
			      char *scratch, size_t scratch_len);

#endif
