/* ctl.h - what the files of posternctl share: the loaded config, the
 * command table's types, and the helpers every command uses.
 *
 * main.c   users, domains, aliases, auth test, deliver, config dump, policy
 * cli.c    the command table, option parsing, usage and help, main flow
 * users.c  user set (one LMDB transaction per change)
 * backup.c backup and restore of the user db
 * import.c user import (Courier userdb, Dovecot passwd-file, CSV)
 * check.c  config check (listen addresses, certificates as keyd loads them)
 * control.c reload, status, who, kick, throttle, stop, health (control socket) */
#ifndef POSTERNCTL_CTL_H
#define POSTERNCTL_CTL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "../../common/base/config.h"
#include "../../common/mail/db.h"
#include "../../common/mail/userdb.h"

/* Loaded by cli_run() before a command runs (file or none, then env). */
extern struct config cfg;
/* The -c value, $POSTERN_CONFIG, or /etc/postern/postern.conf. */
extern const char *cfgpath;
/* Set when the file was missing and a reading command fell back to the
 * defaults: then nothing may be created (open_db opens read-only). */
extern int cfg_fell_back;

/* A command's operands (options removed) and the options it was given. */
struct ctl_args {
	int argc;
	char **argv;
	const char *pass, *scheme, *uid, *gid, *mailroot, *quota;
	int disable, enable;
	int flag_n;		/* -n: config dump only changes; user import dry run */
	int update, allow_weak;	/* user import --update, --allow-weak */
	const char *drain;	/* stop --drain SECONDS */
	const char *rename;	/* user set --rename NEWNAME */
	const char *deny, *allow;	/* user set --deny/--allow SERVICES */
};

#define CTL_STRICT	0x01	/* a missing config file is fatal (the command writes) */
#define CTL_NOCONFIG	0x02	/* needs no config at all */

/* One row of the command table (cli.c). */
struct ctl_cmd {
	const char *words;	/* "user add" */
	const char *operands;	/* usage after the words */
	const char *help;	/* one line */
	const char *opts;	/* getopt short options it takes ("p:s:") */
	const char *longonly;	/* values of long-only options it takes ("DE") */
	int min_args, max_args;
	unsigned flags;
	int (*run)(const struct ctl_args *a);
};

/* "posternctl: " + the message + a newline on stderr. */
void ctl_verror(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* "posternctl: MESSAGE" on stderr, exit 1. */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* The usage of the command being run (all commands before one is known)
 * on stderr, exit 2. */
void usage(void) __attribute__((noreturn));

/* "posternctl: MESSAGE" then usage(). */
void usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Run posternctl: global options, the command, its options; 0/1/2. */
int cli_run(int argc, char **argv);

/* The user database of cfg; dies on failure.  !readonly creates it. */
struct db *open_db(int readonly);

/* userdb_normalize() with cfg's default domain; dies with the reason. */
void normalize(const char *in, char out[USERDB_NAME_MAX + 1]);
/* A name for a new user (user add, user set --rename, user import):
 * auth_username_chars and auth_username_max as authd applies them to a
 * login (a user it would refuse could never log in).  NULL if it passes,
 * else why not. */
const char *new_name_refused(const char *in);
/* normalize() of a new name: dies if new_name_refused(). */
void normalize_new(const char *in, char out[USERDB_NAME_MAX + 1]);

/* A uid or gid operand (1 .. 2^32-2); dies naming what on a bad one. */
uint32_t parse_id(const char *s, const char *what);

/* A mail root operand: canonical absolute (config_path_canonical), fits;
 * dies otherwise. */
void parse_mailroot(const char *s, char out[USERDB_PATH_MAX + 1]);

/* The record of a normalised name into u: 1 found, 0 not; dies on a
 * database error or a corrupt record. */
int get_user(struct db *db, const char *name, struct userdb_user *u);

/* The commands (each returns the exit status). */
int cmd_user_add(const struct ctl_args *a);
int cmd_user_del(const struct ctl_args *a);
int cmd_user_passwd(const struct ctl_args *a);
int cmd_user_set(const struct ctl_args *a);
int cmd_user_import(const struct ctl_args *a);
int cmd_user_list(const struct ctl_args *a);
int cmd_user_show(const struct ctl_args *a);
int cmd_user_disable(const struct ctl_args *a);
int cmd_user_enable(const struct ctl_args *a);
int cmd_domain_add(const struct ctl_args *a);
int cmd_domain_del(const struct ctl_args *a);
int cmd_domain_list(const struct ctl_args *a);
int cmd_alias_add(const struct ctl_args *a);
int cmd_alias_del(const struct ctl_args *a);
int cmd_alias_list(const struct ctl_args *a);
int cmd_auth_test(const struct ctl_args *a);
int cmd_deliver_args(const struct ctl_args *a);
int cmd_index_rebuild(const struct ctl_args *a);
int cmd_quota_get(const struct ctl_args *a);
int cmd_quota_recalc(const struct ctl_args *a);
int cmd_quota_set(const struct ctl_args *a);
int cmd_config_check(const struct ctl_args *a);
int cmd_config_dump(const struct ctl_args *a);
int cmd_policy(const struct ctl_args *a);
int cmd_services(const struct ctl_args *a);
int cmd_backup(const struct ctl_args *a);
/* control.c: the running master, over its control socket */
int cmd_reload(const struct ctl_args *a);
int cmd_status(const struct ctl_args *a);
int cmd_who(const struct ctl_args *a);
int cmd_kick(const struct ctl_args *a);
int cmd_throttle_list(const struct ctl_args *a);
int cmd_throttle_clear(const struct ctl_args *a);
int cmd_stop(const struct ctl_args *a);
int cmd_health(const struct ctl_args *a);
int cmd_restore(const struct ctl_args *a);

#endif
