/* folders.h - Maildir++ folders as they lie on disk.
 *
 * INBOX is the mail root's own Maildir (cur/ new/ tmp/).  Every other
 * folder is a directory of the mail root named "." plus its components
 * joined with '.', e.g. "Lists/Debian" is ".Lists.Debian", holding a
 * Maildir and an empty file "maildirfolder".  A parent need not exist on
 * disk: it is then listed \Noselect (an implied parent).
 *
 * Names arrive as UTF-8 with the hierarchy separator of the session's
 * namespace, '.' or '/'.  On disk a component is written the way Courier
 * (5.x, "modified UTF-8") writes it: UTF-8, with each of the bytes
 * '.' '/' '~' ':' '\' replaced by a backslash and three octal digits
 * ("a.b" under separator '/' is ".a\056b").  So a '.' inside a name given
 * with separator '/' survives, and Courier and Postern read each other's
 * folders.  Older Courier folders in modified UTF-7 ("&AOQ-") are shown
 * as their ASCII bytes; Courier's maildirmake --convutf8 converts them.
 *
 * Refused names (EINVAL): invalid UTF-8, control characters (< 0x20,
 * 0x7f), an empty component, a component "." or "..", '/' under separator
 * '.', more than FOLDERS_DEPTH_MAX components, a first component "INBOX"
 * in any case except the name "INBOX" itself (the INBOX has no inferiors
 * here), and a directory name over FOLDERS_NAME_MAX bytes (ENAMETOOLONG).
 *
 * Every function works relative to rootfd (an fd of the mail root, O_PATH
 * is enough), opens each directory with O_NOFOLLOW|O_DIRECTORY and never
 * follows a symlink: a folder, cur/, new/ or tmp/ that is a symlink is not
 * a folder (listing skips it, opening fails with ELOOP or ENOTDIR).
 * Returns are 0 / -1 with errno unless said otherwise.
 */
#ifndef POSTERN_FOLDERS_H
#define POSTERN_FOLDERS_H

#include <stddef.h>

/* Longest directory name of a folder on disk: NAME_MAX less room for the
 * temporary names a delete or rename makes. */
#define FOLDERS_NAME_MAX 230
#define FOLDERS_DEPTH_MAX 16
/* Most folders a listing returns (ENFILE past it). */
#define FOLDERS_LIST_MAX 10000

/* Courier's subscription file: one IMAP name a line in Courier's
 * namespace, "INBOX" for the INBOX and "INBOX" + directory name for a
 * folder ("INBOX.Lists.Debian"). */
#define FOLDERS_SUBSCRIBED_FILE "courierimapsubscribed"

enum folders_attr {
	FOLDERS_NOSELECT = 1 << 0,	/* implied parent: no directory of its own */
	FOLDERS_HASCHILDREN = 1 << 1,
	FOLDERS_HASNOCHILDREN = 1 << 2,
	FOLDERS_SUBSCRIBED = 1 << 3,
	/* RFC 6154 special use */
	FOLDERS_SENT = 1 << 4,
	FOLDERS_TRASH = 1 << 5,
	FOLDERS_DRAFTS = 1 << 6,
	FOLDERS_JUNK = 1 << 7,
	FOLDERS_ARCHIVE = 1 << 8,
};

struct folders_entry {
	char *name;			/* UTF-8 with the caller's separator */
	char dir[FOLDERS_NAME_MAX + 1];	/* "." for INBOX, else ".A.B" */
	unsigned attr;			/* enum folders_attr */
};

struct folders_list {
	struct folders_entry *v;
	size_t n;
};

/* One special-use mapping: the folder named name gets attr. */
struct folders_special {
	char name[FOLDERS_NAME_MAX + 1];
	unsigned attr;
};
#define FOLDERS_SPECIAL_MAX 16

/* The mapping most clients expect: Sent, Trash, Drafts, Junk, Archive. */
extern const struct folders_special folders_special_default[5];
#define FOLDERS_SPECIAL_DEFAULT_N 5

/* Parse a mapping written one pair a line, "\Sent Sent Items": the
 * attribute, one space, the folder name (with separator sep) to the end of
 * the line.  Blank lines and lines starting with '#' are skipped.  Returns
 * the number of pairs in out[0..max), or -1 (EINVAL) naming the bad line
 * (1-based) in *line_r. */
int folders_special_parse(const char *text, char sep, struct folders_special *out, size_t max,
    size_t *line_r);

/* The directory name of the folder called name: "." for INBOX (any case).
 * Returns 0, or -1 with errno EINVAL/ENAMETOOLONG (see above). */
int folders_to_dir(const char *name, char sep, char dir_r[FOLDERS_NAME_MAX + 1]);

/* The name (UTF-8, separator sep) of directory dir into name_r[0..len).
 * Only a directory named as folders_to_dir would name it decodes (".a:b"
 * does not: "a:b" is ".a\072b"), so that a listed name opens the listed
 * directory.  Returns 0, or -1 (EINVAL: not a folder directory, a bad or
 * needless escape, a raw byte that must be escaped; ENAMETOOLONG). */
int folders_from_dir(const char *dir, char sep, char *name_r, size_t len);

/* Every folder with INBOX first, the rest sorted by directory name, with
 * \HasChildren or \HasNoChildren, \Noselect for implied parents,
 * FOLDERS_SUBSCRIBED from the subscription file, and the special-use
 * attribute of sp[0..nsp) (pass folders_special_default).  A directory
 * counts as a folder if its cur/ is a real directory.  The list owns its
 * names: free it with folders_list_free. */
int folders_list(int rootfd, char sep, const struct folders_special *sp, size_t nsp,
    struct folders_list *out);
void folders_list_free(struct folders_list *l);

/* Create folder name with cur/ new/ tmp/ and maildirfolder (mode 0700).
 * EEXIST if it exists (INBOX always does). */
int folders_create(int rootfd, const char *name, char sep);

/* Delete folder name and its messages (RFC 3501 6.3.4): INBOX is refused
 * (EPERM); inferiors are kept, so a folder with children becomes their
 * implied \Noselect parent; an implied parent itself is refused (EPERM
 * with children, ENOENT without).  The directory is first renamed into
 * tmp/ of the mail root, so it disappears at once, and then removed. */
int folders_delete(int rootfd, const char *name, char sep);

/* Rename folder from to to (RFC 3501 6.3.5), inferiors with it (also those
 * of an implied parent).  EEXIST if to or one of the new names exists,
 * EINVAL for to inside from.  Renaming INBOX creates to and moves INBOX's
 * messages into it; INBOX stays, empty.  The index learns the moves by
 * mindex_folder_rename() (folders) or by its next sync (INBOX). */
int folders_rename(int rootfd, const char *from, const char *to, char sep);

/* Open the Maildir of folder directory dir ("." for INBOX) read-only,
 * O_DIRECTORY|O_NOFOLLOW, after checking cur/ new/ and tmp/ are real
 * directories.  dir must be "." or a name folders_from_dir accepts (so
 * never "..", nor a path).  Returns the fd, or -1 (EINVAL, ENOENT, ELOOP,
 * ENOTDIR). */
int folders_open_dir(int rootfd, const char *dir);

/* Add (on) or remove (!on) name in the subscription file (rewritten into
 * tmp/ and renamed over).  A name need not exist to be subscribed (RFC
 * 3501 6.3.6). */
int folders_subscribe(int rootfd, const char *name, char sep, int on);

/* The subscribed names (with separator sep; lines that do not decode are
 * skipped), in file order, attr FOLDERS_SUBSCRIBED, dir filled. */
int folders_subscriptions(int rootfd, char sep, struct folders_list *out);

#endif
