/* storeimap.h - the IMAP view of the worker <-> stored channel, as data.
 *
 * imapd holds the session's view of the selected folder (the UID, flags
 * and MODSEQ of each message, in sequence order) and does all of IMAP's
 * parsing and formatting, message bodies included (they come as read-only
 * fds, MSG_STORE_MSGFD).  stored holds the Maildir, the index (mindex.h)
 * and its own copy of the view's UIDs, so that it can tell the worker what
 * changed since it last looked.  Every request names messages by UID, as
 * a set of ranges; stored intersects it with what exists.
 *
 * A reply is zero or more data messages then exactly one final message:
 *
 *   data   MSG_STORE_FOLDERS    a page of folders (LIST)
 *          MSG_STORE_KEYWORDS   the selected folder's keyword table, sent
 *                               at SELECT and whenever it grew since the
 *                               worker was last told
 *          MSG_STORE_RECORDS    a page of (UID, flags, MODSEQ): the
 *                               view's messages at FLAGS; new or changed
 *                               ones at SYNC; the changed ones after STORE
 *          MSG_STORE_META       a page of records with size and date
 *          MSG_STORE_UIDSET     a page of UID ranges of one kind: the view
 *                               (SELECT), expunged, not stored
 *                               (UNCHANGEDSINCE), copied from, to
 *   final  MSG_STORE_OK, MSG_STORE_ERR, MSG_STORE_MSGFD, and the ones below
 *
 * MSG_STORE_CHANGED (storeproto.h) may arrive between replies, unasked.
 *
 * What stored sends for each request (data in this order, then the final):
 *   LIST      FOLDERS pages; OK(count)
 *   SELECT    KEYWORDS (always), UIDSET(VIEW) pages: the UIDs of every
 *             message as ranges (100,000 consecutive UIDs are one range);
 *             SELECTED.  Flags and MODSEQs are not sent: the worker asks
 *             for them (FLAGS) when a command needs them
 *   FLAGS     RECORDS pages of the view's messages still there; OK(count)
 *   UNSELECT  OK(messages expunged: CLOSE)
 *   SYNC      nothing when HIGHESTMODSEQ and UIDNEXT are as last told; else
 *             UIDSET(EXPUNGED) pages, RECORDS pages (new messages and those
 *             with MODSEQ above the last told), KEYWORDS if the table grew;
 *             SYNCED
 *   META      META pages (of the set's UIDs that still exist); OK(count)
 *   MSGFD     MSGFD, or ERR NOMSG / GONE
 *   STORE     RECORDS of the messages it changed, UIDSET(MODIFIED) pages,
 *             KEYWORDS if the table grew; STORED
 *   EXPUNGE   UIDSET(EXPUNGED) pages; OK(count)
 *   COPY      for a MOVE first UIDSET(EXPUNGED) pages of the sources; then
 *             UIDSET(COPY_SRC) and UIDSET(COPY_DST) pages in turns, each pair
 *             covering the same messages in the same order; COPIED
 *   APPEND    APPENDED; STATUS STATUS; QUOTA QUOTA; CREATE, DELETE, RENAME,
 *             SUBSCRIBE OK(0)
 *   LOGOUT    OK(0), sent after the mailbox lock is released, so that a
 *             client that has read LOGOUT's tagged OK can log in over POP3
 *             at once; nothing may follow it on the channel
 * stored intersects every UID set with its copy of the worker's view, so
 * UIDs the worker was not told of yet (a SYNC will) are left out.
 *
 * Folder names are UTF-8 with the configured hierarchy separator
 * (imap_separator), namespace prefix already removed, "INBOX" for the
 * INBOX: folders.h's names; stored checks them (folders_to_dir).  Flags
 * are mindex.h's bits: the five system flags, keywords as slots of the
 * folder's table; requests name keywords as text and stored maps them.
 */
#ifndef POSTERN_STOREIMAP_H
#define POSTERN_STOREIMAP_H

#include <stddef.h>
#include <stdint.h>

#include "ipc.h"

enum storeimap_msg {
	/* worker -> stored (the view's phase: OPEN; SELECTED for those marked S) */
	MSG_STORE_IMAP_LIST = 0x0630,		/* subscribed u8 (1: LSUB / SUBSCRIBED) */
	MSG_STORE_IMAP_SELECT = 0x0631,		/* rw u8, name */
	MSG_STORE_IMAP_UNSELECT = 0x0632,	/* S: expunge u8 (CLOSE: 1, UNSELECT: 0) */
	MSG_STORE_IMAP_SYNC = 0x0633,		/* S: (empty) what changed since the last look */
	MSG_STORE_IMAP_META = 0x0634,		/* S: uidset */
	MSG_STORE_IMAP_MSGFD = 0x0635,		/* S: uid u32 */
	MSG_STORE_IMAP_STORE = 0x0636,		/* S: mode u8, flags u32, keywords,
						   unchangedsince u64, uidset */
	MSG_STORE_IMAP_EXPUNGE = 0x0637,	/* S: all u8 (1: every \Deleted), uidset */
	MSG_STORE_IMAP_COPY = 0x0638,		/* S: move u8, name, uidset */
	MSG_STORE_IMAP_APPEND = 0x0639,		/* name, flags u32, keywords, date i64,
						   length u64 + fd */
	MSG_STORE_IMAP_STATUS = 0x063a,		/* name */
	MSG_STORE_IMAP_CREATE = 0x063b,		/* name, special-use attr u32 */
	MSG_STORE_IMAP_DELETE = 0x063c,		/* name */
	MSG_STORE_IMAP_RENAME = 0x063d,		/* name, name */
	MSG_STORE_IMAP_SUBSCRIBE = 0x063e,	/* on u8, name */
	MSG_STORE_IMAP_QUOTA = 0x063f,		/* (empty) */
	MSG_STORE_IMAP_APPEND_PART = 0x0640,	/* as APPEND, then part u32, parts u32:
						   one message of a MULTIAPPEND */
	MSG_STORE_IMAP_STRUCTS = 0x0641,	/* S: uidset (as META): ENVELOPE and
						   BODY(STRUCTURE) from stored's cache */
	MSG_STORE_IMAP_LOGOUT = 0x0642,		/* (empty) the session ends: stored
						   drops the selection and the lock */
	MSG_STORE_IMAP_FLAGS = 0x0643,		/* S: (empty) the flags and MODSEQs of
						   the view (not sent at SELECT) */
	/* stored -> worker: data */
	MSG_STORE_FOLDERS = 0x0710,		/* count u32, count x (attr u32, name) */
	MSG_STORE_KEYWORDS = 0x0711,		/* count u8, count x (slot u8, name) */
	MSG_STORE_RECORDS = 0x0712,		/* count u32, count x (uid, flags u32, modseq u64) */
	MSG_STORE_META = 0x0713,		/* count u32, count x (uid, flags u32, modseq,
						   size u64, date i64) */
	MSG_STORE_UIDSET = 0x0714,		/* kind u8, uidset */
	MSG_STORE_STRUCTS = 0x0715,		/* count u32, count x (uid u32, envelope,
						   body, bodystructure) */
	/* stored -> worker: final */
	MSG_STORE_SELECTED = 0x0720,		/* struct store_selected */
	MSG_STORE_SYNCED = 0x0721,		/* uidnext u32, messages u32, highestmodseq u64 */
	MSG_STORE_STORED = 0x0722,		/* changed u32, highestmodseq u64 */
	MSG_STORE_COPIED = 0x0723,		/* uidvalidity u32, count u32 */
	MSG_STORE_APPENDED = 0x0724,		/* uidvalidity u32, uid u32 */
	MSG_STORE_STATUS = 0x0725,		/* struct store_status */
	MSG_STORE_QUOTA = 0x0726,		/* struct store_quota */
};

/* More error codes of MSG_STORE_ERR for the IMAP view (the first six are
 * in storeproto.h). */
enum store_imap_err {
	STORE_ERR_NOBOX = 7,	/* no such folder ([TRYCREATE] for COPY / APPEND) */
	STORE_ERR_EXISTS = 8,	/* the folder exists ([ALREADYEXISTS]) */
	STORE_ERR_NAME = 9,	/* not a valid folder name */
	STORE_ERR_DENIED = 10,	/* not allowed (DELETE INBOX, a \Noselect parent) */
	STORE_ERR_QUOTA = 11,	/* over quota ([OVERQUOTA]) */
	STORE_ERR_LIMIT = 12,	/* a server limit: too many folders, messages, keywords */
	STORE_ERR_LOOP = 13,	/* deliver view: the message has this recipient's
				 * Delivered-To already (a mail loop) */
	STORE_ERR_MAX = 13
};

#define STORE_NAME_MAX		255	/* a folder name on the wire, bytes */
#define STORE_UIDSET_MAX	4096	/* ranges in one set (one request, one page) */
#define STORE_FOLDERS_PAGE	200
#define STORE_RECORDS_PAGE	4000
#define STORE_META_PAGE		2000
#define STORE_KEYWORDS_MAX	26	/* = MINDEX_KEYWORDS */
#define STORE_KEYWORD_MAX	64	/* = MINDEX_KEYWORD_MAX */
#define STORE_STORE_KEYWORDS	26	/* keywords named in one STORE or APPEND */
#define STORE_APPEND_MAX	(256ULL << 20)

enum store_uidset_kind {
	STORE_SET_EXPUNGED = 1,		/* these UIDs are gone */
	STORE_SET_MODIFIED = 2,		/* STORE left these alone (UNCHANGEDSINCE) */
	STORE_SET_COPY_SRC = 3,		/* COPYUID: sources, ascending ... */
	STORE_SET_COPY_DST = 4,		/* ... and their new UIDs, in the same order */
	STORE_SET_VIEW = 5,		/* SELECT: the folder's messages */
};

enum store_store_mode {
	STORE_MODE_SET = 0,		/* FLAGS */
	STORE_MODE_ADD = 1,		/* +FLAGS */
	STORE_MODE_REMOVE = 2,		/* -FLAGS */
};

/* A UID set on the wire: sorted, disjoint ranges, 1 <= lo <= hi. */
struct store_range {
	uint32_t lo, hi;
};
struct store_uidset {
	uint32_t n;
	struct store_range r[STORE_UIDSET_MAX];
};

struct store_folder {
	uint32_t attr;			/* enum folders_attr bits */
	char name[STORE_NAME_MAX + 1];
};
struct store_folders {
	uint32_t count;
	struct store_folder f[STORE_FOLDERS_PAGE];
};

struct store_keywords {
	uint8_t count;
	uint8_t slot[STORE_KEYWORDS_MAX];
	char name[STORE_KEYWORDS_MAX][STORE_KEYWORD_MAX + 1];
};

struct store_record {
	uint32_t uid, flags;
	uint64_t modseq;
};
struct store_records {
	uint32_t count;
	struct store_record r[STORE_RECORDS_PAGE];
};

struct store_meta_rec {
	uint32_t uid, flags;
	uint64_t modseq, size;
	int64_t date;
};
struct store_meta {
	uint32_t count;
	struct store_meta_rec m[STORE_META_PAGE];
};

/* Keywords named in a STORE or an APPEND. */
struct store_kwlist {
	uint8_t count;
	char name[STORE_STORE_KEYWORDS][STORE_KEYWORD_MAX + 1];
};

struct store_selected {
	uint32_t uidvalidity, uidnext, messages, unseen;
	uint32_t first_unseen;		/* UID of the first message without \Seen, 0: none */
	uint64_t highestmodseq;
	uint8_t read_only;		/* EXAMINE, or a folder stored cannot write */
};

struct store_status {
	uint32_t messages, uidnext, uidvalidity, unseen, deleted, recent;
	uint64_t size, highestmodseq;
};

struct store_quota {
	uint64_t storage_used, storage_limit;	/* bytes; limit 0: none */
	uint64_t messages_used, messages_limit;	/* limit 0: none */
};

/* Request decoders fill these. */
struct store_req_name {
	uint8_t u8;			/* rw, subscribed, on, move: the request's flag */
	uint32_t attr;			/* CREATE */
	char name[STORE_NAME_MAX + 1];
	char name2[STORE_NAME_MAX + 1];	/* RENAME's new name */
};

struct store_req_store {
	uint8_t mode;			/* enum store_store_mode */
	uint32_t flags;			/* system flag bits (mindex.h) */
	struct store_kwlist kw;
	uint64_t unchangedsince;	/* UINT64_MAX: none */
	struct store_uidset set;
};

struct store_req_append {
	uint32_t flags;
	struct store_kwlist kw;
	int64_t date;			/* 0: now */
	uint64_t len;
	char name[STORE_NAME_MAX + 1];
	/* MULTIAPPEND (RFC 3502, all or none): message part of parts, each
	 * an APPEND_PART (2 <= parts <= STORE_APPEND_PARTS_MAX); stored keeps
	 * them and appends all in one transaction at the last, answering it
	 * APPENDED with the last of their consecutive UIDs (the others OK).
	 * A part out of order, or a plain APPEND, drops the kept ones.
	 * parts 0: a plain APPEND. */
	uint32_t part, parts;
};
#define STORE_APPEND_PARTS_MAX	64

/* STRUCTS: what FETCH ENVELOPE, BODY and BODYSTRUCTURE answer for a
 * message, as IMAP text, made by stored from the message file (in its own
 * jail) the first time and kept in its index: a worker never writes what
 * other sessions read.  An entry with all three empty means "not kept"
 * (a structure too big for a page): the worker reads that message itself.
 * A page holds as many entries as fit in one message. */
#define STORE_STRUCT_TEXT_MAX	(60u * 1024)	/* the three texts of one entry */
#define STORE_STRUCTS_PAGE	512
struct store_struct {
	uint32_t uid;
	const uint8_t *env, *body, *bs;	/* into the received message */
	uint32_t env_len, body_len, bs_len;
};
struct store_structs {
	uint32_t count;
	struct store_struct s[STORE_STRUCTS_PAGE];
};
/* Start a page; add entries while storeimap_structs_add() returns 0 (-1:
 * the page is full: send it and start another; the count in the page is
 * kept as entries are added). */
void storeimap_structs_start(struct ipc_out *o);
int storeimap_structs_add(struct ipc_out *o, const struct store_struct *e);
/* The texts are as stored wrote them (IMAP syntax, literals included): the
 * worker sends them on unchanged, as it would its own rendering. */
int storeimap_structs_get(struct ipc_in *in, struct store_structs *r);

/* The uidset helpers.  valid: sorted, disjoint, lo <= hi, lo >= 1. */
int storeimap_uidset_valid(const struct store_range *r, uint32_t n);
uint64_t storeimap_uidset_count(const struct store_range *r, uint32_t n);

/* Each _put starts o as its message (o->err set when an argument is over
 * a limit, so ipc_send fails); each _get returns 0 or -1 for a malformed
 * message (short, trailing bytes, an fd where none belongs, a limit). */

/* LIST (subscribed), UNSELECT (expunge), SELECT (rw), STATUS, DELETE,
 * SUBSCRIBE (on), CREATE (attr), RENAME (name2): one codec, by type.
 * u8 is ignored by types without it; name2 only for RENAME. */
void storeimap_name_put(struct ipc_out *o, uint16_t type, uint8_t u8, uint32_t attr,
    const char *name, const char *name2);
int storeimap_name_get(struct ipc_in *in, struct store_req_name *r);

/* SYNC, QUOTA, FLAGS, LOGOUT: no fields. */
void storeimap_empty_put(struct ipc_out *o, uint16_t type);
int storeimap_empty_get(struct ipc_in *in);

/* META (u8 unused, 0), EXPUNGE (all), COPY (move, name): a uidset and
 * what goes with it. */
void storeimap_set_put(struct ipc_out *o, uint16_t type, uint8_t u8, const char *name,
    const struct store_range *r, uint32_t n);
int storeimap_set_get(struct ipc_in *in, uint8_t *u8_r, char name_r[STORE_NAME_MAX + 1],
    struct store_uidset *set);

/* MSGFD request: one UID. */
void storeimap_uid_put(struct ipc_out *o, uint32_t uid);
int storeimap_uid_get(struct ipc_in *in, uint32_t *uid_r);

void storeimap_store_put(struct ipc_out *o, const struct store_req_store *r);
int storeimap_store_get(struct ipc_in *in, struct store_req_store *r);

/* APPEND carries the message as a read-only fd (a sealed memfd). */
void storeimap_append_put(struct ipc_out *o, const struct store_req_append *r, int fd);
int storeimap_append_get(struct ipc_in *in, struct store_req_append *r);

/* Data. */
void storeimap_folders_put(struct ipc_out *o, const struct store_folder *f, uint32_t count);
int storeimap_folders_get(struct ipc_in *in, struct store_folders *r);
void storeimap_keywords_put(struct ipc_out *o, const struct store_keywords *k);
int storeimap_keywords_get(struct ipc_in *in, struct store_keywords *r);
void storeimap_records_put(struct ipc_out *o, const struct store_record *r, uint32_t count);
int storeimap_records_get(struct ipc_in *in, struct store_records *r);
void storeimap_meta_put(struct ipc_out *o, const struct store_meta_rec *m, uint32_t count);
int storeimap_meta_get(struct ipc_in *in, struct store_meta *r);
void storeimap_uidset_put(struct ipc_out *o, uint8_t kind, const struct store_range *r, uint32_t n);
int storeimap_uidset_get(struct ipc_in *in, uint8_t *kind_r, struct store_uidset *set);

/* Finals. */
void storeimap_selected_put(struct ipc_out *o, const struct store_selected *s);
int storeimap_selected_get(struct ipc_in *in, struct store_selected *s);
/* SYNCED: a, b = uidnext, messages; v = highestmodseq.  STORED: a = changed
 * count, b unused (0); v = highestmodseq.  COPIED: a, b = uidvalidity,
 * count.  APPENDED: a, b = uidvalidity, uid. */
void storeimap_pair_put(struct ipc_out *o, uint16_t type, uint32_t a, uint32_t b, uint64_t v);
int storeimap_pair_get(struct ipc_in *in, uint32_t *a_r, uint32_t *b_r, uint64_t *v_r);
void storeimap_status_put(struct ipc_out *o, const struct store_status *s);
int storeimap_status_get(struct ipc_in *in, struct store_status *s);
void storeimap_quota_put(struct ipc_out *o, const struct store_quota *q);
int storeimap_quota_get(struct ipc_in *in, struct store_quota *q);

#endif
