/* imap_parse.h - the IMAP command reader (pure, incremental).
 *
 * Client bytes arrive in any chunks; imap_parser_feed() takes them one
 * call at a time and returns an event: a complete command (tag, upper-cased
 * name, argument tree), a synchronizing literal waiting for the caller's
 * "+ " (or refusal), a chunk of a streamed literal, or an error.  No I/O,
 * no recursion on nesting; every size is bounded by struct imap_limits.
 * The grammar is RFC 3501 section 9 / RFC 9051 section 9 (command =
 * tag SP command-name *(SP argument) CRLF) with literals {N}, {N+}
 * (RFC 7888), ~{N} (RFC 3516 literal8).  A bare LF ends a line too.
 *
 * Arguments form a tree of struct imap_arg: ATOM, QUOTED, LITERAL, NIL,
 * LIST and SECTION.  A FETCH section with a list inside its brackets,
 * BODY[HEADER.FIELDS (From To)]<0.100>, is one SECTION node: text is the
 * part before the list ("BODY[HEADER.FIELDS"), text2 the part after it
 * ("]<0.100>"), child the LIST (From To).  Without a list, brackets and
 * <partial> stay inside an ATOM ("BODY.PEEK[]<0.100>"), as the grammar's
 * ATOM-CHARs allow ("[" and "<" are ATOM-CHARs, "]" an ASTRING-CHAR).
 */
#ifndef POSTERN_IMAP_PARSE_H
#define POSTERN_IMAP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define IMAP_TAG_MAX	64	/* longest tag accepted */
#define IMAP_NAME_MAX	32	/* longest command name ("UID EXPUNGE" included) */
#define IMAP_LITERAL_MINUS_MAX 4096	/* RFC 7888 section 5: LITERAL- non-sync bound */

/* Defaults for struct imap_limits. */
#define IMAP_DEFAULT_MAX_LINE		65536	/* one line, literal data excluded */
#define IMAP_DEFAULT_MAX_LITERAL	(64u * 1024 * 1024)
#define IMAP_DEFAULT_MAX_BUFFERED	65536	/* larger literals are streamed */
#define IMAP_DEFAULT_MAX_LITERALS	64	/* per command */
#define IMAP_DEFAULT_MAX_DEPTH		32	/* nested lists */
#define IMAP_DEFAULT_MAX_ARGS		8192	/* nodes of the argument tree */
#define IMAP_DEFAULT_MAX_COMMAND	(1024 * 1024)	/* streamed literals excluded */

/* Parser flags. */
#define IMAP_PF_LITERAL_PLUS	0x1	/* {N+} accepted (RFC 7888 LITERAL+) */
#define IMAP_PF_LITERAL_MINUS	0x2	/* {N+} only up to 4096 (LITERAL-); with
					 * LITERAL_PLUS too, LITERAL+ wins */
#define IMAP_PF_UTF8		0x4	/* 8-bit bytes in quoted strings (UTF8=ACCEPT) */

struct imap_limits {
	size_t max_line;
	uint32_t max_literal;
	uint32_t max_buffered;	/* literals up to this size are in the tree */
	unsigned max_literals;
	unsigned max_depth;
	unsigned max_args;
	size_t max_command;	/* bytes of a command, streamed literal data excluded */
};

enum imap_err {
	IMAP_ERR_NONE = 0,
	IMAP_ERR_EMPTY,		/* empty line */
	IMAP_ERR_TAG,		/* missing, bad or over-long tag */
	IMAP_ERR_NAME,		/* missing, bad or over-long command name; IDLE's
				 * "DONE" line arrives as this, with tag "DONE" */
	IMAP_ERR_SPACE,		/* missing, double, leading or trailing space */
	IMAP_ERR_CHAR,		/* character not allowed here (bare CR too) */
	IMAP_ERR_8BIT,		/* 8-bit byte outside a literal */
	IMAP_ERR_NUL,		/* NUL outside a literal8 */
	IMAP_ERR_ESCAPE,	/* backslash not before " or \ in a quoted string */
	IMAP_ERR_QUOTED_EOL,	/* CR or LF inside a quoted string */
	IMAP_ERR_LITERAL,	/* malformed {N} */
	IMAP_ERR_LITERAL_TOO_BIG,	/* over max_literal */
	IMAP_ERR_LITERAL_MINUS,	/* non-sync literal over 4096 under LITERAL- */
	IMAP_ERR_LITERAL_NONSYNC,	/* {N+} without LITERAL+ */
	IMAP_ERR_LITERAL_NUL,	/* NUL in a literal (allowed only in ~{N}) */
	IMAP_ERR_TOO_MANY_LITERALS,
	IMAP_ERR_TOO_DEEP,	/* lists nested over max_depth */
	IMAP_ERR_UNBALANCED,	/* ")" without "(", or the line ends inside a list */
	IMAP_ERR_TOO_MANY_ARGS,
	IMAP_ERR_LINE_TOO_LONG,
	IMAP_ERR_TOO_BIG,	/* command over max_command */
	IMAP_ERR_SECTION,	/* bad [...] of a FETCH section */
	IMAP_ERR_COUNT
};

enum imap_arg_type {
	IMAP_ARG_ATOM,
	IMAP_ARG_QUOTED,
	IMAP_ARG_LITERAL,	/* flags tell literal8 and streamed */
	IMAP_ARG_NIL,		/* the atom NIL (any case); text keeps it */
	IMAP_ARG_LIST,
	IMAP_ARG_SECTION,	/* see above */
};

#define IMAP_ARGF_LITERAL8	0x1	/* ~{N} */
#define IMAP_ARGF_STREAMED	0x2	/* data went out as IMAP_EV_LITERAL chunks */

struct imap_arg {
	enum imap_arg_type type;
	unsigned flags;
	const uint8_t *text;	/* NUL-terminated (literal8 may hold NULs: use len);
				 * "" for a LIST and a streamed literal */
	size_t len;		/* of text; a streamed literal's size */
	const uint8_t *text2;	/* SECTION: what follows the list */
	size_t len2;
	struct imap_arg *child;	/* LIST, SECTION: first element */
	struct imap_arg *next;	/* next sibling */
	unsigned count;		/* LIST: elements */
};

struct imap_cmd {
	char tag[IMAP_TAG_MAX + 1];
	char name[IMAP_NAME_MAX + 1];	/* upper-cased; "UID FETCH" for UID commands */
	struct imap_arg *args;		/* first argument or NULL */
	unsigned nargs;			/* top-level arguments */
	unsigned nliterals;
};

enum imap_ev {
	IMAP_EV_NEED_MORE,	/* everything given was taken */
	IMAP_EV_COMMAND,	/* imap_parser_cmd() is complete */
	IMAP_EV_CONTINUE,	/* a {N}: accept (send "+ ") or refuse (send tag NO/BAD) */
	IMAP_EV_LITERAL,	/* a chunk of a streamed literal */
	IMAP_EV_ERROR,		/* send tag BAD (or * BAD without a tag) */
};

struct imap_event {
	enum imap_ev type;
	enum imap_err err;	/* ERROR */
	const char *tag;	/* ERROR, CONTINUE: the tag, NULL if unreadable */
	uint32_t size;		/* CONTINUE, LITERAL: the literal's size */
	const uint8_t *data;	/* LITERAL: chunk, points into the fed buffer */
	size_t len;
	uint32_t left;		/* LITERAL: bytes still to come after this chunk */
};

struct imap_parser;	/* opaque to callers; state and buffers */

/* The defaults above. */
void imap_limits_default(struct imap_limits *lim);

/* A parser with lim (copied) and IMAP_PF_ flags, or NULL (ENOMEM, or a zero
 * limit).  Free with imap_parser_free(). */
struct imap_parser *imap_parser_new(const struct imap_limits *lim, unsigned flags);
void imap_parser_free(struct imap_parser *p);

/* Take bytes from buf[0..len) until one event; *consumed_r says how many
 * (the parser copies what it keeps, except LITERAL chunks, whose data points
 * into buf).  NEED_MORE consumes everything.  After COMMAND or ERROR the
 * next call starts a new command.  After CONTINUE call accept or refuse;
 * feeding more bytes without either accepts.  After an error the parser
 * skips to the line end, and over the data of a literal it had accepted
 * or that the client sends unasked ({N+}). */
enum imap_ev imap_parser_feed(struct imap_parser *p, const uint8_t *buf, size_t len,
    size_t *consumed_r, struct imap_event *ev);

/* After CONTINUE: the caller sends "+ " and the bytes will follow. */
void imap_parser_accept(struct imap_parser *p);
/* After CONTINUE: the caller answers NO/BAD; the client sends neither the
 * literal nor the rest of the command, so the next byte starts a command. */
void imap_parser_refuse(struct imap_parser *p);

/* The command of the last COMMAND event (tag and name also during a
 * command); valid until the next feed. */
const struct imap_cmd *imap_parser_cmd(const struct imap_parser *p);

/* A short text for "tag BAD <text>". */
const char *imap_err_text(enum imap_err e);

#endif
