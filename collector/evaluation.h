/*
 * evaluation: the national picture as of one instant: production, growth
 * and projections per metal and year, output against the baseline year,
 * intensities, and initiatives, each beside its configured target. It is a
 * plain snapshot of numbers, computed from the store's rollups and the
 * config, that the exporters render. Every double is NAN where the figure
 * is undefined (no data, a zero denominator, no target): such series are
 * omitted, never exported.
 */
#ifndef INGOT_EVALUATION_H
#define INGOT_EVALUATION_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

struct eval_metal_year {
    double production; /* tonnes, 0 when nothing was reported */
    double growth;     /* like-for-like over the months reported in the year */
    double projected;  /* current year only: production / months reported x 12 */
    double target_production;
    double target_growth;
    double target_progress; /* production / target_production */
    double plants_reporting; /* plants with a record of the metal in the year that carries
                              * production (a count; 0 when none) */
};

struct eval_year {
    int year;
    struct eval_metal_year *metals; /* [config->n_metals] */
    double output_vs_baseline;
    double co2_intensity;    /* over records carrying both co2 and production */
    double energy_intensity; /* over records carrying both energy and production */
    double waste_recycling;  /* over records carrying both recycled and waste */
    double emissions_coverage; /* production in records that carry CO2 / all production,
                                * over every configured metal */
    double target_output_vs_baseline;
    double target_co2_intensity;
    double target_energy_intensity;
    double target_waste_recycling;
};

struct eval_initiative {
    double value;
    double progress; /* value / target */
    int on_track;    /* 0 or 1 */
};

struct evaluation {
    int64_t now;
    int current_year;
    /* The baseline year, every target year, the current and previous year:
     * ascending, unique. */
    struct eval_year *years;
    size_t n_years;
    struct eval_initiative *initiatives; /* [config->n_initiatives] */
};

/* Evaluates store against config as of now (Unix seconds). Returns a new
 * evaluation owned by the caller (evaluation_free), or NULL on ENOMEM. */
struct evaluation *evaluation_run(const struct store *store, const struct config *config,
                                  int64_t now);
void evaluation_free(struct evaluation *evaluation);

#endif
