/* check.c - config check: what the master and keyd will refuse, found
 * before they start.  Listen addresses are checked as the master binds
 * them (policy/services.c), certificate/key pairs are loaded by keyd's own
 * code (daemons/keyd/certs.c) and checked for expiry. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../daemons/keyd/keyd.h"
#include "../../policy/services.h"
#include "ctl.h"

/* The pairs as keyd loads them; one line for each, a warning for a
 * certificate that ends within tls_cert_warn_days.  Returns the number of
 * errors. */
static int
check_certs(void)
{
	static struct keyd_keys keys;	/* 600 KB: not on the stack */
	char err[CONFIG_PATH_MAX + 256], when[KEYD_TIME_ISO_LEN];
	int errors = 0;
	size_t i;

	if (keyd_check(&cfg, &keys, err, sizeof(err)) < 0) {
		fprintf(stderr, "posternctl: %s: %s\n", cfgpath, err);
		return 1;
	}
	if (keys.n == 0)
		printf("tls: no tls_cert_file or tls_sni_dir: keyd serves a self-signed certificate "
		    "from %s/tls/\n", cfg.state_dir);
	for (i = 0; i < keys.n; i++) {
		const struct keyd_key *k = &keys.k[i];
		int64_t days;
		int st = keyd_expiry(k, (int64_t)time(NULL), cfg.tls_cert_warn_days, &days);

		keyd_time_iso(k->not_after, when);
		if (st < 0) {
			fprintf(stderr, "posternctl: %s: %s %s: certificate expired on %s\n", cfgpath,
			    k->what, k->source, when);
			errors++;
			continue;
		}
		if (st > 0)
			fprintf(stderr, "posternctl: warning: %s %s: certificate expires in %lld days "
			    "(%s; tls_cert_warn_days = %llu)\n", k->what, k->source, (long long)days,
			    when, (unsigned long long)cfg.tls_cert_warn_days);
		printf("%s %s: %s key matches, %s, not after %s\n", k->what, k->source,
		    k->type == BR_KEYTYPE_EC ? "ecdsa" : "rsa", k->names.n ? k->names.name[0] : "-",
		    when);
	}
	return errors;
}

int
cmd_config_check(const struct ctl_args *a)
{
	char err[512];

	(void)a;
	if (service_check_listen(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "posternctl: %s: %s\n", cfgpath, err);
		return 1;
	}
	if (check_certs() > 0)
		return 1;
	if (strcmp(cfgpath, CONFIG_NONE) == 0)
		printf("defaults and POSTERN_* environment: ok\n");
	else
		printf("%s: ok\n", cfgpath);
	return 0;
}
