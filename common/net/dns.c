/* dns.c - DNSBL queries and answers (see dns.h). */
#include "dns.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HDR_LEN		12
#define FLAG_QR		0x8000
#define FLAG_TC		0x0200
#define FLAG_RD		0x0100
#define OPCODE(f)	(((f) >> 11) & 0x0f)
#define CLASS_IN	1
#define HOPS_MAX	64	/* compression pointers followed in one name */
#define CNAMES_MAX	8	/* a chain from the question's name */

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A label byte we keep: printable ASCII other than the dot (which would
 * make two labels of one) and the blank. */
static int
label_byte_ok(uint8_t c)
{
	return c > 0x20 && c < 0x7f && c != '.';
}

int
dns_query_build(uint8_t *out, size_t cap, uint16_t id, const char *name, uint16_t type)
{
	size_t n = strlen(name), pos = HDR_LEN, i = 0, l;

	/* the wire form: one length byte per label, the root's 0 */
	if (n == 0 || n > DNS_NAME_MAX || cap < HDR_LEN + n + 2 + 4)
		return -1;
	memset(out, 0, HDR_LEN);
	put16(out, id);
	put16(out + 2, FLAG_RD);
	put16(out + 4, 1);
	while (i < n) {
		l = strcspn(name + i, ".");
		if (l == 0 || l > 63)
			return -1;
		out[pos++] = (uint8_t)l;
		memcpy(out + pos, name + i, l);
		pos += l;
		i += l;
		if (name[i] == '.' && name[++i] == '\0')
			return -1;	/* a final dot: the caller's names have none */
	}
	out[pos++] = 0;
	put16(out + pos, type);
	put16(out + pos + 2, CLASS_IN);
	return (int)(pos + 4);
}

uint16_t
dns_packet_id(const uint8_t *pkt, size_t len)
{
	return len < HDR_LEN ? 0 : get16(pkt);
}

/* The name at *off into out (presentation form, at most DNS_NAME_MAX);
 * *off moves past it where it stands (a pointer is 2 bytes).  Every
 * pointer must point before the place the previous one led to (or, for
 * the first, before the name itself): the targets only decrease, so no
 * loop can be followed, and HOPS_MAX bounds the work besides. */
static int
name_read(const uint8_t *p, size_t len, size_t *off, char out[DNS_NAME_MAX + 1],
    const char **why_r)
{
	size_t pos = *off, limit = *off, n = 0, end = 0, i;
	unsigned hops = 0;
	int jumped = 0;
	uint8_t l;

	for (;;) {
		if (pos >= len) {
			*why_r = "name runs past the end";
			return -1;
		}
		l = p[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t t;
			if (pos + 1 >= len) {
				*why_r = "name runs past the end";
				return -1;
			}
			t = (size_t)(l & 0x3f) << 8 | p[pos + 1];
			if (!jumped)
				end = pos + 2;
			jumped = 1;
			if (t >= limit || ++hops > HOPS_MAX) {
				*why_r = "compression pointer loops or points forward";
				return -1;
			}
			limit = pos = t;
			continue;
		}
		if (l & 0xc0) {
			*why_r = "unknown label type";
			return -1;
		}
		if (l == 0)
			break;
		if (pos + 1 + l > len) {
			*why_r = "label runs past the end";
			return -1;
		}
		if (n + (n > 0) + l > DNS_NAME_MAX) {
			*why_r = "name too long";
			return -1;
		}
		if (n > 0)
			out[n++] = '.';
		for (i = 0; i < l; i++) {
			if (!label_byte_ok(p[pos + 1 + i])) {
				*why_r = "name with a byte a host name cannot have";
				return -1;
			}
			out[n++] = (char)p[pos + 1 + i];
		}
		pos += 1 + (size_t)l;
	}
	if (!jumped)
		end = pos + 1;
	out[n] = '\0';
	*off = end;
	return 0;
}

/* The strings of one TXT record's rdata, joined by blanks. */
static int
txt_read(const uint8_t *p, size_t len, char out[DNS_TXT_MAX + 1], const char **why_r)
{
	size_t pos = 0, n = 0, i, l;

	while (pos < len) {
		l = p[pos++];
		if (pos + l > len) {
			*why_r = "TXT string runs past its record";
			return -1;
		}
		for (i = 0; i < l; i++) {
			if (n >= DNS_TXT_MAX)
				break;
			out[n++] = p[pos + i] >= 0x20 && p[pos + i] < 0x7f ? (char)p[pos + i] : '?';
		}
		pos += l;
		if (pos < len && n > 0 && n < DNS_TXT_MAX)
			out[n++] = ' ';
	}
	out[n] = '\0';
	return 0;
}

struct rr {
	char owner[DNS_NAME_MAX + 1];
	uint16_t type, class;
	size_t rdata, rdlen;	/* offset and length in the packet */
};

static int
rr_read(const uint8_t *p, size_t len, size_t *off, struct rr *r, const char **why_r)
{
	if (name_read(p, len, off, r->owner, why_r) < 0)
		return -1;
	if (*off + 10 > len) {
		*why_r = "record runs past the end";
		return -1;
	}
	r->type = get16(p + *off);
	r->class = get16(p + *off + 2);
	r->rdlen = get16(p + *off + 8);
	r->rdata = *off + 10;
	if (r->rdata + r->rdlen > len) {
		*why_r = "record data runs past the end";
		return -1;
	}
	*off = r->rdata + r->rdlen;
	return 0;
}

/* One answer record: an A or TXT of the current name, or a CNAME that
 * moves the current name on. */
static int
answer_take(const uint8_t *p, size_t len, const struct rr *r, uint16_t type, char *cur,
    unsigned *cnames, struct dns_answer *ans, const char **why_r)
{
	size_t off = r->rdata;

	if (r->class != CLASS_IN || strcasecmp(r->owner, cur) != 0)
		return 0;	/* not about our name: skipped */
	if (r->type == DNS_TYPE_CNAME) {
		if (++*cnames > CNAMES_MAX) {
			*why_r = "too many CNAMEs";
			return -1;
		}
		if (name_read(p, len, &off, cur, why_r) < 0)
			return -1;
		if (off != r->rdata + r->rdlen) {
			*why_r = "CNAME with bytes after its name";
			return -1;
		}
		return 0;
	}
	if (r->type == DNS_TYPE_A && type == DNS_TYPE_A) {
		if (r->rdlen != 4) {
			*why_r = "A record that is not 4 bytes";
			return -1;
		}
		if (ans->naddr < DNS_ADDR_MAX)
			ans->addr[ans->naddr++] = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 |
			    (uint32_t)p[off + 2] << 8 | p[off + 3];
		return 0;
	}
	if (r->type == DNS_TYPE_TXT && type == DNS_TYPE_TXT) {
		if (r->rdlen == 0) {
			*why_r = "empty TXT record";
			return -1;
		}
		if (ans->ntxt++ == 0)
			return txt_read(p + off, r->rdlen, ans->txt, why_r);
	}
	return 0;
}

/* The question must be exactly ours; 1 if it is not. */
static int
question_check(const uint8_t *p, size_t len, size_t *off, const char *name, uint16_t type)
{
	char q[DNS_NAME_MAX + 1];
	const char *why;

	if (get16(p + 4) != 1 || name_read(p, len, off, q, &why) < 0 || *off + 4 > len)
		return 1;
	if (strcmp(q, name) != 0 || get16(p + *off) != type || get16(p + *off + 2) != CLASS_IN)
		return 1;
	*off += 4;
	return 0;
}

int
dns_answer_parse(const uint8_t *pkt, size_t len, uint16_t id, const char *name,
    uint16_t type, struct dns_answer *ans, const char **why_r)
{
	char cur[DNS_NAME_MAX + 1];
	unsigned i, an, cnames = 0;
	size_t off = HDR_LEN;
	uint16_t flags;
	struct rr r;

	memset(ans, 0, sizeof(*ans));
	*why_r = "";
	if (len < HDR_LEN || get16(pkt) != id)
		return 1;
	flags = get16(pkt + 2);
	if (!(flags & FLAG_QR) || OPCODE(flags) != 0 || question_check(pkt, len, &off, name, type))
		return 1;
	ans->rcode = flags & 0x0f;
	ans->truncated = (flags & FLAG_TC) != 0;
	if (ans->truncated || ans->rcode != DNS_RCODE_NOERROR)
		return 0;	/* nothing to read, or not all of it */
	an = get16(pkt + 6);
	snprintf(cur, sizeof(cur), "%s", name);
	for (i = 0; i < an; i++) {
		if (rr_read(pkt, len, &off, &r, why_r) < 0 ||
		    answer_take(pkt, len, &r, type, cur, &cnames, ans, why_r) < 0)
			return -1;
	}
	return 0;
}

int
dns_dnsbl_name(const char *ip, const char *zone, char *out, size_t cap)
{
	uint8_t a[16];
	size_t n = 0, i;
	int w;

	if (inet_pton(AF_INET, ip, a) == 1) {
		w = snprintf(out, cap, "%u.%u.%u.%u.%s", a[3], a[2], a[1], a[0], zone);
		return w < 0 || (size_t)w >= cap || (size_t)w > DNS_NAME_MAX ? -1 : 0;
	}
	if (inet_pton(AF_INET6, ip, a) != 1 || cap < 64 + strlen(zone) + 1 ||
	    64 + strlen(zone) > DNS_NAME_MAX)
		return -1;
	for (i = 16; i-- > 0;) {
		out[n++] = "0123456789abcdef"[a[i] & 0x0f];
		out[n++] = '.';
		out[n++] = "0123456789abcdef"[a[i] >> 4];
		out[n++] = '.';
	}
	memcpy(out + n, zone, strlen(zone) + 1);
	return 0;
}

void
dns_0x20(char *name, const uint8_t *rnd, size_t rndlen)
{
	size_t i, bit = 0;

	if (rndlen == 0)
		return;
	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			continue;
		if (rnd[(bit / 8) % rndlen] >> (bit % 8) & 1)
			name[i] = (char)(c ^ 0x20);
		bit++;
	}
}

/* A zone name: labels of letters, digits, '-' and '_' (1-63 bytes), with
 * room under DNS_NAME_MAX for the 64 bytes of an IPv6 question. */
static int
zone_ok(const char *s, size_t n)
{
	size_t i, l = 0;

	if (n == 0 || n > DNS_NAME_MAX - 64)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (l == 0)
				return 0;
			l = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_') || ++l > 63)
			return 0;
	}
	return l > 0;
}

static int
filter_parse(const char *s, size_t n, struct dns_zone *z)
{
	char a[INET_ADDRSTRLEN];
	uint8_t b[4];
	size_t l;

	while (n > 0) {
		l = 0;
		while (l < n && s[l] != ',')
			l++;
		if (l == 0 || l >= sizeof(a) || z->nfilter >= DNS_FILTER_MAX)
			return -1;
		memcpy(a, s, l);
		a[l] = '\0';
		if (inet_pton(AF_INET, a, b) != 1)
			return -1;
		z->filter[z->nfilter++] = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		    (uint32_t)b[2] << 8 | b[3];
		s += l;
		n -= l;
		if (n > 0) {
			s++;
			if (--n == 0)
				return -1;	/* a final comma */
		}
	}
	return 0;
}

int
dns_zones_parse(const char *text, struct dns_zone *zones, size_t max, char *err, size_t errlen)
{
	const char *p = text, *eq;
	size_t n, zl, count = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return (int)count;
		n = strcspn(p, " \t");
		eq = memchr(p, '=', n);
		zl = eq != NULL ? (size_t)(eq - p) : n;
		if (count >= max) {
			snprintf(err, errlen, "more than %zu zones", max);
			return -1;
		}
		memset(&zones[count], 0, sizeof(zones[count]));
		if (!zone_ok(p, zl)) {
			snprintf(err, errlen, "'%.*s' is not a zone name", (int)(zl < 100 ? zl : 100), p);
			return -1;
		}
		memcpy(zones[count].name, p, zl);
		zones[count].name[zl] = '\0';
		if (eq != NULL && filter_parse(eq + 1, n - zl - 1, &zones[count]) < 0) {
			snprintf(err, errlen, "'%.*s': the answers after '=' must be 1-%d IPv4 "
			    "addresses separated by commas", (int)(n < 100 ? n : 100), p,
			    DNS_FILTER_MAX);
			return -1;
		}
		count++;
		p += n;
	}
}

enum dns_listing
dns_listing_of(const struct dns_zone *z, const uint32_t *addr, unsigned n, uint32_t *hit_r)
{
	enum dns_listing v = DNS_LISTING_NO;
	unsigned i, k;

	for (i = 0; i < n; i++) {
		if (addr[i] >> 24 != 127 || (addr[i] & 0xffffff00u) == 0x7fffff00u) {
			v = DNS_LISTING_BAD;
			continue;
		}
		for (k = 0; k < z->nfilter && z->filter[k] != addr[i]; k++)
			;
		if (z->nfilter == 0 || k < z->nfilter) {
			*hit_r = addr[i];
			return DNS_LISTING_YES;
		}
	}
	return v;
}
