/* postern-keyd: reads the certificates and private keys (or makes the
 * self-signed one), checks them, enters its sandbox (own uid, empty root,
 * no network, no files, seccomp) and answers workers' key operations.
 * If loading fails it exits non-zero and the master keeps the previous
 * keyd (a broken certificate at SIGHUP never stops TLS). */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "../../common/base/log.h"
#include "../../common/base/version.h"
#include "../../common/ipc/proto.h"
#include "../../policy/policy.h"
#include "keyd.h"

static struct keyd_keys keys;

int
main(int argc, char **argv)
{
	const char *cfgpath = "/etc/postern/postern.conf";
	struct sandbox_spec spec;
	struct config cfg;
	char err[512];
	int opt;

	log_init("keyd");
	while ((opt = getopt(argc, argv, "c:hV")) != -1) {
		if (opt == 'c')
			cfgpath = optarg;
		else if (opt == 'h' || opt == 'V')
			version_or_help("postern-keyd", opt);
		else
			fatal("reason=\"usage: postern-keyd -c config\"");
	}
	if (config_load(&cfg, cfgpath, err, sizeof(err)) < 0)
		fatal("reason=\"%s\"", err);
	config_close_passed(cfgpath);
	signal(SIGPIPE, SIG_IGN);
	if (keyd_load(&cfg, &keys, err, sizeof(err)) < 0) {
		log_event(LOG_LEVEL_ERR, "tls_load_failed", "reason=\"%s\"", err);
		return 2;
	}
	policy_spec(POLICY_KEYD, &cfg, &spec);
	sandbox_confine(&spec);
	sandbox_lock(&spec);
	log_event(LOG_LEVEL_INFO, "ready", "keys=%zu", keys.n);
	keyd_serve(&keys, &cfg, FD_PARENT);
	return 0;
}
