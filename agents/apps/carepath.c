/*
 * carepath.c: carnet-app-carepath, scenario 3: "how do I plan my care
 * over the long term?"  The history of lab results and care since the
 * consent's date, with each test's trend.
 */
#include <math.h>
#include <string.h>

#include "appkit.h"

struct series {
	char loinc[16], label[80], unit[16];
	double first, last, lo, hi;
	int64_t t_first, t_last;
	unsigned n;
};

struct visits {
	char who[40];
	unsigned n;
};

struct path {
	struct series s[8];
	struct visits v[8];
	unsigned claims;
};

static void
on_record(void *st, const struct record *r)
{
	struct path *p = st;
	char key[80];
	double v;
	int i;

	if (strcmp(r->type->name, "claim") == 0) {
		p->claims++;
		rec_str(r, "practitioner", key, sizeof(key));
		if (key[0] == '\0')
			strcpy(key, "care");
		for (i = 0; i < 8 && p->v[i].who[0] && strcmp(p->v[i].who,
		    key) != 0; i++)
			;
		if (i < 8) {
			snprintf(p->v[i].who, sizeof(p->v[i].who), "%.39s", key);
			p->v[i].n++;
		}
		return;
	}
	if (!rec_num(r, "value", &v))
		return;
	rec_str(r, "loinc", key, sizeof(key));
	for (i = 0; i < 8 && p->s[i].loinc[0] && strcmp(p->s[i].loinc, key) != 0;
	    i++)
		;
	if (i == 8)
		return;
	if (p->s[i].n == 0) {
		snprintf(p->s[i].loinc, sizeof(p->s[i].loinc), "%.15s", key);
		rec_str(r, "label", p->s[i].label, sizeof(p->s[i].label));
		rec_str(r, "unit", p->s[i].unit, sizeof(p->s[i].unit));
		p->s[i].lo = p->s[i].hi = NAN;
		rec_num(r, "ref_low", &p->s[i].lo);
		rec_num(r, "ref_high", &p->s[i].hi);
		p->s[i].first = p->s[i].last = v;
		p->s[i].t_first = p->s[i].t_last = r->time;
	}
	if (r->time < p->s[i].t_first) {
		p->s[i].first = v;
		p->s[i].t_first = r->time;
	}
	if (r->time >= p->s[i].t_last) {
		p->s[i].last = v;
		p->s[i].t_last = r->time;
	}
	p->s[i].n++;
}

static const char *
trend(const struct series *s)
{
	double d = s->last - s->first;

	if (s->n < 2 || fabs(d) <= 0.03 * fabs(s->first))
		return "stable";
	return d > 0 ? "rising" : "falling";
}

static json_t *
report_user(const void *st)
{
	const struct path *p = st;
	json_t *tests = json_array(), *care = json_object();
	int i;

	for (i = 0; i < 8 && p->s[i].n; i++)
		json_array_append_new(tests, json_pack("{s:s, s:s, s:i, s:f, "
		    "s:f, s:s, s:s}", "loinc", p->s[i].loinc, "label",
		    p->s[i].label, "results", p->s[i].n, "first", p->s[i].first,
		    "last", p->s[i].last, "unit", p->s[i].unit, "trend",
		    trend(&p->s[i])));
	for (i = 0; i < 8 && p->v[i].n; i++)
		json_object_set_new(care, p->v[i].who, json_integer(p->v[i].n));
	return json_pack("{s:o, s:o}", "tests", tests, "care", care);
}

static void
print_user(const void *st, const char *id, FILE *out)
{
	const struct path *p = st;
	char from[TIME_STR_LEN + 1], to[TIME_STR_LEN + 1];
	int i;

	fprintf(out, "  %.12s  %u acts of care:", id, p->claims);
	for (i = 0; i < 8 && p->v[i].n; i++)
		fprintf(out, " %s x%u", p->v[i].who, p->v[i].n);
	fputc('\n', out);
	for (i = 0; i < 8 && p->s[i].n; i++) {
		time_format(p->s[i].t_first, from);
		time_format(p->s[i].t_last, to);
		fprintf(out, "      %-28.28s %6.1f -> %6.1f %-7s %-7s (%u results, "
		    "%.10s to %.10s)\n", p->s[i].label, p->s[i].first,
		    p->s[i].last, p->s[i].unit, trend(&p->s[i]), p->s[i].n, from,
		    to);
	}
}

int
main(int argc, char **argv)
{
	static const struct app_def d = {
		"carnet-app-carepath",
		"long-term care path: lab results and care over time, with "
		"trends",
		"care-path", "lab_result,claim",
		"to follow your results and care over the years",
		sizeof(struct path), on_record, report_user, print_user,
	};

	return app_main(&d, argc, argv);
}
