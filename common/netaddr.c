/* netaddr.c - limit keys of client addresses. */
#include "netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int
netaddr_key(const char *ip, unsigned v6_bits, char *out, size_t outlen)
{
	unsigned char a[16];
	char text[INET6_ADDRSTRLEN];
	unsigned i;

	if (outlen < NETADDR_KEY_MAX)
		return -1;
	if (inet_pton(AF_INET, ip, a) == 1) {
		inet_ntop(AF_INET, a, out, (socklen_t)outlen);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, a) != 1) {
		snprintf(out, outlen, "%s", ip);
		return 0;
	}
	if (memcmp(a, v4mapped, sizeof(v4mapped)) == 0) {
		inet_ntop(AF_INET, a + 12, out, (socklen_t)outlen);
		return 0;
	}
	if (v6_bits > 128)
		v6_bits = 128;
	for (i = 0; i < 16; i++) {
		if (v6_bits >= 8 * (i + 1))
			continue;
		a[i] &= v6_bits <= 8 * i ? 0 : (unsigned char)(0xff << (8 - (v6_bits - 8 * i)));
	}
	inet_ntop(AF_INET6, a, text, sizeof(text));
	snprintf(out, outlen, "%s/%u", text, v6_bits);
	return 0;
}
