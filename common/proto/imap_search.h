/* imap_search.h - SEARCH criteria into a tree (RFC 3501 section 6.4.4,
 * RFC 9051 section 6.4.4, RFC 4731 ESEARCH RETURN, RFC 5182 "$",
 * RFC 7162 MODSEQ).  Pure: it reads the argument tree of imap_parse and
 * builds nodes in its own pools; no recursion (an explicit stack bounded
 * by max_depth), no evaluation (that belongs with the index).
 *
 * The tree: the root is an AND of the top-level keys.  AND (a parenthesized
 * group, or the root) has its keys as children, OR two, NOT one; every
 * other key is a leaf.  Walk it with child/next.  Strings point into the
 * argument tree: valid while the command is.
 */
#ifndef POSTERN_IMAP_SEARCH_H
#define POSTERN_IMAP_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "imap_fmt.h"
#include "imap_parse.h"
#include "imap_seqset.h"

#define IMAP_SEARCH_DEFAULT_MAX_KEYS	4096	/* nodes of one search */
#define IMAP_SEARCH_DEFAULT_MAX_DEPTH	32	/* open groups, NOTs and ORs */
#define IMAP_SEARCH_DEFAULT_MAX_RANGES	16384	/* ranges of all its sets */

struct imap_search_limits {
	unsigned max_keys, max_depth, max_ranges;
};

enum imap_search_op {
	IMAP_SK_AND, IMAP_SK_OR, IMAP_SK_NOT,
	/* no argument */
	IMAP_SK_ALL, IMAP_SK_ANSWERED, IMAP_SK_DELETED, IMAP_SK_DRAFT, IMAP_SK_FLAGGED,
	IMAP_SK_NEW, IMAP_SK_OLD, IMAP_SK_RECENT, IMAP_SK_SEEN, IMAP_SK_UNANSWERED,
	IMAP_SK_UNDELETED, IMAP_SK_UNDRAFT, IMAP_SK_UNFLAGGED, IMAP_SK_UNSEEN,
	/* str */
	IMAP_SK_BCC, IMAP_SK_BODY, IMAP_SK_CC, IMAP_SK_FROM, IMAP_SK_SUBJECT, IMAP_SK_TEXT,
	IMAP_SK_TO,
	IMAP_SK_HEADER,		/* str: field name, str2: value */
	IMAP_SK_KEYWORD, IMAP_SK_UNKEYWORD,	/* str: the keyword */
	/* date */
	IMAP_SK_BEFORE, IMAP_SK_ON, IMAP_SK_SINCE,
	IMAP_SK_SENTBEFORE, IMAP_SK_SENTON, IMAP_SK_SENTSINCE,
	/* num */
	IMAP_SK_LARGER, IMAP_SK_SMALLER,
	IMAP_SK_MODSEQ,		/* num; str: entry name or NULL, entry */
	/* set (set.searchres for "$") */
	IMAP_SK_SEQSET, IMAP_SK_UID,
};

enum imap_search_entry { IMAP_SE_NONE, IMAP_SE_PRIV, IMAP_SE_SHARED, IMAP_SE_ALL };

struct imap_search_key {
	enum imap_search_op op;
	struct imap_search_key *child, *next;
	const uint8_t *str, *str2;	/* NUL-terminated */
	size_t len, len2;
	uint64_t num;
	struct imap_date date;
	enum imap_search_entry entry;
	struct imap_seqset set;		/* unresolved: "*" kept */
};

#define IMAP_SEARCH_RET_MIN	0x01
#define IMAP_SEARCH_RET_MAX	0x02
#define IMAP_SEARCH_RET_ALL	0x04
#define IMAP_SEARCH_RET_COUNT	0x08
#define IMAP_SEARCH_RET_SAVE	0x10

enum imap_search_err {
	IMAP_SEARCH_OK = 0,
	IMAP_SEARCH_ERR_EMPTY,		/* no search key */
	IMAP_SEARCH_ERR_UNKNOWN,	/* not a search key */
	IMAP_SEARCH_ERR_MISSING,	/* a key without its argument(s) */
	IMAP_SEARCH_ERR_ARG,		/* wrong kind of argument (list, streamed literal) */
	IMAP_SEARCH_ERR_DATE,
	IMAP_SEARCH_ERR_NUMBER,
	IMAP_SEARCH_ERR_SEQSET,
	IMAP_SEARCH_ERR_KEYWORD,
	IMAP_SEARCH_ERR_MODSEQ,		/* bad entry name or type */
	IMAP_SEARCH_ERR_RETURN,		/* bad RETURN (...) */
	IMAP_SEARCH_ERR_EMPTY_GROUP,	/* "()" */
	IMAP_SEARCH_ERR_TOO_MANY,	/* over max_keys */
	IMAP_SEARCH_ERR_TOO_DEEP,	/* over max_depth */
	IMAP_SEARCH_ERR_RANGES,		/* sets over max_ranges */
	IMAP_SEARCH_ERR_COUNT
};

struct imap_search {
	struct imap_search_key *root;	/* AND of the top-level keys */
	int esearch;			/* RETURN given (answer with ESEARCH) */
	unsigned ret;			/* IMAP_SEARCH_RET_ bits; RETURN () is ALL */
	const uint8_t *charset;		/* NULL without CHARSET */
	size_t charset_len;
	unsigned nkeys;
	struct imap_search_priv *priv;	/* pools and stack */
};

void imap_search_limits_default(struct imap_search_limits *lim);

/* Allocate the pools for lim; 0, or -1 (ENOMEM, zero limits).  Free with
 * imap_search_free(). */
int imap_search_init(struct imap_search *s, const struct imap_search_limits *lim);
void imap_search_free(struct imap_search *s);

/* Parse the arguments of SEARCH / UID SEARCH (args: the first one, as in
 * struct imap_cmd): [RETURN (...)] [CHARSET astring] search-key... .
 * Replaces what a previous call built.  IMAP_SEARCH_OK or an error. */
enum imap_search_err imap_search_parse(struct imap_search *s, const struct imap_arg *args);

/* A short text for "tag BAD <text>". */
const char *imap_search_err_text(enum imap_search_err e);

#endif
