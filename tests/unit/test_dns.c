/* test_dns - DNSBL questions and the answers taken or refused. */
#include <string.h>

#include "../../common/net/dns.h"
#include "tap.h"

static size_t
put_name(uint8_t *p, const char *n)
{
	size_t o = 0, l;

	while (*n) {
		l = strcspn(n, ".");
		p[o++] = (uint8_t)l;
		memcpy(p + o, n, l);
		o += l;
		n += l;
		if (*n == '.')
			n++;
	}
	p[o++] = 0;
	return o;
}

/* An answer to (id, name, type) with flags and one record of rtype after
 * the question (owner a pointer to the question's name). */
static size_t
answer(uint8_t *p, uint16_t id, uint16_t flags, const char *name, uint16_t type, uint16_t rtype,
    const void *rdata, uint16_t rdlen)
{
	size_t o = 12;

	memset(p, 0, 12);
	p[0] = (uint8_t)(id >> 8), p[1] = (uint8_t)id;
	p[2] = (uint8_t)(flags >> 8), p[3] = (uint8_t)flags;
	p[5] = 1;
	p[7] = rdata != NULL;
	o += put_name(p + o, name);
	p[o++] = 0, p[o++] = (uint8_t)type, p[o++] = 0, p[o++] = 1;
	if (rdata == NULL)
		return o;
	p[o++] = 0xc0, p[o++] = 12;
	p[o++] = 0, p[o++] = (uint8_t)rtype, p[o++] = 0, p[o++] = 1;
	p[o++] = 0, p[o++] = 0, p[o++] = 0, p[o++] = 60;
	p[o++] = (uint8_t)(rdlen >> 8), p[o++] = (uint8_t)rdlen;
	memcpy(p + o, rdata, rdlen);
	return o + rdlen;
}

static void
names(void)
{
	char q[DNS_NAME_MAX + 1];
	uint8_t rnd[4] = { 0xff, 0xff, 0xff, 0xff }, pkt[DNS_PACKET_MAX];

	CHECK(dns_dnsbl_name("192.0.2.99", "bl.test", q, sizeof(q)) == 0 &&
	    strcmp(q, "99.2.0.192.bl.test") == 0, "IPv4 reversed (RFC 5782 2.1)");
	CHECK(dns_dnsbl_name("2001:db8::1", "bl.test", q, sizeof(q)) == 0 &&
	    strcmp(q, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test") == 0,
	    "IPv6 nibbles reversed (RFC 5782 2.4)");
	CHECK(dns_dnsbl_name("not-an-ip", "bl.test", q, sizeof(q)) < 0, "not an address");
	snprintf(q, sizeof(q), "2.0.0.127.bl.test");
	dns_0x20(q, rnd, sizeof(rnd));
	CHECK(strcmp(q, "2.0.0.127.BL.TEST") == 0, "0x20: every letter flipped by set bits");
	CHECK(dns_query_build(pkt, sizeof(pkt), 7, "a..b", DNS_TYPE_A) < 0, "an empty label");
	CHECK(dns_query_build(pkt, sizeof(pkt), 7, "a.b.", DNS_TYPE_A) < 0, "a final dot");
	CHECK(dns_query_build(pkt, sizeof(pkt), 7, "a.b", DNS_TYPE_A) == 12 + 5 + 4, "a query's size");
}

static void
answers(void)
{
	const char *n = "2.0.0.127.Bl.tEst", *why;
	uint8_t p[DNS_PACKET_MAX], a2[4] = { 127, 0, 0, 2 };
	struct dns_answer a;
	size_t l;

	l = answer(p, 9, 0x8180, n, DNS_TYPE_A, DNS_TYPE_A, a2, 4);
	CHECK(dns_answer_parse(p, l, 9, n, DNS_TYPE_A, &a, &why) == 0 && a.naddr == 1 &&
	    a.addr[0] == 0x7f000002, "an A answer");
	CHECK(dns_answer_parse(p, l, 10, n, DNS_TYPE_A, &a, &why) == 1, "a wrong id is not ours");
	CHECK(dns_answer_parse(p, l, 9, "2.0.0.127.bl.test", DNS_TYPE_A, &a, &why) == 1,
	    "the question in another case (0x20) is not ours");
	CHECK(dns_answer_parse(p, l, 9, n, DNS_TYPE_TXT, &a, &why) == 1, "another type: not ours");
	l = answer(p, 9, 0x0100, n, DNS_TYPE_A, DNS_TYPE_A, a2, 4);
	CHECK(dns_answer_parse(p, l, 9, n, DNS_TYPE_A, &a, &why) == 1, "a query is not an answer");
	l = answer(p, 9, 0x8183, n, DNS_TYPE_A, 0, NULL, 0);
	CHECK(dns_answer_parse(p, l, 9, n, DNS_TYPE_A, &a, &why) == 0 &&
	    a.rcode == DNS_RCODE_NXDOMAIN, "NXDOMAIN");
	l = answer(p, 9, 0x8380, n, DNS_TYPE_A, 0, NULL, 0);
	CHECK(dns_answer_parse(p, l, 9, n, DNS_TYPE_A, &a, &why) == 0 && a.truncated, "TC");
	l = answer(p, 9, 0x8180, n, DNS_TYPE_TXT, DNS_TYPE_TXT, "\x05see x\x02\x01z", 9);
	CHECK(dns_answer_parse(p, l, 9, n, DNS_TYPE_TXT, &a, &why) == 0 && a.ntxt == 1 &&
	    strcmp(a.txt, "see x ?z") == 0, "TXT strings joined, control bytes replaced");
	l = answer(p, 9, 0x8180, n, DNS_TYPE_A, DNS_TYPE_A, "\x7f\0\0\x02\x09", 5);
	CHECK(dns_answer_parse(p, l, 9, n, DNS_TYPE_A, &a, &why) == -1, "an A of 5 bytes");
	l = answer(p, 9, 0x8180, n, DNS_TYPE_A, DNS_TYPE_A, a2, 4);
	p[l - 16] = 0xc0, p[l - 15] = (uint8_t)(l - 16);	/* the owner points at itself */
	CHECK(dns_answer_parse(p, l, 9, n, DNS_TYPE_A, &a, &why) == -1 &&
	    strstr(why, "pointer") != NULL, "a compression loop");
	l = answer(p, 9, 0x8180, n, DNS_TYPE_A, DNS_TYPE_A, a2, 4);
	p[6] = 0xff, p[7] = 0xff;
	CHECK(dns_answer_parse(p, l, 9, n, DNS_TYPE_A, &a, &why) == -1, "a count past the data");
	l = answer(p, 9, 0x8180, n, DNS_TYPE_A, DNS_TYPE_A, a2, 4);
	CHECK(dns_answer_parse(p, l - 2, 9, n, DNS_TYPE_A, &a, &why) == -1, "cut short");
}

static void
zones(void)
{
	struct dns_zone z[DNS_ZONES_MAX];
	uint32_t hit = 0, ad[2] = { 0x7f000004, 0x7f000002 };
	char err[200];

	CHECK(dns_zones_parse("", z, DNS_ZONES_MAX, err, sizeof(err)) == 0, "empty: none");
	CHECK(dns_zones_parse(" zen.example.org  bl.test=127.0.0.2,127.0.0.3 ", z, DNS_ZONES_MAX,
	    err, sizeof(err)) == 2 && strcmp(z[1].name, "bl.test") == 0 && z[1].nfilter == 2,
	    "two zones, one filtered");
	CHECK(dns_zones_parse("bl.test=127.0.0.2,", z, DNS_ZONES_MAX, err, sizeof(err)) < 0,
	    "a final comma");
	CHECK(dns_zones_parse("bl..test", z, DNS_ZONES_MAX, err, sizeof(err)) < 0, "not a name");
	CHECK(dns_zones_parse("a b c d e f g h i", z, DNS_ZONES_MAX, err, sizeof(err)) < 0,
	    "too many zones");
	(void)dns_zones_parse("zen.example.org bl.test=127.0.0.2", z, DNS_ZONES_MAX, err, sizeof(err));
	CHECK(dns_listing_of(&z[0], ad, 1, &hit) == DNS_LISTING_YES && hit == ad[0],
	    "no filter: any 127/8 lists");
	CHECK(dns_listing_of(&z[1], ad, 1, &hit) == DNS_LISTING_NO, "filtered out");
	CHECK(dns_listing_of(&z[1], ad, 2, &hit) == DNS_LISTING_YES && hit == ad[1], "filtered in");
	ad[0] = 0x7fffff02;
	CHECK(dns_listing_of(&z[0], ad, 1, &hit) == DNS_LISTING_BAD, "127.255.255.x: a list's error code");
	ad[0] = 0;
	CHECK(dns_listing_of(&z[0], ad, 1, &hit) == DNS_LISTING_BAD, "outside 127/8");
}

int
main(void)
{
	names();
	answers();
	zones();
	return tap_done();
}
