/* maildir.c - Maildir++ names, sizes and safe delivery. */
#include "maildir.h"

#include <bearssl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../base/util.h"

static int
parse_field(const char *p, size_t len, uint64_t *v)
{
	return util_parse_u64((const uint8_t *)p, len, UINT64_MAX, v);
}

int
maildir_parse_name(const char *name, size_t len, struct maildir_name *mn)
{
	const char *colon, *p, *end;

	memset(mn, 0, sizeof(*mn));
	if (len == 0 || len > MAILDIR_NAME_MAX || name[0] == '.' ||
	    memchr(name, '\0', len) != NULL || memchr(name, '/', len) != NULL)
		return -1;
	colon = memchr(name, ':', len);
	mn->base_len = colon ? (size_t)(colon - name) : len;
	if (mn->base_len == 0)
		return -1;
	if (colon != NULL) {
		size_t i, fl = len - mn->base_len - 1, o = 0;
		const char *f = colon + 1;
		if (fl >= 2 && f[0] == '2' && f[1] == ',') {
			mn->has_info = 1;
			for (i = 2; i < fl; i++) {
				/* RFC-less convention: flags are ASCII letters, sorted */
				if (f[i] < 'A' || f[i] > 'z' || (f[i] > 'Z' && f[i] < 'a'))
					continue;
				if (o + 1 < sizeof(mn->flags) && memchr(mn->flags, f[i], o) == NULL)
					mn->flags[o++] = f[i];
			}
			mn->flags[o] = '\0';
		}
	}
	/* ",S=" and ",W=" fields inside the base name */
	end = name + mn->base_len;
	for (p = memchr(name, ',', mn->base_len); p != NULL && p < end;
	    p = memchr(p + 1, ',', (size_t)(end - p - 1))) {
		const char *v = p + 3, *ve;
		if ((size_t)(end - p) < 4 || p[2] != '=' || (p[1] != 'S' && p[1] != 'W'))
			continue;
		ve = memchr(v, ',', (size_t)(end - v));
		if (ve == NULL)
			ve = end;
		/* a malformed size is ignored: the file is still a message */
		if (p[1] == 'S')
			mn->has_size = parse_field(v, (size_t)(ve - v), &mn->size) == 0;
		else
			mn->has_vsize = parse_field(v, (size_t)(ve - v), &mn->vsize) == 0;
		if (ve == end)
			break;
	}
	return 0;
}

void
maildir_uidl(const char *name, size_t base_len, char out[71])
{
	static const char hex[] = "0123456789abcdef";
	br_sha256_context sc;
	uint8_t h[32];
	size_t i;
	int ok = base_len > 0 && base_len <= 70;

	for (i = 0; ok && i < base_len; i++)
		if ((unsigned char)name[i] < 0x21 || (unsigned char)name[i] > 0x7e)
			ok = 0;
	if (ok) {
		memcpy(out, name, base_len);
		out[base_len] = '\0';
		return;
	}
	br_sha256_init(&sc);
	br_sha256_update(&sc, name, base_len);
	br_sha256_out(&sc, h);
	for (i = 0; i < 20; i++) {
		out[2 * i] = hex[h[i] >> 4];
		out[2 * i + 1] = hex[h[i] & 15];
	}
	out[40] = '\0';
}

static uint64_t crlf_len(const uint8_t *p, size_t len, int *prev_cr);

int
maildir_crlf_size(int fd, uint64_t *size_r)
{
	/* 4 KiB: a stored that sized one message (a name without ",W=")
	 * keeps every stack page it touched for the rest of its session */
	uint8_t b[4096];
	uint64_t n = 0;
	off_t off = 0;
	int prev_cr = 0;
	ssize_t r;

	while ((r = pread(fd, b, sizeof(b), off)) > 0) {
		n += crlf_len(b, (size_t)r, &prev_cr);
		off += r;
	}
	if (r < 0)
		return -1;
	*size_r = n;
	return 0;
}

/* The CRLF size of p[0..len): every LF not preceded by CR counts twice.
 * *prev_cr carries the last byte's state from one chunk to the next. */
static uint64_t
crlf_len(const uint8_t *p, size_t len, int *prev_cr)
{
	uint64_t n = len;
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] == '\n' && !*prev_cr)
			n++;
		*prev_cr = p[i] == '\r';
	}
	return n;
}

int
maildir_check(int dirfd, const char **why_r)
{
	static const char *const subs[] = { "cur", "new", "tmp" };
	static const char *const why[] = { "cur is a symlink or not a directory",
	    "new is a symlink or not a directory", "tmp is a symlink or not a directory" };
	struct stat st;
	size_t i;

	for (i = 0; i < 3; i++) {
		if (mkdirat(dirfd, subs[i], 0700) < 0 && errno != EEXIST) {
			*why_r = "cannot create cur, new or tmp";
			return -1;
		}
		if (fstatat(dirfd, subs[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) {
			*why_r = why[i];
			errno = ENOTDIR;
			return -1;
		}
	}
	return 0;
}

static int
open_subdir(int rootfd, const char *name)
{
	return openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Copy src (from its offset to EOF, at most max bytes) into fd, counting
 * the bytes and their CRLF size as written: the name is made from what
 * landed on disk, whatever the sender does to its copy meanwhile. */
static int
copy_in(int fd, int src, uint64_t max, const struct maildir_prefix *pre, uint64_t *size_r,
    uint64_t *vsize_r)
{
	uint8_t b[16384];
	uint64_t n = 0;
	int prev_cr = 0;
	ssize_t r;

	*vsize_r = 0;
	if (pre != NULL && pre->len > 0) {
		/* the prefix is ours (header lines), counted in the sizes like
		 * the rest: the name and maildirsize say what is on disk */
		*vsize_r += crlf_len(pre->data, pre->len, &prev_cr);
		if (util_write_all(fd, pre->data, pre->len) < 0)
			return -1;
	}
	while ((r = read(src, b, sizeof(b))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if ((uint64_t)r > max - n) {
			errno = EFBIG;
			return -1;
		}
		*vsize_r += crlf_len(b, (size_t)r, &prev_cr);
		if (util_write_all(fd, b, (size_t)r) < 0)
			return -1;
		n += (uint64_t)r;
	}
	*size_r = n + (pre != NULL ? pre->len : 0);
	return 0;
}

/* tmp/BASE with O_EXCL, the data, fsync; then rename to new/BASE,S=,W= and
 * fsync new/.  On failure tmp/BASE is removed. */
static int
deliver_file(int tmpfd, int newfd, const char *base, int src, uint64_t max,
    const struct maildir_prefix *pre, char name_r[MAILDIR_NAME_MAX + 1])
{
	uint64_t size, vsize;
	int fd, n, saved;

	fd = openat(tmpfd, base, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	if (copy_in(fd, src, max, pre, &size, &vsize) < 0 || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	n = snprintf(name_r, MAILDIR_NAME_MAX + 1, "%s,S=%llu,W=%llu", base,
	    (unsigned long long)size, (unsigned long long)vsize);
	if (n < 0 || n > MAILDIR_NAME_MAX) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	/* Both names relative to the directories opened above: the file lands
	 * in the new/ that was checked, whatever the names say by now. */
	if (renameat(tmpfd, base, newfd, name_r) < 0)
		goto fail;
	return fsync(newfd);
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(tmpfd, base, 0);
	errno = saved;
	return -1;
}

void
maildir_host(char out[MAILDIR_HOST_MAX])
{
	char *h;

	if (gethostname(out, MAILDIR_HOST_MAX) < 0 || out[0] == '\0')
		snprintf(out, MAILDIR_HOST_MAX, "localhost");
	out[MAILDIR_HOST_MAX - 1] = '\0';
	for (h = out; *h; h++)	/* '/' and ':' cannot appear in names, ',' starts a field */
		if (*h == '/' || *h == ':' || *h == ',')
			*h = '_';
}

int
maildir_deliver(int rootfd, int src, uint64_t max, const char *host,
    char name_r[MAILDIR_NAME_MAX + 1])
{
	return maildir_deliver_prefixed(rootfd, src, max, host, NULL, name_r);
}

int
maildir_deliver_prefixed(int rootfd, int src, uint64_t max, const char *host,
    const struct maildir_prefix *pre, char name_r[MAILDIR_NAME_MAX + 1])
{
	static unsigned counter;
	char base[MAILDIR_NAME_MAX + 1];
	struct timespec ts;
	uint8_t rnd[4];
	int n, tmpfd = -1, newfd = -1, rc = -1, saved;

	clock_gettime(CLOCK_REALTIME, &ts);
	util_random(rnd, sizeof(rnd));
	/* ",S=" and ",W=" need 48 bytes at most: keep room for them */
	n = snprintf(base, sizeof(base), "%lld.M%ldP%ldQ%uR%02x%02x%02x%02x.%s",
	    (long long)ts.tv_sec, ts.tv_nsec / 1000, (long)getpid(), ++counter,
	    rnd[0], rnd[1], rnd[2], rnd[3], host);
	if (n < 0 || n > MAILDIR_NAME_MAX - 48) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((tmpfd = open_subdir(rootfd, "tmp")) >= 0 && (newfd = open_subdir(rootfd, "new")) >= 0)
		rc = deliver_file(tmpfd, newfd, base, src, max, pre, name_r);
	saved = errno;
	if (tmpfd >= 0)
		close(tmpfd);
	if (newfd >= 0)
		close(newfd);
	errno = saved;
	return rc;
}

void
maildir_tmp_name(char *out, size_t len, const char *purpose)
{
	uint8_t r[8];

	util_random(r, sizeof(r));
	snprintf(out, len, "postern-%s.%02x%02x%02x%02x%02x%02x%02x%02x", purpose,
	    r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
}

int
maildir_replace_file(int rootfd, const char *name, const void *text, size_t len)
{
	char tn[64];
	int tmpfd, fd, rc = -1, saved;

	if ((tmpfd = open_subdir(rootfd, "tmp")) < 0)
		return -1;
	maildir_tmp_name(tn, sizeof(tn), name);
	fd = openat(tmpfd, tn, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0) {
		rc = util_write_all(fd, text, len) == 0 && fsync(fd) == 0 ? 0 : -1;
		if (close(fd) < 0)
			rc = -1;
		if (rc == 0)
			rc = renameat(tmpfd, tn, rootfd, name);
		saved = errno;
		if (rc < 0)
			unlinkat(tmpfd, tn, 0);
		errno = saved;
	}
	saved = errno;
	close(tmpfd);
	errno = saved;
	return rc;
}
