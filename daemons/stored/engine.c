/* popbox.c - the POP3 view of a Maildir++ INBOX.
 *
 * One readdir of new/ and one of cur/ per session; sizes come from ",W=" in
 * the name, else from the LMDB index, else from reading the file once (and
 * then the index remembers it, all new entries in one transaction).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "../../common/log.h"
#include "../../common/maildir.h"
#include "stored.h"

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
	return strverscmp(((const struct popmsg *)a)->name, ((const struct popmsg *)b)->name);
}

static int
size_of(struct popbox *b, const char *name, const struct maildir_name *mn, uint64_t *size_r,
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
	if (b->index != NULL) {
		buf_init(&v, 64);
		rc = db_get(b->index, 0, name, mn->base_len, &v);
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
scan_cur(struct popbox *b, DIR *d)
{
	struct db_kv *kv = NULL;
	uint64_t *vals = NULL;
	size_t cap = 0, nkv = 0, i;
	struct dirent *de;
	int rc = 0;

	while ((de = readdir(d)) != NULL) {
		struct maildir_name mn;
		struct popmsg *m;
		size_t l = strlen(de->d_name);
		int cache;

		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		if (maildir_parse_name(de->d_name, l, &mn) < 0)
			continue;
		if (b->n == b->max_messages)
			break;
		if (b->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			void *p = realloc(b->msgs, ncap * sizeof(*b->msgs));
			void *q = realloc(kv, ncap * sizeof(*kv));
			void *r = realloc(vals, ncap * sizeof(*vals));
			if (p) b->msgs = p;
			if (q) kv = q;
			if (r) vals = r;
			if (!p || !q || !r) {
				rc = -1;
				break;
			}
			cap = ncap;
		}
		m = &b->msgs[b->n];
		if (size_of(b, de->d_name, &mn, &m->size, &cache) < 0)
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
		b->n++;
	}
	/* One transaction for every size learnt in this scan. */
	if (rc == 0 && b->index != NULL && nkv > 0 && db_put_batch(b->index, 0, kv, nkv) < 0)
		log_event(LOG_LEVEL_WARN, "index", "op=put reason=\"%s\"", db_strerror(b->index));
	free(kv);
	free(vals);
	if (rc == 0 && b->n > 0)
		qsort(b->msgs, b->n, sizeof(*b->msgs), cmp_msg);
	for (i = 0; rc < 0 && i < b->n; i++)
		free(b->msgs[i].name);
	return rc;
}

int
popbox_prepare(struct popbox *b)
{
	b->lock_fd = open(LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	return b->lock_fd < 0 ? -1 : 0;
}

int
popbox_open(struct popbox *b)
{
	DIR *d;
	int rc;

	if (b->lock_fd < 0) {
		errno = EIO;	/* popbox_prepare failed; its errno is in the log */
		return -1;
	}
	if (flock(b->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		errno = EWOULDBLOCK;
		return -1;
	}
	move_new();
	d = opendir("cur");
	if (d == NULL)
		return -1;
	rc = scan_cur(b, d);
	closedir(d);
	b->opened = rc == 0;
	return rc;
}

/* The message was renamed (flags changed by another client): find the file
 * with the same base name. */
static int
relocate(struct popmsg *m)
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
popbox_fetch(struct popbox *b, size_t i)
{
	char path[MAILDIR_NAME_MAX + 8];
	int fd, tries;

	for (tries = 0; tries < 2; tries++) {
		snprintf(path, sizeof(path), "cur/%s", b->msgs[i].name);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0 || errno != ENOENT)
			return fd;
		if (relocate(&b->msgs[i]) < 0)
			break;
	}
	errno = ENOENT;
	return -1;
}

int
popbox_remove(struct popbox *b, size_t i)
{
	char path[MAILDIR_NAME_MAX + 8];

	snprintf(path, sizeof(path), "cur/%s", b->msgs[i].name);
	if (unlink(path) == 0)
		return 0;
	if (errno == ENOENT) {
		if (relocate(&b->msgs[i]) < 0)
			return 0;	/* already gone: the goal is reached */
		snprintf(path, sizeof(path), "cur/%s", b->msgs[i].name);
		if (unlink(path) == 0 || errno == ENOENT)
			return 0;
	}
	return -1;
}
