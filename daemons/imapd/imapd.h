/* imapd.h - the IMAP worker: one client connection, no privileges.
 *
 * The plumbing is the worker kit (common/worker); what is IMAP lives here:
 * the session and its command table (imapd.c), the login (auth.c), the
 * calls to stored and the view of the selected folder (store.c), folders
 * and APPEND (mailbox.c), and the commands on messages (message.c).
 * Everything the client sends is parsed by common/proto/imap_parse.c;
 * FETCH and SEARCH are planned and evaluated by common/mail/imap_fetch.c
 * and imap_eval.c; stored does the Maildir and the index
 * (common/ipc/storeimap.h).
 */
#ifndef POSTERN_IMAPD_H
#define POSTERN_IMAPD_H

#include <stddef.h>
#include <stdint.h>

#include "../../common/base/buf.h"
#include "../../common/base/config.h"
#include "../../common/ipc/storeimap.h"
#include "../../common/proto/imap_parse.h"
#include "../../common/proto/imap_seqset.h"
#include "../../common/worker/wk_auth.h"
#include "../../common/worker/wk_boot.h"
#include "../../common/worker/wk_client.h"
#include "../../common/worker/wk_session.h"

enum imap_state {
	IMAP_NOT_AUTHENTICATED,
	IMAP_AUTHENTICATED,
	IMAP_SELECTED,
	IMAP_LOGOUT,
};

/* ENABLE'd extensions (RFC 5161) */
#define IMAP_EN_CONDSTORE	0x1
#define IMAP_EN_IMAP4REV2	0x2
#define IMAP_EN_UTF8		0x4

/* The selected folder as this session sees it: message sequence number
 * i is index i - 1.  Changed only at points where the client may be told
 * (store.c: imap_sync). */
struct imap_view {
	uint32_t *uid;
	uint32_t *flags;		/* mindex.h bits */
	uint64_t *modseq;
	size_t n, cap;
	/* flags[] and modseq[] hold what stored said (FLAGS request): SELECT
	 * carries the UIDs only; imap_view_need_flags() asks when a command
	 * needs them.  Until then what arrives in updates is told, not kept. */
	int flags_loaded;
	uint32_t uidvalidity, uidnext;
	uint64_t highestmodseq;
	int read_only;
	char name[STORE_NAME_MAX + 1];	/* stored's folder name */
	char kw[STORE_KEYWORDS_MAX][STORE_KEYWORD_MAX + 1];	/* "" = slot unused */
	/* expunged by others, not told yet (RFC 9051 7.5.1: not during
	 * FETCH, STORE, SEARCH): still in the view, ascending */
	uint32_t *gone;
	size_t ngone, capgone;
	/* SEARCHRES (RFC 5182): the saved result, as UIDs ascending */
	uint32_t *saved;
	size_t nsaved;
	int have_saved;
};

/* A literal being streamed into a memfd (APPEND). */
#define IMAP_APPEND_MAX_MSGS	STORE_APPEND_PARTS_MAX	/* messages in one MULTIAPPEND */

/* What the session keeps of the config: after the login the config's
 * pages are given back (imap_release_config), an idle session does not
 * carry them. */
struct imap_conf {
	uint64_t max_line, max_message, max_literals, max_nesting, max_search_keys;
	uint64_t max_bad, idle_check;
	int keywords, test_triggers;
	char ns[64];			/* imap_namespace */
};

struct imap {
	const struct config *cfg;	/* NULL after the login: use conf */
	struct imap_conf conf;
	struct wk_client c;
	struct wk_auth auth;
	struct wk_session s;
	struct imap_parser *parser;
	enum imap_state state;
	const char *ip;
	int plaintext_ok;
	int implicit_tls;
	unsigned bad_commands;
	unsigned enabled;		/* IMAP_EN_ */
	char sep;			/* hierarchy separator */
	const char *ns;			/* personal namespace prefix */
	size_t nslen;
	/* the login in progress */
	char tag[IMAP_TAG_MAX + 1];
	int sasl_ir_pending;
	/* stored */
	int store_fd;
	int store_changed;		/* a MSG_STORE_CHANGED arrived, not yet synced */
	struct imap_view v;
	/* IDLE */
	int idling;
	char idle_tag[IMAP_TAG_MAX + 1];
	uint64_t idle_timer;
	/* APPEND literals streamed into memfds, in order */
	int append_fd[IMAP_APPEND_MAX_MSGS];
	uint64_t append_len[IMAP_APPEND_MAX_MSGS];
	unsigned nappend;
	int append_failed;		/* a write failed: the command answers NO */
	int literal_discard;		/* a streamed literal not for APPEND */
	/* output scratch for one response */
	struct buf out;
	/* statistics for the logout line */
	uint64_t fetch_count, fetch_bytes;
};

/* imapd.c */
void imap_run(struct imap *p, struct wk_boot *b);
/* Write text to the client. */
void imap_puts(struct imap *p, const char *s);
void imap_printf(struct imap *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void imap_write(struct imap *p, const void *data, size_t len);
/* Tagged replies. */
void imap_ok(struct imap *p, const char *tag, const char *text);
void imap_no(struct imap *p, const char *tag, const char *text);
void imap_bad(struct imap *p, const char *tag, const char *text);
/* After the login: the config's pages back to the kernel (the session
 * goes on with p->conf; p->cfg is NULL from then on). */
void imap_release_config(struct imap *p);
/* A fresh command parser with the session's limits (imap_* keys); at
 * start and after STARTTLS.  Fatal without memory. */
void imap_parser_start(struct imap *p);
/* The untagged CAPABILITY list for the current state, without "* " and CRLF. */
void imap_capabilities(struct imap *p, struct buf *b);

/* auth.c */
extern const struct wk_auth_ops imap_auth_ops;
void imap_cmd_login(struct imap *p, const struct imap_cmd *cmd);
void imap_cmd_authenticate(struct imap *p, const struct imap_cmd *cmd);
void imap_cmd_starttls(struct imap *p, const struct imap_cmd *cmd);
/* One client line while a SASL exchange waits for the response. */
void imap_sasl_line(struct imap *p, const uint8_t *line, size_t len);

/* store.c: the channel to stored and the view */
/* Called for each data message of a reply (ipc_scratch_in holds it);
 * returns 0, or -1 for a reply that breaks the contract (fatal). */
typedef int imap_store_data_fn(struct imap *p, void *ctx);
/* Send ipc_scratch_out, take the data messages through fn (NULL: none
 * expected) until the final one, which is left in ipc_scratch_in.  The
 * session ends (fatal) if stored is gone or breaks the contract. */
void imap_store_call(struct imap *p, imap_store_data_fn *fn, void *ctx);
/* The ERR code of a final MSG_STORE_ERR (0: not an error). */
uint32_t imap_store_err(void);
/* Watch the store fd for MSG_STORE_CHANGED between commands. */
void imap_store_watch(struct imap *p);
/* SYNC (when stored said something changed) and tell the client: FETCH
 * FLAGS, EXISTS, FLAGS, and EXPUNGE when expunges_ok (else the expunged
 * messages stay in the view until a command that may be told).  No-op
 * outside the SELECTED state. */
void imap_sync(struct imap *p, int expunges_ok);
/* The view after SELECT (records) or from scratch. */
void imap_view_reset(struct imap_view *v);
int imap_view_add(struct imap_view *v, uint32_t uid, uint32_t flags, uint64_t modseq);
/* UIDs lo..hi (above every UID of the view) appended, flags not loaded.
 * Returns 0 or -1 (out of order, too many, no memory). */
int imap_view_add_range(struct imap_view *v, uint32_t lo, uint32_t hi);
/* Make the view's flags and MODSEQs known (one FLAGS request to stored
 * the first time after SELECT): before a command that reads them. */
void imap_view_need_flags(struct imap *p);
/* Drop the expunged UIDs gone[0..n) (ascending) from the view, telling the
 * client "* N EXPUNGE" for each when tell (numbers renumbered as it goes,
 * RFC 9051 7.5.1). */
void imap_view_expunge(struct imap *p, const uint32_t *gone, size_t n, int tell);
/* The 0-based index of uid in the view, or -1. */
long imap_view_find(const struct imap_view *v, uint32_t uid);
/* Keyword table from a MSG_STORE_KEYWORDS in ipc_scratch_in; 1 if it changed. */
int imap_view_keywords(struct imap_view *v);
/* The flag list "(\Seen kw ...)" of flags into b. */
void imap_flags_text(const struct imap_view *v, uint32_t flags, struct buf *b);
/* The FLAGS and PERMANENTFLAGS lines for the folder. */
void imap_send_flags(struct imap *p);
/* The next at most STORE_UIDSET_MAX ranges of uids[*from..n) (ascending)
 * into set; returns 1 while some are left. */
int imap_uids_to_set(const uint32_t *uids, size_t n, size_t *from, struct store_uidset *set);
/* RFC822.SIZE and INTERNALDATE of uids[0..n) (ascending) of the selected
 * folder, 0 for any that are gone. */
void imap_load_meta(struct imap *p, const uint32_t *uids, size_t n, uint64_t *size,
    int64_t *date);

/* trash.c: imap_empty_trash (Courier's IMAP_EMPTYTRASH) at login. */
void imap_empty_trash(struct imap *p);

/* message.c */
void imap_cmd_select(struct imap *p, const struct imap_cmd *cmd);
void imap_cmd_close(struct imap *p, const struct imap_cmd *cmd);
void imap_cmd_expunge(struct imap *p, const struct imap_cmd *cmd);
void imap_cmd_fetch(struct imap *p, const struct imap_cmd *cmd);
void imap_cmd_store(struct imap *p, const struct imap_cmd *cmd);
void imap_cmd_copy(struct imap *p, const struct imap_cmd *cmd);
void imap_cmd_search(struct imap *p, const struct imap_cmd *cmd);
/* Resolve a sequence set (seq 1) or UID set (uid 1) argument of the
 * selected folder into UID ranges for stored; answers BAD/NO itself and
 * returns -1. */
int imap_arg_uidset(struct imap *p, const char *tag, const struct imap_arg *a, int uid,
    struct store_uidset *set);

/* mailbox.c */
/* A mailbox argument (astring, mUTF-7 unless UTF8=ACCEPT) into stored's
 * folder name; answers NO/BAD itself and returns -1. */
int imap_arg_mailbox(struct imap *p, const char *tag, const struct imap_arg *a,
    char name_r[STORE_NAME_MAX + 1]);
/* stored's folder name as the client sees it (namespace, mUTF-7), as an astring. */
int imap_put_mailbox(struct imap *p, struct buf *b, const char *name);
void imap_cmd_list(struct imap *p, const struct imap_cmd *cmd);
void imap_cmd_namespace(struct imap *p, const struct imap_cmd *cmd);
void imap_cmd_status(struct imap *p, const struct imap_cmd *cmd);
void imap_cmd_create(struct imap *p, const struct imap_cmd *cmd);
void imap_cmd_delete(struct imap *p, const struct imap_cmd *cmd);
void imap_cmd_rename(struct imap *p, const struct imap_cmd *cmd);
void imap_cmd_subscribe(struct imap *p, const struct imap_cmd *cmd);
void imap_cmd_append(struct imap *p, const struct imap_cmd *cmd);
void imap_cmd_getquota(struct imap *p, const struct imap_cmd *cmd);
/* A chunk of a streamed literal (APPEND) */
void imap_append_chunk(struct imap *p, const uint8_t *data, size_t len, uint32_t size,
    uint32_t left);
void imap_append_reset(struct imap *p);

#endif
