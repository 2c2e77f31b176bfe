/* sasl.h - server side of SASL PLAIN (RFC 4616) and LOGIN, pure.
 *
 * authd runs one sasl_server per worker channel.  The worker only relays the
 * client's base64 lines; decoding and the decision happen here and in authd.
 */
#ifndef POSTERN_SASL_H
#define POSTERN_SASL_H

#include <stddef.h>
#include <stdint.h>

#define SASL_FIELD_MAX	255	/* authcid / authzid */
#define SASL_PASS_MAX	512
#define SASL_LINE_MAX	((SASL_FIELD_MAX * 2 + SASL_PASS_MAX + 2 + 2) / 3 * 4 + 4)

enum sasl_mech { SASL_MECH_NONE, SASL_MECH_PLAIN, SASL_MECH_LOGIN };

enum sasl_result {
	SASL_DONE = 0,		/* credentials complete: check them */
	SASL_CHALLENGE = 1,	/* send challenge (base64 text) to the client */
	SASL_ERR_SYNTAX = -1,	/* bad base64 or malformed message */
	SASL_ERR_ABORTED = -2,	/* client sent "*" */
	SASL_ERR_MECH = -3,	/* unknown mechanism */
	SASL_ERR_AUTHZ = -4,	/* PLAIN: an authorization identity other than the user */
};

struct sasl_server {
	enum sasl_mech mech;
	int step;
	uint8_t user[SASL_FIELD_MAX + 1];
	size_t userlen;
	uint8_t pass[SASL_PASS_MAX + 1];
	size_t passlen;
	char challenge[384];	/* also SCRAM's server-first (authd), base64 */
};

/* Start mechanism name (case-insensitive); ir is the initial response (base64
 * text, "=" for empty) or NULL when the client sent none. */
enum sasl_result sasl_start(struct sasl_server *s, const char *mech,
    const uint8_t *ir, size_t irlen);

/* Feed one client response line (base64 text or "*"). */
enum sasl_result sasl_continue(struct sasl_server *s, const uint8_t *line, size_t len);

/* Decode a PLAIN message: authzid NUL authcid NUL passwd (RFC 4616 section 2).
 * Rejects missing NULs, empty authcid/passwd, and a non-empty authzid that
 * differs from authcid (no proxy authorization). Returns 0, -1 (malformed)
 * or -2 (that authzid). */
int sasl_plain_decode(const uint8_t *msg, size_t len, struct sasl_server *s);

/* The mechanisms authd knows (auth_mechanisms names some of them):
 * "PLAIN LOGIN SCRAM-SHA-256".  A list is names separated by blanks or
 * commas, any case. */
#define SASL_MECHS_KNOWN	"PLAIN LOGIN SCRAM-SHA-256 CRAM-MD5"

/* 0 if list names only known mechanisms, each once, and at least one;
 * else -1 with *why_r. */
int sasl_mechs_check(const char *list, const char **why_r);

/* Non-zero if mechanism mech (mechlen bytes, any case) is in list. */
int sasl_mech_enabled(const char *list, const char *mech, size_t mechlen);

/* Each mechanism of list, upper-case, as before NAME after, into out
 * (NUL-terminated; " AUTH=" "" for IMAP's capabilities, "" "\r\n" for
 * a POP3 listing).  Returns the length, or -1 if out is too small. */
long sasl_mechs_format(const char *list, const char *before, const char *after, char *out,
    size_t outlen);

/* Wipe the password. */
void sasl_clear(struct sasl_server *s);

#endif
