/* mechs.c - the SASL mechanisms authd runs itself, beyond PLAIN and LOGIN
 * (common/proto/sasl.c): SCRAM-SHA-256 (RFC 5802, RFC 7677) and, when
 * auth_mechanisms lists it, CRAM-MD5 (RFC 2195).  The parsers and the
 * cryptography are pure, in common/auth/; here are the exchanges: the name
 * through the same policy, throttle and lookup as any login, and the
 * refusals and the grant through authd.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/auth/cram.h"
#include "../../common/auth/scram.h"
#include "../../common/base/ev.h"
#include "../../common/base/util.h"
#include "authd.h"

/* The SCRAM-SHA-256 exchange of one channel (RFC 5802 5): client-first
 * -> server-first, client-final -> server-final, an empty response -> the
 * verdict.  Allocated only while one runs. */
struct scram_sess {
	int step;		/* 0: client-first due, 1: client-final, 2: the empty line */
	int usable;		/* sec are the user's own */
	const char *why;	/* else why the proof cannot succeed */
	char name[USERDB_NAME_MAX + 1], canon[USERDB_NAME_MAX + 1];
	struct userdb_user u;
	struct scram_secrets sec;
	uint8_t gs2[SCRAM_MSG_MAX];
	size_t gs2len;
	uint8_t authmsg[SCRAM_AUTHMSG_MAX];
	size_t amlen;
	char nonce[SCRAM_NONCE_MAX + 32];
	char final[64];
};

void
mechs_scram_end(struct authsess *a)
{
	if (a->scram == NULL)
		return;
	explicit_bzero(a->scram, sizeof(*a->scram));
	free(a->scram);
	a->scram = NULL;
}

/* A challenge of text (NUL-terminated) to the worker, base64. */
static void
scram_challenge(struct authsess *a, const char *text)
{
	char b64[AUTHD_CHALLENGE_SIZE];

	if (util_base64_encode((const uint8_t *)text, strlen(text), b64, sizeof(b64)) < 0) {
		authd_refuse(a, AUTH_FAIL_TEMP, a->scram->name, "SCRAM message does not fit");
		return;
	}
	a->ch.perm.phase = AUTH_SASL;
	authdproto_challenge_put(&authd_out, b64);
	authd_reply(a);
}

/* The secrets to answer with: the user's own, or, for an unknown user or
 * one whose record has none, a salt made from the install secret and the
 * name (the same at every attempt, like a real user's) with keys no proof
 * matches, so server-first does not tell whether the user exists. */
static void
scram_secrets_for(struct scram_sess *sc, int rc)
{
	uint8_t salt[SCRAM_KEY_LEN];
	char msg[USERDB_NAME_MAX + 16];
	int n = snprintf(msg, sizeof(msg), "scram-salt:%s", sc->name);

	if (rc == 1 && sc->u.has_scram) {
		sc->sec = sc->u.scram;
		sc->usable = 1;
		return;
	}
	sc->why = rc == 1 ? "the user has no SCRAM-SHA-256 secrets (set the password again: "
	    "posternctl user passwd)" : "unknown user";
	scram_hmac(authd_install_key, sizeof(authd_install_key), (const uint8_t *)msg, (size_t)n, salt);
	memset(&sc->sec, 0, sizeof(sc->sec));
	memcpy(sc->sec.salt, salt, SCRAM_SALT_LEN);
	sc->sec.saltlen = SCRAM_SALT_LEN;
	sc->sec.iterations = authd_scfg.scram_iterations;
	util_random(sc->sec.stored_key, sizeof(sc->sec.stored_key));
	util_random(sc->sec.server_key, sizeof(sc->sec.server_key));
}

/* A refusal of the client-first message's form; 1 if refused. */
static int
scram_first_refused(struct authsess *a, int rc)
{
	switch (rc) {
	case SCRAM_OK:
		return 0;
	case SCRAM_CBIND:
		authd_refuse(a, AUTH_FAIL_SYNTAX, NULL, "the client asked for channel binding (p=), which "
		    "is not offered (no SCRAM-SHA-256-PLUS)");
		return 1;
	case SCRAM_AUTHZ:
		throttle_fail(&authd_acfg, a->ch.ip, NULL, a->arrived_ms);
		authd_refuse(a, AUTH_FAIL_AUTHZ, NULL, "authorization identity is not the user (no proxy "
		    "logins)");
		return 1;
	case SCRAM_MEXT:
		authd_refuse(a, AUTH_FAIL_SYNTAX, NULL, "SCRAM mandatory extension (m=) not supported");
		return 1;
	}
	throttle_fail(&authd_acfg, a->ch.ip, NULL, a->arrived_ms);
	authd_refuse(a, AUTH_FAIL_SYNTAX, NULL, "malformed SCRAM client-first message");
	return 1;
}

/* client-first-message: the name as a login's (the character set, the
 * throttle, one lookup), then server-first. */
static void
scram_first(struct authsess *a, const uint8_t *msg, size_t len)
{
	struct scram_sess *sc = a->scram;
	struct scram_client_first cf;
	uint8_t snonce[SCRAM_SNONCE_RAW];
	char sf[AUTHD_CHALLENGE_SIZE];
	const char *why;
	long n;
	int rc;

	a->arrived_ms = ev_now_ms();
	if (scram_first_refused(a, scram_client_first_parse(msg, len, &cf)) ||
	    authd_name_refused(a, cf.user, cf.userlen))
		return;
	if (userdb_normalize(cf.user, cf.userlen, authd_acfg.default_domain, sc->name, &why) < 0) {
		throttle_fail(&authd_acfg, a->ch.ip, NULL, a->arrived_ms);
		authd_refuse(a, AUTH_FAIL_CREDENTIALS, (const char *)cf.user, why);
		return;
	}
	if (authd_throttled(a, sc->name))
		return;
	rc = userdb_lookup(authd_udb, sc->name, &sc->u, sc->canon);
	if (rc < 0) {
		authd_refuse(a, AUTH_FAIL_TEMP, sc->name, "user database error");
		return;
	}
	scram_secrets_for(sc, rc);
	util_random(snonce, sizeof(snonce));
	n = scram_server_first(&cf, snonce, &sc->sec, sf, (sizeof(sf) - 1) / 4 * 3, sc->nonce,
	    sizeof(sc->nonce));
	if (n < 0 || cf.barelen + 1 + (size_t)n + 1 + SCRAM_MSG_MAX > sizeof(sc->authmsg)) {
		authd_refuse(a, AUTH_FAIL_TEMP, sc->name, "SCRAM message does not fit");
		return;
	}
	memcpy(sc->gs2, msg, cf.gs2len);
	sc->gs2len = cf.gs2len;
	memcpy(sc->authmsg, cf.bare, cf.barelen);
	sc->authmsg[cf.barelen] = ',';
	memcpy(sc->authmsg + cf.barelen + 1, sf, (size_t)n);
	sc->amlen = cf.barelen + 1 + (size_t)n;
	sc->step = 1;
	scram_challenge(a, sf);
}

/* client-final-message: the proof.  A wrong one is a wrong password. */
static void
scram_final(struct authsess *a, const uint8_t *msg, size_t len)
{
	struct scram_sess *sc = a->scram;
	struct scram_client_final cf;
	int ok;

	a->arrived_ms = ev_now_ms();
	if (scram_client_final_parse(msg, len, &cf) < 0 || cf.noncelen != strlen(sc->nonce) ||
	    memcmp(cf.nonce, sc->nonce, cf.noncelen) != 0 ||
	    !scram_cbind_matches(&cf, sc->gs2, sc->gs2len) ||
	    sc->amlen + 1 + cf.without_proof > sizeof(sc->authmsg)) {
		throttle_fail(&authd_acfg, a->ch.ip, sc->name, a->arrived_ms);
		authd_refuse(a, AUTH_FAIL_SYNTAX, sc->name, "malformed SCRAM client-final message (or "
		    "not this exchange's nonce or gs2 header)");
		return;
	}
	sc->authmsg[sc->amlen] = ',';
	memcpy(sc->authmsg + sc->amlen + 1, msg, cf.without_proof);
	sc->amlen += 1 + cf.without_proof;
	ok = scram_check_proof(&sc->sec, sc->authmsg, sc->amlen, cf.proof, sc->final,
	    sizeof(sc->final));
	if (!ok || !sc->usable) {
		throttle_fail(&authd_acfg, a->ch.ip, sc->name, a->arrived_ms);
		authd_refuse(a, AUTH_FAIL_CREDENTIALS, sc->name, sc->usable ? "wrong password (SCRAM proof)" :
		    sc->why);
		return;
	}
	/* told only with the right proof, as with PLAIN */
	if (sc->u.flags & USERDB_USER_DISABLED) {
		authd_refuse(a, AUTH_FAIL_DISABLED, sc->name, userdb_verdict_str(USERDB_DISABLED));
		return;
	}
	if (sc->u.flags & userdb_service_bit(a->service)) {
		authd_refuse(a, AUTH_FAIL_DISABLED, sc->name, "this service is switched off for the user "
		    "(posternctl user set --deny)");
		return;
	}
	sc->step = 2;
	scram_challenge(a, sc->final);
}

/* One client line of a SCRAM exchange. */
void
mechs_scram_line(struct authsess *a, const uint8_t *line, size_t len)
{
	uint8_t dec[SASL_LINE_MAX];
	long n = 0;

	if (len == 1 && line[0] == '*') {
		authd_refuse(a, AUTH_FAIL_ABORTED, NULL, "client aborted SASL exchange");
		return;
	}
	if (len > SASL_LINE_MAX ||
	    (len > 0 && !(len == 1 && line[0] == '=') &&
	    (n = util_base64_decode(line, len, dec, sizeof(dec))) < 0)) {
		throttle_fail(&authd_acfg, a->ch.ip, NULL, ev_now_ms());
		authd_refuse(a, AUTH_FAIL_SYNTAX, NULL, "malformed SASL data");
		return;
	}
	if (a->scram->step == 0)
		scram_first(a, dec, (size_t)n);
	else if (a->scram->step == 1)
		scram_final(a, dec, (size_t)n);
	else if (n != 0)	/* after server-final, RFC 5802 5: an empty response */
		authd_refuse(a, AUTH_FAIL_SYNTAX, a->scram->name, "SCRAM: data after server-final");
	else {
		throttle_success(&authd_acfg, a->ch.ip, a->scram->name, ev_now_ms());
		authd_grant(a, a->scram->canon, &a->scram->u);
		mechs_scram_end(a);
	}
	explicit_bzero(dec, sizeof(dec));
}

/* AUTHENTICATE SCRAM-SHA-256 [client-first]. */
void
mechs_scram_start(struct authsess *a, const uint8_t *ir, size_t irlen)
{
	mechs_scram_end(a);
	a->scram = calloc(1, sizeof(*a->scram));
	if (a->scram == NULL) {
		authd_refuse(a, AUTH_FAIL_TEMP, NULL, "out of memory");
		return;
	}
	if (ir == NULL || (irlen == 1 && ir[0] == '=')) {
		a->ch.perm.phase = AUTH_SASL;	/* an empty challenge: client-first next */
		authdproto_challenge_put(&authd_out, "");
		authd_reply(a);
		return;
	}
	mechs_scram_line(a, ir, irlen);
}

/* CRAM-MD5 (RFC 2195): a challenge of ours; its answer checked against the
 * kept secret.  No initial response (the client has nothing to say yet). */
void
mechs_cram_start(struct authsess *a, int has_ir)
{
	char b64[AUTHD_CHALLENGE_SIZE];
	uint8_t rnd[8];

	a->arrived_ms = ev_now_ms();
	if (has_ir) {
		throttle_fail(&authd_acfg, a->ch.ip, NULL, a->arrived_ms);
		authd_refuse(a, AUTH_FAIL_SYNTAX, NULL, "CRAM-MD5 takes no initial response");
		return;
	}
	util_random(rnd, sizeof(rnd));
	snprintf(a->cram, sizeof(a->cram), "<%02x%02x%02x%02x%02x%02x%02x%02x.%llu@postern>",
	    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7],
	    (unsigned long long)a->arrived_ms);
	if (util_base64_encode((const uint8_t *)a->cram, strlen(a->cram), b64, sizeof(b64)) < 0) {
		authd_refuse(a, AUTH_FAIL_TEMP, NULL, "CRAM-MD5 challenge does not fit");
		return;
	}
	a->ch.perm.phase = AUTH_SASL;
	authdproto_challenge_put(&authd_out, b64);
	authd_reply(a);
}

/* "user digest": the name as a login's, then the digest. */
static void
cram_answer(struct authsess *a, const uint8_t *msg, size_t len)
{
	char name[USERDB_NAME_MAX + 1], canon[USERDB_NAME_MAX + 1];
	uint8_t digest[CRAM_DIGEST_LEN];
	struct userdb_user u;
	const uint8_t *user;
	const char *why;
	size_t ulen;
	int rc, ok;

	a->arrived_ms = ev_now_ms();
	if (cram_response_parse(msg, len, &user, &ulen, digest) < 0) {
		throttle_fail(&authd_acfg, a->ch.ip, NULL, a->arrived_ms);
		authd_refuse(a, AUTH_FAIL_SYNTAX, NULL, "malformed CRAM-MD5 response");
		return;
	}
	if (authd_name_refused(a, user, ulen))
		return;
	if (userdb_normalize(user, ulen, authd_acfg.default_domain, name, &why) < 0) {
		throttle_fail(&authd_acfg, a->ch.ip, NULL, a->arrived_ms);
		authd_refuse(a, AUTH_FAIL_CREDENTIALS, NULL, why);
		return;
	}
	if (authd_throttled(a, name))
		return;
	rc = userdb_lookup(authd_udb, name, &u, canon);
	if (rc < 0) {
		authd_refuse(a, AUTH_FAIL_TEMP, name, "user database error");
		return;
	}
	ok = rc == 1 && u.has_cram && cram_check(&u.cram, (const uint8_t *)a->cram,
	    strlen(a->cram), digest);
	if (!ok) {
		throttle_fail(&authd_acfg, a->ch.ip, name, a->arrived_ms);
		authd_refuse(a, AUTH_FAIL_CREDENTIALS, name, rc != 1 ? "unknown user" : !u.has_cram ?
		    "the user has no CRAM-MD5 secret (set the password again while auth_mechanisms "
		    "lists CRAM-MD5)" : "wrong password (CRAM-MD5 digest)");
	} else if (u.flags & USERDB_USER_DISABLED) {
		authd_refuse(a, AUTH_FAIL_DISABLED, name, userdb_verdict_str(USERDB_DISABLED));
	} else if (u.flags & userdb_service_bit(a->service)) {
		authd_refuse(a, AUTH_FAIL_DISABLED, name, "this service is switched off for the user "
		    "(posternctl user set --deny)");
	} else {
		explicit_bzero(a->cram, sizeof(a->cram));
		throttle_success(&authd_acfg, a->ch.ip, name, ev_now_ms());
		authd_grant(a, canon, &u);
	}
	explicit_bzero(&u, sizeof(u));
	explicit_bzero(digest, sizeof(digest));
}

/* One client line of a CRAM-MD5 exchange. */
void
mechs_cram_line(struct authsess *a, const uint8_t *line, size_t len)
{
	uint8_t dec[SASL_LINE_MAX];
	long n;

	if (len == 1 && line[0] == '*') {
		authd_refuse(a, AUTH_FAIL_ABORTED, NULL, "client aborted SASL exchange");
		return;
	}
	if (len > SASL_LINE_MAX || (n = util_base64_decode(line, len, dec, sizeof(dec))) < 0) {
		throttle_fail(&authd_acfg, a->ch.ip, NULL, ev_now_ms());
		authd_refuse(a, AUTH_FAIL_SYNTAX, NULL, "malformed SASL data");
		return;
	}
	cram_answer(a, dec, (size_t)n);
	explicit_bzero(dec, sizeof(dec));
}

