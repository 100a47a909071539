/*
 * emergency.c: carnet-app-emergency, scenario 2: "after a serious accident,
 * how am I helped and cared for?"  The booklet's "Mon Livret Sante": the
 * essentials on one printable card, from the profile, recent dispensing
 * and lab results out of range.
 */
#include <string.h>

#include "appkit.h"

struct drug {
	char name[80];
	int64_t time;
};

struct abnormal {
	char label[80], unit[16];
	double value;
	int64_t time;
};

struct card {
	bool has_profile;
	int64_t birth_year;
	char blood[8], allergies[200], conditions[200], treatments[200];
	char contact[160];
	struct drug drugs[3];
	struct abnormal labs[4];
	unsigned n;
};

static void
on_record(void *st, const struct record *r)
{
	struct card *c = st;
	char buf[200];
	double v, lo, hi, by;
	int i;

	c->n++;
	if (strcmp(r->type->name, "profile") == 0) {
		c->has_profile = true;
		if (rec_num(r, "birth_year", &by))
			c->birth_year = (int64_t)by;
		rec_str(r, "blood_group", c->blood, sizeof(c->blood));
		rec_list(r, "allergies", c->allergies, sizeof(c->allergies));
		rec_list(r, "conditions", c->conditions, sizeof(c->conditions));
		rec_list(r, "treatments", c->treatments, sizeof(c->treatments));
		rec_str(r, "emergency_contact", c->contact, sizeof(c->contact));
	} else if (strcmp(r->type->name, "dispense") == 0) {
		rec_str(r, "drug", buf, sizeof(buf));
		for (i = 0; i < 3; i++)
			if (strcmp(c->drugs[i].name, buf) == 0)
				break;
		if (i == 3) { /* replace the oldest */
			for (i = 0; i < 3 && c->drugs[i].name[0]; i++)
				;
			if (i == 3)
				for (i = 0; i < 2 && c->drugs[i].time <=
				    c->drugs[2].time; i++)
					;
		}
		if (r->time >= c->drugs[i].time) {
			snprintf(c->drugs[i].name, sizeof(c->drugs[i].name), "%.79s",
			    buf);
			c->drugs[i].time = r->time;
		}
	} else if (strcmp(r->type->name, "lab_result") == 0 &&
	    rec_num(r, "value", &v) && rec_num(r, "ref_low", &lo) &&
	    rec_num(r, "ref_high", &hi) && (v < lo || v > hi)) {
		rec_str(r, "label", buf, sizeof(buf));
		for (i = 0; i < 4 && c->labs[i].label[0] &&
		    strcmp(c->labs[i].label, buf) != 0; i++)
			;
		if (i < 4 && r->time >= c->labs[i].time) {
			snprintf(c->labs[i].label, sizeof(c->labs[i].label), "%.79s",
			    buf);
			rec_str(r, "unit", c->labs[i].unit, sizeof(c->labs[i].unit));
			c->labs[i].value = v;
			c->labs[i].time = r->time;
		}
	}
}

static json_t *
report_user(const void *st)
{
	const struct card *c = st;
	json_t *drugs = json_array(), *labs = json_array();
	int i;

	for (i = 0; i < 3; i++)
		if (c->drugs[i].name[0])
			json_array_append_new(drugs, json_string(c->drugs[i].name));
	for (i = 0; i < 4; i++)
		if (c->labs[i].label[0])
			json_array_append_new(labs, json_pack("{s:s, s:f, s:s}",
			    "label", c->labs[i].label, "value", c->labs[i].value,
			    "unit", c->labs[i].unit));
	return json_pack("{s:b, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "profile",
	    c->has_profile, "blood_group", c->blood, "allergies", c->allergies,
	    "conditions", c->conditions, "treatments", c->treatments,
	    "contact", c->contact, "recent_drugs", drugs, "out_of_range", labs);
}

#define LINE "+------------------------------------------------------------+"

static void
print_user(const void *st, const char *id, FILE *out)
{
	const struct card *c = st;
	int i;

	fprintf(out, "%s\n| EMERGENCY CARD  %-42.42s |\n%s\n", LINE, id, LINE);
	if (c->has_profile) {
		fprintf(out, "| blood group: %-5s born: %-34lld |\n", c->blood,
		    (long long)c->birth_year);
		fprintf(out, "| allergies:   %-46.46s |\n", c->allergies[0] ?
		    c->allergies : "none known");
		fprintf(out, "| conditions:  %-46.46s |\n", c->conditions[0] ?
		    c->conditions : "none known");
		fprintf(out, "| treatments:  %-46.46s |\n", c->treatments);
		fprintf(out, "| call:        %-46.46s |\n", c->contact);
	} else {
		fprintf(out, "| (no profile shared)                                        |\n");
	}
	for (i = 0; i < 3; i++)
		if (c->drugs[i].name[0])
			fprintf(out, "| recent drug: %-46.46s |\n", c->drugs[i].name);
	for (i = 0; i < 4; i++)
		if (c->labs[i].label[0])
			fprintf(out, "| out of range: %-28.28s %8.1f %-6.6s |\n",
			    c->labs[i].label, c->labs[i].value, c->labs[i].unit);
	fprintf(out, "%s\n", LINE);
}

int
main(int argc, char **argv)
{
	static const struct app_def d = {
		"carnet-app-emergency",
		"emergency card (Mon Livret Sante): allergies, conditions, "
		"treatments, blood group, who to call",
		"emergency-card", "profile,dispense,lab_result",
		"to print the card that helps rescuers care for you",
		sizeof(struct card), on_record, report_user, print_user,
	};

	return app_main(&d, argc, argv);
}
