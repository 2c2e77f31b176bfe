/* fuzz_dns.c - a resolver's datagram read as the answer to a DNSBL query
 * (resolverd reads the network's bytes here), and the smtp_dnsbl list.
 *
 * Input: byte 0 bit 0 picks the question's type (A or TXT), bytes 1-2
 * its id; then the question's name up to a NUL; the rest is the datagram.
 * Properties: an answer is only ever taken with the query's id, from a
 * response; the addresses and text kept stay in their bounds and the text
 * is printable; a query we build is never taken as its own answer; the
 * name read as a smtp_dnsbl list parses or fails cleanly, and every zone
 * it gives makes a question.
 */
#include <string.h>

#include "../common/net/dns.h"
#include "fuzz.h"

static void
check_answer(const uint8_t *pkt, size_t len, uint16_t id, const char *name, uint16_t type)
{
	struct dns_answer a;
	const char *why = NULL;
	int r = dns_answer_parse(pkt, len, id, name, type, &a, &why);
	size_t i;

	CHECK(r == -1 || r == 0 || r == 1);
	CHECK(why != NULL);
	if (r == -1)
		CHECK(why[0] != '\0');
	if (r != 0)
		return;
	CHECK(len >= 12 && dns_packet_id(pkt, len) == id && (pkt[2] & 0x80));
	CHECK(a.naddr <= DNS_ADDR_MAX);
	CHECK(type == DNS_TYPE_A || a.naddr == 0);
	CHECK(type == DNS_TYPE_TXT || a.ntxt == 0);
	CHECK(strlen(a.txt) <= DNS_TXT_MAX);
	for (i = 0; a.txt[i] != '\0'; i++)
		CHECK(a.txt[i] >= 0x20 && a.txt[i] < 0x7f);
}

static void
check_zones(const char *text)
{
	struct dns_zone z[DNS_ZONES_MAX];
	char err[256], q[DNS_NAME_MAX + 1];
	uint8_t pkt[DNS_PACKET_MAX];
	uint32_t hit = 0;
	int n = dns_zones_parse(text, z, DNS_ZONES_MAX, err, sizeof(err)), i;

	CHECK(n >= -1 && n <= DNS_ZONES_MAX);
	for (i = 0; i < n; i++) {
		CHECK(z[i].nfilter <= DNS_FILTER_MAX);
		CHECK(dns_dnsbl_name("2001:db8::1", z[i].name, q, sizeof(q)) == 0);
		CHECK(dns_query_build(pkt, sizeof(pkt), 1, q, DNS_TYPE_A) > 0);
		(void)dns_listing_of(&z[i], z[i].filter, z[i].nfilter, &hit);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[DNS_NAME_MAX + 2];
	uint8_t q[DNS_PACKET_MAX];
	const uint8_t *z;
	uint16_t id, type;
	size_t nl;
	int ql;

	if (size < 3)
		return 0;
	type = data[0] & 1 ? DNS_TYPE_TXT : DNS_TYPE_A;
	id = (uint16_t)(data[1] << 8 | data[2]);
	data += 3;
	size -= 3;
	z = memchr(data, '\0', size);
	if (z == NULL || (nl = (size_t)(z - data)) > DNS_NAME_MAX)
		return 0;
	memcpy(name, data, nl);
	name[nl] = '\0';
	data += nl + 1;
	size -= nl + 1;
	check_answer(data, size, id, name, type);
	ql = dns_query_build(q, sizeof(q), id, name, type);
	if (ql > 0) {
		struct dns_answer a;
		const char *why;
		CHECK(dns_answer_parse(q, (size_t)ql, id, name, type, &a, &why) == 1);
	}
	check_zones(name);
	return 0;
}
