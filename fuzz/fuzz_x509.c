/* fuzz_x509.c - x509_cert_names(), x509_host_valid(), x509_name_match().
 *
 * The whole input is a certificate (keyd reads certificate files an admin
 * put in place; SNI names come from any client).  A certificate that
 * parses lists at most X509_MAX_NAMES distinct lower-case names, each a
 * valid host name or "*." and one, found in the input, matching itself;
 * a DER certificate is self-delimiting, so one byte less is malformed.
 * The input is also split at a point chosen by its first byte into a
 * pattern and a host for x509_host_valid() and x509_name_match(), checked
 * against the rules written out again here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/net/x509.h"
#include "fuzz.h"

static int
is_ldh(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

static uint8_t
lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static int
ieq(const char *a, const char *b)
{
	for (; *a != '\0' && lower((uint8_t)*a) == lower((uint8_t)*b); a++, b++)
		;
	return *a == '\0' && *b == '\0';
}

/* What a valid host name must look like, said differently. */
static void
check_valid_host(const uint8_t *h, size_t len)
{
	size_t i;

	CHECK(len >= 1 && len <= 253);
	CHECK(is_ldh(h[0]) && h[0] != '-' && is_ldh(h[len - 1]) && h[len - 1] != '-');
	for (i = 0; i < len; i++) {
		CHECK(is_ldh(h[i]) || h[i] == '.');
		if (h[i] == '.')
			CHECK(h[i - 1] != '.' && h[i - 1] != '-' && h[i + 1] != '-');
	}
	CHECK(memmem(h, len, "..", 2) == NULL);
}

static void
check_names(const uint8_t *data, size_t size)
{
	struct x509_names xn, again;
	uint8_t *low;
	char host[X509_NAME_MAX + 1];
	unsigned i, j;
	size_t k;

	memset(&xn, 0xa5, sizeof(xn));
	if (x509_cert_names(data, size, &xn) < 0) {
		CHECK(xn.n == 0);
		return;
	}
	CHECK(size > 0 && x509_cert_names(data, size - 1, &again) < 0 && again.n == 0);
	CHECK(x509_cert_names(data, size, &again) == 0 && again.n == xn.n);
	CHECK(xn.n <= X509_MAX_NAMES);
	low = malloc(size);
	CHECK(low != NULL);
	for (k = 0; k < size; k++)
		low[k] = lower(data[k]);
	for (i = 0; i < xn.n; i++) {
		const char *n = xn.name[i];

		k = strnlen(n, X509_NAME_MAX + 1);
		CHECK(k <= X509_NAME_MAX && strcmp(n, again.name[i]) == 0);
		CHECK(memmem(low, size, n, k) != NULL);
		for (j = 0; j < i; j++)
			CHECK(strcmp(n, xn.name[j]) != 0);
		for (j = 0; j < k; j++)
			CHECK(n[j] < 'A' || n[j] > 'Z');
		if (n[0] != '*') {
			check_valid_host((const uint8_t *)n, k);
			CHECK(x509_name_match(n, n));
			continue;
		}
		CHECK(k > 2 && n[1] == '.');
		check_valid_host((const uint8_t *)n + 2, k - 2);
		/* "*.rest" covers "x.rest" when rest has two labels */
		snprintf(host, sizeof(host), "x%s", n + 1);
		CHECK(!!x509_name_match(n, host) == (strchr(n + 2, '.') != NULL));
		CHECK(!x509_name_match(n, n + 2));
	}
	free(low);
}

/* name_match against the rules of RFC 6125 section 6.4.3, restated. */
static void
check_match(const char *p, const char *h)
{
	size_t pl = strlen(p), hl = strlen(h);
	int m = x509_name_match(p, h), hv = x509_host_valid((const uint8_t *)h, hl);
	const char *dot = strchr(h, '.');

	if (hv) {
		check_valid_host((const uint8_t *)h, hl);
		CHECK(x509_name_match(h, h));
	}
	if (!m)
		return;
	CHECK(hv);
	if (p[0] != '*') {
		CHECK(ieq(p, h));
		return;
	}
	CHECK(pl > 2 && p[1] == '.' && strchr(p + 2, '*') == NULL);
	CHECK(strchr(p + 2, '.') != NULL);
	CHECK(dot != NULL && dot > h && ieq(p + 2, dot + 1));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	char *p, *h;
	size_t cut;

	/* exact-size copy: reading past the end is caught */
	copy = malloc(size ? size : 1);
	CHECK(copy != NULL);
	memcpy(copy, data, size);
	check_names(copy, size);
	free(copy);
	if (size == 0)
		return 0;

	cut = 1 + data[0] % size;
	p = malloc(cut);
	h = malloc(size - cut + 1);
	CHECK(p != NULL && h != NULL);
	memcpy(p, data + 1, cut - 1);
	p[cut - 1] = '\0';
	memcpy(h, data + cut, size - cut);
	h[size - cut] = '\0';
	CHECK(!!x509_host_valid(data + cut, size - cut) ==
	    (memchr(h, '\0', size - cut) == NULL &&
	    x509_host_valid((const uint8_t *)h, strlen(h))));
	check_match(p, h);
	check_match(h, p);
	free(p);
	free(h);
	return 0;
}
