/*
 * store.c: the LMDB environment: opening it, transactions (a top-level
 * commit syncs new record keys first and wipes erased ones after), the
 * broker key, and the helpers the other files share (store_int.h).
 *
 * Key layout decides throughput (see DESIGN.md): records are appended under
 * a global, growing seq with MDB_APPEND; the per-user stream, dedup and
 * cursor indexes hold small values.  Nothing here commits on its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "../common/fileperm.h"
#include "../common/limits.h"
#include "../common/mpk.h"
#include "../policy/key.h"
#include "store_int.h"

static const struct {
	const char *name;
	unsigned flags;
} db_defs[DB__N] = {
	[DB_META] = {"meta", 0},
	[DB_PARTIES] = {"parties", 0},
	[DB_CURVE] = {"curve", 0},
	[DB_TOKENS] = {"tokens", 0},
	[DB_GRANTS] = {"grants", 0},
	[DB_UTOKENS] = {"utokens", 0},
	[DB_RECORDS] = {"records", 0},
	[DB_URECS] = {"urecs", 0},
	[DB_DEDUP] = {"dedup", 0},
	[DB_CURSORS] = {"cursors", 0},
	[DB_USELOG] = {"uselog", 0},
	[DB_REQUESTS] = {"requests", 0},
	[DB_STATS] = {"stats", 0},
	[DB_TIMERS] = {"timers", 0},
	[DB_DELEGS] = {"delegs", 0},
	[DB_DELEGS_TO] = {"delegs_to", 0},
	[DB_CARDS] = {"cards", 0},
	[DB_OPENINGS] = {"openings", 0},
	[DB_HEADS] = {"heads", 0},
	[DB_UKEYS] = {"ukeys", 0},
	[DB_KFREE] = {"kfree", 0},
	[DB_KWIPE] = {"kwipe", 0},
	[DB_DUE] = {"due", 0},
	[DB_UNERASED] = {"unerased", 0},
	[DB_REFUSALS] = {"refusals", 0},
};

/*
 * A benchmark build (CARNET_BENCH) may commit without fsync when
 * CARNET_BENCH_NOSYNC is set, to measure what durability costs.
 */
static unsigned
bench_flags(void)
{
#ifdef CARNET_BENCH
	if (getenv("CARNET_BENCH_NOSYNC") != NULL)
		return MDB_NOSYNC;
#endif
	return 0;
}

/* dir must be a directory of ours nobody else may write (fileperm.h). */
static int
st_dir_check(const char *dir, struct cerr *err)
{
	int fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return cerr_set(err, CARNET_E_IO, "cannot open %s: %s", dir,
		    strerror(errno));
	rc = fileperm_check(fd, dir, FILEPERM_DIR, err);
	close(fd);
	return rc;
}

/*
 * LMDB's files in path, if they exist, must be plain files of ours nobody
 * else may write: checked before LMDB reads one, so a file planted there is
 * refused without being parsed.  Nobody else can replace them after the
 * check, since nobody else may write in the directories (checked first).
 * The descriptors are closed before LMDB opens the files: closing one later
 * would drop the locks LMDB takes on lock.mdb (they are the process's).
 */
static int
st_files_check(const char *path, struct cerr *err)
{
	static const char *const names[] = {"data.mdb", "lock.mdb"};
	char f[PATH_MAX + 16];
	size_t i;
	int fd, rc = 0;

	for (i = 0; rc == 0 && i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(f, sizeof(f), "%s/%s", path, names[i]);
		fd = open(f, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0 && errno == ENOENT)
			continue; /* LMDB creates it, mode 0600 */
		if (fd < 0)
			return cerr_set(err, errno == ELOOP ?
			    CARNET_E_FILE_PERMS : CARNET_E_IO,
			    "cannot open %s: %s", f, errno == ELOOP ?
			    "a link, not a file: LMDB's files must be plain "
			    "files in the store" : strerror(errno));
		rc = fileperm_check(fd, f, FILEPERM_FILE, err);
		close(fd);
	}
	return rc;
}

int
store_open(const char *dir, size_t map_bytes, struct store **out,
    struct cerr *err)
{
	char path[PATH_MAX], data[PATH_MAX + 16];
	struct store *s;
	MDB_txn *txn = NULL;
	MDB_dbi old;
	mdb_filehandle_t fd;
	int i, rc;

	if (snprintf(path, sizeof(path), "%s/store", dir) >= (int)sizeof(path))
		return cerr_set(err, CARNET_E_BAD_ARG, "path too long: %s", dir);
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return cerr_set(err, CARNET_E_IO, "cannot create %s: %s", path,
		    strerror(errno));
	if ((rc = st_dir_check(dir, err)) != 0 ||
	    (rc = st_dir_check(path, err)) != 0 ||
	    (rc = st_files_check(path, err)) != 0)
		return rc;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return cerr_set(err, CARNET_E_NOMEM, "out of memory");
	strcpy(s->path, path);
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, DB__N + 1)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, map_bytes)) != 0 ||
	    /* no readahead: the broker reads the store at random, and a
	     * fault reading read_ahead_kb around it (8 MiB on some disks)
	     * fills memory with pages no one asked for once the store is
	     * larger than the memory given to it */
	    (rc = mdb_env_open(s->env, path, MDB_NOTLS | MDB_NORDAHEAD |
	    bench_flags(), 0600)) != 0 || (rc = mdb_env_set_userctx(s->env, s)) != 0) {
		rc = st_fail(rc, err, "opening the store");
		goto fail;
	}
	/* and the data file LMDB holds open, whatever came before */
	snprintf(data, sizeof(data), "%s/data.mdb", path);
	if ((rc = mdb_env_get_fd(s->env, &fd)) != 0) {
		rc = st_fail(rc, err, "opening the store");
		goto fail;
	}
	if ((rc = fileperm_check(fd, data, FILEPERM_FILE, err)) != 0)
		goto fail;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
		rc = st_fail(rc, err, "opening the store");
		goto fail;
	}
	for (i = 0; i < DB__N; i++)
		if ((rc = mdb_dbi_open(txn, db_defs[i].name,
		    MDB_CREATE | db_defs[i].flags, &s->dbi[i])) != 0) {
			rc = st_fail(rc, err, db_defs[i].name);
			goto fail;
		}
	st_wset_index(s);
	if ((rc = st_meta_peek(s, txn, META_WITHDRAWALS, &s->withdrawals,
	    err)) != 0)
		goto fail;
	s->withdrawals--; /* the next one, 1 at first */
	/* the route index of earlier versions, written but never read */
	if (mdb_dbi_open(txn, "routes", 0, &old) == 0 &&
	    (rc = mdb_drop(txn, old, 1)) != 0) { /* wset: at open */
		rc = st_fail(rc, err, "routes");
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		rc = st_fail(rc, err, "opening the store");
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	mdb_env_close(s->env);
	free(s);
	return rc;
}

void
store_close(struct store **s)
{
	if (*s == NULL)
		return;
	mdb_env_close((*s)->env);
	reckeys_close(&(*s)->keys);
	msgpack_sbuffer_destroy(&(*s)->scratch);
	st_wset_free(*s);
	sodium_memzero((*s)->ref_key, sizeof((*s)->ref_key));
	if ((*s)->plain != NULL)
		sodium_memzero((*s)->plain, (*s)->plain_cap);
	free((*s)->plain);
	free(*s);
	*s = NULL;
}

void
store_usage(struct store *s, uint64_t *used, uint64_t *size)
{
	MDB_envinfo info;
	MDB_stat st;

	mdb_env_info(s->env, &info);
	mdb_env_stat(s->env, &st);
	*used = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
	*size = info.me_mapsize;
}

int
store_txn_begin(struct store *s, MDB_txn *parent, bool write, MDB_txn **txn,
    struct cerr *err)
{
	int rc = mdb_txn_begin(s->env, parent, write ? 0 : MDB_RDONLY, txn);

	if (rc != 0)
		return st_fail(rc, err, "starting a transaction");
	if (parent == NULL && write) {
		s->top = *txn;
		s->withdrawing = false;
	}
	if (write)
		st_wset_begin(s, *txn, parent);
	return 0;
}

/*
 * A top-level write commit makes the record keys it filled durable first
 * (the slots a commit names must hold their keys after a crash), and wipes
 * the keys of the people it erased after (see st_keys_wipe_due).  When it
 * counted a withdrawal, the count is read in it (what its nested
 * transactions kept) and known once it is committed.
 */
int
store_txn_commit(MDB_txn **txn, struct cerr *err)
{
	struct store *s = mdb_env_get_userctx(mdb_txn_env(*txn));
	bool top = s != NULL && *txn == s->top;
	struct cerr werr = {0};
	uint64_t withdrawals = 0;
	int rc;

	if (top) {
		s->top = NULL;
		if (!st_wset_ok(s)) {
			st_wset_top_end(s, false);
			store_txn_abort(txn);
			return cerr_set(err, CARNET_E_STORE, "commit: "
			    "transactions nested deeper than %d", WSET_NEST_MAX);
		}
		if ((s->keys != NULL &&
		    (rc = reckeys_sync(s->keys, err)) != 0) ||
		    (s->withdrawing && (rc = st_meta_peek(s, *txn,
		    META_WITHDRAWALS, &withdrawals, err)) != 0)) {
			st_wset_top_end(s, false);
			store_txn_abort(txn);
			return rc;
		}
	}
	if (s != NULL && !top)
		st_wset_nested_end(s, *txn, true);
	rc = mdb_txn_commit(*txn);
	*txn = NULL;
	if (top)
		st_wset_top_end(s, rc == 0);
	if (rc != 0)
		return st_fail(rc, err, "commit");
	if (top && s->withdrawing)
		s->withdrawals = withdrawals - 1;
	/* The erasure is committed whatever happens to the wipe; a wipe
	 * that fails is tried again at the next commit and at start. */
	if (top && s->wipe_due && st_keys_wipe_due(s, &werr) != 0)
		fprintf(stderr, "carnet: wiping erased record keys: %s (tried "
		    "again at the next commit)\n", cerr_msg(&werr));
	return 0;
}

uint64_t
store_withdrawals(const struct store *s)
{
	return s->withdrawals;
}

int
store_withdrawals_raise(struct store *s, uint64_t n, struct cerr *err)
{
	MDB_txn *txn;
	int rc;

	if (n <= s->withdrawals)
		return 0;
	if ((rc = store_txn_begin(s, NULL, true, &txn, err)) != 0)
		return rc;
	s->withdrawing = true;
	if ((rc = st_meta_take(s, txn, META_WITHDRAWALS, n, err)) != 0) {
		store_txn_abort(&txn);
		return rc;
	}
	return store_txn_commit(&txn, err);
}

void
store_txn_abort(MDB_txn **txn)
{
	struct store *s;

	if (*txn == NULL)
		return;
	s = mdb_env_get_userctx(mdb_txn_env(*txn));
	if (s != NULL && *txn == s->top) {
		s->top = NULL;
		st_wset_top_end(s, false);
	} else if (s != NULL)
		st_wset_nested_end(s, *txn, false);
	mdb_txn_abort(*txn);
	*txn = NULL;
}
