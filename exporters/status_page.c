/*
 * status_page: the writer of the HTML status page. It reads the
 * evaluation, the config, the feed stats and the store, and writes one
 * page into an evbuffer; an allocation failure is remembered and reported
 * once, at the end.
 *
 * Each figure is written by put_value(): a rounded value for people, then
 * the exact /metrics value (expo_format_double) in its data-metric
 * element. A figure that /metrics omits (NaN, no target) is an em dash
 * with no element, so the page never shows a series /metrics lacks.
 */
#include "status_page.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "civil_time.h"
#include "expo.h"
#include "ingest.h"
#include "period.h"

#ifndef INGOT_VERSION
#define INGOT_VERSION "dev"
#endif

#define N(array) (sizeof(array) / sizeof((array)[0]))
#define MAX_ROWS 50 /* of the feed and plant tables */
#define NO_PACE (-1.0)

struct page {
    struct evbuffer *out;
    bool failed; /* an append failed: the page is incomplete */
    const struct status_page_input *in;
};

/* ---- the buffer (libevent's evbuffer) -------------------------------- */

static void put_n(struct page *p, const char *s, size_t n)
{
    if (!p->failed && evbuffer_add(p->out, s, n) != 0)
        p->failed = true;
}

static void put(struct page *p, const char *s)
{
    put_n(p, s, strlen(s));
}

static void putf(struct page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct page *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (!p->failed && evbuffer_add_vprintf(p->out, fmt, ap) < 0)
        p->failed = true;
    va_end(ap);
}

/* s as HTML text or attribute value: & < > " ' escaped; control
 * characters other than tab and newline become spaces. With spaces set,
 * '_' is written as a space too (identifiers shown as words). */
static void put_escaped_as(struct page *p, const char *s, bool spaces)
{
    for (const char *run = s;; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        case '_':
            if (spaces)
                rep = " ";
            break;
        case '\0':
            put_n(p, run, (size_t)(s - run));
            return;
        default:
            if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n')
                rep = " ";
            break;
        }
        if (rep) {
            put_n(p, run, (size_t)(s - run));
            put(p, rep);
            run = s + 1;
        }
    }
}

static void put_escaped(struct page *p, const char *s)
{
    put_escaped_as(p, s, false);
}

/* ---- numbers for people ---------------------------------------------- */

/* How a figure is rounded for people. */
enum kind {
    K_TONNES,   /* 136,236 t */
    K_PERCENT,  /* 48.7% */
    K_GROWTH,   /* +7.3% */
    K_TIMES,    /* 0.57× */
    K_T_PER_T,  /* 0.939 t/t */
    K_MWH_PER_T,/* 4.36 MWh/t */
    K_COUNT,    /* 9,200 */
};

/* v rounded to an integer with comma-separated thousands. */
static void grouped(double v, char *buf, size_t size)
{
    if (fabs(v) >= 1e15) {
        snprintf(buf, size, "%.3g", v);
        return;
    }
    char digits[24];
    long long r = llround(v);
    int n = snprintf(digits, sizeof(digits), "%lld", r < 0 ? -r : r);
    size_t o = 0;
    if (r < 0 && o + 1 < size)
        buf[o++] = '-';
    for (int i = 0; i < n && o + 1 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0 && o + 1 < size)
            buf[o++] = ',';
        if (o + 1 < size)
            buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

static void friendly(enum kind kind, double v, char *buf, size_t size)
{
    char g[48];
    switch (kind) {
    case K_TONNES:
        grouped(v, g, sizeof(g));
        snprintf(buf, size, "%s t", g);
        break;
    case K_PERCENT:
        snprintf(buf, size, "%.1f%%", v * 100);
        break;
    case K_GROWTH:
        snprintf(buf, size, "%+.1f%%", v * 100);
        break;
    case K_TIMES:
        snprintf(buf, size, "%.2f\xc3\x97", v);
        break;
    case K_T_PER_T:
        snprintf(buf, size, "%.3g t/t", v);
        break;
    case K_MWH_PER_T:
        snprintf(buf, size, "%.3g MWh/t", v);
        break;
    case K_COUNT:
        if (v == floor(v))
            grouped(v, buf, size);
        else
            snprintf(buf, size, "%.1f", v);
        break;
    }
}

/* The exact /metrics value of one series in its data-metric element. */
static void put_exact(struct page *p, const char *cls, const char *metric,
                      const struct expo_label *labels, size_t n_labels, double v)
{
    char exact[32];
    expo_format_double(v, exact);
    putf(p, "<span class=\"%s\" data-metric=\"", cls);
    put_escaped(p, metric);
    put(p, "\"");
    for (size_t i = 0; i < n_labels; i++) {
        put(p, " data-");
        put_escaped(p, labels[i].name);
        put(p, "=\"");
        put_escaped(p, labels[i].value);
        put(p, "\"");
    }
    putf(p, ">%s</span>", exact);
}

/* A figure: rounded for people, then note (HTML, or NULL), then exact in
 * its data-metric element (alone when the two read the same). Not
 * finite: an em dash, no element. */
static void put_value_note(struct page *p, enum kind kind, double v, const char *note,
                           const char *metric, const struct expo_label *labels, size_t n_labels)
{
    if (!isfinite(v)) {
        put(p, "<span class=\"na\">\xe2\x80\x94</span>");
        return;
    }
    char human[64], exact[32];
    friendly(kind, v, human, sizeof(human));
    expo_format_double(v, exact);
    bool same = strcmp(human, exact) == 0;
    if (!same)
        putf(p, "<span class=\"v\">%s</span> ", human);
    if (note)
        putf(p, "%s ", note);
    put_exact(p, same ? "v" : "x", metric, labels, n_labels, v);
}

static void put_value(struct page *p, enum kind kind, double v, const char *metric,
                      const struct expo_label *labels, size_t n_labels)
{
    put_value_note(p, kind, v, NULL, metric, labels, n_labels);
}

/* ---- bars ------------------------------------------------------------ */

static double clamp01(double v)
{
    return !(v > 0) ? 0 : v > 1 ? 1 : v;
}

/* Where a share of a target stands against the pace (the share expected
 * by now): the words and their class. */
static const char *pace_words(double share, double pace, const char **cls)
{
    *cls = share >= pace ? "good" : "bad";
    if (pace < 0) {
        *cls = "na";
        return "not started";
    }
    if (pace >= 1)
        return share >= 1 ? "target met" : "target missed";
    return share >= pace ? "ahead of pace" : "behind pace";
}

/* A progress bar of share (drawn clamped to 0..1) with the pace marked
 * (pace < 0: none). The same words are beside it as text. */
static void put_bar(struct page *p, double share, double pace)
{
    if (!isfinite(share))
        return;
    const char *cls;
    const char *words = pace_words(share, pace, &cls);
    putf(p, "<svg class=\"bar\" viewBox=\"0 0 100 10\" preserveAspectRatio=\"none\" role=\"img\" "
            "aria-label=\"%.1f%% of target", share * 100);
    if (pace >= 0)
        putf(p, ", pace %.1f%%", pace * 100);
    putf(p, ", %s\"><rect class=\"bg\" width=\"100\" height=\"10\"/>"
            "<rect class=\"%s\" width=\"%.2f\" height=\"10\"/>",
         words, pace < 0 ? "nt" : share >= pace ? "ok" : "lag", clamp01(share) * 100);
    if (pace >= 0)
        putf(p, "<path class=\"pace\" d=\"M%.2f 0V10\"/>", clamp01(pace) * 100);
    put(p, "</svg>");
}

/* ---- the national picture --------------------------------------------- */

static int64_t year_start(int year)
{
    return civil_days_from_date(year, 1, 1) * 86400;
}

/* The share of year that has elapsed at now: 1 for past years, NO_PACE
 * for future ones. */
static double year_pace(int64_t now, int year)
{
    int64_t start = year_start(year), end = year_start(year + 1);
    if (now >= end)
        return 1;
    if (now < start)
        return NO_PACE;
    return (double)(now - start) / (double)(end - start);
}

static void put_production(struct page *p, const struct eval_year *y, double pace, bool current)
{
    const struct config *config = p->in->config;
    char year[16];
    snprintf(year, sizeof(year), "%d", y->year);
    put(p, "<h3>Production against target</h3>\n<div class=\"tw\"><table>\n<thead><tr>"
           "<th scope=\"col\">Metal</th><th scope=\"col\" class=\"w\">Progress to target "
           "(<span class=\"mark\">|</span> pace)</th><th scope=\"col\" class=\"n\">Produced</th>"
           "<th scope=\"col\" class=\"n\">Plants reporting</th>"
           "<th scope=\"col\" class=\"n\">Target</th>");
    if (current)
        put(p, "<th scope=\"col\" class=\"n\">Projected for the year</th>");
    put(p, "<th scope=\"col\" class=\"n\">Growth</th>"
           "<th scope=\"col\" class=\"n\">Target growth</th></tr></thead>\n<tbody>\n");
    for (size_t m = 0; m < config->n_metals; m++) {
        const struct eval_metal_year *my = &y->metals[m];
        struct expo_label labels[] = {{"metal", config->metals[m]}, {"year", year}};
        put(p, "<tr><th scope=\"row\">");
        put_escaped(p, config->metals[m]);
        put(p, "</th><td>");
        if (isfinite(my->target_progress)) {
            const char *cls;
            const char *words = pace_words(my->target_progress, pace, &cls);
            char note[64];
            snprintf(note, sizeof(note), "<span class=\"%s\">%s</span>", cls, words);
            put_bar(p, my->target_progress, pace);
            put_value_note(p, K_PERCENT, my->target_progress, note, "ingot_target_progress_ratio",
                           labels, 2);
        } else {
            put(p, "<span class=\"na\">no target</span>");
        }
        put(p, "</td><td class=\"n\">");
        put_value(p, K_TONNES, my->production, "ingot_national_production_tonnes", labels, 2);
        put(p, "</td><td class=\"n\">");
        put_value(p, K_COUNT, my->plants_reporting, "ingot_national_plants_reporting", labels, 2);
        put(p, "</td><td class=\"n\">");
        put_value(p, K_TONNES, my->target_production, "ingot_target_production_tonnes", labels, 2);
        if (current) {
            put(p, "</td><td class=\"n\">");
            put_value(p, K_TONNES, my->projected, "ingot_national_production_projected_tonnes",
                      labels, 2);
        }
        put(p, "</td><td class=\"n\">");
        put_value(p, K_GROWTH, my->growth, "ingot_national_production_growth_ratio", labels, 2);
        put(p, "</td><td class=\"n\">");
        put_value(p, K_GROWTH, my->target_growth, "ingot_target_growth_ratio", labels, 2);
        put(p, "</td></tr>\n");
    }
    put(p, "</tbody></table></div>\n");
}

static void put_output(struct page *p, const struct eval_year *y, double pace)
{
    int baseline = p->in->config->baseline_year;
    if (!baseline)
        return;
    char year[16];
    snprintf(year, sizeof(year), "%d", y->year);
    struct expo_label label = {"year", year};
    double share = y->output_vs_baseline / y->target_output_vs_baseline;
    putf(p, "<h3>Output against the %d baseline</h3>\n<div class=\"tw\"><table>\n<thead><tr>"
            "<th scope=\"col\">All metals</th><th scope=\"col\" class=\"w\">Progress to target "
            "(<span class=\"mark\">|</span> pace)</th>"
            "<th scope=\"col\" class=\"n\">Output / %d output</th>"
            "<th scope=\"col\" class=\"n\">Target</th></tr></thead>\n<tbody><tr>"
            "<th scope=\"row\">%d output</th><td>",
         baseline, baseline, y->year);
    if (isfinite(share)) {
        const char *cls;
        const char *words = pace_words(share, pace, &cls);
        put_bar(p, share, pace);
        putf(p, "%.1f%% of the target <span class=\"%s\">%s</span>", share * 100, cls, words);
    } else {
        put(p, "<span class=\"na\">no target</span>");
    }
    put(p, "</td><td class=\"n\">");
    put_value(p, K_TIMES, y->output_vs_baseline, "ingot_national_output_vs_baseline_ratio",
              &label, 1);
    put(p, "</td><td class=\"n\">");
    put_value(p, K_TIMES, y->target_output_vs_baseline, "ingot_target_output_vs_baseline_ratio",
              &label, 1);
    if (y->target_output_vs_baseline == 2)
        put(p, " <span class=\"note\">(double output)</span>");
    put(p, "</td></tr></tbody></table></div>\n");
}

/* One intensity or recycling measure: where its value, target and
 * benchmark figures are and which way is better. */
struct measure {
    const char *title;
    const char *unit;
    enum kind kind;
    bool lower_is_better;
    const char *metric, *target_metric, *benchmark_metric;
    size_t value_offset, target_offset, benchmark_offset;
};

static const struct measure measures[] = {
    {"CO<sub>2</sub> intensity", "t CO<sub>2</sub> per t of metal", K_T_PER_T, true,
     "ingot_national_co2_intensity_tonnes_per_tonne",
     "ingot_target_co2_intensity_tonnes_per_tonne",
     "ingot_benchmark_co2_intensity_tonnes_per_tonne", offsetof(struct eval_year, co2_intensity),
     offsetof(struct eval_year, target_co2_intensity),
     offsetof(struct config_benchmark, co2_intensity_tonnes_per_tonne)},
    {"Energy intensity", "MWh per t of metal", K_MWH_PER_T, true,
     "ingot_national_energy_intensity_mwh_per_tonne",
     "ingot_target_energy_intensity_mwh_per_tonne",
     "ingot_benchmark_energy_intensity_mwh_per_tonne",
     offsetof(struct eval_year, energy_intensity),
     offsetof(struct eval_year, target_energy_intensity),
     offsetof(struct config_benchmark, energy_intensity_mwh_per_tonne)},
    {"Waste recycling", "share of waste recycled", K_PERCENT, false,
     "ingot_national_waste_recycling_ratio", "ingot_target_waste_recycling_ratio",
     "ingot_benchmark_waste_recycling_ratio", offsetof(struct eval_year, waste_recycling),
     offsetof(struct eval_year, target_waste_recycling),
     offsetof(struct config_benchmark, waste_recycling_ratio)},
};

static double field(const void *base, size_t offset)
{
    return *(const double *)((const char *)base + offset);
}

/* True when a is better than b for the measure (ties are not). */
static bool better(const struct measure *m, double a, double b)
{
    return m->lower_is_better ? a < b : a > b;
}

/* The value on a scale holding the target and every benchmark: the
 * value as a bar, the target as a solid mark, benchmarks dashed. */
static void put_compare_bar(struct page *p, const struct measure *m, double value, double target)
{
    const struct config *config = p->in->config;
    double top = fmax(isfinite(value) ? value : 0, isfinite(target) ? target : 0);
    for (size_t b = 0; b < config->n_benchmarks; b++) {
        double v = field(&config->benchmarks[b], m->benchmark_offset);
        if (isfinite(v))
            top = fmax(top, v);
    }
    if (!isfinite(value) || !(top > 0))
        return;
    top *= 1.1;
    bool meets = isfinite(target) && !better(m, target, value);
    putf(p, "<svg class=\"bar\" viewBox=\"0 0 100 10\" preserveAspectRatio=\"none\" role=\"img\" "
            "aria-label=\"value against target (solid mark) and benchmarks (dashed)\">"
            "<rect class=\"bg\" width=\"100\" height=\"10\"/>"
            "<rect class=\"%s\" width=\"%.2f\" height=\"10\"/>",
         !isfinite(target) ? "nt" : meets ? "ok" : "lag", clamp01(value / top) * 100);
    for (size_t b = 0; b < config->n_benchmarks; b++) {
        double v = field(&config->benchmarks[b], m->benchmark_offset);
        if (isfinite(v))
            putf(p, "<path class=\"bm\" d=\"M%.2f 0V10\"/>", clamp01(v / top) * 100);
    }
    if (isfinite(target))
        putf(p, "<path class=\"pace\" d=\"M%.2f 0V10\"/>", clamp01(target / top) * 100);
    put(p, "</svg>");
}

static void put_intensities(struct page *p, const struct eval_year *y)
{
    const struct config *config = p->in->config;
    char year[16];
    snprintf(year, sizeof(year), "%d", y->year);
    struct expo_label label = {"year", year};
    putf(p, "<h3>Intensity and recycling</h3>\n<div class=\"tw\"><table>\n<thead><tr>"
            "<th scope=\"col\">Measure</th><th scope=\"col\" class=\"n\">%d</th>"
            "<th scope=\"col\" class=\"n\">Target</th>",
         y->year);
    for (size_t b = 0; b < config->n_benchmarks; b++) {
        put(p, "<th scope=\"col\" class=\"n\">Benchmark: ");
        put_escaped_as(p, config->benchmarks[b].name, true);
        put(p, "</th>");
    }
    put(p, "<th scope=\"col\" class=\"w\">Comparison (<span class=\"mark\">|</span> target, "
           "<span class=\"mark\">\xc2\xa6</span> benchmarks)</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < N(measures); i++) {
        const struct measure *m = &measures[i];
        double value = field(y, m->value_offset), target = field(y, m->target_offset);
        putf(p, "<tr><th scope=\"row\">%s<br><span class=\"note\">%s; %s is better</span></th>"
                "<td class=\"n\">",
             m->title, m->unit, m->lower_is_better ? "lower" : "higher");
        put_value(p, m->kind, value, m->metric, &label, 1);
        put(p, "</td><td class=\"n\">");
        put_value(p, m->kind, target, m->target_metric, &label, 1);
        for (size_t b = 0; b < config->n_benchmarks; b++) {
            struct expo_label bench = {"benchmark", config->benchmarks[b].name};
            put(p, "</td><td class=\"n\">");
            put_value(p, m->kind, field(&config->benchmarks[b], m->benchmark_offset),
                      m->benchmark_metric, &bench, 1);
        }
        put(p, "</td><td>");
        put_compare_bar(p, m, value, target);
        if (!isfinite(value)) {
            put(p, "<span class=\"na\">no data</span>");
        } else {
            if (isfinite(target))
                putf(p, "<span class=\"%s\">%s target</span>",
                     better(m, target, value) ? "bad" : "good",
                     better(m, target, value) ? "misses" : "meets");
            for (size_t b = 0; b < config->n_benchmarks; b++) {
                double v = field(&config->benchmarks[b], m->benchmark_offset);
                if (!isfinite(v))
                    continue;
                putf(p, "%s<span class=\"%s\">%s than ", isfinite(target) || b ? "; " : "",
                     better(m, value, v) ? "good" : "bad",
                     better(m, value, v) ? "better" : "not better");
                put_escaped_as(p, config->benchmarks[b].name, true);
                put(p, "</span>");
            }
        }
        put(p, "</td></tr>\n");
    }
    put(p, "</tbody></table></div>\n");
    /* How much of the output the CO2 intensity speaks for. */
    if (isfinite(y->emissions_coverage)) {
        put(p, "<p class=\"note\">CO<sub>2</sub> reported for ");
        put_value(p, K_PERCENT, y->emissions_coverage, "ingot_national_emissions_coverage_ratio",
                  &label, 1);
        put(p, " of the year's production.</p>\n");
    }
}

static const struct config_target_year *target_year(const struct config *config, int year)
{
    for (size_t i = 0; i < config->n_years; i++)
        if (config->years[i].year == year)
            return &config->years[i];
    return NULL;
}

static void put_year(struct page *p, const struct eval_year *y)
{
    const struct evaluation *ev = p->in->evaluation;
    bool current = y->year == ev->current_year;
    bool targets = target_year(p->in->config, y->year) != NULL;
    double pace = year_pace(ev->now, y->year);
    putf(p, "<section id=\"y%d\">\n<h2>%d <span class=\"note\">", y->year, y->year);
    if (current)
        putf(p, "current year, %.1f%% elapsed", pace * 100);
    else
        put(p, pace < 0 ? "future year" : "past year");
    put(p, targets ? " \xc2\xb7 target year" : " \xc2\xb7 no targets configured");
    put(p, "</span></h2>\n");
    put_production(p, y, pace, current);
    put_output(p, y, pace);
    put_intensities(p, y);
    put(p, "</section>\n");
}

/* ---- initiatives, feeds, plants -------------------------------------- */

static const struct {
    const char *words;
    enum kind kind;
} measure_words[] = {
    [INITIATIVE_CAPACITY_INCREASE_RATIO] = {"smelting capacity over its baseline", K_GROWTH},
    [INITIATIVE_GREEN_PLANTS_OPERATIONAL] = {"green plants operational", K_COUNT},
    [INITIATIVE_WORKERS_CERTIFIED] = {"workers certified", K_COUNT},
};

static void put_date(struct page *p, int64_t t)
{
    int year, month, day;
    civil_date_from_time(t, &year, &month, &day);
    putf(p, "<time datetime=\"%04d-%02d-%02d\">%04d-%02d-%02d</time>", year, month, day, year,
         month, day);
}

static void put_initiatives(struct page *p)
{
    const struct config *config = p->in->config;
    const struct evaluation *ev = p->in->evaluation;
    if (!config->n_initiatives)
        return;
    put(p, "<section id=\"initiatives\">\n<h2>Initiatives</h2>\n<div class=\"tw\"><table>\n"
           "<thead><tr><th scope=\"col\">Initiative</th><th scope=\"col\" class=\"n\">Value</th>"
           "<th scope=\"col\" class=\"n\">Target</th><th scope=\"col\" class=\"w\">Progress "
           "(<span class=\"mark\">|</span> share of the time to the deadline elapsed)</th>"
           "<th scope=\"col\" class=\"n\">Deadline</th><th scope=\"col\">Status</th></tr></thead>\n"
           "<tbody>\n");
    for (size_t i = 0; i < config->n_initiatives; i++) {
        const struct config_initiative *ci = &config->initiatives[i];
        const struct eval_initiative *ei = &ev->initiatives[i];
        struct expo_label label = {"initiative", ci->name};
        double pace = ev->now >= ci->deadline
                          ? 1
                          : clamp01((double)(ev->now - ci->start) /
                                    (double)(ci->deadline - ci->start));
        enum kind kind = measure_words[ci->measure].kind;
        put(p, "<tr><th scope=\"row\">");
        put_escaped_as(p, ci->name, true);
        putf(p, "<br><span class=\"note\">%s</span></th><td class=\"n\">",
             measure_words[ci->measure].words);
        put_value(p, kind, ei->value, "ingot_initiative_value", &label, 1);
        put(p, "</td><td class=\"n\">");
        put_value(p, kind, ci->target, "ingot_initiative_target", &label, 1);
        put(p, "</td><td>");
        put_bar(p, ei->progress, pace);
        put_value(p, K_PERCENT, ei->progress, "ingot_initiative_progress_ratio", &label, 1);
        put(p, "</td><td class=\"n\">");
        put_date(p, ci->deadline);
        if (ev->now >= ci->deadline)
            put(p, " <span class=\"note\">(passed)</span>");
        put(p, " ");
        put_exact(p, "x", "ingot_initiative_deadline_timestamp_seconds", &label, 1,
                  (double)ci->deadline);
        putf(p, "</td><td><span class=\"%s\">%s</span> ", ei->on_track ? "good" : "bad",
             ei->on_track ? "on track" : "off track");
        put_exact(p, "x", "ingot_initiative_on_track", &label, 1, ei->on_track);
        put(p, "</td></tr>\n");
    }
    put(p, "</tbody></table></div>\n</section>\n");
}

static void put_feed(struct page *p, size_t i)
{
    const struct feed_stats *s = feeds_stats(p->in->feeds, i);
    const char *name = p->in->config->feeds[i].name;
    struct expo_label label = {"feed", name};
    put(p, "<tr><th scope=\"row\">");
    put_escaped(p, name);
    putf(p, "</th><td><span class=\"%s\">%s</span> ", s->up ? "good" : "bad",
         s->up ? "up" : "down");
    put_exact(p, "x", "ingot_feed_up", &label, 1, s->up);
    put(p, "</td><td>");
    if (s->last_success > 0) {
        char when[32];
        civil_format_rfc3339((int64_t)s->last_success, when, sizeof(when));
        putf(p, "<time datetime=\"%s\">%.10s %.8s</time> ", when, when, when + 11);
        put_exact(p, "x", "ingot_feed_last_success_timestamp_seconds", &label, 1,
                  s->last_success);
    } else {
        put(p, "<span class=\"bad\">never</span>");
    }
    put(p, "</td><td class=\"n\">");
    put_value(p, K_COUNT, (double)s->records.accepted, "ingot_feed_records_accepted_total",
              &label, 1);
    uint64_t rejected = 0;
    for (int r = 0; r < INGEST_REASON_COUNT; r++)
        rejected += s->records.rejected[r];
    putf(p, "</td><td class=\"n\"><span class=\"%s\">%llu</span>", rejected ? "bad" : "v",
         (unsigned long long)rejected);
    for (int r = 0; r < INGEST_REASON_COUNT; r++) {
        if (!s->records.rejected[r])
            continue;
        struct expo_label labels[] = {{"feed", name}, {"reason", ingest_reason_names[r]}};
        putf(p, "<br><span class=\"note\">%s:</span> ", ingest_reason_names[r]);
        put_exact(p, "v", "ingot_feed_records_rejected_total", labels, 2,
                  (double)s->records.rejected[r]);
    }
    /* ok + not_modified / every failure, then each result that occurred. */
    putf(p, "</td><td class=\"n\"><span class=\"v\">%llu</span> / <span class=\"%s\">%llu</span>",
         (unsigned long long)s->fetches_ok, s->fetches_error ? "bad" : "v",
         (unsigned long long)s->fetches_error);
    for (int o = 0; o < FETCH_OUTCOME_COUNT; o++) {
        if (!s->fetches[o])
            continue;
        struct expo_label labels[] = {{"feed", name}, {"result", fetch_outcome_names[o]}};
        putf(p, "<br><span class=\"note\">%s:</span> ", fetch_outcome_names[o]);
        put_exact(p, o == FETCH_OK || o == FETCH_NOT_MODIFIED ? "v" : "v bad",
                  "ingot_feed_fetches_total", labels, 2, (double)s->fetches[o]);
    }
    put(p, "</td></tr>\n");
}

static void put_feeds(struct page *p)
{
    size_t n = p->in->config->n_feeds, up = 0, shown = 0;
    if (!n)
        return;
    for (size_t i = 0; i < n; i++)
        up += feeds_stats(p->in->feeds, i)->up;
    putf(p, "<section id=\"feeds\">\n<h2>Feeds <span class=\"note\">%zu up, %zu down</span>"
            "</h2>\n<div class=\"tw\"><table>\n<thead><tr><th scope=\"col\">Feed</th>"
            "<th scope=\"col\">Status</th><th scope=\"col\">Last success (UTC)</th>"
            "<th scope=\"col\" class=\"n\">Records accepted</th>"
            "<th scope=\"col\" class=\"n\">Records rejected</th>"
            "<th scope=\"col\" class=\"n\">Fetches ok / failed</th></tr></thead>\n<tbody>\n",
         up, n - up);
    /* Feeds that are down first: they are the ones that need a look. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n && shown < MAX_ROWS; i++)
            if (feeds_stats(p->in->feeds, i)->up == (pass == 1)) {
                put_feed(p, i);
                shown++;
            }
    put(p, "</tbody></table></div>\n");
    if (shown < n)
        putf(p, "<p class=\"note\">%zu of %zu feeds shown, down ones first; every feed is in "
                "the metrics.</p>\n",
             shown, n);
    put(p, "</section>\n");
}

/* Start of the latest period the plant reported for any configured metal,
 * or 0; *key receives that period's key. */
static int64_t latest_period(const struct page *p, const struct store_plant *plant, int32_t *key)
{
    int64_t latest = 0;
    *key = 0;
    for (size_t m = 0; m < p->in->config->n_metals; m++) {
        int32_t k = store_latest_period(plant,
                                        store_metal_find(p->in->store, p->in->config->metals[m]));
        struct period period = period_from_key(k);
        if (k && period_start(&period) > latest) {
            latest = period_start(&period);
            *key = k;
        }
    }
    return latest;
}

static bool plant_stale(const struct page *p, const struct store_plant *plant)
{
    return feeds_plant_stale(p->in->feeds, plant->id, (double)time(NULL));
}

static void put_plant(struct page *p, const struct store_plant *plant)
{
    int32_t key;
    int64_t latest = latest_period(p, plant, &key);
    bool stale = plant_stale(p, plant);
    struct expo_label label = {"plant", plant->id};
    put(p, "<tr><th scope=\"row\">");
    put_escaped(p, plant->id);
    put(p, "</th><td>");
    put_escaped(p, plant->name ? plant->name : "");
    put(p, "</td><td>");
    put_escaped(p, plant->region ? plant->region : "");
    put(p, "</td><td>");
    if (latest) {
        char text[16];
        struct period period = period_from_key(key);
        period_format(&period, text, sizeof(text));
        put(p, text);
    } else {
        put(p, "<span class=\"na\">none</span>");
    }
    putf(p, "</td><td><span class=\"%s\">%s</span> ", stale ? "bad" : "good",
         stale ? "stale" : "reporting");
    put_exact(p, "x", "ingot_plant_stale", &label, 1, stale);
    put(p, "</td></tr>\n");
}

static void put_plants(struct page *p)
{
    const struct store *store = p->in->store;
    size_t n = store_plant_count(store), shown = 0, stale = 0;
    for (size_t i = 0; i < n; i++)
        stale += plant_stale(p, store_plant_at(store, i));
    putf(p, "<section id=\"plants\">\n<h2>Plants <span class=\"note\">%zu reporting, %zu stale "
            "(no feed success within its stale_after)</span></h2>\n",
         n - stale, stale);
    if (!n) {
        put(p, "<p class=\"na\">No plant has reported yet.</p>\n</section>\n");
        return;
    }
    put(p, "<div class=\"tw\"><table>\n<thead><tr><th scope=\"col\">Plant</th>"
           "<th scope=\"col\">Name</th><th scope=\"col\">Region</th>"
           "<th scope=\"col\">Latest period</th><th scope=\"col\">Status</th></tr></thead>\n"
           "<tbody>\n");
    /* Stale plants first: they are the ones that need a look. */
    for (int pass = 1; pass >= 0; pass--)
        for (size_t i = 0; i < n && shown < MAX_ROWS; i++) {
            const struct store_plant *plant = store_plant_at(store, i);
            if (plant_stale(p, plant) == (pass == 1)) {
                put_plant(p, plant);
                shown++;
            }
        }
    put(p, "</tbody></table></div>\n");
    if (shown < n)
        putf(p, "<p class=\"note\">%zu of %zu plants shown, stale ones first; every plant is in "
                "the metrics.</p>\n",
             shown, n);
    put(p, "</section>\n");
}

/* ---- the page ---------------------------------------------------------- */

static const char style[] =
    ":root{--fg:#1f2328;--mu:#59636e;--bg:#fff;--ln:#d1d9e0;--tr:#e6eaef;--ok:#1a7f37;"
    "--lag:#bc4c00;--nt:#0969da}"
    "@media(prefers-color-scheme:dark){:root{--fg:#e6edf3;--mu:#9198a1;--bg:#0d1117;"
    "--ln:#3d444d;--tr:#262c36;--ok:#3fb950;--lag:#f0883e;--nt:#4493f8}}"
    "body{margin:0 auto;max-width:72rem;padding:1rem;font:15px/1.45 system-ui,sans-serif;"
    "color:var(--fg);background:var(--bg)}"
    "h1{font-size:1.6rem;margin:.2rem 0}"
    "h2{font-size:1.3rem;margin:1.8rem 0 .4rem;padding-bottom:.2rem;"
    "border-bottom:2px solid var(--ln)}"
    "h3{font-size:1.05rem;margin:1.1rem 0 .3rem}"
    "a{color:var(--nt)}nav a{margin-right:1.2rem;white-space:nowrap}"
    ".tw{overflow-x:auto}table{border-collapse:collapse;width:100%}"
    "th,td{padding:.35rem .6rem;border-bottom:1px solid var(--ln);text-align:left;"
    "vertical-align:top}thead th{font-size:.85rem;color:var(--mu);font-weight:600}"
    "td.n{text-align:right;white-space:nowrap}th.n{text-align:right}th.w{width:32%}"
    ".v{font-variant-numeric:tabular-nums}"
    ".x{display:block;color:var(--mu);font:11px/1.3 ui-monospace,monospace}"
    "td.n .x{text-align:right}"
    ".note,.na{color:var(--mu);font-size:.85rem;font-weight:400}"
    ".good{color:var(--ok)}.bad{color:var(--lag)}.mark{font-weight:700}"
    ".bar{display:block;width:100%;min-width:9rem;height:14px;margin:.2rem 0}"
    ".bar .bg{fill:var(--tr)}.bar .ok{fill:var(--ok)}.bar .lag{fill:var(--lag)}"
    ".bar .nt{fill:var(--nt)}.bar path{vector-effect:non-scaling-stroke;stroke-width:2}"
    ".bar .pace{stroke:var(--fg)}.bar .bm{stroke:var(--mu);stroke-dasharray:3 2}"
    "footer{margin-top:2rem;color:var(--mu);font-size:.85rem}"
    "@media(max-width:40rem){body{padding:.6rem;font-size:14px}.x{display:none}"
    "th,td{padding:.3rem .35rem}.bar{min-width:6rem}th.w{width:auto}}";

static void put_links(struct page *p)
{
    put(p, "<nav aria-label=\"Endpoints\"><a href=\"");
    put_escaped(p, p->in->telemetry_path);
    put(p, "\">Metrics (");
    put_escaped(p, p->in->telemetry_path);
    put(p, ")</a>\n<a href=\"/snapshot\">Snapshot (/snapshot)</a>\n"
           "<a href=\"/-/healthy\">Health</a>\n<a href=\"/-/ready\">Readiness</a></nav>\n");
}

char *status_page_render(const struct status_page_input *in, size_t *len)
{
    struct page page = {.in = in, .out = evbuffer_new()};
    struct page *p = &page;
    if (!p->out)
        return NULL;
    const struct evaluation *ev = in->evaluation;
    char now[32];
    civil_format_rfc3339(ev->now, now, sizeof(now));
    put(p, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<title>ingot status</title><style>");
    put(p, style);
    put(p, "</style></head>\n<body>\n<header>\n<h1>ingot status</h1>\n<p>National metals "
           "production, emissions and initiatives against their targets, as of ");
    putf(p, "<time datetime=\"%s\">%.10s %.8s UTC</time>. Percentages and rounded figures are "
            "for reading; the small figure beside each is the exact value of the metrics.</p>\n",
         now, now, now + 11);
    put_links(p);
    put(p, "</header>\n<main>\n");

    const struct eval_year *current = NULL;
    for (size_t y = 0; y < ev->n_years; y++)
        if (ev->years[y].year == ev->current_year)
            current = &ev->years[y];
    if (current)
        put_year(p, current);
    for (size_t y = 0; y < ev->n_years; y++)
        if (&ev->years[y] != current && target_year(in->config, ev->years[y].year))
            put_year(p, &ev->years[y]);
    put_initiatives(p);
    put_feeds(p);
    put_plants(p);

    put(p, "</main>\n<footer>\n");
    put_links(p);
    put(p, "<p>Documentation: <code>README.md</code> and <code>docs/</code> in the ingot source "
           "tree, installed in <code>/usr/share/doc/ingot/</code>. ingotd " INGOT_VERSION
           ".</p>\n</footer>\n</body></html>\n");
    size_t n = evbuffer_get_length(p->out);
    char *text = p->failed ? NULL : malloc(n + 1);
    if (text) {
        evbuffer_remove(p->out, text, n);
        text[n] = '\0';
        *len = n;
    }
    evbuffer_free(p->out);
    return text;
}
