/*
 * chronic.c: carnet-app-chronic, scenario 4 (the booklet's PoidsPlume
 * spirit): "I have a chronic disease: how do I fit my life to it?"  Device
 * readings with lab results and the area's pollen and pollution, summed up
 * week by week.
 */
#include <string.h>

#include "appkit.h"

#define WEEKS 8 /* the last weeks kept */

struct week {
	long index;
	double steps, hr_sum, sleep_sum, pm25_sum, pollen_max;
	double weight_first, weight_last;
	unsigned hr_n, sleep_n, pm25_n, days_weighed;
};

struct follow {
	struct week w[WEEKS];
	double hba1c;
	int64_t hba1c_time;
	long latest_week;
	bool has_hba1c;
	unsigned n;
};

static struct week *
week_of(struct follow *f, int64_t t)
{
	long idx = (long)(t / (7 * 86400));
	struct week *w = &f->w[idx % WEEKS];

	if (w->index != idx) {
		memset(w, 0, sizeof(*w));
		w->index = idx;
	}
	return w;
}

static void
on_record(void *st, const struct record *r)
{
	struct follow *f = st;
	struct week *w;
	char kind[32];
	double v;

	f->n++;
	if (!rec_num(r, "value", &v))
		return;
	if (strcmp(r->type->name, "lab_result") == 0) {
		rec_str(r, "loinc", kind, sizeof(kind));
		if (strcmp(kind, "4548-4") == 0 && r->time >= f->hba1c_time) {
			f->hba1c = v;
			f->hba1c_time = r->time;
			f->has_hba1c = true;
		}
		return;
	}
	/* Readings only: the weeks follow the devices. */
	if (r->time / (7 * 86400) < f->latest_week)
		return;
	w = week_of(f, r->time);
	if (w->index > f->latest_week)
		f->latest_week = w->index;
	rec_str(r, "kind", kind, sizeof(kind));
	if (strcmp(kind, "steps") == 0) {
		w->steps += v;
	} else if (strcmp(kind, "heart_rate_bpm") == 0) {
		w->hr_sum += v;
		w->hr_n++;
	} else if (strcmp(kind, "sleep_min") == 0) {
		w->sleep_sum += v;
		w->sleep_n++;
	} else if (strcmp(kind, "weight_kg") == 0) {
		if (w->days_weighed++ == 0)
			w->weight_first = v;
		w->weight_last = v;
	} else if (strcmp(kind, "pm25") == 0) {
		w->pm25_sum += v;
		w->pm25_n++;
	} else if (strcmp(kind, "pollen") == 0 && v > w->pollen_max) {
		w->pollen_max = v;
	}
}

static double
avg(double sum, unsigned n)
{
	return n ? sum / n : 0;
}

static json_t *
report_user(const void *st)
{
	const struct follow *f = st;
	json_t *weeks = json_array();
	int i;

	for (i = 0; i < WEEKS; i++) {
		const struct week *w = &f->w[i];

		if (w->index == 0 || w->index + WEEKS <= f->latest_week)
			continue;
		json_array_append_new(weeks, json_pack("{s:I, s:f, s:f, s:f, "
		    "s:f, s:f, s:f}", "week", (json_int_t)w->index,
		    "steps_per_day", w->steps / 7, "heart_rate", avg(w->hr_sum,
		    w->hr_n), "sleep_min", avg(w->sleep_sum, w->sleep_n),
		    "weight_change", w->weight_last - w->weight_first, "pm25",
		    avg(w->pm25_sum, w->pm25_n), "pollen_max", w->pollen_max));
	}
	return json_pack("{s:o, s:o}", "weeks", weeks, "hba1c", f->has_hba1c ?
	    json_real(f->hba1c) : json_null());
}

static void
print_user(const void *st, const char *id, FILE *out)
{
	const struct follow *f = st;
	char d[TIME_STR_LEN + 1];
	int i;

	fprintf(out, "  %.12s  %u readings", id, f->n);
	if (f->has_hba1c)
		fprintf(out, ", last HbA1c %.1f %%", f->hba1c);
	fputc('\n', out);
	for (i = 0; i < WEEKS; i++) {
		const struct week *w = &f->w[i];

		if (w->index == 0 || w->index + WEEKS <= f->latest_week)
			continue;
		time_format((int64_t)w->index * 7 * 86400, d);
		fprintf(out, "      week of %.10s: %5.0f steps/day, heart %3.0f, "
		    "sleep %3.0f min, weight %+.1f kg, PM2.5 %4.1f, pollen max "
		    "%.0f%s\n", d, w->steps / 7, avg(w->hr_sum, w->hr_n),
		    avg(w->sleep_sum, w->sleep_n), w->weight_last -
		    w->weight_first, avg(w->pm25_sum, w->pm25_n), w->pollen_max,
		    w->pollen_max >= 4 ? "  <- high pollen: keep your inhaler" :
		    "");
	}
}

int
main(int argc, char **argv)
{
	static const struct app_def d = {
		"carnet-app-chronic",
		"chronic disease follow-up: activity, weight, sleep, heart rate "
		"with lab results, pollen and pollution, week by week",
		"chronic-care", "observation,lab_result,context",
		"to relate your daily life, your results and the air you breathe",
		sizeof(struct follow), on_record, report_user, print_user,
	};

	return app_main(&d, argc, argv);
}
