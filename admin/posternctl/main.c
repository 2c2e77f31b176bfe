/* posternctl - the admin command: users, domains, aliases, `auth test`,
 * local delivery for seeding, the process table, config checks, backups.
 * Run as root (or the owner of the user database).  The command table,
 * option parsing and help are in cli.c (ctl.h lists the files). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../../common/auth/namechars.h"
#include "../../common/base/config.h"
#include "../../common/mail/aliases.h"
#include "../../common/mail/db.h"
#include "../../common/mail/maildir.h"
#include "../../common/mail/mindex.h"
#include "../../common/mail/quota.h"
#include "../../common/mail/mailroot.h"
#include "../../common/mail/userdb.h"
#include "../../common/proto/sasl.h"
#include "../../common/base/util.h"
#include "../../policy/policy.h"
#include "../../policy/services.h"
#include "ctl.h"

/* As before the stream: posternctl deliver took at most 1 GiB from stdin. */
#define POSTERNCTL_DELIVER_MAX (1ULL << 30)

struct config cfg;
const char *cfgpath = "/etc/postern/postern.conf";
int cfg_fell_back;

void
ctl_verror(const char *fmt, va_list ap)
{
	fputs("posternctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_verror(fmt, ap);
	va_end(ap);
	exit(1);
}

struct db *
open_db(int readonly)
{
	struct db *db;
	char err[512];

	if (!readonly && mkdir(cfg.state_dir, 0755) < 0 && errno != EEXIST)
		die("%s: %s", cfg.state_dir, strerror(errno));
	/* LMDB readers and the writer coexist, so readers open read-write too
	 * (which creates a missing db), except on defaults a missing file fell
	 * back to: a typo must not create a db in the default place. */
	if (userdb_open(&db, cfg.userdb_path, cfg.userdb_map_size, readonly && cfg_fell_back,
	    err, sizeof(err)) < 0)
		die("cannot open user database: %s", err);
	return db;
}

void
normalize(const char *in, char out[USERDB_NAME_MAX + 1])
{
	const char *why;

	if (userdb_normalize((const uint8_t *)in, strlen(in), cfg.default_domain, out, &why) < 0)
		die("'%s': %s", in, why);
}

const char *
new_name_refused(const char *in)
{
	struct namechars nc;
	const char *why;

	if (namechars_parse(cfg.auth_username_chars, cfg.auth_username_utf8, cfg.auth_username_max,
	    &nc, &why) < 0)
		return why;	/* the config check refused it already */
	switch (namechars_check(&nc, (const uint8_t *)in, strlen(in))) {
	case NAMECHARS_OK:
		return NULL;
	case NAMECHARS_CHARS:
		return "a character outside auth_username_chars (authd would refuse its logins)";
	case NAMECHARS_LENGTH:
		break;
	}
	return "empty or longer than auth_username_max";
}

void
normalize_new(const char *in, char out[USERDB_NAME_MAX + 1])
{
	const char *why = new_name_refused(in);

	if (why != NULL)
		die("'%s': %s", in, why);
	normalize(in, out);
}

uint32_t
parse_id(const char *s, const char *what)
{
	uint64_t v;

	if (util_str_to_u64(s, 0xfffffffe, &v) < 0 || v == 0)
		die("bad %s '%s' (a number from 1 to 4294967294)", what, s);
	return (uint32_t)v;
}

void
parse_mailroot(const char *s, char out[USERDB_PATH_MAX + 1])
{
	if (!config_path_canonical(s) || strlen(s) > USERDB_PATH_MAX)
		die("mail root must be an absolute path without '.', '..', '//' or a trailing '/'");
	snprintf(out, USERDB_PATH_MAX + 1, "%s", s);
}

/* One line from stdin, without echo on a terminal. */
static void
prompt_line(const char *prompt, char *out, size_t outlen)
{
	struct termios t, saved;
	int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;

	if (tty) {
		/* echo off before the prompt: TCSAFLUSH drops what was typed before */
		t = saved;
		t.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
		fputs(prompt, stderr);
	}
	if (fgets(out, (int)outlen, stdin) == NULL)
		out[0] = '\0';
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	out[strcspn(out, "\r\n")] = '\0';
}

/* -p PASSWORD, or one line from stdin; on a terminal, with confirm, the
 * password is asked twice.  An empty password is refused on every path. */
static void
read_password(const char *given, char *out, size_t outlen, int confirm)
{
	char again[1024];
	int same;

	if (given != NULL) {
		if (given[0] == '\0')
			die("empty password refused");
		if (strlen(given) >= outlen)
			die("password too long");
		snprintf(out, outlen, "%s", given);
		return;
	}
	prompt_line("Password: ", out, outlen);
	if (out[0] == '\0')
		die("empty password refused");
	if (!confirm || !isatty(STDIN_FILENO))
		return;
	prompt_line("Retype password: ", again, sizeof(again));
	same = strcmp(out, again) == 0;
	explicit_bzero(again, sizeof(again));
	if (!same) {
		explicit_bzero(out, outlen);
		die("the passwords do not match; nothing changed");
	}
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

/* CRAM-MD5's password-equivalent secret, kept only while auth_mechanisms
 * lists CRAM-MD5 (docs/AUTH.md#cram-md5); a new password without it drops
 * an old one. */
static void
set_cram(struct userdb_user *u, const char *pass)
{
	u->has_cram = sasl_mech_enabled(cfg.auth_mechanisms, "CRAM-MD5", 8);
	if (u->has_cram)
		cram_make_secret((const uint8_t *)pass, strlen(pass), &u->cram);
	else
		explicit_bzero(&u->cram, sizeof(u->cram));
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

int
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

int
cmd_user_add(const struct ctl_args *a)
{
	char name[USERDB_NAME_MAX + 1], pass[1024];
	struct userdb_user u;
	struct db *db;

	normalize_new(a->argv[0], name);
	memset(&u, 0, sizeof(u));
	if (a->uid != NULL)
		u.uid = parse_id(a->uid, "uid");
	if (a->gid != NULL)
		u.gid = parse_id(a->gid, "gid");
	if (a->mailroot != NULL)
		parse_mailroot(a->mailroot, u.mailroot);
	if (a->quota != NULL && util_str_to_u64(a->quota, UINT64_MAX, &u.quota) < 0)
		die("bad quota '%s' (bytes, 0 = none)", a->quota);
	scheme_prefix(a->scheme);	/* a bad scheme before the prompt */
	db = open_db(0);
	domain_must_exist(db, name);
	if (get_user(db, name, &u) == 1)
		die("user %s exists", name);
	read_password(a->pass, pass, sizeof(pass), 1);
	if (userdb_hash_password(pass, scheme_prefix(a->scheme), u.hash) < 0)
		die("crypt(3) failed for this scheme");
	userdb_set_scram(&u, pass, (uint32_t)cfg.scram_iterations);
	set_cram(&u, pass);
	explicit_bzero(pass, sizeof(pass));
	put_user(db, name, &u, 1);
	db_close(db);
	printf("user %s added\n", name);
	return 0;
}

int
cmd_user_passwd(const struct ctl_args *a)
{
	char name[USERDB_NAME_MAX + 1], pass[1024];
	struct userdb_user u;
	struct db *db;

	normalize(a->argv[0], name);
	scheme_prefix(a->scheme);	/* a bad scheme before the prompt */
	db = open_db(0);
	if (get_user(db, name, &u) != 1)
		die("no user %s", name);
	read_password(a->pass, pass, sizeof(pass), 1);
	if (userdb_hash_password(pass, scheme_prefix(a->scheme), u.hash) < 0)
		die("crypt(3) failed");
	userdb_set_scram(&u, pass, (uint32_t)cfg.scram_iterations);
	set_cram(&u, pass);
	explicit_bzero(pass, sizeof(pass));
	put_user(db, name, &u, 0);
	db_close(db);
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
print_key(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	(void)ctx;
	(void)v;
	(void)vl;
	printf("%.*s\n", (int)kl, (const char *)k);
	return 0;
}

/* db_foreach over one sub-database with fn; the exit status. */
static int
list_dbi(unsigned dbi, int (*fn)(void *, const uint8_t *, size_t, const uint8_t *, size_t),
    int with_ctx)
{
	struct db *db = open_db(1);
	int rc = db_foreach(db, dbi, fn, with_ctx ? (void *)db : NULL);

	db_close(db);
	return rc < 0 ? 1 : 0;
}

int
cmd_user_list(const struct ctl_args *a)
{
	(void)a;
	return list_dbi(USERDB_DBI_USERS, print_user, 0);
}

static const char *
hash_scheme(const char *h)
{
	if (!strncmp(h, "$y$", 3)) return "yescrypt";
	if (!strncmp(h, "$6$", 3)) return "sha512-crypt";
	if (!strncmp(h, "$2b$", 4) || !strncmp(h, "$2y$", 4)) return "bcrypt";
	if (!strncmp(h, "$5$", 3)) return "sha256-crypt";
	if (!strncmp(h, "$2a$", 4)) return "bcrypt-2a (weak)";
	if (!strncmp(h, "$1$", 3)) return "md5-crypt (weak)";
	if (strlen(h) == 13 && strchr(h, '$') == NULL) return "des-crypt (weak)";
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

int
cmd_user_show(const struct ctl_args *a)
{
	char name[USERDB_NAME_MAX + 1], root[CONFIG_PATH_MAX];
	struct userdb_user u;
	struct db *db;

	normalize(a->argv[0], name);
	db = open_db(1);
	if (get_user(db, name, &u) != 1)
		die("no user %s", name);
	db_close(db);
	mailroot_of(name, &u, root, sizeof(root));
	/* The hash itself is never printed, only its scheme. */
	printf("user:      %s\nstatus:    %s\nscheme:    %s\nuid/gid:   %u/%u\n"
	    "mail root: %s\nquota:     %llu\n", name,
	    (u.flags & USERDB_USER_DISABLED) ? "disabled" : "enabled", hash_scheme(u.hash),
	    u.uid ? u.uid : (unsigned)cfg.mail_uid, u.gid ? u.gid : (unsigned)cfg.mail_gid, root,
	    (unsigned long long)u.quota);
	if (u.has_scram)
		printf("scram:     SCRAM-SHA-256, %u iterations\n", u.scram.iterations);
	else
		printf("scram:     none (added at the next password login, or by user passwd)\n");
	if (u.has_cram)
		printf("cram-md5:  a password-equivalent secret (auth_mechanisms lists CRAM-MD5)\n");
	if (u.flags & USERDB_USER_SERVICES) {
		char denied[64];
		userdb_services_text(u.flags, denied, sizeof(denied));
		printf("denied:    %s\n", denied);
	}
	return 0;
}

static int
user_flag(const char *arg, int disable)
{
	char name[USERDB_NAME_MAX + 1];
	struct userdb_user u;
	struct db *db;

	normalize(arg, name);
	db = open_db(0);
	if (get_user(db, name, &u) != 1)
		die("no user %s", name);
	if (disable)
		u.flags |= USERDB_USER_DISABLED;
	else
		u.flags &= ~(uint32_t)USERDB_USER_DISABLED;
	put_user(db, name, &u, 0);
	db_close(db);
	printf("user %s %s\n", name, disable ? "disabled" : "enabled");
	return 0;
}

int
cmd_user_disable(const struct ctl_args *a)
{
	return user_flag(a->argv[0], 1);
}

int
cmd_user_enable(const struct ctl_args *a)
{
	return user_flag(a->argv[0], 0);
}

int
cmd_user_del(const struct ctl_args *a)
{
	char name[USERDB_NAME_MAX + 1];
	struct db *db;

	normalize(a->argv[0], name);
	db = open_db(0);
	if (db_del(db, USERDB_DBI_USERS, name, strlen(name)) != 1)
		die("no user %s", name);
	db_close(db);
	printf("user %s deleted (its Maildir is left in place)\n", name);
	return 0;
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

/* Validated as the domain part of an address. */
static void
domain_name(const char *arg, char name[USERDB_NAME_MAX + 1])
{
	char probe[USERDB_NAME_MAX + 8];

	if ((size_t)snprintf(probe, sizeof(probe), "x@%s", arg) >= sizeof(probe))
		die("domain name too long");
	normalize(probe, name);
	memmove(name, name + 2, strlen(name + 2) + 1);
}

int
cmd_domain_add(const struct ctl_args *a)
{
	char name[USERDB_NAME_MAX + 1];
	struct db *db;

	domain_name(a->argv[0], name);
	db = open_db(0);
	if (db_put(db, USERDB_DBI_DOMAINS, name, strlen(name), "", 0, 1) < 0)
		die(errno == EEXIST ? "domain %s exists" : "cannot add %s", name);
	db_close(db);
	printf("domain %s added\n", name);
	return 0;
}

int
cmd_domain_del(const struct ctl_args *a)
{
	char name[USERDB_NAME_MAX + 1];
	size_t users = 0;
	const void *ctx[2] = { name, &users };
	struct db *db;

	domain_name(a->argv[0], name);
	db = open_db(0);
	db_foreach(db, USERDB_DBI_USERS, count_domain_users, ctx);
	if (users > 0)
		die("domain %s still has %zu users", name, users);
	if (db_del(db, USERDB_DBI_DOMAINS, name, strlen(name)) != 1)
		die("no domain %s", name);
	db_close(db);
	printf("domain %s deleted\n", name);
	return 0;
}

int
cmd_domain_list(const struct ctl_args *a)
{
	(void)a;
	return list_dbi(USERDB_DBI_DOMAINS, print_key, 0);
}

/* An alias's key: "@domain" for the domain's catch-all and a bare local
 * part for a system alias of every hosted domain (both for recipient
 * lookups only), else a normalised address.  A named domain must be
 * hosted when adding. */
static void
alias_key(struct db *db, const char *arg, char key[USERDB_NAME_MAX + 1], int adding)
{
	char dom[USERDB_NAME_MAX + 1];

	if (arg[0] == '@') {
		domain_name(arg + 1, dom);	/* at most USERDB_NAME_MAX - 2 long */
		key[0] = '@';
		memcpy(key + 1, dom, strlen(dom) + 1);
		if (adding)
			domain_must_exist(db, key);
		return;
	}
	normalize(arg, key);
	if (strchr(arg, '@') == NULL) {
		key[strcspn(key, "@")] = '\0';	/* checked as a local part, kept alone */
		return;
	}
	if (adding)
		domain_must_exist(db, key);
}

/* The keys of every alias (for the check of an alias being added). */
struct alias_keys {
	char (*key)[USERDB_NAME_MAX + 1];
	size_t n, cap;
};

static int
collect_key(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	struct alias_keys *ks = ctx;

	(void)v;
	(void)vl;
	if (kl > USERDB_NAME_MAX)
		return 0;	/* no key userdb makes */
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 64;
		void *n = realloc(ks->key, cap * sizeof(ks->key[0]));
		if (n == NULL)
			die("out of memory");
		ks->key = n;
		ks->cap = cap;
	}
	memcpy(ks->key[ks->n], k, kl);
	ks->key[ks->n++][kl] = '\0';
	return 0;
}

/* Would alias (its targets t) keep every alias within the limits, and
 * loop nowhere?  It and every other alias are expanded as if it were
 * stored (the alias table is small: an operator's).  Dies with the reason
 * otherwise. */
static void
alias_check(struct db *db, const char *alias, const struct aliases_targets *t)
{
	static struct aliases_expansion x;
	struct aliases_limits lim = { .max_targets = (unsigned)cfg.alias_max_targets,
	    .max_depth = (unsigned)cfg.alias_max_depth };
	struct alias_keys ks = { 0 };
	size_t i;
	int rc = aliases_expand(db, alias, &lim, alias, t, &x);

	if (rc == 0)
		die("alias %s would reach no user", alias);
	if (rc < 0)
		die("alias %s: %s", alias, x.why);
	if (db_foreach(db, USERDB_DBI_ALIASES, collect_key, &ks) < 0)
		die("database error: %s", db_strerror(db));
	/* an alias already broken (written behind our back) is not this
	 * one's fault: only those it would break count */
	for (i = 0; i < ks.n; i++)
		if (strcmp(ks.key[i], alias) != 0 &&
		    aliases_expand(db, ks.key[i], &lim, NULL, NULL, &x) >= 0 &&
		    aliases_expand(db, ks.key[i], &lim, alias, t, &x) < 0)
			die("alias %s: then alias %s: %s", alias, ks.key[i], x.why);
	free(ks.key);
}

/* alias add ADDRESS TARGET [TARGET...]: each target a user or an alias
 * (Courier's and Postfix's aliases nest), each once. */
int
cmd_alias_add(const struct ctl_args *a)
{
	static struct aliases_targets t;
	static uint8_t rec[ALIASES_RECORD_MAX];
	char alias[USERDB_NAME_MAX + 1], text[1024];
	struct userdb_user u;
	struct buf b;
	struct db *db;
	unsigned i, j;
	long n;

	if ((uint64_t)(a->argc - 1) > cfg.alias_max_targets)
		die("an alias names at most %llu targets (alias_max_targets)",
		    (unsigned long long)cfg.alias_max_targets);
	db = open_db(0);
	alias_key(db, a->argv[0], alias, 1);
	if (get_user(db, alias, &u) == 1)
		die("%s is a user, not a free address", alias);
	buf_init(&b, 4096);
	for (t.n = 0, i = 1; i < (unsigned)a->argc; i++) {
		normalize(a->argv[i], t.name[t.n]);
		for (j = 0; j < t.n; j++)
			if (strcmp(t.name[j], t.name[t.n]) == 0)
				die("alias target %s given twice", t.name[t.n]);
		if (get_user(db, t.name[t.n], &u) != 1 &&
		    db_get(db, USERDB_DBI_ALIASES, t.name[t.n], strlen(t.name[t.n]), &b) != 1)
			die("alias target %s is not a user (nor an alias)", t.name[t.n]);
		t.n++;
	}
	buf_free(&b, 0);
	explicit_bzero(&u, sizeof(u));
	alias_check(db, alias, &t);
	if ((n = aliases_encode(&t, rec, sizeof(rec))) < 0)
		die("the alias record does not fit");
	if (db_put(db, USERDB_DBI_ALIASES, alias, strlen(alias), rec, (size_t)n, 1) < 0)
		die(errno == EEXIST ? "alias %s exists" : "cannot add alias %s", alias);
	db_close(db);
	aliases_text(&t, text, sizeof(text));
	printf("alias %s -> %s added\n", alias, text);
	return 0;
}

int
cmd_alias_del(const struct ctl_args *a)
{
	char alias[USERDB_NAME_MAX + 1];
	struct db *db;

	db = open_db(0);
	alias_key(db, a->argv[0], alias, 0);
	if (db_del(db, USERDB_DBI_ALIASES, alias, strlen(alias)) != 1)
		die("no alias %s", alias);
	db_close(db);
	printf("alias %s deleted\n", alias);
	return 0;
}

/* "ADDRESS -> TARGET, TARGET" (a record that does not decode: shown raw,
 * its NULs as '|'). */
static int
print_alias(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	static struct aliases_targets t;
	char text[ALIASES_RECORD_MAX + 64];
	size_t i;

	(void)ctx;
	if (aliases_decode(v, vl, &t) == 0) {
		aliases_text(&t, text, sizeof(text));
	} else {
		for (i = 0; i < vl && i < sizeof(text) - 1; i++)
			text[i] = v[i] == '\0' ? '|' : (char)v[i];
		text[i] = '\0';
	}
	printf("%.*s -> %s\n", (int)kl, (const char *)k, text);
	return 0;
}

int
cmd_alias_list(const struct ctl_args *a)
{
	(void)a;
	return list_dbi(USERDB_DBI_ALIASES, print_alias, 0);
}

/* Like Courier's authtest: the same decision authd makes, with the reason. */
int
cmd_auth_test(const struct ctl_args *a)
{
	char name[USERDB_NAME_MAX + 1], canon[USERDB_NAME_MAX + 1], pass[1024], root[CONFIG_PATH_MAX];
	const char *why;
	struct userdb_user u;
	enum userdb_verdict v;
	struct db *db;
	int rc;

	if (userdb_normalize((const uint8_t *)a->argv[0], strlen(a->argv[0]), cfg.default_domain,
	    name, &why) < 0) {
		printf("FAIL %s: %s\n", a->argv[0], why);
		return 1;
	}
	db = open_db(1);
	rc = userdb_lookup(db, name, &u, canon);
	if (rc < 0) {
		printf("FAIL %s: user database error: %s\n", name, db_strerror(db));
		return 1;
	}
	db_close(db);
	if (rc == 0) {
		printf("FAIL %s: unknown user (no user or alias of that name; default domain '%s')\n",
		    name, cfg.default_domain);
		return 1;
	}
	if (strcmp(name, canon) != 0)
		printf("alias %s -> %s\n", name, canon);
	read_password(a->pass, pass, sizeof(pass), 0);
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

/* USER's mail root as an fd, reached through fds (parents as stored makes
 * them, a missing Maildir made by the user's uid), with this process the
 * user for good (as root), so nothing written needs a chown and a symlink
 * the user planted leads nowhere root could not go as the user.  what
 * names the command in its refusals. */
static int
user_mailroot(const char *arg, const char *what, char root[CONFIG_PATH_MAX])
{
	char name[USERDB_NAME_MAX + 1], canon[USERDB_NAME_MAX + 1], why[CONFIG_PATH_MAX + 128];
	const char *reason;
	struct userdb_user u;
	struct db *db;
	uid_t uid;
	gid_t gid;
	int fd, privileged = !sandbox_unprivileged();

	normalize(arg, name);
	db = open_db(1);
	if (userdb_lookup(db, name, &u, canon) != 1)
		die("no user %s", name);
	db_close(db);
	mailroot_of(canon, &u, root, CONFIG_PATH_MAX);
	uid = u.uid ? u.uid : (uid_t)cfg.mail_uid;
	gid = u.gid ? u.gid : (gid_t)cfg.mail_gid;
	fd = mailroot_open(root, uid, gid, service_uid(), privileged, why, sizeof(why));
	if (fd < 0)
		die("refusing to %s: %s", what, why);
	if (privileged && sandbox_change_id(uid, gid, &reason) < 0)
		die("cannot become uid %u: %s", (unsigned)uid, reason);
	if (maildir_check(fd, &reason) < 0)
		die("refusing to %s %s: %s", what, root, reason);
	return fd;
}

/* As root, the Maildir is the user's (user_mailroot); posternctl needs no
 * root afterwards. */
static int
cmd_deliver(int argc, char **argv)
{
	char root[CONFIG_PATH_MAX], fname[MAILDIR_NAME_MAX + 1], host[MAILDIR_HOST_MAX];
	int fd;

	if (argc != 1)
		usage();
	maildir_host(host);
	fd = user_mailroot(argv[0], "deliver", root);
	/* stdin streams straight into tmp/: the engine's delivery function,
	 * the one stored's deliver view runs */
	if (maildir_deliver(fd, STDIN_FILENO, POSTERNCTL_DELIVER_MAX, host, fname) < 0)
		die("delivery failed: %s", strerror(errno));
	close(fd);
	printf("delivered %s/new/%s\n", root, fname);
	return 0;
}

int
cmd_deliver_args(const struct ctl_args *a)
{
	return cmd_deliver(a->argc, a->argv);
}

/* posternctl quota get|recalc USER: the Maildir++ maildirsize of USER, read
 * (recounted when the Maildir++ rules say so) or recounted now, with the
 * user db's quota as its definition when there is one. */
static int
quota_cmd(const struct ctl_args *a, int recalc)
{
	char name[USERDB_NAME_MAX + 1], canon[USERDB_NAME_MAX + 1], root[CONFIG_PATH_MAX];
	char def[32];
	struct userdb_user u;
	struct quota q;
	struct db *db;
	int fd, rc;

	quota_set_count_trash(cfg.quota_count_trash);
	normalize(a->argv[0], name);
	db = open_db(1);
	if (userdb_lookup(db, name, &u, canon) != 1)
		die("no user %s", name);
	db_close(db);
	snprintf(def, sizeof(def), "%lluS", (unsigned long long)u.quota);
	explicit_bzero(&u, sizeof(u));
	fd = user_mailroot(canon, recalc ? "recount" : "read the quota of", root);
	if (recalc)
		rc = quota_recalc(fd, strcmp(def, "0S") != 0 ? def : NULL, &q);
	else
		rc = quota_read(fd, time(NULL), &q, NULL);
	/* a quota in the user db and no file yet (no login or delivery by
	 * stored since it was set): made now, as stored would */
	if (rc == 0 && !recalc && strcmp(def, "0S") != 0 && !q.has_storage)
		rc = quota_recalc(fd, def, &q);
	if (rc < 0)
		die("%s: maildirsize: %s", root, strerror(errno));
	close(fd);
	if (!q.has_storage && !q.has_messages) {
		printf("%s: no quota\n", canon);
		return 0;
	}
	printf("%s: storage %lld bytes", canon, (long long)q.storage_used);
	if (q.has_storage)
		printf(" of %llu", (unsigned long long)q.storage_limit);
	printf(", messages %lld", (long long)q.messages_used);
	if (q.has_messages)
		printf(" of %llu", (unsigned long long)q.message_limit);
	printf("\n");
	return 0;
}

int
cmd_quota_get(const struct ctl_args *a)
{
	return quota_cmd(a, 0);
}

int
cmd_quota_recalc(const struct ctl_args *a)
{
	return quota_cmd(a, 1);
}

/* posternctl quota set USER BYTES: user set --quota, then the definition
 * of maildirsize at once (as stored would at the next session), with the
 * usage recounted; 0 = no quota: maildirsize goes (no file, no quota). */
int
cmd_quota_set(const struct ctl_args *a)
{
	char root[CONFIG_PATH_MAX];
	struct ctl_args b = *a;
	uint64_t bytes;
	int fd;

	if (util_str_to_u64(a->argv[1], UINT64_MAX, &bytes) < 0)
		die("bad quota '%s' (bytes, 0 = none)", a->argv[1]);
	b.argc = 1;
	b.quota = a->argv[1];
	cmd_user_set(&b);
	if (bytes != 0)
		return quota_cmd(&b, 1);
	fd = user_mailroot(a->argv[0], "remove the quota of", root);
	if (unlinkat(fd, QUOTA_FILE, 0) < 0 && errno != ENOENT)
		die("%s: maildirsize: %s", root, strerror(errno));
	close(fd);
	printf("%s: no quota\n", a->argv[0]);
	return 0;
}

/* posternctl index rebuild USER: the IMAP index from the Maildir, reached
 * as cmd_deliver reaches it and written as the user (mindex.h says which
 * UIDs survive). */
int
cmd_index_rebuild(const struct ctl_args *a)
{
	char root[CONFIG_PATH_MAX], err[256], host[MAILDIR_HOST_MAX];
	int fd, n;

	maildir_host(host);
	fd = user_mailroot(a->argv[0], "rebuild", root);
	n = mindex_rebuild(fd, host, err, sizeof(err));
	if (n < 0)
		die("index rebuild of %s failed: %s", root, err);
	close(fd);
	printf("rebuilt the index of %s: %d folders\n", root, n);
	return 0;
}

int
cmd_config_dump(const struct ctl_args *a)
{
	if (a->flag_n)
		return config_dump_changed(&cfg, STDOUT_FILENO) < 0;
	return config_dump(&cfg, STDOUT_FILENO) < 0;
}

int
cmd_policy(const struct ctl_args *a)
{
	(void)a;
	policy_print(STDOUT_FILENO);
	return 0;
}

int
cmd_services(const struct ctl_args *a)
{
	(void)a;
	service_print(STDOUT_FILENO);
	return 0;
}

int
main(int argc, char **argv)
{
	return cli_run(argc, argv);
}
