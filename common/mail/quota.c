/* quota.c - Maildir++ quotas: the maildirsize file of the mail root. */
#include "quota.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/util.h"
#include "folders.h"
#include "maildir.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
/* Most of a maildirsize file read: past QUOTA_RECALC_SIZE it is
 * recalculated anyway. */
#define READ_MAX 65536

/* A signed decimal p[0..len). */
static int
parse_i64(const char *p, size_t len, int64_t *v)
{
	uint64_t u;
	int neg = len > 0 && p[0] == '-';

	if (util_parse_u64((const uint8_t *)p + neg, len - (size_t)neg, INT64_MAX, &u) < 0)
		return -1;
	*v = neg ? -(int64_t)u : (int64_t)u;
	return 0;
}

/* "10000000S,1000C": each item a number and its letter. */
static int
parse_def(const char *p, size_t len, struct quota *q)
{
	const char *end = p + len;

	if (len == 0 || len > QUOTA_DEF_MAX)
		return -1;
	memcpy(q->def, p, len);
	q->def[len] = '\0';
	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		size_t il = c ? (size_t)(c - p) : (size_t)(end - p);
		uint64_t v;
		if (il < 2 || util_parse_u64((const uint8_t *)p, il - 1, UINT64_MAX, &v) < 0)
			return -1;
		if (p[il - 1] == 'S') {
			q->has_storage = 1;
			q->storage_limit = v;
		} else if (p[il - 1] == 'C') {
			q->has_messages = 1;
			q->message_limit = v;
		}	/* other letters: kinds we do not know, ignored */
		p += il + (c != NULL);
	}
	return 0;
}

/* One "BYTES COUNT" line (more spaces tolerated). */
static int
parse_usage(const char *p, size_t len, struct quota *q)
{
	const char *sp = memchr(p, ' ', len), *c;
	int64_t b, n;

	if (sp == NULL)
		return -1;
	for (c = sp; c < p + len && *c == ' '; c++)
		;
	if (parse_i64(p, (size_t)(sp - p), &b) < 0 || parse_i64(c, (size_t)(p + len - c), &n) < 0)
		return -1;
	if (__builtin_add_overflow(q->storage_used, b, &q->storage_used) ||
	    __builtin_add_overflow(q->messages_used, n, &q->messages_used))
		return -1;
	return 0;
}

int
quota_parse(const char *text, size_t len, struct quota *q)
{
	const char *p = text, *end = text + len;
	int first = 1;

	memset(q, 0, sizeof(*q));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (first) {
			if (parse_def(p, ll, q) < 0) {
				memset(q, 0, sizeof(*q));
				errno = EINVAL;
				return -1;
			}
			first = 0;
		} else if (ll > 0 && parse_usage(p, ll, q) < 0) {
			q->malformed = 1;
		}
		p += ll + (nl != NULL);
	}
	if (first) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
quota_over(const struct quota *q)
{
	return (q->has_storage && q->storage_used > 0 && (uint64_t)q->storage_used > q->storage_limit) ||
	    (q->has_messages && q->messages_used > 0 && (uint64_t)q->messages_used > q->message_limit);
}

void
quota_imap(const struct quota *q, struct quota_imap *out)
{
	uint64_t used = q->storage_used > 0 ? (uint64_t)q->storage_used : 0;

	memset(out, 0, sizeof(*out));
	out->has_storage = q->has_storage;
	out->has_message = q->has_messages;
	out->storage_used_kib = used / 1024 + (used % 1024 != 0);
	out->storage_limit_kib = q->storage_limit / 1024;
	out->message_used = q->messages_used > 0 ? (uint64_t)q->messages_used : 0;
	out->message_limit = q->message_limit;
}

/* --- recalculation ---------------------------------------------------------- */

/* Add the messages of sub (cur/ or new/) of the Maildir at fd. */
static int
count_sub(int fd, const char *sub, int64_t *bytes, int64_t *count)
{
	struct maildir_name mn;
	struct dirent *de;
	struct stat st;
	int dfd = openat(fd, sub, DIR_FLAGS);
	DIR *d;

	if (dfd < 0 || (d = fdopendir(dfd)) == NULL) {
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if ((de->d_type != DT_REG && de->d_type != DT_UNKNOWN) ||
		    maildir_parse_name(de->d_name, strlen(de->d_name), &mn) < 0)
			continue;
		if (mn.has_size && mn.size <= INT64_MAX)
			*bytes += (int64_t)mn.size;
		else if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			*bytes += st.st_size;
		else
			continue;	/* gone meanwhile, or not a file */
		(*count)++;
	}
	closedir(d);
	return 0;
}

static int count_trash;

void
quota_set_count_trash(int yes)
{
	count_trash = yes != 0;
}

int
quota_counts_folder(const char *dir)
{
	return count_trash || strcmp(dir, ".Trash") != 0;
}

static int
count_all(int rootfd, int64_t *bytes, int64_t *count)
{
	struct folders_list l;
	size_t i;
	int rc = 0;

	*bytes = *count = 0;
	if (folders_list(rootfd, '.', NULL, 0, &l) < 0)
		return -1;
	for (i = 0; i < l.n && rc == 0; i++) {
		int fd;
		if ((l.v[i].attr & FOLDERS_NOSELECT) || !quota_counts_folder(l.v[i].dir))
			continue;
		if ((fd = folders_open_dir(rootfd, l.v[i].dir)) < 0)
			continue;	/* removed or not a Maildir any more */
		rc = count_sub(fd, "cur", bytes, count) < 0 || count_sub(fd, "new", bytes, count) < 0 ? -1 : 0;
		close(fd);
	}
	folders_list_free(&l);
	return rc;
}

int
quota_recalc(int rootfd, const char *def, struct quota *q)
{
	char text[QUOTA_DEF_MAX + 64], keep[QUOTA_DEF_MAX + 1];
	int64_t bytes, count;
	int n;

	snprintf(keep, sizeof(keep), "%s", def != NULL ? def : q->def);
	if (count_all(rootfd, &bytes, &count) < 0)
		return -1;
	n = snprintf(text, sizeof(text), "%s\n%lld %lld\n", keep, (long long)bytes, (long long)count);
	if (n < 0 || (size_t)n >= sizeof(text) || quota_parse(text, (size_t)n, q) < 0) {
		errno = EINVAL;
		return -1;
	}
	return maildir_replace_file(rootfd, QUOTA_FILE, text, (size_t)n);
}

int
quota_read(int rootfd, time_t now, struct quota *q, int *recalculated_r)
{
	char *text;
	struct stat st;
	ssize_t n;
	int fd, stale;

	memset(q, 0, sizeof(*q));
	if (recalculated_r != NULL)
		*recalculated_r = 0;
	fd = openat(rootfd, QUOTA_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) < 0 || (text = malloc(READ_MAX)) == NULL) {
		close(fd);
		return -1;
	}
	n = read(fd, text, READ_MAX);
	close(fd);
	if (n < 0 || quota_parse(text, (size_t)n, q) < 0) {
		free(text);
		return n < 0 ? -1 : 0;	/* no definition: no quota */
	}
	free(text);
	stale = now - st.st_mtime > QUOTA_RECALC_AGE && quota_over(q);
	if (st.st_size <= QUOTA_RECALC_SIZE && !q->malformed && !stale)
		return 0;
	if (recalculated_r != NULL)
		*recalculated_r = 1;
	return quota_recalc(rootfd, NULL, q);
}

int
quota_update(int rootfd, int64_t bytes, int64_t count)
{
	char line[48];
	int fd, n, rc;

	fd = openat(rootfd, QUOTA_FILE, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	n = snprintf(line, sizeof(line), "%lld %lld\n", (long long)bytes, (long long)count);
	/* one write with O_APPEND: concurrent deliverers' lines never mix */
	rc = write(fd, line, (size_t)n) == n ? 0 : -1;
	if (close(fd) < 0)
		rc = -1;
	return rc;
}
