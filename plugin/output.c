/* output.c - printing trees and tables the way kubectl does (see cli.h). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "yamlconv.h"
#include "xalloc.h"

int print_json(FILE *f, const cJSON *item)
{
	char *text = cJSON_Print(item), *p;
	int at_line_start = 1;

	if (!text)
		return -1;
	/* cJSON indents with tabs and puts a tab after ':'; kubectl uses 4
	 * spaces and one space. Raw tabs never occur inside JSON strings. */
	for (p = text; *p; p++) {
		if (*p == '\t') {
			fputs(at_line_start ? "    " : " ", f);
			continue;
		}
		at_line_start = *p == '\n';
		fputc(*p, f);
	}
	fputc('\n', f);
	free(text);
	return 0;
}

int print_yaml(FILE *f, const cJSON *item, ws_err *err)
{
	char *text = ws_yaml_emit(item, err);

	if (!text)
		return -1;
	/* libyaml starts documents with "---"; kubectl does not for one object. */
	fputs(strncmp(text, "---\n", 4) == 0 ? text + 4 : text, f);
	free(text);
	return 0;
}

int print_as(FILE *f, const char *format, const cJSON *item, ws_err *err)
{
	if (strcmp(format, "json") == 0)
		return print_json(f, item);
	if (strcmp(format, "yaml") == 0)
		return print_yaml(f, item, err);
	return ws_fail(err, WS_E_INVALID, "unknown output format '%s'", format);
}

void print_table(FILE *f, const char *const *cells, size_t nrows, size_t ncols)
{
	size_t *width = xcalloc(ncols, sizeof(*width)), r, c;

	for (r = 0; r < nrows; r++)
		for (c = 0; c < ncols; c++)
			if (strlen(cells[r * ncols + c]) > width[c])
				width[c] = strlen(cells[r * ncols + c]);
	for (r = 0; r < nrows; r++) {
		for (c = 0; c < ncols; c++) {
			const char *s = cells[r * ncols + c];

			if (c + 1 < ncols)
				fprintf(f, "%-*s   ", (int)width[c], s);
			else
				fputs(s, f);
		}
		fputc('\n', f);
	}
	free(width);
}

void rfc3339_now(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
