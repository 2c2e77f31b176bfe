/* proxy.h - the PROXY protocol header, v1 (text) and v2 (binary), as sent
 * by HAProxy and similar in front of a listener (haproxy.org's
 * proxy-protocol.txt).  Pure; the bytes are untrusted (they come from the
 * network, although only from configured proxies).  The worker reads the
 * header with proxy_next_read() so it never reads past it: what follows
 * may be a TLS ClientHello. */
#ifndef POSTERN_PROXY_H
#define POSTERN_PROXY_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define PROXY_V1_MAX	107		/* the spec's longest v1 line */
#define PROXY_V2_MAX	(16 + 512)	/* we accept up to 512 bytes of addresses + TLVs */
#define PROXY_MAX	PROXY_V2_MAX

enum proxy_result {
	PROXY_NEED_MORE = 0,
	PROXY_OK = 1,
	PROXY_ERR = -1,
};

struct proxy_info {
	int local;		/* LOCAL / UNKNOWN / unspecified: keep the real peer */
	char src[INET6_ADDRSTRLEN];	/* the client, canonical text form */
	uint16_t src_port;
};

/* How many bytes may be read next, given the first len bytes of the
 * connection (never past the end of the header); 0 if the header is
 * complete or already known to be malformed (call proxy_parse). */
size_t proxy_next_read(const uint8_t *buf, size_t len);

/* Parse a header at the front of buf[0..len).  Returns PROXY_OK with info
 * and *consumed_r (the header length), PROXY_NEED_MORE, or PROXY_ERR for
 * anything malformed (wrong signature, bad addresses or ports, v1 line over
 * 107 bytes or without CRLF, v2 version/command/length errors). */
enum proxy_result proxy_parse(const uint8_t *buf, size_t len, struct proxy_info *info,
    size_t *consumed_r);

/* Non-zero if ip (text) is inside one of the comma/space separated CIDRs or
 * addresses of list ("127.0.0.1, 10.0.0.0/8, ::1, fd00::/8"). */
int proxy_addr_in_list(const char *list, const char *ip);

#endif
