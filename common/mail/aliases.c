/* aliases.c - alias records and their expansion (see aliases.h). */
#include <stdio.h>
#include <string.h>

#include "aliases.h"

long
aliases_encode(const struct aliases_targets *t, uint8_t *out, size_t outcap)
{
	size_t off = 0, l;
	unsigned i;

	if (t->n == 0 || t->n > ALIASES_TARGETS_MAX)
		return -1;
	for (i = 0; i < t->n; i++) {
		l = strlen(t->name[i]);
		if (l == 0 || l > USERDB_NAME_MAX || off + l + (i > 0) > outcap)
			return -1;
		if (i > 0)
			out[off++] = '\0';
		memcpy(out + off, t->name[i], l);
		off += l;
	}
	return (long)off;
}

int
aliases_decode(const uint8_t *rec, size_t len, struct aliases_targets *t)
{
	const uint8_t *p = rec, *e = rec + len, *z;
	size_t l;

	t->n = 0;
	if (len == 0)
		return -1;
	for (;;) {
		z = memchr(p, '\0', (size_t)(e - p));
		l = (size_t)((z != NULL ? z : e) - p);
		if (l == 0 || l > USERDB_NAME_MAX || t->n >= ALIASES_TARGETS_MAX) {
			t->n = 0;
			return -1;
		}
		memcpy(t->name[t->n], p, l);
		t->name[t->n++][l] = '\0';
		if (z == NULL)
			return 0;
		p = z + 1;
	}
}

void
aliases_text(const struct aliases_targets *t, char *out, size_t outlen)
{
	size_t off = 0;
	unsigned i;
	int n;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < t->n && off < outlen; i++) {
		n = snprintf(out + off, outlen - off, "%s%s", i > 0 ? ", " : "", t->name[i]);
		if (n < 0)
			return;
		off += (size_t)n;
	}
}

/* One alias on the path: its record and the next target to take. */
struct frame {
	char name[USERDB_NAME_MAX + 1];
	struct aliases_targets t;
	unsigned next;
};

struct walk {
	struct db *db;
	const struct aliases_limits *lim;
	const char *over_key;
	const struct aliases_targets *over;
	struct aliases_expansion *x;
	struct buf b;
	unsigned depth, nvisited;
};

static struct frame frames[ALIASES_DEPTH_MAX];
static char visited[ALIASES_VISITED_MAX][USERDB_NAME_MAX + 1];

/* Is name a user?  1, 0, -1. */
static int
is_user(struct walk *w, const char *name)
{
	return db_get(w->db, USERDB_DBI_USERS, name, strlen(name), &w->b);
}

/* The alias record of name into t: 1, 0 none, or a negative status. */
static int
record(struct walk *w, const char *name, struct aliases_targets *t)
{
	int rc;

	if (w->over_key != NULL && strcmp(name, w->over_key) == 0) {
		*t = *w->over;
		return 1;
	}
	rc = db_get(w->db, USERDB_DBI_ALIASES, name, strlen(name), &w->b);
	if (rc != 1)
		return rc < 0 ? ALIASES_DB_ERROR : 0;
	if (aliases_decode(w->b.data, w->b.len, t) < 0) {
		snprintf(w->x->why, sizeof(w->x->why), "the record of alias %.255s is malformed", name);
		return ALIASES_BAD_RECORD;
	}
	return 1;
}

static int
add_user(struct walk *w, const char *name)
{
	struct aliases_expansion *x = w->x;
	unsigned i;

	for (i = 0; i < x->n; i++)
		if (strcmp(x->user[i], name) == 0)
			return 0;	/* another path to the same user: one copy */
	if (x->n >= w->lim->max_targets) {
		snprintf(x->why, sizeof(x->why), "more than %u users (alias_max_targets)",
		    w->lim->max_targets);
		return ALIASES_TOO_MANY;
	}
	snprintf(x->user[x->n++], sizeof(x->user[0]), "%s", name);
	return 0;
}

static int
seen(const struct walk *w, const char *name)
{
	unsigned i;

	for (i = 0; i < w->nvisited; i++)
		if (strcmp(visited[i], name) == 0)
			return 1;
	return 0;
}

/* Push alias name (its record is in t): a loop when it is on the path. */
static int
push(struct walk *w, const char *name, const struct aliases_targets *t)
{
	unsigned i;

	for (i = 0; i < w->depth; i++)
		if (strcmp(frames[i].name, name) == 0) {
			snprintf(w->x->why, sizeof(w->x->why), "alias loop: %.255s -> ... -> %.255s -> %.255s",
			    frames[i].name, frames[w->depth - 1].name, name);
			return ALIASES_LOOP;
		}
	if (seen(w, name))
		return 0;	/* expanded through another path already */
	if (w->depth >= w->lim->max_depth) {
		snprintf(w->x->why, sizeof(w->x->why), "aliases nested deeper than %u "
		    "(alias_max_depth) at %.255s", w->lim->max_depth, name);
		return ALIASES_TOO_DEEP;
	}
	if (w->nvisited >= ALIASES_VISITED_MAX) {
		snprintf(w->x->why, sizeof(w->x->why), "more than %u aliases", ALIASES_VISITED_MAX);
		return ALIASES_TOO_MANY;
	}
	snprintf(visited[w->nvisited++], sizeof(visited[0]), "%s", name);
	snprintf(frames[w->depth].name, sizeof(frames[0].name), "%s", name);
	frames[w->depth].t = *t;
	frames[w->depth++].next = 0;
	return 0;
}

/* The next target of the top frame: a user, an alias (pushed) or
 * neither (skipped). */
static int
step(struct walk *w)
{
	static struct aliases_targets t;
	struct frame *f = &frames[w->depth - 1];
	const char *name;
	int rc;

	if (f->next >= f->t.n) {
		w->depth--;
		return 0;
	}
	name = f->t.name[f->next++];
	rc = is_user(w, name);
	if (rc < 0)
		return ALIASES_DB_ERROR;
	if (rc == 1)
		return add_user(w, name);
	rc = record(w, name, &t);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		w->x->dangling++;
		return 0;
	}
	return push(w, name, &t);
}

int
aliases_expand(struct db *db, const char *key, const struct aliases_limits *lim,
    const char *over_key, const struct aliases_targets *over, struct aliases_expansion *x)
{
	static struct aliases_targets t;
	struct walk w = { .db = db, .lim = lim, .over_key = over_key, .over = over, .x = x };
	int rc;

	memset(x, 0, sizeof(*x));
	buf_init(&w.b, 4096);
	rc = over_key != NULL && strcmp(key, over_key) == 0 ? 0 : is_user(&w, key);
	if (rc == 1) {
		rc = add_user(&w, key);
		goto out;
	}
	if (rc < 0) {
		rc = ALIASES_DB_ERROR;
		goto out;
	}
	rc = record(&w, key, &t);
	if (rc > 0)
		rc = push(&w, key, &t);
	while (rc == 0 && w.depth > 0)
		rc = step(&w);
out:
	buf_free(&w.b, 0);
	if (rc == ALIASES_DB_ERROR)
		snprintf(x->why, sizeof(x->why), "user database error");
	if (rc < 0) {
		x->n = 0;
		return rc;
	}
	return x->n > 0 ? ALIASES_FOUND : ALIASES_NONE;
}
