/* netaddr.h - listen addresses as written in the config ("host:port",
 * "[v6]:port"), parsed without I/O (fuzzed: fuzz/fuzz_netaddr.c). */
#ifndef POSTERN_NETADDR_H
#define POSTERN_NETADDR_H

#include <sys/socket.h>

/* Parse s (NUL-terminated, from the config or the environment) as a
 * numeric IPv4 "a.b.c.d:port", IPv6 "[addr]:port" or bare "addr:port"
 * (the last ':' separates the port), port 1..65535 in decimal.  No name
 * lookups.  Fills *ss (zeroed first) and *len_r.  Returns 0 or -1. */
int netaddr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len_r);

#endif
