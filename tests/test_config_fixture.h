/*
 * test_config_fixture: a small config built in C, so the ingest, store and
 * evaluation tests do not depend on the YAML loader. Metals copper, zinc,
 * aluminum; one feed "prod" allowed to write kz-a and kz-b; 2025 targets
 * from the reference article; baseline 2023; three initiatives.
 */
#ifndef INGOT_TEST_CONFIG_FIXTURE_H
#define INGOT_TEST_CONFIG_FIXTURE_H

#include <math.h>

#include "config.h"

static char *fixture_metals[] = {"copper", "zinc", "aluminum"};
static char *fixture_plants[] = {"kz-a", "kz-b"}; /* sorted */
static struct config_feed fixture_feeds[] = {
    {.name = "prod", .url = "file:///dev/null", .format = FEED_FORMAT_JSON,
     .interval_ms = 60000, .timeout_ms = 1000, .stale_after_ms = 180000,
     .max_body_bytes = 1 << 20, .plants = fixture_plants, .n_plants = 2},
    {.name = "csv", .url = "file:///dev/null", .format = FEED_FORMAT_CSV,
     .interval_ms = 60000, .timeout_ms = 1000, .stale_after_ms = 180000,
     .max_body_bytes = 1 << 20, .plants = fixture_plants, .n_plants = 2},
};
static double fixture_production_2025[] = {280000, 150000, 320000};
static double fixture_growth_2025[] = {0.085, 0.068, 0.072};
static struct config_target_year fixture_years[] = {
    {.year = 2025, .output_vs_baseline = 2.0, .production_tonnes = fixture_production_2025,
     .growth = fixture_growth_2025, .co2_intensity_tonnes_per_tonne = 0.9,
     .energy_intensity_mwh_per_tonne = 4.2, .waste_recycling_ratio = 0.85},
};
static struct config_benchmark fixture_benchmarks[] = {
    {.name = "global_leader_avg", .co2_intensity_tonnes_per_tonne = 1.2,
     .energy_intensity_mwh_per_tonne = 5.0, .waste_recycling_ratio = 0.75},
};
/* start 2023-01-01 = 1672531200; deadlines 2024-09-30 = 1727654400,
 * 2025-03-31 = 1743379200, 2025-12-31 = 1767139200. */
static struct config_initiative fixture_initiatives[] = {
    {.name = "smelting_capacity", .measure = INITIATIVE_CAPACITY_INCREASE_RATIO,
     .baseline = 1000, .target = 0.4, .start = 1672531200, .deadline = 1727654400},
    {.name = "green_plants", .measure = INITIATIVE_GREEN_PLANTS_OPERATIONAL, .baseline = NAN,
     .target = 5, .start = 1672531200, .deadline = 1743379200},
    {.name = "workforce_certification", .measure = INITIATIVE_WORKERS_CERTIFIED,
     .baseline = NAN, .target = 10000, .start = 1672531200, .deadline = 1767139200},
};
static struct config fixture_config = {
    .path = "fixture.yaml",
    .listen_address = "127.0.0.1:0",
    .evaluation_interval_ms = 60000,
    .metals = fixture_metals,
    .n_metals = 3,
    .feeds = fixture_feeds,
    .n_feeds = 2,
    .baseline_year = 2023,
    .years = fixture_years,
    .n_years = 1,
    .benchmarks = fixture_benchmarks,
    .n_benchmarks = 1,
    .initiatives = fixture_initiatives,
    .n_initiatives = 3,
};

/* 2025-07-15T00:00:00Z */
#define FIXTURE_NOW 1752537600

#endif
