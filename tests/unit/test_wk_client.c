/* test_wk_client.c - the worker kit's client I/O over a socketpair:
 * non-blocking reads into a bounded buffer, the bounded output queue, and
 * a peer that never reads given up at the idle timeout. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/base/ev.h"
#include "../../common/base/log.h"
#include "../../common/worker/wk_client.h"
#include "tap.h"

static struct wk_client c;

static void
pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
}

static void
test_input(void)
{
	static uint8_t junk[20000];
	int sv[2];
	size_t n;

	pair(sv);
	wk_client_init(&c, sv[0], -1, 64, 1000, "test");
	CHECK(wk_client_events(&c) == POLLIN, "idle: wants input only");
	CHECK(write(sv[1], "USER x\r\n", 8) == 8, "peer writes a line");
	CHECK(wk_client_io(&c, POLLIN) == 8 && memcmp(c.in.data, "USER x\r\n", 8) == 0, "line read");
	CHECK(wk_client_io(&c, POLLIN) == 0 && !c.eof && !c.dead, "nothing more: no block, no eof");
	memset(junk, 'A', sizeof(junk));
	CHECK(write(sv[1], junk, sizeof(junk)) == (ssize_t)sizeof(junk), "peer floods");
	while ((n = wk_client_io(&c, POLLIN)) > 0)
		;
	CHECK(c.in.len == 64 + WK_READ_CHUNK, "input stops at max_line + one read");
	CHECK(!(wk_client_events(&c) & POLLIN), "a full buffer asks for no input");
	buf_consume(&c.in, c.in.len);
	CHECK(wk_client_io(&c, POLLIN) > 0, "room again: reading resumes");
	close(sv[1]);
	while (!c.eof && !c.dead) {
		buf_consume(&c.in, c.in.len);
		(void)wk_client_io(&c, POLLIN);
	}
	CHECK(c.eof && !c.dead && wk_client_events(&c) == 0, "peer closed: eof, nothing asked");
	wk_client_close(&c);
	close(sv[0]);
}

static void
test_output(void)
{
	char got[16];
	int sv[2];

	pair(sv);
	wk_client_init(&c, sv[0], -1, 64, 1000, "test");
	CHECK(wk_client_can_say(&c), "plaintext: text reaches the client");
	wk_client_puts(&c, "+OK hello\r\n");
	CHECK(c.outlen == 11 && (wk_client_events(&c) & POLLOUT), "queued, wants POLLOUT");
	wk_client_io(&c, POLLOUT);
	CHECK(c.outlen == 0 && !(wk_client_events(&c) & POLLOUT), "sent");
	CHECK(read(sv[1], got, sizeof(got)) == 11 && memcmp(got, "+OK hello\r\n", 11) == 0,
	    "peer got it");
	wk_client_close(&c);
	close(sv[0]);
	close(sv[1]);
}

static void
test_peer_never_reads(void)
{
	static uint8_t big[1 << 20];
	int sv[2], small = 4096;
	uint64_t t0;

	pair(sv);
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	(void)setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	wk_client_init(&c, sv[0], -1, 64, 200, "test");
	t0 = ev_now_ms();
	wk_client_write(&c, big, sizeof(big));
	CHECK(c.dead, "a peer that never reads is given up");
	CHECK(ev_now_ms() - t0 >= 190 && ev_now_ms() - t0 < 2000, "after the idle timeout");
	CHECK(c.outlen <= WK_OUT_MAX, "the queue stayed bounded");
	CHECK(wk_client_drain(&c) == -1 && wk_client_events(&c) == 0, "dead: no more I/O");
	wk_client_close(&c);
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	log_init("test_wk_client");
	test_input();
	test_output();
	test_peer_never_reads();
	return tap_done();
}
