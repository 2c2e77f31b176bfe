/* ev.c - a small poll(2) event loop with timers; epoll(7) for a process
 * that watches thousands of fds (ev_use_epoll: the master). */
#include "ev.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

struct ev_watch {
	int fd;
	short events;
	ev_fd_cb *cb;
	void *ctx;
};

struct ev_timer {
	uint64_t id;
	uint64_t when;
	ev_timer_cb *cb;
	void *ctx;
};

static struct ev_watch *watches;
static size_t nwatches, capwatches;
static struct ev_timer *timers;
static size_t ntimers, captimers;
static uint64_t next_timer_id = 1;
static int stopping;

/* The epoll mode: one slot per fd number.  Each registration is
 * EPOLLONESHOT and carries its slot's generation, re-armed after its
 * callback: a registration that outlived its fd (closed before
 * ev_del_fd while another process still holds the file, say a socket
 * passed to a child) reports at most once, is recognised as stale by its
 * generation and is never re-armed, so it cannot spin the loop. */
struct ev_slot {
	ev_fd_cb *cb;
	void *ctx;
	short events;
	int active;
	uint32_t gen;
};

static int epfd = -1;
static struct ev_slot *slots;
static size_t nslots;

static uint32_t
to_epoll(short events)
{
	return (uint32_t)((events & POLLIN ? EPOLLIN : 0) | (events & POLLOUT ? EPOLLOUT : 0)) |
	    EPOLLONESHOT;
}

static short
from_epoll(uint32_t e)
{
	return (short)((e & EPOLLIN ? POLLIN : 0) | (e & EPOLLOUT ? POLLOUT : 0) |
	    (e & EPOLLERR ? POLLERR : 0) | (e & EPOLLHUP ? POLLHUP : 0));
}

static int
arm(int fd, int op)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = to_epoll(slots[fd].events);
	ev.data.u64 = ((uint64_t)slots[fd].gen << 32) | (uint32_t)fd;
	return epoll_ctl(epfd, op, fd, &ev);
}

int
ev_use_epoll(void)
{
	if (epfd >= 0)
		return 0;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	return epfd < 0 ? -1 : 0;
}

uint64_t
ev_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
grow(void **arr, size_t *cap, size_t elem)
{
	size_t ncap = *cap ? *cap * 2 : 16;
	void *p;

	if (ncap > (size_t)1 << 20)
		return -1;
	p = realloc(*arr, ncap * elem);
	if (p == NULL)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

int
ev_add_fd(int fd, short events, ev_fd_cb *cb, void *ctx)
{
	if (epfd >= 0) {
		int was;

		if (fd < 0)
			return -1;
		if ((size_t)fd >= nslots) {
			size_t n = nslots ? nslots : 64;
			struct ev_slot *ns;

			while (n <= (size_t)fd)
				n *= 2;
			if ((ns = realloc(slots, n * sizeof(*ns))) == NULL)
				return -1;
			memset(ns + nslots, 0, (n - nslots) * sizeof(*ns));
			slots = ns;
			nslots = n;
		}
		was = slots[fd].active;
		slots[fd].cb = cb;
		slots[fd].ctx = ctx;
		slots[fd].events = events;
		slots[fd].active = 1;
		slots[fd].gen++;
		if (arm(fd, was ? EPOLL_CTL_MOD : EPOLL_CTL_ADD) < 0 &&
		    (was || errno != EEXIST || arm(fd, EPOLL_CTL_MOD) < 0)) {
			slots[fd].active = 0;
			return -1;
		}
		return 0;
	}
	if (nwatches == capwatches && grow((void **)&watches, &capwatches, sizeof(*watches)) < 0)
		return -1;
	watches[nwatches].fd = fd;
	watches[nwatches].events = events;
	watches[nwatches].cb = cb;
	watches[nwatches].ctx = ctx;
	nwatches++;
	return 0;
}

void
ev_set_events(int fd, short events)
{
	size_t i;

	if (epfd >= 0) {
		if (fd >= 0 && (size_t)fd < nslots && slots[fd].active) {
			slots[fd].events = events;
			(void)arm(fd, EPOLL_CTL_MOD);
		}
		return;
	}
	for (i = 0; i < nwatches; i++)
		if (watches[i].fd == fd)
			watches[i].events = events;
}

void
ev_del_fd(int fd)
{
	size_t i;

	if (epfd >= 0) {
		if (fd >= 0 && (size_t)fd < nslots && slots[fd].active) {
			slots[fd].active = 0;
			slots[fd].gen++;
			(void)epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
		}
		return;
	}
	/* Mark only: the loop compacts after dispatch, so indexes stay valid
	 * while callbacks run. */
	for (i = 0; i < nwatches; i++)
		if (watches[i].fd == fd)
			watches[i].fd = -1;
}

uint64_t
ev_add_timer(uint64_t ms, ev_timer_cb *cb, void *ctx)
{
	if (ntimers == captimers && grow((void **)&timers, &captimers, sizeof(*timers)) < 0)
		return 0;
	timers[ntimers].id = next_timer_id++;
	timers[ntimers].when = ev_now_ms() + ms;
	timers[ntimers].cb = cb;
	timers[ntimers].ctx = ctx;
	return timers[ntimers++].id;
}

void
ev_cancel_timer(uint64_t id)
{
	size_t i;

	for (i = 0; i < ntimers; i++) {
		if (timers[i].id == id) {
			timers[i] = timers[--ntimers];
			return;
		}
	}
}

void
ev_stop(void)
{
	stopping = 1;
}

static int
run_timers(void)
{
	uint64_t now = ev_now_ms(), soonest = UINT64_MAX;
	size_t i;

	for (i = 0; i < ntimers;) {
		if (timers[i].when <= now) {
			struct ev_timer t = timers[i];
			timers[i] = timers[--ntimers];
			t.cb(t.ctx);
			now = ev_now_ms();
			i = 0;	/* the callback may have changed the array */
			continue;
		}
		i++;
	}
	for (i = 0; i < ntimers; i++)
		if (timers[i].when < soonest)
			soonest = timers[i].when;
	if (soonest == UINT64_MAX)
		return -1;
	return soonest <= now ? 0 : (int)(soonest - now > 60000 ? 60000 : soonest - now);
}

static void
compact(void)
{
	size_t i, o = 0;

	for (i = 0; i < nwatches; i++)
		if (watches[i].fd >= 0)
			watches[o++] = watches[i];
	nwatches = o;
}

static int
run_epoll(void)
{
	struct epoll_event evs[256];
	int n, i, timeout;

	stopping = 0;
	while (!stopping) {
		timeout = run_timers();
		if (stopping)
			break;
		n = epoll_wait(epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])), timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (i = 0; i < n && !stopping; i++) {
			int fd = (int)(uint32_t)evs[i].data.u64;
			uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
			struct ev_slot *sl;

			if (fd < 0 || (size_t)fd >= nslots)
				continue;
			sl = &slots[fd];
			if (!sl->active || sl->gen != gen)
				continue;	/* removed, replaced, or its fd is gone */
			sl->cb(fd, from_epoll(evs[i].events), sl->ctx);
			/* re-arm unless the callback removed or replaced it */
			sl = &slots[fd];
			if (sl->active && sl->gen == gen)
				(void)arm(fd, EPOLL_CTL_MOD);
		}
	}
	return 0;
}

int
ev_run(void)
{
	struct pollfd *pfd = NULL;
	size_t cappfd = 0;

	if (epfd >= 0)
		return run_epoll();
	stopping = 0;
	while (!stopping) {
		size_t i, n;
		int timeout, rc;

		timeout = run_timers();
		if (stopping)
			break;
		compact();
		n = nwatches;
		if (n > cappfd) {
			struct pollfd *np = realloc(pfd, n * sizeof(*pfd));
			if (np == NULL) {
				free(pfd);
				return -1;
			}
			pfd = np;
			cappfd = n;
		}
		for (i = 0; i < n; i++) {
			pfd[i].fd = watches[i].fd;
			pfd[i].events = watches[i].events;
			pfd[i].revents = 0;
		}
		rc = poll(pfd, n, timeout);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			free(pfd);
			return -1;
		}
		for (i = 0; i < n && !stopping; i++) {
			/* skip fds removed (or replaced) by an earlier callback */
			if (pfd[i].revents == 0 || watches[i].fd != pfd[i].fd)
				continue;
			watches[i].cb(pfd[i].fd, pfd[i].revents, watches[i].ctx);
		}
	}
	free(pfd);
	return 0;
}
