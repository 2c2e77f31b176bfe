/* config.h - the one configuration file, /etc/postern/postern.conf.
 *
 * Format: "key = value" lines; '#' starts a comment line; blank lines are
 * ignored.  Keys are the lower-case names below; Courier's names (MAXDAEMONS,
 * MAXPERIP, ...) are accepted as aliases.  Each key is set at most once.
 * Every limit has a name, a default, and a range checked at load; errors
 * name the file and line.  docs/CONFIG.md lists every key.
 */
#ifndef POSTERN_CONFIG_H
#define POSTERN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "../net/dns.h"	/* DNS_RESOLVERS_MAX */

#define CONFIG_PATH_MAX	1024
#define CONFIG_TEXT_MAX	(256 * 1024)
#define CONFIG_MAX_DAEMONS_LIMIT 100000	/* the upper end of max_daemons' range */
/* A domain name in text form (RFC 1035 section 2.3.4: 255 octets on the
 * wire, so 253 characters without the final dot). */
#define CONFIG_DOMAIN_MAX	253

/* The keys every listening service has, from one descriptor (config.c's
 * LISTENER_KEYS): <svc>_listen, comma-separated host:port, [v6]:port or
 * /unix/path entries, and <svc>_proxy_protocol, a PROXY v1/v2 header first. */
#define CONFIG_LISTENER(svc)				\
	char svc##_listen[CONFIG_PATH_MAX];		\
	int svc##_proxy_protocol

/* The keys of one protocol's sessions (config.c's PROTOCOL_KEYS):
 * <p>_tls_required (no plaintext login before STARTTLS), <p>_max_line,
 * <p>_idle_timeout (seconds), <p>_max_bad_commands. */
#define CONFIG_PROTOCOL(p)				\
	int p##_tls_required;				\
	uint64_t p##_max_line;				\
	uint64_t p##_idle_timeout;			\
	uint64_t p##_max_bad_commands

struct config {
	/* paths */
	char state_dir[CONFIG_PATH_MAX];
	char userdb_path[CONFIG_PATH_MAX];
	char mail_root_template[CONFIG_PATH_MAX];
	char empty_root[CONFIG_PATH_MAX];
	char libexec_dir[CONFIG_PATH_MAX];
	char default_domain[CONFIG_PATH_MAX];
	/* listeners (one CONFIG_LISTENER per service row of policy/services.c) */
	CONFIG_LISTENER(pop3);
	CONFIG_LISTENER(pop3s);			/* implicit TLS (RFC 8314) */
	char pop3_worker[CONFIG_PATH_MAX];
	char lmtp_worker[CONFIG_PATH_MAX];	/* tests only, as pop3_worker */
	CONFIG_LISTENER(imap);
	CONFIG_LISTENER(imaps);			/* implicit TLS (RFC 8314) */
	char imap_worker[CONFIG_PATH_MAX];	/* tests only, as pop3_worker */
	CONFIG_LISTENER(lmtp);			/* RFC 2033; default off */
	CONFIG_LISTENER(smtp);			/* RFC 5321, the MX: local recipients only */
	char smtp_worker[CONFIG_PATH_MAX];	/* tests only, as pop3_worker */
	/* TLS: certificates are read only by keyd */
	char tls_cert_file[CONFIG_PATH_MAX];	/* comma list: chain PEM (key may be inside) */
	char tls_key_file[CONFIG_PATH_MAX];	/* comma list, parallel; "" = key in cert file */
	char tls_sni_dir[CONFIG_PATH_MAX];	/* NAME.pem files: cert+key for server name NAME */
	char hostname[CONFIG_PATH_MAX];		/* self-signed certificate name; "" = gethostname */
	char proxy_trusted[CONFIG_PATH_MAX];	/* CIDRs allowed to send PROXY headers */
	int tls_plaintext_loopback;		/* ... except from 127.0.0.0/8 and ::1 */
	int tls_legacy_suites;			/* also CBC and RSA key exchange suites */
	uint64_t tls_min_version;		/* 10, 11 or 12 (TLS 1.0 .. 1.2) */
	uint64_t tls_session_cache;		/* resumable sessions kept by keyd */
	uint64_t keyd_uid, keyd_gid;
	/* process limits */
	uint64_t max_daemons;
	uint64_t max_per_ip;
	uint64_t listen_backlog;	/* connections the kernel queues before the master accepts */
	uint64_t restart_backoff_max;
	uint64_t listen_unix_mode;	/* unix socket listeners: mode (octal in the file) */
	uint64_t listen_unix_uid, listen_unix_gid;	/* ... and owner */
	char control_socket[CONFIG_PATH_MAX];	/* "" = <state_dir>/control, "none" = off */
	uint64_t control_gid;		/* a group whose members may use it (0: root only) */
	uint64_t control_max_clients;	/* connections at once */
	uint64_t control_timeout;	/* s a connection may wait between requests */
	uint64_t broker_stall_timeout;	/* s a broker may refuse our messages before it is restarted */
	uint64_t login_timeout;		/* s from connect to a successful login (TLS included) */
	uint64_t preauth_max_percent;	/* share of max_daemons sessions not logged in may use */
	uint64_t log_max_lines_per_second; /* per child; more are dropped and counted */
	char log_level[8];		/* debug, info, warn, error: lines below are dropped */
	char log_output[8];		/* stderr, syslog or both (the master writes them) */
	char log_syslog_socket[CONFIG_PATH_MAX];	/* syslog's datagram socket */
	/* identities (numeric; no passwd entries needed) */
	uint64_t auth_uid, auth_gid;
	uint64_t worker_uid, worker_gid;
	uint64_t mail_uid, mail_gid;
	/* authentication */
	uint64_t auth_fail_ip_max;
	uint64_t auth_fail_user_max;
	uint64_t auth_fail_window;
	uint64_t auth_fail_delay_ms;
	uint64_t auth_trusted_window;		/* s a login exempts (user, address) */
	uint64_t auth_ipv6_prefix;		/* IPv6 bits that make one "address" */
	uint64_t auth_max_checks_per_second;	/* password checks, all clients */
	/* login names (docs/AUTH.md): the characters a name may have, checked
	 * before any lookup; 8-bit bytes; the length as sent */
	char auth_username_chars[256];
	int auth_username_utf8;
	uint64_t auth_username_max;
	/* SASL: the mechanisms offered and accepted; SCRAM's PBKDF2 rounds for
	 * a new password */
	char auth_mechanisms[128];
	uint64_t scram_iterations;
	/* the chain of backends (docs/AUTH.md#backends): names in order; the
	 * helpers' identity and deadline; PostgreSQL's connection and queries;
	 * the checkpassword command */
	char auth_backends[128];
	uint64_t auth_backend_timeout_ms;
	uint64_t auth_helper_uid, auth_helper_gid;
	char pgsql_connection[CONFIG_PATH_MAX];
	char pgsql_password_file[CONFIG_PATH_MAX];
	char pgsql_password_query[CONFIG_PATH_MAX];
	char pgsql_user_query[CONFIG_PATH_MAX];
	char checkpw_command[CONFIG_PATH_MAX];
	char ldap_uri[CONFIG_PATH_MAX];
	char ldap_bind_dn[CONFIG_PATH_MAX];
	char ldap_bind_password_file[CONFIG_PATH_MAX];
	char ldap_base[CONFIG_PATH_MAX];
	char ldap_filter[CONFIG_PATH_MAX];
	char ldap_user_dn[CONFIG_PATH_MAX];
	char ldap_auth[16];
	int ldap_starttls;
	char ldap_tls_ca_file[CONFIG_PATH_MAX];
	uint64_t userdb_map_size;
	/* POP3 (pop3 and pop3s) */
	CONFIG_PROTOCOL(pop3);
	uint64_t pop3_max_messages;	/* key mailbox_max_messages */
	/* IMAP (imap and imaps); docs/IMAP.md maps Courier's imapd settings */
	CONFIG_PROTOCOL(imap);		/* imap_idle_timeout: the autologout (RFC 9051 5.4) */
	char imap_separator[2];		/* hierarchy separator: "." or "/" */
	char imap_namespace[64];	/* personal namespace prefix: "INBOX." (Courier) or "" */
	uint64_t imap_max_message_size;	/* APPEND, bytes, <= STORE_APPEND_MAX */
	uint64_t imap_max_literals;	/* literals in one command */
	uint64_t imap_max_nesting;	/* parenthesised lists nested in one command */
	uint64_t imap_max_search_keys;	/* keys of one SEARCH */
	uint64_t imap_idle_check;	/* s between checks of the mailbox in IDLE (IMAP_IDLE_TIMEOUT) */
	uint64_t imap_index_release_ms;	/* quiet ms before stored unmaps its index's pages; 0 = never */
	int imap_keywords;		/* user keywords may be set (IMAP_KEYWORDS) */
	char imap_empty_trash[256];	/* "Trash:7,Junk:30": purge older at login (IMAP_EMPTYTRASH) */
	/* LMTP (RFC 2033): the intake worker lmtpd */
	CONFIG_PROTOCOL(lmtp);
	uint64_t lmtp_max_recipients;	/* per transaction, <= MASTERPROTO_RCPT_MAX */
	/* subaddresses: user+tag@domain delivers to user@domain ("" = off);
	 * each character of the string is a delimiter (Postfix's name) */
	char recipient_delimiter[8];
	uint64_t lmtp_max_message_size;	/* bytes, <= STORE_DELIVER_MAX */
	/* SMTP (RFC 5321), the MX: the intake worker smtpd */
	CONFIG_PROTOCOL(smtp);
	uint64_t smtp_max_recipients;	/* per transaction, <= MASTERPROTO_RCPT_MAX */
	uint64_t smtp_max_message_size;	/* bytes, <= STORE_DELIVER_MAX */
	/* mail intake, recipients: where postmaster goes when no alias says
	 * ("" = nowhere: then postmaster is an unknown user) */
	char postmaster[256];		/* USERDB_NAME_MAX + 1 */
	uint64_t smtp_greet_pause;	/* ms smtpd waits before its 220; 0 = off */
	/* smtpd's and lmtpd's MIME policy (Courier's BOFHBADMIME): "accept",
	 * "reject" (550 5.6.0) or "wrap" (delivered as an attachment) */
	char smtp_bad_mime[16];
	uint64_t smtp_mime_max_depth;	/* nesting the check follows, <= MIMECHECK_DEPTH_MAX */
	/* DNSBLs (docs/SMTP.md#dnsbl-checks): the zones, blank-separated,
	 * each with an optional "=a.b.c.d,..." answer filter ("" = off, and
	 * no resolverd); what a lookup that fails means ("accept" or
	 * "tempfail": 451 4.7.1); the resolvers resolverd may ask (up to
	 * DNS_RESOLVERS_MAX "addr:port", the master connects its UDP sockets
	 * to them); one check's deadline; resolverd's uid/gid */
	char smtp_dnsbl[CONFIG_PATH_MAX];
	char smtp_dnsbl_fail[16];
	char dns_resolvers[256];
	uint64_t dns_timeout_ms;
	uint64_t resolverd_uid, resolverd_gid;
	/* recipient lookups: users an alias may reach, aliases in a chain */
	uint64_t alias_max_targets;	/* <= ALIASES_TARGETS_MAX */
	uint64_t alias_max_depth;	/* <= ALIASES_DEPTH_MAX */
	/* domains whose addresses deliver to the same local part in
	 * default_domain (Courier's locals), comma-separated; "" = none */
	char local_domains[CONFIG_PATH_MAX];
	/* quotas at delivery (docs/CONFIG.md#quotas): the answer over quota,
	 * "permanent" (552 5.2.2) or "temporary" (452 4.2.2) */
	char quota_full_reply[16];
	uint64_t quota_warn_percent;	/* warning message at this usage; 0 = off */
	int quota_count_trash;		/* .Trash counts toward the quota */
	/* metrics and health over HTTP (docs/METRICS.md): the worker metricsd */
	char metrics_listen[CONFIG_PATH_MAX];	/* "" = off */
	char metrics_worker[CONFIG_PATH_MAX];	/* tests only, as pop3_worker */
	uint64_t metrics_max_request;	/* bytes of a request's line and headers */
	uint64_t metrics_max_headers;	/* header fields of one request */
	uint64_t metrics_idle_timeout;	/* s for the request to arrive, and for the answer to leave */
	/* worker resource limits */
	uint64_t worker_max_memory;
	/* posternctl config check warns below this many days to a certificate's end */
	uint64_t tls_cert_warn_days;
	/* diagnostics */
	int debug_seccomp;
	int test_triggers;
};

/* Set every key to its default. */
void config_defaults(struct config *c);

/* Parse text[0..len) over the current values (pure: no I/O).  name is used
 * in messages.  Returns 0, or -1 with "name:LINE: reason" in err. */
int config_parse(struct config *c, const char *name, const char *text, size_t len,
    char *err, size_t errlen);

/* Defaults, then the file at path. Returns 0 or -1 with a message in err. */
int config_load(struct config *c, const char *path, char *err, size_t errlen);

/* The -c value (and POSTERN_CONFIG value) that asks for no file at all:
 * the defaults, then POSTERN_* environment variables.  Without it a
 * missing file is an error, so that a mistyped path cannot start a server
 * on defaults. */
#define CONFIG_NONE	"none"

/* config_load(), except that path CONFIG_NONE gives the defaults only.
 * Returns 0 or -1 with a message in err (errno ENOENT for a missing file). */
int config_load_or_none(struct config *c, const char *path, char *err, size_t errlen);

/* Apply POSTERN_<KEY>=value variables from envp over c (the key upper-
 * cased: POSTERN_POP3_LISTEN=0.0.0.0:110), for containers configured by
 * environment.  POSTERN_CONFIG (the file's path) is skipped.  Values are
 * taken as they are (no quotes stripped); control characters are refused,
 * and so is what config_parse() would refuse at its end (a hostname that
 * is not a DNS name, a bad mail_root), so that every value accepted here
 * comes back unchanged from config_dump() + config_parse() in a child.
 * Returns 0, or -1 with "environment NAME: reason" for an unknown key or a
 * bad value. */
int config_apply_env(struct config *c, char *const *envp, char *err, size_t errlen);

/* The children's snapshot into fd (a memfd the master seals): c itself,
 * for children of this build's layout, then config_dump()'s text for any
 * other (config_load reads both from "/proc/self/fd/N").  Returns 0 or -1. */
int config_snapshot(const struct config *c, int fd);

/* The config of path, read-only: a snapshot the master passed, of this
 * build's layout, is mapped (its pages the page cache's, shared by every
 * child: no private memory per process); anything else is loaded into
 * pages of its own.  Returns it, or NULL with err. */
const struct config *config_map(const char *path, char *err, size_t errlen);

/* After config_load() of a snapshot passed by the master as
 * "/proc/self/fd/N", close fd N (a no-op for other paths). */
void config_close_passed(const char *path);

/* Format every key with its current value as a config file that
 * config_parse() reads back to the same values (strings are quoted, so
 * blanks around them survive).  Pure.  Writes at most len bytes with a
 * terminating NUL when len > 0 (snprintf-like; buf may be NULL when len is
 * 0) and returns the text's full length, or -1. */
long config_format(const struct config *c, char *buf, size_t len);

/* Write config_format()'s text to fd (the children's snapshot, posternctl
 * config dump).  Returns 0 or -1. */
int config_dump(const struct config *c, int fd);

/* config_format() of only the keys whose value differs from the default
 * (posternctl config dump -n, as doveconf -n): parsed over the defaults,
 * the text gives c again.  Pure; same contract as config_format(). */
long config_format_changed(const struct config *c, char *buf, size_t len);

/* Write config_format_changed()'s text to fd.  Returns 0 or -1. */
int config_dump_changed(const struct config *c, int fd);

/* imap_empty_trash ("Trash:7,Junk:30", Courier's IMAP_EMPTYTRASH): call
 * fn (may be NULL) with each folder name and its days.  Returns 0, or -1
 * for a malformed list (checked when the config is loaded). */
int config_empty_trash(const char *spec, void (*fn)(void *, const char *, unsigned), void *ctx);

/* Non-zero if p is an absolute path with no empty, "." or ".." component
 * and no trailing '/': the only form of mail root the master accepts. */
int config_path_canonical(const char *p);

/* Expand a mail root template for user@domain: %u full address, %n local
 * part, %d domain, %% a percent.  Returns 0, or -1 if it does not fit or a
 * part is unsafe (empty, ".", "..", or holds '/'). */
int config_expand_mailroot(const char *tmpl, const char *user, char *out, size_t outlen);

/* Where the control socket is for cfg: control_socket, or
 * <state_dir>/control when that is "".  Returns 1 (out holds it), 0 when
 * it is "none" (off), -1 when it does not fit outlen. */
int config_control_path(const struct config *cfg, char *out, size_t outlen);

/* log_level as an enum log_level (common/base/log.h), log_output as one
 * of CONFIG_LOG_*; both checked at load. */
enum { CONFIG_LOG_STDERR, CONFIG_LOG_SYSLOG, CONFIG_LOG_BOTH };
/* dns_resolvers as sockaddrs: returns their count (1..DNS_RESOLVERS_MAX),
 * or -1 with the reason in err. */
struct sockaddr_storage;
int config_resolvers(const struct config *c, struct sockaddr_storage *ss, char *err,
    size_t errlen);

int config_log_level(const struct config *c);
int config_log_output(const struct config *c);

#endif
