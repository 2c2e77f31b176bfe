/* fuzz_ipc.c - ipc_decode(), the ipc_get_* readers and ipc_dispatch().
 *
 * Input: one datagram (8-byte header: version 1, flags, type u16 BE, payload
 * length u32 BE; then the payload), optionally followed by a script: if the
 * header's length fits in the input, the bytes after that frame drive a
 * sequence of ipc_get_* calls (one opcode byte each, some with an argument
 * byte).  The script's first byte, bit 7, says the kernel delivered no fd
 * when the flag says one (or one when it says none).  Without a script the
 * fd presence matches the flag.
 *
 * The frame is then dispatched through a table shaped like the daemons'
 * (authd's worker and master tables, stored's), whose handlers read their
 * fields and call ipc_in_end().  No real fd is ever passed: a "received" fd
 * is a number no process can have open, so ipc_dispatch() closing it is a
 * harmless EBADF.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/ipc/ipc.h"
#include "../common/ipc/authdproto.h"
#include "../common/ipc/storeproto.h"
#include "fuzz.h"



#define FAKE_FD (1 << 30)	/* above any RLIMIT_NOFILE: never open */

/* 64 KiB: not on the stack.  Fully re-initialised by every ipc_decode(). */
static struct ipc_in in;

/* A byte string returned by ipc_get_bytes() lies inside the payload. */
static void
check_span(const struct ipc_in *m, const uint8_t *p, size_t len)
{
	if (p == NULL) {
		CHECK(len == 0);
		return;
	}
	CHECK(p >= m->data + IPC_HDR_LEN);
	CHECK((size_t)(p - (m->data + IPC_HDR_LEN)) + len <= m->len);
}

static void
check_cursor(const struct ipc_in *m, int err_before)
{
	CHECK(m->off <= m->len);
	if (err_before)
		CHECK(m->err);	/* sticky */
}

static void
get_str_checked(struct ipc_in *m, size_t outlen)
{
	char *out = malloc(outlen ? outlen : 1);	/* exact size for ASan */
	int e = m->err;

	CHECK(out != NULL);
	ipc_get_str(m, out, outlen);
	check_cursor(m, e);
	if (outlen > 0) {
		size_t l = strnlen(out, outlen);
		CHECK(l < outlen);
		if (m->err)
			CHECK(l == 0);
	}
	free(out);
}

static size_t
get_bytes_checked(struct ipc_in *m, const uint8_t **p, size_t max)
{
	int e = m->err;
	size_t l = ipc_get_bytes(m, p, max);

	check_cursor(m, e);
	CHECK(l <= max);
	if (m->err)
		CHECK(*p == NULL && l == 0);
	check_span(m, *p, l);
	return l;
}

/* One read per opcode; returns the script bytes used. */
static size_t
step(struct ipc_in *m, const uint8_t *s, size_t n)
{
	const uint8_t *p;
	uint8_t arg = n > 1 ? s[1] : 0;
	int e = m->err;
	size_t before = m->off;

	switch (s[0] % 7) {
	case 0:
		if (ipc_get_u8(m) != 0)
			CHECK(!m->err);
		check_cursor(m, e);
		return 1;
	case 1:
		if (ipc_get_u32(m) != 0)
			CHECK(!m->err);
		check_cursor(m, e);
		return 1;
	case 2:	/* (after a short read the value is not 0: callers must
		 * check ipc_in_end() before using it) */
		(void)ipc_get_u64(m);
		check_cursor(m, e);
		return 1;
	case 3:	/* bytes, max 0..255 or large */
		get_bytes_checked(m, &p, arg == 255 ? IPC_MAX_PAYLOAD : arg);
		return 2;
	case 4:	/* str into 0..255 bytes */
		get_str_checked(m, arg);
		return 2;
	case 5:
		CHECK(ipc_in_end(m) == ((!m->err && m->off == m->len) ? 0 : -1));
		CHECK(m->off == before);
		return 1;
	default:	/* a failed read leaves the cursor where it was */
		if (ipc_get_u32(m) == 0 && m->err && !e)
			CHECK(m->off == before);
		return 1;
	}
}

/* Handlers shaped like the daemons' readers. */
struct ctx {
	int called;
	int fd_taken;
};

static int
h_auth_start(void *c, struct ipc_in *m)
{
	const uint8_t *ir;
	uint8_t has_ir;

	((struct ctx *)c)->called++;
	get_str_checked(m, 32);
	has_ir = ipc_get_u8(m);
	get_bytes_checked(m, &ir, 1372);
	return ipc_in_end(m) < 0 || has_ir > 1 ? -1 : 0;
}

static int
h_auth_continue(void *c, struct ipc_in *m)
{
	const uint8_t *line;

	((struct ctx *)c)->called++;
	get_bytes_checked(m, &line, 1373);
	return ipc_in_end(m);
}

static int
h_auth_userpass(void *c, struct ipc_in *m)
{
	const uint8_t *u, *p;

	((struct ctx *)c)->called++;
	get_bytes_checked(m, &u, 255);
	get_bytes_checked(m, &p, 512);
	return ipc_in_end(m);
}

static int
h_session_new(void *c, struct ipc_in *m)
{
	struct ctx *x = c;

	x->called++;
	CHECK(m->fd == FAKE_FD);
	m->fd = -1;		/* the handler owns it now */
	x->fd_taken = 1;
	get_str_checked(m, 32);
	get_str_checked(m, 64);
	get_str_checked(m, 16);
	return ipc_in_end(m);
}

static int
h_config(void *c, struct ipc_in *m)
{
	int i;

	((struct ctx *)c)->called++;
	get_str_checked(m, 256);
	get_str_checked(m, 256);
	for (i = 0; i < 6; i++)
		(void)ipc_get_u32(m);
	return ipc_in_end(m);
}

static int
h_store_commit(void *c, struct ipc_in *m)
{
	uint32_t n, i;

	((struct ctx *)c)->called++;
	(void)ipc_get_u8(m);
	n = ipc_get_u32(m);
	for (i = 0; i < n && !m->err; i++)
		(void)ipc_get_u32(m);
	return ipc_in_end(m);
}

static int
h_msgfd(void *c, struct ipc_in *m)
{
	struct ctx *x = c;

	x->called++;
	CHECK(m->fd == FAKE_FD);
	m->fd = -1;
	x->fd_taken = 1;
	(void)ipc_get_u64(m);
	return ipc_in_end(m);
}

/* Phases and once as the daemons use them: the channel's phase is picked
 * from the input's length, so every row is tried in and out of phase. */
static const struct ipc_handler table[] = {
	{ .type = MSG_AUTH_START, .phases = 1, .then = 2, .fn = h_auth_start },
	{ .type = MSG_AUTH_CONTINUE, .phases = 2, .fn = h_auth_continue },
	{ .type = MSG_AUTH_USERPASS, .phases = 1 | 4, .once = 1, .fn = h_auth_userpass },
	{ .type = MSG_AUTHD_SESSION_NEW, .with_fd = 1, .fn = h_session_new },
	{ .type = MSG_AUTHD_CONFIG, .once = 1, .fn = h_config },
	{ .type = MSG_STORE_POP_COMMIT, .fn = h_store_commit },
	{ .type = MSG_STORE_MSGFD, .with_fd = 1, .fn = h_msgfd },
	{ .type = MSG_STORE_POP_OPEN, .fn = h_auth_continue },	/* a type read wrongly */
	{ .type = MSG_STORE_POP_OPEN, .with_fd = 1, .fn = h_msgfd },	/* never reached */
	/* FAKE_FD is never open, so never a regular file: always refused */
	{ .type = MSG_STORE_DELIVER, .with_fd = IPC_FD_FILE, .fn = h_msgfd },
};
#define NTABLE (sizeof(table) / sizeof(table[0]))

/* What ipc_dispatch() must do: the first row of the type decides. */
static int
expect_row(uint16_t type, int with_fd)
{
	size_t i;

	for (i = 0; i < NTABLE; i++)
		if (table[i].type == type)
			return (table[i].with_fd != 0) == (with_fd != 0) &&
			    table[i].with_fd != IPC_FD_FILE ? (int)i : -1;
	return -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *script = NULL;
	size_t frame = size, nscript = 0, i;
	struct ctx ctx;
	struct ipc_chan ch;
	int fd_present, rc, row;

	if (size == 0)
		return 0;
	fd_present = size >= 2 && (data[1] & IPC_FLAG_FD);
	if (size >= IPC_HDR_LEN) {
		uint32_t plen = ((uint32_t)data[4] << 24) | ((uint32_t)data[5] << 16) |
		    ((uint32_t)data[6] << 8) | data[7];
		if (plen <= size - IPC_HDR_LEN && plen + IPC_HDR_LEN < size) {
			frame = IPC_HDR_LEN + plen;
			script = data + frame;
			nscript = size - frame;
			if (script[0] & 0x80)
				fd_present = !fd_present;
		}
	}

	/* The whole input as one datagram: with a script it trails, so bad. */
	rc = ipc_decode(&in, data, size, fd_present);
	CHECK(rc == 0 || rc == -1);
	if (script != NULL)
		CHECK(rc == -1);

	rc = ipc_decode(&in, data, frame, fd_present);
	CHECK(rc == 0 || rc == -1);
	if (rc < 0)
		return 0;
	CHECK(frame >= IPC_HDR_LEN && in.len == frame - IPC_HDR_LEN);
	CHECK(in.off == 0 && !in.err);
	CHECK(in.type == ((data[2] << 8) | data[3]));
	CHECK(data[0] == IPC_VERSION);
	CHECK(memcmp(in.data, data, frame) == 0);
	in.fd = fd_present ? FAKE_FD : -1;

	/* The script's reads, then the end check. */
	for (i = 0; i < nscript;)
		i += step(&in, script + i, nscript - i);
	CHECK(ipc_in_end(&in) == ((!in.err && in.off == in.len) ? 0 : -1));

	/* Dispatch a fresh cursor (decoding in place keeps the bytes). */
	CHECK(ipc_decode(&in, in.data, frame, fd_present) == 0);
	in.fd = fd_present ? FAKE_FD : -1;
	memset(&ctx, 0, sizeof(ctx));
	row = expect_row(in.type, fd_present);
	ch.phase = 1u << (size & 3);
	ch.used = 0;
	rc = ipc_dispatch_chan(table, NTABLE, &ch, &ctx, &in);
	if (row < 0) {
		CHECK(rc == -1);
		CHECK(ctx.called == 0);
		CHECK(in.fd == -1);	/* closed by ipc_dispatch */
	} else if (table[row].phases != 0 && !(table[row].phases & (1u << (size & 3)))) {
		CHECK(rc == IPC_DENIED && ctx.called == 0 && in.fd == -1);
		CHECK(ch.phase == 1u << (size & 3) && ch.used == 0);
	} else {
		CHECK(ctx.called == 1);
		CHECK(rc == 0 || rc == -1);
		if (rc == 0)
			CHECK(!in.err && in.off == in.len);
		CHECK(ctx.fd_taken == (table[row].with_fd != 0));
		CHECK(ch.phase == (table[row].then ? table[row].then : 1u << (size & 3)));
		CHECK(ch.used == (table[row].once ? (uint64_t)1 << row : 0));
		/* a .once row is refused the second time, whatever the phase */
		if (table[row].once && ch.phase == (1u << (size & 3))) {
			in.fd = -1;
			CHECK(ipc_dispatch_chan(table, NTABLE, &ch, &ctx, &in) == IPC_DENIED);
			CHECK(ctx.called == 1);
		}
	}
	/* Without channel state a row with permissions never runs. */
	if (row >= 0 && (table[row].phases != 0 || table[row].once)) {
		in.fd = -1;
		CHECK(ipc_dispatch(table, NTABLE, &ctx, &in) == IPC_DENIED);
	}
	in.fd = -1;
	return 0;
}
