/* pop3_parse.h - the POP3 command-line parser (pure).
 *
 * pop3_parse() looks at the bytes buffered from the client and returns one
 * complete command line, or says it needs more.  It does no I/O and keeps
 * only the state below.  Lines end in CRLF (a bare LF is accepted).  Lines
 * longer than max_line are refused once and then skipped up to their end;
 * a NUL anywhere refuses the line (never truncated).
 */
#ifndef POSTERN_POP3_PARSE_H
#define POSTERN_POP3_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define POP3_KEYWORD_MAX 16
#define POP3_MAX_ARGS	 2

enum pop3_parse_result {
	POP3_PARSE_NEED_MORE = 0,
	POP3_PARSE_OK = 1,		/* cmd is filled */
	POP3_PARSE_ERR_TOO_LONG = -1,	/* line over max_line: refused */
	POP3_PARSE_ERR_NUL = -2,	/* NUL byte in the line */
	POP3_PARSE_ERR_SYNTAX = -3,	/* empty line, bad keyword, too many args */
};

enum pop3_parse_mode {
	POP3_MODE_COMMAND,	/* keyword [arg [arg]] */
	POP3_MODE_RAW,		/* a SASL response line: whole line in arg[0] */
};

struct pop3_parser {
	size_t max_line;	/* longest accepted line, CRLF included */
	int skipping;		/* discarding the rest of an over-long line */
};

struct pop3_cmd {
	char keyword[POP3_KEYWORD_MAX + 1];	/* upper-cased; "" in raw mode */
	unsigned nargs;
	const uint8_t *arg[POP3_MAX_ARGS];	/* point into the caller's buffer */
	size_t arglen[POP3_MAX_ARGS];
};

void pop3_parser_init(struct pop3_parser *p, size_t max_line);

/* Examine buf[0..len).  Always sets *consumed_r to the bytes the caller must
 * drop from the front of its buffer (also on errors and NEED_MORE while
 * skipping).  On POP3_PARSE_OK, cmd's args point into buf and stay valid
 * until the caller drops the consumed bytes. */
enum pop3_parse_result pop3_parse(struct pop3_parser *p, enum pop3_parse_mode mode,
    const uint8_t *buf, size_t len, struct pop3_cmd *cmd, size_t *consumed_r);

#endif
