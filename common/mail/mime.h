/* mime.h - MIME structure (RFC 2045, RFC 2046) as IMAP's BODYSTRUCTURE,
 * BODY and BODY[section] see it (RFC 3501 6.4.5, 7.4.2; RFC 9051) (pure).
 *
 * mime_parse() walks a message held in memory (LF or CRLF line ends) once,
 * iteratively, and produces a flat array of parts in pre-order: part 0 is
 * the message itself, each part has its parent, its first child and next
 * sibling, the offsets of its header and body in the message, and sizes as
 * IMAP counts them (every bare LF counted as CRLF).  Nothing is copied:
 * the writers parse each part's header again from the message bytes.
 *
 * Multipart bodies are split at their boundary (RFC 2046 5.1.1): preamble
 * and epilogue are dropped, delimiter lines may end in blanks, the CRLF
 * before a delimiter belongs to it, a missing close delimiter ends the last
 * part at the end of its parent, and a boundary that never appears gives a
 * multipart without parts.  message/rfc822 (and message/global) parts hold
 * one child, the encapsulated message.  In a multipart/digest the default
 * type is message/rfc822 (5.1.5), elsewhere text/plain; us-ascii.
 *
 * Limits (named, never a crash): parts deeper than max_depth are not
 * looked into (a multipart or message/rfc822 there has no children), at
 * most max_parts parts are made (the rest of the message is not split
 * further), a boundary longer than MIME_BOUNDARY_MAX (70, RFC 2046 5.1.1)
 * or empty is not used.  A multipart without parts, for whatever reason,
 * is written with one empty text/plain part (BODYSTRUCTURE needs one, RFC
 * 3501 9 body-type-mpart), as is the body of a message/rfc822 part that was
 * not looked into.
 */
#ifndef POSTERN_MIME_H
#define POSTERN_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "decode.h"

#define MIME_DEPTH_MAX 32	/* default max_depth */
#define MIME_DEPTH_LIMIT 255	/* the largest max_depth mime_init() takes */
#define MIME_PARTS_MAX 10000	/* default max_parts */
#define MIME_BOUNDARY_MAX 70
#define MIME_PARAMS_MAX 64	/* parameters of one field looked at */
#define MIME_NONE UINT32_MAX

/* mime_part.flags */
#define MIME_F_MULTIPART 0x01	/* multipart/ *: children are its body parts */
#define MIME_F_RFC822	 0x02	/* message/rfc822 or message/global: child is the message */
#define MIME_F_TEXT	 0x04	/* text/ *: BODYSTRUCTURE gives its lines */
#define MIME_F_OPAQUE	 0x08	/* a multipart or message part past a limit: no children */
#define MIME_F_DIGEST	 0x10	/* multipart/digest: children default to message/rfc822 */
#define MIME_F_DEFAULT	 0x20	/* no usable Content-Type: the default applies */

struct mime_part {
	uint32_t parent, first_child, next, last_child;	/* MIME_NONE when none */
	uint32_t depth;			/* 0 for the message */
	unsigned flags;
	size_t hdr_off;			/* the part's MIME header (or the message header) */
	size_t body_off, body_len;	/* body; the header is hdr_off..body_off */
	uint64_t hdr_size, body_size;	/* CRLF-counted */
	uint64_t body_lines;		/* LFs, plus one for a last line without one */
};

struct mime_msg {
	const uint8_t *m;
	size_t len;
	struct mime_part *parts;
	size_t n, cap;
	size_t max_parts;
	unsigned max_depth;
	int truncated;			/* max_parts or max_depth was reached */
};

/* Set the limits (0 = the defaults; max_depth is capped at
 * MIME_DEPTH_LIMIT).  No allocation. */
void mime_init(struct mime_msg *mm, size_t max_parts, unsigned max_depth);

/* Parse m[0..len), which must stay mapped while mm is used.  0, or -1
 * (ENOMEM).  Can be called again on a new message after mime_init(). */
int mime_parse(struct mime_msg *mm, const uint8_t *m, size_t len);

void mime_free(struct mime_msg *mm);

/* A Content-Type: type "/" subtype, then the parameters' bytes. */
struct mime_ctype {
	const uint8_t *type, *subtype, *params;
	size_t type_len, subtype_len, params_len;
	int is_default;		/* absent or unusable: text/plain (or message/rfc822) */
};

/* The Content-Type of the header hdr[0..hdr_len); digest: the part is in a
 * multipart/digest.  The spans point into hdr (or static defaults). */
void mime_content_type(const uint8_t *hdr, size_t hdr_len, int digest, struct mime_ctype *ct);

/* The value of parameter name (NUL-terminated, in lowercase; matched
 * case-insensitively) of
 * params[0..len) appended to out, with quoted-pairs undone and RFC 2231
 * continuations joined and %XX-decoded; an RFC 2231 value in a charset
 * decode.h knows is converted to UTF-8, else left in its charset (*cs_r
 * says which: DECODE_CS_UNKNOWN for a plain value or an unknown charset).
 * 1 found, 0 not there, -1 (out past its max). */
int mime_param_get(const uint8_t *params, size_t len, const char *name, struct buf *out,
    enum decode_charset *cs_r);

/* Append BODYSTRUCTURE (extended = 1: with the extension data, md5 always
 * NIL) or BODY (extended = 0) of the parsed message.  0 or -1. */
int mime_bodystructure_write(const struct mime_msg *mm, int extended, struct buf *out);

enum mime_section_kind {
	MIME_SEC_BODY,		/* "" (the whole message), or "1.2": a part's body */
	MIME_SEC_HEADER,	/* "HEADER", "2.HEADER": a message's header, blank line included */
	MIME_SEC_FIELDS,	/* "HEADER.FIELDS": filter the range with rfc5322_header_fields() */
	MIME_SEC_FIELDS_NOT,	/* "HEADER.FIELDS.NOT": the same, negated */
	MIME_SEC_TEXT,		/* "TEXT", "2.TEXT": a message's body */
	MIME_SEC_MIME,		/* "1.2.MIME": a part's MIME header, blank line included */
};

struct mime_section {
	enum mime_section_kind kind;
	uint32_t part;		/* the part it names (0 for the message) */
	size_t off, len;	/* the raw bytes in the message: send them with imap_out_crlf() */
};

/* Resolve a section-spec (RFC 3501 6.4.5) spec[0..len), the part inside
 * BODY[...] before any field list: "" , "1.2", "TEXT", "3.HEADER",
 * "2.MIME", "HEADER.FIELDS", "4.2.HEADER.FIELDS.NOT" (case-insensitive).
 * Numbers count parts of a multipart; in a message that is not multipart
 * "1" is its body; after a message/rfc822 part the numbers go on in the
 * encapsulated message; HEADER, TEXT and HEADER.FIELDS go with the message
 * or a message/rfc822 part, MIME with a part number.  Part 1 of a multipart
 * without parts is empty.  0, or -1 if spec names no section. */
int mime_section(const struct mime_msg *mm, const char *spec, size_t len, struct mime_section *s);

#endif
