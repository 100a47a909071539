/*
 * fuzz_csv.c: a holder's CSV export (the type from the first byte), read
 * through libcsv and mapped row by row as the agents do.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "../../client/csvmap.h"
#include "../../common/id.h"
#include "fuzz.h"

struct st {
	struct csvmap map;
	const struct schema *type;
	int header;
	msgpack_sbuffer out;
	char id[ID_STR_LEN + 1];
};

static int
row(void *arg, char **cells, int n, unsigned long line)
{
	struct st *s = arg;

	(void)line;
	if (!s->header) {
		s->header = 1;
		return csvmap_header(&s->map, s->type, cells, n, NULL);
	}
	msgpack_sbuffer_clear(&s->out);
	(void)csvmap_row(&s->map, cells, n, s->id, &s->out, NULL);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct st s;
	uint8_t pk[32] = {7};
	FILE *f;

	if (size < 2)
		return 0;
	memset(&s, 0, sizeof(s));
	s.type = schema_by_index(data[0] % schema_count());
	id_encode(pk, s.id);
	msgpack_sbuffer_init(&s.out);
	if ((f = fmemopen((void *)(data + 1), size - 1, "r")) != NULL) {
		(void)csv_read(f, row, &s, NULL);
		fclose(f);
	}
	msgpack_sbuffer_destroy(&s.out);
	return 0;
}
