/* fuzz_delivered.c - the Delivered-To loop check over a message header
 * (client bytes).  The input is the address, a NUL, then the message.
 *
 * The answer is the same fed whole, one byte at a time and in pieces cut
 * where the input's own bytes say; a match needs the field name in the
 * input, and the address (it is never found for one that is not there).
 */
#include <string.h>

#include "../common/mail/delivered.h"
#include "fuzz.h"

static int
whole(const char *addr, const uint8_t *m, size_t len)
{
	struct delivered_scan s;

	delivered_scan_init(&s, addr);
	if (delivered_scan_feed(&s, m, len))
		return s.found;
	return delivered_scan_end(&s);
}

static int
pieces(const char *addr, const uint8_t *m, size_t len, int bytewise)
{
	struct delivered_scan s;
	size_t off = 0, n;

	delivered_scan_init(&s, addr);
	while (off < len) {
		n = bytewise ? 1 : 1 + m[off] % 17;
		if (n > len - off)
			n = len - off;
		if (delivered_scan_feed(&s, m + off, n))
			return s.found;
		off += n;
	}
	return delivered_scan_end(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *z = memchr(data, '\0', size);
	char addr[DELIVERED_ADDR_MAX + 2];
	size_t al;
	int r;

	if (z == NULL || (al = (size_t)(z - data)) > DELIVERED_ADDR_MAX + 1)
		return 0;
	memcpy(addr, data, al);
	addr[al] = '\0';
	data += al + 1;
	size -= al + 1;
	r = whole(addr, data, size);
	CHECK(r == pieces(addr, data, size, 1));
	CHECK(r == pieces(addr, data, size, 0));
	if (r)
		CHECK(al > 0 && al <= DELIVERED_ADDR_MAX && size >= 13 + al);
	return 0;
}
