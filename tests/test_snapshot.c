/*
 * test_snapshot: the snapshot codec. A store with every kind of plant and
 * record goes through snapshot_encode, snapshot_read and snapshot_restore
 * unchanged and re-encodes to the same bytes; fields of a later v1 are
 * skipped at the top level and inside a plant; and malformed input
 * (truncated, garbage, wrong wire types, bad plants and records) is refused
 * with a precise reason before the sink or the store sees anything. The
 * tests build and inspect protobuf bytes by hand: they never use the
 * generated types.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil_time.h"
#include "evaluation.h"
#include "feed_recorder.h"
#include "snapshot.h"
#include "test_config_fixture.h"

#define TAKEN_AT_MS (FIXTURE_NOW * 1000LL + 123)

/* The records of the fixture store, in the order a snapshot holds them:
 * plants by id, metals by name, periods ascending. NAN: field absent. */
static const struct fixture_record {
    const char *plant, *metal, *period;
    double v[RECORD_FIELD_COUNT];
} fixture_records[] = {
    {"kz-a", "copper", "2024-12", {1000, 900, 4200, 50, 40}},
    {"kz-a", "copper", "2025-01", {1200.5, NAN, 5000, NAN, NAN}},
    {"kz-a", "copper", "2025-02-03", {0.1, NAN, NAN, NAN, NAN}},
    {"kz-a", "copper", "2025-02-04", {NAN, NAN, NAN, NAN, NAN}},
    {"kz-a", "gold", "2025-01", {3.25, NAN, NAN, 0, NAN}}, /* gold is not configured */
    {"kz-a", "zinc", "2025-03", {1e15, 0, NAN, NAN, NAN}},
    {"kz-b", "aluminum", "2025-06-30", {7, NAN, NAN, 3, 2}},
    {"kz-b", "copper", "2025-01", {500, 450, NAN, NAN, NAN}},
};
#define N_FIXTURE_RECORDS (sizeof(fixture_records) / sizeof(fixture_records[0]))

static struct feed_stats fixture_stats[] = {
    {.up = true, .last_success = 1752537000.25, .last_duration_seconds = 0.5, .fetches_ok = 3,
     .fetches_error = 1,
     .records = {.accepted = 8, .changed = 8, .rejected = {[INGEST_UNKNOWN_METAL] = 2}}},
    {.up = false, .last_success = 0, .last_duration_seconds = NAN},
};
static const struct snapshot_feed_status fixture_feed_status[] = {
    {"prod", &fixture_stats[0]},
    {"csv", &fixture_stats[1]},
};

static void put_record(struct store *s, const struct fixture_record *fr)
{
    struct period p;
    assert_int_equal(period_parse(fr->period, &p), 0);
    struct store_record r = {.period_key = period_key(&p), .values = rollup_values_none()};
    for (int f = 0; f < RECORD_FIELD_COUNT; f++) {
        if (!isnan(fr->v[f])) {
            r.values.value[f] = fr->v[f];
        }
    }
    struct store_plant *plant = store_plant_get(s, fr->plant);
    int metal = store_metal_id(s, fr->metal);
    assert_non_null(plant);
    assert_true(metal >= 0);
    assert_int_equal(store_put(s, plant, metal, &r), 1);
}

/* kz-a has every attribute, kz-b none, kz-c some and no records. Records go
 * in backwards, so the store's metal ids (copper 0, aluminum 1, zinc 2,
 * gold 3) are not in name order. */
static struct store *fixture_store(void)
{
    struct store *s = store_new();
    assert_non_null(s);
    for (size_t i = N_FIXTURE_RECORDS; i-- > 0;)
        put_record(s, &fixture_records[i]);
    struct store_plant *a = store_plant_get(s, "kz-a");
    assert_int_equal(store_plant_set_text(&a->name, "Balkhash copper smelter"), 0);
    assert_int_equal(store_plant_set_text(&a->region, "Karaganda"), 0);
    a->capacity_tonnes_per_year = 250000;
    a->has_capacity = true;
    a->workers_certified = 1200;
    a->has_workers = true;
    a->green_operational = 1;
    struct store_plant *c = store_plant_get(s, "kz-c");
    assert_int_equal(store_plant_set_text(&c->name, "Ust-Kamenogorsk zinc"), 0);
    c->green_operational = 0;
    assert_true(store_metal_find(s, "gold") > store_metal_find(s, "zinc"));
    return s;
}

/* Encodes store with the fixture config, and with its evaluation and the
 * feeds when full. */
static void encode(const struct store *store, bool full, uint8_t **buf, size_t *len)
{
    struct evaluation *e = NULL;
    if (full) {
        e = evaluation_run(store, &fixture_config, FIXTURE_NOW);
        assert_non_null(e);
    }
    struct snapshot_source src = {
        .config = &fixture_config, .store = store, .evaluation = e,
        .feeds = full ? fixture_feed_status : NULL, .n_feeds = full ? 2 : 0,
        .taken_at_ms = TAKEN_AT_MS,
    };
    assert_int_equal(snapshot_encode(&src, buf, len), 0);
    assert_non_null(*buf);
    evaluation_free(e);
}

/* A second recorder, for tests that compare two reads. */
static struct recorder *recorder_new(void)
{
    void *state;
    recorder_setup(&state);
    return state;
}

static void recorder_free(struct recorder *r)
{
    void *state = r;
    recorder_teardown(&state);
}

static void read_ok(const uint8_t *buf, size_t len, struct recorder *r, struct snapshot_info *info)
{
    char err[256] = "";
    int rc = snapshot_read(buf, len, &r->sink, info, err, sizeof(err));
    if (rc != 0)
        fail_msg("snapshot_read: %s", err);
}

/* ---- protobuf bytes by hand ------------------------------------------ */

struct bytes {
    uint8_t data[4096];
    size_t len;
};

static void put_raw(struct bytes *b, const void *p, size_t n)
{
    assert_true(b->len + n <= sizeof(b->data));
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_varint(struct bytes *b, uint64_t v)
{
    do {
        uint8_t byte = (uint8_t)(v & 0x7F) | (v >= 0x80 ? 0x80 : 0);
        put_raw(b, &byte, 1);
        v >>= 7;
    } while (v);
}

static void put_tag(struct bytes *b, uint32_t field, unsigned wire_type)
{
    put_varint(b, (uint64_t)field << 3 | wire_type);
}

static void put_len(struct bytes *b, uint32_t field, const void *p, size_t n)
{
    put_tag(b, field, 2);
    put_varint(b, n);
    put_raw(b, p, n);
}

static void put_string(struct bytes *b, uint32_t field, const char *s)
{
    put_len(b, field, s, strlen(s));
}

static void put_double(struct bytes *b, uint32_t field, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, 8);
    put_tag(b, field, 1);
    for (int i = 0; i < 8; i++) {
        uint8_t byte = (uint8_t)(bits >> (8 * i));
        put_raw(b, &byte, 1);
    }
}

/* A Plant (field numbers of snapshot.proto): id, then one series of metal
 * with one record of period carrying co2_tonnes. NULL strings and a NAN
 * co2 are left out. */
static struct bytes plant_message(const char *id, const char *metal, const char *period,
                                  double co2)
{
    struct bytes record = {0}, series = {0}, plant = {0};
    if (period)
        put_string(&record, 1, period);
    if (!isnan(co2))
        put_double(&record, 3, co2);
    if (metal)
        put_string(&series, 1, metal);
    put_len(&series, 2, record.data, record.len);
    if (id)
        put_string(&plant, 1, id);
    put_len(&plant, 7, series.data, series.len);
    return plant;
}

/* "taken_at_unix_ms = 1": two bytes, so what follows starts at byte 2. */
static struct bytes snapshot_head(void)
{
    struct bytes b = {0};
    put_tag(&b, 1, 0);
    put_varint(&b, 1);
    return b;
}

/* One top-level field of a well-formed buffer. */
struct field_span {
    uint32_t number;
    size_t start;   /* of its tag */
    size_t payload; /* of its value (after the length when length-delimited) */
    size_t end;
};

static uint64_t get_varint(const uint8_t *buf, size_t *pos)
{
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        v |= (uint64_t)(buf[*pos] & 0x7F) << shift;
        if (!(buf[(*pos)++] & 0x80))
            return v;
    }
}

/* The top-level fields of a well-formed buf, at most max into spans.
 * Returns how many. An independent reader, to check the codec's. */
static size_t scan_fields(const uint8_t *buf, size_t len, struct field_span *spans, size_t max)
{
    size_t n = 0, pos = 0;
    while (pos < len) {
        assert_true(n < max);
        struct field_span *f = &spans[n++];
        f->start = pos;
        uint64_t tag = get_varint(buf, &pos);
        f->number = (uint32_t)(tag >> 3);
        switch (tag & 7) {
        case 0:
            f->payload = pos;
            get_varint(buf, &pos);
            break;
        case 1:
            f->payload = pos;
            pos += 8;
            break;
        case 2: {
            uint64_t v = get_varint(buf, &pos);
            f->payload = pos;
            pos += v;
            break;
        }
        case 5:
            f->payload = pos;
            pos += 4;
            break;
        default:
            fail_msg("wire type %u", (unsigned)(tag & 7));
        }
        assert_true(pos <= len);
        f->end = pos;
    }
    return n;
}

/* ---- checks ---------------------------------------------------------- */

static void assert_feed_value(struct feed_value got, double want)
{
    if (isnan(want))
        assert_value(got, FEED_VALUE_ABSENT, 0);
    else
        assert_value(got, FEED_VALUE_PRESENT, want);
}

/* The calls a reader of the fixture store's snapshot must make. */
static void assert_fixture_calls(const struct recorder *r)
{
    assert_int_equal(r->count, 3 + N_FIXTURE_RECORDS);

    const struct feed_plant_attrs *a = recorded_plant(r, 0);
    assert_string_equal(a->id, "kz-a");
    assert_int_equal(a->name.state, FEED_VALUE_PRESENT);
    assert_string_equal(a->name.s, "Balkhash copper smelter");
    assert_int_equal(a->region.state, FEED_VALUE_PRESENT);
    assert_string_equal(a->region.s, "Karaganda");
    assert_value(a->capacity_tonnes_per_year, FEED_VALUE_PRESENT, 250000);
    assert_value(a->workers_certified, FEED_VALUE_PRESENT, 1200);
    assert_int_equal(a->green_state, FEED_VALUE_PRESENT);
    assert_int_equal(a->green_operational, 1);

    size_t call = 1;
    for (size_t i = 0; i < N_FIXTURE_RECORDS; i++, call++) {
        const struct fixture_record *fr = &fixture_records[i];
        if (i == 6) {
            const struct feed_plant_attrs *b = recorded_plant(r, call++);
            assert_string_equal(b->id, "kz-b");
            assert_int_equal(b->name.state, FEED_VALUE_ABSENT);
            assert_null(b->name.s);
            assert_int_equal(b->region.state, FEED_VALUE_ABSENT);
            assert_value(b->capacity_tonnes_per_year, FEED_VALUE_ABSENT, 0);
            assert_value(b->workers_certified, FEED_VALUE_ABSENT, 0);
            assert_int_equal(b->green_state, FEED_VALUE_ABSENT);
        }
        const struct feed_raw_record *rec = recorded_record(r, call);
        assert_string_equal(rec->plant, fr->plant);
        assert_string_equal(rec->metal, fr->metal);
        assert_string_equal(rec->period, fr->period);
        for (int f = 0; f < RECORD_FIELD_COUNT; f++)
            assert_feed_value(rec->fields[f], fr->v[f]);
        assert_int_equal(rec->line, 0);
        assert_null(rec->problem);
    }

    const struct feed_plant_attrs *c = recorded_plant(r, call);
    assert_string_equal(c->id, "kz-c");
    assert_int_equal(c->name.state, FEED_VALUE_PRESENT);
    assert_string_equal(c->name.s, "Ust-Kamenogorsk zinc");
    assert_int_equal(c->region.state, FEED_VALUE_ABSENT);
    assert_value(c->capacity_tonnes_per_year, FEED_VALUE_ABSENT, 0);
    assert_int_equal(c->green_state, FEED_VALUE_PRESENT);
    assert_int_equal(c->green_operational, 0);
}

static void assert_same_feed_value(struct feed_value a, struct feed_value b)
{
    assert_int_equal(a.state, b.state);
    if (a.state == FEED_VALUE_PRESENT)
        assert_memory_equal(&a.value, &b.value, sizeof(double));
}

static void assert_same_text(struct feed_text a, struct feed_text b)
{
    assert_int_equal(a.state, b.state);
    assert_text(a.s, b.s);
}

/* Both recorders saw the same calls with the same arguments. */
static void assert_same_calls(const struct recorder *x, const struct recorder *y)
{
    assert_int_equal(x->count, y->count);
    for (size_t i = 0; i < x->count; i++) {
        assert_int_equal(x->calls[i].is_plant, y->calls[i].is_plant);
        if (x->calls[i].is_plant) {
            const struct feed_plant_attrs *a = &x->calls[i].plant, *b = &y->calls[i].plant;
            assert_string_equal(a->id, b->id);
            assert_same_text(a->name, b->name);
            assert_same_text(a->region, b->region);
            assert_same_feed_value(a->capacity_tonnes_per_year, b->capacity_tonnes_per_year);
            assert_same_feed_value(a->workers_certified, b->workers_certified);
            assert_int_equal(a->green_state, b->green_state);
            assert_int_equal(a->green_operational, b->green_operational);
        } else {
            const struct feed_raw_record *a = &x->calls[i].record, *b = &y->calls[i].record;
            assert_string_equal(a->plant, b->plant);
            assert_string_equal(a->metal, b->metal);
            assert_string_equal(a->period, b->period);
            for (int f = 0; f < RECORD_FIELD_COUNT; f++)
                assert_same_feed_value(a->fields[f], b->fields[f]);
        }
    }
}

static void assert_same_month(const struct rollup_month *a, const struct rollup_month *b)
{
    if (!a || !b) {
        assert_true(!a && !b);
        return;
    }
    assert_true(a->production == b->production);
    assert_int_equal(a->production_records, b->production_records);
    assert_true(a->co2_matched == b->co2_matched);
    assert_true(a->production_co2_matched == b->production_co2_matched);
    assert_true(a->energy_matched == b->energy_matched);
    assert_true(a->production_energy_matched == b->production_energy_matched);
    assert_true(a->recycled_matched == b->recycled_matched);
    assert_true(a->waste_matched == b->waste_matched);
}

/* got holds exactly want's plants, attributes, records and national rollups. */
static void assert_same_store(const struct store *want, const struct store *got)
{
    assert_int_equal(store_plant_count(got), store_plant_count(want));
    assert_int_equal(store_metal_count(got), store_metal_count(want));
    for (size_t i = 0; i < store_plant_count(want); i++) {
        const struct store_plant *w = store_plant_at(want, i), *g = store_plant_at(got, i);
        assert_string_equal(g->id, w->id);
        assert_text(g->name, w->name);
        assert_text(g->region, w->region);
        assert_int_equal(g->has_capacity, w->has_capacity);
        assert_int_equal(g->has_workers, w->has_workers);
        if (w->has_capacity)
            assert_true(g->capacity_tonnes_per_year == w->capacity_tonnes_per_year);
        if (w->has_workers)
            assert_true(g->workers_certified == w->workers_certified);
        assert_int_equal(g->green_operational, w->green_operational);
        for (size_t m = 0; m < store_metal_count(want); m++) {
            int gm = store_metal_find(got, store_metal_name(want, (int)m));
            assert_true(gm >= 0);
            size_t n = store_record_count(w, (int)m);
            assert_int_equal(store_record_count(g, gm), n);
            for (size_t k = 0; k < n; k++) {
                const struct store_record *wr = store_record_at(w, (int)m, k);
                const struct store_record *gr = store_record_at(g, gm, k);
                assert_int_equal(gr->period_key, wr->period_key);
                assert_true(rollup_values_equal(&gr->values, &wr->values));
            }
        }
    }
    for (size_t m = 0; m < store_metal_count(want); m++) {
        int gm = store_metal_find(got, store_metal_name(want, (int)m));
        for (int year = 2023; year <= 2026; year++)
            for (int month = 1; month <= 12; month++)
                assert_same_month(store_national_month(want, (int)m, year, month),
                                  store_national_month(got, gm, year, month));
    }
}

/* ---- tests ----------------------------------------------------------- */

static void test_read_round_trip(void **state)
{
    struct recorder *r = *state;
    struct store *s = fixture_store();
    uint8_t *buf;
    size_t len;
    encode(s, true, &buf, &len);

    struct snapshot_info info;
    read_ok(buf, len, r, &info);
    assert_true(info.taken_at_ms == TAKEN_AT_MS);
    assert_string_equal(info.version, INGOT_VERSION);
    assert_int_equal(info.plants, 3);
    assert_int_equal(info.records, N_FIXTURE_RECORDS);
    assert_fixture_calls(r);
    free(buf);
    store_free(s);
}

static void test_restore_round_trip(void **state)
{
    (void)state;
    struct store *s = fixture_store();
    uint8_t *buf;
    size_t len;
    encode(s, true, &buf, &len);

    struct store *restored = store_new();
    assert_non_null(restored);
    char err[256] = "";
    struct snapshot_info info;
    assert_int_equal(snapshot_restore(restored, buf, len, &info, err, sizeof(err)), 0);
    assert_int_equal(info.records, N_FIXTURE_RECORDS);
    assert_same_store(s, restored);
    /* Metal ids differ between the stores (restore interns metals in
     * snapshot order), yet the same state encodes to the same bytes. */
    assert_int_not_equal(store_metal_find(restored, "gold"), store_metal_find(s, "gold"));
    uint8_t *again;
    size_t again_len;
    encode(restored, true, &again, &again_len);
    assert_int_equal(again_len, len);
    assert_memory_equal(again, buf, len);

    free(again);
    free(buf);
    store_free(restored);
    store_free(s);
}

static void test_empty_store(void **state)
{
    struct recorder *r = *state;
    struct store *s = store_new();
    uint8_t *buf;
    size_t len;
    encode(s, false, &buf, &len);
    struct snapshot_info info;
    read_ok(buf, len, r, &info);
    assert_int_equal(r->count, 0);
    assert_int_equal(info.plants, 0);
    assert_int_equal(info.records, 0);
    assert_true(info.taken_at_ms == TAKEN_AT_MS);
    free(buf);
    store_free(s);
}

/* A text attribute that is not UTF-8 (an overlong "/") is handed on as
 * INVALID and not restored: it would become a label value. */
static void test_text_not_utf8(void **state)
{
    struct recorder *r = *state;
    struct store *s = store_new();
    struct store_plant *p = store_plant_get(s, "kz-a");
    assert_non_null(p);
    assert_int_equal(store_plant_set_text(&p->name, "bad \xC0\xAF name"), 0);
    assert_int_equal(store_plant_set_text(&p->region, "North"), 0);
    uint8_t *buf;
    size_t len;
    encode(s, false, &buf, &len);
    read_ok(buf, len, r, NULL);
    assert_int_equal(r->count, 1);
    assert_int_equal(recorded_plant(r, 0)->name.state, FEED_VALUE_INVALID);
    assert_int_equal(recorded_plant(r, 0)->region.state, FEED_VALUE_PRESENT);
    struct store *restored = store_new();
    char err[256];
    assert_int_equal(snapshot_restore(restored, buf, len, NULL, err, sizeof(err)), 0);
    assert_null(store_plant_find(restored, "kz-a")->name);
    assert_string_equal(store_plant_find(restored, "kz-a")->region, "North");
    store_free(restored);
    free(buf);
    store_free(s);
}

/* The evaluation and the feeds are written, and reading skips them. */
static void test_national_and_feeds_written_not_read(void **state)
{
    struct recorder *r = *state;
    struct store *s = fixture_store();
    uint8_t *lean, *full;
    size_t lean_len, full_len;
    encode(s, false, &lean, &lean_len);
    encode(s, true, &full, &full_len);
    assert_true(full_len > lean_len + 200);

    struct recorder *other = recorder_new();
    struct snapshot_info lean_info, full_info;
    read_ok(lean, lean_len, r, &lean_info);
    read_ok(full, full_len, other, &full_info);
    assert_same_calls(r, other);
    assert_int_equal(lean_info.records, full_info.records);

    recorder_free(other);
    free(lean);
    free(full);
    store_free(s);
}

/* A later v1's fields, unknown to this reader, of every wire type, at the
 * top level and inside a plant: skipped, and the read is unchanged. */
static void test_unknown_fields_skipped(void **state)
{
    struct recorder *r = *state;
    struct store *s = fixture_store();
    uint8_t *buf;
    size_t len;
    encode(s, true, &buf, &len);
    struct snapshot_info want;
    read_ok(buf, len, r, &want);

    struct field_span spans[64];
    size_t n = scan_fields(buf, len, spans, 64);
    size_t plant = 0;
    while (plant < n && spans[plant].number != 6)
        plant++;
    assert_true(plant < n);

    struct bytes *later = calloc(1, sizeof(*later));
    struct bytes *inner = calloc(1, sizeof(*inner));
    assert_non_null(later);
    assert_non_null(inner);
    put_raw(later, buf, spans[plant].start);
    put_tag(later, 100, 0); /* varint */
    put_varint(later, 300);
    put_double(later, 101, 2.5); /* 64-bit */
    put_string(later, 102, "a later v1"); /* length-delimited */
    put_tag(later, 103, 5); /* 32-bit */
    put_raw(later, "\x01\x02\x03\x04", 4);
    /* The first plant, with unknown fields ahead of its own. */
    put_tag(inner, 90, 0);
    put_varint(inner, 1);
    put_double(inner, 91, -1);
    put_string(inner, 92, "nested");
    put_raw(inner, buf + spans[plant].payload, spans[plant].end - spans[plant].payload);
    put_len(later, 6, inner->data, inner->len);
    put_raw(later, buf + spans[plant].end, len - spans[plant].end);
    put_tag(later, 536870911, 0); /* the largest field number */
    put_varint(later, UINT64_MAX);

    struct recorder *other = recorder_new();
    struct snapshot_info got;
    read_ok(later->data, later->len, other, &got);
    assert_same_calls(r, other);
    assert_true(got.taken_at_ms == want.taken_at_ms);
    assert_string_equal(got.version, want.version);
    assert_int_equal(got.plants, want.plants);
    assert_int_equal(got.records, want.records);

    recorder_free(other);
    free(inner);
    free(later);
    free(buf);
    store_free(s);
}

struct counts {
    size_t plants, records;
};

static void count_plant(void *ctx, const struct feed_plant_attrs *attrs)
{
    (void)attrs;
    ((struct counts *)ctx)->plants++;
}

static void count_record(void *ctx, const struct feed_raw_record *record)
{
    (void)record;
    ((struct counts *)ctx)->records++;
}

/* Every prefix of a snapshot: one that ends between two top-level fields is
 * a shorter snapshot and reads; one that ends inside a field is refused as
 * truncated, before the sink sees anything. */
static void test_every_prefix(void **state)
{
    (void)state;
    struct store *s = store_new();
    assert_non_null(s);
    put_record(s, &fixture_records[0]);
    put_record(s, &fixture_records[4]);
    put_record(s, &fixture_records[6]);
    uint8_t *buf;
    size_t len;
    encode(s, true, &buf, &len);
    struct field_span spans[64];
    size_t n = scan_fields(buf, len, spans, 64);

    size_t boundaries = 0;
    for (size_t cut = 0; cut <= len; cut++) {
        struct counts c = {0};
        struct feed_sink sink = {count_plant, count_record, &c};
        struct snapshot_info info;
        char err[256] = "";
        int rc = snapshot_read(buf, cut, &sink, &info, err, sizeof(err));

        size_t whole = 0, plants = 0; /* fields wholly inside the prefix */
        while (whole < n && spans[whole].end <= cut)
            plants += spans[whole++].number == 6;
        bool boundary = whole > 0 && spans[whole - 1].end == cut;
        if (cut == 0) {
            assert_int_equal(rc, -1);
            assert_string_equal(err, "not a snapshot: taken_at_unix_ms missing");
        } else if (boundary) {
            boundaries++;
            if (rc != 0)
                fail_msg("prefix of %zu bytes: %s", cut, err);
            assert_int_equal(info.plants, plants);
            assert_int_equal(c.plants, plants);
        } else {
            assert_int_equal(rc, -1);
            if (!strstr(err, "truncated"))
                fail_msg("prefix of %zu bytes: %s", cut, err);
        }
        if (rc != 0)
            assert_int_equal(c.plants + c.records, 0);
    }
    assert_int_equal(boundaries, n);
    free(buf);
    store_free(s);
}

/* ---- malformed snapshots --------------------------------------------- */

static void bad_empty(struct bytes *b)
{
    (void)b;
}

static void bad_taken_at_cut(struct bytes *b)
{
    put_tag(b, 1, 0);
}

static void bad_overlong_varint(struct bytes *b)
{
    put_raw(b, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
}

static void bad_garbage(struct bytes *b)
{
    put_raw(b, "hello, world", 12);
}

static void bad_field_zero(struct bytes *b)
{
    put_raw(b, "\x00\x01", 2);
}

static void bad_group(struct bytes *b)
{
    *b = snapshot_head();
    put_tag(b, 50, 3);
}

static void bad_taken_at_type(struct bytes *b)
{
    put_len(b, 1, "\x01", 1);
}

static void bad_plants_type(struct bytes *b)
{
    *b = snapshot_head();
    put_tag(b, 6, 0);
    put_varint(b, 1);
}

static void bad_plants_overrun(struct bytes *b)
{
    *b = snapshot_head();
    put_tag(b, 6, 2);
    put_varint(b, 5);
    put_raw(b, "ab", 2);
}

static void bad_plant_bytes(struct bytes *b)
{
    *b = snapshot_head();
    put_len(b, 6, "\xff", 1);
}

static void bad_plant_id_type(struct bytes *b)
{
    *b = snapshot_head();
    put_len(b, 6, "\x08\x07", 2); /* id (a string) as the varint 7 */
}

static void put_plant(struct bytes *b, const char *id, const char *metal, const char *period,
                      double co2)
{
    struct bytes plant = plant_message(id, metal, period, co2);
    put_len(b, 6, plant.data, plant.len);
}

static void bad_plant_no_id(struct bytes *b)
{
    *b = snapshot_head();
    put_plant(b, "", "copper", "2025-01", 1);
}

static void bad_plant_id(struct bytes *b)
{
    *b = snapshot_head();
    put_plant(b, "KZ A", "copper", "2025-01", 1);
}

static void bad_period(struct bytes *b)
{
    *b = snapshot_head();
    put_plant(b, "kz-a", "copper", "2025-13", 1);
}

static void bad_no_period(struct bytes *b)
{
    *b = snapshot_head();
    put_plant(b, "kz-a", "copper", NULL, 1);
}

static void bad_no_metal(struct bytes *b)
{
    *b = snapshot_head();
    put_plant(b, "kz-a", NULL, "2025-01", 1);
}

static void bad_value(struct bytes *b)
{
    *b = snapshot_head();
    put_plant(b, "kz-a", "copper", "2025-01", INFINITY);
}

static void bad_huge_value(struct bytes *b)
{
    *b = snapshot_head();
    put_plant(b, "kz-a", "copper", "2025-01", 2e15);
}

static void bad_second_plant(struct bytes *b)
{
    *b = snapshot_head();
    put_plant(b, "kz-a", "copper", "2025-01", 1);
    put_plant(b, "kz-b", "copper", "2025-02-30", 1);
}

static void bad_national(struct bytes *b)
{
    *b = snapshot_head();
    put_len(b, 7, "\xff", 1);
}

static void bad_no_taken_at(struct bytes *b)
{
    put_plant(b, "kz-a", "copper", "2025-01", 1);
}

static const struct bad_input {
    void (*build)(struct bytes *b);
    const char *err;
} bad_inputs[] = {
    {bad_empty, "not a snapshot: taken_at_unix_ms missing"},
    {bad_no_taken_at, "not a snapshot: taken_at_unix_ms missing"},
    {bad_taken_at_cut, "byte 0: field 1 (taken_at_unix_ms): truncated varint"},
    {bad_overlong_varint, "byte 0: varint longer than 64 bits in a field tag"},
    {bad_garbage, "byte 2: field 13: unsupported wire type 4"},
    {bad_field_zero, "byte 0: invalid field number 0"},
    {bad_group, "byte 2: field 50: unsupported wire type 3"},
    {bad_taken_at_type, "byte 0: field 1 (taken_at_unix_ms): wire type 2, expected 0"},
    {bad_plants_type, "byte 2: field 6 (plants): wire type 0, expected 2"},
    {bad_plants_overrun, "byte 2: field 6 (plants) truncated: 5 bytes of value, 2 left"},
    {bad_plant_bytes, "plant 1 (byte 2): not a valid ingot.v1.Plant message"},
    {bad_plant_id_type, "plant 1 (byte 2): not a valid ingot.v1.Plant message"},
    {bad_plant_no_id, "plant 1 (byte 2): no id"},
    {bad_plant_id, "plant 1 (byte 2): invalid id \"KZ A\""},
    {bad_period, "plant kz-a, metal \"copper\": record 1: invalid period \"2025-13\""},
    {bad_no_period, "plant kz-a, metal \"copper\": record 1: invalid period null"},
    {bad_no_metal, "plant kz-a: series 1: no metal"},
    {bad_value, "plant kz-a, metal \"copper\", period 2025-01: co2_tonnes inf out of range"},
    {bad_huge_value, "plant kz-a, metal \"copper\", period 2025-01: co2_tonnes 2e+15 out of range"},
    {bad_second_plant, "plant kz-b, metal \"copper\": record 1: invalid period \"2025-02-30\""},
    {bad_national, "byte 2: field 7 (national): not a valid ingot.v1.National message"},
};

/* Each is refused with its reason; neither the sink nor the store sees any
 * of it, not even a sound plant ahead of the bad one. */
static void test_bad_inputs(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
        struct bytes b = {0};
        bad_inputs[i].build(&b);
        struct counts c = {0};
        struct feed_sink sink = {count_plant, count_record, &c};
        char err[256] = "";
        int rc = snapshot_read(b.len ? b.data : NULL, b.len, &sink, NULL, err, sizeof(err));
        if (rc != -1 || strcmp(err, bad_inputs[i].err) != 0)
            fail_msg("case %zu: rc %d, err \"%s\", want \"%s\"", i, rc, err, bad_inputs[i].err);
        assert_int_equal(c.plants + c.records, 0);

        struct store *s = store_new();
        assert_non_null(s);
        char restore_err[256] = "";
        assert_int_equal(snapshot_restore(s, b.data, b.len, NULL, restore_err,
                                          sizeof(restore_err)), -1);
        assert_string_equal(restore_err, bad_inputs[i].err);
        assert_int_equal(store_plant_count(s), 0);
        assert_int_equal(store_metal_count(s), 0);
        store_free(s);
    }
}

/* 100,000 day records over 50 plants and two metals survive the round trip. */
static void test_many_records(void **state)
{
    (void)state;
    struct store *s = store_new();
    assert_non_null(s);
    const char *metals[] = {"zinc", "copper"};
    for (int plant = 0; plant < 50; plant++) {
        char id[16];
        snprintf(id, sizeof(id), "kz-%03d", plant);
        struct store_plant *sp = store_plant_get(s, id);
        assert_non_null(sp);
        for (int m = 0; m < 2; m++) {
            int metal = store_metal_id(s, metals[m]);
            for (int day = 0; day < 1000; day++) {
                int y, mo, d;
                civil_date_from_time((int64_t)(19000 + day) * 86400, &y, &mo, &d);
                struct store_record r = {.period_key = period_key(&(struct period){y, mo, d}),
                                         .values = rollup_values_none()};
                r.values.value[RECORD_PRODUCTION_TONNES] = plant + day * 0.001;
                r.values.value[RECORD_CO2_TONNES] = m;
                assert_int_equal(store_put(s, sp, metal, &r), 1);
            }
        }
    }
    uint8_t *buf;
    size_t len;
    encode(s, false, &buf, &len);

    struct counts c = {0};
    struct feed_sink sink = {count_plant, count_record, &c};
    struct snapshot_info info;
    char err[256] = "";
    assert_int_equal(snapshot_read(buf, len, &sink, &info, err, sizeof(err)), 0);
    assert_int_equal(info.plants, 50);
    assert_int_equal(info.records, 100000);
    assert_int_equal(c.plants, 50);
    assert_int_equal(c.records, 100000);

    struct store *restored = store_new();
    assert_non_null(restored);
    assert_int_equal(snapshot_restore(restored, buf, len, NULL, err, sizeof(err)), 0);
    assert_same_store(s, restored);
    free(buf);
    store_free(restored);
    store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_round_trip, recorder_setup, recorder_teardown),
        cmocka_unit_test(test_restore_round_trip),
        cmocka_unit_test_setup_teardown(test_empty_store, recorder_setup, recorder_teardown),
        cmocka_unit_test_setup_teardown(test_text_not_utf8, recorder_setup, recorder_teardown),
        cmocka_unit_test_setup_teardown(test_national_and_feeds_written_not_read,
                                        recorder_setup, recorder_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_fields_skipped, recorder_setup,
                                        recorder_teardown),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_many_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
