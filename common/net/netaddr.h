/* netaddr.h - network addresses, pure (fuzzed: fuzz/fuzz_netaddr.c).
 *
 * Limit keys: which client addresses count as one, for limits and
 * throttles.  An IPv6 user gets a whole /64 (RFC 6177, RFC 7421), so
 * counting per /128 lets one host take 2^64 fresh addresses.  Limits key on
 * the address with only its first prefix bits kept.  IPv4 and IPv4-mapped
 * IPv6 (::ffff:a.b.c.d) stay per address: a /64 of the mapped space is
 * every IPv4 client at once.
 *
 * Listen addresses: "host:port" and "[v6]:port" as the config writes them.
 */
#ifndef POSTERN_NETADDR_H
#define POSTERN_NETADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* "ffff:...:ffff/128" plus NUL. */
#define NETADDR_KEY_MAX	48

/* Write the limit key of text address ip into out: "a.b.c.d" for IPv4 and
 * mapped IPv4, "PREFIX/BITS" for IPv6 with bits beyond v6_bits cleared
 * (v6_bits 0..128; 128 keeps the whole address), and ip itself (cut to fit)
 * for text that is not an address.  Pure; returns 0, or -1 if out is
 * smaller than NETADDR_KEY_MAX. */
int netaddr_key(const char *ip, unsigned v6_bits, char *out, size_t outlen);

/* Parse s (NUL-terminated, from the config or the environment) as a
 * numeric IPv4 "a.b.c.d:port", IPv6 "[addr]:port" or bare "addr:port"
 * (the last ':' separates the port), port 1..65535 in decimal.  No name
 * lookups.  Fills *ss (zeroed first) and *len_r.  Returns 0 or -1. */
int netaddr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len_r);

#endif
