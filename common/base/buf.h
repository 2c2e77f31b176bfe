/* buf.h - bounded byte buffers.
 *
 * A buffer carries len (bytes used), cap (bytes allocated) and max (the most
 * it may ever hold).  Growth is checked for overflow and fails past max, so
 * no input can make a buffer use unbounded memory.
 */
#ifndef POSTERN_BUF_H
#define POSTERN_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;
};

/* Initialise an empty buffer that may grow up to max bytes. No allocation. */
void buf_init(struct buf *b, size_t max);

/* Free the storage (wiped first if wipe is non-zero); the buffer is empty. */
void buf_free(struct buf *b, int wipe);

/* Make room for at least extra more bytes. Returns 0, or -1 (errno=ENOBUFS
 * past max, ENOMEM) with the buffer unchanged. */
int buf_reserve(struct buf *b, size_t extra);

/* Append len bytes. Returns 0 or -1 as buf_reserve. */
int buf_append(struct buf *b, const void *data, size_t len);

/* Append a NUL-terminated string (without its NUL). */
int buf_append_str(struct buf *b, const char *s);

/* Append printf-formatted text; -1 if it does not fit under max. */
/* Append text then v in decimal (text may be NULL): the per-message
 * numbers of long replies without printf, which is slow in musl. */
int buf_append_u64(struct buf *b, const char *text, uint64_t v);

int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Remove the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);

/* Drop all content, keep the storage. */
void buf_reset(struct buf *b);

#endif
