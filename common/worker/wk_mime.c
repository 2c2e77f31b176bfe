/* wk_mime.c - the intake's MIME policy (see wk_mime.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/util.h"
#include "../ipc/storeproto.h"
#include "../mail/mimecheck.h"
#include "../../policy/policy.h"
#include "wk_mime.h"

#define B64_IN	57	/* bytes per base64 line: 76 characters (RFC 2045 6.8) */
#define B64_LINE	77	/* with its LF */
#define WRAP_ROOM	8192	/* the new header, the text part, the delimiters */

/* A buffered writer into the new message's memfd. */
struct out {
	int fd, failed;
	uint64_t len;
	size_t n;
	uint8_t buf[16384];
};

static void
out_flush(struct out *o)
{
	size_t off = 0;
	ssize_t k;

	while (off < o->n && !o->failed) {
		k = write(o->fd, o->buf + off, o->n - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			o->failed = 1;
		else
			off += (size_t)k;
	}
	o->n = 0;
}

static void
out_put(struct out *o, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t take;

	o->len += len;
	while (len > 0 && !o->failed) {
		if (o->n == sizeof(o->buf))
			out_flush(o);
		take = sizeof(o->buf) - o->n < len ? sizeof(o->buf) - o->n : len;
		memcpy(o->buf + o->n, b, take);
		o->n += take;
		b += take;
		len -= take;
	}
}

static void
out_str(struct out *o, const char *s)
{
	out_put(o, s, strlen(s));
}

uint64_t
wk_mime_file_limit(enum wk_mime_mode mode, uint64_t max_message)
{
	uint64_t wrapped = (max_message / B64_IN + 1) * B64_LINE + WRAP_ROOM;

	return mode == WK_MIME_WRAP && wrapped > max_message ? wrapped : max_message;
}

enum wk_mime_mode
wk_mime_mode_of(const char *word)
{
	return strcmp(word, "reject") == 0 ? WK_MIME_REJECT :
	    strcmp(word, "wrap") == 0 ? WK_MIME_WRAP : WK_MIME_ACCEPT;
}

/* The original's own field, or the one we make when it has none (RFC 5322
 * 3.6: From and Date are required). */
static void
copy_field(struct out *o, const uint8_t *m, size_t len, unsigned flags, const char *name,
    const char *fallback)
{
	size_t off, n;

	if (mimecheck_field(m, len, name, flags, &off, &n) == 0) {
		out_put(o, m + off, n);
		out_str(o, "\n");
	} else if (fallback != NULL) {
		out_str(o, fallback);
	}
}

/* A boundary that occurs nowhere in the original, or "" if none of the
 * tries does ("=_" cannot occur in base64, RFC 2045 6.8, the fallback). */
static void
boundary_pick(const uint8_t *m, size_t len, const char *sid, char *b, size_t blen)
{
	unsigned i;

	for (i = 0; i < 8; i++) {
		snprintf(b, blen, "=_postern-%.40s-%u", sid, i);
		if (memmem(m, len, b, strlen(b)) == NULL)
			return;
	}
	b[0] = '\0';
}

static void
header(struct out *o, const struct wk_intake *w, const uint8_t *m, size_t len,
    const char *bnd, const struct mimecheck_result *cr, const char *host)
{
	char from[SMTP_MAILBOX_MAX + 320], now[64], date[80], line[320];

	if (w->msg.sender[0] != '\0')
		snprintf(from, sizeof(from), "From: <%s>\n", w->msg.sender);
	else
		snprintf(from, sizeof(from), "From: MAILER-DAEMON@%s\n", host);
	wk_intake_date(now, sizeof(now));
	snprintf(date, sizeof(date), "Date: %s\n", now);
	copy_field(o, m, len, w->msg.mime_flags, "From", from);
	copy_field(o, m, len, w->msg.mime_flags, "To", NULL);
	copy_field(o, m, len, w->msg.mime_flags, "Subject", NULL);
	copy_field(o, m, len, w->msg.mime_flags, "Date", date);
	snprintf(line, sizeof(line), "MIME-Version: 1.0\nContent-Type: multipart/mixed; "
	    "boundary=\"%s\"\nX-Postern-Bad-MIME: %s (line %llu)\n\n", bnd,
	    mimecheck_name(cr->defect), (unsigned long long)cr->line);
	out_str(o, line);
	snprintf(line, sizeof(line), "--%s\nContent-Type: text/plain; charset=us-ascii\n"
	    "Content-Transfer-Encoding: 7bit\n\nThis message is not conformant MIME (%s, line "
	    "%llu),\nso %s delivered it as an attachment, unchanged.\n\n", bnd,
	    mimecheck_text(cr->defect), (unsigned long long)cr->line, host);
	out_str(o, line);
}

/* The original as base64 lines. */
static void
base64_body(struct out *o, const uint8_t *m, size_t len)
{
	char enc[B64_IN / 3 * 4 + 2];
	size_t take;
	long n;

	while (len > 0 && !o->failed) {
		take = len < B64_IN ? len : B64_IN;
		n = util_base64_encode(m, take, enc, sizeof(enc) - 1);
		if (n < 0) {
			o->failed = 1;
			return;
		}
		enc[n++] = '\n';
		out_put(o, enc, (size_t)n);
		m += take;
		len -= take;
	}
}

/* The wrapped message into o: head (the worker's header), then the new
 * header, the text, the original.  Returns the content type used. */
static const char *
wrap_write(struct out *o, const struct wk_intake *w, const uint8_t *all, size_t alllen,
    const struct mimecheck_result *cr, const struct wk_mime_policy *pol)
{
	const uint8_t *m = all + w->msg.head;
	size_t len = alllen - w->msg.head;
	char bnd[96], part[256];
	int eight = 0, rfc822;

	boundary_pick(m, len, pol->sid, bnd, sizeof(bnd));
	rfc822 = bnd[0] != '\0' && cr->rfc5322 && mimecheck_raw(m, len, &eight) == 0 &&
	    (!eight || (w->msg.mime_flags & MIMECHECK_8BITMIME));
	if (bnd[0] == '\0')
		snprintf(bnd, sizeof(bnd), "=_postern-%.40s", pol->sid);
	out_put(o, all, w->msg.head);
	header(o, w, m, len, bnd, cr, pol->hostname);
	snprintf(part, sizeof(part), "--%s\nContent-Type: %s\nContent-Transfer-Encoding: %s\n"
	    "Content-Disposition: attachment; filename=\"original.eml\"\n\n", bnd,
	    rfc822 ? "message/rfc822" : "application/octet-stream",
	    rfc822 ? (eight ? "8bit" : "7bit") : "base64");
	out_str(o, part);
	if (rfc822)
		out_put(o, m, len);
	else
		base64_body(o, m, len);
	/* RFC 2046 5.1.1: the line end before a delimiter is the delimiter's */
	snprintf(part, sizeof(part), "%s--%s--\n", rfc822 ? "\n" : "", bnd);
	out_str(o, part);
	out_flush(o);
	return rfc822 ? "message/rfc822" : "application/octet-stream";
}

/* Replace w's message by its wrapping.  Returns 0, or -1 (the original
 * stays, nothing is delivered). */
static int
wrap(struct wk_intake *w, const uint8_t *all, size_t len, const struct mimecheck_result *cr,
    const struct wk_mime_policy *pol, const char **type_r)
{
	static struct out o;

	/* base64 grows the message by a third, and a line end per 57 bytes */
	if (wk_mime_file_limit(WK_MIME_WRAP, len) > STORE_DELIVER_MAX)
		return -1;
	memset(&o, 0, sizeof(o));
	o.fd = memfd_create("intake-wrapped", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (o.fd < 0)
		return -1;
	*type_r = wrap_write(&o, w, all, len, cr, pol);
	if (o.failed || fcntl(o.fd, F_ADD_SEALS, POLICY_LMTPD_SEALS) < 0 ||
	    fcntl(o.fd, F_GET_SEALS) != POLICY_LMTPD_SEALS) {
		close(o.fd);
		return -1;
	}
	close(w->msg.fd);
	w->msg.fd = o.fd;
	w->msg.len = o.len;
	return 0;
}

static void
refuse(struct smtp_reply *r, const struct mimecheck_result *cr)
{
	char text[160];

	/* RFC 3463 X.6.0: other or undefined media error */
	snprintf(text, sizeof(text), "Message refused: not conformant MIME (%s, line %llu)",
	    mimecheck_text(cr->defect), (unsigned long long)cr->line);
	smtp_reply_set(r, 550, "5.6.0", text);
}

int
wk_mime_apply(struct wk_intake *w, const struct wk_mime_policy *pol, struct smtp_reply *r)
{
	struct mimecheck_result cr;
	const char *type = NULL;
	uint8_t *map = NULL;
	size_t len = (size_t)w->msg.len;
	int rc = 0;

	if (pol->mode == WK_MIME_ACCEPT || w->msg.fd < 0 || w->msg.failed)
		return 0;
	if (len > 0 && (map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, w->msg.fd, 0)) == MAP_FAILED) {
		log_event(LOG_LEVEL_WARN, "bad_mime_failed", "ip=%s size=%zu errno=%d reason=\"mmap\"",
		    w->ip, len, errno);
		smtp_reply_set(r, 451, "4.3.0", "Temporary failure, try again later");
		return -1;
	}
	if (mimecheck_run(map != NULL ? map + w->msg.head : (const uint8_t *)"",
	    len - (size_t)w->msg.head, w->msg.mime_flags, pol->max_depth, &cr) == 0)
		goto out;
	if (pol->mode == WK_MIME_WRAP && wrap(w, map, len, &cr, pol, &type) == 0) {
		log_event(LOG_LEVEL_INFO, "bad_mime", "ip=%s action=wrap defect=%s line=%llu "
		    "size=%zu wrapped_as=%s wrapped_size=%llu", w->ip, mimecheck_name(cr.defect),
		    (unsigned long long)cr.line, len, type, (unsigned long long)w->msg.len);
		goto out;
	}
	refuse(r, &cr);
	rc = 1;
	log_event(LOG_LEVEL_INFO, "bad_mime", "ip=%s action=reject defect=%s line=%llu size=%zu "
	    "reply=550/5.6.0%s", w->ip, mimecheck_name(cr.defect), (unsigned long long)cr.line,
	    len, pol->mode == WK_MIME_WRAP ? " reason=\"could not wrap\"" : "");
out:
	if (map != NULL)
		munmap(map, len);
	return rc;
}
