/* cram.h - CRAM-MD5 (RFC 2195), the server's side, pure.  Off unless
 * auth_mechanisms lists it (docs/AUTH.md#cram-md5).
 *
 * The server must know HMAC-MD5 keyed with the password.  What the user db
 * keeps is the two MD5 states after the key's inner and outer pads (as
 * Dovecot's CRAM-MD5 scheme does): not the password, but equivalent to it
 * for CRAM-MD5 (whoever reads it can answer any challenge as the user).
 */
#ifndef POSTERN_CRAM_H
#define POSTERN_CRAM_H

#include <stddef.h>
#include <stdint.h>

#define CRAM_STATE_LEN		16	/* an MD5 chaining state */
#define CRAM_DIGEST_LEN		16
#define CRAM_USER_MAX		255
#define CRAM_MSG_MAX		(CRAM_USER_MAX + 1 + 2 * CRAM_DIGEST_LEN)

struct cram_secret {
	uint8_t inner[CRAM_STATE_LEN];	/* MD5 state after (key XOR ipad) */
	uint8_t outer[CRAM_STATE_LEN];	/* MD5 state after (key XOR opad) */
};

/* The secret of pass (RFC 2104: a key over 64 bytes is its MD5 first). */
void cram_make_secret(const uint8_t *pass, size_t passlen, struct cram_secret *s);

/* The client's response: the user name, one space, the digest as 32 hex
 * digits (RFC 2195 2; the name is everything before the last space).
 * Untrusted bytes.  Returns 0 with *user_r / *userlen_r pointing into msg
 * and the digest decoded, or -1 (no space, an empty, over-long or NUL
 * holding name, not 32 hex digits). */
int cram_response_parse(const uint8_t *msg, size_t len, const uint8_t **user_r,
    size_t *userlen_r, uint8_t digest[CRAM_DIGEST_LEN]);

/* Whether digest is HMAC-MD5(password, challenge) for the password whose
 * secret s is (constant time).  Returns 1 or 0. */
int cram_check(const struct cram_secret *s, const uint8_t *challenge, size_t clen,
    const uint8_t digest[CRAM_DIGEST_LEN]);

#endif
