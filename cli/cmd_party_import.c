/*
 * cmd_party_import.c: carnet party import, the registry in bulk.
 *
 * Enrolling a mutual's members one `carnet party add` at a time costs a
 * process, a transaction and an fsync each.  This reads a whole file
 * (CSV with a header, or JSON lines), checks every line first (a bad line,
 * an id given twice, an id registered with other details: the file is
 * refused and nothing is written), then writes the new parties in large
 * transactions.  Parties already registered with the same details are
 * left as they are, so a re-run (after a crash, or of a grown file) adds
 * only what is missing.
 *
 * A file declares its kind with --role: the roles its lines may have,
 * people (user) only unless more are named.  A members file that slipped
 * an operator line in, or a holder, is refused, not obeyed.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../client/csvmap.h"
#include "../common/text.h"
#include "cmds.h"
#include "partyfields.h"

static const char import_help[] =
"usage: carnet party import --data DIR [--role R[,R...]]...\n"
"                           [--format csv|jsonl] [--batch N] [--dry-run] FILE\n"
"\n"
"Register many parties at once with the broker whose state is in DIR\n"
"(default " DEFAULT_DATA "), e.g. a mutual's members.  FILE is CSV with a\n"
"header row, or JSON lines (one object per line); the format follows the\n"
"name (.csv, .jsonl / .ndjson) unless --format says it.\n"
"\n"
"Columns (CSV) or keys (JSON): role, name, id (required; role may be\n"
"left out, see --role); types (a holder's record types, and only a\n"
"holder's), purposes, owner, business_model (an app's alone, shown to\n"
"people before they consent).\n"
"In CSV, types and purposes separate items with '|'; in JSON they are\n"
"arrays of strings.  Names and other text may not start with = + - @\n"
"(a spreadsheet would run them as formulas).\n"
"\n"
"--role says what the file holds: people only (user) unless other roles\n"
"are named; a line of another role refuses the file.  Operators are\n"
"imported only when named (--role user,operator).  With one role, the\n"
"role column may be left out: every line is of that role.\n"
"\n"
"  role,name,id,types,purposes,owner,business_model\n"
"  user,claire,qsaubvd...,,,,\n"
"  app,budget,xk3vd...,,budget|prevention,Budget SAS,subscription\n"
"  (with --role user,app)\n"
"\n"
"  name,id\n"
"  claire,qsaubvd...\n"
"  (people, the default)\n"
"\n"
"Every line is checked before anything is written: a bad line, an id\n"
"given twice, or an id already registered with other details refuses\n"
"the whole file, naming the line.  An id already registered with the\n"
"same details is skipped, so running the import again is harmless and\n"
"completes an interrupted one.  New parties are written N per\n"
"transaction (--batch, default 100000), with progress on stderr.\n"
"\n"
"  --role R     roles the file's lines may have: user, holder, app,\n"
"               operator (comma-separated or repeated; default user)\n"
"  --format F   csv or jsonl\n"
"  --batch N    parties per transaction (1 to 1000000)\n"
"  --dry-run    check the file and say what would be added, write nothing\n";

enum col { C_ROLE, C_NAME, C_ID, C_TYPES, C_PURPOSES, C_OWNER, C_BM, C__N };

static const char *const col_names[C__N] = {
	"role", "name", "id", "types", "purposes", "owner", "business_model",
};

/* A line's id, for the duplicate check. */
struct seen {
	uint8_t id[ID_BYTES];
	unsigned long line;
};

struct imp {
	struct store *s;
	MDB_txn *txn;
	bool write;              /* the second pass */
	bool jsonl;
	int map[CSV_MAX_COLS];   /* CSV column -> enum col, or -1 */
	int ncols;
	struct seen *seen;       /* first pass: every id */
	size_t nseen, capseen;
	unsigned long lines, added, same, in_batch, batch, to_add;
	int64_t now;
	unsigned roles;          /* 1 << role for each role the file may hold */
	const char *implied;     /* the role of a line without one, if one */
	struct cerr *err;
};

/* Split a '|' list (CSV) into types or purposes. */
static int
add_list(struct party *p, char *list, bool types, struct cerr *err)
{
	char *item, *save = NULL;

	for (item = strtok_r(list, "|", &save); item != NULL;
	    item = strtok_r(NULL, "|", &save)) {
		if (*item == '\0')
			continue;
		if ((types ? party_add_type(p, item, err) :
		    party_add_purpose(p, item, err)) != 0)
			return err->code;
	}
	return 0;
}

/* One line's cells (NULL when absent) as a party. */
static int
party_of(char *cell[C__N], struct party *p, struct cerr *err)
{
	memset(p, 0, sizeof(*p));
	if (cell[C_TYPES] && add_list(p, cell[C_TYPES], true, err) != 0)
		return err->code;
	if (cell[C_PURPOSES] && add_list(p, cell[C_PURPOSES], false, err) != 0)
		return err->code;
	if (cell[C_OWNER] && party_text(p->owner, sizeof(p->owner),
	    cell[C_OWNER], "owner", err) != 0)
		return err->code;
	if (cell[C_BM] && party_text(p->business_model,
	    sizeof(p->business_model), cell[C_BM], "business_model", err) != 0)
		return err->code;
	return party_finish(p, cell[C_ROLE], cell[C_NAME], cell[C_ID], err);
}

/* The same party, but for when it was added. */
static bool
party_same(const struct party *a, const struct party *b)
{
	unsigned i;

	if (a->role != b->role || strcmp(a->name, b->name) != 0 ||
	    a->ntypes != b->ntypes || a->npurposes != b->npurposes ||
	    strcmp(a->owner, b->owner) != 0 ||
	    strcmp(a->business_model, b->business_model) != 0)
		return false;
	for (i = 0; i < a->ntypes; i++)
		if (a->types[i] != b->types[i])
			return false;
	for (i = 0; i < a->npurposes; i++)
		if (strcmp(a->purposes[i], b->purposes[i]) != 0)
			return false;
	return true;
}

static int
commit_batch(struct imp *im)
{
	int rc;

	if (im->txn == NULL)
		return 0;
	if ((rc = store_txn_commit(&im->txn, im->err)) != 0)
		return rc;
	im->in_batch = 0;
	fprintf(stderr, "carnet party import: %lu of %lu new parties "
	    "written\n", im->added, im->to_add);
	return 0;
}

/* The roles in mask as text in buf, separated by sep: "user, app". */
static void
roles_text(unsigned mask, const char *sep, char *buf, size_t size)
{
	enum party_role r;
	size_t o = 0;

	buf[0] = '\0';
	for (r = ROLE_USER; r <= ROLE_OPERATOR; r++)
		if (mask & (1u << r))
			o += (size_t)snprintf(buf + o, o < size ? size - o : 0,
			    "%s%s", o ? sep : "", party_role_name(r));
}

/* --role's list, added to *mask. */
static int
roles_parse(const char *arg, unsigned *mask, struct cerr *err)
{
	char buf[64], *r, *save = NULL;
	enum party_role role;

	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf))
		return cerr_set(err, CARNET_E_BAD_ARG, "--role: too long");
	for (r = strtok_r(buf, ",", &save); r != NULL;
	    r = strtok_r(NULL, ",", &save)) {
		if (party_role_parse(r, &role) != 0)
			return cerr_set(err, CARNET_E_BAD_ARG, "--role: '%.20s' "
			    "is not user, holder, app or operator", r);
		*mask |= 1u << role;
	}
	if (*mask == 0)
		return cerr_set(err, CARNET_E_BAD_ARG, "--role: want user, "
		    "holder, app or operator");
	return 0;
}

/* One line, either pass. */
static int
one_party(struct imp *im, char *cell[C__N], unsigned long line)
{
	struct party p, old;
	enum party_role role;
	char have[64], want[64];
	int rc;

	im->lines++;
	if (cell[C_ROLE] == NULL && im->implied != NULL)
		cell[C_ROLE] = (char *)im->implied;
	/* a role the file does not declare: refused before anything else */
	if (cell[C_ROLE] != NULL && party_role_parse(cell[C_ROLE], &role) ==
	    0 && !(im->roles & (1u << role))) {
		roles_text(im->roles, ", ", have, sizeof(have));
		roles_text(im->roles | 1u << role, ",", want, sizeof(want));
		return cerr_set(im->err, CARNET_E_FORBIDDEN, "line %lu: %s "
		    "%.40s: this import takes %s only; name the role to import "
		    "%ss too (--role %s)", line, party_role_name(role),
		    cell[C_NAME] ? text_term(cell[C_NAME]) : "", have,
		    party_role_name(role), want);
	}
	if (party_of(cell, &p, im->err) != 0)
		return cerr_set(im->err, im->err->code, "line %lu: %s", line,
		    cerr_msg(im->err));
	if (im->write && im->txn == NULL && (rc = store_txn_begin(im->s, NULL,
	    true, &im->txn, im->err)) != 0)
		return rc;
	rc = store_party_get(im->s, im->txn, p.id, &old);
	if (rc == 0 && party_same(&p, &old)) {
		im->same++;
		return 0;
	}
	/* (in the second pass, someone registered it meanwhile: what was
	 * written stays, and the caller says how much) */
	if (rc == 0)
		return cerr_set(im->err, CARNET_E_EXISTS, "line %lu: %s is "
		    "already registered, as %s %s, with other details (carnet "
		    "party list)%s", line, cell[C_ID], party_role_name(old.role),
		    old.name, im->write ? "" : "; nothing was written");
	if (rc != CARNET_E_NOT_FOUND)
		return cerr_set(im->err, rc, "reading the registry: %s",
		    carnet_strerror(rc));
	if (!im->write) {
		if (im->nseen == im->capseen) {
			size_t cap = im->capseen ? im->capseen * 2 : 4096;
			struct seen *n = realloc(im->seen, cap * sizeof(*n));

			if (n == NULL)
				return cerr_set(im->err, CARNET_E_NOMEM,
				    "out of memory");
			im->seen = n;
			im->capseen = cap;
		}
		memcpy(im->seen[im->nseen].id, p.id, ID_BYTES);
		im->seen[im->nseen++].line = line;
		im->to_add++;
		return 0;
	}
	p.added_at = im->now;
	if ((rc = store_party_add(im->s, im->txn, &p, im->err)) != 0)
		return cerr_set(im->err, rc, "line %lu: %s", line,
		    cerr_msg(im->err));
	im->added++;
	if (++im->in_batch == im->batch)
		return commit_batch(im);
	return 0;
}

static int
csv_row(void *arg, char **cells, int n, unsigned long line)
{
	struct imp *im = arg;
	char *cell[C__N] = {0};
	int i, k;

	if (im->ncols == 0) { /* the header */
		bool have[C__N] = {false};

		for (i = 0; i < n; i++) {
			im->map[i] = -1;
			for (k = 0; k < C__N; k++)
				if (strcmp(cells[i], col_names[k]) == 0)
					im->map[i] = k;
			if (im->map[i] < 0)
				return cerr_set(im->err, CARNET_E_UNKNOWN_FIELD,
				    "line %lu: unknown column '%.40s' (want "
				    "role, name, id, types, purposes, owner, "
				    "business_model)", line, cells[i]);
			if (have[im->map[i]])
				return cerr_set(im->err, CARNET_E_MALFORMED,
				    "line %lu: column %s twice", line,
				    cells[i]);
			have[im->map[i]] = true;
		}
		if (!have[C_NAME] || !have[C_ID] ||
		    (!have[C_ROLE] && im->implied == NULL))
			return cerr_set(im->err, CARNET_E_MALFORMED, "line %lu: "
			    "the header needs role, name and id (role may be "
			    "left out when --role names one)", line);
		im->ncols = n;
		return 0;
	}
	if (n != im->ncols)
		return cerr_set(im->err, CARNET_E_MALFORMED, "line %lu: %d "
		    "cells, the header has %d", line, n, im->ncols);
	for (i = 0; i < n; i++)
		cell[im->map[i]] = cells[i][0] ? cells[i] : NULL;
	return one_party(im, cell, line);
}

/* A JSON list of strings as a '|' list in buf. */
static int
json_list(json_t *v, const char *key, char *buf, size_t size, char **cell,
    struct cerr *err)
{
	json_t *it;
	size_t i, o = 0;

	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return cerr_set(err, CARNET_E_MALFORMED, "%s: want an array of "
		    "strings", key);
	buf[0] = '\0';
	json_array_foreach(v, i, it) {
		if (!json_is_string(it) || strchr(json_string_value(it), '|'))
			return cerr_set(err, CARNET_E_MALFORMED, "%s[%zu]: want "
			    "a string without '|'", key, i);
		o += (size_t)snprintf(buf + o, o < size ? size - o : 0, "%s%s",
		    o ? "|" : "", json_string_value(it));
		if (o >= size)
			return cerr_set(err, CARNET_E_TOO_BIG, "%s: too long",
			    key);
	}
	*cell = buf;
	return 0;
}

static int
jsonl_line(struct imp *im, const char *text, unsigned long line)
{
	char types[1024], purposes[1024], *cell[C__N] = {0};
	json_error_t je;
	json_t *o, *v;
	const char *key;
	int k, rc = 0;

	if ((o = json_loads(text, JSON_REJECT_DUPLICATES, &je)) == NULL)
		return cerr_set(im->err, CARNET_E_MALFORMED, "line %lu: not "
		    "JSON: %s", line, je.text);
	if (!json_is_object(o)) {
		json_decref(o);
		return cerr_set(im->err, CARNET_E_MALFORMED, "line %lu: want "
		    "an object", line);
	}
	json_object_foreach(o, key, v) {
		for (k = 0; k < C__N && strcmp(key, col_names[k]) != 0; k++)
			;
		if (k == C__N) {
			rc = cerr_set(im->err, CARNET_E_UNKNOWN_FIELD, "unknown "
			    "key '%.40s'", key);
			break;
		}
		if (k == C_TYPES)
			rc = json_list(v, key, types, sizeof(types), &cell[k],
			    im->err);
		else if (k == C_PURPOSES)
			rc = json_list(v, key, purposes, sizeof(purposes),
			    &cell[k], im->err);
		else if (!json_is_string(v))
			rc = cerr_set(im->err, CARNET_E_MALFORMED, "%s: want a "
			    "string", key);
		else
			cell[k] = (char *)json_string_value(v);
		if (rc != 0)
			break;
	}
	if (rc != 0)
		rc = cerr_set(im->err, rc, "line %lu: %s", line,
		    cerr_msg(im->err));
	else
		rc = one_party(im, cell, line);
	json_decref(o);
	return rc;
}

static int
read_file(struct imp *im, FILE *f)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long line = 0;
	int rc = 0;

	im->ncols = 0;
	if (!im->jsonl)
		return csv_read(f, csv_row, im, im->err);
	while (rc == 0 && (n = getline(&buf, &cap, f)) >= 0) {
		line++;
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
		if (n > 0)
			rc = jsonl_line(im, buf, line);
	}
	free(buf);
	if (rc == 0 && ferror(f))
		rc = cerr_set(im->err, CARNET_E_IO, "read error");
	return rc;
}

static int
by_id(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;
	int c = memcmp(x->id, y->id, ID_BYTES);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* The first pass's ids, sorted: one given twice refuses the file. */
static int
check_twice(struct imp *im)
{
	size_t i;

	if (im->nseen < 2)
		return 0; /* nothing to compare (and qsort wants an array) */
	qsort(im->seen, im->nseen, sizeof(*im->seen), by_id);
	for (i = 1; i < im->nseen; i++)
		if (memcmp(im->seen[i].id, im->seen[i - 1].id, ID_BYTES) == 0) {
			char id[ID_STR_LEN + 1];

			id_encode(im->seen[i].id, id);
			return cerr_set(im->err, CARNET_E_EXISTS, "line %lu: %s "
			    "is on line %lu too; nothing was written",
			    im->seen[i].line, id, im->seen[i - 1].line);
		}
	return 0;
}

int
party_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"format", required_argument, NULL, 'f'},
		{"batch", required_argument, NULL, 'b'},
		{"dry-run", no_argument, NULL, 'n'},
		{"role", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = DEFAULT_DATA, *format = NULL, *path, *dot;
	struct cerr err = {0};
	struct imp im;
	bool dry = false;
	unsigned long n;
	FILE *f;
	char *end;
	enum party_role r;
	int c, rc;

	memset(&im, 0, sizeof(im));
	im.batch = 100000;
	im.err = &err;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'f': format = optarg; break;
		case 'n': dry = true; break;
		case 'r':
			if (roles_parse(optarg, &im.roles, &err) != 0)
				return cli_fail("party import", &err);
			break;
		case 'b':
			im.batch = strtoul(optarg, &end, 10);
			if (*end != '\0' || im.batch < 1 || im.batch > 1000000)
				return cli_failx("party import", "--batch: want "
				    "1 to 1000000");
			break;
		case 'h':
			return fputs(import_help, stdout), 0;
		default:
			return cli_usage(import_help);
		}
	}
	if (optind + 1 != argc)
		return cli_usage(import_help);
	if (im.roles == 0)
		im.roles = 1u << ROLE_USER; /* people, the usual file */
	for (r = ROLE_USER; r <= ROLE_OPERATOR; r++)
		if (im.roles == 1u << r)
			im.implied = party_role_name(r);
	path = argv[optind];
	dot = strrchr(path, '.');
	if (format == NULL)
		format = dot && (strcmp(dot, ".jsonl") == 0 ||
		    strcmp(dot, ".ndjson") == 0) ? "jsonl" : "csv";
	if (strcmp(format, "jsonl") != 0 && strcmp(format, "csv") != 0)
		return cli_failx("party import", "--format: want csv or jsonl");
	im.jsonl = strcmp(format, "jsonl") == 0;
	if ((f = fopen(path, "r")) == NULL)
		return cli_failx("party import", "%s: cannot read it", path);
	im.now = (int64_t)time(NULL);
	/* first pass: every line checked, in one read transaction */
	if ((rc = party_open_store(dir, &im.s, &err)) == 0 &&
	    (rc = store_txn_begin(im.s, NULL, false, &im.txn, &err)) == 0) {
		rc = read_file(&im, f);
		store_txn_abort(&im.txn);
		if (rc == 0)
			rc = check_twice(&im);
	}
	free(im.seen);
	if (rc == 0 && !dry && im.to_add > 0) {
		/* second pass: the same lines, written */
		rewind(f);
		im.write = true;
		im.lines = im.same = 0;
		if ((rc = read_file(&im, f)) == 0)
			rc = commit_batch(&im);
		store_txn_abort(&im.txn);
	}
	fclose(f);
	store_close(&im.s);
	if (rc != 0) {
		if (im.added > 0)
			cerr_set(&err, rc, "%s (%lu parties written before "
			    "this; a re-run adds the rest)", cerr_msg(&err),
			    im.added);
		return cli_fail("party import", &err);
	}
	n = dry ? im.to_add : im.added;
	printf("%s: %lu line%s: %lu new part%s %s, %lu already registered\n",
	    path, im.lines, im.lines == 1 ? "" : "s", n, n == 1 ? "y" : "ies",
	    dry ? "to add (dry run: nothing written)" : "added", im.same);
	return 0;
}
