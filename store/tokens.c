/*
 * tokens.c: the state of consents: tokens and their grants per app and
 * per person, their timers (ends, notices, reviews) and the apps' cursors.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../common/limits.h"
#include "../common/mpk.h"
#include "../policy/key.h"
#include "store_int.h"

/* t in the due index if its person has records past its cursor. */
static int
due_if_behind(struct store *s, MDB_txn *txn, const struct token *t,
    struct cerr *err)
{
	uint64_t cursor, last;
	int rc;

	if ((rc = store_cursor_get(s, txn, t->id, &cursor)) != 0 ||
	    (rc = store_user_last(s, txn, t->user, &last)) != 0)
		return cerr_set(err, rc, "due index: %s", carnet_strerror(rc));
	if (last <= cursor)
		return 0;
	return store_due_put(s, txn, t->app, t->id, t->user, err);
}

/* Token value: state(1) ended_at(8) erased_at(8) granted_at(8) blob. */
int
store_token_put(struct store *s, MDB_txn *txn, const struct token *t,
    const uint8_t *blob, size_t len, int64_t now, struct cerr *err)
{
	uint8_t gkey[ID_BYTES * 2 + TOKID_BYTES], ukey[ID_BYTES + TOKID_BYTES];
	uint8_t *val;
	int rc;

	if ((val = malloc(TOKSTATE_HDR_BYTES + len)) == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	val[0] = TOKEN_ACTIVE;
	be64_put(val + 1, 0);
	be64_put(val + 9, 0);
	be64_put(val + 17, (uint64_t)now);
	memcpy(val + TOKSTATE_HDR_BYTES, blob, len);
	rc = st_key_put(txn, s->dbi[DB_TOKENS], t->id, TOKID_BYTES, val,
	    TOKSTATE_HDR_BYTES + len, MDB_NOOVERWRITE, err, "token");
	free(val);
	if (rc != 0)
		return rc;
	memcpy(gkey, t->app, ID_BYTES);
	memcpy(gkey + ID_BYTES, t->user, ID_BYTES);
	memcpy(gkey + 2 * ID_BYTES, t->id, TOKID_BYTES);
	memcpy(ukey, t->user, ID_BYTES);
	memcpy(ukey + ID_BYTES, t->id, TOKID_BYTES);
	if ((rc = st_key_put(txn, s->dbi[DB_GRANTS], gkey, sizeof(gkey),
	    "", 0, 0, err, "grants")) != 0 ||
	    (rc = st_key_put(txn, s->dbi[DB_UTOKENS], ukey, sizeof(ukey),
	    t->app, ID_BYTES, 0, err, "user tokens")) != 0)
		return rc;
	return due_if_behind(s, txn, t, err);
}

int
store_token_get(struct store *s, MDB_txn *txn, const uint8_t id[TOKID_BYTES],
    struct token_state *st)
{
	MDB_val k = mval(id, TOKID_BYTES), v;
	const uint8_t *p;
	int rc;

	if ((rc = mdb_get(txn, s->dbi[DB_TOKENS], &k, &v)) != 0)
		return st_fail(rc, NULL, "token");
	if (v.mv_size <= TOKSTATE_HDR_BYTES)
		return CARNET_E_STORE;
	p = v.mv_data;
	switch (p[0]) {
	case TOKEN_ACTIVE:
	case TOKEN_REVOKED:
	case TOKEN_PAUSED:
	case TOKEN_EXPIRED:
		st->state = (enum token_state_kind)p[0];
		break;
	default:
		return CARNET_E_STORE;
	}
	st->ended_at = (int64_t)be64_get(p + 1);
	st->erased_at = (int64_t)be64_get(p + 9);
	st->granted_at = (int64_t)be64_get(p + 17);
	st->blob = p + TOKSTATE_HDR_BYTES;
	st->blob_len = v.mv_size - TOKSTATE_HDR_BYTES;
	return 0;
}

/* Rewrite a token's header as *st says, with a new blob if blob != NULL. */
static int
token_rewrite(struct store *s, MDB_txn *txn, const uint8_t id[TOKID_BYTES],
    const struct token_state *st, const uint8_t *blob, size_t len,
    struct cerr *err)
{
	uint8_t *val;
	int rc;

	if (blob == NULL) {
		blob = st->blob;
		len = st->blob_len;
	}
	if ((val = malloc(TOKSTATE_HDR_BYTES + len)) == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	val[0] = (uint8_t)st->state;
	be64_put(val + 1, (uint64_t)st->ended_at);
	be64_put(val + 9, (uint64_t)st->erased_at);
	be64_put(val + 17, (uint64_t)st->granted_at);
	memcpy(val + TOKSTATE_HDR_BYTES, blob, len);
	rc = st_key_put(txn, s->dbi[DB_TOKENS], id, TOKID_BYTES, val,
	    TOKSTATE_HDR_BYTES + len, 0, err, "token");
	free(val);
	return rc;
}

static int
token_state_for(struct store *s, MDB_txn *txn, const uint8_t id[TOKID_BYTES],
    struct token_state *st, struct cerr *err)
{
	int rc = store_token_get(s, txn, id, st);

	return rc == 0 ? 0 : cerr_set(err, rc, "token: %s",
	    carnet_strerror(rc));
}

int
store_token_end(struct store *s, MDB_txn *txn, const struct token *t,
    enum token_state_kind how, int64_t at, struct cerr *err)
{
	struct token_state st;
	int rc;

	if ((rc = token_state_for(s, txn, t->id, &st, err)) != 0)
		return rc;
	st.state = how;
	st.ended_at = at;
	if ((rc = token_rewrite(s, txn, t->id, &st, NULL, 0, err)) != 0 ||
	    (rc = st_withdrawn(s, txn, err)) != 0 ||
	    (rc = store_due_del(s, txn, t->app, t->id, err)) != 0)
		return rc;
	return st.erased_at != 0 ? 0 :
	    st_unerased_put(s, txn, t->app, t->id, t->user, err);
}

int
store_token_set_paused(struct store *s, MDB_txn *txn, const struct token *t,
    bool paused, struct cerr *err)
{
	struct token_state st;
	int rc;

	if ((rc = token_state_for(s, txn, t->id, &st, err)) != 0)
		return rc;
	if (st.state == TOKEN_REVOKED || st.state == TOKEN_EXPIRED)
		return cerr_set(err, st.state == TOKEN_REVOKED ?
		    CARNET_E_REVOKED : CARNET_E_EXPIRED,
		    "this consent has ended: grant a new one");
	st.state = paused ? TOKEN_PAUSED : TOKEN_ACTIVE;
	if ((rc = token_rewrite(s, txn, t->id, &st, NULL, 0, err)) != 0 ||
	    (paused && (rc = st_withdrawn(s, txn, err)) != 0))
		return rc;
	return paused ? store_due_del(s, txn, t->app, t->id, err) :
	    due_if_behind(s, txn, t, err);
}

int
store_token_erased(struct store *s, MDB_txn *txn, const struct token *t,
    int64_t at, struct cerr *err)
{
	struct token_state st;
	int rc;

	if ((rc = token_state_for(s, txn, t->id, &st, err)) != 0)
		return rc;
	if (st.state != TOKEN_REVOKED && st.state != TOKEN_EXPIRED)
		return cerr_set(err, CARNET_E_BAD_ARG,
		    "this consent has not ended: nothing to erase yet");
	if (st.erased_at != 0)
		return 0;
	st.erased_at = at;
	if ((rc = token_rewrite(s, txn, t->id, &st, NULL, 0, err)) != 0)
		return rc;
	return st_unerased_del(s, txn, t->app, t->id, err);
}

int
store_token_replace(struct store *s, MDB_txn *txn, const struct token *t,
    const uint8_t *blob, size_t len, struct cerr *err)
{
	struct token_state st;
	int rc;

	if ((rc = token_state_for(s, txn, t->id, &st, err)) != 0)
		return rc;
	return token_rewrite(s, txn, t->id, &st, blob, len, err);
}

/* Timers: time(8) kind(1) token(16) -> "". */
static void
timer_key(uint8_t key[TIMER_KEY_BYTES], int64_t at, enum timer_kind kind,
    const uint8_t tok[TOKID_BYTES])
{
	be64_put(key, (uint64_t)(at < 0 ? 0 : at));
	key[8] = (uint8_t)kind;
	memcpy(key + 9, tok, TOKID_BYTES);
}

int
store_timer_put(struct store *s, MDB_txn *txn, int64_t at,
    enum timer_kind kind, const uint8_t tok[TOKID_BYTES], struct cerr *err)
{
	uint8_t key[TIMER_KEY_BYTES];

	timer_key(key, at, kind, tok);
	return st_key_put(txn, s->dbi[DB_TIMERS], key, sizeof(key), "", 0, 0,
	    err, "timers");
}

int
store_timer_del(struct store *s, MDB_txn *txn, int64_t at,
    enum timer_kind kind, const uint8_t tok[TOKID_BYTES], struct cerr *err)
{
	uint8_t key[TIMER_KEY_BYTES];
	MDB_val k;
	int rc;

	timer_key(key, at, kind, tok);
	k = mval(key, sizeof(key));
	rc = st_mdb_del(txn, s->dbi[DB_TIMERS], &k);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : st_fail(rc, err, "timers");
}

int
store_timer_first(struct store *s, MDB_txn *txn, int64_t *at,
    enum timer_kind *kind, uint8_t tok[TOKID_BYTES])
{
	MDB_cursor *c;
	MDB_val k, v;
	const uint8_t *p;
	int rc;

	if ((rc = mdb_cursor_open(txn, s->dbi[DB_TIMERS], &c)) != 0)
		return st_fail(rc, NULL, "timers");
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	mdb_cursor_close(c);
	if (rc != 0)
		return st_fail(rc, NULL, "timers");
	if (k.mv_size != TIMER_KEY_BYTES)
		return CARNET_E_STORE;
	p = k.mv_data;
	*at = (int64_t)be64_get(p);
	*kind = (enum timer_kind)p[8];
	memcpy(tok, p + 9, TOKID_BYTES);
	return 0;
}

struct tok_scan {
	int (*app_fn)(void *, const uint8_t *, const uint8_t *);
	int (*user_fn)(void *, const uint8_t *);
	void *arg;
};

static int
app_tok_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct tok_scan *ts = arg;
	const uint8_t *p = k->mv_data;

	(void)v;
	if (k->mv_size != 2 * ID_BYTES + TOKID_BYTES)
		return CARNET_E_STORE;
	return ts->app_fn(ts->arg, p + ID_BYTES, p + 2 * ID_BYTES);
}

int
store_tokens_of_app(struct store *s, MDB_txn *txn, const uint8_t app[ID_BYTES],
    int (*fn)(void *arg, const uint8_t user[ID_BYTES],
    const uint8_t tok[TOKID_BYTES]), void *arg)
{
	struct tok_scan ts = {fn, NULL, arg};

	return st_scan_prefix(txn, s->dbi[DB_GRANTS], app, ID_BYTES, ID_BYTES,
	    app_tok_one, &ts);
}

static int
user_tok_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct tok_scan *ts = arg;

	(void)v;
	if (k->mv_size != ID_BYTES + TOKID_BYTES)
		return CARNET_E_STORE;
	return ts->user_fn(ts->arg, (const uint8_t *)k->mv_data + ID_BYTES);
}

int
store_tokens_of_user(struct store *s, MDB_txn *txn,
    const uint8_t user[ID_BYTES],
    int (*fn)(void *arg, const uint8_t tok[TOKID_BYTES]), void *arg)
{
	struct tok_scan ts = {NULL, fn, arg};

	return st_scan_prefix(txn, s->dbi[DB_UTOKENS], user, ID_BYTES, ID_BYTES,
	    user_tok_one, &ts);
}

int
store_cursor_get(struct store *s, MDB_txn *txn, const uint8_t tok[TOKID_BYTES],
    uint64_t *seq)
{
	MDB_val k = mval(tok, TOKID_BYTES), v;
	int rc = mdb_get(txn, s->dbi[DB_CURSORS], &k, &v);

	*seq = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || v.mv_size != 8)
		return st_fail(rc ? rc : MDB_CORRUPTED, NULL, "cursor");
	*seq = be64_get(v.mv_data);
	return 0;
}

int
store_cursor_advance(struct store *s, MDB_txn *txn,
    const uint8_t tok[TOKID_BYTES], uint64_t seq, uint64_t *at,
    struct cerr *err)
{
	uint8_t buf[8];
	uint64_t cur;
	int rc;

	if ((rc = store_cursor_get(s, txn, tok, &cur)) != 0)
		return cerr_set(err, rc, "cursor: %s", carnet_strerror(rc));
	if (at != NULL)
		*at = seq > cur ? seq : cur;
	if (seq <= cur)
		return 0;
	be64_put(buf, seq);
	return st_key_put(txn, s->dbi[DB_CURSORS], tok, TOKID_BYTES, buf, 8,
	    0, err, "cursor");
}

struct due_user {
	struct store *s;
	MDB_txn *txn;
	const uint8_t *user;
	int (*fn)(void *, const uint8_t *);
	void *arg;
	struct cerr *err;
};

static int
due_user_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct due_user *du = arg;
	const uint8_t *tok = (const uint8_t *)k->mv_data + ID_BYTES;
	struct token_state st;
	bool due;
	int rc;

	if (k->mv_size != ID_BYTES + TOKID_BYTES || v->mv_size != ID_BYTES)
		return CARNET_E_STORE;
	/*
	 * Already due (the common case while records flow): it was active
	 * when it went in, and pausing or ending takes it out; the small due
	 * index spares a read of the consents' table, deep at millions.
	 */
	if ((rc = st_due_has(du->s, du->txn, v->mv_data, tok, &due,
	    du->err)) != 0)
		return rc;
	if (due)
		return du->fn != NULL ? du->fn(du->arg, v->mv_data) : 0;
	if ((rc = store_token_get(du->s, du->txn, tok, &st)) != 0)
		return cerr_set(du->err, rc, "token: %s", carnet_strerror(rc));
	if (st.state != TOKEN_ACTIVE)
		return 0;
	if ((rc = store_due_put(du->s, du->txn, v->mv_data, tok, du->user,
	    du->err)) != 0)
		return rc;
	return du->fn != NULL ? du->fn(du->arg, v->mv_data) : 0;
}

int
store_due_user(struct store *s, MDB_txn *txn, const uint8_t user[ID_BYTES],
    int (*fn)(void *arg, const uint8_t app[ID_BYTES]), void *arg,
    struct cerr *err)
{
	struct due_user du = {s, txn, user, fn, arg, err};

	return st_scan_prefix(txn, s->dbi[DB_UTOKENS], user, ID_BYTES, ID_BYTES,
	    due_user_one, &du);
}
