/* fuzz_netaddr.c - netaddr_parse(), the listen address parser (config and
 * POSTERN_* environment values).
 *
 * An address that parses is IPv4 or IPv6 with the right length and a
 * port 1..65535 equal to the digits after the last ':'; printed back as
 * "a.b.c.d:port" or "[v6]:port" it parses to the very same bytes.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/net/netaddr.h"
#include "fuzz.h"

static void
check_ok(const char *s, const struct sockaddr_storage *ss, socklen_t len)
{
	struct sockaddr_storage again;
	socklen_t len2 = 0;
	char host[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 16];
	const char *colon = strrchr(s, ':');
	unsigned port;

	CHECK(colon != NULL);
	port = (unsigned)strtoul(colon + 1, NULL, 10);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		CHECK(len == sizeof(*sin));
		CHECK(ntohs(sin->sin_port) == port && port >= 1 && port <= 65535);
		CHECK(inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host)) != NULL);
		snprintf(text, sizeof(text), "%s:%u", host, port);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		CHECK(ss->ss_family == AF_INET6 && len == sizeof(*sin6));
		CHECK(ntohs(sin6->sin6_port) == port && port >= 1 && port <= 65535);
		CHECK(inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host)) != NULL);
		snprintf(text, sizeof(text), "[%s]:%u", host, port);
	}
	CHECK(netaddr_parse(text, &again, &len2) == 0);
	CHECK(len2 == len && memcmp(&again, ss, len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char *s;

	if (memchr(data, '\0', size) != NULL)
		return 0;	/* config values are C strings */
	s = malloc(size + 1);
	CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	if (netaddr_parse(s, &ss, &len) == 0)
		check_ok(s, &ss, len);
	free(s);
	return 0;
}
