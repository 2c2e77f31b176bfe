/* ipc.h - typed messages over SOCK_SEQPACKET with optional fd passing.
 *
 * One datagram is one message: an 8-byte header (version, flags, type,
 * payload length) and a payload of typed fields.  Writers put fields into an
 * ipc_out; readers get them from an ipc_in whose error is sticky, and
 * ipc_in_end() fails when data is short or bytes trail.  Every receiver
 * dispatches through a table of accepted types (ipc_dispatch), so unknown
 * types, wrong fd presence and malformed payloads fail closed.
 */
#ifndef POSTERN_IPC_H
#define POSTERN_IPC_H

#include <stddef.h>
#include <stdint.h>

#define IPC_VERSION	1
#define IPC_HDR_LEN	8
#define IPC_MAX_PAYLOAD	(64 * 1024)
#define IPC_MAX_MSG	(IPC_HDR_LEN + IPC_MAX_PAYLOAD)

#define IPC_FLAG_FD	0x01	/* the message carries exactly one fd */

struct ipc_out {
	uint16_t type;
	int err;
	int fd;			/* -1 or an fd to pass (not closed by send) */
	size_t len;
	uint8_t data[IPC_MAX_MSG];
};

struct ipc_in {
	uint16_t type;
	int err;
	int fd;			/* -1 or the received fd; owned by the caller */
	size_t len;		/* payload length */
	size_t off;		/* read cursor into payload */
	uint8_t data[IPC_MAX_MSG];
};

/* Start a message of the given type. */
void ipc_out_init(struct ipc_out *o, uint16_t type);
void ipc_put_u8(struct ipc_out *o, uint8_t v);
void ipc_put_u32(struct ipc_out *o, uint32_t v);
void ipc_put_u64(struct ipc_out *o, uint64_t v);
/* A byte string: u32 length then bytes. */
void ipc_put_bytes(struct ipc_out *o, const void *p, size_t len);
void ipc_put_str(struct ipc_out *o, const char *s);
/* Room for len bytes at the end of the message, for a codec that writes
 * many fixed-size fields at once; NULL (and the sticky error) when they
 * do not fit. */
uint8_t *ipc_put_reserve(struct ipc_out *o, size_t len);
/* Attach an fd to pass (the caller keeps and closes its own copy). */
void ipc_put_fd(struct ipc_out *o, int fd);

/* Send one message. Returns 0, or -1 (errno; EMSGSIZE if a put overflowed). */
int ipc_send(int sock, struct ipc_out *o);

/* The same without ever blocking: -1 with errno EAGAIN when the peer's
 * queue is full.  Brokers and the master answer peers that may be hostile
 * with this: a peer that stops reading must never stall them (a legitimate
 * worker does strict request/reply, so a full queue means it is not one). */
int ipc_send_nowait(int sock, struct ipc_out *o);

/* Bound how long a blocking send or receive on sock may wait (SO_RCVTIMEO
 * and SO_SNDTIMEO): a worker's calls to a broker that stopped answering
 * then fail with EAGAIN instead of hanging the session.  Returns 0 or -1. */
int ipc_set_timeout(int sock, unsigned ms);

/* Receive one message into in.  Returns 1 for a message, 0 on EOF, -1 on
 * error: socket error, truncated datagram or control data, bad header, more
 * than one fd, or an fd flag that does not match the fds received (any fds
 * received with a rejected message are closed).  errno EMFILE: a message
 * with an fd arrived but the fd could not be received (our fd table is
 * full); that message is lost, the peer did nothing wrong. */
int ipc_recv(int sock, struct ipc_in *in);

/* Pure decoder of a received datagram (also the fuzz entry point): check the
 * header of buf[0..len) and set in->type/len/off.  fd_present says whether the
 * kernel delivered one fd.  Returns 0 or -1. */
int ipc_decode(struct ipc_in *in, const uint8_t *buf, size_t len, int fd_present);

uint8_t ipc_get_u8(struct ipc_in *in);
uint32_t ipc_get_u32(struct ipc_in *in);
uint64_t ipc_get_u64(struct ipc_in *in);
/* Point at a byte string inside the message (valid until the next recv).
 * Returns its length; sets the sticky error if it exceeds max. */
size_t ipc_get_bytes(struct ipc_in *in, const uint8_t **p_r, size_t max);
/* The next len bytes of the message, or NULL (and the sticky error) when
 * fewer are left: the read side of ipc_put_reserve. */
const uint8_t *ipc_get_raw(struct ipc_in *in, size_t len);
/* Copy a text string into out (NUL-terminated); error if it holds a NUL or
 * does not fit in outlen-1 bytes. */
void ipc_get_str(struct ipc_in *in, char *out, size_t outlen);
/* 1 if s is printable ASCII only (0x20..0x7e): a text another process
 * will write into a client's reply or an admin's terminal. */
int ipc_text_printable(const char *s);

/* 0 if every field was read without error and nothing trails, else -1. */
int ipc_in_end(struct ipc_in *in);

/* ipc_in_end() for a layout without an fd: also -1 if one came along. */
int ipc_in_end_no_fd(struct ipc_in *in);

/* Close a received fd, if any. */
void ipc_in_close_fd(struct ipc_in *in);

/* A dispatch table row, with its permission as data (openssh's monitor
 * table): the type, whether it carries an fd, the phases of the channel
 * it is valid in, whether it is accepted only once, and the phase the
 * channel enters when it is accepted.  The phase changes before the
 * handler runs, so a request whose handler fails cannot be tried again
 * from the old phase (keyd: one private-key operation per channel, whatever
 * its outcome).  Handlers may still move the phase for outcomes the table
 * cannot know (a login refused or granted). */
struct ipc_handler {
	uint16_t type;
	uint8_t with_fd;	/* 0 none, 1 an fd, IPC_FD_FILE */
	uint8_t once;		/* at most once per channel */
	uint32_t phases;	/* bits of ipc_chan.phase it is valid in; 0 = any */
	uint32_t then;		/* phase entered on acceptance; 0 = unchanged */
	int (*fn)(void *ctx, struct ipc_in *in);
};

/* with_fd: the fd must be a regular file (a message memfd), checked with
 * fstat before the handler runs.  A socket, pipe or FIFO in its place
 * would block the reader for ever: a worker that sent stored its own
 * channel's other end as "the message" held the user's mailbox lock with
 * a stored stuck reading it. */
#define IPC_FD_FILE 2

/* The permission state of one channel, kept by its receiver. */
struct ipc_chan {
	uint32_t phase;		/* one bit: the channel's phase now */
	uint64_t used;		/* bit i: row i (a .once row) was accepted */
};

/* A table and its length, for the dispatch calls. */
#define IPC_TABLE(t)	(t), sizeof(t) / sizeof((t)[0])

/* Returned for a known type that the channel's phase or a spent .once
 * forbids (the caller may name that in its log line). */
#define IPC_DENIED	(-2)

/* Find in's type in the table, check fd presence and permission against
 * ch, and call the handler.  Returns the handler's result, -1 for an
 * unknown type or fd mismatch, IPC_DENIED for a refused permission (a
 * received fd is closed in both cases; the caller then treats the peer as
 * hostile).  With ch NULL (a channel without phases) a row that has
 * phases or once is refused: tables fail closed.  At most 64 rows. */
int ipc_dispatch_chan(const struct ipc_handler *tab, size_t n, struct ipc_chan *ch, void *ctx,
    struct ipc_in *in);

/* ipc_dispatch_chan() without channel state. */
int ipc_dispatch(const struct ipc_handler *tab, size_t n, void *ctx, struct ipc_in *in);

/* A blocking request/reply (workers to a broker, under the timeout of
 * ipc_set_timeout()): send out, receive into in, and check that the
 * answer's type is one of expect[0..nexpect) and that it carries an fd
 * exactly when with_fd says.  Returns 0, or -1 (errno: EPROTO for an
 * answer of the wrong type or form, whose fd is then closed; EPIPE at
 * EOF; otherwise that of the failed send or receive). */
int ipc_call(int sock, struct ipc_out *out, struct ipc_in *in, const uint16_t *expect,
    size_t nexpect, int with_fd);

#endif
