/* postern-authd: opens the user database, enters its sandbox (own uid, empty
 * root, no network, seccomp) and serves the master and worker channels. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../common/base/config.h"
#include "../../common/base/daemon.h"
#include "../../common/base/ev.h"
#include "../../common/base/log.h"
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

int
main(int argc, char **argv)
{
	static const struct daemon_args args = { .name = "authd", .opts = "", .usage = "" };
	struct sandbox_spec spec;
	struct config cfg;
	struct db *db;
	char dummy[USERDB_HASH_MAX + 1];

	daemon_boot(&args, argc, argv, &cfg);
	db = open_userdb(&cfg);
	/* once, with the scheme and cost of `posternctl user add`: checking an
	 * unknown user against it costs what checking a real one does */
	if (userdb_make_dummy_hash(dummy) < 0)
		fatal("reason=\"cannot make the dummy password hash\"");

	authd_counters = counters_map(COUNTERS_FD);
	policy_spec(POLICY_AUTHD, &cfg, &spec);
	sandbox_confine(&spec);
	sandbox_lock(&spec);

	authd_init(db, FD_PARENT, dummy, &cfg);
	authd_serve_master(FD_PARENT);
	log_event(LOG_LEVEL_INFO, "ready", "userdb=%s", cfg.userdb_path);
	ev_run();
	return 0;
}
