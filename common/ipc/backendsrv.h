/* backendsrv.h - the request loop of an authd backend helper
 * (daemons/auth-*): each MSG_BACKEND_REQUEST from authd through run, its
 * reply back, the request's bytes (a password) wiped after each. */
#ifndef POSTERN_BACKENDSRV_H
#define POSTERN_BACKENDSRV_H

#include "backendproto.h"

/* run answers q into r (r->id is set here) and returns 0, or -1 when the
 * helper must end after this reply (its connection broke: the master
 * starts a new one).  Returns 0 when authd closed the channel, 1 after a
 * run that returned -1.  Fatal on a broken channel or a malformed request
 * (authd is the helper's only peer). */
int backend_serve(int fd, int (*run)(const struct backend_request *q, struct backend_reply *r));

#endif
