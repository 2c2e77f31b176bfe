/* broker.h - the skeleton authd and keyd share.
 *
 * A broker has one master channel and many worker channels.  The master
 * channel's messages go through one table; EOF there means the master is
 * gone (exit); a malformed message from the master is fatal; a new
 * session whose fd could not be received (our fd table is full) is
 * refused alone.  Each worker channel is a broker_chan, the first member
 * of the broker's own per-channel struct: its fd, session id, client
 * address and permission state, in one list.  A worker request is read,
 * dispatched through the broker's table with the channel's permissions,
 * and its bytes wiped (requests carry passwords, SASL responses, master
 * secrets and premaster ciphertexts).  Replies never block: a worker that
 * does not read them (a real one does strict request/reply) loses its
 * channel, everyone else is served on.
 */
#ifndef POSTERN_BROKER_H
#define POSTERN_BROKER_H

#include <stddef.h>
#include <stdint.h>

#include "ipc.h"

#define BROKER_SID_SIZE	25	/* a session id with its NUL */
#define BROKER_IP_SIZE	64

struct broker_chan {
	struct broker_chan *next;
	int fd;
	char sid[BROKER_SID_SIZE];
	char ip[BROKER_IP_SIZE];	/* the master's word; "" = not known yet */
	struct ipc_chan perm;
	int send_errno;			/* a reply could not be queued */
};

/* What a worker channel accepts.  denied: called for a known request the
 * channel's permissions refuse (NULL: that is a violation like any other). */
struct broker_table {
	const struct ipc_handler *tab;
	size_t n;
	int (*denied)(void *ctx, struct ipc_in *in);
};

/* Serve the master channel fd through tab (the event loop calls it).
 * Never returns an error: EOF exits 0, a bad message is fatal. */
void broker_master(int fd, const struct ipc_handler *tab, size_t n);

/* Allocate a channel struct of size bytes (a broker_chan first), take fd
 * (the worker channel received from the master), copy sid and ip, set the
 * first phase and watch fd with on_readable(ctx = the struct).  Returns the
 * struct, or NULL (fd closed). */
void *broker_chan_new(size_t size, int fd, const char *sid, const char *ip, uint32_t phase,
    void (*on_readable)(int fd, short revents, void *ctx));

/* Unlink, stop watching, close, wipe and free. */
void broker_chan_free(struct broker_chan *c);

/* The number of open worker channels. */
size_t broker_chan_count(void);

/* One request from c into in: -1 at EOF or for a violation (logged with
 * the session id and why; the caller frees the channel), else the
 * handler's (or denied's) result. */
int broker_chan_recv(struct broker_chan *c, struct ipc_in *in, const struct broker_table *t);

/* Queue o to c without blocking; 0, or -1 with c->send_errno set and a
 * log line (the caller frees the channel). */
int broker_reply(struct broker_chan *c, struct ipc_out *o);

#endif
