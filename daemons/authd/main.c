/* postern-authd: opens the user database, enters its sandbox (own uid, empty
 * root, no network, seccomp) and serves the master and worker channels. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../common/base/config.h"
#include "../../common/base/daemon.h"
#include "../../common/base/ev.h"
#include "../../common/base/log.h"
#include "../../common/base/util.h"
#include "../../common/ipc/counters.h"
#include "../../common/ipc/proto.h"
#include "../../policy/policy.h"
#include "authd.h"

/* authd only reads users and passwords, so the environment is opened
 * MDB_RDONLY: the data file is read-only and no write path exists (the
 * reader table in lock.mdb stays writable, as LMDB readers need).  A
 * database that does not exist yet, or lacks a sub-database (first start
 * before `posternctl user add`), is created once, closed and reopened
 * read-only, all before the sandbox. */
static struct db *
open_userdb(const struct config *cfg)
{
	struct db *db;
	char err[512];

	if (userdb_open(&db, cfg->userdb_path, cfg->userdb_map_size, 1, err, sizeof(err)) == 0)
		return db;
	if (userdb_open(&db, cfg->userdb_path, cfg->userdb_map_size, 0, err, sizeof(err)) < 0)
		fatal("reason=\"cannot open user database: %s\"", err);
	db_close(db);
	if (userdb_open(&db, cfg->userdb_path, cfg->userdb_map_size, 1, err, sizeof(err)) < 0)
		fatal("reason=\"cannot open user database read-only: %s\"", err);
	return db;
}

/* The install secret (docs/AUTH.md#scram-sha-256): 32 random bytes in
 * state_dir, made at the first start, read as root before the sandbox.  If
 * it cannot be kept, a random one serves this run (and is said). */
static void
install_secret(const struct config *cfg, uint8_t out[32])
{
	char path[CONFIG_PATH_MAX + 32];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "%s/authd.secret", cfg->state_dir);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, out, 32);
		close(fd);
		if (n == 32)
			return;
	}
	util_random(out, 32);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, out, 32) != 32 || fsync(fd) < 0)
		log_event(LOG_LEVEL_WARN, "install_secret", "path=%s reason=\"cannot keep it: SCRAM "
		    "answers for unknown users change at each start\" errno=%d", path, errno);
	if (fd >= 0)
		close(fd);
}

int
main(int argc, char **argv)
{
	static const struct daemon_args args = { .name = "authd", .opts = "", .usage = "" };
	struct sandbox_spec spec;
	struct config cfg;
	struct db *db;
	char dummy[USERDB_HASH_MAX + 1];
	uint8_t secret[32];

	daemon_boot(&args, argc, argv, &cfg);
	db = open_userdb(&cfg);
	/* once, with the scheme and cost of `posternctl user add`: checking an
	 * unknown user against it costs what checking a real one does */
	if (userdb_make_dummy_hash(dummy) < 0)
		fatal("reason=\"cannot make the dummy password hash\"");

	install_secret(&cfg, secret);

	authd_counters = counters_map(COUNTERS_FD);
	policy_spec(POLICY_AUTHD, &cfg, &spec);
	sandbox_confine(&spec);
	sandbox_lock(&spec);

	backends_init(&cfg);
	authd_init(db, FD_PARENT, dummy, &cfg, secret);
	explicit_bzero(secret, sizeof(secret));
	authd_serve_master(FD_PARENT);
	log_event(LOG_LEVEL_INFO, "ready", "userdb=%s", cfg.userdb_path);
	ev_run();
	return 0;
}
