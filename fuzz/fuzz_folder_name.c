/* fuzz_folder_name.c - folders_to_dir() and folders_from_dir().
 *
 * Input: byte 0 picks the separator (bit 0: '/' or '.'), the rest is a
 * folder name from a client, and also a directory name found in the mail
 * root (the user may create any).  A name that is accepted must give a
 * single directory component starting with '.', without '/', NUL or
 * control bytes, of at most FOLDERS_NAME_MAX bytes, that decodes back to
 * the same name (INBOX in any case to "INBOX").  A directory that decodes
 * must give a name that encodes and decodes to itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/mail/folders.h"
#include "fuzz.h"

static void
check_dir(const char *dir)
{
	size_t i, n = strlen(dir);

	CHECK(n >= 1 && n <= FOLDERS_NAME_MAX && dir[0] == '.');
	for (i = 0; i < n; i++)
		CHECK(dir[i] != '/' && (unsigned char)dir[i] >= 0x20 && dir[i] != 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dir[FOLDERS_NAME_MAX + 1], dir2[FOLDERS_NAME_MAX + 1];
	char back[FOLDERS_NAME_MAX + 1], back2[FOLDERS_NAME_MAX + 1];
	char *s;
	char sep;

	if (size < 1 || size > 4096)
		return 0;
	sep = (data[0] & 1) ? '/' : '.';
	s = malloc(size);
	CHECK(s != NULL);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	if (strlen(s) == size - 1 && folders_to_dir(s, sep, dir) == 0) {
		check_dir(dir);
		CHECK(folders_from_dir(dir, sep, back, sizeof(back)) == 0);
		CHECK(strcasecmp(s, "INBOX") == 0 ? strcmp(back, "INBOX") == 0 : strcmp(back, s) == 0);
	}
	if (folders_from_dir(s, sep, back, sizeof(back)) == 0 && strcmp(s, ".") != 0) {
		CHECK(folders_to_dir(back, sep, dir2) == 0);
		CHECK(folders_from_dir(dir2, sep, back2, sizeof(back2)) == 0 && strcmp(back, back2) == 0);
	}
	free(s);
	return 0;
}
