/*
 * evaluation: the national aggregation rules. Sums come exactly from the
 * store's monthly rollups (fixed-point); each ratio divides two exact sums
 * once, so no figure is an average of ratios and none depends on the order
 * feeds arrived in.
 */
#include "evaluation.h"

#include <math.h>
#include <stdlib.h>

#include "civil_time.h"

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* exact a / exact b, or NAN when b is zero. */
static double ratio(fixed_t a, fixed_t b)
{
    return b == 0 ? NAN : fixed_to_double(a) / fixed_to_double(b);
}

static const struct config_target_year *target_year(const struct config *config, int year)
{
    for (size_t i = 0; i < config->n_years; i++)
        if (config->years[i].year == year)
            return &config->years[i];
    return NULL;
}

/* Exact production of a metal over the months of year in month_mask (bit
 * m-1 for month m). */
static fixed_t production_over(const struct store *store, int metal_id, int year,
                               unsigned month_mask)
{
    fixed_t sum = 0;
    for (int m = 1; m <= 12; m++) {
        const struct rollup_month *rm = store_national_month(store, metal_id, year, m);
        if (rm && (month_mask >> (m - 1) & 1))
            sum += rm->production;
    }
    return sum;
}

/* Months of year in which some plant reported production of the metal. */
static unsigned reported_months(const struct store *store, int metal_id, int year)
{
    unsigned mask = 0;
    for (int m = 1; m <= 12; m++) {
        const struct rollup_month *rm = store_national_month(store, metal_id, year, m);
        if (rm && rm->production_records > 0)
            mask |= 1u << (m - 1);
    }
    return mask;
}

static void evaluate_metal(const struct store *store, int metal_id, int year, bool current,
                           struct eval_metal_year *out)
{
    const unsigned all_months = 0xfff;
    unsigned reported = metal_id < 0 ? 0 : reported_months(store, metal_id, year);
    fixed_t production = metal_id < 0 ? 0 : production_over(store, metal_id, year, all_months);
    out->production = fixed_to_double(production);
    out->growth = NAN;
    out->projected = NAN;
    if (reported) {
        fixed_t before = production_over(store, metal_id, year - 1, reported);
        out->growth = ratio(production_over(store, metal_id, year, reported), before) - 1;
        if (current)
            out->projected = out->production / __builtin_popcount(reported) * 12;
    }
}

/* Plants with a record of metal carrying production in year. Walks the
 * plants' yearly rollups (plants x 1 lookup), never their records. */
static double plants_reporting(const struct store *store, int metal_id, int year)
{
    size_t n = 0;
    for (size_t i = 0; metal_id >= 0 && i < store_plant_count(store); i++) {
        const struct rollup_plant_year *py =
            store_plant_year(store_plant_at(store, i), metal_id, year);
        n += py && py->records[ROLLUP_PLANT_PRODUCTION] > 0;
    }
    return (double)n;
}

/* Sums of the matched pairs over every configured metal and month of year. */
static void evaluate_intensities(const struct store *store, const struct config *config,
                                 struct eval_year *out)
{
    struct rollup_month total = {0};
    for (size_t i = 0; i < config->n_metals; i++) {
        int metal_id = store_metal_find(store, config->metals[i]);
        for (int m = 1; metal_id >= 0 && m <= 12; m++) {
            const struct rollup_month *rm = store_national_month(store, metal_id, out->year, m);
            if (!rm)
                continue;
            total.co2_matched += rm->co2_matched;
            total.production_co2_matched += rm->production_co2_matched;
            total.energy_matched += rm->energy_matched;
            total.production_energy_matched += rm->production_energy_matched;
            total.recycled_matched += rm->recycled_matched;
            total.waste_matched += rm->waste_matched;
            total.production += rm->production;
        }
    }
    /* Production whose CO2 is known, over all production. */
    out->emissions_coverage = ratio(total.production_co2_matched, total.production);
    out->co2_intensity = ratio(total.co2_matched, total.production_co2_matched);
    out->energy_intensity = ratio(total.energy_matched, total.production_energy_matched);
    out->waste_recycling = ratio(total.recycled_matched, total.waste_matched);
}

/* Exact production of all configured metals in year. */
static fixed_t total_production(const struct store *store, const struct config *config, int year)
{
    fixed_t sum = 0;
    for (size_t i = 0; i < config->n_metals; i++) {
        int metal_id = store_metal_find(store, config->metals[i]);
        if (metal_id >= 0)
            sum += production_over(store, metal_id, year, 0xfff);
    }
    return sum;
}

static void evaluate_targets(const struct config_target_year *t, size_t n_metals,
                             struct eval_year *out)
{
    out->target_output_vs_baseline = t ? t->output_vs_baseline : NAN;
    out->target_co2_intensity = t ? t->co2_intensity_tonnes_per_tonne : NAN;
    out->target_energy_intensity = t ? t->energy_intensity_mwh_per_tonne : NAN;
    out->target_waste_recycling = t ? t->waste_recycling_ratio : NAN;
    for (size_t i = 0; i < n_metals; i++) {
        struct eval_metal_year *m = &out->metals[i];
        m->target_production = t ? t->production_tonnes[i] : NAN;
        m->target_growth = t ? t->growth[i] : NAN;
        /* A zero target gives an infinite ratio: omitted like any other. */
        m->target_progress = m->production / m->target_production;
    }
}

static void evaluate_initiative(const struct store *store, const struct config_initiative *ci,
                                int64_t now, struct eval_initiative *out)
{
    fixed_t sum = 0;
    long green = 0;
    for (size_t i = 0; i < store_plant_count(store); i++) {
        const struct store_plant *p = store_plant_at(store, i);
        if (ci->measure == INITIATIVE_CAPACITY_INCREASE_RATIO && p->has_capacity)
            sum += fixed_from_double(p->capacity_tonnes_per_year);
        else if (ci->measure == INITIATIVE_WORKERS_CERTIFIED && p->has_workers)
            sum += fixed_from_double(p->workers_certified);
        else if (ci->measure == INITIATIVE_GREEN_PLANTS_OPERATIONAL && p->green_operational == 1)
            green++;
    }
    switch (ci->measure) {
    case INITIATIVE_CAPACITY_INCREASE_RATIO:
        out->value = fixed_to_double(sum) / ci->baseline - 1;
        break;
    case INITIATIVE_GREEN_PLANTS_OPERATIONAL:
        out->value = (double)green;
        break;
    case INITIATIVE_WORKERS_CERTIFIED:
        out->value = fixed_to_double(sum);
        break;
    }
    out->progress = out->value / ci->target;
    double expected = now >= ci->deadline
                          ? 1.0
                          : (double)(now - ci->start) / (double)(ci->deadline - ci->start);
    out->on_track = out->progress >= expected;
}

/* Fills years[] with the exported years; returns how many. */
static size_t exported_years(const struct config *config, int current_year, int *years)
{
    size_t n = 0;
    years[n++] = current_year;
    years[n++] = current_year - 1;
    if (config->baseline_year)
        years[n++] = config->baseline_year;
    for (size_t i = 0; i < config->n_years; i++)
        years[n++] = config->years[i].year;
    qsort(years, n, sizeof(*years), cmp_int);
    size_t unique = 0;
    for (size_t i = 0; i < n; i++)
        if (unique == 0 || years[unique - 1] != years[i])
            years[unique++] = years[i];
    return unique;
}

struct evaluation *evaluation_run(const struct store *store, const struct config *config,
                                  int64_t now)
{
    struct evaluation *ev = calloc(1, sizeof(*ev));
    int *years = calloc(config->n_years + 3, sizeof(*years));
    if (!ev || !years)
        goto fail;
    int month, day;
    civil_date_from_time(now, &ev->current_year, &month, &day);
    ev->now = now;
    ev->n_years = exported_years(config, ev->current_year, years);
    ev->years = calloc(ev->n_years, sizeof(*ev->years));
    ev->initiatives = calloc(config->n_initiatives ? config->n_initiatives : 1,
                             sizeof(*ev->initiatives));
    if (!ev->years || !ev->initiatives)
        goto fail;

    fixed_t baseline = config->baseline_year ? total_production(store, config,
                                                                config->baseline_year)
                                             : 0;
    for (size_t y = 0; y < ev->n_years; y++) {
        struct eval_year *ey = &ev->years[y];
        ey->year = years[y];
        ey->metals = calloc(config->n_metals ? config->n_metals : 1, sizeof(*ey->metals));
        if (!ey->metals)
            goto fail;
        for (size_t i = 0; i < config->n_metals; i++) {
            int metal_id = store_metal_find(store, config->metals[i]);
            evaluate_metal(store, metal_id, ey->year, ey->year == ev->current_year,
                           &ey->metals[i]);
            ey->metals[i].plants_reporting = plants_reporting(store, metal_id, ey->year);
        }
        ey->output_vs_baseline = ratio(total_production(store, config, ey->year), baseline);
        evaluate_intensities(store, config, ey);
        evaluate_targets(target_year(config, ey->year), config->n_metals, ey);
    }
    for (size_t i = 0; i < config->n_initiatives; i++)
        evaluate_initiative(store, &config->initiatives[i], now, &ev->initiatives[i]);
    free(years);
    return ev;

fail:
    free(years);
    evaluation_free(ev);
    return NULL;
}

void evaluation_free(struct evaluation *evaluation)
{
    if (!evaluation)
        return;
    for (size_t y = 0; y < evaluation->n_years; y++)
        free(evaluation->years[y].metals);
    free(evaluation->years);
    free(evaluation->initiatives);
    free(evaluation);
}
