/* config.c - key = value configuration with line-numbered errors. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "../auth/backendq.h"
#include "../auth/namechars.h"
#include "../net/dns.h"
#include "../net/netaddr.h"
#include "../net/x509.h"
#include "../proto/sasl.h"

enum config_type { CT_STR, CT_PATH, CT_NUM, CT_BOOL, CT_MODE };

struct config_key {
	const char *name;
	const char *alias;	/* Courier's name, or NULL */
	enum config_type type;
	size_t off;
	const char *def;
	uint64_t min, max;	/* CT_NUM range */
};

#define S(f) offsetof(struct config, f)
#define U32MAX 0xffffffffULL

/* The keys of a service's listeners and of a protocol's sessions come from
 * one descriptor each (config.h: CONFIG_LISTENER, CONFIG_PROTOCOL), so a new
 * service is one line here and one there, never hand-copied rows. */
#define LISTENER_KEYS(svc, listen_default)					\
	{ #svc "_listen", NULL, CT_STR, S(svc##_listen), listen_default, 0, 0 },	\
	{ #svc "_proxy_protocol", NULL, CT_BOOL, S(svc##_proxy_protocol), "no", 0, 0 }
#define PROTOCOL_KEYS(p, tls_alias, tls, max_line, idle, bad)			\
	{ #p "_tls_required", tls_alias, CT_BOOL, S(p##_tls_required), tls, 0, 0 },	\
	{ #p "_max_line", NULL, CT_NUM, S(p##_max_line), max_line, 64, 65536 },	\
	{ #p "_idle_timeout", NULL, CT_NUM, S(p##_idle_timeout), idle, 1, 86400 },	\
	{ #p "_max_bad_commands", NULL, CT_NUM, S(p##_max_bad_commands), bad, 1, 10000 }

static const struct config_key config_keys[] = {
	{ "state_dir", NULL, CT_PATH, S(state_dir), "/var/lib/postern", 0, 0 },
	{ "userdb", NULL, CT_PATH, S(userdb_path), "/var/lib/postern/userdb", 0, 0 },
	{ "mail_root", "MAILDIRPATH", CT_STR, S(mail_root_template), "/var/mail/%d/%n", 0, 0 },
	{ "empty_root", NULL, CT_PATH, S(empty_root), "/var/lib/postern/empty", 0, 0 },
	{ "libexec_dir", NULL, CT_STR, S(libexec_dir), "", 0, 0 },
	{ "default_domain", "DEFDOMAIN", CT_STR, S(default_domain), "localhost", 0, 0 },
	LISTENER_KEYS(pop3, "0.0.0.0:110"),
	LISTENER_KEYS(pop3s, ""),
	{ "pop3_worker", NULL, CT_STR, S(pop3_worker), "", 0, 0 },
	{ "lmtp_worker", NULL, CT_STR, S(lmtp_worker), "", 0, 0 },
	LISTENER_KEYS(lmtp, ""),
	LISTENER_KEYS(smtp, "0.0.0.0:25"),
	{ "smtp_worker", NULL, CT_STR, S(smtp_worker), "", 0, 0 },
	LISTENER_KEYS(imap, "0.0.0.0:143"),
	LISTENER_KEYS(imaps, ""),
	{ "imap_worker", NULL, CT_STR, S(imap_worker), "", 0, 0 },
	{ "tls_cert_file", "TLS_CERTFILE", CT_STR, S(tls_cert_file), "", 0, 0 },
	{ "tls_key_file", NULL, CT_STR, S(tls_key_file), "", 0, 0 },
	{ "tls_sni_dir", NULL, CT_STR, S(tls_sni_dir), "", 0, 0 },
	{ "hostname", NULL, CT_STR, S(hostname), "", 0, 0 },
	{ "proxy_trusted", NULL, CT_STR, S(proxy_trusted), "", 0, 0 },
	{ "tls_plaintext_loopback", NULL, CT_BOOL, S(tls_plaintext_loopback), "no", 0, 0 },
	{ "tls_legacy_suites", NULL, CT_BOOL, S(tls_legacy_suites), "no", 0, 0 },
	{ "tls_min_version", NULL, CT_NUM, S(tls_min_version), "12", 10, 12 },
	{ "tls_session_cache", NULL, CT_NUM, S(tls_session_cache), "10000", 0, 1000000 },
	{ "tls_cert_warn_days", NULL, CT_NUM, S(tls_cert_warn_days), "21", 0, 3650 },
	{ "keyd_uid", NULL, CT_NUM, S(keyd_uid), "7003", 1, U32MAX - 1 },
	{ "keyd_gid", NULL, CT_NUM, S(keyd_gid), "7003", 1, U32MAX - 1 },
	{ "max_daemons", "MAXDAEMONS", CT_NUM, S(max_daemons), "200", 1, CONFIG_MAX_DAEMONS_LIMIT },
	{ "max_per_ip", "MAXPERIP", CT_NUM, S(max_per_ip), "20", 1, 100000 },
	{ "listen_backlog", NULL, CT_NUM, S(listen_backlog), "1024", 1, 65535 },
	{ "restart_backoff_max", NULL, CT_NUM, S(restart_backoff_max), "30", 1, 3600 },
	{ "listen_unix_mode", NULL, CT_MODE, S(listen_unix_mode), "0660", 0, 0777 },
	{ "listen_unix_uid", NULL, CT_NUM, S(listen_unix_uid), "0", 0, U32MAX - 1 },
	{ "listen_unix_gid", NULL, CT_NUM, S(listen_unix_gid), "0", 0, U32MAX - 1 },
	/* the control socket (posternctl reload|status|who|kick|throttle|stop|
	 * health): "" = <state_dir>/control, "none" = off */
	{ "control_socket", NULL, CT_STR, S(control_socket), "", 0, 0 },
	{ "control_gid", NULL, CT_NUM, S(control_gid), "0", 0, U32MAX - 1 },
	{ "control_max_clients", NULL, CT_NUM, S(control_max_clients), "8", 1, 64 },
	{ "control_timeout", NULL, CT_NUM, S(control_timeout), "30", 1, 3600 },
	{ "broker_stall_timeout", NULL, CT_NUM, S(broker_stall_timeout), "10", 1, 3600 },
	{ "login_timeout", NULL, CT_NUM, S(login_timeout), "60", 1, 3600 },
	{ "preauth_max_percent", NULL, CT_NUM, S(preauth_max_percent), "75", 1, 100 },
	{ "log_level", NULL, CT_STR, S(log_level), "info", 0, 8 },
	{ "log_output", NULL, CT_STR, S(log_output), "stderr", 0, 8 },
	{ "log_syslog_socket", NULL, CT_PATH, S(log_syslog_socket), "/dev/log", 0, 0 },
	{ "log_max_lines_per_second", NULL, CT_NUM, S(log_max_lines_per_second), "200", 1, 1000000 },
	{ "auth_uid", NULL, CT_NUM, S(auth_uid), "7001", 1, U32MAX - 1 },
	{ "auth_gid", NULL, CT_NUM, S(auth_gid), "7001", 1, U32MAX - 1 },
	{ "worker_uid", NULL, CT_NUM, S(worker_uid), "7002", 1, U32MAX - 1 },
	{ "worker_gid", NULL, CT_NUM, S(worker_gid), "7002", 1, U32MAX - 1 },
	{ "mail_uid", NULL, CT_NUM, S(mail_uid), "7100", 1, U32MAX - 1 },
	{ "mail_gid", NULL, CT_NUM, S(mail_gid), "7100", 1, U32MAX - 1 },
	{ "auth_fail_ip_max", NULL, CT_NUM, S(auth_fail_ip_max), "10", 1, 1000000 },
	{ "auth_fail_user_max", NULL, CT_NUM, S(auth_fail_user_max), "50", 1, 1000000 },
	{ "auth_fail_window", NULL, CT_NUM, S(auth_fail_window), "300", 1, 86400 },
	{ "auth_fail_delay_ms", NULL, CT_NUM, S(auth_fail_delay_ms), "2000", 0, 60000 },
	{ "auth_trusted_window", NULL, CT_NUM, S(auth_trusted_window), "604800", 0, 2592000 },
	{ "auth_ipv6_prefix", NULL, CT_NUM, S(auth_ipv6_prefix), "64", 32, 128 },
	{ "auth_max_checks_per_second", NULL, CT_NUM, S(auth_max_checks_per_second), "200", 1, 100000 },
	{ "auth_username_chars", NULL, CT_STR, S(auth_username_chars), NAMECHARS_DEFAULT, 0, 256 },
	{ "auth_username_utf8", NULL, CT_BOOL, S(auth_username_utf8), "no", 0, 0 },
	{ "auth_username_max", NULL, CT_NUM, S(auth_username_max), "255", 1, 255 },
	{ "auth_mechanisms", NULL, CT_STR, S(auth_mechanisms), "PLAIN LOGIN SCRAM-SHA-256", 0, 128 },
	/* RFC 7677 4: at least 4096 */
	{ "scram_iterations", NULL, CT_NUM, S(scram_iterations), "4096", 4096, 10000000 },
	{ "auth_backends", "authmodulelist", CT_STR, S(auth_backends), "userdb", 0, 128 },
	{ "auth_backend_timeout_ms", NULL, CT_NUM, S(auth_backend_timeout_ms), "5000", 100, 60000 },
	{ "auth_helper_uid", NULL, CT_NUM, S(auth_helper_uid), "7004", 1, U32MAX - 1 },
	{ "auth_helper_gid", NULL, CT_NUM, S(auth_helper_gid), "7004", 1, U32MAX - 1 },
	{ "pgsql_connection", NULL, CT_STR, S(pgsql_connection), "", 0, 0 },
	{ "pgsql_password_file", NULL, CT_STR, S(pgsql_password_file), "", 0, 0 },
	{ "pgsql_password_query", NULL, CT_STR, S(pgsql_password_query), "", 0, 0 },
	{ "pgsql_user_query", NULL, CT_STR, S(pgsql_user_query), "", 0, 0 },
	{ "checkpw_command", NULL, CT_STR, S(checkpw_command), "", 0, 0 },
	{ "ldap_uri", NULL, CT_STR, S(ldap_uri), "", 0, 0 },
	{ "ldap_bind_dn", NULL, CT_STR, S(ldap_bind_dn), "", 0, 0 },
	{ "ldap_bind_password_file", NULL, CT_STR, S(ldap_bind_password_file), "", 0, 0 },
	{ "ldap_base", NULL, CT_STR, S(ldap_base), "", 0, 0 },
	{ "ldap_filter", NULL, CT_STR, S(ldap_filter), "(&(objectClass=posixAccount)(mail=$login))", 0, 0 },
	{ "ldap_user_dn", NULL, CT_STR, S(ldap_user_dn), "", 0, 0 },
	{ "ldap_auth", NULL, CT_STR, S(ldap_auth), "bind", 0, 16 },
	{ "ldap_starttls", NULL, CT_BOOL, S(ldap_starttls), "no", 0, 0 },
	{ "ldap_tls_ca_file", NULL, CT_STR, S(ldap_tls_ca_file), "/etc/ssl/certs/ca-certificates.crt", 0, 0 },
	{ "userdb_map_size", NULL, CT_NUM, S(userdb_map_size), "268435456", 1048576, 1ULL << 40 },
	PROTOCOL_KEYS(pop3, "POP3_TLS_REQUIRED", "yes", "1024", "600", "20"),
	/* a mailbox limit, not a POP3 one: the old name stays as an alias */
	{ "mailbox_max_messages", "pop3_max_messages", CT_NUM, S(pop3_max_messages), "1000000", 1, 100000000 },
	/* IMAP: RFC 9051 5.4's thirty minutes of autologout */
	PROTOCOL_KEYS(imap, "IMAP_TLS_REQUIRED", "yes", "65536", "1800", "20"),
	{ "imap_separator", NULL, CT_STR, S(imap_separator), ".", 0, 2 },
	{ "imap_namespace", NULL, CT_STR, S(imap_namespace), "INBOX.", 0, 64 },
	{ "imap_max_message_size", NULL, CT_NUM, S(imap_max_message_size), "52428800", 1024,
	  268435456 },
	{ "imap_max_literals", NULL, CT_NUM, S(imap_max_literals), "64", 1, 10000 },
	{ "imap_max_nesting", NULL, CT_NUM, S(imap_max_nesting), "32", 2, 256 },
	{ "imap_max_search_keys", NULL, CT_NUM, S(imap_max_search_keys), "4096", 16, 100000 },
	{ "imap_idle_check", "IMAP_IDLE_TIMEOUT", CT_NUM, S(imap_idle_check), "60", 1, 3600 },
	{ "imap_index_release_ms", NULL, CT_NUM, S(imap_index_release_ms), "100", 0, 3600000 },
	{ "imap_keywords", "IMAP_KEYWORDS", CT_BOOL, S(imap_keywords), "yes", 0, 0 },
	{ "imap_empty_trash", "IMAP_EMPTYTRASH", CT_STR, S(imap_empty_trash), "", 0, 256 },
	/* LMTP: a command line of 4096 (MAIL/RCPT with parameters), RFC 5321
	 * 4.5.3.2.7's five minutes, smtp_limits' ten errors */
	PROTOCOL_KEYS(lmtp, NULL, "no", "4096", "300", "10"),
	/* 1000 = MASTERPROTO_RCPT_MAX; 256 MiB = STORE_DELIVER_MAX */
	{ "lmtp_max_recipients", NULL, CT_NUM, S(lmtp_max_recipients), "100", 1, 1000 },
	{ "recipient_delimiter", NULL, CT_STR, S(recipient_delimiter), "+", 0, 8 },
	{ "lmtp_max_message_size", NULL, CT_NUM, S(lmtp_max_message_size), "52428800", 1024,
	  268435456 },
	/* SMTP, the MX: RFC 5321 4.5.3.2's five minutes, 4.5.3.1.8's 100
	 * recipients; the same bounds as LMTP's */
	PROTOCOL_KEYS(smtp, NULL, "no", "4096", "300", "10"),
	{ "smtp_max_recipients", NULL, CT_NUM, S(smtp_max_recipients), "100", 1, 1000 },
	/* 256 MiB = STORE_DELIVER_MAX, less room for the Received header */
	{ "smtp_max_message_size", NULL, CT_NUM, S(smtp_max_message_size), "52428800", 1024,
	  268435456 - 4096 },
	/* mail intake (recipients, the MX's greeting): where postmaster goes
	 * when no alias says (RFC 5321 4.5.1: every hosted domain takes it) */
	{ "postmaster", NULL, CT_STR, S(postmaster), "", 0, 256 },
	/* quotas at delivery: Dovecot's quota_full_tempfail (default off:
	 * 552 5.2.2), Courier's quotawarnmsg at 90% (0 = no warning) */
	{ "quota_full_reply", NULL, CT_STR, S(quota_full_reply), "permanent", 0, 16 },
	{ "quota_warn_percent", NULL, CT_NUM, S(quota_warn_percent), "90", 0, 100 },
	/* the Maildir++ convention: Trash is not counted */
	{ "quota_count_trash", NULL, CT_BOOL, S(quota_count_trash), "no", 0, 0 },
	/* SMTP greet pause (Postfix's postscreen_greet_wait): ms before the
	 * 220, a client that talks first is refused; 0 = off */
	{ "smtp_greet_pause", NULL, CT_NUM, S(smtp_greet_pause), "0", 0, 60000 },
	/* the MIME policy of smtpd and lmtpd (Courier's BOFHBADMIME): accept,
	 * reject or wrap a message that is not conformant MIME; the check's
	 * nesting of multiparts and messages (MIMECHECK_DEPTH_MAX) */
	{ "smtp_bad_mime", "BOFHBADMIME", CT_STR, S(smtp_bad_mime), "accept", 0, 16 },
	{ "smtp_mime_max_depth", NULL, CT_NUM, S(smtp_mime_max_depth), "20", 1, 64 },
	/* DNSBLs: off unless zones are listed; a failed lookup accepts the
	 * mail (Postfix's and Exim's default); a local resolver (DNSBL
	 * operators refuse queries that come through public ones); two
	 * seconds for every zone's answer */
	{ "smtp_dnsbl", NULL, CT_STR, S(smtp_dnsbl), "", 0, 0 },
	{ "smtp_dnsbl_fail", NULL, CT_STR, S(smtp_dnsbl_fail), "accept", 0, 16 },
	{ "dns_resolvers", NULL, CT_STR, S(dns_resolvers), "127.0.0.1:53", 0, 256 },
	{ "dns_timeout_ms", NULL, CT_NUM, S(dns_timeout_ms), "2000", 100, 30000 },
	{ "resolverd_uid", NULL, CT_NUM, S(resolverd_uid), "7005", 1, U32MAX - 1 },
	{ "resolverd_gid", NULL, CT_NUM, S(resolverd_gid), "7005", 1, U32MAX - 1 },
	/* aliases with several targets (Courier's and Postfix's aliases):
	 * users one address may reach (ALIASES_TARGETS_MAX), aliases in a
	 * chain (ALIASES_DEPTH_MAX) */
	{ "alias_max_targets", NULL, CT_NUM, S(alias_max_targets), "16", 1, 32 },
	{ "alias_max_depth", NULL, CT_NUM, S(alias_max_depth), "8", 1, 16 },
	/* Courier's locals: domains whose addresses are default_domain's */
	{ "local_domains", NULL, CT_STR, S(local_domains), "", 0, 0 },
	/* metrics: off unless listed; a request head of 8 KiB (what most
	 * servers take) with 64 fields, ten seconds */
	{ "metrics_listen", NULL, CT_STR, S(metrics_listen), "", 0, 0 },
	{ "metrics_worker", NULL, CT_STR, S(metrics_worker), "", 0, 0 },
	{ "metrics_max_request", NULL, CT_NUM, S(metrics_max_request), "8192", 256, 65536 },
	{ "metrics_max_headers", NULL, CT_NUM, S(metrics_max_headers), "64", 1, 1000 },
	{ "metrics_idle_timeout", NULL, CT_NUM, S(metrics_idle_timeout), "10", 1, 3600 },
	{ "worker_max_memory", NULL, CT_NUM, S(worker_max_memory), "268435456", 16777216, 1ULL << 40 },
	{ "debug_seccomp", NULL, CT_BOOL, S(debug_seccomp), "no", 0, 0 },
	{ "test_triggers", NULL, CT_BOOL, S(test_triggers), "no", 0, 0 },
};

#define NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static int
mode_parse(const char *v, uint64_t *n_r)
{
	uint64_t n = 0;
	size_t i;

	if (v[0] == '\0' || strlen(v) > 4)
		return -1;
	for (i = 0; v[i] != '\0'; i++) {
		if (v[i] < '0' || v[i] > '7')
			return -1;
		n = n * 8 + (uint64_t)(v[i] - '0');
	}
	*n_r = n;
	return 0;
}

static int
set_value(struct config *c, const struct config_key *k, const char *v, const char **why)
{
	char *base = (char *)c + k->off;
	uint64_t n;

	switch (k->type) {
	case CT_PATH:
		if (v[0] != '/') {
			*why = "must be an absolute path";
			return -1;
		}
		/* FALLTHROUGH */
	case CT_STR:
		/* max, when set, is the size of a string field smaller than a path */
		if (strlen(v) >= (k->max ? k->max : CONFIG_PATH_MAX)) {
			*why = "value too long";
			return -1;
		}
		memcpy(base, v, strlen(v) + 1);
		return 0;
	case CT_NUM:
		if (util_str_to_u64(v, UINT64_MAX, &n) < 0) {
			*why = "not a decimal number";
			return -1;
		}
		if (n < k->min || n > k->max) {
			*why = "out of range";
			return -1;
		}
		memcpy(base, &n, sizeof(n));
		return 0;
	case CT_MODE:	/* a file mode: octal, as chmod(1) writes it */
		if (mode_parse(v, &n) < 0 || n > k->max) {
			*why = "not an octal file mode (0000-0777)";
			return -1;
		}
		memcpy(base, &n, sizeof(n));
		return 0;
	case CT_BOOL:
		if (!strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "1"))
			n = 1;
		else if (!strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "0"))
			n = 0;
		else {
			*why = "not yes/no";
			return -1;
		}
		*(int *)(void *)base = (int)n;
		return 0;
	}
	*why = "bad key type";
	return -1;
}

void
config_defaults(struct config *c)
{
	const char *why;
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < NKEYS; i++)
		if (set_value(c, &config_keys[i], config_keys[i].def, &why) < 0)
			abort();	/* a default out of its own range: a build bug */
}

static const struct config_key *
find_key(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (!strcmp(name, config_keys[i].name))
			return &config_keys[i];
		if (config_keys[i].alias != NULL && !strcmp(name, config_keys[i].alias))
			return &config_keys[i];
	}
	return NULL;
}

/* find_key, trying config_keys[*hint] first, and the next one after a
 * match: a config dump (every worker's snapshot, config_format) lists the
 * keys in table order, so its lines are found one compare each instead of
 * a scan of the table each (which was most of a worker's start-up work
 * outside the kernel). */
static const struct config_key *
find_key_from(const char *name, size_t *hint)
{
	const struct config_key *k;

	if (*hint < NKEYS && strcmp(name, config_keys[*hint].name) == 0)
		k = &config_keys[*hint];
	else if ((k = find_key(name)) == NULL)
		return NULL;
	*hint = (size_t)(k - config_keys) + 1;
	return k;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Parse one line (already NUL-terminated, without '\n'). */
/* Levenshtein distance of two short names, capped: at most 64 bytes of
 * each are compared (keys are shorter). */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strnlen(a, 64), lb = strnlen(b, 64), i, j;
	size_t row[65];

	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0], up;
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t best = diag + (a[i - 1] != b[j - 1]);
			up = row[j];
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* "unknown key 'pop3_lisen' (did you mean pop3_listen?)": the nearest key
 * or alias within two edits, as doveconf and postconf suggest. */
static void
unknown_key(const char *key, char *msg, size_t msglen)
{
	const char *best = NULL;
	size_t i, d, bestd = 3;
	char q[72];

	for (i = 0; i < NKEYS; i++) {
		const char *names[2] = { config_keys[i].name, config_keys[i].alias };
		for (size_t n = 0; n < 2; n++) {
			if (names[n] == NULL || (d = edit_distance(key, names[n])) >= bestd)
				continue;
			bestd = d;
			best = names[n];
		}
	}
	log_quote(q, sizeof(q), key, (unsigned)strnlen(key, 64));
	if (best != NULL)
		snprintf(msg, msglen, "unknown key '%s' (did you mean %s?)", q, best);
	else
		snprintf(msg, msglen, "unknown key '%s'", q);
}

static int
parse_line(struct config *c, char *line, unsigned char *seen, size_t *hint, const char **why,
    char *msg, size_t msglen)
{
	const struct config_key *k;
	char *eq, *key, *val;
	size_t i;

	line = trim(line);
	if (line[0] == '\0' || line[0] == '#')
		return 0;
	eq = strchr(line, '=');
	if (eq == NULL) {
		*why = "expected key = value";
		return -1;
	}
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	/* Courier's files quote values: MAXDAEMONS="40". */
	i = strlen(val);
	if (i >= 2 && val[0] == '"' && val[i - 1] == '"') {
		val[i - 1] = '\0';
		val++;
	}
	k = find_key_from(key, hint);
	if (k == NULL) {
		unknown_key(key, msg, msglen);
		*why = msg;
		return -1;
	}
	i = (size_t)(k - config_keys);
	if (seen[i]) {
		*why = "key set twice";
		return -1;
	}
	seen[i] = 1;
	return set_value(c, k, val, why);
}

/* The template must expand to a canonical absolute path (a trailing '/',
 * '//' or "." would make the master refuse every login). */
static int
check_mail_root(const struct config *c, const char *name, char *err, size_t errlen)
{
	char probe[CONFIG_PATH_MAX];

	if (config_expand_mailroot(c->mail_root_template, "user@example.org", probe,
	    sizeof(probe)) < 0 || !config_path_canonical(probe)) {
		snprintf(err, errlen, "%s: mail_root must expand to an absolute path without "
		    "'.', '..', '//' or a trailing '/' (allowed: %%u %%n %%d %%%%)", name);
		return -1;
	}
	return 0;
}

/* default_domain completes login names: longer than a domain name can be,
 * no login without '@' would fit USERDB_NAME_MAX. */
static int
check_default_domain(const struct config *c, const char *name, char *err, size_t errlen)
{
	if (strlen(c->default_domain) > CONFIG_DOMAIN_MAX) {
		snprintf(err, errlen, "%s: default_domain is longer than %d bytes (the limit of a "
		    "domain name)", name, CONFIG_DOMAIN_MAX);
		return -1;
	}
	return 0;
}

/* The self-signed certificate's name must be a DNS name (RFC 1123). */
static int
check_hostname(const struct config *c, const char *name, char *err, size_t errlen)
{
	if (c->hostname[0] != '\0' &&
	    !x509_host_valid((const uint8_t *)c->hostname, strlen(c->hostname))) {
		snprintf(err, errlen, "%s: hostname '%.100s' is not a valid DNS name", name, c->hostname);
		return -1;
	}
	return 0;
}

/* LMTP offers no STARTTLS (its clients are the local MTA, on a unix socket
 * or loopback): a required TLS could never be met.  SMTP offers it but may
 * not require it. */
static int
check_lmtp(const struct config *c, const char *name, char *err, size_t errlen)
{
	if (c->lmtp_tls_required) {
		snprintf(err, errlen, "%s: lmtp_tls_required = yes cannot be met: LMTP offers no "
		    "STARTTLS (listen on a unix socket or loopback)", name);
		return -1;
	}
	/* RFC 3207 4: a publicly referenced MX must not require TLS */
	if (c->smtp_tls_required) {
		snprintf(err, errlen, "%s: smtp_tls_required = yes is not supported: the MX takes "
		    "mail from any server, which may not speak STARTTLS (RFC 3207 4)", name);
		return -1;
	}
	return 0;
}

int
config_empty_trash(const char *spec, void (*fn)(void *, const char *, unsigned), void *ctx)
{
	const char *p = spec;

	while (*p != '\0') {
		char name[256];
		const char *colon = strchr(p, ':'), *end;
		unsigned long days = 0;
		size_t len;
		if (colon == NULL || colon == p || (size_t)(colon - p) >= sizeof(name))
			return -1;
		len = (size_t)(colon - p);
		memcpy(name, p, len);
		name[len] = '\0';
		if (strchr(name, ',') != NULL)
			return -1;
		end = colon + 1;
		if (*end < '0' || *end > '9')
			return -1;
		while (*end >= '0' && *end <= '9') {
			days = days * 10 + (unsigned long)(*end - '0');
			if (days > 36500)
				return -1;
			end++;
		}
		if (days == 0 || (*end != '\0' && *end != ','))
			return -1;
		if (fn != NULL)
			fn(ctx, name, (unsigned)days);
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
}

/* Subaddress delimiters: characters an address's local part cannot start
 * a user name with in a way that matters (no '@', no blank). */
static int
check_delimiter(const struct config *c, const char *name, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; c->recipient_delimiter[i] != '\0'; i++)
		if (!strchr("+-_=.#~", c->recipient_delimiter[i])) {
			snprintf(err, errlen, "%s: recipient_delimiter '%.8s': use characters of "
			    "+-_=.# or ~", name, c->recipient_delimiter);
			return -1;
		}
	return 0;
}

/* A libpq connection string with a password in it: the keyword, or a
 * URI's user:password@. */
static int
conninfo_has_password(const char *s)
{
	const char *p, *at, *slash;

	for (p = s; *p != '\0'; p++)
		if (strncasecmp(p, "password", 8) == 0)
			return 1;
	if ((p = strstr(s, "://")) == NULL)
		return 0;
	p += 3;
	at = strchr(p, '@');
	slash = strchr(p, '/');
	return at != NULL && (slash == NULL || at < slash) && memchr(p, ':', (size_t)(at - p)) != NULL;
}

/* One query's text: its named parameters must all be known. */
static int
check_query(const char *key, const char *q, const char *name, char *err, size_t errlen)
{
	enum backendq_param order[BACKENDQ_PARAMS_MAX];
	char out[BACKENDQ_QUERY_MAX];
	const char *why;

	if (backendq_translate(q, out, sizeof(out), order, &why) >= 0)
		return 0;
	snprintf(err, errlen, "%s: %s: %s", name, key, why);
	return -1;
}

/* The LDAP backend's keys: a URI and a base when it is in the chain, the
 * templates' parameters known, ldap_auth one of its two words. */
static int
check_ldap(const struct config *c, const enum backendq_kind *chain, size_t n, const char *name,
    char *err, size_t errlen)
{
	const char *why = NULL, *key = NULL;
	char out[8];
	size_t i;
	int ldap = 0;

	for (i = 0; i < n; i++)
		ldap |= chain[i] == BACKENDQ_LDAP;
	if (backendq_ldap_expand(c->ldap_filter, 0, NULL, NULL, out, sizeof(out), &why) < 0)
		key = "ldap_filter";
	else if (backendq_ldap_expand(c->ldap_user_dn, 1, NULL, NULL, out, sizeof(out), &why) < 0)
		key = "ldap_user_dn";
	else if (strcmp(c->ldap_auth, "bind") != 0 && strcmp(c->ldap_auth, "search") != 0)
		key = "ldap_auth", why = "bind or search";
	else if (ldap && (c->ldap_uri[0] == '\0' || c->ldap_base[0] == '\0'))
		key = "auth_backends", why = "names ldap: set ldap_uri and ldap_base";
	if (key == NULL)
		return 0;
	snprintf(err, errlen, "%s: %s: %s", name, key, why);
	return -1;
}

/* auth_backends names known backends once each; the ones named have
 * what they need (pgsql: a connection and a password query; checkpw: a
 * command); the queries' parameters are known names. */
static int
check_backends(const struct config *c, const char *name, char *err, size_t errlen)
{
	enum backendq_kind chain[BACKENDQ_CHAIN_MAX];
	const char *why;
	size_t n, i;
	int pg = 0, cp = 0;

	if (backendq_chain(c->auth_backends, chain, &n, &why) < 0) {
		snprintf(err, errlen, "%s: auth_backends '%.64s': %s", name, c->auth_backends, why);
		return -1;
	}
	for (i = 0; i < n; i++) {
		pg |= chain[i] == BACKENDQ_PGSQL;
		cp |= chain[i] == BACKENDQ_CHECKPW;
	}
	if (pg && (c->pgsql_connection[0] == '\0' || c->pgsql_password_query[0] == '\0')) {
		snprintf(err, errlen, "%s: auth_backends names pgsql: set pgsql_connection and "
		    "pgsql_password_query", name);
		return -1;
	}
	if (cp && c->checkpw_command[0] != '/') {
		snprintf(err, errlen, "%s: auth_backends names checkpw: set checkpw_command to an "
		    "absolute path (and its arguments)", name);
		return -1;
	}
	if (conninfo_has_password(c->pgsql_connection)) {
		snprintf(err, errlen, "%s: pgsql_connection: no password in it (every process reads "
		    "the config): put it in pgsql_password_file", name);
		return -1;
	}
	if ((c->pgsql_password_file[0] != '\0' && c->pgsql_password_file[0] != '/') ||
	    (c->ldap_bind_password_file[0] != '\0' && c->ldap_bind_password_file[0] != '/')) {
		snprintf(err, errlen, "%s: pgsql_password_file and ldap_bind_password_file must be "
		    "absolute paths", name);
		return -1;
	}
	if (check_query("pgsql_password_query", c->pgsql_password_query, name, err, errlen) < 0 ||
	    check_query("pgsql_user_query", c->pgsql_user_query, name, err, errlen) < 0)
		return -1;
	return check_ldap(c, chain, n, name, err, errlen);
}

/* auth_username_chars must compile; auth_mechanisms names only
 * mechanisms authd has. */
static int
check_auth(const struct config *c, const char *name, char *err, size_t errlen)
{
	struct namechars nc;
	const char *why;

	if (namechars_parse(c->auth_username_chars, c->auth_username_utf8, c->auth_username_max,
	    &nc, &why) < 0) {
		snprintf(err, errlen, "%s: auth_username_chars '%.64s': %s", name,
		    c->auth_username_chars, why);
		return -1;
	}
	if (sasl_mechs_check(c->auth_mechanisms, &why) < 0) {
		snprintf(err, errlen, "%s: auth_mechanisms '%.64s': %s", name, c->auth_mechanisms,
		    why);
		return -1;
	}
	return check_backends(c, name, err, errlen);
}

/* postmaster: empty, or an address (local@domain) without blanks,
 * controls or a second '@'; authd looks it up as a recipient. */
static int
check_postmaster(const struct config *c, const char *name, char *err, size_t errlen)
{
	const char *p = c->postmaster, *at = strchr(p, '@');
	size_t i;

	if (p[0] == '\0')
		return 0;
	for (i = 0; p[i] != '\0'; i++)
		if ((unsigned char)p[i] <= 0x20 || p[i] == 0x7f || p[i] == '/' || p[i] == '%')
			break;
	if (p[i] != '\0' || at == NULL || at == p || at[1] == '\0' || strchr(at + 1, '@') != NULL) {
		snprintf(err, errlen, "%s: postmaster '%.64s': not an address (local@domain)", name, p);
		return -1;
	}
	return 0;
}

/* quota_full_reply: one of the two words. */
static int
check_quota(const struct config *c, const char *name, char *err, size_t errlen)
{
	if (strcmp(c->quota_full_reply, "permanent") == 0 || strcmp(c->quota_full_reply, "temporary") == 0)
		return 0;
	snprintf(err, errlen, "%s: quota_full_reply '%.16s': permanent or temporary", name,
	    c->quota_full_reply);
	return -1;
}

/* smtp_bad_mime: one of the three words (Courier's). */
static int
check_bad_mime(const struct config *c, const char *name, char *err, size_t errlen)
{
	if (strcmp(c->smtp_bad_mime, "accept") == 0 || strcmp(c->smtp_bad_mime, "reject") == 0 ||
	    strcmp(c->smtp_bad_mime, "wrap") == 0)
		return 0;
	snprintf(err, errlen, "%s: smtp_bad_mime '%.16s': accept, reject or wrap", name,
	    c->smtp_bad_mime);
	return -1;
}

/* smtp_dnsbl: zones dns.c parses; smtp_dnsbl_fail one of two words;
 * dns_resolvers 1-DNS_RESOLVERS_MAX numeric "addr:port" (blank or comma
 * separated), needed when there are zones, and checked whenever set. */
static int
check_dnsbl(const struct config *c, const char *name, char *err, size_t errlen)
{
	struct dns_zone z[DNS_ZONES_MAX];
	struct sockaddr_storage ss[DNS_RESOLVERS_MAX];
	char why[200];
	int n;

	if ((n = dns_zones_parse(c->smtp_dnsbl, z, DNS_ZONES_MAX, why, sizeof(why))) < 0) {
		snprintf(err, errlen, "%s: smtp_dnsbl: %s", name, why);
		return -1;
	}
	if (strcmp(c->smtp_dnsbl_fail, "accept") != 0 && strcmp(c->smtp_dnsbl_fail, "tempfail") != 0) {
		snprintf(err, errlen, "%s: smtp_dnsbl_fail '%.16s': accept or tempfail", name,
		    c->smtp_dnsbl_fail);
		return -1;
	}
	/* empty only while nothing needs a resolver; a typo is said either way */
	if ((n > 0 || c->dns_resolvers[strspn(c->dns_resolvers, " \t,")] != '\0') &&
	    config_resolvers(c, ss, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: dns_resolvers: %s", name, why);
		return -1;
	}
	return 0;
}

int
config_resolvers(const struct config *c, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	const char *p = c->dns_resolvers;
	char one[INET6_ADDRSTRLEN + 16];
	socklen_t len;
	size_t l;
	int n = 0;

	for (;;) {
		p += strspn(p, " \t,");
		if (*p == '\0')
			break;
		l = strcspn(p, " \t,");
		if (n >= DNS_RESOLVERS_MAX || l >= sizeof(one)) {
			snprintf(err, errlen, "at most %d addresses", DNS_RESOLVERS_MAX);
			return -1;
		}
		memcpy(one, p, l);
		one[l] = '\0';
		if (netaddr_parse(one, &ss[n], &len) < 0) {
			snprintf(err, errlen, "'%s' is not a numeric address:port", one);
			return -1;
		}
		n++;
		p += l;
	}
	if (n == 0) {
		snprintf(err, errlen, "no resolver");
		return -1;
	}
	return n;
}

/* local_domains: a comma-separated list of DNS names (blanks around the
 * commas allowed), none of them default_domain itself, and only with a
 * default_domain to deliver to. */
static int
check_local_domains(const struct config *c, const char *name, char *err, size_t errlen)
{
	const char *p = c->local_domains, *e;
	size_t n;

	for (; *p != '\0'; p = *e == ',' ? e + 1 : e) {
		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strcspn(p, ",");
		n = (size_t)(e - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0 && *e == '\0')
			break;	/* blanks at the end */
		if (n == 0 || n > CONFIG_DOMAIN_MAX || !x509_host_valid((const uint8_t *)p, n)) {
			snprintf(err, errlen, "%s: local_domains entry '%.*s' is not a domain name", name,
			    (int)(n < 100 ? n : 100), p);
			return -1;
		}
		if (c->default_domain[0] == '\0' || (n == strlen(c->default_domain) &&
		    strncasecmp(p, c->default_domain, n) == 0)) {
			snprintf(err, errlen, "%s: local_domains needs a default_domain other than its "
			    "entries (their mail goes there)", name);
			return -1;
		}
	}
	return 0;
}

/* The IMAP namespace: separator "." or "/"; a prefix of printable ASCII
 * without wildcards or quotes that is empty or ends in the separator
 * ("INBOX." as Courier, "" as Dovecot). */
static int
check_imap(const struct config *c, const char *name, char *err, size_t errlen)
{
	size_t i, n = strlen(c->imap_namespace);

	if (strcmp(c->imap_separator, ".") != 0 && strcmp(c->imap_separator, "/") != 0) {
		snprintf(err, errlen, "%s: imap_separator must be \".\" or \"/\"", name);
		return -1;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)c->imap_namespace[i];
		if (ch <= 0x20 || ch >= 0x7f || strchr("%*\"\\(){", ch) != NULL)
			break;
	}
	if (config_empty_trash(c->imap_empty_trash, NULL, NULL) < 0) {
		snprintf(err, errlen, "%s: imap_empty_trash '%.100s' must be Folder:days[,Folder:days...] "
		    "(days 1-36500)", name, c->imap_empty_trash);
		return -1;
	}
	if (i < n || (n > 0 && c->imap_namespace[n - 1] != c->imap_separator[0])) {
		snprintf(err, errlen, "%s: imap_namespace '%.64s' must be empty or printable text "
		    "without %%*\"\\(){ ending in imap_separator", name, c->imap_namespace);
		return -1;
	}
	return 0;
}

static const char *const log_levels[] = { "debug", "info", "warn", "error" };
static const char *const log_outputs[] = { "stderr", "syslog", "both" };

static int
word_index(const char *v, const char *const *words, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(v, words[i]) == 0)
			return i;
	return -1;
}

int
config_log_level(const struct config *c)
{
	int i = word_index(c->log_level, log_levels, 4);

	return i < 0 ? 1 : i;
}

int
config_log_output(const struct config *c)
{
	int i = word_index(c->log_output, log_outputs, 3);

	return i < 0 ? CONFIG_LOG_STDERR : i;
}

static int
check_log(const struct config *c, const char *name, char *err, size_t errlen)
{
	if (word_index(c->log_level, log_levels, 4) < 0) {
		snprintf(err, errlen, "%s: log_level '%.8s': use debug, info, warn or error", name,
		    c->log_level);
		return -1;
	}
	if (word_index(c->log_output, log_outputs, 3) < 0) {
		snprintf(err, errlen, "%s: log_output '%.8s': use stderr, syslog or both", name,
		    c->log_output);
		return -1;
	}
	return 0;
}

/* Every check of values that the key table's types cannot express. */
/* Each kind of process has a uid of its own: two that shared one could
 * signal or trace each other (and read each other's /proc).  The user
 * db's default mail uid is one of them: stored runs as it. */
static int
check_identities(const struct config *c, const char *name, char *err, size_t errlen)
{
	const struct { const char *key; uint64_t uid; } ids[] = {
		{ "auth_uid", c->auth_uid }, { "keyd_uid", c->keyd_uid },
		{ "worker_uid", c->worker_uid }, { "mail_uid", c->mail_uid },
		{ "resolverd_uid", c->resolverd_uid }, { "auth_helper_uid", c->auth_helper_uid },
	};
	size_t i, j;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		for (j = i + 1; j < sizeof(ids) / sizeof(ids[0]); j++)
			if (ids[i].uid == ids[j].uid) {
				snprintf(err, errlen, "%s: %s and %s are both %llu: each kind of "
				    "process needs a uid of its own", name, ids[i].key, ids[j].key,
				    (unsigned long long)ids[i].uid);
				return -1;
			}
	return 0;
}

static int
check_all(const struct config *c, const char *name, char *err, size_t errlen)
{
	if (check_hostname(c, name, err, errlen) < 0 ||
	    check_default_domain(c, name, err, errlen) < 0 || check_lmtp(c, name, err, errlen) < 0 ||
	    check_imap(c, name, err, errlen) < 0 || check_delimiter(c, name, err, errlen) < 0 ||
	    check_log(c, name, err, errlen) < 0 || check_postmaster(c, name, err, errlen) < 0 ||
	    check_auth(c, name, err, errlen) < 0 ||
	    check_local_domains(c, name, err, errlen) < 0 || check_quota(c, name, err, errlen) < 0 ||
	    check_bad_mime(c, name, err, errlen) < 0 || check_dnsbl(c, name, err, errlen) < 0 ||
	    check_identities(c, name, err, errlen) < 0)
		return -1;
	return check_mail_root(c, name, err, errlen);
}

int
config_parse(struct config *c, const char *name, const char *text, size_t len,
    char *err, size_t errlen)
{
	unsigned char seen[NKEYS];
	char line[2048];
	size_t pos = 0, hint = 0;
	unsigned lineno = 0;

	memset(seen, 0, sizeof(seen));
	if (len > CONFIG_TEXT_MAX) {
		snprintf(err, errlen, "%s: file too large", name);
		return -1;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (text + pos)) : len - pos;
		const char *why = NULL;

		lineno++;
		if (ll >= sizeof(line)) {
			snprintf(err, errlen, "%s:%u: line too long", name, lineno);
			return -1;
		}
		if (memchr(text + pos, '\0', ll) != NULL) {
			snprintf(err, errlen, "%s:%u: NUL byte in line", name, lineno);
			return -1;
		}
		memcpy(line, text + pos, ll);
		line[ll] = '\0';
		char msg[160];
		if (parse_line(c, line, seen, &hint, &why, msg, sizeof(msg)) < 0) {
			snprintf(err, errlen, "%s:%u: %s", name, lineno, why);
			return -1;
		}
		pos += ll + (nl ? 1 : 0);
	}
	return check_all(c, name, err, errlen);
}

/* The children's snapshot (config_snapshot): this header, struct config as
 * the master holds it, then config_format()'s text.  A child built with
 * the same layout of struct config (the same fingerprint: the size, every
 * key's name, type, offset and range) copies the struct and parses
 * nothing; any other, such as a new binary started by a master of the
 * previous release during an upgrade, parses the text after it. */
static const char snap_magic[8] = { '\0', 'P', 'S', 'T', 'C', 'F', 'G', '1' };

struct snap_header {
	char magic[8];
	uint64_t fingerprint;
	uint64_t size;
};

/* Where the struct starts in the snapshot: a multiple of any page size,
 * so a child can map it (config_map); the gap after the header is a hole
 * of the memfd, no memory. */
#define SNAP_STRUCT_OFF	65536

static uint64_t
fnv_add(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n-- > 0)
		h = (h ^ *b++) * 0x100000001b3ULL;
	return h;
}

static uint64_t
layout_fingerprint(void)
{
	static uint64_t fp;
	uint64_t h = 0xcbf29ce484222325ULL, v;
	size_t i;

	if (fp != 0)
		return fp;
	v = sizeof(struct config);
	h = fnv_add(h, &v, sizeof(v));
	for (i = 0; i < NKEYS; i++) {
		const struct config_key *k = &config_keys[i];

		h = fnv_add(h, k->name, strlen(k->name) + 1);
		v = (uint64_t)k->type;
		h = fnv_add(h, &v, sizeof(v));
		v = k->off;
		h = fnv_add(h, &v, sizeof(v));
		h = fnv_add(h, &k->min, sizeof(k->min));
		h = fnv_add(h, &k->max, sizeof(k->max));
	}
	fp = h != 0 ? h : 1;
	return fp;
}

int
config_snapshot(const struct config *c, int fd)
{
	struct snap_header h;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, snap_magic, sizeof(h.magic));
	h.fingerprint = layout_fingerprint();
	h.size = sizeof(*c);
	if (util_write_all(fd, &h, sizeof(h)) < 0 || lseek(fd, SNAP_STRUCT_OFF, SEEK_SET) < 0 ||
	    util_write_all(fd, c, sizeof(*c)) < 0)
		return -1;
	return config_dump(c, fd);
}

/* N of "/proc/self/fd/N" (a snapshot the master passed), or -1. */
static int
passed_fd(const char *path)
{
	static const char prefix[] = "/proc/self/fd/";
	uint64_t fd;

	if (strncmp(path, prefix, sizeof(prefix) - 1) == 0 &&
	    util_str_to_u64(path + sizeof(prefix) - 1, 1024, &fd) == 0 && fd > 2)
		return (int)fd;
	return -1;
}

/* The struct of a passed snapshot of this build's layout: 0, or -1 (not
 * a snapshot, another layout, short). */
static int
snapshot_ours(int fd)
{
	struct snap_header h;

	return pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
	    memcmp(h.magic, snap_magic, sizeof(h.magic)) == 0 &&
	    h.fingerprint == layout_fingerprint() && h.size == sizeof(struct config);
}

static int
load_snapshot(struct config *c, int fd)
{
	if (!snapshot_ours(fd) ||
	    pread(fd, c, sizeof(*c), SNAP_STRUCT_OFF) != (ssize_t)sizeof(*c))
		return -1;
	return 0;
}

const struct config *
config_map(const char *path, char *err, size_t errlen)
{
	int fd = passed_fd(path);
	struct config *c;
	void *p;

	if (fd >= 0 && snapshot_ours(fd)) {
		p = mmap(NULL, sizeof(struct config), PROT_READ, MAP_PRIVATE, fd, SNAP_STRUCT_OFF);
		if (p != MAP_FAILED)
			return p;
	}
	p = mmap(NULL, sizeof(struct config), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	c = p;
	if (config_load(c, path, err, errlen) < 0 || mprotect(p, sizeof(*c), PROT_READ) < 0) {
		munmap(p, sizeof(*c));
		return NULL;
	}
	return c;
}

int
config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	struct snap_header h;
	char *text;
	ssize_t n;
	size_t len = 0, skip = 0;
	int fd, rc, passed = passed_fd(path);

	if (passed >= 0 && load_snapshot(c, passed) == 0)
		return 0;
	config_defaults(c);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	text = malloc(CONFIG_TEXT_MAX + 1);
	if (text == NULL) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	while ((n = read(fd, text + len, CONFIG_TEXT_MAX + 1 - len)) > 0) {
		len += (size_t)n;
		if (len > CONFIG_TEXT_MAX)
			break;
	}
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(text);
		return -1;
	}
	/* a passed snapshot of another layout: its text part */
	if (passed >= 0 && len >= sizeof(h) && memcmp(text, snap_magic, sizeof(snap_magic)) == 0) {
		memcpy(&h, text, sizeof(h));
		if (len >= SNAP_STRUCT_OFF && h.size <= len - SNAP_STRUCT_OFF)
			skip = SNAP_STRUCT_OFF + (size_t)h.size;
	}
	rc = config_parse(c, path, text + skip, len - skip, err, errlen);
	free(text);
	return rc;
}

/* A value from the environment must come back unchanged from the
 * snapshot the children load: a newline would end its line there (and
 * start a line of its own), other control characters are refused too as
 * they are never meant and would reach log lines. */
static int
env_value_ok(const char *v, const char **why)
{
	for (; *v != '\0'; v++) {
		if ((unsigned char)*v < 0x20 || *v == 0x7f) {
			*why = "control character in value";
			return -1;
		}
	}
	return 0;
}

int
config_load_or_none(struct config *c, const char *path, char *err, size_t errlen)
{
	if (strcmp(path, CONFIG_NONE) == 0) {
		config_defaults(c);
		return 0;
	}
	return config_load(c, path, err, errlen);
}

int
config_apply_env(struct config *c, char *const *envp, char *err, size_t errlen)
{
	static const char prefix[] = "POSTERN_";
	char name[64];

	for (; envp != NULL && *envp != NULL; envp++) {
		const char *e = *envp, *eq = strchr(e, '='), *why = NULL;
		const struct config_key *k;
		size_t i, nl;

		if (eq == NULL || strncmp(e, prefix, sizeof(prefix) - 1) != 0)
			continue;
		nl = (size_t)(eq - e) - (sizeof(prefix) - 1);
		if (nl == 6 && strncmp(e + sizeof(prefix) - 1, "CONFIG", 6) == 0)
			continue;	/* the config file's path, not a key */
		if (nl == 0 || nl >= sizeof(name)) {
			snprintf(err, errlen, "environment: bad variable name");
			return -1;
		}
		for (i = 0; i < nl; i++) {
			char ch = e[sizeof(prefix) - 1 + i];
			name[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
		}
		name[nl] = '\0';
		k = find_key(name);
		if (k == NULL || env_value_ok(eq + 1, &why) < 0 || set_value(c, k, eq + 1, &why) < 0) {
			snprintf(err, errlen, "environment %.*s: %s", (int)(eq - e), e,
			    k == NULL ? "unknown key" : why);
			return -1;
		}
	}
	/* the same checks as at the end of config_parse(), or the snapshot
	 * would load in the master and fail in every child */
	return check_all(c, "environment", err, errlen);
}

void
config_close_passed(const char *path)
{
	int fd = passed_fd(path);

	if (fd >= 0)
		close(fd);
}

/* One "key = value" line.  Strings are quoted: config_parse() strips the
 * blanks around a value and then one pair of quotes, so a quoted value
 * keeps its own blanks and quotes and reads back as it was. */
static int
format_value(const struct config_key *k, const struct config *c, char *buf, size_t len)
{
	const char *base = (const char *)c + k->off;
	uint64_t n;

	switch (k->type) {
	case CT_STR:
	case CT_PATH:
		return snprintf(buf, len, "%s = \"%s\"\n", k->name, base);
	case CT_NUM:
		memcpy(&n, base, sizeof(n));
		return snprintf(buf, len, "%s = %llu\n", k->name, (unsigned long long)n);
	case CT_BOOL:
		return snprintf(buf, len, "%s = %s\n", k->name,
		    *(const int *)(const void *)base ? "yes" : "no");
	case CT_MODE:
		memcpy(&n, base, sizeof(n));
		return snprintf(buf, len, "%s = %04llo\n", k->name, (unsigned long long)n);
	}
	return -1;
}

/* The keys of c, or with base only those whose value differs from base's. */
static long
format_keys(const struct config *c, const struct config *base, char *buf, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < NKEYS; i++) {
		const struct config_key *k = &config_keys[i];
		char mine[CONFIG_PATH_MAX + 80], theirs[CONFIG_PATH_MAX + 80];
		int n;
		if (base != NULL) {	/* both fit: a value is under CONFIG_PATH_MAX */
			format_value(k, c, mine, sizeof(mine));
			format_value(k, base, theirs, sizeof(theirs));
			if (strcmp(mine, theirs) == 0)
				continue;
		}
		n = format_value(k, c, o < len ? buf + o : NULL, o < len ? len - o : 0);
		if (n < 0)
			return -1;
		o += (size_t)n;
	}
	return (long)o;
}

long
config_format(const struct config *c, char *buf, size_t len)
{
	return format_keys(c, NULL, buf, len);
}

static int
dump_keys(const struct config *c, const struct config *base, int fd)
{
	long n = format_keys(c, base, NULL, 0);
	char *text;
	int rc;

	if (n < 0 || (text = malloc((size_t)n + 1)) == NULL)
		return -1;
	format_keys(c, base, text, (size_t)n + 1);
	rc = util_write_all(fd, text, (size_t)n);
	free(text);
	return rc;
}

int
config_dump(const struct config *c, int fd)
{
	return dump_keys(c, NULL, fd);
}

long
config_format_changed(const struct config *c, char *buf, size_t len)
{
	struct config def;

	config_defaults(&def);
	return format_keys(c, &def, buf, len);
}

int
config_dump_changed(const struct config *c, int fd)
{
	struct config def;

	config_defaults(&def);
	return dump_keys(c, &def, fd);
}

int
config_path_canonical(const char *p)
{
	const char *c;

	if (p[0] != '/' || p[1] == '\0')
		return 0;
	for (c = p + 1;;) {
		size_t l = strcspn(c, "/");
		if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		if (c[l] == '\0')
			return 1;
		c += l + 1;
	}
}

static int
safe_part(const char *p, size_t len)
{
	if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
		return 0;
	return memchr(p, '/', len) == NULL;
}

int
config_expand_mailroot(const char *tmpl, const char *user, char *out, size_t outlen)
{
	const char *at = strrchr(user, '@');
	size_t o = 0, ulen = strlen(user);
	size_t nlen = at ? (size_t)(at - user) : ulen;
	const char *dom = at ? at + 1 : "";

	if (!safe_part(user, nlen) || (at && !safe_part(dom, strlen(dom))))
		return -1;
	for (; *tmpl; tmpl++) {
		const char *add = tmpl;
		size_t alen = 1;
		if (*tmpl == '%') {
			tmpl++;
			switch (*tmpl) {
			case 'u': add = user; alen = ulen; break;
			case 'n': add = user; alen = nlen; break;
			case 'd': add = dom; alen = strlen(dom); break;
			case '%': add = "%"; alen = 1; break;
			default: return -1;
			}
		}
		if (o + alen >= outlen)
			return -1;
		memcpy(out + o, add, alen);
		o += alen;
	}
	out[o] = '\0';
	return 0;
}

int
config_control_path(const struct config *cfg, char *out, size_t outlen)
{
	int n;

	if (strcmp(cfg->control_socket, "none") == 0)
		return 0;
	if (cfg->control_socket[0] != '\0')
		n = snprintf(out, outlen, "%s", cfg->control_socket);
	else
		n = snprintf(out, outlen, "%s/control", cfg->state_dir);
	return n > 0 && (size_t)n < outlen ? 1 : -1;
}
