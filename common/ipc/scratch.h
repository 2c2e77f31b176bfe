/* scratch.h - the one pair of 64 KiB message buffers of a worker.
 *
 * Every module of a worker (the TLS engine's keyd calls, the authd relay,
 * boot's PROXY verdict, the protocol's store calls, the intake calls) does
 * strict request/reply and is done with a message before it returns, so
 * they share one receive and one send buffer instead of a pair each.  A
 * caller must not keep pointers into the receive buffer across a call into
 * another module (copy what it needs first).
 */
#ifndef POSTERN_SCRATCH_H
#define POSTERN_SCRATCH_H

#include "ipc.h"

extern struct ipc_in ipc_scratch_in;	/* 64 KiB each: in .bss */
extern struct ipc_out ipc_scratch_out;

#endif
