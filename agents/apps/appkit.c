/*
 * appkit.c: the loop every scenario app runs.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uthash.h>

#include "../../client/cli.h"
#include "../../common/mpk.h"
#include "../../schemas/recjson.h"
#include "appkit.h"

#define FAMILIES_MAX 8
#define FAMILY_MAX_MEMBERS 16

struct person {
	uint8_t id[ID_BYTES];
	unsigned long records;
	void *state;
	UT_hash_handle hh;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

bool
rec_num(const struct record *r, const char *field, double *v)
{
	return mpk_num(mpk_get(r->body, field), v) == 0;
}

const char *
rec_str(const struct record *r, const char *field, char *buf, size_t size)
{
	if (mpk_cstr(mpk_get(r->body, field), buf, size) != 0)
		buf[0] = '\0';
	return buf;
}

const char *
rec_list(const struct record *r, const char *field, char *buf, size_t size)
{
	const msgpack_object *l = mpk_get(r->body, field);
	size_t used = 0;
	uint32_t i;

	buf[0] = '\0';
	for (i = 0; l && l->type == MSGPACK_OBJECT_ARRAY && i < l->via.array.size;
	    i++) {
		const msgpack_object *it = &l->via.array.ptr[i];
		int n = snprintf(buf + used, size - used, "%s%.*s", i ? ", " : "",
		    (int)it->via.str.size, it->via.str.ptr);

		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

static int
ask(struct client *c, const struct app_def *d, const char *path,
    struct cerr *err)
{
	char line[128], types[128], *items[8];
	FILE *f = fopen(path, "r");
	int n, i, asked = 0, rc = 0;

	if (f == NULL)
		return cerr_set(err, CARNET_E_NOT_FOUND, "cannot open %s", path);
	snprintf(types, sizeof(types), "%s", d->types);
	n = cli_split(types, items, 8);
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		uint8_t uid[ID_BYTES];
		msgpack_packer *pk;
		msgpack_unpacked reply;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if (id_decode(line, uid) != 0) {
			rc = cerr_set(err, CARNET_E_BAD_VALUE,
			    "%s: '%.60s' is not a carnet id", path, line);
			break;
		}
		pk = client_begin(c, 4);
		mpk_pack_cstr(pk, "user");
		mpk_pack_binn(pk, uid, ID_BYTES);
		mpk_pack_cstr(pk, "types");
		msgpack_pack_array(pk, (size_t)n);
		for (i = 0; i < n; i++)
			mpk_pack_cstr(pk, items[i]);
		mpk_pack_cstr(pk, "purpose");
		mpk_pack_cstr(pk, d->purpose);
		mpk_pack_cstr(pk, "note");
		mpk_pack_cstr(pk, d->note);
		if ((rc = client_call(c, "REQUEST", &reply, err)) == 0) {
			msgpack_unpacked_destroy(&reply);
			asked++;
		}
	}
	fclose(f);
	if (rc == 0)
		fprintf(stderr, "%s: asked %d people for %s (%s)\n", d->prog,
		    asked, d->types, d->purpose);
	return rc;
}

static void
usage(const struct app_def *d, FILE *f)
{
	fprintf(f,
"usage: %s [--ask FILE] [--duration S] [--idle-exit S] [--json]\n"
"            [--report FILE] [--received FILE] [--family NAME=ID1,ID2...]\n"
"            [connection options]\n"
"\n"
"%s\n"
"Purpose: %s.  Asks people for: %s.\n"
"\n"
"  --ask FILE       first ask the people whose ids FILE lists (one per line)\n"
"                   for their consent, saying why\n"
"  --duration S     run S seconds (default: until SIGINT/SIGTERM)\n"
"  --idle-exit S    stop when nothing came for S seconds\n"
"  --json           print the report as JSON\n"
"  --report FILE    also write the report, as text, to FILE\n"
"  --received FILE  write one JSON line per record received (seq, token,\n"
"                   user, type), for audits\n"
"  --family NAME=ID1,ID2...  also report the totals of a family (up to %d\n"
"                   families): the sums over the members whose consent the\n"
"                   app holds, saying how many of them share\n"
"When a person's consent ends (revoked or expired), the app erases what\n"
"their data gave it.\n"
"\n" CLI_CONN_HELP, d->prog, d->title, d->purpose, d->types,
	    FAMILIES_MAX);
}

/* A family: the members' ids, as given to --family NAME=ID1,ID2. */
struct family {
	char name[PARTY_NAME_MAX_BYTES + 1];
	uint8_t ids[FAMILY_MAX_MEMBERS][ID_BYTES];
	unsigned n;
};

static int
family_parse(char *arg, struct family *fam)
{
	char *eq = strchr(arg, '='), *items[FAMILY_MAX_MEMBERS];
	int n, i;

	if (eq == NULL || eq == arg || (size_t)(eq - arg) > PARTY_NAME_MAX_BYTES)
		return -1;
	memset(fam, 0, sizeof(*fam));
	memcpy(fam->name, arg, (size_t)(eq - arg));
	if ((n = cli_split(eq + 1, items, FAMILY_MAX_MEMBERS)) <= 0)
		return -1;
	for (i = 0; i < n; i++)
		if (id_decode(items[i], fam->ids[fam->n++]) != 0)
			return -1;
	return 0;
}

/* The family's totals: the top-level numbers of the members' reports,
 * summed over the members who share (whose consent the app holds). */
static json_t *
family_json(const struct app_def *d, struct person *people,
    const struct family *fam)
{
	json_t *totals = json_object();
	struct person *p;
	const char *k;
	json_t *v;
	unsigned i, sharing = 0;

	for (i = 0; i < fam->n; i++) {
		json_t *o;

		HASH_FIND(hh, people, fam->ids[i], ID_BYTES, p);
		if (p == NULL)
			continue;
		sharing++;
		o = d->report_user(p->state);
		json_object_foreach(o, k, v) {
			json_t *t = json_object_get(totals, k);

			if (json_is_number(v))
				json_object_set_new(totals, k, json_real(
				    (t ? json_number_value(t) : 0) +
				    json_number_value(v)));
		}
		json_decref(o);
	}
	return json_pack("{s:s, s:I, s:I, s:o}", "family", fam->name,
	    "members", (json_int_t)fam->n, "sharing", (json_int_t)sharing,
	    "totals", totals);
}

static void
report(const struct app_def *d, struct person *people, json_t *by_type,
    unsigned long erased, const struct family *fams, unsigned nfams,
    bool json, FILE *text)
{
	struct person *p, *tmp;
	char id[ID_STR_LEN + 1];
	json_t *families = json_array();
	unsigned i;

	for (i = 0; i < nfams; i++)
		json_array_append_new(families, family_json(d, people, &fams[i]));

	if (json) {
		json_t *arr = json_array(), *out;

		HASH_ITER(hh, people, p, tmp) {
			json_t *o = d->report_user(p->state);

			id_encode(p->id, id);
			json_object_set_new(o, "user", json_string(id));
			json_object_set_new(o, "records",
			    json_integer((json_int_t)p->records));
			json_array_append_new(arr, o);
		}
		out = json_pack("{s:s, s:s, s:O, s:I, s:o, s:o}", "app", d->prog,
		    "purpose", d->purpose, "received", by_type, "erased_people",
		    (json_int_t)erased, "people", arr, "families", families);
		cli_print_json(out);
		json_decref(out);
		return;
	}
	fprintf(text, "== %s: %s\n", d->prog, d->title);
	fprintf(text, "received:");
	{
		const char *k;
		json_t *v;

		json_object_foreach(by_type, k, v)
			fprintf(text, " %s=%lld", k,
			    (long long)json_integer_value(v));
	}
	fprintf(text, "; data erased for %lu people whose consent ended\n",
	    erased);
	HASH_ITER(hh, people, p, tmp) {
		id_encode(p->id, id);
		d->print_user(p->state, id, text);
	}
	for (i = 0; i < json_array_size(families); i++) {
		json_t *f = json_array_get(families, i);
		const char *k;
		json_t *v;

		fprintf(text, "  family %s: %lld of %lld members share:",
		    json_string_value(json_object_get(f, "family")),
		    (long long)json_integer_value(json_object_get(f, "sharing")),
		    (long long)json_integer_value(json_object_get(f, "members")));
		json_object_foreach(json_object_get(f, "totals"), k, v)
			fprintf(text, " %s %.2f", k, json_number_value(v));
		fputc('\n', text);
	}
	json_decref(families);
}

int
app_main(const struct app_def *d, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CONN_OPTIONS,
		{"ask", required_argument, NULL, 'a'},
		{"duration", required_argument, NULL, 'd'},
		{"idle-exit", required_argument, NULL, 'i'},
		{"json", no_argument, NULL, 'j'},
		{"received", required_argument, NULL, 'r'},
		{"report", required_argument, NULL, 'R'},
		{"family", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_conn cc = {0};
	struct cerr err = {0};
	struct app_feed *f = NULL;
	struct feed_event ev;
	struct sigaction sa;
	struct person *people = NULL, *p, *tmp;
	json_t *by_type = json_object();
	const char *askf = NULL, *recf = NULL, *repf = NULL;
	FILE *rf = NULL;
	double duration = 0, idle = 0;
	time_t t0, last;
	unsigned long erased = 0;
	bool json = false;
	struct family fams[FAMILIES_MAX];
	unsigned nfams = 0;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_conn_opt(&cc, c, optarg))
			continue;
		switch (c) {
		case 'a': askf = optarg; break;
		case 'd': duration = atof(optarg); break;
		case 'i': idle = atof(optarg); break;
		case 'j': json = true; break;
		case 'r': recf = optarg; break;
		case 'R': repf = optarg; break;
		case 'f':
			if (nfams == FAMILIES_MAX ||
			    family_parse(optarg, &fams[nfams]) != 0) {
				json_decref(by_type);
				return cli_failx(d->prog, "--family: NAME=ID1,ID2 "
				    "(up to %d families of %d)", FAMILIES_MAX,
				    FAMILY_MAX_MEMBERS);
			}
			nfams++;
			break;
		case 'h': usage(d, stdout); json_decref(by_type); return 0;
		default: usage(d, stderr); json_decref(by_type); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(d, stderr);
		json_decref(by_type);
		return EXIT_USAGE;
	}
	if (recf != NULL && (rf = fopen(recf, "w")) == NULL)
		return cli_failx(d->prog, "cannot write %s", recf);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	cli_connect(&cc, d->prog);
	if ((askf != NULL && (rc = ask(cc.c, d, askf, &err)) != 0) ||
	    (rc = app_feed_open(cc.c, 0, &f, &err)) != 0) {
		cli_disconnect(&cc);
		return cli_fail(d->prog, &err);
	}
	t0 = last = time(NULL);
	while (!stop && (duration <= 0 || time(NULL) - t0 < duration)) {
		rc = app_feed_next(f, 500, &ev, &err);
		if (rc == CARNET_E_TIMEOUT) {
			rc = 0;
			if (idle > 0 && time(NULL) - last >= idle)
				break;
			continue;
		}
		if (rc != 0)
			break;
		last = time(NULL);
		HASH_FIND(hh, people, ev.user, ID_BYTES, p);
		if (ev.kind == FEED_REVOKED) {
			/* Their consent ended: erase what it gave us. */
			if (p != NULL) {
				HASH_DEL(people, p);
				free(p->state);
				free(p);
				erased++;
			}
			/* and say so: the person sees it in their log */
			if ((rc = app_feed_erased(f, &ev, &err)) != 0)
				break;
			continue;
		}
		if (p == NULL) {
			if ((p = calloc(1, sizeof(*p))) == NULL ||
			    (p->state = calloc(1, d->user_size)) == NULL) {
				free(p);
				rc = cerr_set(&err, CARNET_E_NOMEM, "out of memory");
				break;
			}
			memcpy(p->id, ev.user, ID_BYTES);
			HASH_ADD(hh, people, id, ID_BYTES, p);
		}
		d->on_record(p->state, &ev.rec);
		p->records++;
		{
			json_t *n = json_object_get(by_type, ev.rec.type->name);

			json_object_set_new(by_type, ev.rec.type->name,
			    json_integer(n ? json_integer_value(n) + 1 : 1));
		}
		if (rf != NULL) {
			char uid[ID_STR_LEN + 1], tid[TOKID_STR_LEN + 1];

			id_encode(ev.user, uid);
			tokid_encode(ev.token, tid);
			fprintf(rf, "{\"seq\":%llu,\"token\":\"%s\",\"user\":\"%s\","
			    "\"type\":\"%s\"}\n", (unsigned long long)ev.seq, tid,
			    uid, ev.rec.type->name);
			fflush(rf);
		}
		if ((rc = app_feed_ack(f, &ev, &err)) != 0)
			break;
	}
	app_feed_close(&f);
	cli_disconnect(&cc);
	if (rf != NULL)
		fclose(rf);
	report(d, people, by_type, erased, fams, nfams, json, stdout);
	if (repf != NULL) {
		FILE *tf = fopen(repf, "w");

		if (tf == NULL) {
			rc = cerr_set(&err, CARNET_E_IO, "cannot write %s", repf);
		} else {
			report(d, people, by_type, erased, fams, nfams, false, tf);
			fclose(tf);
		}
	}
	HASH_ITER(hh, people, p, tmp) {
		HASH_DEL(people, p);
		free(p->state);
		free(p);
	}
	json_decref(by_type);
	return rc ? cli_fail(d->prog, &err) : 0;
}
