/*
 * feed_record: what every feed format shares: the names of the record
 * fields and the unit scaling of mapped quantities.
 */
#include "feed_record.h"

#include <math.h>

const char *const record_field_names[RECORD_FIELD_COUNT] = {
    [RECORD_PRODUCTION_TONNES] = "production_tonnes",
    [RECORD_CO2_TONNES] = "co2_tonnes",
    [RECORD_ENERGY_MWH] = "energy_mwh",
    [RECORD_WASTE_TONNES] = "waste_tonnes",
    [RECORD_WASTE_RECYCLED_TONNES] = "waste_recycled_tonnes",
};

void feed_value_scale(struct feed_value *v, double scale)
{
    if (v->state != FEED_VALUE_PRESENT || !(scale > 0) || scale == 1)
        return;
    double inverse = 1 / scale;
    v->value = scale < 1 && inverse == nearbyint(inverse) ? v->value / inverse : v->value * scale;
    if (!isfinite(v->value))
        *v = (struct feed_value){.state = FEED_VALUE_INVALID};
}
