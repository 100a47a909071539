/*
 * assets.c: the dashboard page's files (dashboard/web/), built into
 * carnet with the assembler's .incbin, so that the program alone serves
 * the page: nothing to install beside it, nothing fetched from elsewhere.
 */
#include <string.h>

#include "api.h"

/* Defines SYM (the file's bytes) and SYM_end, in read-only data. */
#define ASSET(sym, file)                                                      \
	__asm__(".section .rodata\n"                                          \
	    ".global " #sym "\n"                                              \
	    ".global " #sym "_end\n"                                          \
	    ".balign 16\n" #sym ":\n"                                         \
	    ".incbin \"dashboard/web/" file "\"\n" #sym "_end:\n"           \
	    ".byte 0\n"                                                       \
	    ".previous\n");                                                   \
	extern const char sym[], sym##_end[]

ASSET(carnet_asset_index, "index.html");
ASSET(carnet_asset_js, "dashboard.js");
ASSET(carnet_asset_i18n, "i18n.js");
ASSET(carnet_asset_css, "dashboard.css");
ASSET(carnet_asset_chart, "vendor/chart.umd.min.js");
ASSET(carnet_asset_chart_license, "vendor/chart.js-LICENSE.md");

#define JS "text/javascript; charset=utf-8"

const struct dash_asset *
dash_asset(const char *path)
{
	static struct dash_asset table[] = {
		{"/", "text/html; charset=utf-8", NULL, 0},
		{"/dashboard.js", JS, NULL, 0},
		{"/i18n.js", JS, NULL, 0},
		{"/dashboard.css", "text/css; charset=utf-8", NULL, 0},
		{"/vendor/chart.umd.min.js", JS, NULL, 0},
		{"/vendor/chart.js-LICENSE.md", "text/plain; charset=utf-8",
		    NULL, 0},
	};
	static const char *const start[] = {carnet_asset_index,
	    carnet_asset_js, carnet_asset_i18n, carnet_asset_css,
	    carnet_asset_chart, carnet_asset_chart_license};
	static const char *const end[] = {carnet_asset_index_end,
	    carnet_asset_js_end, carnet_asset_i18n_end, carnet_asset_css_end,
	    carnet_asset_chart_end, carnet_asset_chart_license_end};
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		table[i].data = start[i];
		table[i].len = (size_t)(end[i] - start[i]);
		if (strcmp(path, table[i].path) == 0 ||
		    (i == 0 && strcmp(path, "/index.html") == 0))
			return &table[i];
	}
	return NULL;
}
