/* keyd.h - the only process that holds TLS private keys. */
#ifndef POSTERN_KEYD_H
#define POSTERN_KEYD_H

#include <bearssl.h>
#include <stddef.h>
#include <stdint.h>

#include "../../common/base/config.h"
#include "../../common/net/x509.h"

#define KEYD_MAX_KEYS	64
#define KEYD_MAX_CHAIN	8

struct keyd_key {
	int type;			/* BR_KEYTYPE_RSA or BR_KEYTYPE_EC */
	int curve;			/* EC curve id */
	br_skey_decoder_context *sk;	/* owns the private key material */
	br_x509_certificate chain[KEYD_MAX_CHAIN];
	size_t nchain;
	struct x509_names names;
	char source[CONFIG_PATH_MAX];	/* for log lines */
	char what[16];			/* the config key it came from */
	int64_t not_after;		/* the leaf's end of validity, Unix seconds */
};

struct keyd_keys {
	struct keyd_key k[KEYD_MAX_KEYS];
	size_t n;
};

/* certs.c: read every configured certificate and key (or make the
 * self-signed one) and check each key matches its certificate.  Returns
 * 0, or -1 with a reason in err (the caller logs it and exits: the master
 * keeps the previous keyd). */
int keyd_load(const struct config *cfg, struct keyd_keys *keys, char *err, size_t errlen);

/* certs.c, for posternctl config check: load what the config names as
 * keyd_load() does (same checks, same messages naming the config key and
 * the path), but make no self-signed certificate and log nothing; keys->n
 * is 0 when none is configured.  Returns 0 or -1 with a reason in err. */
int keyd_check(const struct config *cfg, struct keyd_keys *keys, char *err, size_t errlen);

/* Where k stands at time now: -1 expired, 1 expiring in under warn_days
 * days, 0 fine; *days_r the whole days left (negative once expired). */
int keyd_expiry(const struct keyd_key *k, int64_t now, uint64_t warn_days, int64_t *days_r);

/* t (Unix seconds) as ISO 8601 UTC, "2027-03-01T12:00:00Z". */
#define KEYD_TIME_ISO_LEN 32
void keyd_time_iso(int64_t t, char out[KEYD_TIME_ISO_LEN]);

/* keyd.c: allocate the session cache (tls_session_cache entries) and
 * its hash key, before the sandbox (getrandom is not in keyd's filter).
 * Returns 0 or -1. */
int keyd_cache_init(const struct config *cfg);

/* keyd.c: serve the master channel and worker channels. */
void keyd_serve(struct keyd_keys *keys, const struct config *cfg, int master_fd);

/* The counters page (common/ipc/counters.h), mapped by main.c; NULL: not
 * counting. */
extern uint64_t *keyd_counters;

#endif
