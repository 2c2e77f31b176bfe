/* imap_search.c - SEARCH criteria (RFC 9051 section 6.4.4 and 9) into a
 * tree, iteratively: prefix operators (NOT, OR) and groups each push a
 * frame that completes when it has its keys. */
#include "imap_search.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum kind { K_NONE, K_STR, K_HEADER, K_KEYWORD, K_DATE, K_NUM, K_SET, K_MODSEQ, K_NOT, K_OR };

static const struct {
	const char *name;
	enum imap_search_op op;
	enum kind kind;
} keys[] = {
	{ "ALL", IMAP_SK_ALL, K_NONE }, { "ANSWERED", IMAP_SK_ANSWERED, K_NONE },
	{ "BCC", IMAP_SK_BCC, K_STR }, { "BEFORE", IMAP_SK_BEFORE, K_DATE },
	{ "BODY", IMAP_SK_BODY, K_STR }, { "CC", IMAP_SK_CC, K_STR },
	{ "DELETED", IMAP_SK_DELETED, K_NONE }, { "DRAFT", IMAP_SK_DRAFT, K_NONE },
	{ "FLAGGED", IMAP_SK_FLAGGED, K_NONE }, { "FROM", IMAP_SK_FROM, K_STR },
	{ "HEADER", IMAP_SK_HEADER, K_HEADER }, { "KEYWORD", IMAP_SK_KEYWORD, K_KEYWORD },
	{ "LARGER", IMAP_SK_LARGER, K_NUM }, { "MODSEQ", IMAP_SK_MODSEQ, K_MODSEQ },
	{ "NEW", IMAP_SK_NEW, K_NONE }, { "NOT", IMAP_SK_NOT, K_NOT },
	{ "OLD", IMAP_SK_OLD, K_NONE }, { "ON", IMAP_SK_ON, K_DATE },
	{ "OR", IMAP_SK_OR, K_OR }, { "RECENT", IMAP_SK_RECENT, K_NONE },
	{ "SEEN", IMAP_SK_SEEN, K_NONE }, { "SENTBEFORE", IMAP_SK_SENTBEFORE, K_DATE },
	{ "SENTON", IMAP_SK_SENTON, K_DATE }, { "SENTSINCE", IMAP_SK_SENTSINCE, K_DATE },
	{ "SINCE", IMAP_SK_SINCE, K_DATE }, { "SMALLER", IMAP_SK_SMALLER, K_NUM },
	{ "SUBJECT", IMAP_SK_SUBJECT, K_STR }, { "TEXT", IMAP_SK_TEXT, K_STR },
	{ "TO", IMAP_SK_TO, K_STR }, { "UID", IMAP_SK_UID, K_SET },
	{ "UNANSWERED", IMAP_SK_UNANSWERED, K_NONE }, { "UNDELETED", IMAP_SK_UNDELETED, K_NONE },
	{ "UNDRAFT", IMAP_SK_UNDRAFT, K_NONE }, { "UNFLAGGED", IMAP_SK_UNFLAGGED, K_NONE },
	{ "UNKEYWORD", IMAP_SK_UNKEYWORD, K_KEYWORD }, { "UNSEEN", IMAP_SK_UNSEEN, K_NONE },
};

/* An open AND (group), OR or NOT. */
struct frame {
	struct imap_search_key *node, *last;
	const struct imap_arg *cur;	/* groups: the next argument */
	int need;			/* OR/NOT: keys still wanted; groups: -1 */
	unsigned group;			/* index of the frame whose cur feeds this one */
};

struct imap_search_priv {
	struct imap_search_limits lim;
	struct imap_search_key *keys;
	struct imap_range *ranges;
	unsigned nranges;
	struct frame *stack;
	unsigned depth;
};

static const char *const err_text[IMAP_SEARCH_ERR_COUNT] = {
	[IMAP_SEARCH_OK] = "OK",
	[IMAP_SEARCH_ERR_EMPTY] = "Missing search key",
	[IMAP_SEARCH_ERR_UNKNOWN] = "Unknown search key",
	[IMAP_SEARCH_ERR_MISSING] = "Search key without its argument",
	[IMAP_SEARCH_ERR_ARG] = "Invalid search argument",
	[IMAP_SEARCH_ERR_DATE] = "Invalid date",
	[IMAP_SEARCH_ERR_NUMBER] = "Invalid number",
	[IMAP_SEARCH_ERR_SEQSET] = "Invalid sequence set",
	[IMAP_SEARCH_ERR_KEYWORD] = "Invalid keyword",
	[IMAP_SEARCH_ERR_MODSEQ] = "Invalid MODSEQ entry",
	[IMAP_SEARCH_ERR_RETURN] = "Invalid RETURN option",
	[IMAP_SEARCH_ERR_EMPTY_GROUP] = "Empty parenthesized search",
	[IMAP_SEARCH_ERR_TOO_MANY] = "Too many search keys",
	[IMAP_SEARCH_ERR_TOO_DEEP] = "Search nested too deeply",
	[IMAP_SEARCH_ERR_RANGES] = "Sequence sets too long",
};

const char *
imap_search_err_text(enum imap_search_err e)
{
	if ((unsigned)e >= IMAP_SEARCH_ERR_COUNT)
		return "Invalid search";
	return err_text[e];
}

void
imap_search_limits_default(struct imap_search_limits *lim)
{
	lim->max_keys = IMAP_SEARCH_DEFAULT_MAX_KEYS;
	lim->max_depth = IMAP_SEARCH_DEFAULT_MAX_DEPTH;
	lim->max_ranges = IMAP_SEARCH_DEFAULT_MAX_RANGES;
}

int
imap_search_init(struct imap_search *s, const struct imap_search_limits *lim)
{
	struct imap_search_priv *p;

	memset(s, 0, sizeof(*s));
	if (lim->max_keys == 0 || lim->max_ranges == 0 || lim->max_keys > 1u << 24 ||
	    lim->max_depth > 1u << 24 || lim->max_ranges > 1u << 24)
		return -1;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -1;
	s->priv = p;
	p->lim = *lim;
	/* the root plus max_keys */
	p->keys = calloc((size_t)lim->max_keys + 1, sizeof(*p->keys));
	p->ranges = calloc(lim->max_ranges, sizeof(*p->ranges));
	p->stack = calloc((size_t)lim->max_depth + 1, sizeof(*p->stack));
	if (p->keys == NULL || p->ranges == NULL || p->stack == NULL) {
		imap_search_free(s);
		return -1;
	}
	return 0;
}

void
imap_search_free(struct imap_search *s)
{
	if (s->priv != NULL) {
		free(s->priv->keys);
		free(s->priv->ranges);
		free(s->priv->stack);
		free(s->priv);
	}
	memset(s, 0, sizeof(*s));
}

/* A string argument: atom, quoted, NIL-looking atom, buffered literal. */
static int
is_string(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_QUOTED ||
	    a->type == IMAP_ARG_NIL ||
	    (a->type == IMAP_ARG_LITERAL && !(a->flags & IMAP_ARGF_STREAMED));
}

static int
is_word(const struct imap_arg *a, const char *w)
{
	return a->type == IMAP_ARG_ATOM && a->len == strlen(w) &&
	    strncasecmp((const char *)a->text, w, a->len) == 0;
}

/* number64 (RFC 9051 section 9): 0..2^63-1, digits only. */
static int
get_number(const struct imap_arg *a, uint64_t *v_r)
{
	uint64_t v = 0;
	size_t i;

	if (a->type != IMAP_ARG_ATOM || a->len == 0 || a->len > 19)
		return -1;
	for (i = 0; i < a->len; i++) {
		if (a->text[i] < '0' || a->text[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(a->text[i] - '0');
	}
	if (v > INT64_MAX)
		return -1;
	*v_r = v;
	return 0;
}

static struct imap_search_key *
new_key(struct imap_search *s, enum imap_search_op op)
{
	struct imap_search_key *k;

	if (s->nkeys == s->priv->lim.max_keys)
		return NULL;
	k = &s->priv->keys[1 + s->nkeys++];
	memset(k, 0, sizeof(*k));
	k->op = op;
	return k;
}

/* The next argument of group frame g, or NULL at its end. */
static const struct imap_arg *
take(struct imap_search_priv *p, unsigned g)
{
	const struct imap_arg *a = p->stack[g].cur;

	if (a != NULL)
		p->stack[g].cur = a->next;
	return a;
}

static void
attach(struct imap_search_priv *p, struct imap_search_key *k)
{
	struct frame *f = &p->stack[p->depth];

	if (f->last != NULL)
		f->last->next = k;
	else
		f->node->child = k;
	f->last = k;
}

/* A key of the top frame is complete. */
static void
key_done(struct imap_search_priv *p)
{
	if (p->stack[p->depth].need > 0)
		p->stack[p->depth].need--;
}

static enum imap_search_err
push(struct imap_search_priv *p, struct imap_search_key *k, const struct imap_arg *cur,
    int need, unsigned group)
{
	if (p->depth == p->lim.max_depth)
		return IMAP_SEARCH_ERR_TOO_DEEP;
	attach(p, k);
	p->depth++;
	p->stack[p->depth] = (struct frame){ .node = k, .cur = cur, .need = need,
	    .group = need < 0 ? p->depth : group };
	return IMAP_SEARCH_OK;
}

static enum imap_search_err
get_set(struct imap_search_priv *p, const struct imap_arg *a, struct imap_seqset *set)
{
	enum imap_seqset_err e;

	if (a->type != IMAP_ARG_ATOM)
		return IMAP_SEARCH_ERR_SEQSET;
	imap_seqset_init(set, p->ranges + p->nranges, p->lim.max_ranges - p->nranges);
	e = imap_seqset_parse(set, a->text, a->len);
	if (e == IMAP_SEQSET_ERR_TOO_MANY)
		return IMAP_SEARCH_ERR_RANGES;
	if (e != IMAP_SEQSET_OK)
		return IMAP_SEARCH_ERR_SEQSET;
	p->nranges += set->n;
	return IMAP_SEARCH_OK;
}

/* MODSEQ [entry-name entry-type-req] mod-sequence-valzer (RFC 7162 3.1.5) */
static enum imap_search_err
get_modseq(struct imap_search_priv *p, unsigned g, const struct imap_arg *a,
    struct imap_search_key *k)
{
	static const char *const types[] = { "priv", "shared", "all" };
	const struct imap_arg *t;
	unsigned i;

	if (a->type == IMAP_ARG_QUOTED) {
		/* entry-flag-name: "/flags/" attr-flag */
		if (a->len <= 7 || strncasecmp((const char *)a->text, "/flags/", 7) != 0)
			return IMAP_SEARCH_ERR_MODSEQ;
		k->str = a->text;
		k->len = a->len;
		if ((t = take(p, g)) == NULL)
			return IMAP_SEARCH_ERR_MISSING;
		for (i = 0; i < 3 && !is_word(t, types[i]); i++)
			;
		if (i == 3)
			return IMAP_SEARCH_ERR_MODSEQ;
		k->entry = (enum imap_search_entry)(IMAP_SE_PRIV + i);
		if ((a = take(p, g)) == NULL)
			return IMAP_SEARCH_ERR_MISSING;
	}
	return get_number(a, &k->num) < 0 ? IMAP_SEARCH_ERR_NUMBER : IMAP_SEARCH_OK;
}

static enum imap_search_err
get_string(const struct imap_arg *a, const uint8_t **s_r, size_t *len_r)
{
	if (!is_string(a))
		return IMAP_SEARCH_ERR_ARG;
	*s_r = a->text;
	*len_r = a->len;
	return IMAP_SEARCH_OK;
}

/* The argument(s) of a leaf key of kind kind. */
static enum imap_search_err
leaf_args(struct imap_search_priv *p, unsigned g, enum kind kind, struct imap_search_key *k)
{
	const struct imap_arg *a = kind == K_NONE ? NULL : take(p, g);
	enum imap_search_err e;

	if (kind != K_NONE && a == NULL)
		return IMAP_SEARCH_ERR_MISSING;
	switch (kind) {
	case K_STR:
		return get_string(a, &k->str, &k->len);
	case K_HEADER:
		if ((e = get_string(a, &k->str, &k->len)) != IMAP_SEARCH_OK)
			return e;
		if ((a = take(p, g)) == NULL)
			return IMAP_SEARCH_ERR_MISSING;
		return get_string(a, &k->str2, &k->len2);
	case K_KEYWORD:
		if (!imap_is_keyword(a) || a->text[0] == '\\')
			return IMAP_SEARCH_ERR_KEYWORD;
		return get_string(a, &k->str, &k->len);
	case K_DATE:
		if ((a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_QUOTED) ||
		    imap_date_parse(a->text, a->len, &k->date) < 0)
			return IMAP_SEARCH_ERR_DATE;
		return IMAP_SEARCH_OK;
	case K_NUM:
		return get_number(a, &k->num) < 0 ? IMAP_SEARCH_ERR_NUMBER : IMAP_SEARCH_OK;
	case K_SET:
		return get_set(p, a, &k->set);
	case K_MODSEQ:
		return get_modseq(p, g, a, k);
	default:
		return IMAP_SEARCH_OK;
	}
}

static int
find_key(const struct imap_arg *a)
{
	size_t i;

	if (a->type != IMAP_ARG_ATOM)
		return -1;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (is_word(a, keys[i].name))
			return (int)i;
	return -1;
}

/* One search-key starting at a (g: the group feeding the top frame). */
static enum imap_search_err
one_key(struct imap_search *s, const struct imap_arg *a, unsigned g)
{
	struct imap_search_priv *p = s->priv;
	struct imap_search_key *k;
	enum imap_search_err e;
	int i = find_key(a);
	enum kind kind = i >= 0 ? keys[i].kind : K_NONE;

	if (a->type == IMAP_ARG_LIST) {
		if ((k = new_key(s, IMAP_SK_AND)) == NULL)
			return IMAP_SEARCH_ERR_TOO_MANY;
		return push(p, k, a->child, -1, 0);
	}
	if (i < 0 && (a->type != IMAP_ARG_ATOM || strchr("0123456789*$", a->text[0]) == NULL))
		return IMAP_SEARCH_ERR_UNKNOWN;
	if ((k = new_key(s, i >= 0 ? keys[i].op : IMAP_SK_SEQSET)) == NULL)
		return IMAP_SEARCH_ERR_TOO_MANY;
	if (kind == K_NOT || kind == K_OR)
		return push(p, k, NULL, kind == K_NOT ? 1 : 2, g);
	e = i >= 0 ? leaf_args(p, g, kind, k) : get_set(p, a, &k->set);
	if (e != IMAP_SEARCH_OK)
		return e;
	attach(p, k);
	key_done(p);
	return IMAP_SEARCH_OK;
}

/* The keys from args on, until the stack is back to the root. */
static enum imap_search_err
parse_keys(struct imap_search *s, const struct imap_arg *args)
{
	struct imap_search_priv *p = s->priv;
	enum imap_search_err e;

	p->depth = 0;
	p->stack[0] = (struct frame){ .node = s->root, .cur = args, .need = -1, .group = 0 };
	for (;;) {
		struct frame *f = &p->stack[p->depth];
		const struct imap_arg *a;

		if (f->need != 0 && (a = take(p, f->group)) != NULL) {
			if ((e = one_key(s, a, f->group)) != IMAP_SEARCH_OK)
				return e;
			continue;
		}
		if (f->need > 0)
			return IMAP_SEARCH_ERR_MISSING;
		if (f->need < 0 && f->node->child == NULL)
			return p->depth == 0 ? IMAP_SEARCH_ERR_EMPTY : IMAP_SEARCH_ERR_EMPTY_GROUP;
		if (p->depth == 0)
			return IMAP_SEARCH_OK;
		p->depth--;
		key_done(p);
	}
}

/* RETURN (MIN MAX ALL COUNT SAVE) (RFC 4731 section 3.1, RFC 5182). */
static enum imap_search_err
parse_return(struct imap_search *s, const struct imap_arg *list)
{
	static const char *const opts[] = { "MIN", "MAX", "ALL", "COUNT", "SAVE" };
	const struct imap_arg *a;
	unsigned i;

	if (list == NULL || list->type != IMAP_ARG_LIST)
		return IMAP_SEARCH_ERR_RETURN;
	s->esearch = 1;
	for (a = list->child; a != NULL; a = a->next) {
		for (i = 0; i < 5 && !is_word(a, opts[i]); i++)
			;
		if (i == 5)
			return IMAP_SEARCH_ERR_RETURN;
		s->ret |= 1u << i;
	}
	if (s->ret == 0)
		s->ret = IMAP_SEARCH_RET_ALL;	/* "RETURN ()" */
	return IMAP_SEARCH_OK;
}

enum imap_search_err
imap_search_parse(struct imap_search *s, const struct imap_arg *args)
{
	struct imap_search_priv *p = s->priv;
	enum imap_search_err e;

	s->root = &p->keys[0];
	memset(s->root, 0, sizeof(*s->root));
	s->root->op = IMAP_SK_AND;
	s->esearch = 0;
	s->ret = 0;
	s->charset = NULL;
	s->charset_len = 0;
	s->nkeys = 0;
	p->nranges = 0;
	if (args != NULL && is_word(args, "RETURN")) {
		if ((e = parse_return(s, args->next)) != IMAP_SEARCH_OK)
			return e;
		args = args->next->next;
	}
	if (args != NULL && is_word(args, "CHARSET")) {
		if (args->next == NULL)
			return IMAP_SEARCH_ERR_MISSING;
		if ((e = get_string(args->next, &s->charset, &s->charset_len)) != IMAP_SEARCH_OK)
			return e;
		args = args->next->next;
	}
	return parse_keys(s, args);
}
