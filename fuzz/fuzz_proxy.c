/* fuzz_proxy.c - the PROXY v1/v2 header parser, fed as the worker feeds it
 * (only as many bytes as proxy_next_read() allows) and whole; and the
 * trusted-proxy address list matcher on a split of the input. */
#include <arpa/inet.h>
#include <string.h>

#include "../common/net/proxy.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_info a, b;
	size_t len = 0, n, used_a = 0, used_b = 0;
	enum proxy_result ra, rb;
	uint8_t bin[16];

	/* the worker's way: never read past what next_read allows */
	while ((n = proxy_next_read(data, len)) > 0 && len + n <= size)
		len += n;
	CHECK(len <= PROXY_MAX);
	ra = proxy_parse(data, len, &a, &used_a);
	rb = proxy_parse(data, size, &b, &used_b);
	if (ra == PROXY_OK) {
		CHECK(used_a == len);	/* next_read stopped exactly at the end */
		CHECK(rb == PROXY_OK && used_b == used_a && memcmp(&a, &b, sizeof(a)) == 0);
		if (!a.local)
			CHECK(inet_pton(strchr(a.src, ':') ? AF_INET6 : AF_INET, a.src, bin) == 1);
	}
	if (rb == PROXY_OK)
		CHECK(used_b <= size && used_b <= PROXY_MAX);
	if (size > 2) {
		char list[128], ip[64];
		size_t cut = data[0] % (size - 1) + 1, l1 = cut - 1 < 127 ? cut - 1 : 127;
		size_t l2 = size - cut < 63 ? size - cut : 63;
		memcpy(list, data + 1, l1);
		list[l1] = '\0';
		memcpy(ip, data + cut, l2);
		ip[l2] = '\0';
		if (memchr(list, '\0', l1) == NULL && memchr(ip, '\0', l2) == NULL)
			(void)proxy_addr_in_list(list, ip);
	}
	return 0;
}
