/* mailbox.c - POP3 TRANSACTION and UPDATE states (RFC 1939 sections 5, 6).
 *
 * The worker keeps the sizes and deletion marks of the snapshot stored made
 * at login; bodies arrive as read-only fds from stored and are streamed with
 * LF -> CRLF conversion and dot-stuffing, so the sizes in LIST/STAT are the
 * exact bytes RETR sends (before the stuffing, as RFC 1939 counts them). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/ipc/ipc.h"
#include "../../common/ipc/scratch.h"
#include "../../common/base/log.h"
#include "../../common/proto/pop3_encode.h"
#include "../../common/ipc/proto.h"
#include "../../common/ipc/storeproto.h"
#include "../../common/base/util.h"
#include "pop3d.h"

/* Decoded reply pages (one of each per process, like the buffers). */
static struct store_sizes sizes_page;
static struct store_uidls uidls_page;

/* One request to stored and its reply in ipc_scratch_in. Fatal if stored is gone or
 * misbehaves: the session cannot go on without its store. */
static void
store_call(struct pop3 *p)
{
	if (ipc_send(p->store_fd, &ipc_scratch_out) < 0 || ipc_recv(p->store_fd, &ipc_scratch_in) != 1) {
		client_puts(&p->c, "-ERR [SYS/TEMP] Mail storage failed\r\n");
		client_flush(&p->c);
		fatal("reason=\"stored channel failed\" errno=%d", errno);
	}
}

static int
load_sizes(struct pop3 *p)
{
	uint32_t start = 0, i;

	p->sizes = calloc(p->nmsgs ? p->nmsgs : 1, sizeof(*p->sizes));
	p->deleted = calloc(p->nmsgs ? p->nmsgs : 1, 1);
	if (p->sizes == NULL || p->deleted == NULL)
		return -1;
	while (start < p->nmsgs) {
		const struct store_sizes *r = &sizes_page;

		storeproto_index_put(&ipc_scratch_out, MSG_STORE_POP_SIZES, start);
		store_call(p);
		if (ipc_scratch_in.type != MSG_STORE_SIZES || storeproto_sizes_get(&ipc_scratch_in, &sizes_page) < 0)
			return -1;
		/* meaning: the page asked for, inside the listing, "more" truthful */
		if (r->start != start || r->count > p->nmsgs - start ||
		    (r->more != 0) != (start + r->count < p->nmsgs))
			return -1;
		for (i = 0; i < r->count; i++)
			p->sizes[start + i] = r->size[i];
		start += r->count;
	}
	return 0;
}

/* A MSG_STORE_ERR reply's code (0 when the reply is not a valid one). */
static uint32_t
store_err_code(void)
{
	char text[STORE_ERR_TEXT_MAX];
	uint32_t code;

	return storeproto_err_get(&ipc_scratch_in, &code, text) == 0 ? code : 0;
}

int
pop3_enter_transaction(struct pop3 *p)
{
	uint64_t n;

	storeproto_open_put(&ipc_scratch_out, MSG_STORE_POP_OPEN);
	store_call(p);
	if (ipc_scratch_in.type == MSG_STORE_ERR) {
		if (store_err_code() == STORE_ERR_INUSE)
			client_puts(&p->c, "-ERR [IN-USE] Mailbox is locked by another POP3 session\r\n");
		else
			client_puts(&p->c, "-ERR [SYS/TEMP] Cannot open mailbox\r\n");
		return -1;
	}
	if (ipc_scratch_in.type != MSG_STORE_OK)
		fatal("reason=\"unexpected reply from stored\" type=0x%04x", ipc_scratch_in.type);
	if (storeproto_ok_get(&ipc_scratch_in, &n) < 0 || n > p->cfg->pop3_max_messages)
		fatal("reason=\"bad maildrop listing from stored\"");
	p->nmsgs = (size_t)n;
	if (load_sizes(p) < 0)
		fatal("reason=\"bad maildrop listing from stored\"");
	p->state = POP3_TRANSACTION;
	client_printf(&p->c, "+OK Logged in, %zu messages\r\n", p->nmsgs);
	return 0;
}

/* Parse a message number argument: 1..nmsgs, not deleted.  Answers the
 * error itself and returns -1; else the 0-based index. */
static long
msg_arg(struct pop3 *p, const uint8_t *s, size_t len)
{
	uint64_t n;

	if (util_parse_u64(s, len, UINT32_MAX, &n) < 0 || n == 0) {
		client_puts(&p->c, "-ERR Invalid message number\r\n");
		return -1;
	}
	if (n > p->nmsgs) {
		client_puts(&p->c, "-ERR No such message\r\n");
		return -1;
	}
	if (p->deleted[n - 1]) {
		client_printf(&p->c, "-ERR Message %llu already deleted\r\n", (unsigned long long)n);
		return -1;
	}
	return (long)(n - 1);
}

void
pop3_cmd_stat(struct pop3 *p, const struct pop3_cmd *cmd)
{
	uint64_t count = 0, octets = 0;
	size_t i;

	if (cmd->nargs != 0) {
		client_puts(&p->c, "-ERR Syntax: STAT\r\n");
		return;
	}
	for (i = 0; i < p->nmsgs; i++) {
		if (!p->deleted[i]) {
			count++;
			octets += p->sizes[i];
		}
	}
	client_printf(&p->c, "+OK %llu %llu\r\n", (unsigned long long)count, (unsigned long long)octets);
}

void
pop3_cmd_list(struct pop3 *p, const struct pop3_cmd *cmd)
{
	size_t i;
	long m;

	if (cmd->nargs > 1) {
		client_puts(&p->c, "-ERR Syntax: LIST [msg]\r\n");
		return;
	}
	if (cmd->nargs == 1) {
		if ((m = msg_arg(p, cmd->arg[0], cmd->arglen[0])) >= 0)
			client_printf(&p->c, "+OK %ld %llu\r\n", m + 1, (unsigned long long)p->sizes[m]);
		return;
	}
	client_puts(&p->c, "+OK scan listing follows\r\n");
	for (i = 0; i < p->nmsgs; i++)
		if (!p->deleted[i])
			client_printf(&p->c, "%zu %llu\r\n", i + 1, (unsigned long long)p->sizes[i]);
	client_puts(&p->c, ".\r\n");
}

/* Fetch UIDLs from stored page by page; print all (single < 0) or one. */
static void
uidl_pages(struct pop3 *p, long single)
{
	const struct store_uidls *r = &uidls_page;
	uint32_t start = single >= 0 ? (uint32_t)single : 0, i;

	while (start < p->nmsgs) {
		storeproto_index_put(&ipc_scratch_out, MSG_STORE_POP_UIDLS, start);
		store_call(p);
		if (ipc_scratch_in.type != MSG_STORE_UIDLS || storeproto_uidls_get(&ipc_scratch_in, &uidls_page) < 0 ||
		    r->start != start || r->count > p->nmsgs - start)
			fatal("reason=\"bad UIDL page from stored\"");
		for (i = 0; i < r->count; i++) {
			if (single >= 0) {
				client_printf(&p->c, "+OK %ld %s\r\n", single + 1, r->uidl[i]);
				return;
			}
			if (!p->deleted[start + i])
				client_printf(&p->c, "%u %s\r\n", start + i + 1, r->uidl[i]);
		}
		start += r->count;
	}
}

void
pop3_cmd_uidl(struct pop3 *p, const struct pop3_cmd *cmd)
{
	long m;

	if (cmd->nargs > 1) {
		client_puts(&p->c, "-ERR Syntax: UIDL [msg]\r\n");
		return;
	}
	if (cmd->nargs == 1) {
		if ((m = msg_arg(p, cmd->arg[0], cmd->arglen[0])) >= 0)
			uidl_pages(p, m);
		return;
	}
	client_puts(&p->c, "+OK unique-id listing follows\r\n");
	uidl_pages(p, -1);
	client_puts(&p->c, ".\r\n");
}

/* Stream a message through the pure encoder (common/proto/pop3_encode.h): bare
 * LF -> CRLF, '.' at line start doubled, TOP's line limit. */
static int
send_message(struct pop3 *p, int fd, int64_t body_lines)
{
	uint8_t in[8192], out[POP3_ENC_OUT_MAX(8192)];
	struct pop3_enc e;
	off_t off = 0;
	ssize_t n = 0;
	size_t used, o;

	pop3_enc_init(&e, body_lines);
	while (!e.done && (n = pread(fd, in, sizeof(in), off)) > 0) {
		off += n;
		o = pop3_enc_feed(&e, in, (size_t)n, out, &used);
		client_write(&p->c, out, o);
		if (p->c.dead)
			return -1;
	}
	if (!e.done && n < 0)
		return -1;
	o = pop3_enc_finish(&e, out);
	client_write(&p->c, out, o);
	return 0;
}

static void
fetch(struct pop3 *p, long m, int64_t body_lines)
{
	uint64_t size;

	storeproto_index_put(&ipc_scratch_out, MSG_STORE_POP_FETCH, (uint32_t)m);
	store_call(p);
	if (ipc_scratch_in.type == MSG_STORE_ERR) {
		uint32_t code = store_err_code();
		ipc_in_close_fd(&ipc_scratch_in);
		client_puts(&p->c, code == STORE_ERR_GONE ?
		    "-ERR Message was removed by another program\r\n" :
		    "-ERR [SYS/TEMP] Cannot read message\r\n");
		return;
	}
	if (ipc_scratch_in.type != MSG_STORE_MSGFD || storeproto_msgfd_get(&ipc_scratch_in, &size) < 0)
		fatal("reason=\"bad fetch reply from stored\"");
	client_printf(&p->c, "+OK %llu octets\r\n", (unsigned long long)size);
	if (send_message(p, ipc_scratch_in.fd, body_lines) < 0 && !p->c.dead) {
		/* A read error mid-message: the client cannot be told cleanly. */
		log_event(LOG_LEVEL_ERR, "retr", "reason=\"read error\" errno=%d", errno);
		p->c.dead = 1;
	}
	close(ipc_scratch_in.fd);
	if (body_lines < 0) {
		p->retr_count++;
		p->retr_bytes += size;
	}
}

void
pop3_cmd_retr(struct pop3 *p, const struct pop3_cmd *cmd)
{
	long m;

	if (cmd->nargs != 1) {
		client_puts(&p->c, "-ERR Syntax: RETR msg\r\n");
		return;
	}
	if ((m = msg_arg(p, cmd->arg[0], cmd->arglen[0])) >= 0)
		fetch(p, m, -1);
}

void
pop3_cmd_top(struct pop3 *p, const struct pop3_cmd *cmd)
{
	uint64_t lines;
	long m;

	if (cmd->nargs != 2) {
		client_puts(&p->c, "-ERR Syntax: TOP msg lines\r\n");
		return;
	}
	if ((m = msg_arg(p, cmd->arg[0], cmd->arglen[0])) < 0)
		return;
	if (util_parse_u64(cmd->arg[1], cmd->arglen[1], INT64_MAX, &lines) < 0) {
		client_puts(&p->c, "-ERR Invalid number of lines\r\n");
		return;
	}
	fetch(p, m, (int64_t)lines);
}

void
pop3_cmd_dele(struct pop3 *p, const struct pop3_cmd *cmd)
{
	long m;

	if (cmd->nargs != 1) {
		client_puts(&p->c, "-ERR Syntax: DELE msg\r\n");
		return;
	}
	if ((m = msg_arg(p, cmd->arg[0], cmd->arglen[0])) < 0)
		return;
	p->deleted[m] = 1;
	client_printf(&p->c, "+OK Message %ld deleted\r\n", m + 1);
}

void
pop3_cmd_rset(struct pop3 *p, const struct pop3_cmd *cmd)
{
	if (cmd->nargs != 0) {
		client_puts(&p->c, "-ERR Syntax: RSET\r\n");
		return;
	}
	memset(p->deleted, 0, p->nmsgs);
	client_printf(&p->c, "+OK %zu messages\r\n", p->nmsgs);
}

/* QUIT in TRANSACTION: remove the marked messages (RFC 1939 section 6),
 * in batches of at most STORE_COMMIT_MAX indexes. */
void
pop3_update(struct pop3 *p)
{
	static uint32_t batch[STORE_COMMIT_MAX];
	size_t i = 0, removed = 0;
	int ok = 1;

	p->state = POP3_UPDATE;
	for (;;) {
		uint32_t count = 0;
		uint64_t n;

		for (; i < p->nmsgs && count < STORE_COMMIT_MAX; i++)
			if (p->deleted[i])
				batch[count++] = (uint32_t)i;
		/* final when nothing marked is left after this batch */
		while (i < p->nmsgs && !p->deleted[i])
			i++;
		storeproto_commit_put(&ipc_scratch_out, i >= p->nmsgs, batch, count);
		store_call(p);
		if (ipc_scratch_in.type == MSG_STORE_OK) {
			if (storeproto_ok_get(&ipc_scratch_in, &n) < 0)
				fatal("reason=\"bad commit reply from stored\"");
			removed += (size_t)n;
		} else {
			ok = 0;
		}
		if (i >= p->nmsgs)
			break;
	}
	if (ok)
		client_printf(&p->c, "+OK Bye, %zu messages removed\r\n", removed);
	else
		client_puts(&p->c, "-ERR [SYS/TEMP] Some deleted messages were not removed\r\n");
	log_event(LOG_LEVEL_INFO, "logout", "removed=%zu retr=%llu retr_bytes=%llu", removed,
	    (unsigned long long)p->retr_count, (unsigned long long)p->retr_bytes);
}
