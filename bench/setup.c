/*
 * setup.c: a carnet deployment for one benchmark run: a fresh data
 * directory, holders, apps and people registered, every person granting
 * every app (claims, every field but the provider: minimisation is on),
 * then carnetd restarted with the switches the run measures.
 *
 * The grants and any pre-filled records are made with fsync off (setup is
 * not measured); the measured broker runs on the same store afterwards.
 */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "../client/client.h"
#include "../common/mpk.h"
#include "../policy/token.h"
#include "../store/store.h"
#include "setup.h"

static void
die(const char *what, const struct cerr *err)
{
	fprintf(stderr, "bench: %s: %s\n", what, err ? cerr_msg(err) : "");
	exit(1);
}

static void
party_fill(struct party *p, const uint8_t id[ID_BYTES], enum party_role role,
    const char *name)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->id, id, ID_BYTES);
	p->role = role;
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (role == ROLE_HOLDER) {
		p->types[0] = schema_by_name("claim", 5);
		p->ntypes = 1;
	}
	if (role == ROLE_APP) {
		strcpy(p->purposes[0], "budget");
		p->npurposes = 1;
		strcpy(p->owner, "Bench SAS");
		strcpy(p->business_model, "none: a benchmark");
	}
}

static void
write_users(const char *path, const struct keypair *u, unsigned n)
{
	FILE *f = fopen(path, "wb");
	unsigned i;

	for (i = 0; f != NULL && i < n; i++)
		fwrite(u[i].pk, 1, ID_BYTES, f);
	if (f == NULL || fclose(f) != 0)
		die(path, NULL);
}

static void
register_parties(struct deploy *d)
{
	struct store *s;
	struct cerr err = {0};
	MDB_txn *txn;
	struct party p;
	char name[64], path[600];
	unsigned i;

	if (store_open(d->dir, (size_t)d->map_mib << 20, &s, &err) != 0 ||
	    store_txn_begin(s, NULL, true, &txn, &err) != 0)
		die("store", &err);
	for (i = 0; i < d->nholders; i++) {
		snprintf(name, sizeof(name), "holder%u", i);
		party_fill(&p, d->holders[i].pk, ROLE_HOLDER, name);
		snprintf(path, sizeof(path), "%s/%s.key", d->dir, name);
		if (store_party_add(s, txn, &p, &err) != 0 ||
		    key_write(path, &d->holders[i], &err) != 0)
			die(name, &err);
	}
	for (i = 0; i < d->napps + d->nother_apps; i++) {
		snprintf(name, sizeof(name), "app%u", i);
		party_fill(&p, d->apps[i].pk, ROLE_APP, name);
		snprintf(path, sizeof(path), "%s/%s.key", d->dir, name);
		if (store_party_add(s, txn, &p, &err) != 0 ||
		    key_write(path, &d->apps[i], &err) != 0)
			die(name, &err);
	}
	for (i = 0; i < d->nusers + d->nbystanders; i++) {
		snprintf(name, sizeof(name), "user%u", i);
		party_fill(&p, d->users[i].pk, ROLE_USER, name);
		if (store_party_add(s, txn, &p, &err) != 0)
			die(name, &err);
	}
	if (store_txn_commit(&txn, &err) != 0)
		die("store commit", &err);
	store_close(&s);
	snprintf(path, sizeof(path), "%s/users.bin", d->dir);
	write_users(path, d->users, d->nusers);
	snprintf(path, sizeof(path), "%s/bystanders.bin", d->dir);
	write_users(path, d->users + d->nusers, d->nbystanders);
}

#define ENV_MAX 8
#define WRAP_MAX 16

/*
 * CARNET_BENCH_BROKER_WRAP: words to run the broker under, e.g.
 * "valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p" for the
 * instruction counts of bench/PROFILE.md.  Returns how many it put in w.
 */
static int
broker_wrap(char *buf, size_t len, const char *w[WRAP_MAX])
{
	const char *env = getenv("CARNET_BENCH_BROKER_WRAP");
	char *save = NULL, *word;
	int n = 0;

	if (env == NULL)
		return 0;
	snprintf(buf, len, "%s", env);
	for (word = strtok_r(buf, " ", &save); word != NULL && n < WRAP_MAX;
	    word = strtok_r(NULL, " ", &save))
		w[n++] = word;
	return n;
}

void
deploy_start_broker(struct deploy *d, const char *const *env)
{
	char log[600], pub[600], line[128], map[32], turns[640], wbuf[1024];
	const char *envt[ENV_MAX + 2], *argv[WRAP_MAX + 8];
	int tries, n = 0, nwrap = broker_wrap(wbuf, sizeof(wbuf), argv);

	/* the given switches, and where the broker writes its turn times */
	while (env != NULL && env[n] != NULL && n < ENV_MAX) {
		envt[n] = env[n];
		n++;
	}
	snprintf(turns, sizeof(turns), "CARNET_BENCH_TURNS=%s/turns.txt",
	    d->dir);
	envt[n++] = turns;
	envt[n] = NULL;
	env = envt;
	snprintf(log, sizeof(log), "%s/carnetd.log", d->dir);
	snprintf(pub, sizeof(pub), "%s/broker.pub", d->dir);
	snprintf(map, sizeof(map), "%u", d->map_mib);
	for (tries = 0; tries < 20; tries++) {
		const char *args[] = {d->carnetd, "--data", d->dir, "--listen",
		    d->endpoint, "--map-size", map, NULL};
		/* a broker under valgrind takes seconds to start */
		struct timespec pause = {nwrap > 0 ? 5 : 0,
			nwrap > 0 ? 0 : 300 * 1000000};
		FILE *f;
		size_t i;

		if (d->endpoint[0] == '\0' || tries > 0)
			snprintf(d->endpoint, sizeof(d->endpoint),
			    "tcp://127.0.0.1:%u", 20000 +
			    randombytes_uniform(30000));
		for (i = 0; i < sizeof(args) / sizeof(args[0]); i++)
			argv[nwrap + (int)i] = args[i];
		d->broker = spawn_prog(argv, env, log);
		if (d->memcg != NULL && memcg_add(d->memcg, d->broker) != 0)
			fprintf(stderr, "bench: could not put the broker in "
			    "%s\n", d->memcg->path);
		nanosleep(&pause, NULL);
		if (waitpid(d->broker, NULL, WNOHANG) == d->broker)
			continue; /* the port was taken */
		if ((f = fopen(pub, "r")) == NULL)
			continue;
		if (fgets(line, sizeof(line), f) == NULL)
			line[0] = '\0';
		fclose(f);
		line[strcspn(line, "\n")] = '\0';
		snprintf(d->broker_id, sizeof(d->broker_id), "%s", line);
		return;
	}
	die("carnetd did not start; see its log", NULL);
}

void
deploy_stop_broker(struct deploy *d)
{
	stop_prog(d->broker);
	d->broker = 0;
}

void
deploy_stop_turns(struct deploy *d, struct turn_stats *ts)
{
	char path[600];
	unsigned long long t = 0, w = 0, c = 0, m = 0, st = 0, se = 0;
	FILE *f;

	deploy_stop_broker(d);
	memset(ts, 0, sizeof(*ts));
	snprintf(path, sizeof(path), "%s/turns.txt", d->dir);
	if ((f = fopen(path, "r")) == NULL)
		return;
	if (fscanf(f, "turns=%llu work_us=%llu commit_us=%llu "
	    "max_commit_us=%llu stored=%llu sent=%llu", &t, &w, &c, &m, &st,
	    &se) == 6) {
		ts->turns = (double)t;
		ts->work_us = (double)w;
		ts->commit_us = (double)c;
		ts->max_commit_us = (double)m;
		ts->stored = (double)st;
		ts->sent = (double)se;
	}
	fclose(f);
	remove(path);
}

struct client *
deploy_connect(struct deploy *d, const struct keypair *kp)
{
	uint8_t bid[ID_BYTES];
	struct client *c = NULL;
	struct cerr err = {0};

	if (id_decode(d->broker_id, bid) != 0 ||
	    client_new(d->endpoint, bid, kp, &c, &err) != 0 ||
	    client_wait_ready(c, 10000, &err) != 0)
		die("connecting to carnetd", &err);
	client_set_timeout(c, 30000);
	return c;
}

/* A token from user to app for claims, every field but the provider. */
static void
claim_token(struct token *t, const uint8_t user[ID_BYTES],
    const uint8_t app[ID_BYTES])
{
	const struct schema *claim = schema_by_name("claim", 5);
	int provider = schema_field(claim, "provider", 8);

	memset(t, 0, sizeof(*t));
	token_new_id(t);
	memcpy(t->user, user, ID_BYTES);
	memcpy(t->app, app, ID_BYTES);
	t->any_holder = true;
	t->ntypes = 1;
	t->types[0].type = claim;
	/* and the holder's ref: the bench's apps read its send time there
	 * (bench/carnet.c ref_stamp) */
	t->types[0].fields = (((UINT64_C(1) << claim->nfields) - 1) &
	    ~(UINT64_C(1) << provider)) | FIELD_REF;
	t->types[0].fields_listed = true;
	strcpy(t->purpose, "budget");
	t->issued = t->not_before = (int64_t)time(NULL) - 5;
}

static void
grant(struct client *c, const struct keypair *user, const struct keypair *app,
    uint8_t id_out[TOKID_BYTES])
{
	struct token t;
	struct cerr err = {0};
	msgpack_packer *pk;
	msgpack_unpacked reply;
	uint8_t *blob;
	size_t len;

	claim_token(&t, user->pk, app->pk);
	if (token_sign(&t, user->sk, &blob, &len, &err) != 0)
		die("signing a token", &err);
	pk = client_begin(c, 1);
	mpk_pack_cstr(pk, "token");
	mpk_pack_binn(pk, blob, len);
	free(blob);
	if (client_call(c, "GRANT", &reply, &err) != 0)
		die("GRANT", &err);
	msgpack_unpacked_destroy(&reply);
	memcpy(id_out, t.id, TOKID_BYTES);
}

int
deploy_revoke(struct client *c, const struct keypair *user,
    const uint8_t tok[TOKID_BYTES], int64_t *took_ns)
{
	struct revocation rv = {0};
	struct cerr err = {0};
	msgpack_packer *pk;
	msgpack_unpacked reply;
	uint8_t *blob;
	size_t len;
	int64_t t0;
	int rc;

	memcpy(rv.token, tok, TOKID_BYTES);
	memcpy(rv.user, user->pk, ID_BYTES);
	rv.time = (int64_t)time(NULL);
	if (revocation_sign(&rv, user->sk, &blob, &len, &err) != 0)
		die("signing a revocation", &err);
	t0 = mono_ns();
	pk = client_begin(c, 1);
	mpk_pack_cstr(pk, "revocation");
	mpk_pack_binn(pk, blob, len);
	free(blob);
	rc = client_call(c, "REVOKE", &reply, &err);
	*took_ns = mono_ns() - t0;
	if (rc != 0) {
		fprintf(stderr, "bench: REVOKE: %s\n", cerr_msg(&err));
		return rc;
	}
	msgpack_unpacked_destroy(&reply);
	return 0;
}

int
deploy_new(struct deploy *d)
{
	static const char *nosync[] = {"CARNET_BENCH_NOSYNC=1", NULL};
	char tmpl[] = "/tmp/carnet-bench-XXXXXX";
	unsigned i, a, total = d->nusers + d->nbystanders;

	if (mkdtemp(tmpl) == NULL)
		die("mkdtemp", NULL);
	snprintf(d->dir, sizeof(d->dir), "%s", tmpl);
	d->endpoint[0] = '\0';
	if (d->map_mib == 0)
		d->map_mib = 4096;
	d->holders = calloc(d->nholders, sizeof(*d->holders));
	d->apps = calloc(d->napps + d->nother_apps, sizeof(*d->apps));
	d->users = calloc(total, sizeof(*d->users));
	d->tokens = calloc((size_t)d->nusers * d->napps, TOKID_BYTES);
	if (!d->holders || !d->apps || !d->users || !d->tokens)
		die("out of memory", NULL);
	for (i = 0; i < d->nholders; i++)
		if (key_generate(&d->holders[i]) != 0)
			die("keygen", NULL);
	for (i = 0; i < d->napps + d->nother_apps; i++)
		if (key_generate(&d->apps[i]) != 0)
			die("keygen", NULL);
	for (i = 0; i < total; i++)
		if (key_generate(&d->users[i]) != 0)
			die("keygen", NULL);
	register_parties(d);
	/* grants, with fsync off: not part of any figure */
	deploy_start_broker(d, nosync);
	for (i = 0; i < d->nusers; i++) {
		struct client *c = deploy_connect(d, &d->users[i]);

		for (a = 0; a < d->napps; a++)
			grant(c, &d->users[i], &d->apps[a],
			    d->tokens + ((size_t)i * d->napps + a) * TOKID_BYTES);
		client_destroy(&c);
	}
	return 0;
}

void
deploy_free(struct deploy *d)
{
	char cmd[1100];

	if (d->broker > 0)
		deploy_stop_broker(d);
	if (getenv("CARNET_BENCH_KEEP") == NULL && d->dir[0] != '\0' &&
	    strncmp(d->dir, "/tmp/carnet-bench-", 18) == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s.witness'", d->dir,
		    d->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "bench: could not remove %s\n", d->dir);
	}
	free(d->holders);
	free(d->apps);
	free(d->users);
	free(d->tokens);
	d->holders = d->apps = d->users = NULL;
	d->tokens = NULL;
	d->dir[0] = '\0';
}

long long
deploy_store_kib(const struct deploy *d)
{
	char path[600];
	struct stat st;

	snprintf(path, sizeof(path), "%s/store/data.mdb", d->dir);
	if (stat(path, &st) != 0) {
		snprintf(path, sizeof(path), "%s/data.mdb", d->dir);
		if (stat(path, &st) != 0)
			return -1;
	}
	return (long long)st.st_blocks / 2; /* 512-byte blocks */
}

int
deploy_compact(struct deploy *d, double *before_mib, double *after_mib)
{
	char dir[600], copy[620], cfile[640], file[620];
	MDB_env *env;
	struct stat st;
	int rc;

	snprintf(dir, sizeof(dir), "%s/store", d->dir);
	snprintf(copy, sizeof(copy), "%s/compact", dir);
	snprintf(cfile, sizeof(cfile), "%s/data.mdb", copy);
	snprintf(file, sizeof(file), "%s/data.mdb", dir);
	if (stat(file, &st) != 0)
		return -1;
	*before_mib = (double)st.st_size / (1 << 20);
	if ((rc = mdb_env_create(&env)) != 0)
		return -1;
	rc = mdb_env_set_maxdbs(env, 64);
	if (rc == 0)
		rc = mdb_env_set_mapsize(env, (size_t)d->map_mib << 20);
	if (rc == 0)
		rc = mdb_env_open(env, dir, MDB_RDONLY, 0600);
	if (rc == 0 && mkdir(copy, 0700) != 0)
		rc = errno;
	if (rc == 0)
		rc = mdb_env_copy2(env, copy, MDB_CP_COMPACT);
	mdb_env_close(env);
	if (rc != 0 || rename(cfile, file) != 0 || stat(file, &st) != 0) {
		fprintf(stderr, "bench: compacting %s: %s\n", dir,
		    rc ? mdb_strerror(rc) : strerror(errno));
		remove(cfile);
		rmdir(copy);
		return -1;
	}
	rmdir(copy);
	*after_mib = (double)st.st_size / (1 << 20);
	return 0;
}

#define IDLE_TXN 20000 /* people per transaction */

int
deploy_idle_consents(struct deploy *d, unsigned n, double *import_per_s)
{
	char csv[600], carnet[600], self[600], log[600];
	struct store *s;
	struct cerr err = {0};
	struct keypair kp;
	struct token t;
	MDB_txn *txn = NULL;
	char id[ID_STR_LEN + 1];
	int64_t now = (int64_t)time(NULL), t0;
	uint8_t *blob;
	size_t len;
	unsigned i, a;
	pid_t pid;
	int status;
	FILE *f;

	*import_per_s = 0;
	snprintf(self, sizeof(self), "%s", d->carnetd);
	snprintf(carnet, sizeof(carnet), "%s/carnet", dirname(self));
	snprintf(csv, sizeof(csv), "%s/idle.csv", d->dir);
	snprintf(log, sizeof(log), "%s/import.log", d->dir);
	if ((f = fopen(csv, "w")) == NULL)
		die(csv, NULL);
	fputs("role,name,id,types,purposes,owner,business_model\n", f);
	if (store_open(d->dir, (size_t)d->map_mib << 20, &s, &err) != 0)
		die("store", &err);
	for (i = 0; i < n; i++) {
		if (i % IDLE_TXN == 0) {
			if (txn != NULL && store_txn_commit(&txn, &err) != 0)
				die("store commit", &err);
			if (store_txn_begin(s, NULL, true, &txn, &err) != 0)
				die("store", &err);
			if (i > 0 && i % 200000 == 0) {
				printf("  (%u of %u consenting people made)\n",
				    i, n);
				fflush(stdout);
			}
		}
		if (key_generate(&kp) != 0)
			die("keygen", NULL);
		id_encode(kp.pk, id);
		fprintf(f, "user,idle%u,%s,,,,\n", i, id);
		for (a = 0; a < d->napps + (d->nother_apps > 0); a++) {
			const struct keypair *app = a < d->napps ?
			    &d->apps[a] :
			    &d->apps[d->napps + i % d->nother_apps];

			claim_token(&t, kp.pk, app->pk);
			if (token_sign(&t, kp.sk, &blob, &len, &err) != 0)
				die("signing a token", &err);
			if (store_token_put(s, txn, &t, blob, len, now,
			    &err) != 0 ||
			    store_timer_put(s, txn, now + 365 * 86400,
			    TIMER_REVIEW, t.id, &err) != 0)
				die("storing a token", &err);
			free(blob);
		}
	}
	if (txn != NULL && store_txn_commit(&txn, &err) != 0)
		die("store commit", &err);
	store_close(&s);
	if (fclose(f) != 0)
		die(csv, NULL);
	/* the people themselves: registered in bulk, as an operator would */
	{
		const char *argv[] = {carnet, "party", "import", "--data", d->dir,
		    csv, NULL};

		t0 = mono_ns();
		pid = spawn_prog(argv, NULL, log);
		if (pid <= 0 || waitpid(pid, &status, 0) != pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			die("carnet party import failed; see import.log", NULL);
		*import_per_s = n / ((double)(mono_ns() - t0) / 1e9);
	}
	remove(csv);
	return 0;
}
