/* posternctl - the admin command: users, domains, aliases, `auth test`,
 * local delivery for seeding, the process table, config checks.
 * Run as root (or the owner of the user database). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "../../common/config.h"
#include "../../common/db.h"
#include "../../common/maildir.h"
#include "../../common/mailroot.h"
#include "../../common/userdb.h"
#include "../../common/util.h"
#include "../../policy/policy.h"
#include "../../policy/services.h"

/* As before the stream: posternctl deliver took at most 1 GiB from stdin. */
#define POSTERNCTL_DELIVER_MAX (1ULL << 30)

static struct config cfg;
static const char *cfgpath = "/etc/postern/postern.conf";

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("posternctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void __attribute__((noreturn))
usage(void)
{
	fputs("usage: posternctl [-c config] COMMAND ...\n"
	    "  user add USER [-p PASSWORD] [-s yescrypt|sha512|bcrypt] [-u UID -g GID] [-m MAILROOT] [-q QUOTA]\n"
	    "  user del USER | user passwd USER [-p PASSWORD] | user list | user show USER\n"
	    "  user disable USER | user enable USER\n"
	    "  domain add DOMAIN | domain del DOMAIN | domain list\n"
	    "  alias add ADDRESS USER | alias del ADDRESS | alias list\n"
	    "  auth test USER [-p PASSWORD]   say whether and why a login would fail\n"
	    "  deliver USER < message         deliver into USER's INBOX (as the user's uid)\n"
	    "  config check | config dump | policy | services\n"
	    "Without -p, passwords are read from the first line of standard input.\n", stderr);
	exit(2);
}

static struct db *
open_db(int readonly)
{
	struct db *db;
	char err[512];

	if (!readonly && mkdir(cfg.state_dir, 0755) < 0 && errno != EEXIST)
		die("%s: %s", cfg.state_dir, strerror(errno));
	(void)readonly;	/* LMDB readers and the writer coexist; rw creates a missing db */
	if (userdb_open(&db, cfg.userdb_path, cfg.userdb_map_size, 0, err, sizeof(err)) < 0)
		die("cannot open user database: %s", err);
	return db;
}

static void
normalize(const char *in, char out[USERDB_NAME_MAX + 1])
{
	const char *why;

	if (userdb_normalize((const uint8_t *)in, strlen(in), cfg.default_domain, out, &why) < 0)
		die("'%s': %s", in, why);
}

/* -p PASSWORD, or one line from stdin (no echo on a terminal). */
static void
read_password(const char *given, char *out, size_t outlen)
{
	struct termios t, saved;
	int tty = isatty(STDIN_FILENO);
	size_t l;

	if (given != NULL) {
		if (strlen(given) >= outlen)
			die("password too long");
		snprintf(out, outlen, "%s", given);
		return;
	}
	if (tty) {
		fputs("Password: ", stderr);
		tcgetattr(STDIN_FILENO, &saved);
		t = saved;
		t.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
	}
	if (fgets(out, (int)outlen, stdin) == NULL)
		out[0] = '\0';
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	l = strcspn(out, "\r\n");
	out[l] = '\0';
	if (out[0] == '\0')
		die("empty password");
}

static const char *
scheme_prefix(const char *s)
{
	if (s == NULL || !strcmp(s, "yescrypt"))
		return "$y$";
	if (!strcmp(s, "sha512"))
		return "$6$";
	if (!strcmp(s, "bcrypt"))
		return "$2b$";
	die("unknown scheme '%s' (yescrypt, sha512, bcrypt)", s);
}

static void
put_user(struct db *db, const char *name, const struct userdb_user *u, int create)
{
	uint8_t rec[1024];
	long n = userdb_user_encode(u, rec, sizeof(rec));

	if (n < 0)
		die("record too large");
	if (db_put(db, USERDB_DBI_USERS, name, strlen(name), rec, (size_t)n, create) < 0)
		die(errno == EEXIST ? "user %s exists" : "cannot store %s: %s", name, db_strerror(db));
}

static int
get_user(struct db *db, const char *name, struct userdb_user *u)
{
	struct buf b;
	int rc;

	buf_init(&b, 4096);
	rc = db_get(db, USERDB_DBI_USERS, name, strlen(name), &b);
	if (rc < 0)
		die("database error: %s", db_strerror(db));
	if (rc == 1 && userdb_user_decode(u, b.data, b.len) < 0)
		die("record of %s is corrupt", name);
	buf_free(&b, 1);
	return rc;
}

static void
domain_must_exist(struct db *db, const char *name)
{
	const char *dom = strchr(name, '@') + 1;
	struct buf b;

	buf_init(&b, 64);
	if (db_get(db, USERDB_DBI_DOMAINS, dom, strlen(dom), &b) != 1)
		die("domain %s is not configured (posternctl domain add %s)", dom, dom);
	buf_free(&b, 0);
}

static int
cmd_user_add(struct db *db, int argc, char **argv)
{
	const char *pw = NULL, *scheme = NULL;
	char name[USERDB_NAME_MAX + 1], pass[1024];
	struct userdb_user u;
	uint64_t v;
	int opt;

	if (argc < 2)
		usage();
	normalize(argv[1], name);
	memset(&u, 0, sizeof(u));
	optind = 2;
	while ((opt = getopt(argc, argv, "p:s:u:g:m:q:")) != -1) {
		switch (opt) {
		case 'p': pw = optarg; break;
		case 's': scheme = optarg; break;
		case 'u': if (util_str_to_u64(optarg, 0xfffffffe, &v) < 0 || v == 0) die("bad uid"); u.uid = (uint32_t)v; break;
		case 'g': if (util_str_to_u64(optarg, 0xfffffffe, &v) < 0 || v == 0) die("bad gid"); u.gid = (uint32_t)v; break;
		case 'm': if (!config_path_canonical(optarg) || strlen(optarg) > USERDB_PATH_MAX)
				die("mail root must be an absolute path without '.', '..', '//' or a trailing '/'");
			snprintf(u.mailroot, sizeof(u.mailroot), "%s", optarg); break;
		case 'q': if (util_str_to_u64(optarg, UINT64_MAX, &u.quota) < 0) die("bad quota"); break;
		default: usage();
		}
	}
	domain_must_exist(db, name);
	read_password(pw, pass, sizeof(pass));
	if (userdb_hash_password(pass, scheme_prefix(scheme), u.hash) < 0)
		die("crypt(3) failed for this scheme");
	explicit_bzero(pass, sizeof(pass));
	put_user(db, name, &u, 1);
	printf("user %s added\n", name);
	return 0;
}

static int
cmd_user_passwd(struct db *db, int argc, char **argv)
{
	char name[USERDB_NAME_MAX + 1], pass[1024];
	const char *pw = NULL, *scheme = NULL;
	struct userdb_user u;
	int opt;

	if (argc < 2)
		usage();
	normalize(argv[1], name);
	optind = 2;
	while ((opt = getopt(argc, argv, "p:s:")) != -1) {
		if (opt == 'p')
			pw = optarg;
		else if (opt == 's')
			scheme = optarg;
		else
			usage();
	}
	if (get_user(db, name, &u) != 1)
		die("no user %s", name);
	read_password(pw, pass, sizeof(pass));
	if (userdb_hash_password(pass, scheme_prefix(scheme), u.hash) < 0)
		die("crypt(3) failed");
	explicit_bzero(pass, sizeof(pass));
	put_user(db, name, &u, 0);
	printf("password of %s changed\n", name);
	return 0;
}

static int
print_user(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	struct userdb_user u;

	(void)ctx;
	if (userdb_user_decode(&u, v, vl) < 0)
		printf("%.*s\t(corrupt record)\n", (int)kl, (const char *)k);
	else
		printf("%.*s%s\n", (int)kl, (const char *)k,
		    (u.flags & USERDB_USER_DISABLED) ? "\t(disabled)" : "");
	return 0;
}

static int
print_key_val(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	(void)ctx;
	if (vl > 0 && ctx != NULL)
		printf("%.*s -> %.*s\n", (int)kl, (const char *)k, (int)vl, (const char *)v);
	else
		printf("%.*s\n", (int)kl, (const char *)k);
	return 0;
}

static const char *
hash_scheme(const char *h)
{
	if (!strncmp(h, "$y$", 3)) return "yescrypt";
	if (!strncmp(h, "$6$", 3)) return "sha512-crypt";
	if (!strncmp(h, "$2b$", 4) || !strncmp(h, "$2y$", 4)) return "bcrypt";
	if (!strncmp(h, "$5$", 3)) return "sha256-crypt";
	return "unknown";
}

static void
mailroot_of(const char *name, const struct userdb_user *u, char *out, size_t len)
{
	if (u->mailroot[0] != '\0')
		snprintf(out, len, "%s", u->mailroot);
	else if (config_expand_mailroot(cfg.mail_root_template, name, out, len) < 0)
		snprintf(out, len, "(mail_root template cannot be expanded)");
}

static int
cmd_user_show(struct db *db, const char *arg)
{
	char name[USERDB_NAME_MAX + 1], root[CONFIG_PATH_MAX];
	struct userdb_user u;

	normalize(arg, name);
	if (get_user(db, name, &u) != 1)
		die("no user %s", name);
	mailroot_of(name, &u, root, sizeof(root));
	/* The hash itself is never printed, only its scheme. */
	printf("user:      %s\nstatus:    %s\nscheme:    %s\nuid/gid:   %u/%u\n"
	    "mail root: %s\nquota:     %llu\n", name,
	    (u.flags & USERDB_USER_DISABLED) ? "disabled" : "enabled", hash_scheme(u.hash),
	    u.uid ? u.uid : (unsigned)cfg.mail_uid, u.gid ? u.gid : (unsigned)cfg.mail_gid, root,
	    (unsigned long long)u.quota);
	return 0;
}

static int
cmd_user_flag(struct db *db, const char *arg, int disable)
{
	char name[USERDB_NAME_MAX + 1];
	struct userdb_user u;

	normalize(arg, name);
	if (get_user(db, name, &u) != 1)
		die("no user %s", name);
	if (disable)
		u.flags |= USERDB_USER_DISABLED;
	else
		u.flags &= ~(uint32_t)USERDB_USER_DISABLED;
	put_user(db, name, &u, 0);
	printf("user %s %s\n", name, disable ? "disabled" : "enabled");
	return 0;
}

static int
cmd_user(int argc, char **argv)
{
	char name[USERDB_NAME_MAX + 1];
	struct db *db;
	int rc = 0;

	if (argc < 1)
		usage();
	db = open_db(!strcmp(argv[0], "list") || !strcmp(argv[0], "show"));
	if (!strcmp(argv[0], "add"))
		rc = cmd_user_add(db, argc, argv);
	else if (!strcmp(argv[0], "passwd"))
		rc = cmd_user_passwd(db, argc, argv);
	else if (!strcmp(argv[0], "list") && argc == 1)
		rc = db_foreach(db, USERDB_DBI_USERS, print_user, NULL);
	else if (!strcmp(argv[0], "show") && argc == 2)
		rc = cmd_user_show(db, argv[1]);
	else if ((!strcmp(argv[0], "disable") || !strcmp(argv[0], "enable")) && argc == 2)
		rc = cmd_user_flag(db, argv[1], argv[0][0] == 'd');
	else if (!strcmp(argv[0], "del") && argc == 2) {
		normalize(argv[1], name);
		if (db_del(db, USERDB_DBI_USERS, name, strlen(name)) != 1)
			die("no user %s", name);
		printf("user %s deleted (its Maildir is left in place)\n", name);
	} else
		usage();
	db_close(db);
	return rc < 0 ? 1 : 0;
}

static int
count_domain_users(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	const char *dom = ((const char **)ctx)[0];
	const uint8_t *at = memchr(k, '@', kl);

	(void)v;
	(void)vl;
	if (at != NULL && (size_t)(k + kl - at - 1) == strlen(dom) && !memcmp(at + 1, dom, strlen(dom)))
		(*(size_t *)((void **)ctx)[1])++;
	return 0;
}

static int
cmd_domain(int argc, char **argv)
{
	char name[USERDB_NAME_MAX + 1], probe[USERDB_NAME_MAX + 8];
	struct db *db;
	int rc = 0;

	if (argc < 1)
		usage();
	db = open_db(!strcmp(argv[0], "list"));
	if (!strcmp(argv[0], "list") && argc == 1) {
		rc = db_foreach(db, USERDB_DBI_DOMAINS, print_key_val, NULL);
	} else if ((!strcmp(argv[0], "add") || !strcmp(argv[0], "del")) && argc == 2) {
		/* validate as the domain part of an address */
		snprintf(probe, sizeof(probe), "x@%s", argv[1]);
		normalize(probe, name);
		memmove(name, name + 2, strlen(name + 2) + 1);
		if (argv[0][0] == 'a') {
			if (db_put(db, USERDB_DBI_DOMAINS, name, strlen(name), "", 0, 1) < 0)
				die(errno == EEXIST ? "domain %s exists" : "cannot add %s", name);
			printf("domain %s added\n", name);
		} else {
			size_t users = 0;
			const void *ctx[2] = { name, &users };
			db_foreach(db, USERDB_DBI_USERS, count_domain_users, ctx);
			if (users > 0)
				die("domain %s still has %zu users", name, users);
			if (db_del(db, USERDB_DBI_DOMAINS, name, strlen(name)) != 1)
				die("no domain %s", name);
			printf("domain %s deleted\n", name);
		}
	} else
		usage();
	db_close(db);
	return rc < 0 ? 1 : 0;
}

static int
cmd_alias(int argc, char **argv)
{
	char alias[USERDB_NAME_MAX + 1], target[USERDB_NAME_MAX + 1];
	struct userdb_user u;
	struct db *db;
	int rc = 0;

	if (argc < 1)
		usage();
	db = open_db(!strcmp(argv[0], "list"));
	if (!strcmp(argv[0], "list") && argc == 1) {
		rc = db_foreach(db, USERDB_DBI_ALIASES, print_key_val, db);
	} else if (!strcmp(argv[0], "add") && argc == 3) {
		normalize(argv[1], alias);
		normalize(argv[2], target);
		domain_must_exist(db, alias);
		if (get_user(db, target, &u) != 1)
			die("alias target %s is not a user", target);
		if (get_user(db, alias, &u) == 1)
			die("%s is a user, not a free address", alias);
		if (db_put(db, USERDB_DBI_ALIASES, alias, strlen(alias), target, strlen(target), 1) < 0)
			die(errno == EEXIST ? "alias %s exists" : "cannot add alias %s", alias);
		printf("alias %s -> %s added\n", alias, target);
	} else if (!strcmp(argv[0], "del") && argc == 2) {
		normalize(argv[1], alias);
		if (db_del(db, USERDB_DBI_ALIASES, alias, strlen(alias)) != 1)
			die("no alias %s", alias);
		printf("alias %s deleted\n", alias);
	} else
		usage();
	db_close(db);
	return rc < 0 ? 1 : 0;
}

/* Like Courier's authtest: the same decision authd makes, with the reason. */
static int
cmd_auth_test(int argc, char **argv)
{
	char name[USERDB_NAME_MAX + 1], canon[USERDB_NAME_MAX + 1], pass[1024], root[CONFIG_PATH_MAX];
	const char *pw = NULL, *why;
	struct userdb_user u;
	enum userdb_verdict v;
	struct db *db;
	int opt, rc;

	if (argc < 2 || strcmp(argv[0], "test") != 0)
		usage();
	optind = 2;
	while ((opt = getopt(argc, argv, "p:")) != -1) {
		if (opt != 'p')
			usage();
		pw = optarg;
	}
	if (userdb_normalize((const uint8_t *)argv[1], strlen(argv[1]), cfg.default_domain, name, &why) < 0) {
		printf("FAIL %s: %s\n", argv[1], why);
		return 1;
	}
	db = open_db(1);
	rc = userdb_lookup(db, name, &u, canon);
	if (rc < 0) {
		printf("FAIL %s: user database error: %s\n", name, db_strerror(db));
		return 1;
	}
	if (rc == 0) {
		printf("FAIL %s: unknown user (no user or alias of that name; default domain '%s')\n",
		    name, cfg.default_domain);
		return 1;
	}
	if (strcmp(name, canon) != 0)
		printf("alias %s -> %s\n", name, canon);
	read_password(pw, pass, sizeof(pass));
	v = userdb_check_password(&u, (const uint8_t *)pass, strlen(pass));
	explicit_bzero(pass, sizeof(pass));
	mailroot_of(canon, &u, root, sizeof(root));
	if (v == USERDB_OK && !config_path_canonical(root)) {
		printf("FAIL %s: mail root '%s' is not a canonical absolute path (authd refuses it)\n",
		    canon, root);
		return 1;
	}
	if (v != USERDB_OK) {
		printf("FAIL %s: %s (scheme %s)\n", canon, userdb_verdict_str(v), hash_scheme(u.hash));
		return 1;
	}
	printf("OK %s\n  uid/gid:   %u/%u\n  mail root: %s\n"
	    "  note: authd may still throttle this login after repeated failures from an IP\n",
	    canon, u.uid ? u.uid : (unsigned)cfg.mail_uid, u.gid ? u.gid : (unsigned)cfg.mail_gid, root);
	db_close(db);
	return 0;
}

/* Stdin into a buffer, before any privilege is given up. */
/* The uid the service runs as, which creates mail root parents at first
 * login: under systemd (User=postern) it owns state_dir, which
 * StateDirectory= gives it; as root, root does. */
static uid_t
service_uid(void)
{
	struct stat st;

	if (stat(cfg.state_dir, &st) == 0)
		return st.st_uid;
	return geteuid();
}

/* As root, the Maildir is the user's: it is reached through fds (parents
 * as stored makes them, a missing Maildir made by the user's uid), then
 * this process becomes the user for good before writing into it, so the
 * file needs no chown and a symlink the user planted leads nowhere root
 * could not go as the user.  posternctl needs no root afterwards. */
static int
cmd_deliver(int argc, char **argv)
{
	char name[USERDB_NAME_MAX + 1], canon[USERDB_NAME_MAX + 1], root[CONFIG_PATH_MAX];
	char fname[MAILDIR_NAME_MAX + 1], why[CONFIG_PATH_MAX + 128];
	char host[MAILDIR_HOST_MAX];
	const char *reason;
	struct userdb_user u;
	struct db *db;
	uid_t uid;
	gid_t gid;
	int fd, privileged = !sandbox_unprivileged();

	if (argc != 1)
		usage();
	normalize(argv[0], name);
	db = open_db(1);
	if (userdb_lookup(db, name, &u, canon) != 1)
		die("no user %s", name);
	db_close(db);
	mailroot_of(canon, &u, root, sizeof(root));
	uid = u.uid ? u.uid : (uid_t)cfg.mail_uid;
	gid = u.gid ? u.gid : (gid_t)cfg.mail_gid;
	maildir_host(host);
	fd = mailroot_open(root, uid, gid, service_uid(), privileged, why, sizeof(why));
	if (fd < 0)
		die("refusing to deliver: %s", why);
	if (privileged && sandbox_change_id(uid, gid, &reason) < 0)
		die("cannot become uid %u: %s", (unsigned)uid, reason);
	if (maildir_check(fd, &reason) < 0)
		die("refusing to deliver to %s: %s", root, reason);
	/* stdin streams straight into tmp/: the engine's delivery function,
	 * the one stored's deliver view runs */
	if (maildir_deliver(fd, STDIN_FILENO, POSTERNCTL_DELIVER_MAX, host, fname) < 0)
		die("delivery failed: %s", strerror(errno));
	close(fd);
	printf("delivered %s/new/%s\n", root, fname);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *env = getenv("POSTERN_CONFIG");
	char err[512];
	int opt;

	if (env != NULL)
		cfgpath = env;
	while ((opt = getopt(argc, argv, "+c:")) != -1) {
		if (opt == 'c')
			cfgpath = optarg;
		else
			usage();
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (config_load(&cfg, cfgpath, err, sizeof(err)) < 0) {
		if (!strcmp(argv[0], "config"))
			die("%s", err);
		if (errno == ENOENT && access(cfgpath, F_OK) < 0) {
			config_defaults(&cfg);
			fprintf(stderr, "posternctl: %s not found, using defaults\n", cfgpath);
		} else
			die("%s", err);
	}
	if (config_apply_env(&cfg, environ, err, sizeof(err)) < 0)
		die("%s", err);
	if (!strcmp(argv[0], "user"))
		return cmd_user(argc - 1, argv + 1);
	if (!strcmp(argv[0], "domain"))
		return cmd_domain(argc - 1, argv + 1);
	if (!strcmp(argv[0], "alias"))
		return cmd_alias(argc - 1, argv + 1);
	if (!strcmp(argv[0], "auth"))
		return cmd_auth_test(argc - 1, argv + 1);
	if (!strcmp(argv[0], "deliver"))
		return cmd_deliver(argc - 1, argv + 1);
	if (!strcmp(argv[0], "policy") && argc == 1) {
		policy_print(STDOUT_FILENO);
		return 0;
	}
	if (!strcmp(argv[0], "services") && argc == 1) {
		service_print(STDOUT_FILENO);
		return 0;
	}
	if (!strcmp(argv[0], "config") && argc == 2 && !strcmp(argv[1], "check")) {
		printf("%s: ok\n", cfgpath);
		return 0;
	}
	if (!strcmp(argv[0], "config") && argc == 2 && !strcmp(argv[1], "dump"))
		return config_dump(&cfg, STDOUT_FILENO) < 0;
	usage();
}
