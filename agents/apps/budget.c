/*
 * budget.c: carnet-app-budget, scenario 1 of the 2017 experiment: "how do
 * I plan and follow the health budget of my family?"  From claims and
 * dispensing: paid, reimbursed (insurer and mutual) and left to pay, per
 * month and per kind of care, per person and for everyone who shares.
 */
#include <string.h>
#include <time.h>

#include "appkit.h"

static const char *const kinds[] = {"consultation", "dental", "optical", "lab",
	"pharmacy", "other"};
#define NKINDS 6

struct budget {
	double paid, insurer, mutual;
	double month_paid[12], month_back[12];
	double kind_paid[NKINDS];
	unsigned n;
	unsigned unpriced; /* acts whose amount the holder did not give */
};

static int
kind_of(const struct record *r)
{
	char k[32];
	int i;

	if (strcmp(r->type->name, "dispense") == 0)
		return 4;
	rec_str(r, "care_kind", k, sizeof(k));
	for (i = 0; i < NKINDS; i++)
		if (strcmp(k, kinds[i]) == 0)
			return i;
	return NKINDS - 1;
}

static void
on_record(void *st, const struct record *r)
{
	struct budget *b = st;
	double amount = 0, back = 0, mutual = 0;
	time_t t = (time_t)r->time;
	struct tm tm;
	int m;

	gmtime_r(&t, &tm);
	m = tm.tm_mon;
	/* an act without an amount is counted apart, never as 0 paid */
	if (!rec_num(r, "amount_eur", &amount))
		b->unpriced++;
	rec_num(r, "reimbursed_eur", &back);
	rec_num(r, "mutual_eur", &mutual);
	b->paid += amount;
	b->insurer += back;
	b->mutual += mutual;
	b->month_paid[m] += amount;
	b->month_back[m] += back + mutual;
	b->kind_paid[kind_of(r)] += amount;
	b->n++;
}

static json_t *
report_user(const void *st)
{
	const struct budget *b = st;
	json_t *months = json_array(), *k = json_object();
	int i;

	for (i = 0; i < 12; i++)
		json_array_append_new(months, json_pack("{s:f, s:f}", "paid",
		    b->month_paid[i], "reimbursed", b->month_back[i]));
	for (i = 0; i < NKINDS; i++)
		if (b->kind_paid[i] > 0)
			json_object_set_new(k, kinds[i], json_real(b->kind_paid[i]));
	return json_pack("{s:f, s:f, s:f, s:f, s:o, s:o, s:i}", "paid", b->paid,
	    "insurer", b->insurer, "mutual", b->mutual, "left_to_pay",
	    b->paid - b->insurer - b->mutual, "by_kind", k, "by_month", months,
	    "acts_without_amount", (int)b->unpriced);
}

static void
print_user(const void *st, const char *id, FILE *out)
{
	const struct budget *b = st;
	int i;

	fprintf(out, "  %.12s  %3u acts  paid %8.2f  insurer %8.2f  mutual "
	    "%7.2f  left %7.2f EUR\n", id, b->n, b->paid, b->insurer, b->mutual,
	    b->paid - b->insurer - b->mutual);
	if (b->unpriced > 0)
		fprintf(out, "      %u acts without an amount (not counted)\n",
		    b->unpriced);
	fprintf(out, "      by kind:");
	for (i = 0; i < NKINDS; i++)
		if (b->kind_paid[i] > 0)
			fprintf(out, " %s %.2f", kinds[i], b->kind_paid[i]);
	fprintf(out, "\n      by month (paid/back):");
	for (i = 0; i < 12; i++)
		if (b->month_paid[i] > 0 || b->month_back[i] > 0)
			fprintf(out, " %02d:%.0f/%.0f", i + 1, b->month_paid[i],
			    b->month_back[i]);
	fputc('\n', out);
}

int
main(int argc, char **argv)
{
	static const struct app_def d = {
		"carnet-app-budget",
		"health budget for me and my family: paid, reimbursed and left "
		"to pay, per month and kind of care",
		"budget", "claim,dispense",
		"to show what your care costs you and your family, month by month",
		sizeof(struct budget), on_record, report_user, print_user,
	};

	return app_main(&d, argc, argv);
}
