/* fuzz_imap_search.c - imap_search_parse() over parsed SEARCH commands.
 *
 * Input: byte 0 picks small or default search limits (bit 0) and whether
 * the bytes are prefixed with "a SEARCH " (bit 1, else they are whole
 * command lines); the rest is fed to the command parser (LITERAL+ on,
 * synchronizing literals accepted), and the arguments of every command go
 * to the search parser.  An accepted tree must have the shape the header
 * promises: OR two children, NOT one, AND at least one, leaves none, as
 * many nodes as nkeys, no deeper than max_depth.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/proto/imap_parse.h"
#include "../common/proto/imap_search.h"
#include "fuzz.h"

static unsigned
children(const struct imap_search_key *k)
{
	unsigned n = 0;

	for (k = k->child; k != NULL; k = k->next)
		n++;
	return n;
}

/* Walk without recursion: a stack of the next sibling to visit per level. */
static void
check_tree(const struct imap_search *s, const struct imap_search_limits *lim)
{
	const struct imap_search_key *stack[80];
	unsigned depth = 0, nodes = 0;

	CHECK(lim->max_depth + 2 <= sizeof(stack) / sizeof(stack[0]));
	stack[0] = s->root;
	while (depth > 0 || stack[0] != NULL) {
		const struct imap_search_key *k = stack[depth];
		unsigned c;
		if (k == NULL) {
			depth--;
			continue;
		}
		stack[depth] = k->next;
		nodes++;
		c = children(k);
		if (k->op == IMAP_SK_OR)
			CHECK(c == 2);
		else if (k->op == IMAP_SK_NOT)
			CHECK(c == 1);
		else if (k->op == IMAP_SK_AND)
			CHECK(c >= 1);
		else
			CHECK(c == 0);
		if (k->str != NULL)
			CHECK(k->str[k->len] == '\0');
		if (c > 0) {
			CHECK(depth <= lim->max_depth);
			stack[++depth] = k->child;
		}
	}
	CHECK(nodes == s->nkeys + 1);
}

static void
search(struct imap_search *s, const struct imap_search_limits *lim, const struct imap_cmd *cmd)
{
	int e = imap_search_parse(s, cmd->args);

	CHECK(e >= IMAP_SEARCH_OK && e < IMAP_SEARCH_ERR_COUNT);
	CHECK(imap_search_err_text(e)[0] != '\0');
	if (e == IMAP_SEARCH_OK)
		check_tree(s, lim);
	CHECK(s->nkeys <= lim->max_keys);
}

static void
feed(struct imap_parser *p, struct imap_search *s, const struct imap_search_limits *lim,
    const uint8_t *in, size_t n)
{
	size_t off = 0, used;

	while (off < n) {
		struct imap_event ev;
		imap_parser_feed(p, in + off, n - off, &used, &ev);
		CHECK(used > 0);
		off += used;
		if (ev.type == IMAP_EV_COMMAND)
			search(s, lim, imap_parser_cmd(p));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char prefix[] = "a SEARCH ";
	struct imap_limits plim;
	struct imap_search_limits slim;
	struct imap_parser *p;
	struct imap_search s;

	if (size < 1)
		return 0;
	imap_limits_default(&plim);
	plim.max_depth = 64;
	plim.max_args = 2048;
	plim.max_command = 16384;
	imap_search_limits_default(&slim);
	if (data[0] & 1) {
		slim.max_keys = 64;
		slim.max_depth = 8;
		slim.max_ranges = 32;
	}
	p = imap_parser_new(&plim, IMAP_PF_LITERAL_PLUS);
	CHECK(p != NULL && imap_search_init(&s, &slim) == 0);
	if (data[0] & 2)
		feed(p, &s, &slim, (const uint8_t *)prefix, sizeof(prefix) - 1);
	feed(p, &s, &slim, data + 1, size - 1);
	feed(p, &s, &slim, (const uint8_t *)"\r\n", 2);
	imap_search_free(&s);
	imap_parser_free(p);
	return 0;
}
