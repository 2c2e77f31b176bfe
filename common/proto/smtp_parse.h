/* smtp_parse.h - SMTP/LMTP/submission command lines (pure; RFC 5321, RFC 2033, RFC 6409).
 *
 * smtp_parse() takes one command line without its CRLF and returns the
 * command with its arguments checked and decoded, or the exact reply the
 * worker sends for a bad one.  Line framing (where a line ends, bare LF,
 * over-long lines) is smtp_session.h's business: smtp_line_end() finds the
 * line, smtp_session_input() decides what a bad ending means.
 *
 * Strictness: the grammar of RFC 5321 4.1.2 and 4.1.3 with RFC 6531's UTF-8
 * extensions, and these deviations, each because real clients need it:
 * - "MAIL FROM: <a@b>": spaces after the colon (old Outlook and Exchange
 *   connectors, many scripts);
 * - spaces at the end of a line, and more than one space between ESMTP
 *   parameters (hand-written scripts, some appliances);
 * - in the EHLO/HELO/LHLO argument only: '_' in labels and one final '.'
 *   (Windows machine names such as "EHLO MY_PC", resolvers' FQDNs); the
 *   argument is logged, never trusted (RFC 5321 4.1.4);
 * - source routes "<@a,@b:user@c>" are accepted and dropped (RFC 5321
 *   4.1.1.3 and appendix C);
 * - a mailbox may be up to 64 + 1 + 255 octets, longer than the 256-octet
 *   path of RFC 5321 4.5.3.1.3: the local-part and domain limits are the
 *   ones that matter to delivery (AUTHD_ADDRESS_MAX).
 * Not tolerated: a path without angle brackets, a general address literal
 * ("[tag:...]"), lower-case xtext hex ("+2b"), bytes above 0x7f outside
 * paths, and UTF-8 in a path without SMTPUTF8 on the MAIL command.
 */
#ifndef POSTERN_SMTP_PARSE_H
#define POSTERN_SMTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "smtp_reply.h"

#define SMTP_LOCAL_MAX		64	/* RFC 5321 4.5.3.1.1 */
#define SMTP_DOMAIN_MAX		255	/* RFC 5321 4.5.3.1.2 */
#define SMTP_LABEL_MAX		63	/* RFC 1035 2.3.4 */
#define SMTP_MAILBOX_MAX	(SMTP_LOCAL_MAX + 1 + SMTP_DOMAIN_MAX)	/* = AUTHD_ADDRESS_MAX */
#define SMTP_ENVID_MAX		100	/* RFC 3461 4.4, xtext as sent */
#define SMTP_ORCPT_MAX		500	/* RFC 3461 4.2, xtext as sent */
#define SMTP_ADDRTYPE_MAX	32	/* "rfc822", "utf-8" */
#define SMTP_MECH_MAX		20	/* RFC 4422 3.1 */
#define SMTP_VERB_MAX		16

/* Defaults of struct smtp_limits. */
#define SMTP_DEFAULT_LINE	512	/* RFC 5321 4.5.3.1.4, CRLF included */
#define SMTP_DEFAULT_LINE_EXT	4096	/* MAIL/RCPT with parameters, AUTH with a response */
#define SMTP_DEFAULT_RCPT	100	/* RFC 5321 4.5.3.1.8 */
#define SMTP_DEFAULT_SIZE	(25u * 1024 * 1024)
#define SMTP_DEFAULT_ERRORS	10
#define SMTP_DEFAULT_JUNK	30

struct smtp_limits {
	size_t max_line;	/* command line, CRLF included */
	size_t max_line_ext;	/* MAIL, RCPT and AUTH lines; also what a reader buffers */
	unsigned max_rcpt;	/* accepted recipients per transaction */
	uint64_t max_size;	/* message size (SIZE=, DATA, BDAT total) */
	unsigned max_errors;	/* error replies before the session is closed */
	unsigned max_junk;	/* NOOP/RSET/VRFY/EXPN/HELP/extra EHLO between two messages */
};

/* Fill l with the defaults above. */
void smtp_limits_default(struct smtp_limits *l);

enum smtp_verb {
	SMTP_V_UNKNOWN = 0,
	SMTP_V_EHLO, SMTP_V_HELO, SMTP_V_LHLO,
	SMTP_V_MAIL, SMTP_V_RCPT, SMTP_V_DATA, SMTP_V_BDAT,
	SMTP_V_RSET, SMTP_V_NOOP, SMTP_V_QUIT,
	SMTP_V_VRFY, SMTP_V_EXPN, SMTP_V_HELP,
	SMTP_V_STARTTLS, SMTP_V_AUTH,
	SMTP_V_NOTIMPL,		/* TURN, ETRN, ATRN, SEND, SOML, SAML: 502 5.5.1 */
	SMTP_V_COUNT
};

/* struct smtp_path.flags */
#define SMTP_PATH_NULL		0x01	/* "<>" */
#define SMTP_PATH_POSTMASTER	0x02	/* "<Postmaster>" (RCPT only, no domain) */
#define SMTP_PATH_UTF8		0x04	/* bytes above 0x7f (needs SMTPUTF8) */
#define SMTP_PATH_LITERAL	0x08	/* the domain is an address literal */
#define SMTP_PATH_ROUTE		0x10	/* a source route was dropped */

struct smtp_path {
	unsigned flags;
	char addr[SMTP_MAILBOX_MAX + 1];	/* local@domain as sent, quotes kept; "" for <> */
	size_t local_len;			/* addr[local_len] is the '@' */
};

/* struct smtp_params.seen: which parameters the command carried */
#define SMTP_P_SIZE	0x001
#define SMTP_P_BODY	0x002
#define SMTP_P_SMTPUTF8	0x004
#define SMTP_P_RET	0x008
#define SMTP_P_ENVID	0x010
#define SMTP_P_AUTH	0x020
#define SMTP_P_NOTIFY	0x040
#define SMTP_P_ORCPT	0x080
#define SMTP_P_MAIL	(SMTP_P_SIZE | SMTP_P_BODY | SMTP_P_SMTPUTF8 | SMTP_P_RET | \
			 SMTP_P_ENVID | SMTP_P_AUTH)
#define SMTP_P_RCPT	(SMTP_P_NOTIFY | SMTP_P_ORCPT)

enum smtp_body { SMTP_BODY_7BIT, SMTP_BODY_8BITMIME, SMTP_BODY_BINARYMIME };
enum smtp_ret { SMTP_RET_NONE, SMTP_RET_FULL, SMTP_RET_HDRS };

#define SMTP_NOTIFY_NEVER	0x1
#define SMTP_NOTIFY_SUCCESS	0x2
#define SMTP_NOTIFY_FAILURE	0x4
#define SMTP_NOTIFY_DELAY	0x8

struct smtp_params {
	unsigned seen;			/* SMTP_P_* */
	uint64_t size;			/* SIZE=; UINT64_MAX when the number overflows */
	enum smtp_body body;
	enum smtp_ret ret;
	char envid[SMTP_ENVID_MAX + 1];		/* decoded xtext */
	char auth[SMTP_MAILBOX_MAX + 3];	/* decoded xtext, or "<>" */
	unsigned notify;			/* SMTP_NOTIFY_* */
	char orcpt_type[SMTP_ADDRTYPE_MAX + 1];	/* "rfc822", as sent */
	char orcpt[SMTP_ORCPT_MAX + 1];		/* decoded xtext */
};

struct smtp_cmd {
	enum smtp_verb verb;
	char name[SMTP_VERB_MAX + 1];		/* the verb upper-cased, for logs */
	char domain[SMTP_DOMAIN_MAX + 1];	/* EHLO/HELO/LHLO: domain or "[literal]" */
	struct smtp_path path;			/* MAIL, RCPT */
	struct smtp_params params;		/* MAIL, RCPT */
	uint64_t bdat_size;
	int bdat_last;
	char mech[SMTP_MECH_MAX + 1];		/* AUTH, upper-cased */
	const uint8_t *ir;			/* AUTH initial response (in the line) or NULL */
	size_t irlen;
	const uint8_t *arg;			/* VRFY/EXPN/HELP/NOOP argument (in the line) */
	size_t arglen;
};

/* smtp_parse() flags */
#define SMTP_PARSE_UTF8	0x1	/* the transaction's MAIL carried SMTPUTF8 (for RCPT) */

/* Parse line[0..len) (no CRLF).  Returns 0 with cmd filled (ir and arg
 * point into line), or -1 with the reply to send in *err_r: 500 5.5.1
 * unknown verb, 500 5.5.2 line too long, 501 5.5.2 syntax, 501 5.5.4 bad or
 * duplicate parameter, 555 5.5.4 unknown parameter, 553 5.1.7 bad sender,
 * 501 5.1.3 bad recipient, 553 5.6.7 UTF-8 without SMTPUTF8.  cmd->verb is
 * set even on errors when the verb was recognised (the session needs it
 * for BDAT).  Nothing is allocated. */
int smtp_parse(const uint8_t *line, size_t len, const struct smtp_limits *lim, unsigned flags,
    struct smtp_cmd *cmd, struct smtp_reply *err_r);

/* Is the verb one that ends a PIPELINING group, so that replies must be
 * flushed after it (RFC 2920 3.1; also the ones that wait for the client:
 * STARTTLS, AUTH)? */
int smtp_verb_ends_group(enum smtp_verb v);

/* Is s[0..len) valid UTF-8 (no overlong forms, surrogates or values above
 * U+10FFFF)? */
int smtp_utf8_valid(const uint8_t *s, size_t len);

#endif
