/* check.c - config check: what the master and keyd will refuse, found
 * before they start.  Listen addresses are checked as the master binds
 * them (policy/services.c), certificate/key pairs are loaded by keyd's own
 * code (daemons/keyd/certs.c) and checked for expiry. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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

/* A directory the master or a broker trusts, as they check it at start:
 * not writable by group or others (its owner is printed: root, or the
 * master's own uid when a unit runs it as a user).  A missing one is fine when
 * the master creates it (state_dir, empty_root) and an error otherwise.
 * Returns the number of errors (0 or 1). */
static int
check_dir(const char *key, const char *path, int created, int must_be_empty)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int extra = 0;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT && created) {
			printf("%s %s: missing, the master creates it\n", key, path);
			return 0;
		}
		fprintf(stderr, "posternctl: %s: %s %s: %s\n", cfgpath, key, path, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "posternctl: %s: %s %s: not a directory\n", cfgpath, key, path);
		return 1;
	}
	if ((st.st_mode & 022) != 0) {
		fprintf(stderr, "posternctl: %s: %s %s: mode %04o (uid %u): it must not be writable "
		    "by group or others\n", cfgpath, key, path, (unsigned)(st.st_mode & 07777),
		    (unsigned)st.st_uid);
		return 1;
	}
	if (must_be_empty && (d = opendir(path)) != NULL) {
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
				extra++;
		closedir(d);
		if (extra > 0) {
			fprintf(stderr, "posternctl: %s: %s %s: not empty (%d entries): every "
			    "confined process sees it as its root\n", cfgpath, key, path, extra);
			return 1;
		}
	}
	printf("%s %s: ok (uid %u, mode %04o)\n", key, path, (unsigned)st.st_uid,
	    (unsigned)(st.st_mode & 07777));
	return 0;
}

/* The directory part of path ("/" for "/x"). */
static void
parent_of(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash == NULL ? 0 : slash == path ? 1 : (size_t)(slash - path);

	snprintf(out, len, "%.*s", (int)n, path);
}

/* state_dir, empty_root, the user db's directory, and the directory of
 * each unix socket the master binds by name (the control socket, unix
 * listeners): what the master refuses at start. */
static int
check_dirs(void)
{
	char dir[CONFIG_PATH_MAX], list[CONFIG_PATH_MAX], *save = NULL, *tok;
	int errors = 0;
	size_t k;

	errors += check_dir("state_dir", cfg.state_dir, 1, 0);
	errors += check_dir("empty_root", cfg.empty_root, 1, 1);
	/* the user db (an LMDB directory) is made at first use */
	errors += check_dir("userdb", cfg.userdb_path, 1, 0);
	if (config_control_path(&cfg, list, sizeof(list)) > 0) {
		parent_of(list, dir, sizeof(dir));
		errors += check_dir("control_socket's directory", dir, strcmp(dir, cfg.state_dir) == 0,
		    0);
	}
	for (k = 0; k < SERVICE_COUNT; k++) {
		const struct service *svc = &service_table[k];
		if (svc->listen_off == SERVICE_NO_KEY || !svc->enabled)
			continue;
		snprintf(list, sizeof(list), "%s", service_listen(svc, &cfg));
		for (tok = strtok_r(list, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
			char key[64];
			if (tok[0] != '/')
				continue;
			parent_of(tok, dir, sizeof(dir));
			snprintf(key, sizeof(key), "%s_listen's directory", svc->name);
			errors += check_dir(key, dir, 0, 0);
		}
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
	if (check_dirs() + check_certs() > 0)
		return 1;
	if (strcmp(cfgpath, CONFIG_NONE) == 0)
		printf("defaults and POSTERN_* environment: ok\n");
	else
		printf("%s: ok\n", cfgpath);
	return 0;
}
