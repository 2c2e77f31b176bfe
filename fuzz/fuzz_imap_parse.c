/* fuzz_imap_parse.c - imap_parser_feed() over client bytes, whole and in chunks.
 *
 * Input: byte 0 picks the flags (bits 0-2: LITERAL+, LITERAL-, UTF8) and
 * small or default limits (bit 3); byte 1 the chunking (0: one byte at a
 * time, else pseudo-random chunks of 1..byte1*4 bytes); byte 2 which
 * synchronizing literals the caller refuses (bit i of it for the i-th, mod
 * 8); the rest is the client stream.  Both feeds must give the same events
 * (streamed literal bytes count, not how they were cut), and every command
 * tree must be well formed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/proto/imap_parse.h"
#include "fuzz.h"

struct feed {
	uint64_t hash;
	unsigned events;
};

/* Check and hash a list of arguments; returns how many nodes it holds. */
static unsigned
walk(uint64_t *h, const struct imap_arg *a, unsigned depth, unsigned max_depth)
{
	unsigned nodes = 0, count;
	const struct imap_arg *c;

	CHECK(depth <= max_depth + 1);
	for (; a != NULL; a = a->next) {
		nodes++;
		fuzz_mix(h, &a->type, sizeof(a->type));
		fuzz_mix(h, &a->flags, sizeof(a->flags));
		fuzz_mix(h, &a->len, sizeof(a->len));
		if (!(a->flags & IMAP_ARGF_STREAMED)) {
			CHECK(a->text[a->len] == '\0');
			if (!(a->flags & IMAP_ARGF_LITERAL8))
				CHECK(memchr(a->text, '\0', a->len) == NULL);
			fuzz_mix(h, a->text, a->len);
		}
		if (a->type == IMAP_ARG_LIST || a->type == IMAP_ARG_SECTION) {
			for (count = 0, c = a->child; c != NULL; c = c->next)
				count++;
			if (a->type == IMAP_ARG_LIST)
				CHECK(count == a->count);
			nodes += walk(h, a->child, depth + 1, max_depth);
		}
		if (a->type == IMAP_ARG_SECTION) {
			CHECK(a->child != NULL && a->child->type == IMAP_ARG_LIST);
			CHECK(a->text2[0] == ']' && a->text2[a->len2] == '\0');
			fuzz_mix(h, a->text2, a->len2);
		}
		if (a->type == IMAP_ARG_NIL)
			CHECK(a->len == 3);
	}
	return nodes;
}

static void
check_cmd(uint64_t *h, const struct imap_cmd *cmd, const struct imap_limits *lim)
{
	const struct imap_arg *a;
	unsigned n = 0;
	size_t i;

	CHECK(cmd->tag[0] != '\0' && cmd->name[0] != '\0');
	for (i = 0; cmd->name[i] != '\0'; i++)
		CHECK(!(cmd->name[i] >= 'a' && cmd->name[i] <= 'z'));
	for (a = cmd->args; a != NULL; a = a->next)
		n++;
	CHECK(n == cmd->nargs);
	CHECK(cmd->nliterals <= lim->max_literals);
	CHECK(walk(h, cmd->args, 0, lim->max_depth) <= lim->max_args);
	fuzz_mix(h, cmd->tag, strlen(cmd->tag));
	fuzz_mix(h, cmd->name, strlen(cmd->name));
}

static void
record(struct feed *f, struct imap_parser *p, const struct imap_event *ev,
    const struct imap_limits *lim, uint8_t refuse, unsigned *nsync)
{
	int t = (int)ev->type, e = (int)ev->err;

	if (ev->type == IMAP_EV_LITERAL) {
		/* the bytes count, not the cut */
		CHECK(ev->len > 0 && ev->len <= ev->size && ev->left < ev->size);
		fuzz_mix(&f->hash, ev->data, ev->len);
		return;
	}
	f->events++;
	fuzz_mix(&f->hash, &t, sizeof(t));
	fuzz_mix(&f->hash, &e, sizeof(e));
	if (ev->tag != NULL)
		fuzz_mix(&f->hash, ev->tag, strlen(ev->tag));
	if (ev->type == IMAP_EV_COMMAND)
		check_cmd(&f->hash, imap_parser_cmd(p), lim);
	if (ev->type == IMAP_EV_ERROR)
		CHECK(ev->err > IMAP_ERR_NONE && ev->err < IMAP_ERR_COUNT &&
		    imap_err_text(ev->err)[0] != '\0');
	if (ev->type == IMAP_EV_CONTINUE) {
		CHECK(ev->size <= lim->max_literal);
		fuzz_mix(&f->hash, &ev->size, sizeof(ev->size));
		if (refuse & (1u << (*nsync % 8)))
			imap_parser_refuse(p);
		else if (*nsync % 3 != 0)
			imap_parser_accept(p);	/* else: the next feed accepts */
		(*nsync)++;
	}
}

static void
run(const uint8_t *in, size_t n, const struct imap_limits *lim, unsigned flags,
    unsigned maxchunk, uint32_t seed, uint8_t refuse, struct feed *f)
{
	struct imap_parser *p = imap_parser_new(lim, flags);
	size_t end = 0;
	unsigned nsync = 0;

	CHECK(p != NULL);
	memset(f, 0, sizeof(*f));
	f->hash = 0xcbf29ce484222325ULL;
	while (end < n) {
		size_t chunk = n - end, off = 0;
		if (maxchunk > 0) {
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			if (chunk > 1 + seed % maxchunk)
				chunk = 1 + seed % maxchunk;
		}
		while (off < chunk) {
			struct imap_event ev;
			size_t used = 0;
			imap_parser_feed(p, in + end + off, chunk - off, &used, &ev);
			CHECK(used > 0 && used <= chunk - off);
			if (ev.type == IMAP_EV_LITERAL)
				CHECK(ev.data >= in + end + off && ev.data + ev.len <= in + end + off + used);
			if (ev.type == IMAP_EV_NEED_MORE)
				CHECK(used == chunk - off);
			else
				record(f, p, &ev, lim, refuse, &nsync);
			off += used;
		}
		end += chunk;
	}
	imap_parser_free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_limits lim;
	struct feed whole, chunked;
	unsigned flags, maxchunk;

	if (size < 3)
		return 0;
	flags = data[0] & 7;
	imap_limits_default(&lim);
	if (data[0] & 8) {
		lim.max_line = 64;
		lim.max_literal = 300;
		lim.max_buffered = 16;
		lim.max_literals = 3;
		lim.max_depth = 4;
		lim.max_args = 24;
		lim.max_command = 200;
	}
	maxchunk = data[1] == 0 ? 1 : (unsigned)data[1] * 4;
	run(data + 3, size - 3, &lim, flags, 0, 0, data[2], &whole);
	run(data + 3, size - 3, &lim, flags, maxchunk,
	    0x9e3779b9u ^ (uint32_t)size ^ ((uint32_t)data[1] << 8), data[2], &chunked);
	CHECK(whole.events == chunked.events);
	CHECK(whole.hash == chunked.hash);
	return 0;
}
