/*
 * feed_record: the names of the record fields, shared by both feed formats.
 */
#include "feed_record.h"

const char *const record_field_names[RECORD_FIELD_COUNT] = {
    [RECORD_PRODUCTION_TONNES] = "production_tonnes",
    [RECORD_CO2_TONNES] = "co2_tonnes",
    [RECORD_ENERGY_MWH] = "energy_mwh",
    [RECORD_WASTE_TONNES] = "waste_tonnes",
    [RECORD_WASTE_RECYCLED_TONNES] = "waste_recycled_tonnes",
};
