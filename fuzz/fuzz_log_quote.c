/* fuzz_log_quote.c - log_quote(), which makes untrusted text (user names,
 * commands, server names) safe for a key=value log line.
 *
 * Byte 0 is the output size (0..255), the rest the text.  The result must
 * fit, be one token of 0x21-0x7E without '"' or '=', with '\' only in
 * "\xNN" escapes, decode back to a prefix of the input, and be cut only
 * where the next byte would not have fitted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/base/log.h"
#include "fuzz.h"

#define CANARY 0xa5
#define SLACK 16

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode out into dec; returns the decoded length. */
static size_t
decode(const char *out, size_t olen, uint8_t *dec)
{
	size_t i, n = 0;

	for (i = 0; i < olen; i++) {
		unsigned char c = (unsigned char)out[i];

		CHECK(c >= 0x21 && c < 0x7f && c != '"' && c != '=');
		if (c != '\\') {
			dec[n++] = c;
			continue;
		}
		CHECK(i + 3 < olen && out[i + 1] == 'x');
		CHECK(hexval(out[i + 2]) >= 0 && hexval(out[i + 3]) >= 0);
		dec[n] = (uint8_t)(hexval(out[i + 2]) << 4 | hexval(out[i + 3]));
		/* only what needs it is escaped */
		CHECK(!(dec[n] >= 0x21 && dec[n] < 0x7f && dec[n] != '"' && dec[n] != '\\' &&
		    dec[n] != '='));
		n++;
		i += 3;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned outlen, inlen, i;
	char *out;
	uint8_t *dec;
	size_t olen, n;

	if (size < 1)
		return 0;
	outlen = data[0];
	inlen = (unsigned)(size - 1);
	out = malloc(outlen + SLACK);
	dec = malloc(size);
	CHECK(out != NULL && dec != NULL);
	memset(out, CANARY, outlen + SLACK);
	CHECK(log_quote(out, outlen, data + 1, inlen) == out);
	for (i = outlen; i < outlen + SLACK; i++)
		CHECK((uint8_t)out[i] == CANARY);
	if (outlen == 0) {
		CHECK((uint8_t)out[0] == CANARY);	/* nothing written, not even a NUL */
		goto done;
	}
	olen = strnlen(out, outlen);
	CHECK(olen < outlen);
	n = decode(out, olen, dec);
	CHECK(n <= inlen && memcmp(dec, data + 1, n) == 0);
	if (n < inlen) {
		/* cut only when the next byte's form does not fit */
		uint8_t c = data[1 + n];
		size_t need = (c >= 0x21 && c < 0x7f && c != '"' && c != '\\' && c != '=') ? 1 : 4;
		CHECK(olen + need >= outlen);
	}
done:
	free(out);
	free(dec);
	return 0;
}
