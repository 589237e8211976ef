#include "lib/cursor.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

void cur_init(struct cursor *c, void *buf, size_t len)
{
	*c = (struct cursor){ .base = buf, .len = buf ? len : 0 };
}

void cur_init_ro(struct cursor *c, const void *buf, size_t len)
{
	/* The cast is safe: ro blocks every write path. */
	cur_init(c, (void *)(uintptr_t)buf, len);
	c->ro = true;
}

int cur_fail(struct cursor *c, int err)
{
	if (!c->err)
		c->err = err;
	return c->err;
}

bool cur_need(struct cursor *c, size_t n)
{
	if (c->err)
		return false;
	if (n > c->len - c->pos) {
		cur_fail(c, -EBADMSG);
		return false;
	}
	return true;
}

void cur_seek(struct cursor *c, size_t pos)
{
	if (c->err)
		return;
	if (pos > c->len)
		cur_fail(c, -EBADMSG);
	else
		c->pos = pos;
}

void cur_skip(struct cursor *c, size_t n)
{
	if (cur_need(c, n))
		c->pos += n;
}

const uint8_t *cur_take(struct cursor *c, size_t n)
{
	const uint8_t *p;

	if (!cur_need(c, n))
		return NULL;
	p = c->base + c->pos;
	c->pos += n;
	return p;
}

void cur_bytes(struct cursor *c, void *out, size_t n)
{
	const uint8_t *p = cur_take(c, n);

	if (p)
		memcpy(out, p, n);
	else
		memset(out, 0, n);
}

#define CUR_READ(name, type, conv)                      \
	type name(struct cursor *c)                     \
	{                                               \
		type v;                                 \
		cur_bytes(c, &v, sizeof(v));            \
		return conv(v);                         \
	}

static inline uint8_t ident8(uint8_t v) { return v; }

CUR_READ(cur_u8, uint8_t, ident8)
CUR_READ(cur_be16, uint16_t, be16toh)
CUR_READ(cur_be32, uint32_t, be32toh)
CUR_READ(cur_be64, uint64_t, be64toh)
CUR_READ(cur_le16, uint16_t, le16toh)
CUR_READ(cur_le32, uint32_t, le32toh)
CUR_READ(cur_le64, uint64_t, le64toh)

uint8_t *cur_reserve(struct cursor *c, size_t n)
{
	uint8_t *p;

	if (c->err)
		return NULL;
	if (c->ro) {
		cur_fail(c, -EPERM);
		return NULL;
	}
	if (n > c->len - c->pos) {
		cur_fail(c, -ENOBUFS);
		return NULL;
	}
	p = c->base + c->pos;
	c->pos += n;
	return p;
}

void cur_put_bytes(struct cursor *c, const void *in, size_t n)
{
	uint8_t *p = cur_reserve(c, n);

	if (p && n)
		memcpy(p, in, n);
}

void cur_put_zero(struct cursor *c, size_t n)
{
	uint8_t *p = cur_reserve(c, n);

	if (p && n)
		memset(p, 0, n);
}

#define CUR_WRITE(name, type, conv)                     \
	void name(struct cursor *c, type v)             \
	{                                               \
		type w = conv(v);                       \
		cur_put_bytes(c, &w, sizeof(w));        \
	}

CUR_WRITE(cur_put_u8, uint8_t, ident8)
CUR_WRITE(cur_put_be16, uint16_t, htobe16)
CUR_WRITE(cur_put_be32, uint32_t, htobe32)
CUR_WRITE(cur_put_be64, uint64_t, htobe64)
CUR_WRITE(cur_put_le16, uint16_t, htole16)
CUR_WRITE(cur_put_le32, uint32_t, htole32)
CUR_WRITE(cur_put_le64, uint64_t, htole64)
