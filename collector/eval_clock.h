/*
 * eval_clock: the instant periods, years and targets are evaluated at: the
 * wall clock, or a fixed instant from --time.now for tests and replays.
 * Fetch scheduling and event timestamps never use it: they use the real
 * clock.
 */
#ifndef INGOT_EVAL_CLOCK_H
#define INGOT_EVAL_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct eval_clock {
    bool fixed;
    int64_t at; /* Unix seconds, when fixed */
};

static inline int64_t eval_clock_now(const struct eval_clock *clock)
{
    return clock->fixed ? clock->at : (int64_t)time(NULL);
}

#endif
