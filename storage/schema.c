/*
 * schema.c: judging a store's MLflow schema from the file itself, and
 * `mlflowd db upgrade`. See schema.h.
 */
#include "schema.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../api/limits.h"
#include "migrate_data.h"
#include "migrations.h"

const char MLF_ALEMBIC_HEAD[] = "f4a9b2c7d1e6";
const char MLF_ALEMBIC_HEAD_RELEASE[] = "3.18.0";

/* The tables mlflowd reads or writes; every column mlflowd's layout gives
 * them must be in a served store as mlflowd expects it. */
static const char *const used_tables[] = {
    "experiments",
    "experiment_tags",
    "runs",
    "metrics",
    "latest_metrics",
    "params",
    "tags",
    "inputs",
    "input_tags",
    "datasets",
    "logged_models",
    "logged_model_metrics",
    "logged_model_params",
    "logged_model_tags",
    "workspaces",
    /* traces */
    "trace_info",
    "trace_tags",
    "trace_request_metadata",
    "spans",
    "assessments",
    "entity_associations",
    /* the model registry */
    "registered_models",
    "registered_model_tags",
    "registered_model_aliases",
    "model_versions",
    "model_version_tags",
};

#define SQL_NAME_MAX 128       /* longest table or column name compared */
#define MAX_COLUMNS 64         /* columns of one table compared */
#define BACKUP_CHUNK (1 << 16) /* bytes copied at a time into the backup */

int mlf_schema_head_index(const char *head)
{
	for (int i = 0; i < mlf_nmigrations; i++)
		if (!strcmp(mlf_migrations[i].head, head))
			return i;
	return -1;
}

static void say(char *msg, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *msg, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, n, fmt, ap);
	va_end(ap);
}

/* ---- reading a layout ---- */

struct column {
	char name[SQL_NAME_MAX];
	char type[SQL_NAME_MAX]; /* upper case, without spaces */
	char dflt[SQL_NAME_MAX]; /* "" for none */
	int notnull, pk;
};

/* The columns of table (at most max); -1 when it does not exist or on error. */
static int columns_of(sqlite3 *db, const char *table, struct column *out, int max)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)", -1, &st,
	                       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	int n = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max) {
		struct column *c = &out[n++];
		memset(c, 0, sizeof *c);
		snprintf(c->name, sizeof c->name, "%s", (const char *)sqlite3_column_text(st, 0));
		const char *t = (const char *)sqlite3_column_text(st, 1);
		size_t j = 0;
		for (; t && *t && j + 1 < sizeof c->type; t++)
			if (!isspace((unsigned char)*t))
				c->type[j++] = (char)toupper((unsigned char)*t);
		c->notnull = sqlite3_column_int(st, 2);
		if (sqlite3_column_type(st, 3) != SQLITE_NULL)
			snprintf(c->dflt, sizeof c->dflt, "%s", (const char *)sqlite3_column_text(st, 3));
		c->pk = sqlite3_column_int(st, 4);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? (n ? n : -1) : -1;
}

static const struct column *find_column(const struct column *cols, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcasecmp(cols[i].name, name))
			return &cols[i];
	return NULL;
}

/* VARCHAR(n) -> n; 0 for other types. */
static long varchar_len(const char *type)
{
	if (strncmp(type, "VARCHAR(", 8) != 0)
		return 0;
	return strtol(type + 8, NULL, 10);
}

/* Can a value mlflowd writes as type ours be stored in a column of type
 * theirs, and read back the same by MLflow? Equal types, a longer
 * VARCHAR, or TEXT for a VARCHAR. */
static int type_fits(const char *ours, const char *theirs)
{
	if (!strcmp(ours, theirs))
		return 1;
	long a = varchar_len(ours), b = varchar_len(theirs);
	if (a && b)
		return b >= a;
	return a && !strcmp(theirs, "TEXT");
}

/* The reference layout: schema.sql in a private in-memory database. */
static sqlite3 *reference_db(void)
{
	sqlite3 *ref = NULL;
	if (sqlite3_open_v2(":memory:", &ref, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
	    sqlite3_exec(ref, mlf_schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close(ref);
		return NULL;
	}
	return ref;
}

/* The first difference between mlflowd's layout of table and the store's
 * that stops mlflowd from serving it, as "table T, column C: reason" in
 * msg; 0 when there is none, 1 when there is. */
static int table_mismatch(sqlite3 *ref, sqlite3 *db, const char *table, char *msg, size_t n)
{
	struct column ours[MAX_COLUMNS], theirs[MAX_COLUMNS];
	int no = columns_of(ref, table, ours, MAX_COLUMNS);
	int nt = columns_of(db, table, theirs, MAX_COLUMNS);
	if (no < 0)
		return 0;
	if (nt < 0) {
		say(msg, n, "table %s is missing", table);
		return 1;
	}
	for (int i = 0; i < no; i++) {
		const struct column *o = &ours[i], *t = find_column(theirs, nt, o->name);
		if (!t) {
			say(msg, n, "table %s, column %s is missing", table, o->name);
			return 1;
		}
		if (!type_fits(o->type, t->type)) {
			say(msg, n, "table %s, column %s has type %s where mlflowd writes %s", table, o->name, t->type,
			    o->type);
			return 1;
		}
		if (t->notnull && !o->notnull) {
			say(msg, n, "table %s, column %s is NOT NULL where mlflowd may write NULL", table, o->name);
			return 1;
		}
		if (o->dflt[0] && strcmp(o->dflt, t->dflt) != 0) {
			say(msg, n, "table %s, column %s has default %s where mlflowd relies on %s", table, o->name,
			    t->dflt[0] ? t->dflt : "none", o->dflt);
			return 1;
		}
		if (o->pk != t->pk) {
			say(msg, n, "table %s, column %s is %s of the primary key where mlflowd expects %s", table,
			    o->name, t->pk ? "part" : "not part", o->pk ? "it to be" : "it not to be");
			return 1;
		}
	}
	for (int i = 0; i < nt; i++) {
		const struct column *t = &theirs[i];
		if (!find_column(ours, no, t->name) && t->notnull && !t->dflt[0]) {
			say(msg, n, "table %s, column %s is NOT NULL without a default, and mlflowd does not write it",
			    table, t->name);
			return 1;
		}
	}
	return 0;
}

static int count_tables(sqlite3 *db, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int read_head(sqlite3 *db, char *head, size_t hn)
{
	sqlite3_stmt *st = NULL;
	int r = -1;
	head[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT version_num FROM alembic_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		snprintf(head, hn, "%s", (const char *)sqlite3_column_text(st, 0));
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

enum mlf_schema_verdict mlf_schema_check(sqlite3 *db, const char *path, char *head, size_t hn, char *msg, size_t n)
{
	int ntables = 0;
	head[0] = '\0';
	if (count_tables(db, &ntables) < 0) {
		say(msg, n, "%s is not a usable SQLite database: %s", path, sqlite3_errmsg(db));
		return MLF_SCHEMA_REFUSED;
	}
	if (ntables == 0)
		return MLF_SCHEMA_EMPTY;
	if (read_head(db, head, hn) < 0) {
		say(msg, n,
		    "%s is an SQLite database but not MLflow's (no alembic_version); mlflowd expects MLflow's "
		    "schema, alembic head %s or compatible",
		    path, MLF_ALEMBIC_HEAD);
		return MLF_SCHEMA_REFUSED;
	}
	sqlite3 *ref = reference_db();
	if (!ref) {
		say(msg, n, "internal error: mlflowd's own schema does not load");
		return MLF_SCHEMA_REFUSED;
	}
	char why[512] = "";
	int bad = 0;
	for (size_t i = 0; i < sizeof used_tables / sizeof *used_tables && !bad; i++)
		bad = table_mismatch(ref, db, used_tables[i], why, sizeof why);
	sqlite3_close(ref);
	if (!bad)
		return MLF_SCHEMA_SERVE;
	int at = mlf_schema_head_index(head);
	if (at >= 0 && at < mlf_nmigrations - 1) {
		say(msg, n,
		    "%s is at MLflow schema head %s, older than mlflowd's %s (MLflow %s): %s; upgrade it with: "
		    "mlflowd db upgrade %s",
		    path, head, MLF_ALEMBIC_HEAD, MLF_ALEMBIC_HEAD_RELEASE, why, path);
		return MLF_SCHEMA_OLDER;
	}
	say(msg, n, "%s (MLflow schema head %s%s) cannot be served: %s", path, head,
	    at < 0 ? ", unknown to mlflowd" : "", why);
	return MLF_SCHEMA_REFUSED;
}

/* ---- upgrade ---- */

/* CREATE text compared without case, quotes, "IF NOT EXISTS" and
 * whitespace differences (SQLAlchemy's releases lay DDL out differently). */
static char *normalized(const char *sql)
{
	size_t len = strlen(sql);
	char *out = malloc(len + 1), *o = out;
	int space = 0;
	char quote = 0;
	for (const char *p = sql; *p; p++) {
		char ch = *p;
		if (quote) {
			*o++ = ch;
			if (ch == quote)
				quote = 0;
			continue;
		}
		if (ch == '\'') {
			if (space && o > out && !strchr("(),", o[-1]))
				*o++ = ' ';
			space = 0;
			quote = ch;
			*o++ = ch;
			continue;
		}
		if (ch == '"' || ch == '`' || ch == '[' || ch == ']')
			continue;
		if (isspace((unsigned char)ch)) {
			space = 1;
			continue;
		}
		if (space && o > out && !strchr("(),", o[-1]) && !strchr("(),", ch))
			*o++ = ' ';
		space = 0;
		*o++ = (char)tolower((unsigned char)ch);
	}
	*o = '\0';
	static const char ine[] = " if not exists";
	char *f = strstr(out, ine);
	if (f)
		memmove(f, f + sizeof ine - 1, strlen(f + sizeof ine - 1) + 1);
	return out;
}

struct object {
	char *type, *name, *tbl, *sql; /* owned */
};

struct objects {
	struct object *v;
	int n, cap;
};

static void objects_free(struct objects *o)
{
	for (int i = 0; i < o->n; i++) {
		free(o->v[i].type);
		free(o->v[i].name);
		free(o->v[i].tbl);
		free(o->v[i].sql);
	}
	free(o->v);
	memset(o, 0, sizeof *o);
}

static int objects_load(sqlite3 *db, struct objects *o)
{
	sqlite3_stmt *st = NULL;
	memset(o, 0, sizeof *o);
	if (sqlite3_prepare_v2(db,
	                       "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name "
	                       "NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
	                       -1, &st, NULL) != SQLITE_OK)
		return -1;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (o->n == o->cap) {
			o->cap = o->cap ? 2 * o->cap : 64;
			o->v = realloc(o->v, (size_t)o->cap * sizeof *o->v);
		}
		struct object *x = &o->v[o->n++];
		x->type = strdup((const char *)sqlite3_column_text(st, 0));
		x->name = strdup((const char *)sqlite3_column_text(st, 1));
		x->tbl = strdup((const char *)sqlite3_column_text(st, 2));
		x->sql = strdup((const char *)sqlite3_column_text(st, 3));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static const struct object *objects_find(const struct objects *o, const char *type, const char *name)
{
	for (int i = 0; i < o->n; i++)
		if (!strcmp(o->v[i].type, type) && !strcasecmp(o->v[i].name, name))
			return &o->v[i];
	return NULL;
}

/* The top-level items of a normalized CREATE TABLE's body, split at
 * commas outside parentheses and quotes: columns in their order, then the
 * table constraints sorted (alembic writes them in an order that differs
 * between releases; SQLite does not care). Returns the count; items
 * point into sql, which is cut into pieces. */
static int is_constraint(const char *item)
{
	static const char *const words[] = {"constraint ", "primary key", "foreign key", "check(", "check ", "unique("};
	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (!strncmp(item, words[i], strlen(words[i])))
			return 1;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int table_items(char *sql, char **items, int max)
{
	char *open = strchr(sql, '('), *close = strrchr(sql, ')');
	if (!open || !close || close < open)
		return -1;
	*close = '\0';
	int n = 0, depth = 0;
	char quote = 0, *start = open + 1;
	for (char *p = start;; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			else if (!*p)
				return -1;
			continue;
		}
		if (*p == '\'')
			quote = *p;
		else if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		else if ((*p == ',' && depth == 0) || !*p) {
			int end = !*p;
			*p = '\0';
			if (n == max)
				return -1;
			items[n++] = start;
			start = p + 1;
			if (end)
				break;
		}
	}
	int first = 0;
	while (first < n && !is_constraint(items[first]))
		first++;
	for (int i = first; i < n; i++)
		if (!is_constraint(items[i]))
			return -1; /* a column after a constraint: compare as text */
	qsort(items + first, (size_t)(n - first), sizeof *items, cmp_str);
	return n;
}

#define MAX_TABLE_ITEMS 256 /* columns and constraints of one table compared item by item */

/* Do two CREATE statements make the same object? Compared normalized;
 * for tables, with the constraints in any order. */
static int same_sql(const char *a, const char *b)
{
	char *x = normalized(a), *y = normalized(b);
	int r = !strcmp(x, y);
	if (!r && !strncmp(x, "create table", 12) && !strncmp(y, "create table", 12)) {
		char *xi[MAX_TABLE_ITEMS], *yi[MAX_TABLE_ITEMS];
		char *hx = strchr(x, '('), *hy = strchr(y, '(');
		int same_head = hx && hy && hx - x == hy - y && !strncmp(x, y, (size_t)(hx - x));
		int nx = same_head ? table_items(x, xi, MAX_TABLE_ITEMS) : -1;
		int ny = same_head ? table_items(y, yi, MAX_TABLE_ITEMS) : -1;
		r = nx >= 0 && nx == ny;
		for (int i = 0; r && i < nx; i++)
			r = !strcmp(xi[i], yi[i]);
	}
	free(x);
	free(y);
	return r;
}

int mlf_schema_exec(sqlite3 *db, const char *sql, char *msg, size_t n, const char *what)
{
	char *e = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &e) == SQLITE_OK)
		return 0;
	say(msg, n, "%s: %s", what, e ? e : sqlite3_errmsg(db));
	sqlite3_free(e);
	return -1;
}

/* Rebuild table t (present in the store, old layout) as ref's layout: a
 * new table, every column both layouts have copied, the old one dropped
 * and the new one renamed, as alembic's batch mode does on SQLite.
 * Columns the old layout lacks get their default (or NULL). */
static int rebuild_table(sqlite3 *db, sqlite3 *ref, const struct object *target, char *msg, size_t n)
{
	struct column old[MAX_COLUMNS], neu[MAX_COLUMNS];
	int nold = columns_of(db, target->name, old, MAX_COLUMNS);
	int nnew = columns_of(ref, target->name, neu, MAX_COLUMNS);
	if (nold < 0 || nnew < 0) {
		say(msg, n, "cannot read the columns of table %s", target->name);
		return -1;
	}
	/* CREATE TABLE <name> ... -> CREATE TABLE "_mlflowd_new_<name>" ... */
	const char *body = strchr(target->sql, '(');
	char *tmp = sqlite3_mprintf("_mlflowd_new_%s", target->name);
	char *create = sqlite3_mprintf("CREATE TABLE \"%w\" %s", tmp, body);
	char *cols = sqlite3_mprintf("%s", "");
	for (int i = 0; i < nnew; i++) {
		if (!find_column(old, nold, neu[i].name))
			continue;
		char *next = sqlite3_mprintf("%s%s\"%w\"", cols, cols[0] ? ", " : "", neu[i].name);
		sqlite3_free(cols);
		cols = next;
	}
	char *copy = sqlite3_mprintf("INSERT INTO \"%w\" (%s) SELECT %s FROM \"%w\"", tmp, cols, cols, target->name);
	char *drop = sqlite3_mprintf("DROP TABLE \"%w\"", target->name);
	char *rename = sqlite3_mprintf("ALTER TABLE \"%w\" RENAME TO \"%w\"", tmp, target->name);
	char what[256];
	snprintf(what, sizeof what, "rebuilding table %s", target->name);
	int r = mlf_schema_exec(db, create, msg, n, what) || mlf_schema_exec(db, copy, msg, n, what) ||
	                mlf_schema_exec(db, drop, msg, n, what) || mlf_schema_exec(db, rename, msg, n, what)
	            ? -1
	            : 0;
	sqlite3_free(tmp);
	sqlite3_free(create);
	sqlite3_free(cols);
	sqlite3_free(copy);
	sqlite3_free(drop);
	sqlite3_free(rename);
	return r;
}

/* Bring every table, index and trigger of db to ref's layout. */
static int follow_layout(sqlite3 *db, sqlite3 *ref, int *rebuilt, char *msg, size_t n)
{
	struct objects want, have;
	if (objects_load(ref, &want) < 0)
		return say(msg, n, "internal error: mlflowd's own schema does not load"), -1;
	if (objects_load(db, &have) < 0) {
		objects_free(&want);
		return say(msg, n, "cannot read the schema: %s", sqlite3_errmsg(db)), -1;
	}
	int r = 0;
	*rebuilt = 0;
	/* Tables: new ones created, changed ones rebuilt, in schema.sql's order
	 * (tables referenced by foreign keys first). */
	for (int i = 0; i < want.n && !r; i++) {
		const struct object *w = &want.v[i];
		if (strcmp(w->type, "table") != 0)
			continue;
		const struct object *h = objects_find(&have, "table", w->name);
		if (!h) {
			char what[256];
			snprintf(what, sizeof what, "creating table %s", w->name);
			r = mlf_schema_exec(db, w->sql, msg, n, what);
		} else if (!same_sql(h->sql, w->sql)) {
			r = rebuild_table(db, ref, w, msg, n);
			(*rebuilt)++;
		}
	}
	/* Indexes and triggers: the store's own reloaded (a rebuild dropped
	 * the table's), MLflow's that are gone or changed dropped, missing
	 * ones created. mlflowd's own indexes (mlflowd_*) stay. */
	objects_free(&have);
	if (!r && objects_load(db, &have) < 0)
		r = -1, say(msg, n, "cannot read the schema: %s", sqlite3_errmsg(db));
	for (int i = 0; i < have.n && !r; i++) {
		const struct object *h = &have.v[i];
		if (!strcmp(h->type, "table") || !strncmp(h->name, "mlflowd_", 8))
			continue;
		const struct object *w = objects_find(&want, h->type, h->name);
		if (w && same_sql(w->sql, h->sql))
			continue;
		if (!objects_find(&want, "table", h->tbl))
			continue; /* on a table MLflow does not have: not ours to judge */
		char *sql = sqlite3_mprintf("DROP %s \"%w\"", !strcmp(h->type, "index") ? "INDEX" : "TRIGGER", h->name);
		r = mlf_schema_exec(db, sql, msg, n, "dropping an index");
		sqlite3_free(sql);
	}
	objects_free(&have);
	if (!r && objects_load(db, &have) < 0)
		r = -1, say(msg, n, "cannot read the schema: %s", sqlite3_errmsg(db));
	for (int i = 0; i < want.n && !r; i++) {
		const struct object *w = &want.v[i];
		if (!strcmp(w->type, "table") || objects_find(&have, w->type, w->name))
			continue;
		char what[256];
		snprintf(what, sizeof what, "creating %s %s", w->type, w->name);
		r = mlf_schema_exec(db, w->sql, msg, n, what);
	}
	objects_free(&have);
	objects_free(&want);
	return r;
}

/* Copy path to backup, synced, without overwriting an existing file. */
static int backup_file(const char *path, const char *backup, char *msg, size_t n)
{
	int in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return say(msg, n, "cannot read %s: %s", path, strerror(errno)), -1;
	int out = open(backup, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0) {
		say(msg, n, "cannot create the backup %s: %s", backup, strerror(errno));
		close(in);
		return -1;
	}
	char buf[BACKUP_CHUNK];
	ssize_t got;
	int r = 0;
	while ((got = read(in, buf, sizeof buf)) > 0) {
		for (ssize_t off = 0; off < got;) {
			ssize_t w = write(out, buf + off, (size_t)(got - off));
			if (w < 0) {
				r = -1;
				break;
			}
			off += w;
		}
		if (r)
			break;
	}
	if (got < 0 || r || fsync(out) != 0) {
		say(msg, n, "cannot write the backup %s: %s", backup, strerror(errno));
		r = -1;
	}
	close(in);
	if (close(out) != 0 && !r) {
		say(msg, n, "cannot write the backup %s: %s", backup, strerror(errno));
		r = -1;
	}
	if (r)
		unlink(backup);
	return r;
}

static int has_row(sqlite3 *db, const char *query);

/* The first step after from whose data mlflowd cannot move; -1 when none. */
static int refused_step(sqlite3 *db, int from)
{
	for (int i = from + 1; i < mlf_nmigrations; i++) {
		const struct mlf_migration *m = &mlf_migrations[i];
		if ((m->refuse_if && has_row(db, m->refuse_if)) || (m->refuse_fn && m->refuse_fn(db)))
			return i;
	}
	return -1;
}

static int has_row(sqlite3 *db, const char *query)
{
	sqlite3_stmt *st = NULL;
	int row = sqlite3_prepare_v2(db, query, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return row;
}

/* The steps after from whose condition holds on the old layout. */
static void select_steps(sqlite3 *db, int from, unsigned char *selected)
{
	for (int i = from + 1; i < mlf_nmigrations; i++)
		selected[i] = !mlf_migrations[i].when || has_row(db, mlf_migrations[i].when);
}

static int run_steps(sqlite3 *db, int from, const unsigned char *selected, int after, char *msg, size_t n)
{
	for (int i = from + 1; i < mlf_nmigrations; i++) {
		const struct mlf_migration *m = &mlf_migrations[i];
		const char *sql = after ? m->after : m->before;
		int (*fn)(sqlite3 *, char *, size_t) = after ? m->after_fn : m->before_fn;
		if ((!sql && !fn) || !selected[i])
			continue;
		char what[256];
		snprintf(what, sizeof what, "step %s (%s)", m->head, m->what);
		if (sql && mlf_schema_exec(db, sql, msg, n, what) < 0)
			return -1;
		if (fn && fn(db, msg, n) < 0) {
			char detail[MLF_SCHEMA_MSG_MAX];
			snprintf(detail, sizeof detail, "%s", msg);
			say(msg, n, "%s: %s", what, detail);
			return -1;
		}
	}
	return 0;
}

int mlf_schema_upgrade(const char *path, char *msg, size_t n)
{
	struct stat sb;
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size == 0)
		return say(msg, n, "%s is not an MLflow database file", path), -1;
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		say(msg, n, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, MLF_BUSY_TIMEOUT_MS);
	if (mlf_migrate_register(db) < 0) {
		say(msg, n, "internal error: the upgrade's SQL functions do not register");
		sqlite3_close(db);
		return -1;
	}
	char head[64], why[MLF_SCHEMA_MSG_MAX];
	enum mlf_schema_verdict v = mlf_schema_check(db, path, head, sizeof head, why, sizeof why);
	int at = head[0] ? mlf_schema_head_index(head) : -1;
	int r = -1;
	if (v == MLF_SCHEMA_EMPTY || (v == MLF_SCHEMA_REFUSED && !head[0])) {
		say(msg, n, "%s",
		    v == MLF_SCHEMA_EMPTY ? "the database is empty: mlflowd creates its tables at start" : why);
		goto out;
	}
	if (at < 0 && v == MLF_SCHEMA_SERVE) {
		say(msg, n,
		    "%s is at MLflow schema head %s, newer than mlflowd's %s, and mlflowd serves it as it is; "
		    "nothing to upgrade",
		    path, head, MLF_ALEMBIC_HEAD);
		r = 0;
		goto out;
	}
	if (at < 0) {
		say(msg, n,
		    "%s is at MLflow schema head %s, which mlflowd does not know (its newest is %s, MLflow %s); "
		    "nothing changed",
		    path, head, MLF_ALEMBIC_HEAD, MLF_ALEMBIC_HEAD_RELEASE);
		goto out;
	}
	if (at == mlf_nmigrations - 1) {
		say(msg, n, "%s is already at MLflow schema head %s (MLflow %s); nothing to do", path, head,
		    MLF_ALEMBIC_HEAD_RELEASE);
		r = 0;
		goto out;
	}
	int refused = refused_step(db, at);
	if (refused >= 0) {
		say(msg, n, "cannot upgrade %s from head %s: at step %s (%s) %s; nothing changed", path, head,
		    mlf_migrations[refused].head, mlf_migrations[refused].what, mlf_migrations[refused].refuse_why);
		goto out;
	}
	sqlite3 *ref = reference_db();
	if (!ref) {
		say(msg, n, "internal error: mlflowd's own schema does not load");
		goto out;
	}
	/* Nothing may be half-written in a rollback journal or a WAL: a
	 * checkpoint folds the WAL into the file before the copy. */
	int wal_frames = 0, copied = 0;
	if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &wal_frames, &copied) != SQLITE_OK ||
	    wal_frames != copied) {
		say(msg, n,
		    "%s is in use (its write-ahead log cannot be folded in): stop what uses it and run the upgrade "
		    "again; "
		    "nothing changed",
		    path);
		sqlite3_close(ref);
		goto out;
	}
	char *backup = sqlite3_mprintf("%s.bak-%s", path, head);
	if (backup_file(path, backup, msg, n) < 0) {
		sqlite3_free(backup);
		sqlite3_close(ref);
		goto out;
	}
	int rebuilt = 0;
	/* foreign_keys must be off around the rebuilds (set outside a
	 * transaction); the result is checked with foreign_key_check. */
	if (mlf_schema_exec(db, "PRAGMA foreign_keys=OFF; PRAGMA legacy_alter_table=OFF; BEGIN IMMEDIATE", msg, n,
	                    "starting the upgrade") == 0) {
		char *stamp = sqlite3_mprintf("UPDATE alembic_version SET version_num = %Q", MLF_ALEMBIC_HEAD);
		unsigned char *selected = calloc((size_t)mlf_nmigrations, 1);
		select_steps(db, at, selected);
		int failed = run_steps(db, at, selected, 0, msg, n) || follow_layout(db, ref, &rebuilt, msg, n) ||
		             run_steps(db, at, selected, 1, msg, n) ||
		             mlf_schema_exec(db, stamp, msg, n, "stamping the new head");
		sqlite3_free(stamp);
		free(selected);
		if (!failed) {
			sqlite3_stmt *st = NULL;
			if (sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL) == SQLITE_OK &&
			    sqlite3_step(st) == SQLITE_ROW) {
				say(msg, n,
				    "the upgraded table %s would hold a row whose foreign key has no parent in %s",
				    (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 2));
				failed = 1;
			}
			sqlite3_finalize(st);
		}
		if (!failed)
			failed = mlf_schema_exec(db, "COMMIT", msg, n, "committing the upgrade");
		if (failed) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			char detail[MLF_SCHEMA_MSG_MAX];
			snprintf(detail, sizeof detail, "%s", msg);
			say(msg, n, "upgrading %s from head %s failed, nothing changed (backup in %s): %s", path, head,
			    backup, detail);
		} else {
			say(msg, n,
			    "upgraded %s from MLflow schema head %s to %s (MLflow %s), %d tables rebuilt; the old "
			    "file is in %s",
			    path, head, MLF_ALEMBIC_HEAD, MLF_ALEMBIC_HEAD_RELEASE, rebuilt, backup);
			r = 0;
		}
	}
	sqlite3_free(backup);
	sqlite3_close(ref);
out:
	sqlite3_close(db);
	return r;
}
