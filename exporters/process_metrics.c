/*
 * process_metrics: the standard process_* families, read from /proc on
 * every scrape: CPU time, memory and start time from /proc/self/stat (the
 * boot time from /proc/stat, read once and kept), open descriptors counted
 * in /proc/self/fd, and the descriptor limit from getrlimit. It reads with
 * plain system calls into stack buffers: no allocation, no stdio.
 */
#include "process_metrics.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* What /proc/self/stat gives, in the kernel's units. */
struct proc_stat {
    unsigned long long utime, stime; /* clock ticks */
    unsigned long long starttime;    /* clock ticks after boot */
    unsigned long long vsize;        /* bytes */
    unsigned long long rss;          /* pages */
};

/* Reads path into buf, NUL-terminated, up to size - 1 bytes. Returns the
 * length, or -1 if it cannot be opened or read. */
static ssize_t read_small_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    while (len < size - 1) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0)
                len = SIZE_MAX;
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    if (len == SIZE_MAX)
        return -1;
    buf[len] = '\0';
    return (ssize_t)len;
}

/*
 * Parses the text of /proc/PID/stat. The second field, the command name in
 * parentheses, may itself hold spaces and parentheses, so the fields after
 * it are counted from the last ')'. Returns false if the text is short or
 * a field is not a number.
 */
static bool parse_proc_stat(const char *text, struct proc_stat *st)
{
    const char *p = strrchr(text, ')');
    if (p == NULL)
        return false;
    p++;
    /* Fields after the name, from field 3 (state) on, numbered from 0. */
    enum { F_UTIME = 11, F_STIME = 12, F_STARTTIME = 19, F_VSIZE = 20, F_RSS = 21 };
    for (int field = 0; field <= F_RSS; field++) {
        while (*p == ' ')
            p++;
        if (*p == '\0' || *p == '\n')
            return false;
        unsigned long long *out = NULL;
        switch (field) {
        case F_UTIME:
            out = &st->utime;
            break;
        case F_STIME:
            out = &st->stime;
            break;
        case F_STARTTIME:
            out = &st->starttime;
            break;
        case F_VSIZE:
            out = &st->vsize;
            break;
        case F_RSS:
            out = &st->rss;
            break;
        default:
            break;
        }
        if (out != NULL) {
            if (*p < '0' || *p > '9')
                return false;
            char *end;
            errno = 0;
            *out = strtoull(p, &end, 10);
            if (errno != 0 || (*end != ' ' && *end != '\n' && *end != '\0'))
                return false;
            p = end;
        } else {
            while (*p != ' ' && *p != '\n' && *p != '\0')
                p++;
        }
    }
    return true;
}

/*
 * The boot time, seconds since the epoch, from the "btime" line of
 * /proc/stat. That file holds a line per CPU and a long interrupt line, so
 * it is scanned in chunks for a line starting "btime ". Returns -1 if it
 * cannot be read or has no such line.
 */
static long long read_boot_time(void)
{
    static const char key[] = "btime ";
    enum { NO_MATCH = sizeof(key) };
    int fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char chunk[4096];
    size_t matched = 0; /* bytes of key seen at the start of this line */
    bool in_value = false, have_digit = false;
    long long value = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            char c = chunk[i];
            if (in_value) {
                if (c >= '0' && c <= '9' && value < 1000000000000LL) {
                    value = value * 10 + (c - '0');
                    have_digit = true;
                    continue;
                }
                close(fd);
                return have_digit ? value : -1;
            }
            if (c == '\n') {
                matched = 0;
            } else if (matched < NO_MATCH) {
                if (c != key[matched])
                    matched = NO_MATCH;
                else if (++matched == sizeof(key) - 1)
                    in_value = true;
            }
        }
    }
    close(fd);
    return in_value && have_digit ? value : -1;
}

/* The boot time, read once: it does not change while the system runs. */
static long long boot_time(void)
{
    static long long cached = -1;
    if (cached < 0)
        cached = read_boot_time();
    return cached;
}

/* The number of open descriptors, not counting the one this uses to read
 * /proc/self/fd; -1 if that cannot be read. */
static long count_open_fds(void)
{
    int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return -1;
    long count = 0;
    char buf[4096] __attribute__((aligned(8)));
    for (;;) {
        ssize_t n = getdents64(dir, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            count = -1;
            break;
        }
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            const struct dirent64 *d = (const struct dirent64 *)(buf + off);
            off += d->d_reclen;
            const char *name = d->d_name;
            if (name[0] < '0' || name[0] > '9')
                continue; /* "." and ".." */
            if (strtol(name, NULL, 10) == dir)
                continue;
            count++;
        }
    }
    close(dir);
    return count;
}

void process_metrics_render(struct expo *e)
{
    char text[2048];
    struct proc_stat st;
    bool have_stat = read_small_file("/proc/self/stat", text, sizeof(text)) > 0 &&
                     parse_proc_stat(text, &st);
    long ticks = sysconf(_SC_CLK_TCK);
    long page = sysconf(_SC_PAGESIZE);

    expo_family(e, "process_cpu_seconds", EXPO_COUNTER,
                "Total user and system CPU time spent in seconds.");
    if (have_stat && ticks > 0)
        expo_sample(e, NULL, 0, (double)(st.utime + st.stime) / (double)ticks);

    expo_family(e, "process_resident_memory_bytes", EXPO_GAUGE, "Resident memory size in bytes.");
    if (have_stat && page > 0)
        expo_sample(e, NULL, 0, (double)st.rss * (double)page);

    expo_family(e, "process_virtual_memory_bytes", EXPO_GAUGE, "Virtual memory size in bytes.");
    if (have_stat)
        expo_sample(e, NULL, 0, (double)st.vsize);

    expo_family(e, "process_start_time_seconds", EXPO_GAUGE,
                "Start time of the process since unix epoch in seconds.");
    long long boot = boot_time();
    if (have_stat && ticks > 0 && boot >= 0)
        expo_sample(e, NULL, 0, (double)boot + (double)st.starttime / (double)ticks);

    expo_family(e, "process_open_fds", EXPO_GAUGE, "Number of open file descriptors.");
    long fds = count_open_fds();
    if (fds >= 0)
        expo_sample(e, NULL, 0, (double)fds);

    expo_family(e, "process_max_fds", EXPO_GAUGE, "Maximum number of open file descriptors.");
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
        expo_sample(e, NULL, 0, (double)limit.rlim_cur);
}
