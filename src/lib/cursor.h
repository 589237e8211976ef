/* A read/write cursor over a byte buffer that keeps its first error.
 *
 * Every accessor checks bounds; on failure it records an error, returns zero and
 * leaves the position where it was, and every later call is a no-op. A parser
 * therefore reads a whole structure and checks cur->err once at the end, instead
 * of after each field. Multi-byte values go through memcpy: no unaligned casts.
 *
 * Errors: -EBADMSG reading past the end, -ENOBUFS writing past the end,
 * -EPERM writing through a read-only cursor, or whatever cur_fail() was given. */
#ifndef SLUICE_LIB_CURSOR_H
#define SLUICE_LIB_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cursor {
	uint8_t *base;
	size_t len;
	size_t pos;
	int err;
	bool ro;
};

void cur_init(struct cursor *c, void *buf, size_t len);
void cur_init_ro(struct cursor *c, const void *buf, size_t len);

static inline size_t cur_remaining(const struct cursor *c)
{
	return c->err ? 0 : c->len - c->pos;
}

/* Records err unless an error is already held; returns the error now held. */
int cur_fail(struct cursor *c, int err);
/* Checks that n more bytes are there, failing the cursor if not. */
bool cur_need(struct cursor *c, size_t n);
/* Moves to an absolute offset (<= len). */
void cur_seek(struct cursor *c, size_t pos);
void cur_skip(struct cursor *c, size_t n);
/* Returns a pointer to the next n bytes and steps over them, or NULL. */
const uint8_t *cur_take(struct cursor *c, size_t n);

uint8_t cur_u8(struct cursor *c);
uint16_t cur_be16(struct cursor *c);
uint32_t cur_be32(struct cursor *c);
uint64_t cur_be64(struct cursor *c);
uint16_t cur_le16(struct cursor *c);
uint32_t cur_le32(struct cursor *c);
uint64_t cur_le64(struct cursor *c);
void cur_bytes(struct cursor *c, void *out, size_t n);

void cur_put_u8(struct cursor *c, uint8_t v);
void cur_put_be16(struct cursor *c, uint16_t v);
void cur_put_be32(struct cursor *c, uint32_t v);
void cur_put_be64(struct cursor *c, uint64_t v);
void cur_put_le16(struct cursor *c, uint16_t v);
void cur_put_le32(struct cursor *c, uint32_t v);
void cur_put_le64(struct cursor *c, uint64_t v);
void cur_put_bytes(struct cursor *c, const void *in, size_t n);
void cur_put_zero(struct cursor *c, size_t n);
/* Reserves n writable bytes and returns them (for in-place fills), or NULL. */
uint8_t *cur_reserve(struct cursor *c, size_t n);

#endif
