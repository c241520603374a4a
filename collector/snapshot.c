/*
 * snapshot: ingot's state to and from one serialised ingot.v1.Snapshot
 * (proto/ingot/v1/snapshot.proto). A store may hold a million records, so
 * neither direction builds the whole message tree in memory. The encoder
 * packs the small top-level fields with protobuf-c, then appends each Plant,
 * packed on its own, as one more length-delimited `plants` field
 * (concatenated fields are one valid message). The reader walks the
 * top-level fields with the small wire-format scanner below (declared in
 * snapshot_wire.h, which snapshot_dump shares) and unpacks one
 * Plant at a time: once to check the whole snapshot, once more to hand it
 * on. Field numbers come from the generated descriptor, so snapshot.proto
 * stays the only place they are written. Nothing here logs: failures are
 * reported through the caller's err buffer.
 */
#include "snapshot.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_text.h"
#include "civil_time.h"
#include "fixed.h"
#include "ingot/v1/snapshot.pb-c.h"
#include "log.h"
#include "snapshot_wire.h"
#include "utf8.h"


uint32_t snapshot_field_number(const char *name)
{
    return protobuf_c_message_descriptor_get_field_by_name(&ingot__v1__snapshot__descriptor, name)
        ->id;
}

/* A value the store can sum (fixed.h): finite, |v| <= FIXED_VALUE_MAX. */
static bool value_in_range(double v)
{
    return isfinite(v) && fabs(v) <= FIXED_VALUE_MAX;
}

/* Where each enum record_field lives in a Record. */
static const struct {
    size_t has, value;
} record_slots[RECORD_FIELD_COUNT] = {
    [RECORD_PRODUCTION_TONNES] = {offsetof(Ingot__V1__Record, has_production_tonnes),
                                  offsetof(Ingot__V1__Record, production_tonnes)},
    [RECORD_CO2_TONNES] = {offsetof(Ingot__V1__Record, has_co2_tonnes),
                           offsetof(Ingot__V1__Record, co2_tonnes)},
    [RECORD_ENERGY_MWH] = {offsetof(Ingot__V1__Record, has_energy_mwh),
                           offsetof(Ingot__V1__Record, energy_mwh)},
    [RECORD_WASTE_TONNES] = {offsetof(Ingot__V1__Record, has_waste_tonnes),
                             offsetof(Ingot__V1__Record, waste_tonnes)},
    [RECORD_WASTE_RECYCLED_TONNES] = {offsetof(Ingot__V1__Record, has_waste_recycled_tonnes),
                                      offsetof(Ingot__V1__Record, waste_recycled_tonnes)},
};

static bool record_present(const Ingot__V1__Record *r, enum record_field f)
{
    return *(const protobuf_c_boolean *)((const char *)r + record_slots[f].has);
}

static double record_value(const Ingot__V1__Record *r, enum record_field f)
{
    return *(const double *)((const char *)r + record_slots[f].value);
}

static void record_set(Ingot__V1__Record *r, enum record_field f, bool present, double value)
{
    *(protobuf_c_boolean *)((char *)r + record_slots[f].has) = present;
    *(double *)((char *)r + record_slots[f].value) = present ? value : 0;
}

/* ------------------------------------------------------------------ */
/* Encoding: the top-level fields                                      */

/* Every allocation of the top-level message, freed at once. */
struct arena_block {
    struct arena_block *next;
    max_align_t data[];
};

struct arena {
    struct arena_block *blocks;
};

/* n zeroed elements of size bytes, owned by a. NULL on ENOMEM. */
static void *arena_alloc(struct arena *a, size_t n, size_t size)
{
    if (size && n > (SIZE_MAX - sizeof(struct arena_block)) / size)
        return NULL;
    struct arena_block *b = calloc(1, sizeof(*b) + n * size);
    if (!b)
        return NULL;
    b->next = a->blocks;
    a->blocks = b;
    return b->data;
}

static void arena_free(struct arena *a)
{
    while (a->blocks) {
        struct arena_block *next = a->blocks->next;
        free(a->blocks);
        a->blocks = next;
    }
}

/* "YYYY-MM-DD", the UTC date of t (Unix seconds), in a. NULL on ENOMEM. */
static char *arena_date(struct arena *a, int64_t t)
{
    enum { SIZE = 32 };
    char *s = arena_alloc(a, 1, SIZE);
    if (s) {
        int year, month, day;
        civil_date_from_time(t, &year, &month, &day);
        snprintf(s, SIZE, "%04d-%02d-%02d", year, month, day);
    }
    return s;
}

/* Sets an optional double to v, or leaves it unset when v is NAN (a figure
 * that is undefined or not configured). */
static void set_defined(protobuf_c_boolean *has, double *slot, double v)
{
    *has = !isnan(v);
    *slot = *has ? v : 0;
}
#define SET_DEFINED(msg, field, v) set_defined(&(msg)->has_##field, &(msg)->field, (v))

static void set_uint(protobuf_c_boolean *has, uint64_t *slot, uint64_t v)
{
    *has = 1;
    *slot = v;
}
#define SET_UINT(msg, field, v) set_uint(&(msg)->has_##field, &(msg)->field, (v))

/* The config's targets, in a. NULL on ENOMEM. */
static Ingot__V1__Targets *encode_targets(struct arena *a, const struct config *c)
{
    Ingot__V1__Targets *t = arena_alloc(a, 1, sizeof(*t));
    Ingot__V1__TargetYear **years = arena_alloc(a, c->n_years, sizeof(*years));
    Ingot__V1__Benchmark **benchmarks = arena_alloc(a, c->n_benchmarks, sizeof(*benchmarks));
    Ingot__V1__Initiative **initiatives = arena_alloc(a, c->n_initiatives, sizeof(*initiatives));
    if (!t || !years || !benchmarks || !initiatives)
        return NULL;
    ingot__v1__targets__init(t);
    t->has_baseline_year = c->baseline_year != 0;
    t->baseline_year = c->baseline_year;

    for (size_t i = 0; i < c->n_years; i++) {
        const struct config_target_year *cy = &c->years[i];
        Ingot__V1__TargetYear *y = years[i] = arena_alloc(a, 1, sizeof(*y));
        Ingot__V1__MetalTarget **metals = arena_alloc(a, c->n_metals, sizeof(*metals));
        if (!y || !metals)
            return NULL;
        ingot__v1__target_year__init(y);
        y->has_year = 1;
        y->year = cy->year;
        SET_DEFINED(y, output_vs_baseline, cy->output_vs_baseline);
        SET_DEFINED(y, co2_intensity_tonnes_per_tonne, cy->co2_intensity_tonnes_per_tonne);
        SET_DEFINED(y, energy_intensity_mwh_per_tonne, cy->energy_intensity_mwh_per_tonne);
        SET_DEFINED(y, waste_recycling_ratio, cy->waste_recycling_ratio);
        y->metals = metals;
        for (size_t m = 0; m < c->n_metals; m++) {
            if (isnan(cy->production_tonnes[m]) && isnan(cy->growth[m]))
                continue;
            Ingot__V1__MetalTarget *mt = metals[y->n_metals++] = arena_alloc(a, 1, sizeof(*mt));
            if (!mt)
                return NULL;
            ingot__v1__metal_target__init(mt);
            mt->metal = c->metals[m];
            SET_DEFINED(mt, production_tonnes, cy->production_tonnes[m]);
            SET_DEFINED(mt, growth_ratio, cy->growth[m]);
        }
    }
    t->n_years = c->n_years;
    t->years = years;

    for (size_t i = 0; i < c->n_benchmarks; i++) {
        const struct config_benchmark *cb = &c->benchmarks[i];
        Ingot__V1__Benchmark *b = benchmarks[i] = arena_alloc(a, 1, sizeof(*b));
        if (!b)
            return NULL;
        ingot__v1__benchmark__init(b);
        b->name = cb->name;
        SET_DEFINED(b, co2_intensity_tonnes_per_tonne, cb->co2_intensity_tonnes_per_tonne);
        SET_DEFINED(b, energy_intensity_mwh_per_tonne, cb->energy_intensity_mwh_per_tonne);
        SET_DEFINED(b, waste_recycling_ratio, cb->waste_recycling_ratio);
    }
    t->n_benchmarks = c->n_benchmarks;
    t->benchmarks = benchmarks;

    for (size_t i = 0; i < c->n_initiatives; i++) {
        const struct config_initiative *ci = &c->initiatives[i];
        Ingot__V1__Initiative *in = initiatives[i] = arena_alloc(a, 1, sizeof(*in));
        if (!in)
            return NULL;
        ingot__v1__initiative__init(in);
        in->name = ci->name;
        in->measure = (char *)config_measure_name(ci->measure);
        SET_DEFINED(in, baseline, ci->baseline);
        SET_DEFINED(in, target, ci->target);
        in->start_date = arena_date(a, ci->start);
        in->deadline_date = arena_date(a, ci->deadline);
        if (!in->start_date || !in->deadline_date)
            return NULL;
    }
    t->n_initiatives = c->n_initiatives;
    t->initiatives = initiatives;
    return t;
}

/* The national figures of e (computed against c), in a. NULL on ENOMEM. */
static Ingot__V1__National *encode_national(struct arena *a, const struct config *c,
                                            const struct evaluation *e)
{
    Ingot__V1__National *n = arena_alloc(a, 1, sizeof(*n));
    Ingot__V1__NationalYear **years = arena_alloc(a, e->n_years, sizeof(*years));
    Ingot__V1__InitiativeStatus **initiatives =
        arena_alloc(a, c->n_initiatives, sizeof(*initiatives));
    if (!n || !years || !initiatives)
        return NULL;
    ingot__v1__national__init(n);
    n->has_evaluated_at_unix_s = 1;
    n->evaluated_at_unix_s = e->now;
    n->has_current_year = 1;
    n->current_year = e->current_year;

    for (size_t i = 0; i < e->n_years; i++) {
        const struct eval_year *ey = &e->years[i];
        Ingot__V1__NationalYear *y = years[i] = arena_alloc(a, 1, sizeof(*y));
        Ingot__V1__MetalYear **metals = arena_alloc(a, c->n_metals, sizeof(*metals));
        if (!y || !metals)
            return NULL;
        ingot__v1__national_year__init(y);
        y->has_year = 1;
        y->year = ey->year;
        SET_DEFINED(y, output_vs_baseline, ey->output_vs_baseline);
        SET_DEFINED(y, co2_intensity_tonnes_per_tonne, ey->co2_intensity);
        SET_DEFINED(y, energy_intensity_mwh_per_tonne, ey->energy_intensity);
        SET_DEFINED(y, waste_recycling_ratio, ey->waste_recycling);
        SET_DEFINED(y, target_output_vs_baseline, ey->target_output_vs_baseline);
        SET_DEFINED(y, target_co2_intensity_tonnes_per_tonne, ey->target_co2_intensity);
        SET_DEFINED(y, target_energy_intensity_mwh_per_tonne, ey->target_energy_intensity);
        SET_DEFINED(y, target_waste_recycling_ratio, ey->target_waste_recycling);
        SET_DEFINED(y, emissions_coverage_ratio, ey->emissions_coverage);
        for (size_t m = 0; m < c->n_metals; m++) {
            const struct eval_metal_year *em = &ey->metals[m];
            Ingot__V1__MetalYear *my = metals[m] = arena_alloc(a, 1, sizeof(*my));
            if (!my)
                return NULL;
            ingot__v1__metal_year__init(my);
            my->metal = c->metals[m];
            SET_DEFINED(my, production_tonnes, em->production);
            SET_DEFINED(my, growth_ratio, em->growth);
            SET_DEFINED(my, projected_tonnes, em->projected);
            SET_DEFINED(my, target_production_tonnes, em->target_production);
            SET_DEFINED(my, target_growth_ratio, em->target_growth);
            SET_DEFINED(my, target_progress_ratio, em->target_progress);
            my->has_plants_reporting = 1;
            my->plants_reporting = (uint32_t)em->plants_reporting;
        }
        y->n_metals = c->n_metals;
        y->metals = metals;
    }
    n->n_years = e->n_years;
    n->years = years;

    for (size_t i = 0; i < c->n_initiatives; i++) {
        const struct eval_initiative *ei = &e->initiatives[i];
        Ingot__V1__InitiativeStatus *s = initiatives[i] = arena_alloc(a, 1, sizeof(*s));
        if (!s)
            return NULL;
        ingot__v1__initiative_status__init(s);
        s->name = c->initiatives[i].name;
        SET_DEFINED(s, value, ei->value);
        SET_DEFINED(s, progress_ratio, ei->progress);
        s->has_on_track = !isnan(ei->progress);
        s->on_track = s->has_on_track && ei->on_track;
    }
    n->n_initiatives = c->n_initiatives;
    n->initiatives = initiatives;
    return n;
}

/* The status of every feed of src, in a, into *out. 0, or -1 on ENOMEM. */
static int encode_feeds(struct arena *a, const struct snapshot_source *src,
                        Ingot__V1__FeedStatus ***out)
{
    Ingot__V1__FeedStatus **feeds = arena_alloc(a, src->n_feeds, sizeof(*feeds));
    if (!feeds)
        return -1;
    for (size_t i = 0; i < src->n_feeds; i++) {
        const struct feed_stats *st = src->feeds[i].stats;
        Ingot__V1__FeedStatus *f = feeds[i] = arena_alloc(a, 1, sizeof(*f));
        Ingot__V1__RejectedCount *counts = arena_alloc(a, INGEST_REASON_COUNT, sizeof(*counts));
        Ingot__V1__RejectedCount **rejected =
            arena_alloc(a, INGEST_REASON_COUNT, sizeof(*rejected));
        if (!f || !counts || !rejected)
            return -1;
        ingot__v1__feed_status__init(f);
        f->name = (char *)src->feeds[i].name;
        f->has_up = 1;
        f->up = st->up;
        f->has_last_success_unix_ms = st->last_success > 0;
        if (f->has_last_success_unix_ms)
            f->last_success_unix_ms = llround(st->last_success * 1000);
        SET_DEFINED(f, last_duration_seconds, st->last_duration_seconds);
        SET_UINT(f, fetches_ok, st->fetches_ok);
        SET_UINT(f, fetches_error, st->fetches_error);
        SET_UINT(f, records_accepted, st->records.accepted);
        SET_UINT(f, records_changed, st->records.changed);
        for (int r = 0; r < INGEST_REASON_COUNT; r++) {
            ingot__v1__rejected_count__init(&counts[r]);
            counts[r].reason = (char *)ingest_reason_names[r];
            SET_UINT(&counts[r], records, st->records.rejected[r]);
            rejected[r] = &counts[r];
        }
        f->n_records_rejected = INGEST_REASON_COUNT;
        f->records_rejected = rejected;
    }
    *out = feeds;
    return 0;
}

/* The output: a buffer grown as plants are appended. */
struct out {
    uint8_t *buf;
    size_t len, cap;
};

/* Where n more bytes go (at o->buf + o->len), growing the buffer. NULL on
 * ENOMEM. */
static uint8_t *out_reserve(struct out *o, size_t n)
{
    if (n > SIZE_MAX - o->len)
        return NULL;
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + n)
            cap = cap <= SIZE_MAX / 2 ? cap * 2 : o->len + n;
        uint8_t *grown = realloc(o->buf, cap);
        if (!grown)
            return NULL;
        o->buf = grown;
        o->cap = cap;
    }
    return o->buf + o->len;
}

/* Packs every field of src but the plants into o. 0, or -1 on ENOMEM. */
static int encode_top(const struct snapshot_source *src, struct out *o)
{
    const struct config *c = src->config;
    struct arena a = {0};
    int rc = -1;

    Ingot__V1__Snapshot top;
    ingot__v1__snapshot__init(&top);
    top.has_taken_at_unix_ms = 1;
    top.taken_at_unix_ms = src->taken_at_ms;
    top.ingot_version = (char *)INGOT_VERSION;
    top.ingot_revision = (char *)INGOT_REVISION;
    top.n_metals = c->n_metals;
    top.metals = c->metals;
    if (!(top.targets = encode_targets(&a, c)))
        goto done;
    if (src->evaluation && !(top.national = encode_national(&a, c, src->evaluation)))
        goto done;
    if (encode_feeds(&a, src, &top.feeds) != 0)
        goto done;
    top.n_feeds = src->n_feeds;

    uint8_t *p = out_reserve(o, ingot__v1__snapshot__get_packed_size(&top));
    if (!p)
        goto done;
    o->len += ingot__v1__snapshot__pack(&top, p);
    rc = 0;
done:
    arena_free(&a);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Encoding: the plants                                                */

#define WIRE_MAX_FIELD_NUMBER 536870911u /* 2^29 - 1 */
#define VARINT_MAX_BYTES 10

/* Writes v as a varint at p; returns its length in bytes. */
static size_t varint_put(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    for (; v >= 0x80; v >>= 7)
        p[n++] = (uint8_t)(v | 0x80);
    p[n++] = (uint8_t)v;
    return n;
}

enum { PERIOD_TEXT = 16 }; /* "YYYY-MM-DD", its NUL, and room to spare */

struct metal_ref {
    const char *name;
    int id;
};

static int cmp_metal_ref(const void *a, const void *b)
{
    return strcmp(((const struct metal_ref *)a)->name, ((const struct metal_ref *)b)->name);
}

/* What every Plant is packed from, reused from one plant to the next. */
struct plant_encoder {
    uint32_t plants_field;     /* the Snapshot field number of plants */
    struct metal_ref *metals;  /* every metal of the store, by name */
    size_t n_metals;
    Ingot__V1__Series *series; /* [n_metals] */
    Ingot__V1__Series **series_ptrs;
    Ingot__V1__Record *records; /* [cap_records] */
    Ingot__V1__Record **record_ptrs;
    char (*periods)[PERIOD_TEXT]; /* each record's period, spelt out */
    size_t cap_records;
};

static void plant_encoder_free(struct plant_encoder *pe)
{
    free(pe->metals);
    free(pe->series);
    free(pe->series_ptrs);
    free(pe->records);
    free(pe->record_ptrs);
    free(pe->periods);
}

/* Sets pe up for the plants of store. 0, or -1 on ENOMEM. */
static int plant_encoder_init(struct plant_encoder *pe, const struct store *store)
{
    *pe = (struct plant_encoder){.plants_field = snapshot_field_number("plants")};
    pe->n_metals = store_metal_count(store);
    /* One more than needed: never a zero-sized allocation. */
    pe->metals = calloc(pe->n_metals + 1, sizeof(*pe->metals));
    pe->series = calloc(pe->n_metals + 1, sizeof(*pe->series));
    pe->series_ptrs = calloc(pe->n_metals + 1, sizeof(*pe->series_ptrs));
    if (!pe->metals || !pe->series || !pe->series_ptrs)
        return -1;
    for (size_t m = 0; m < pe->n_metals; m++)
        pe->metals[m] = (struct metal_ref){store_metal_name(store, (int)m), (int)m};
    qsort(pe->metals, pe->n_metals, sizeof(*pe->metals), cmp_metal_ref);
    return 0;
}

/* Room for n records in pe. 0, or -1 on ENOMEM. */
static int plant_encoder_reserve(struct plant_encoder *pe, size_t n)
{
    if (n <= pe->cap_records)
        return 0;
    size_t cap = n > pe->cap_records * 2 ? n : pe->cap_records * 2;
    if (cap > SIZE_MAX / sizeof(Ingot__V1__Record))
        return -1;
    Ingot__V1__Record *records = realloc(pe->records, cap * sizeof(*records));
    if (!records)
        return -1;
    pe->records = records;
    Ingot__V1__Record **ptrs = realloc(pe->record_ptrs, cap * sizeof(*ptrs));
    if (!ptrs)
        return -1;
    pe->record_ptrs = ptrs;
    char(*periods)[PERIOD_TEXT] = realloc(pe->periods, cap * sizeof(*periods));
    if (!periods)
        return -1;
    pe->periods = periods;
    pe->cap_records = cap;
    return 0;
}

static void encode_record(Ingot__V1__Record *r, char period[PERIOD_TEXT],
                          const struct store_record *sr)
{
    ingot__v1__record__init(r);
    struct period p = period_from_key(sr->period_key);
    period_format(&p, period, PERIOD_TEXT);
    r->period = period;
    for (int f = 0; f < RECORD_FIELD_COUNT; f++)
        record_set(r, f, rollup_has(&sr->values, f), sr->values.value[f]);
}

/* Appends sp to o as one `plants` field: its attributes, and one Series per
 * metal it has records of, by metal name, each with its records by period.
 * 0, or -1 on ENOMEM. */
static int encode_plant(struct plant_encoder *pe, struct out *o, const struct store_plant *sp)
{
    size_t total = 0;
    for (size_t m = 0; m < pe->n_metals; m++)
        total += store_record_count(sp, pe->metals[m].id);
    if (plant_encoder_reserve(pe, total) != 0)
        return -1;

    Ingot__V1__Plant plant;
    ingot__v1__plant__init(&plant);
    plant.id = sp->id;
    plant.name = sp->name;
    plant.region = sp->region;
    plant.has_capacity_tonnes_per_year = sp->has_capacity;
    plant.capacity_tonnes_per_year = sp->has_capacity ? sp->capacity_tonnes_per_year : 0;
    plant.has_workers_certified = sp->has_workers;
    plant.workers_certified = sp->has_workers ? sp->workers_certified : 0;
    plant.has_green_operational = sp->green_operational >= 0;
    plant.green_operational = sp->green_operational == 1;
    plant.series = pe->series_ptrs;

    size_t r = 0;
    for (size_t m = 0; m < pe->n_metals; m++) {
        int id = pe->metals[m].id;
        size_t n = store_record_count(sp, id);
        if (n == 0)
            continue;
        Ingot__V1__Series *series = &pe->series[plant.n_series];
        ingot__v1__series__init(series);
        series->metal = (char *)pe->metals[m].name;
        series->n_records = n;
        series->records = &pe->record_ptrs[r];
        pe->series_ptrs[plant.n_series++] = series;
        for (size_t i = 0; i < n; i++, r++) {
            encode_record(&pe->records[r], pe->periods[r], store_record_at(sp, id, i));
            pe->record_ptrs[r] = &pe->records[r];
        }
    }

    size_t size = ingot__v1__plant__get_packed_size(&plant);
    uint8_t *p = out_reserve(o, 2 * VARINT_MAX_BYTES + size);
    if (!p)
        return -1;
    size_t n = varint_put(p, (uint64_t)pe->plants_field << 3 | WIRE_LEN);
    n += varint_put(p + n, size);
    n += ingot__v1__plant__pack(&plant, p + n);
    o->len += n;
    return 0;
}

int snapshot_encode(const struct snapshot_source *src, uint8_t **out, size_t *out_len)
{
    struct out o = {0};
    struct plant_encoder pe;
    int rc = -1;

    *out = NULL;
    *out_len = 0;
    if (plant_encoder_init(&pe, src->store) != 0 || encode_top(src, &o) != 0)
        goto done;
    for (size_t i = 0; i < store_plant_count(src->store); i++)
        if (encode_plant(&pe, &o, store_plant_at(src->store, i)) != 0)
            goto done;
    /* Give back what doubling reserved beyond the end. */
    uint8_t *fitted = realloc(o.buf, o.len);
    *out = fitted ? fitted : o.buf;
    *out_len = o.len;
    o.buf = NULL;
    rc = 0;
done:
    free(o.buf);
    plant_encoder_free(&pe);
    if (rc != 0)
        errno = ENOMEM;
    return rc;
}

/* ------------------------------------------------------------------ */
/* Reading: the wire format                                            */

/* Reads a varint at w->pos into *v and moves past it. Returns NULL, or
 * what is wrong with it. */
static const char *wire_varint(struct snapshot_wire *w, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (w->pos == w->len)
            return "truncated varint";
        uint8_t b = w->buf[w->pos++];
        if (shift == 63 && b > 1)
            return "varint longer than 64 bits";
        *v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return NULL;
    }
}

/* "field 6 (plants)" for a Snapshot field this reader knows, else
 * "field 99", in buf. */
static const char *field_label(uint32_t number, char *buf, size_t size)
{
    const ProtobufCFieldDescriptor *fd =
        protobuf_c_message_descriptor_get_field(&ingot__v1__snapshot__descriptor, number);
    if (fd)
        snprintf(buf, size, "field %" PRIu32 " (%s)", number, fd->name);
    else
        snprintf(buf, size, "field %" PRIu32, number);
    return buf;
}

int snapshot_wire_next(struct snapshot_wire *w, struct snapshot_wire_field *f, char *err,
                       size_t err_size)
{
    if (w->pos == w->len)
        return 0;
    *f = (struct snapshot_wire_field){.offset = w->pos};
    uint64_t tag, n;
    const char *problem = wire_varint(w, &tag);
    if (problem)
        return error_text(err, err_size, "byte %zu: %s in a field tag", f->offset, problem);
    if (tag >> 3 == 0 || tag >> 3 > WIRE_MAX_FIELD_NUMBER)
        return error_text(err, err_size, "byte %zu: invalid field number %" PRIu64, f->offset,
                    tag >> 3);
    f->number = (uint32_t)(tag >> 3);
    f->type = (unsigned)(tag & 7);
    char label[96];

    switch (f->type) {
    case WIRE_VARINT:
        problem = wire_varint(w, &f->varint);
        if (problem)
            return error_text(err, err_size, "byte %zu: %s: %s", f->offset,
                        field_label(f->number, label, sizeof(label)), problem);
        return 1;
    case WIRE_64BIT:
        n = 8;
        break;
    case WIRE_32BIT:
        n = 4;
        break;
    case WIRE_LEN:
        problem = wire_varint(w, &n);
        if (problem)
            return error_text(err, err_size, "byte %zu: %s: %s in the length", f->offset,
                        field_label(f->number, label, sizeof(label)), problem);
        break;
    default:
        return error_text(err, err_size, "byte %zu: %s: unsupported wire type %u", f->offset,
                    field_label(f->number, label, sizeof(label)), f->type);
    }
    if (n > w->len - w->pos)
        return error_text(err, err_size, "byte %zu: %s truncated: %" PRIu64 " bytes of value, %zu left",
                    f->offset, field_label(f->number, label, sizeof(label)), n, w->len - w->pos);
    f->data = w->buf + w->pos;
    f->len = (size_t)n;
    w->pos += f->len;
    return 1;
}

/* The wire type fields declared like fd are written with. */
static unsigned wire_type_of(const ProtobufCFieldDescriptor *fd)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_DOUBLE:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return WIRE_64BIT;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return WIRE_32BIT;
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE:
        return WIRE_LEN;
    default:
        return WIRE_VARINT;
    }
}

/* protobuf-c's allocator, noting whether an allocation failed: a NULL from
 * an unpack is then out of memory rather than a malformed message. */
struct unpacker {
    ProtobufCAllocator allocator;
    bool out_of_memory;
};

static void *unpacker_alloc(void *data, size_t size)
{
    void *p = malloc(size);
    if (!p && size)
        ((struct unpacker *)data)->out_of_memory = true;
    return p;
}

static void unpacker_free(void *data, void *p)
{
    (void)data;
    free(p);
}

static void unpacker_init(struct unpacker *u)
{
    *u = (struct unpacker){.allocator = {unpacker_alloc, unpacker_free, u}};
}

/* Unpacks the payload of f as a message of type desc into *out. Returns 0,
 * or -1 with err saying "where: not a valid ingot.v1.X message" or "out of
 * memory". */
static int unpack(struct unpacker *u, const ProtobufCMessageDescriptor *desc,
                  const struct snapshot_wire_field *f, const char *where,
                  ProtobufCMessage **out, char *err, size_t err_size)
{
    *out = protobuf_c_message_unpack(desc, &u->allocator, f->len, f->data);
    if (*out)
        return 0;
    if (u->out_of_memory)
        return error_text(err, err_size, "out of memory");
    return error_text(err, err_size, "%s: not a valid %s message", where, desc->name);
}

/* ------------------------------------------------------------------ */
/* Reading: checking, then handing on                                  */

/* Checks that p can be restored: a valid id, a metal for each series, a
 * real period for each record, and every quantity one the store can hold.
 * where names the plant for messages. Adds its records to *records.
 * Returns 0, or -1 with err set. */
static int check_plant(const Ingot__V1__Plant *p, const char *where, uint64_t *records,
                       char *err, size_t err_size)
{
    char q1[80], q2[80];
    if (!p->id || !*p->id)
        return error_text(err, err_size, "%s: no id", where);
    if (!config_plant_id_valid(p->id))
        return error_text(err, err_size, "%s: invalid id %s", where, log_quote(p->id, q1, sizeof(q1)));
    if (p->has_capacity_tonnes_per_year && !value_in_range(p->capacity_tonnes_per_year))
        return error_text(err, err_size, "plant %s: capacity_tonnes_per_year %g out of range", p->id,
                    p->capacity_tonnes_per_year);
    if (p->has_workers_certified && !value_in_range(p->workers_certified))
        return error_text(err, err_size, "plant %s: workers_certified %g out of range", p->id,
                    p->workers_certified);

    for (size_t s = 0; s < p->n_series; s++) {
        const Ingot__V1__Series *series = p->series[s];
        if (!series->metal || !*series->metal)
            return error_text(err, err_size, "plant %s: series %zu: no metal", p->id, s + 1);
        log_quote(series->metal, q1, sizeof(q1));
        for (size_t r = 0; r < series->n_records; r++) {
            const Ingot__V1__Record *rec = series->records[r];
            struct period period;
            if (!rec->period || period_parse(rec->period, &period) != 0)
                return error_text(err, err_size, "plant %s, metal %s: record %zu: invalid period %s",
                            p->id, q1, r + 1, log_quote(rec->period, q2, sizeof(q2)));
            for (int f = 0; f < RECORD_FIELD_COUNT; f++)
                if (record_present(rec, f) && !value_in_range(record_value(rec, f)))
                    return error_text(err, err_size, "plant %s, metal %s, period %s: %s %g out of range",
                                p->id, q1, rec->period, record_field_names[f],
                                record_value(rec, f));
        }
        *records += series->n_records;
    }
    return 0;
}

/* Pass 1: checks every top-level field of buf and every plant, filling
 * *info. Returns 0, or -1 with err set. */
static int check_snapshot(const uint8_t *buf, size_t len, struct snapshot_info *info, char *err,
                          size_t err_size)
{
    const uint32_t taken_at = snapshot_field_number("taken_at_unix_ms"),
                   version = snapshot_field_number("ingot_version"),
                   plants = snapshot_field_number("plants");
    struct snapshot_wire w = {buf, len, 0};
    struct snapshot_wire_field f;
    struct unpacker u;
    bool has_taken_at = false;
    int more;

    unpacker_init(&u);
    while ((more = snapshot_wire_next(&w, &f, err, err_size)) > 0) {
        const ProtobufCFieldDescriptor *fd =
            protobuf_c_message_descriptor_get_field(&ingot__v1__snapshot__descriptor, f.number);
        if (!fd)
            continue; /* a field of a later v1 */
        unsigned want = wire_type_of(fd);
        /* A repeated numeric field may also come packed (proto3's default). */
        bool packed = fd->label == PROTOBUF_C_LABEL_REPEATED && want != WIRE_LEN &&
                      f.type == WIRE_LEN;
        if (f.type != want && !packed)
            return error_text(err, err_size,
                        "byte %zu: field %" PRIu32 " (%s): wire type %u, expected %u", f.offset,
                        f.number, fd->name, f.type, want);

        if (f.number == taken_at) {
            info->taken_at_ms = (int64_t)f.varint;
            has_taken_at = true;
        } else if (f.number == version) {
            size_t n = f.len < sizeof(info->version) ? f.len : sizeof(info->version) - 1;
            memcpy(info->version, f.data, n);
            info->version[n] = '\0';
        } else if (f.number == plants) {
            char where[64];
            ProtobufCMessage *m;
            snprintf(where, sizeof(where), "plant %" PRIu64 " (byte %zu)", ++info->plants,
                     f.offset);
            if (unpack(&u, &ingot__v1__plant__descriptor, &f, where, &m, err, err_size) != 0)
                return -1;
            int rc = check_plant((Ingot__V1__Plant *)m, where, &info->records, err, err_size);
            protobuf_c_message_free_unpacked(m, &u.allocator);
            if (rc != 0)
                return -1;
        } else if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
            /* targets, national, feeds: read by snapshot_dump, checked here. */
            char where[64];
            ProtobufCMessage *m;
            snprintf(where, sizeof(where), "byte %zu: field %" PRIu32 " (%s)", f.offset,
                     f.number, fd->name);
            if (unpack(&u, fd->descriptor, &f, where, &m, err, err_size) != 0)
                return -1;
            protobuf_c_message_free_unpacked(m, &u.allocator);
        }
    }
    if (more < 0)
        return -1;
    if (!has_taken_at)
        return error_text(err, err_size, "not a snapshot: taken_at_unix_ms missing");
    return 0;
}

static struct feed_value value_of(protobuf_c_boolean present, double v)
{
    return present ? (struct feed_value){FEED_VALUE_PRESENT, v}
                   : (struct feed_value){FEED_VALUE_ABSENT, 0};
}

/* A text attribute; one that is not UTF-8 (protobuf-c does not check) is
 * handed on as INVALID, like a JSON string of the wrong type. */
static struct feed_text text_of(const char *s)
{
    if (!s)
        return (struct feed_text){FEED_VALUE_ABSENT, NULL};
    if (!utf8_valid((const unsigned char *)s, strlen(s)))
        return (struct feed_text){FEED_VALUE_INVALID, NULL};
    return (struct feed_text){FEED_VALUE_PRESENT, s};
}

/* Hands a checked plant to sink: the plant, then its records. */
static void deliver_plant(const Ingot__V1__Plant *p, const struct feed_sink *sink)
{
    struct feed_plant_attrs attrs = {
        .id = p->id,
        .name = text_of(p->name),
        .region = text_of(p->region),
        .capacity_tonnes_per_year =
            value_of(p->has_capacity_tonnes_per_year, p->capacity_tonnes_per_year),
        .workers_certified = value_of(p->has_workers_certified, p->workers_certified),
        .green_state = p->has_green_operational ? FEED_VALUE_PRESENT : FEED_VALUE_ABSENT,
        .green_operational = p->has_green_operational && p->green_operational,
    };
    sink->plant(sink->ctx, &attrs);
    for (size_t s = 0; s < p->n_series; s++) {
        const Ingot__V1__Series *series = p->series[s];
        for (size_t r = 0; r < series->n_records; r++) {
            const Ingot__V1__Record *rec = series->records[r];
            struct feed_raw_record raw = {
                .plant = p->id, .metal = series->metal, .period = rec->period,
            };
            for (int f = 0; f < RECORD_FIELD_COUNT; f++)
                raw.fields[f] = value_of(record_present(rec, f), record_value(rec, f));
            sink->record(sink->ctx, &raw);
        }
    }
}

/* Pass 2: hands every plant of a checked buf to sink. Returns 0, or -1
 * with err set when memory ran out (the sink may have had some plants). */
static int deliver_plants(const uint8_t *buf, size_t len, const struct feed_sink *sink,
                          char *err, size_t err_size)
{
    const uint32_t plants = snapshot_field_number("plants");
    struct snapshot_wire w = {buf, len, 0};
    struct snapshot_wire_field f;
    struct unpacker u;

    unpacker_init(&u);
    while (snapshot_wire_next(&w, &f, err, err_size) > 0) {
        if (f.number != plants)
            continue;
        Ingot__V1__Plant *p = ingot__v1__plant__unpack(&u.allocator, f.len, f.data);
        if (!p) /* it unpacked in pass 1 */
            return error_text(err, err_size, "out of memory");
        deliver_plant(p, sink);
        protobuf_c_message_free_unpacked(&p->base, &u.allocator);
    }
    return 0;
}

int snapshot_read(const uint8_t *buf, size_t len, const struct feed_sink *sink,
                  struct snapshot_info *info, char *err, size_t err_size)
{
    struct snapshot_info found = {0};
    if (check_snapshot(buf, len, &found, err, err_size) != 0 ||
        deliver_plants(buf, len, sink, err, err_size) != 0)
        return -1;
    if (info)
        *info = found;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Restoring                                                           */

struct restore {
    struct store *store;
    struct store_plant *plant; /* of the last call; NULL before the first */
    int metal_id;              /* of the last record; -1 before the first */
    bool out_of_memory;
};

static void restore_plant(void *ctx, const struct feed_plant_attrs *attrs)
{
    struct restore *rs = ctx;
    if (rs->out_of_memory)
        return;
    struct store_plant *plant = rs->plant = store_plant_get(rs->store, attrs->id);
    if (!plant ||
        (attrs->name.state == FEED_VALUE_PRESENT &&
         store_plant_set_text(&plant->name, attrs->name.s) != 0) ||
        (attrs->region.state == FEED_VALUE_PRESENT &&
         store_plant_set_text(&plant->region, attrs->region.s) != 0)) {
        rs->out_of_memory = true;
        return;
    }
    if (attrs->capacity_tonnes_per_year.state == FEED_VALUE_PRESENT) {
        plant->capacity_tonnes_per_year = attrs->capacity_tonnes_per_year.value;
        plant->has_capacity = true;
    }
    if (attrs->workers_certified.state == FEED_VALUE_PRESENT) {
        plant->workers_certified = attrs->workers_certified.value;
        plant->has_workers = true;
    }
    if (attrs->green_state == FEED_VALUE_PRESENT)
        plant->green_operational = attrs->green_operational ? 1 : 0;
}

static void restore_record(void *ctx, const struct feed_raw_record *raw)
{
    struct restore *rs = ctx;
    if (rs->out_of_memory)
        return;
    /* Records follow their plant, and mostly their metal's previous record. */
    if (!rs->plant || strcmp(rs->plant->id, raw->plant) != 0)
        rs->plant = store_plant_get(rs->store, raw->plant);
    if (rs->metal_id < 0 || strcmp(store_metal_name(rs->store, rs->metal_id), raw->metal) != 0)
        rs->metal_id = store_metal_id(rs->store, raw->metal);
    struct period p;
    period_parse(raw->period, &p); /* checked in pass 1 */
    struct store_record record = {.period_key = period_key(&p), .values = rollup_values_none()};
    for (int f = 0; f < RECORD_FIELD_COUNT; f++) {
        if (raw->fields[f].state == FEED_VALUE_PRESENT) {
            record.values.value[f] = raw->fields[f].value;
        }
    }
    if (!rs->plant || rs->metal_id < 0 ||
        store_put(rs->store, rs->plant, rs->metal_id, &record) < 0)
        rs->out_of_memory = true;
}

int snapshot_restore(struct store *store, const uint8_t *buf, size_t len,
                     struct snapshot_info *info, char *err, size_t err_size)
{
    struct restore rs = {.store = store, .metal_id = -1};
    struct feed_sink sink = {.plant = restore_plant, .record = restore_record, .ctx = &rs};
    int rc = snapshot_read(buf, len, &sink, info, err, err_size);
    store_trim(store);
    if (rc != 0)
        return -1;
    if (rs.out_of_memory)
        return error_text(err, err_size, "out of memory");
    return 0;
}
