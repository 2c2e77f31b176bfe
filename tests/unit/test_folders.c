/* test_folders.c - Maildir++ folder names, listing, create, delete, rename,
 * subscriptions, and symlinks a user may plant. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/mail/folders.h"
#include "tap.h"

static char dir[64], outside[64];
static int root = -1;

static int
to_dir_is(const char *name, char sep, const char *want)
{
	char d[FOLDERS_NAME_MAX + 1];

	return folders_to_dir(name, sep, d) == 0 && strcmp(d, want) == 0;
}

static int
refused(const char *name, char sep, int e)
{
	char d[FOLDERS_NAME_MAX + 1];

	errno = 0;
	return folders_to_dir(name, sep, d) == -1 && errno == e;
}

static int
round_trip(const char *name, char sep)
{
	char d[FOLDERS_NAME_MAX + 1], back[FOLDERS_NAME_MAX + 1];

	return folders_to_dir(name, sep, d) == 0 && folders_from_dir(d, sep, back, sizeof(back)) == 0 &&
	    strcmp(back, name) == 0;
}

static void
test_names(void)
{
	char longname[300], deep[100], back[64], back2[FOLDERS_NAME_MAX + 1];
	int i;

	CHECK(to_dir_is("INBOX", '/', ".") && to_dir_is("inbox", '.', ".") && to_dir_is("InBoX", '/', "."),
	    "INBOX in any case is the root Maildir");
	CHECK(to_dir_is("Sent", '/', ".Sent"), "top-level folder");
	CHECK(to_dir_is("A/B", '/', ".A.B") && to_dir_is("A.B", '.', ".A.B"), "hierarchy with / and .");
	CHECK(to_dir_is("v1.2/x", '/', ".v1\\0562.x"), "'.' in a name under '/' is escaped as Courier does");
	CHECK(to_dir_is("a~b:c\\d", '/', ".a\\176b\\072c\\134d"), "~ : \\ escaped");
	CHECK(to_dir_is("Entw\xc3\xbcrfe", '/', ".Entw\xc3\xbcrfe"), "UTF-8 stays UTF-8 on disk");
	CHECK(round_trip("v1.2/x", '/') && round_trip("a~b:c\\d", '/') && round_trip("A.B.C", '.') &&
	    round_trip("Entw\xc3\xbcrfe/\xe2\x82\xac", '/'), "names round-trip");
	CHECK(folders_from_dir(".", '/', back, sizeof(back)) == 0 && !strcmp(back, "INBOX"), "'.' is INBOX");
	CHECK(refused("", '/', EINVAL), "empty name refused");
	CHECK(refused("A//B", '/', EINVAL) && refused("/A", '/', EINVAL) && refused("A/", '/', EINVAL),
	    "empty component refused");
	CHECK(refused("..", '/', EINVAL) && refused("A/../B", '/', EINVAL) && refused("A/.", '/', EINVAL),
	    "'.' and '..' components refused");
	CHECK(refused("A..B", '.', EINVAL), "'..' under separator '.' is an empty component");
	CHECK(refused("a/b", '.', EINVAL), "'/' refused under separator '.'");
	CHECK(refused("a\x01" "b", '/', EINVAL) && refused("a\nb", '/', EINVAL) && refused("a\x7f", '/', EINVAL),
	    "control characters refused");
	CHECK(refused("\xc3(", '/', EINVAL) && refused("\xed\xa0\x80", '/', EINVAL), "invalid UTF-8 refused");
	CHECK(refused("INBOX/x", '/', EINVAL) && refused("inbox.x", '.', EINVAL), "no inferiors of INBOX");
	CHECK(refused("x", ';', EINVAL), "unknown separator refused");
	memset(longname, 'x', sizeof(longname));
	longname[FOLDERS_NAME_MAX - 1] = '\0';
	CHECK(folders_to_dir(longname, '/', back2) == 0 && strlen(back2) == FOLDERS_NAME_MAX,
	    "name of FOLDERS_NAME_MAX - 1 bytes ok");
	longname[FOLDERS_NAME_MAX - 1] = 'x';
	longname[FOLDERS_NAME_MAX] = '\0';
	CHECK(refused(longname, '/', ENAMETOOLONG), "over-long name refused");
	CHECK(refused("a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a", '.', EINVAL), "too deep refused");
	for (i = 0; i < 16; i++)
		memcpy(deep + 2 * i, "a/", 2);
	deep[31] = '\0';
	CHECK(to_dir_is(deep, '/', ".a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a"), "FOLDERS_DEPTH_MAX components ok");
	CHECK(folders_from_dir(".a\\057b", '/', back, sizeof(back)) == -1, "escaped separator on disk refused");
	CHECK(folders_from_dir(".a\\001b", '/', back, sizeof(back)) == -1, "escaped control on disk refused");
	CHECK(folders_from_dir("..a", '/', back, sizeof(back)) == -1 && folders_from_dir(".a.", '/', back, sizeof(back)) == -1,
	    "empty component on disk refused");
	CHECK(folders_from_dir(".INBOX", '/', back, sizeof(back)) == -1, "a disk folder .INBOX is not listed");
	CHECK(folders_from_dir(".a\\9", '/', back, sizeof(back)) == -1 && folders_from_dir(".a:b", '/', back, sizeof(back)) == -1 &&
	    folders_from_dir(".\\141", '/', back, sizeof(back)) == -1, "a directory not named as we would name it is refused");
	CHECK(folders_from_dir(".\\056", '/', back, sizeof(back)) == -1 && folders_from_dir(".a.\\056\\056", '/', back, sizeof(back)) == -1,
	    "escaped '.' and '..' components refused");
}

static const struct folders_entry *
find(const struct folders_list *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

static int
has(const char *name, unsigned attr, unsigned noattr)
{
	struct folders_list l;
	const struct folders_entry *e;
	int ok;

	if (folders_list(root, '/', folders_special_default, FOLDERS_SPECIAL_DEFAULT_N, &l) < 0)
		return 0;
	e = find(&l, name);
	ok = e != NULL && (e->attr & attr) == attr && (e->attr & noattr) == 0;
	folders_list_free(&l);
	return ok;
}

static int
absent(const char *name)
{
	struct folders_list l;
	int ok;

	if (folders_list(root, '/', NULL, 0, &l) < 0)
		return 0;
	ok = find(&l, name) == NULL;
	folders_list_free(&l);
	return ok;
}

static int
exists_at(int fd, const char *path)
{
	struct stat st;

	return fstatat(fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void
put_file(const char *path)
{
	int fd = openat(root, path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd >= 0)
		close(fd);
}

static void
test_create_list_delete(void)
{
	struct folders_list l;

	CHECK(mkdirat(root, "cur", 0700) == 0 && mkdirat(root, "new", 0700) == 0 && mkdirat(root, "tmp", 0700) == 0,
	    "INBOX Maildir");
	CHECK(folders_create(root, "Sent", '/') == 0, "create Sent");
	CHECK(exists_at(root, ".Sent/cur") && exists_at(root, ".Sent/new") && exists_at(root, ".Sent/tmp") &&
	    exists_at(root, ".Sent/maildirfolder"), "cur new tmp maildirfolder made");
	CHECK(folders_create(root, "Sent", '/') == -1 && errno == EEXIST, "create existing: EEXIST");
	CHECK(folders_create(root, "INBOX", '/') == -1 && errno == EEXIST, "create INBOX: EEXIST");
	CHECK(folders_create(root, "../evil", '/') == -1 && errno == EINVAL, "create hostile name refused");
	CHECK(folders_create(root, "A/B", '/') == 0, "create A/B without A");
	CHECK(folders_list(root, '/', folders_special_default, FOLDERS_SPECIAL_DEFAULT_N, &l) == 0 && l.n == 4 &&
	    !strcmp(l.v[0].name, "INBOX"), "list: INBOX first, 4 entries");
	folders_list_free(&l);
	CHECK(has("INBOX", FOLDERS_HASNOCHILDREN, FOLDERS_NOSELECT), "INBOX selectable, no children");
	CHECK(has("A", FOLDERS_NOSELECT | FOLDERS_HASCHILDREN, 0), "implied parent A is \\Noselect \\HasChildren");
	CHECK(has("A/B", FOLDERS_HASNOCHILDREN, FOLDERS_NOSELECT), "A/B \\HasNoChildren");
	CHECK(has("Sent", FOLDERS_SENT | FOLDERS_HASNOCHILDREN, FOLDERS_TRASH), "Sent is \\Sent");
	CHECK(folders_delete(root, "INBOX", '/') == -1 && errno == EPERM, "delete INBOX refused");
	CHECK(folders_delete(root, "A", '/') == -1 && errno == EPERM, "delete of a \\Noselect parent refused");
	CHECK(folders_delete(root, "Nope", '/') == -1 && errno == ENOENT, "delete of nothing: ENOENT");
	CHECK(folders_create(root, "A", '/') == 0 && has("A", FOLDERS_HASCHILDREN, FOLDERS_NOSELECT),
	    "create A: now selectable with children");
	put_file(".A/cur/1.M1.x:2,S");
	CHECK(folders_delete(root, "A", '/') == 0 && !exists_at(root, ".A") && exists_at(root, ".A.B/cur"),
	    "delete A keeps A/B");
	CHECK(has("A", FOLDERS_NOSELECT | FOLDERS_HASCHILDREN, 0), "A is \\Noselect again");
	CHECK(folders_delete(root, "A/B", '/') == 0 && absent("A") && absent("A/B"), "delete A/B: A gone too");
	CHECK(folders_create(root, "v1.2", '/') == 0 && exists_at(root, ".v1\\0562") && has("v1.2", 0, FOLDERS_NOSELECT),
	    "a '.' in a name lists back");
}

static void
test_rename(void)
{
	int in;

	CHECK(folders_create(root, "X", '/') == 0 && folders_create(root, "X/Y", '/') == 0 &&
	    folders_create(root, "X/Y/Z", '/') == 0 && folders_create(root, "XX", '/') == 0, "X, X/Y, X/Y/Z, XX");
	CHECK(folders_rename(root, "X", "Sent", '/') == -1 && errno == EEXIST, "rename onto existing: EEXIST");
	CHECK(folders_rename(root, "X", "X/Q", '/') == -1 && errno == EINVAL, "rename into itself refused");
	CHECK(folders_rename(root, "Nope", "Q", '/') == -1 && errno == ENOENT, "rename of nothing: ENOENT");
	CHECK(folders_rename(root, "X", "INBOX", '/') == -1 && errno == EEXIST, "rename onto INBOX refused");
	CHECK(folders_rename(root, "X", "W/V", '/') == 0, "rename X to W/V");
	CHECK(exists_at(root, ".W.V") && exists_at(root, ".W.V.Y") && exists_at(root, ".W.V.Y.Z") &&
	    !exists_at(root, ".X") && !exists_at(root, ".X.Y") && exists_at(root, ".XX"),
	    "children move with it, XX stays");
	CHECK(folders_rename(root, "W", "U", '/') == 0 && exists_at(root, ".U.V.Y.Z") && has("U", FOLDERS_NOSELECT, 0),
	    "rename of an implied parent moves its children");
	put_file("new/100.M1.host");
	put_file("cur/99.M1.host:2,S");
	CHECK(folders_rename(root, "INBOX", "Old", '/') == 0, "rename INBOX");
	CHECK(exists_at(root, ".Old/new/100.M1.host") && exists_at(root, ".Old/cur/99.M1.host:2,S") &&
	    !exists_at(root, "new/100.M1.host") && !exists_at(root, "cur/99.M1.host:2,S"),
	    "INBOX's messages moved to the new folder");
	CHECK(has("INBOX", 0, FOLDERS_NOSELECT) && (in = folders_open_dir(root, ".")) >= 0 && close(in) == 0,
	    "INBOX stays");
	CHECK(folders_rename(root, "INBOX", "Old", '/') == -1 && errno == EEXIST, "rename INBOX onto existing refused");
}

static int
file_is(const char *path, const char *want)
{
	char b[512];
	ssize_t n;
	int fd = openat(root, path, O_RDONLY);

	if (fd < 0)
		return 0;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n < 0)
		return 0;
	b[n] = '\0';
	return strcmp(b, want) == 0;
}

static void
test_subscriptions(void)
{
	struct folders_list l;
	int fd;

	CHECK(folders_subscribe(root, "Sent", '/', 1) == 0 && folders_subscribe(root, "U/V", '/', 1) == 0 &&
	    folders_subscribe(root, "INBOX", '/', 1) == 0 && folders_subscribe(root, "Gone", '/', 1) == 0,
	    "subscribe four");
	CHECK(file_is(FOLDERS_SUBSCRIBED_FILE, "INBOX.Sent\nINBOX.U.V\nINBOX\nINBOX.Gone\n"),
	    "Courier's format: INBOX + directory name");
	CHECK(folders_subscribe(root, "Sent", '/', 1) == 0 &&
	    file_is(FOLDERS_SUBSCRIBED_FILE, "INBOX.U.V\nINBOX\nINBOX.Gone\nINBOX.Sent\n"), "no duplicates");
	CHECK(folders_subscribe(root, "U/V", '/', 0) == 0 &&
	    file_is(FOLDERS_SUBSCRIBED_FILE, "INBOX\nINBOX.Gone\nINBOX.Sent\n"), "unsubscribe");
	CHECK(has("Sent", FOLDERS_SUBSCRIBED, 0) && has("INBOX", FOLDERS_SUBSCRIBED, 0) &&
	    has("U/V", 0, FOLDERS_SUBSCRIBED), "list marks subscribed folders");
	CHECK(folders_subscriptions(root, '/', &l) == 0 && l.n == 3 && !strcmp(l.v[1].name, "Gone") &&
	    !strcmp(l.v[2].dir, ".Sent"), "subscriptions include names that do not exist");
	folders_list_free(&l);
	/* a Courier file with a line of its own encoding, and junk */
	fd = openat(root, FOLDERS_SUBSCRIBED_FILE, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, "INBOX.a\\056b\njunk\nINBOX.\n", 25) == 25 && close(fd) == 0, "courier file");
	CHECK(folders_subscriptions(root, '/', &l) == 0 && l.n == 1 && !strcmp(l.v[0].name, "a.b"),
	    "Courier escapes read, junk lines skipped");
	folders_list_free(&l);
}

static void
test_symlinks(void)
{
	char target[128];
	int fd;

	/* a real Maildir outside the mail root, and links to it */
	snprintf(target, sizeof(target), "%s/md", outside);
	CHECK(mkdir(target, 0700) == 0, "outside Maildir");
	snprintf(target, sizeof(target), "%s/md/cur", outside);
	mkdir(target, 0700);
	snprintf(target, sizeof(target), "%s/md/new", outside);
	mkdir(target, 0700);
	snprintf(target, sizeof(target), "%s/md/tmp", outside);
	mkdir(target, 0700);
	snprintf(target, sizeof(target), "%s/md", outside);
	CHECK(symlinkat(target, root, ".Evil") == 0, "symlink planted as a folder");
	CHECK(absent("Evil"), "symlinked folder not listed");
	errno = 0;
	CHECK(folders_open_dir(root, ".Evil") == -1 && (errno == ELOOP || errno == ENOTDIR), "symlinked folder not opened");
	CHECK(folders_delete(root, "Evil", '/') == -1 && errno == ENOENT, "symlinked folder not deleted");
	CHECK(folders_rename(root, "Evil", "Good", '/') == -1 && errno == ENOENT, "symlinked folder not renamed");
	CHECK(folders_create(root, "Evil/Sub", '/') == 0 && has("Evil", FOLDERS_NOSELECT, 0),
	    "a link shadowing a parent is an implied parent");
	CHECK(access(target, F_OK) == 0 && faccessat(AT_FDCWD, target, F_OK, 0) == 0, "outside Maildir untouched");
	CHECK(folders_create(root, "Bad", '/') == 0 && unlinkat(root, ".Bad/cur", AT_REMOVEDIR) == 0, "folder Bad");
	snprintf(target, sizeof(target), "%s/md/cur", outside);
	CHECK(symlinkat(target, root, ".Bad/cur") == 0, "symlink planted as cur/");
	CHECK(absent("Bad"), "folder with a symlinked cur/ not listed");
	CHECK(folders_open_dir(root, ".Bad") == -1 && errno == ENOTDIR, "folder with a symlinked cur/ not opened");
	CHECK(folders_open_dir(root, "..") == -1 && errno == EINVAL && folders_open_dir(root, "../x") == -1 &&
	    errno == EINVAL && folders_open_dir(root, ".Bad/cur") == -1 && errno == EINVAL &&
	    folders_open_dir(root, "tmp") == -1 && errno == EINVAL, "only folder directory names opened");
	CHECK(folders_delete(root, "Bad", '/') == 0 && access(target, F_OK) == 0, "delete unlinks the link only");
	fd = openat(root, "tmp", O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0 && close(fd) == 0, "tmp/ still there");
}

static void
test_special(void)
{
	struct folders_special sp[4];
	size_t line = 0;

	CHECK(folders_special_parse("# mine\n\\Sent Sent Items\n\n\\junk Spam\n\\Trash A/Bin", '/', sp, 4, &line) == 3 &&
	    !strcmp(sp[0].name, "Sent Items") && sp[0].attr == FOLDERS_SENT && sp[1].attr == FOLDERS_JUNK &&
	    !strcmp(sp[2].name, "A/Bin"), "special-use mapping parsed");
	CHECK(folders_special_parse("\\Sent\n", '/', sp, 4, &line) == -1 && line == 1, "missing name refused");
	CHECK(folders_special_parse("\\Sent A\n\\Bogus B\n", '/', sp, 4, &line) == -1 && line == 2, "unknown attribute refused");
	CHECK(folders_special_parse("\\Sent ../x\n", '/', sp, 4, &line) == -1, "bad folder name refused");
	CHECK(folders_special_parse("\\Sent a\n\\Sent b\n", '/', sp, 1, &line) == -1, "too many refused");
}

int
main(void)
{
	char sub[80];

	test_names();
	if (tap_tmpdir(dir, sizeof(dir), "folders") < 0 || tap_tmpdir(outside, sizeof(outside), "outside") < 0)
		return tap_done();
	snprintf(sub, sizeof(sub), "%s", dir);
	root = open(sub, O_PATH | O_DIRECTORY);
	CHECK(root >= 0, "mail root fd");
	test_create_list_delete();
	test_rename();
	test_subscriptions();
	test_symlinks();
	test_special();
	close(root);
	tap_rmtree(dir);
	tap_rmtree(outside);
	return tap_done();
}
