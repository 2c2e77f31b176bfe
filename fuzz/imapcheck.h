/* imapcheck.h - a property the IMAP output targets share (fuzz_mime,
 * fuzz_rfc5322_addr): the bytes are one balanced parenthesised list, with
 * quoted strings and {n} literals skipped. */
#ifndef POSTERN_FUZZ_IMAPCHECK_H
#define POSTERN_FUZZ_IMAPCHECK_H

#include <stddef.h>
#include <stdint.h>

/* Skip the quoted string or literal at s[*i]; 0 if it is malformed. */
static inline int
imapcheck_skip_string(const uint8_t *s, size_t len, size_t *i)
{
	size_t n = 0, k = *i;

	if (s[k] == '"') {
		for (k++; k < len && s[k] != '"'; k++)
			if (s[k] == '\\')
				k++;
		*i = k;
		return k < len;
	}
	for (k++; k < len && s[k] >= '0' && s[k] <= '9'; k++)
		n = n * 10 + (size_t)(s[k] - '0');
	if (k + 2 >= len || s[k] != '}' || s[k + 1] != '\r' || s[k + 2] != '\n' || n > len - k - 3)
		return 0;
	*i = k + 2 + n;
	return 1;
}

/* 1 if s[0..len) is "(" ... ")" with balanced parentheses (or, with
 * nil_ok, exactly "NIL"). */
static inline int
imapcheck_list(const uint8_t *s, size_t len, int nil_ok)
{
	size_t i, depth = 0;

	if (nil_ok && len == 3 && s[0] == 'N' && s[1] == 'I' && s[2] == 'L')
		return 1;
	for (i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '{') {
			if (!imapcheck_skip_string(s, len, &i))
				return 0;
		} else if (s[i] == '(') {
			depth++;
		} else if (s[i] == ')') {
			if (depth-- == 0 || (depth == 0 && i + 1 != len))
				return 0;
		}
	}
	return depth == 0 && len > 0 && s[0] == '(' && s[len - 1] == ')';
}

#endif
