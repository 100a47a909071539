/*
 * brokerfx.h: tests that run the real carnetd as a process (header-only,
 * tests only): start it on a random loopback port with a data directory,
 * restart it on the same endpoint, stop it checking it exits cleanly, and
 * register parties in its store.
 */
#ifndef CARNET_BROKERFX_H
#define CARNET_BROKERFX_H

#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include <sodium.h>

#include "../policy/key.h"
#include "../store/store.h"

struct broker {
	const char *map_mib; /* --map-size, when set */
	const char *inflight; /* --inflight, when set */
	const char *refusal_period; /* --refusal-period, when set */
	const char *checkpoint;     /* --checkpoint, when set */
	/* when set: run under this LD_PRELOAD shim, its undo log at pl_log
	 * (tests/powerloss/plshim.c: a kill -9 then drops unsynced writes) */
	const char *preload, *pl_log;
	pid_t pid;
	char *dir;
	char endpoint[64];
	uint8_t id[ID_BYTES];
};


static inline const char *
bindir(void)
{
	const char *b = getenv("CARNET_BIN");

	return b ? b : "bin";
}

/* In the child about to run carnetd: the power-loss shim's environment. */
static inline void
broker_preload(const struct broker *b)
{
	const char *asan = getenv("ASAN_OPTIONS");
	char opts[512];

	/* a sanitizer build wants its runtime first: the shim only wraps
	 * calls, so the order does not matter to it */
	snprintf(opts, sizeof(opts), "%s%sverify_asan_link_order=0",
	    asan ? asan : "", asan ? ":" : "");
	if (setenv("LD_PRELOAD", b->preload, 1) != 0 ||
	    setenv("CARNET_PL_DIR", b->dir, 1) != 0 ||
	    setenv("CARNET_PL_LOG", b->pl_log, 1) != 0 ||
	    setenv("ASAN_OPTIONS", opts, 1) != 0)
		_exit(127);
}

/*
 * Run carnetd on b->endpoint and wait for the line saying it listens (it
 * prints it once bound): 0 and b->id set, or -1 when it exits first (the
 * port is taken).  Its stdout is read up to that line, then closed.
 */
static inline int
broker_spawn(struct broker *b)
{
	char exe[512], out[512] = "", *p;
	int fds[2], listening = 0, status;
	struct pollfd pfd;
	size_t len = 0;
	ssize_t n;

	snprintf(exe, sizeof(exe), "%s/carnetd", bindir());
	assert_int_equal(pipe(fds), 0);
	if ((b->pid = fork()) == 0) {
		int null = open("/dev/null", O_WRONLY);

		close(fds[0]);
		dup2(fds[1], 1);
		if (getenv("CARNET_TEST_VERBOSE") == NULL)
			dup2(null, 2);
		const char *argv[16];
		int na = 0;

		argv[na++] = "carnetd";
		argv[na++] = "--data";
		argv[na++] = b->dir;
		argv[na++] = "--listen";
		argv[na++] = b->endpoint;
		argv[na++] = "--map-size";
		argv[na++] = b->map_mib ? b->map_mib : "8192";
		if (b->inflight) {
			argv[na++] = "--inflight";
			argv[na++] = b->inflight;
		}
		if (b->refusal_period) {
			argv[na++] = "--refusal-period";
			argv[na++] = b->refusal_period;
		}
		if (b->checkpoint) {
			argv[na++] = "--checkpoint";
			argv[na++] = b->checkpoint;
		}
		argv[na] = NULL;
		if (b->preload != NULL)
			broker_preload(b);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	assert_true(b->pid > 0);
	close(fds[1]);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	/* 30 s: a loaded machine, a first start making its key and store */
	while (strstr(out, "carnetd: listening on ") == NULL &&
	    len < sizeof(out) - 1 && poll(&pfd, 1, 30000) > 0 &&
	    (n = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0) {
		len += (size_t)n;
		out[len] = '\0';
	}
	close(fds[0]);
	if ((p = strstr(out, "carnetd: broker id ")) != NULL) {
		p += 19;
		p[strcspn(p, "\n")] = '\0';
		assert_int_equal(id_decode(p, b->id), 0);
		listening = strstr(p + strlen(p) + 1,
		    "carnetd: listening on ") != NULL;
	}
	if (listening)
		return 0;
	/* it ended (port taken) or hung: make sure it is gone */
	if (waitpid(b->pid, &status, WNOHANG) == 0) {
		kill(b->pid, SIGKILL);
		waitpid(b->pid, &status, 0);
	}
	b->pid = 0;
	return -1;
}

static inline void
broker_start(struct broker *b)
{
	int tries;

	for (tries = 0; tries < 20; tries++) {
		snprintf(b->endpoint, sizeof(b->endpoint), "tcp://127.0.0.1:%u",
		    20000 + randombytes_uniform(30000));
		if (broker_spawn(b) == 0)
			return;
	}
	fail_msg("carnetd did not start (%s/carnetd)", bindir());
}

/* Start again on the same endpoint, as after a crash or an upgrade (the
 * old process's port may take a moment to be free). */
static inline void
broker_restart_same(struct broker *b)
{
	int tries;

	for (tries = 0; tries < 50; tries++) {
		if (broker_spawn(b) == 0)
			return;
		tu_sleep_ms(100);
	}
	fail_msg("carnetd did not restart on %s", b->endpoint);
}

static inline void
broker_stop(struct broker *b)
{
	int status;

	if (b->pid <= 0)
		return;
	kill(b->pid, SIGTERM);
	assert_int_equal(waitpid(b->pid, &status, 0), b->pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0); /* a clean stop */
	b->pid = 0;
}

static inline void
broker_alive(struct broker *b)
{
	int status;

	assert_int_equal(waitpid(b->pid, &status, WNOHANG), 0);
}

static inline void
add_party_in(const char *dir, struct keypair *kp, enum party_role role,
    const char *name, const char *types, const char *purpose)
{
	struct party p;
	struct store *s;
	struct cerr err;
	MDB_txn *txn;

	memset(&p, 0, sizeof(p));
	memcpy(p.id, kp->pk, ID_BYTES);
	p.role = role;
	strcpy(p.name, name);
	if (types != NULL) {
		char buf[128], *t, *save = NULL;

		strcpy(buf, types);
		for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",",
		    &save))
			p.types[p.ntypes++] = schema_by_name(t, strlen(t));
	}
	if (purpose != NULL) {
		strcpy(p.purposes[0], purpose);
		p.npurposes = 1;
		strcpy(p.owner, "Test SAS");
		strcpy(p.business_model, "subscription");
	}
	assert_int_equal(store_open(dir, 64UL << 20, &s, &err), 0);
	assert_int_equal(store_txn_begin(s, NULL, true, &txn, &err), 0);
	assert_int_equal(store_party_add(s, txn, &p, &err), 0);
	assert_int_equal(store_txn_commit(&txn, &err), 0);
	store_close(&s);
}

#endif
