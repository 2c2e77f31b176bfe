/* imap_seqset.c - IMAP sequence sets (RFC 9051 section 9, RFC 5182 "$"). */
#include "imap_seqset.h"

#include <stdio.h>
#include <string.h>

/* "*" while parsing: above every number, so ordering and merging work. */
#define STAR ((uint64_t)1 << 32)

void
imap_seqset_init(struct imap_seqset *set, struct imap_range *r, unsigned cap)
{
	set->r = r;
	set->cap = cap;
	set->n = 0;
	set->star = 0;
	set->searchres = 0;
	set->star_lo = 0;
}

/* First index whose range ends at or after lo - 1 (it may merge with lo). */
static unsigned
find_from(const struct imap_seqset *set, uint64_t lo)
{
	unsigned a = 0, b = set->n;

	while (a < b) {
		unsigned m = a + (b - a) / 2;
		if ((uint64_t)set->r[m].hi + 1 < lo)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

enum imap_seqset_err
imap_seqset_add(struct imap_seqset *set, uint32_t lo, uint32_t hi)
{
	unsigned i = find_from(set, lo), j = i;
	struct imap_range m = { lo, hi };

	while (j < set->n && set->r[j].lo <= (uint64_t)hi + 1) {
		if (set->r[j].lo < m.lo)
			m.lo = set->r[j].lo;
		if (set->r[j].hi > m.hi)
			m.hi = set->r[j].hi;
		j++;
	}
	if (j == i) {
		if (set->n == set->cap)
			return IMAP_SEQSET_ERR_TOO_MANY;
		memmove(set->r + i + 1, set->r + i, (set->n - i) * sizeof(*set->r));
		set->n++;
	} else if (j > i + 1) {
		memmove(set->r + i + 1, set->r + j, (set->n - j) * sizeof(*set->r));
		set->n -= j - i - 1;
	}
	set->r[i] = m;
	return IMAP_SEQSET_OK;
}

/* seq-number: nz-number or "*"; advances *i. */
static enum imap_seqset_err
get_number(const uint8_t *s, size_t len, size_t *i, uint64_t *v_r)
{
	uint64_t v = 0;
	size_t start = *i;

	if (*i < len && s[*i] == '*') {
		(*i)++;
		*v_r = STAR;
		return IMAP_SEQSET_OK;
	}
	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		if (v <= 0xffffffffu)
			v = v * 10 + (uint64_t)(s[*i] - '0');
		(*i)++;
	}
	if (*i == start)
		return (*i == len || s[*i] == ',') ? IMAP_SEQSET_ERR_EMPTY : IMAP_SEQSET_ERR_SYNTAX;
	if (v == 0)
		return *i - start == 1 ? IMAP_SEQSET_ERR_ZERO : IMAP_SEQSET_ERR_SYNTAX;
	if (s[start] == '0')
		return IMAP_SEQSET_ERR_SYNTAX;	/* nz-number has no leading zero */
	if (v > 0xffffffffu)
		return IMAP_SEQSET_ERR_RANGE;
	*v_r = v;
	return IMAP_SEQSET_OK;
}

static enum imap_seqset_err
add_part(struct imap_seqset *set, uint64_t a, uint64_t b)
{
	uint64_t lo = a < b ? a : b, hi = a < b ? b : a;

	if (hi != STAR)
		return imap_seqset_add(set, (uint32_t)lo, (uint32_t)hi);
	if (lo != STAR && (!set->star || set->star_lo == 0 || lo < set->star_lo))
		set->star_lo = (uint32_t)lo;
	set->star = 1;
	return IMAP_SEQSET_OK;
}

/* Numeric ranges that reach star_lo belong to the "*" range. */
static void
absorb_into_star(struct imap_seqset *set)
{
	if (!set->star || set->star_lo == 0)
		return;
	while (set->n > 0 && (uint64_t)set->r[set->n - 1].hi + 1 >= set->star_lo) {
		if (set->r[set->n - 1].lo < set->star_lo)
			set->star_lo = set->r[set->n - 1].lo;
		set->n--;
	}
}

enum imap_seqset_err
imap_seqset_parse(struct imap_seqset *set, const uint8_t *s, size_t len)
{
	enum imap_seqset_err e;
	size_t i = 0;

	imap_seqset_init(set, set->r, set->cap);
	if (len == 1 && s[0] == '$') {
		set->searchres = 1;
		return IMAP_SEQSET_OK;
	}
	if (len == 0)
		return IMAP_SEQSET_ERR_EMPTY;
	for (;;) {
		uint64_t a, b;
		if ((e = get_number(s, len, &i, &a)) != IMAP_SEQSET_OK)
			return e;
		b = a;
		if (i < len && s[i] == ':') {
			i++;
			if ((e = get_number(s, len, &i, &b)) != IMAP_SEQSET_OK)
				return e == IMAP_SEQSET_ERR_EMPTY ? IMAP_SEQSET_ERR_SYNTAX : e;
		}
		if ((e = add_part(set, a, b)) != IMAP_SEQSET_OK)
			return e;
		if (i == len)
			break;
		if (s[i] != ',')
			return IMAP_SEQSET_ERR_SYNTAX;
		i++;
	}
	absorb_into_star(set);
	return IMAP_SEQSET_OK;
}

enum imap_seqset_err
imap_seqset_resolve(struct imap_seqset *set, uint32_t max)
{
	uint32_t lo;

	if (!set->star)
		return IMAP_SEQSET_OK;
	if (max == 0)
		return IMAP_SEQSET_ERR_STAR;
	lo = set->star_lo != 0 ? set->star_lo : max;
	set->star = 0;
	set->star_lo = 0;
	return imap_seqset_add(set, lo < max ? lo : max, lo < max ? max : lo);
}

int
imap_seqset_contains(const struct imap_seqset *set, uint32_t v)
{
	unsigned i = find_from(set, (uint64_t)v + 1);

	return i < set->n && set->r[i].lo <= v && v <= set->r[i].hi;
}

uint64_t
imap_seqset_count(const struct imap_seqset *set)
{
	uint64_t c = 0;
	unsigned i;

	for (i = 0; i < set->n; i++)
		c += (uint64_t)set->r[i].hi - set->r[i].lo + 1;
	return c;
}

void
imap_seqset_iter_init(struct imap_seqset_iter *it, const struct imap_seqset *set)
{
	it->set = set;
	it->i = 0;
	it->next = set->n > 0 ? set->r[0].lo : 0;
}

int
imap_seqset_iter_next(struct imap_seqset_iter *it, uint32_t *v_r)
{
	if (it->i >= it->set->n)
		return 0;
	*v_r = (uint32_t)it->next;
	if (it->next == it->set->r[it->i].hi) {
		it->i++;
		if (it->i < it->set->n)
			it->next = it->set->r[it->i].lo;
	} else {
		it->next++;
	}
	return 1;
}

/* Append one range (hi_star: "lo:*", or "*" when lo is 0). */
static int
put_range(char *out, size_t cap, size_t *len, uint32_t lo, uint32_t hi, int hi_star)
{
	const char *comma = *len > 0 ? "," : "";
	int w;

	if (hi_star && lo == 0)
		w = snprintf(out + *len, cap - *len, "%s*", comma);
	else if (hi_star)
		w = snprintf(out + *len, cap - *len, "%s%u:*", comma, lo);
	else if (lo == hi)
		w = snprintf(out + *len, cap - *len, "%s%u", comma, lo);
	else
		w = snprintf(out + *len, cap - *len, "%s%u:%u", comma, lo, hi);
	if (w < 0 || (size_t)w >= cap - *len)
		return -1;
	*len += (size_t)w;
	return 0;
}

long
imap_seqset_format(const struct imap_seqset *set, char *out, size_t cap)
{
	size_t len = 0;
	unsigned i;

	if (cap == 0 || (set->n == 0 && !set->star))
		return -1;
	out[0] = '\0';
	for (i = 0; i < set->n; i++)
		if (put_range(out, cap, &len, set->r[i].lo, set->r[i].hi, 0) < 0)
			return -1;
	if (set->star && put_range(out, cap, &len, set->star_lo, 0, 1) < 0)
		return -1;
	return (long)len;
}
