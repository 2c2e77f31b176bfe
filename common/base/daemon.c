/* daemon.c - the shared start of exec'd children. */
#include "daemon.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"
#include "version.h"

static void __attribute__((noreturn))
usage(const struct daemon_args *a)
{
	fatal("reason=\"usage: postern-%s -c config%s%s\"", a->name, a->usage[0] ? " " : "",
	    a->usage);
}

/* Options, logging; returns the config's path. */
static const char *
boot_args(const struct daemon_args *a, int argc, char **argv)
{
	const char *cfgpath = "/etc/postern/postern.conf";
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char letters[64], prog[48];
	int opt;

	log_init(a->name);
	snprintf(prog, sizeof(prog), "postern-%s", a->name);
	if (snprintf(letters, sizeof(letters), "c:hV%s", a->opts) >= (int)sizeof(letters))
		fatal("reason=\"too many options\"");
	while ((opt = getopt_long(argc, argv, letters, longopts, NULL)) != -1) {
		if (opt == 'c')
			cfgpath = optarg;
		else if (opt == 'h' || opt == 'V')
			version_or_help(prog, opt);
		else if (opt == '?' || a->opt == NULL)
			usage(a);
		else {
			if (opt == 's')
				log_set_session(optarg);
			if (a->opt(a->ctx, opt, optarg) < 0)
				usage(a);
		}
	}
	if (optind != argc)
		usage(a);
	return cfgpath;
}

void
daemon_boot(const struct daemon_args *a, int argc, char **argv, struct config *cfg)
{
	const char *cfgpath = boot_args(a, argc, argv);
	char err[512];

	if (config_load(cfg, cfgpath, err, sizeof(err)) < 0)
		fatal("reason=\"%s\"", err);
	config_close_passed(cfgpath);
	signal(SIGPIPE, SIG_IGN);
}

const struct config *
daemon_boot_map(const struct daemon_args *a, int argc, char **argv)
{
	const char *cfgpath = boot_args(a, argc, argv);
	const struct config *cfg;
	char err[512];

	if ((cfg = config_map(cfgpath, err, sizeof(err))) == NULL)
		fatal("reason=\"%s\"", err);
	config_close_passed(cfgpath);
	signal(SIGPIPE, SIG_IGN);
	return cfg;
}
