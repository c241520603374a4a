/*
 * test_process_metrics: the process_* families rendered from this test's
 * own /proc entries: every family present with plausible values, open
 * descriptors tracking files this test opens, CPU time growing with work,
 * a command name full of spaces and parentheses, the OpenMetrics form, and
 * the text output checked by promtool when /usr/bin/promtool exists.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "expo.h"
#include "process_metrics.h"

#define PROMTOOL "/usr/bin/promtool"

struct family {
    const char *sample; /* the sample name in text 0.0.4 */
    const char *type;
};

static const struct family families[] = {
    {"process_cpu_seconds_total", "counter"},
    {"process_resident_memory_bytes", "gauge"},
    {"process_virtual_memory_bytes", "gauge"},
    {"process_start_time_seconds", "gauge"},
    {"process_open_fds", "gauge"},
    {"process_max_fds", "gauge"},
};

enum { CPU, RSS, VIRTUAL, START, OPEN_FDS, MAX_FDS, N_FAMILIES };

/* Renders the families in format; the caller frees the text. */
static char *render(enum expo_format format)
{
    struct expo *e = expo_new(format);
    assert_non_null(e);
    process_metrics_render(e);
    expo_eof(e);
    size_t len = 0;
    char *text = expo_take(e, &len);
    expo_free(e);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    return text;
}

/* The value of the unlabelled sample called name in a text exposition;
 * fails the test if there is none. */
static double value_of(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *line = text; *line != '\0';) {
        if (strncmp(line, name, n) == 0 && line[n] == ' ') {
            char *end;
            double v = strtod(line + n + 1, &end);
            assert_true(*end == '\n');
            return v;
        }
        const char *nl = strchr(line, '\n');
        assert_non_null(nl);
        line = nl + 1;
    }
    fail_msg("no sample %s in:\n%s", name, text);
    return 0;
}

/* Renders text 0.0.4 and reads every family's value into values. */
static void read_values(double values[N_FAMILIES])
{
    char *text = render(EXPO_FORMAT_TEXT);
    for (size_t i = 0; i < N_FAMILIES; i++)
        values[i] = value_of(text, families[i].sample);
    free(text);
}

static void test_families_present(void **state)
{
    (void)state;
    char *text = render(EXPO_FORMAT_TEXT);
    size_t samples = 0;
    for (size_t i = 0; i < N_FAMILIES; i++) {
        char line[128];
        snprintf(line, sizeof(line), "# HELP %s ", families[i].sample);
        assert_non_null(strstr(text, line));
        snprintf(line, sizeof(line), "\n# TYPE %s %s\n%s ", families[i].sample, families[i].type,
                 families[i].sample);
        assert_non_null(strstr(text, line));
        samples++;
    }
    assert_int_equal(samples, N_FAMILIES);
    /* Six families, three lines each, nothing else. */
    size_t lines = 0;
    for (const char *p = text; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    assert_int_equal(lines, 3 * N_FAMILIES);
    free(text);
}

static void test_values_plausible(void **state)
{
    (void)state;
    double v[N_FAMILIES];
    read_values(v);
    assert_true(v[CPU] >= 0);
    assert_true(v[RSS] >= 1e6 && v[RSS] <= 1e9);
    assert_true(v[VIRTUAL] >= v[RSS]);
    /* /proc/stat's btime is whole seconds, rounded down by the kernel's
     * arithmetic, so allow a second of slack above now. */
    double now = (double)time(NULL);
    assert_true(v[START] <= now + 1);
    assert_true(v[START] >= now - 3600);
    assert_true(v[OPEN_FDS] >= 3);
    struct rlimit limit;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &limit), 0);
    assert_true(v[MAX_FDS] == (double)limit.rlim_cur);

    /* The start time is the same on every render. */
    double again[N_FAMILIES];
    read_values(again);
    assert_true(again[START] == v[START]);
}

static void test_open_fds_track_files(void **state)
{
    (void)state;
    double before[N_FAMILIES], during[N_FAMILIES], after[N_FAMILIES];
    read_values(before);
    int fds[10];
    for (size_t i = 0; i < 10; i++) {
        fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        assert_true(fds[i] >= 0);
    }
    read_values(during);
    for (size_t i = 0; i < 10; i++)
        close(fds[i]);
    read_values(after);
    assert_true(during[OPEN_FDS] == before[OPEN_FDS] + 10);
    assert_true(after[OPEN_FDS] == before[OPEN_FDS]);
}

static void test_cpu_grows(void **state)
{
    (void)state;
    double before[N_FAMILIES], after[N_FAMILIES];
    read_values(before);
    /* Burn at least 0.1 s of CPU time. */
    clock_t start = clock();
    volatile uint64_t x = 1;
    while (clock() - start < CLOCKS_PER_SEC / 10)
        for (int i = 0; i < 100000; i++)
            x = x * 6364136223846793005u + 1;
    read_values(after);
    assert_true(after[CPU] >= before[CPU] + 0.05);
}

/* The kernel writes the command name between parentheses without
 * escaping; fields are found from the last ')'. */
static void test_odd_command_name(void **state)
{
    (void)state;
    char old[17] = {0};
    assert_int_equal(prctl(PR_GET_NAME, old), 0);
    static const char *const names[] = {") 1 2 (3) 4 5", "a b)", "((", ")", " ) ) "};
    double plain[N_FAMILIES];
    read_values(plain);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assert_int_equal(prctl(PR_SET_NAME, names[i]), 0);
        double v[N_FAMILIES];
        read_values(v);
        assert_true(v[RSS] >= 1e6 && v[RSS] <= 1e9);
        assert_true(v[VIRTUAL] >= v[RSS]);
        assert_true(v[START] == plain[START]);
        assert_true(v[CPU] >= plain[CPU]);
    }
    assert_int_equal(prctl(PR_SET_NAME, old), 0);
}

static void test_openmetrics_form(void **state)
{
    (void)state;
    char *text = render(EXPO_FORMAT_OPENMETRICS);
    assert_non_null(strstr(text, "# TYPE process_cpu_seconds counter\n"
                                 "# UNIT process_cpu_seconds seconds\n"
                                 "# HELP process_cpu_seconds Total user and system CPU time spent "
                                 "in seconds.\nprocess_cpu_seconds_total "));
    assert_non_null(strstr(text, "# TYPE process_resident_memory_bytes gauge\n"
                                 "# UNIT process_resident_memory_bytes bytes\n"));
    assert_non_null(strstr(text, "# TYPE process_start_time_seconds gauge\n"
                                 "# UNIT process_start_time_seconds seconds\n"));
    assert_non_null(strstr(text, "# TYPE process_open_fds gauge\n"
                                 "# HELP process_open_fds Number of open file descriptors.\n"));
    size_t len = strlen(text);
    assert_true(len > 6 && strcmp(text + len - 6, "# EOF\n") == 0);
    free(text);
}

static void test_promtool(void **state)
{
    (void)state;
    if (access(PROMTOOL, X_OK) != 0) {
        print_message("[  SKIP    ] %s not found: promtool check skipped\n", PROMTOOL);
        skip();
    }
    char *text = render(EXPO_FORMAT_TEXT);
    FILE *p = popen(PROMTOOL " check metrics", "w");
    assert_non_null(p);
    assert_int_equal(fwrite(text, 1, strlen(text), p), strlen(text));
    int status = pclose(p);
    free(text);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_families_present),
        cmocka_unit_test(test_values_plausible),
        cmocka_unit_test(test_open_fds_track_files),
        cmocka_unit_test(test_cpu_grows),
        cmocka_unit_test(test_odd_command_name),
        cmocka_unit_test(test_openmetrics_form),
        cmocka_unit_test(test_promtool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
