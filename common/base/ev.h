/* ev.h - a small poll(2) event loop with timers.
 *
 * Single-threaded.  Callbacks may add or remove fds and timers, including
 * their own.  Time is CLOCK_MONOTONIC in milliseconds.
 */
#ifndef POSTERN_EV_H
#define POSTERN_EV_H

#include <stdint.h>

typedef void ev_fd_cb(int fd, short revents, void *ctx);
typedef void ev_timer_cb(void *ctx);

/* Use epoll(7) instead of poll(2) from now on (before any ev_add_fd): for
 * a process with thousands of fds, where every poll(2) would pass them
 * all.  One watch per fd then (a second ev_add_fd replaces the first).
 * Returns 0 or -1. */
int ev_use_epoll(void);

/* Watch fd for events (POLLIN/POLLOUT). Returns 0 or -1. */
int ev_add_fd(int fd, short events, ev_fd_cb *cb, void *ctx);
/* Change the events of a watched fd. */
void ev_set_events(int fd, short events);
/* Stop watching fd (does not close it). */
void ev_del_fd(int fd);

/* Call cb once after ms milliseconds. Returns a timer id (> 0) or 0. */
uint64_t ev_add_timer(uint64_t ms, ev_timer_cb *cb, void *ctx);
void ev_cancel_timer(uint64_t id);

/* Milliseconds since an arbitrary start (monotonic). */
uint64_t ev_now_ms(void);

/* Run until ev_stop(). Returns 0, or -1 if poll fails. */
int ev_run(void);
void ev_stop(void);

#endif
