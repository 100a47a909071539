/*
 * limits.h: every tunable of carnet in one place, with its unit.
 *
 * Hard input limits first (what a peer may send), then the broker's loop
 * and the client library's defaults.
 */
#ifndef CARNET_LIMITS_H
#define CARNET_LIMITS_H

/* Inbound frames (ZMQ_MAXMSGSIZE on every broker socket). */
#define CARNET_FRAME_MAX_BYTES (1024 * 1024)
/* Containers nested in any msgpack body we accept. */
#define CARNET_MSGPACK_MAX_DEPTH 6

/* Records. */
#define RECORD_MAX_BYTES 8192        /* one encoded record */
#define RECORD_REF_MAX_BYTES 128     /* the holder's own reference (FHIR: type, id of 64, item, version) */
#define RECORD_VERSIONS_MAX 256      /* refs BASE@... of one holder looked at to mark a correction */
#define FIELD_NAME_MAX_BYTES 32      /* a field name */
#define FIELD_STR_MAX_BYTES 256      /* a string field, unless its schema says less */
#define FIELD_LIST_MAX_ITEMS 32      /* items in a list field */
#define PUT_MAX_RECORDS 1000         /* records in one PUT batch */

/* Parties and consent. */
#define PARTY_NAME_MAX_BYTES 64
#define PARTY_TEXT_MAX_BYTES 200     /* owner, business model */
#define PARTY_MAX_TYPES 16           /* types a holder may be registered for */
#define PARTY_MAX_PURPOSES 8
#define PURPOSE_MAX_BYTES 64
#define TOKEN_MAX_BYTES 4096         /* a signed token, signature included */
#define TOKEN_MAX_HOLDERS 16
#define TOKEN_MAX_TYPES 16

/* Broker loop. */
#define BROKER_TURN_MAX_MSGS 512     /* messages read in one loop turn (one commit) */
#define BROKER_TURN_MAX_SENDS 4096   /* records sent in one loop turn */
#define BROKER_POLL_MS 200           /* idle wake-up, for expiries and signals */
#define BROKER_HANDSHAKE_MS 5000     /* ZMQ_HANDSHAKE_IVL */
/* A silent peer is probed by TCP keepalive after this long, then every
 * INTVL; after CNT unanswered probes its connection ends. */
#define BROKER_KEEPALIVE_IDLE_S 30
#define BROKER_KEEPALIVE_INTVL_S 10
#define BROKER_KEEPALIVE_CNT 3
/* Connections waiting to be accepted (the kernel caps it at
 * net.core.somaxconn): thousands of clients come back at once after a
 * restart. */
#define BROKER_BACKLOG 4096
#define BROKER_MAP_BYTES (1024UL * 1024 * 1024 * 8) /* LMDB map size */
/* New records are refused past this share of the map, so that revocations,
 * erasures and use-log entries always find room. */
#define BROKER_PUT_MAX_FILL_PCT 90
/* Past this share of the map only a person's REVOKE, PAUSE, ERASE and
 * UNDELEGATE and the broker's expiries may make the store grow: the rest
 * is refused store_full, deliveries, notices and reviews wait
 * (broker/reserve.c).  Notices and reviews due meanwhile are tried again
 * this many seconds later. */
#define BROKER_RESERVE_FILL_PCT 95
#define BROKER_RESERVE_RETRY_S 60
#define BROKER_LOG_PAGE_ENTRIES 500  /* log entries in one LOG reply */
#define BROKER_EXPORT_PAGE_RECORDS 500
/* A reply that lists things (EXPORT, EMERGENCY_READ pages) stops here
 * and says "more": the client asks for the next page when it is ready. */
#define BROKER_REPLY_MAX_BYTES (512 * 1024)

/* Connections (broker/conn.c). */
#define BROKER_MAX_CONNS 20000       /* live connections, all parties */
#define BROKER_CONNS_PER_PARTY 64    /* live connections with one key */
#define BROKER_HANDSHAKE_BURST 100   /* handshakes one key may make at once */
#define BROKER_HANDSHAKES_PER_S 10   /* then this many per second */
#define BROKER_SILENT_CONN_MS 10000  /* a connection sends its first request
                                        within this, or is closed */
#define BROKER_MAX_FD (1 << 20)      /* fds tracked (RLIMIT_NOFILE above
                                        this is not used) */
/* Bytes queued for peers and not yet written to their sockets: past the
 * first bound a connection's requests get ERR busy and its feed waits;
 * past the second, everyone's. */
#define BROKER_CONN_QUEUE_BYTES (8 * 1024 * 1024)
#define BROKER_QUEUE_BYTES (256 * 1024 * 1024)
#define BROKER_SNDHWM_MSGS 1000      /* messages queued per connection */

/* Work in one loop turn: reading stops past this many bytes of requests
 * (libzmq reads connections in turn, so each gets its share), so that a
 * flood from one party delays a revocation by a turn or two at most. */
#define BROKER_TURN_MAX_BYTES (1024 * 1024)
#define ACK_MAX_ENTRIES 1000         /* [token, seq] pairs in one ACK */
#define CREDIT_MAX 1000000           /* records an app may be owed */
#define SUB_MAX_USERS 1000           /* people named in one SUB */
#define SUB_MAX_REMINDERS 1000       /* ended consents told again at one SUB */
#define SESSION_IDLE_MS 60000        /* a subscriber silent this long is dropped */
#define APP_INFLIGHT_DEFAULT 65536   /* consents one app has unacked records
                                      * under, all its feeds together (then
                                      * they wait for ACKs; carnetd
                                      * --inflight) */
#define APP_INFLIGHT_LIMIT 10000000  /* the most --inflight takes */
#define BROKER_TURN_MAX_VISITS 8192  /* due consents looked at in one turn */
#define BROKER_CACHE_DEFAULT 32768   /* entries per cache (carnetd --cache) */
/* The clear bytes of the records stored lately, kept for their live
 * deliveries (broker/recent.c; carnetd --recent, in MiB; 0: none). */
#define BROKER_RECENT_DEFAULT_BYTES (64UL * 1024 * 1024)
/* carnetd --checkpoint: ms between the store's own commits, turns logged
 * ahead in between (0: a commit every turn, no log) */
#define BROKER_CHECKPOINT_MS_DEFAULT 0
#define BROKER_RECENT_MAX_MIB 65536
#define REQUEST_NOTE_MAX_BYTES 280   /* an app's note in REQUEST, a decline's */
#define REPLY_NAMES_MAX 64           /* parties named beside one listing page */
#define REVOCATION_MAX_BYTES 256     /* a signed revocation */
#define CARD_MAX_DEPTH 3             /* msgpack nesting in an emergency card */
/* ZAP requests (libzmq to the broker's handler): frames, bytes per frame. */
#define ZAP_MAX_FRAMES 8
#define ZAP_FRAME_MAX 256

/* Broker timers and emergency reads. */
#define BROKER_TIMERS_PER_TURN 256   /* expiries, notices, reviews per turn */
#define NOTICE_SLACK_S 60            /* a notice due this soon is sent now */
#define EMERGENCY_SCAN_FACTOR 20     /* records looked at per record sent */

/* Consent requests: an app may have this many waiting for one person, a
 * person this many in all (an app past them gets `rate` until the person
 * answers); an app may ask this many people at once, then so many per
 * second; REQUESTS lists them by pages. */
#define REQUESTS_PER_APP_PERSON 4
#define REQUESTS_PER_PERSON 256
#define REQUESTS_BURST 1000
#define REQUESTS_PER_S 100
#define REQUESTS_PAGE 64

/* Refused attempts on a person's data (an app without consent, someone
 * acting for a person who did not delegate to them): one entry in the
 * person's log per party, reason and period (carnetd --refusal-period,
 * default REFUSAL_PERIOD_S), the others counted and named in the next; a
 * party may cause at most REFUSALS_BURST entries, then REFUSALS_PER_S a
 * second, past which its refusals are answered but not logged (counted in
 * STATS).  Rows of the index that count nothing are pruned, at most
 * REFUSALS_PRUNE_PER_TURN looked at a turn. */
#define REFUSAL_PERIOD_S 3600
#define REFUSALS_BURST 2000
#define REFUSALS_PER_S 10
#define REFUSALS_PRUNE_PER_TURN 256

/* carnet dashboard: connections at once, seconds a silent one is kept
 * open, bytes of one API request's body. */
#define DASH_MAX_CONNS 512
#define DASH_IDLE_S 5
#define DASH_BODY_MAX_BYTES 16384

/* The store: derived record keys cached (a power of two; 72 bytes each),
 * records sealed per transaction when an old store is upgraded. */
#define RECKEYS_CACHE_SLOTS 16384
#define RECKEYS_SEAL_BATCH 4096

/* carnet import fhir: bytes of one document read at most (a larger one is
 * refused before it is read, naming this bound). */
#define FHIR_DOC_MAX_BYTES (32 * 1024 * 1024)

/* Key files: bytes read at most. */
#define KEYFILE_MAX_BYTES 512

/* Client library. */
#define CLIENT_FRAME_MAX_BYTES (64 * 1024 * 1024)
#define CLIENT_CALL_TIMEOUT_MS 10000
#define CLIENT_CONNECT_TIMEOUT_MS 5000
#define CLIENT_PUT_BATCH 500         /* records per PUT sent by the CLI */
#define CLIENT_PUT_WINDOW 8          /* PUT batches in flight before waiting */
#define CLIENT_CREDIT_WINDOW 1000    /* records an app lets the broker send ahead */
#define CLIENT_PUT_MAX_BYTES (512 * 1024) /* bytes of one PUT batch */
#define CLIENT_ACK_MAX_ENTRIES 256   /* [token, seq] pairs in one ACK sent */
#define CLIENT_ACK_EVERY 64          /* records between two ACK messages */
#define CLIENT_KEEPALIVE_S 20        /* an idle feed says it is there */
#define CLIENT_BUSY_RETRY_MS 250     /* after ERR busy, wait this long */
#define CLIENT_STASH_MAX 4096        /* pushes kept while waiting for a reply */

/* What the client sends, the broker must take. */
_Static_assert(CLIENT_PUT_MAX_BYTES < CARNET_FRAME_MAX_BYTES,
    "a PUT batch must fit a frame");
_Static_assert(CLIENT_PUT_BATCH <= PUT_MAX_RECORDS,
    "the CLI's PUT batches must be within the broker's");
_Static_assert(CLIENT_ACK_MAX_ENTRIES <= ACK_MAX_ENTRIES,
    "an ACK must be within the broker's");
_Static_assert(CLIENT_KEEPALIVE_S * 1000 < SESSION_IDLE_MS,
    "a feed's keepalive must come before the broker drops it");
_Static_assert(CLIENT_CREDIT_WINDOW <= CREDIT_MAX,
    "the credit an app gives must be within the broker's");

#endif
