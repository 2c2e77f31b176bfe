/* master.h - state of postern-master, shared by its files. */
#ifndef POSTERN_MASTER_H
#define POSTERN_MASTER_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../common/config.h"

#define MASTER_MAX_LISTENERS 16

enum listener_proto { PROTO_POP3 };

struct listener {
	int fd;
	enum listener_proto proto;
	char addr[80];
};

struct session {
	char sid[25];
	pid_t worker_pid;
	pid_t stored_pid;
	int ctl_fd;		/* master end of the worker's control channel */
	int logged_in;		/* authd has named the user: one stored at most */
	char ip[INET6_ADDRSTRLEN];
	enum listener_proto proto;
};

struct master {
	struct config cfg;
	char config_path[CONFIG_PATH_MAX];
	char libexec[CONFIG_PATH_MAX];
	struct listener listeners[MASTER_MAX_LISTENERS];
	int nlisteners;
	struct session *sessions;
	size_t nsessions, capsessions;
	/* authd */
	pid_t authd_pid;
	int authd_fd;
	unsigned authd_restarts;
	uint64_t authd_started_ms;
	uint64_t authd_restart_timer;
	int stopping;
	/* the validated config, as a sealed memfd every child reads at start */
	int config_fd;
	char child_config[32];	/* "/proc/self/fd/N" as the child sees it */
};

/* listen.c */
int master_listen_all(struct master *m, char *err, size_t errlen);
void master_accept(int fd, short revents, void *ctx);

/* master.c */
void master_start_authd(struct master *m);
void master_send_authd_config(struct master *m);
void master_snapshot_config(struct master *m);
void master_reap(struct master *m);
struct session *master_session_add(struct master *m);
void master_session_remove(struct master *m, struct session *s);
void master_spawn_worker(struct master *m, struct session *s, int client_fd);
size_t master_count_ip(const struct master *m, const char *ip);

#endif
