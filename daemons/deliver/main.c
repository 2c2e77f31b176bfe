/* postern-deliver: the MDA other MTAs run (Exim's pipe transport, Postfix's
 * pipe or mailbox_command, sendmail's local mailer).  It reads one message
 * on stdin and hands it to the running appliance over its own LMTP
 * listener (lmtp_listen: the first unix socket, else the first TCP
 * address), so every rule of delivery — aliases, hosted domains, quotas,
 * the durable write by the user's stored — is the appliance's, and this
 * program needs no privilege: whoever may connect to the LMTP socket may
 * deliver.  The message goes as BDAT chunks (RFC 3030), as it is; a
 * leading mbox "From " line is dropped.
 *
 *   postern-deliver [-c config] [-f sender] recipient...
 *
 * Exit status (sysexits.h, what MTAs map to defer or bounce): 0 every
 * recipient took the message; 75 EX_TEMPFAIL some 4xx, or the appliance
 * could not be reached (452 4.2.2 over quota with quota_full_reply =
 * temporary too); else for a refusal 67 EX_NOUSER (5.1.x), 77 EX_NOPERM
 * (5.2.2: mailbox full), 73 EX_CANTCREAT (other 5.2.x: disabled), 65 EX_DATAERR (5.4.6: a
 * mail loop, the message already has the recipient's Delivered-To), 69
 * EX_UNAVAILABLE (other); 64 EX_USAGE, 65 EX_DATAERR (unreadable input), 78
 * EX_CONFIG (no LMTP listener).  Each refusal is one line on stderr, which MTAs quote in the
 * bounce. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../common/base/config.h"
#include "../../common/base/version.h"
#include "../../common/proto/smtp_reply.h"

#define EX_OK_		0
#define EX_USAGE_	64
#define EX_DATAERR_	65
#define EX_NOUSER_	67
#define EX_UNAVAIL_	69
#define EX_CANTCREAT_	73
#define EX_NOPERM_	77
#define EX_TEMPFAIL_	75
#define EX_CONFIG_	78

#define MAX_RCPTS	1000
#define CHUNK		(256 * 1024)
#define REPLY_LINE_MAX	2048
#define TIMEOUT_S	300

static struct config cfg;
static int sock = -1;
static char rbuf[8192];
static size_t rlen;

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("postern-deliver: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

/* The first LMTP listener: a unix socket path, else host:port. */
static int
lmtp_connect(void)
{
	char list[CONFIG_PATH_MAX], *tok, *save = NULL, *tcp = NULL;
	struct timeval tv = { TIMEOUT_S, 0 };
	int fd = -1;

	snprintf(list, sizeof(list), "%s", cfg.lmtp_listen);
	for (tok = strtok_r(list, ", \t", &save); tok != NULL; tok = strtok_r(NULL, ", \t", &save)) {
		if (tok[0] == '/') {
			struct sockaddr_un sun = { .sun_family = AF_UNIX };
			if (strlen(tok) >= sizeof(sun.sun_path))
				continue;
			memcpy(sun.sun_path, tok, strlen(tok) + 1);
			fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
				break;
			if (fd >= 0)
				close(fd);
			fd = -1;
		} else if (tcp == NULL) {
			tcp = tok;
		}
	}
	if (fd < 0 && tcp != NULL) {
		char host[64], *colon = strrchr(tcp, ':');
		struct sockaddr_storage ss;
		socklen_t sl;
		long port;
		size_t hl;
		memset(&ss, 0, sizeof(ss));
		if (colon == NULL || (hl = (size_t)(colon - tcp)) == 0 || hl >= sizeof(host))
			die(EX_CONFIG_, "lmtp_listen entry '%s' is not host:port", tcp);
		memcpy(host, tcp, hl);
		host[hl] = '\0';
		port = strtol(colon + 1, NULL, 10);
		if (host[0] == '[' && host[hl - 1] == ']') {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			host[hl - 1] = '\0';
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
				die(EX_CONFIG_, "lmtp_listen entry '%s' is not host:port", tcp);
			sl = sizeof(*s6);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)port);
			if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
				die(EX_CONFIG_, "lmtp_listen entry '%s' is not host:port", tcp);
			/* 0.0.0.0 listens everywhere: the host itself answers there */
			if (s4->sin_addr.s_addr == htonl(INADDR_ANY))
				s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			sl = sizeof(*s4);
		}
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&ss, sl) < 0) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0 && cfg.lmtp_listen[0] == '\0')
		die(EX_CONFIG_, "lmtp_listen is empty: postern-deliver delivers through the "
		    "appliance's LMTP listener (docs/LMTP.md)");
	if (fd < 0)
		die(EX_TEMPFAIL_, "cannot reach the LMTP listener (%s): %s", cfg.lmtp_listen,
		    strerror(errno));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static void
send_all(const void *p, size_t len)
{
	const char *c = p;

	while (len > 0) {
		ssize_t w = send(sock, c, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die(EX_TEMPFAIL_, "LMTP connection lost: %s", strerror(errno));
		c += w;
		len -= (size_t)w;
	}
}

/* One command line: verb, the argument (in <> when bracket), CRLF. */
static void
send_cmd(const char *verb, const char *arg, int bracket)
{
	char line[1100];
	int n = snprintf(line, sizeof(line), bracket ? "%s<%s>\r\n" : "%s%s\r\n", verb, arg);

	if (n < 0 || (size_t)n >= sizeof(line))
		die(EX_USAGE_, "address too long");
	send_all(line, (size_t)n);
}

static void
send_mail_from(const char *sender, int utf8)
{
	char line[1100];
	int n = snprintf(line, sizeof(line), "MAIL FROM:<%s> BODY=8BITMIME%s\r\n", sender,
	    utf8 ? " SMTPUTF8" : "");

	if (n < 0 || (size_t)n >= sizeof(line))
		die(EX_USAGE_, "address too long");
	send_all(line, (size_t)n);
}

/* One reply (all its lines) into r. */
static void
read_reply(struct smtp_reply *r)
{
	struct smtp_reply_parser rp;

	smtp_reply_parser_init(&rp);
	for (;;) {
		char *nl = memchr(rbuf, '\n', rlen);
		size_t ll;
		enum smtp_reply_result res;
		if (nl == NULL) {
			ssize_t n;
			if (rlen == sizeof(rbuf))
				die(EX_TEMPFAIL_, "LMTP reply line too long");
			n = recv(sock, rbuf + rlen, sizeof(rbuf) - rlen, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				die(EX_TEMPFAIL_, "LMTP connection lost");
			rlen += (size_t)n;
			continue;
		}
		ll = (size_t)(nl - rbuf);
		res = smtp_reply_parse(&rp, (const uint8_t *)rbuf, ll > 0 && rbuf[ll - 1] == '\r' ?
		    ll - 1 : ll, r);
		memmove(rbuf, nl + 1, rlen - ll - 1);
		rlen -= ll + 1;
		if (res == SMTP_REPLY_ERR)
			die(EX_TEMPFAIL_, "malformed LMTP reply");
		if (res == SMTP_REPLY_DONE)
			return;
	}
}

static int
exit_for(const struct smtp_reply *r)
{
	if (r->code >= 200 && r->code < 300)
		return EX_OK_;
	if (r->code < 500)
		return EX_TEMPFAIL_;
	if (!strncmp(r->esc, "5.1.", 4))
		return EX_NOUSER_;
	/* over quota with quota_full_reply = permanent: 77, as Courier's
	 * deliverquota (= temporary: the 452 4.2.2 above is 75) */
	if (!strcmp(r->esc, "5.2.2"))
		return EX_NOPERM_;
	if (!strncmp(r->esc, "5.2.", 4))
		return EX_CANTCREAT_;
	/* a mail loop (the message has this recipient's Delivered-To): the
	 * data is at fault, not the mailbox or the user, and retrying cannot
	 * help; EX_DATAERR is what MTAs bounce at once */
	if (!strcmp(r->esc, "5.4.6"))
		return EX_DATAERR_;
	return EX_UNAVAIL_;
}

/* The worse of two outcomes: a deferral beats a bounce beats success. */
static int
worse(int a, int b)
{
	if (a == EX_TEMPFAIL_ || b == EX_TEMPFAIL_)
		return EX_TEMPFAIL_;
	return a != EX_OK_ ? a : b;
}

static void
refused(const char *rcpt, const struct smtp_reply *r)
{
	const char *nl = strchr(r->text, '\n');

	fprintf(stderr, "postern-deliver: %s: %u %s%s%.*s\n", rcpt, r->code, r->esc,
	    r->esc[0] ? " " : "", nl ? (int)(nl - r->text) : (int)strlen(r->text), r->text);
}

/* An address as given, checked enough for the LMTP line. */
static const char *
check_addr(const char *a)
{
	size_t i;

	for (i = 0; a[i] != '\0'; i++)
		if ((unsigned char)a[i] <= ' ' || a[i] == '<' || a[i] == '>' || a[i] == 0x7f)
			die(EX_USAGE_, "bad address '%s'", a);
	if (i > 998)
		die(EX_USAGE_, "address too long");
	return a;
}

int
main(int argc, char **argv)
{
	static char buf[CHUNK];
	const char *cfgpath = getenv("POSTERN_CONFIG"), *sender = getenv("SENDER");
	char err[512], hdr[64];
	int accepted[MAX_RCPTS], nacc = 0, status = EX_OK_, opt, i, first = 1;
	struct smtp_reply r;
	size_t n;

	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};

	while ((opt = getopt_long(argc, argv, "c:f:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': cfgpath = optarg; break;
		case 'f': sender = optarg; break;
		case 'h':
			printf("usage: postern-deliver [-c config] [-f sender] recipient...\n"
			    "  delivers the message on stdin to each local recipient through the LMTP\n"
			    "  listener of config (docs/LMTP.md); exit codes are sysexits: 0 delivered,\n"
			    "  67 unknown user, 75 temporary, 65 a mail loop, 64 usage\n");
			return 0;
		case 'V':
			printf("postern-deliver %s\n", version_string());
			return 0;
		default:
			die(EX_USAGE_, "usage: postern-deliver [-c config] [-f sender] recipient...");
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > MAX_RCPTS)
		die(EX_USAGE_, "usage: postern-deliver [-c config] [-f sender] recipient...");
	if (config_load_or_none(&cfg, cfgpath ? cfgpath : "/etc/postern/postern.conf", err,
	    sizeof(err)) < 0)
		die(EX_CONFIG_, "%s", err);
	if (sender == NULL || strcmp(sender, "<>") == 0)
		sender = "";
	check_addr(sender);
	for (i = 0; i < argc; i++)
		check_addr(argv[i]);

	sock = lmtp_connect();
	read_reply(&r);
	if (r.code != 220)
		die(EX_TEMPFAIL_, "LMTP greeting: %u %s", r.code, r.text);
	send_cmd("LHLO ", "postern-deliver", 0);
	read_reply(&r);
	if (r.code != 250 || strstr(r.text, "CHUNKING") == NULL)
		die(EX_TEMPFAIL_, "LMTP server without CHUNKING: %u", r.code);
	/* the MTA took the message as it is: say it may be 8-bit (RFC 6152)
	 * and, when offered, carry UTF-8 headers (RFC 6531), so that the
	 * appliance's MIME check (smtp_bad_mime) judges its MIME, not our
	 * envelope */
	send_mail_from(sender, strstr(r.text, "SMTPUTF8") != NULL);
	read_reply(&r);
	if (r.code != 250) {
		refused("MAIL FROM", &r);
		return exit_for(&r) == EX_OK_ ? EX_TEMPFAIL_ : exit_for(&r);
	}
	for (i = 0; i < argc; i++) {
		send_cmd("RCPT TO:", argv[i], 1);
		read_reply(&r);
		if (r.code == 250) {
			accepted[nacc++] = i;
		} else {
			refused(argv[i], &r);
			status = worse(status, exit_for(&r) == EX_OK_ ? EX_TEMPFAIL_ : exit_for(&r));
		}
	}
	if (nacc == 0) {
		send_cmd("QUIT", "", 0);
		return status;
	}
	/* the message as BDAT chunks; a leading mbox "From " line dropped */
	for (;;) {
		n = fread(buf, 1, sizeof(buf), stdin);
		if (ferror(stdin))
			die(EX_DATAERR_, "cannot read the message: %s", strerror(errno));
		if (first && n >= 5 && memcmp(buf, "From ", 5) == 0) {
			char *nl = memchr(buf, '\n', n);
			size_t skip = nl ? (size_t)(nl - buf) + 1 : n;
			memmove(buf, buf + skip, n - skip);
			n -= skip;
		}
		first = 0;
		snprintf(hdr, sizeof(hdr), "BDAT %zu%s\r\n", n, feof(stdin) ? " LAST" : "");
		send_all(hdr, strlen(hdr));
		send_all(buf, n);
		if (feof(stdin))
			break;
		read_reply(&r);
		if (r.code != 250) {
			/* a chunk refused: the transaction ends for every recipient */
			for (i = 0; i < nacc; i++)
				refused(argv[accepted[i]], &r);
			return worse(status, exit_for(&r) == EX_OK_ ? EX_TEMPFAIL_ : exit_for(&r));
		}
	}
	/* RFC 2033 4.2: one reply per accepted recipient, in order */
	for (i = 0; i < nacc; i++) {
		read_reply(&r);
		if (r.code != 250) {
			refused(argv[accepted[i]], &r);
			status = worse(status, exit_for(&r) == EX_OK_ ? EX_TEMPFAIL_ : exit_for(&r));
		}
	}
	send_cmd("QUIT", "", 0);
	close(sock);
	return status;
}
