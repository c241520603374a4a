/*
 * service: notifications through libsystemd's sd_notify, the watchdog
 * timer, and sd_listen_fds. The daemon is single threaded; the watchdog
 * timer is the module's only state.
 */
#include "service.h"

#include <event2/event.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "log.h"

static struct event *watchdog_timer;

void service_ready(const char *status)
{
    sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void service_reloading(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
               (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
}

void service_stopping(void)
{
    sd_notify(0, "STOPPING=1");
}

void service_status(const char *status)
{
    sd_notifyf(0, "STATUS=%s", status);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    sd_notify(0, "WATCHDOG=1");
}

int service_watchdog_start(struct event_base *base)
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return 0;
    uint64_t half = usec / 2;
    struct timeval tv = {.tv_sec = (time_t)(half / 1000000), .tv_usec = (suseconds_t)(half % 1000000)};
    watchdog_timer = event_new(base, -1, EV_PERSIST, on_watchdog, NULL);
    if (!watchdog_timer || event_add(watchdog_timer, &tv) != 0) {
        service_watchdog_stop();
        return -1;
    }
    sd_notify(0, "WATCHDOG=1");
    log_info("watchdog: pinging systemd every %llu ms", (unsigned long long)(half / 1000));
    return 0;
}

void service_watchdog_stop(void)
{
    if (watchdog_timer)
        event_free(watchdog_timer);
    watchdog_timer = NULL;
}

int service_listen_socket(void)
{
    int n = sd_listen_fds(1);
    if (n != 1) {
        if (n > 1)
            log_error("systemd passed %d sockets; ingotd listens on exactly one", n);
        return -1;
    }
    int fd = SD_LISTEN_FDS_START;
    if (sd_is_socket(fd, 0, SOCK_STREAM, 1) <= 0) {
        log_error("the socket systemd passed is not a listening stream socket");
        return -1;
    }
    evutil_make_socket_nonblocking(fd);
    return fd;
}
