/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The output side of every study: the table on stdout, a CSV, a gnuplot
 * script and its PNG, the goal lines. A figure is only ever printed next to
 * its anchor and the ratio of the two.
 */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>

#include "bench.h"

void
bench_table_init(struct bench_table *t, const char *study, const char *title,
		 const char *unit, const char *aux_unit, const char *xlabel)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->study, sizeof(t->study), "%s", study);
	snprintf(t->title, sizeof(t->title), "%s", title);
	snprintf(t->unit, sizeof(t->unit), "%s", unit);
	snprintf(t->aux_unit, sizeof(t->aux_unit), "%s", aux_unit);
	snprintf(t->xlabel, sizeof(t->xlabel), "%s", xlabel);
}

struct bench_row *
bench_add(struct bench_table *t, const char *group, const char *name, const char *series,
	  const char *anchor, double x, double ours, double theirs)
{
	struct bench_row *r;

	if (t->nb_rows == BENCH_MAX_ROWS) {
		t->failures++;
		return NULL;
	}
	r = &t->rows[t->nb_rows++];
	snprintf(r->group, sizeof(r->group), "%s", group);
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->series, sizeof(r->series), "%s", series);
	snprintf(r->anchor, sizeof(r->anchor), "%s", anchor);
	r->x = x;
	r->ours = ours;
	r->theirs = theirs;
	r->ours_aux = NAN;
	r->theirs_aux = NAN;
	return r;
}

double
bench_ratio(const struct bench_row *r)
{
	return r->ours / r->theirs;
}

/* An aux figure, or "-" where the row has none. */
static void
print_aux(FILE *f, double v)
{
	if (isnan(v))
		fprintf(f, " %9s", "-");
	else
		fprintf(f, " %9.1f", v);
}

void
bench_print(FILE *f, const struct bench_table *t)
{
	const char *last = "";
	unsigned int i;

	fprintf(f, "\n== %s: %s\n", t->study, t->title);
	fprintf(f, "%-34s %10s %10s %7s", "", "ours", "anchor", "ratio");
	if (t->aux_unit[0] != '\0')
		fprintf(f, " %9s %9s", "ours", "anchor");
	fprintf(f, "  anchor\n");
	fprintf(f, "%-34s %21s %7s", "", t->unit, t->higher_better ? "(>1 win)" : "(<1 win)");
	if (t->aux_unit[0] != '\0')
		fprintf(f, " %19s", t->aux_unit);
	fprintf(f, "\n");
	for (i = 0; i < t->nb_rows; i++) {
		const struct bench_row *r = &t->rows[i];

		if (strcmp(r->group, last) != 0) {
			fprintf(f, "-- %s\n", r->group);
			last = r->group;
		}
		fprintf(f, "%-34s %10.2f %10.2f %6.2fx", r->name, r->ours, r->theirs,
			bench_ratio(r));
		if (t->aux_unit[0] != '\0') {
			print_aux(f, r->ours_aux);
			print_aux(f, r->theirs_aux);
		}
		fprintf(f, "  %s: %s\n", r->series, r->anchor);
	}
	if (t->failures != 0)
		fprintf(f, "WARNING: %u operations failed during the study\n", t->failures);
}

static FILE *
open_in(const char *dir, const char *study, const char *ext, const char *mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.%s", dir, study, ext);
	f = fopen(path, mode);
	if (f == NULL)
		perror(path);
	return f;
}

int
bench_write_csv(const struct bench_table *t, const char *dir)
{
	unsigned int i;
	FILE *f = open_in(dir, t->study, "csv", "w");

	if (f == NULL)
		return -1;
	fprintf(f, "study,group,name,series,anchor,x,ours,anchor_value,ratio,ours_aux,"
		"anchor_aux,unit,aux_unit\n");
	for (i = 0; i < t->nb_rows; i++) {
		const struct bench_row *r = &t->rows[i];

		fprintf(f, "%s,\"%s\",\"%s\",\"%s\",\"%s\",%g,%.4f,%.4f,%.4f,%.2f,%.2f,"
			"\"%s\",\"%s\"\n", t->study, r->group, r->name, r->series, r->anchor,
			r->x, r->ours, r->theirs, bench_ratio(r), r->ours_aux, r->theirs_aux,
			t->unit, t->aux_unit);
	}
	fclose(f);
	printf("wrote %s/%s.csv\n", dir, t->study);
	return 0;
}

/* Lines of one panel: our series and the anchors, in order of appearance. */
#define MAX_LINES 8

static unsigned int
panel_lines(const struct bench_table *t, const char *group, const char *lines[MAX_LINES],
	    int is_ours[MAX_LINES])
{
	unsigned int i, k, n = 0, j;

	for (i = 0; i < t->nb_rows; i++) {
		const struct bench_row *r = &t->rows[i];
		const char *names[2] = { r->series, r->anchor };

		if (strcmp(r->group, group) != 0)
			continue;
		for (k = 0; k < 2; k++) {
			for (j = 0; j < n; j++)
				if (strcmp(lines[j], names[k]) == 0)
					break;
			if (j == n && n < MAX_LINES) {
				lines[n] = names[k];
				is_ours[n++] = k == 0;
			}
		}
	}
	return n;
}

/* Points of one line: (x, value) once per x, in row order. */
static void
write_block(FILE *gp, const struct bench_table *t, const char *group, const char *line,
	    int ours, unsigned int id)
{
	double seen[BENCH_MAX_ROWS];
	unsigned int i, j, n = 0;

	fprintf(gp, "$d%u << EOD\n", id);
	for (i = 0; i < t->nb_rows; i++) {
		const struct bench_row *r = &t->rows[i];

		if (strcmp(r->group, group) != 0 ||
		    strcmp(ours ? r->series : r->anchor, line) != 0)
			continue;
		for (j = 0; j < n; j++)
			if (seen[j] == r->x)
				break;
		if (j < n)
			continue;
		seen[n++] = r->x;
		fprintf(gp, "%g %g\n", r->x, ours ? r->ours : r->theirs);
	}
	fprintf(gp, "EOD\n");
}

static unsigned int
groups_of(const struct bench_table *t, const char *groups[BENCH_MAX_ROWS])
{
	unsigned int i, j, n = 0;

	for (i = 0; i < t->nb_rows; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(groups[j], t->rows[i].group) == 0)
				break;
		if (j == n)
			groups[n++] = t->rows[i].group;
	}
	return n;
}

/* True when every row of @p group has the same abscissa, given in @p x. */
static int
group_one_x(const struct bench_table *t, const char *group, double *x)
{
	unsigned int i, n = 0;

	for (i = 0; i < t->nb_rows; i++) {
		if (strcmp(t->rows[i].group, group) != 0)
			continue;
		if (n++ == 0)
			*x = t->rows[i].x;
		else if (t->rows[i].x != *x)
			return 0;
	}
	return n > 0;
}

int
bench_plot(const struct bench_table *t, const char *dir)
{
	static const char *groups[BENCH_MAX_ROWS];
	const char *lines[MAX_LINES];
	int is_ours[MAX_LINES];
	unsigned int ng, g, nl, l, id = 0, cols, rows;
	char cmd[1100];
	double x = 0;
	FILE *gp;
	int ret;

	if (t->nb_rows == 0)
		return -1;
	if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
		printf("gnuplot not installed: no %s/%s.png (apt-get install gnuplot-nox)\n",
		       dir, t->study);
		return 1;
	}
	gp = open_in(dir, t->study, "gp", "w");
	if (gp == NULL)
		return -1;
	ng = groups_of(t, groups);
	cols = ng > 1 ? 2 : 1;
	rows = (ng + cols - 1) / cols;
	fprintf(gp, "# %s: %s\n", t->study, t->title);
	fprintf(gp, "set terminal pngcairo noenhanced size %u,%u font ',10'\n",
		cols == 1 ? 800 : 1400, 120 + rows * 420);
	fprintf(gp, "set output '%s/%s.png'\n", dir, t->study);
	fprintf(gp, "set multiplot layout %u,%u title '%s' font ',13'\n", rows, cols, t->title);
	fprintf(gp, "set grid\nset key below font ',9'\nset xlabel '%s'\nset ylabel '%s'\n",
		t->xlabel, t->unit);
	if (t->logx)
		fprintf(gp, "set logscale x 2\n");
	if (t->logy)
		fprintf(gp, "set logscale y\n");
	else
		fprintf(gp, "set yrange [0:*]\n");
	if (t->xtics[0] != '\0')
		fprintf(gp, "set xtics (%s)\n", t->xtics);
	for (g = 0; g < ng; g++) {
		/* One abscissa only (a single case): gnuplot needs a range around it. */
		if (group_one_x(t, groups[g], &x))
			fprintf(gp, "set xrange [%g:%g]\n", x / 1.5, x * 1.5);
		else
			fprintf(gp, "set autoscale x\n");
		nl = panel_lines(t, groups[g], lines, is_ours);
		for (l = 0; l < nl; l++)
			write_block(gp, t, groups[g], lines[l], is_ours[l], id + l);
		fprintf(gp, "set title '%s'\nplot ", groups[g]);
		for (l = 0; l < nl; l++)
			fprintf(gp, "%s$d%u using 1:2 with linespoints lw %d pt %u title '%s'",
				l == 0 ? "" : ", ", id + l, is_ours[l] ? 3 : 1, 5 + l, lines[l]);
		fprintf(gp, "\n");
		id += nl;
	}
	fprintf(gp, "unset multiplot\n");
	fclose(gp);
	snprintf(cmd, sizeof(cmd), "gnuplot '%s/%s.gp'", dir, t->study);
	ret = system(cmd);
	if (ret != 0) {
		fprintf(stderr, "gnuplot failed on %s/%s.gp\n", dir, t->study);
		return -1;
	}
	printf("wrote %s/%s.png\n", dir, t->study);
	return 0;
}

void
bench_goal(const char *dir, const char *study, const char *what, int met, const char *fmt,
	   ...)
{
	char figure[256];
	char line[512];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(figure, sizeof(figure), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "GOAL %s: %s: %s (%s)", study, what,
		 met ? "met" : "NOT MET", figure);
	printf("%s\n", line);
	if (dir == NULL)
		return;
	f = open_in(dir, "goals", "txt", "a");
	if (f == NULL)
		return;
	fprintf(f, "%s\n", line);
	fclose(f);
}

double
bench_ns(uint64_t cycles, uint64_t n)
{
	return (double)cycles * 1e9 / rte_get_tsc_hz() / RTE_MAX(n, (uint64_t)1);
}

double
bench_cyc(uint64_t cycles, uint64_t n)
{
	return (double)cycles / RTE_MAX(n, (uint64_t)1);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
bench_median(double *v, unsigned int n)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
