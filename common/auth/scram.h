/* scram.h - SCRAM-SHA-256 (RFC 5802, RFC 7677), the server's side, pure.
 *
 * The parsers of the client's two messages take untrusted bytes (the
 * base64-decoded SASL data) and point into them; they are fuzzed
 * (fuzz/fuzz_scram.c).  The key functions derive what the user db keeps
 * (salt, iteration count, StoredKey, ServerKey: never the password or
 * anything that logs in by itself) and check a client's proof.  No I/O:
 * the caller brings the random bytes.  authd runs the exchange.
 */
#ifndef POSTERN_SCRAM_H
#define POSTERN_SCRAM_H

#include <stddef.h>
#include <stdint.h>

#define SCRAM_KEY_LEN		32	/* SHA-256 */
#define SCRAM_SALT_LEN		16	/* what we make */
#define SCRAM_SALT_MAX		32	/* what a record may hold */
#define SCRAM_NONCE_MAX		128	/* the client's nonce */
#define SCRAM_SNONCE_RAW	18	/* random bytes of ours: 24 base64 characters */
#define SCRAM_USER_MAX		255	/* the decoded saslname */
#define SCRAM_MSG_MAX		1024	/* one client message */
#define SCRAM_ITER_MIN		4096	/* RFC 7677 4 */
#define SCRAM_ITER_MAX		10000000
/* client-first-bare + server-first + client-final-without-proof, commas */
#define SCRAM_AUTHMSG_MAX	(3 * SCRAM_MSG_MAX)

/* What the user db keeps for SCRAM-SHA-256. */
struct scram_secrets {
	uint32_t iterations;
	uint8_t salt[SCRAM_SALT_MAX];
	size_t saltlen;
	uint8_t stored_key[SCRAM_KEY_LEN];
	uint8_t server_key[SCRAM_KEY_LEN];
};

enum scram_status {
	SCRAM_OK = 0,
	SCRAM_MALFORMED = -1,	/* not the RFC 5802 7 grammar, or over a limit */
	SCRAM_CBIND = -2,	/* "p=": the client asked for channel binding we did not offer */
	SCRAM_AUTHZ = -3,	/* an authzid other than the user (no proxy logins) */
	SCRAM_MEXT = -4,	/* "m=": a mandatory extension we do not have (RFC 5802 5.1) */
};

/* client-first-message (RFC 5802 7): gs2-header client-first-message-bare. */
struct scram_client_first {
	char cbind;			/* 'n' or 'y' ('p' is refused) */
	size_t gs2len;			/* bytes of the gs2-header, both commas included */
	uint8_t user[SCRAM_USER_MAX + 1];	/* saslname decoded ("=2C" ",", "=3D" "="), NUL */
	size_t userlen;
	const uint8_t *nonce;		/* c-nonce, into the message */
	size_t noncelen;
	const uint8_t *bare;		/* client-first-message-bare, into the message */
	size_t barelen;
};

/* Parse msg (len bytes).  Returns SCRAM_OK with r filled, or a negative
 * enum scram_status.  An authzid equal to the user is accepted. */
int scram_client_first_parse(const uint8_t *msg, size_t len, struct scram_client_first *r);

/* client-final-message: "c=" cbind "," "r=" nonce ["," ext] "," "p=" proof. */
struct scram_client_final {
	const uint8_t *cbind;		/* the base64 text after "c=", into the message */
	size_t cbindlen;
	const uint8_t *nonce;		/* c-nonce s-nonce, into the message */
	size_t noncelen;
	uint8_t proof[SCRAM_KEY_LEN];	/* decoded */
	size_t without_proof;		/* bytes of client-final-message-without-proof */
};

/* Parse msg.  Returns SCRAM_OK or SCRAM_MALFORMED (also for a proof that
 * is not SCRAM_KEY_LEN bytes). */
int scram_client_final_parse(const uint8_t *msg, size_t len, struct scram_client_final *r);

/* Whether cbind (base64 text) is the gs2 header the client sent first,
 * as RFC 5802 7 asks when no channel binding is in use. */
int scram_cbind_matches(const struct scram_client_final *f, const uint8_t *gs2, size_t gs2len);

/* SaltedPassword = Hi(pass, salt, iterations), ClientKey, StoredKey,
 * ServerKey (RFC 5802 3) into s (salt copied, saltlen <= SCRAM_SALT_MAX).
 * The password bytes as given (a client applies SASLprep; for ASCII
 * passwords that changes nothing).  Intermediate keys are wiped. */
void scram_make_secrets(const uint8_t *pass, size_t passlen, const uint8_t *salt,
    size_t saltlen, uint32_t iterations, struct scram_secrets *s);

/* server-first-message: "r=" c-nonce s-nonce ",s=" salt ",i=" count into
 * out (NUL-terminated text); snonce: SCRAM_SNONCE_RAW random bytes.  The
 * combined nonce goes to nonce_r (NUL-terminated, at least
 * SCRAM_NONCE_MAX + 25 bytes).  Returns the length, or -1. */
long scram_server_first(const struct scram_client_first *cf, const uint8_t *snonce,
    const struct scram_secrets *s, char *out, size_t outcap, char *nonce_r, size_t noncecap);

/* Check a proof over AuthMessage against s: ClientKey = proof XOR
 * HMAC(StoredKey, AuthMessage), then H(ClientKey) == StoredKey in
 * constant time.  On success the server-final-message "v=" signature
 * goes to final_r (NUL-terminated, >= 48 bytes).  Returns 1 or 0. */
int scram_check_proof(const struct scram_secrets *s, const uint8_t *authmsg, size_t amlen,
    const uint8_t proof[SCRAM_KEY_LEN], char *final_r, size_t finalcap);

/* HMAC-SHA-256 of msg under key into out (SCRAM_KEY_LEN bytes). */
void scram_hmac(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t msglen,
    uint8_t out[SCRAM_KEY_LEN]);

#endif
