/*
 * carnetd.c: the broker's start-up: its options, data directory, key,
 * store, witness and sockets, then the loop (turn.c) until a signal.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "../common/fileperm.h"
#include "../common/id.h"
#include "../store/wal.h"
#include "broker.h"

#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93 /* in libzmq 4.3, declared as draft */
#endif

#define DEFAULT_DATA "./carnet-data"
#define DEFAULT_LISTEN "tcp://127.0.0.1:7450"

/* The loop (turn.c) stops at the end of its turn. */
static void
on_signal(int sig)
{
	(void)sig;
	broker_stop = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: carnetd [--data DIR] [--listen ENDPOINT] [--map-size MIB]\n"
"               [--notice-before D] [--review-every D] [--emergency-window D]\n"
"               [--cache N] [--recent MIB] [--inflight N]\n"
"               [--refusal-period D] [--checkpoint MS]\n"
"               [--witness FILE] [--accept-rollback N]\n"
"\n"
"The carnet broker: routes health records from holders to the apps people\n"
"chose, only while a consent token signed by the person covers them, and\n"
"writes every use to the person's hash-chained log.\n"
"\n"
"  --data DIR         state directory (default %s); created on first start\n"
"                     with the broker's key (DIR/broker.key, mode 0600), its\n"
"                     public id (DIR/broker.pub) and the LMDB store (DIR/store)\n"
"                     with the people's record keys beside it (DIR/store/keys:\n"
"                     back it up with the store and the broker key; records\n"
"                     open only with all three); one broker per DIR, which\n"
"                     it locks (DIR/carnetd.lock) while it runs; DIR, its\n"
"                     files and DIR/store must be the user's carnetd runs as\n"
"                     (or root's) and not writable by group or others, the\n"
"                     keys not readable by them either: carnetd refuses to\n"
"                     start otherwise and says which chmod or chown fixes it\n"
"  --witness FILE     where the store's withdrawals (consents revoked,\n"
"                     paused or ended, erasures, delegations and emergency\n"
"                     cards narrowed) are counted outside DIR (default\n"
"                     DIR.witness, beside DIR): written, synced, after each\n"
"                     commit holding one and before anyone is told; carnetd\n"
"                     refuses to start on a store behind it (DIR put back\n"
"                     to an older copy: apps could get records under\n"
"                     consents revoked since) or without it once the store\n"
"                     has withdrawals; keep it out of DIR's backups\n"
"  --accept-rollback N  start on such a store all the same, N being the\n"
"                     count the refusal names (0: no witness, another\n"
"                     broker's or a damaged one); logs what is lost, and\n"
"                     people's clients send their revocations again at\n"
"                     their next command; for one start: remove it after\n"
"  --listen ENDPOINT  ZeroMQ endpoint to bind (default %s)\n"
"  --map-size MIB     largest size the store may grow to (default %lu)\n"
"  --notice-before D  write a notice to a person's log this long before one\n"
"                     of their consents ends (default 14d; D is a duration:\n"
"                     30s, 10m, 12h, 14d, 1y)\n"
"  --review-every D   ask the person to review an open-ended consent this\n"
"                     often (default 1y)\n"
"  --emergency-window D  how long an emergency opening lasts (default 15m)\n"
"  --cache N          entries kept in each of the broker's caches: parties\n"
"                     (about 1.3 KiB each), decoded consents (1 KiB), log\n"
"                     heads and last record numbers (100 bytes); default %d,\n"
"                     about 80 MiB in all; more only saves LMDB reads\n"
"  --recent MIB       the records stored lately kept in the clear, so that\n"
"                     their live deliveries need not open them again (apps\n"
"                     catching up read the store); the oldest go first;\n"
"                     default %lu, 0: none (each delivery opens its record)\n"
"  --inflight N       consents one app may have records sent and not acked\n"
"                     under, all its connections together (about 100 bytes\n"
"                     each; default %d): past it its feeds wait for its ACKs\n"
"  --refusal-period D  an attempt refused on a person's data (an app with no\n"
"                     consent, someone acting for a person who did not\n"
"                     delegate to them) is written to the person's log once\n"
"                     this often per party and reason, the others counted\n"
"                     and named in the next (default 1h)\n"
"  --checkpoint MS    write each turn ahead to a log of turns\n"
"                     (DIR/store/turns.wal: one sequential write and one\n"
"                     fdatasync a turn) and commit the store itself with its\n"
"                     full sync at most MS milliseconds apart, and when idle\n"
"                     that long; nothing is acknowledged before its turn is\n"
"                     in the log, and a start applies the log's turns again\n"
"                     (whatever this option says then); 0: the store\n"
"                     committed every turn, no log (default %d)\n"
"  --commands         print the protocol's commands, one a line: name, roles,\n"
"                     what a delegate needs (view, manage or -) and how the\n"
"                     broker takes it (- or some of busy-ok: taken while the\n"
"                     connection's replies wait unread, no-reply: no reply\n"
"                     on success, head: the reply to a person carries their\n"
"                     signed log head, ahead: committed ahead of its turn,\n"
"                     reserve: taken when the store is in its reserve), and\n"
"                     exit\n"
"  -h, --help         this help\n"
"\n"
"Runs in the foreground, logs to stderr, stops cleanly on SIGINT or SIGTERM.\n"
"Each connection takes a file descriptor: carnetd raises its soft limit\n"
"(RLIMIT_NOFILE) to the hard one, up to %d connections and its own files;\n"
"raise the hard limit (ulimit -Hn, LimitNOFILE= in a systemd unit) for more\n"
"than about a thousand clients.\n"
"Memory: the caches (--cache), the records kept (--recent), what apps have in flight (--inflight, per\n"
"app), about 41 KiB per open connection and at most 256 MiB queued for\n"
"apps; none of it grows with the number of people or consents.  The\n"
"store's pages it reads are the kernel's page cache, counted in its RSS:\n"
"bound them with a memory cgroup (MemoryMax= in a systemd unit).\n"
"Every connection uses CurveZMQ; only parties registered with\n"
"`carnet party add --data DIR ...` may connect.\n",
	    DEFAULT_DATA, DEFAULT_LISTEN, BROKER_MAP_BYTES >> 20,
	    BROKER_CACHE_DEFAULT, BROKER_RECENT_DEFAULT_BYTES >> 20,
	    APP_INFLIGHT_DEFAULT, BROKER_CHECKPOINT_MS_DEFAULT,
	    BROKER_MAX_CONNS);
}

/*
 * Every connection is a file descriptor: take what the hard limit allows,
 * up to the connections the broker accepts and its own files.
 */
static void
fd_limit(void)
{
	struct rlimit rl;
	rlim_t want = BROKER_MAX_CONNS + 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < want)
		log_info("file descriptors: %llu (the hard limit): about %llu "
		    "connections; raise it (ulimit -Hn) for up to %d",
		    (unsigned long long)rl.rlim_cur,
		    (unsigned long long)(rl.rlim_cur > 64 ? rl.rlim_cur - 64 :
		    0), BROKER_MAX_CONNS);
}

/* A start-up error with its code, as the CLI shows them. */
static void __attribute__((noreturn))
fatal_err(const struct cerr *err)
{
	fatalx("%s [%s]", cerr_msg(err), carnet_errname(err->code));
}

/*
 * The data directory, created on first start: it holds the broker's key
 * and store, so it must be ours (or root's) and nobody else's to write
 * (fileperm.h), or someone else could put their own key, store or record
 * keys there.  Checked on the descriptor returned, which the lock file is
 * opened from.
 */
static int
data_dir(const char *dir)
{
	struct cerr err = {0};
	int fd;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		fatalx("cannot create %s: %s", dir, strerror(errno));
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		fatalx("cannot open %s: %s", dir, strerror(errno));
	if (fileperm_check(fd, dir, FILEPERM_DIR, &err) != 0)
		fatal_err(&err);
	return fd;
}

/*
 * One broker per data directory: DIR/carnetd.lock, locked for as long as
 * this process lives (the kernel lets go when it ends, even killed).  Two
 * brokers on one store would each deliver, and each trust its own caches.
 */
static void
data_lock(int dfd, const char *dir)
{
	char path[PATH_MAX], pid[32] = "";
	struct cerr err = {0};
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/carnetd.lock", dir);
	/* not through a link planted there: it would be truncated */
	if ((fd = openat(dfd, "carnetd.lock", O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) < 0)
		fatalx("cannot open %s: %s", path, strerror(errno));
	if (fileperm_check(fd, path, FILEPERM_FILE, &err) != 0)
		fatal_err(&err);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK)
			fatalx("cannot lock %s: %s", path, strerror(errno));
		if ((n = read(fd, pid, sizeof(pid) - 1)) > 0)
			pid[strcspn(pid, "\n")] = '\0';
		fatalx("another carnetd%s%s%s runs on %s (%s is locked): one "
		    "broker per data directory", pid[0] ? " (pid " : "", pid,
		    pid[0] ? ")" : "", dir, path);
	}
	if (ftruncate(fd, 0) != 0 || dprintf(fd, "%ld\n", (long)getpid()) < 0)
		fatalx("cannot write %s: %s", path, strerror(errno));
	/* fd stays open: the lock is this process's */
}

/* Load DIR/broker.key, or create it and DIR/broker.pub on first start. */
static void
broker_key(struct broker *b, const char *dir)
{
	char path[PATH_MAX], pub[PATH_MAX], tmp[PATH_MAX];
	char id[ID_STR_LEN + 1];
	struct cerr err = {0};
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%s/broker.key", dir);
	snprintf(pub, sizeof(pub), "%s/broker.pub", dir);
	snprintf(tmp, sizeof(tmp), "%s/broker.pub.tmp", dir);
	if (key_read(path, &b->key, &err) != 0) {
		if (err.code != CARNET_E_NOT_FOUND)
			fatal_err(&err);
		if (key_generate(&b->key) != 0 ||
		    key_write(path, &b->key, &err) != 0)
			fatalx("cannot create the broker key: %s",
			    cerr_msg(&err));
		log_info("created a new broker key in %s", path);
	}
	id_encode(b->key.pk, id);
	/*
	 * broker.pub is public, but what clients trust as the broker's id:
	 * rewritten atomically on every start, 0644 whatever the umask, in a
	 * fresh file (a stale one from a crash is removed first).
	 */
	if ((unlink(tmp) != 0 && errno != ENOENT) ||
	    (fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) < 0 || fchmod(fd, 0644) != 0 ||
	    (f = fdopen(fd, "w")) == NULL || fprintf(f, "%s\n", id) < 0 ||
	    fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0 ||
	    rename(tmp, pub) != 0)
		fatalx("cannot write %s: %s", pub, strerror(errno));
}

static void
set_opt(void *sock, int opt, const void *v, size_t len, const char *what)
{
	if (zmq_setsockopt(sock, opt, v, len) != 0)
		fatalx("cannot set %s: %s", what, zmq_strerror(zmq_errno()));
}

static void
router_start(struct broker *b)
{
	uint8_t cpk[32], csk[32];
	int one = 1, zero = 0, handshake = BROKER_HANDSHAKE_MS;
	int hwm = BROKER_SNDHWM_MSGS, ka_idle = BROKER_KEEPALIVE_IDLE_S;
	int ka_intvl = BROKER_KEEPALIVE_INTVL_S, ka_cnt = BROKER_KEEPALIVE_CNT;
	int backlog = BROKER_BACKLOG;
	struct cerr err = {0};
	int64_t maxmsg = 4LL * CARNET_FRAME_MAX_BYTES;

	if (key_curve(&b->key, cpk, csk) != 0)
		fatalx("cannot derive the broker's CURVE key");
	conn_seed_ids(); /* before the ROUTER picks its first id */
	if ((b->router = zmq_socket(b->ctx, ZMQ_ROUTER)) == NULL)
		fatalx("cannot create a socket: %s", zmq_strerror(zmq_errno()));
	/* The ZAP handler is already bound: see zap.c for why it matters. */
	if (b->bench_plain) {
		set_opt(b->router, ZMQ_PLAIN_SERVER, &one, sizeof(one),
		    "PLAIN");
	} else {
		set_opt(b->router, ZMQ_CURVE_SERVER, &one, sizeof(one),
		    "CURVE");
		set_opt(b->router, ZMQ_CURVE_SECRETKEY, csk, 32, "CURVE key");
	}
	sodium_memzero(csk, sizeof(csk));
	set_opt(b->router, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN, strlen(ZAP_DOMAIN),
	    "ZAP domain");
	set_opt(b->router, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof(one),
	    "ZAP enforcement (refusing to run open)");
	set_opt(b->router, ZMQ_ROUTER_MANDATORY, &one, sizeof(one),
	    "ROUTER_MANDATORY");
	set_opt(b->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg),
	    "MAXMSGSIZE");
	set_opt(b->router, ZMQ_HANDSHAKE_IVL, &handshake, sizeof(handshake),
	    "HANDSHAKE_IVL");
	/*
	 * A peer that vanished without closing (a cut cable, a dead
	 * machine) is found by TCP keepalive, in the kernel.  Not by
	 * ZeroMQ's heartbeats: each PONG cancels a timer, which libzmq
	 * finds by walking all its timers (O(connections)): with 10 000
	 * idle connections the I/O thread spent most of its time there.
	 */
	set_opt(b->router, ZMQ_TCP_KEEPALIVE, &one, sizeof(one),
	    "TCP_KEEPALIVE");
	set_opt(b->router, ZMQ_TCP_KEEPALIVE_IDLE, &ka_idle, sizeof(ka_idle),
	    "TCP_KEEPALIVE_IDLE");
	set_opt(b->router, ZMQ_TCP_KEEPALIVE_INTVL, &ka_intvl,
	    sizeof(ka_intvl), "TCP_KEEPALIVE_INTVL");
	set_opt(b->router, ZMQ_TCP_KEEPALIVE_CNT, &ka_cnt, sizeof(ka_cnt),
	    "TCP_KEEPALIVE_CNT");
	set_opt(b->router, ZMQ_SNDHWM, &hwm, sizeof(hwm), "SNDHWM");
	set_opt(b->router, ZMQ_BACKLOG, &backlog, sizeof(backlog), "BACKLOG");
	set_opt(b->router, ZMQ_LINGER, &zero, sizeof(zero), "LINGER");
	/* watched before the first connection can come */
	if (conn_monitor_start(b, &err) != 0)
		fatalx("%s", cerr_msg(&err));
	if (zmq_bind(b->router, b->endpoint) != 0)
		fatalx("cannot listen on %s: %s", b->endpoint,
		    zmq_strerror(zmq_errno()));
}

/*
 * A benchmark build (make bench) reads switches that turn guarantees off,
 * one at a time, to measure each one's cost: CARNET_BENCH_PLAIN (no CURVE:
 * ids in clear), CARNET_BENCH_NOSYNC (commits without fsync, read by the
 * store) and CARNET_BENCH_NOLOG (no use-log entry per delivery).  The
 * normal build has none of them.  CARNET_BENCH_TURNS names a file where
 * the broker writes, at exit, how its turns spent their time.
 */
static void
bench_switches(struct broker *b)
{
#ifdef CARNET_BENCH
	b->bench_plain = getenv("CARNET_BENCH_PLAIN") != NULL;
	b->bench_nolog = getenv("CARNET_BENCH_NOLOG") != NULL;
	log_warnx("BENCHMARK BUILD: plain=%d nosync=%d nolog=%d - never run "
	    "this binary for real", b->bench_plain,
	    getenv("CARNET_BENCH_NOSYNC") != NULL, b->bench_nolog);
#else
	(void)b;
#endif
}

static void
bench_turns_write(const struct broker *b)
{
#ifdef CARNET_BENCH
	const char *path = getenv("CARNET_BENCH_TURNS");
	FILE *f;

	if (path == NULL || (f = fopen(path, "w")) == NULL)
		return;
	fprintf(f, "turns=%llu work_us=%llu commit_us=%llu max_commit_us=%llu "
	    "stored=%llu sent=%llu\n",
	    (unsigned long long)b->bench_turns.turns,
	    (unsigned long long)b->bench_turns.work_us,
	    (unsigned long long)b->bench_turns.commit_us,
	    (unsigned long long)b->bench_turns.max_commit_us,
	    (unsigned long long)b->n_stored, (unsigned long long)b->n_sent);
	fclose(f);
#else
	(void)b;
#endif
}

/* The command table, one line each: NAME ROLE[,ROLE] DELEGATE FLAG[,FLAG]
 * (common/proto.h's C_* names; - for none). */
static void
commands_print(void)
{
	static const char *const scope[] = {"-", "view", "manage"};
	static const struct {
		unsigned flag;
		const char *name;
	} flags[] = {
		{C_BUSY_OK, "busy-ok"},
		{C_NO_REPLY, "no-reply"},
		{C_HEAD, "head"},
		{C_AHEAD, "ahead"},
		{C_RESERVE, "reserve"},
	};
	unsigned roles, r, d, f;
	const char *sep;
	size_t i;
	int c;

	for (c = CMD__NONE + 1; c < CMD__LAST; c++) {
		roles = proto_cmd_roles((enum carnet_cmd)c);
		d = proto_cmd_deleg((enum carnet_cmd)c);
		printf("%s ", proto_cmd_name((enum carnet_cmd)c));
		if (roles == R_ANY)
			printf("any");
		else
			for (r = 0, sep = ""; r < 32; r++)
				if (roles & (1u << r)) {
					printf("%s%s", sep, party_role_name(
					    (enum party_role)r));
					sep = ",";
				}
		printf(" %s ", d < 3 ? scope[d] : "?");
		f = proto_cmd_flags((enum carnet_cmd)c);
		if (f == C_NONE)
			printf("-");
		for (i = 0, sep = ""; i < sizeof(flags) / sizeof(flags[0]); i++)
			if (f & flags[i].flag) {
				printf("%s%s", sep, flags[i].name);
				sep = ",";
			}
		printf("\n");
	}
}

/*
 * The turn log's turns were applied again by store_set_key (whether it is
 * on now or not: a broker that ran with it left acknowledged turns
 * there), before the witness compares the store's withdrawals; with
 * --checkpoint, the log opened for this run's turns.
 */
static void
turn_log_start(struct broker *b, const char *dir, uint64_t n)
{
	struct cerr err = {0};
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/store/turns.wal", dir) >=
	    (int)sizeof(path))
		fatalx("--data: path too long");
	if (n > 0)
		log_info("applied again the %llu turns of the turn log written "
		    "after the store's last checkpoint",
		    (unsigned long long)n);
	if (b->checkpoint_ms == 0)
		return;
	if (store_turns_start(b->store, &err) != 0 ||
	    wal_open(path, store_turns_gen(b->store), 64u << 20, &b->wal,
	    &err) != 0)
		fatal_err(&err);
	b->checkpoint_at = time_now_ms();
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"listen", required_argument, NULL, 'l'},
		{"map-size", required_argument, NULL, 'm'},
		{"notice-before", required_argument, NULL, 'N'},
		{"review-every", required_argument, NULL, 'R'},
		{"emergency-window", required_argument, NULL, 'E'},
		{"cache", required_argument, NULL, 'c'},
		{"recent", required_argument, NULL, 'r'},
		{"inflight", required_argument, NULL, 'I'},
		{"refusal-period", required_argument, NULL, 'P'},
		{"witness", required_argument, NULL, 'W'},
		{"accept-rollback", required_argument, NULL, 'A'},
		{"checkpoint", required_argument, NULL, 'K'},
		{"commands", no_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct broker b;
	struct store_upgrade up;
	struct sigaction sa;
	struct cerr err = {0};
	const char *dir = DEFAULT_DATA, *listen = DEFAULT_LISTEN, *wpath = NULL;
	char id[ID_STR_LEN + 1], *end;
	bool accept = false;
	uint64_t accept_n = 0;
	size_t map_bytes = BROKER_MAP_BYTES;
	size_t recent_bytes = BROKER_RECENT_DEFAULT_BYTES;
	unsigned long long u;
	int c, dfd;

	log_init("carnetd");
	memset(&b, 0, sizeof(b));
	b.notice_secs = 14 * 86400;
	b.review_secs = 365 * 86400;
	b.emergency_secs = 15 * 60;
	b.refusal_secs = REFUSAL_PERIOD_S;
	b.cache_max = BROKER_CACHE_DEFAULT;
	b.inflight_max = APP_INFLIGHT_DEFAULT;
	b.conn_ending = session_conn_ending;
	b.checkpoint_ms = BROKER_CHECKPOINT_MS_DEFAULT;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'l':
			listen = optarg;
			break;
		case 'm':
			map_bytes = (size_t)strtoull(optarg, &end, 10) << 20;
			if (*end != '\0' || map_bytes == 0)
				fatalx("--map-size wants a number of MiB");
			break;
		case 'c':
			b.cache_max = (size_t)strtoull(optarg, &end, 10);
			if (*end != '\0' || b.cache_max == 0 ||
			    b.cache_max > 100000000)
				fatalx("--cache wants a number of entries, from 1 "
				    "to 100000000");
			break;
		case 'r':
			errno = 0;
			u = strtoull(optarg, &end, 10);
			if (*end != '\0' || end == optarg || optarg[0] == '-' ||
			    errno != 0 || u > BROKER_RECENT_MAX_MIB)
				fatalx("--recent wants a number of MiB, from 0 "
				    "to %d", BROKER_RECENT_MAX_MIB);
			recent_bytes = (size_t)u << 20;
			break;
		case 'I':
			u = strtoull(optarg, &end, 10);
			if (*end != '\0' || u == 0 || u > APP_INFLIGHT_LIMIT)
				fatalx("--inflight wants a number of consents, "
				    "from 1 to %d", APP_INFLIGHT_LIMIT);
			b.inflight_max = (unsigned)u;
			break;
		case 'N':
		case 'R':
		case 'E':
			if (duration_parse(optarg, c == 'N' ? &b.notice_secs :
			    c == 'R' ? &b.review_secs : &b.emergency_secs) != 0)
				fatalx("--%s wants a duration (30s, 10m, 12h, "
				    "14d, 1y)", c == 'N' ? "notice-before" :
				    c == 'R' ? "review-every" :
				    "emergency-window");
			break;
		case 'P':
			if (duration_parse(optarg, &b.refusal_secs) != 0 ||
			    b.refusal_secs <= 0)
				fatalx("--refusal-period wants a duration (30s, "
				    "10m, 1h, 1d)");
			break;
		case 'W':
			wpath = optarg;
			break;
		case 'A':
			errno = 0;
			accept_n = strtoull(optarg, &end, 10);
			if (*end != '\0' || end == optarg || optarg[0] == '-' ||
			    errno != 0)
				fatalx("--accept-rollback wants the count the "
				    "refusal names (a number)");
			accept = true;
			break;
		case 'K':
			errno = 0;
			u = strtoull(optarg, &end, 10);
			if (*end != '\0' || end == optarg || optarg[0] == '-' ||
			    errno != 0 || u > 60000)
				fatalx("--checkpoint wants a number of "
				    "milliseconds, from 0 (no turn log) to 60000");
			b.checkpoint_ms = (int64_t)u;
			break;
		case 'C':
			commands_print();
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	recent_init(&b.recent, recent_bytes);
	if (snprintf(b.endpoint, sizeof(b.endpoint), "%s", listen) >=
	    (int)sizeof(b.endpoint))
		fatalx("--listen: endpoint too long");
	if (sodium_init() < 0)
		fatalx("libsodium failed to start");
	dfd = data_dir(dir);
	data_lock(dfd, dir);
	close(dfd);
	broker_key(&b, dir);
	bench_switches(&b);
	fd_limit();
	if (store_open(dir, map_bytes, &b.store, &err) != 0)
		fatal_err(&err);
	if (store_set_key(b.store, b.key.sk, &up, &err) != 0)
		fatal_err(&err);
	if (up.heads_sealed > 0)
		log_info("sealed the heads of %llu use logs written before "
		    "sealed heads, as the files hold them now",
		    (unsigned long long)up.heads_sealed);
	if (up.records_sealed > 0)
		log_info("sealed %llu records stored before records were "
		    "sealed at rest; their plain copies stay in the map's free "
		    "pages until reused (mdb_copy -c compacts them away)",
		    (unsigned long long)up.records_sealed);
	if (up.due_filled > 0)
		log_info("indexed %llu consents with records to send or an "
		    "erasure to confirm, once, for a store from before those "
		    "indexes", (unsigned long long)up.due_filled);
	if (up.ref_key_made)
		log_info("made the key of the opaque record ids apps see (in "
		    "the store's meta: backups must keep it, or every app's "
		    "ids change)");
	turn_log_start(&b, dir, up.turns_replayed);
	if (witness_open(wpath, dir, b.store, &b.key, accept, accept_n,
	    &b.witness, &err) != 0)
		fatal_err(&err);
	if ((b.ctx = zmq_ctx_new()) == NULL)
		fatalx("cannot start ZeroMQ");
	if (zap_start(&b, &err) != 0)
		fatalx("%s: refusing to run without authentication",
		    cerr_msg(&err));
	router_start(&b);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	id_encode(b.key.pk, id);
	printf("carnetd: broker id %s\ncarnetd: listening on %s\n", id,
	    b.endpoint);
	fflush(stdout);
	log_info("started: data %s, listening on %s", dir, b.endpoint);
	turn_loop(&b);

	log_info("stopping: %llu records stored, %llu sent, %llu requests "
	    "refused", (unsigned long long)b.n_stored,
	    (unsigned long long)b.n_sent, (unsigned long long)b.n_refused);
	out_flush(&b);
	bench_turns_write(&b);
	session_drop_all(&b);
	conn_end_all(&b);
	cache_free(&b);
	free(b.out);
	free(b.undo);
	zmq_socket_monitor(b.router, NULL, 0);
	zmq_close(b.mon);
	zmq_close(b.router);
	zmq_close(b.zap);
	zmq_ctx_term(b.ctx);
	witness_destroy(&b.witness);
	wal_close(&b.wal);
	store_close(&b.store);
	key_wipe(&b.key);
	return 0;
}
