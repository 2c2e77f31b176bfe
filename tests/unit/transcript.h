/* transcript.h - a text transcript the parser tests append to and compare,
 * and a builder of long repetitive inputs (deep nesting, many keys). */
#ifndef POSTERN_TRANSCRIPT_H
#define POSTERN_TRANSCRIPT_H

#include <stddef.h>
#include <string.h>

static char transcript[16384];
static char big[1200000];

/* Append len bytes (silently cut at the transcript's size). */
static inline void
add(const void *s, size_t len)
{
	size_t t = strlen(transcript);

	if (t + len < sizeof(transcript)) {
		memcpy(transcript + t, s, len);
		transcript[t + len] = '\0';
	}
}

static inline void
adds(const char *s)
{
	add(s, strlen(s));
}

/* big = prefix, n copies of rep, suffix; returns its length. */
static inline size_t
build(const char *prefix, const char *rep, size_t n, const char *suffix)
{
	size_t len = strlen(prefix), r = strlen(rep), s = strlen(suffix), i;

	memcpy(big, prefix, len);
	for (i = 0; i < n && len + r + s < sizeof(big); i++, len += r)
		memcpy(big + len, rep, r);
	memcpy(big + len, suffix, s);
	return len + s;
}

#endif
