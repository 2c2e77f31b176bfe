/* view_deliver.c - the deliver view: intake workers (LMTP, SMTP for local
 * recipients) hand stored one message at a time as a read-only fd; stored
 * writes it into the INBOX (tmp/ with O_EXCL, fsync, rename into new/,
 * fsync new/) and only then answers MSG_STORE_DELIVERED with the file
 * name, so the worker's 250 follows a durable write (invariant 5).  No
 * lock: Maildir delivery needs none, and a POP3 session's snapshot does
 * not see the new file until its next login.  This is the one view whose
 * filter lets openat create files (O_WRONLY|O_CREAT|O_EXCL, policy.c).
 *
 * Each copy starts with the two header lines users of Postfix, Dovecot
 * and Courier expect at final delivery: "Return-Path: <sender>" (the
 * envelope sender the worker names, checked by storeproto_deliver_get as
 * an SMTP mailbox; "<>" for the null sender) and "Delivered-To: user"
 * (this stored's user, as the master named it).  A message that already
 * carries this user's Delivered-To has been delivered here before and is
 * looping: it is refused (STORE_ERR_LOOP, 554 5.4.6). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../common/base/config.h"
#include "../../common/base/log.h"
#include "../../common/ipc/proto.h"
#include "../../common/ipc/storeimap.h"
#include "../../common/ipc/storeproto.h"
#include "../../common/mail/delivered.h"
#include "../../common/mail/quota.h"
#include "view.h"

/* Does the message at fd (len bytes from its offset) carry "Delivered-To:
 * user" in its header?  A read error counts as no: the copy then fails
 * on the same error. */
static int
looped(int fd, uint64_t len, const char *user)
{
	static struct delivered_scan scan;
	uint8_t b[16384];
	off_t off = lseek(fd, 0, SEEK_CUR);
	ssize_t r;

	if (off < 0)
		return 0;
	delivered_scan_init(&scan, user);
	while (len > 0) {
		r = pread(fd, b, len < sizeof(b) ? (size_t)len : sizeof(b), off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (delivered_scan_feed(&scan, b, (size_t)r))
			return scan.found;
		off += r;
		len -= (uint64_t)r;
	}
	return delivered_scan_end(&scan);
}

/* Maildir++ quota (maildirsize, its definition from the user db): a
 * message that would take the mailbox over it is refused before a byte is
 * written, so the sender gets 552 5.2.2 and keeps the mail.  1 if over. */
static int
over_quota(uint64_t size)
{
	struct quota q;
	int storage;

	if (quota_read(AT_FDCWD, time(NULL), &q, NULL) < 0)
		return 0;
	storage = q.has_storage && q.storage_used + (int64_t)size > (int64_t)q.storage_limit;
	if (!storage && !(q.has_messages && q.messages_used + 1 > (int64_t)q.message_limit))
		return 0;
	log_event(LOG_LEVEL_INFO, "quota_refused", "reason=%s size=%llu used=%lld limit=%llu",
	    storage ? "storage" : "messages", (unsigned long long)size, (long long)q.storage_used,
	    (unsigned long long)q.storage_limit);
	return 1;
}

/* The bytes on disk, from the name's S= (maildir_deliver made it from
 * what it wrote); fallback the expected size. */
static int64_t
written_size(const char *name, uint64_t expected)
{
	struct maildir_name mn;

	if (maildir_parse_name(name, strlen(name), &mn) == 0 && mn.has_size)
		return (int64_t)mn.size;
	return (int64_t)expected;
}

static size_t lines(const char *p, size_t len);

/* quota_warn_percent (prepare copies it): 0 = no warning. */
static unsigned warn_percent;

/* The usage of the larger of the two limits, in percent; -1: no limit. */
static int
usage_percent(const struct quota *q)
{
	int64_t p = -1, m;

	if (q->has_storage && q->storage_limit > 0)
		p = q->storage_used <= 0 ? 0 : (int64_t)((uint64_t)q->storage_used * 100 / q->storage_limit);
	if (q->has_messages && q->message_limit > 0) {
		m = q->messages_used <= 0 ? 0 : (int64_t)((uint64_t)q->messages_used * 100 / q->message_limit);
		if (m > p)
			p = m;
	}
	return p > 1000 ? 1000 : (int)p;
}

/* text as tmp/name (O_EXCL), fsync, renamed to new/name, new/ fsynced:
 * the way of maildir_deliver for a message that is ours. */
static int
write_new(const char *name, const char *text, size_t len)
{
	char tmp[MAILDIR_NAME_MAX + 8], dst[MAILDIR_NAME_MAX + 8];
	int fd, rc, saved;
	ssize_t w;

	snprintf(tmp, sizeof(tmp), "tmp/%s", name);
	snprintf(dst, sizeof(dst), "new/%s", name);
	fd = openat(AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	w = write(fd, text, len);
	rc = w == (ssize_t)len && fsync(fd) == 0 ? 0 : -1;
	if (close(fd) < 0)
		rc = -1;
	if (rc == 0)
		rc = renameat(AT_FDCWD, tmp, AT_FDCWD, dst);
	if (rc < 0) {
		saved = errno;
		unlinkat(AT_FDCWD, tmp, 0);
		errno = saved;
		return -1;
	}
	if ((fd = openat(AT_FDCWD, "new", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

/* Courier's quotawarnmsg: once the usage reaches quota_warn_percent, a
 * short message from postmaster goes into the INBOX, and the file
 * QUOTA_WARN_FILE (Courier's "quotawarn") says it went; it goes again
 * only after the usage has dropped below the threshold (the file is then
 * removed here, at the next delivery).  It never refuses or fails a
 * delivery: an error is logged and the message is delivered all the same. */
static void
quota_warn(struct view_session *s)
{
	char msg[2048], date[64], name[MAILDIR_NAME_MAX + 1];
	const char *domain = strchr(s->user, '@');
	struct timespec ts;
	struct quota q;
	struct stat st;
	struct tm tm;
	int pct, n, has;

	if (warn_percent == 0 || quota_read(AT_FDCWD, time(NULL), &q, NULL) < 0 ||
	    (pct = usage_percent(&q)) < 0)
		return;
	has = fstatat(AT_FDCWD, QUOTA_WARN_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (pct < (int)warn_percent) {
		if (has && unlinkat(AT_FDCWD, QUOTA_WARN_FILE, 0) < 0)
			log_event(LOG_LEVEL_WARN, "quota_warn", "errno=%d reason=\"cannot remove %s\"",
			    errno, QUOTA_WARN_FILE);
		return;
	}
	if (has)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	domain = domain != NULL ? domain + 1 : "localhost";
	n = snprintf(msg, sizeof(msg),
	    "Return-Path: <>\nDelivered-To: %s\n"
	    "From: Mail Delivery System <postmaster@%s>\nTo: <%s>\n"
	    "Subject: Your mailbox is %d%% full\nDate: %s\n"
	    "Message-ID: <quotawarn.%lld.%ld@%s>\nAuto-Submitted: auto-generated\n"
	    "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n"
	    "Your mailbox uses %d%% of its quota (%lld of %llu bytes, %lld messages).\n"
	    "When it is full, new mail for you is refused.  Please delete messages\n"
	    "you no longer need, and empty the Trash folder.\n",
	    s->user, domain, s->user, pct, date, (long long)ts.tv_sec, ts.tv_nsec, domain, pct,
	    (long long)q.storage_used, (unsigned long long)q.storage_limit, (long long)q.messages_used);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return;
	/* a name as maildir_deliver makes them, "warn" in place of the
	 * counter and the random part */
	snprintf(name, sizeof(name), "%lld.M%ldP%ldQwarn.%s,S=%d,W=%d", (long long)ts.tv_sec,
	    ts.tv_nsec / 1000, (long)getpid(), s->e->host, n, n + (int)lines(msg, (size_t)n));
	if (write_new(name, msg, (size_t)n) < 0 ||
	    maildir_replace_file(AT_FDCWD, QUOTA_WARN_FILE, "", 0) < 0) {
		log_event(LOG_LEVEL_WARN, "quota_warn", "errno=%d reason=\"cannot write the warning\"",
		    errno);
		return;
	}
	if (quota_update(AT_FDCWD, n, 1) < 0)
		log_event(LOG_LEVEL_WARN, "quota_update", "errno=%d", errno);
	log_event(LOG_LEVEL_INFO, "quota_warned", "user=%s percent=%d threshold=%u file=%s", s->user,
	    pct, warn_percent, name);
}

static int
on_deliver(void *ctx, struct ipc_in *in)
{
	struct view_session *s = ctx;
	char name[MAILDIR_NAME_MAX + 1], sender[STORE_SENDER_MAX + 1];
	char hdr[STORE_SENDER_MAX + MAILDIR_NAME_MAX + 64];
	struct maildir_prefix pre;
	uint64_t len;
	int rc, n;

	if (storeproto_deliver_get(in, &len, sender) < 0) {
		ipc_in_close_fd(in);
		return -1;
	}
	if (looped(in->fd, len, s->user)) {
		ipc_in_close_fd(in);
		log_event(LOG_LEVEL_INFO, "loop_refused", "user=%s reason=\"the message has "
		    "Delivered-To: this recipient\"", s->user);
		view_reply_err(s, STORE_ERR_LOOP, "mail loop");
		return 0;
	}
	n = snprintf(hdr, sizeof(hdr), "Return-Path: <%s>\nDelivered-To: %s\n", sender, s->user);
	if (n < 0 || (size_t)n >= sizeof(hdr))
		fatal("reason=\"delivery header does not fit\"");
	pre = (struct maildir_prefix){ .data = (const uint8_t *)hdr, .len = (size_t)n };
	if (over_quota(len + pre.len)) {
		ipc_in_close_fd(in);
		view_reply_err(s, STORE_ERR_QUOTA, "mailbox full");
		return 0;
	}
	/* At most the announced length: a sender that grows the file while
	 * stored copies it gets EFBIG, not a bigger message. */
	rc = engine_deliver(s->e, in->fd, len, &pre, name);
	ipc_in_close_fd(in);
	if (rc < 0) {
		int big = errno == EFBIG;
		log_event(LOG_LEVEL_ERR, "deliver_failed", "errno=%d reason=\"%s\"", errno,
		    big ? "longer than announced" : strerror(errno));
		view_reply_err(s, big ? STORE_ERR_TOOBIG : STORE_ERR_IO,
		    big ? "message longer than announced" : "delivery failed");
		return 0;
	}
	/* maildirsize and the warning before the answer: whoever reads the
	 * quota after the 250 (GETQUOTA, quota get) sees this message in it.
	 * A kill in between leaves a durable copy unanswered, which the
	 * sender sends again (RFC 5321 6.1; docs/LMTP.md, what a crash
	 * leaves). */
	if (quota_update(AT_FDCWD, written_size(name, len + pre.len), 1) < 0)
		log_event(LOG_LEVEL_WARN, "quota_update", "errno=%d", errno);
	log_event(LOG_LEVEL_INFO, "delivered", "file=%s", name);
	quota_warn(s);
	storeproto_delivered_put(s->out, name);
	view_reply(s);
	return 0;
}

/* LF count of a text: the W= of its name. */
static size_t
lines(const char *p, size_t len)
{
	size_t n = 0;

	while (len-- > 0)
		n += *p++ == '\n';
	return n;
}

/* The Maildir convention (Courier, Dovecot): a file in tmp/ untouched for
 * 36 hours is a delivery or an APPEND that died half way (a kill, a
 * crash); it was never visible and nobody finishes it.  Removed here, at
 * the start of a delivery; names that are not plain files are left. */
#define TMP_STALE_S (36 * 3600)

static void
clean_tmp(void)
{
	time_t now = time(NULL);
	struct dirent *de;
	struct stat st;
	unsigned n = 0;
	int fd;
	DIR *d;

	if ((fd = openat(AT_FDCWD, "tmp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
		    now - st.st_mtime < TMP_STALE_S || now - st.st_atime < TMP_STALE_S)
			continue;
		if (unlinkat(fd, de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	if (n > 0)
		log_event(LOG_LEVEL_INFO, "tmp_cleaned", "files=%u reason=\"in tmp/ for over 36 "
		    "hours\"", n);
}

static void
prepare(struct view_session *s, int rootfd, const struct config *cfg)
{
	warn_percent = (unsigned)cfg->quota_warn_percent;
	clean_tmp();
	engine_open_index(s->e);	/* as main would without a prepare */
	close(rootfd);
}

static const struct ipc_handler deliver_requests[] = {
	{ .type = MSG_STORE_DELIVER, .with_fd = IPC_FD_FILE, .phases = VIEW_PHASE_IDLE, .fn = on_deliver },
};

const struct view view_deliver = {
	.name = "deliver",
	.filter = POLICY_STORED_DELIVER,
	.req = deliver_requests,
	.nreq = sizeof(deliver_requests) / sizeof(deliver_requests[0]),
	.prepare = prepare,
};
