/*
 * feed_record: what the feed parsers hand on, before any validation. A
 * parser reads a whole document, fails it as a whole if its structure is
 * wrong, and otherwise calls the sink once per plant and once per record, in
 * document order. Strings point into the parser's memory and are valid only
 * during the call.
 */
#ifndef INGOT_FEED_RECORD_H
#define INGOT_FEED_RECORD_H

#include <stddef.h>

/* The quantities a record may carry, in the feed's field order. */
enum record_field {
    RECORD_PRODUCTION_TONNES,
    RECORD_CO2_TONNES,
    RECORD_ENERGY_MWH,
    RECORD_WASTE_TONNES,
    RECORD_WASTE_RECYCLED_TONNES,
    RECORD_FIELD_COUNT
};

/* The JSON key / CSV column of each field ("production_tonnes", ...). */
extern const char *const record_field_names[RECORD_FIELD_COUNT];

enum feed_value_state {
    FEED_VALUE_ABSENT,  /* missing, JSON null, or an empty CSV cell; must stay 0 */
    FEED_VALUE_PRESENT, /* a finite number (possibly negative) in value */
    FEED_VALUE_INVALID, /* wrong type, not a number, or not finite */
};

struct feed_value {
    enum feed_value_state state;
    double value;
};

struct feed_text {
    enum feed_value_state state; /* PRESENT: s is set; INVALID: wrong type */
    const char *s;
};

struct feed_raw_record {
    const char *plant;  /* NULL when missing or not a string */
    const char *metal;  /* NULL when missing or not a string */
    const char *period; /* NULL when missing or not a string */
    struct feed_value fields[RECORD_FIELD_COUNT];
    unsigned long line; /* 1-based source line, for log messages */
    const char *problem; /* set by CSV when the row itself is malformed */
};

/* Plant attributes; only JSON documents carry them. */
struct feed_plant_attrs {
    const char *id; /* NULL when missing or not a string */
    struct feed_text name;
    struct feed_text region;
    struct feed_value capacity_tonnes_per_year;
    struct feed_value workers_certified;
    enum feed_value_state green_state; /* PRESENT: green_operational is set */
    int green_operational;
    unsigned long line;
};

/* Turns a PRESENT value in a mapped field's unit into ingot's unit (tonnes,
 * MWh) by scale, a factor of config_unit_scale: multiplied by a factor of at
 * least 1, divided by the inverse of a smaller one (1000 for kg: exact, where
 * multiplying by 0.001 would round twice). A result that is not finite makes
 * the value INVALID. ABSENT and INVALID values are left alone, and so is
 * every value when scale is not a positive number (a mapping field built
 * without config.c, whose scale was never set). Every mapped format scales
 * its quantities here and nowhere else. */
void feed_value_scale(struct feed_value *v, double scale);

struct feed_sink {
    void (*plant)(void *ctx, const struct feed_plant_attrs *attrs);
    void (*record)(void *ctx, const struct feed_raw_record *record);
    void *ctx;
};

#endif
