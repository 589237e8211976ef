/* A growable byte buffer with a hard cap set at creation: nothing a peer sends can
 * make it grow past what its owner decided. */
#ifndef SLUICE_LIB_BUF_H
#define SLUICE_LIB_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;
};

void buf_init(struct buf *b, size_t max);
/* Makes room for n more bytes: 0, -EMSGSIZE past the cap, -ENOMEM. */
int buf_reserve(struct buf *b, size_t n);
int buf_append(struct buf *b, const void *data, size_t n);
/* printf into the buffer, keeping it NUL-terminated (the NUL is not in len). */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes (consumed input). */
void buf_consume(struct buf *b, size_t n);
void buf_reset(struct buf *b);
/* Frees the memory; buf_wipe() zeroes it first, for buffers that held secrets. */
void buf_free(struct buf *b);
void buf_wipe(struct buf *b);

#endif
