/* engine.c - stored's engine: the INBOX on disk, its index, the lock,
 * delivery.
 *
 * One readdir of new/ and one of cur/ per snapshot; sizes come from ",W="
 * in the name, else from the LMDB index, else from reading the file once
 * (and then the index remembers it, all new entries in one transaction).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "../../common/base/log.h"
#include "../../common/mail/maildir.h"
#include "engine.h"

/* One lock file for every view: POP3 takes it exclusive, IMAP shared.  The
 * name predates the IMAP view; it is kept so that sessions on both sides
 * of an upgrade still exclude each other. */
#define LOCK_FILE "postern-pop3.lock"

/* Move new/NAME to cur/NAME:2, (a message seen by a client is no longer new). */
static void
move_new(void)
{
	char from[MAILDIR_NAME_MAX + 8], to[MAILDIR_NAME_MAX + 16];
	struct maildir_name mn;
	struct dirent *de;
	DIR *d = opendir("new");

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (maildir_parse_name(de->d_name, l, &mn) < 0 || mn.has_info)
			continue;
		snprintf(from, sizeof(from), "new/%s", de->d_name);
		snprintf(to, sizeof(to), "cur/%s:2,", de->d_name);
		if (rename(from, to) < 0 && errno != ENOENT)
			log_event(LOG_LEVEL_WARN, "maildir", "op=rename file=%s errno=%d", from, errno);
	}
	closedir(d);
}

static int
cmp_msg(const void *a, const void *b)
{
	/* Maildir names start with the delivery time: version order is
	 * delivery order for every common naming scheme. */
	return strverscmp(((const struct engine_msg *)a)->name, ((const struct engine_msg *)b)->name);
}

static int
size_of(struct engine *e, const char *name, const struct maildir_name *mn, uint64_t *size_r,
    int *cache_r)
{
	char path[MAILDIR_NAME_MAX + 8];
	struct buf v;
	int fd, rc;

	*cache_r = 0;
	if (mn->has_vsize) {
		*size_r = mn->vsize;
		return 0;
	}
	if (e->index != NULL) {
		buf_init(&v, 64);
		rc = db_get(e->index, 0, name, mn->base_len, &v);
		if (rc == 1 && v.len == sizeof(uint64_t)) {
			memcpy(size_r, v.data, sizeof(uint64_t));
			buf_free(&v, 0);
			return 0;
		}
		buf_free(&v, 0);
	}
	snprintf(path, sizeof(path), "cur/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	rc = maildir_crlf_size(fd, size_r);
	close(fd);
	*cache_r = rc == 0;
	return rc;
}

static int
scan_cur(struct engine *e, DIR *d)
{
	struct db_kv *kv = NULL;
	uint64_t *vals = NULL;
	size_t cap = 0, nkv = 0, i;
	struct dirent *de;
	int rc = 0;

	while ((de = readdir(d)) != NULL) {
		struct maildir_name mn;
		struct engine_msg *m;
		size_t l = strlen(de->d_name);
		int cache;

		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		if (maildir_parse_name(de->d_name, l, &mn) < 0)
			continue;
		if (e->n == e->max_messages)
			break;
		if (e->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			void *p = realloc(e->msgs, ncap * sizeof(*e->msgs));
			void *q = realloc(kv, ncap * sizeof(*kv));
			void *r = realloc(vals, ncap * sizeof(*vals));
			if (p) e->msgs = p;
			if (q) kv = q;
			if (r) vals = r;
			if (!p || !q || !r) {
				rc = -1;
				break;
			}
			cap = ncap;
		}
		m = &e->msgs[e->n];
		if (size_of(e, de->d_name, &mn, &m->size, &cache) < 0)
			continue;	/* removed meanwhile */
		m->name = strdup(de->d_name);
		if (m->name == NULL) {
			rc = -1;
			break;
		}
		maildir_uidl(m->name, mn.base_len, m->uidl);
		if (cache) {
			vals[nkv] = m->size;
			kv[nkv].k = m->name;
			kv[nkv].kl = mn.base_len;
			kv[nkv].v = &vals[nkv];
			kv[nkv].vl = sizeof(uint64_t);
			nkv++;
		}
		e->n++;
	}
	/* One transaction for every size learnt in this scan. */
	if (rc == 0 && e->index != NULL && nkv > 0 && db_put_batch(e->index, 0, kv, nkv) < 0)
		log_event(LOG_LEVEL_WARN, "index", "op=put reason=\"%s\"", db_strerror(e->index));
	free(kv);
	free(vals);
	if (rc == 0 && e->n > 0)
		qsort(e->msgs, e->n, sizeof(*e->msgs), cmp_msg);
	for (i = 0; rc < 0 && i < e->n; i++)
		free(e->msgs[i].name);
	if (rc < 0)
		e->n = 0;	/* a retried snapshot starts empty */
	return rc;
}

void
engine_init(struct engine *e)
{
	memset(e, 0, sizeof(*e));
	e->lock_fd = -1;
	maildir_host(e->host);
}

void
engine_open_index(struct engine *e)
{
	static const char *const names[] = { "sizes" };
	char err[256];

	/* Keep the index out of Maildir++ folder names (those start with '.'). */
	if (db_open(&e->index, "postern-index", 64ULL << 20, 0, names, 1, err, sizeof(err)) < 0) {
		log_event(LOG_LEVEL_WARN, "index", "reason=\"%s\" fallback=\"read sizes from files\"", err);
		e->index = NULL;
	}
}

int
engine_lock_prepare(struct engine *e)
{
	e->lock_fd = open(LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	return e->lock_fd < 0 ? -1 : 0;
}

int
engine_lock(struct engine *e, enum engine_lock_mode mode)
{
	if (e->lock_fd < 0) {
		errno = EIO;	/* engine_lock_prepare failed; its errno is in the log */
		return -1;
	}
	/* Never wait: a session that holds the lock may idle for minutes, and
	 * the client is better told [IN-USE] at once (RFC 2449 section 8). */
	if (flock(e->lock_fd, (mode == ENGINE_LOCK_SHARED ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		errno = EWOULDBLOCK;
		return -1;
	}
	return 0;
}

void
engine_unlock(struct engine *e)
{
	if (e->lock_fd >= 0)
		(void)flock(e->lock_fd, LOCK_UN);
}

int
engine_snapshot(struct engine *e)
{
	DIR *d;
	int rc;

	move_new();
	d = opendir("cur");
	if (d == NULL)
		return -1;
	rc = scan_cur(e, d);
	closedir(d);
	return rc;
}

/* The message was renamed (flags changed by another client): find the file
 * with the same base name. */
static int
relocate(struct engine_msg *m)
{
	size_t base = strcspn(m->name, ":");
	struct dirent *de;
	DIR *d = opendir("cur");
	int found = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, m->name, base) == 0 &&
		    (de->d_name[base] == ':' || de->d_name[base] == '\0')) {
			char *n = strdup(de->d_name);
			if (n != NULL) {
				free(m->name);
				m->name = n;
				found = 1;
			}
			break;
		}
	}
	closedir(d);
	return found ? 0 : -1;
}

int
engine_fetch(struct engine *e, size_t i)
{
	char path[MAILDIR_NAME_MAX + 8];
	int fd, tries;

	for (tries = 0; tries < 2; tries++) {
		snprintf(path, sizeof(path), "cur/%s", e->msgs[i].name);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0 || errno != ENOENT)
			return fd;
		if (relocate(&e->msgs[i]) < 0)
			break;
	}
	errno = ENOENT;
	return -1;
}

int
engine_remove(struct engine *e, size_t i)
{
	char path[MAILDIR_NAME_MAX + 8];

	snprintf(path, sizeof(path), "cur/%s", e->msgs[i].name);
	if (unlink(path) == 0)
		return 0;
	if (errno == ENOENT) {
		if (relocate(&e->msgs[i]) < 0)
			return 0;	/* already gone: the goal is reached */
		snprintf(path, sizeof(path), "cur/%s", e->msgs[i].name);
		if (unlink(path) == 0 || errno == ENOENT)
			return 0;
	}
	return -1;
}

void
engine_forget(struct engine *e, const size_t *idx, size_t n)
{
	struct db_kv *kv;
	size_t k;

	if (e->index == NULL || n == 0)
		return;
	kv = calloc(n, sizeof(*kv));
	if (kv == NULL)
		return;	/* stale entries only cost a lookup: their files are gone */
	for (k = 0; k < n; k++) {
		kv[k].k = e->msgs[idx[k]].name;
		kv[k].kl = strcspn(e->msgs[idx[k]].name, ":");
	}
	if (db_del_batch(e->index, 0, kv, n) < 0)
		log_event(LOG_LEVEL_WARN, "index", "op=del reason=\"%s\"", db_strerror(e->index));
	free(kv);
}

int
engine_deliver(struct engine *e, int src, uint64_t max, const struct maildir_prefix *pre,
    char name_r[MAILDIR_NAME_MAX + 1])
{
	/* "." is the mail root (the chroot, or the Landlock-confined cwd) */
	return maildir_deliver_prefixed(AT_FDCWD, src, max, e->host, pre, name_r);
}
