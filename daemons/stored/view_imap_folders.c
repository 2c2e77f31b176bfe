/* view_imap_folders.c - the IMAP view's requests on folders (LIST,
 * STATUS, CREATE, DELETE, RENAME, SUBSCRIBE), APPEND and QUOTA: folders.h
 * on the mail root, mindex.h for what the index keeps of them, quota.h
 * for Maildir++'s maildirsize.  Every name is checked by folders_to_dir
 * before anything touches the disk. */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../common/base/log.h"
#include "../../common/ipc/proto.h"
#include "../../common/ipc/storeproto.h"
#include "../../common/mail/maildir.h"
#include "../../common/mail/quota.h"
#include "view_imap.h"

int
imap_quota_active(const struct view_imap *m)
{
	struct stat st;

	return fstatat(m->rootfd, QUOTA_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int
imap_quota_check(struct view_imap *m, uint64_t bytes, uint64_t count, const char *what)
{
	struct quota q;
	uint64_t used_b, used_c;

	if (quota_read(m->rootfd, time(NULL), &q, NULL) < 0) {
		/* an unreadable maildirsize does not stop mail (quota.h: no
		 * file, no quota); it is said once */
		log_event(LOG_LEVEL_WARN, "quota_unreadable", "errno=%d", errno);
		return 0;
	}
	used_b = q.storage_used > 0 ? (uint64_t)q.storage_used : 0;
	used_c = q.messages_used > 0 ? (uint64_t)q.messages_used : 0;
	if (q.has_storage && (bytes > q.storage_limit || used_b > q.storage_limit - bytes)) {
		log_event(LOG_LEVEL_INFO, "quota_refused", "reason=storage op=%s used=%llu add=%llu "
		    "limit=%llu", what, (unsigned long long)used_b, (unsigned long long)bytes,
		    (unsigned long long)q.storage_limit);
		return -1;
	}
	if (q.has_messages && (count > q.message_limit || used_c > q.message_limit - count)) {
		log_event(LOG_LEVEL_INFO, "quota_refused", "reason=messages op=%s used=%llu add=%llu "
		    "limit=%llu", what, (unsigned long long)used_c, (unsigned long long)count,
		    (unsigned long long)q.message_limit);
		return -1;
	}
	return 0;
}

uint64_t
imap_disk_size(const struct mindex_msg *m)
{
	struct maildir_name mn;

	if (maildir_parse_name(m->name, strlen(m->name), &mn) == 0 && mn.has_size)
		return mn.size;
	return m->size;
}

int
imap_box_open(struct view_session *s, const char *name, struct mindex_box **b_r)
{
	struct view_imap *m = s->imap;
	char dir[FOLDERS_NAME_MAX + 1];

	if (folders_to_dir(name, m->sep, dir) < 0)
		return imap_reply_errno(s, errno, "open"), -1;
	if (mindex_box_open(m->mi, dir, 0, b_r) < 0)
		return imap_reply_errno(s, errno, "open"), -1;
	if (mindex_sync(*b_r, NULL) < 0) {
		int e = errno;
		mindex_box_close(*b_r);
		return imap_reply_errno(s, e == ENOENT ? EIO : e, "sync"), -1;
	}
	return 0;
}

/* One page of LIST out of l->v[*pos..): names over STORE_NAME_MAX are
 * left out (no client could name them back in a request either). */
static void
send_folders(struct view_session *s, const struct folders_list *l, size_t *pos, uint64_t *count)
{
	struct view_imap *m = s->imap;
	uint32_t k = 0;

	for (; *pos < l->n && k < STORE_FOLDERS_PAGE; (*pos)++) {
		const struct folders_entry *f = &l->v[*pos];
		size_t len = strlen(f->name);
		if (len == 0 || len > STORE_NAME_MAX)
			continue;
		m->folders[k].attr = f->attr;
		memcpy(m->folders[k].name, f->name, len + 1);
		k++;
	}
	if (k == 0)
		return;
	*count += k;
	storeimap_folders_put(s->out, m->folders, k);
	view_reply(s);
}

int
imap_on_list(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	struct view_imap *m = s->imap;
	struct folders_list l = { 0 };
	uint64_t count = 0;
	size_t pos = 0;
	int rc;

	if (storeimap_name_get(in, &m->name) < 0)
		return -1;
	rc = m->name.u8 ? folders_subscriptions(m->rootfd, m->sep, &l) :
	    folders_list(m->rootfd, m->sep, folders_special_default, FOLDERS_SPECIAL_DEFAULT_N, &l);
	if (rc < 0)
		return imap_reply_errno(s, errno == ENOENT ? EIO : errno, "list");
	while (pos < l.n)
		send_folders(s, &l, &pos, &count);
	folders_list_free(&l);
	storeproto_ok_put(s->out, count);
	view_reply(s);
	return 0;
}

int
imap_on_status(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	struct view_imap *m = s->imap;
	struct mindex_status st;
	struct store_status out;
	struct mindex_box *b;

	if (storeimap_name_get(in, &m->name) < 0)
		return -1;
	if (imap_box_open(s, m->name.name, &b) < 0)
		return 0;
	if (mindex_status(b, &st) < 0) {
		mindex_box_close(b);
		return imap_reply_errno(s, EIO, "status");
	}
	mindex_box_close(b);
	out = (struct store_status){ .messages = st.messages, .uidnext = st.uidnext,
	    .uidvalidity = st.uidvalidity, .unseen = st.unseen, .deleted = st.deleted,
	    .recent = 0, .size = st.size, .highestmodseq = st.highestmodseq };
	storeimap_status_put(s->out, &out);
	view_reply(s);
	return 0;
}

/* RFC 6154 section 5.1 CREATE-SPECIAL-USE: an attribute is accepted
 * only where it matches the mapping every session shows (the default one),
 * since nothing stores it per folder. */
static int
special_use_ok(const char *name, uint32_t attr)
{
	size_t i;

	if (attr == 0)
		return 1;
	for (i = 0; i < FOLDERS_SPECIAL_DEFAULT_N; i++)
		if (strcmp(folders_special_default[i].name, name) == 0)
			return folders_special_default[i].attr == attr;
	return 0;
}

int
imap_on_create(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	struct view_imap *m = s->imap;
	char dir[FOLDERS_NAME_MAX + 1];

	if (storeimap_name_get(in, &m->name) < 0)
		return -1;
	if (folders_to_dir(m->name.name, m->sep, dir) < 0)
		return imap_reply_errno(s, errno, "create");
	if (!special_use_ok(m->name.name, m->name.attr)) {
		view_reply_err(s, STORE_ERR_DENIED, "special use not supported for this name");
		return 0;
	}
	if (folders_create(m->rootfd, m->name.name, m->sep) < 0)
		return imap_reply_errno(s, errno, "create");
	log_event(LOG_LEVEL_INFO, "folder_created", "dir=%s", dir);
	storeproto_ok_put(s->out, 0);
	view_reply(s);
	return 0;
}

/* 1 if dir is the selected folder or one of its parents. */
static int
holds_selected(const struct view_imap *m, const char *dir)
{
	size_t n = strlen(dir);

	if (m->box == NULL)
		return 0;
	if (strcmp(dir, ".") == 0)
		return strcmp(m->dir, ".") == 0;
	return strncmp(m->dir, dir, n) == 0 && (m->dir[n] == '\0' || m->dir[n] == '.');
}

int
imap_on_delete(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	struct view_imap *m = s->imap;
	char dir[FOLDERS_NAME_MAX + 1];

	if (storeimap_name_get(in, &m->name) < 0)
		return -1;
	if (folders_to_dir(m->name.name, m->sep, dir) < 0)
		return imap_reply_errno(s, errno, "delete");
	/* the selected folder's files stay this session's view until it
	 * UNSELECTs; refused rather than leaving it on a vanished folder */
	if (m->box != NULL && strcmp(m->dir, dir) == 0) {
		view_reply_err(s, STORE_ERR_DENIED, "folder is selected");
		return 0;
	}
	if (folders_delete(m->rootfd, m->name.name, m->sep) < 0)
		return imap_reply_errno(s, errno, "delete");
	if (mindex_folder_drop(m->mi, dir) < 0)	/* the next open starts it afresh */
		log_event(LOG_LEVEL_WARN, "index_drop", "dir=%s errno=%d", dir, errno);
	log_event(LOG_LEVEL_INFO, "folder_deleted", "dir=%s", dir);
	storeproto_ok_put(s->out, 0);
	view_reply(s);
	return 0;
}

int
imap_on_rename(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	struct view_imap *m = s->imap;
	char from[FOLDERS_NAME_MAX + 1], to[FOLDERS_NAME_MAX + 1];

	if (storeimap_name_get(in, &m->name) < 0)
		return -1;
	if (folders_to_dir(m->name.name, m->sep, from) < 0 ||
	    folders_to_dir(m->name.name2, m->sep, to) < 0)
		return imap_reply_errno(s, errno, "rename");
	/* RENAME INBOX empties it (its messages move): the selected INBOX's
	 * next sync tells the expunges.  A selected folder (or one below the
	 * one renamed) moves with its index records, so it is reopened at its
	 * new name with the same UIDs and the session goes on. */
	int moves_selected = strcmp(from, ".") != 0 && holds_selected(m, from);
	if (folders_rename(m->rootfd, m->name.name, m->name.name2, m->sep) < 0)
		return imap_reply_errno(s, errno, "rename");
	/* INBOX: its messages moved into a new folder, which the next sync of
	 * each adopts (folders.h); a folder keeps its UIDs */
	if (strcmp(from, ".") != 0 && mindex_folder_rename(m->mi, from, to) < 0)
		log_event(LOG_LEVEL_WARN, "index_rename", "from=%s to=%s errno=%d", from, to, errno);
	if (moves_selected) {
		char dir[FOLDERS_NAME_MAX + 1];
		int rw = !m->read_only;
		if (snprintf(dir, sizeof(dir), "%s%s", to, m->dir + strlen(from)) >= (int)sizeof(dir)) {
			errno = ENAMETOOLONG;
			return imap_reply_errno(s, errno, "rename");
		}
		mindex_box_close(m->box);
		m->box = NULL;
		if (mindex_box_open(m->mi, dir, rw, &m->box) < 0) {
			/* the folder is gone from under the session: it ends */
			log_event(LOG_LEVEL_ERR, "reopen_failed", "dir=%s errno=%d", dir, errno);
			return -1;
		}
		snprintf(m->dir, sizeof(m->dir), "%s", dir);
		if (s->watch_fd >= 0 && view_watch_dir(s, dir) < 0)
			log_event(LOG_LEVEL_WARN, "watch_failed", "errno=%d reason=\"no change "
			    "notifications\"", errno);
	}
	log_event(LOG_LEVEL_INFO, "folder_renamed", "from=%s to=%s", from, to);
	storeproto_ok_put(s->out, 0);
	view_reply(s);
	return 0;
}

int
imap_on_subscribe(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	struct view_imap *m = s->imap;
	char dir[FOLDERS_NAME_MAX + 1];

	if (storeimap_name_get(in, &m->name) < 0)
		return -1;
	if (folders_to_dir(m->name.name, m->sep, dir) < 0)
		return imap_reply_errno(s, errno, "subscribe");
	if (folders_subscribe(m->rootfd, m->name.name, m->sep, m->name.u8) < 0)
		return imap_reply_errno(s, errno == ENOENT ? EIO : errno, "subscribe");
	storeproto_ok_put(s->out, 0);
	view_reply(s);
	return 0;
}

int
imap_on_quota(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	struct view_imap *m = s->imap;
	struct store_quota out = { 0 };
	struct quota q;

	if (storeimap_empty_get(in) < 0)
		return -1;
	if (quota_read(m->rootfd, time(NULL), &q, NULL) < 0)
		return imap_reply_errno(s, errno == ENOENT ? EIO : errno, "quota");
	out.storage_used = q.storage_used > 0 ? (uint64_t)q.storage_used : 0;
	out.messages_used = q.messages_used > 0 ? (uint64_t)q.messages_used : 0;
	out.storage_limit = q.has_storage ? q.storage_limit : 0;
	out.messages_limit = q.has_messages ? q.message_limit : 0;
	storeimap_quota_put(s->out, &out);
	view_reply(s);
	return 0;
}

/* APPEND into b from fd: keywords, the message, maildirsize.  Returns 0
 * after answering. */
static int
append_to(struct view_session *s, struct mindex_box *b, int fd, int quota)
{
	struct view_imap *m = s->imap;
	struct store_req_append *r = &m->append;
	struct mindex_status st;
	uint32_t kw, uid;

	if (imap_keyword_bits(s, b, &r->kw, &kw) < 0)
		return 0;
	/* at most the announced length: a longer file is EFBIG */
	if (mindex_append(b, fd, r->len, r->flags | kw, r->date, &uid) < 0) {
		if (errno == EFBIG) {
			view_reply_err(s, STORE_ERR_TOOBIG, "message longer than announced");
			return 0;
		}
		return imap_reply_errno(s, errno == ENOENT ? EIO : errno, "append");
	}
	if (mindex_status(b, &st) < 0)
		return imap_reply_errno(s, EIO, "append");
	if (quota && quota_update(m->rootfd, (int64_t)r->len, 1) < 0)
		log_event(LOG_LEVEL_WARN, "quota_update", "errno=%d", errno);
	storeimap_pair_put(s->out, MSG_STORE_APPENDED, st.uidvalidity, uid, 0);
	view_reply(s);
	return 0;
}

/* Forget the kept parts of a MULTIAPPEND. */
static void
parts_drop(struct view_imap *m)
{
	uint32_t i;

	for (i = 0; i < m->nparts; i++)
		close(m->parts[i].fd);
	m->nparts = 0;
}

/* The last part of a MULTIAPPEND (fd: its message): every part into its
 * folder in one transaction, all or none (RFC 3502).  Returns 0 after
 * answering. */
static int
append_all(struct view_session *s, int fd, int quota)
{
	struct view_imap *m = s->imap;
	struct mindex_append_msg msgs[STORE_APPEND_PARTS_MAX];
	struct mindex_status st;
	struct mindex_box *b;
	uint64_t total = 0;
	uint32_t i, kw, uid, n = m->nparts + 1;

	for (i = 0; i < m->nparts; i++)
		total += m->parts[i].r.len;
	total += m->append.len;
	if (quota && imap_quota_check(m, total, n, "append") < 0) {
		view_reply_err(s, STORE_ERR_QUOTA, "over quota");
		return 0;
	}
	if (imap_box_open(s, m->append.name, &b) < 0)
		return 0;
	for (i = 0; i < n; i++) {
		const struct store_req_append *r = i < m->nparts ? &m->parts[i].r : &m->append;
		if (imap_keyword_bits(s, b, &r->kw, &kw) < 0) {
			mindex_box_close(b);
			return 0;
		}
		msgs[i] = (struct mindex_append_msg){ .fd = i < m->nparts ? m->parts[i].fd : fd,
		    .max = r->len, .flags = r->flags | kw, .date = r->date };
	}
	if (mindex_append_many(b, msgs, n, &uid) < 0 || mindex_status(b, &st) < 0) {
		int e = errno;
		mindex_box_close(b);
		if (e == EFBIG) {
			view_reply_err(s, STORE_ERR_TOOBIG, "message longer than announced");
			return 0;
		}
		return imap_reply_errno(s, e == ENOENT ? EIO : e, "append");
	}
	mindex_box_close(b);
	if (quota && quota_update(m->rootfd, (int64_t)total, (int64_t)n) < 0)
		log_event(LOG_LEVEL_WARN, "quota_update", "errno=%d", errno);
	storeimap_pair_put(s->out, MSG_STORE_APPENDED, st.uidvalidity, uid, 0);
	view_reply(s);
	return 0;
}

/* A MULTIAPPEND part before the last: kept (it is checked again with the
 * others at the last).  Returns 0 after answering. */
static int
append_keep(struct view_session *s, struct ipc_in *in)
{
	struct view_imap *m = s->imap;

	if (m->parts == NULL &&
	    (m->parts = calloc(STORE_APPEND_PARTS_MAX, sizeof(*m->parts))) == NULL) {
		ipc_in_close_fd(in);
		return imap_reply_errno(s, ENOMEM, "append");
	}
	m->parts[m->nparts].r = m->append;
	m->parts[m->nparts].fd = in->fd;
	m->nparts++;
	in->fd = -1;
	storeproto_ok_put(s->out, 0);
	view_reply(s);
	return 0;
}

int
imap_on_append(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	struct view_imap *m = s->imap;
	struct store_req_append *r = &m->append;
	char dir[FOLDERS_NAME_MAX + 1];
	struct mindex_box *b;
	struct stat st;
	int quota;

	if (storeimap_append_get(in, r) < 0) {
		ipc_in_close_fd(in);
		parts_drop(m);
		return -1;
	}
	/* a plain APPEND, a first part, or a part out of step starts again */
	if (r->parts == 0 || r->part == 0 || r->part != m->nparts ||
	    r->parts != m->parts[0].r.parts || strcmp(r->name, m->parts[0].r.name) != 0) {
		int in_step = r->parts == 0 || r->part == 0;
		parts_drop(m);
		if (!in_step) {
			ipc_in_close_fd(in);
			view_reply_err(s, STORE_ERR_PROTO, "a MULTIAPPEND part out of order");
			return 0;
		}
	}
	/* a message is a file (imapd's sealed memfd): a pipe or socket would
	 * hold this session until its writer let go */
	if (fstat(in->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ipc_in_close_fd(in);
		parts_drop(m);
		view_reply_err(s, STORE_ERR_PROTO, "the message is not a file");
		return 0;
	}
	if (r->len > m->max_message) {
		ipc_in_close_fd(in);
		parts_drop(m);
		log_event(LOG_LEVEL_INFO, "append_refused", "reason=too_big length=%llu max=%llu",
		    (unsigned long long)r->len, (unsigned long long)m->max_message);
		view_reply_err(s, STORE_ERR_TOOBIG, "message too big");
		return 0;
	}
	if (folders_to_dir(r->name, m->sep, dir) < 0) {
		ipc_in_close_fd(in);
		parts_drop(m);
		return imap_reply_errno(s, errno, "append");
	}
	if (r->parts != 0 && r->part + 1 < r->parts)
		return append_keep(s, in);
	/* Trash is not counted unless quota_count_trash (quota.h) */
	quota = imap_quota_active(m) && quota_counts_folder(dir);
	if (r->parts != 0) {
		(void)append_all(s, in->fd, quota);
		parts_drop(m);
		ipc_in_close_fd(in);
		return 0;
	}
	if (quota && imap_quota_check(m, r->len, 1, "append") < 0) {
		ipc_in_close_fd(in);
		view_reply_err(s, STORE_ERR_QUOTA, "over quota");
		return 0;
	}
	if (imap_box_open(s, r->name, &b) < 0) {
		ipc_in_close_fd(in);
		return 0;
	}
	(void)append_to(s, b, in->fd, quota);
	mindex_box_close(b);
	ipc_in_close_fd(in);
	return 0;
}
