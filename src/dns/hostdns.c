/* resolv.conf and systemd-resolved: see hostdns.h for the rules. The file
 * operations never leave resolv.conf half written where rename() works: every
 * new file is a temporary beside its target (a fixed name, so a crash leaves at
 * most one, which hostdns_recover() clears), fsynced, then renamed over it. */
#include "dns/hostdns.h"

#include "lib/buf.h"
#include "lib/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- parsing ----------------------------------------------------------- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* glibc's MATCH(): the keyword at column 0, then a space or a tab. Returns the
 * value with blanks trimmed off both ends, or NULL. */
static const char *keyword_value(const char *line, size_t len, const char *kw, size_t *vlen)
{
	size_t k = strlen(kw), i;

	if (len <= k || memcmp(line, kw, k) != 0 || (line[k] != ' ' && line[k] != '\t'))
		return NULL;
	for (i = k; i < len && is_blank(line[i]); i++)
		;
	while (len > i && is_blank(line[len - 1]))
		len--;
	*vlen = len - i;
	return line + i;
}

static void set_value(char *dst, const char *v, size_t vlen)
{
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
}

/* options and sortlist lines add up in glibc; one written line must still fit
 * within HOSTDNS_MAX_LINE with its keyword, so a line that would not is dropped. */
static bool join_value(char *dst, size_t max, const char *v, size_t vlen)
{
	size_t cur = strlen(dst), sep = cur ? 1 : 0;

	if (cur + sep + vlen > max)
		return false;
	if (sep)
		dst[cur] = ' ';
	set_value(dst + cur + sep, v, vlen);
	return true;
}

/* "a.b.c.d" as inet_aton reads it (glibc takes "127.1" too), or "v6[%zone]".
 * A zone that is neither a number nor an interface name is ignored, as glibc
 * does; names are looked up later (hostdns_upstreams) to keep this pure. */
static bool parse_ns(const char *v, size_t vlen, struct hostdns_ns *ns)
{
	char tok[INET6_ADDRSTRLEN + 1 + 32], *zone;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ns->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ns->addr;
	size_t n = 0;

	while (n < vlen && !is_blank(v[n]))
		n++;
	if (n == 0 || n >= sizeof(tok))
		return false;
	set_value(tok, v, n);
	memset(ns, 0, sizeof(*ns));
	if (inet_aton(tok, &in4->sin_addr)) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(53);
		return true;
	}
	zone = strchr(tok, '%');
	if (zone)
		*zone++ = '\0';
	if (inet_pton(AF_INET6, tok, &in6->sin6_addr) != 1)
		return false;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(53);
	if (zone && *zone) {
		char *end;
		unsigned long id;

		errno = 0;
		id = strtoul(zone, &end, 10);
		if (zone[0] >= '0' && zone[0] <= '9' && !*end && !errno && id <= UINT32_MAX)
			in6->sin6_scope_id = (uint32_t)id;
		else if (strlen(zone) < sizeof(ns->zone))
			strcpy(ns->zone, zone);
	}
	return true;
}

static void parse_line(const char *line, size_t len, struct hostdns_conf *c)
{
	const char *v;
	size_t vlen, i;

	for (i = 0; i < len && is_blank(line[i]); i++)
		;
	if (i == len || line[0] == '#' || line[0] == ';')
		return; /* blank or comment */
	if (len > HOSTDNS_MAX_LINE || memchr(line, '\0', len))
		goto ignored;
	if ((v = keyword_value(line, len, "nameserver", &vlen))) {
		struct hostdns_ns ns;

		if (!parse_ns(v, vlen, &ns))
			goto ignored;
		if (c->n_ns == HOSTDNS_MAX_NS)
			c->n_ns_dropped++;
		else
			c->ns[c->n_ns++] = ns;
		return;
	}
	for (int kw = HOSTDNS_SEARCH; kw <= HOSTDNS_DOMAIN; kw++) {
		if ((v = keyword_value(line, len, kw == HOSTDNS_SEARCH ? "search" : "domain",
				       &vlen)) && vlen) {
			c->search_kw = (enum hostdns_search_kw)kw;
			set_value(c->search, v, vlen);
			return;
		}
	}
	if ((v = keyword_value(line, len, "options", &vlen)) && vlen &&
	    join_value(c->options, HOSTDNS_MAX_LINE - sizeof("options"), v, vlen))
		return;
	if ((v = keyword_value(line, len, "sortlist", &vlen)) && vlen &&
	    join_value(c->sortlist, HOSTDNS_MAX_LINE - sizeof("sortlist"), v, vlen))
		return;
ignored:
	c->n_ignored++;
}

int hostdns_parse(const char *text, size_t len, struct hostdns_conf *out)
{
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	if (len > HOSTDNS_MAX_FILE)
		return -EFBIG;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;

		parse_line(text + pos, end - pos, out);
		pos = end + 1;
	}
	return 0;
}

/* ---- upstreams ---------------------------------------------------------- */

/* The address bytes to compare, IPv4-mapped IPv6 taken as IPv4. */
static const uint8_t *addr_bytes(const struct sockaddr_storage *ss, sa_family_t *fam)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

	*fam = ss->ss_family;
	if (ss->ss_family == AF_INET)
		return (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
	if (ss->ss_family != AF_INET6)
		return NULL;
	if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		*fam = AF_INET;
		return in6->sin6_addr.s6_addr + 12;
	}
	return in6->sin6_addr.s6_addr;
}

static bool in_any(const struct hostdns_prefix *p, size_t n, const struct sockaddr_storage *ss)
{
	sa_family_t fam;
	const uint8_t *a = addr_bytes(ss, &fam), *b;

	for (size_t i = 0; a && i < n; i++) {
		unsigned bits = p[i].bits < (fam == AF_INET ? 32u : 128u) ? p[i].bits :
				(fam == AF_INET ? 32u : 128u);

		b = p[i].family == AF_INET ? (const uint8_t *)&p[i].ip4 : p[i].ip6.s6_addr;
		if (fam == p[i].family && !memcmp(a, b, bits / 8) &&
		    (bits % 8 == 0 || !((a[bits / 8] ^ b[bits / 8]) & (0xff00 >> (bits % 8)))))
			return true;
	}
	return false;
}

size_t hostdns_upstreams(const struct hostdns_conf *conf, const struct hostdns_prefix *skip,
			 size_t n_skip, struct sockaddr_storage *out, size_t max)
{
	size_t n = 0;

	if (conf->n_ns == 0 && max) {
		memset(&out[0], 0, sizeof(out[0]));
		*(struct sockaddr_in *)&out[0] = (struct sockaddr_in){ .sin_family = AF_INET,
			.sin_port = htons(53), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		return 1;
	}
	for (size_t i = 0; i < conf->n_ns && n < max; i++) {
		const struct hostdns_ns *ns = &conf->ns[i];
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out[n];

		if (in_any(skip, n_skip, &ns->addr)) {
			log_info("hostdns: nameserver %zu is a sentinel, not an upstream", i + 1);
			continue;
		}
		out[n] = ns->addr;
		/* glibc looks names up only for these scopes */
		if (ns->zone[0] && (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr) ||
				    IN6_IS_ADDR_MC_LINKLOCAL(&in6->sin6_addr) ||
				    IN6_IS_ADDR_MC_NODELOCAL(&in6->sin6_addr)))
			in6->sin6_scope_id = if_nametoindex(ns->zone);
		n++;
	}
	return n;
}

/* ---- the file sluice writes --------------------------------------------- */

static const char HDR1[] = "# Managed by sluice.";
static const char HDR2[] = "# sluice-digest ";

/* FNV-1a: tells our bytes from edited ones, not an adversary's (root can do
 * anything to this file anyway). */
static uint64_t digest(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static bool is_ours(const uint8_t *d, size_t len)
{
	const size_t l1 = sizeof(HDR1) - 1, l2 = sizeof(HDR2) - 1;
	const uint8_t *nl1, *line2, *nl2, *end = d + len;
	uint64_t want = 0;

	if (len < l1 || memcmp(d, HDR1, l1) || !(nl1 = memchr(d, '\n', len)))
		return false;
	line2 = nl1 + 1;
	if ((size_t)(end - line2) < l2 + 16 || memcmp(line2, HDR2, l2))
		return false;
	for (size_t i = 0; i < 16; i++) {
		int c = line2[l2 + i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			return false;
		want = want << 4 | (unsigned)v;
	}
	nl2 = memchr(line2, '\n', (size_t)(end - line2));
	return nl2 && digest(nl2 + 1, (size_t)(end - nl2 - 1)) == want;
}

static int addr_text(const struct sockaddr_storage *s, char txt[INET6_ADDRSTRLEN])
{
	const void *a = s->ss_family == AF_INET ?
		(const void *)&((const struct sockaddr_in *)s)->sin_addr :
		(const void *)&((const struct sockaddr_in6 *)s)->sin6_addr;

	if (s->ss_family != AF_INET && s->ss_family != AF_INET6)
		return -EINVAL;
	return inet_ntop(s->ss_family, a, txt, INET6_ADDRSTRLEN) ? 0 : -EINVAL;
}

int hostdns_format(struct buf *out, const struct hostdns_conf *orig,
		   const struct sockaddr_storage *sentinels, size_t n, const char *backup)
{
	struct buf body;
	int r = 0;

	if (n == 0 || n > HOSTDNS_MAX_NS || strchr(backup, '\n'))
		return -EINVAL;
	buf_init(&body, HOSTDNS_MAX_FILE);
	for (size_t i = 0; i < n && !r; i++) {
		char txt[INET6_ADDRSTRLEN];

		r = addr_text(&sentinels[i], txt);
		if (!r)
			r = buf_printf(&body, "nameserver %s\n", txt);
	}
	if (!r && orig->search_kw != HOSTDNS_NO_SEARCH && orig->search[0])
		r = buf_printf(&body, "%s %s\n",
			       orig->search_kw == HOSTDNS_SEARCH ? "search" : "domain", orig->search);
	if (!r && orig->options[0])
		r = buf_printf(&body, "options %s\n", orig->options);
	if (!r && orig->sortlist[0])
		r = buf_printf(&body, "sortlist %s\n", orig->sortlist);
	if (!r)
		r = buf_printf(out, "%s The original is in %s and comes back when sluice stops.\n"
			       "%s%016llx: sluice keeps this file if you edit it.\n", HDR1, backup,
			       HDR2, (unsigned long long)digest(body.data, body.len));
	if (!r)
		r = buf_append(out, body.data, body.len);
	buf_free(&body);
	return r;
}

/* ---- files ---------------------------------------------------------------- */

struct hp {
	const char *resolv, *backup, *resolved_dir, *resolvectl;
	const struct hostdns_paths *paths;
	char resolv_tmp[PATH_MAX], backup_tmp[PATH_MAX];
};

static int hp_init(struct hp *hp, const struct hostdns_paths *paths)
{
	hp->resolv = paths->resolv ? paths->resolv : "/etc/resolv.conf";
	hp->backup = paths->backup ? paths->backup : "/etc/resolv.conf.sluice-backup";
	hp->resolved_dir = paths->resolved_dir ? paths->resolved_dir : "/run/systemd/resolve";
	hp->resolvectl = paths->resolvectl ? paths->resolvectl : "/usr/bin/resolvectl";
	hp->paths = paths;
	if (!*hp->resolv || !*hp->backup || !strcmp(hp->resolv, hp->backup) ||
	    strchr(hp->resolv, '\n') || strchr(hp->backup, '\n'))
		return -EINVAL;
	if ((size_t)snprintf(hp->resolv_tmp, PATH_MAX, "%s.sluice-tmp", hp->resolv) >= PATH_MAX ||
	    (size_t)snprintf(hp->backup_tmp, PATH_MAX, "%s.sluice-tmp", hp->backup) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* Reads one byte past the cap to tell a full file from a too big one. */
static int read_capped(const char *path, struct buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;
	ssize_t n = 1;

	if (fd < 0)
		return -errno;
	buf_init(out, HOSTDNS_MAX_FILE + 1);
	r = buf_reserve(out, HOSTDNS_MAX_FILE + 1);
	while (!r && n > 0 && out->len <= HOSTDNS_MAX_FILE) {
		n = read(fd, out->data + out->len, HOSTDNS_MAX_FILE + 1 - out->len);
		if (n < 0)
			r = errno == EINTR ? 0 : -errno;
		else
			out->len += (size_t)n;
	}
	close(fd);
	if (!r && out->len > HOSTDNS_MAX_FILE)
		r = -EFBIG;
	if (r)
		buf_free(out);
	return r;
}

static int pwrite_all(int fd, const struct buf *data)
{
	for (size_t off = 0; off < data->len;) {
		ssize_t w = pwrite(fd, data->data + off, data->len - off, (off_t)off);

		if (w < 0 && errno != EINTR)
			return -errno;
		off += w > 0 ? (size_t)w : 0;
	}
	return 0;
}

/* Durability of a rename needs its directory synced; a failure here loses
 * nothing a running system can see, so it is only logged. */
static void fsync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	snprintf(dir, sizeof(dir), "%.*s", !slash ? 1 : slash == path ? 1 : (int)(slash - path),
		 slash ? path : ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		log_debug("hostdns: fsync %s: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* Where rename() cannot replace the file (a bind mount gives EBUSY, EXDEV a
 * mount across): write over it. Not atomic, but the file is never empty. */
static int write_in_place(const char *path, const struct buf *data)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = pwrite_all(fd, data);
	if (!r && (ftruncate(fd, (off_t)data->len) < 0 || fsync(fd) < 0))
		r = -errno;
	close(fd);
	return r;
}

static int replace_file(const char *path, const char *tmp, const struct buf *data,
			const struct stat *like)
{
	int fd, r = 0;

	if (unlink(tmp) < 0 && errno != ENOENT)
		return -errno;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* the original's owner and mode, not the daemon's umask */
	if (fchmod(fd, like ? like->st_mode & 07777 : 0644) < 0 ||
	    (like && fchown(fd, like->st_uid, like->st_gid) < 0 && errno != EPERM))
		r = -errno;
	if (!r)
		r = pwrite_all(fd, data);
	if (!r && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	if (r == -EBUSY || r == -EXDEV) {
		log_info("hostdns: %s cannot be renamed over (bind mount?): writing in place", path);
		r = write_in_place(path, data);
	}
	if (!r)
		fsync_dir(path);
	return r;
}

/* Copies a symlink itself (its target text), atomically. */
static int copy_symlink(const char *from, const char *to, const char *tmp)
{
	char target[PATH_MAX];
	ssize_t n = readlink(from, target, sizeof(target));
	int r;

	if (n < 0 || (size_t)n >= sizeof(target))
		return n < 0 ? -errno : -ENAMETOOLONG;
	target[n] = '\0';
	if ((unlink(tmp) < 0 && errno != ENOENT) || symlink(target, tmp) < 0)
		return -errno;
	if (rename(tmp, to) < 0) {
		r = -errno;
		unlink(tmp);
		return r;
	}
	fsync_dir(to);
	return 0;
}

enum { CUR_MISSING, CUR_OURS, CUR_FOREIGN, CUR_LOOP };

/* Whose is resolv.conf now? A symlink or an unreadable target is never ours. */
static int classify(const struct hp *hp)
{
	struct hostdns_conf conf;
	struct stat st;
	struct buf b;
	int r, kind = CUR_FOREIGN;

	if (lstat(hp->resolv, &st) < 0)
		return errno == ENOENT ? CUR_MISSING : -errno;
	r = read_capped(hp->resolv, &b);
	if (r < 0)
		return r == -EFBIG || S_ISLNK(st.st_mode) ? CUR_FOREIGN : r;
	if (S_ISREG(st.st_mode) && is_ours(b.data, b.len)) {
		buf_free(&b);
		return CUR_OURS;
	}
	hostdns_parse((const char *)b.data, b.len, &conf);
	for (size_t i = 0; i < conf.n_ns; i++)
		if (in_any(hp->paths->sentinels, hp->paths->n_sentinels, &conf.ns[i].addr))
			kind = CUR_LOOP;
	buf_free(&b);
	return kind;
}

/* The original as it is: a regular file byte for byte with owner and mode, a
 * symlink as a symlink with the same target text. */
static int save_backup(const struct hp *hp)
{
	struct stat st;
	struct buf b;
	int r;

	if (lstat(hp->resolv, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode))
		return copy_symlink(hp->resolv, hp->backup, hp->backup_tmp);
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	r = read_capped(hp->resolv, &b);
	if (r)
		return r;
	r = replace_file(hp->backup, hp->backup_tmp, &b, &st);
	buf_free(&b);
	return r;
}

static int restore_backup(const struct hp *hp)
{
	struct stat st;
	struct buf b;
	int r;

	if (lstat(hp->backup, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode)) {
		r = copy_symlink(hp->backup, hp->resolv, hp->resolv_tmp);
		goto unlink_backup;
	}
	/* one step: the original back and the backup gone */
	if (rename(hp->backup, hp->resolv) == 0) {
		fsync_dir(hp->resolv);
		fsync_dir(hp->backup);
		return 0;
	}
	if (errno != EBUSY && errno != EXDEV)
		return -errno;
	r = read_capped(hp->backup, &b);
	if (r)
		return r;
	r = replace_file(hp->resolv, hp->resolv_tmp, &b, &st);
	buf_free(&b);
unlink_backup:
	if (r)
		return r;
	if (unlink(hp->backup) < 0)
		return -errno;
	fsync_dir(hp->backup);
	return 0;
}

int hostdns_detect(const struct hostdns_paths *paths)
{
	char link[PATH_MAX], rdir[PATH_MAX];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	struct hp hp;
	size_t n;
	int r, fd;

	if ((r = hp_init(&hp, paths)))
		return r;
	/* resolved's files are reached through a symlink, and exist while it
	 * runs: realpath() follows any chain of links to compare both ends */
	if (lstat(hp.resolv, &st) < 0 || !S_ISLNK(st.st_mode) || !realpath(hp.resolv, link) ||
	    !realpath(hp.resolved_dir, rdir))
		return HOSTDNS_DONE;
	n = strlen(rdir);
	if (strncmp(link, rdir, n) || link[n] != '/')
		return HOSTDNS_DONE;
	/* a stale socket file refuses the connection: resolved is not running */
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/io.systemd.Resolve",
			     hp.resolved_dir) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 || errno == EAGAIN;
	close(fd);
	return r ? HOSTDNS_RESOLVED : HOSTDNS_DONE;
}

int hostdns_read(const struct hostdns_paths *paths, struct hostdns_conf *out)
{
	char path[PATH_MAX];
	struct buf b;
	struct hp hp;
	int mode, r;

	if ((r = hp_init(&hp, paths)))
		return r;
	mode = hostdns_detect(paths);
	if (mode < 0)
		return mode;
	snprintf(path, sizeof(path), "%s", hp.resolv);
	/* the stub file lists only 127.0.0.53; this one lists resolved's upstreams */
	if (mode == HOSTDNS_RESOLVED &&
	    (size_t)snprintf(path, sizeof(path), "%s/resolv.conf", hp.resolved_dir) >= sizeof(path))
		return -ENAMETOOLONG;
	r = read_capped(path, &b);
	if (r)
		return r;
	r = hostdns_parse((const char *)b.data, b.len, out);
	buf_free(&b);
	return r ? r : mode;
}

int hostdns_apply(const struct hostdns_paths *paths, const struct hostdns_conf *orig,
		  const struct sockaddr_storage *sentinels, size_t n)
{
	struct stat st, bst;
	struct buf content;
	struct hp hp;
	int r, cur;

	if ((r = hp_init(&hp, paths)))
		return r;
	buf_init(&content, HOSTDNS_MAX_FILE);
	if ((r = hostdns_format(&content, orig, sentinels, n, hp.backup)))
		goto out;
	if ((r = hostdns_detect(paths)) != HOSTDNS_DONE)
		goto out;
	if (lstat(hp.resolv, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
		r = -EINVAL;
	else if ((cur = classify(&hp)) < 0)
		r = cur;
	else if (lstat(hp.backup, &bst) == 0) {
		/* applied before: the backup still holds the original, unless
		 * someone has since written a newer one */
		if (cur == CUR_FOREIGN) {
			log_info("hostdns: %s was rewritten by someone else: it becomes the backup",
				 hp.resolv);
			r = save_backup(&hp);
		}
	} else if (errno != ENOENT) {
		r = -errno;
	} else if (cur == CUR_OURS) {
		/* no original to come back to: refuse rather than lose DNS at stop */
		log_err("hostdns: %s is sluice's but %s is gone; restore it by hand",
			hp.resolv, hp.backup);
		r = -ESTALE;
	} else {
		r = save_backup(&hp);
	}
	if (r)
		goto out;
	/* a symlink is replaced by a regular file; the backup keeps the link */
	r = replace_file(hp.resolv, hp.resolv_tmp, &content, S_ISREG(st.st_mode) ? &st : NULL);
	if (!r)
		log_info("hostdns: %s now lists %zu sentinel(s); original in %s", hp.resolv, n,
			 hp.backup);
out:
	buf_free(&content);
	return r;
}

int hostdns_revert(const struct hostdns_paths *paths)
{
	struct stat st;
	struct hp hp;
	int r;

	if ((r = hp_init(&hp, paths)))
		return r;
	if (lstat(hp.backup, &st) < 0)
		return errno == ENOENT ? HOSTDNS_DONE : -errno;
	r = classify(&hp);
	if (r < 0)
		return r;
	if (r == CUR_FOREIGN) {
		log_warn("hostdns: %s was changed by someone else while sluice ran: keeping it,"
			 " dropping %s", hp.resolv, hp.backup);
		if (unlink(hp.backup) < 0)
			return -errno;
		fsync_dir(hp.backup);
		return HOSTDNS_FOREIGN;
	}
	if (r == CUR_LOOP)
		log_warn("hostdns: %s was changed but names a sentinel: restoring %s anyway",
			 hp.resolv, hp.backup);
	r = restore_backup(&hp);
	if (r)
		log_err("hostdns: cannot restore %s from %s: %s", hp.resolv, hp.backup,
			strerror(-r));
	else
		log_info("hostdns: %s restored", hp.resolv);
	return r;
}

int hostdns_recover(const struct hostdns_paths *paths)
{
	struct stat st;
	struct hp hp;
	int r;

	if ((r = hp_init(&hp, paths)))
		return r;
	if ((unlink(hp.resolv_tmp) < 0 && errno != ENOENT) ||
	    (unlink(hp.backup_tmp) < 0 && errno != ENOENT))
		return -errno;
	if (lstat(hp.backup, &st) < 0)
		return errno == ENOENT ? HOSTDNS_DONE : -errno;
	log_warn("hostdns: %s exists: the last run did not stop cleanly; reverting", hp.backup);
	return hostdns_revert(paths);
}

/* ---- systemd-resolved ------------------------------------------------------- */

/* fork/exec without a shell and with a deadline: resolvectl talks to resolved
 * over D-Bus/varlink and must not hang the client if resolved does. */
static int run(const char *const argv[])
{
	static const char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	const struct timespec tick = { 0, 10 * 1000 * 1000 };
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		sigset_t none;

		/* the daemon may block SIGTERM for a signalfd; the child must not */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(argv[0], (char *const *)argv, (char *const *)envp);
		_exit(127);
	}
	for (unsigned ms = 0;; ms += 10) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (ms >= 10000) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			log_err("hostdns: %s %s: timed out", argv[0], argv[1]);
			return -ETIMEDOUT;
		}
		nanosleep(&tick, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	log_err("hostdns: %s %s %s failed (%s %d)", argv[0], argv[1], argv[2],
		WIFEXITED(status) ? "exit" : "signal",
		WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return WIFEXITED(status) && WEXITSTATUS(status) == 127 ? -ENOENT : -EIO;
}

static bool ifname_ok(const char *ifname)
{
	size_t n = ifname ? strlen(ifname) : 0;

	/* a name starting with '-' would read as an option */
	return n && n < IF_NAMESIZE && ifname[0] != '-' && !strpbrk(ifname, "/ \t\n");
}

int hostdns_resolved_apply(const struct hostdns_paths *paths, const char *ifname,
			   const struct sockaddr_storage *sentinels, size_t n)
{
	char txt[HOSTDNS_MAX_NS][INET6_ADDRSTRLEN];
	const char *argv[3 + HOSTDNS_MAX_NS + 1];
	struct hp hp;
	int r;

	if ((r = hp_init(&hp, paths)))
		return r;
	if (!ifname_ok(ifname) || n == 0 || n > HOSTDNS_MAX_NS)
		return -EINVAL;
	argv[0] = hp.resolvectl;
	argv[1] = "dns";
	argv[2] = ifname;
	for (size_t i = 0; i < n; i++) {
		if (addr_text(&sentinels[i], txt[i]))
			return -EINVAL;
		argv[3 + i] = txt[i];
	}
	argv[3 + n] = NULL;
	if ((r = run(argv)))
		return r;
	/* every name to this link; and the link may carry the default route */
	if ((r = run((const char *const[]){ hp.resolvectl, "domain", ifname, "~.", NULL })))
		return r;
	r = run((const char *const[]){ hp.resolvectl, "default-route", ifname, "true", NULL });
	if (!r)
		log_info("hostdns: systemd-resolved sends every name to %s (%zu sentinel(s))",
			 ifname, n);
	return r;
}

int hostdns_resolved_revert(const struct hostdns_paths *paths, const char *ifname)
{
	struct hp hp;
	int r;

	if ((r = hp_init(&hp, paths)))
		return r;
	if (!ifname_ok(ifname))
		return -EINVAL;
	return run((const char *const[]){ hp.resolvectl, "revert", ifname, NULL });
}
