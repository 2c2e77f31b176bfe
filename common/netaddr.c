/* netaddr.c - listen address parsing (moved from the master's listen.c so
 * it can be fuzzed on its own). */
#include "netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "util.h"

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
