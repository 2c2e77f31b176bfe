/* test_ipc.c - typed messages over a real SOCK_SEQPACKET pair. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/ipc/ipc.h"
#include "tap.h"

static struct ipc_out out;
static struct ipc_in in;
static uint8_t raw[IPC_MAX_MSG + 16];

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
make_pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		sv[0] = sv[1] = -1;
}

/* Send a hand-made datagram with nfds fds attached (0..2). */
static int
send_raw(int s, const void *p, size_t len, const int *fds, int nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct msghdr msg;
	struct iovec iov = { (void *)(uintptr_t)p, len };
	struct cmsghdr *c;

	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	return sendmsg(s, &msg, 0) == (ssize_t)len ? 0 : -1;
}

static void
hdr(uint8_t *b, uint8_t ver, uint8_t flags, uint16_t type, uint32_t plen)
{
	b[0] = ver;
	b[1] = flags;
	b[2] = (uint8_t)(type >> 8);
	b[3] = (uint8_t)type;
	b[4] = (uint8_t)(plen >> 24);
	b[5] = (uint8_t)(plen >> 16);
	b[6] = (uint8_t)(plen >> 8);
	b[7] = (uint8_t)plen;
}

static void
test_roundtrip(int sv[2])
{
	const uint8_t *p;
	char s[16];
	size_t n;

	ipc_out_init(&out, 0x0102);
	ipc_put_u8(&out, 0xab);
	ipc_put_u32(&out, 0xdeadbeef);
	ipc_put_u64(&out, 0x0123456789abcdefULL);
	ipc_put_bytes(&out, "a\0b", 3);
	ipc_put_str(&out, "hello");
	ipc_put_bytes(&out, "", 0);
	CHECK(ipc_send(sv[0], &out) == 0, "send typed fields");
	CHECK(ipc_recv(sv[1], &in) == 1, "recv returns 1");
	CHECK(in.type == 0x0102 && in.fd == -1, "type kept, no fd");
	CHECK(ipc_get_u8(&in) == 0xab, "u8 roundtrip");
	CHECK(ipc_get_u32(&in) == 0xdeadbeef, "u32 roundtrip");
	CHECK(ipc_get_u64(&in) == 0x0123456789abcdefULL, "u64 roundtrip");
	n = ipc_get_bytes(&in, &p, 16);
	CHECK(n == 3 && p != NULL && !memcmp(p, "a\0b", 3), "bytes roundtrip (with NUL)");
	ipc_get_str(&in, s, sizeof(s));
	CHECK(!strcmp(s, "hello"), "str roundtrip");
	n = ipc_get_bytes(&in, &p, 16);
	CHECK(n == 0 && in.err == 0, "empty bytes roundtrip");
	CHECK(ipc_in_end(&in) == 0, "in_end ok when all read");
	CHECK(ipc_get_u8(&in) == 0 && ipc_in_end(&in) == -1, "read past end is a sticky error");
}

static void
test_strict_reads(int sv[2])
{
	char s[8];

	ipc_out_init(&out, 1);
	ipc_put_u32(&out, 5);
	ipc_put_u8(&out, 9);
	ipc_send(sv[0], &out);
	CHECK(ipc_recv(sv[1], &in) == 1 && ipc_get_u32(&in) == 5, "recv for trailing test");
	CHECK(ipc_in_end(&in) == -1, "in_end fails on trailing bytes");

	ipc_out_init(&out, 1);
	ipc_put_u8(&out, 9);
	ipc_send(sv[0], &out);
	ipc_recv(sv[1], &in);
	CHECK(ipc_get_u32(&in) == 0 && in.err, "short read sets the error");
	CHECK(ipc_get_u8(&in) == 0, "error is sticky: later u8 gives 0");
	CHECK(ipc_in_end(&in) == -1, "in_end fails after a short read");

	ipc_out_init(&out, 1);
	ipc_put_bytes(&out, "a\0b", 3);
	ipc_send(sv[0], &out);
	ipc_recv(sv[1], &in);
	ipc_get_str(&in, s, sizeof(s));
	CHECK(in.err && s[0] == '\0' && ipc_in_end(&in) == -1, "get_str refuses embedded NUL");

	ipc_out_init(&out, 1);
	ipc_put_str(&out, "12345678");
	ipc_put_str(&out, "1234567");
	ipc_send(sv[0], &out);
	ipc_recv(sv[1], &in);
	ipc_get_str(&in, s, sizeof(s));
	CHECK(in.err && s[0] == '\0', "get_str refuses a string of outlen bytes");
	CHECK(ipc_in_end(&in) == -1, "in_end fails after over-long string");
}

static void
test_limits(int sv[2])
{
	const uint8_t *p;
	char s[8];

	ipc_out_init(&out, 1);
	ipc_put_str(&out, "1234567");
	ipc_put_bytes(&out, "abcdef", 6);
	ipc_send(sv[0], &out);
	ipc_recv(sv[1], &in);
	ipc_get_str(&in, s, sizeof(s));
	CHECK(!in.err && !strcmp(s, "1234567"), "get_str accepts outlen-1 bytes");
	CHECK(ipc_get_bytes(&in, &p, 5) == 0 && p == NULL && in.err, "get_bytes over max refused");

	/* A length field claiming more than the payload holds. */
	ipc_out_init(&out, 1);
	ipc_put_u32(&out, 100);
	ipc_put_u8(&out, 'x');
	ipc_send(sv[0], &out);
	ipc_recv(sv[1], &in);
	CHECK(ipc_get_bytes(&in, &p, 1000) == 0 && p == NULL && in.err, "bytes length past payload refused");
}

static void
test_fd_pass(int sv[2])
{
	int pfd[2], before;
	char b[8] = { 0 };

	before = count_fds();
	if (pipe(pfd) < 0) {
		CHECK(0, "pipe");
		return;
	}
	ipc_out_init(&out, 0x0501);
	ipc_put_fd(&out, pfd[1]);
	ipc_put_u8(&out, 1);
	CHECK(ipc_send(sv[0], &out) == 0, "send with fd");
	close(pfd[1]);
	CHECK(ipc_recv(sv[1], &in) == 1 && in.fd >= 0, "recv with fd");
	CHECK((fcntl(in.fd, F_GETFD) & FD_CLOEXEC) != 0, "received fd is close-on-exec");
	CHECK(ipc_get_u8(&in) == 1 && ipc_in_end(&in) == 0, "payload with fd");
	CHECK(write(in.fd, "xyz", 3) == 3, "write through received fd");
	ipc_in_close_fd(&in);
	CHECK(in.fd == -1, "in_close_fd resets fd");
	CHECK(read(pfd[0], b, sizeof(b)) == 3 && !memcmp(b, "xyz", 3), "data arrives via passed fd");
	CHECK(read(pfd[0], b, sizeof(b)) == 0, "all write ends closed");
	close(pfd[0]);
	CHECK(count_fds() == before, "no fd leaked by fd passing");
}

/* Send raw, expect ipc_recv to refuse it with no fd left open. */
static void
expect_refused(int sv[2], const uint8_t *b, size_t len, int nfds, const char *name)
{
	int pfd[2], fds[2], before, rc;

	before = count_fds();
	if (pipe(pfd) < 0) {
		CHECK(0, "pipe");
		return;
	}
	fds[0] = pfd[0];
	fds[1] = pfd[1];
	rc = send_raw(sv[0], b, len, fds, nfds);
	close(pfd[0]);
	close(pfd[1]);
	CHECK(rc == 0 && ipc_recv(sv[1], &in) == -1 && in.fd == -1, name);
	CHECK(count_fds() == before, "  ...and no fd left open");
}

static void
test_bad_datagrams(int sv[2])
{
	uint8_t b[16];

	hdr(b, IPC_VERSION + 1, 0, 1, 0);
	expect_refused(sv, b, 8, 0, "bad version byte refused");
	hdr(b, 0, 0, 1, 0);
	expect_refused(sv, b, 8, 0, "version 0 refused");
	hdr(b, IPC_VERSION, 0, 1, 5);
	expect_refused(sv, b, 12, 0, "header length > datagram refused");
	hdr(b, IPC_VERSION, 0, 1, 3);
	expect_refused(sv, b, 12, 0, "header length < datagram refused");
	hdr(b, IPC_VERSION, 0, 1, 0xffffffff);
	expect_refused(sv, b, 8, 0, "huge header length refused");
	hdr(b, IPC_VERSION, IPC_FLAG_FD, 1, 0);
	expect_refused(sv, b, 8, 0, "fd flag without fd refused");
	hdr(b, IPC_VERSION, 0, 1, 0);
	expect_refused(sv, b, 8, 1, "fd without fd flag refused");
	hdr(b, IPC_VERSION, IPC_FLAG_FD, 1, 0);
	expect_refused(sv, b, 8, 2, "two fds refused");
	hdr(b, IPC_VERSION, 0x02, 1, 0);
	expect_refused(sv, b, 8, 0, "unknown flag bit refused");
	hdr(b, IPC_VERSION, IPC_FLAG_FD | 0x80, 1, 0);
	expect_refused(sv, b, 8, 1, "unknown flag bit with fd refused");
	expect_refused(sv, b, 5, 0, "datagram shorter than header refused");
	expect_refused(sv, b, 5, 1, "short datagram with fd refused");
	memset(raw, 0, sizeof(raw));
	hdr(raw, IPC_VERSION, IPC_FLAG_FD, 1, IPC_MAX_PAYLOAD + 1);
	expect_refused(sv, raw, IPC_MAX_MSG + 1, 1, "over-long datagram (truncated) refused");

	ipc_out_init(&out, 7);
	ipc_put_u8(&out, 3);
	ipc_send(sv[0], &out);
	CHECK(ipc_recv(sv[1], &in) == 1 && in.type == 7 && ipc_get_u8(&in) == 3,
	    "valid message after refused ones");
}

static int calls;

static int
handler(void *ctx, struct ipc_in *m)
{
	(void)m;
	calls++;
	return *(int *)ctx;
}

static const struct ipc_handler table[] = {
	{ .type = 0x10, .fn = handler },
	{ .type = 0x20, .with_fd = 1, .fn = handler },
};

/* Phases as bits: 1 idle, 2 busy, 4 done. */
static const struct ipc_handler ptable[] = {
	{ .type = 0x10, .phases = 1, .then = 2, .fn = handler },	/* start */
	{ .type = 0x11, .phases = 2, .fn = handler },			/* step */
	{ .type = 0x12, .once = 1, .fn = handler },			/* hello */
	{ .type = 0x13, .phases = 2, .then = 4, .once = 1, .fn = handler }, /* finish */
};

static void
test_permissions(void)
{
	struct ipc_chan ch = { .phase = 1 };
	int ret = 0;

	in.fd = -1;
	calls = 0;
	in.type = 0x11;
	CHECK(ipc_dispatch_chan(IPC_TABLE(ptable), &ch, &ret, &in) == IPC_DENIED && calls == 0,
	    "perm: step before start refused");
	in.type = 0x10;
	CHECK(ipc_dispatch_chan(IPC_TABLE(ptable), &ch, &ret, &in) == 0 && ch.phase == 2,
	    "perm: start accepted, phase moves before the handler");
	CHECK(ipc_dispatch_chan(IPC_TABLE(ptable), &ch, &ret, &in) == IPC_DENIED,
	    "perm: start again refused (not idle)");
	in.type = 0x11;
	CHECK(ipc_dispatch_chan(IPC_TABLE(ptable), &ch, &ret, &in) == 0 && ch.phase == 2,
	    "perm: step in phase, phase kept");
	in.type = 0x12;
	CHECK(ipc_dispatch_chan(IPC_TABLE(ptable), &ch, &ret, &in) == 0 &&
	    ipc_dispatch_chan(IPC_TABLE(ptable), &ch, &ret, &in) == IPC_DENIED,
	    "perm: once row accepted once, then refused");
	ret = -1;	/* a failing handler still spends its once and its phase */
	in.type = 0x13;
	CHECK(ipc_dispatch_chan(IPC_TABLE(ptable), &ch, &ret, &in) == -1 && ch.phase == 4,
	    "perm: failed finish still moved the phase");
	ch.phase = 2;
	CHECK(ipc_dispatch_chan(IPC_TABLE(ptable), &ch, &ret, &in) == IPC_DENIED,
	    "perm: failed once row cannot be retried");
	in.type = 0x10;
	ch.phase = 1;
	CHECK(ipc_dispatch(IPC_TABLE(ptable), &ret, &in) == IPC_DENIED,
	    "perm: rows with phases refused without channel state");
	CHECK(calls == 4, "perm: handlers ran only when permitted");
}

static void
test_dispatch(void)
{
	int ret = 7, pfd[2], before = count_fds();

	in.type = 0x10;
	in.fd = -1;
	calls = 0;
	CHECK(ipc_dispatch(table, 2, &ret, &in) == 7 && calls == 1, "dispatch known type");
	in.type = 0x30;
	CHECK(ipc_dispatch(table, 2, &ret, &in) == -1 && calls == 1, "dispatch unknown type: -1");
	in.type = 0x20;
	CHECK(ipc_dispatch(table, 2, &ret, &in) == -1 && calls == 1, "dispatch fd expected, none: -1");
	if (pipe(pfd) < 0)
		return;
	close(pfd[1]);
	in.type = 0x10;
	in.fd = pfd[0];
	CHECK(ipc_dispatch(table, 2, &ret, &in) == -1 && calls == 1, "dispatch unexpected fd: -1");
	CHECK(in.fd == -1 && count_fds() == before, "unexpected fd closed by dispatch");
	if (pipe(pfd) < 0)
		return;
	close(pfd[1]);
	in.type = 0x30;
	in.fd = pfd[0];
	CHECK(ipc_dispatch(table, 2, &ret, &in) == -1 && in.fd == -1 && count_fds() == before,
	    "unknown type with fd: -1, fd closed");
	in.type = 0x20;
	in.fd = 0;
	CHECK(ipc_dispatch(table, 2, &ret, &in) == 7 && calls == 2 && in.fd == 0, "dispatch with fd");
	in.fd = -1;
	CHECK(ipc_dispatch(table, 0, &ret, &in) == -1, "empty table: -1");
}

static void
test_call(void)
{
	static const uint16_t want[] = { 0x41, 0x42 };
	static struct ipc_out o;
	int sv[2], pfd[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0 || pipe(pfd) < 0)
		return;
	/* the peer's answers are queued first: the call's send and receive
	 * then complete without a second process */
	ipc_out_init(&o, 0x42);
	ipc_put_u32(&o, 9);
	CHECK(ipc_send(sv[1], &o) == 0, "call: answer queued");
	ipc_out_init(&o, 0x40);
	CHECK(ipc_call(sv[0], &o, &in, want, 2, 0) == 0 && in.type == 0x42 &&
	    ipc_get_u32(&in) == 9, "call: expected answer returned");
	CHECK(ipc_recv(sv[1], &in) == 1 && in.type == 0x40, "call: request sent");
	ipc_out_init(&o, 0x43);
	(void)ipc_send(sv[1], &o);
	ipc_out_init(&o, 0x40);
	CHECK(ipc_call(sv[0], &o, &in, want, 2, 0) == -1 && errno == EPROTO,
	    "call: unexpected type is EPROTO");
	ipc_out_init(&o, 0x41);
	ipc_put_fd(&o, pfd[0]);
	(void)ipc_send(sv[1], &o);
	ipc_out_init(&o, 0x40);
	CHECK(ipc_call(sv[0], &o, &in, want, 2, 0) == -1 && errno == EPROTO && in.fd == -1,
	    "call: an fd where none is expected is EPROTO, fd closed");
	close(sv[1]);
	CHECK(ipc_call(sv[0], &o, &in, want, 2, 0) == -1, "call: peer gone fails");
	close(sv[0]);
	close(pfd[0]);
	close(pfd[1]);
}

static void
test_overflow(int sv[2])
{
	static uint8_t big[IPC_MAX_PAYLOAD + 1];
	const uint8_t *p;

	ipc_out_init(&out, 1);
	ipc_put_bytes(&out, big, IPC_MAX_PAYLOAD - 4);
	CHECK(out.err == 0 && ipc_send(sv[0], &out) == 0, "send exactly IPC_MAX_PAYLOAD");
	CHECK(ipc_recv(sv[1], &in) == 1 && ipc_get_bytes(&in, &p, IPC_MAX_PAYLOAD) == IPC_MAX_PAYLOAD - 4 &&
	    ipc_in_end(&in) == 0, "recv exactly IPC_MAX_PAYLOAD");

	ipc_out_init(&out, 1);
	ipc_put_bytes(&out, big, IPC_MAX_PAYLOAD - 4);
	ipc_put_u8(&out, 1);
	errno = 0;
	CHECK(ipc_send(sv[0], &out) == -1 && errno == EMSGSIZE, "one byte over: EMSGSIZE");
	ipc_out_init(&out, 1);
	ipc_put_bytes(&out, big, IPC_MAX_PAYLOAD + 1);
	errno = 0;
	CHECK(ipc_send(sv[0], &out) == -1 && errno == EMSGSIZE, "bytes over IPC_MAX_PAYLOAD: EMSGSIZE");
	ipc_out_init(&out, 1);
	ipc_put_u32(&out, 1);
	ipc_put_bytes(&out, big, IPC_MAX_PAYLOAD - 4);
	ipc_put_u8(&out, 1);
	errno = 0;
	CHECK(ipc_send(sv[0], &out) == -1 && errno == EMSGSIZE, "error sticks across later puts");
	ipc_out_init(&out, 1);
	CHECK(out.err == 0 && ipc_send(sv[0], &out) == 0 && ipc_recv(sv[1], &in) == 1 &&
	    in.len == 0, "out_init clears the error; empty message ok");
}

static void
test_decode(void)
{
	uint8_t b[16];
	size_t n;
	int ok = 1;

	hdr(b, IPC_VERSION, 0, 0x0201, 0);
	for (n = 0; n < IPC_HDR_LEN; n++)
		ok &= ipc_decode(&in, b, n, 0) == -1;
	CHECK(ok, "decode refuses every buffer shorter than the header");
	CHECK(ipc_decode(&in, b, 8, 0) == 0 && in.type == 0x0201 && in.len == 0, "decode bare header");
	CHECK(ipc_decode(&in, b, 8, 1) == -1, "decode: fd present but no flag");
	hdr(b, IPC_VERSION, IPC_FLAG_FD, 2, 4);
	memcpy(b + 8, "\0\0\0\x2a", 4);
	CHECK(ipc_decode(&in, b, 12, 0) == -1, "decode: flag but no fd");
	CHECK(ipc_decode(&in, b, 12, 1) == 0 && ipc_get_u32(&in) == 42 && ipc_in_end(&in) == 0,
	    "decode copies payload");
	CHECK(ipc_decode(&in, b, 11, 1) == -1, "decode: length mismatch");
	CHECK(ipc_decode(&in, raw, IPC_MAX_MSG + 1, 0) == -1, "decode: over IPC_MAX_MSG");
}

int
main(void)
{
	int sv[2], before;

	before = count_fds();
	make_pair(sv);
	CHECK(sv[0] >= 0, "socketpair");
	if (sv[0] < 0)
		return tap_done();
	test_roundtrip(sv);
	test_strict_reads(sv);
	test_limits(sv);
	test_fd_pass(sv);
	test_bad_datagrams(sv);
	test_dispatch();
	test_permissions();
	test_call();
	test_overflow(sv);
	test_decode();
	close(sv[0]);
	CHECK(ipc_recv(sv[1], &in) == 0, "EOF returns 0");
	close(sv[1]);
	CHECK(count_fds() == before, "no fds leaked overall");
	return tap_done();
}
