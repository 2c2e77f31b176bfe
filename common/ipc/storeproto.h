/* storeproto.h - the worker <-> stored channel (MSG_STORE_*), as data.
 *
 * One pure encode/decode pair per message, used by both ends (stored and
 * the workers' mailbox code), so no layout and no size is written twice.
 * The decoders read one received message's fields, check form and the
 * limits below, and fail on short data, trailing bytes or an fd where the
 * layout has none (or none where it has one); the receiver
 * still checks meaning (an index within its snapshot, the phase).  Both
 * directions are decoded here: stored's requests come from a possibly
 * compromised worker, and a worker trusts its stored only as far as these
 * checks go.
 */
#ifndef POSTERN_STOREPROTO_H
#define POSTERN_STOREPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "ipc.h"
#include "../mail/maildir.h"

enum storeproto_msg {
	/* worker -> stored */
	MSG_STORE_POP_OPEN = 0x0601,	/* (empty) lock + snapshot the mailbox */
	MSG_STORE_POP_SIZES = 0x0602,	/* start u32 */
	MSG_STORE_POP_UIDLS = 0x0603,	/* start u32 */
	MSG_STORE_POP_FETCH = 0x0604,	/* msg index u32 (0-based) */
	MSG_STORE_POP_COMMIT = 0x0605,	/* final u8, count u32, count x index u32:
					   UPDATE state, remove these messages */
	MSG_STORE_IMAP_OPEN = 0x0611,	/* (empty) imap view: shared lock */
	MSG_STORE_DELIVER = 0x0621,	/* length u64, sender str + fd: deliver
					   view, one message into the INBOX */
	/* stored -> worker */
	MSG_STORE_OK = 0x0701,		/* value u64 */
	MSG_STORE_ERR = 0x0702,		/* code u32 (enum store_err), text */
	MSG_STORE_SIZES = 0x0703,	/* start u32, count u32, more u8, count x u64 */
	MSG_STORE_UIDLS = 0x0704,	/* start u32, count u32, more u8, count x bytes */
	MSG_STORE_MSGFD = 0x0705,	/* crlf size u64 + fd: the message, read-only */
	MSG_STORE_DELIVERED = 0x0706,	/* file name in new/: durable, answer OK */
	MSG_STORE_CHANGED = 0x0707,	/* (empty, unasked) the mailbox changed on disk:
					   at most one until the worker's next request */
};

enum store_err {
	STORE_ERR_INUSE = 1,		/* another session holds the mailbox lock */
	STORE_ERR_NOMSG = 2,		/* no such message */
	STORE_ERR_GONE = 3,		/* the file was removed by another program */
	STORE_ERR_IO = 4,		/* storage failure */
	STORE_ERR_PROTO = 5,		/* request not valid now */
	STORE_ERR_TOOBIG = 6,		/* message over STORE_DELIVER_MAX or quota */
};

/* Message-list pages: how many sizes / UIDLs one reply carries at most.
 * Each page, and a full commit, fits in IPC_MAX_PAYLOAD. */
#define STORE_SIZES_PAGE	4096
#define STORE_UIDLS_PAGE	512
#define UIDL_MAX		70	/* RFC 1939 section 7 */
#define STORE_COMMIT_MAX	16000	/* indexes in one MSG_STORE_POP_COMMIT */
#define STORE_ERR_TEXT_MAX	128	/* MSG_STORE_ERR text, NUL included */
#define STORE_DELIVER_MAX	(256ULL << 20)	/* one delivered message, bytes */

/* MSG_STORE_SIZES */
struct store_sizes {
	uint32_t start, count;
	uint8_t more;			/* another page follows */
	uint64_t size[STORE_SIZES_PAGE];
};

/* MSG_STORE_UIDLS */
struct store_uidls {
	uint32_t start, count;
	uint8_t more;
	char uidl[STORE_UIDLS_PAGE][UIDL_MAX + 1];
};

/* MSG_STORE_POP_COMMIT */
struct store_commit {
	uint8_t final;			/* the last batch: UPDATE is done */
	uint32_t count;
	uint32_t index[STORE_COMMIT_MAX];	/* 0-based, as sent */
};

/* Requests (worker -> stored).  Each _put starts o as its message; each
 * _get returns 0, or -1 for a malformed message. */

/* MSG_STORE_CHANGED: no fields. */
void storeproto_changed_put(struct ipc_out *o);
int storeproto_changed_get(struct ipc_in *in);

/* MSG_STORE_POP_OPEN and MSG_STORE_IMAP_OPEN: no fields. */
void storeproto_open_put(struct ipc_out *o, uint16_t type);
int storeproto_open_get(struct ipc_in *in);

/* MSG_STORE_POP_SIZES, _UIDLS (first index of the page) and _FETCH (the
 * message): one u32.  type must be one of those three. */
void storeproto_index_put(struct ipc_out *o, uint16_t type, uint32_t index);
int storeproto_index_get(struct ipc_in *in, uint32_t *index_r);

/* MSG_STORE_POP_COMMIT: count <= STORE_COMMIT_MAX indexes. */
void storeproto_commit_put(struct ipc_out *o, uint8_t final, const uint32_t *index, uint32_t count);
int storeproto_commit_get(struct ipc_in *in, struct store_commit *r);

/* MSG_STORE_DELIVER: the message's length, its envelope sender (the
 * MAIL FROM mailbox, "" for the null sender <>; stored writes it as the
 * Return-Path) and a read-only fd of it (a sealed memfd or a file), read
 * from its current offset to EOF.  _get needs the fd to be present (it
 * stays owned by in), the length to be at most STORE_DELIVER_MAX and the
 * sender to be a mailbox the SMTP parser takes (no CR, LF or blank can
 * reach the header). */
#define STORE_SENDER_MAX	320	/* SMTP_MAILBOX_MAX */
void storeproto_deliver_put(struct ipc_out *o, uint64_t len, const char *sender, int fd);
int storeproto_deliver_get(struct ipc_in *in, uint64_t *len_r, char sender_r[STORE_SENDER_MAX + 1]);

/* Replies (stored -> worker). */

/* MSG_STORE_OK: one u64 (a count). */
void storeproto_ok_put(struct ipc_out *o, uint64_t value);
int storeproto_ok_get(struct ipc_in *in, uint64_t *value_r);

/* MSG_STORE_ERR: a code (enum store_err) and a short text. */
void storeproto_err_put(struct ipc_out *o, uint32_t code, const char *text);
int storeproto_err_get(struct ipc_in *in, uint32_t *code_r, char text_r[STORE_ERR_TEXT_MAX]);

/* MSG_STORE_SIZES: sizes of messages start .. start+count-1.
 * count <= STORE_SIZES_PAGE; _get also refuses count 0 and more > 1. */
void storeproto_sizes_put(struct ipc_out *o, uint32_t start, uint8_t more, const uint64_t *size,
    uint32_t count);
int storeproto_sizes_get(struct ipc_in *in, struct store_sizes *r);

/* MSG_STORE_UIDLS: UIDLs (1..UIDL_MAX printable characters, RFC 1939
 * section 7) of messages start .. start+count-1, count <= STORE_UIDLS_PAGE. */
void storeproto_uidls_put(struct ipc_out *o, uint32_t start, uint8_t more, const char *const *uidl,
    uint32_t count);
int storeproto_uidls_get(struct ipc_in *in, struct store_uidls *r);

/* MSG_STORE_MSGFD: the CRLF size of a message and a read-only fd of it;
 * _get needs the fd (owned by in). */
void storeproto_msgfd_put(struct ipc_out *o, uint64_t size, int fd);
int storeproto_msgfd_get(struct ipc_in *in, uint64_t *size_r);

/* MSG_STORE_DELIVERED: the file name the message got in new/ (a valid
 * Maildir name, maildir_parse_name, without ':'). */
void storeproto_delivered_put(struct ipc_out *o, const char *name);
int storeproto_delivered_get(struct ipc_in *in, char name_r[MAILDIR_NAME_MAX + 1]);

#endif
