/* backup.c - `posternctl backup DIR` and `posternctl restore DIR`.
 *
 * A backup is a new directory, mode 0700, holding
 *   data.mdb        a compacted copy of the user db (mdb_env_copy2 with
 *                   MDB_CP_COMPACT: one read transaction, so it is
 *                   consistent while authd and other posternctl run)
 *   postern.conf    a copy of the config file (absent with -c none)
 *   POSTERN-BACKUP  what this is: "postern-backup 1", the version, the files
 * every file 0600 (the db holds password hashes).  restore installs the db
 * of a backup where no user db exists yet; it never overwrites one and
 * never installs the config (its paths may not be those of the new place). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/base/version.h"
#include "ctl.h"

#define BACKUP_MARK	"POSTERN-BACKUP"
#define BACKUP_MAGIC	"postern-backup 1\n"
#define BACKUP_DB	"data.mdb"
#define BACKUP_CONF	"postern.conf"

static void
join(char *out, size_t len, const char *dir, const char *name)
{
	if ((size_t)snprintf(out, len, "%s/%s", dir, name) >= len)
		die("%s/%s: path too long", dir, name);
}

static void
write_all(int fd, const void *p, size_t n, const char *what)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("write %s: %s", what, strerror(errno));
		c += w;
		n -= (size_t)w;
	}
}

/* src into a new file dst (O_EXCL, 0600), synced. */
static void
copy_file(const char *src, const char *dst)
{
	char chunk[65536];
	int in, out;
	ssize_t n;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		die("%s: %s", src, strerror(errno));
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0)
		die("%s: %s", dst, strerror(errno));
	while ((n = read(in, chunk, sizeof(chunk))) > 0)
		write_all(out, chunk, (size_t)n, dst);
	if (n < 0)
		die("read %s: %s", src, strerror(errno));
	if (fchmod(out, 0600) < 0 || fsync(out) < 0 || close(out) < 0)
		die("%s: %s", dst, strerror(errno));
	close(in);
}

static void
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0)
		die("fsync %s: %s", dir, strerror(errno));
	close(fd);
}

static void
write_mark(const char *dir, int with_conf)
{
	char path[CONFIG_PATH_MAX + 32], text[512];
	int fd, n;

	join(path, sizeof(path), dir, BACKUP_MARK);
	n = snprintf(text, sizeof(text), BACKUP_MAGIC "version %s\nuserdb %s\nconfig %s\n",
	    version_string(), BACKUP_DB, with_conf ? BACKUP_CONF : "none");
	if (n < 0 || (size_t)n >= sizeof(text))
		die("backup mark too long");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	write_all(fd, text, (size_t)n, path);
	if (fsync(fd) < 0 || close(fd) < 0)
		die("%s: %s", path, strerror(errno));
}

int
cmd_backup(const struct ctl_args *a)
{
	const char *dir = a->argv[0];
	char path[CONFIG_PATH_MAX + 32], err[512];
	int with_conf = strcmp(cfgpath, CONFIG_NONE) != 0;
	struct db *db;

	umask(077);
	if (mkdir(dir, 0700) < 0)
		die("%s: %s (backup makes a new directory)", dir, strerror(errno));
	if (chmod(dir, 0700) < 0)
		die("%s: %s", dir, strerror(errno));
	if (userdb_open(&db, cfg.userdb_path, cfg.userdb_map_size, 1, err, sizeof(err)) < 0)
		die("cannot open user database: %s", err);
	if (db_copy(db, dir) < 0)
		die("copy of %s into %s failed: %s", cfg.userdb_path, dir, db_strerror(db));
	db_close(db);
	join(path, sizeof(path), dir, BACKUP_DB);
	if (chmod(path, 0600) < 0)
		die("%s: %s", path, strerror(errno));
	if (with_conf) {
		join(path, sizeof(path), dir, BACKUP_CONF);
		copy_file(cfgpath, path);
	}
	write_mark(dir, with_conf);
	sync_dir(dir);
	printf("backup of %s%s%s in %s\n", cfg.userdb_path, with_conf ? " and " : "",
	    with_conf ? cfgpath : "", dir);
	return 0;
}

/* Dies unless dir holds a backup's mark and db. */
static void
check_backup(const char *dir)
{
	char path[CONFIG_PATH_MAX + 32], head[sizeof(BACKUP_MAGIC)];
	struct stat st;
	ssize_t n;
	int fd;

	join(path, sizeof(path), dir, BACKUP_MARK);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	n = fd < 0 ? -1 : read(fd, head, sizeof(head) - 1);
	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(head) - 1 || memcmp(head, BACKUP_MAGIC, sizeof(head) - 1) != 0)
		die("%s is not a posternctl backup (no %s file)", dir, BACKUP_MARK);
	join(path, sizeof(path), dir, BACKUP_DB);
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		die("%s: backup without its user db (%s)", dir, BACKUP_DB);
}

static int
count(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	(void)k, (void)kl, (void)v, (void)vl;
	(*(size_t *)ctx)++;
	return 0;
}

int
cmd_restore(const struct ctl_args *a)
{
	const char *dir = a->argv[0];
	char src[CONFIG_PATH_MAX + 32], dst[CONFIG_PATH_MAX + 32], tmp[CONFIG_PATH_MAX + 32];
	size_t users = 0;
	struct db *db;

	check_backup(dir);
	join(dst, sizeof(dst), cfg.userdb_path, BACKUP_DB);
	if (access(dst, F_OK) == 0)
		die("a user db exists at %s: restore only installs into a place without one "
		    "(stop the master and move %s away first)", dst, cfg.userdb_path);
	umask(077);
	if (mkdir(cfg.state_dir, 0755) < 0 && errno != EEXIST)
		die("%s: %s", cfg.state_dir, strerror(errno));
	if (mkdir(cfg.userdb_path, 0700) < 0 && errno != EEXIST)
		die("%s: %s", cfg.userdb_path, strerror(errno));
	join(src, sizeof(src), dir, BACKUP_DB);
	join(tmp, sizeof(tmp), cfg.userdb_path, BACKUP_DB ".restore");
	copy_file(src, tmp);
	if (rename(tmp, dst) < 0)
		die("rename %s: %s", tmp, strerror(errno));
	sync_dir(cfg.userdb_path);
	db = open_db(1);
	if (db_foreach(db, USERDB_DBI_USERS, count, &users) < 0)
		die("the restored db at %s cannot be read: %s", cfg.userdb_path, db_strerror(db));
	db_close(db);
	printf("restored %zu users from %s into %s\n", users, dir, cfg.userdb_path);
	join(src, sizeof(src), dir, BACKUP_CONF);
	if (access(src, F_OK) == 0)
		printf("the backup's config %s was not installed: compare it with %s\n", src,
		    cfgpath);
	return 0;
}
