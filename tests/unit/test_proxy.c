/* test_proxy.c - PROXY v1/v2 parser, read planning, trusted lists. */
#include <string.h>

#include "../../common/net/proxy.h"
#include "tap.h"

static const uint8_t v2_tcp4[] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
	0x21, 0x11, 0x00, 0x0c, 203, 0, 113, 7, 192, 0, 2, 1, 0x13, 0x88, 0x00, 0x6e,
	'X',	/* the protocol's first byte: must not be consumed */
};

/* Read like the worker: only what proxy_next_read allows. */
static size_t
feed(const uint8_t *in, size_t inlen)
{
	size_t len = 0, n;

	while ((n = proxy_next_read(in, len)) > 0 && len + n <= inlen)
		len += n;
	return len;
}

static void
test_v1(void)
{
	const char *h = "PROXY TCP4 203.0.113.7 192.0.2.1 51234 110\r\nUSER x\r\n";
	struct proxy_info pi;
	size_t used, len = feed((const uint8_t *)h, strlen(h));

	CHECK(len == 44, "v1: reads up to the LF, not beyond");
	CHECK(proxy_parse((const uint8_t *)h, len, &pi, &used) == PROXY_OK && used == 44 &&
	    !strcmp(pi.src, "203.0.113.7") && pi.src_port == 51234 && !pi.local, "v1 TCP4");
	h = "PROXY TCP6 2001:DB8::1 2001:db8::2 1 2\r\n";
	CHECK(proxy_parse((const uint8_t *)h, strlen(h), &pi, &used) == PROXY_OK &&
	    !strcmp(pi.src, "2001:db8::1"), "v1 TCP6 canonicalised");
	h = "PROXY UNKNOWN\r\n";
	CHECK(proxy_parse((const uint8_t *)h, strlen(h), &pi, &used) == PROXY_OK && pi.local, "UNKNOWN");
	CHECK(proxy_parse((const uint8_t *)"PROXY TCP4 1.2.3.4 5.6.7.8 1 2", 30, &pi, &used) ==
	    PROXY_NEED_MORE, "incomplete line needs more");
	CHECK(proxy_parse((const uint8_t *)"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", 31, &pi, &used) ==
	    PROXY_ERR, "LF without CR");
	CHECK(proxy_parse((const uint8_t *)"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", 33, &pi, &used) ==
	    PROXY_ERR, "leading zero port");
	CHECK(proxy_parse((const uint8_t *)"PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", 36, &pi, &used) ==
	    PROXY_ERR, "port over 65535");
	CHECK(proxy_parse((const uint8_t *)"PROXY TCP4 ::1 ::1 1 2\r\n", 24, &pi, &used) ==
	    PROXY_ERR, "IPv6 address in TCP4");
	CHECK(proxy_parse((const uint8_t *)"USER demo\r\n", 11, &pi, &used) == PROXY_ERR, "no header");
}

static void
test_v2(void)
{
	struct proxy_info pi;
	uint8_t b[sizeof(v2_tcp4)];
	size_t used, len = feed(v2_tcp4, sizeof(v2_tcp4));

	CHECK(len == 28, "v2: reads exactly the header");
	CHECK(proxy_parse(v2_tcp4, len, &pi, &used) == PROXY_OK && used == 28 &&
	    !strcmp(pi.src, "203.0.113.7") && pi.src_port == 5000, "v2 TCP4");
	CHECK(proxy_parse(v2_tcp4, 20, &pi, &used) == PROXY_NEED_MORE, "v2 partial");
	memcpy(b, v2_tcp4, sizeof(b));
	b[12] = 0x20;
	CHECK(proxy_parse(b, 28, &pi, &used) == PROXY_OK && pi.local, "v2 LOCAL");
	b[12] = 0x31;
	CHECK(proxy_parse(b, 28, &pi, &used) == PROXY_ERR, "v2 version 3 refused");
	memcpy(b, v2_tcp4, sizeof(b));
	b[15] = 0x08;
	CHECK(proxy_parse(b, 24, &pi, &used) == PROXY_ERR, "v2 address block too short");
	b[14] = 0xff;
	CHECK(proxy_next_read(b, 16) == 0 && proxy_parse(b, 16, &pi, &used) == PROXY_ERR,
	    "v2 length over the limit");
}

static void
test_lists(void)
{
	const char *l = "127.0.0.1, 10.0.0.0/8,fd00::/8 192.0.2.128/25";

	CHECK(proxy_addr_in_list(l, "127.0.0.1") && !proxy_addr_in_list(l, "127.0.0.2"), "single address");
	CHECK(proxy_addr_in_list(l, "10.200.3.4") && !proxy_addr_in_list(l, "11.0.0.1"), "/8");
	CHECK(proxy_addr_in_list(l, "192.0.2.200") && !proxy_addr_in_list(l, "192.0.2.127"), "/25");
	CHECK(proxy_addr_in_list(l, "fd12::1") && !proxy_addr_in_list(l, "fe80::1"), "IPv6 /8");
	CHECK(!proxy_addr_in_list("", "127.0.0.1") && !proxy_addr_in_list(l, "not an ip"), "empty, junk");
	CHECK(!proxy_addr_in_list("10.0.0.0/33", "10.0.0.1"), "bad prefix length ignored");
}

int
main(void)
{
	test_v1();
	test_v2();
	test_lists();
	return tap_done();
}
