/* test_ev.c - common/base/ev.c in its epoll mode (the master's): readiness,
 * changed and removed watches, a callback that removes its own fd, timers,
 * and a registration whose fd was closed while another descriptor kept the
 * socket open: it must neither be dispatched as the new owner of the fd
 * number nor spin the loop. */
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/base/ev.h"
#include "tap.h"

static int fired_a, fired_b, stale;
static int sv[2], sv2[2];

static void
stop_cb(void *ctx)
{
	(void)ctx;
	ev_stop();
}

static void
on_a(int fd, short revents, void *ctx)
{
	char c;

	(void)ctx;
	if (revents & POLLIN) {
		fired_a++;
		(void)!read(fd, &c, 1);
	}
}

static void
on_self_remove(int fd, short revents, void *ctx)
{
	(void)revents;
	(void)ctx;
	fired_b++;
	ev_del_fd(fd);	/* level-triggered data stays unread: must not fire again */
}

static void
on_stale(int fd, short revents, void *ctx)
{
	(void)fd;
	(void)revents;
	(void)ctx;
	stale++;
}

int
main(void)
{
	int keep;

	CHECK(ev_use_epoll() == 0, "epoll mode");
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	CHECK(ev_add_fd(sv[0], POLLIN, on_a, NULL) == 0, "watch");
	(void)!write(sv[1], "xy", 2);
	ev_add_timer(50, stop_cb, NULL);
	CHECK(ev_run() == 0 && fired_a == 2, "both bytes read, one event each (re-armed after the callback)");

	ev_set_events(sv[0], 0);
	(void)!write(sv[1], "z", 1);
	fired_a = 0;
	ev_add_timer(30, stop_cb, NULL);
	ev_run();
	CHECK(fired_a == 0, "no POLLIN with its events set to 0");
	ev_set_events(sv[0], POLLIN);
	ev_add_timer(30, stop_cb, NULL);
	ev_run();
	CHECK(fired_a == 1, "POLLIN again once set back");

	ev_del_fd(sv[0]);
	ev_add_fd(sv[0], POLLIN, on_self_remove, NULL);
	(void)!write(sv[1], "w", 1);
	ev_add_timer(30, stop_cb, NULL);
	ev_run();
	CHECK(fired_b == 1, "a callback that removes its own fd runs once");

	/* a watched fd closed without ev_del_fd while a dup keeps the socket:
	 * the stale registration may report once, never to a new watch of the
	 * same fd number, and never again */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2) == 0, "second socketpair");
	CHECK(ev_add_fd(sv2[0], POLLIN, on_stale, NULL) == 0, "watch it");
	keep = dup(sv2[0]);
	close(sv2[0]);
	(void)!write(sv2[1], "s", 1);
	ev_add_timer(50, stop_cb, NULL);
	ev_run();
	CHECK(stale <= 1, "a stale registration reports at most once");
	close(keep);
	close(sv2[1]);
	close(sv[0]);
	close(sv[1]);
	return tap_done();
}
