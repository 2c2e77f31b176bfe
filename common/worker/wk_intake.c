/* wk_intake.c - recipients, the message and its deliveries (see
 * wk_intake.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/util.h"
#include "../ipc/authdproto.h"
#include "../ipc/proto.h"
#include "../proto/dotstuff.h"
#include "../ipc/scratch.h"
#include "../ipc/storeimap.h"
#include "../ipc/storeproto.h"
#include "../../policy/policy.h"
#include "wk_intake.h"


/* How long a stored may take for one message: the broker deadline plus
 * 1 ms per KiB (the fsyncs of a 50 MiB message on a slow disk). */
static int
store_timeout_ms(uint64_t len)
{
	return (int)(BROKER_CALL_TIMEOUT_MS + len / 1024);
}

static enum smtp_rcpt_verdict
verdict_of(const struct wk_intake *w, uint32_t status)
{
	switch (status) {
	case AUTHD_LOOKUP_RELAY:
		return w->relay_refused ? SMTP_RCPT_RELAY : SMTP_RCPT_UNKNOWN;
	case AUTHD_LOOKUP_FOUND:
		return SMTP_RCPT_OK;
	case AUTHD_LOOKUP_UNKNOWN:
		return SMTP_RCPT_UNKNOWN;
	case AUTHD_LOOKUP_DISABLED:
		return SMTP_RCPT_DISABLED;
	case AUTHD_LOOKUP_INVALID:
		return SMTP_RCPT_INVALID;
	default:
		return SMTP_RCPT_TEMP;
	}
}

/* The master's verdict for address, or TEMP when it cannot be had. */
static enum smtp_rcpt_verdict
lookup(struct wk_intake *w, const char *address, struct master_rcpt_result *r)
{
	static const uint16_t expect[] = { MSG_WORKER_RCPT };
	uint32_t id = ++w->next_id;

	if (w->broken)
		return SMTP_RCPT_TEMP;
	masterproto_rcpt_put(&ipc_scratch_out, id, address);
	if (ipc_call(FD_CONTROL, &ipc_scratch_out, &ipc_scratch_in, expect, 1, 0) < 0) {
		log_event(LOG_LEVEL_WARN, "rcpt_failed", "ip=%s errno=%d reason=\"master did not "
		    "answer\"", w->ip, errno);
		w->broken = 1;
		return SMTP_RCPT_TEMP;
	}
	if (masterproto_rcpt_result_get(&ipc_scratch_in, r) < 0 || r->id != id)
		fatal("reason=\"malformed recipient verdict from the master\"");
	return verdict_of(w, r->status);
}

void
wk_intake_init(struct wk_intake *w, const char *ip, int relay_refused)
{
	memset(w, 0, sizeof(*w));
	w->ip = ip;
	w->relay_refused = relay_refused;
	w->msg.fd = -1;
}

enum smtp_rcpt_verdict
wk_intake_rcpt(struct wk_intake *w, const char *address)
{
	static struct master_rcpt_result r;
	enum smtp_rcpt_verdict v = lookup(w, address, &r);
	uint32_t k;

	if (v != SMTP_RCPT_OK)
		return v;
	w->master_dirty = 1;
	if (w->nrcpt >= MASTERPROTO_RCPT_MAX)
		fatal("reason=\"more recipients than MASTERPROTO_RCPT_MAX\"");
	if (w->nidx + r.n > MASTERPROTO_RCPT_MAX) {
		/* aliases of many users, many times: the rest in another transaction */
		log_event(LOG_LEVEL_WARN, "rcpt_failed", "ip=%s users=%u reason=\"too many users "
		    "in this transaction\"", w->ip, w->nidx + r.n);
		return SMTP_RCPT_TEMP;
	}
	w->first[w->nrcpt] = (uint16_t)w->nidx;
	w->count[w->nrcpt++] = (uint8_t)r.n;
	for (k = 0; k < r.n; k++)
		w->idx[w->nidx++] = r.index[k];
	return v;
}

void
wk_intake_msg_open(struct wk_intake *w, const char *sender)
{
	if (w->msg.fd >= 0)
		close(w->msg.fd);
	memset(&w->msg, 0, sizeof(w->msg));
	snprintf(w->msg.sender, sizeof(w->msg.sender), "%s", sender);
	w->msg.fd = memfd_create("intake-message", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (w->msg.fd < 0) {
		log_event(LOG_LEVEL_ERR, "message_failed", "ip=%s errno=%d reason=\"memfd_create\"",
		    w->ip, errno);
		w->msg.failed = 1;
	}
}

void
wk_intake_msg_write(struct wk_intake *w, const uint8_t *b, size_t len)
{
	while (len > 0 && w->msg.fd >= 0 && !w->msg.failed) {
		ssize_t n = write(w->msg.fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_event(LOG_LEVEL_ERR, "message_failed", "ip=%s errno=%d reason=\"write\"",
			    w->ip, errno);
			w->msg.failed = 1;
			return;
		}
		b += n;
		len -= (size_t)n;
		w->msg.len += (uint64_t)n;
	}
}

void
wk_intake_msg_chunk(struct wk_intake *w, const uint8_t *b, size_t len)
{
	uint8_t piece[4096 + 1];

	while (len > 0) {
		size_t take = len < 4096 ? len : 4096;
		wk_intake_msg_write(w, piece, dotstuff_crlf_to_lf(&w->msg.cr_held, b, take, piece));
		b += take;
		len -= take;
	}
}

/* The seals are read back: they must have taken. */
int
wk_intake_seal(struct wk_intake *w)
{
	uint8_t cr;

	wk_intake_msg_write(w, &cr, dotstuff_crlf_end(&w->msg.cr_held, &cr));
	if (w->msg.fd < 0 || w->msg.failed)
		return -1;
	if (fcntl(w->msg.fd, F_ADD_SEALS, POLICY_LMTPD_SEALS) < 0 ||
	    fcntl(w->msg.fd, F_GET_SEALS) != POLICY_LMTPD_SEALS) {
		log_event(LOG_LEVEL_ERR, "message_failed", "ip=%s errno=%d reason=\"seal\"", w->ip,
		    errno);
		w->msg.failed = 1;
		return -1;
	}
	return 0;
}

/* A deliver-view stored for recipient index, or -1 (the master had none:
 * its text is logged). */
static int
store_for(struct wk_intake *w, uint32_t index)
{
	char why[MASTERPROTO_TEXT_MAX];

	if (w->broken)
		return -1;
	masterproto_deliver_put(&ipc_scratch_out, index);
	if (ipc_send(FD_CONTROL, &ipc_scratch_out) < 0 || ipc_recv(FD_CONTROL, &ipc_scratch_in) != 1) {
		log_event(LOG_LEVEL_WARN, "deliver_failed", "ip=%s errno=%d reason=\"master did not "
		    "answer\"", w->ip, errno);
		w->broken = 1;
		return -1;
	}
	if (ipc_scratch_in.type == MSG_WORKER_DELIVER && masterproto_store_get(&ipc_scratch_in) == 0)
		return ipc_scratch_in.fd;
	if (ipc_scratch_in.type == MSG_WORKER_STORE_FAIL && ipc_scratch_in.fd < 0 && masterproto_text_get(&ipc_scratch_in, why) == 0) {
		log_event(LOG_LEVEL_WARN, "deliver_failed", "ip=%s rcpt=%u reason=\"%s\"", w->ip,
		    index, why);
		return -1;
	}
	fatal("reason=\"malformed deliver answer from the master\" type=0x%04x", ipc_scratch_in.type);
}

/* The reply for an outcome other than delivered (r keeps the 250 then). */
static void
outcome_reply(const struct wk_intake *w, enum wk_intake_outcome o, struct smtp_reply *r)
{
	switch (o) {
	case WK_INTAKE_LOOP:
		/* RFC 3463 X.4.6, routing loop detected: Postfix's answer to
		 * its own Delivered-To */
		smtp_reply_set(r, 554, "5.4.6", "Mail loop: already delivered to this recipient");
		break;
	case WK_INTAKE_QUOTA:
		/* RFC 3463 X.2.2: mailbox full (as Dovecot's LMTP answers it);
		 * quota_full_reply = temporary: the MTA keeps it and retries
		 * (Dovecot's quota_full_tempfail) */
		if (w->quota_temporary)
			smtp_reply_set(r, 452, "4.2.2", "Mailbox full (over quota), try again later");
		else
			smtp_reply_set(r, 552, "5.2.2", "Mailbox full (over quota)");
		break;
	case WK_INTAKE_TOOBIG:
		smtp_reply_set(r, 552, "5.2.2", "Mailbox full or message too big");
		break;
	case WK_INTAKE_NOT_YET:
	case WK_INTAKE_DELIVERED:
		break;
	case WK_INTAKE_TEMP:
		smtp_reply_set(r, 451, "4.3.0", "Temporary failure, try again later");
		break;
	}
}

/* A refusal of this recipient's mailbox that the sender must hear as
 * such: its outcome, logged; TEMP for any other error. */
static enum wk_intake_outcome
refused(struct wk_intake *w, uint32_t index, uint32_t code)
{
	enum wk_intake_outcome o = code == STORE_ERR_LOOP ? WK_INTAKE_LOOP :
	    code == STORE_ERR_QUOTA ? WK_INTAKE_QUOTA : code == STORE_ERR_TOOBIG ? WK_INTAKE_TOOBIG :
	    WK_INTAKE_TEMP;

	if (o != WK_INTAKE_TEMP)
		log_event(LOG_LEVEL_INFO, "rcpt_refused", "ip=%s rcpt=%u reason=%s", w->ip, index,
		    o == WK_INTAKE_LOOP ? "loop" : o == WK_INTAKE_QUOTA ? "quota" : "too_big");
	return o;
}

/* Hand the message to stored on fd; how it ended. */
static enum wk_intake_outcome
store_deliver(struct wk_intake *w, int fd, uint32_t index)
{
	char name[MAILDIR_NAME_MAX + 1], text[STORE_ERR_TEXT_MAX];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	enum wk_intake_outcome o;
	uint32_t code = 0;

	/* stored reads from the offset to EOF; the fd's offset is shared */
	if (lseek(w->msg.fd, 0, SEEK_SET) != 0)
		goto temp;
	storeproto_deliver_put(&ipc_scratch_out, w->msg.len, w->msg.sender, w->msg.fd);
	if (ipc_send(fd, &ipc_scratch_out) < 0 || poll(&pfd, 1, store_timeout_ms(w->msg.len)) != 1 ||
	    ipc_recv(fd, &ipc_scratch_in) != 1)
		goto temp;
	if (ipc_scratch_in.type == MSG_STORE_DELIVERED && storeproto_delivered_get(&ipc_scratch_in, name) == 0) {
		log_event(LOG_LEVEL_INFO, "delivered", "ip=%s rcpt=%u size=%llu file=%s", w->ip,
		    index, (unsigned long long)w->msg.len, name);
		w->delivered++;
		return WK_INTAKE_DELIVERED;
	}
	if (ipc_scratch_in.type == MSG_STORE_ERR && storeproto_err_get(&ipc_scratch_in, &code, text) == 0 &&
	    (o = refused(w, index, code)) != WK_INTAKE_TEMP) {
		ipc_in_close_fd(&ipc_scratch_in);
		return o;
	}
temp:
	ipc_in_close_fd(&ipc_scratch_in);
	log_event(LOG_LEVEL_WARN, "deliver_failed", "ip=%s rcpt=%u errno=%d code=%u", w->ip,
	    index, errno, code);
	return WK_INTAKE_TEMP;
}

/* One user's copy (master index), or the outcome it had already. */
static enum wk_intake_outcome
deliver_user(struct wk_intake *w, uint32_t index)
{
	enum wk_intake_outcome o = (enum wk_intake_outcome)w->done[index];
	int fd;

	if (o != WK_INTAKE_NOT_YET)
		return o;	/* another address of this user: no second copy */
	fd = w->msg.fd >= 0 && !w->msg.failed ? store_for(w, index) : -1;
	if (fd < 0) {
		o = WK_INTAKE_TEMP;
	} else {
		o = store_deliver(w, fd, index);
		close(fd);
	}
	w->done[index] = (uint8_t)o;
	return o;
}

int
wk_intake_deliver_one(struct wk_intake *w, unsigned i, struct smtp_reply *r)
{
	enum wk_intake_outcome o, other = WK_INTAKE_NOT_YET;
	int any_temp = 0, any_ok = 0, all_loop = 1;
	unsigned k;

	if (i >= w->nrcpt)
		fatal("reason=\"no such recipient\" index=%u recipients=%u", i, w->nrcpt);
	for (k = w->first[i]; k < (unsigned)w->first[i] + w->count[i]; k++) {
		o = deliver_user(w, w->idx[k]);
		any_temp |= o == WK_INTAKE_TEMP;
		any_ok |= o == WK_INTAKE_DELIVERED;
		all_loop &= o == WK_INTAKE_LOOP;
		if (o != WK_INTAKE_LOOP && o != WK_INTAKE_DELIVERED && other == WK_INTAKE_NOT_YET)
			other = o;
	}
	o = any_temp ? WK_INTAKE_TEMP : any_ok ? WK_INTAKE_DELIVERED : all_loop ? WK_INTAKE_LOOP :
	    other;
	if (o == WK_INTAKE_DELIVERED && other != WK_INTAKE_NOT_YET)
		log_event(LOG_LEVEL_WARN, "alias_partial", "ip=%s users=%u reason=\"a user of the "
		    "alias refused the message\"", w->ip, w->count[i]);
	outcome_reply(w, o, r);
	return o == WK_INTAKE_DELIVERED ? 0 : -1;
}

void
wk_intake_txn_end(struct wk_intake *w)
{
	if (w->msg.fd >= 0)
		close(w->msg.fd);
	memset(&w->msg, 0, sizeof(w->msg));
	w->msg.fd = -1;
	memset(w->done, 0, sizeof(w->done));
	w->nrcpt = 0;
	w->nidx = 0;
	if (!w->master_dirty || w->broken)
		return;
	w->master_dirty = 0;
	masterproto_empty_put(&ipc_scratch_out, MSG_MASTER_RESET);
	if (ipc_send(FD_CONTROL, &ipc_scratch_out) < 0) {
		log_event(LOG_LEVEL_WARN, "reset_failed", "ip=%s errno=%d", w->ip, errno);
		w->broken = 1;
	}
}

/* RFC 5322 3.3, in UTC, by hand: gmtime_r() and strftime() run glibc's
 * tzset once, which opens /etc/localtime (not in the filter, nor in the
 * empty root).  Days to a civil date: util_civil_from_days. */
void
wk_intake_date(char *out, size_t outlen)
{
	static const char days[7][4] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	    "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct timespec ts = { 0, 0 };
	long long t;
	int64_t y;
	unsigned sec, m, d;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	t = ts.tv_sec < 0 ? 0 : (long long)ts.tv_sec;
	sec = (unsigned)(t % 86400);
	util_civil_from_days(t / 86400, &y, &m, &d);
	snprintf(out, outlen, "%s, %02u %s %04lld %02u:%02u:%02u +0000", days[(t / 86400) % 7],
	    d, months[(m - 1) % 12], (long long)y, sec / 3600, sec / 60 % 60, sec % 60);
}
