/*
 * refusals.c: refused attempts counted per (person, party, reason), so
 * that a party refused again and again in one period for one reason (its
 * error code) writes one entry to the person's log, not one per attempt (broker/req.c decides what a period
 * is and what is written); and the size of the databases, to see what a
 * transaction made them grow by (broker/reserve.c).
 *
 *   refusals  user(32) party(32) why(2) -> slot(8) count(8)
 *
 * slot is when the period of the last refusal written to the log for the
 * pair began (seconds); count, the refusals after it that were only
 * counted.  A row whose count is 0 carries nothing once its period is
 * over: store_refusals_prune removes those.  A row with a count stays until the pair's next refusal
 * names it in the log.
 */
#include <string.h>

#include "../common/limits.h"
#include "store_int.h"

#define REFUSAL_KEY_BYTES STORE_REFUSAL_POS_BYTES
_Static_assert(STORE_REFUSAL_POS_BYTES == 2 * ID_BYTES + 2,
    "a position in the index is one of its keys");
#define REFUSAL_VAL_BYTES 16

static void
refusal_key(uint8_t key[REFUSAL_KEY_BYTES], const uint8_t user[ID_BYTES],
    const uint8_t party[ID_BYTES], int why)
{
	uint16_t w = (uint16_t)(why < 0 ? -why : why);

	memcpy(key, user, ID_BYTES);
	memcpy(key + ID_BYTES, party, ID_BYTES);
	key[2 * ID_BYTES] = (uint8_t)(w >> 8);
	key[2 * ID_BYTES + 1] = (uint8_t)w;
}

int
store_refusal_get(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    const uint8_t party[ID_BYTES], int why, int64_t *slot, uint64_t *count,
    struct cerr *err)
{
	uint8_t key[REFUSAL_KEY_BYTES];
	MDB_val k = mval(key, sizeof(key)), v;
	int rc;

	refusal_key(key, user, party, why);
	if ((rc = mdb_get(txn, s->dbi[DB_REFUSALS], &k, &v)) != 0)
		return st_fail(rc, err, "refusals");
	if (v.mv_size != REFUSAL_VAL_BYTES)
		return st_fail(MDB_CORRUPTED, err, "refusals");
	*slot = (int64_t)be64_get(v.mv_data);
	*count = be64_get((const uint8_t *)v.mv_data + 8);
	return 0;
}

int
store_refusal_put(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    const uint8_t party[ID_BYTES], int why, int64_t slot, uint64_t count,
    struct cerr *err)
{
	uint8_t key[REFUSAL_KEY_BYTES], val[REFUSAL_VAL_BYTES];

	refusal_key(key, user, party, why);
	be64_put(val, (uint64_t)slot);
	be64_put(val + 8, count);
	return st_key_put(txn, s->dbi[DB_REFUSALS], key, sizeof(key), val,
	    sizeof(val), 0, err, "refusals");
}

int
store_refusals_prune(struct store *s, MDB_txn *txn, int64_t slot,
    uint8_t pos[STORE_REFUSAL_POS_BYTES], unsigned max, unsigned *removed,
    struct cerr *err)
{
	MDB_cursor *c;
	MDB_val k = mval(pos, STORE_REFUSAL_POS_BYTES), v;
	unsigned seen = 0;
	int rc;

	*removed = 0;
	if ((rc = mdb_cursor_open(txn, s->dbi[DB_REFUSALS], &c)) != 0)
		return st_fail(rc, err, "refusals");
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && seen++ < max) {
		if (k.mv_size == REFUSAL_KEY_BYTES &&
		    v.mv_size == REFUSAL_VAL_BYTES &&
		    (int64_t)be64_get(v.mv_data) < slot &&
		    be64_get((const uint8_t *)v.mv_data + 8) == 0) {
			if ((rc = st_mdb_cursor_del(c)) != 0)
				break;
			(*removed)++;
		}
		/* after a delete, NEXT is the row that took its place */
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (rc == 0 && k.mv_size == REFUSAL_KEY_BYTES)
		memcpy(pos, k.mv_data, REFUSAL_KEY_BYTES); /* go on from here */
	else
		memset(pos, 0, REFUSAL_KEY_BYTES); /* the end: start again */
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return st_fail(rc, err, "refusals");
	return 0;
}

void
store_size(struct store *s, MDB_txn *txn, struct store_size *sz)
{
	MDB_stat st;
	int i;

	MDB_envinfo info;

	memset(sz, 0, sizeof(*sz));
	mdb_env_info(s->env, &info);
	sz->map_bytes = info.me_mapsize;
	/* LMDB's own two first (its free-page list, the names), then ours */
	for (i = -2; i < DB__N; i++)
		if (mdb_stat(txn, i < 0 ? (MDB_dbi)(i + 2) : s->dbi[i],
		    &st) == 0) {
			sz->pages += st.ms_branch_pages + st.ms_leaf_pages +
			    st.ms_overflow_pages;
			if (i >= 0)
				sz->entries += st.ms_entries;
			sz->page_bytes = st.ms_psize;
		}
}
