/* ctlproto.h - the control socket: posternctl (an admin) to the master.
 *
 * One request per message, one reply per request, in order.  The master
 * decodes requests from whatever connected (after SO_PEERCRED said it is
 * root, the master's uid or the control group): the decoder is pure and
 * fuzzed (fuzz/fuzz_ctlproto.c), a garbage message closes that connection
 * and nothing else.  A reply is a status and one line of text; a reply
 * with a body (status, who, throttle list) passes it as a sealed memfd, so
 * the master never writes more than one small datagram to a peer that may
 * stop reading.
 */
#ifndef POSTERN_CTLPROTO_H
#define POSTERN_CTLPROTO_H

#include <stdint.h>

#include "ipc.h"

enum ctlproto_msg {
	MSG_CTL_REQUEST = 0x0c01,	/* cmd u8, arg text, num u64 */
	MSG_CTL_REPLY = 0x0c02,		/* status u8, text [+ fd: the body] */
};

enum ctl_cmd_code {
	CTL_STATUS = 1,		/* version, uptime, brokers, listeners, sessions */
	CTL_WHO,		/* one line per session */
	CTL_KICK_SESSION,	/* arg: a session id */
	CTL_KICK_USER,		/* arg: a user (normalised by the master) */
	CTL_THROTTLE_LIST,	/* authd's failure records */
	CTL_THROTTLE_CLEAR_IP,	/* arg: a numeric address */
	CTL_THROTTLE_CLEAR_USER, /* arg: a user */
	CTL_RELOAD,		/* as SIGHUP */
	CTL_STOP,		/* num: drain seconds (0: at once) */
	CTL_HEALTH,		/* ok, or why not */
	CTL_CMD_MAX = CTL_HEALTH,
};

enum ctl_status {
	CTL_OK = 0,
	CTL_FAILED = 1,		/* refused or not found: the text says why */
	CTL_UNHEALTHY = 2,	/* health: the text says what is down */
};

#define CTLPROTO_ARG_MAX	320	/* an address or a user name, without the NUL */
#define CTLPROTO_TEXT_MAX	512	/* with the NUL */
#define CTLPROTO_DRAIN_MAX	86400	/* seconds */

struct ctl_request {
	uint8_t cmd;			/* enum ctl_cmd_code */
	char arg[CTLPROTO_ARG_MAX + 1];	/* "" when the command takes none */
	uint64_t num;
};

/* MSG_CTL_REQUEST.  The decoder refuses an unknown command, an argument
 * where the command takes none (or none where it needs one), bytes
 * outside 0x21..0x7e or 0x80..0xff in it, a number where the command takes
 * none or past CTLPROTO_DRAIN_MAX, an fd, trailing bytes.  Returns 0 or -1. */
void ctlproto_request_put(struct ipc_out *o, const struct ctl_request *r);
int ctlproto_request_get(struct ipc_in *in, struct ctl_request *r);

/* MSG_CTL_REPLY; body_fd -1 for none (the decoder leaves a received fd in
 * in->fd).  text: printable ASCII.  Returns 0 or -1. */
void ctlproto_reply_put(struct ipc_out *o, uint8_t status, const char *text, int body_fd);
int ctlproto_reply_get(struct ipc_in *in, uint8_t *status_r, char text_r[CTLPROTO_TEXT_MAX]);

/* Whether cmd takes an argument (1), none (0); -1 for an unknown one. */
int ctlproto_cmd_arg(uint8_t cmd);

#endif
