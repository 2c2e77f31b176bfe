/* imap_eval.h - a parsed SEARCH (imap_search.h) against one message
 * (RFC 3501 6.4.4, RFC 9051 6.4.4, RFC 5182 "$", RFC 7162 MODSEQ).
 * Pure: no I/O, no globals, no recursion (an explicit stack bounded by
 * IMAP_EVAL_MAX_DEPTH).
 *
 * The search tree is not changed: sequence sets keep their "*", which is
 * read as ctx->max_seq / ctx->max_uid while testing (a binary search over
 * the set's ranges, no copy), so one tree serves every message.  A key that
 * needs only flags, numbers or sets costs a few comparisons per message
 * and allocates nothing.
 *
 * Content keys (FROM ... TEXT, SENT*) use a per-message cache in a scratch
 * the caller keeps for the command (imap_eval_scratch_new()): the header
 * fields unfolded, RFC 2047-decoded and folded once; the MIME structure
 * parsed and the text decoded once; the Date: parsed once.  The cache is
 * reset by every imap_eval_match(); its buffers keep their storage.
 *
 * String matching (RFC 9051 6.4.4): a substring test on the case folds of
 * both sides (decode_fold(): ASCII, Latin-1 Supplement U+00C0-U+00DE,
 * Latin Extended-A U+0100-U+017F, Greek U+0386-U+03AB, Cyrillic
 * U+0400-U+042F; final sigma as sigma).  Search strings are in ctx->charset
 * and are converted to UTF-8 first.
 * - FROM, TO, CC, BCC, SUBJECT, HEADER: any field of that name whose value,
 *   unfolded and RFC 2047-decoded (8-bit text taken as UTF-8), holds the
 *   string; HEADER name "" matches every message that has the field.
 * - BODY: the text parts (text/ *, and a body without Content-Type) with
 *   their transfer encoding undone (base64, quoted-printable; an unknown
 *   one is searched as it stands) and their charset converted when
 *   decode.h knows it (else taken as UTF-8), plus the headers of
 *   encapsulated messages (message/rfc822) decoded; other parts
 *   (attachments) are not searched.  TEXT: the header fields or BODY.
 * - SENTBEFORE/SENTON/SENTSINCE: the day of the first Date: field in its
 *   own zone; a message without a valid Date: matches none of them.
 *   BEFORE/ON/SINCE: the day of the internal date in UTC.
 * - MODSEQ n: the message's modseq >= n; an entry name and type are
 *   ignored (the index keeps one modseq per message, RFC 7162 3.1.5).
 * - NEW and RECENT match nothing, OLD everything: the index keeps no
 *   \Recent (IMAP4rev2).
 * - KEYWORD of a name the folder does not have matches nothing, UNKEYWORD
 *   of it everything.
 */
#ifndef POSTERN_IMAP_EVAL_H
#define POSTERN_IMAP_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "../proto/imap_search.h"
#include "decode.h"
#include "imap_fetch.h"

#define IMAP_EVAL_MAX_DEPTH	256	/* nested AND/OR/NOT of a tree evaluated */
#define IMAP_EVAL_UNKNOWN	2	/* imap_eval_match(): the content is needed */

struct imap_eval_scratch;	/* opaque: the per-message cache */

/* A scratch whose decoded texts may grow to max_text bytes each (header
 * fields, body text; a message whose text is larger makes the match fail
 * with -1, errno ENOBUFS, rather than be searched in part).  NULL on ENOMEM.
 * No allocation until a content key needs it. */
struct imap_eval_scratch *imap_eval_scratch_new(size_t max_text);
void imap_eval_scratch_free(struct imap_eval_scratch *sc);

struct imap_eval_ctx {
	uint32_t max_seq;	/* messages in the folder: "*" of sequence sets */
	uint32_t max_uid;	/* the largest UID in the folder: "*" of UID sets */
	/* KEYWORD / UNKEYWORD: 1 and *bit_r (MINDEX_KEYWORD0 << slot), or 0
	 * when the folder has no such keyword.  NULL: no keywords at all.
	 * Called for each message a KEYWORD key is tested on: keep it cheap. */
	int (*keyword)(void *arg, const uint8_t *name, size_t len, uint32_t *bit_r);
	void *keyword_arg;
	const uint32_t *saved;	/* "$" (RFC 5182): the saved UIDs, ascending */
	size_t nsaved;
	enum decode_charset charset;	/* of the search strings; UNKNOWN = UTF-8 */
	struct imap_eval_scratch *scratch;	/* needed for content keys */
};

struct imap_eval_msg {
	uint32_t seq, uid;
	uint32_t flags;		/* MINDEX_SEEN ... and MINDEX_KEYWORD0 << i */
	uint64_t modseq;
	uint64_t size;		/* RFC822.SIZE */
	int64_t date;		/* internal date, seconds since 1970 UTC */
	const uint8_t *msg;	/* as imap_eval_needs() asks (the header, or the */
	size_t len;		/* whole message), or NULL: see imap_eval_match() */
};

/* What evaluating s needs of each message: 0 (flags, UIDs, sequence
 * numbers, modseq only) or IMAP_FETCH_NEED_META / _HEADER / _BODY bits. */
unsigned imap_eval_needs(const struct imap_search *s);

/* Does m match s?  1 yes, 0 no, -1 error (ENOMEM, ENOBUFS: the scratch's
 * max_text; EINVAL: a content key without a scratch, a tree deeper than
 * IMAP_EVAL_MAX_DEPTH).  With m->msg NULL, content keys are unknown and
 * the answer is IMAP_EVAL_UNKNOWN when it depends on them: a worker can
 * test every message without its file first and fetch the file only for
 * those (UNSEEN BODY x reads only unseen messages). */
int imap_eval_match(const struct imap_search *s, const struct imap_eval_ctx *c,
    const struct imap_eval_msg *m);

/* 0 if SEARCH CHARSET name[0..len) is supported (UTF-8, US-ASCII and what
 * decode.h converts), -1 if not: answer NO [BADCHARSET (imap_eval_charsets())]. */
int imap_eval_charset(const uint8_t *name, size_t len);

/* The supported charsets as the BADCHARSET list wants them, space-separated. */
const char *imap_eval_charsets(void);

#endif
