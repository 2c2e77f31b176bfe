/* cram.c - CRAM-MD5 (RFC 2195) with HMAC-MD5 (RFC 2104) from kept states. */
#include "cram.h"

#include <bearssl.h>
#include <string.h>

#include "../base/util.h"

/* The MD5 state after one 64-byte block of key XOR pad. */
static void
pad_state(const uint8_t key[64], uint8_t pad, uint8_t out[CRAM_STATE_LEN])
{
	br_md5_context mc;
	uint8_t block[64];
	size_t i;

	for (i = 0; i < sizeof(block); i++)
		block[i] = key[i] ^ pad;
	br_md5_init(&mc);
	br_md5_update(&mc, block, sizeof(block));
	(void)br_md5_state(&mc, out);
	explicit_bzero(block, sizeof(block));
	explicit_bzero(&mc, sizeof(mc));
}

void
cram_make_secret(const uint8_t *pass, size_t passlen, struct cram_secret *s)
{
	uint8_t key[64];
	br_md5_context mc;

	memset(key, 0, sizeof(key));
	if (passlen > sizeof(key)) {
		br_md5_init(&mc);
		br_md5_update(&mc, pass, passlen);
		br_md5_out(&mc, key);
		explicit_bzero(&mc, sizeof(mc));
	} else {
		memcpy(key, pass, passlen);
	}
	pad_state(key, 0x36, s->inner);
	pad_state(key, 0x5c, s->outer);
	explicit_bzero(key, sizeof(key));
}

static int
hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
cram_response_parse(const uint8_t *msg, size_t len, const uint8_t **user_r, size_t *userlen_r,
    uint8_t digest[CRAM_DIGEST_LEN])
{
	size_t ul, i;
	int hi, lo;

	*user_r = NULL;
	*userlen_r = 0;
	if (len < 1 + 1 + 2 * CRAM_DIGEST_LEN || len > CRAM_MSG_MAX ||
	    msg[len - 2 * CRAM_DIGEST_LEN - 1] != ' ')
		return -1;
	ul = len - 2 * CRAM_DIGEST_LEN - 1;
	if (memchr(msg, '\0', ul) != NULL)
		return -1;
	for (i = 0; i < CRAM_DIGEST_LEN; i++) {
		hi = hexval(msg[ul + 1 + 2 * i]);
		lo = hexval(msg[ul + 2 + 2 * i]);
		if (hi < 0 || lo < 0) {
			memset(digest, 0, CRAM_DIGEST_LEN);
			return -1;
		}
		digest[i] = (uint8_t)(hi << 4 | lo);
	}
	*user_r = msg;
	*userlen_r = ul;
	return 0;
}

int
cram_check(const struct cram_secret *s, const uint8_t *challenge, size_t clen,
    const uint8_t digest[CRAM_DIGEST_LEN])
{
	br_md5_context mc;
	uint8_t ih[br_md5_SIZE], d[br_md5_SIZE];
	int ok;

	br_md5_init(&mc);
	br_md5_set_state(&mc, s->inner, 64);
	br_md5_update(&mc, challenge, clen);
	br_md5_out(&mc, ih);
	br_md5_init(&mc);
	br_md5_set_state(&mc, s->outer, 64);
	br_md5_update(&mc, ih, sizeof(ih));
	br_md5_out(&mc, d);
	ok = util_ct_equal(d, digest, sizeof(d));
	explicit_bzero(&mc, sizeof(mc));
	explicit_bzero(ih, sizeof(ih));
	explicit_bzero(d, sizeof(d));
	return ok;
}
