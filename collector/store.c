/*
 * store: sorted arrays of plants, per (plant, metal) series of records, and
 * the rollups kept in step with them. Two small generic helpers (binary
 * search for an insertion point, and insertion into a growable array) serve
 * every sorted array here.
 */
#include "store.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* One plant and metal: its records by period key and its yearly sums. */
struct series {
    struct store_record *records;
    size_t n_records, cap_records;
    struct rollup_plant_year *years;
    size_t n_years, cap_years;
};

/* The public plant and what only the store sees. */
struct plant_entry {
    struct store_plant plant; /* first: a store_plant * is a plant_entry * */
    struct series **series;   /* by metal id; NULL where none */
    size_t n_series;
    unsigned trimmed_in; /* the store's trim_epoch when last trimmed */
};

struct national_year {
    int year;
    struct rollup_month month[12];
};

struct national_metal {
    struct national_year *years;
    size_t n_years, cap_years;
};

struct store {
    struct plant_entry **plants;
    size_t n_plants, cap_plants;
    char **metals;
    struct national_metal *national; /* by metal id */
    size_t n_metals;
    struct plant_entry *untrimmed; /* the plant whose arrays grew last, or NULL */
    unsigned trim_epoch;           /* store_trim calls so far, plus 1 */
    store_observer_fn observer; /* NULL: none */
    void *observer_arg;
};

/* First index in the sorted array base[0..n) whose element is not less
 * than key, by cmp(key, element). */
static size_t lower_bound(const void *base, size_t n, size_t size, const void *key,
                          int (*cmp)(const void *key, const void *element))
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp(key, (const char *)base + mid * size) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Opens a zeroed slot at pos in the growable array *base of *n elements.
 * Returns the slot, or NULL on ENOMEM (the array is unchanged). */
static void *insert_at(void **base, size_t *n, size_t *cap, size_t size, size_t pos)
{
    if (*n == *cap) {
        size_t new_cap = *cap ? *cap * 2 : 4;
        void *grown = realloc(*base, new_cap * size);
        if (!grown)
            return NULL;
        *base = grown;
        *cap = new_cap;
    }
    char *slot = (char *)*base + pos * size;
    memmove(slot + size, slot, (*n - pos) * size);
    memset(slot, 0, size);
    (*n)++;
    return slot;
}

static int cmp_plant(const void *key, const void *element)
{
    return strcmp(key, (*(struct plant_entry *const *)element)->plant.id);
}

static int cmp_record(const void *key, const void *element)
{
    int32_t a = *(const int32_t *)key, b = ((const struct store_record *)element)->period_key;
    return (a > b) - (a < b);
}

/* Years lead both struct rollup_plant_year and struct national_year. */
_Static_assert(offsetof(struct rollup_plant_year, year) == 0, "year first");
_Static_assert(offsetof(struct national_year, year) == 0, "year first");
static int cmp_year(const void *key, const void *element)
{
    int a = *(const int *)key, b = *(const int *)element;
    return (a > b) - (a < b);
}

struct store *store_new(void)
{
    struct store *store = calloc(1, sizeof(struct store));
    if (store)
        store->trim_epoch = 1; /* a new plant's trimmed_in, 0, is none */
    return store;
}

static void series_free(struct series *s)
{
    if (!s)
        return;
    free(s->records);
    free(s->years);
    free(s);
}

void store_free(struct store *store)
{
    if (!store)
        return;
    for (size_t i = 0; i < store->n_plants; i++) {
        struct plant_entry *e = store->plants[i];
        for (size_t m = 0; m < e->n_series; m++)
            series_free(e->series[m]);
        free(e->series);
        free(e->plant.id);
        free(e->plant.name);
        free(e->plant.region);
        free(e);
    }
    free(store->plants);
    for (size_t m = 0; m < store->n_metals; m++) {
        free(store->metals[m]);
        free(store->national[m].years);
    }
    free(store->metals);
    free(store->national);
    free(store);
}

int store_metal_find(const struct store *store, const char *metal)
{
    for (size_t m = 0; m < store->n_metals; m++)
        if (strcmp(store->metals[m], metal) == 0)
            return (int)m;
    return -1;
}

int store_metal_id(struct store *store, const char *metal)
{
    int id = store_metal_find(store, metal);
    if (id >= 0)
        return id;
    char **metals = realloc(store->metals, (store->n_metals + 1) * sizeof(*metals));
    if (!metals)
        return -1;
    store->metals = metals;
    struct national_metal *national =
        realloc(store->national, (store->n_metals + 1) * sizeof(*national));
    if (!national)
        return -1;
    store->national = national;
    char *name = strdup(metal);
    if (!name)
        return -1;
    metals[store->n_metals] = name;
    national[store->n_metals] = (struct national_metal){0};
    return (int)store->n_metals++;
}

size_t store_metal_count(const struct store *store)
{
    return store->n_metals;
}

const char *store_metal_name(const struct store *store, int metal_id)
{
    return store->metals[metal_id];
}

struct store_plant *store_plant_find(const struct store *store, const char *id)
{
    size_t i = lower_bound(store->plants, store->n_plants, sizeof(*store->plants), id, cmp_plant);
    if (i < store->n_plants && strcmp(store->plants[i]->plant.id, id) == 0)
        return &store->plants[i]->plant;
    return NULL;
}

struct store_plant *store_plant_get(struct store *store, const char *id)
{
    size_t i = lower_bound(store->plants, store->n_plants, sizeof(*store->plants), id, cmp_plant);
    if (i < store->n_plants && strcmp(store->plants[i]->plant.id, id) == 0)
        return &store->plants[i]->plant;

    struct plant_entry *e = calloc(1, sizeof(*e));
    if (!e || !(e->plant.id = strdup(id))) {
        free(e);
        return NULL;
    }
    e->plant.green_operational = -1;
    struct plant_entry **slot = insert_at((void **)&store->plants, &store->n_plants,
                                          &store->cap_plants, sizeof(*slot), i);
    if (!slot) {
        free(e->plant.id);
        free(e);
        return NULL;
    }
    *slot = e;
    return &e->plant;
}

size_t store_plant_count(const struct store *store)
{
    return store->n_plants;
}

const struct store_plant *store_plant_at(const struct store *store, size_t i)
{
    return &store->plants[i]->plant;
}

int store_plant_set_text(char **slot, const char *value)
{
    if (*slot && strcmp(*slot, value) == 0)
        return 0;
    char *copy = strdup(value);
    if (!copy)
        return -1;
    free(*slot);
    *slot = copy;
    return 0;
}

static struct series *series_of(const struct store_plant *plant, int metal_id)
{
    const struct plant_entry *e = (const struct plant_entry *)plant;
    return (size_t)metal_id < e->n_series ? e->series[metal_id] : NULL;
}

/* The series of (plant, metal), created if absent. NULL on ENOMEM. */
static struct series *series_get(struct store_plant *plant, int metal_id)
{
    struct plant_entry *e = (struct plant_entry *)plant;
    if ((size_t)metal_id >= e->n_series) {
        struct series **grown = realloc(e->series, ((size_t)metal_id + 1) * sizeof(*grown));
        if (!grown)
            return NULL;
        memset(grown + e->n_series, 0, ((size_t)metal_id + 1 - e->n_series) * sizeof(*grown));
        e->series = grown;
        e->n_series = (size_t)metal_id + 1;
    }
    if (!e->series[metal_id])
        e->series[metal_id] = calloc(1, sizeof(struct series));
    return e->series[metal_id];
}

const struct store_record *store_record_find(const struct store_plant *plant, int metal_id,
                                             int32_t period_key)
{
    const struct series *s = series_of(plant, metal_id);
    if (!s)
        return NULL;
    size_t i = lower_bound(s->records, s->n_records, sizeof(*s->records), &period_key, cmp_record);
    return i < s->n_records && s->records[i].period_key == period_key ? &s->records[i] : NULL;
}

size_t store_record_count(const struct store_plant *plant, int metal_id)
{
    const struct series *s = series_of(plant, metal_id);
    return s ? s->n_records : 0;
}

const struct store_record *store_record_at(const struct store_plant *plant, int metal_id,
                                           size_t i)
{
    return &series_of(plant, metal_id)->records[i];
}

bool store_granularity_conflict(const struct store_plant *plant, int metal_id,
                                const struct period *p)
{
    const struct series *s = series_of(plant, metal_id);
    if (!s)
        return false;
    /* The month's key is the smallest of the month; its days follow it. */
    int32_t month_key = period_key(&(struct period){p->year, p->month, 0});
    size_t i = lower_bound(s->records, s->n_records, sizeof(*s->records), &month_key, cmp_record);
    for (; i < s->n_records && s->records[i].period_key / 100 == month_key / 100; i++) {
        bool stored_is_day = s->records[i].period_key % 100 != 0;
        if (stored_is_day != (p->day != 0))
            return true;
    }
    return false;
}

/* The element for year in a sorted growable array of structs that begin
 * with their int year (national and plant rollups), created if asked. */
static void *year_slot(void **base, size_t *n, size_t *cap, size_t size, int year, bool create)
{
    size_t i = lower_bound(*base, *n, size, &year, cmp_year);
    if (i < *n && *(int *)((char *)*base + i * size) == year)
        return (char *)*base + i * size;
    if (!create)
        return NULL;
    int *slot = insert_at(base, n, cap, size, i);
    if (slot)
        *slot = year;
    return slot;
}

static struct national_year *national_year(const struct store *store, int metal_id, int year,
                                           bool create)
{
    struct national_metal *nm = &store->national[metal_id];
    return year_slot((void **)&nm->years, &nm->n_years, &nm->cap_years, sizeof(*nm->years), year,
                     create);
}

static struct rollup_plant_year *plant_year(struct series *s, int year, bool create)
{
    return year_slot((void **)&s->years, &s->n_years, &s->cap_years, sizeof(*s->years), year,
                     create);
}

static void plant_trim(struct store *store, struct plant_entry *e, bool force);

int store_put(struct store *store, struct store_plant *plant, int metal_id,
              const struct store_record *record)
{
    struct series *s = series_get(plant, metal_id);
    if (!s)
        return -1;
    struct plant_entry *e = (struct plant_entry *)plant;
    if (store->untrimmed && store->untrimmed != e)
        plant_trim(store, store->untrimmed, false);
    size_t records_cap = s->cap_records, years_cap = s->cap_years;
    struct period p = period_from_key(record->period_key);
    struct national_year *ny = national_year(store, metal_id, p.year, true);
    struct rollup_plant_year *py = ny ? plant_year(s, p.year, true) : NULL;
    if (s->cap_years != years_cap)
        store->untrimmed = e;
    if (!py)
        return -1;

    size_t i = lower_bound(s->records, s->n_records, sizeof(*s->records), &record->period_key,
                           cmp_record);
    struct store_record *slot;
    struct rollup_values old = rollup_values_none();
    bool existed = i < s->n_records && s->records[i].period_key == record->period_key;
    if (existed) {
        slot = &s->records[i];
        if (rollup_values_equal(&slot->values, &record->values))
            return 0;
        old = slot->values;
        rollup_month_apply(&ny->month[p.month - 1], &slot->values, -1);
        rollup_plant_year_apply(py, &slot->values, -1);
    } else {
        slot = insert_at((void **)&s->records, &s->n_records, &s->cap_records, sizeof(*slot), i);
        if (!slot)
            return -1;
        if (s->cap_records != records_cap)
            store->untrimmed = e;
    }
    *slot = *record;
    rollup_month_apply(&ny->month[p.month - 1], &slot->values, +1);
    rollup_plant_year_apply(py, &slot->values, +1);
    if (store->observer)
        store->observer(store->observer_arg, plant, store->metals[metal_id], record->period_key,
                        existed ? &old : NULL, &record->values);
    return 1;
}

/* Shrinks the array *base of n elements to exactly n (kept as it is when
 * realloc fails: the slack is then only memory, never wrong). */
static void fit(void **base, size_t n, size_t *cap, size_t size)
{
    if (n == *cap)
        return;
    if (n == 0) {
        free(*base);
        *base = NULL;
        *cap = 0;
        return;
    }
    void *fitted = realloc(*base, n * size);
    if (fitted) {
        *base = fitted;
        *cap = n;
    }
}

/* Fits the arrays of the plant whose arrays grew last. Unless forced, a
 * plant is fitted once per document: a document that interleaves plants
 * would otherwise shrink and regrow (copy) an array on every record. */
static void plant_trim(struct store *store, struct plant_entry *e, bool force)
{
    store->untrimmed = NULL;
    if (!force && e->trimmed_in == store->trim_epoch)
        return;
    e->trimmed_in = store->trim_epoch;
    for (size_t m = 0; m < e->n_series; m++) {
        struct series *s = e->series[m];
        if (!s)
            continue;
        fit((void **)&s->records, s->n_records, &s->cap_records, sizeof(*s->records));
        fit((void **)&s->years, s->n_years, &s->cap_years, sizeof(*s->years));
    }
}

void store_trim(struct store *store)
{
    if (store->untrimmed)
        plant_trim(store, store->untrimmed, true);
    store->trim_epoch++;
}

void store_set_observer(struct store *store, store_observer_fn fn, void *arg)
{
    store->observer = fn;
    store->observer_arg = arg;
}

int32_t store_latest_period(const struct store_plant *plant, int metal_id)
{
    const struct series *s = series_of(plant, metal_id);
    return s && s->n_records ? s->records[s->n_records - 1].period_key : 0;
}

const struct rollup_month *store_national_month(const struct store *store, int metal_id,
                                                int year, int month)
{
    if (metal_id < 0 || (size_t)metal_id >= store->n_metals)
        return NULL;
    const struct national_year *y = national_year(store, metal_id, year, false);
    return y ? &y->month[month - 1] : NULL;
}

const struct rollup_plant_year *store_plant_year(const struct store_plant *plant, int metal_id,
                                                 int year)
{
    struct series *s = series_of(plant, metal_id);
    return s ? plant_year(s, year, false) : NULL;
}
