/* netaddr.c - client addresses as limit keys, listen addresses as written
 * in the config. */
#include "netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../base/util.h"

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

int
netaddr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len_r)
{
	char host[64];
	const char *port;
	uint64_t p;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *e = strchr(s, ']');
		if (e == NULL || e[1] != ':')
			return -1;
		hl = (size_t)(e - s - 1);
		port = e + 2;
		s++;
	} else {
		const char *c = strrchr(s, ':');
		if (c == NULL)
			return -1;
		hl = (size_t)(c - s);
		port = c + 1;
	}
	if (hl == 0 || hl >= sizeof(host) || util_str_to_u64(port, 65535, &p) < 0 || p == 0)
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p);
		*len_r = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p);
		*len_r = sizeof(*sin6);
		return 0;
	}
	return -1;
}
