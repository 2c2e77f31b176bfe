/* test_config.c - defaults, parsing, line-numbered errors, mail root
 * expansion, the children's snapshot. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../common/base/config.h"
#include "tap.h"

static struct config cfg;
static char err[256];

static int
parse(const char *text)
{
	config_defaults(&cfg);
	err[0] = '\0';
	return config_parse(&cfg, "t.conf", text, strlen(text), err, sizeof(err));
}

/* The text fails with an error that starts with prefix and contains reason. */
static int
fails_at(const char *text, const char *prefix, const char *reason)
{
	return parse(text) == -1 && strncmp(err, prefix, strlen(prefix)) == 0 &&
	    strstr(err, reason) != NULL;
}

static void
test_mail_root_canonical(void)
{
	static const char *const bad[] = {
		"mail_root = /var/mail/%d/%n/\n", "mail_root = /var//mail/%d/%n\n",
		"mail_root = /var/./mail/%d/%n\n", "mail_root = /var/mail/../%n\n",
		"mail_root = Maildir\n", "MAILDIRPATH = \"Maildir\"\n", "mail_root = /\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(fails_at(bad[i], "t.conf:", "mail_root must expand to an absolute path"),
		    "non-canonical mail_root refused at load");
	CHECK(parse("mail_root = /srv/mail/%d/%n/Maildir\n") == 0, "canonical mail_root accepted");
	CHECK(config_path_canonical("/a/b") && !config_path_canonical("/a/b/") &&
	    !config_path_canonical("a/b") && !config_path_canonical("/a//b") &&
	    !config_path_canonical("/a/./b") && !config_path_canonical("/a/..") &&
	    !config_path_canonical("/") && config_path_canonical("/a/.b/..c"),
	    "config_path_canonical");
}

static void
test_defaults(void)
{
	config_defaults(&cfg);
	CHECK(cfg.max_daemons == 200, "default max_daemons 200");
	CHECK(cfg.max_per_ip == 20, "default max_per_ip 20");
	CHECK(cfg.pop3_max_line == 1024, "default pop3_max_line 1024");
	CHECK(!strcmp(cfg.mail_root_template, "/var/mail/%d/%n"), "default mail_root");
	CHECK(!strcmp(cfg.default_domain, "localhost"), "default default_domain");
	CHECK(cfg.test_triggers == 0 && cfg.debug_seccomp == 0, "default booleans off");
	CHECK(cfg.auth_uid == 7001 && cfg.mail_gid == 7100, "default ids");
	CHECK(cfg.auth_ipv6_prefix == 64 && cfg.auth_max_checks_per_second == 200 &&
	    cfg.auth_trusted_window == 604800, "default auth throttle keys");
	CHECK(parse("") == 0 && cfg.max_daemons == 200, "empty file keeps defaults");
}

static void
test_values(void)
{
	CHECK(parse("max_daemons = 5\nmax_per_ip=3\n") == 0 && cfg.max_daemons == 5 &&
	    cfg.max_per_ip == 3, "numbers set");
	CHECK(parse("  pop3_max_line\t=\t2048  \n") == 0 && cfg.pop3_max_line == 2048,
	    "spaces and tabs around key and value");
	CHECK(parse("state_dir = /srv/postern\n") == 0 && !strcmp(cfg.state_dir, "/srv/postern"),
	    "path set");
	CHECK(parse("default_domain = example.org") == 0 && !strcmp(cfg.default_domain, "example.org"),
	    "last line without newline");
	CHECK(parse("debug_seccomp = on\ntest_triggers = 1\n") == 0 &&
	    cfg.debug_seccomp == 1 && cfg.test_triggers == 1, "booleans on");
	CHECK(parse("test_triggers = false\n") == 0 && cfg.test_triggers == 0, "boolean off");
	CHECK(parse("MAXDAEMONS=\"40\"\n") == 0 && cfg.max_daemons == 40, "Courier alias, quoted value");
	CHECK(parse("MAXPERIP=7\n") == 0 && cfg.max_per_ip == 7, "Courier alias MAXPERIP");
	CHECK(parse("# comment\n\n   \n\t# indented comment\nmax_daemons = 9\n") == 0 &&
	    cfg.max_daemons == 9, "comments and blank lines");
	CHECK(parse("max_daemons = 11\r\n# c\r\n\r\nmax_per_ip = 12\r\n") == 0 &&
	    cfg.max_daemons == 11 && cfg.max_per_ip == 12, "CRLF line ends");
	CHECK(parse("max_daemons = 1\nmax_per_ip = 100000\n") == 0, "range bounds inclusive");
	CHECK(parse("auth_fail_delay_ms = 0\n") == 0 && cfg.auth_fail_delay_ms == 0, "zero where allowed");
	CHECK(fails_at("auth_ipv6_prefix = 31\n", "t.conf:1:", "out of range") &&
	    fails_at("auth_ipv6_prefix = 129\n", "t.conf:1:", "out of range") &&
	    fails_at("auth_max_checks_per_second = 0\n", "t.conf:1:", "out of range"),
	    "auth_ipv6_prefix 32-128, auth_max_checks_per_second at least 1");
	CHECK(parse("pop3_listen = \n") == 0 && cfg.pop3_listen[0] == '\0', "empty string value");
}

static void
test_errors(void)
{
	char text[4096];

	CHECK(fails_at("bogus = 1\n", "t.conf:1:", "unknown key"), "unknown key, line 1");
	CHECK(fails_at("# c\n\nmax_daemons = 3\nnonsense\n", "t.conf:4:", "expected"), "missing '=', line 4");
	CHECK(fails_at("max_daemons = 0\n", "t.conf:1:", "out of range"), "below range");
	CHECK(fails_at("\nmax_daemons = 100001\n", "t.conf:2:", "out of range"), "above range, line 2");
	CHECK(fails_at("pop3_max_line = 63\n", "t.conf:1:", "out of range"), "pop3_max_line below 64");
	CHECK(fails_at("max_daemons = 12a\n", "t.conf:1:", "not a decimal"), "non-number");
	CHECK(fails_at("max_daemons = -1\n", "t.conf:1:", "not a decimal"), "negative number");
	CHECK(fails_at("max_daemons =\n", "t.conf:1:", "not a decimal"), "empty number");
	CHECK(fails_at("max_daemons = 99999999999999999999999\n", "t.conf:1:", "not a decimal"),
	    "number too long");
	CHECK(fails_at("test_triggers = maybe\n", "t.conf:1:", "yes/no"), "bad boolean");
	CHECK(fails_at("max_daemons = 3\n#\nmax_daemons = 4\n", "t.conf:3:", "twice"), "key set twice");
	CHECK(fails_at("max_daemons = 3\nMAXDAEMONS = 4\n", "t.conf:2:", "twice"), "key and alias both set");
	CHECK(fails_at("#a\nmax_daemons = 2\nstate_dir = var/lib\n", "t.conf:3:", "absolute"), "relative path, line 3");
	CHECK(fails_at("userdb = \n", "t.conf:1:", "absolute"), "empty path");
	memset(text, 'x', sizeof(text));
	memcpy(text, "max_daemons = 1\n# ", 18);
	text[18 + 2100] = '\n';
	text[18 + 2101] = '\0';
	CHECK(fails_at(text, "t.conf:2:", "too long"), "line too long, line 2");
	memcpy(text, "default_domain = ", 17);
	memset(text + 17, 'a', 1100);
	text[1117] = '\0';
	CHECK(fails_at(text, "t.conf:1:", "too long"), "value too long for the field");
	config_defaults(&cfg);
	CHECK(config_parse(&cfg, "t.conf", "max_daemons = 3\nmax\0_per_ip = 4\n", 32, err, sizeof(err)) == -1 &&
	    !strncmp(err, "t.conf:2:", 9) && strstr(err, "NUL") != NULL, "NUL byte, line 2");
	CHECK(fails_at("a\r\nb\r\nc = 1\r\n", "t.conf:1:", "expected"), "first error wins");
	CHECK(fails_at("\n\n\n\n\n\n\n\n\nzz = 1\n", "t.conf:10:", "unknown key"), "line 10");
	CHECK(fails_at("max_daemons\n", "t.conf:1:", "expected"), "key without '='");
	CHECK(fails_at("= 5\n", "t.conf:1:", "unknown key"), "empty key");
	CHECK(fails_at("MAX_DAEMONS = 5\n", "t.conf:1:", "unknown key"), "keys are case-sensitive");
}

static int
expand(const char *tmpl, const char *user, char *out, size_t outlen)
{
	memset(out, '#', outlen);
	return config_expand_mailroot(tmpl, user, out, outlen);
}

static void
test_expand(void)
{
	char out[64];

	CHECK(expand("/var/mail/%d/%n", "demo@example.org", out, sizeof(out)) == 0 &&
	    !strcmp(out, "/var/mail/example.org/demo"), "expand %d/%n");
	CHECK(expand("/m/%u/x", "demo@example.org", out, sizeof(out)) == 0 &&
	    !strcmp(out, "/m/demo@example.org/x"), "expand %u");
	CHECK(expand("/m/100%%/%n", "a@b", out, sizeof(out)) == 0 && !strcmp(out, "/m/100%/a"), "expand %%");
	CHECK(expand("/m/%n", "plain", out, sizeof(out)) == 0 && !strcmp(out, "/m/plain"), "no domain");
	CHECK(expand("/m/%x", "a@b", out, sizeof(out)) == -1, "unknown %x refused");
	CHECK(expand("/m/%", "a@b", out, sizeof(out)) == -1, "trailing % refused");
	CHECK(expand("/m/%n", "../x@b", out, sizeof(out)) == -1, "'../' in local part refused");
	CHECK(expand("/m/%n", "..@b", out, sizeof(out)) == -1, "'..' local part refused");
	CHECK(expand("/m/%n", ".@b", out, sizeof(out)) == -1, "'.' local part refused");
	CHECK(expand("/m/%n", "@b", out, sizeof(out)) == -1, "empty local part refused");
	CHECK(expand("/m/%d", "a@", out, sizeof(out)) == -1, "empty domain refused");
	CHECK(expand("/m/%d", "a@..", out, sizeof(out)) == -1, "'..' domain refused");
	CHECK(expand("/m/%d", "a@x/y", out, sizeof(out)) == -1, "'/' in domain refused");
	CHECK(expand("/m/%n", "", out, sizeof(out)) == -1, "empty user refused");
	CHECK(expand("/var/mail/%d/%n", "demo@example.org", out, 27) == 0 &&
	    !strcmp(out, "/var/mail/example.org/demo"), "output exactly fits");
	CHECK(expand("/var/mail/%d/%n", "demo@example.org", out, 26) == -1, "output one too small");
	CHECK(expand("/var/mail/%d/%n", "demo@example.org", out, 5) == -1, "output too small");
	CHECK(expand("", "a@b", out, 1) == 0 && out[0] == '\0', "empty template");
}

/* Load text[] as the children load the master's snapshot. */
static int
snapshot_roundtrip(const struct config *c, struct config *child)
{
	static char text[CONFIG_TEXT_MAX];
	long n = config_format(c, text, sizeof(text));

	if (n < 0 || (size_t)n >= sizeof(text))
		return -1;
	config_defaults(child);
	return config_parse(child, "snapshot", text, (size_t)n, err, sizeof(err));
}

static int
env(const char *a, const char *b)
{
	char *envp[3] = { (char *)a, (char *)b, NULL };

	config_defaults(&cfg);
	err[0] = '\0';
	return config_apply_env(&cfg, envp, err, sizeof(err));
}

static void
test_env(void)
{
	static struct config child;
	char small[16];
	long n;

	CHECK(env("POSTERN_HOSTNAME=not a host!", NULL) == -1 &&
	    strstr(err, "not a valid DNS name") != NULL, "env: hostname checked as in the file");
	CHECK(env("POSTERN_DEFAULT_DOMAIN=a.example\nmax_daemons = 1", NULL) == -1 &&
	    strstr(err, "POSTERN_DEFAULT_DOMAIN: control character") != NULL,
	    "env: embedded newline refused");
	CHECK(env("POSTERN_PROXY_TRUSTED=10.0.0.0/8\r", NULL) == -1, "env: CR refused");
	CHECK(env("POSTERN_MAIL_ROOT=/m/%d/%n/", NULL) == -1 && strstr(err, "mail_root") != NULL,
	    "env: mail_root checked");
	CHECK(env("POSTERN_DEFAULT_DOMAIN=  padded.example ", "POSTERN_MAX_DAEMONS=7") == 0 &&
	    snapshot_roundtrip(&cfg, &child) == 0 &&
	    !strcmp(child.default_domain, "  padded.example ") && child.max_daemons == 7,
	    "env: padded value survives the snapshot");
	CHECK(env("POSTERN_POP3_LISTEN=\"127.0.0.1:110\"", NULL) == 0 &&
	    snapshot_roundtrip(&cfg, &child) == 0 &&
	    !strcmp(child.pop3_listen, "\"127.0.0.1:110\""), "env: quotes are kept as given");
	CHECK(parse("default_domain = \" a\tb \"\n") == 0 && snapshot_roundtrip(&cfg, &child) == 0 &&
	    !strcmp(child.default_domain, " a\tb "), "file: quoted blanks survive the snapshot");
	config_defaults(&cfg);
	n = config_format(&cfg, NULL, 0);
	memset(small, 'x', sizeof(small));
	CHECK(n > 0 && config_format(&cfg, small, sizeof(small)) == n &&
	    small[sizeof(small) - 1] == '\0' && !strncmp(small, "state_dir = \"", 13),
	    "config_format: snprintf-like on a short buffer");
}

static void
test_lmtp(void)
{
	CHECK(parse("") == 0 && cfg.lmtp_listen[0] == '\0' && cfg.lmtp_max_recipients == 100 &&
	    cfg.lmtp_max_message_size == 50u * 1024 * 1024 && cfg.lmtp_max_line == 4096 &&
	    cfg.lmtp_idle_timeout == 300 && cfg.lmtp_max_bad_commands == 10 &&
	    !cfg.lmtp_tls_required && cfg.pop3_tls_required, "lmtp defaults: off, 100 rcpts, 50 MiB");
	CHECK(parse("lmtp_listen = /run/postern/lmtp, 127.0.0.1:24\nlmtp_max_recipients = 1000\n") == 0 &&
	    cfg.lmtp_max_recipients == 1000, "lmtp keys parse");
	CHECK(fails_at("lmtp_max_recipients = 1001\n", "t.conf:1:", "out of range"),
	    "lmtp_max_recipients <= MASTERPROTO_RCPT_MAX");
	CHECK(fails_at("lmtp_max_message_size = 268435457\n", "t.conf:1:", "out of range"),
	    "lmtp_max_message_size <= STORE_DELIVER_MAX");
	CHECK(fails_at("lmtp_tls_required = yes\n", "t.conf:", "offers no STARTTLS"),
	    "lmtp_tls_required = yes refused");
}

static void
count_trash(void *ctx, const char *name, unsigned days)
{
	unsigned *n = ctx;

	*n += days + (unsigned)strlen(name) * 1000;
}

static void
test_imap(void)
{
	unsigned n = 0;

	CHECK(parse("") == 0 && !strcmp(cfg.imap_listen, "0.0.0.0:143") && cfg.imaps_listen[0] == '\0' &&
	    !strcmp(cfg.imap_namespace, "INBOX.") && !strcmp(cfg.imap_separator, ".") &&
	    cfg.imap_tls_required && cfg.imap_idle_timeout == 1800 && cfg.imap_keywords &&
	    cfg.imap_max_line == 65536, "imap defaults: Courier's namespace, 30 min autologout");
	CHECK(parse("IMAP_TLS_REQUIRED = no\nIMAP_KEYWORDS = no\nIMAP_IDLE_TIMEOUT = 5\n") == 0 &&
	    !cfg.imap_tls_required && !cfg.imap_keywords && cfg.imap_idle_check == 5,
	    "Courier's imapd names are aliases");
	CHECK(parse("imap_namespace = \"\"\nimap_separator = /\n") == 0 && cfg.imap_namespace[0] == '\0',
	    "Dovecot's layout: no prefix, separator /");
	CHECK(fails_at("imap_separator = :\n", "t.conf:", "imap_separator must be"), "separator . or /");
	CHECK(fails_at("imap_separator = //\n", "t.conf:1:", "value too long"), "separator is one byte");
	CHECK(fails_at("imap_namespace = INBOX\n", "t.conf:", "ending in imap_separator"),
	    "namespace must end in the separator");
	CHECK(fails_at("imap_namespace = IN*BOX.\n", "t.conf:", "imap_namespace"), "no wildcard in it");
	CHECK(parse("") == 0 && !strcmp(cfg.recipient_delimiter, "+") &&
	    parse("recipient_delimiter = \"\"\n") == 0 && cfg.recipient_delimiter[0] == '\0' &&
	    parse("recipient_delimiter = +-\n") == 0, "recipient_delimiter: + by default, may be off");
	CHECK(fails_at("recipient_delimiter = @\n", "t.conf:", "recipient_delimiter") &&
	    fails_at("recipient_delimiter = +-_=.#~x\n", "t.conf:1:", "value too long"),
	    "recipient_delimiter: no @, at most 7 characters");
	CHECK(parse("") == 0 && cfg.postmaster[0] == '\0' &&
	    parse("postmaster = admin@example.org\n") == 0 &&
	    !strcmp(cfg.postmaster, "admin@example.org"), "postmaster: empty by default, an address");
	CHECK(fails_at("postmaster = admin\n", "t.conf", "not an address") &&
	    fails_at("postmaster = a@b@c\n", "t.conf", "not an address") &&
	    fails_at("postmaster = @b\n", "t.conf", "not an address"), "postmaster: local@domain only");
	CHECK(parse("") == 0 && cfg.smtp_greet_pause == 0 && parse("smtp_greet_pause = 6000\n") == 0 &&
	    cfg.smtp_greet_pause == 6000, "smtp_greet_pause: off by default, milliseconds");
	CHECK(fails_at("smtp_greet_pause = 60001\n", "t.conf:1:", "out of range"),
	    "smtp_greet_pause: at most 60 s");
	CHECK(parse("") == 0 && !strcmp(cfg.smtp_bad_mime, "accept") && cfg.smtp_mime_max_depth == 20 &&
	    parse("smtp_bad_mime = wrap\n") == 0 && !strcmp(cfg.smtp_bad_mime, "wrap") &&
	    parse("BOFHBADMIME=reject\n") == 0 && !strcmp(cfg.smtp_bad_mime, "reject"),
	    "smtp_bad_mime: accept by default, Courier's BOFHBADMIME as its alias");
	CHECK(fails_at("smtp_bad_mime = bounce\n", "t.conf", "accept, reject or wrap") &&
	    fails_at("smtp_mime_max_depth = 65\n", "t.conf:1:", "out of range") &&
	    fails_at("smtp_mime_max_depth = 0\n", "t.conf:1:", "out of range"),
	    "smtp_bad_mime: one of three words; smtp_mime_max_depth 1..64");
	CHECK(parse("") == 0 && cfg.smtp_dnsbl[0] == '\0' && !strcmp(cfg.smtp_dnsbl_fail, "accept") &&
	    !strcmp(cfg.dns_resolvers, "127.0.0.1:53") && cfg.dns_timeout_ms == 2000 &&
	    cfg.resolverd_uid == 7005 &&
	    parse("smtp_dnsbl = zen.example.org bl.test=127.0.0.2,127.0.0.4\n"
	    "dns_resolvers = 127.0.0.1:5353, [::1]:53\nsmtp_dnsbl_fail = tempfail\n") == 0,
	    "DNSBL keys: off by default, zones with filters, two resolvers");
	CHECK(fails_at("resolverd_uid = 7004\n", "t.conf", "resolverd_uid and auth_helper_uid are both "
	    "7004") && fails_at("worker_uid = 7100\n", "t.conf", "worker_uid and mail_uid are both"),
	    "every kind of process has a uid of its own");
	CHECK(fails_at("smtp_dnsbl = bl..test\n", "t.conf", "smtp_dnsbl: 'bl..test' is not a zone") &&
	    fails_at("smtp_dnsbl = bl.test=127.0.0.x\n", "t.conf", "IPv4 addresses") &&
	    fails_at("smtp_dnsbl_fail = maybe\n", "t.conf", "accept or tempfail") &&
	    fails_at("smtp_dnsbl = bl.test\ndns_resolvers = localhost:53\n", "t.conf",
	    "not a numeric address:port") &&
	    fails_at("smtp_dnsbl = bl.test\ndns_resolvers = 1.1.1.1:53 2.2.2.2:53 3.3.3.3:53 "
	    "4.4.4.4:53\n", "t.conf", "at most 3") &&
	    fails_at("smtp_dnsbl = bl.test\ndns_resolvers =\n", "t.conf", "no resolver") &&
	    fails_at("dns_resolvers = localhost:53\n", "t.conf", "not a numeric") &&
	    parse("dns_resolvers =\n") == 0 &&
	    fails_at("dns_timeout_ms = 99\n", "t.conf:1:", "out of range"),
	    "DNSBL keys: zones, filters, words and resolvers checked (empty resolvers only without zones)");
	CHECK(parse("") == 0 && cfg.alias_max_targets == 16 && cfg.alias_max_depth == 8 &&
	    parse("alias_max_targets = 32\nalias_max_depth = 16\n") == 0 &&
	    fails_at("alias_max_targets = 33\n", "t.conf:1:", "out of range") &&
	    fails_at("alias_max_depth = 0\n", "t.conf:1:", "out of range"),
	    "alias_max_targets 1..32 (16), alias_max_depth 1..16 (8)");
	CHECK(parse("default_domain = example.com\nlocal_domains = localhost, host.example.com ,x.test,\n")
	    == 0 && parse("local_domains = \"\"\n") == 0, "local_domains: a list of domain names");
	CHECK(fails_at("default_domain = example.com\nlocal_domains = localhost,,x.test\n", "t.conf",
	    "not a domain name") &&
	    fails_at("default_domain = example.com\nlocal_domains = a..b\n", "t.conf", "not a domain name") &&
	    fails_at("default_domain = example.com\nlocal_domains = Example.COM\n", "t.conf",
	    "default_domain other than") &&
	    fails_at("default_domain = \"\"\nlocal_domains = localhost\n", "t.conf", "needs a default_domain"),
	    "local_domains: names only, never default_domain itself, and only with one");
	CHECK(parse("imap_empty_trash = Trash:7,Junk:30\n") == 0 &&
	    config_empty_trash(cfg.imap_empty_trash, count_trash, &n) == 0 && n == 5007 + 4030,
	    "imap_empty_trash: folder:days pairs");
	CHECK(fails_at("imap_empty_trash = Trash\n", "t.conf:", "imap_empty_trash") &&
	    fails_at("imap_empty_trash = Trash:0\n", "t.conf:", "imap_empty_trash") &&
	    fails_at("imap_empty_trash = :7\n", "t.conf:", "imap_empty_trash") &&
	    fails_at("imap_empty_trash = Trash:99999\n", "t.conf:", "imap_empty_trash"),
	    "imap_empty_trash: malformed lists refused");
}

/* A snapshot as the master writes it, loaded as a child loads it: the
 * struct when the layout matches, the text after it when it does not
 * (a header of another build), the same values both ways. */
static void
test_snapshot(void)
{
	static struct config want, got;
	char path[64];
	uint64_t fp;
	int fd;

	CHECK(parse("pop3_listen = 127.0.0.1:1110\nmax_daemons = 77\ndefault_domain = example.org\n")
	    == 0, "a config");
	want = cfg;
	fd = memfd_create("snap", MFD_CLOEXEC);
	CHECK(fd > 2 && config_snapshot(&want, fd) == 0, "config_snapshot writes");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	memset(&got, 0x5a, sizeof(got));
	CHECK(config_load(&got, path, err, sizeof(err)) == 0 && memcmp(&got, &want, sizeof(got)) == 0,
	    "the same layout: the struct, byte for byte");
	{
		const struct config *m = config_map(path, err, sizeof(err));

		CHECK(m != NULL && memcmp(m, &want, sizeof(*m)) == 0, "config_map: the mapped struct");
		if (m != NULL)
			munmap((void *)m, sizeof(*m));
	}
	/* another build's fingerprint (bytes 8..15 of the header) */
	CHECK(pread(fd, &fp, sizeof(fp), 8) == (ssize_t)sizeof(fp), "read the fingerprint");
	fp ^= 1;
	CHECK(pwrite(fd, &fp, sizeof(fp), 8) == (ssize_t)sizeof(fp), "change it");
	memset(&got, 0x5a, sizeof(got));
	CHECK(config_load(&got, path, err, sizeof(err)) == 0 && got.max_daemons == 77 &&
	    !strcmp(got.pop3_listen, "127.0.0.1:1110") && !strcmp(got.default_domain, "example.org") &&
	    !strcmp(got.imap_listen, want.imap_listen), "another layout: the text, the same values");
	{
		const struct config *m = config_map(path, err, sizeof(err));

		CHECK(m != NULL && m->max_daemons == 77 && !strcmp(m->default_domain, "example.org"),
		    "config_map of another layout: parsed into pages of its own");
		if (m != NULL)
			munmap((void *)m, sizeof(*m));
	}
	close(fd);
}

int
main(void)
{
	test_snapshot();
	test_defaults();
	test_lmtp();
	test_imap();
	test_mail_root_canonical();
	test_values();
	test_errors();
	test_expand();
	test_env();
	return tap_done();
}
