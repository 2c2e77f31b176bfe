/* authd.h - the authentication broker: the only process that can name the
 * user of a session. */
#ifndef POSTERN_AUTHD_H
#define POSTERN_AUTHD_H

#include <stdint.h>

#include "../../common/ipc/authdproto.h"
#include "../../common/ipc/broker.h"
#include "../../common/mail/db.h"
#include "../../common/proto/sasl.h"
#include "../../common/mail/userdb.h"

/* The phases of a worker channel: what it may send next. */
enum auth_phase {
	AUTH_IDLE = 1 << 0,	/* may start an attempt */
	AUTH_SASL = 1 << 1,	/* a challenge is out: only its response */
	AUTH_WAIT = 1 << 2,	/* a failure reply is pending: nothing */
	AUTH_DONE = 1 << 3,	/* logged in: nothing, the channel closes */
};

/* One worker channel. */
struct authsess {
	struct broker_chan ch;	/* first: fd, sid, ip, permissions */
	char service[AUTHD_SERVICE_SIZE];
	char mech[24];		/* for log lines: USER (USER/PASS) or the SASL name, quoted */
	unsigned failures;
	uint64_t arrived_ms;	/* when the request being decided came in */
	uint64_t timer;		/* pending delayed failure reply */
	uint32_t pending_code;
	char pending_text[96];
	struct sasl_server sasl;
	struct scram_sess *scram;	/* a SCRAM-SHA-256 exchange (authd.c), else NULL */
	char cram[48];			/* a CRAM-MD5 challenge is out: it, else "" */
	/* the chain of backends (backends.c): while it runs for a login, the
	 * normalised name, the password (wiped when decided), the next
	 * step, the request out to a helper and its deadline */
	char name[USERDB_NAME_MAX + 1];
	uint8_t pass[1024];
	size_t passlen;
	unsigned bk_pos;
	uint32_t bk_id;
	uint64_t bk_timer;
	const char *backend;		/* the helper that decided, for log lines; NULL: userdb */
};

/* throttle.c: whether an attempt gets a password check.  now is
 * ev_now_ms(); ip is the client's address text, user a normalised name. */
enum throttle_verdict {
	THROTTLE_OK,	/* check the password (one check taken from the cap) */
	THROTTLE_IP,	/* this address (IPv6: prefix) failed too often */
	THROTTLE_USER,	/* this user failed too often; the pair is not trusted */
	THROTTLE_RATE,	/* over auth_max_checks_per_second */
};
/* user NULL: the attempt has no usable name, only the address counts. */
enum throttle_verdict throttle_check(const struct authd_config *c, const char *ip,
    const char *user, uint64_t now);
/* Count a failed password check (user NULL: for the address only). */
void throttle_fail(const struct authd_config *c, const char *ip, const char *user, uint64_t now);
/* Trust (user, address) for auth_trusted_window after a login. */
void throttle_success(const struct authd_config *c, const char *ip, const char *user,
    uint64_t now);

/* posternctl throttle list: the live failure records as text lines into
 * out (at most room bytes; records at their limit first); count_r: how
 * many.  Returns the bytes used. */
size_t throttle_list(const struct authd_config *c, uint64_t now, char *out, size_t room,
    uint32_t *count_r);
/* posternctl throttle clear: forget the record of an address (its IPv6
 * prefix) or of a normalised user name.  Returns 1 if there was one. */
uint32_t throttle_clear_ip(const struct authd_config *c, const char *ip, uint64_t now);
uint32_t throttle_clear_user(const struct authd_config *c, const char *user, uint64_t now);
/* The counters page (common/ipc/counters.h), mapped by main.c; NULL:
 * not counting. */
extern uint64_t *authd_counters;

/* authd.c.  cfg: the snapshot, for the settings the master sends again
 * later (MSG_AUTHD_SASL_CONFIG).  dummy_hash: a hash of a random password made with the default
 * scheme and cost, checked instead of a missing or unusable one so that
 * every attempt costs the same (copied).  install_secret: 32 bytes kept
 * across restarts, from which SCRAM answers for unknown users are made
 * (the same every time, as a real user's are). */
void authd_init(struct db *userdb, int master_fd, const char *dummy_hash,
    const struct config *cfg, const uint8_t install_secret[32]);
void authd_serve_master(int fd);

/* authd.c, for mechs.c: the state and the steps every mechanism ends in
 * (authd_refuse: logged, counted, after auth_fail_delay_ms; authd_grant:
 * the login named to the master). */
extern struct db *authd_udb;
extern struct authd_config authd_acfg;
extern struct authd_sasl_config authd_scfg;
extern uint8_t authd_install_key[32];
extern struct ipc_out authd_out;
void authd_reply(struct authsess *a);
void authd_refuse(struct authsess *a, uint32_t code, const char *user, const char *reason);
int authd_throttled(struct authsess *a, const char *name);	/* 1: refused */
int authd_name_refused(struct authsess *a, const uint8_t *user, size_t ulen);	/* 1: refused */
void authd_grant(struct authsess *a, const char *canon, const struct userdb_user *u);

/* authd.c, for backends.c: the chain's steps.  authd_userdb_step: 1 if
 * the user db decided (a->name found, or an error), 0 if not found;
 * authd_verdict: the decision on a found user (userdb: from the user db,
 * which may rehash; verified: the backend checked the password);
 * authd_unknown: no backend has the name; authd_forget: wipe the
 * attempt's password.  authd_user_mailroot: the mail root of canon (0, or
 * -1 with why); authd_lookup_answer: a lookup's result to the master. */
int authd_userdb_step(struct authsess *a);
void authd_verdict(struct authsess *a, const char *canon, struct userdb_user *u, int userdb,
    int verified);
void authd_unknown(struct authsess *a);
void authd_forget(struct authsess *a);
int authd_user_mailroot(const char *canon, const struct userdb_user *u, char out[CONFIG_PATH_MAX],
    const char **why_r);
void authd_lookup_answer(const struct authd_lookup_result *r);
/* After a decision made on a backend's answer: the session goes if its
 * reply could not be queued or it logged in (as after a request). */
void authd_replied(struct authsess *a);

/* backends.c: the chain (auth_backends) from authd's snapshot, and the
 * helpers' channels.  backends_login runs a login's chain from a->bk_pos
 * (the user db in authd, pgsql and checkpw in their helpers, each at most
 * auth_backend_timeout_ms); backends_lookup asks the helpers about a
 * recipient the user db does not know (status: the user db's answer,
 * kept if no helper knows it either); 1 if the answer comes later, 0 if
 * there is nothing to ask (the caller answers).  backends_cancel: the
 * session is going, forget its request.  backends_channel: the master's
 * MSG_AUTHD_BACKEND. */
void backends_init(const struct config *cfg);
void backends_login(struct authsess *a);
int backends_lookup(const struct authd_lookup *q, uint32_t status);
void backends_cancel(struct authsess *a);
int backends_channel(void *ctx, struct ipc_in *in);

/* mechs.c.  A SCRAM-SHA-256 or CRAM-MD5 exchange, started with the
 * initial response (NULL: none) and fed the client's lines while
 * a->scram (SCRAM) or a->cram[0] (CRAM-MD5) says one runs; scram_end
 * wipes and frees SCRAM's state (any time, also with none). */
void mechs_scram_start(struct authsess *a, const uint8_t *ir, size_t irlen);
void mechs_scram_line(struct authsess *a, const uint8_t *line, size_t len);
void mechs_scram_end(struct authsess *a);
void mechs_cram_start(struct authsess *a, int has_ir);
void mechs_cram_line(struct authsess *a, const uint8_t *line, size_t len);

#endif
