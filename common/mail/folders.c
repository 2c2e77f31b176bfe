/* folders.c - Maildir++ folders as they lie on disk. */
#include "folders.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/util.h"
#include "maildir.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
/* Bytes written as \ooo on disk (Courier's "modified UTF-8"). */
#define ESCAPED "./~:\\"
/* Largest subscription file read; a longer one is cut there. */
#define SUBS_MAX (256 * 1024)
/* Deepest tree a delete removes (a folder is three levels deep). */
#define REMOVE_DEPTH 8

const struct folders_special folders_special_default[5] = {
	{ .name = "Sent", .attr = FOLDERS_SENT },
	{ .name = "Trash", .attr = FOLDERS_TRASH },
	{ .name = "Drafts", .attr = FOLDERS_DRAFTS },
	{ .name = "Junk", .attr = FOLDERS_JUNK },
	{ .name = "Archive", .attr = FOLDERS_ARCHIVE },
};

static int
fail(int e)
{
	errno = e;
	return -1;
}

static int
is_inbox(const char *s, size_t len)
{
	return len == 5 && strncasecmp(s, "INBOX", 5) == 0;
}

/* One component c[0..len) checked and appended to out at *o, escaped. */
static int
put_component(const char *c, size_t len, char sep, int first, char *out, size_t *o)
{
	size_t i;

	if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.') ||
	    (first && is_inbox(c, len)))
		return fail(EINVAL);
	for (i = 0; i < len; i++) {
		unsigned char b = (unsigned char)c[i];
		if (b < 0x20 || b == 0x7f || (sep == '.' && b == '/'))
			return fail(EINVAL);
		int esc = strchr(ESCAPED, b) != NULL;
		if (*o + (esc ? 4 : 1) > FOLDERS_NAME_MAX)
			return fail(ENAMETOOLONG);
		if (esc) {
			snprintf(out + *o, 5, "\\%03o", b);
			*o += 4;
		} else {
			out[(*o)++] = (char)b;
		}
	}
	return 0;
}

int
folders_to_dir(const char *name, char sep, char dir_r[FOLDERS_NAME_MAX + 1])
{
	size_t len = strlen(name), o = 0, depth = 0;
	const char *p = name, *end = name + len;

	if (sep != '.' && sep != '/')
		return fail(EINVAL);
	if (is_inbox(name, len)) {
		snprintf(dir_r, FOLDERS_NAME_MAX + 1, ".");
		return 0;
	}
	if (len > FOLDERS_NAME_MAX)
		return fail(ENAMETOOLONG);
	if (!util_utf8_valid((const uint8_t *)name, len))
		return fail(EINVAL);
	for (;;) {
		const char *s = memchr(p, sep, (size_t)(end - p));
		size_t cl = s ? (size_t)(s - p) : (size_t)(end - p);
		if (++depth > FOLDERS_DEPTH_MAX || o + 1 > FOLDERS_NAME_MAX)
			return fail(depth > FOLDERS_DEPTH_MAX ? EINVAL : ENAMETOOLONG);
		dir_r[o++] = '.';
		if (put_component(p, cl, sep, depth == 1, dir_r, &o) < 0)
			return -1;
		if (s == NULL)
			break;
		p = s + 1;
	}
	dir_r[o] = '\0';
	return 0;
}

/* Decode "\ooo" at p (p[0] == '\\'): the byte, or -1. */
static int
unescape(const char *p)
{
	int v = 0, i;

	for (i = 1; i <= 3; i++) {
		if (p[i] < '0' || p[i] > '7')
			return -1;
		v = v * 8 + (p[i] - '0');
	}
	return v > 0xff ? -1 : v;
}

/* A decoded component that is "." or "..": refused as on the way in. */
static int
dot_component(const char *c, size_t len)
{
	return (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.');
}

/* Decode the directory components after the leading '.' into name_r. */
static int
decode_dir(const char *p, char sep, char *name_r, size_t len, size_t *o_r)
{
	size_t o = 0, comp = 0, start = 0, depth = 1;

	for (; *p != '\0'; p++) {
		int b = (unsigned char)*p;
		if (*p == '.') {
			if (comp == 0 || ++depth > FOLDERS_DEPTH_MAX || dot_component(name_r + start, o - start))
				return fail(EINVAL);
			b = sep;
			comp = 0;
			start = o + 1;
		} else {
			int v = *p == '\\' ? unescape(p) : -1;
			if (v >= 0) {
				b = v;
				p += 3;
			}
			if (b < 0x20 || b == 0x7f || b == sep || b == '/')
				return fail(EINVAL);
			comp++;
		}
		if (o + 1 >= len)
			return fail(ENAMETOOLONG);
		name_r[o++] = (char)b;
	}
	if (comp == 0 || dot_component(name_r + start, o - start))
		return fail(EINVAL);
	name_r[o] = '\0';
	*o_r = o;
	return 0;
}

int
folders_from_dir(const char *dir, char sep, char *name_r, size_t len)
{
	char canon[FOLDERS_NAME_MAX + 1];
	const char *s;
	size_t o;

	if (strcmp(dir, ".") == 0) {
		if (len < 6)
			return fail(ENAMETOOLONG);
		memcpy(name_r, "INBOX", 6);
		return 0;
	}
	if (dir[0] != '.' || strlen(dir) > FOLDERS_NAME_MAX || (sep != '.' && sep != '/'))
		return fail(EINVAL);
	if (decode_dir(dir + 1, sep, name_r, len, &o) < 0)
		return -1;
	s = strchr(name_r, sep);
	if (!util_utf8_valid((const uint8_t *)name_r, o) ||
	    is_inbox(name_r, s ? (size_t)(s - name_r) : o))
		return fail(EINVAL);
	/* only the directory this name opens: ".a:b" would list as "a:b",
	 * whose directory is ".a\072b" */
	if (folders_to_dir(name_r, sep, canon) < 0 || strcmp(canon, dir) != 0)
		return fail(EINVAL);
	return 0;
}

int
folders_special_parse(const char *text, char sep, struct folders_special *out, size_t max,
    size_t *line_r)
{
	static const struct { const char *a; unsigned v; } attrs[] = {
		{ "\\Sent", FOLDERS_SENT }, { "\\Trash", FOLDERS_TRASH },
		{ "\\Drafts", FOLDERS_DRAFTS }, { "\\Junk", FOLDERS_JUNK },
		{ "\\Archive", FOLDERS_ARCHIVE },
	};
	char dir[FOLDERS_NAME_MAX + 1];
	size_t n = 0, line = 0, i;
	const char *p = text;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n'), *sp;
		size_t ll = nl ? (size_t)(nl - p) : strlen(p), nl_len;
		line++;
		*line_r = line;
		sp = memchr(p, ' ', ll);
		if (ll > 0 && p[0] != '#') {
			nl_len = sp ? ll - (size_t)(sp - p) - 1 : 0;
			for (i = 0; sp != NULL && i < sizeof(attrs) / sizeof(attrs[0]); i++)
				if (strlen(attrs[i].a) == (size_t)(sp - p) && !strncasecmp(p, attrs[i].a, (size_t)(sp - p)))
					break;
			if (sp == NULL || i == sizeof(attrs) / sizeof(attrs[0]) || n == max ||
			    nl_len == 0 || nl_len > FOLDERS_NAME_MAX)
				return fail(EINVAL);
			memcpy(out[n].name, sp + 1, nl_len);
			out[n].name[nl_len] = '\0';
			out[n].attr = attrs[i].v;
			if (folders_to_dir(out[n].name, sep, dir) < 0)
				return fail(EINVAL);
			n++;
		}
		p += ll + (nl != NULL);
	}
	return (int)n;
}

/* --- the mail root's directory ------------------------------------------ */

/* A readable directory stream of rootfd (which may be O_PATH). */
static DIR *
open_root(int rootfd)
{
	int fd = openat(rootfd, ".", DIR_FLAGS);
	DIR *d;

	if (fd < 0)
		return NULL;
	if ((d = fdopendir(fd)) == NULL)
		close(fd);
	return d;
}

/* 1 if dirfd/name is a real directory (not a symlink), else 0. */
static int
is_real_dir(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

int
folders_open_dir(int rootfd, const char *dir)
{
	char name[FOLDERS_NAME_MAX + 1];
	int fd;

	/* one component, named as we name folders: never "..", never a path */
	if (strcmp(dir, ".") != 0 && (strchr(dir, '/') != NULL || folders_from_dir(dir, '/', name, sizeof(name)) < 0))
		return fail(EINVAL);
	if ((fd = openat(rootfd, dir, DIR_FLAGS)) < 0)
		return -1;
	if (!is_real_dir(fd, "cur") || !is_real_dir(fd, "new") || !is_real_dir(fd, "tmp")) {
		close(fd);
		return fail(ENOTDIR);
	}
	return fd;
}

/* A Maildir++ folder directory entry: ".X...", a real directory whose cur/
 * is a real directory. */
static int
is_folder(int rootfd, const struct dirent *de)
{
	int fd, ok;

	if (de->d_name[0] != '.' || de->d_name[1] == '\0' || de->d_name[1] == '.' ||
	    (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) || strlen(de->d_name) > FOLDERS_NAME_MAX)
		return 0;
	if ((fd = openat(rootfd, de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	ok = is_real_dir(fd, "cur");
	close(fd);
	return ok;
}

/* Call fn for the name of every folder directory of the mail root until
 * it returns non-zero; that value, 0, or -1 if the root cannot be read. */
static int
each_folder(int rootfd, int (*fn)(void *ctx, const char *dir), void *ctx)
{
	struct dirent *de;
	DIR *d = open_root(rootfd);
	int rc = 0;

	if (d == NULL)
		return -1;
	while (rc == 0 && (de = readdir(d)) != NULL)
		if (is_folder(rootfd, de))
			rc = fn(ctx, de->d_name);
	closedir(d);
	return rc;
}

/* --- listing ------------------------------------------------------------ */

static int
list_add(struct folders_list *l, size_t *cap, const char *dir, unsigned attr)
{
	if (l->n == FOLDERS_LIST_MAX)
		return fail(ENFILE);
	if (l->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		void *p = realloc(l->v, ncap * sizeof(*l->v));
		if (p == NULL)
			return -1;
		l->v = p;
		*cap = ncap;
	}
	snprintf(l->v[l->n].dir, sizeof(l->v[l->n].dir), "%s", dir);
	l->v[l->n].name = NULL;
	l->v[l->n].attr = attr;
	l->n++;
	return 0;
}

void
folders_list_free(struct folders_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct folders_entry *x = a, *y = b;
	int c = strcmp(x->dir, y->dir);

	/* a real folder before the implied parent of the same name */
	return c != 0 ? c : (int)(x->attr & FOLDERS_NOSELECT) - (int)(y->attr & FOLDERS_NOSELECT);
}

struct collect {
	struct folders_list *l;
	size_t *cap;
	char sep;
};

/* A folder that decodes, and each of its parents as an implied one
 * (duplicates removed later). */
static int
collect_one(void *ctx, const char *dir)
{
	struct collect *c = ctx;
	char name[FOLDERS_NAME_MAX + 1], *p;
	int rc;

	if (folders_from_dir(dir, c->sep, name, sizeof(name)) < 0)
		return 0;
	rc = list_add(c->l, c->cap, dir, 0);
	memcpy(name, dir, strlen(dir) + 1);	/* is_folder: it fits */
	for (p = strrchr(name, '.'); rc == 0 && p != name; p = strrchr(name, '.')) {
		*p = '\0';
		rc = list_add(c->l, c->cap, name, FOLDERS_NOSELECT);
	}
	return rc;
}

/* Index of the first entry not less than key (v sorted by dir). */
static size_t
lower_bound(const struct folders_list *l, const char *key)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(l->v[mid].dir, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
has_children(const struct folders_list *l, const char *dir)
{
	char key[FOLDERS_NAME_MAX + 2];
	size_t i, kl;

	if (strcmp(dir, ".") == 0)
		return 0;	/* the INBOX has no inferiors */
	kl = (size_t)snprintf(key, sizeof(key), "%s.", dir);
	i = lower_bound(l, key);
	return i < l->n && strncmp(l->v[i].dir, key, kl) == 0;
}

/* Sort, drop duplicates, then names and attributes. */
static int
finish(struct folders_list *l, char sep, const struct folders_special *sp, size_t nsp)
{
	char name[FOLDERS_NAME_MAX + 1];
	size_t i, j, o = 0;

	qsort(l->v, l->n, sizeof(*l->v), cmp_entry);
	for (i = 0; i < l->n; i++)
		if (o == 0 || strcmp(l->v[o - 1].dir, l->v[i].dir) != 0)
			l->v[o++] = l->v[i];
	l->n = o;
	for (i = 0; i < l->n; i++) {
		struct folders_entry *e = &l->v[i];
		if (folders_from_dir(e->dir, sep, name, sizeof(name)) < 0 ||
		    (e->name = strdup(name)) == NULL)
			return -1;
		e->attr |= has_children(l, e->dir) ? FOLDERS_HASCHILDREN : FOLDERS_HASNOCHILDREN;
		for (j = 0; j < nsp; j++)
			if (!(e->attr & FOLDERS_NOSELECT) && strcmp(sp[j].name, name) == 0)
				e->attr |= sp[j].attr;
	}
	return 0;
}

static void mark_subscribed(int rootfd, struct folders_list *l);

int
folders_list(int rootfd, char sep, const struct folders_special *sp, size_t nsp,
    struct folders_list *out)
{
	size_t cap = 0;
	struct collect c = { .l = out, .cap = &cap, .sep = sep };

	out->v = NULL;
	out->n = 0;
	if (list_add(out, &cap, ".", 0) < 0 || each_folder(rootfd, collect_one, &c) < 0 ||
	    finish(out, sep, sp, nsp) < 0) {
		int e = errno;
		folders_list_free(out);
		return fail(e);
	}
	mark_subscribed(rootfd, out);
	return 0;
}

/* --- create, delete, rename -------------------------------------------- */

int
folders_create(int rootfd, const char *name, char sep)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char dir[FOLDERS_NAME_MAX + 1];
	int fd, mf, i, rc = -1, e;

	if (folders_to_dir(name, sep, dir) < 0)
		return -1;
	if (strcmp(dir, ".") == 0)
		return fail(EEXIST);
	if (mkdirat(rootfd, dir, 0700) < 0)
		return -1;
	if ((fd = openat(rootfd, dir, DIR_FLAGS)) < 0)
		return -1;
	mf = openat(fd, "maildirfolder", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (mf >= 0 && close(mf) == 0) {
		/* cur/ last: a folder is listed once cur/ exists */
		for (i = 0; i < 3 && mkdirat(fd, subs[i], 0700) == 0; i++)
			;
		rc = i == 3 ? 0 : -1;
	}
	e = errno;
	close(fd);
	if (rc < 0) {
		(void)folders_delete(rootfd, name, sep);
		errno = e;
	}
	return rc;
}

/* Remove name below dirfd and everything in it, never following a link,
 * at most depth levels deep. */
static int
remove_tree(int dirfd, const char *name, int depth)
{
	struct dirent *de;
	DIR *d;
	int fd, rc = 0;

	fd = openat(dirfd, name, DIR_FLAGS);
	if (fd < 0)
		return (errno == ENOTDIR || errno == ELOOP) ? unlinkat(dirfd, name, 0) : -1;
	if (depth == 0 || (d = fdopendir(fd)) == NULL) {
		close(fd);
		return fail(depth == 0 ? ENOTEMPTY : errno);
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN)
			rc = remove_tree(fd, de->d_name, depth - 1);
		else
			rc = unlinkat(fd, de->d_name, 0);
	}
	closedir(d);
	return rc < 0 ? -1 : unlinkat(dirfd, name, AT_REMOVEDIR);
}

/* A folder that exists as a directory of its own (not a symlink). */
static int
dir_exists(int rootfd, const char *dir)
{
	struct stat st;

	if (fstatat(rootfd, dir, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return S_ISDIR(st.st_mode);
}

static int
child_of(void *ctx, const char *dir)
{
	const char *parent = ctx;
	size_t pl = strlen(parent);

	return strncmp(dir, parent, pl) == 0 && dir[pl] == '.';
}

/* 1 if some folder directory lies below dir, 0 if none, -1 on error. */
static int
dir_has_children(int rootfd, const char *dir)
{
	return each_folder(rootfd, child_of, (void *)(uintptr_t)dir);
}

int
folders_delete(int rootfd, const char *name, char sep)
{
	char dir[FOLDERS_NAME_MAX + 1], trash[64];
	int tmpfd, rc;

	if (folders_to_dir(name, sep, dir) < 0)
		return -1;
	if (strcmp(dir, ".") == 0)
		return fail(EPERM);
	if (!dir_exists(rootfd, dir))
		return fail(dir_has_children(rootfd, dir) == 1 ? EPERM : ENOENT);
	if ((tmpfd = openat(rootfd, "tmp", DIR_FLAGS)) < 0)
		return -1;
	maildir_tmp_name(trash, sizeof(trash), "deleted");
	rc = renameat(rootfd, dir, tmpfd, trash);
	if (rc == 0)
		rc = remove_tree(tmpfd, trash, REMOVE_DEPTH);
	close(tmpfd);
	return rc;
}

struct moves {
	char (*from)[FOLDERS_NAME_MAX + 1];
	char (*to)[FOLDERS_NAME_MAX + 1];
	size_t n, cap;
};

static int
moves_grow(struct moves *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 8;
	void *a, *b;

	if (m->n < m->cap)
		return 0;
	if (ncap > FOLDERS_LIST_MAX)
		return fail(ENFILE);
	if ((a = realloc(m->from, ncap * sizeof(*m->from))) != NULL)
		m->from = a;
	if ((b = realloc(m->to, ncap * sizeof(*m->to))) != NULL)
		m->to = b;
	if (a == NULL || b == NULL)
		return fail(ENOMEM);
	m->cap = ncap;
	return 0;
}

struct plan {
	int rootfd;
	const char *from, *to;
	struct moves *m;
};

/* A folder directory that is from or below it, with its new name. */
static int
plan_one(void *ctx, const char *dir)
{
	struct plan *p = ctx;
	size_t fl = strlen(p->from), tl = strlen(p->to), nl = strlen(dir);
	struct moves *m = p->m;

	if (strncmp(dir, p->from, fl) != 0 || (dir[fl] != '\0' && dir[fl] != '.'))
		return 0;
	if (tl + nl - fl > FOLDERS_NAME_MAX)
		return fail(ENAMETOOLONG);
	if (moves_grow(m) < 0)
		return -1;
	/* both fit: is_folder and the check above */
	memcpy(m->from[m->n], dir, nl + 1);
	memcpy(m->to[m->n], p->to, tl);
	memcpy(m->to[m->n] + tl, dir + fl, nl - fl + 1);
	m->n++;
	return dir_exists(p->rootfd, m->to[m->n - 1]) ? fail(EEXIST) : 0;
}

/* Every folder directory from_dir or below it, with its new name. */
static int
plan_moves(int rootfd, const char *from_dir, const char *to_dir, struct moves *m)
{
	struct plan p = { .rootfd = rootfd, .from = from_dir, .to = to_dir, .m = m };

	if (each_folder(rootfd, plan_one, &p) < 0)
		return -1;
	return m->n == 0 ? fail(ENOENT) : 0;
}

/* Carry the moves out; on a failure undo the ones done. */
static int
do_moves(int rootfd, const struct moves *m)
{
	size_t i;
	int e;

	for (i = 0; i < m->n; i++)
		if (util_rename_noreplace(rootfd, m->from[i], rootfd, m->to[i]) < 0)
			break;
	if (i == m->n)
		return 0;
	e = errno;
	while (i-- > 0)
		(void)util_rename_noreplace(rootfd, m->to[i], rootfd, m->from[i]);
	return fail(e);
}

/* Move every message file of sub ("cur" or "new") from one Maildir to the
 * same subdirectory of another. */
static int
move_files(int srcfd, int dstfd, const char *sub)
{
	struct dirent *de;
	int s = openat(srcfd, sub, DIR_FLAGS), d = openat(dstfd, sub, DIR_FLAGS), rc = 0;
	DIR *dir = NULL;

	if (s < 0 || d < 0 || (dir = fdopendir(s)) == NULL) {
		rc = -1;
		goto out;
	}
	s = -1;
	while (rc == 0 && (de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.' && de->d_type != DT_DIR)
			rc = util_rename_noreplace(dirfd(dir), de->d_name, d, de->d_name);
out:
	if (dir != NULL)
		closedir(dir);
	if (s >= 0)
		close(s);
	if (d >= 0)
		close(d);
	return rc;
}

static int
rename_inbox(int rootfd, const char *to, char sep)
{
	char dir[FOLDERS_NAME_MAX + 1];
	int dst, src, rc;

	if (folders_create(rootfd, to, sep) < 0 || folders_to_dir(to, sep, dir) < 0)
		return -1;
	if ((dst = folders_open_dir(rootfd, dir)) < 0)
		return -1;
	if ((src = folders_open_dir(rootfd, ".")) < 0) {
		close(dst);
		return -1;
	}
	/* RFC 3501 6.3.5: the messages move, INBOX stays (empty). */
	rc = move_files(src, dst, "new") < 0 || move_files(src, dst, "cur") < 0 ? -1 : 0;
	close(src);
	close(dst);
	return rc;
}

int
folders_rename(int rootfd, const char *from, const char *to, char sep)
{
	char fd_[FOLDERS_NAME_MAX + 1], td[FOLDERS_NAME_MAX + 1];
	struct moves m = { 0 };
	size_t fl;
	int rc;

	if (folders_to_dir(from, sep, fd_) < 0 || folders_to_dir(to, sep, td) < 0)
		return -1;
	if (strcmp(td, ".") == 0 || strcmp(fd_, td) == 0)
		return fail(EEXIST);
	if (strcmp(fd_, ".") == 0)
		return rename_inbox(rootfd, to, sep);
	fl = strlen(fd_);
	if (strncmp(td, fd_, fl) == 0 && td[fl] == '.')
		return fail(EINVAL);
	rc = plan_moves(rootfd, fd_, td, &m);
	if (rc == 0)
		rc = do_moves(rootfd, &m);
	free(m.from);
	free(m.to);
	return rc;
}

/* --- subscriptions ------------------------------------------------------ */

/* The subscription file's text (NUL-terminated, "" if there is none) in a
 * malloc'd buffer, or NULL. */
static char *
subs_read(int rootfd)
{
	char *t = calloc(1, SUBS_MAX + 1);
	size_t n = 0;
	ssize_t r;
	int fd;

	if (t == NULL)
		return NULL;
	fd = openat(rootfd, FOLDERS_SUBSCRIBED_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return t;
		free(t);
		return NULL;
	}
	while (n < SUBS_MAX && (r = read(fd, t + n, SUBS_MAX - n)) > 0)
		n += (size_t)r;
	close(fd);
	t[n] = '\0';
	return t;
}

/* Courier's line for a directory: "INBOX" + dir, "INBOX" for ".". */
static void
subs_line(const char *dir, char *out, size_t len)
{
	snprintf(out, len, "INBOX%s", strcmp(dir, ".") == 0 ? "" : dir);
}

/* The directory of a Courier line, or -1 if it names no folder. */
static int
subs_dir(const char *line, size_t ll, char dir_r[FOLDERS_NAME_MAX + 1])
{
	if (ll == 5 && memcmp(line, "INBOX", 5) == 0) {
		snprintf(dir_r, FOLDERS_NAME_MAX + 1, ".");
		return 0;
	}
	if (ll < 7 || ll - 5 > FOLDERS_NAME_MAX || memcmp(line, "INBOX.", 6) != 0 ||
	    memchr(line, '\0', ll) != NULL)
		return -1;
	memcpy(dir_r, line + 5, ll - 5);
	dir_r[ll - 5] = '\0';
	return 0;
}

/* Call fn for the directory of every line of text. */
static int
subs_each(const char *text, int (*fn)(void *ctx, const char *dir), void *ctx)
{
	char dir[FOLDERS_NAME_MAX + 1];
	const char *p = text;
	int rc = 0;

	while (rc == 0 && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t ll = nl ? (size_t)(nl - p) : strlen(p);
		if (subs_dir(p, ll, dir) == 0)
			rc = fn(ctx, dir);
		p += ll + (nl != NULL);
	}
	return rc;
}

static int
mark_one(void *ctx, const char *dir)
{
	struct folders_list *l = ctx;
	size_t i = lower_bound(l, dir);

	if (i < l->n && strcmp(l->v[i].dir, dir) == 0)
		l->v[i].attr |= FOLDERS_SUBSCRIBED;
	return 0;
}

static void
mark_subscribed(int rootfd, struct folders_list *l)
{
	char *t = subs_read(rootfd);

	if (t != NULL)
		(void)subs_each(t, mark_one, l);
	free(t);
}

struct subs_ctx {
	struct folders_list *l;
	size_t cap;
	char sep;
};

static int
add_sub(void *ctx, const char *dir)
{
	struct subs_ctx *c = ctx;
	char name[FOLDERS_NAME_MAX + 1];

	if (folders_from_dir(dir, c->sep, name, sizeof(name)) < 0)
		return 0;
	if (list_add(c->l, &c->cap, dir, FOLDERS_SUBSCRIBED) < 0)
		return -1;
	return (c->l->v[c->l->n - 1].name = strdup(name)) == NULL ? -1 : 0;
}

int
folders_subscriptions(int rootfd, char sep, struct folders_list *out)
{
	struct subs_ctx c = { .l = out, .cap = 0, .sep = sep };
	char *t = subs_read(rootfd);
	int rc;

	out->v = NULL;
	out->n = 0;
	if (t == NULL)
		return -1;
	rc = subs_each(t, add_sub, &c);
	free(t);
	if (rc < 0)
		folders_list_free(out);
	return rc;
}

int
folders_subscribe(int rootfd, const char *name, char sep, int on)
{
	char dir[FOLDERS_NAME_MAX + 1], line[FOLDERS_NAME_MAX + 8], *t, *out, *p;
	size_t o = 0, ll;
	int rc;

	if (folders_to_dir(name, sep, dir) < 0)
		return -1;
	subs_line(dir, line, sizeof(line));
	ll = strlen(line);
	if ((t = subs_read(rootfd)) == NULL)
		return -1;
	if ((out = malloc(strlen(t) + ll + 2)) == NULL) {
		free(t);
		return -1;
	}
	/* keep every other line as it is, drop this one, append it if on */
	for (p = t; *p != '\0';) {
		char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		if (l > 0 && !(l == ll && memcmp(p, line, ll) == 0)) {
			memcpy(out + o, p, l);
			o += l;
			out[o++] = '\n';
		}
		p += l + (nl != NULL);
	}
	if (on) {
		memcpy(out + o, line, ll);
		o += ll;
		out[o++] = '\n';
	}
	rc = maildir_replace_file(rootfd, FOLDERS_SUBSCRIBED_FILE, out, o);
	free(out);
	free(t);
	return rc;
}
