/* cli.c - posternctl's command table, option parsing, usage and help.
 *
 * Every command is one row: its words, its usage, the options it takes and
 * how many operands.  Options may come before or after the operands
 * (`user add zed -p pw`, `user add -p pw zed`); an operand that looks like
 * an option (`-x`, `--help` after `--`) or one too many is a usage error
 * (exit 2) before anything is opened, and `COMMAND --help` prints that
 * command's usage and does nothing else. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/base/version.h"
#include "../../common/mail/aliases.h"
#include "ctl.h"

#define SCHEMES "yescrypt|sha512|bcrypt"

static const struct ctl_cmd commands[] = {
	{ .words = "user add", .run = cmd_user_add, .min_args = 1, .max_args = 1,
	  .operands = "USER [-p PASSWORD] [-s " SCHEMES "] [-u UID -g GID] [-m MAILROOT] [-q QUOTA]",
	  .help = "create a user (its domain must exist); without -p the password is read from stdin",
	  .opts = "p:s:u:g:m:q:", .flags = CTL_STRICT },
	{ .words = "user del", .run = cmd_user_del, .min_args = 1, .max_args = 1,
	  .operands = "USER", .help = "delete a user (its Maildir is left in place)",
	  .flags = CTL_STRICT },
	{ .words = "user passwd", .run = cmd_user_passwd, .min_args = 1, .max_args = 1,
	  .operands = "USER [-p PASSWORD] [-s " SCHEMES "]",
	  .help = "set a new password (without -p: from stdin, asked twice on a terminal)",
	  .opts = "p:s:", .flags = CTL_STRICT },
	{ .words = "user set", .run = cmd_user_set, .min_args = 1, .max_args = 1,
	  .operands = "USER [--quota BYTES] [--uid UID --gid GID] [--mailroot PATH|''] "
	      "[--disable|--enable] [--deny|--allow pop3,imap,submission] [--rename NEWNAME]",
	  .help = "change a user's record in one transaction (uid/gid 0 and mailroot '' "
	      "mean the configured defaults; --deny switches logins over those services off, "
	      "--allow on again; --rename also retargets its aliases and keeps its mail where it is)",
	  .opts = "q:u:g:m:", .longonly = "DERNA", .flags = CTL_STRICT },
	{ .words = "user import", .run = cmd_user_import, .min_args = 2, .max_args = 2,
	  .operands = "FORMAT FILE [-n] [--update] [--allow-weak]",
	  .help = "import users with their password hashes; FORMAT courier (userdb), dovecot "
	      "(passwd-file) or csv (user,hash[,quota]); -n: only say what would be done; "
	      "--update: replace existing users' hashes; --allow-weak: also $1$, $2a$, DES, {PLAIN}",
	  .opts = "n", .longonly = "UW", .flags = CTL_STRICT },
	{ .words = "user list", .run = cmd_user_list, .operands = "",
	  .help = "list users (disabled ones are marked)" },
	{ .words = "user show", .run = cmd_user_show, .min_args = 1, .max_args = 1,
	  .operands = "USER", .help = "show a user's record (never the hash, only its scheme)" },
	{ .words = "user disable", .run = cmd_user_disable, .min_args = 1, .max_args = 1,
	  .operands = "USER", .help = "refuse the user's logins", .flags = CTL_STRICT },
	{ .words = "user enable", .run = cmd_user_enable, .min_args = 1, .max_args = 1,
	  .operands = "USER", .help = "allow the user's logins again", .flags = CTL_STRICT },
	{ .words = "domain add", .run = cmd_domain_add, .min_args = 1, .max_args = 1,
	  .operands = "DOMAIN", .help = "accept users and aliases in DOMAIN", .flags = CTL_STRICT },
	{ .words = "domain del", .run = cmd_domain_del, .min_args = 1, .max_args = 1,
	  .operands = "DOMAIN", .help = "remove a domain that has no users", .flags = CTL_STRICT },
	{ .words = "domain list", .run = cmd_domain_list, .operands = "", .help = "list domains" },
	{ .words = "alias add", .run = cmd_alias_add, .min_args = 2, .max_args = 1 + ALIASES_TARGETS_MAX,
	  .operands = "ADDRESS TARGET [TARGET...]", .help = "deliver mail for ADDRESS to each "
	      "TARGET, a user or another alias (each user once); with one user, also log in "
	      "ADDRESS as that user; @DOMAIN: the domain's catch-all, LOCAL (no @): a system "
	      "alias of every hosted domain, such as postmaster (both mail only, never logins)",
	  .flags = CTL_STRICT },
	{ .words = "alias del", .run = cmd_alias_del, .min_args = 1, .max_args = 1,
	  .operands = "ADDRESS", .help = "remove an alias", .flags = CTL_STRICT },
	{ .words = "alias list", .run = cmd_alias_list, .operands = "",
	  .help = "list aliases (ADDRESS -> TARGET, TARGET...)" },
	{ .words = "auth test", .run = cmd_auth_test, .min_args = 1, .max_args = 1,
	  .operands = "USER [-p PASSWORD]", .help = "say whether and why a login would fail",
	  .opts = "p:" },
	{ .words = "deliver", .run = cmd_deliver_args, .min_args = 1, .max_args = 1,
	  .operands = "USER < MESSAGE", .help = "deliver into USER's INBOX (as the user's uid)",
	  .flags = CTL_STRICT },
	{ .words = "quota get", .run = cmd_quota_get, .min_args = 1, .max_args = 1,
	  .operands = "USER", .help = "show USER's quota and usage from maildirsize (set the "
	      "limit with quota set)" },
	{ .words = "quota recalc", .run = cmd_quota_recalc, .min_args = 1, .max_args = 1,
	  .operands = "USER", .help = "recount USER's Maildir into maildirsize, with the user "
	      "db's quota as its limit", .flags = CTL_STRICT },
	{ .words = "quota set", .run = cmd_quota_set, .min_args = 2, .max_args = 2,
	  .operands = "USER BYTES", .help = "set USER's quota (user set --quota) and write it "
	      "into maildirsize now, usage recounted; 0 = none", .flags = CTL_STRICT },
	{ .words = "index rebuild", .run = cmd_index_rebuild, .min_args = 1, .max_args = 1,
	  .operands = "USER", .help = "recreate USER's IMAP index from the Maildir, keeping UIDs "
	      "(its own, Courier's courierimapuiddb or Dovecot's dovecot-uidlist) where it can",
	  .flags = CTL_STRICT },
	{ .words = "config check", .run = cmd_config_check, .operands = "",
	  .help = "load the config (file or -c none, then POSTERN_* variables) and say ok",
	  .flags = CTL_STRICT },
	{ .words = "config dump", .run = cmd_config_dump, .operands = "[-n]",
	  .help = "print every key with the value the master would use (-n: only those that "
	      "differ from the defaults)", .opts = "n", .flags = CTL_STRICT },
	{ .words = "policy", .run = cmd_policy, .operands = "",
	  .help = "print each process's uid, root, limits and system calls", .flags = CTL_NOCONFIG },
	{ .words = "services", .run = cmd_services, .operands = "",
	  .help = "print the service table", .flags = CTL_NOCONFIG },
	{ .words = "reload", .run = cmd_reload, .operands = "",
	  .help = "reload the running master's config (as SIGHUP); a config that does not load "
	      "is refused and the old one stays", .flags = CTL_STRICT },
	{ .words = "status", .run = cmd_status, .operands = "",
	  .help = "the running master: version, uptime, brokers, listeners, sessions", .flags = CTL_STRICT },
	{ .words = "who", .run = cmd_who, .operands = "",
	  .help = "one line per session: id, service, address, worker pid, age, user", .flags = CTL_STRICT },
	{ .words = "kick", .run = cmd_kick, .min_args = 1, .max_args = 1,
	  .operands = "SESSION|USER",
	  .help = "end a session (by its id) or every session of a user, with the protocol's "
	      "closing line", .flags = CTL_STRICT },
	{ .words = "throttle list", .run = cmd_throttle_list, .operands = "",
	  .help = "authd's live login-failure records (addresses and users), throttled first", .flags = CTL_STRICT },
	{ .words = "throttle clear", .run = cmd_throttle_clear, .min_args = 1, .max_args = 1,
	  .operands = "IP|USER", .help = "forget the failures of an address (its IPv6 prefix) "
	      "or of a user: their logins get a password check again", .flags = CTL_STRICT },
	{ .words = "stop", .run = cmd_stop, .operands = "[--drain SECONDS]",
	  .help = "stop the master; each session gets its protocol's shutdown line (with "
	      "--drain: no new connections, sessions may finish for up to SECONDS first)",
	  .longonly = "d", .flags = CTL_STRICT },
	{ .words = "health", .run = cmd_health, .operands = "",
	  .help = "exit 0 if the master serves (brokers up, keys loaded, accepting), else "
	      "1 with the reason: a container health check", .flags = CTL_STRICT },
	{ .words = "backup", .run = cmd_backup, .min_args = 1, .max_args = 1,
	  .operands = "DIR", .help = "copy the user db (consistent while running) and the config "
	      "into a new 0700 DIR", .flags = CTL_STRICT },
	{ .words = "restore", .run = cmd_restore, .min_args = 1, .max_args = 1,
	  .operands = "DIR", .help = "install the user db of backup DIR where none exists yet",
	  .flags = CTL_STRICT },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "scheme", required_argument, NULL, 's' },
	{ "uid", required_argument, NULL, 'u' },
	{ "gid", required_argument, NULL, 'g' },
	{ "mailroot", required_argument, NULL, 'm' },
	{ "quota", required_argument, NULL, 'q' },
	{ "disable", no_argument, NULL, 'D' },
	{ "enable", no_argument, NULL, 'E' },
	{ "update", no_argument, NULL, 'U' },
	{ "allow-weak", no_argument, NULL, 'W' },
	{ "drain", required_argument, NULL, 'd' },
	{ "rename", required_argument, NULL, 'R' },
	{ "deny", required_argument, NULL, 'N' },
	{ "allow", required_argument, NULL, 'A' },
	{ NULL, 0, NULL, 0 },
};

static const struct ctl_cmd *current;	/* for usage() */
static const char *current_group;	/* "user" when only the group is known */

static void
print_cmd(FILE *f, const struct ctl_cmd *c)
{
	fprintf(f, "  %s%s%s\n      %s\n", c->words, c->operands[0] ? " " : "", c->operands,
	    c->help);
}

/* Every command, or those whose first word is group. */
static void
print_usage(FILE *f, const char *group)
{
	size_t i, gl = group ? strlen(group) : 0;

	fputs("usage: posternctl [-c CONFIG | -c none] COMMAND [OPTIONS] OPERANDS\n"
	    "       posternctl -h | --help | -V | --version\n"
	    "  -c CONFIG  the config file (default $POSTERN_CONFIG, else /etc/postern/postern.conf);\n"
	    "             missing, it is fatal for commands that write\n"
	    "  -c none    no file: defaults and POSTERN_* environment variables only\n"
	    "  COMMAND --help prints that command's usage.\n"
	    "commands:\n", f);
	for (i = 0; i < NCOMMANDS; i++)
		if (group == NULL || (!strncmp(commands[i].words, group, gl) &&
		    commands[i].words[gl] == ' '))
			print_cmd(f, &commands[i]);
}

static void
print_cmd_usage(FILE *f, const struct ctl_cmd *c)
{
	fprintf(f, "usage: posternctl [-c CONFIG | -c none] %s%s%s\n  %s\n", c->words,
	    c->operands[0] ? " " : "", c->operands, c->help);
}

void
usage(void)
{
	if (current != NULL)
		print_cmd_usage(stderr, current);
	else
		print_usage(stderr, current_group);
	exit(2);
}

void
usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_verror(fmt, ap);
	va_end(ap);
	usage();
}

/* The row named by argv[0] (and argv[1]); *used_r words consumed. */
static const struct ctl_cmd *
find_command(int argc, char **argv, int *used_r)
{
	size_t i, l;

	for (i = 0; i < NCOMMANDS; i++) {
		const char *w = commands[i].words, *sp = strchr(w, ' ');
		l = sp ? (size_t)(sp - w) : strlen(w);
		if (strlen(argv[0]) != l || strncmp(argv[0], w, l) != 0)
			continue;
		if (sp == NULL) {
			*used_r = 1;
			return &commands[i];
		}
		current_group = argv[0];
		if (argc >= 2 && !strcmp(argv[1], sp + 1)) {
			*used_r = 2;
			return &commands[i];
		}
	}
	return NULL;
}

/* One option of c into a; 'h' sets *help. */
static void
take_option(const struct ctl_cmd *c, int opt, struct ctl_args *a, int *help)
{
	if (opt == 'h') {
		*help = 1;
		return;
	}
	if (strchr(c->opts ? c->opts : "", opt) == NULL &&
	    strchr(c->longonly ? c->longonly : "", opt) == NULL)
		usage_error("%s: option not accepted here", c->words);
	switch (opt) {
	case 'p': a->pass = optarg; break;
	case 's': a->scheme = optarg; break;
	case 'u': a->uid = optarg; break;
	case 'g': a->gid = optarg; break;
	case 'm': a->mailroot = optarg; break;
	case 'q': a->quota = optarg; break;
	case 'D': a->disable = 1; break;
	case 'E': a->enable = 1; break;
	case 'n': a->flag_n = 1; break;
	case 'U': a->update = 1; break;
	case 'W': a->allow_weak = 1; break;
	case 'd': a->drain = optarg; break;
	case 'R': a->rename = optarg; break;
	case 'N': a->deny = optarg; break;
	case 'A': a->allow = optarg; break;
	}
}

/* argv[0] is the command's last word; options anywhere, then operands. */
static void
parse_command(const struct ctl_cmd *c, int argc, char **argv, struct ctl_args *a)
{
	char shortopts[32];
	int opt, help = 0, i;

	/* ':' first: report a missing value ourselves, naming the command */
	snprintf(shortopts, sizeof(shortopts), ":h%s", c->opts ? c->opts : "");
	memset(a, 0, sizeof(*a));
	optind = 0;	/* glibc: a full re-initialisation, permuting again */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (opt == '?' || opt == ':')
			usage_error("%s: %s option '%s'", c->words, opt == ':' ? "a value is "
			    "missing after the" : "unknown", argv[optind - 1]);
		take_option(c, opt, a, &help);
	}
	if (help) {
		print_cmd_usage(stdout, c);
		exit(0);
	}
	a->argc = argc - optind;
	a->argv = argv + optind;
	for (i = 0; i < a->argc; i++)
		if (a->argv[i][0] == '-')
			usage_error("'%s': an operand may not start with '-'", a->argv[i]);
	if (a->argc < c->min_args)
		usage_error("%s: missing operand", c->words);
	if (a->argc > c->max_args)
		usage_error("%s: unexpected operand '%s'", c->words, a->argv[c->max_args]);
}

/* The file (or none), then the environment.  A missing file gives the
 * defaults with a warning for commands that only read, and is fatal for
 * the others: a typo must not write a default state directory. */
static void
load_config(const struct ctl_cmd *c)
{
	char err[512];

	if (c->flags & CTL_NOCONFIG)
		return;
	if (config_load_or_none(&cfg, cfgpath, err, sizeof(err)) < 0) {
		if (strcmp(cfgpath, CONFIG_NONE) == 0 || access(cfgpath, F_OK) == 0)
			die("%s", err);
		if (c->flags & CTL_STRICT)
			die("%s (-c none: defaults and POSTERN_* environment only)", err);
		config_defaults(&cfg);
		cfg_fell_back = 1;
		fprintf(stderr, "posternctl: %s not found, using defaults\n", cfgpath);
	}
	if (config_apply_env(&cfg, environ, err, sizeof(err)) < 0)
		die("%s", err);
}

/* -c CONFIG, -h, -V before the command ("+": stop at the first operand). */
static int
parse_global(int argc, char **argv)
{
	static const struct option global[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env = getenv("POSTERN_CONFIG");
	int opt;

	if (env != NULL && env[0] != '\0')
		cfgpath = env;
	while ((opt = getopt_long(argc, argv, "+c:hV", global, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cfgpath = optarg;
			break;
		case 'h':
			print_usage(stdout, NULL);
			exit(0);
		case 'V':
			printf("posternctl %s\n", version_string());
			exit(0);
		default:
			usage();
		}
	}
	return optind;
}

int
cli_run(int argc, char **argv)
{
	const struct ctl_cmd *c;
	struct ctl_args a;
	int first = parse_global(argc, argv), used = 0;

	argc -= first;
	argv += first;
	if (argc < 1)
		usage_error("no command");
	c = find_command(argc, argv, &used);
	if (c == NULL && current_group != NULL) {
		if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
			print_usage(stdout, current_group);
			exit(0);
		}
		usage_error("%s: unknown or missing subcommand", argv[0]);
	}
	if (c == NULL)
		usage_error("unknown command '%s'", argv[0]);
	current = c;
	parse_command(c, argc - used + 1, argv + used - 1, &a);
	load_config(c);
	return c->run(&a);
}
