/* The client's state file: its proxy-IP bindings (proxy IP -> name, resource,
 * gateway), kept across restarts and crashes so that an application holding
 * a proxy IP from before keeps reaching the same name.
 *
 * A text file in the state directory, one binding a line, after a versioned
 * header; lines starting with '#' and empty lines are comments:
 *
 *   # sluice-client bindings v1
 *   100.96.0.1 nas.home.int 1 1
 *   fd00:2021:1111:8000::1 nas.home.int 1 0
 *
 * Fields, separated by spaces or tabs: the proxy address (IPv4 or IPv6 text),
 * the name (lowercase, no trailing dot; labels of 1-63 letters, digits,
 * hyphens or underscores, 253 characters at most), the resource id (decimal,
 * 1 or more) and the gateway id (decimal; 0: none). Whether the address lies
 * in the proxy pool is the caller's to check.
 *
 * The whole file is at most STATE_MAX_FILE bytes (16 MiB, a few hundred
 * thousand bindings): a larger one is refused, never read in part. It is
 * written whole under a temporary name and renamed (a crash leaves the old
 * file or the new one), mode 0600; one that others may read or write is
 * refused. */
#ifndef SLUICE_CLIENT_STATE_H
#define SLUICE_CLIENT_STATE_H

#include <stddef.h>
#include <stdint.h>

struct buf;

enum {
	STATE_MAX_FILE = 16 << 20,
	STATE_NAME_MAX = 253,
};

#define STATE_HEADER "# sluice-client bindings v1"

struct state_binding {
	int family;              /* AF_INET or AF_INET6 */
	uint8_t addr[16];        /* 4 or 16 bytes used, network order */
	char name[254];          /* lowercase DNS name, no trailing dot */
	uint64_t resource_id, gateway_id;   /* gateway_id 0: none */
};

/* Pure: parses text; calls fn for each valid line, in file order; a bad line (wrong
 * address, name, number, field count, duplicate address: the first one stays) is
 * skipped and counted in *bad (bad may be NULL), never fatal. 0; fn's own negative
 * return, which stops the parse; -EPROTONOSUPPORT (a header of another version);
 * -EBADMSG (no header: not a state file); -EFBIG (over STATE_MAX_FILE); -ENOMEM. */
int state_parse(const char *text, size_t len, int (*fn)(void *arg, const struct state_binding *b),
		void *arg, size_t *bad);
/* Appends the file's text for n bindings (header included). 0, -EINVAL (a binding
 * state_parse would refuse; out is left as it was), -EFBIG (the text would pass
 * STATE_MAX_FILE), or buf's -EMSGSIZE / -ENOMEM. */
int state_format(struct buf *out, const struct state_binding *b, size_t n);
/* Reads DIR/NAME whole, appending it to out (whose max should allow STATE_MAX_FILE).
 * 0, -ENOENT (missing), -EFBIG, -EPERM (a file others can read or write: mode & 077),
 * -EINVAL (NAME not a plain file name, or DIR/NAME not a regular file), -errno. */
int state_read(const char *dir, const char *name, struct buf *out);
/* Writes DIR/NAME atomically: a temporary file 0600 in DIR (which must exist), fsync,
 * rename over NAME, fsync DIR. 0, -EINVAL, -EFBIG, -errno (the old file is then intact). */
int state_write(const char *dir, const char *name, const struct buf *text);

#endif
