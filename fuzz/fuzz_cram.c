/* fuzz_cram.c - the CRAM-MD5 response parser (common/auth/cram.h), on the
 * base64-decoded answer authd gets.  An accepted answer's name is inside
 * it, not empty, without a NUL, followed by one space and 32 hex digits
 * that are the digest; rebuilt from the name and the digest in lower-case
 * hex it parses the same.  And the kept-state HMAC-MD5 (cram_make_secret,
 * cram_check) agrees with BearSSL's own HMAC-MD5, the name as the key and
 * the whole input as the challenge: that digest passes, one bit off fails.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>

#include "../common/auth/cram.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char again[CRAM_MSG_MAX + 8];
	uint8_t d[CRAM_DIGEST_LEN], e[CRAM_DIGEST_LEN], *copy;
	const uint8_t *u, *v;
	struct cram_secret s;
	br_hmac_key_context kc;
	br_hmac_context hc;
	size_t ul, vl, i, n;

	copy = malloc(size ? size : 1);	/* exact size: ASan sees any overread */
	CHECK(copy != NULL);
	memcpy(copy, data, size);
	if (cram_response_parse(copy, size, &u, &ul, d) < 0) {
		CHECK(u == NULL && ul == 0);
		free(copy);
		return 0;
	}
	CHECK(u == copy && ul >= 1 && ul <= CRAM_USER_MAX && ul + 33 == size);
	CHECK(memchr(u, '\0', ul) == NULL && copy[ul] == ' ');
	memcpy(again, u, ul);
	n = ul;
	again[n++] = ' ';
	for (i = 0; i < CRAM_DIGEST_LEN; i++)
		n += (size_t)snprintf(again + n, sizeof(again) - n, "%02x", d[i]);
	CHECK(cram_response_parse((const uint8_t *)again, n, &v, &vl, e) == 0);
	CHECK(vl == ul && memcmp(v, u, ul) == 0 && memcmp(e, d, sizeof(d)) == 0);
	br_hmac_key_init(&kc, &br_md5_vtable, u, ul);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, copy, size);
	br_hmac_out(&hc, e);
	cram_make_secret(u, ul, &s);
	CHECK(cram_check(&s, copy, size, e) == 1);
	e[0] ^= 1;
	CHECK(cram_check(&s, copy, size, e) == 0);
	free(copy);
	return 0;
}
