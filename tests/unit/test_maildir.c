/* test_maildir.c - Maildir++ names, UIDLs, CRLF sizes, delivery. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/mail/maildir.h"
#include "tap.h"

static char dir[64];

static int
pn(const char *name, struct maildir_name *mn)
{
	return maildir_parse_name(name, strlen(name), mn);
}

static void
test_parse_name(void)
{
	struct maildir_name mn;
	const char *full = "1700000000.M1P2Q3.host,S=1234,W=1260:2,FRS";
	char longname[300];

	CHECK(pn(full, &mn) == 0 && mn.base_len == strlen(full) - 6, "full name: base ends at ':'");
	CHECK(mn.has_size && mn.size == 1234, "S= parsed");
	CHECK(mn.has_vsize && mn.vsize == 1260, "W= parsed");
	CHECK(mn.has_info && !strcmp(mn.flags, "FRS"), ":2,FRS flags");
	CHECK(pn("1700.M1.host,W=7,S=5", &mn) == 0 && mn.size == 5 && mn.vsize == 7 &&
	    mn.base_len == 20 && !mn.has_info && mn.flags[0] == '\0', "name without info, W= before S=");
	CHECK(pn("1700.M1.host", &mn) == 0 && !mn.has_size && !mn.has_vsize && mn.base_len == 12,
	    "plain name, no sizes");
	CHECK(pn("x,S=12a,W=5", &mn) == 0 && !mn.has_size && mn.has_vsize && mn.vsize == 5,
	    "malformed S= ignored, name accepted");
	CHECK(pn("x,S=,W=", &mn) == 0 && !mn.has_size && !mn.has_vsize, "empty S= and W= ignored");
	CHECK(pn("x,S=", &mn) == 0 && !mn.has_size, "S= at the end ignored");
	CHECK(pn("x,S=-1", &mn) == 0 && !mn.has_size, "negative S= ignored");
	CHECK(pn("x,S=123456789012345678901", &mn) == 0 && !mn.has_size, "over-long S= ignored");
	CHECK(pn("x,S=18446744073709551615", &mn) == 0 && mn.has_size && mn.size == UINT64_MAX,
	    "S= of UINT64_MAX");
	CHECK(pn("x,s=5,X=3", &mn) == 0 && !mn.has_size && !mn.has_vsize, "other fields ignored");
	CHECK(pn("x:2,S=5", &mn) == 0 && !mn.has_size && mn.base_len == 1 && !strcmp(mn.flags, "S"),
	    "S= in the info part is not a size");
	CHECK(pn("x:2,", &mn) == 0 && mn.has_info && mn.flags[0] == '\0', "empty flags");
	CHECK(pn("x:2,SSF1a-", &mn) == 0 && !strcmp(mn.flags, "SFa"), "flags: letters only, no repeats");
	CHECK(pn("x:1,foo", &mn) == 0 && !mn.has_info && mn.base_len == 1, "experimental ':1,' info");
	CHECK(pn(".hidden", &mn) == -1, "dot file refused");
	CHECK(pn(".", &mn) == -1 && pn("..", &mn) == -1, "'.' and '..' refused");
	CHECK(pn("a/b", &mn) == -1, "'/' refused");
	CHECK(pn("", &mn) == -1, "empty refused");
	CHECK(pn(":2,S", &mn) == -1, "empty base refused");
	CHECK(maildir_parse_name("ab\0c", 4, &mn) == -1, "NUL refused");
	memset(longname, 'n', sizeof(longname));
	CHECK(maildir_parse_name(longname, MAILDIR_NAME_MAX, &mn) == 0, "name of MAILDIR_NAME_MAX ok");
	CHECK(maildir_parse_name(longname, MAILDIR_NAME_MAX + 1, &mn) == -1, "over-long name refused");
}

static int
is_hex40(const char *s)
{
	size_t i;

	for (i = 0; i < 40; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[40] == '\0';
}

static void
test_uidl(void)
{
	char a[71], b[71], name[100];

	maildir_uidl("1700.M1P2.host,S=5:2,S", 16, a);
	CHECK(!strcmp(a, "1700.M1P2.host,S"), "printable base kept (up to base_len)");
	maildir_uidl("with space", 10, a);
	maildir_uidl("with space", 10, b);
	CHECK(is_hex40(a) && !strcmp(a, b), "base with a space: 40 hex chars, stable");
	maildir_uidl("with spacf", 10, b);
	CHECK(is_hex40(b) && strcmp(a, b) != 0, "different names, different hashes");
	memset(name, 'u', sizeof(name));
	maildir_uidl(name, 70, a);
	CHECK(strlen(a) == 70 && a[69] == 'u', "70-char base kept");
	maildir_uidl(name, 71, a);
	maildir_uidl(name, 71, b);
	CHECK(is_hex40(a) && !strcmp(a, b), "71-char base: 40 hex chars, stable");
	maildir_uidl("a\x7f", 2, a);
	CHECK(is_hex40(a), "DEL in base: hashed");
	maildir_uidl("caf\xc3\xa9", 5, a);
	CHECK(is_hex40(a), "non-ASCII base: hashed");
	maildir_uidl("", 0, a);
	CHECK(is_hex40(a), "empty base: hashed");
	maildir_uidl("!~", 2, a);
	CHECK(!strcmp(a, "!~"), "0x21 and 0x7e allowed");
}

/* Write data to a new temp file and return its crlf size (or UINT64_MAX). */
static uint64_t
crlf_of(const void *data, size_t len)
{
	char p[128];
	uint64_t n = UINT64_MAX;
	int fd;

	snprintf(p, sizeof(p), "%s/crlf-XXXXXX", dir);
	fd = mkstemp(p);
	if (fd < 0)
		return n;
	unlink(p);
	if (write(fd, data, len) == (ssize_t)len && maildir_crlf_size(fd, &n) < 0)
		n = UINT64_MAX - 1;
	close(fd);
	return n;
}

#define CRLF(lit) crlf_of(lit, sizeof(lit) - 1)

static void
test_crlf_size(void)
{
	static uint8_t big[40000];
	uint64_t n;
	int fd;

	CHECK(CRLF("a\nb\n") == 6, "LF only");
	CHECK(CRLF("a\r\nb\r\n") == 6, "CRLF only");
	CHECK(CRLF("a\r\nb\nc") == 7, "mixed, no final newline");
	CHECK(CRLF("") == 0, "empty file");
	CHECK(CRLF("abc") == 3, "no newline at all");
	CHECK(CRLF("\n\n") == 4, "bare LFs only");
	CHECK(CRLF("\r") == 1 && CRLF("\r\r\n") == 3, "lone CRs count once");
	CHECK(CRLF("a\n\r") == 4, "CR after LF");
	memset(big, 'x', sizeof(big));
	big[16383] = '\r';
	big[16384] = '\n';
	big[20000] = '\n';
	big[32767] = '\n';
	big[32768] = '\n';
	CHECK(crlf_of(big, sizeof(big)) == sizeof(big) + 3, "CRLF split across read chunks");
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(maildir_crlf_size(fd, &n) == -1, "directory fd: -1");
	close(fd);
	CHECK(maildir_crlf_size(-1, &n) == -1, "bad fd: -1");
}

static int
count_entries(int rootfd, const char *sub)
{
	DIR *d;
	struct dirent *e;
	int fd = openat(rootfd, sub, O_RDONLY | O_DIRECTORY), n = 0;

	if (fd < 0 || (d = fdopendir(fd)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int
is_dir700(int dirfd, const char *p)
{
	struct stat st;

	return fstatat(dirfd, p, &st, 0) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700;
}

/* Read dirfd/p whole into out; returns its length or -1. */
static long
slurp(int dirfd, const char *p, uint8_t *out, size_t cap)
{
	int fd = openat(dirfd, p, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, out, cap);
	close(fd);
	return n;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static void
check_delivered(int md, const char *name, const char *msg, size_t len, uint64_t vsize)
{
	struct maildir_name mn;
	uint8_t got[256];
	char p[300], suffix[64];
	struct stat st;
	uint64_t n = 0;
	int fd;

	snprintf(suffix, sizeof(suffix), ",S=%zu,W=%llu", len, (unsigned long long)vsize);
	CHECK(ends_with(name, suffix), "name ends with ,S=<len>,W=<crlf len>");
	CHECK(strchr(name, ':') == NULL && strchr(name, '/') == NULL, "name has no ':' or '/'");
	CHECK(maildir_parse_name(name, strlen(name), &mn) == 0 && mn.has_size && mn.size == len &&
	    mn.has_vsize && mn.vsize == vsize && !mn.has_info, "name parses back to its sizes");
	snprintf(p, sizeof(p), "new/%s", name);
	CHECK(slurp(md, p, got, sizeof(got)) == (long)len && !memcmp(got, msg, len), "content identical in new/");
	CHECK(fstatat(md, p, &st, 0) == 0 && (st.st_mode & 0777) == 0600, "message file mode 0600");
	fd = openat(md, p, O_RDONLY);
	CHECK(fd >= 0 && maildir_crlf_size(fd, &n) == 0 && n == vsize, "crlf_size of the file matches W=");
	if (fd >= 0)
		close(fd);
	CHECK(count_entries(md, "tmp") == 0, "tmp/ empty after delivery");
}

/* Deliver len bytes of data through a memfd, as a worker hands them to
 * stored's deliver view. */
static int
deliver_buf(int md, const void *data, size_t len, char name_r[MAILDIR_NAME_MAX + 1])
{
	int fd = memfd_create("msg", MFD_CLOEXEC), rc, saved;

	if (fd < 0 || write(fd, data, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) != 0)
		return -2;
	rc = maildir_deliver(md, fd, 1 << 20, "test.host", name_r);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* Delivery streams: a CRLF split between read chunks counts once, a pipe
 * works as a source, and a message over the limit leaves nothing behind. */
static void
test_deliver_stream(int md)
{
	static char big[40000];
	char n1[MAILDIR_NAME_MAX + 1];
	struct maildir_name mn;
	int p[2], before;

	memset(big, 'x', sizeof(big));
	big[16383] = '\r';
	big[16384] = '\n';
	big[30000] = '\n';
	CHECK(deliver_buf(md, big, sizeof(big), n1) == 0 && maildir_parse_name(n1, strlen(n1), &mn) == 0 &&
	    mn.size == sizeof(big) && mn.vsize == sizeof(big) + 1, "sizes counted across chunks");
	CHECK(pipe(p) == 0 && write(p[1], "a\nb\n", 4) == 4 && close(p[1]) == 0, "pipe source");
	CHECK(maildir_deliver(md, p[0], 100, "h", n1) == 0 && ends_with(n1, ".h,S=4,W=6"),
	    "delivery from a pipe, name from the bytes written");
	close(p[0]);
	before = count_entries(md, "new");
	CHECK(pipe(p) == 0 && write(p[1], "0123456789", 10) == 10 && close(p[1]) == 0, "pipe source");
	errno = 0;
	CHECK(maildir_deliver(md, p[0], 9, "h", n1) == -1 && errno == EFBIG, "over the limit: EFBIG");
	CHECK(count_entries(md, "new") == before && count_entries(md, "tmp") == 0,
	    "nothing delivered, tmp/ cleaned");
	close(p[0]);
}

static void
test_deliver(void)
{
	static const char msg[] = "Subject: hi\n\nhello\r\nworld\n";
	char n1[MAILDIR_NAME_MAX + 1], n2[MAILDIR_NAME_MAX + 1];
	const char *why = NULL;
	int rootfd, md;

	rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	mkdirat(rootfd, "Maildir", 0700);
	md = openat(rootfd, "Maildir", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(maildir_check(md, &why) == 0, "maildir_check creates cur/ new/ tmp/");
	CHECK(is_dir700(rootfd, "Maildir/cur") && is_dir700(rootfd, "Maildir/new") &&
	    is_dir700(rootfd, "Maildir/tmp"), "dirs made, mode 0700");
	CHECK(maildir_check(md, &why) == 0, "maildir_check on an existing maildir");
	CHECK(deliver_buf(md, msg, sizeof(msg) - 1, n1) == 0, "deliver");
	CHECK(count_entries(md, "new") == 1 && count_entries(md, "cur") == 0, "one file in new/");
	check_delivered(md, n1, msg, sizeof(msg) - 1, sizeof(msg) - 1 + 3);
	CHECK(deliver_buf(md, msg, 5, n2) == 0 && strcmp(n1, n2) != 0,
	    "second delivery gets a new name");
	check_delivered(md, n2, msg, 5, 5);
	CHECK(deliver_buf(md, "", 0, n2) == 0, "empty message");
	check_delivered(md, n2, "", 0, 0);
	CHECK(count_entries(md, "new") == 3, "three files in new/");
	test_deliver_stream(md);
	close(md);
	mkdirat(rootfd, "Broken", 0700);
	mkdirat(rootfd, "Broken/new", 0700);
	md = openat(rootfd, "Broken", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	errno = 0;
	CHECK(deliver_buf(md, "x\n", 2, n1) == -1 && errno == ENOENT,
	    "delivery without tmp/ fails");
	CHECK(count_entries(md, "new") == 0, "nothing delivered");
	close(md);
	close(rootfd);
}

/* A symlinked new/ or tmp/ is refused by maildir_check and by delivery,
 * and nothing reaches the symlink's target. */
static void
test_symlinked_subdir(void)
{
	char n1[MAILDIR_NAME_MAX + 1];
	const char *why = NULL;
	int rootfd, md;

	rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	mkdirat(rootfd, "Target", 0700);
	mkdirat(rootfd, "Evil", 0700);
	mkdirat(rootfd, "Evil/cur", 0700);
	mkdirat(rootfd, "Evil/tmp", 0700);
	CHECK(symlinkat("../Target", rootfd, "Evil/new") == 0, "plant new -> ../Target");
	md = openat(rootfd, "Evil", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(maildir_check(md, &why) == -1 && why != NULL && strstr(why, "new") != NULL,
	    "maildir_check refuses a symlinked new/");
	errno = 0;
	CHECK(deliver_buf(md, "x\n", 2, n1) == -1 &&
	    (errno == ENOTDIR || errno == ELOOP), "delivery refuses a symlinked new/");
	CHECK(count_entries(rootfd, "Target") == 0 && count_entries(md, "tmp") == 0,
	    "nothing in the target, tmp/ cleaned");
	close(md);
	close(rootfd);
}


int
main(void)
{
	if (tap_tmpdir(dir, sizeof(dir), "maildir") < 0)
		return tap_done();
	test_parse_name();
	test_uidl();
	test_crlf_size();
	test_deliver();
	test_symlinked_subdir();
	tap_rmtree(dir);
	return tap_done();
}
