/* authd.c - SASL on behalf of workers, the user database, and the one
 * message that names a session's user: MSG_MASTER_LOGIN to the master.
 *
 * A worker channel accepts only MSG_AUTH_* and only until a login succeeds;
 * anything else closes it.  The client IP comes from the master, never from
 * the worker.  Every attempt that gets a password check costs the same:
 * unknown users and unusable hashes are checked against a dummy hash.
 * Failure replies go out auth_fail_delay_ms after the request arrived, so
 * their timing does not show the check either.  Failures are counted for
 * throttling (throttle.c); every refusal is one log line with the reason.
 * SCRAM-SHA-256 and CRAM-MD5 run in mechs.c, on the same steps.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../../common/auth/namechars.h"
#include "../../common/auth/scram.h"
#include "../../common/base/util.h"
#include "../../common/base/config.h"
#include "../../common/base/ev.h"
#include "../../common/ipc/counters.h"
#include "../../common/ipc/ipc.h"
#include "../../common/base/log.h"
#include "../../common/ipc/proto.h"
#include "../../common/mail/userimport.h"
#include "../../common/net/netaddr.h"
#include "authd.h"

struct db *authd_udb;
static int master_fd = -1;
struct authd_config authd_acfg;
static struct ipc_in inmsg;
struct ipc_out authd_out;
static char dummy[USERDB_HASH_MAX + 1];
struct authd_sasl_config authd_scfg;
static struct namechars names;	/* authd_scfg's login-name policy, compiled */
uint8_t authd_install_key[32];
uint64_t *authd_counters;

/* sc: from the snapshot or the master, already checked. */
static int
set_sasl_config(const struct authd_sasl_config *sc)
{
	const char *why;

	if (namechars_parse(sc->username_chars, sc->username_utf8, sc->username_max, &names,
	    &why) < 0)
		return -1;
	authd_scfg = *sc;
	return 0;
}

void
authd_init(struct db *userdb, int mfd, const char *dummy_hash, const struct config *cfg,
    const uint8_t install_secret[32])
{
	struct authd_sasl_config sc;

	memcpy(authd_install_key, install_secret, sizeof(authd_install_key));
	authd_udb = userdb;
	master_fd = mfd;
	snprintf(dummy, sizeof(dummy), "%s", dummy_hash);
	authdproto_sasl_config_from(cfg, &sc);
	if (set_sasl_config(&sc) < 0)
		fatal("reason=\"auth_username_chars does not compile\"");
}

static void
sess_free(struct authsess *a)
{
	backends_cancel(a);
	authd_forget(a);
	if (a->timer)
		ev_cancel_timer(a->timer);
	sasl_clear(&a->sasl);
	mechs_scram_end(a);
	broker_chan_free(&a->ch);
}

/* Answer the worker without ever blocking: a worker that does not read its
 * replies (a legitimate one always does, one request at a time) is marked
 * and its channel closed by the caller, never waited for. */
static void
reply(struct authsess *a)
{
	if (a->ch.send_errno == 0)
		(void)broker_reply(&a->ch, &authd_out);
}

/* After a step: close the channel if a reply could not be queued. */
static int
check_reply(struct authsess *a)
{
	if (a->ch.send_errno == 0)
		return 0;
	sess_free(a);
	return -1;
}

static void
send_fail_now(struct authsess *a, uint32_t code, const char *text)
{
	authdproto_fail_put(&authd_out, code, text);
	reply(a);
}

static void
delayed_fail(void *ctx)
{
	struct authsess *a = ctx;

	a->timer = 0;
	a->ch.perm.phase = AUTH_IDLE;
	send_fail_now(a, a->pending_code, a->pending_text);
	(void)check_reply(a);
}

/* Refuse, log why, and reply auth_fail_delay_ms after the request arrived
 * (not after the check: then the reply time would show what the check
 * cost, e.g. whether there was a real hash to check). */
static void
refuse_logged(struct authsess *a, uint32_t code)
{
	uint64_t now = ev_now_ms(), due;

	counters_inc(authd_counters, counters_login_index(a->service, counters_mech(a->mech), code));
	a->ch.perm.phase = AUTH_IDLE;
	a->failures++;
	sasl_clear(&a->sasl);
	mechs_scram_end(a);
	explicit_bzero(a->cram, sizeof(a->cram));
	a->pending_code = code;
	snprintf(a->pending_text, sizeof(a->pending_text), "%s",
	    code == AUTH_FAIL_THROTTLED ? "too many failures, try later" :
	    code == AUTH_FAIL_TEMP ? "temporary failure" :
	    code == AUTH_FAIL_SYNTAX ? "malformed SASL data" :
	    code == AUTH_FAIL_MECH ? "unknown mechanism" :
	    code == AUTH_FAIL_ABORTED ? "aborted" : "authentication failed");
	/* refusals outside decide() have no arrival time: they start now */
	due = (a->arrived_ms != 0 ? a->arrived_ms : now) + authd_acfg.delay_ms;
	a->arrived_ms = 0;
	if (authd_acfg.delay_ms == 0 || code == AUTH_FAIL_ABORTED || code == AUTH_FAIL_MECH ||
	    due <= now) {
		send_fail_now(a, a->pending_code, a->pending_text);
		return;
	}
	a->timer = ev_add_timer(due - now, delayed_fail, a);
	if (a->timer != 0)
		a->ch.perm.phase = AUTH_WAIT;
	else
		send_fail_now(a, a->pending_code, a->pending_text);
}

/* refuse_logged() after the line that says why. */
static void
refuse(struct authsess *a, uint32_t code, const char *user, const char *reason)
{
	char q[96];

	log_set_session(a->ch.sid);
	log_event(LOG_LEVEL_WARN, "auth_failed", "service=%s ip=%s user=\"%s\" reason=\"%s\" mech=%s%s%s",
	    a->service, a->ch.ip, user ? log_quote(q, sizeof(q), user, (unsigned)strlen(user)) : "",
	    reason, a->mech[0] ? a->mech : "-", a->backend ? " backend=" : "",
	    a->backend ? a->backend : "");
	log_set_session(NULL);
	refuse_logged(a, code);
}

/* The mail root of user canon: the record's own, else the template.  For
 * logins and recipient lookups alike.  Returns 0, or -1 with a reason. */
int
authd_user_mailroot(const char *canon, const struct userdb_user *u, char out[CONFIG_PATH_MAX],
    const char **why_r)
{
	if (u->mailroot[0] != '\0')
		snprintf(out, CONFIG_PATH_MAX, "%s", u->mailroot);
	else if (config_expand_mailroot(authd_acfg.mail_root, canon, out, CONFIG_PATH_MAX) < 0) {
		*why_r = "mail root template cannot be expanded";
		return -1;
	}
	if (!config_path_canonical(out)) {
		*why_r = "mail root is not a canonical absolute path";
		return -1;
	}
	return 0;
}

/* A login with a hash of a weak scheme (imported with --allow-weak): its
 * replacement, made from the password just checked, into r; the master
 * writes it (authd holds the user db read-only).  Returns 1 if made. */
static int
rehash_weak(const char *canon, const struct userdb_user *u, const uint8_t *pass, size_t plen,
    struct authd_rehash *r)
{
	static struct userimport_entry e;
	char pw[1024];
	const char *why;
	int made = 0;

	memset(r, 0, sizeof(*r));
	if (userimport_hash(u->hash, strlen(u->hash), &e, &why) < 0 ||
	    e.strength != USERIMPORT_WEAK || plen >= sizeof(pw) || memchr(pass, '\0', plen) != NULL)
		goto out;
	memcpy(pw, pass, plen);
	pw[plen] = '\0';
	if (userdb_hash_password(pw, NULL, r->hash) < 0)
		log_event(LOG_LEVEL_WARN, "rehash_failed", "user=%s reason=\"cannot hash\"", canon);
	else
		made = 1;
	snprintf(r->user, sizeof(r->user), "%s", canon);
out:
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(&e, sizeof(e));
	return made;
}

/* A login with a password that the record has no SCRAM secrets for (made
 * before SCRAM): its secrets into r, for the master to add.  Not with a
 * rehash (that changes the hash they are bound to: the next login adds
 * them).  Returns 1 if made. */
static int
scram_for(const char *canon, const struct userdb_user *u, const uint8_t *pass, size_t plen,
    struct authd_scram_add *r)
{
	uint8_t salt[SCRAM_SALT_LEN];

	memset(r, 0, sizeof(*r));
	if (u->has_scram || plen == 0)
		return 0;
	util_random(salt, sizeof(salt));
	scram_make_secrets(pass, plen, salt, sizeof(salt), authd_scfg.scram_iterations, &r->scram);
	snprintf(r->user, sizeof(r->user), "%s", canon);
	snprintf(r->hash, sizeof(r->hash), "%s", u->hash);
	return 1;
}

/* Tell the master which user this session is (it spawns stored), then the
 * worker that it may continue.  rehash, sadd: what the master is to write
 * into the record after the login (or NULL). */
static void
grant(struct authsess *a, const char *canon, const struct userdb_user *u,
    struct authd_rehash *rehash, struct authd_scram_add *sadd)
{
	static struct authd_login L;
	const char *why;

	if (authd_user_mailroot(canon, u, L.mail_root, &why) < 0) {
		refuse(a, AUTH_FAIL_TEMP, canon, why);
		return;
	}
	snprintf(L.sid, sizeof(L.sid), "%s", a->ch.sid);
	snprintf(L.user, sizeof(L.user), "%s", canon);
	L.uid = u->uid ? u->uid : authd_acfg.mail_uid;
	L.gid = u->gid ? u->gid : authd_acfg.mail_gid;
	L.quota = u->quota;
	authdproto_login_put(&authd_out, &L);
	if (ipc_send(master_fd, &authd_out) < 0) {
		refuse(a, AUTH_FAIL_TEMP, canon, "master channel failed");
		return;
	}
	/* before the worker's OK: the master has both before the session
	 * can end */
	if (rehash != NULL) {
		snprintf(rehash->sid, sizeof(rehash->sid), "%s", a->ch.sid);
		authdproto_rehash_put(&authd_out, rehash);
		if (ipc_send(master_fd, &authd_out) < 0)
			log_event(LOG_LEVEL_ERR, "rehash_failed", "user=%s reason=\"master channel "
			    "failed\"", canon);
	}
	if (sadd != NULL) {
		snprintf(sadd->sid, sizeof(sadd->sid), "%s", a->ch.sid);
		authdproto_scram_add_put(&authd_out, sadd);
		if (ipc_send(master_fd, &authd_out) < 0)
			log_event(LOG_LEVEL_ERR, "scram_add_failed", "user=%s reason=\"master channel "
			    "failed\"", canon);
	}
	a->ch.perm.phase = AUTH_DONE;
	authdproto_ok_put(&authd_out);
	reply(a);
	log_set_session(a->ch.sid);
	log_event(LOG_LEVEL_INFO, "login", "service=%s ip=%s user=%s mech=%s%s%s", a->service,
	    a->ch.ip, canon, a->mech, a->backend ? " backend=" : "", a->backend ? a->backend : "");
	counters_inc(authd_counters, counters_login_index(a->service, counters_mech(a->mech), 0));
	log_set_session(NULL);
}

/* Refuse an attempt the throttle stops before any password check; 1 if so. */
static int
throttled(struct authsess *a, const char *name)
{
	switch (throttle_check(&authd_acfg, a->ch.ip, name, a->arrived_ms)) {
	case THROTTLE_IP:
		counters_inc(authd_counters, COUNTERS_AUTHD_THROTTLE + COUNTERS_THROTTLE_IP);
		refuse(a, AUTH_FAIL_THROTTLED, name, "throttled: too many failures from this IP");
		return 1;
	case THROTTLE_USER:
		counters_inc(authd_counters, COUNTERS_AUTHD_THROTTLE + COUNTERS_THROTTLE_USER);
		refuse(a, AUTH_FAIL_THROTTLED, name, "throttled: too many failures for this user");
		return 1;
	case THROTTLE_RATE:
		/* the server is busy, not this client at fault: a temporary
		 * failure, and not counted as one of its failures */
		counters_inc(authd_counters, COUNTERS_AUTHD_THROTTLE + COUNTERS_THROTTLE_RATE);
		refuse(a, AUTH_FAIL_TEMP, name, "throttled: over auth_max_checks_per_second");
		return 1;
	case THROTTLE_OK:
		break;
	}
	return 0;
}

/* auth_username_chars, auth_username_max: a name with any other byte, or
 * too long, is refused before any lookup or normalisation, as a failed
 * login the throttle counts for the address (the name is no key to count
 * it under).  1 if refused. */
static int
name_refused(struct authsess *a, const uint8_t *user, size_t ulen)
{
	enum namechars_verdict v = namechars_check(&names, user, ulen);
	char q[96];

	if (v == NAMECHARS_OK)
		return 0;
	if (throttled(a, NULL))
		return 1;
	throttle_fail(&authd_acfg, a->ch.ip, NULL, a->arrived_ms);
	log_set_session(a->ch.sid);
	log_event(LOG_LEVEL_WARN, "auth_refused", "service=%s ip=%s reason=%s len=%zu user=\"%s\" "
	    "mech=%s", a->service, a->ch.ip, v == NAMECHARS_CHARS ? "username_chars" :
	    "username_length", ulen, log_quote(q, sizeof(q), (const char *)user,
	    (unsigned)(ulen < 48 ? ulen : 48)), a->mech[0] ? a->mech : "-");
	log_set_session(NULL);
	refuse_logged(a, AUTH_FAIL_CREDENTIALS);
	return 1;
}

/* The verdict on a found user u (from the user db, or a backend's answer:
 * userdb 0), whose password is checked against u's hash, or was checked
 * by the backend (verified). */
void
authd_verdict(struct authsess *a, const char *canon, struct userdb_user *u, int userdb,
    int verified)
{
	const uint8_t *pass = a->pass;
	size_t plen = a->passlen;
	enum userdb_verdict v;

	if (verified)
		v = (u->flags & USERDB_USER_DISABLED) ? USERDB_DISABLED : USERDB_OK;
	else
		v = userdb_check_login(u, dummy, pass, plen);
	/* a service switched off for this user: told only with the right
	 * password, like a disabled account, and not counted as a guess */
	if (v == USERDB_OK && (u->flags & userdb_service_bit(a->service))) {
		refuse(a, AUTH_FAIL_DISABLED, a->name, "this service is switched off for the user "
		    "(posternctl user set --deny)");
	} else if (v == USERDB_OK) {
		static struct authd_rehash rh;
		static struct authd_scram_add sa;
		/* the user db's records only: the master writes those */
		int weak = userdb && rehash_weak(canon, u, pass, plen, &rh);
		throttle_success(&authd_acfg, a->ch.ip, a->name, ev_now_ms());
		grant(a, canon, u, weak ? &rh : NULL,
		    userdb && !weak && scram_for(canon, u, pass, plen, &sa) ? &sa : NULL);
		explicit_bzero(&rh, sizeof(rh));
		explicit_bzero(&sa, sizeof(sa));
	} else {
		/* disabled means the password was right: not a guess */
		if (v != USERDB_DISABLED && v != USERDB_DB_ERROR)
			throttle_fail(&authd_acfg, a->ch.ip, a->name, ev_now_ms());
		refuse(a, v == USERDB_DISABLED ? AUTH_FAIL_DISABLED :
		    v == USERDB_DB_ERROR ? AUTH_FAIL_TEMP : AUTH_FAIL_CREDENTIALS,
		    a->name, userdb_verdict_str(v));
	}
	explicit_bzero(u, sizeof(*u));
	authd_forget(a);
}

/* The user db's step of the chain: 1 if it decided (found, or failed),
 * 0 if the name is not in it. */
int
authd_userdb_step(struct authsess *a)
{
	char canon[USERDB_NAME_MAX + 1];
	struct userdb_user u;
	int rc = userdb_lookup(authd_udb, a->name, &u, canon);

	if (rc == 0)
		return 0;
	if (rc < 0) {
		refuse(a, AUTH_FAIL_TEMP, a->name, "user database error");
		authd_forget(a);
		return 1;
	}
	authd_verdict(a, canon, &u, 1, 0);
	return 1;
}

/* No backend knows the name: checked against the dummy hash (the same
 * cost as a real check), refused as unknown. */
void
authd_unknown(struct authsess *a)
{
	enum userdb_verdict v = userdb_check_login(NULL, dummy, a->pass, a->passlen);

	throttle_fail(&authd_acfg, a->ch.ip, a->name, ev_now_ms());
	refuse(a, AUTH_FAIL_CREDENTIALS, a->name, userdb_verdict_str(v));
	authd_forget(a);
}

/* The password and name of an attempt are kept only while the chain runs. */
void
authd_forget(struct authsess *a)
{
	explicit_bzero(a->pass, sizeof(a->pass));
	a->passlen = 0;
	a->backend = NULL;
}

/* The decision, given a user name and a password from the client. */
static void
decide(struct authsess *a, const uint8_t *user, size_t ulen, const uint8_t *pass, size_t plen)
{
	char raw[USERDB_NAME_MAX + 1];
	const char *why;

	a->arrived_ms = ev_now_ms();
	if (name_refused(a, user, ulen))
		return;
	if (userdb_normalize(user, ulen, authd_acfg.default_domain, a->name, &why) < 0) {
		/* raw bytes; refuse() quotes them for the log */
		memcpy(raw, user, ulen < sizeof(raw) - 1 ? ulen : sizeof(raw) - 1);
		raw[ulen < sizeof(raw) - 1 ? ulen : sizeof(raw) - 1] = '\0';
		throttle_fail(&authd_acfg, a->ch.ip, NULL, a->arrived_ms);
		refuse(a, AUTH_FAIL_CREDENTIALS, raw, why);
		return;
	}
	if (throttled(a, a->name))
		return;
	/* crypt cannot take a longer one: kept as a mismatch (an empty
	 * password with a NUL, which no hash matches) */
	if (plen > sizeof(a->pass)) {
		a->pass[0] = '\0';
		a->passlen = 1;
	} else {
		memcpy(a->pass, pass, plen);
		a->passlen = plen;
	}
	a->bk_pos = 0;
	backends_login(a);
}

static void
sasl_step(struct authsess *a, enum sasl_result r)
{
	switch (r) {
	case SASL_DONE:
		decide(a, a->sasl.user, a->sasl.userlen, a->sasl.pass, a->sasl.passlen);
		sasl_clear(&a->sasl);
		return;
	case SASL_CHALLENGE:
		a->ch.perm.phase = AUTH_SASL;
		authdproto_challenge_put(&authd_out, a->sasl.challenge);
		reply(a);
		return;
	case SASL_ERR_SYNTAX:
		throttle_fail(&authd_acfg, a->ch.ip, NULL, ev_now_ms());
		refuse(a, AUTH_FAIL_SYNTAX, NULL, "malformed SASL data");
		return;
	case SASL_ERR_ABORTED:
		refuse(a, AUTH_FAIL_ABORTED, NULL, "client aborted SASL exchange");
		return;
	case SASL_ERR_AUTHZ:
		/* a guess at another identity counts like a wrong password */
		throttle_fail(&authd_acfg, a->ch.ip, NULL, ev_now_ms());
		refuse(a, AUTH_FAIL_AUTHZ, NULL, "authorization identity is not the user (no proxy "
		    "logins)");
		return;
	case SASL_ERR_MECH:
		refuse(a, AUTH_FAIL_MECH, NULL, "unknown SASL mechanism");
		return;
	}
}

/* For mechs.c (SCRAM-SHA-256, CRAM-MD5): the steps every mechanism ends in. */
void
authd_reply(struct authsess *a)
{
	reply(a);
}

void
authd_refuse(struct authsess *a, uint32_t code, const char *user, const char *reason)
{
	refuse(a, code, user, reason);
}

int
authd_throttled(struct authsess *a, const char *name)
{
	return throttled(a, name);
}

int
authd_name_refused(struct authsess *a, const uint8_t *user, size_t ulen)
{
	return name_refused(a, user, ulen);
}

void
authd_grant(struct authsess *a, const char *canon, const struct userdb_user *u)
{
	grant(a, canon, u, NULL, NULL);
}

static int
on_auth_start(void *ctx, struct ipc_in *in)
{
	struct authsess *a = ctx;
	struct authd_start r;

	if (authdproto_start_get(in, &r) < 0)
		return -1;
	log_quote(a->mech, sizeof(a->mech), r.mech, (unsigned)strlen(r.mech));
	if (!sasl_mech_enabled(authd_scfg.mechanisms, r.mech, strlen(r.mech)))
		sasl_step(a, SASL_ERR_MECH);
	else if (strcasecmp(r.mech, "SCRAM-SHA-256") == 0)
		mechs_scram_start(a, r.has_ir ? r.ir : NULL, r.irlen);
	else if (strcasecmp(r.mech, "CRAM-MD5") == 0)
		mechs_cram_start(a, r.has_ir);
	else
		sasl_step(a, sasl_start(&a->sasl, r.mech, r.has_ir ? r.ir : NULL, r.irlen));
	return 0;
}

static int
on_auth_continue(void *ctx, struct ipc_in *in)
{
	struct authsess *a = ctx;
	const uint8_t *line;
	size_t len;

	if (authdproto_continue_get(in, &line, &len) < 0)
		return -1;
	if (a->scram != NULL)
		mechs_scram_line(a, line, len);
	else if (a->cram[0] != '\0')
		mechs_cram_line(a, line, len);
	else
		sasl_step(a, sasl_continue(&a->sasl, line, len));
	return 0;
}

static int
on_auth_userpass(void *ctx, struct ipc_in *in)
{
	struct authsess *a = ctx;
	struct authd_userpass r;

	if (authdproto_userpass_get(in, &r) < 0)
		return -1;
	snprintf(a->mech, sizeof(a->mech), "USER");
	decide(a, r.user, r.userlen, r.pass, r.passlen);
	return 0;
}

/* A worker starts an attempt when idle and answers a challenge when one
 * is out; nothing while a failure reply is pending or after a login. */
static const struct ipc_handler worker_handlers[] = {
	{ .type = MSG_AUTH_START, .phases = AUTH_IDLE, .fn = on_auth_start },
	{ .type = MSG_AUTH_CONTINUE, .phases = AUTH_SASL, .fn = on_auth_continue },
	{ .type = MSG_AUTH_USERPASS, .phases = AUTH_IDLE, .fn = on_auth_userpass },
};

static const struct broker_table worker_table = { IPC_TABLE(worker_handlers), NULL };

/* After a step decided outside the worker's own request (a backend's
 * answer): as on_worker does after a request. */
void
authd_replied(struct authsess *a)
{
	if (check_reply(a) == 0 && a->ch.perm.phase == AUTH_DONE)
		sess_free(a);
}

static void
on_worker(int fd, short revents, void *ctx)
{
	struct authsess *a = ctx;

	(void)fd;
	(void)revents;
	if (broker_chan_recv(&a->ch, &inmsg, &worker_table) < 0) {
		sess_free(a);
		return;
	}
	/* A decided login needs authd no more: its channel and state go now
	 * (the reply already queued is still delivered before the EOF). */
	if (check_reply(a) == 0 && a->ch.perm.phase == AUTH_DONE)
		sess_free(a);
}

static int
on_session_new(void *ctx, struct ipc_in *in)
{
	struct authd_session r;
	struct authsess *a;

	(void)ctx;
	if (authdproto_session_get(in, &r) < 0) {
		ipc_in_close_fd(in);
		return -1;
	}
	a = broker_chan_new(sizeof(*a), in->fd, r.sid, r.ip, AUTH_IDLE, on_worker);
	in->fd = -1;
	if (a == NULL)
		return 0;	/* out of memory: that session's worker sees EOF */
	memcpy(a->service, r.service, sizeof(a->service));
	return 0;
}

static int
on_config(void *ctx, struct ipc_in *in)
{
	struct authd_config c;

	(void)ctx;
	if (authdproto_config_get(in, &c) < 0)
		return -1;
	authd_acfg = c;
	return 0;
}

/* 1 if the domain of name (local@domain, normalised) is in the domains
 * table, or if the table cannot be read (the caller then says "unknown",
 * as before there was a relay rule: never a relay refusal on a db error). */
static int
domain_hosted(const char *name)
{
	const char *dom = strchr(name, '@');
	struct buf b;
	int rc;

	if (dom == NULL)
		return 1;
	dom++;
	buf_init(&b, 64);
	rc = db_get(authd_udb, USERDB_DBI_DOMAINS, dom, strlen(dom), &b);
	buf_free(&b, 0);
	return rc != 0;
}

/* Where mail for key goes, through its aliases (common/mail/aliases.h):
 * an enum aliases_status, x the users. */
static int
expand(const char *key, struct aliases_expansion *x)
{
	struct aliases_limits lim = { .max_targets = authd_acfg.alias_max_targets,
	    .max_depth = authd_acfg.alias_max_depth };

	return aliases_expand(authd_udb, key, &lim, NULL, NULL, x);
}

/* A subaddress, user+tag@domain: the user's (or alias's) when the whole
 * address is neither.  name loses its tag.  rc as expand's. */
static int
resolve_subaddress(char name[USERDB_NAME_MAX + 1], struct aliases_expansion *x)
{
	char *at = strchr(name, '@'), *d = name + strcspn(name, authd_acfg.delimiter);
	const char *rest;

	if (authd_acfg.delimiter[0] == '\0' || *d == '\0' || d == name || (at != NULL && d >= at))
		return 0;
	rest = at != NULL ? at : d + strlen(d);
	memmove(d, rest, strlen(rest) + 1);
	return expand(name, x);
}

/* The domain's catch-all, an alias "@domain" (posternctl alias add
 * @example.com user@example.com): every address of a hosted domain that
 * nothing more specific took.  Recipient lookups only: the key is no name
 * a login can give (userdb_normalize refuses an empty local part). */
static int
resolve_catchall(const char *name, struct aliases_expansion *x)
{
	const char *at = strchr(name, '@');

	if (at == NULL || !domain_hosted(name))
		return 0;
	return expand(at, x);
}

/* The system aliases (Courier's aliases/system): a domain-less alias key,
 * the local part alone (posternctl alias add postmaster admin@example.com),
 * applies in every hosted domain that has no address of its own for it;
 * postmaster, which every domain must take (RFC 5321 4.5.1), then goes to
 * the postmaster config key.  A bare "postmaster" (RFC 5321 4.1.1.3: no
 * domain) is ours whatever default_domain is.  Recipient lookups only: no
 * login name is without a domain once normalised. */
static int
resolve_system(const char *name, struct aliases_expansion *x)
{
	char local[USERDB_NAME_MAX + 1], pm[USERDB_NAME_MAX + 1];
	const char *at = strchr(name, '@'), *why;
	size_t n = at != NULL ? (size_t)(at - name) : strlen(name);
	int rc, bare = at == NULL || at[1] == '\0';

	memcpy(local, name, n);
	local[n] = '\0';
	if (bare ? strcmp(local, "postmaster") != 0 : !domain_hosted(name))
		return 0;
	rc = expand(local, x);
	if (rc != 0 || strcmp(local, "postmaster") != 0 || authd_acfg.postmaster[0] == '\0')
		return rc;
	if (userdb_normalize((const uint8_t *)authd_acfg.postmaster, strlen(authd_acfg.postmaster),
	    authd_acfg.default_domain, pm, &why) < 0)
		return 0;	/* the master checked it: cannot happen */
	return expand(pm, x);
}

/* Where mail for the normalised name goes, most specific first: a user or
 * an alias, a subaddress of one, a system alias (or the postmaster key),
 * the domain's catch-all.  rc as expand's; name may lose a subaddress
 * tag. */
static int
resolve_name(char name[USERDB_NAME_MAX + 1], struct aliases_expansion *x)
{
	int rc = expand(name, x);

	if (rc == 0)
		rc = resolve_subaddress(name, x);
	if (rc == 0)
		rc = resolve_system(name, x);
	if (rc == 0)
		rc = resolve_catchall(name, x);
	return rc;
}

/* Is dom (n bytes, lower case) in local_domains (comma-separated, blanks
 * around the commas, any case)? */
static int
local_domain(const char *dom, size_t n)
{
	const char *p = authd_acfg.local_domains, *e;
	size_t l;

	for (; *p != '\0'; p = *e == ',' ? e + 1 : e) {
		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strcspn(p, ",");
		l = (size_t)(e - p);
		while (l > 0 && (p[l - 1] == ' ' || p[l - 1] == '\t'))
			l--;
		if (l == n && strncasecmp(p, dom, n) == 0)
			return 1;
	}
	return 0;
}

/* Courier's locals: an address in one of local_domains that is not hosted
 * is the same local part in default_domain (user@localhost and
 * user@host.example are user@example.com), resolved from then on as that
 * address.  A hosted domain keeps its own addresses.  name is rewritten in
 * place; 0, or -1 when the result would be too long (the address is then
 * resolved no further: its domain is not hosted, so it is refused). */
static int
resolve_local(char name[USERDB_NAME_MAX + 1])
{
	char *at = strchr(name, '@');
	size_t local, dl = strlen(authd_acfg.default_domain);

	if (at == NULL || authd_acfg.local_domains[0] == '\0' || dl == 0 ||
	    !local_domain(at + 1, strlen(at + 1)) || domain_hosted(name))
		return 0;
	local = (size_t)(at - name);
	if (local + 1 + dl > USERDB_NAME_MAX)
		return -1;
	memcpy(at + 1, authd_acfg.default_domain, dl + 1);
	for (at++; *at != '\0'; at++)	/* as userdb_normalize lower-cases it */
		if (*at >= 'A' && *at <= 'Z')
			*at = (char)(*at + 32);
	return 0;
}

/* The users of x into r: each enabled user with a usable mail root.
 * Returns the status (FOUND, DISABLED when every user is, TEMP). */
static uint32_t
targets(const struct aliases_expansion *x, struct authd_lookup_result *r)
{
	char canon[USERDB_NAME_MAX + 1];
	struct authd_lookup_target *t;
	struct userdb_user u;
	const char *why;
	uint32_t st = AUTHD_LOOKUP_DISABLED;
	unsigned i;
	int rc;

	for (i = 0; i < x->n && st != AUTHD_LOOKUP_TEMP; i++) {
		t = &r->t[r->n];
		rc = userdb_lookup(authd_udb, x->user[i], &u, canon);
		if (rc <= 0) {
			/* gone since the expansion read it, or the db failed */
			st = AUTHD_LOOKUP_TEMP;
			log_event(LOG_LEVEL_ERR, "lookup_failed", "user=%s reason=\"user database "
			    "error\"", x->user[i]);
		} else if (u.flags & USERDB_USER_DISABLED) {
			;	/* its mail is not taken: the others' is */
		} else if (authd_user_mailroot(x->user[i], &u, t->mail_root, &why) < 0) {
			st = AUTHD_LOOKUP_TEMP;
			log_event(LOG_LEVEL_ERR, "lookup_failed", "user=%s reason=\"%s\"", x->user[i], why);
		} else {
			snprintf(t->user, sizeof(t->user), "%s", x->user[i]);
			t->uid = u.uid ? u.uid : authd_acfg.mail_uid;
			t->gid = u.gid ? u.gid : authd_acfg.mail_gid;
			t->quota = u.quota;
			r->n++;
			st = AUTHD_LOOKUP_FOUND;
		}
		explicit_bzero(&u, sizeof(u));	/* it held the password hash */
	}
	return st;
}

/* Resolve a recipient as a login resolves a name (default_domain), without
 * a password, and then as only a recipient resolves (resolve_name, aliases
 * expanded): the result says where mail for it goes. */
static void
resolve(const struct authd_lookup *q, struct authd_lookup_result *r)
{
	static struct aliases_expansion x;
	char name[USERDB_NAME_MAX + 1], qa[AUTHD_ADDRESS_MAX * 4 + 8];
	const char *why;
	int rc;

	memset(r, 0, sizeof(*r));
	r->id = q->id;
	if (userdb_normalize((const uint8_t *)q->address, strlen(q->address), authd_acfg.default_domain,
	    name, &why) < 0) {
		r->status = AUTHD_LOOKUP_INVALID;
		return;
	}
	rc = resolve_local(name) < 0 ? 0 : resolve_name(name, &x);
	if (rc == ALIASES_DB_ERROR) {
		r->status = AUTHD_LOOKUP_TEMP;
		log_event(LOG_LEVEL_ERR, "lookup_failed", "reason=\"user database error\"");
	} else if (rc < 0) {
		/* a loop, a chain too deep, too many users: the operator's to
		 * fix (posternctl alias); meanwhile the sender keeps the mail */
		r->status = AUTHD_LOOKUP_TEMP;
		log_event(LOG_LEVEL_WARN, "alias_refused", "address=\"%s\" reason=\"%s\"",
		    log_quote(qa, sizeof(qa), q->address, (unsigned)strlen(q->address)), x.why);
	} else if (rc == 0)
		r->status = domain_hosted(name) ? AUTHD_LOOKUP_UNKNOWN : AUTHD_LOOKUP_RELAY;
	else
		r->status = targets(&x, r);
	if (r->status != AUTHD_LOOKUP_FOUND) {
		/* only a found recipient names anything */
		memset(r->t, 0, sizeof(r->t));
		r->n = 0;
	}
}

/* A recipient lookup's answer to the master. */
void
authd_lookup_answer(const struct authd_lookup_result *r)
{
	authdproto_lookup_result_put(&authd_out, r);
	if (ipc_send(master_fd, &authd_out) < 0)
		log_event(LOG_LEVEL_ERR, "lookup", "reason=\"master channel failed\" errno=%d", errno);
	else
		log_event(LOG_LEVEL_DEBUG, "lookup", "id=%u status=%u", r->id, r->status);
}

/* MSG_AUTHD_LOOKUP: answered at once from the user db, or, for an address
 * it does not know, once the chain's helpers have answered (the master
 * matches ids, so answers may come in any order). */
static int
on_lookup(void *ctx, struct ipc_in *in)
{
	static struct authd_lookup q;
	static struct authd_lookup_result r;

	(void)ctx;
	if (!authd_acfg.have || authdproto_lookup_get(in, &q) < 0)
		return -1;
	resolve(&q, &r);
	if ((r.status == AUTHD_LOOKUP_UNKNOWN || r.status == AUTHD_LOOKUP_RELAY) &&
	    backends_lookup(&q, r.status))
		return 0;
	authd_lookup_answer(&r);
	return 0;
}

/* MSG_AUTHD_THROTTLE (posternctl throttle, through the master): answered
 * at once like a lookup.  Every clear is one log line. */
static int
on_throttle(void *ctx, struct ipc_in *in)
{
	static struct authd_throttle q;
	static char text[AUTHD_THROTTLE_TEXT_MAX];
	char name[USERDB_NAME_MAX + 1], akey[NETADDR_KEY_MAX];
	const char *why = NULL;
	uint32_t count = 0;
	size_t len = 0;

	(void)ctx;
	if (!authd_acfg.have || authdproto_throttle_get(in, &q) < 0)
		return -1;
	if (q.op == AUTHD_THROTTLE_LIST) {
		len = throttle_list(&authd_acfg, ev_now_ms(), text, sizeof(text), &count);
	} else if (q.op == AUTHD_THROTTLE_CLEAR_IP) {
		if (netaddr_key(q.key, authd_acfg.ipv6_prefix, akey, sizeof(akey)) < 0)
			why = "not a numeric IPv4 or IPv6 address";
		else
			count = throttle_clear_ip(&authd_acfg, q.key, ev_now_ms());
	} else if (userdb_normalize((const uint8_t *)q.key, strlen(q.key), authd_acfg.default_domain,
	    name, &why) == 0) {
		count = throttle_clear_user(&authd_acfg, name, ev_now_ms());
	}
	if (why != NULL)
		len = (size_t)snprintf(text, sizeof(text), "%s", why);
	else if (q.op != AUTHD_THROTTLE_LIST)
		log_event(LOG_LEVEL_INFO, "throttle_cleared", "%s=%s records=%u by=control",
		    q.op == AUTHD_THROTTLE_CLEAR_IP ? "ip" : "user",
		    q.op == AUTHD_THROTTLE_CLEAR_IP ? akey : name, count);
	authdproto_throttle_result_put(&authd_out, q.id, why != NULL, count, text, len);
	if (ipc_send(master_fd, &authd_out) < 0)
		log_event(LOG_LEVEL_ERR, "throttle", "reason=\"master channel failed\" errno=%d", errno);
	return 0;
}

static int
on_sasl_config(void *ctx, struct ipc_in *in)
{
	struct authd_sasl_config c;

	(void)ctx;
	if (authdproto_sasl_config_get(in, &c) < 0)
		return -1;
	return set_sasl_config(&c);
}

static const struct ipc_handler master_handlers[] = {
	{ .type = MSG_AUTHD_SESSION_NEW, .with_fd = 1, .fn = on_session_new },
	{ .type = MSG_AUTHD_CONFIG, .fn = on_config },
	{ .type = MSG_AUTHD_SASL_CONFIG, .fn = on_sasl_config },
	{ .type = MSG_AUTHD_LOOKUP, .fn = on_lookup },
	{ .type = MSG_AUTHD_THROTTLE, .fn = on_throttle },
	{ .type = MSG_AUTHD_BACKEND, .with_fd = 1, .fn = backends_channel },
};

void
authd_serve_master(int fd)
{
	broker_master(fd, IPC_TABLE(master_handlers));
}
