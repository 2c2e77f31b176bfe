/* imap_fetch.h - IMAP FETCH: the attribute list into a plan, and one
 * message's untagged answer from it (RFC 3501 6.4.5 and 7.4.2, RFC 9051
 * 6.4.5 and 7.5.2, RFC 3516 BINARY, RFC 7162 MODSEQ / CHANGEDSINCE).
 * Pure: no I/O, no globals, no recursion.
 *
 * imap_fetch_parse() reads the argument tree of imap_parse once per
 * command; the plan it fills is small (a few KiB, fine on a worker's
 * stack) and points into that tree (section texts, HEADER.FIELDS lists):
 * it is valid while the command is.  The plan says what the render will
 * need of each message (IMAP_FETCH_NEED_ bits), so the worker asks stored
 * for nothing more, and whether the fetch sets \Seen.
 *
 * imap_fetch_render() then writes "* <seq> FETCH (...)\r\n" per message.
 * What the worker does, not this module: store \Seen (in a read-write
 * folder) before rendering and set imap_fetch_msg.add_flags when that
 * changed the flags; skip messages whose modseq is not above
 * changedsince (RFC 7162 3.1.4.1); answer "NO [UNKNOWN-CTE]" on
 * IMAP_FETCH_ERR_CTE.
 *
 * Choices, where the RFCs leave them open:
 * - A section naming a part that does not exist (BODY[4.2], BODY[1.TEXT]
 *   of a text part, BINARY[9]) answers "" (RFC 3501 6.4.5 lets servers
 *   send an empty string); BINARY.SIZE of one answers 0.
 * - Section data goes out as literals with CRLF line ends (the file may
 *   hold LF), sizes and partial offsets counted on that form; a NUL in
 *   BODY[...] data (not allowed in a literal, RFC 9051 4.3) goes out as
 *   0x80, so sizes stay those of the file.
 * - BINARY[] (no part number) is the whole message as BODY[] sends it;
 *   BINARY of a multipart or message/rfc822 part is its body as it stands
 *   (such parts can only be 7bit/8bit/binary, RFC 2045 6.4).  Decoded data
 *   goes out as it decodes (quoted-printable gives CRLF line ends, base64
 *   the bytes it holds), as literal8 ~{n} when it holds a NUL.
 * - UID FETCH answers UID first when it was not asked for; FLAGS added
 *   because \Seen was set goes last; CHANGEDSINCE adds MODSEQ last when it
 *   was not asked for.  An item asked twice is answered once, except
 *   sections (each as asked).
 * - An INTERNALDATE outside years 1..9999 is sent as 01-Jan-1970.
 * - The modifier VANISHED (RFC 7162 QRESYNC) is not supported: an error.
 */
#ifndef POSTERN_IMAP_FETCH_H
#define POSTERN_IMAP_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../proto/imap_parse.h"
#include "mime.h"

#define IMAP_FETCH_MAX_SECTIONS	64	/* BODY[...] / BINARY[...] items of one FETCH */
#define IMAP_FETCH_MAX_FIELDS	64	/* field names of one HEADER.FIELDS (...) */
#define IMAP_FETCH_MAX_ITEMS	(IMAP_FETCH_MAX_SECTIONS + 16)

/* What the render needs of a message (also imap_eval_needs()). */
#define IMAP_FETCH_NEED_META	0x1	/* size and internal date (from the index) */
#define IMAP_FETCH_NEED_HEADER	0x2	/* the header: msg may hold only the header,
					 * its blank line included, or more */
#define IMAP_FETCH_NEED_BODY	0x4	/* the whole message */

enum imap_fetch_att {
	IMAP_FA_UID, IMAP_FA_FLAGS, IMAP_FA_INTERNALDATE, IMAP_FA_RFC822_SIZE,
	IMAP_FA_ENVELOPE, IMAP_FA_BODY, IMAP_FA_BODYSTRUCTURE, IMAP_FA_MODSEQ,
	IMAP_FA_RFC822, IMAP_FA_RFC822_HEADER, IMAP_FA_RFC822_TEXT,
	IMAP_FA_SECTION,	/* BODY[...], BINARY[...], BINARY.SIZE[...]: item.sec */
};

enum imap_fetch_sec_type {
	IMAP_FS_BODY,		/* BODY[] / BODY.PEEK[] */
	IMAP_FS_BINARY,		/* BINARY[] / BINARY.PEEK[] */
	IMAP_FS_BINARY_SIZE,	/* BINARY.SIZE[] */
};

struct imap_fetch_section {
	uint8_t type;		/* enum imap_fetch_sec_type */
	uint8_t peek;
	uint8_t has_partial;
	uint8_t nfields;	/* names in fields */
	uint16_t spec_len;
	const uint8_t *spec;	/* the section-spec inside the brackets, before any
				 * field list: "1.2.HEADER.FIELDS" (in the arg tree) */
	const struct imap_arg *fields;	/* HEADER.FIELDS(.NOT): the first name */
	uint64_t off, count;	/* <off.count> */
};

struct imap_fetch_item {
	uint8_t att;		/* enum imap_fetch_att */
	uint8_t sec;		/* IMAP_FA_SECTION: index into sections */
};

struct imap_fetch_plan {
	struct imap_fetch_item item[IMAP_FETCH_MAX_ITEMS];
	unsigned nitems;
	struct imap_fetch_section section[IMAP_FETCH_MAX_SECTIONS];
	unsigned nsections;
	unsigned need;		/* IMAP_FETCH_NEED_ bits */
	int need_mime;		/* the render parses the MIME structure */
	int sets_seen;		/* a non-PEEK BODY[]/BINARY[], RFC822, RFC822.TEXT */
	int flags_asked;	/* FLAGS is among the items */
	int changedsince_set;	/* CHANGEDSINCE was given */
	uint64_t changedsince;
	size_t mime_max_parts;	/* for mime_init(); 0 = its defaults */
	unsigned mime_max_depth;
	/* every item that needs the message is ENVELOPE, BODY or
	 * BODYSTRUCTURE: stored's kept structures serve them (m->st) */
	int structs_only;
};

/* Fill p from att (the argument after the sequence set: ALL, FAST, FULL,
 * one item, a SECTION node, or a list of items) and modifiers (NULL, or the
 * list after att: "(CHANGEDSINCE n)").  uid_cmd: UID FETCH.  0, or -1 with
 * *err_r a short text for "tag BAD <text>" (static).  The plan points into
 * the argument tree. */
int imap_fetch_parse(const struct imap_arg *att, const struct imap_arg *modifiers, int uid_cmd,
    struct imap_fetch_plan *p, const char **err_r);

/* ENVELOPE, BODY and BODYSTRUCTURE of one message as IMAP text (what
 * imap_fetch_structs() makes; stored keeps them in its index). */
struct imap_fetch_structs {
	const uint8_t *env, *body, *bs;
	size_t env_len, body_len, bs_len;
};

struct imap_fetch_msg {
	const struct imap_fetch_structs *st;	/* when set (a structs_only plan),
						 * msg is not needed */
	uint32_t seq, uid;
	uint64_t modseq;
	uint64_t size;		/* RFC822.SIZE, from the index */
	int64_t date;		/* INTERNALDATE, seconds since 1970 UTC */
	const char *flags;	/* the flag list as sent: "(\\Seen $Junk)" */
	const uint8_t *msg;	/* the message file (LF or CRLF), or NULL when */
	size_t len;		/* the plan needs neither header nor body */
	int add_flags;		/* send FLAGS although not asked (\Seen was set) */
};

#define IMAP_FETCH_ERR_NOMEM	(-1)	/* ENOMEM, or out would pass its max */
#define IMAP_FETCH_ERR_CTE	(-2)	/* BINARY of an unknown transfer encoding */
#define IMAP_FETCH_ERR_MSG	(-3)	/* the plan needs msg and it is NULL */

/* Append "* <seq> FETCH (...)\r\n" for m to out.  0, or an IMAP_FETCH_ERR_
 * code; on error out is as it was before the call.  Memory besides out:
 * the MIME parts (mime_parse, within the plan's limits) and, for
 * HEADER.FIELDS and BINARY, one temporary buffer bounded by out's max. */
int imap_fetch_render(const struct imap_fetch_plan *p, const struct imap_fetch_msg *m,
    struct buf *out);

/* ENVELOPE, BODY and BODYSTRUCTURE of the message msg[0..len) into env,
 * body and bs (appended), within mime_init's limits (0: its defaults), as
 * imap_fetch_render writes them.  Returns 0 or IMAP_FETCH_ERR_NOMEM. */
int imap_fetch_structs(const uint8_t *msg, size_t len, size_t max_parts, unsigned max_depth,
    struct buf *env, struct buf *body, struct buf *bs);

/* The body of part `part` of mm with its Content-Transfer-Encoding undone
 * (base64, quoted-printable; 7bit, 8bit, binary and none as they are),
 * appended to out.  Returns 0, IMAP_FETCH_ERR_NOMEM, or IMAP_FETCH_ERR_CTE
 * for an encoding it does not know.  *identity_r (may be NULL): 1 when the
 * bytes were copied as they are (their line ends are then the file's). */
int imap_fetch_part_decode(const struct mime_msg *mm, uint32_t part, struct buf *out,
    int *identity_r);

#endif
