/* quota.h - Maildir++ quotas: the maildirsize file of the mail root.
 *
 * The file (Courier's README.maildirquota) holds on its first line the
 * quota definition, "10000000S,1000C" (bytes, messages; either may be
 * absent), then one line "BYTES COUNT" per change (signed: a delivery
 * adds, an expunge subtracts), whose sums are the usage.  It is
 * recalculated from the Maildir when it has grown over QUOTA_RECALC_SIZE
 * bytes or holds a malformed line, and, as the specification asks, when
 * it is older than QUOTA_RECALC_AGE and the usage is over the quota (the
 * usage may be stale).  A recalculation counts cur/ and new/ of INBOX and
 * of every folder but .Trash (the Maildir++ convention: Trash is not
 * counted; quota_set_count_trash counts it too), sizes from ",S=" or else the file's size, and replaces the
 * file through tmp/ and rename.  No maildirsize file: no quota.
 * Enforcement is not here (the deliverer will check quota_read's result).
 */
#ifndef POSTERN_QUOTA_H
#define POSTERN_QUOTA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define QUOTA_FILE "maildirsize"
/* Present while the user has had the warning of quota_warn_percent
 * (Courier's name; stored's deliver view writes and removes it). */
#define QUOTA_WARN_FILE "quotawarn"
#define QUOTA_RECALC_SIZE 5120
#define QUOTA_RECALC_AGE (15 * 60)
/* Longest quota definition line. */
#define QUOTA_DEF_MAX 128

struct quota {
	int has_storage, has_messages;
	uint64_t storage_limit;		/* bytes ("S") */
	uint64_t message_limit;		/* messages ("C") */
	int64_t storage_used;		/* bytes, sum of the lines */
	int64_t messages_used;
	int malformed;			/* a line that is not "BYTES COUNT" */
	char def[QUOTA_DEF_MAX + 1];	/* the first line as read */
};

/* RFC 9208 resources: STORAGE in units of 1024 octets (usage rounded up,
 * limit down), MESSAGE in messages. */
struct quota_imap {
	int has_storage, has_message;
	uint64_t storage_used_kib, storage_limit_kib;
	uint64_t message_used, message_limit;
};

/* Parse the text of a maildirsize file.  Pure.  Returns 0, or -1 (EINVAL)
 * when the first line is not a definition (nothing else is trusted then). */
int quota_parse(const char *text, size_t len, struct quota *q);

/* 1 if the usage exceeds a limit. Pure. */
int quota_over(const struct quota *q);

/* Read the maildirsize of the mail root at rootfd, recalculating it when
 * the rules above say so (*recalculated_r set, may be NULL); now is the
 * time to judge its age by.  No file: 0 with no limits.  Returns 0 or -1. */
int quota_read(int rootfd, time_t now, struct quota *q, int *recalculated_r);

/* Count the Maildir and write a new maildirsize with definition def
 * ("NNNS,NNNC"; NULL keeps the current one).  q gets the result. */
int quota_recalc(int rootfd, const char *def, struct quota *q);

/* After a delivery (bytes > 0, count 1) or an expunge (negative): append
 * "BYTES COUNT" in one write.  No maildirsize file: nothing, 0. */
int quota_update(int rootfd, int64_t bytes, int64_t count);

/* quota_count_trash: whether .Trash counts (default no, the Maildir++
 * convention).  Process-wide, set once after the config is read, before
 * any recalculation. */
void quota_set_count_trash(int yes);

/* 1 if the messages of folder dir (".Name", "" or "." for INBOX) count
 * toward the quota: all but .Trash, unless quota_count_trash. */
int quota_counts_folder(const char *dir);

/* The numbers for GETQUOTA / GETQUOTAROOT. Pure. */
void quota_imap(const struct quota *q, struct quota_imap *out);

#endif
