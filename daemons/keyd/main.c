/* postern-keyd: reads the certificates and private keys (or makes the
 * self-signed one), checks them, enters its sandbox (own uid, empty root,
 * no network, no files, seccomp) and answers workers' key operations.
 * If loading fails it exits non-zero and the master keeps the previous
 * keyd (a broken certificate at SIGHUP never stops TLS). */
#include <stdio.h>

#include "../../common/base/daemon.h"
#include "../../common/base/log.h"
#include "../../common/net/p256.h"
#include "../../common/ipc/counters.h"
#include "../../common/ipc/proto.h"
#include "../../policy/policy.h"
#include "keyd.h"

static struct keyd_keys keys;

int
main(int argc, char **argv)
{
	static const struct daemon_args args = { .name = "keyd", .opts = "", .usage = "" };
	struct sandbox_spec spec;
	struct config cfg;
	char err[512];

	daemon_boot(&args, argc, argv, &cfg);
	if (keyd_load(&cfg, &keys, err, sizeof(err)) < 0) {
		log_event(LOG_LEVEL_ERR, "tls_load_failed", "reason=\"%s\"", err);
		return 2;
	}
	keyd_counters = counters_map(COUNTERS_FD);
	if (keyd_cache_init(&cfg) < 0) {
		log_event(LOG_LEVEL_ERR, "tls_load_failed", "reason=\"cannot set up the session cache\"");
		return 2;
	}
	policy_spec(POLICY_KEYD, &cfg, &spec);
	sandbox_confine(&spec);
	sandbox_lock(&spec);
	for (size_t i = 0; i < keys.n; i++)
		if (keys.k[i].type == BR_KEYTYPE_EC && keys.k[i].curve == BR_EC_secp256r1)
			p256_init();	/* the signing table, before the first handshake waits for it */
	log_event(LOG_LEVEL_INFO, "ready", "keys=%zu", keys.n);
	keyd_serve(&keys, &cfg, FD_PARENT);
	return 0;
}
