/* smtp_reply.h - SMTP/LMTP replies as values: build, format, parse (pure).
 *
 * A reply is a code, an enhanced status code (RFC 3463, RFC 2034) and one
 * or more lines of text.  The server side builds them (smtp_session.h) and
 * formats them for the wire; the client side (proxy, outbound delivery)
 * parses what a remote server sends, one line at a time, with the code
 * checked to be the same on every line of a multi-line reply (RFC 5321
 * 4.2.1).
 */
#ifndef POSTERN_SMTP_REPLY_H
#define POSTERN_SMTP_REPLY_H

#include <stddef.h>
#include <stdint.h>

#define SMTP_REPLY_LINE_MAX	512	/* a reply line, CRLF included (RFC 5321 4.5.3.1.5) */
#define SMTP_REPLY_TEXT_MAX	2048	/* all lines of one reply together */
#define SMTP_REPLY_LINES_MAX	64	/* lines of one remote reply */
#define SMTP_ESC_MAX		11	/* "5.123.123" plus room */

struct smtp_reply {
	unsigned code;			/* 200..599; 0: no reply */
	char esc[SMTP_ESC_MAX + 1];	/* "5.5.2", or "" (greeting, EHLO, 354) */
	char text[SMTP_REPLY_TEXT_MAX];	/* lines joined by '\n'; no CR, no final '\n' */
};

/* Set r to one line.  esc may be NULL or "" for none.  Text that does not
 * fit is cut (it is ours, never the client's). */
void smtp_reply_set(struct smtp_reply *r, unsigned code, const char *esc, const char *text);

/* Append a line to r.  Returns 0, or -1 (r unchanged) when it does not fit
 * or the line holds a CR or LF. */
int smtp_reply_add_line(struct smtp_reply *r, const char *line);

/* Write r as it goes on the wire: "250-2.0.0 line\r\n" ... "250 2.0.0 last\r\n"
 * (the enhanced code on every line, RFC 2034 section 4).  Returns the bytes
 * written, or -1 when out (cap bytes) is too small, a line is over
 * SMTP_REPLY_LINE_MAX or the code is outside 200..599. */
long smtp_reply_format(const struct smtp_reply *r, char *out, size_t cap);

/* Parsing a remote server's reply, one line (CRLF removed) per call. */
struct smtp_reply_parser {
	unsigned code;		/* of the reply in progress; 0 before its first line */
	unsigned nlines;
	int esc_ok;		/* every line so far carried the same enhanced code */
};

enum smtp_reply_result {
	SMTP_REPLY_MORE = 0,	/* a "NNN-" line: the reply goes on */
	SMTP_REPLY_DONE = 1,	/* the "NNN " (or bare "NNN") last line: r is complete */
	SMTP_REPLY_ERR = -1,	/* malformed or inconsistent: drop the connection */
};

void smtp_reply_parser_init(struct smtp_reply_parser *p);

/* Feed one line.  r collects the reply: its code, its enhanced code when
 * every line starts with the same one whose class matches the code (else
 * ""), and the text of the lines (the enhanced code removed) as far as it
 * fits.  After DONE or ERR the parser is ready for the next reply. */
enum smtp_reply_result smtp_reply_parse(struct smtp_reply_parser *p, const uint8_t *line,
    size_t len, struct smtp_reply *r);

/* Is esc[0..len) an enhanced status code "c.s.d" of class cls ('2', '4', '5')
 * (RFC 3463 section 2: class, subject 1-3 digits, detail 1-3 digits)? */
int smtp_esc_valid(const char *esc, size_t len, char cls);

#endif
