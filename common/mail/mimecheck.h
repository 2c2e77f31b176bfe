/* mimecheck.h - is a message conformant MIME? (pure; untrusted bytes)
 *
 * The intake's MIME policy (smtp_bad_mime, Courier's BOFHBADMIME) asks
 * this of each message taken by smtpd or lmtpd.  The checker reads the
 * whole message once, line by line (LF or CRLF line ends), with no
 * allocation and no recursion: the open multiparts and embedded messages
 * are an explicit stack of at most max_depth levels.  It stops at the
 * first defect and says which one and on which line.
 *
 * What it asks, in the order it meets it:
 *   - raw bytes: no NUL, no CR that is not before an LF (RFC 5322 2.3), no
 *     line over 998 octets (RFC 5322 2.1.1); 8-bit bytes in a header only
 *     with SMTPUTF8 (RFC 6532 3, and then valid UTF-8), in a body only
 *     with BODY=8BITMIME (RFC 6152);
 *   - every header line a field ("name:" with printable name characters)
 *     or its continuation (RFC 5322 2.2);
 *   - MIME-Version: 1.0 at the top (RFC 2045 4) when the message uses MIME
 *     at all (a Content-* field, or 8-bit text).  A 7-bit message without
 *     Content-* fields is a plain RFC 5322 message, text/plain in US-ASCII
 *     by RFC 2045 5.2, and is conformant;
 *   - at most one MIME-Version, Content-Type and Content-Transfer-Encoding
 *     per header; a Content-Type that parses (RFC 2045 5.1: type/subtype,
 *     parameters of tokens or quoted strings, comments);
 *   - a multipart (RFC 2046 5.1.1) has a boundary parameter of 1..70
 *     boundary characters, at least one body part, and its close
 *     delimiter, before any enclosing boundary or the end of the message;
 *   - multiparts and messages nested at most max_depth deep;
 *   - a Content-Transfer-Encoding among 7bit, 8bit, binary,
 *     quoted-printable, base64 (RFC 2045 6.1); binary never (BINARYMIME is
 *     not offered); a multipart or message/rfc822 only 7bit or 8bit (RFC
 *     2045 6.4); the content as the encoding says: no 8-bit bytes under
 *     7bit, quoted-printable or base64, "=" only before two hex digits or
 *     the line end in quoted-printable (RFC 2045 6.7), only the base64
 *     alphabet, "=" and blanks in base64 (RFC 2045 6.8).
 */
#ifndef POSTERN_MIMECHECK_H
#define POSTERN_MIMECHECK_H

#include <stddef.h>
#include <stdint.h>

#define MIMECHECK_DEPTH_MAX	64	/* the largest max_depth (the stack's size) */
#define MIMECHECK_LINE_MAX	998	/* RFC 5322 2.1.1, without the CRLF */
#define MIMECHECK_BOUNDARY_MAX	70	/* RFC 2046 5.1.1 */
#define MIMECHECK_FIELD_MAX	4096	/* mimecheck_field: a longer field is not copied */

enum mimecheck_defect {
	MIMECHECK_OK = 0,
	MIMECHECK_NUL,
	MIMECHECK_BARE_CR,
	MIMECHECK_LONG_LINE,
	MIMECHECK_8BIT_HEADER,
	MIMECHECK_BAD_UTF8_HEADER,
	MIMECHECK_8BIT_BODY,
	MIMECHECK_HEADER_SYNTAX,
	MIMECHECK_NO_MIME_VERSION,
	MIMECHECK_BAD_MIME_VERSION,
	MIMECHECK_DUP_FIELD,
	MIMECHECK_BAD_CONTENT_TYPE,
	MIMECHECK_NO_BOUNDARY,
	MIMECHECK_BAD_BOUNDARY,
	MIMECHECK_NO_PARTS,
	MIMECHECK_UNCLOSED,
	MIMECHECK_TOO_DEEP,
	MIMECHECK_UNKNOWN_CTE,
	MIMECHECK_BINARY_CTE,
	MIMECHECK_COMPOSITE_CTE,
	MIMECHECK_CTE_MISMATCH,
	MIMECHECK_BAD_QP,
	MIMECHECK_BAD_BASE64,
	MIMECHECK_NDEFECTS
};

/* What the transport said about the message (MAIL FROM parameters). */
#define MIMECHECK_8BITMIME	0x1	/* BODY=8BITMIME: 8-bit body lines allowed */
#define MIMECHECK_SMTPUTF8	0x2	/* SMTPUTF8: UTF-8 in header fields allowed */

struct mimecheck_result {
	enum mimecheck_defect defect;
	uint64_t line;		/* 1-based line of the defect (0 when OK) */
	unsigned depth;		/* nesting at the defect: 0 is the message's own header/body */
	int rfc5322;		/* the bytes are an RFC 5322 message (with the transport's
				 * extensions): the defect, if any, is in its MIME only */
	int eightbit;		/* an 8-bit byte was seen (before the defect) */
};

/* Check msg[0..len) with flags (MIMECHECK_*) and nesting max_depth
 * (1..MIMECHECK_DEPTH_MAX; larger is taken as the maximum).  Fills r;
 * returns 0 when the message is conformant, -1 with r->defect set. */
int mimecheck_run(const uint8_t *msg, size_t len, unsigned flags, unsigned max_depth,
    struct mimecheck_result *r);

/* Only the raw bytes of msg[0..len), all of it: no NUL, no CR that is
 * not before an LF, no line over MIMECHECK_LINE_MAX.  Returns 0 when
 * clean, -1 when not; *eightbit_r says whether an 8-bit byte is there
 * (wrapping: can the message travel as message/rfc822, in 7bit or 8bit?). */
int mimecheck_raw(const uint8_t *msg, size_t len, int *eightbit_r);

/* The defect's name for log lines ("unclosed_multipart"), and a short
 * English phrase for replies and the wrapping text ("a multipart is not
 * closed").  Static strings; "ok" / "conformant" for MIMECHECK_OK. */
const char *mimecheck_name(enum mimecheck_defect d);
const char *mimecheck_text(enum mimecheck_defect d);

/* The first field called name (any case) in the message's own header,
 * as it stands (its continuation lines included, without the final line
 * end), when it is at most MIMECHECK_FIELD_MAX bytes and clean to copy
 * into another header: printable ASCII and blanks (and valid UTF-8 with
 * MIMECHECK_SMTPUTF8 in flags), no line over MIMECHECK_LINE_MAX, no
 * stray CR.  The header ends at the first empty line or at the first
 * line that is no field.  Returns 0 with *off_r and *len_r, -1 if none. */
int mimecheck_field(const uint8_t *msg, size_t len, const char *name, unsigned flags,
    size_t *off_r, size_t *len_r);

#endif
