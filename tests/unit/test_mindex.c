/* test_mindex.c - the mail index: sync, external changes, STORE with
 * UNCHANGEDSINCE, EXPUNGE, COPY/MOVE, APPEND, keywords, the cache, crash
 * safety, rebuild with Courier and Dovecot UID lists, and the timings of
 * 100,000 messages (printed, never asserted). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../common/mail/folders.h"
#include "../../common/mail/mindex.h"
#include "tap.h"

static char dir[64];
static int root = -1;
static struct mindex *mi;

static void
put(const char *sub, const char *name, const char *body)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", sub, name);
	fd = openat(root, path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return;
	if (body != NULL && write(fd, body, strlen(body)) < 0)
		CHECK(0, "write");
	close(fd);
}

static int
exists(const char *sub, const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", sub, name);
	return fstatat(root, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int
nlink_of(const char *path)
{
	struct stat st;

	return fstatat(root, path, &st, AT_SYMLINK_NOFOLLOW) == 0 ? (int)st.st_nlink : -1;
}

/* n messages in sub of folder fdir: times t0 + i / 2 (pairs share a
 * second: the name decides), delivered in reverse so that readdir order
 * is not UID order. */
static void
deliver_n(const char *fdir, const char *sub, int n, long t0)
{
	char d[128], name[128];
	int i;

	snprintf(d, sizeof(d), "%s/%s", fdir, sub);
	for (i = n - 1; i >= 0; i--) {
		snprintf(name, sizeof(name), "%ld.M%dP1Q%d.testhost,S=%d,W=%d%s", t0 + i / 2, i, i, 100 + i, 102 + i,
		    strcmp(sub, "cur") == 0 ? ":2," : "");
		put(d, name, NULL);
	}
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time so far, user and system, in ms. */
static void
cpu_ms(double *user, double *sys)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*user = ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3;
	*sys = ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
}

static int
is_ascending(const struct mindex_uids *u)
{
	size_t i;

	for (i = 1; i < u->n; i++)
		if (u->v[i - 1] >= u->v[i])
			return 0;
	return 1;
}

static struct mindex_status
status_of(struct mindex_box *b)
{
	struct mindex_status st;

	memset(&st, 0, sizeof(st));
	if (mindex_status(b, &st) < 0)
		CHECK(0, "status");
	return st;
}

static void
test_sync_basic(struct mindex_box **inbox)
{
	struct mindex_uids view = { 0 }, gone = { 0 };
	struct mindex_status st;
	struct mindex_msg m;
	struct mindex_box *b;
	uint64_t hm;
	int i, order_ok = 1;

	deliver_n(".", "new", 1000, 1700000000);
	CHECK(mindex_box_open(mi, ".", 1, &b) == 0, "open INBOX read-write");
	CHECK(mindex_sync(b, &gone) == 0 && gone.n == 0, "cold sync of 1,000 messages");
	st = status_of(b);
	CHECK(st.messages == 1000 && st.unseen == 1000 && st.uidnext == 1001 && st.recent == 0, "STATUS counts");
	CHECK(st.size == 1000 * 102 + 999 * 1000 / 2, "STATUS=SIZE from W=");
	CHECK(st.uidvalidity >= (uint32_t)time(NULL) - 5, "UIDVALIDITY from the clock");
	CHECK(mindex_uids(b, &view) == 0 && view.n == 1000 && is_ascending(&view) && view.v[0] == 1, "uid view");
	for (i = 0; i < 1000 && order_ok; i++)
		order_ok = mindex_get(b, (uint32_t)i + 1, &m) == 1 && m.date == 1700000000 + i / 2 && !m.in_new &&
		    m.size == (uint64_t)(102 + i);
	CHECK(order_ok, "UIDs in delivery-time order, then name; date and size from the name");
	CHECK(mindex_get(b, 1, &m) == 1 && !strcmp(m.name, "1700000000.M0P1Q0.testhost,S=100,W=102:2,"),
	    "moved from new/ to cur/ with :2,");
	CHECK(!exists("new", "1700000000.M0P1Q0.testhost,S=100,W=102") &&
	    exists("cur", "1700000000.M0P1Q0.testhost,S=100,W=102:2,"), "file moved on disk");
	CHECK(mindex_seq(&view, 500) == 500 && mindex_seq(&view, 5000) == 0, "seq of uid");
	CHECK(mindex_uid_of(b, "1700000001.M3P1Q3.testhost,S=103,W=105", 38) == 4, "reverse map name -> uid");
	hm = st.highestmodseq;
	CHECK(mindex_sync(b, &gone) == 0 && gone.n == 0 && status_of(b).highestmodseq == hm, "warm sync: no change");
	mindex_uids_free(&view);
	mindex_uids_free(&gone);
	*inbox = b;
}

static void
test_store(struct mindex_box *b)
{
	struct mindex_uids failed = { 0 }, ch = { 0 };
	uint32_t uids[20], i;
	uint64_t m1, m2, before = status_of(b).highestmodseq;
	struct mindex_msg m;
	int ok = 1;

	for (i = 0; i < 20; i++)
		uids[i] = i + 1;
	CHECK(mindex_store(b, uids, 10, MINDEX_STORE_ADD, MINDEX_SEEN, UINT64_MAX, NULL, &m1) == 10, "+FLAGS \\Seen on 10");
	CHECK(m1 > before && status_of(b).highestmodseq == m1, "HIGHESTMODSEQ bumped");
	CHECK(status_of(b).unseen == 990, "unseen counted");
	CHECK(mindex_get(b, 3, &m) == 1 && (m.flags & MINDEX_SEEN) && m.modseq == m1 &&
	    !strcmp(m.name, "1700000001.M2P1Q2.testhost,S=102,W=104:2,S") && exists("cur", m.name),
	    "file renamed with S, record updated");
	CHECK(mindex_changed_since(b, before, &ch) == 0 && ch.n == 10 && ch.v[9] == 10, "CHANGEDSINCE");
	CHECK(mindex_store(b, uids, 10, MINDEX_STORE_ADD, MINDEX_SEEN, UINT64_MAX, NULL, &m2) == 0 && m2 == m1,
	    "no change: no MODSEQ");
	CHECK(mindex_store(b, uids, 20, MINDEX_STORE_ADD, MINDEX_FLAGGED, before, &failed, &m2) == 10,
	    "UNCHANGEDSINCE: 10 changed");
	CHECK(failed.n == 10 && failed.v[0] == 1 && failed.v[9] == 10, "UNCHANGEDSINCE: the 10 newer ones failed");
	for (i = 10; i < 20; i++)
		ok &= mindex_get(b, i + 1, &m) == 1 && m.flags == MINDEX_FLAGGED && m.modseq == m2;
	CHECK(ok && m2 > m1, "the others flagged with the new MODSEQ");
	CHECK(mindex_store(b, uids + 10, 1, MINDEX_STORE_SET, MINDEX_ANSWERED | MINDEX_DRAFT, UINT64_MAX, NULL, NULL) == 1 &&
	    mindex_get(b, 11, &m) == 1 && m.flags == (MINDEX_ANSWERED | MINDEX_DRAFT) &&
	    strstr(m.name, ":2,DR") != NULL, "FLAGS replaces, letters sorted");
	CHECK(mindex_store(b, uids + 10, 1, MINDEX_STORE_REMOVE, MINDEX_DRAFT, UINT64_MAX, NULL, NULL) == 1 &&
	    mindex_get(b, 11, &m) == 1 && m.flags == MINDEX_ANSWERED, "-FLAGS");
	uids[0] = 99999;
	CHECK(mindex_store(b, uids, 1, MINDEX_STORE_ADD, MINDEX_SEEN, UINT64_MAX, NULL, NULL) == 0, "unknown UID skipped");
	mindex_uids_free(&failed);
	mindex_uids_free(&ch);
}

static void
test_keywords_cache(struct mindex_box *b)
{
	char name[MINDEX_KEYWORD_MAX + 1];
	uint32_t kw, kw2, uid = 30;
	struct mindex_msg m;
	struct buf out;

	CHECK(mindex_keyword(b, "$Forwarded", 0, &kw) == -1 && errno == ENOENT, "unknown keyword");
	CHECK(mindex_keyword(b, "$Forwarded", 1, &kw) == 0 && kw == MINDEX_KEYWORD0, "first keyword is letter a");
	CHECK(mindex_keyword(b, "$forwarded", 0, &kw2) == 0 && kw2 == kw, "keywords are case-insensitive");
	CHECK(mindex_keyword(b, "Work", 1, &kw2) == 0 && kw2 == MINDEX_KEYWORD0 << 1, "second is letter b");
	CHECK(mindex_keyword(b, "bad word", 1, &kw2) == -1 && errno == EINVAL, "not an atom refused");
	CHECK(mindex_keyword_name(b, 1, name) == 0 && !strcmp(name, "Work"), "keyword name");
	CHECK(mindex_store(b, &uid, 1, MINDEX_STORE_ADD, kw | kw2 | MINDEX_SEEN, UINT64_MAX, NULL, NULL) == 1 &&
	    mindex_get(b, uid, &m) == 1 && strstr(m.name, ":2,Sab") != NULL, "keyword letters in the name");
	buf_init(&out, 1 << 20);
	CHECK(mindex_cache_put(b, uid, 1, "(envelope)", 10) == 0 && mindex_cache_get(b, uid, 1, &out) == 1 &&
	    out.len == 10 && !memcmp(out.data, "(envelope)", 10), "cache put/get");
	CHECK(mindex_cache_get(b, uid, 2, &out) == 0, "other kind absent");
	CHECK(mindex_cache_put(b, 99999, 1, "x", 1) == -1 && errno == ENOENT, "cache of unknown uid refused");
	buf_free(&out, 0);
}

static void
test_external(struct mindex_box *b)
{
	struct mindex_uids gone = { 0 };
	struct mindex_msg m, m2;
	char from[300], to[300];
	uint64_t hm = status_of(b).highestmodseq;

	put("new", "1800000000.M1P9.other", "Subject: x\n\nbody\n");
	CHECK(mindex_get(b, 40, &m) == 1 && mindex_get(b, 41, &m2) == 1, "uids 40 and 41 known");
	snprintf(from, sizeof(from), "cur/%s", m.name);
	snprintf(to, sizeof(to), "cur/%.*s:2,FS", (int)(strchr(m.name, ':') - m.name), m.name);
	CHECK(renameat(root, from, root, to) == 0, "another program sets FS on uid 40");
	snprintf(from, sizeof(from), "cur/%s", m2.name);
	CHECK(unlinkat(root, from, 0) == 0, "another program deletes uid 41");
	CHECK(mindex_sync(b, &gone) == 0 && gone.n == 1 && gone.v[0] == 41, "vanished file reported expunged");
	CHECK(mindex_get(b, 40, &m) == 1 && m.flags == (MINDEX_SEEN | MINDEX_FLAGGED) && m.modseq > hm,
	    "flag change picked up, uid stable, MODSEQ bumped");
	CHECK(mindex_get(b, 1001, &m) == 1 && !m.in_new && m.size == 20 && m.date == 1800000000,
	    "new file adopted, moved, size computed once (CRLF)");
	CHECK(status_of(b).messages == 1000 && status_of(b).uidnext == 1002, "counts after external changes");
	mindex_uids_free(&gone);
}

static void
test_expunge(struct mindex_box *b)
{
	struct mindex_uids gone = { 0 };
	uint32_t uids[5] = { 100, 101, 102, 103, 104 }, some[2] = { 100, 105 };
	struct mindex_msg m;
	struct buf out;
	char name[300];

	CHECK(mindex_cache_put(b, 100, 1, "abc", 3) == 0 && mindex_get(b, 100, &m) == 1, "cache for 100");
	snprintf(name, sizeof(name), "%s", m.name);
	CHECK(mindex_store(b, uids, 5, MINDEX_STORE_ADD, MINDEX_DELETED, UINT64_MAX, NULL, NULL) == 5 &&
	    status_of(b).deleted == 5, "5 \\Deleted");
	CHECK(mindex_expunge(b, some, 2, &gone) == 1 && gone.n == 1 && gone.v[0] == 100, "UID EXPUNGE: only \\Deleted in the set");
	CHECK(!exists("cur", name) && mindex_get(b, 100, &m) == 0, "file unlinked, record gone");
	buf_init(&out, 64);
	CHECK(mindex_cache_get(b, 100, 1, &out) == 0, "cache gone with the message");
	buf_free(&out, 0);
	gone.n = 0;
	CHECK(mindex_expunge(b, NULL, 0, &gone) == 4 && gone.n == 4 && gone.v[0] == 101 && gone.v[3] == 104,
	    "EXPUNGE: every \\Deleted");
	CHECK(status_of(b).messages == 995 && status_of(b).deleted == 0, "counts after expunge");
	mindex_uids_free(&gone);
}

static void
test_copy_move_append(struct mindex_box *b)
{
	struct mindex_uids su = { 0 }, du = { 0 };
	uint32_t uids[3] = { 30, 31, 32 }, kw, uid;
	struct mindex_msg m;
	struct mindex_box *s;
	char path[300], kwname[MINDEX_KEYWORD_MAX + 1];
	int p[2];

	CHECK(folders_create(root, "Sent", '/') == 0 && mindex_box_open(mi, ".Sent", 1, &s) == 0, "open Sent");
	CHECK(mindex_sync(s, NULL) == 0 && status_of(s).uidvalidity > status_of(b).uidvalidity, "Sent's own UIDVALIDITY");
	CHECK(mindex_keyword(s, "Other", 1, &kw) == 0 && kw == MINDEX_KEYWORD0, "Sent has its own table");
	CHECK(mindex_copy(b, s, uids, 3, 0, &su, &du) == 3, "COPY 3");
	CHECK(su.n == 3 && du.n == 3 && su.v[0] == 30 && du.v[0] == 1 && du.v[2] == 3, "COPYUID mapping");
	CHECK(mindex_get(s, 1, &m) == 1 && m.flags == (MINDEX_SEEN | (MINDEX_KEYWORD0 << 1) | (MINDEX_KEYWORD0 << 2)),
	    "keywords mapped to the target's slots");
	CHECK(mindex_keyword_name(s, 1, kwname) == 0 && !strcmp(kwname, "$Forwarded"), "target learnt the keyword");
	snprintf(path, sizeof(path), ".Sent/cur/%s", m.name);
	CHECK(nlink_of(path) == 2, "COPY is a hard link");
	CHECK(mindex_copy(b, s, uids, 1, 0, NULL, NULL) == 1 && mindex_get(s, 4, &m) == 1 &&
	    strncmp(m.name, "1700000015", 10) != 0, "copied twice: a fresh name");
	CHECK(mindex_copy(b, b, uids, 1, 0, NULL, &du) == 1 && status_of(b).messages == 996, "COPY into the same folder");
	CHECK(mindex_copy(b, b, uids, 1, 1, NULL, NULL) == -1 && errno == EINVAL, "MOVE into the same folder refused");
	su.n = du.n = 0;
	uids[0] = 50;
	CHECK(mindex_get(b, 50, &m) == 1 && mindex_copy(b, s, uids, 1, 1, &su, &du) == 1 && du.v[0] == 5,
	    "MOVE");
	CHECK(mindex_get(b, 50, &m) == 0 && !exists("cur", m.name) && status_of(b).messages == 995 &&
	    status_of(s).messages == 5, "MOVE removed the source");
	CHECK(pipe(p) == 0 && write(p[1], "Subject: a\n\nb\n", 14) == 14 && close(p[1]) == 0, "message to append");
	CHECK(mindex_append(s, p[0], 1 << 20, MINDEX_SEEN | kw, 1600000000, &uid) == 0 && uid == 6, "APPEND");
	close(p[0]);
	CHECK(mindex_get(s, uid, &m) == 1 && m.size == 17 && m.date == 1600000000 && strstr(m.name, ":2,Sa") &&
	    exists(".Sent/cur", m.name), "appended into cur/ with flags, size, date");
	mindex_uids_free(&su);
	mindex_uids_free(&du);
	mindex_box_close(s);
}

/* The file system changes, the commit fails: the next sync agrees with the
 * Maildir and keeps the UIDs of the files that did not change. */
static void
test_crash(struct mindex_box *b)
{
	struct mindex_uids gone = { 0 }, before = { 0 }, after = { 0 };
	uint32_t uid = 200, del = 201, next;
	struct mindex_box *c;
	struct mindex_msg m;
	int p[2];

	CHECK(mindex_uids(b, &before) == 0, "uids before");
	mindex_test_fail_commit(mi, 1);
	CHECK(mindex_store(b, &uid, 1, MINDEX_STORE_ADD, MINDEX_FLAGGED, UINT64_MAX, NULL, NULL) == -1 && errno == EIO,
	    "STORE: crash before commit");
	CHECK(mindex_get(b, uid, &m) == 1 && !(m.flags & MINDEX_FLAGGED) && !exists("cur", m.name),
	    "index behind: file renamed, record not");
	CHECK(mindex_sync(b, &gone) == 0 && gone.n == 0 && mindex_get(b, uid, &m) == 1 && (m.flags & MINDEX_FLAGGED) &&
	    exists("cur", m.name), "sync repairs the flags, same UID");
	CHECK(mindex_store(b, &del, 1, MINDEX_STORE_ADD, MINDEX_DELETED, UINT64_MAX, NULL, NULL) == 1, "\\Deleted 201");
	mindex_test_fail_commit(mi, 1);
	CHECK(mindex_expunge(b, NULL, 0, NULL) == -1, "EXPUNGE: crash before commit");
	CHECK(mindex_sync(b, &gone) == 0 && gone.n == 1 && gone.v[0] == 201, "sync reports the unlinked file expunged");
	next = status_of(b).uidnext;
	mindex_test_fail_commit(mi, 1);
	CHECK(pipe(p) == 0 && write(p[1], "x\n", 2) == 2 && close(p[1]) == 0, "pipe");
	CHECK(mindex_append(b, p[0], 100, MINDEX_SEEN, 0, &uid) == -1, "APPEND: crash before commit");
	close(p[0]);
	gone.n = 0;
	/* an APPEND whose commit failed was answered NO: its file goes too
	 * (RFC 3502's all or none; a retry must not make a duplicate) */
	CHECK(mindex_sync(b, &gone) == 0 && gone.n == 0 && status_of(b).uidnext == next,
	    "the failed APPEND leaves no file for a sync to adopt");
	CHECK(mindex_uids(b, &after) == 0 && after.n == before.n - 1 && before.v[0] == after.v[0] &&
	    before.v[before.n - 1] == after.v[after.n - 1], "UIDs of unchanged files kept");
	CHECK(folders_create(root, "Crash", '/') == 0 && mindex_box_open(mi, ".Crash", 1, &c) == 0, "target folder");
	uid = 202;
	mindex_test_fail_commit(mi, 1);
	CHECK(mindex_copy(b, c, &uid, 1, 0, NULL, NULL) == -1 && status_of(c).messages == 0, "COPY: crash before commit");
	CHECK(mindex_sync(c, NULL) == 0 && status_of(c).messages == 1 && mindex_get(b, 202, &m) == 1 &&
	    status_of(c).uidnext == 2, "sync adopts the linked file; the source keeps its UID");
	mindex_box_close(c);
	mindex_uids_free(&gone);
	mindex_uids_free(&before);
	mindex_uids_free(&after);
}

/* Every kind of change takes a new, higher MODSEQ; a message's MODSEQ
 * never exceeds HIGHESTMODSEQ. */
static void test_each(struct mindex_box *b, const struct mindex_uids *all);

static void
test_modseq(struct mindex_box *b)
{
	uint64_t h[6];
	uint32_t uid = 300, got;
	struct mindex_uids all = { 0 };
	struct mindex_msg m;
	char from[300], to[300];
	size_t i;
	int p[2], ok = 1;

	h[0] = status_of(b).highestmodseq;
	CHECK(mindex_store(b, &uid, 1, MINDEX_STORE_ADD, MINDEX_DELETED, UINT64_MAX, NULL, NULL) == 1, "store");
	h[1] = status_of(b).highestmodseq;
	CHECK(mindex_expunge(b, NULL, 0, NULL) == 1, "expunge");
	h[2] = status_of(b).highestmodseq;
	CHECK(pipe(p) == 0 && write(p[1], "y\n", 2) == 2 && close(p[1]) == 0 &&
	    mindex_append(b, p[0], 100, 0, 0, &got) == 0 && close(p[0]) == 0, "append");
	h[3] = status_of(b).highestmodseq;
	CHECK(mindex_get(b, 301, &m) == 1, "uid 301");
	snprintf(from, sizeof(from), "cur/%s", m.name);
	snprintf(to, sizeof(to), "cur/%.*sT", (int)strlen(m.name), m.name);
	CHECK(renameat(root, from, root, to) == 0 && mindex_sync(b, NULL) == 0, "external flag change synced");
	h[4] = status_of(b).highestmodseq;
	uid = 302;
	CHECK(mindex_copy(b, b, &uid, 1, 0, NULL, NULL) == 1, "copy");
	h[5] = status_of(b).highestmodseq;
	for (i = 1; i < 6; i++)
		ok &= h[i] > h[i - 1];
	CHECK(ok, "HIGHESTMODSEQ grows with STORE, EXPUNGE, APPEND, sync, COPY");
	CHECK(mindex_get(b, 301, &m) == 1 && m.modseq == h[4] && (m.flags & MINDEX_DELETED), "message MODSEQ of the sync");
	CHECK(mindex_uids(b, &all) == 0, "all uids");
	for (i = 0; i < all.n && ok; i++)
		ok = mindex_get(b, all.v[i], &m) == 1 && m.modseq <= h[5] && m.modseq > 0;
	CHECK(ok, "no MODSEQ above HIGHESTMODSEQ");
	test_each(b, &all);
	mindex_uids_free(&all);
}

struct each_seen {
	struct mindex_box *b;
	const struct mindex_uids *all;
	size_t n;
	int ok;
};

static int
each_check(void *ctx, const struct mindex_msg *m)
{
	struct each_seen *e = ctx;
	struct mindex_msg g;

	e->ok &= e->n < e->all->n && m->uid == e->all->v[e->n] && mindex_get(e->b, m->uid, &g) == 1 &&
	    g.flags == m->flags && g.modseq == m->modseq && g.size == m->size && g.date == m->date;
	e->n++;
	return 0;
}

static int
each_stop(void *ctx, const struct mindex_msg *m)
{
	(void)m;
	return ++*(size_t *)ctx == 2 ? -1 : 0;
}

/* mindex_each: every record in UID order, as mindex_get has it; a -1 of
 * fn ends the walk. */
static void
test_each(struct mindex_box *b, const struct mindex_uids *all)
{
	struct each_seen e = { b, all, 0, 1 };
	size_t n = 0;

	CHECK(mindex_each(b, each_check, &e) == 0 && e.ok && e.n == all->n, "mindex_each: every record, in order");
	CHECK(mindex_each(b, each_stop, &n) == -1 && n == 2, "mindex_each: stops when fn says");
}

/* Symlinks a user may plant: as cur/ (the folder is refused) and as a
 * message (ignored). */
static void
test_symlinks(void)
{
	struct mindex_box *b;
	struct mindex_uids u = { 0 };

	CHECK(folders_create(root, "Trap", '/') == 0 && unlinkat(root, ".Trap/cur", AT_REMOVEDIR) == 0 &&
	    symlinkat("/etc", root, ".Trap/cur") == 0, "cur/ planted as a symlink");
	CHECK(mindex_box_open(mi, ".Trap", 1, &b) == -1, "folder with a symlinked cur/ refused");
	CHECK(mindex_box_open(mi, "..", 1, &b) == -1 && errno == EINVAL && mindex_box_open(mi, "../x", 1, &b) == -1 &&
	    mindex_box_open(mi, MINDEX_DIR, 1, &b) == -1, "hostile directory names refused");
	CHECK(folders_create(root, "Links", '/') == 0 && symlinkat("/etc/passwd", root, ".Links/cur/1.M1.x:2,S") == 0,
	    "message planted as a symlink");
	CHECK(mindex_box_open(mi, ".Links", 1, &b) == 0 && mindex_sync(b, NULL) == 0 && mindex_uids(b, &u) == 0 &&
	    u.n == 0, "symlinked message not indexed");
	mindex_box_close(b);
	mindex_uids_free(&u);
}

static void
test_folder_rename_drop(void)
{
	struct mindex_box *b;
	uint32_t uidv;

	CHECK(mindex_box_open(mi, ".Sent", 0, &b) == 0, "open Sent");
	uidv = status_of(b).uidvalidity;
	mindex_box_close(b);
	CHECK(folders_rename(root, "Sent", "Archive/2026", '/') == 0 &&
	    mindex_folder_rename(mi, ".Sent", ".Archive.2026") == 0, "rename Sent");
	CHECK(mindex_box_open(mi, ".Archive.2026", 0, &b) == 0 && mindex_sync(b, NULL) == 0 &&
	    status_of(b).uidvalidity == uidv && status_of(b).messages == 6, "same mailbox under the new name");
	mindex_box_close(b);
	CHECK(folders_delete(root, "Archive/2026", '/') == 0 && mindex_folder_drop(mi, ".Archive.2026") == 0,
	    "delete it");
	CHECK(folders_create(root, "Archive/2026", '/') == 0 && mindex_box_open(mi, ".Archive.2026", 0, &b) == 0 &&
	    status_of(b).uidvalidity > uidv && status_of(b).messages == 0, "recreated: a new UIDVALIDITY");
	mindex_box_close(b);
}

static void
test_rebuild(struct mindex_box **inbox)
{
	struct mindex_uids before = { 0 }, after = { 0 };
	struct mindex_status st = status_of(*inbox);
	struct mindex_box *s;
	struct mindex_msg m1, m2;
	uint32_t uidv;
	char err[256];
	int same = 1;
	size_t i;

	CHECK(folders_create(root, "Stale", '/') == 0 && mindex_box_open(mi, ".Stale", 0, &s) == 0, "folder Stale");
	uidv = status_of(s).uidvalidity;
	mindex_box_close(s);
	CHECK(folders_delete(root, "Stale", '/') == 0, "Stale deleted behind the index's back");
	CHECK(mindex_uids(*inbox, &before) == 0, "uids before rebuild");
	mindex_box_close(*inbox);
	mindex_close(mi);
	CHECK(mindex_rebuild(root, "testhost", err, sizeof(err)) >= 3 || (printf("# %s\n", err), 0), "rebuild");
	CHECK(mindex_open(&mi, root, "testhost", err, sizeof(err)) == 0 && mindex_box_open(mi, ".", 1, inbox) == 0,
	    "reopen");
	CHECK(mindex_uids(*inbox, &after) == 0 && after.n == before.n, "same number of messages");
	for (i = 0; i < before.n && same; i++)
		same = before.v[i] == after.v[i];
	CHECK(same && status_of(*inbox).uidvalidity == st.uidvalidity && status_of(*inbox).uidnext == st.uidnext,
	    "UIDs, UIDVALIDITY and UIDNEXT kept across a rebuild");
	CHECK(mindex_get(*inbox, 30, &m1) == 1 && (m1.flags & MINDEX_KEYWORD0), "flags from the names");
	CHECK(mindex_get(*inbox, 1, &m2) == 1 && m2.date > 1700000000, "dates from the mtimes in a rebuild");
	CHECK(folders_create(root, "Stale", '/') == 0 && mindex_box_open(mi, ".Stale", 0, &s) == 0 &&
	    status_of(s).uidvalidity != uidv, "the stale record was dropped by the rebuild");
	mindex_box_close(s);
	mindex_uids_free(&before);
	mindex_uids_free(&after);
}

static void
write_at(int fd, const char *name, const char *text)
{
	int f = openat(fd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(f >= 0 && write(f, text, strlen(text)) == (ssize_t)strlen(text) && close(f) == 0, name);
}

static void
test_import(void)
{
	struct mindex_box *b;
	struct mindex_msg m;
	char err[256], kw[MINDEX_KEYWORD_MAX + 1];
	int fd;

	CHECK(folders_create(root, "Courier", '/') == 0 && folders_create(root, "Dove", '/') == 0, "two folders");
	put(".Courier/cur", "1500000000.M1P1.old:2,S", "a\n");
	put(".Courier/cur", "1500000001.M1P1.old:2,", "b\n");
	put(".Courier/new", "1500000002.M1P1.old", "c\n");
	put(".Courier/cur", "1500000003.M1P1.old:2,", "d\n");
	fd = openat(root, ".Courier", O_RDONLY | O_DIRECTORY);
	write_at(fd, "courierimapuiddb", "1 1234567 40\n17 1500000000.M1P1.old\n23 1500000001.M1P1.old\n"
	    "31 1500000002.M1P1.old\n35 1500000099.M1P1.gone\n");
	close(fd);
	put(".Dove/cur", "1500000000.M1P1.dv:2,Sa", "a\n");
	put(".Dove/cur", "1500000001.M1P1.dv:2,", "b\n");
	fd = openat(root, ".Dove", O_RDONLY | O_DIRECTORY);
	write_at(fd, "dovecot-uidlist", "3 V7654321 N20 Gabcdef\n5 :1500000000.M1P1.dv\n9 W12 :1500000001.M1P1.dv:2,\n");
	write_at(fd, "dovecot-keywords", "0 $Label1\n");
	close(fd);
	/* the index has never seen these folders */
	mindex_close(mi);
	CHECK(mindex_rebuild(root, "testhost", err, sizeof(err)) >= 5, "rebuild with UID lists");
	CHECK(mindex_open(&mi, root, "testhost", err, sizeof(err)) == 0, "reopen");
	CHECK(mindex_box_open(mi, ".Courier", 0, &b) == 0 && status_of(b).uidvalidity == 1234567 &&
	    status_of(b).uidnext == 41, "Courier: UIDVALIDITY and UIDNEXT");
	CHECK(mindex_get(b, 17, &m) == 1 && (m.flags & MINDEX_SEEN) && mindex_get(b, 23, &m) == 1 &&
	    mindex_get(b, 31, &m) == 1 && m.in_new && mindex_get(b, 40, &m) == 1 && !strncmp(m.name, "1500000003", 10),
	    "Courier: UIDs kept, the unlisted file gets UIDNEXT");
	mindex_box_close(b);
	CHECK(mindex_box_open(mi, ".Dove", 0, &b) == 0 && status_of(b).uidvalidity == 7654321 &&
	    mindex_get(b, 5, &m) == 1 && m.flags == (MINDEX_SEEN | MINDEX_KEYWORD0) && mindex_get(b, 9, &m) == 1 &&
	    status_of(b).uidnext == 20, "Dovecot: UIDs, UIDVALIDITY, UIDNEXT");
	CHECK(mindex_keyword_name(b, 0, kw) == 0 && !strcmp(kw, "$Label1"), "Dovecot: keywords");
	mindex_box_close(b);
}

static void
test_100k(void)
{
	struct mindex_box *b, *d;
	struct mindex_uids u = { 0 }, gone = { 0 };
	uint32_t *set;
	double t0, cold, warm, store, expunge, copy, u0, s0, u1, s1, cu, cs;
	int i, ok;

	CHECK(folders_create(root, "Big", '/') == 0 && folders_create(root, "Big2", '/') == 0, "folders for 100k");
	deliver_n(".Big", "cur", 100000, 1700000000);
	CHECK(mindex_box_open(mi, ".Big", 1, &b) == 0 && mindex_box_open(mi, ".Big2", 1, &d) == 0, "open");
	t0 = now_ms();
	cpu_ms(&u0, &s0);
	ok = mindex_sync(b, NULL) == 0;
	cold = now_ms() - t0;
	cpu_ms(&u1, &s1);
	cu = u1 - u0;
	cs = s1 - s0;
	CHECK(ok && status_of(b).messages == 100000, "cold sync of 100,000");
	t0 = now_ms();
	ok = mindex_sync(b, &gone) == 0 && gone.n == 0;
	warm = now_ms() - t0;
	CHECK(ok, "warm sync of 100,000");
	set = calloc(10000, sizeof(*set));
	for (i = 0; i < 10000; i++)
		set[i] = (uint32_t)(i * 10 + 1);
	t0 = now_ms();
	cpu_ms(&u0, &s0);
	ok = mindex_store(b, set, 10000, MINDEX_STORE_ADD, MINDEX_SEEN, UINT64_MAX, NULL, NULL) == 10000;
	store = now_ms() - t0;
	cpu_ms(&u1, &s1);
	CHECK(ok, "STORE 10,000");
	t0 = now_ms();
	ok = mindex_copy(b, d, set, 10000, 0, NULL, NULL) == 10000;
	copy = now_ms() - t0;
	CHECK(ok && status_of(d).messages == 10000, "COPY 10,000");
	CHECK(mindex_store(b, set, 10000, MINDEX_STORE_ADD, MINDEX_DELETED, UINT64_MAX, NULL, NULL) == 10000,
	    "\\Deleted on 10,000");
	t0 = now_ms();
	ok = mindex_expunge(b, NULL, 0, NULL) == 10000;
	expunge = now_ms() - t0;
	CHECK(ok && status_of(b).messages == 90000, "EXPUNGE 10,000");
	CHECK(mindex_uids(b, &u) == 0 && u.n == 90000 && is_ascending(&u), "90,000 left");
	printf("# 100k: cold sync %.1f ms (cpu user %.1f sys %.1f), warm sync %.3f ms, STORE 10k %.1f ms (cpu user %.1f sys %.1f), "
	    "EXPUNGE 10k %.1f ms, COPY 10k %.1f ms\n", cold, cu, cs, warm, store, u1 - u0, s1 - s0, expunge, copy);
	free(set);
	mindex_uids_free(&u);
	mindex_uids_free(&gone);
	mindex_box_close(b);
	mindex_box_close(d);
}

static int
note_changed(void *ctx, uint32_t uid, uint32_t flags)
{
	struct mindex_uids *u = ctx;

	uint32_t *v;

	if (!(flags & MINDEX_DRAFT) || (v = realloc(u->v, (u->n + 1) * sizeof(*v))) == NULL)
		return -1;
	u->v = v;
	u->v[u->n++] = uid;
	return 0;
}

/* mindex_store_each reports what it changed, in order, and nothing else. */
static void
test_store_each(struct mindex_box *b)
{
	struct mindex_uids seen = { 0 }, all = { 0 };
	uint32_t uids[3];
	uint64_t modseq;
	struct mindex_msg m;

	CHECK(mindex_uids(b, &all) == 0 && all.n >= 3, "three messages");
	memcpy(uids, all.v, sizeof(uids));
	CHECK(mindex_store(b, uids + 1, 1, MINDEX_STORE_ADD, MINDEX_DRAFT, UINT64_MAX, NULL, NULL) == 1,
	    "the second is a draft already");
	CHECK(mindex_store_each(b, uids, 3, MINDEX_STORE_ADD, MINDEX_DRAFT, UINT64_MAX, NULL, &modseq,
	    note_changed, &seen) == 2 && seen.n == 2 && seen.v[0] == uids[0] && seen.v[1] == uids[2],
	    "STORE reports the two it changed, in order");
	CHECK(mindex_get(b, uids[2], &m) == 1 && m.modseq == modseq && (m.flags & MINDEX_DRAFT),
	    "with the MODSEQ it returned");
	CHECK(mindex_store(b, uids, 3, MINDEX_STORE_REMOVE, MINDEX_DRAFT, UINT64_MAX, NULL, NULL) == 3,
	    "drafts removed again");
	mindex_uids_free(&seen);
	mindex_uids_free(&all);
}

/* The UID map: kept for the folder's numbers, refused once they moved. */
static void
test_uidmap(struct mindex_box *b)
{
	struct mindex_uidmap m = { 0 }, got = { 0 };
	struct mindex_uids all = { 0 };
	struct mindex_status st = status_of(b), later;
	uint32_t uid;
	size_t i;
	int ok = 1;

	CHECK(mindex_uids(b, &all) == 0 && all.n > 0, "the folder's UIDs");
	for (i = 0; i < all.n; i++)
		ok &= mindex_uidmap_add(&m, all.v[i]) == 0;
	CHECK(ok && m.n >= 1 && m.r[0].lo == all.v[0] && m.r[m.n - 1].hi == all.v[all.n - 1],
	    "UIDs into ranges");
	m.first_unseen = all.v[0];
	CHECK(mindex_uidmap_get(b, &st, &got) == 0, "none kept before a put");
	CHECK(mindex_uidmap_put(b, &st, &m) == 0, "put");
	CHECK(mindex_uidmap_get(b, &st, &got) == 1 && got.n == m.n && got.first_unseen == all.v[0] &&
	    memcmp(got.r, m.r, m.n * sizeof(*m.r)) == 0, "kept for the same numbers");
	uid = all.v[0];
	CHECK(mindex_store(b, &uid, 1, MINDEX_STORE_ADD, MINDEX_FLAGGED, UINT64_MAX, NULL, NULL) == 1,
	    "a flag change");
	later = status_of(b);
	CHECK(mindex_uidmap_get(b, &later, &got) == 0, "not kept after a change (HIGHESTMODSEQ moved)");
	CHECK(mindex_uidmap_put(b, &st, &m) == 0 && mindex_uidmap_get(b, &later, &got) == 0,
	    "a put for numbers no longer the folder's is not kept");
	mindex_uidmap_free(&m);
	mindex_uidmap_free(&got);
	mindex_uids_free(&all);
}

int
main(void)
{
	struct mindex_box *inbox;
	char err[256];

	if (tap_tmpdir(dir, sizeof(dir), "mindex") < 0)
		return tap_done();
	root = open(dir, O_PATH | O_DIRECTORY);
	CHECK(root >= 0 && mkdirat(root, "cur", 0700) == 0 && mkdirat(root, "new", 0700) == 0 &&
	    mkdirat(root, "tmp", 0700) == 0, "mail root");
	CHECK(mindex_open(&mi, root, "testhost", err, sizeof(err)) == 0, "open the index");
	test_sync_basic(&inbox);
	test_store(inbox);
	test_keywords_cache(inbox);
	test_external(inbox);
	test_expunge(inbox);
	test_copy_move_append(inbox);
	test_crash(inbox);
	test_modseq(inbox);
	test_uidmap(inbox);
	test_store_each(inbox);
	test_symlinks();
	test_folder_rename_drop();
	test_rebuild(&inbox);
	mindex_box_close(inbox);
	test_import();
	test_100k();
	mindex_close(mi);
	close(root);
	tap_rmtree(dir);
	return tap_done();
}
