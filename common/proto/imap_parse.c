/* imap_parse.c - the IMAP command reader (RFC 3501/9051 section 9, RFC 7888
 * literals, RFC 3516 literal8).  A byte-at-a-time state machine with an
 * explicit stack for lists; literal data is copied or streamed in bulk. */
#include "imap_parse.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

enum state {
	S_START,	/* nothing of a command yet */
	S_TAG,
	S_NAME,
	S_ARG,		/* after SP: an argument must follow */
	S_FIRST,	/* after "(": an argument or ")" */
	S_AFTER,	/* after an argument: SP, ")" or the line end */
	S_ATOM,
	S_ATOM2,	/* the rest of a SECTION after its "]" */
	S_SECT_SP,	/* SP inside [...]: "(" must follow */
	S_SECT_CLOSE,	/* ")" of a section list: "]" must follow */
	S_TILDE,	/* "~": literal8 or an atom */
	S_QUOTED,
	S_QESC,
	S_LIT_NUM,
	S_LIT_PLUS,
	S_LIT_CLOSE,	/* after "}": the line end must follow */
	S_WAIT,		/* CONTINUE given, the caller decides */
	S_LIT_DATA,
	S_CR,		/* after CR: LF must follow */
	S_RESYNC,	/* after an error: skip to the line end */
	S_SKIP,		/* discarding a literal the client sends anyway */
};

/* What handling one byte did. */
enum step { R_NEXT, R_AGAIN, R_EVENT };

struct frame {
	struct imap_arg *list, *last;
	struct imap_arg *owner;	/* the SECTION whose brackets hold this list */
};

struct imap_parser {
	struct imap_limits lim;
	unsigned flags;
	enum state state, before_cr;
	struct imap_cmd cmd;
	int tag_done;
	size_t taglen, namelen;
	struct imap_arg root;
	struct imap_arg *nodes, *cur;
	unsigned nnodes;
	uint8_t *text;
	size_t tlen, tcap;
	struct frame *stack;
	unsigned depth;
	int bracket;		/* inside [...] of the current atom */
	size_t line_len, cmd_len;
	uint64_t lit_num;	/* literal being announced */
	unsigned lit_digits;
	int lit_plus, lit8;
	uint32_t lit_left, skip_left;
	int rs;			/* resync: 1 "{digits", 2 "+", 3 "}" */
	uint64_t rs_num;
};

static const char *const err_text[IMAP_ERR_COUNT] = {
	[IMAP_ERR_NONE] = "No error",
	[IMAP_ERR_EMPTY] = "Empty command line",
	[IMAP_ERR_TAG] = "Invalid tag",
	[IMAP_ERR_NAME] = "Invalid command name",
	[IMAP_ERR_SPACE] = "Invalid spacing between arguments",
	[IMAP_ERR_CHAR] = "Invalid character in command",
	[IMAP_ERR_8BIT] = "8-bit character outside a literal",
	[IMAP_ERR_NUL] = "NUL character in command",
	[IMAP_ERR_ESCAPE] = "Invalid escape in quoted string",
	[IMAP_ERR_QUOTED_EOL] = "Line break in quoted string",
	[IMAP_ERR_LITERAL] = "Invalid literal",
	[IMAP_ERR_LITERAL_TOO_BIG] = "Literal too big",
	[IMAP_ERR_LITERAL_MINUS] = "Non-synchronizing literal over 4096 bytes",
	[IMAP_ERR_LITERAL_NONSYNC] = "Non-synchronizing literals not supported",
	[IMAP_ERR_LITERAL_NUL] = "NUL character in literal",
	[IMAP_ERR_TOO_MANY_LITERALS] = "Too many literals",
	[IMAP_ERR_TOO_DEEP] = "Lists nested too deeply",
	[IMAP_ERR_UNBALANCED] = "Unbalanced parentheses",
	[IMAP_ERR_TOO_MANY_ARGS] = "Too many arguments",
	[IMAP_ERR_LINE_TOO_LONG] = "Command line too long",
	[IMAP_ERR_TOO_BIG] = "Command too big",
	[IMAP_ERR_SECTION] = "Invalid section",
};

const char *
imap_err_text(enum imap_err e)
{
	if ((unsigned)e >= IMAP_ERR_COUNT)
		return "Invalid command";
	return err_text[e];
}

void
imap_limits_default(struct imap_limits *lim)
{
	lim->max_line = IMAP_DEFAULT_MAX_LINE;
	lim->max_literal = IMAP_DEFAULT_MAX_LITERAL;
	lim->max_buffered = IMAP_DEFAULT_MAX_BUFFERED;
	lim->max_literals = IMAP_DEFAULT_MAX_LITERALS;
	lim->max_depth = IMAP_DEFAULT_MAX_DEPTH;
	lim->max_args = IMAP_DEFAULT_MAX_ARGS;
	lim->max_command = IMAP_DEFAULT_MAX_COMMAND;
}

/* The text and node arrays are sized for the limits (about 1.5 MiB) and
 * mostly never touched: mapped directly, a page counts only once it is
 * used (malloc's headers and trailers of such blocks touched two pages of
 * each in every idle session). */
static void *
big_alloc(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void
big_free(void *p, size_t n)
{
	if (p != NULL)
		munmap(p, n);
}

struct imap_parser *
imap_parser_new(const struct imap_limits *lim, unsigned flags)
{
	struct imap_parser *p;

	if (lim->max_line == 0 || lim->max_args == 0 || lim->max_command == 0 ||
	    lim->max_command > SIZE_MAX / 4 || lim->max_args > 1u << 24 ||
	    lim->max_depth > 1u << 24)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->lim = *lim;
	p->flags = flags;
	/* every text byte was a command byte, plus a NUL (and a "]") per node */
	p->tcap = lim->max_command + 2 * (size_t)lim->max_args + 1;
	p->text = big_alloc(p->tcap);
	p->nodes = big_alloc(lim->max_args * sizeof(*p->nodes));	/* zeroed */
	p->stack = calloc((size_t)lim->max_depth + 1, sizeof(*p->stack));
	if (p->text == NULL || p->nodes == NULL || p->stack == NULL) {
		imap_parser_free(p);
		return NULL;
	}
	p->state = S_START;
	return p;
}

void
imap_parser_free(struct imap_parser *p)
{
	if (p == NULL)
		return;
	big_free(p->text, p->tcap);
	big_free(p->nodes, p->lim.max_args * sizeof(*p->nodes));
	free(p->stack);
	free(p);
}

const struct imap_cmd *
imap_parser_cmd(const struct imap_parser *p)
{
	return &p->cmd;
}

static void
reset(struct imap_parser *p)
{
	memset(&p->cmd, 0, sizeof(p->cmd));
	memset(&p->root, 0, sizeof(p->root));
	p->root.type = IMAP_ARG_LIST;
	p->tag_done = 0;
	p->taglen = p->namelen = 0;
	p->nnodes = 0;
	p->tlen = 0;
	p->depth = 0;
	p->stack[0] = (struct frame){ .list = &p->root };
	p->cur = NULL;
	p->bracket = 0;
	p->line_len = p->cmd_len = 0;
	p->state = S_TAG;
}

/* Report e.  An error found on the LF itself ends the line: the next byte
 * starts a command; otherwise the rest of the line is skipped. */
static enum step
fail(struct imap_parser *p, struct imap_event *ev, enum imap_err e, uint8_t c)
{
	ev->type = IMAP_EV_ERROR;
	ev->err = e;
	ev->tag = p->tag_done ? p->cmd.tag : NULL;
	p->state = c == '\n' ? S_START : S_RESYNC;
	p->rs = 0;
	return R_EVENT;
}

static struct imap_arg *
new_node(struct imap_parser *p, enum imap_arg_type type, int attach)
{
	struct frame *f = &p->stack[p->depth];
	struct imap_arg *n;

	if (p->nnodes == p->lim.max_args)
		return NULL;
	n = &p->nodes[p->nnodes++];
	memset(n, 0, sizeof(*n));
	n->type = type;
	/* a list has no text of its own */
	n->text = type == IMAP_ARG_LIST ? (const uint8_t *)"" : p->text + p->tlen;
	if (attach) {
		if (f->last != NULL)
			f->last->next = n;
		else
			f->list->child = n;
		f->last = n;
		f->list->count++;
	}
	return n;
}

/* Append one byte of text; the capacity covers every command byte. */
static void
put(struct imap_parser *p, uint8_t c)
{
	if (p->tlen < p->tcap)
		p->text[p->tlen++] = c;
}

/* End the text begun at start: NUL-terminate, return its length. */
static size_t
end_text(struct imap_parser *p, const uint8_t *start)
{
	size_t len = (size_t)(p->text + p->tlen - start);

	put(p, '\0');
	return len;
}

static enum step
push_list(struct imap_parser *p, struct imap_event *ev, struct imap_arg *owner, uint8_t c)
{
	struct imap_arg *l = new_node(p, IMAP_ARG_LIST, owner == NULL);

	if (l == NULL)
		return fail(p, ev, IMAP_ERR_TOO_MANY_ARGS, c);
	if (p->depth == p->lim.max_depth)
		return fail(p, ev, IMAP_ERR_TOO_DEEP, c);
	if (owner != NULL)
		owner->child = l;
	p->depth++;
	p->stack[p->depth] = (struct frame){ .list = l, .owner = owner };
	p->state = S_FIRST;
	return R_NEXT;
}

static enum step
pop_list(struct imap_parser *p, struct imap_event *ev, uint8_t c)
{
	if (p->depth == 0)
		return fail(p, ev, IMAP_ERR_UNBALANCED, c);
	p->cur = p->stack[p->depth].owner;
	p->depth--;
	p->state = p->cur != NULL ? S_SECT_CLOSE : S_AFTER;
	return R_NEXT;
}

/* "UID FETCH ..." is named "UID FETCH"; its arguments follow. */
static void
join_uid(struct imap_parser *p)
{
	struct imap_arg *a = p->root.child;
	size_t i;

	if (strcmp(p->cmd.name, "UID") != 0 || a == NULL || a->type != IMAP_ARG_ATOM ||
	    a->len == 0 || a->len > IMAP_NAME_MAX - 4)
		return;
	for (i = 0; i < a->len; i++)
		if (!((a->text[i] | 0x20) >= 'a' && (a->text[i] | 0x20) <= 'z'))
			return;
	for (i = 0; i < a->len; i++)
		p->cmd.name[4 + i] = (char)(a->text[i] & ~0x20);
	p->cmd.name[3] = ' ';
	p->cmd.name[4 + a->len] = '\0';
	p->root.child = a->next;
	p->root.count--;
}

static enum step
end_command(struct imap_parser *p, struct imap_event *ev, uint8_t c)
{
	if (p->depth > 0)
		return fail(p, ev, IMAP_ERR_UNBALANCED, c);
	join_uid(p);
	p->cmd.args = p->root.child;
	p->cmd.nargs = p->root.count;
	ev->type = IMAP_EV_COMMAND;
	ev->tag = p->cmd.tag;
	p->state = S_START;
	return R_EVENT;
}

static enum step
line_end(struct imap_parser *p, struct imap_event *ev, uint8_t c)
{
	if (c == '\r') {
		p->before_cr = p->state;
		p->state = S_CR;
		return R_NEXT;
	}
	return end_command(p, ev, c);
}

static int
is_tag_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\+", c) == NULL;
}

/* Characters of our atoms: ATOM-CHAR plus list-wildcards and "]"
 * (ASTRING-CHAR); "[" and "\" are handled by the caller. */
static int
is_atom_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f && strchr("(){\"\\", c) == NULL;
}

static enum step
st_tag(struct imap_parser *p, struct imap_event *ev, uint8_t c)
{
	if (is_tag_char(c)) {
		if (p->taglen == IMAP_TAG_MAX)
			return fail(p, ev, IMAP_ERR_TAG, c);
		p->cmd.tag[p->taglen++] = (char)c;
		return R_NEXT;
	}
	if (p->taglen == 0)
		return fail(p, ev, c == '\r' || c == '\n' ? IMAP_ERR_EMPTY : IMAP_ERR_TAG, c);
	if (c == ' ' || c == '\r' || c == '\n')
		p->tag_done = 1;
	if (c == ' ') {
		p->state = S_NAME;
		return R_NEXT;
	}
	if (c == '\r') {
		p->before_cr = S_NAME;
		p->state = S_CR;
		return R_NEXT;
	}
	return fail(p, ev, c == '\n' ? IMAP_ERR_NAME : IMAP_ERR_TAG, c);
}

static enum step
st_name(struct imap_parser *p, struct imap_event *ev, uint8_t c)
{
	uint8_t u = (uint8_t)(c & ~0x20);

	if ((u >= 'A' && u <= 'Z') || (c >= '0' && c <= '9' && p->namelen > 0) ||
	    (c == '-' && p->namelen > 0)) {
		if (p->namelen == IMAP_NAME_MAX)
			return fail(p, ev, IMAP_ERR_NAME, c);
		p->cmd.name[p->namelen++] = (char)(c == '-' || c <= '9' ? c : u);
		return R_NEXT;
	}
	if (p->namelen == 0 || (c != ' ' && c != '\r' && c != '\n'))
		return fail(p, ev, IMAP_ERR_NAME, c);
	if (c == ' ') {
		p->state = S_ARG;
		return R_NEXT;
	}
	return line_end(p, ev, c);
}

static enum step
start_atom(struct imap_parser *p, struct imap_event *ev, uint8_t c)
{
	p->cur = new_node(p, IMAP_ARG_ATOM, 1);
	if (p->cur == NULL)
		return fail(p, ev, IMAP_ERR_TOO_MANY_ARGS, c);
	p->bracket = 0;
	p->state = S_ATOM;
	if (c == '\\') {	/* flag: "\" atom */
		put(p, c);
		return R_NEXT;
	}
	return R_AGAIN;
}

static enum step
start_literal(struct imap_parser *p, int lit8)
{
	p->lit_num = 0;
	p->lit_digits = 0;
	p->lit_plus = 0;
	p->lit8 = lit8;
	p->state = S_LIT_NUM;
	return R_NEXT;
}

/* The first byte of an argument (S_ARG, S_FIRST). */
static enum step
st_arg(struct imap_parser *p, struct imap_event *ev, uint8_t c)
{
	switch (c) {
	case '(':
		return push_list(p, ev, NULL, c);
	case ')':
		if (p->state == S_FIRST)
			return pop_list(p, ev, c);
		return fail(p, ev, IMAP_ERR_SPACE, c);
	case '"':
		p->cur = new_node(p, IMAP_ARG_QUOTED, 1);
		if (p->cur == NULL)
			return fail(p, ev, IMAP_ERR_TOO_MANY_ARGS, c);
		p->state = S_QUOTED;
		return R_NEXT;
	case '{':
		return start_literal(p, 0);
	case '~':
		p->state = S_TILDE;
		return R_NEXT;
	case ' ': case '\r': case '\n':
		return fail(p, ev, IMAP_ERR_SPACE, c);
	}
	if (c == '\\' || is_atom_char(c))
		return start_atom(p, ev, c);
	return fail(p, ev, IMAP_ERR_CHAR, c);
}

static enum step
st_after(struct imap_parser *p, struct imap_event *ev, uint8_t c)
{
	switch (c) {
	case ' ':
		p->state = S_ARG;
		return R_NEXT;
	case ')':
		return pop_list(p, ev, c);
	case '\r': case '\n':
		return line_end(p, ev, c);
	}
	return fail(p, ev, IMAP_ERR_SPACE, c);
}

static void
end_atom(struct imap_parser *p)
{
	struct imap_arg *a = p->cur;

	a->len = end_text(p, a->text);
	if (a->len == 3 && strncasecmp((const char *)a->text, "NIL", 3) == 0)
		a->type = IMAP_ARG_NIL;
	p->state = S_AFTER;
}

static enum step
st_bracket(struct imap_parser *p, struct imap_event *ev, uint8_t c)
{
	if (c == ']') {
		p->bracket = 0;
		put(p, c);
		return R_NEXT;
	}
	if (c == ' ') {
		p->state = S_SECT_SP;
		return R_NEXT;
	}
	if (c == '[' || !is_atom_char(c))
		return fail(p, ev, IMAP_ERR_SECTION, c);
	put(p, c);
	return R_NEXT;
}

static enum step
st_atom(struct imap_parser *p, struct imap_event *ev, uint8_t c)
{
	if (p->bracket)
		return st_bracket(p, ev, c);
	if (c == ' ' || c == ')' || c == '\r' || c == '\n') {
		end_atom(p);
		return R_AGAIN;
	}
	if (c == '[') {
		p->bracket = 1;
		put(p, c);
		return R_NEXT;
	}
	if (!is_atom_char(c))
		return fail(p, ev, IMAP_ERR_CHAR, c);
	put(p, c);
	return R_NEXT;
}

/* "(" after "[... ": the atom becomes a SECTION holding the list. */
static enum step
st_sect_sp(struct imap_parser *p, struct imap_event *ev, uint8_t c)
{
	struct imap_arg *s = p->cur;

	if (c != '(')
		return fail(p, ev, IMAP_ERR_SECTION, c);
	s->type = IMAP_ARG_SECTION;
	s->len = end_text(p, s->text);
	return push_list(p, ev, s, c);
}

static enum step
st_sect_close(struct imap_parser *p, struct imap_event *ev, uint8_t c)
{
	if (c != ']')
		return fail(p, ev, IMAP_ERR_SECTION, c);
	p->cur->text2 = p->text + p->tlen;
	put(p, c);
	p->state = S_ATOM2;
	return R_NEXT;
}

static enum step
st_atom2(struct imap_parser *p, struct imap_event *ev, uint8_t c)
{
	if (c == ' ' || c == ')' || c == '\r' || c == '\n') {
		p->cur->len2 = end_text(p, p->cur->text2);
		p->state = S_AFTER;
		return R_AGAIN;
	}
	if (c == '[' || !is_atom_char(c))
		return fail(p, ev, IMAP_ERR_SECTION, c);
	put(p, c);
	return R_NEXT;
}

static enum step
st_tilde(struct imap_parser *p, struct imap_event *ev, uint8_t c)
{
	enum step r;

	if (c == '{')
		return start_literal(p, 1);
	r = start_atom(p, ev, '~');	/* "~" is an ATOM-CHAR */
	if (r == R_EVENT)
		return r;
	put(p, '~');
	return R_AGAIN;
}

static enum step
st_quoted(struct imap_parser *p, struct imap_event *ev, uint8_t c)
{
	if (p->state == S_QESC) {
		if (c != '"' && c != '\\')
			return fail(p, ev, IMAP_ERR_ESCAPE, c);
		put(p, c);
		p->state = S_QUOTED;
		return R_NEXT;
	}
	switch (c) {
	case '"':
		p->cur->len = end_text(p, p->cur->text);
		p->state = S_AFTER;
		return R_NEXT;
	case '\\':
		p->state = S_QESC;
		return R_NEXT;
	case '\r': case '\n':
		return fail(p, ev, IMAP_ERR_QUOTED_EOL, c);
	}
	put(p, c);
	return R_NEXT;
}

static enum step
st_lit_num(struct imap_parser *p, struct imap_event *ev, uint8_t c)
{
	if (p->state == S_LIT_PLUS) {
		if (c != '}')
			return fail(p, ev, IMAP_ERR_LITERAL, c);
		p->state = S_LIT_CLOSE;
		return R_NEXT;
	}
	if (c >= '0' && c <= '9') {
		/* number is 32-bit (RFC 9051 section 9); 11 digits are enough to tell */
		if (p->lit_digits == 11)
			return fail(p, ev, IMAP_ERR_LITERAL, c);
		p->lit_num = p->lit_num * 10 + (uint64_t)(c - '0');
		p->lit_digits++;
		return R_NEXT;
	}
	if (p->lit_digits == 0 || (c != '+' && c != '}'))
		return fail(p, ev, IMAP_ERR_LITERAL, c);
	p->lit_plus = c == '+';
	p->state = c == '+' ? S_LIT_PLUS : S_LIT_CLOSE;
	return R_NEXT;
}

/* An announced literal refused: the client sends a non-synchronizing one
 * anyway (skip it, then the rest of the line); a synchronizing one it
 * never sends, so the next line is a new command. */
static enum step
refuse_announced(struct imap_parser *p, struct imap_event *ev, enum imap_err e)
{
	fail(p, ev, e, '\n');
	if (p->lit_plus && p->lit_num > 0 && p->lit_num <= UINT32_MAX) {
		p->skip_left = (uint32_t)p->lit_num;
		p->state = S_SKIP;
	} else if (p->lit_plus) {
		p->state = S_RESYNC;
	}
	return R_EVENT;
}

static enum imap_err
check_literal(const struct imap_parser *p)
{
	if (p->lit_num > UINT32_MAX)
		return IMAP_ERR_LITERAL;
	if (p->lit_plus && !(p->flags & (IMAP_PF_LITERAL_PLUS | IMAP_PF_LITERAL_MINUS)))
		return IMAP_ERR_LITERAL_NONSYNC;
	if (p->lit_plus && (p->flags & IMAP_PF_LITERAL_MINUS) &&
	    !(p->flags & IMAP_PF_LITERAL_PLUS) && p->lit_num > IMAP_LITERAL_MINUS_MAX)
		return IMAP_ERR_LITERAL_MINUS;
	if (p->lit_num > p->lim.max_literal)
		return IMAP_ERR_LITERAL_TOO_BIG;
	if (p->cmd.nliterals == p->lim.max_literals)
		return IMAP_ERR_TOO_MANY_LITERALS;
	if (p->lit_num <= p->lim.max_buffered &&
	    p->lit_num > p->lim.max_command - p->cmd_len)
		return IMAP_ERR_TOO_BIG;
	return IMAP_ERR_NONE;
}

/* Data of the literal is over (or empty). */
static void
end_literal(struct imap_parser *p)
{
	struct imap_arg *a = p->cur;

	if (!(a->flags & IMAP_ARGF_STREAMED))
		a->len = end_text(p, a->text);
	p->line_len = 0;
	p->state = S_AFTER;
}

static void
start_data(struct imap_parser *p)
{
	p->state = S_LIT_DATA;
	if (p->lit_left == 0)
		end_literal(p);
}

/* The LF after "{N}": check the literal, then ask or go on. */
static enum step
announced(struct imap_parser *p, struct imap_event *ev)
{
	enum imap_err e = check_literal(p);
	struct imap_arg *a;

	if (e != IMAP_ERR_NONE)
		return refuse_announced(p, ev, e);
	a = new_node(p, IMAP_ARG_LITERAL, 1);
	if (a == NULL)
		return refuse_announced(p, ev, IMAP_ERR_TOO_MANY_ARGS);
	p->cur = a;
	p->cmd.nliterals++;
	if (p->lit8)
		a->flags |= IMAP_ARGF_LITERAL8;
	if (p->lit_num > p->lim.max_buffered) {
		a->flags |= IMAP_ARGF_STREAMED;
		a->text = (const uint8_t *)"";	/* the data went to the caller */
		a->len = (size_t)p->lit_num;
	} else {
		p->cmd_len += (size_t)p->lit_num;
	}
	p->lit_left = (uint32_t)p->lit_num;
	if (p->lit_plus) {
		start_data(p);
		return R_NEXT;
	}
	p->state = S_WAIT;
	ev->type = IMAP_EV_CONTINUE;
	ev->tag = p->cmd.tag;
	ev->size = p->lit_left;
	return R_EVENT;
}

static enum step
st_lit_close(struct imap_parser *p, struct imap_event *ev, uint8_t c)
{
	if (c == '\r') {
		p->before_cr = S_LIT_CLOSE;
		p->state = S_CR;
		return R_NEXT;
	}
	if (c != '\n')
		return fail(p, ev, IMAP_ERR_LITERAL, c);
	return announced(p, ev);
}

void
imap_parser_accept(struct imap_parser *p)
{
	if (p->state == S_WAIT)
		start_data(p);
}

void
imap_parser_refuse(struct imap_parser *p)
{
	if (p->state == S_WAIT)
		p->state = S_START;
}

/* Skipping a refused line: a "{N+}" at its end still brings N bytes. */
static void
st_resync(struct imap_parser *p, uint8_t c)
{
	if (c == '\n') {
		if (p->rs == 3 && p->rs_num > 0) {
			p->skip_left = (uint32_t)p->rs_num;
			p->state = S_SKIP;
		} else {
			p->state = p->rs == 3 ? S_RESYNC : S_START;
		}
		p->rs = 0;
	} else if (c == '{') {
		p->rs = 1;
		p->rs_num = 0;
	} else if (p->rs == 1 && c >= '0' && c <= '9' && p->rs_num <= UINT32_MAX) {
		p->rs_num = p->rs_num * 10 + (uint64_t)(c - '0');
	} else if (p->rs == 1 && c == '+' && p->rs_num <= UINT32_MAX) {
		p->rs = 2;
	} else if (p->rs == 2 && c == '}') {
		p->rs = 3;
	} else if (!(p->rs == 3 && c == '\r')) {
		p->rs = 0;
	}
}

static enum step
dispatch(struct imap_parser *p, struct imap_event *ev, uint8_t c)
{
	switch (p->state) {
	case S_TAG:
		return st_tag(p, ev, c);
	case S_NAME:
		return st_name(p, ev, c);
	case S_ARG: case S_FIRST:
		return st_arg(p, ev, c);
	case S_AFTER:
		return st_after(p, ev, c);
	case S_ATOM:
		return st_atom(p, ev, c);
	case S_ATOM2:
		return st_atom2(p, ev, c);
	case S_SECT_SP:
		return st_sect_sp(p, ev, c);
	case S_SECT_CLOSE:
		return st_sect_close(p, ev, c);
	case S_TILDE:
		return st_tilde(p, ev, c);
	case S_QUOTED: case S_QESC:
		return st_quoted(p, ev, c);
	case S_LIT_NUM: case S_LIT_PLUS:
		return st_lit_num(p, ev, c);
	case S_LIT_CLOSE:
		return st_lit_close(p, ev, c);
	case S_CR:
		if (c != '\n')
			return fail(p, ev, IMAP_ERR_CHAR, c);
		p->state = p->before_cr;
		return R_AGAIN;
	default:
		/* S_START, S_WAIT, S_LIT_DATA, S_RESYNC, S_SKIP: the caller's */
		return fail(p, ev, IMAP_ERR_CHAR, c);
	}
}

/* One byte of a command line: counted, screened, handled. */
static enum step
line_byte(struct imap_parser *p, struct imap_event *ev, uint8_t c)
{
	enum step r;

	if (p->state == S_START)
		reset(p);
	if (++p->line_len > p->lim.max_line)
		return fail(p, ev, IMAP_ERR_LINE_TOO_LONG, c);
	if (++p->cmd_len > p->lim.max_command)
		return fail(p, ev, IMAP_ERR_TOO_BIG, c);
	if (c == '\0')
		return fail(p, ev, IMAP_ERR_NUL, c);
	if (c >= 0x80 && !(p->state == S_QUOTED && (p->flags & IMAP_PF_UTF8)))
		return fail(p, ev, IMAP_ERR_8BIT, c);
	do
		r = dispatch(p, ev, c);
	while (r == R_AGAIN);
	return r;
}

/* Literal bytes buf[0..n), n <= lit_left: copied or handed out. */
static enum step
literal_bytes(struct imap_parser *p, struct imap_event *ev, const uint8_t *buf, size_t *n)
{
	const uint8_t *nul = p->lit8 ? NULL : memchr(buf, '\0', *n);

	if (nul == buf) {
		*n = 1;
		p->lit_left--;
		fail(p, ev, IMAP_ERR_LITERAL_NUL, 0);
		if (p->lit_left > 0) {
			p->skip_left = p->lit_left;
			p->state = S_SKIP;
		}
		return R_EVENT;
	}
	if (nul != NULL)
		*n = (size_t)(nul - buf);	/* what comes before first */
	p->lit_left -= (uint32_t)*n;
	if (p->cur->flags & IMAP_ARGF_STREAMED) {
		ev->type = IMAP_EV_LITERAL;
		ev->size = (uint32_t)p->cur->len;
		ev->data = buf;
		ev->len = *n;
		ev->left = p->lit_left;
		if (p->lit_left == 0)
			end_literal(p);
		return R_EVENT;
	}
	memcpy(p->text + p->tlen, buf, *n);
	p->tlen += *n;
	if (p->lit_left == 0)
		end_literal(p);
	return R_NEXT;
}

enum imap_ev
imap_parser_feed(struct imap_parser *p, const uint8_t *buf, size_t len,
    size_t *consumed_r, struct imap_event *ev)
{
	size_t i = 0;

	memset(ev, 0, sizeof(*ev));
	if (p->state == S_WAIT && len > 0)
		imap_parser_accept(p);
	while (i < len) {
		size_t n = len - i;
		enum step r = R_NEXT;

		if (p->state == S_LIT_DATA) {
			if (n > p->lit_left)
				n = p->lit_left;
			r = literal_bytes(p, ev, buf + i, &n);
		} else if (p->state == S_SKIP) {
			if (n > p->skip_left)
				n = p->skip_left;
			p->skip_left -= (uint32_t)n;
			if (p->skip_left == 0)
				p->state = S_RESYNC;
		} else if (p->state == S_RESYNC) {
			n = 1;
			st_resync(p, buf[i]);
		} else {
			n = 1;
			r = line_byte(p, ev, buf[i]);
		}
		i += n;
		if (r == R_EVENT) {
			*consumed_r = i;
			return ev->type;
		}
	}
	*consumed_r = len;
	ev->type = IMAP_EV_NEED_MORE;
	return IMAP_EV_NEED_MORE;
}
