/*
 * rollup: the running sums national and plant figures are read from. Each
 * stored record contributes to one month of its metal's national rollup and
 * to one year of its plant's rollup; a restatement subtracts the old
 * contribution and adds the new one, exactly (see fixed.h). Reading a
 * national figure therefore never walks the records.
 */
#ifndef INGOT_ROLLUP_H
#define INGOT_ROLLUP_H

#include <math.h>
#include <stdint.h>

#include "feed_record.h"
#include "fixed.h"

/* A record as stored: the value of each field (enum record_field), NAN
 * where the field is absent. A present value is always finite (ingest and
 * snapshot restore reject anything else), so NAN cannot be mistaken for
 * one, and no presence mask is needed: 40 bytes rather than 48. Start from
 * rollup_values_none(), never from a zeroed struct (zero is a value). */
struct rollup_values {
    double value[RECORD_FIELD_COUNT];
};

/* Every field absent. */
static inline struct rollup_values rollup_values_none(void)
{
    struct rollup_values v;
    for (int f = 0; f < RECORD_FIELD_COUNT; f++)
        v.value[f] = NAN;
    return v;
}

static inline int rollup_has(const struct rollup_values *v, enum record_field f)
{
    return !isnan(v->value[f]);
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
