/*
 * report.c: the table on stdout, RESULTS.md and results.json.
 *
 * Every figure is kept in one jansson tree as it comes; the Markdown is
 * written from that same tree, so the two files always agree.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <lmdb.h>
#include <msgpack.h>
#include <nats/nats.h>
#include <sodium.h>
#include <zmq.h>

#include "report.h"

static json_t *sections, *order, *goals, *cur;

static void
init(void)
{
	if (sections == NULL) {
		sections = json_object();
		order = json_array();
		goals = json_array();
	}
}

void
report_section(const char *key, const char *title, const char *about)
{
	init();
	cur = json_pack("{s:s, s:s, s:[]}", "title", title, "about", about,
	    "figures");
	json_object_set_new(sections, key, cur);
	json_array_append_new(order, json_string(key));
	printf("\n== %s\n", title);
	fflush(stdout);
}

/* A figure as both the table and RESULTS.md show it. */
static void
fmt_value(double v, char *out, size_t len)
{
	if (isnan(v))
		snprintf(out, len, "not run");
	else if (fabs(v) >= 100 || v == floor(v))
		snprintf(out, len, "%.0f", v);
	else
		snprintf(out, len, "%.3g", v);
}

void
report_fig(const char *key, const char *label, double value,
    const char *unit, const char *fmt, ...)
{
	char note[256] = "", val[32];
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(note, sizeof(note), fmt, ap);
		va_end(ap);
	}
	fmt_value(value, val, sizeof(val));
	printf("  %-46s %12s %-9s %s\n", label, val, unit, note);
	fflush(stdout);
	json_array_append_new(json_object_get(cur, "figures"), json_pack(
	    "{s:s, s:s, s:o, s:s, s:s}", "key", key, "label", label, "value",
	    isnan(value) ? json_null() : json_real(value), "unit", unit,
	    "note", note));
}

void
report_goal(const char *what, bool met, const char *fmt, ...)
{
	char how[256];
	va_list ap;

	init();
	va_start(ap, fmt);
	vsnprintf(how, sizeof(how), fmt, ap);
	va_end(ap);
	json_array_append_new(goals, json_pack("{s:s, s:b, s:s}", "goal", what,
	    "met", met, "measured", how));
}

void
report_command_line(const char *cmd, char *out, size_t len)
{
	FILE *p = popen(cmd, "r");

	snprintf(out, len, "unknown");
	if (p != NULL) {
		if (fgets(out, (int)len, p) == NULL)
			snprintf(out, len, "unknown");
		pclose(p);
	}
	out[strcspn(out, "\n")] = '\0';
}

static json_t *
machine(void)
{
	struct utsname u;
	struct sysinfo si;
	char cpu[256], nats[128], commit[64], zmqv[32];
	int za, zb, zc;

	zmq_version(&za, &zb, &zc);
	snprintf(zmqv, sizeof(zmqv), "%d.%d.%d", za, zb, zc);
	uname(&u);
	sysinfo(&si);
	report_command_line("grep -m1 'model name' /proc/cpuinfo | "
	    "cut -d: -f2- | sed 's/^ //'", cpu, sizeof(cpu));
	report_command_line("nats-server --version 2>/dev/null", nats,
	    sizeof(nats));
	report_command_line("git rev-parse --short HEAD 2>/dev/null", commit,
	    sizeof(commit));
	return json_pack("{s:s, s:s, s:s, s:i, s:I, s:{s:s, s:s, s:s, s:s, "
	    "s:s, s:s, s:s}, s:s}",
	    "kernel", u.release, "arch", u.machine, "cpu", cpu,
	    "cores", (int)sysconf(_SC_NPROCESSORS_ONLN),
	    "ram_mib", (json_int_t)((uint64_t)si.totalram * si.mem_unit >> 20),
	    "versions",
	    "libzmq", zmqv,
	    "libsodium", sodium_version_string(),
	    "lmdb", mdb_version(NULL, NULL, NULL),
	    "msgpack-c", msgpack_version(),
	    "jansson", JANSSON_VERSION,
	    "libnats", nats_GetVersion(),
	    "nats-server", nats,
	    "carnet_commit", commit);
}

static void
md_escape_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', f);
		fputc(*s, f);
	}
}

static void
write_md(FILE *f, json_t *root, const char *commands, const char *dir)
{
	json_t *m = json_object_get(root, "machine"), *v, *g, *k;
	const char *key;
	size_t i, j;
	char path[600], line[1024];
	FILE *extra;

	fprintf(f, "# carnet benchmark results\n\n");
	fprintf(f, "Written by `make bench` (bench/); do not edit by hand: "
	    "the next run rewrites it.\n\n");
	fprintf(f, "- date: %s\n", json_string_value(json_object_get(root,
	    "date")));
	fprintf(f, "- run: %s\n", json_is_true(json_object_get(root,
	    "quick")) ? "QUICK (reduced sizes: figures are indicative only)" :
	    "full");
	fprintf(f, "- machine: %s, %lld cores, %lld MiB RAM, Linux %s %s\n",
	    json_string_value(json_object_get(m, "cpu")),
	    json_integer_value(json_object_get(m, "cores")),
	    json_integer_value(json_object_get(m, "ram_mib")),
	    json_string_value(json_object_get(m, "kernel")),
	    json_string_value(json_object_get(m, "arch")));
	fprintf(f, "- versions:");
	json_object_foreach(json_object_get(m, "versions"), key, v)
		fprintf(f, " %s %s;", key, json_string_value(v));
	fprintf(f, "\n- commands: `%s`\n\n", commands);
	fprintf(f, "**ratio_vs_raw_zmq: %.3f** (not measured when 0; carnet deliveries/s with CURVE, "
	    "fsync'd commits, consent checks, minimisation and a use-log entry "
	    "per delivery, over the raw ZeroMQ path's, same run)\n\n",
	    json_real_value(json_object_get(root, "ratio_vs_raw_zmq")));
	fprintf(f, "## Goals\n\n| goal | met | measured |\n|---|---|---|\n");
	json_array_foreach(json_object_get(root, "goals"), i, g) {
		fputs("| ", f);
		md_escape_cell(f, json_string_value(json_object_get(g, "goal")));
		fprintf(f, " | %s | ", json_is_true(json_object_get(g, "met")) ?
		    "yes" : "**no**");
		md_escape_cell(f, json_string_value(json_object_get(g,
		    "measured")));
		fputs(" |\n", f);
	}
	json_array_foreach(json_object_get(root, "order"), i, k) {
		json_t *s = json_object_get(json_object_get(root, "sections"),
		    json_string_value(k)), *fig;

		fprintf(f, "\n## %s\n\n%s\n\n| figure | value | unit | note |\n"
		    "|---|---:|---|---|\n", json_string_value(json_object_get(s,
		    "title")), json_string_value(json_object_get(s, "about")));
		json_array_foreach(json_object_get(s, "figures"), j, fig) {
			json_t *val = json_object_get(fig, "value");
			char num[32];

			fmt_value(json_is_null(val) ? NAN : json_real_value(val),
			    num, sizeof(num));
			fputs("| ", f);
			md_escape_cell(f, json_string_value(json_object_get(fig,
			    "label")));
			fprintf(f, " | %s | %s | ", num, json_string_value(
			    json_object_get(fig, "unit")));
			md_escape_cell(f, json_string_value(json_object_get(fig,
			    "note")));
			fputs(" |\n", f);
		}
	}
	/* the profile and the before/after notes, kept by hand */
	snprintf(path, sizeof(path), "%s/PROFILE.md", dir);
	if ((extra = fopen(path, "r")) != NULL) {
		fputc('\n', f);
		while (fgets(line, sizeof(line), extra) != NULL)
			fputs(line, f);
		fclose(extra);
	}
}

int
report_write(const char *dir, bool quick, const char *commands,
    double ratio_vs_raw)
{
	char path[600], date[64];
	time_t now = time(NULL);
	json_t *root;
	FILE *f;
	int rc = 0;

	init();
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	/* JSON has no NaN: a figure not measured is null */
	root = json_pack("{s:s, s:b, s:s, s:o, s:o, s:O, s:O, s:O}",
	    "date", date, "quick", quick, "commands", commands,
	    "machine", machine(), "ratio_vs_raw_zmq", isnan(ratio_vs_raw) ?
	    json_null() : json_real(ratio_vs_raw),
	    "goals", goals, "order", order, "sections", sections);
	if (root == NULL) {
		fprintf(stderr, "carnet-bench: cannot build the results\n");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/results.json", dir);
	if (json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
		fprintf(stderr, "carnet-bench: cannot write %s\n", path);
		rc = -1;
	}
	snprintf(path, sizeof(path), "%s/RESULTS.md", dir);
	if ((f = fopen(path, "w")) == NULL) {
		fprintf(stderr, "carnet-bench: cannot write %s\n", path);
		rc = -1;
	} else {
		write_md(f, root, commands, dir);
		if (fclose(f) != 0)
			rc = -1;
	}
	json_decref(root);
	return rc;
}
