/* view_imap_structs.c - what FETCH ENVELOPE, BODY and BODYSTRUCTURE
 * answer, made here once per message and kept in the index.
 *
 * The worker used to read and parse every message file for these on every
 * FETCH (a client's first look at a big folder asks for all of them).
 * stored parses the file the first time, in its own jail (it is that user's
 * process and reads that user's files anyway), and keeps the three texts
 * as one blob in the index (mindex_cache_*, dropped with the message);
 * a worker never writes what other sessions read.  A structure too big
 * for a page is neither kept nor sent: the worker reads that message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/base/log.h"
#include "../../common/ipc/storeproto.h"
#include "../../common/mail/imap_fetch.h"
#include "view_imap.h"

#define BLOB_VERSION	1
#define BLOB_HDR	13	/* version u8, three lengths u32 */
/* blobs made before they are written, in one transaction, or bytes of
 * them: each commit waits for an fdatasync (256 a batch was 40 of them,
 * about 100 ms, in a cold FETCH of 10,000) */
#define BATCH_MAX	2048
#define BATCH_BYTES	(8u << 20)
#define STRUCT_MSG_MAX	(256u << 20)	/* largest file parsed (STORE_APPEND_MAX) */
/* files up to this size are read into one buffer kept for the command: for
 * the usual few KiB a read is cheaper than mmap, the faults and munmap
 * (which were most of the system time of a cold FETCH of 10,000) */
#define STRUCT_READ_MAX	(256u << 10)

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A kept blob into e's texts (pointing into it); -1 if it is not one of
 * ours (an older layout: made again). */
static int
blob_read(const struct buf *b, struct store_struct *e)
{
	uint32_t a, c, d;

	if (b->len < BLOB_HDR || b->data[0] != BLOB_VERSION)
		return -1;
	a = get_be32(b->data + 1);
	c = get_be32(b->data + 5);
	d = get_be32(b->data + 9);
	if ((uint64_t)a + c + d != b->len - BLOB_HDR)
		return -1;
	e->env = b->data + BLOB_HDR;
	e->env_len = a;
	e->body = e->env + a;
	e->body_len = c;
	e->bs = e->body + c;
	e->bs_len = d;
	return 0;
}

/* The first size bytes of fd into file (fewer if it is shorter now). */
static int
load(int fd, size_t size, struct buf *file)
{
	ssize_t n;

	buf_reset(file);
	if (buf_reserve(file, size) < 0)
		return -1;
	while (file->len < size) {
		n = read(fd, file->data + file->len, size - file->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		file->len += (size_t)n;
	}
	return 0;
}

/* Parse message uid's file into env, body and bs (file: the buffer small
 * files are read into).  0, or -1 (gone or unreadable: the worker finds
 * out itself). */
static int
make(struct mindex_box *box, uint32_t uid, struct buf *file, struct buf *env, struct buf *body,
    struct buf *bs)
{
	struct stat st;
	const uint8_t *msg = (const uint8_t *)"";
	void *p = NULL;
	size_t len = 0;
	int fd, rc;

	buf_reset(env);
	buf_reset(body);
	buf_reset(bs);
	if ((fd = mindex_open_msg(box, uid)) < 0)
		return -1;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size > STRUCT_MSG_MAX) {
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size <= STRUCT_READ_MAX) {
		rc = load(fd, (size_t)st.st_size, file);
		close(fd);
		if (rc < 0)
			return -1;
		if (file->len > 0)
			msg = file->data;
		len = file->len;
	} else {
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		close(fd);
		if (p == MAP_FAILED)
			return -1;
		msg = p;
		len = (size_t)st.st_size;
	}
	rc = imap_fetch_structs(msg, len, 0, 0, env, body, bs);
	if (p != NULL)
		munmap(p, len);
	return rc < 0 ? -1 : 0;
}

/* The blobs made so far, written in one transaction. */
struct batch {
	struct buf data;
	struct mindex_cache_item *it;	/* BATCH_MAX of each, for one command */
	size_t *off;
	size_t n;
};

static void
batch_flush(struct mindex_box *box, struct batch *bt)
{
	size_t i;

	for (i = 0; i < bt->n; i++)
		bt->it[i].p = bt->data.data + bt->off[i];
	if (bt->n > 0 && mindex_cache_put_many(box, MINDEX_CACHE_STRUCTS, bt->it, bt->n) < 0)
		log_event(LOG_LEVEL_WARN, "structs_not_kept", "count=%zu errno=%d", bt->n, errno);
	bt->n = 0;
	buf_reset(&bt->data);
}

static int
batch_add(struct batch *bt, uint32_t uid, const struct buf *env, const struct buf *body,
    const struct buf *bs)
{
	uint8_t h[BLOB_HDR];
	size_t at = bt->data.len;

	if (bt->it == NULL && ((bt->it = calloc(BATCH_MAX, sizeof(*bt->it))) == NULL ||
	    (bt->off = calloc(BATCH_MAX, sizeof(*bt->off))) == NULL)) {
		free(bt->it);
		bt->it = NULL;
		return -1;
	}
	h[0] = BLOB_VERSION;
	put_be32(h + 1, (uint32_t)env->len);
	put_be32(h + 5, (uint32_t)body->len);
	put_be32(h + 9, (uint32_t)bs->len);
	if (buf_append(&bt->data, h, sizeof(h)) < 0 || buf_append(&bt->data, env->data, env->len) < 0 ||
	    buf_append(&bt->data, body->data, body->len) < 0 ||
	    buf_append(&bt->data, bs->data, bs->len) < 0) {
		bt->data.len = at;
		return -1;
	}
	bt->it[bt->n] = (struct mindex_cache_item){ .uid = uid, .len = bt->data.len - at };
	bt->off[bt->n++] = at;
	return 0;
}

/* Add e to the page being filled, sending it first when it is full. */
static void
page_add(struct view_session *s, const struct store_struct *e, uint32_t *in_page)
{
	if (storeimap_structs_add(s->out, e) < 0) {
		view_reply(s);
		storeimap_structs_start(s->out);
		*in_page = 0;
		(void)storeimap_structs_add(s->out, e);
	}
	(*in_page)++;
}

int
imap_on_structs(void *ctx, struct ipc_in *in)
{
	static struct buf blob, env, body, bs, file;
	static struct batch bt;
	struct view_session *s = ctx;
	struct view_imap *m = s->imap;
	char name[STORE_NAME_MAX + 1];
	uint32_t in_page = 0, made = 0;
	uint64_t total = 0;
	uint8_t u8;
	size_t i;

	if (storeimap_set_get(in, &u8, name, &m->set) < 0)
		return -1;
	if (imap_set_uids(m, &m->set, &m->a) < 0)
		return imap_reply_errno(s, errno, "structs");
	if (blob.max == 0) {
		buf_init(&blob, MINDEX_CACHE_MAX);
		buf_init(&env, STORE_STRUCT_TEXT_MAX + 1);
		buf_init(&body, STORE_STRUCT_TEXT_MAX + 1);
		buf_init(&bs, STORE_STRUCT_TEXT_MAX + 1);
		buf_init(&bt.data, 16u << 20);
		buf_init(&file, STRUCT_READ_MAX);
	}
	storeimap_structs_start(s->out);
	for (i = 0; i < m->a.n; i++) {
		uint32_t uid = m->a.v[i];
		struct store_struct e = { .uid = uid };
		int rc = mindex_cache_get(m->box, uid, MINDEX_CACHE_STRUCTS, &blob);
		if (rc < 0)
			return imap_reply_errno(s, EIO, "structs");
		if (rc == 0 || blob_read(&blob, &e) < 0) {
			/* buffers one byte over the page limit: a longer text
			 * fails to fit and is not kept */
			if (make(m->box, uid, &file, &env, &body, &bs) < 0)
				continue;	/* gone, or too big: the worker reads it */
			e.env = env.data;
			e.env_len = (uint32_t)env.len;
			e.body = body.data;
			e.body_len = (uint32_t)body.len;
			e.bs = bs.data;
			e.bs_len = (uint32_t)bs.len;
			if ((uint64_t)e.env_len + e.body_len + e.bs_len > STORE_STRUCT_TEXT_MAX)
				continue;
			made++;
			if (batch_add(&bt, uid, &env, &body, &bs) == 0 &&
			    (bt.n == BATCH_MAX || bt.data.len >= BATCH_BYTES))
				batch_flush(m->box, &bt);
		}
		page_add(s, &e, &in_page);
		total++;
	}
	if (in_page > 0)
		view_reply(s);
	batch_flush(m->box, &bt);
	if (made > 0)
		log_event(LOG_LEVEL_DEBUG, "structs_made", "count=%u", made);
	/* keep an idle session small: max stays, the memory goes */
	buf_free(&bt.data, 0);
	free(bt.it);
	free(bt.off);
	bt.it = NULL;
	bt.off = NULL;
	buf_free(&file, 0);
	if (blob.cap > (64u << 10))
		buf_free(&blob, 0);
	storeproto_ok_put(s->out, total);
	view_reply(s);
	return 0;
}
