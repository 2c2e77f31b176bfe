/* storeproto.c - encoding and decoding the worker <-> stored messages. */
#include "storeproto.h"

#include <stdio.h>
#include <string.h>

#include "../proto/smtp_parse.h"
#include "proto.h"
#include "storeimap.h"

void
storeproto_open_put(struct ipc_out *o, uint16_t type)
{
	ipc_out_init(o, type);
}

int
storeproto_open_get(struct ipc_in *in)
{
	return ipc_in_end_no_fd(in);
}

void
storeproto_changed_put(struct ipc_out *o)
{
	ipc_out_init(o, MSG_STORE_CHANGED);
}

int
storeproto_changed_get(struct ipc_in *in)
{
	return ipc_in_end_no_fd(in);
}

void
storeproto_index_put(struct ipc_out *o, uint16_t type, uint32_t index)
{
	ipc_out_init(o, type);
	ipc_put_u32(o, index);
}

int
storeproto_index_get(struct ipc_in *in, uint32_t *index_r)
{
	*index_r = ipc_get_u32(in);
	return ipc_in_end_no_fd(in);
}

void
storeproto_commit_put(struct ipc_out *o, uint8_t final, const uint32_t *index, uint32_t count)
{
	uint32_t i;

	ipc_out_init(o, MSG_STORE_POP_COMMIT);
	if (count > STORE_COMMIT_MAX)
		o->err = 1;	/* ipc_send then fails with EMSGSIZE */
	ipc_put_u8(o, final);
	ipc_put_u32(o, count);
	for (i = 0; i < count && !o->err; i++)
		ipc_put_u32(o, index[i]);
}

int
storeproto_commit_get(struct ipc_in *in, struct store_commit *r)
{
	uint32_t i;

	r->final = ipc_get_u8(in);
	r->count = ipc_get_u32(in);
	if (in->err || r->final > 1 || r->count > STORE_COMMIT_MAX)
		return -1;
	for (i = 0; i < r->count; i++)
		r->index[i] = ipc_get_u32(in);
	return ipc_in_end_no_fd(in);
}

void
storeproto_deliver_put(struct ipc_out *o, uint64_t len, const char *sender, int fd)
{
	ipc_out_init(o, MSG_STORE_DELIVER);
	ipc_put_u64(o, len);
	if (strlen(sender) > STORE_SENDER_MAX)
		o->err = 1;
	ipc_put_str(o, sender);
	ipc_put_fd(o, fd);
}

/* The sender becomes a header line (Return-Path): it must be what the
 * SMTP parser takes as a MAIL FROM mailbox, so no CR, LF, blank or
 * control gets into the header, whatever the worker sends.  "" is <>. */
static int
sender_valid(const char *sender)
{
	char line[STORE_SENDER_MAX + 32];
	struct smtp_limits lim;
	struct smtp_cmd cmd;
	struct smtp_reply err;
	size_t i;
	int n, utf8 = 0;

	for (i = 0; sender[i] != '\0'; i++)
		utf8 |= (unsigned char)sender[i] >= 0x80;
	n = snprintf(line, sizeof(line), "MAIL FROM:<%s>%s", sender, utf8 ? " SMTPUTF8" : "");
	if (n < 0 || (size_t)n >= sizeof(line))
		return 0;
	smtp_limits_default(&lim);
	if (smtp_parse((const uint8_t *)line, (size_t)n, &lim, 0, &cmd, &err) < 0 ||
	    cmd.verb != SMTP_V_MAIL)
		return 0;
	/* the parser may drop a source route: the header gets what it kept */
	return strcmp(cmd.path.addr, sender) == 0;
}

int
storeproto_deliver_get(struct ipc_in *in, uint64_t *len_r, char sender_r[STORE_SENDER_MAX + 1])
{
	*len_r = ipc_get_u64(in);
	ipc_get_str(in, sender_r, STORE_SENDER_MAX + 1);
	if (ipc_in_end(in) < 0 || in->fd < 0 || *len_r > STORE_DELIVER_MAX ||
	    !sender_valid(sender_r)) {
		sender_r[0] = '\0';
		return -1;
	}
	return 0;
}

void
storeproto_ok_put(struct ipc_out *o, uint64_t value)
{
	ipc_out_init(o, MSG_STORE_OK);
	ipc_put_u64(o, value);
}

int
storeproto_ok_get(struct ipc_in *in, uint64_t *value_r)
{
	*value_r = ipc_get_u64(in);
	return ipc_in_end_no_fd(in);
}

void
storeproto_err_put(struct ipc_out *o, uint32_t code, const char *text)
{
	ipc_out_init(o, MSG_STORE_ERR);
	ipc_put_u32(o, code);
	/* an over-long text would fail the reader: stored's texts are constants */
	if (strlen(text) >= STORE_ERR_TEXT_MAX)
		o->err = 1;
	ipc_put_str(o, text);
}

int
storeproto_err_get(struct ipc_in *in, uint32_t *code_r, char text_r[STORE_ERR_TEXT_MAX])
{
	*code_r = ipc_get_u32(in);
	ipc_get_str(in, text_r, STORE_ERR_TEXT_MAX);
	if (ipc_in_end_no_fd(in) < 0 || *code_r < STORE_ERR_INUSE || *code_r > STORE_ERR_MAX) {
		text_r[0] = '\0';
		return -1;
	}
	return 0;
}

/* A page's header (MSG_STORE_SIZES, _UIDLS): start, count, more. */
static void
page_put(struct ipc_out *o, uint16_t type, uint32_t start, uint8_t more, uint32_t count,
    uint32_t max)
{
	ipc_out_init(o, type);
	if (count > max)
		o->err = 1;	/* ipc_send then fails with EMSGSIZE */
	ipc_put_u32(o, start);
	ipc_put_u32(o, count);
	ipc_put_u8(o, more);
}

static int
page_get(struct ipc_in *in, uint32_t *start_r, uint32_t *count_r, uint8_t *more_r, uint32_t max)
{
	*start_r = ipc_get_u32(in);
	*count_r = ipc_get_u32(in);
	*more_r = ipc_get_u8(in);
	return in->err || *count_r == 0 || *count_r > max || *more_r > 1 ? -1 : 0;
}

void
storeproto_sizes_put(struct ipc_out *o, uint32_t start, uint8_t more, const uint64_t *size,
    uint32_t count)
{
	uint32_t i;

	page_put(o, MSG_STORE_SIZES, start, more, count, STORE_SIZES_PAGE);
	for (i = 0; i < count && !o->err; i++)
		ipc_put_u64(o, size[i]);
}

int
storeproto_sizes_get(struct ipc_in *in, struct store_sizes *r)
{
	uint32_t i;

	if (page_get(in, &r->start, &r->count, &r->more, STORE_SIZES_PAGE) < 0)
		return -1;
	for (i = 0; i < r->count; i++)
		r->size[i] = ipc_get_u64(in);
	return ipc_in_end_no_fd(in);
}

/* RFC 1939 section 7: 1 to 70 characters in the range 0x21 to 0x7E. */
static int
uidl_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > UIDL_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

void
storeproto_uidls_put(struct ipc_out *o, uint32_t start, uint8_t more, const char *const *uidl,
    uint32_t count)
{
	uint32_t i;

	page_put(o, MSG_STORE_UIDLS, start, more, count, STORE_UIDLS_PAGE);
	for (i = 0; i < count && !o->err; i++)
		ipc_put_str(o, uidl[i]);
}

int
storeproto_uidls_get(struct ipc_in *in, struct store_uidls *r)
{
	uint32_t i;

	if (page_get(in, &r->start, &r->count, &r->more, STORE_UIDLS_PAGE) < 0)
		return -1;
	for (i = 0; i < r->count; i++) {
		ipc_get_str(in, r->uidl[i], sizeof(r->uidl[i]));
		if (in->err || !uidl_valid(r->uidl[i]))
			return -1;
	}
	return ipc_in_end_no_fd(in);
}

void
storeproto_msgfd_put(struct ipc_out *o, uint64_t size, int fd)
{
	ipc_out_init(o, MSG_STORE_MSGFD);
	ipc_put_u64(o, size);
	ipc_put_fd(o, fd);
}

int
storeproto_msgfd_get(struct ipc_in *in, uint64_t *size_r)
{
	*size_r = ipc_get_u64(in);
	if (ipc_in_end(in) < 0 || in->fd < 0)
		return -1;
	return 0;
}

void
storeproto_delivered_put(struct ipc_out *o, const char *name)
{
	ipc_out_init(o, MSG_STORE_DELIVERED);
	ipc_put_str(o, name);
}

int
storeproto_delivered_get(struct ipc_in *in, char name_r[MAILDIR_NAME_MAX + 1])
{
	struct maildir_name mn;

	ipc_get_str(in, name_r, MAILDIR_NAME_MAX + 1);
	/* a name in new/ has no ':' at all: no info, not even a malformed one */
	if (ipc_in_end_no_fd(in) < 0 || maildir_parse_name(name_r, strlen(name_r), &mn) < 0 ||
	    mn.base_len != strlen(name_r)) {
		name_r[0] = '\0';
		return -1;
	}
	return 0;
}
