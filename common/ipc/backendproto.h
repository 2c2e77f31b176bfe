/* backendproto.h - the channel between authd and one of its backend
 * helpers (postern-auth-pgsql, postern-auth-checkpw): a SOCK_SEQPACKET
 * pair the master makes, one end the helper's fd 3, the other handed to
 * authd with MSG_AUTHD_BACKEND.
 *
 * authd asks, the helper answers, one reply per request, matched by id
 * (authd may have several out; a helper answers them in order).  A
 * request names a login (with the password only for a backend that checks
 * it itself: checkpassword) or a recipient address; the reply says found,
 * not found, wrong password or a temporary failure, and for a found user
 * the canonical name, the crypt hash to check (a password backend leaves
 * it empty), the mail root ("" = the mail_root template), ids (0 = the
 * configured mail_uid/mail_gid), quota and the per-user switches.
 *
 * authd trusts a helper no further than this decoder: every field is
 * bounded, names and paths are checked for form, and the meaning (never
 * uid 0, only canonical mail roots) is checked again by the master.
 */
#ifndef POSTERN_BACKENDPROTO_H
#define POSTERN_BACKENDPROTO_H

#include <stdint.h>

#include "ipc.h"
#include "../mail/userdb.h"

enum backendproto_msg {
	MSG_BACKEND_REQUEST = 0x0e01,	/* authd -> helper */
	MSG_BACKEND_REPLY = 0x0e02,	/* helper -> authd */
};

enum backend_kind {
	BACKEND_LOGIN = 1,	/* a login name (normalised), maybe a password */
	BACKEND_LOOKUP = 2,	/* a recipient address (normalised), never a password */
};

enum backend_status {
	BACKEND_FOUND = 0,	/* the user exists (and, if verified, the password is right) */
	BACKEND_NOT_FOUND = 1,	/* not this backend's: the chain goes on */
	BACKEND_BAD_PASSWORD = 2,	/* a verifying backend: the password is wrong */
	BACKEND_TEMP = 3,	/* the backend cannot answer now: the chain stops */
};
#define BACKEND_STATUS_MAX	BACKEND_TEMP

#define BACKEND_SERVICE_SIZE	16
#define BACKEND_PASS_MAX	1023	/* crypt's limit (userdb_check_login) */
/* The switches a backend may set (userdb.h): disabled, no pop3/imap/submission. */
#define BACKEND_FLAGS	(USERDB_USER_DISABLED | USERDB_USER_SERVICES)

struct backend_request {
	uint32_t id;
	uint8_t kind;				/* enum backend_kind */
	char service[BACKEND_SERVICE_SIZE];	/* "imap", "pop3", ... ("" for a lookup) */
	char name[USERDB_NAME_MAX + 1];		/* normalised: local@domain */
	const uint8_t *pass;			/* into the message (or the caller's) */
	size_t passlen;				/* 0 unless a login to a verifying backend */
};

struct backend_reply {
	uint32_t id;
	uint8_t status;			/* enum backend_status */
	uint8_t verified;		/* FOUND: the helper checked the password itself */
	char user[USERDB_NAME_MAX + 1];	/* FOUND: the canonical name */
	char hash[USERDB_HASH_MAX + 1];	/* FOUND, not verified: the crypt hash */
	char mail_root[USERDB_PATH_MAX + 1];	/* "" = the mail_root template */
	uint32_t uid, gid;		/* 0 = mail_uid/mail_gid */
	uint64_t quota;			/* bytes, 0 = none */
	uint32_t flags;			/* within BACKEND_FLAGS */
};

/* 1 if s is a name as userdb_normalize makes them (no controls, blanks,
 * DEL, '/' or '%'; not empty); 1 if s has only crypt hash bytes. */
int backendproto_name_ok(const char *s);
int backendproto_hash_ok(const char *s);

/* Start o as MSG_BACKEND_REQUEST with r (a password over BACKEND_PASS_MAX,
 * or one with a lookup, fails the send). */
void backendproto_request_put(struct ipc_out *o, const struct backend_request *r);
/* Read a request.  Returns 0 (r->pass points into in), or -1: malformed,
 * an unknown kind, an empty name or one with bytes outside printable
 * ASCII and UTF-8 (controls, blanks, '/', '%'), a password with a lookup. */
int backendproto_request_get(struct ipc_in *in, struct backend_request *r);

/* Start o as MSG_BACKEND_REPLY with r. */
void backendproto_reply_put(struct ipc_out *o, const struct backend_reply *r);
/* Read a reply.  Returns 0, or -1 (r zeroed): malformed, an unknown
 * status, flags outside BACKEND_FLAGS; FOUND without a name, with a name
 * as request_get refuses, with a hash of bytes outside the crypt alphabet
 * ("$./0-9A-Za-z", "=" and ","), both a hash and verified, or a mail
 * root that is not "" or a canonical absolute path; any other status with
 * a field set. */
int backendproto_reply_get(struct ipc_in *in, struct backend_reply *r);

#endif
