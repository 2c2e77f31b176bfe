/* intake.c - recipients, the message and its deliveries (masterproto.h,
 * storeproto.h).
 *
 * RCPT: the master asks authd about the address and keeps what it resolved
 * to; we keep only the index it answers.  After the data: the message is
 * a memfd, sealed (POLICY_LMTPD_SEALS) so that no stored can be handed a
 * moving target, and for each recipient ipc_scratch_in RCPT order the master spawns a
 * deliver-view stored of that user; that stored writes the message
 * durably (tmp/, fsync, rename into new/, fsync) before it answers, and
 * only then does that recipient get its 250 (invariant 5).
 *
 * The control channel is strict request/reply.  A call that times ipc_scratch_out
 * leaves a late answer ipc_scratch_in it that would be read as the next one's (a
 * stored of one user taken for another's): the session then stops using
 * the channel and closes.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../common/base/log.h"
#include "../../common/ipc/authdproto.h"
#include "../../common/ipc/proto.h"
#include "../../common/proto/dotstuff.h"
#include "../../common/ipc/scratch.h"
#include "../../common/ipc/storeimap.h"
#include "../../common/ipc/storeproto.h"
#include "lmtpd.h"


/* How long a stored may take for one message: the broker deadline plus
 * 1 ms per KiB (the fsyncs of a 50 MiB message on a slow disk). */
static int
store_timeout_ms(uint64_t len)
{
	return (int)(BROKER_CALL_TIMEOUT_MS + len / 1024);
}

static enum smtp_rcpt_verdict
verdict_of(uint32_t status)
{
	switch (status) {
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
lookup(struct lmtp *p, const char *address, uint32_t *index_r)
{
	static const uint16_t expect[] = { MSG_WORKER_RCPT };
	struct master_rcpt_result r;
	uint32_t id = ++p->next_id;

	if (p->broken)
		return SMTP_RCPT_TEMP;
	masterproto_rcpt_put(&ipc_scratch_out, id, address);
	if (ipc_call(FD_CONTROL, &ipc_scratch_out, &ipc_scratch_in, expect, 1, 0) < 0) {
		log_event(LOG_LEVEL_WARN, "rcpt_failed", "ip=%s errno=%d reason=\"master did not "
		    "answer\"", p->ip, errno);
		p->broken = 1;
		return SMTP_RCPT_TEMP;
	}
	if (masterproto_rcpt_result_get(&ipc_scratch_in, &r) < 0 || r.id != id)
		fatal("reason=\"malformed recipient verdict from the master\"");
	*index_r = r.index;
	return verdict_of(r.status);
}

void
lmtp_rcpt(struct lmtp *p, const struct smtp_cmd *cmd)
{
	struct smtp_step st;
	uint32_t index = 0;
	enum smtp_rcpt_verdict v = lookup(p, cmd->path.addr, &index);

	if (v == SMTP_RCPT_OK) {
		if (p->nrcpt >= MASTERPROTO_RCPT_MAX)
			fatal("reason=\"more recipients than MASTERPROTO_RCPT_MAX\"");
		p->rcpt[p->nrcpt++] = index;
		p->master_dirty = 1;
	}
	if (smtp_session_rcpt_done(&p->sm, v, &st) < 0)
		fatal("reason=\"RCPT verdict ipc_scratch_out of turn\"");
	lmtp_reply(p, &st.reply, 1);
	if (st.action == SMTP_ACT_CLOSE)
		p->s.closing = 1;
}

void
lmtp_msg_open(struct lmtp *p)
{
	if (p->msg.fd >= 0)
		close(p->msg.fd);
	memset(&p->msg, 0, sizeof(p->msg));
	p->msg.fd = memfd_create("lmtp-message", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (p->msg.fd < 0) {
		log_event(LOG_LEVEL_ERR, "message_failed", "ip=%s errno=%d reason=\"memfd_create\"",
		    p->ip, errno);
		p->msg.failed = 1;
	}
}

void
lmtp_msg_write(struct lmtp *p, const uint8_t *b, size_t len)
{
	while (len > 0 && p->msg.fd >= 0 && !p->msg.failed) {
		ssize_t n = write(p->msg.fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_event(LOG_LEVEL_ERR, "message_failed", "ip=%s errno=%d reason=\"write\"",
			    p->ip, errno);
			p->msg.failed = 1;
			return;
		}
		b += n;
		len -= (size_t)n;
		p->msg.len += (uint64_t)n;
	}
}

void
lmtp_msg_chunk(struct lmtp *p, const uint8_t *b, size_t len)
{
	uint8_t piece[4096 + 1];

	while (len > 0) {
		size_t take = len < 4096 ? len : 4096;
		lmtp_msg_write(p, piece, dotstuff_crlf_to_lf(&p->msg.cr_held, b, take, piece));
		b += take;
		len -= take;
	}
}

/* The message is complete: seal it and check that the seals took. */
static int
msg_seal(struct lmtp *p)
{
	uint8_t cr;

	lmtp_msg_write(p, &cr, dotstuff_crlf_end(&p->msg.cr_held, &cr));
	if (p->msg.fd < 0 || p->msg.failed)
		return -1;
	if (fcntl(p->msg.fd, F_ADD_SEALS, POLICY_LMTPD_SEALS) < 0 ||
	    fcntl(p->msg.fd, F_GET_SEALS) != POLICY_LMTPD_SEALS) {
		log_event(LOG_LEVEL_ERR, "message_failed", "ip=%s errno=%d reason=\"seal\"", p->ip,
		    errno);
		return -1;
	}
	return 0;
}

/* A deliver-view stored for recipient index, or -1 (the master had none:
 * its text is logged). */
static int
store_for(struct lmtp *p, uint32_t index)
{
	char why[MASTERPROTO_TEXT_MAX];

	if (p->broken)
		return -1;
	masterproto_deliver_put(&ipc_scratch_out, index);
	if (ipc_send(FD_CONTROL, &ipc_scratch_out) < 0 || ipc_recv(FD_CONTROL, &ipc_scratch_in) != 1) {
		log_event(LOG_LEVEL_WARN, "deliver_failed", "ip=%s errno=%d reason=\"master did not "
		    "answer\"", p->ip, errno);
		p->broken = 1;
		return -1;
	}
	if (ipc_scratch_in.type == MSG_WORKER_DELIVER && masterproto_store_get(&ipc_scratch_in) == 0)
		return ipc_scratch_in.fd;
	if (ipc_scratch_in.type == MSG_WORKER_STORE_FAIL && ipc_scratch_in.fd < 0 && masterproto_text_get(&ipc_scratch_in, why) == 0) {
		log_event(LOG_LEVEL_WARN, "deliver_failed", "ip=%s rcpt=%u reason=\"%s\"", p->ip,
		    index, why);
		return -1;
	}
	fatal("reason=\"malformed deliver answer from the master\" type=0x%04x", ipc_scratch_in.type);
}

/* Hand the message to stored on fd and read its verdict into r (left as
 * the 250 on success). */
static void
store_deliver(struct lmtp *p, int fd, uint32_t index, struct smtp_reply *r)
{
	char name[MAILDIR_NAME_MAX + 1], text[STORE_ERR_TEXT_MAX];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint32_t code = 0;

	/* stored reads from the offset to EOF; the fd's offset is shared */
	if (lseek(p->msg.fd, 0, SEEK_SET) != 0)
		goto temp;
	storeproto_deliver_put(&ipc_scratch_out, p->msg.len, p->msg.fd);
	if (ipc_send(fd, &ipc_scratch_out) < 0 || poll(&pfd, 1, store_timeout_ms(p->msg.len)) != 1 ||
	    ipc_recv(fd, &ipc_scratch_in) != 1)
		goto temp;
	if (ipc_scratch_in.type == MSG_STORE_DELIVERED && storeproto_delivered_get(&ipc_scratch_in, name) == 0) {
		log_event(LOG_LEVEL_INFO, "delivered", "ip=%s rcpt=%u size=%llu file=%s", p->ip,
		    index, (unsigned long long)p->msg.len, name);
		p->delivered++;
		return;
	}
	if (ipc_scratch_in.type == MSG_STORE_ERR && storeproto_err_get(&ipc_scratch_in, &code, text) == 0 &&
	    (code == STORE_ERR_TOOBIG || code == STORE_ERR_QUOTA)) {
		ipc_in_close_fd(&ipc_scratch_in);
		/* RFC 3463 X.2.2: mailbox full (as Dovecot's LMTP answers it) */
		smtp_reply_set(r, 552, "5.2.2", code == STORE_ERR_QUOTA ? "Mailbox full (over quota)" :
		    "Mailbox full or message too big");
		log_event(LOG_LEVEL_INFO, "rcpt_refused", "ip=%s rcpt=%u reason=%s", p->ip, index,
		    code == STORE_ERR_QUOTA ? "quota" : "too_big");
		return;
	}
temp:
	ipc_in_close_fd(&ipc_scratch_in);
	log_event(LOG_LEVEL_WARN, "deliver_failed", "ip=%s rcpt=%u errno=%d code=%u", p->ip,
	    index, errno, code);
	smtp_reply_set(r, 451, "4.3.0", "Temporary failure, try again later");
}

void
lmtp_deliver(struct lmtp *p, const struct smtp_step *st)
{
	static struct smtp_reply r;
	int sealed = msg_seal(p);
	unsigned i;

	if (st->nreplies != p->nrcpt)
		fatal("reason=\"recipients ipc_scratch_out of step\" machine=%u worker=%u", st->nreplies,
		    p->nrcpt);
	for (i = 0; i < p->nrcpt; i++) {
		int fd = sealed == 0 ? store_for(p, p->rcpt[i]) : -1;
		r = st->reply;
		if (fd < 0) {
			smtp_reply_set(&r, 451, "4.3.0", "Temporary failure, try again later");
		} else {
			store_deliver(p, fd, p->rcpt[i], &r);
			close(fd);
		}
		/* RFC 2033 4.2: each recipient's reply as soon as it is known */
		lmtp_reply(p, &r, 1);
		(void)wk_client_io(&p->c, 0);
	}
	lmtp_txn_end(p);
}

void
lmtp_txn_end(struct lmtp *p)
{
	if (p->msg.fd >= 0)
		close(p->msg.fd);
	memset(&p->msg, 0, sizeof(p->msg));
	p->msg.fd = -1;
	p->nrcpt = 0;
	if (!p->master_dirty || p->broken)
		return;
	p->master_dirty = 0;
	masterproto_empty_put(&ipc_scratch_out, MSG_MASTER_RESET);
	if (ipc_send(FD_CONTROL, &ipc_scratch_out) < 0) {
		log_event(LOG_LEVEL_WARN, "reset_failed", "ip=%s errno=%d", p->ip, errno);
		p->broken = 1;
	}
}
