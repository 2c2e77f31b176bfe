/* test_buf.c - bounded byte buffers: growth, limits, overflow. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "../../common/base/buf.h"
#include "tap.h"

static int
same(const struct buf *b, const char *s)
{
	size_t n = strlen(s);

	return b->len == n && (n == 0 || memcmp(b->data, s, n) == 0);
}

static void
test_init_append(void)
{
	struct buf b;

	buf_init(&b, 100);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0 && b.max == 100, "init: empty, no allocation");
	CHECK(buf_append(&b, "", 0) == 0 && b.data == NULL, "append 0 bytes: no allocation");
	CHECK(buf_append(&b, "abc", 3) == 0 && same(&b, "abc"), "append bytes");
	CHECK(buf_append_str(&b, "def") == 0 && same(&b, "abcdef"), "append_str");
	CHECK(b.cap >= b.len && b.cap <= b.max, "len <= cap <= max");
	buf_reset(&b);
	CHECK(b.len == 0 && b.data != NULL, "reset keeps storage");
	buf_free(&b, 1);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0, "free empties");
}

static void
test_printf(void)
{
	struct buf b;
	char big[700];

	buf_init(&b, 4096);
	CHECK(buf_printf(&b, "%s=%d", "x", 42) == 0 && same(&b, "x=42"), "printf small");
	CHECK(buf_printf(&b, ";%u", 7u) == 0 && same(&b, "x=42;7"), "printf appends");
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_reset(&b);
	CHECK(buf_printf(&b, "<%s>", big) == 0 && b.len == 701 && b.data[0] == '<' &&
	    b.data[700] == '>' && b.data[699] == 'z', "printf larger than the stack copy");
	buf_free(&b, 0);

	/* A result of exactly max bytes fits, small and large path alike. */
	buf_init(&b, 10);
	CHECK(buf_printf(&b, "%s", "0123456789") == 0 && b.len == 10, "printf exactly max (small)");
	CHECK(buf_printf(&b, "x") == -1 && errno == ENOBUFS && b.len == 10, "printf past max refused");
	buf_free(&b, 0);
	buf_init(&b, 699);
	CHECK(buf_printf(&b, "%s", big) == 0 && b.len == 699, "printf exactly max (large)");
	buf_free(&b, 0);
	buf_init(&b, 698);
	CHECK(buf_printf(&b, "%s", big) == -1 && errno == ENOBUFS && b.len == 0,
	    "printf large past max refused, buffer unchanged");
	buf_free(&b, 0);
}

static void
test_consume(void)
{
	struct buf b;

	buf_init(&b, 64);
	buf_append_str(&b, "hello world");
	buf_consume(&b, 0);
	CHECK(same(&b, "hello world"), "consume 0");
	buf_consume(&b, 6);
	CHECK(same(&b, "world"), "consume front");
	buf_consume(&b, 5);
	CHECK(b.len == 0, "consume all");
	buf_append_str(&b, "ab");
	buf_consume(&b, 99);
	CHECK(b.len == 0, "consume more than len empties");
	buf_free(&b, 0);
}

static void
test_reserve(void)
{
	struct buf b;
	uint8_t *p;
	size_t cap;

	buf_init(&b, 1000);
	CHECK(buf_reserve(&b, 10) == 0 && b.cap >= 10 && b.cap <= 1000, "reserve");
	CHECK(buf_reserve(&b, 1000) == 0 && b.cap == 1000, "reserve to max, cap clamped");
	buf_append(&b, "abc", 3);
	p = b.data;
	cap = b.cap;
	errno = 0;
	CHECK(buf_reserve(&b, 998) == -1 && errno == ENOBUFS, "reserve past max: ENOBUFS");
	CHECK(b.data == p && b.cap == cap && same(&b, "abc"), "failed reserve leaves buffer unchanged");
	errno = 0;
	CHECK(buf_reserve(&b, SIZE_MAX) == -1 && errno == ENOBUFS, "len + SIZE_MAX overflow refused");
	CHECK(buf_reserve(&b, SIZE_MAX - 2) == -1 && errno == ENOBUFS, "len + (SIZE_MAX-2) overflow refused");
	CHECK(b.data == p && b.cap == cap && same(&b, "abc"), "unchanged after overflow");
	buf_free(&b, 0);

	buf_init(&b, 5);
	CHECK(buf_reserve(&b, 1) == 0 && b.cap == 5, "small max: cap clamped to max");
	buf_free(&b, 0);
}

static void
test_growth(void)
{
	struct buf b;
	char chunk[100];
	uint8_t *p;
	size_t cap;
	int i, ok = 1;

	memset(chunk, 'q', sizeof(chunk));
	buf_init(&b, 1000);
	for (i = 0; i < 10; i++)
		ok &= buf_append(&b, chunk, sizeof(chunk)) == 0;
	CHECK(ok && b.len == 1000 && b.cap == 1000, "append up to exactly max");
	errno = 0;
	CHECK(buf_append(&b, "x", 1) == -1 && errno == ENOBUFS && b.len == 1000,
	    "append one past max: ENOBUFS, unchanged");
	CHECK(b.data[999] == 'q', "content intact");
	buf_free(&b, 1);

	/* Huge max: len + extra does not overflow, but realloc fails cleanly. */
	buf_init(&b, SIZE_MAX);
	buf_append(&b, "abc", 3);
	p = b.data;
	cap = b.cap;
	errno = 0;
	CHECK(buf_reserve(&b, SIZE_MAX - 10) == -1 && errno == ENOMEM, "impossible allocation: ENOMEM");
	CHECK(b.data == p && b.cap == cap && same(&b, "abc"), "unchanged after ENOMEM");
	CHECK(buf_reserve(&b, SIZE_MAX) == -1 && errno == ENOBUFS, "max SIZE_MAX: overflow refused");
	buf_free(&b, 0);
}

static void
test_append_u64(void)
{
	struct buf b;
	char want[64];

	buf_init(&b, 256);
	CHECK(buf_append_u64(&b, "UID ", 0) == 0 && b.len == 5 && memcmp(b.data, "UID 0", 5) == 0,
	    "u64: zero");
	buf_reset(&b);
	CHECK(buf_append_u64(&b, NULL, UINT64_MAX) == 0 && b.len == 20 &&
	    memcmp(b.data, "18446744073709551615", 20) == 0, "u64: the largest, no text");
	buf_reset(&b);
	snprintf(want, sizeof(want), "* %u", 4294967295u);
	CHECK(buf_append_u64(&b, "* ", 4294967295u) == 0 && b.len == strlen(want) &&
	    memcmp(b.data, want, b.len) == 0, "u64: as printf prints it");
	buf_free(&b, 0);
	buf_init(&b, 4);
	CHECK(buf_append_u64(&b, "UID ", 12345) == -1, "u64: over the buffer's max is refused");
	buf_free(&b, 0);
}

int
main(void)
{
	test_init_append();
	test_printf();
	test_consume();
	test_reserve();
	test_growth();
	test_append_u64();
	return tap_done();
}
