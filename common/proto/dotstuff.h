/* dotstuff.h - the SMTP/LMTP DATA transparency codec (pure; RFC 5321 4.5.2).
 *
 * The decoder turns the bytes a client sends after DATA into the message as
 * Maildir stores it (LF line ends, dot-stuffing removed) and finds the end
 * of the data.  Only CRLF "." CRLF ends it: a bare LF or a bare CR is never
 * a line end for that purpose, so "\n.\n" or "\r.\r" can never end one
 * message early and start another (SMTP smuggling, CVE-2023-51764).  What
 * happens to bare line ends is the caller's policy: refused (the data is
 * read to its real end, then the caller answers 5xx) or normalised to LF.
 * Over-long lines and over-size messages are flagged, never buffered: the
 * decoder keeps a few bytes of state and, over a whole message, writes at
 * most as many bytes as it reads.
 *
 * The encoder does the reverse for a message being sent (POP3 RETR, SMTP
 * client): LF or CRLF line ends in, CRLF out, a "." doubled at the start of
 * a line, and the terminating ".\r\n" on request.  It sends strict SMTP
 * text (a bare CR becomes a line end too); POP3's RETR/TOP use
 * pop3_encode.h instead, which keeps bare CRs so that the bytes sent are
 * exactly the size maildir_crlf_size() announced.
 */
#ifndef POSTERN_DOTSTUFF_H
#define POSTERN_DOTSTUFF_H

#include <stddef.h>
#include <stdint.h>

enum dotstuff_bare {
	DOTSTUFF_BARE_REFUSE,		/* flag DOTSTUFF_F_BARE_EOL; data goes on to its end */
	DOTSTUFF_BARE_NORMALIZE,	/* a bare CR or LF ends the line (as LF) */
};

/* Flags in dotstuff_dec.flags: why the message must be refused. */
#define DOTSTUFF_F_BARE_EOL	0x01	/* a bare CR or LF, with DOTSTUFF_BARE_REFUSE */
#define DOTSTUFF_F_LINE_LONG	0x02	/* a line over max_line bytes (CRLF included) */
#define DOTSTUFF_F_TOO_BIG	0x04	/* the message is over max_size; output stopped */
#define DOTSTUFF_F_NUL		0x08	/* a NUL byte (not allowed in SMTP text, RFC 5321 2.3.8) */

struct dotstuff_dec {
	/* limits and policy, set by dotstuff_dec_init() */
	size_t max_line;
	uint64_t max_size;
	enum dotstuff_bare bare;
	/* state */
	int state;
	size_t line_len;	/* bytes of the current line, CRLF not counted */
	uint64_t size;		/* bytes written so far */
	unsigned flags;
};

enum dotstuff_result {
	DOTSTUFF_MORE = 0,	/* all input consumed, the data goes on */
	DOTSTUFF_DONE = 1,	/* the end marker was consumed; bytes after it are not ours */
};

void dotstuff_dec_init(struct dotstuff_dec *d, size_t max_line, uint64_t max_size,
    enum dotstuff_bare bare);

/* Decode in[0..len) into out (room for len + 2 bytes: a "." and a CR held
 * back from the previous call may come out now; out must not overlap in).  Sets
 * *consumed_r (all of len unless DONE) and *produced_r.  Check d->flags
 * after DONE: non-zero means refuse the message.  After DONE the decoder
 * must be initialised again. */
enum dotstuff_result dotstuff_decode(struct dotstuff_dec *d, const uint8_t *in, size_t len,
    uint8_t *out, size_t *consumed_r, size_t *produced_r);

/* BDAT chunks (RFC 3030) carry the message without dot-stuffing or an end
 * marker; stored keeps LF line ends, so CRLF becomes LF and any other CR
 * stays.  *cr_held carries a CR that ended one chunk into the next (start
 * at 0).  Returns the bytes written to out (room for len + 1). */
size_t dotstuff_crlf_to_lf(int *cr_held, const uint8_t *in, size_t len, uint8_t *out);

/* After the last chunk: the held CR, if any (out: room for 1). */
size_t dotstuff_crlf_end(int *cr_held, uint8_t *out);

struct dotstuff_enc {
	int line_start;		/* the next byte begins a line */
	int after_cr;		/* the last byte read was a CR (its LF may follow) */
};

void dotstuff_enc_init(struct dotstuff_enc *e);

/* Encode in[0..len) into out, which needs room for dotstuff_enc_bound(len)
 * bytes.  Returns the bytes written. */
size_t dotstuff_encode(struct dotstuff_enc *e, const uint8_t *in, size_t len, uint8_t *out);

/* Close the message: a CRLF if the last line lacked one, then ".\r\n".
 * out needs room for 5 bytes.  Returns the bytes written. */
size_t dotstuff_encode_end(struct dotstuff_enc *e, uint8_t *out);

/* Worst case output of dotstuff_encode() for len input bytes. */
#define dotstuff_enc_bound(len) (2 * (len) + 1)

#endif
