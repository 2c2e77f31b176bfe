/* proxy.c - PROXY protocol v1/v2 header parser and address lists. */
#include "proxy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "../base/util.h"

static const uint8_t v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
    0x55, 0x49, 0x54, 0x0a };

size_t
proxy_next_read(const uint8_t *buf, size_t len)
{
	if (len < 5)
		return 5 - len;
	if (memcmp(buf, "PROXY", 5) == 0) {
		/* v1: one byte at a time up to the LF, so nothing after it is taken */
		if (memchr(buf, '\n', len) != NULL || len >= PROXY_V1_MAX)
			return 0;
		return 1;
	}
	if (memcmp(buf, v2_sig, 5) != 0)
		return 0;
	if (len < 16)
		return 16 - len;
	{
		size_t total = 16 + (((size_t)buf[14] << 8) | buf[15]);
		if (total > PROXY_V2_MAX || len >= total)
			return 0;
		return total - len;
	}
}

/* Canonical text of an address given as text (v1) or bytes (v2). */
static int
addr_text(int af, const void *bin, char out[INET6_ADDRSTRLEN])
{
	return inet_ntop(af, bin, out, INET6_ADDRSTRLEN) != NULL ? 0 : -1;
}

static int
parse_port(const char *s, size_t len, uint16_t *port)
{
	uint64_t v;

	if (len > 1 && s[0] == '0')
		return -1;	/* the spec forbids leading zeros */
	if (util_parse_u64((const uint8_t *)s, len, 65535, &v) < 0)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* "PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n" (v1). */
static enum proxy_result
parse_v1(const uint8_t *buf, size_t len, struct proxy_info *info, size_t *consumed_r)
{
	char line[PROXY_V1_MAX + 1], *f[6], *save = NULL;
	const uint8_t *nl = memchr(buf, '\n', len < PROXY_V1_MAX ? len : PROXY_V1_MAX);
	uint8_t bin[16], bin2[16];
	uint16_t dport;
	size_t ll, n = 0;
	int af;

	if (nl == NULL)
		return len >= PROXY_V1_MAX ? PROXY_ERR : PROXY_NEED_MORE;
	ll = (size_t)(nl - buf);
	if (ll < 1 || buf[ll - 1] != '\r' || memchr(buf, '\0', ll) != NULL)
		return PROXY_ERR;
	memcpy(line, buf, ll - 1);
	line[ll - 1] = '\0';
	for (char *t = strtok_r(line, " ", &save); t != NULL && n < 6; t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	*consumed_r = ll + 1;
	if (n >= 2 && strcmp(f[1], "UNKNOWN") == 0) {
		info->local = 1;	/* the rest of the line is to be ignored */
		return PROXY_OK;
	}
	if (n != 6 || strtok_r(NULL, " ", &save) != NULL)
		return PROXY_ERR;
	af = !strcmp(f[1], "TCP4") ? AF_INET : !strcmp(f[1], "TCP6") ? AF_INET6 : -1;
	if (af < 0 || inet_pton(af, f[2], bin) != 1 || inet_pton(af, f[3], bin2) != 1 ||
	    parse_port(f[4], strlen(f[4]), &info->src_port) < 0 ||
	    parse_port(f[5], strlen(f[5]), &dport) < 0 || addr_text(af, bin, info->src) < 0)
		return PROXY_ERR;
	return PROXY_OK;
}

static enum proxy_result
parse_v2(const uint8_t *buf, size_t len, struct proxy_info *info, size_t *consumed_r)
{
	size_t alen, total;

	if (len < 16)
		return memcmp(buf, v2_sig, len < 12 ? len : 12) == 0 ? PROXY_NEED_MORE : PROXY_ERR;
	if (memcmp(buf, v2_sig, 12) != 0 || (buf[12] & 0xf0) != 0x20)
		return PROXY_ERR;
	alen = ((size_t)buf[14] << 8) | buf[15];
	total = 16 + alen;
	if (total > PROXY_V2_MAX)
		return PROXY_ERR;
	if (len < total)
		return PROXY_NEED_MORE;
	*consumed_r = total;
	switch (buf[12] & 0x0f) {
	case 0x0:		/* LOCAL: health checks from the proxy itself */
		info->local = 1;
		return PROXY_OK;
	case 0x1:		/* PROXY */
		break;
	default:
		return PROXY_ERR;
	}
	switch (buf[13]) {
	case 0x11:		/* TCP over IPv4 */
	case 0x12:		/* UDP over IPv4 */
		if (alen < 12 || addr_text(AF_INET, buf + 16, info->src) < 0)
			return PROXY_ERR;
		info->src_port = (uint16_t)((buf[24] << 8) | buf[25]);
		return PROXY_OK;
	case 0x21:
	case 0x22:
		if (alen < 36 || addr_text(AF_INET6, buf + 16, info->src) < 0)
			return PROXY_ERR;
		info->src_port = (uint16_t)((buf[48] << 8) | buf[49]);
		return PROXY_OK;
	default:		/* UNSPEC or UNIX: no usable client address */
		info->local = 1;
		return PROXY_OK;
	}
}

enum proxy_result
proxy_parse(const uint8_t *buf, size_t len, struct proxy_info *info, size_t *consumed_r)
{
	memset(info, 0, sizeof(*info));
	*consumed_r = 0;
	if (len < 5)
		return (memcmp(buf, "PROXY", len) == 0 || memcmp(buf, v2_sig, len) == 0) ?
		    PROXY_NEED_MORE : PROXY_ERR;
	if (memcmp(buf, "PROXY", 5) == 0)
		return parse_v1(buf, len, info, consumed_r);
	return parse_v2(buf, len, info, consumed_r);
}

/* One "addr" or "addr/bits" entry against a binary address. */
static int
cidr_match(const char *entry, size_t elen, int af, const uint8_t *bin)
{
	char text[INET6_ADDRSTRLEN + 4];
	char *slash;
	uint8_t net[16];
	uint64_t bits;
	int eaf, maxbits, i;

	if (elen == 0 || elen >= sizeof(text))
		return 0;
	memcpy(text, entry, elen);
	text[elen] = '\0';
	slash = strchr(text, '/');
	if (slash != NULL)
		*slash = '\0';
	eaf = strchr(text, ':') ? AF_INET6 : AF_INET;
	maxbits = eaf == AF_INET ? 32 : 128;
	if (eaf != af || inet_pton(eaf, text, net) != 1)
		return 0;
	bits = (uint64_t)maxbits;
	if (slash != NULL && util_str_to_u64(slash + 1, (uint64_t)maxbits, &bits) < 0)
		return 0;
	for (i = 0; i < (int)bits / 8; i++)
		if (net[i] != bin[i])
			return 0;
	if (bits % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits % 8));
		if ((net[i] & mask) != (bin[i] & mask))
			return 0;
	}
	return 1;
}

int
proxy_addr_in_list(const char *list, const char *ip)
{
	uint8_t bin[16];
	int af = strchr(ip, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(af, ip, bin) != 1)
		return 0;
	while (*list) {
		size_t l;
		list += strspn(list, ", ");
		l = strcspn(list, ", ");
		if (l > 0 && cidr_match(list, l, af, bin))
			return 1;
		list += l;
	}
	return 0;
}
