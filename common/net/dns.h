/* dns.h - the DNS messages of a DNSBL lookup (RFC 1035, RFC 5782), pure.
 *
 * resolverd builds one query per zone (an A question for the client's
 * reversed address under the zone, then a TXT question when it is listed)
 * and reads the resolver's datagrams here.  An answer is taken only if it
 * carries the query's id, is a response (QR) to a standard query, and
 * repeats the question exactly: the same name, byte for byte (the 0x20
 * case pattern resolverd chose at random), type and class IN.  Anything
 * else is not ours (a late or spoofed datagram) or malformed.  Names are
 * decoded with every compression pointer pointing strictly backwards and
 * a hop limit, so no loop and no forward jump is followed; counts are
 * checked against the bytes there are.  No I/O, no globals, no recursion.
 */
#ifndef POSTERN_DNS_H
#define POSTERN_DNS_H

#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX	253	/* presentation form, without the final dot */
#define DNS_PACKET_MAX	512	/* RFC 1035 4.2.1: UDP without EDNS */
#define DNS_ADDR_MAX	8	/* A records kept from one answer */
#define DNS_TXT_MAX	255	/* the TXT text kept (printable ASCII) */
#define DNS_RESOLVERS_MAX	3	/* dns_resolvers' addresses (resolv.conf's MAXNS) */

enum dns_type {
	DNS_TYPE_A = 1,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_TXT = 16,
};

enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
};

struct dns_answer {
	unsigned rcode;		/* enum dns_rcode or another RFC 1035 code */
	int truncated;		/* TC: part of the answer is missing */
	unsigned naddr;		/* A records for the name (or its CNAME chain) */
	uint32_t addr[DNS_ADDR_MAX];	/* host order */
	unsigned ntxt;		/* TXT records for the name */
	char txt[DNS_TXT_MAX + 1];	/* the first one's strings joined by spaces;
					   bytes outside printable ASCII become '?' */
};

/* Write a query for name (presentation form, no final dot, as it is to be
 * sent: case included) and type, with id and RD set, into out.  Returns
 * its length, or -1 (a label of 0 or more than 63 bytes, a name too long,
 * cap too small). */
int dns_query_build(uint8_t *out, size_t cap, uint16_t id, const char *name, uint16_t type);

/* The id of a datagram (0 when it is shorter than a header). */
uint16_t dns_packet_id(const uint8_t *pkt, size_t len);

/* Read pkt as the answer to the query (id, name, type).  Returns 0 (ans
 * filled), 1 (not an answer to that query: wrong id, not a response, or
 * another question; ignore it) or -1 (ours but malformed: *why_r names
 * the fault). */
int dns_answer_parse(const uint8_t *pkt, size_t len, uint16_t id, const char *name,
    uint16_t type, struct dns_answer *ans, const char **why_r);

/* The DNSBL question for a client address (RFC 5782 2.1, 2.4): IPv4
 * 192.0.2.99 under zone z is "99.2.0.192.z", IPv6 the 32 nibbles reversed.
 * ip is numeric text.  Returns 0, or -1 (not an address, or too long). */
int dns_dnsbl_name(const char *ip, const char *zone, char *out, size_t cap);

/* RFC draft "0x20": flip the case of each letter of name by one random
 * bit from rnd (cycled when shorter); an answer must repeat it. */
void dns_0x20(char *name, const uint8_t *rnd, size_t rndlen);

/* smtp_dnsbl: zones separated by blanks, each "zone" or
 * "zone=a.b.c.d[,a.b.c.d...]" (only those answers list a client).
 * Without a filter any answer in 127.0.0.0/8 lists it, except
 * 127.255.255.0/24 (the lists' own error codes, RFC 5782 5). */
#define DNS_ZONES_MAX		8
#define DNS_FILTER_MAX		8

struct dns_zone {
	char name[DNS_NAME_MAX + 1];
	unsigned nfilter;
	uint32_t filter[DNS_FILTER_MAX];	/* host order */
};

/* Parse text into zones[0..max).  Returns the count (0 for an empty
 * list), or -1 with the reason in err. */
int dns_zones_parse(const char *text, struct dns_zone *zones, size_t max, char *err,
    size_t errlen);

enum dns_listing {
	DNS_LISTING_NO,		/* no answer in the filter (or in 127/8 without one) */
	DNS_LISTING_YES,	/* *hit_r is the answer that lists the client */
	DNS_LISTING_BAD,	/* an answer outside 127.0.0.0/8, or a list's
				   error code (127.255.255.x): not a listing */
};

/* What the A answers addr[0..n) say for zone z. */
enum dns_listing dns_listing_of(const struct dns_zone *z, const uint32_t *addr, unsigned n,
    uint32_t *hit_r);

#endif
