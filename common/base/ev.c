/* ev.c - a small poll(2) event loop with timers. */
#include "ev.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

	for (i = 0; i < nwatches; i++)
		if (watches[i].fd == fd)
			watches[i].events = events;
}

void
ev_del_fd(int fd)
{
	size_t i;

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

int
ev_run(void)
{
	struct pollfd *pfd = NULL;
	size_t cappfd = 0;

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
