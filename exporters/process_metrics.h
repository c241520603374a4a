/*
 * process_metrics: the standard process_* families client libraries export,
 * read from /proc/self: CPU seconds, resident and virtual memory, start
 * time, open and maximum file descriptors.
 */
#ifndef INGOT_PROCESS_METRICS_H
#define INGOT_PROCESS_METRICS_H

#include "expo.h"

/* Writes process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_start_time_seconds,
 * process_open_fds and process_max_fds into e. A value /proc cannot give
 * is left out (its family still has HELP and TYPE). */
void process_metrics_render(struct expo *e);

#endif
