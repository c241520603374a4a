/*
 * test_evaluation: each national aggregation rule on a small fleet whose
 * figures are computed by hand in the comments: sums over plants and
 * periods (day records included), like-for-like growth, projection, output
 * against the baseline year, intensities over matched records only,
 * recycling, targets and initiatives, and the omission of undefined
 * figures.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "evaluation.h"
#include "ingest.h"
#include "test_config_fixture.h"

enum { COPPER, ZINC, ALUMINUM };

static const char fleet_csv[] =
    "plant,metal,period,production_tonnes,co2_tonnes,energy_mwh,waste_tonnes,"
    "waste_recycled_tonnes\n"
    "kz-a,copper,2024-01,100,,,,\n"
    "kz-a,copper,2024-02,200,,,,\n"
    "kz-a,copper,2024-03,300,,,,\n"
    "kz-a,copper,2024-04,400,,,,\n"  /* no 2025-04: not like for like */
    "kz-a,copper,2025-01,110,99,,,\n"
    "kz-a,copper,2025-02,220,,,,\n"  /* production without co2: unmatched */
    "kz-b,copper,2025-01,40,30,200,,\n"
    "kz-b,copper,2025-03-01,5,,,,\n"
    "kz-b,copper,2025-03-02,5,,,,\n"
    "kz-b,zinc,2023-06,1000,,,,\n"
    "kz-b,zinc,2025-06,500,,,100,80\n"
    "kz-b,zinc,2025-05,,77,,,\n";    /* co2 without production: unmatched */

static const char attributes_json[] =
    "{\"schema\":\"ingot.feed.v1\",\"plants\":["
    "{\"id\":\"kz-a\",\"capacity_tonnes_per_year\":750,\"green_operational\":true,"
    "\"workers_certified\":4000},"
    "{\"id\":\"kz-b\",\"capacity_tonnes_per_year\":750,\"green_operational\":false,"
    "\"workers_certified\":7000}]}";

struct fixture {
    struct store *store;
    struct evaluation *ev;
};

static void load(struct store *store, int feed, const char *doc)
{
    struct ingest_counts c = {0};
    char err[256];
    assert_int_equal(ingest_document(store, &fixture_config, &fixture_feeds[feed], FIXTURE_NOW,
                                     doc, strlen(doc), &c, err, sizeof(err)),
                     0);
    for (int r = 0; r < INGEST_REASON_COUNT; r++)
        assert_int_equal(c.rejected[r], 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->store = store_new();
    load(f->store, 1, fleet_csv);
    load(f->store, 0, attributes_json);
    f->ev = evaluation_run(f->store, &fixture_config, FIXTURE_NOW);
    *state = f;
    return f->ev ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    evaluation_free(f->ev);
    store_free(f->store);
    free(f);
    return 0;
}

static const struct eval_year *year(const struct evaluation *ev, int y)
{
    for (size_t i = 0; i < ev->n_years; i++)
        if (ev->years[i].year == y)
            return &ev->years[i];
    fail_msg("year %d not exported", y);
    return NULL;
}

static void test_exported_years(void **state)
{
    const struct evaluation *ev = ((struct fixture *)*state)->ev;
    /* baseline 2023, target 2025, current 2025, previous 2024. */
    assert_int_equal(ev->n_years, 3);
    assert_int_equal(ev->years[0].year, 2023);
    assert_int_equal(ev->years[1].year, 2024);
    assert_int_equal(ev->years[2].year, 2025);
    assert_int_equal(ev->current_year, 2025);
}

static void test_production(void **state)
{
    const struct evaluation *ev = ((struct fixture *)*state)->ev;
    /* copper 2025: 110 + 220 + 40 + 5 + 5 = 380; 2024: 100+200+300+400 = 1000. */
    assert_true(year(ev, 2025)->metals[COPPER].production == 380);
    assert_true(year(ev, 2024)->metals[COPPER].production == 1000);
    assert_true(year(ev, 2025)->metals[ZINC].production == 500);
    assert_true(year(ev, 2023)->metals[ZINC].production == 1000);
    /* Nothing reported: zero, not omitted. */
    assert_true(year(ev, 2025)->metals[ALUMINUM].production == 0);
}

static void test_growth_like_for_like(void **state)
{
    const struct evaluation *ev = ((struct fixture *)*state)->ev;
    /* S(copper, 2025) = {Jan, Feb, Mar}: 380 over 2024's Jan..Mar 600; April
     * 2024 is outside S. */
    assert_true(year(ev, 2025)->metals[COPPER].growth == 380.0 / 600.0 - 1);
    /* zinc: S = {Jun}; June 2024 had nothing: undefined. */
    assert_true(isnan(year(ev, 2025)->metals[ZINC].growth));
    /* aluminum: S empty. */
    assert_true(isnan(year(ev, 2025)->metals[ALUMINUM].growth));
    /* copper 2024 against 2023: nothing in 2023. */
    assert_true(isnan(year(ev, 2024)->metals[COPPER].growth));
}

static void test_projection_current_year_only(void **state)
{
    const struct evaluation *ev = ((struct fixture *)*state)->ev;
    /* 380 over 3 months reported, times 12. */
    assert_true(year(ev, 2025)->metals[COPPER].projected == 380.0 / 3 * 12);
    /* zinc: 500 over 1 month (June; May had co2 only). */
    assert_true(year(ev, 2025)->metals[ZINC].projected == 6000);
    assert_true(isnan(year(ev, 2025)->metals[ALUMINUM].projected));
    assert_true(isnan(year(ev, 2024)->metals[COPPER].projected));
}

static void test_output_vs_baseline(void **state)
{
    const struct evaluation *ev = ((struct fixture *)*state)->ev;
    /* Baseline 2023: 1000 (zinc). 2025: 380 + 500 = 880. 2024: 1000. */
    assert_true(year(ev, 2025)->output_vs_baseline == 0.88);
    assert_true(year(ev, 2024)->output_vs_baseline == 1);
    assert_true(year(ev, 2023)->output_vs_baseline == 1);
    assert_true(year(ev, 2025)->target_output_vs_baseline == 2);
    assert_true(isnan(year(ev, 2024)->target_output_vs_baseline));
}

static void test_intensities_over_matched_records(void **state)
{
    const struct evaluation *ev = ((struct fixture *)*state)->ev;
    /* co2: (99 + 30) / (110 + 40); 2025-02 and zinc 2025-05 are unmatched. */
    assert_true(year(ev, 2025)->co2_intensity == 129.0 / 150.0);
    /* energy: only kz-b 2025-01: 200 / 40. */
    assert_true(year(ev, 2025)->energy_intensity == 5);
    /* recycling: 80 / 100. */
    assert_true(year(ev, 2025)->waste_recycling == 0.8);
    assert_true(isnan(year(ev, 2024)->co2_intensity));
    assert_true(isnan(year(ev, 2024)->waste_recycling));
    assert_true(year(ev, 2025)->target_co2_intensity == 0.9);
    assert_true(year(ev, 2025)->target_waste_recycling == 0.85);
}

static void test_targets(void **state)
{
    const struct evaluation *ev = ((struct fixture *)*state)->ev;
    const struct eval_metal_year *copper = &year(ev, 2025)->metals[COPPER];
    assert_true(copper->target_production == 280000);
    assert_true(copper->target_growth == 0.085);
    assert_true(copper->target_progress == 380.0 / 280000);
    assert_true(year(ev, 2025)->metals[ALUMINUM].target_progress == 0);
    assert_true(isnan(year(ev, 2024)->metals[COPPER].target_production));
    assert_true(isnan(year(ev, 2024)->metals[COPPER].target_progress));
}

static void test_initiatives(void **state)
{
    struct fixture *f = *state;
    const struct eval_initiative *in = f->ev->initiatives;
    /* capacity: 1500 / 1000 - 1 = 0.5 of 0.4; deadline passed, >= 1: on track. */
    assert_true(in[0].value == 0.5);
    assert_true(in[0].progress == 0.5 / 0.4);
    assert_int_equal(in[0].on_track, 1);
    /* green: 1 of 5 after the deadline: off track. */
    assert_true(in[1].value == 1);
    assert_true(in[1].progress == 0.2);
    assert_int_equal(in[1].on_track, 0);
    /* workers: 11000 of 10000 before the deadline: on track. */
    assert_true(in[2].value == 11000);
    assert_true(in[2].progress == 1.1);
    assert_int_equal(in[2].on_track, 1);

    /* 8000 = 0.8 < elapsed share (2025-07-15 of 2023-01-01..2025-12-31,
     * 80006400 / 94608000 = 0.8457): off track. */
    load(f->store, 0,
         "{\"schema\":\"ingot.feed.v1\",\"plants\":[{\"id\":\"kz-b\",\"workers_certified\":4000}]}");
    struct evaluation *ev = evaluation_run(f->store, &fixture_config, FIXTURE_NOW);
    assert_true(ev->initiatives[2].value == 8000);
    assert_int_equal(ev->initiatives[2].on_track, 0);
    evaluation_free(ev);
    /* The same 0.8 early on (2024-01-01: share 365/1095 = 0.33) is on track. */
    ev = evaluation_run(f->store, &fixture_config, 1704067200);
    assert_int_equal(ev->initiatives[2].on_track, 1);
    evaluation_free(ev);
}

static void test_restatement_moves_every_figure(void **state)
{
    struct fixture *f = *state;
    load(f->store, 1, "plant,metal,period,production_tonnes\nkz-a,copper,2025-01,210\n");
    struct evaluation *ev = evaluation_run(f->store, &fixture_config, FIXTURE_NOW);
    /* 380 - 110 + 210 = 480; co2 now (99 + 30) / (210 + 40). */
    assert_true(year(ev, 2025)->metals[COPPER].production == 480);
    assert_true(year(ev, 2025)->co2_intensity == 129.0 / 250.0);
    assert_true(year(ev, 2025)->output_vs_baseline == 0.98);
    evaluation_free(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exported_years, setup, teardown),
        cmocka_unit_test_setup_teardown(test_production, setup, teardown),
        cmocka_unit_test_setup_teardown(test_growth_like_for_like, setup, teardown),
        cmocka_unit_test_setup_teardown(test_projection_current_year_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_vs_baseline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intensities_over_matched_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_targets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_initiatives, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restatement_moves_every_figure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
