/* replay.c - a plain main() for the fuzz targets (no libFuzzer needed).
 *
 * Usage: fuzz_<target> PATH...   Each PATH is a file or a directory; the
 * regular files of a directory (not recursive, dot files skipped) are
 * replayed in sorted order.  Every input is passed once to
 * LLVMFuzzerTestOneInput().  `make test` builds this with gcc ASan/UBSan and
 * -fno-sanitize-recover, so a sanitizer error or a failed property aborts.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long replayed;

static void
die(const char *what, const char *path)
{
	fprintf(stderr, "replay: %s: %s: %s\n", path, what, strerror(errno));
	exit(2);
}

static void
replay_file(const char *path)
{
	FILE *f;
	uint8_t *data = NULL, *nd;
	size_t len = 0, cap = 0, n;

	f = fopen(path, "rb");
	if (f == NULL)
		die("open", path);
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			nd = realloc(data, cap);
			if (nd == NULL)
				die("realloc", path);
			data = nd;
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f))
				die("read", path);
			break;
		}
	}
	fclose(f);
	/* An exact-size copy, so ASan sees reads past the input's end. */
	nd = malloc(len ? len : 1);
	if (nd == NULL)
		die("malloc", path);
	memcpy(nd, data, len);
	free(data);
	LLVMFuzzerTestOneInput(nd, len);
	free(nd);
	replayed++;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
replay_dir(const char *dir)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL, **nn;
	size_t n = 0, cap = 0, i;

	d = opendir(dir);
	if (d == NULL)
		die("opendir", dir);
	while ((errno = 0, e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			nn = realloc(names, cap * sizeof(*names));
			if (nn == NULL)
				die("realloc", dir);
			names = nn;
		}
		names[n] = strdup(e->d_name);
		if (names[n] == NULL)
			die("strdup", dir);
		n++;
	}
	if (errno != 0)
		die("readdir", dir);
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		size_t pl = strlen(dir) + 1 + strlen(names[i]) + 1;
		char *p = malloc(pl);
		struct stat st;

		if (p == NULL)
			die("malloc", dir);
		snprintf(p, pl, "%s/%s", dir, names[i]);
		if (stat(p, &st) < 0)
			die("stat", p);
		if (S_ISREG(st.st_mode))
			replay_file(p);
		free(p);
		free(names[i]);
	}
	free(names);
}

int
main(int argc, char **argv)
{
	struct stat st;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) < 0)
			die("stat", argv[i]);
		if (S_ISDIR(st.st_mode))
			replay_dir(argv[i]);
		else
			replay_file(argv[i]);
	}
	printf("replayed %lu inputs\n", replayed);
	return 0;
}
