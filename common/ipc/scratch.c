/* scratch.c - a worker's message buffers (see scratch.h). */
#include "scratch.h"

struct ipc_in ipc_scratch_in;
struct ipc_out ipc_scratch_out;
