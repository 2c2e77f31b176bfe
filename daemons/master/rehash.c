/* rehash.c - a weak password hash replaced at the user's next login.
 *
 * `posternctl user import --allow-weak` keeps md5-crypt, DES and bcrypt
 * $2a$ hashes so that users keep their passwords.  At such a user's next
 * successful login authd (which holds the user db read-only) sends a
 * yescrypt hash of the password it checked (MSG_MASTER_REHASH, right after
 * the login).  The master takes it only for the user that session just
 * logged in as, once per session, and the write replaces the hash only
 * while it is still of a weak scheme: a compromised authd can change no
 * strong hash, and no hash of a user who did not just log in.  The write
 * (an LMDB write transaction, which may wait for a posternctl that holds
 * the writer lock) runs in a forked child, so the master never waits.
 *
 * The same way, a user whose record predates SCRAM gets its SCRAM-SHA-256
 * secrets at the first login with the password (MSG_MASTER_SCRAM_ADD),
 * written only while the record has none and still holds the hash the
 * password was checked against.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../common/base/buf.h"
#include "../../common/base/log.h"
#include "../../common/ipc/authdproto.h"
#include "../../common/mail/userimport.h"
#include "master.h"

struct upgrade {
	const char *hash;
	const char *user;
	const char *why;
	const char *from;
};

/* db_update callback: only over a hash that is still weak. */
static int
replace_weak(void *ctx, const uint8_t *v, size_t vl, struct buf *out)
{
	static struct userimport_entry e;
	struct upgrade *up = ctx;
	struct userdb_user u;
	uint8_t rec[1024];
	const char *why;
	long n;

	if (userdb_user_decode(&u, v, vl) < 0) {
		up->why = "the stored record is corrupt";
		return -1;
	}
	if (userimport_hash(u.hash, strlen(u.hash), &e, &why) < 0 ||
	    e.strength != USERIMPORT_WEAK) {
		up->why = "the stored hash is not of a weak scheme (changed meanwhile?)";
		explicit_bzero(&u, sizeof(u));
		return -1;
	}
	up->from = e.scheme;
	snprintf(u.hash, sizeof(u.hash), "%s", up->hash);
	n = userdb_user_encode(&u, rec, sizeof(rec));
	explicit_bzero(&u, sizeof(u));
	if (n < 0 || buf_append(out, rec, (size_t)n) < 0) {
		up->why = "the record does not fit";
		return -1;
	}
	return 0;
}

/* One record update in a forked child: open the user db read-write, run
 * fn over user's record in one write transaction, exit 0 when it was
 * replaced.  A failure is one log line event=failed with *why (set by fn)
 * or the database's reason; success calls done for its own line. */
struct update {
	const char *user;
	int (*fn)(void *ctx, const uint8_t *v, size_t vl, struct buf *out);
	void *ctx;
	const char *const *why;
	const char *failed;
	void (*done)(void *ctx);
};

static _Noreturn void
update_child(const struct master *m, const struct update *u)
{
	char err[256];
	struct db *db;
	int rc;

	/* none of the master's sockets (clients would see their end late);
	 * the raw call: neither musl 1.2.3 nor every glibc has the wrapper */
	(void)syscall(SYS_close_range, 3, ~0U, 0);
	if (userdb_open(&db, m->cfg.userdb_path, m->cfg.userdb_map_size, 0, err,
	    sizeof(err)) < 0) {
		log_event(LOG_LEVEL_ERR, u->failed, "user=%s reason=\"%s\"", u->user, err);
		_exit(1);
	}
	rc = db_update(db, USERDB_DBI_USERS, u->user, strlen(u->user), u->fn, u->ctx);
	if (rc == 1)
		u->done(u->ctx);
	else
		log_event(LOG_LEVEL_WARN, u->failed, "user=%s reason=\"%s\"", u->user,
		    rc == 0 ? "no such user" : *u->why ? *u->why : db_strerror(db));
	db_close(db);
	_exit(rc == 1 ? 0 : 1);
}

/* Fork the child of u; the master goes on at once (the write may wait
 * for a posternctl holding LMDB's writer lock). */
static void
update_spawn(const struct master *m, const struct update *u)
{
	pid_t pid = fork();

	if (pid == 0)
		update_child(m, u);
	if (pid < 0)
		log_event(LOG_LEVEL_ERR, u->failed, "user=%s reason=\"fork failed\" errno=%d",
		    u->user, errno);
}

/* The session sid, or NULL when its worker is already gone (the next
 * login tries again). */
static struct session *
session_of(struct master *m, const char *sid)
{
	size_t i;

	for (i = 0; i < m->nsessions; i++)
		if (strcmp(m->sessions[i].sid, sid) == 0)
			return &m->sessions[i];
	return NULL;
}

/* authd may send what for s only right after s logged in as user, and
 * once (again: it was sent before); otherwise a violation, logged. */
static int
authd_may(const struct session *s, const char *user, int again, const char *what)
{
	if (s->logged_in && !again && strcmp(s->user, user) == 0)
		return 0;
	log_event(LOG_LEVEL_ERR, "ipc_violation", "peer=authd reason=\"%s for a user this "
	    "session did not just log in as\"", what);
	return -1;
}

static void
upgraded(void *ctx)
{
	const struct upgrade *up = ctx;

	log_event(LOG_LEVEL_INFO, "hash_upgraded", "user=%s from=%s to=yescrypt", up->user,
	    up->from);
}

int
master_authd_rehash(struct master *m, struct ipc_in *in)
{
	static struct authd_rehash r;
	struct upgrade up = { .hash = r.hash, .user = r.user };
	struct update u = { .user = r.user, .fn = replace_weak, .ctx = &up, .why = &up.why,
	    .failed = "rehash_failed", .done = upgraded };
	struct session *s;
	int rc = 0;

	if (authdproto_rehash_get(in, &r) < 0)
		return -1;
	if ((s = session_of(m, r.sid)) != NULL) {
		log_set_session(s->sid);
		if (authd_may(s, r.user, s->rehashed, "a rehash") < 0) {
			rc = -1;
		} else {
			s->rehashed = 1;
			update_spawn(m, &u);
		}
		log_set_session(NULL);
	}
	explicit_bzero(&r, sizeof(r));
	return rc;
}

struct scram_add {
	const struct authd_scram_add *r;
	const char *why;
};

/* db_update callback: only into a record without secrets, same hash. */
static int
add_scram(void *ctx, const uint8_t *v, size_t vl, struct buf *out)
{
	struct scram_add *sa = ctx;
	struct userdb_user u;
	uint8_t rec[1024];
	long n;

	if (userdb_user_decode(&u, v, vl) < 0) {
		sa->why = "the stored record is corrupt";
		return -1;
	}
	if (u.has_scram || strcmp(u.hash, sa->r->hash) != 0) {
		sa->why = u.has_scram ? "the record has SCRAM secrets already" :
		    "the password changed meanwhile";
		explicit_bzero(&u, sizeof(u));
		return -1;
	}
	u.has_scram = 1;
	u.scram = sa->r->scram;
	n = userdb_user_encode(&u, rec, sizeof(rec));
	explicit_bzero(&u, sizeof(u));
	if (n < 0 || buf_append(out, rec, (size_t)n) < 0) {
		sa->why = "the record does not fit";
		return -1;
	}
	explicit_bzero(rec, sizeof(rec));
	return 0;
}

static void
scram_done(void *ctx)
{
	const struct scram_add *sa = ctx;

	log_event(LOG_LEVEL_INFO, "scram_added", "user=%s iterations=%u", sa->r->user,
	    sa->r->scram.iterations);
}

int
master_authd_scram_add(struct master *m, struct ipc_in *in)
{
	static struct authd_scram_add r;
	struct scram_add sa = { .r = &r };
	struct update u = { .user = r.user, .fn = add_scram, .ctx = &sa, .why = &sa.why,
	    .failed = "scram_add_failed", .done = scram_done };
	struct session *s;
	int rc = 0;

	if (authdproto_scram_add_get(in, &r) < 0)
		return -1;
	if ((s = session_of(m, r.sid)) != NULL) {
		log_set_session(s->sid);
		/* never with a rehash: that changed the hash SCRAM was made beside */
		if (authd_may(s, r.user, s->scram_added || s->rehashed, "SCRAM secrets") < 0) {
			rc = -1;
		} else {
			s->scram_added = 1;
			update_spawn(m, &u);
		}
		log_set_session(NULL);
	}
	explicit_bzero(&r, sizeof(r));
	return rc;
}
