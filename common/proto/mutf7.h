/* mutf7.h - IMAP modified UTF-7 mailbox names (RFC 3501 section 5.1.3) and
 * a mailbox-name check for Maildir++ folders.
 *
 * Strict both ways: decode accepts exactly what encode produces, so
 * encode(decode(x)) == x for every x decode accepts.  Printable US-ASCII
 * (0x20-0x7e) stands for itself, "&" is "&-", everything else is UTF-16BE
 * in modified base64 (',' for '/', no padding) between "&" and "-".
 */
#ifndef POSTERN_MUTF7_H
#define POSTERN_MUTF7_H

#include <stddef.h>
#include <stdint.h>

#define MUTF7_NAME_MAX	 1024	/* longest name in or out, in bytes */
#define MUTF7_MAILBOX_MAX 255	/* longest mailbox name (UTF-8 bytes) we store */

enum mutf7_err {
	MUTF7_OK = 0,
	MUTF7_ERR_CHAR = -1,		/* byte outside printable US-ASCII */
	MUTF7_ERR_UNTERMINATED = -2,	/* "&" without its "-" */
	MUTF7_ERR_BASE64 = -3,		/* not a modified-base64 character */
	MUTF7_ERR_PADDING = -4,		/* partial UTF-16 unit or non-zero spare bits */
	MUTF7_ERR_ASCII = -5,		/* printable US-ASCII encoded in base64 */
	MUTF7_ERR_NONCANON = -6,	/* "&...-&...-": one run split in two */
	MUTF7_ERR_SURROGATE = -7,	/* unpaired UTF-16 surrogate */
	MUTF7_ERR_UTF8 = -8,		/* encode: invalid UTF-8 */
	MUTF7_ERR_NUL = -9,		/* U+0000 */
	MUTF7_ERR_TOO_LONG = -10,	/* over MUTF7_NAME_MAX or the output buffer */
};

/* Decode in[0..len) into UTF-8 in out (NUL-terminated, at most cap bytes
 * with the NUL); *outlen_r gets its length.  MUTF7_OK or an error. */
enum mutf7_err mutf7_decode(const uint8_t *in, size_t len, char *out, size_t cap,
    size_t *outlen_r);

/* Encode UTF-8 in[0..len) into modified UTF-7, as mutf7_decode. */
enum mutf7_err mutf7_encode(const uint8_t *in, size_t len, char *out, size_t cap,
    size_t *outlen_r);

enum mutf7_mbox_err {
	MUTF7_MBOX_OK = 0,
	MUTF7_MBOX_EMPTY = -1,		/* "" */
	MUTF7_MBOX_TOO_LONG = -2,	/* over MUTF7_MAILBOX_MAX */
	MUTF7_MBOX_UTF8 = -3,		/* invalid UTF-8 */
	MUTF7_MBOX_CTRL = -4,		/* C0/C1 control or DEL */
	MUTF7_MBOX_SLASH = -5,		/* "/" when the separator is "." */
	MUTF7_MBOX_DOTDOT = -6,		/* ".." anywhere, or a "." component */
	MUTF7_MBOX_EMPTY_PART = -7,	/* two separators in a row */
	MUTF7_MBOX_EDGE = -8,		/* leading or trailing separator */
	MUTF7_MBOX_WILDCARD = -9,	/* "%" or "*" in a name (not a pattern) */
};

#define MUTF7_MBOX_PATTERN 0x1	/* a LIST pattern: "%" and "*" allowed */

/* Check a decoded (UTF-8) mailbox name, with hierarchy separator sep ('.'
 * or '/'), before it becomes a Maildir++ folder.  CREATE, RENAME, SELECT
 * names pass flags 0; LIST/LSUB patterns MUTF7_MBOX_PATTERN. */
enum mutf7_mbox_err mutf7_mailbox_check(const uint8_t *name, size_t len, char sep,
    unsigned flags);

#endif
