/*
 * service: ingotd's side of the systemd service protocols: readiness,
 * reload and stop notifications with a one-line status, watchdog pings
 * from the event loop, and socket activation. Outside systemd (no
 * NOTIFY_SOCKET, no WATCHDOG_USEC, no LISTEN_FDS) every call is a no-op.
 */
#ifndef INGOT_SERVICE_H
#define INGOT_SERVICE_H

struct event_base;

/* READY=1 with STATUS=status. */
void service_ready(const char *status);
/* RELOADING=1 with MONOTONIC_USEC= now, as Type=notify-reload expects. */
void service_reloading(void);
void service_stopping(void);
/* STATUS=status: one line, shown by systemctl status. */
void service_status(const char *status);

/* When systemd asked for a watchdog (WATCHDOG_USEC, for this process),
 * pings it from base every half of that interval: a loop that stalls stops
 * pinging and gets restarted. Returns 0 (also when no watchdog is wanted),
 * or -1 when the timer cannot be set up. service_watchdog_stop frees it. */
int service_watchdog_start(struct event_base *base);
void service_watchdog_stop(void);

/* The listening socket systemd passed (LISTEN_FDS=1, LISTEN_PID=this
 * process), made non-blocking, or -1 when none (or more than one) was
 * passed. */
int service_listen_socket(void);

#endif
