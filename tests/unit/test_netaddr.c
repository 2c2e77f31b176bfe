/* test_netaddr.c - listen address parsing (moved from the master). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "../../common/net/netaddr.h"
#include "tap.h"

static struct sockaddr_storage ss;
static socklen_t sl;

static int
ok(const char *s)
{
	return netaddr_parse(s, &ss, &sl) == 0;
}

static unsigned
port(void)
{
	return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port) :
	    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

int
main(void)
{
	static const char *const bad[] = {
		"127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", ":110", "[::1:110",
		"[::1]110", "[]:110", "localhost:110", "127.0.0.256:110", "[fe80::1%eth0]:110",
		"127.0.0.1:+110", "127.0.0.1: 110",
	};
	size_t i;

	CHECK(ok("0.0.0.0:110") && ss.ss_family == AF_INET && sl == sizeof(struct sockaddr_in) &&
	    port() == 110, "IPv4 host:port");
	CHECK(ok("[::1]:995") && ss.ss_family == AF_INET6 && sl == sizeof(struct sockaddr_in6) &&
	    port() == 995, "[v6]:port");
	CHECK(ok("::1:110") && ss.ss_family == AF_INET6 && port() == 110, "bare v6, last ':' is the port");
	CHECK(ok("127.0.0.1:65535") && port() == 65535, "highest port");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!ok(bad[i]), bad[i]);
	return tap_done();
}
