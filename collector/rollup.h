/*
 * rollup: the running sums national and plant figures are read from. Each
 * stored record contributes to one month of its metal's national rollup and
 * to one year of its plant's rollup; a restatement subtracts the old
 * contribution and adds the new one, exactly (see fixed.h). Reading a
 * national figure therefore never walks the records.
 */
#ifndef INGOT_ROLLUP_H
#define INGOT_ROLLUP_H

#include <stdint.h>

#include "feed_record.h"
#include "fixed.h"

/* A record as stored: which fields are present, and their values. */
struct rollup_values {
    uint8_t present; /* bit i set: field i (enum record_field) is present */
    double value[RECORD_FIELD_COUNT];
};

static inline int rollup_has(const struct rollup_values *v, enum record_field f)
{
    return (v->present >> f) & 1;
}

/* True when both hold the same fields with the same values. */
int rollup_values_equal(const struct rollup_values *a, const struct rollup_values *b);

/* One calendar month of one metal, summed over all plants. The *_matched
 * pairs only count records that carry both quantities, so intensities are
 * ratios of sums over matched records, never averages of ratios. */
struct rollup_month {
    fixed_t production;
    uint32_t production_records; /* records with production present */
    fixed_t co2_matched, production_co2_matched;
    fixed_t energy_matched, production_energy_matched;
    fixed_t recycled_matched, waste_matched;
};

/* One year of one plant and metal. */
enum rollup_plant_sum { ROLLUP_PLANT_PRODUCTION, ROLLUP_PLANT_CO2, ROLLUP_PLANT_ENERGY,
                        ROLLUP_PLANT_SUM_COUNT };
struct rollup_plant_year {
    int year;
    fixed_t sum[ROLLUP_PLANT_SUM_COUNT];
    uint32_t records[ROLLUP_PLANT_SUM_COUNT]; /* records with that field present */
};

/* Adds (sign +1) or removes (sign -1) a record's contribution. */
void rollup_month_apply(struct rollup_month *m, const struct rollup_values *v, int sign);
void rollup_plant_year_apply(struct rollup_plant_year *y, const struct rollup_values *v, int sign);

#endif
