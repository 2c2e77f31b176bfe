/* userdb.h - the user database: records, names, and the login decision.
 *
 * LMDB sub-databases: "users" (user@domain -> user record), "domains"
 * (domain -> domain record), "aliases" (address -> target addresses,
 * aliases.h; also "@domain", a catch-all, and a bare local part, a system
 * alias: keys userdb_normalize() never makes, so only recipient lookups
 * find them).
 * Records are versioned binary; userdb_user_decode() is pure and fuzzed.
 * Only authd opens the database for login; posternctl opens it to edit.
 */
#ifndef POSTERN_USERDB_H
#define POSTERN_USERDB_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "../auth/cram.h"
#include "../auth/scram.h"

#define USERDB_NAME_MAX		255	/* user@domain */
#define USERDB_HASH_MAX		255
#define USERDB_PATH_MAX		255

#define USERDB_DBI_USERS	0
#define USERDB_DBI_DOMAINS	1
#define USERDB_DBI_ALIASES	2

#define USERDB_USER_DISABLED	0x01
/* Per-service switches (Courier's useroptions disablepop3, disableimap):
 * the user may not log in over that protocol; mail is still delivered. */
#define USERDB_USER_NO_POP3	0x02
#define USERDB_USER_NO_IMAP	0x04
#define USERDB_USER_NO_SUBMISSION 0x08	/* SMTP AUTH, when submission exists */
#define USERDB_USER_SERVICES	(USERDB_USER_NO_POP3 | USERDB_USER_NO_IMAP | USERDB_USER_NO_SUBMISSION)

/* The NO_ bit of a service name as authd is told it ("pop3", "pop3s",
 * "imap", "imaps", "submission", "submissions"), 0 for any other.  And the
 * reverse, for listings: the names of the bits set in flags, comma
 * separated, into out ("" for none). */
uint32_t userdb_service_bit(const char *service);
void userdb_services_text(uint32_t flags, char *out, size_t outlen);

#define USERDB_REC_VERSION	1	/* without SCRAM secrets */
#define USERDB_REC_VERSION_SCRAM 2	/* with them */
#define USERDB_REC_VERSION_CRAM	3	/* with a CRAM-MD5 secret (and SCRAM's, if any) */

struct userdb_user {
	uint32_t flags;
	uint32_t uid, gid;	/* 0 = the configured mail_uid/mail_gid */
	uint64_t quota;		/* bytes, 0 = none */
	char hash[USERDB_HASH_MAX + 1];
	char mailroot[USERDB_PATH_MAX + 1];	/* "" = from the mail_root template */
	/* SCRAM-SHA-256 (has_scram): made when a password is set; records
	 * from before have none, and SCRAM fails for them */
	int has_scram;
	struct scram_secrets scram;
	/* CRAM-MD5 (has_cram): only while auth_mechanisms lists it when the
	 * password is set; equivalent to the password for CRAM-MD5 */
	int has_cram;
	struct cram_secret cram;
};

/* Encode u into out (capacity outcap): layout 1, 2 with the SCRAM
 * secrets when u->has_scram, 3 when u->has_cram.  Returns length or -1. */
long userdb_user_encode(const struct userdb_user *u, uint8_t *out, size_t outcap);

/* Decode a user record (pure; untrusted bytes), layout 1, 2 or 3. Returns 0 or
 * -1 for a short, long, wrong-version record, one with NULs or over-long
 * strings, or SCRAM secrets with no salt or under SCRAM_ITER_MIN rounds. */
int userdb_user_decode(struct userdb_user *u, const uint8_t *in, size_t len);

/* Normalise a login name into "local@domain", lower-cased, adding
 * default_domain when there is no '@'.  Rejects empty parts, invalid UTF-8,
 * controls, spaces, '/', more than one '@', and names over USERDB_NAME_MAX.
 * Returns 0 or -1 with a reason in *why_r. */
int userdb_normalize(const uint8_t *name, size_t len, const char *default_domain,
    char out[USERDB_NAME_MAX + 1], const char **why_r);

/* Open the user database. */
int userdb_open(struct db **db_r, const char *path, uint64_t mapsize, int readonly,
    char *err, size_t errlen);

/* Look up a normalised name, following one alias hop to a user (a login's
 * rule; an alias of several targets, or of another alias, is not a login
 * name: recipients expand them, aliases.h).  Returns 1 and u (and the
 * canonical name in canon) if found, 0 if unknown, -1 on db error. */
int userdb_lookup(struct db *db, const char *name, struct userdb_user *u,
    char canon[USERDB_NAME_MAX + 1]);

/* Outcome of checking a password (the reason the log and `auth test` give). */
enum userdb_verdict {
	USERDB_OK,
	USERDB_UNKNOWN_USER,
	USERDB_BAD_PASSWORD,
	USERDB_DISABLED,
	USERDB_BAD_HASH,	/* the stored hash is unusable */
	USERDB_DB_ERROR,
};

/* Check pass for u with crypt(3), in constant time over the hash.  u NULL
 * means an unknown user.  When u is NULL or its hash is unusable, pass is
 * checked against dummy_hash instead (if not NULL), so the attempt costs
 * what a wrong password costs and the time does not tell them apart.  The
 * password is checked before the disabled flag: USERDB_DISABLED only with
 * the right password.  Returns the verdict. */
enum userdb_verdict userdb_check_login(const struct userdb_user *u, const char *dummy_hash,
    const uint8_t *pass, size_t passlen);

/* userdb_check_login(u, NULL, ...): for `posternctl auth test`. */
enum userdb_verdict userdb_check_password(const struct userdb_user *u,
    const uint8_t *pass, size_t passlen);

/* Hash a random password with the default scheme and cost (those of
 * `posternctl user add`), for userdb_check_login's dummy_hash.  0 or -1. */
int userdb_make_dummy_hash(char out[USERDB_HASH_MAX + 1]);

/* Make a new hash of pass (yescrypt by default; prefix "$6$" or "$2b$"
 * chooses another). Returns 0 or -1. */
int userdb_hash_password(const char *pass, const char *prefix, char out[USERDB_HASH_MAX + 1]);

const char *userdb_verdict_str(enum userdb_verdict v);

/* The SCRAM-SHA-256 secrets of pass into u (a fresh random salt,
 * iterations rounds), for a password being set. */
void userdb_set_scram(struct userdb_user *u, const char *pass, uint32_t iterations);

#endif
