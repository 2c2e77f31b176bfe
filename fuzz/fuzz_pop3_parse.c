/* fuzz_pop3_parse.c - pop3_parse() over client bytes, whole and in chunks.
 *
 * Input: byte 0 picks the mode (bit 0: COMMAND or RAW) and max_line (bits
 * 1-7: 64..4096); byte 1 picks the chunking (0: one byte at a time, else
 * pseudo-random chunks of 1..byte1*4 bytes); the rest is the client stream.
 * The stream is parsed once as a whole and once fed chunk by chunk the way
 * pop3d does (append, parse until NEED_MORE without progress, drop
 * *consumed_r).  Both feeds must give the same commands and errors.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/proto/pop3_parse.h"
#include "fuzz.h"


/* Manual ASan poisoning when built with ASan (gcc or clang). */
#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif
#ifdef FUZZ_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)	ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)	((void)(p), (void)(n))
#define UNPOISON(p, n)	((void)(p), (void)(n))
#endif


struct feed {
	uint64_t hash;		/* FNV-1a over every non-NEED_MORE result */
	unsigned events;
	int skipping;		/* parser state at the end */
	size_t left;		/* bytes left buffered at the end */
};

/* Check an OK answer; returns the length of the command line (LF included). */
static size_t
check_ok(enum pop3_parse_mode mode, const uint8_t *buf, size_t consumed, size_t max_line,
    const struct pop3_cmd *cmd)
{
	const uint8_t *line;
	size_t k, i;

	CHECK(consumed >= 1);
	CHECK(buf[consumed - 1] == '\n');
	/* The command is the last line of what was consumed (the end of a
	 * refused over-long line may come before it). */
	line = memrchr(buf, '\n', consumed - 1);
	line = line ? line + 1 : buf;
	consumed -= (size_t)(line - buf);
	buf = line;
	CHECK(consumed <= max_line);
	CHECK(cmd->nargs <= POP3_MAX_ARGS);
	if (mode == POP3_MODE_RAW) {
		CHECK(cmd->keyword[0] == '\0');
		CHECK(cmd->nargs == 1);
		CHECK(cmd->arg[0] == buf);
		CHECK(cmd->arglen[0] < consumed);
		CHECK(memchr(cmd->arg[0], '\0', cmd->arglen[0]) == NULL);
		CHECK(memchr(cmd->arg[0], '\n', cmd->arglen[0]) == NULL);
		return consumed;
	}
	k = strnlen(cmd->keyword, sizeof(cmd->keyword));
	CHECK(k >= 1 && k <= POP3_KEYWORD_MAX);
	for (i = 0; i < k; i++) {
		char c = cmd->keyword[i];
		CHECK((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-');
	}
	for (i = 0; i < cmd->nargs; i++) {
		const uint8_t *a = cmd->arg[i];
		size_t al = cmd->arglen[i];
		/* inside the consumed line, before its LF */
		CHECK(a > buf && a < buf + consumed);
		CHECK(al >= 1 && al < consumed && (size_t)(a - buf) + al < consumed);
		CHECK(memchr(a, '\0', al) == NULL);
		CHECK(memchr(a, '\r', al) == NULL);
		CHECK(memchr(a, '\n', al) == NULL);
		if (strcmp(cmd->keyword, "PASS") != 0)
			CHECK(memchr(a, ' ', al) == NULL);
		if (i > 0)
			CHECK(a > cmd->arg[i - 1] + cmd->arglen[i - 1]);
	}
	for (i = cmd->nargs; i < POP3_MAX_ARGS; i++)
		CHECK(cmd->arg[i] == NULL && cmd->arglen[i] == 0);
	return consumed;
}

static void
record(struct feed *f, enum pop3_parse_result r, const struct pop3_cmd *cmd, size_t linelen)
{
	int rv = (int)r;
	unsigned i;

	f->events++;
	fuzz_mix(&f->hash, &rv, sizeof(rv));
	if (r != POP3_PARSE_OK)
		return;
	fuzz_mix(&f->hash, &linelen, sizeof(linelen));
	fuzz_mix(&f->hash, cmd->keyword, strlen(cmd->keyword) + 1);
	fuzz_mix(&f->hash, &cmd->nargs, sizeof(cmd->nargs));
	for (i = 0; i < cmd->nargs; i++) {
		fuzz_mix(&f->hash, &cmd->arglen[i], sizeof(cmd->arglen[i]));
		fuzz_mix(&f->hash, cmd->arg[i], cmd->arglen[i]);
	}
}

/* Feed in[0..n) with chunks of 1..maxchunk bytes (maxchunk 0: all at once,
 * parsed in place).  Chunks go into one buffer that is compacted after each
 * drop, like pop3d's; under ASan its unused tail is poisoned, so a read past
 * len is caught without a fresh allocation per call. */
static void
run(const uint8_t *in, size_t n, enum pop3_parse_mode mode, size_t max_line,
    unsigned maxchunk, uint32_t seed, struct feed *f)
{
	struct pop3_parser p;
	struct pop3_cmd cmd;
	size_t end = 0, len = 0, cap = n ? n : 1;
	uint8_t *buf = NULL;

	memset(f, 0, sizeof(*f));
	f->hash = 0xcbf29ce484222325ULL;
	pop3_parser_init(&p, max_line);
	if (maxchunk > 0) {
		buf = malloc(cap);
		CHECK(buf != NULL);
		POISON(buf, cap);
	}
	while (end < n) {
		size_t chunk = n - end;
		if (maxchunk > 0) {
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			if (chunk > 1 + seed % maxchunk)
				chunk = 1 + seed % maxchunk;
			UNPOISON(buf + len, chunk);
			memcpy(buf + len, in + end, chunk);
		}
		end += chunk;
		len += chunk;
		for (;;) {
			const uint8_t *b = buf ? buf : in + (end - len);
			size_t consumed = (size_t)-1, linelen = 0;
			enum pop3_parse_result r;

			r = pop3_parse(&p, mode, b, len, &cmd, &consumed);
			CHECK(consumed <= len);
			CHECK(r == POP3_PARSE_NEED_MORE || r == POP3_PARSE_OK ||
			    r == POP3_PARSE_ERR_TOO_LONG || r == POP3_PARSE_ERR_NUL ||
			    r == POP3_PARSE_ERR_SYNTAX);
			if (r == POP3_PARSE_OK)
				linelen = check_ok(mode, b, consumed, max_line, &cmd);
			if (r != POP3_PARSE_NEED_MORE) {
				/* every answer but NEED_MORE makes progress */
				CHECK(consumed > 0);
				record(f, r, &cmd, linelen);
			}
			if (r == POP3_PARSE_NEED_MORE && consumed == 0) {
				/* the caller never buffers more than one line */
				CHECK(p.skipping || len < max_line);
				break;
			}
			if (buf != NULL) {
				memmove(buf, buf + consumed, len - consumed);
				POISON(buf + len - consumed, consumed);
			}
			len -= consumed;
		}
	}
	f->skipping = p.skipping;
	f->left = len;
	if (buf != NULL) {
		UNPOISON(buf, cap);
		free(buf);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed whole, chunked;
	enum pop3_parse_mode mode;
	size_t max_line;
	unsigned maxchunk;

	if (size < 2)
		return 0;
	mode = (data[0] & 1) ? POP3_MODE_RAW : POP3_MODE_COMMAND;
	max_line = 64 + (size_t)(data[0] >> 1) * (4096 - 64) / 127;
	maxchunk = data[1] == 0 ? 1 : (unsigned)data[1] * 4;

	run(data + 2, size - 2, mode, max_line, 0, 0, &whole);
	run(data + 2, size - 2, mode, max_line, maxchunk,
	    0x9e3779b9u ^ (uint32_t)size ^ ((uint32_t)data[1] << 8), &chunked);
	CHECK(whole.events == chunked.events);
	CHECK(whole.hash == chunked.hash);
	CHECK(whole.skipping == chunked.skipping);
	CHECK(whole.left == chunked.left);
	return 0;
}
