/* imap_list.c - LIST pattern matching (see imap_list.h). */
#include "imap_list.h"

#include <string.h>
#include <strings.h>

void
imap_list_canon(char *pat, char sep)
{
	if (strncasecmp(pat, "INBOX", 5) == 0 && (pat[5] == '\0' || pat[5] == sep))
		memcpy(pat, "INBOX", 5);
}

int
imap_list_match(const char *pat, const char *name, char sep)
{
	unsigned char cur[IMAP_LIST_PATTERN_MAX + 1], nxt[IMAP_LIST_PATTERN_MAX + 1];
	size_t m = strlen(pat), n = strlen(name), i, j;

	if (m > IMAP_LIST_PATTERN_MAX || n > IMAP_LIST_PATTERN_MAX)
		return 0;
	/* cur[i]: pat[0..i) matches name[0..j) */
	memset(cur, 0, m + 1);
	cur[0] = 1;
	for (i = 1; i <= m && (pat[i - 1] == '*' || pat[i - 1] == '%'); i++)
		cur[i] = 1;
	for (j = 0; j < n; j++) {
		nxt[0] = 0;
		for (i = 1; i <= m; i++) {
			char c = pat[i - 1];
			if (c == '*')
				nxt[i] = nxt[i - 1] || cur[i];
			else if (c == '%')
				nxt[i] = nxt[i - 1] || (cur[i] && name[j] != sep);
			else
				nxt[i] = cur[i - 1] && c == name[j];
		}
		memcpy(cur, nxt, m + 1);
	}
	return cur[m];
}
