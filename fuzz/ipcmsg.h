/* ipcmsg.h - for the channel codec targets: the input is one datagram; its
 * flags byte says whether an fd came with it (a number no process has
 * open stands in: the decoders only test its presence). */
#ifndef POSTERN_FUZZ_IPCMSG_H
#define POSTERN_FUZZ_IPCMSG_H

#include "../common/ipc/ipc.h"
#include "fuzz.h"

/* Decode data into in; 0, or -1 for a frame the receiver never dispatches. */
static inline int
fuzz_ipc_message(struct ipc_in *in, const uint8_t *data, size_t size)
{
	int fd = size >= 2 && (data[1] & IPC_FLAG_FD);

	if (size > IPC_MAX_MSG || ipc_decode(in, data, size, fd) < 0)
		return -1;
	in->fd = fd ? FUZZ_FAKE_FD : -1;
	return 0;
}

#endif
