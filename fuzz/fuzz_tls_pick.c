/* fuzz_tls_pick.c - tls_pick_chain(), the certificate choice for a
 * client's server name (SNI) and the key types and curves it offers.
 *
 * Input: byte 0 = flags (bit 0 ECDSA usable, bit 1 RSA usable, bit 2 no
 * SNI at all), bytes 1-4 = the client's curve bitmask, then lines: the
 * SNI, then one chain per line: key type ('e' EC, 'r' RSA, else neither),
 * curve (byte & 31, as keyd's loader allows no more), then comma-separated
 * names.  The choice must be a chain the client can use, the first usable
 * one whose names match the SNI if any, else the first usable one, with
 * sni_unknown set exactly when a name was sent and none matched.
 */
#include <bearssl.h>
#include <stdint.h>
#include <string.h>

#include "../common/net/tls.h"
#include "../common/net/x509.h"
#include "fuzz.h"

#define MAX_CHAINS 8
#define MAX_NAMES 4

static struct tls_chain chains[MAX_CHAINS];

static size_t
next_line(const uint8_t *d, size_t size, size_t *pos, const uint8_t **line)
{
	const uint8_t *nl = memchr(d + *pos, '\n', size - *pos);
	size_t l = nl ? (size_t)(nl - (d + *pos)) : size - *pos;

	*line = d + *pos;
	*pos += l + (nl ? 1 : 0);
	return l;
}

static void
add_names(struct tls_chain *c, const uint8_t *p, size_t len)
{
	while (len > 0 && c->names.n < MAX_NAMES) {
		const uint8_t *comma = memchr(p, ',', len);
		size_t l = comma ? (size_t)(comma - p) : len;

		if (l <= X509_NAME_MAX) {
			memcpy(c->names.name[c->names.n], p, l);
			c->names.name[c->names.n][l] = '\0';
			c->names.n++;
		}
		if (comma == NULL)
			break;
		len -= l + 1;
		p += l + 1;
	}
}

static int
usable(const struct tls_chain *c, int ec_ok, int rsa_ok, uint32_t curves)
{
	return (c->key_type == BR_KEYTYPE_EC && ec_ok && ((curves >> c->curve) & 1)) ||
	    (c->key_type == BR_KEYTYPE_RSA && rsa_ok);
}

static int
matches(const struct tls_chain *c, const char *sni)
{
	unsigned j;

	for (j = 0; j < c->names.n; j++)
		if (x509_name_match(c->names.name[j], sni))
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char sni[X509_NAME_MAX + 2];
	const uint8_t *line;
	size_t pos = 5, n = 0, l, i;
	int ec_ok, rsa_ok, got, unknown = -1, want = -1, want_unknown;
	uint32_t curves;

	if (size < 5)
		return 0;
	ec_ok = data[0] & 1;
	rsa_ok = (data[0] >> 1) & 1;
	curves = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 | data[4];
	l = next_line(data, size, &pos, &line);
	if (l >= sizeof(sni) || memchr(line, '\0', l) != NULL)
		return 0;
	memcpy(sni, line, l);
	sni[l] = '\0';
	while (pos < size && n < MAX_CHAINS) {
		struct tls_chain *c = &chains[n++];

		l = next_line(data, size, &pos, &line);
		c->names.n = 0;
		c->key_type = l > 0 && line[0] == 'e' ? BR_KEYTYPE_EC :
		    l > 0 && line[0] == 'r' ? BR_KEYTYPE_RSA : 0;
		c->curve = l > 1 ? line[1] & 31 : 0;
		c->key_id = (uint32_t)n;
		if (l > 2)
			add_names(c, line + 2, l - 2);
	}
	got = tls_pick_chain(chains, n, (data[0] & 4) ? NULL : sni, ec_ok, rsa_ok, curves, &unknown);

	/* the rule, restated */
	for (i = 0; i < n && want < 0 && !(data[0] & 4) && sni[0] != '\0'; i++)
		if (usable(&chains[i], ec_ok, rsa_ok, curves) && matches(&chains[i], sni))
			want = (int)i;
	want_unknown = !(data[0] & 4) && sni[0] != '\0' && want < 0;
	for (i = 0; i < n && want < 0; i++)
		if (usable(&chains[i], ec_ok, rsa_ok, curves))
			want = (int)i;
	CHECK(got == want);
	CHECK(unknown == want_unknown);
	CHECK(got < 0 || usable(&chains[got], ec_ok, rsa_ok, curves));
	return 0;
}
