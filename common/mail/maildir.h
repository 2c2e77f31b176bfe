/* maildir.h - Maildir++ names, sizes and safe delivery.
 *
 * A message file is named "BASE:2,FLAGS" in cur/ (just "BASE" in new/).
 * BASE may carry ",S=<bytes on disk>" (Courier, Maildir++ quotas) and
 * ",W=<bytes with CRLF line ends>" (the size POP3/IMAP must report).
 * maildir_parse_name() is pure and fuzzed.
 */
#ifndef POSTERN_MAILDIR_H
#define POSTERN_MAILDIR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MAILDIR_NAME_MAX 255

struct maildir_name {
	size_t base_len;	/* bytes before ':' (or the whole name) */
	int has_size;		/* ,S= present */
	uint64_t size;
	int has_vsize;		/* ,W= present */
	uint64_t vsize;
	int has_info;		/* ":2," present */
	char flags[27];		/* info flags, sorted ASCII letters */
};

/* Parse a file name of cur/ or new/. Returns 0, or -1 for names that are not
 * messages (dot files, empty, NUL, '/', over MAILDIR_NAME_MAX).  Malformed
 * S=/W= values are ignored (has_size/has_vsize stay 0). */
int maildir_parse_name(const char *name, size_t len, struct maildir_name *mn);

/* A POP3 UIDL for a message (RFC 1939 section 7: 1-70 chars 0x21-0x7E):
 * the base name if it fits those rules, else a hex SHA-256 prefix of it. */
void maildir_uidl(const char *name, size_t base_len, char out[71]);

/* Size of the file at fd with every bare LF counted as CRLF. Reads the
 * file once from offset 0. Returns 0 or -1. */
int maildir_crlf_size(int fd, uint64_t *size_r);

/* Make sure the Maildir at dirfd has cur/, new/ and tmp/ (created 0700 by
 * the caller, who should be the user: see mailroot.h), and that each is a
 * real directory, not a symlink.  Returns 0, or -1 with *why_r naming the
 * subdirectory's problem (errno set). */
int maildir_check(int dirfd, const char **why_r);

/* The host part of a Maildir name (gethostname, with '/', ':' and ','
 * replaced): callers take it once, before a sandbox that has no uname. */
#define MAILDIR_HOST_MAX 64
void maildir_host(char out[MAILDIR_HOST_MAX]);

/* The one delivery function (posternctl deliver and stored's deliver view):
 * copy src, from its offset to EOF and at most max bytes (else EFBIG), into
 * the Maildir at rootfd (its INBOX): write tmp/BASE with O_EXCL, fsync,
 * rename to new/BASE,S=<bytes>,W=<CRLF bytes> (the sizes of what was
 * written), fsync new/.  tmp/ and new/ are opened with O_NOFOLLOW (a
 * symlink fails with ENOTDIR or ELOOP), the file is made by the caller's
 * uid and never chowned, LF line ends are stored as given.  On success the
 * message is durable and name_r holds its name in new/.  Returns 0 or -1
 * (errno; nothing is left in tmp/). */
int maildir_deliver(int rootfd, int src, uint64_t max, const char *host,
    char name_r[MAILDIR_NAME_MAX + 1]);

/* Bytes written ahead of the message (header lines the deliverer adds:
 * Return-Path, Delivered-To), counted in S= and W= and the size like the
 * rest. */
struct maildir_prefix {
	const uint8_t *data;
	size_t len;
};

/* maildir_deliver() with pre (NULL: none) written first; max bounds src
 * only. */
int maildir_deliver_prefixed(int rootfd, int src, uint64_t max, const char *host,
    const struct maildir_prefix *pre, char name_r[MAILDIR_NAME_MAX + 1]);

/* A fresh name for a file of the mail root's tmp/:
 * "postern-PURPOSE.<16 random hex digits>". */
void maildir_tmp_name(char *out, size_t len, const char *purpose);

/* Replace the small file name of the mail root at rootfd by text[0..len)
 * (maildirsize, courierimapsubscribed): written into tmp/ with O_EXCL,
 * fsync'ed, renamed over name.  Nothing is followed: tmp/ and the file
 * are opened O_NOFOLLOW, and rename replaces a symlink, never its target.
 * Returns 0 or -1 (errno; nothing left in tmp/). */
int maildir_replace_file(int rootfd, const char *name, const void *text, size_t len);

#endif
