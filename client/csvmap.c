/*
 * csvmap.c: CSV reading (libcsv), header and row mapping, enrollment;
 * cells written for spreadsheets.
 *
 * Rows become JSON objects and go through recjson_encode, so a holder's
 * export meets exactly the checks of every other way in.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>
#include <jansson.h>
#include <uthash.h>

#include "../common/id.h"
#include "../schemas/recjson.h"
#include "csvmap.h"

struct csv_ctx {
	char *cells[CSV_MAX_COLS];
	int n;
	bool too_many, too_long;
	unsigned long line;
	int (*row)(void *, char **, int, unsigned long);
	void *arg;
	int rc;
	struct cerr *err;
};

static void
on_field(void *s, size_t len, void *data)
{
	struct csv_ctx *c = data;

	if (c->rc != 0)
		return;
	if (c->n == CSV_MAX_COLS) {
		c->too_many = true;
		return;
	}
	if (len >= CSV_CELL_MAX_BYTES) {
		c->too_long = true;
		len = CSV_CELL_MAX_BYTES - 1;
	}
	memcpy(c->cells[c->n], s ? s : "", len);
	c->cells[c->n][len] = '\0';
	c->n++;
}

static void
on_row(int term, void *data)
{
	struct csv_ctx *c = data;

	(void)term;
	c->line++;
	if (c->rc == 0) {
		if (c->too_many)
			c->rc = cerr_set(c->err, CARNET_E_TOO_BIG,
			    "line %lu: more than %d columns", c->line,
			    CSV_MAX_COLS);
		else if (c->too_long)
			c->rc = cerr_set(c->err, CARNET_E_TOO_LONG,
			    "line %lu: a cell is over %d bytes", c->line,
			    CSV_CELL_MAX_BYTES);
		else if (!(c->n == 1 && c->cells[0][0] == '\0'))
			c->rc = c->row(c->arg, c->cells, c->n, c->line);
	}
	c->n = 0;
	c->too_many = c->too_long = false;
}

int
csv_read(FILE *f, int (*row)(void *, char **, int, unsigned long), void *arg,
    struct cerr *err)
{
	static char storage[CSV_MAX_COLS][CSV_CELL_MAX_BYTES];
	struct csv_parser p;
	struct csv_ctx c;
	char buf[8192];
	bool first = true;
	size_t n;
	int i;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < CSV_MAX_COLS; i++)
		c.cells[i] = storage[i];
	c.row = row;
	c.arg = arg;
	c.err = err;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL) != 0)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	while (c.rc == 0 && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		size_t skip = 0;

		/* Excel's "CSV UTF-8" starts with a byte order mark: it is not
		 * part of the first column's name */
		if (first && n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
			skip = 3;
		first = false;
		if (csv_parse(&p, buf + skip, n - skip, on_field, on_row, &c) !=
		    n - skip) {
			c.rc = cerr_set(err, CARNET_E_MALFORMED,
			    "line %lu: %s", c.line + 1,
			    csv_strerror(csv_error(&p)));
			break;
		}
	}
	if (c.rc == 0 && csv_fini(&p, on_field, on_row, &c) != 0)
		c.rc = cerr_set(err, CARNET_E_MALFORMED, "line %lu: %s",
		    c.line + 1, csv_strerror(csv_error(&p)));
	if (c.rc == 0 && ferror(f))
		c.rc = cerr_set(err, CARNET_E_IO, "read error");
	csv_free(&p);
	return c.rc;
}

int
csvmap_header(struct csvmap *m, const struct schema *type, char **cols,
    int n, struct cerr *err)
{
	uint64_t seen = 0, missing;
	bool has_ref = false, has_time = false;
	int i, f;

	memset(m, 0, sizeof(*m));
	m->type = type;
	m->ncols = n;
	m->customer_col = -1;
	for (i = 0; i < n; i++) {
		const char *c = cols[i];

		if (strcmp(c, "customer") == 0) {
			m->kind[i] = COL_CUSTOMER;
			m->customer_col = i;
		} else if (strcmp(c, "ref") == 0) {
			m->kind[i] = COL_REF;
			has_ref = true;
		} else if (strcmp(c, "time") == 0 || strcmp(c, "date") == 0) {
			m->kind[i] = COL_TIME;
			has_time = true;
		} else if ((f = schema_field(type, c, strlen(c))) >= 0) {
			if (seen & (UINT64_C(1) << f))
				return cerr_set(err, CARNET_E_DUPLICATE,
				    "header: column %s given twice", c);
			m->kind[i] = COL_FIELD;
			m->field[i] = f;
			seen |= UINT64_C(1) << f;
		} else {
			return cerr_set(err, CARNET_E_UNKNOWN_FIELD,
			    "header: column '%.40s' is not a field of %s "
			    "(see carnet schema %s)", c, type->name,
			    type->name);
		}
	}
	if (m->customer_col < 0 || !has_ref || !has_time)
		return cerr_set(err, CARNET_E_MISSING_FIELD,
		    "header: the columns customer, ref and time are required");
	if ((missing = schema_required(type) & ~seen) != 0)
		return cerr_set(err, CARNET_E_MISSING_FIELD,
		    "header: no column for the required field %s of %s",
		    type->fields[__builtin_ctzll(missing)].name, type->name);
	return 0;
}

const char *
csvmap_customer(const struct csvmap *m, char **cells)
{
	return cells[m->customer_col];
}

/* "25.5" or "25,5"; nothing else. */
static int
parse_number(const char *s, double *v)
{
	char buf[64], *end;
	size_t i, n = strlen(s);

	if (n == 0 || n >= sizeof(buf))
		return -1;
	for (i = 0; i <= n; i++)
		buf[i] = s[i] == ',' ? '.' : s[i];
	*v = strtod(buf, &end);
	return *end == '\0' && !isspace((unsigned char)buf[0]) ? 0 : -1;
}

static int
parse_time(const char *s, int64_t *t)
{
	int d, mo, y;
	char iso[16];

	if (time_parse(s, t) == 0)
		return 0;
	if (sscanf(s, "%2d/%2d/%4d", &d, &mo, &y) == 3 && strlen(s) == 10) {
		snprintf(iso, sizeof(iso), "%04d-%02d-%02d", y, mo, d);
		return time_parse(iso, t);
	}
	return -1;
}

static json_t *
cell_value(const struct field_def *fd, const char *cell, struct cerr *err)
{
	json_t *a;
	char *copy, *item, *save = NULL;
	double d;

	switch (fd->kind) {
	case FIELD_STR:
		return json_string(cell);
	case FIELD_NUM:
		if (parse_number(cell, &d) != 0)
			break;
		return json_real(d);
	case FIELD_INT:
		if (parse_number(cell, &d) != 0 || d != (double)(long long)d)
			break;
		return json_integer((json_int_t)d);
	case FIELD_STRLIST:
		a = json_array();
		if ((copy = strdup(cell)) == NULL)
			return a;
		for (item = strtok_r(copy, "|", &save); item != NULL;
		    item = strtok_r(NULL, "|", &save))
			json_array_append_new(a, json_string(item));
		free(copy);
		return a;
	}
	cerr_set(err, CARNET_E_FIELD_TYPE, "column %s: '%.40s' is not %s",
	    fd->name, cell, fd->kind == FIELD_INT ? "an integer" : "a number");
	return NULL;
}

int
csvmap_row(const struct csvmap *m, char **cells, int n, const char *user_id,
    msgpack_sbuffer *out, struct cerr *err)
{
	json_t *obj;
	int64_t when;
	int i, rc = 0;

	if (n != m->ncols)
		return cerr_set(err, CARNET_E_MALFORMED,
		    "%d cells, the header has %d", n, m->ncols);
	obj = json_pack("{s:s}", "user", user_id);
	for (i = 0; i < n && rc == 0; i++) {
		const char *c = cells[i];
		json_t *v;

		switch (m->kind[i]) {
		case COL_CUSTOMER:
			break;
		case COL_REF:
			json_object_set_new(obj, "ref", json_string(c));
			break;
		case COL_TIME:
			if (parse_time(c, &when) != 0)
				rc = cerr_set(err, CARNET_E_BAD_VALUE,
				    "column time: '%.40s' is not a date from "
				    "0001-01-01 to 9999-12-31", c);
			else
				json_object_set_new(obj, "time",
				    json_integer(when));
			break;
		case COL_FIELD:
			if (c[0] == '\0' && m->type->fields[m->field[i]].kind !=
			    FIELD_STRLIST)
				break; /* absent: required ones are caught */
			if ((v = cell_value(&m->type->fields[m->field[i]], c,
			    err)) == NULL)
				rc = err ? err->code : CARNET_E_FIELD_TYPE;
			else
				json_object_set_new(obj,
				    m->type->fields[m->field[i]].name, v);
			break;
		}
	}
	if (rc == 0)
		rc = recjson_encode(obj, m->type, out, err);
	json_decref(obj);
	return rc;
}

struct enroll_entry {
	char customer[80];
	char id[ID_STR_LEN + 1];
	UT_hash_handle hh;
};

struct enrollment {
	struct enroll_entry *map;
	unsigned n;
	struct cerr *err;
	bool header_seen;
};

static int
enroll_row(void *arg, char **cells, int n, unsigned long line)
{
	struct enrollment *e = arg;
	struct enroll_entry *x = NULL;
	uint8_t pk[ID_BYTES];

	if (!e->header_seen) {
		e->header_seen = true;
		if (n != 2 || strcmp(cells[0], "customer") != 0 ||
		    strcmp(cells[1], "carnet_id") != 0)
			return cerr_set(e->err, CARNET_E_MALFORMED,
			    "line 1: want the header customer,carnet_id");
		return 0;
	}
	if (n != 2 || strlen(cells[0]) == 0 ||
	    strlen(cells[0]) >= sizeof(x->customer))
		return cerr_set(e->err, CARNET_E_MALFORMED,
		    "line %lu: want customer,carnet_id", line);
	if (id_decode(cells[1], pk) != 0)
		return cerr_set(e->err, CARNET_E_BAD_VALUE,
		    "line %lu: '%.60s' is not a carnet id", line, cells[1]);
	HASH_FIND_STR(e->map, cells[0], x);
	if (x != NULL)
		return cerr_set(e->err, CARNET_E_DUPLICATE,
		    "line %lu: customer %s is enrolled twice", line, cells[0]);
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return cerr_set(e->err, CARNET_E_NOMEM, "out of memory");
	strcpy(x->customer, cells[0]);
	strcpy(x->id, cells[1]);
	HASH_ADD_STR(e->map, customer, x);
	e->n++;
	return 0;
}

int
enroll_load(const char *path, struct enrollment **out, struct cerr *err)
{
	struct enrollment *e = calloc(1, sizeof(*e));
	FILE *f;
	int rc;

	if (e == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	if ((f = fopen(path, "r")) == NULL) {
		free(e);
		return cerr_set(err, CARNET_E_NOT_FOUND, "cannot open %s", path);
	}
	e->err = err;
	rc = csv_read(f, enroll_row, e, err);
	fclose(f);
	if (rc != 0) {
		cerr_set(err, rc, "%s: %s", path, cerr_msg(err));
		enroll_free(&e);
		return rc;
	}
	*out = e;
	return 0;
}

const char *
enroll_lookup(const struct enrollment *e, const char *customer)
{
	struct enroll_entry *x = NULL;

	HASH_FIND_STR(e->map, customer, x);
	return x ? x->id : NULL;
}

const char *
enroll_lookup_fn(const void *arg, const char *customer)
{
	return enroll_lookup(arg, customer);
}

unsigned
enroll_count(const struct enrollment *e)
{
	return e->n;
}

void
enroll_free(struct enrollment **ep)
{
	struct enroll_entry *x, *tmp;

	if (*ep == NULL)
		return;
	HASH_ITER(hh, (*ep)->map, x, tmp) {
		HASH_DEL((*ep)->map, x);
		free(x);
	}
	free(*ep);
	*ep = NULL;
}

void
csv_write_cell(FILE *f, const char *s)
{
	bool formula = s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
	bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;

	if (quote)
		fputc('"', f);
	if (formula)
		fputc('\'', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	if (quote)
		fputc('"', f);
}
