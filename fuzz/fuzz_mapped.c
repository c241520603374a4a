/*
 * fuzz_mapped: libFuzzer target for plants' own formats: mapped JSON
 * (feed_mapped, json_pointer) and mapped CSV (feed_csv_parse_mapped), and
 * the periods, decimal commas and units they read. The first byte of an
 * input picks a mapping (its value modulo MAPPINGS); the rest is the
 * document. Two of the mappings are themselves read from the input: its
 * first line holds tab-separated JSON Pointers (records, then the fields),
 * or a delimiter byte and tab-separated column names, so the pointer and
 * header code meet arbitrary text too.
 *
 * Each document is parsed through a checking sink, which holds the parser
 * to feed_record.h's contract (a PRESENT value finite, text NUL-terminated,
 * constants handed on as configured, lines 1-based and in order, no call
 * after a failure), and then ingested twice into one store through a feed
 * with that mapping, holding ingest to ingest.h's (a failed document
 * applies and counts nothing, the same document hands on the same records).
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feed_csv.h"
#include "feed_mapped.h"
#include "fuzz_check.h"
#include "ingest.h"
#include "log.h"
#include "store.h"
#include "test_config_fixture.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define Q(f) (MAPPING_QUANTITY + (f))
#define POINTER(text, scale) {MAPPING_POINTER, text, NULL, scale}
#define COLUMN(text, scale) {MAPPING_COLUMN, text, NULL, scale}
#define VALUE(text) {MAPPING_VALUE, text, NULL, 1}

/* The fixed mappings; fields left out are ABSENT (scale 0: never read). */
static struct config_mapping fixed[] = {
    { /* a nested API export with units (README's first example) */
     .records = "/report/rows", .delimiter = ',',
     .fields = {[MAPPING_PLANT] = POINTER("/asset/id", 1),
                [MAPPING_METAL] = POINTER("/commodity", 1),
                [MAPPING_PERIOD] = POINTER("/month", 1),
                [Q(RECORD_PRODUCTION_TONNES)] = POINTER("/output/cathode_kt", 1e3),
                [Q(RECORD_CO2_TONNES)] = POINTER("/emissions/co2_kt", 1e3),
                [Q(RECORD_ENERGY_MWH)] = POINTER("/utilities/electricity_gwh", 1e3)}},
    { /* the document is the array, timestamps, kg and kWh */
     .records = "", .delimiter = ',',
     .fields = {[MAPPING_PLANT] = POINTER("/site", 1), [MAPPING_METAL] = POINTER("/metal", 1),
                [MAPPING_PERIOD] = POINTER("/ts", 1),
                [Q(RECORD_PRODUCTION_TONNES)] = POINTER("/t", 1),
                [Q(RECORD_CO2_TONNES)] = POINTER("/kg", 1e-3),
                [Q(RECORD_ENERGY_MWH)] = POINTER("/kwh", 1e-3),
                [Q(RECORD_WASTE_TONNES)] = POINTER("/w/0", 1e6),
                [Q(RECORD_WASTE_RECYCLED_TONNES)] = POINTER("/w/1", 1e6)}},
    { /* escapes, indices, constants, the record itself */
     .records = "/d/1/r~1s", .delimiter = ',',
     .fields = {[MAPPING_PLANT] = VALUE("kz-a"), [MAPPING_METAL] = POINTER("/m~0n", 1),
                [MAPPING_PERIOD] = POINTER("/", 1),
                [Q(RECORD_PRODUCTION_TONNES)] = POINTER("/v/0", 1),
                [Q(RECORD_CO2_TONNES)] = POINTER("/v/-", 1),
                [Q(RECORD_ENERGY_MWH)] = POINTER("/v/01", 1),
                [Q(RECORD_WASTE_TONNES)] = POINTER("", 1)}},
    { /* a spreadsheet: ';', decimal commas, constants */
     .delimiter = ';', .decimal_comma = true,
     .fields = {[MAPPING_PLANT] = VALUE("kz-b"), [MAPPING_METAL] = VALUE("aluminum"),
                [MAPPING_PERIOD] = COLUMN("Period", 1),
                [Q(RECORD_PRODUCTION_TONNES)] = COLUMN("Output, t", 1),
                [Q(RECORD_CO2_TONNES)] = COLUMN("CO2", 1),
                [Q(RECORD_ENERGY_MWH)] = COLUMN("kWh", 1e-3),
                [Q(RECORD_WASTE_TONNES)] = COLUMN("Waste", 1),
                [Q(RECORD_WASTE_RECYCLED_TONNES)] = COLUMN("Recycled", 1)}},
    { /* tabs, a column read twice */
     .delimiter = '\t',
     .fields = {[MAPPING_PLANT] = COLUMN("plant", 1), [MAPPING_METAL] = COLUMN("metal", 1),
                [MAPPING_PERIOD] = COLUMN("day", 1),
                [Q(RECORD_WASTE_TONNES)] = COLUMN("waste", 1e3),
                [Q(RECORD_WASTE_RECYCLED_TONNES)] = COLUMN("waste", 1e3)}},
};
#define FIXED (sizeof(fixed) / sizeof(fixed[0]))
#define FIXED_JSON 3 /* fixed[0..FIXED_JSON) are JSON mappings */
#define MAPPINGS (FIXED + 2) /* and one JSON, one CSV mapping read from the input */

static struct config_feed feed_for(struct config_mapping *mapping, bool json)
{
    return (struct config_feed){
        .name = "mapped", .url = "file:///dev/null",
        .format = json ? FEED_FORMAT_JSON : FEED_FORMAT_CSV, .interval_ms = 60000,
        .timeout_ms = 1000, .stale_after_ms = 180000, .max_body_bytes = 1 << 20,
        .plants = fixture_plants, .n_plants = 2, .mapping = mapping,
    };
}

/* ---- the checking sink --------------------------------------------------- */

struct checker {
    const struct config_mapping *mapping;
    bool json;
    size_t records;
    unsigned long last_line;
};

static void check_text(const char *s, int slot, const struct config_mapping *mapping)
{
    const struct config_mapping_field *f = &mapping->fields[slot];
    if (f->source == MAPPING_VALUE)
        FUZZ_REQUIRE(s != NULL && strcmp(s, f->text) == 0);
    else if (f->source == MAPPING_ABSENT)
        FUZZ_REQUIRE(s == NULL);
    if (s != NULL)
        FUZZ_REQUIRE(strlen(s) < (1u << 20)); /* NUL-terminated, within the document */
}

static void on_record(void *ctx, const struct feed_raw_record *rec)
{
    struct checker *c = ctx;
    c->records++;
    FUZZ_REQUIRE(rec->line >= 1);
    FUZZ_REQUIRE(rec->line >= c->last_line); /* document order */
    c->last_line = rec->line;
    check_text(rec->plant, MAPPING_PLANT, c->mapping);
    check_text(rec->metal, MAPPING_METAL, c->mapping);
    check_text(rec->period, MAPPING_PERIOD, c->mapping);
    for (int f = 0; f < RECORD_FIELD_COUNT; f++) {
        const struct feed_value *v = &rec->fields[f];
        FUZZ_REQUIRE(v->state == FEED_VALUE_ABSENT || v->state == FEED_VALUE_PRESENT ||
                     v->state == FEED_VALUE_INVALID);
        if (v->state == FEED_VALUE_PRESENT)
            FUZZ_REQUIRE(isfinite(v->value));
        if (c->mapping->fields[Q(f)].source == MAPPING_ABSENT)
            FUZZ_REQUIRE(v->state == FEED_VALUE_ABSENT);
    }
    if (c->json)
        FUZZ_REQUIRE(rec->problem == NULL);
}

static void on_plant(void *ctx, const struct feed_plant_attrs *attrs)
{
    (void)ctx;
    (void)attrs;
    fuzz_fail("a mapped document handed on plant attributes");
}

/* ---- mappings read from the input --------------------------------------- */

/* Splits the first line of *data at tabs into up to max NUL-terminated
 * fields (copied into buf) and moves *data past it. Returns the count. */
static size_t split_first_line(const uint8_t **data, size_t *size, char *buf, size_t buf_size,
                               char **fields, size_t max)
{
    const uint8_t *nl = memchr(*data, '\n', *size);
    size_t n = nl ? (size_t)(nl - *data) : *size;
    if (n >= buf_size)
        n = buf_size - 1;
    memcpy(buf, *data, n);
    buf[n] = '\0';
    size_t consumed = nl ? (size_t)(nl - *data) + 1 : *size;
    *data += consumed;
    *size -= consumed;
    size_t count = 0;
    for (char *p = buf; count < max;) {
        fields[count++] = p;
        char *tab = strchr(p, '\t');
        if (tab == NULL)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    return count;
}

/* The JSON mapping of the input's first line: records, then the fields in
 * slot order; a field left out (or empty after the plant) is not mapped,
 * so a pointer "" is only ever the records'. */
static void custom_json(struct config_mapping *m, char *line, size_t line_size,
                        const uint8_t **data, size_t *size)
{
    char *fields[1 + MAPPING_SLOT_COUNT];
    size_t n = split_first_line(data, size, line, line_size, fields, 1 + MAPPING_SLOT_COUNT);
    *m = (struct config_mapping){.records = fields[0], .delimiter = ','};
    for (size_t i = 1; i < n; i++)
        if (fields[i][0] != '\0')
            m->fields[i - 1] = (struct config_mapping_field)POINTER(fields[i], i % 2 ? 1 : 1e3);
}

/* The CSV mapping of the input's first line: its first byte the delimiter
 * (not a quote or line end, as config.c requires), then column names. */
static void custom_csv(struct config_mapping *m, char *line, size_t line_size,
                       const uint8_t **data, size_t *size)
{
    char *fields[MAPPING_SLOT_COUNT];
    char delimiter = *size > 0 ? (char)(*data)[0] : ';';
    if (delimiter == '"' || delimiter == '\n' || delimiter == '\r' || delimiter == '\0')
        delimiter = ';';
    if (*size > 0) {
        (*data)++;
        (*size)--;
    }
    size_t n = split_first_line(data, size, line, line_size, fields, MAPPING_SLOT_COUNT);
    *m = (struct config_mapping){.delimiter = delimiter, .decimal_comma = delimiter != ','};
    m->fields[MAPPING_PLANT] = (struct config_mapping_field)VALUE("kz-a");
    for (size_t i = 0; i < n; i++)
        if (fields[i][0] != '\0' && i + 1 < MAPPING_SLOT_COUNT)
            m->fields[i + 1] = (struct config_mapping_field)COLUMN(fields[i], i % 2 ? 1e-3 : 1);
}

/* ---- ingest ------------------------------------------------------------ */

static uint64_t handed_on(const struct ingest_counts *c)
{
    uint64_t n = c->accepted;
    for (int r = 0; r < INGEST_REASON_COUNT; r++)
        n += c->rejected[r];
    return n;
}

static void ingest_twice(struct store *store, const struct config_feed *feed, const char *body,
                         size_t len, int parse_rc, size_t records)
{
    struct ingest_counts first = {0}, second = {0};
    char err[256] = "";
    int rc = ingest_document(store, &fixture_config, feed, FIXTURE_NOW, body, len, &first, err,
                             sizeof(err));
    FUZZ_REQUIRE(rc == parse_rc);
    if (rc == -1) {
        FUZZ_REQUIRE(err[0] != '\0');
        FUZZ_REQUIRE(handed_on(&first) == 0 && first.changed == 0);
        FUZZ_REQUIRE(store_plant_count(store) == 0);
    } else {
        FUZZ_REQUIRE(handed_on(&first) == records);
        FUZZ_REQUIRE(first.changed <= first.accepted);
    }
    int again = ingest_document(store, &fixture_config, feed, FIXTURE_NOW, body, len, &second,
                                err, sizeof(err));
    FUZZ_REQUIRE(again == rc);
    FUZZ_REQUIRE(handed_on(&second) == handed_on(&first));
    FUZZ_REQUIRE(second.changed <= second.accepted);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_level(LOG_LEVEL_ERROR);
    for (size_t i = 0; i < FIXED; i++)
        for (int slot = 0; slot < MAPPING_SLOT_COUNT; slot++)
            if (fixed[i].fields[slot].source == MAPPING_ABSENT)
                fixed[i].fields[slot].scale = 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t pick = data[0] % MAPPINGS;
    data++, size--;
    static char line[4096];
    struct config_mapping custom;
    struct config_mapping *mapping;
    bool json;
    if (pick < FIXED) {
        mapping = &fixed[pick];
        json = pick < FIXED_JSON;
    } else if (pick == FIXED) {
        custom_json(&custom, line, sizeof(line), &data, &size);
        mapping = &custom;
        json = true;
    } else {
        custom_csv(&custom, line, sizeof(line), &data, &size);
        mapping = &custom;
        json = false;
    }
    /* The document in a buffer of its own size, so that ASan sees any
     * read past its end. */
    char *body = malloc(size ? size : 1);
    FUZZ_REQUIRE(body != NULL);
    memcpy(body, data, size);

    struct checker checker = {.mapping = mapping, .json = json};
    struct feed_sink sink = {.plant = on_plant, .record = on_record, .ctx = &checker};
    char err[256] = "";
    int rc = json ? feed_mapped_json_parse(body, size, mapping, &sink, err, sizeof(err))
                  : feed_csv_parse_mapped(body, size, mapping, &sink, err, sizeof(err));
    FUZZ_REQUIRE(rc == 0 || rc == -1);
    if (rc == -1) {
        FUZZ_REQUIRE(checker.records == 0);
        FUZZ_REQUIRE(err[0] != '\0' && strlen(err) < sizeof(err));
    }

    struct store *store = store_new();
    FUZZ_REQUIRE(store != NULL);
    struct config_feed feed = feed_for(mapping, json);
    ingest_twice(store, &feed, body, size, rc, checker.records);
    store_free(store);
    free(body);
    return 0;
}
