/* The host's DNS configuration: read its nameservers from resolv.conf, point the
 * host at sluice's sentinels, and always put things back.
 *
 * Parsing follows glibc's res_init (resolv.conf(5)) so sluice sees what the OS
 * sees: a keyword counts only at the start of a line and followed by a space or
 * tab; `domain` and `search` override each other (the last non-empty one wins);
 * `options` and `sortlist` lines add up; text after a nameserver's address is
 * ignored; no nameserver at all means 127.0.0.1. Departures: a CR counts as
 * whitespace (glibc would drop "nameserver 1.1.1.1\r" of a CRLF file), and up to
 * HOSTDNS_MAX_NS nameservers are kept where glibc uses 3, so every upstream gets
 * a sentinel (glibc still uses the first 3 sentinels: the same 3 upstreams).
 *
 * Life cycle of the client (one client per struct hostdns_paths):
 *   start: hostdns_recover(), then hostdns_read() and hostdns_upstreams(), give
 *          upstream i sentinel i, then hostdns_apply(), or, when either returns
 *          HOSTDNS_RESOLVED, hostdns_resolved_apply() on the TUN.
 *   stop:  hostdns_revert() / hostdns_resolved_revert() before the TUN goes.
 * SIGTERM/SIGINT must only set a flag (or be read from a signalfd) so the main
 * loop leaves through this normal exit path: these functions allocate, log and
 * fork, none of which is allowed in a signal handler. After SIGKILL or a crash
 * the backup stays on disk and the next hostdns_recover() restores it; resolved's
 * per-link settings vanish with the TUN by themselves.
 *
 * Ownership rule, the same for revert, recover and a second apply: the file is
 * sluice's when it starts with sluice's header and its digest matches. A file
 * someone else wrote since (DHCP renewal, an admin) is newer than our backup, so
 * it is kept and the backup dropped - unless it names a sentinel nameserver (a
 * tool copied our lines): that would leave the host asking a stub that is gone,
 * so the backup is restored. Errors are 0/-errno. */
#ifndef SLUICE_DNS_HOSTDNS_H
#define SLUICE_DNS_HOSTDNS_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct buf;

enum {
	HOSTDNS_MAX_NS = 16,        /* nameservers kept; more are counted, dropped */
	HOSTDNS_MAX_LINE = 1024,    /* longer lines are ignored, never cut */
	HOSTDNS_MAX_FILE = 64 << 10 /* bigger files are refused: -EFBIG */
};

/* What apply, revert and recover did, when not an error. */
enum {
	HOSTDNS_DONE = 0,     /* written, restored, or nothing to do */
	HOSTDNS_RESOLVED = 1, /* systemd-resolved manages the host: nothing touched */
	HOSTDNS_FOREIGN = 2,  /* someone else's file was kept, our backup dropped */
};

struct hostdns_ns {
	struct sockaddr_storage addr; /* port 53; sin6_scope_id of a numeric zone */
	char zone[IF_NAMESIZE];       /* "eth0" of "fe80::1%eth0", else "" */
};

enum hostdns_search_kw { HOSTDNS_NO_SEARCH, HOSTDNS_SEARCH, HOSTDNS_DOMAIN };

struct hostdns_conf {
	struct hostdns_ns ns[HOSTDNS_MAX_NS];
	size_t n_ns;
	unsigned n_ns_dropped;           /* valid nameservers past HOSTDNS_MAX_NS */
	unsigned n_ignored;              /* lines that are neither used nor comments */
	enum hostdns_search_kw search_kw; /* the keyword that won, written back as is */
	char search[HOSTDNS_MAX_LINE];   /* its value, verbatim, trimmed */
	char options[HOSTDNS_MAX_LINE];  /* all options lines, joined by a space */
	char sortlist[HOSTDNS_MAX_LINE]; /* all sortlist lines, joined by a space */
};

/* An address range (the sentinel ranges); host bits are ignored. */
struct hostdns_prefix {
	sa_family_t family;
	unsigned bits;
	union {
		struct in_addr ip4;
		struct in6_addr ip6;
	};
};

/* Every path is configurable so tests run in a temporary directory; a NULL field
 * takes the default in brackets. Paths must not contain a newline. */
struct hostdns_paths {
	const char *resolv;       /* [/etc/resolv.conf] */
	const char *backup;       /* [/etc/resolv.conf.sluice-backup]: one per netns */
	const char *resolved_dir; /* [/run/systemd/resolve] */
	const char *resolvectl;   /* [/usr/bin/resolvectl], run without a shell */
	const struct hostdns_prefix *sentinels; /* for the ownership rule above */
	size_t n_sentinels;
};

/* Pure: no I/O, any bytes. -EFBIG past HOSTDNS_MAX_FILE; garbage is counted in
 * n_ignored, never an error. */
int hostdns_parse(const char *text, size_t len, struct hostdns_conf *out);

/* Parses the file that lists the host's real upstreams: resolv.conf, or
 * resolved's own resolv.conf when resolved manages the host. Returns
 * HOSTDNS_DONE or HOSTDNS_RESOLVED, or -errno. */
int hostdns_read(const struct hostdns_paths *paths, struct hostdns_conf *out);

/* The upstreams behind the sentinels, in file order, skipping addresses inside
 * `skip` (a restart must not forward to itself; ::ffff:a.b.c.d counts as IPv4).
 * Named zones of link-local addresses become scope ids (if_nametoindex). A conf
 * without nameservers yields 127.0.0.1 (resolv.conf(5)); one that lists only
 * sentinels yields none. Returns the count written to out (<= max). */
size_t hostdns_upstreams(const struct hostdns_conf *conf, const struct hostdns_prefix *skip,
			 size_t n_skip, struct sockaddr_storage *out, size_t max);

/* The resolv.conf sluice writes: header (with the backup path and a digest),
 * one nameserver per sentinel in the given order, then orig's search/domain,
 * options and sortlist. -EINVAL for no sentinel, too many, or a bad family. */
int hostdns_format(struct buf *out, const struct hostdns_conf *orig,
		   const struct sockaddr_storage *sentinels, size_t n, const char *backup);

/* HOSTDNS_RESOLVED when resolv.conf is a symlink (through any chain of links)
 * to a file in resolved_dir and resolved accepts a connection on its varlink
 * socket there (a stale socket file does not count), else HOSTDNS_DONE. A link
 * into resolved_dir while resolved is stopped is handled like any symlink. */
int hostdns_detect(const struct hostdns_paths *paths);

/* Saves the original (a regular file byte for byte with its mode, or a symlink
 * as a symlink) unless a backup is already there, then writes the new file
 * atomically, replacing a symlink by a regular file. Where rename() cannot
 * replace resolv.conf (a bind mount: `ip netns exec`, containers) the file is
 * rewritten in place. Returns HOSTDNS_DONE, HOSTDNS_RESOLVED (nothing done), or
 * -ENOENT (no resolv.conf), -EFBIG, -EINVAL, -errno. */
int hostdns_apply(const struct hostdns_paths *paths, const struct hostdns_conf *orig,
		  const struct sockaddr_storage *sentinels, size_t n);

/* Puts the backup back (rename; in place on a bind mount) and removes it, or
 * keeps a foreign file (HOSTDNS_FOREIGN). No backup: HOSTDNS_DONE. Idempotent. */
int hostdns_revert(const struct hostdns_paths *paths);

/* For start-up: clears our temporary files and, if a backup survived a previous
 * run, reverts it (logged). Returns what hostdns_revert() returns. */
int hostdns_recover(const struct hostdns_paths *paths);

/* resolvectl dns IFNAME SENTINEL...; domain IFNAME '~.'; default-route IFNAME
 * true. Each command has 10 s; -EIO if one fails, -ENOENT if it is missing,
 * -ETIMEDOUT, -errno. SIGCHLD must not be SIG_IGN (the child is waited for). */
int hostdns_resolved_apply(const struct hostdns_paths *paths, const char *ifname,
			   const struct sockaddr_storage *sentinels, size_t n);
/* resolvectl revert IFNAME. */
int hostdns_resolved_revert(const struct hostdns_paths *paths, const char *ifname);

#endif
