/* ctlproto.c - encoding and decoding the control socket's messages. */
#include "ctlproto.h"

#include <string.h>

int
ctlproto_cmd_arg(uint8_t cmd)
{
	switch (cmd) {
	case CTL_KICK_SESSION:
	case CTL_KICK_USER:
	case CTL_THROTTLE_CLEAR_IP:
	case CTL_THROTTLE_CLEAR_USER:
		return 1;
	case CTL_STATUS:
	case CTL_WHO:
	case CTL_THROTTLE_LIST:
	case CTL_RELOAD:
	case CTL_STOP:
	case CTL_HEALTH:
		return 0;
	}
	return -1;
}

void
ctlproto_request_put(struct ipc_out *o, const struct ctl_request *r)
{
	ipc_out_init(o, MSG_CTL_REQUEST);
	ipc_put_u8(o, r->cmd);
	ipc_put_str(o, r->arg);
	ipc_put_u64(o, r->num);
}

/* No controls, no spaces, no DEL: a name or an address, never a line. */
static int
arg_ok(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

int
ctlproto_request_get(struct ipc_in *in, struct ctl_request *r)
{
	int takes;

	r->cmd = ipc_get_u8(in);
	ipc_get_str(in, r->arg, sizeof(r->arg));
	r->num = ipc_get_u64(in);
	if (ipc_in_end_no_fd(in) < 0)
		goto bad;
	takes = ctlproto_cmd_arg(r->cmd);
	if (takes < 0 || (takes == 1) != (r->arg[0] != '\0') || !arg_ok(r->arg))
		goto bad;
	if (r->num != 0 && (r->cmd != CTL_STOP || r->num > CTLPROTO_DRAIN_MAX))
		goto bad;
	return 0;
bad:
	memset(r, 0, sizeof(*r));
	return -1;
}

void
ctlproto_reply_put(struct ipc_out *o, uint8_t status, const char *text, int body_fd)
{
	ipc_out_init(o, MSG_CTL_REPLY);
	ipc_put_u8(o, status);
	ipc_put_str(o, text);
	if (body_fd >= 0)
		ipc_put_fd(o, body_fd);
}

int
ctlproto_reply_get(struct ipc_in *in, uint8_t *status_r, char text_r[CTLPROTO_TEXT_MAX])
{
	*status_r = ipc_get_u8(in);
	ipc_get_str(in, text_r, CTLPROTO_TEXT_MAX);
	if (ipc_in_end(in) < 0 || *status_r > CTL_UNHEALTHY || !ipc_text_printable(text_r))
		goto bad;
	return 0;
bad:
	text_r[0] = '\0';
	return -1;
}
