/* The client's state file. See state.h. */
#include "client/state.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/cursor.h"

#define HEADER_PREFIX "# sluice-client bindings v"

enum {
	FIELDS = 4,
	ADDR_TEXT_MAX = INET6_ADDRSTRLEN, /* with the NUL */
	U64_DIGITS_MAX = 20,
	LABEL_MAX = 63,
	READ_CHUNK = 64 << 10,
	PATH_MAX_LEN = 4096,
};

/* ---- duplicate addresses ----
 * An open-addressing set of the addresses seen. Unseeded on purpose: the
 * file is the daemon's own, mode 0600, and its addresses are proxy IPs the
 * daemon itself handed out; no remote party chooses them. */

struct addr_key {
	uint8_t used;    /* 0: free; else the address length, 4 or 16 */
	uint8_t addr[16];
};

struct addr_set {
	struct addr_key *slot;
	size_t cap, n; /* cap: a power of two */
};

static uint64_t addr_hash(const uint8_t *a, size_t alen)
{
	uint64_t h = 14695981039346656037ull ^ alen; /* FNV-1a */

	for (size_t i = 0; i < alen; i++)
		h = (h ^ a[i]) * 1099511628211ull;
	return h ^ h >> 29;
}

static struct addr_key *set_find(struct addr_key *slot, size_t cap, const uint8_t *a,
				 size_t alen)
{
	size_t i = (size_t)addr_hash(a, alen) & (cap - 1);

	while (slot[i].used && (slot[i].used != alen || memcmp(slot[i].addr, a, alen) != 0))
		i = (i + 1) & (cap - 1);
	return &slot[i];
}

/* 1: added; 0: already there; -ENOMEM. */
static int set_add(struct addr_set *s, const uint8_t *a, size_t alen)
{
	struct addr_key *k;

	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct addr_key *slot = calloc(cap, sizeof(*slot));

		if (!slot)
			return -ENOMEM;
		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i].used)
				*set_find(slot, cap, s->slot[i].addr, s->slot[i].used) = s->slot[i];
		free(s->slot);
		s->slot = slot;
		s->cap = cap;
	}
	k = set_find(s->slot, s->cap, a, alen);
	if (k->used)
		return 0;
	k->used = (uint8_t)alen;
	memcpy(k->addr, a, alen);
	s->n++;
	return 1;
}

/* ---- fields ---- */

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* DNS name text as the client binds it: lowercase, no trailing dot, labels
 * of 1-63 letters, digits, hyphens, underscores, 253 characters at most. */
static bool name_valid(const char *s, size_t len)
{
	size_t lab = 0;

	if (len == 0 || len > STATE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (lab == 0)
				return false;
			lab = 0;
		} else if (!name_char(s[i]) || ++lab > LABEL_MAX) {
			return false;
		}
	}
	return lab > 0;
}

static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > U64_DIGITS_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static bool parse_addr(const char *s, size_t len, struct state_binding *b)
{
	char t[ADDR_TEXT_MAX];

	/* inet_pton() would stop at a NUL and take the text before it. */
	if (len == 0 || len >= sizeof(t) || memchr(s, '\0', len))
		return false;
	memcpy(t, s, len);
	t[len] = '\0';
	b->family = memchr(t, ':', len) ? AF_INET6 : AF_INET;
	return inet_pton(b->family, t, b->addr) == 1;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Splits a line into exactly FIELDS fields; false if it has another count. */
static bool split(const char *line, size_t len, const char *f[FIELDS], size_t flen[FIELDS])
{
	size_t i = 0, n = 0;

	for (;;) {
		size_t start;

		while (i < len && is_blank(line[i]))
			i++;
		if (i == len)
			return n == FIELDS;
		if (n == FIELDS)
			return false;
		start = i;
		while (i < len && !is_blank(line[i]))
			i++;
		f[n] = line + start;
		flen[n++] = i - start;
	}
}

static bool parse_line(const char *line, size_t len, struct state_binding *b)
{
	const char *f[FIELDS];
	size_t flen[FIELDS];

	memset(b, 0, sizeof(*b));
	if (!split(line, len, f, flen) || !parse_addr(f[0], flen[0], b) ||
	    !name_valid(f[1], flen[1]) || !parse_u64(f[2], flen[2], &b->resource_id) ||
	    b->resource_id == 0 || !parse_u64(f[3], flen[3], &b->gateway_id))
		return false;
	memcpy(b->name, f[1], flen[1]);
	b->name[flen[1]] = '\0';
	return true;
}

/* The next line at the cursor, without its "\n" or "\r\n". */
static const char *next_line(struct cursor *c, size_t *len)
{
	const uint8_t *start = c->base + c->pos, *nl;
	size_t rest = cur_remaining(c), n;

	nl = memchr(start, '\n', rest);
	n = nl ? (size_t)(nl - start) : rest;
	cur_skip(c, nl ? n + 1 : n);
	if (n && start[n - 1] == '\r')
		n--;
	*len = n;
	return (const char *)start;
}

static int check_header(const char *line, size_t len)
{
	size_t plen = sizeof(HEADER_PREFIX) - 1;

	if (len == sizeof(STATE_HEADER) - 1 && memcmp(line, STATE_HEADER, len) == 0)
		return 0;
	if (len > plen && memcmp(line, HEADER_PREFIX, plen) == 0)
		return -EPROTONOSUPPORT;
	return -EBADMSG;
}

int state_parse(const char *text, size_t len, int (*fn)(void *arg, const struct state_binding *b),
		void *arg, size_t *bad)
{
	struct addr_set seen = { 0 };
	struct cursor c;
	struct state_binding b;
	size_t nbad = 0, llen;
	const char *line;
	int r;

	if (bad)
		*bad = 0;
	if (len > STATE_MAX_FILE)
		return -EFBIG;
	if (!len)
		return -EBADMSG;
	cur_init_ro(&c, text, len);
	line = next_line(&c, &llen);
	r = check_header(line, llen);
	while (r == 0 && cur_remaining(&c)) {
		line = next_line(&c, &llen);
		if (llen == 0 || line[0] == '#')
			continue;
		if (!parse_line(line, llen, &b)) {
			nbad++;
			continue;
		}
		r = set_add(&seen, b.addr, b.family == AF_INET ? 4 : 16);
		if (r == 0) {
			nbad++;
			continue;
		}
		if (r > 0)
			r = fn(arg, &b);
		if (r > 0)
			r = 0; /* only a negative return stops the parse */
	}
	free(seen.slot);
	if (bad)
		*bad = nbad;
	return r;
}

/* ---- formatting ---- */

static bool binding_valid(const struct state_binding *b)
{
	size_t n = strnlen(b->name, sizeof(b->name));

	return (b->family == AF_INET || b->family == AF_INET6) && n < sizeof(b->name) &&
	       name_valid(b->name, n) && b->resource_id != 0;
}

int state_format(struct buf *out, const struct state_binding *b, size_t n)
{
	size_t start = out->len;
	int r = buf_printf(out, "%s\n", STATE_HEADER);

	for (size_t i = 0; r == 0 && i < n; i++) {
		char a[ADDR_TEXT_MAX];

		if (!binding_valid(&b[i]) || !inet_ntop(b[i].family, b[i].addr, a, sizeof(a))) {
			r = -EINVAL;
			break;
		}
		r = buf_printf(out, "%s %s %llu %llu\n", a, b[i].name,
			       (unsigned long long)b[i].resource_id,
			       (unsigned long long)b[i].gateway_id);
		if (r == 0 && out->len - start > STATE_MAX_FILE)
			r = -EFBIG;
	}
	if (r < 0)
		out->len = start;
	return r;
}

/* ---- the file ---- */

static int file_path(char *path, size_t cap, const char *dir, const char *name)
{
	if (!*dir || !*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return -EINVAL;
	if ((size_t)snprintf(path, cap, "%s/%s", dir, name) >= cap)
		return -ENAMETOOLONG;
	return 0;
}

int state_read(const char *dir, const char *name, struct buf *out)
{
	char path[PATH_MAX_LEN];
	size_t start = out->len, total = 0;
	struct stat st;
	int fd, r;

	r = file_path(path, sizeof(path), dir, name);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP ? -EINVAL : -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if (st.st_mode & 077) {
		r = -EPERM;
		goto out;
	}
	if (st.st_size > STATE_MAX_FILE) {
		r = -EFBIG;
		goto out;
	}
	/* Up to EOF, not st_size: the size is a claim the reads check. */
	for (;;) {
		size_t want = STATE_MAX_FILE - total;
		uint8_t probe, *to = &probe;
		ssize_t n;

		/* At the cap, one byte more on the stack tells EOF from a file
		 * that grew: out need not hold more than the cap. */
		if (want > READ_CHUNK)
			want = READ_CHUNK;
		if (want) {
			r = buf_reserve(out, want);
			if (r < 0)
				goto out;
			to = out->data + out->len;
		} else {
			want = 1;
		}
		n = read(fd, to, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		if (to == &probe) {
			r = -EFBIG;
			goto out;
		}
		out->len += (size_t)n;
		total += (size_t)n;
	}
	r = 0;
out:
	if (r < 0)
		out->len = start;
	close(fd);
	return r;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int state_write(const char *dir, const char *name, const struct buf *text)
{
	char path[PATH_MAX_LEN], tmp[PATH_MAX_LEN];
	int fd, dfd, r;

	if (text->len > STATE_MAX_FILE)
		return -EFBIG;
	r = file_path(path, sizeof(path), dir, name);
	if (r < 0)
		return r;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC); /* 0600, a name of its own */
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) < 0 || (r = write_all(fd, text->data, text->len)) < 0 ||
	    fsync(fd) < 0) {
		r = r < 0 ? r : -errno;
		close(fd);
		goto fail;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		r = -errno;
		goto fail;
	}
	/* The rename itself must reach the disk before the caller relies on it. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	r = fsync(dfd) < 0 ? -errno : 0;
	close(dfd);
	return r;
fail:
	unlink(tmp);
	return r;
}
