/* counters.h - the counters pages of the brokers, and the metrics
 * snapshot the master hands to the metrics worker.
 *
 * A counters page is an array of u64 at fixed indices (the enums below,
 * no strings, no lengths): the master creates one memfd of COUNTERS_SIZE
 * bytes per broker process, seals its size (F_SEAL_GROW|F_SEAL_SHRINK|
 * F_SEAL_SEAL: the broker can neither shrink it under the master's mapping
 * nor grow it), passes it as the broker's SLOT_COUNTERS fd and maps it
 * PROT_READ.  The broker maps it MAP_SHARED read-write and only ever adds
 * to its own entries; the master reads them as plain, untrusted integers
 * (docs/METRICS.md, docs/ARCHITECTURE.md): a compromised broker can make
 * only its own numbers wrong.  Exactly one process writes a page: a
 * replacement keyd (SIGHUP) gets a page of its own, and the master adds a
 * page's numbers to its running totals when its broker exits.
 */
#ifndef POSTERN_COUNTERS_H
#define POSTERN_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "authdproto.h"
#include "../../policy/services.h"

#define COUNTERS_WORDS	1024
#define COUNTERS_SIZE	(COUNTERS_WORDS * sizeof(uint64_t))
#define COUNTERS_FD	4	/* authd, keyd: the page (policy slot SLOT_COUNTERS) */

/* authd: logins by service row, mechanism and result (0 = ok, else the
 * AUTH_FAIL_* code), then the throttle's refusals by kind. */
enum counters_mech {
	COUNTERS_MECH_USER,	/* POP3 USER/PASS, IMAP LOGIN */
	COUNTERS_MECH_PLAIN,
	COUNTERS_MECH_LOGIN,
	COUNTERS_MECH_OTHER,	/* anything else a client named */
	COUNTERS_MECH_COUNT
};
#define COUNTERS_RESULT_COUNT	(AUTH_FAIL_MAX + 1)

enum counters_throttle {
	COUNTERS_THROTTLE_IP,	/* too many failures from the address */
	COUNTERS_THROTTLE_USER,	/* ... for the user */
	COUNTERS_THROTTLE_RATE,	/* over auth_max_checks_per_second */
	COUNTERS_THROTTLE_COUNT
};

#define COUNTERS_AUTHD_LOGINS	0
#define COUNTERS_AUTHD_THROTTLE	(COUNTERS_AUTHD_LOGINS + \
	SERVICE_COUNT * COUNTERS_MECH_COUNT * COUNTERS_RESULT_COUNT)
#define COUNTERS_AUTHD_END	(COUNTERS_AUTHD_THROTTLE + COUNTERS_THROTTLE_COUNT)

/* keyd: private-key operations by key type and kind, refusals by reason. */
enum counters_key_type {
	COUNTERS_KEY_RSA,
	COUNTERS_KEY_EC,
	COUNTERS_KEY_COUNT
};
enum counters_key_op {
	COUNTERS_OP_SIGN,	/* an ECDHE ServerKeyExchange signature */
	COUNTERS_OP_KEYX,	/* an RSA key exchange decryption */
	COUNTERS_OP_COUNT
};
enum counters_keyd_refusal {
	COUNTERS_REFUSED_UNKNOWN_KEY,
	COUNTERS_REFUSED_ALGORITHM,
	COUNTERS_REFUSED_NOT_SKE,
	COUNTERS_REFUSED_SIGN_FAILED,
	COUNTERS_REFUSED_KEYX_OFF,
	COUNTERS_REFUSED_SECOND_OP,
	COUNTERS_REFUSED_COUNT
};

#define COUNTERS_KEYD_OPS	0
#define COUNTERS_KEYD_REFUSED	(COUNTERS_KEYD_OPS + COUNTERS_KEY_COUNT * COUNTERS_OP_COUNT)
#define COUNTERS_KEYD_END	(COUNTERS_KEYD_REFUSED + COUNTERS_REFUSED_COUNT)

_Static_assert(COUNTERS_AUTHD_END <= COUNTERS_WORDS, "authd's counters fit the page");
_Static_assert(COUNTERS_KEYD_END <= COUNTERS_WORDS, "keyd's counters fit the page");

/* The label values of the indices above (docs/METRICS.md). */
extern const char *const counters_mech_names[COUNTERS_MECH_COUNT];
extern const char *const counters_result_names[COUNTERS_RESULT_COUNT];
extern const char *const counters_throttle_names[COUNTERS_THROTTLE_COUNT];
extern const char *const counters_key_names[COUNTERS_KEY_COUNT];
extern const char *const counters_op_names[COUNTERS_OP_COUNT];
extern const char *const counters_refusal_names[COUNTERS_REFUSED_COUNT];

/* The mechanism a client named, as one of the fixed set. */
enum counters_mech counters_mech(const char *mech);

/* The index of a login of service (its row's name; -1 for a name that is
 * no row), mech and result (0 or an AUTH_FAIL_* code). */
long counters_login_index(const char *service, enum counters_mech mech, uint32_t result);

/* A broker maps its page (fd: COUNTERS_FD) read-write; the fd is closed
 * either way.  NULL (counting off, logged) when the fd is missing or not a
 * page. */
uint64_t *counters_map(int fd);

/* Add 1 to page[idx]; nothing for a NULL page or an index out of range. */
void counters_inc(uint64_t *page, long idx);

/* The metrics snapshot (daemons/master/metrics.c -> daemons/metricsd): a
 * sealed memfd holding this header and then the three bodies back to
 * back: the Prometheus text format, the OpenMetrics text format, and the
 * /healthz answer's text.  The worker checks every length against the
 * memfd's size before it uses one. */
#define METRICS_SNAPSHOT_MAGIC	0x31534d50u	/* "PMS1" */
#define METRICS_SNAPSHOT_FD	4		/* metricsd: policy slot SLOT_SNAPSHOT */

struct metrics_snapshot_hdr {
	uint32_t magic;
	uint32_t health_status;		/* 200 or 503 */
	uint64_t text_len;
	uint64_t openmetrics_len;
	uint64_t health_len;
};

#endif
