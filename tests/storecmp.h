/*
 * storecmp.h: whether two LMDB stores hold the same keys and values in
 * every database (tests only; header-only, after testutil.h and lmdb.h).
 */
#ifndef CARNET_STORECMP_H
#define CARNET_STORECMP_H

/* The named databases of the LMDB store in dir/store, opened read-only. */
static inline MDB_env *
raw_open(const char *dir, MDB_txn **txn)
{
	char path[1024];
	MDB_env *env;

	snprintf(path, sizeof(path), "%s/store", dir);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	assert_int_equal(mdb_env_open(env, path, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, txn), 0);
	return env;
}

/* Every database of a's store holds what b's holds, key for key, but the
 * key skip (NULL: none) of meta. */
static inline void
stores_equal_but(const char *a, const char *b, const char *skip)
{
	MDB_txn *ta, *tb;
	MDB_env *ea = raw_open(a, &ta), *eb = raw_open(b, &tb);
	MDB_cursor *names, *ca, *cb;
	MDB_dbi main_a, main_b, da, db;
	MDB_val nk, nv, ka, va, kb, vb;
	char name[128];
	int ra, rb, dbs = 0;

	assert_int_equal(mdb_dbi_open(ta, NULL, 0, &main_a), 0);
	assert_int_equal(mdb_dbi_open(tb, NULL, 0, &main_b), 0);
	assert_int_equal(mdb_cursor_open(ta, main_a, &names), 0);
	while (mdb_cursor_get(names, &nk, &nv, MDB_NEXT) == 0) {
		assert_true(nk.mv_size < sizeof(name));
		memcpy(name, nk.mv_data, nk.mv_size);
		name[nk.mv_size] = '\0';
		assert_int_equal(mdb_dbi_open(ta, name, 0, &da), 0);
		if (mdb_dbi_open(tb, name, 0, &db) != 0)
			fail_msg("database %s is not in the replica", name);
		assert_int_equal(mdb_cursor_open(ta, da, &ca), 0);
		assert_int_equal(mdb_cursor_open(tb, db, &cb), 0);
		do {
			ra = mdb_cursor_get(ca, &ka, &va, MDB_NEXT);
			rb = mdb_cursor_get(cb, &kb, &vb, MDB_NEXT);
			while (skip != NULL && strcmp(name, "meta") == 0 &&
			    ra == 0 && ka.mv_size == strlen(skip) &&
			    memcmp(ka.mv_data, skip, ka.mv_size) == 0)
				ra = mdb_cursor_get(ca, &ka, &va, MDB_NEXT);
			while (skip != NULL && strcmp(name, "meta") == 0 &&
			    rb == 0 && kb.mv_size == strlen(skip) &&
			    memcmp(kb.mv_data, skip, kb.mv_size) == 0)
				rb = mdb_cursor_get(cb, &kb, &vb, MDB_NEXT);
			if (ra != rb || (ra == 0 && (ka.mv_size != kb.mv_size ||
			    va.mv_size != vb.mv_size ||
			    memcmp(ka.mv_data, kb.mv_data, ka.mv_size) != 0 ||
			    memcmp(va.mv_data, vb.mv_data, va.mv_size) != 0)))
				fail_msg("database %s differs in the replica",
				    name);
		} while (ra == 0);
		mdb_cursor_close(ca);
		mdb_cursor_close(cb);
		dbs++;
	}
	mdb_cursor_close(names);
	assert_true(dbs > 20);
	mdb_txn_abort(ta);
	mdb_txn_abort(tb);
	mdb_env_close(ea);
	mdb_env_close(eb);
}

static inline void
stores_equal(const char *a, const char *b)
{
	stores_equal_but(a, b, NULL);
}

#endif
