/* services.c - the service table (see services.h). */
#include "services.h"

#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "../common/net/netaddr.h"

#define CFG(f) offsetof(struct config, f)

/* The reply codes: RFC 2449 [SYS/TEMP] for POP3, an untagged BYE for IMAP
 * (RFC 9051 7.1.5), 421 4.3.2 "system not accepting network messages" for
 * SMTP and LMTP (RFC 5321 3.8, RFC 3463), BYE (TRYLATER) for ManageSieve
 * (RFC 5804 1.3), 503 for HTTP. */
#define REFUSE_POP3	"-ERR [SYS/TEMP] %s, try again later\r\n"
#define REFUSE_IMAP	"* BYE [UNAVAILABLE] %s, try again later\r\n"
#define REFUSE_SMTP	"421 4.3.2 %s, try again later\r\n"
#define REFUSE_SIEVE	"BYE (TRYLATER) \"%s, try again later\"\r\n"
#define REFUSE_HTTP	"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n" \
			"Content-Type: text/plain\r\nContent-Length: 0\r\n\r\n"

#define NOT_YET .worker = POLICY_NPROCS, .listen_off = SERVICE_NO_KEY, \
		.proxy_off = SERVICE_NO_KEY, .worker_off = SERVICE_NO_KEY

const struct service service_table[SERVICE_COUNT] = {
	[SERVICE_POP3] = {
		.name = "pop3", .enabled = 1, .worker = POLICY_POP3D,
		.default_listen = "0.0.0.0:110", .refusal = REFUSE_POP3,
		.grant = SERVICE_GRANT_STORED, .store_view = "pop3",
		.listen_off = CFG(pop3_listen), .proxy_off = CFG(pop3_proxy_protocol),
		.worker_off = CFG(pop3_worker),
	},
	[SERVICE_POP3S] = {
		.name = "pop3s", .enabled = 1, .worker = POLICY_POP3D,
		.default_listen = "0.0.0.0:995", .implicit_tls = 1,
		.grant = SERVICE_GRANT_STORED, .store_view = "pop3",
		.listen_off = CFG(pop3s_listen), .proxy_off = CFG(pop3s_proxy_protocol),
		.worker_off = CFG(pop3_worker),
	},
	[SERVICE_IMAP] = {
		.name = "imap", .enabled = 1, .worker = POLICY_IMAPD,
		.default_listen = "0.0.0.0:143", .refusal = REFUSE_IMAP,
		.grant = SERVICE_GRANT_STORED, .store_view = "imap",
		.listen_off = CFG(imap_listen), .proxy_off = CFG(imap_proxy_protocol),
		.worker_off = CFG(imap_worker),
	},
	[SERVICE_IMAPS] = {
		.name = "imaps", .enabled = 1, .worker = POLICY_IMAPD,
		.default_listen = "0.0.0.0:993", .implicit_tls = 1,
		.grant = SERVICE_GRANT_STORED, .store_view = "imap",
		.listen_off = CFG(imaps_listen), .proxy_off = CFG(imaps_proxy_protocol),
		.worker_off = CFG(imap_worker),
	},
	[SERVICE_SMTP] = {
		.name = "smtp", .enabled = 1, .worker = POLICY_SMTPD,
		.default_listen = "0.0.0.0:25", .refusal = REFUSE_SMTP,
		.grant = SERVICE_GRANT_NONE, .intake = 1,
		.listen_off = CFG(smtp_listen), .proxy_off = CFG(smtp_proxy_protocol),
		.worker_off = CFG(smtp_worker),
	},
	[SERVICE_SUBMISSION] = { .name = "submission", .default_listen = "0.0.0.0:587",
		.refusal = REFUSE_SMTP, .grant = SERVICE_GRANT_QUEUE, NOT_YET },
	[SERVICE_SUBMISSIONS] = { .name = "submissions", .default_listen = "0.0.0.0:465",
		.implicit_tls = 1, .grant = SERVICE_GRANT_QUEUE, NOT_YET },
	[SERVICE_LMTP] = {
		.name = "lmtp", .enabled = 1, .worker = POLICY_LMTPD,
		.default_listen = "/run/postern/lmtp", .refusal = REFUSE_SMTP,
		.grant = SERVICE_GRANT_NONE, .intake = 1,
		.listen_off = CFG(lmtp_listen), .proxy_off = CFG(lmtp_proxy_protocol),
		.worker_off = CFG(lmtp_worker),
	},
	[SERVICE_MANAGESIEVE] = { .name = "managesieve", .default_listen = "0.0.0.0:4190",
		.refusal = REFUSE_SIEVE, .grant = SERVICE_GRANT_STORED, .store_view = "sieve", NOT_YET },
	[SERVICE_HTTP] = { .name = "http", .default_listen = "127.0.0.1:8080",
		.refusal = REFUSE_HTTP, .grant = SERVICE_GRANT_STORED, .store_view = "imap", NOT_YET },
	/* off unless metrics_listen lists an address (docs/METRICS.md); the
	 * worker's row has no broker slots, and the master hands it a
	 * rendered snapshot instead (daemons/master/metrics.c) */
	[SERVICE_METRICS] = {
		.name = "metrics", .enabled = 1, .worker = POLICY_METRICSD,
		.default_listen = "127.0.0.1:9154", .refusal = REFUSE_HTTP,
		.grant = SERVICE_GRANT_NONE,
		.listen_off = CFG(metrics_listen), .proxy_off = SERVICE_NO_KEY,
		.worker_off = CFG(metrics_worker),
	},
};

const struct service *
service_by_name(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < SERVICE_COUNT; i++) {
		const struct service *s = &service_table[i];
		if (s->enabled && strlen(s->name) == len && memcmp(s->name, name, len) == 0)
			return s;
	}
	return NULL;
}

const char *
service_listen(const struct service *s, const struct config *cfg)
{
	if (s->listen_off == SERVICE_NO_KEY)
		return "";
	return (const char *)cfg + s->listen_off;
}

int
service_proxy(const struct service *s, const struct config *cfg)
{
	if (s->proxy_off == SERVICE_NO_KEY)
		return 0;
	return *(const int *)(const void *)((const char *)cfg + s->proxy_off);
}

const char *
service_worker_override(const struct service *s, const struct config *cfg)
{
	if (s->worker_off == SERVICE_NO_KEY)
		return "";
	return (const char *)cfg + s->worker_off;
}

/* The template has at most one "%s"; substituted by hand, so that no
 * format string ever comes from data (-Wformat-nonliteral). */
size_t
service_refusal(const struct service *s, const char *why, char *out, size_t outlen)
{
	const char *t = s->refusal, *mark;
	int n;

	if (t == NULL || outlen == 0)
		return 0;
	mark = strstr(t, "%s");
	if (mark == NULL)
		n = snprintf(out, outlen, "%s", t);
	else
		n = snprintf(out, outlen, "%.*s%s%s", (int)(mark - t), t, why, mark + 2);
	if (n < 0 || (size_t)n >= outlen)
		return 0;
	return (size_t)n;
}

#define LISTEN_CHECK_MAX	64	/* more entries than MASTER_MAX_LISTENERS anyway */

struct seen_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[CONFIG_PATH_MAX];
	char key[64];
};

static int
check_one(const char *key, const char *tok, struct seen_addr *seen, size_t *n, char *err,
    size_t errlen)
{
	struct seen_addr *a = &seen[*n];
	size_t i;

	memset(a, 0, sizeof(*a));
	if (tok[0] == '/') {
		if (strlen(tok) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			snprintf(err, errlen, "%s: unix socket path too long: %s", key, tok);
			return -1;
		}
	} else if (netaddr_parse(tok, &a->ss, &a->len) < 0) {
		snprintf(err, errlen, "%s: bad listen address '%s' (want host:port, [v6]:port "
		    "with a numeric address and a port 1-65535, or /path)", key, tok);
		return -1;
	}
	snprintf(a->text, sizeof(a->text), "%s", tok);
	snprintf(a->key, sizeof(a->key), "%s", key);
	for (i = 0; i < *n; i++)
		if (tok[0] == '/' ? strcmp(seen[i].text, tok) == 0 :
		    (seen[i].len == a->len && memcmp(&seen[i].ss, &a->ss, a->len) == 0)) {
			snprintf(err, errlen, "%s: '%s' is listed twice (also in %s as '%s')", key, tok,
			    seen[i].key, seen[i].text);
			return -1;
		}
	(*n)++;
	return 0;
}

int
service_check_listen(const struct config *cfg, char *err, size_t errlen)
{
	static struct seen_addr seen[LISTEN_CHECK_MAX];
	char list[CONFIG_PATH_MAX], key[64], *save = NULL, *tok;
	size_t i, n = 0;

	for (i = 0; i < SERVICE_COUNT; i++) {
		const struct service *s = &service_table[i];
		if (!s->enabled || s->listen_off == SERVICE_NO_KEY)
			continue;
		snprintf(key, sizeof(key), "%s_listen", s->name);
		snprintf(list, sizeof(list), "%s", service_listen(s, cfg));
		for (tok = strtok_r(list, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
			if (n == LISTEN_CHECK_MAX) {
				snprintf(err, errlen, "%s: too many listen addresses", key);
				return -1;
			}
			if (check_one(key, tok, seen, &n, err, errlen) < 0)
				return -1;
		}
	}
	return 0;
}

void
service_print(int fd)
{
	static const char *const grants[] = { "nothing", "stored", "queue" };
	size_t i;

	dprintf(fd, "%-12s %-8s %-8s %-4s %-18s %s\n", "service", "state", "worker", "tls",
	    "default listen", "a login grants");
	for (i = 0; i < SERVICE_COUNT; i++) {
		const struct service *s = &service_table[i];
		char grant[32];
		snprintf(grant, sizeof(grant), "%s%s%s", grants[s->grant],
		    s->store_view ? " view " : "", s->store_view ? s->store_view : "");
		dprintf(fd, "%-12s %-8s %-8s %-4s %-18s %s\n", s->name,
		    s->enabled ? "enabled" : "not yet",
		    s->worker < POLICY_NPROCS ? policy_table[s->worker].name : "-",
		    s->implicit_tls ? "yes" : "no", s->default_listen, grant);
	}
}
