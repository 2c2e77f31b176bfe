/* test_quota.c - Maildir++ maildirsize: parsing, IMAP QUOTA numbers,
 * updates and the recalculation rules. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../common/mail/folders.h"
#include "../../common/mail/quota.h"
#include "tap.h"

static char dir[64];
static int root = -1;

static int
parse(const char *t, struct quota *q)
{
	return quota_parse(t, strlen(t), q);
}

static void
test_parse(void)
{
	struct quota q;
	struct quota_imap im;

	CHECK(parse("10000000S,1000C\n2048 2\n-1024 -1\n", &q) == 0 && q.has_storage && q.has_messages &&
	    q.storage_limit == 10000000 && q.message_limit == 1000 && q.storage_used == 1024 &&
	    q.messages_used == 1 && !q.malformed, "definition and usage lines");
	CHECK(parse("5000S\n", &q) == 0 && q.has_storage && !q.has_messages, "storage only");
	CHECK(parse("7C\n1 1\n", &q) == 0 && !q.has_storage && q.has_messages && q.message_limit == 7, "count only");
	CHECK(parse("100S,5X,3C\n", &q) == 0 && q.has_storage && q.has_messages, "unknown kinds ignored");
	CHECK(parse("", &q) == -1 && parse("abc\n", &q) == -1 && parse("S\n", &q) == -1 && parse("\n1 1\n", &q) == -1,
	    "bad definitions refused");
	CHECK(parse("100S\n12\nx y\n5 1\n", &q) == 0 && q.malformed && q.storage_used == 5, "malformed lines flagged");
	CHECK(parse("100S\n9223372036854775807 1\n1 1\n", &q) == 0 && q.malformed, "overflow is malformed");
	CHECK(parse("100S\n1  1", &q) == 0 && q.storage_used == 1 && !q.malformed, "spaces and no final newline");
	CHECK(parse("1000S,2C\n1001 1\n", &q) == 0 && quota_over(&q), "over the storage quota");
	CHECK(parse("1000S,2C\n10 3\n", &q) == 0 && quota_over(&q), "over the message quota");
	CHECK(parse("1000S,2C\n10 1\n", &q) == 0 && !quota_over(&q), "under quota");
	CHECK(parse("1048576S,100C\n1025 3\n", &q) == 0, "for IMAP");
	quota_imap(&q, &im);
	CHECK(im.has_storage && im.has_message && im.storage_used_kib == 2 && im.storage_limit_kib == 1024 &&
	    im.message_used == 3 && im.message_limit == 100, "RFC 9208 STORAGE in KiB (usage rounded up), MESSAGE");
	CHECK(parse("100S\n-500 -3\n", &q) == 0, "negative usage");
	quota_imap(&q, &im);
	CHECK(im.storage_used_kib == 0 && im.message_used == 0, "negative usage reported as 0");
}

static void
put(const char *path, const char *text)
{
	int fd = openat(root, path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text) && close(fd) == 0, path);
}

static int
file_is(const char *path, const char *want)
{
	char b[8192];
	int fd = openat(root, path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	b[n < 0 ? 0 : n] = '\0';
	return strcmp(b, want) == 0;
}

static void
test_files(void)
{
	struct quota q;
	struct timespec old[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1000000000 } };
	char big[6000];
	int re, i;

	CHECK(mkdirat(root, "cur", 0700) == 0 && mkdirat(root, "new", 0700) == 0 && mkdirat(root, "tmp", 0700) == 0,
	    "mail root");
	CHECK(quota_read(root, time(NULL), &q, &re) == 0 && !q.has_storage && !q.has_messages && !re, "no file: no quota");
	CHECK(quota_update(root, 100, 1) == 0 && faccessat(root, QUOTA_FILE, F_OK, 0) == -1, "no file: update does nothing");
	put("cur/1.M1.h,S=1000:2,S", "");
	put("new/2.M1.h,S=500", "");
	put("cur/3.M1.h:2,", "12345");
	CHECK(folders_create(root, "Work", '/') == 0 && folders_create(root, "Trash", '/') == 0, "folders");
	put(".Work/cur/4.M1.h,S=2000:2,", "");
	put(".Trash/cur/5.M1.h,S=9999:2,", "");
	CHECK(quota_recalc(root, "100000S,10C", &q) == 0 && q.storage_used == 3505 && q.messages_used == 4,
	    "recalculation: S= or file size, folders counted, Trash not");
	CHECK(file_is(QUOTA_FILE, "100000S,10C\n3505 4\n"), "maildirsize written");
	CHECK(quota_update(root, 700, 1) == 0 && quota_update(root, -500, -1) == 0, "updates appended");
	CHECK(file_is(QUOTA_FILE, "100000S,10C\n3505 4\n700 1\n-500 -1\n"), "lines appended");
	CHECK(quota_read(root, time(NULL), &q, &re) == 0 && !re && q.storage_used == 3705 && q.messages_used == 4 &&
	    q.storage_limit == 100000, "read sums the lines");
	/* over 5120 bytes: recalculated */
	memset(big, 0, sizeof(big));
	strcpy(big, "100000S,10C\n");
	for (i = 0; strlen(big) < 5200; i++)
		strcat(big, "1 0\n");
	put(QUOTA_FILE, big);
	CHECK(quota_read(root, time(NULL), &q, &re) == 0 && re && q.storage_used == 3505 && q.messages_used == 4,
	    "over 5120 bytes: recalculated");
	CHECK(file_is(QUOTA_FILE, "100000S,10C\n3505 4\n"), "rewritten small");
	/* old and over quota: recalculated; old and under: kept */
	put(QUOTA_FILE, "100000S,10C\n100 1\n");
	CHECK(utimensat(root, QUOTA_FILE, old, 0) == 0, "age the file");
	CHECK(quota_read(root, time(NULL), &q, &re) == 0 && !re && q.storage_used == 100, "old but under quota: kept");
	put(QUOTA_FILE, "3000S,10C\n100000 1\n");
	CHECK(utimensat(root, QUOTA_FILE, old, 0) == 0, "age the file again");
	CHECK(quota_read(root, time(NULL), &q, &re) == 0 && re && q.storage_used == 3505 && q.storage_limit == 3000,
	    "old and over quota: recalculated, definition kept");
	put(QUOTA_FILE, "3000S,10C\n100000 1\n");
	CHECK(quota_read(root, time(NULL), &q, &re) == 0 && !re && q.storage_used == 100000, "fresh and over: trusted");
	put(QUOTA_FILE, "100000S\ngarbage\n");
	CHECK(quota_read(root, time(NULL), &q, &re) == 0 && re && q.storage_used == 3505, "malformed: recalculated");
	put(QUOTA_FILE, "nonsense\n5 5\n");
	CHECK(quota_read(root, time(NULL), &q, &re) == 0 && !q.has_storage && !q.has_messages, "no definition: no quota");
	CHECK(unlinkat(root, QUOTA_FILE, 0) == 0 && symlinkat("/etc/passwd", root, QUOTA_FILE) == 0, "maildirsize planted as a symlink");
	CHECK(quota_read(root, time(NULL), &q, &re) == -1 && errno == ELOOP, "symlink not followed by read");
	CHECK(quota_update(root, 1, 1) == -1 && errno == ELOOP, "symlink not followed by update");
}

int
main(void)
{
	test_parse();
	if (tap_tmpdir(dir, sizeof(dir), "quota") < 0)
		return tap_done();
	root = open(dir, O_PATH | O_DIRECTORY);
	CHECK(root >= 0, "mail root fd");
	test_files();
	close(root);
	tap_rmtree(dir);
	return tap_done();
}
