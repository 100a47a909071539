/*
 * csvmap.h: holders' CSV exports as carnet records, enrollment files, and
 * cells written for spreadsheets.
 *
 * An export has a header row; its columns are `customer` (the holder's own
 * id for the person), `ref` (the holder's id for the row), `time` (or
 * `date`), and fields of the record type by their schema names
 * (carnet schema TYPE).  Numbers may use a decimal comma (25,50); dates may
 * be ISO 8601 or dd/mm/yyyy; list fields separate items with '|'; an empty
 * cell is an absent optional field.
 *
 * An enrollment file maps customers to carnet ids, one person per row:
 *     customer,carnet_id
 *     MGEN-000042,idihrksu65xj3ci2yfkdube3y3wehzikf7pht4wis7ytvu5qlcza
 * A person who has not enrolled is not in it: their rows are skipped, so
 * nothing of theirs reaches carnet without their own step first.
 */
#ifndef CARNET_CSVMAP_H
#define CARNET_CSVMAP_H

#include <stdio.h>

#include <msgpack.h>

#include "../common/error.h"
#include "../schemas/schema.h"

#define CSV_MAX_COLS 64
#define CSV_CELL_MAX_BYTES 1024

/*
 * Read a CSV stream (RFC 4180, through libcsv; a leading UTF-8 byte
 * order mark is skipped), calling row() for each
 * row with its cells (NUL-terminated) and its 1-based line number; row()
 * returns non-zero to stop, and that is returned.
 */
int csv_read(FILE *f, int (*row)(void *arg, char **cells, int n,
    unsigned long line), void *arg, struct cerr *err)
    __attribute__((warn_unused_result));

/*
 * Write s to f as one CSV cell (RFC 4180: in quotes, quotes doubled, when
 * it holds a comma, a quote, CR or LF).  A cell a spreadsheet would run as
 * a formula (starting with = + - @, tab or CR) gets a single quote in
 * front, as OWASP advises against CSV injection: shown, never run.  Write
 * errors are left in ferror(f).
 */
void csv_write_cell(FILE *f, const char *s);

enum csv_col { COL_CUSTOMER, COL_REF, COL_TIME, COL_FIELD };

struct csvmap {
	const struct schema *type;
	int ncols;
	enum csv_col kind[CSV_MAX_COLS];
	int field[CSV_MAX_COLS]; /* schema field index for COL_FIELD */
	int customer_col;
};

/* Check a header row against type. */
int csvmap_header(struct csvmap *m, const struct schema *type, char **cols,
    int n, struct cerr *err) __attribute__((warn_unused_result));
/* The row's customer id (borrowed from cells). */
const char *csvmap_customer(const struct csvmap *m, char **cells);
/* Encode one row as a record about user_id, appended to out. */
int csvmap_row(const struct csvmap *m, char **cells, int n,
    const char *user_id, msgpack_sbuffer *out, struct cerr *err)
    __attribute__((warn_unused_result));

struct enrollment;

/* Load an enrollment file; caller frees with enroll_free. */
int enroll_load(const char *path, struct enrollment **out, struct cerr *err)
    __attribute__((warn_unused_result));
/* The carnet id of customer, or NULL when not enrolled. */
const char *enroll_lookup(const struct enrollment *e, const char *customer);
/* enroll_lookup in the shape of fhir_enrolled_fn (arg: the enrollment). */
const char *enroll_lookup_fn(const void *arg, const char *customer);
unsigned enroll_count(const struct enrollment *e);
void enroll_free(struct enrollment **e);

#endif
