/*
 * rollup: how one record contributes to the running sums.
 */
#include "rollup.h"

int rollup_values_equal(const struct rollup_values *a, const struct rollup_values *b)
{
    for (int f = 0; f < RECORD_FIELD_COUNT; f++) {
        if (rollup_has(a, f) != rollup_has(b, f))
            return 0;
        if (rollup_has(a, f) && a->value[f] != b->value[f])
            return 0;
    }
    return 1;
}

static fixed_t field(const struct rollup_values *v, enum record_field f)
{
    return fixed_from_double(v->value[f]);
}

/* Adds sign * (a and b) to *sum_a and *sum_b when both fields are present. */
static void apply_matched(fixed_t *sum_a, fixed_t *sum_b, const struct rollup_values *v,
                          enum record_field a, enum record_field b, int sign)
{
    if (rollup_has(v, a) && rollup_has(v, b)) {
        *sum_a += sign * field(v, a);
        *sum_b += sign * field(v, b);
    }
}

void rollup_month_apply(struct rollup_month *m, const struct rollup_values *v, int sign)
{
    if (rollup_has(v, RECORD_PRODUCTION_TONNES)) {
        m->production += sign * field(v, RECORD_PRODUCTION_TONNES);
        m->production_records += (uint32_t)sign;
    }
    apply_matched(&m->co2_matched, &m->production_co2_matched, v, RECORD_CO2_TONNES,
                  RECORD_PRODUCTION_TONNES, sign);
    apply_matched(&m->energy_matched, &m->production_energy_matched, v, RECORD_ENERGY_MWH,
                  RECORD_PRODUCTION_TONNES, sign);
    apply_matched(&m->recycled_matched, &m->waste_matched, v, RECORD_WASTE_RECYCLED_TONNES,
                  RECORD_WASTE_TONNES, sign);
}

void rollup_plant_year_apply(struct rollup_plant_year *y, const struct rollup_values *v, int sign)
{
    static const enum record_field fields[ROLLUP_PLANT_SUM_COUNT] = {
        [ROLLUP_PLANT_PRODUCTION] = RECORD_PRODUCTION_TONNES,
        [ROLLUP_PLANT_CO2] = RECORD_CO2_TONNES,
        [ROLLUP_PLANT_ENERGY] = RECORD_ENERGY_MWH,
    };
    for (int i = 0; i < ROLLUP_PLANT_SUM_COUNT; i++) {
        if (rollup_has(v, fields[i])) {
            y->sum[i] += sign * field(v, fields[i]);
            y->records[i] += (uint32_t)sign;
        }
    }
}
