/*
 * ingotd: the daemon. It parses the flags, loads the config, wires the
 * store, the feed scheduler and the HTTP endpoint onto one libevent loop,
 * and owns the lifecycle: SIGHUP reloads the config (a bad one is logged
 * and the running one kept), SIGTERM and SIGINT exit cleanly.
 */
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil_time.h"
#include "config.h"
#include "eval_clock.h"
#include "evaluation.h"
#include "endpoints.h"
#include "feeds.h"
#include "fetch.h"
#include "http_server.h"
#include "log.h"
#include "metrics.h"
#include "persistence.h"
#include "push.h"
#include "push_api.h"
#include "remote_write.h"
#include "service.h"
#include "snapshot.h"
#include "status_page.h"
#include "store.h"
#include "web_security.h"

#define DEFAULT_CONFIG_FILE "/etc/ingot/ingot.yaml"
#define DEFAULT_TELEMETRY_PATH "/metrics"

struct flags {
    const char *config_file;
    const char *listen_address; /* NULL: the config's */
    const char *telemetry_path;
    const char *web_config_file; /* NULL: no TLS, no auth */
    bool enable_lifecycle;
    bool systemd_socket;
    bool check_config;
    struct eval_clock clock;
};

struct daemon {
    struct flags flags;
    struct event_base *base;
    struct config *config;
    struct store *store;
    struct feeds *feeds;
    struct push *push;          /* push sources: POST /api/v1/ingest */
    struct persistence *persistence;
    struct remote_write *remote_write; /* the configured remote_write receivers */
    struct web_security *security;
    struct endpoints *endpoints;
    struct http_server *http;
    int64_t last_evaluation;    /* Unix seconds of the last render; 0 before */
    bool ready;                 /* every feed was fetched once; stays true */
    struct metrics_daemon self;
    char reload_error[512];     /* why the last reload failed; "" when it did not */
    struct event *signals[3];
    struct event *evaluation_tick;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ingotd [flags]\n"
            "\n"
            "Pulls plant production and emissions feeds and serves national progress\n"
            "against targets as Prometheus metrics.\n"
            "\n"
            "  --config.file=PATH          configuration file (default " DEFAULT_CONFIG_FILE ")\n"
            "  --web.listen-address=ADDR   HOST:PORT to listen on (overrides the config;\n"
            "                              default " CONFIG_DEFAULT_LISTEN_ADDRESS ")\n"
            "  --web.telemetry-path=PATH   path of the metrics (default " DEFAULT_TELEMETRY_PATH ")\n"
            "  --web.config.file=FILE      TLS and basic auth (exporter-toolkit's format)\n"
            "  --web.enable-lifecycle      allow POST/PUT /-/reload\n"
            "  --web.systemd-socket        serve the socket systemd passed (socket activation)\n"
            "                              instead of binding the listen address\n"
            "  --log.level=LEVEL           debug, info, warn or error (default info)\n"
            "  --log.format=FORMAT         plain, journal or json (default journal when stderr\n"
            "                              is connected to the journal, else plain)\n"
            "  --check-config              validate the config, print a summary, and exit\n"
            "  --time.now=RFC3339          evaluate periods and targets as of this instant\n"
            "                              (default: the wall clock)\n"
            "  --version                   print the version and exit\n"
            "  --help                      print this help and exit\n");
}

/* Parses argv into *flags. Returns -1 to exit 0 (help, version), 1 on a bad
 * flag (already reported), 0 to run. */
static int parse_flags(int argc, char **argv, struct flags *flags)
{
    enum {
        F_CONFIG = 1, F_LISTEN, F_PATH, F_WEB_CONFIG, F_LIFECYCLE, F_SYSTEMD_SOCKET, F_LOG_LEVEL,
        F_LOG_FORMAT, F_CHECK, F_TIME_NOW, F_VERSION, F_HELP
    };
    static const struct option options[] = {
        {"config.file", required_argument, NULL, F_CONFIG},
        {"web.listen-address", required_argument, NULL, F_LISTEN},
        {"web.telemetry-path", required_argument, NULL, F_PATH},
        {"web.config.file", required_argument, NULL, F_WEB_CONFIG},
        {"web.enable-lifecycle", no_argument, NULL, F_LIFECYCLE},
        {"web.systemd-socket", no_argument, NULL, F_SYSTEMD_SOCKET},
        {"log.level", required_argument, NULL, F_LOG_LEVEL},
        {"log.format", required_argument, NULL, F_LOG_FORMAT},
        {"check-config", no_argument, NULL, F_CHECK},
        {"time.now", required_argument, NULL, F_TIME_NOW},
        {"version", no_argument, NULL, F_VERSION},
        {"help", no_argument, NULL, F_HELP},
        {NULL, 0, NULL, 0},
    };
    *flags = (struct flags){
        .config_file = DEFAULT_CONFIG_FILE, .telemetry_path = DEFAULT_TELEMETRY_PATH,
    };
    int opt;
    enum log_level level;
    enum log_format format;
    log_set_format(log_stderr_is_journal() ? LOG_FORMAT_JOURNAL : LOG_FORMAT_PLAIN);
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case F_CONFIG:
            flags->config_file = optarg;
            break;
        case F_LISTEN:
            flags->listen_address = optarg;
            break;
        case F_PATH:
            if (optarg[0] != '/' || strcmp(optarg, "/") == 0 || strncmp(optarg, "/-/", 3) == 0) {
                fprintf(stderr, "ingotd: --web.telemetry-path \"%s\" must start with / and not "
                                "be / or under /-/\n", optarg);
                return 1;
            }
            flags->telemetry_path = optarg;
            break;
        case F_LOG_LEVEL:
            if (log_level_parse(optarg, &level) != 0) {
                fprintf(stderr, "ingotd: --log.level \"%s\" is not debug, info, warn or error\n",
                        optarg);
                return 1;
            }
            log_set_level(level);
            break;
        case F_WEB_CONFIG:
            flags->web_config_file = optarg;
            break;
        case F_LIFECYCLE:
            flags->enable_lifecycle = true;
            break;
        case F_SYSTEMD_SOCKET:
            flags->systemd_socket = true;
            break;
        case F_LOG_FORMAT:
            if (log_format_parse(optarg, &format) != 0) {
                fprintf(stderr, "ingotd: --log.format \"%s\" is not plain, journal or json\n",
                        optarg);
                return 1;
            }
            log_set_format(format);
            break;
        case F_CHECK:
            flags->check_config = true;
            break;
        case F_TIME_NOW:
            if (civil_parse_rfc3339(optarg, &flags->clock.at) != 0) {
                fprintf(stderr, "ingotd: --time.now \"%s\" is not an RFC 3339 time such as "
                                "2025-07-15T00:00:00Z\n", optarg);
                return 1;
            }
            flags->clock.fixed = true;
            break;
        case F_VERSION:
            printf("ingotd %s (revision %s)\n", INGOT_VERSION, INGOT_REVISION);
            return -1;
        case 'h':
        case F_HELP:
            usage(stdout);
            return -1;
        default:
            usage(stderr);
            return 1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ingotd: unexpected argument \"%s\"\n", argv[optind]);
        return 1;
    }
    return 0;
}

/* Loads the config file, logging every error; the first one also goes
 * into first_error (when not NULL). NULL on failure. */
static struct config *load_config(const char *path, char *first_error, size_t size)
{
    struct config_errors errors = {0};
    struct config *config = config_load(path, &errors);
    config_errors_log(&errors);
    if (first_error && errors.count)
        snprintf(first_error, size, "%s%s", errors.messages[0],
                 errors.count > 1 ? " (and more)" : "");
    config_errors_free(&errors);
    return config;
}

/* Sends systemd the one-line STATUS=, with READY=1 when ready is set. */
static void report_status(const struct daemon *d, bool ready)
{
    size_t up = 0;
    for (size_t i = 0; i < d->config->n_feeds; i++)
        up += feeds_stats(d->feeds, i)->up;
    char when[32] = "none yet";
    if (d->last_evaluation)
        civil_format_rfc3339(d->last_evaluation, when, sizeof(when));
    char status[768];
    snprintf(status, sizeof(status), "feeds up %zu/%zu, plants %zu, last evaluation %s%s%s", up,
             d->config->n_feeds, store_plant_count(d->store), when,
             d->reload_error[0] ? "; reload failed, running the previous config: " : "",
             d->reload_error);
    if (ready)
        service_ready(status);
    else
        service_status(status);
}

static void on_feeds_changed(void *arg)
{
    struct daemon *d = arg;
    endpoints_invalidate(d->endpoints);
    persistence_changed(d->persistence);
    report_status(d, false);
}

/* endpoints hooks: the domain render, the status page, the per-scrape
 * families, readiness. */
static char *render_domain(void *arg, enum expo_format format, size_t *len)
{
    struct daemon *d = arg;
    struct evaluation *ev = evaluation_run(d->store, d->config, eval_clock_now(&d->flags.clock));
    char *text = ev ? metrics_render(d->config, d->store, ev, d->feeds, format, len) : NULL;
    evaluation_free(ev);
    if (!text)
        log_error("out of memory rendering the metrics");
    d->last_evaluation = (int64_t)time(NULL);
    return text;
}

static char *render_status(void *arg, size_t *len)
{
    struct daemon *d = arg;
    struct evaluation *ev = evaluation_run(d->store, d->config, eval_clock_now(&d->flags.clock));
    struct status_page_input input = {
        .config = d->config, .store = d->store, .evaluation = ev, .feeds = d->feeds,
        .telemetry_path = d->flags.telemetry_path,
    };
    char *html = ev ? status_page_render(&input, len) : NULL;
    evaluation_free(ev);
    if (!html)
        log_error("out of memory rendering the status page");
    return html;
}

/* The state as one snapshot, taken now (the wall clock). */
static int encode_state(void *arg, uint8_t **out, size_t *len, int64_t *taken_at_ms)
{
    struct daemon *d = arg;
    struct evaluation *ev = evaluation_run(d->store, d->config, eval_clock_now(&d->flags.clock));
    size_t n = d->config->n_feeds;
    struct snapshot_feed_status *feeds = calloc(n ? n : 1, sizeof(*feeds));
    int rc = -1;
    if (ev && feeds) {
        for (size_t i = 0; i < n; i++)
            feeds[i] = (struct snapshot_feed_status){d->config->feeds[i].name,
                                                     feeds_stats(d->feeds, i)};
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        *taken_at_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
        struct snapshot_source src = {
            .config = d->config, .store = d->store, .evaluation = ev, .feeds = feeds,
            .n_feeds = n, .taken_at_ms = *taken_at_ms,
        };
        rc = snapshot_encode(&src, out, len);
    }
    free(feeds);
    evaluation_free(ev);
    return rc;
}

static uint8_t *render_snapshot(void *arg, size_t *len)
{
    uint8_t *bytes = NULL;
    int64_t taken_at_ms;
    if (encode_state(arg, &bytes, len, &taken_at_ms) != 0)
        log_error("out of memory encoding the snapshot");
    return bytes;
}

/* remote write's hooks: the evaluated families, and every stored change. */
static char *render_evaluation(void *arg, size_t *len)
{
    struct daemon *d = arg;
    struct evaluation *ev = evaluation_run(d->store, d->config, eval_clock_now(&d->flags.clock));
    char *text = ev ? metrics_render_evaluation(d->config, ev, len) : NULL;
    evaluation_free(ev);
    return text;
}

static void on_record_changed(void *arg, const struct store_plant *plant, const char *metal,
                              int32_t period_key, const struct rollup_values *before,
                              const struct rollup_values *after)
{
    struct daemon *d = arg;
    remote_write_record(d->remote_write, plant, metal, period_key, before, after);
    remote_write_evaluate(d->remote_write);
}

static void render_daemon(void *arg, struct expo *e)
{
    struct daemon *d = arg;
    d->self.remote_write = d->remote_write;
    d->self.http = d->http ? http_server_stats(d->http) : NULL;
    persistence_stats(d->persistence, &d->self.snapshots);
    metrics_render_daemon(e, &d->self);
}

static void serve_ingest(void *arg, const struct http_request *request,
                         struct http_response *response)
{
    struct daemon *d = arg;
    push_api_serve(d->push, request, response);
}

static bool is_ready(void *arg)
{
    struct daemon *d = arg;
    for (size_t i = 0; !d->ready && i < d->config->n_feeds; i++) {
        const struct feed_stats *st = feeds_stats(d->feeds, i);
        if (st->fetches_ok + st->fetches_error == 0)
            return false;
    }
    return d->ready = true;
}

/* The HTTP limits the config asks for. */
static struct http_limits http_limits_of(const struct config *config)
{
    return (struct http_limits){
        .max_connections = config->web.max_connections,
        .max_header_bytes = config->web.max_header_bytes,
        .max_body_bytes = config->web.max_request_body_bytes,
        .read_header_timeout_ms = config->web.read_header_timeout_ms,
        .idle_timeout_ms = config->web.idle_timeout_ms,
        .write_timeout_ms = config->web.write_timeout_ms,
    };
}

/* Records how a reload ended and tells systemd the daemon is ready again. */
static void reload_finished(struct daemon *d, bool ok)
{
    d->self.last_reload_successful = ok;
    if (ok) {
        d->self.last_reload_success_timestamp = (double)time(NULL);
        d->reload_error[0] = '\0';
    }
    endpoints_invalidate(d->endpoints);
    report_status(d, true);
}

/* Reloads the config (SIGHUP, POST /-/reload). Returns 0, or -1 with the
 * reason in d->reload_error. */
static int reload(struct daemon *d)
{
    service_reloading();
    log_info("reloading %s", d->flags.config_file);
    struct config *fresh = load_config(d->flags.config_file, d->reload_error,
                                       sizeof(d->reload_error));
    if (!fresh) {
        log_error("reload failed: keeping the running config");
        reload_finished(d, false);
        return -1;
    }
    if (!d->flags.listen_address && strcmp(fresh->listen_address, d->config->listen_address))
        log_warn("web.listen_address changed to %s: takes effect at the next restart",
                 fresh->listen_address);
    if (feeds_configure(d->feeds, fresh) != 0) {
        log_error("reload failed: out of memory; keeping the running config");
        snprintf(d->reload_error, sizeof(d->reload_error), "out of memory");
        config_free(fresh);
        reload_finished(d, false);
        return -1;
    }
    push_configure(d->push, fresh); /* re-reads the token files; logs what fails */
    remote_write_configure(d->remote_write, fresh); /* copies; logs what fails */
    config_free(d->config);
    d->config = fresh;
    persistence_configure(d->persistence, fresh);
    struct http_limits limits = http_limits_of(fresh);
    http_server_set_limits(d->http, &limits);
    log_info("reloaded: %zu feeds, %zu metals", fresh->n_feeds, fresh->n_metals);
    reload_finished(d, true);
    return 0;
}

static int reload_hook(void *arg, char *err, size_t err_size)
{
    struct daemon *d = arg;
    int rc = reload(d);
    snprintf(err, err_size, "%s", d->reload_error);
    return rc;
}

static void on_signal(evutil_socket_t signum, short what, void *arg)
{
    (void)what;
    struct daemon *d = arg;
    if (signum == SIGHUP) {
        reload(d);
        return;
    }
    log_info("received %s, exiting", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    service_stopping();
    event_base_loopexit(d->base, NULL);
}

static void on_evaluation_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct daemon *d = arg;
    if (!d->flags.clock.fixed)
        endpoints_invalidate(d->endpoints);
    remote_write_evaluate(d->remote_write);
}

static void daemon_free(struct daemon *d)
{
    service_watchdog_stop();
    persistence_free(d->persistence); /* the last snapshot, while the state is whole */
    remote_write_free(d->remote_write); /* pending samples saved to state_dir */
    http_server_free(d->http);
    endpoints_free(d->endpoints);
    web_security_free(d->security);
    push_free(d->push);
    feeds_free(d->feeds);
    for (size_t i = 0; i < sizeof(d->signals) / sizeof(d->signals[0]); i++)
        if (d->signals[i])
            event_free(d->signals[i]);
    if (d->evaluation_tick)
        event_free(d->evaluation_tick);
    store_free(d->store);
    config_free(d->config);
    if (d->base)
        event_base_free(d->base);
    fetch_global_cleanup();
}

/* Sets up everything the loop runs. Returns 0, or -1 (already logged). */
static int daemon_start(struct daemon *d)
{
    static const int signums[] = {SIGTERM, SIGINT, SIGHUP};
    d->base = event_base_new();
    d->store = store_new();
    if (!d->base || !d->store || !(d->feeds = feeds_new(d->base, d->store, &d->flags.clock,
                                                        on_feeds_changed, d)) ||
        !(d->push = push_new(d->store, d->feeds, &d->flags.clock))) {
        log_error("cannot set up the event loop");
        return -1;
    }
    for (size_t i = 0; i < sizeof(signums) / sizeof(signums[0]); i++) {
        d->signals[i] = evsignal_new(d->base, signums[i], on_signal, d);
        if (!d->signals[i] || evsignal_add(d->signals[i], NULL) != 0) {
            log_error("cannot handle signal %d", signums[i]);
            return -1;
        }
    }
    /* Targets and on-track status move with time even without new data;
     * remote write sends the evaluated figures at each tick, also when
     * --time.now fixes the clock. */
    d->evaluation_tick = event_new(d->base, -1, EV_PERSIST, on_evaluation_tick, d);
    int64_t tick_ms = d->config->evaluation_interval_ms;
    struct timeval tick = {.tv_sec = tick_ms / 1000, .tv_usec = (tick_ms % 1000) * 1000};
    if (!d->evaluation_tick || event_add(d->evaluation_tick, &tick) != 0) {
        log_error("cannot start the evaluation timer");
        return -1;
    }
    char err[512];
    if (d->flags.web_config_file &&
        !(d->security = web_security_new(d->flags.web_config_file, err, sizeof(err)))) {
        log_error("--web.config.file: %s", err);
        return -1;
    }
    struct endpoints_options endpoints = {
        .telemetry_path = d->flags.telemetry_path,
        .enable_lifecycle = d->flags.enable_lifecycle,
        .hooks = {.render = render_domain, .render_self = render_daemon, .ready = is_ready,
                  .reload = reload_hook, .render_status = render_status,
                  .render_snapshot = render_snapshot, .ingest = serve_ingest, .arg = d},
    };
    if (!(d->endpoints = endpoints_new(&endpoints))) {
        log_error("out of memory");
        return -1;
    }
    const char *address = d->flags.listen_address ? d->flags.listen_address
                                                  : d->config->listen_address;
    struct http_server_options options = {
        .listen_address = address,
        .listen_fd = -1,
        .limits = http_limits_of(d->config),
        .security = d->security,
        .handler = endpoints_handle,
        .observe = endpoints_observe,
        .own_auth = endpoints_own_auth,
        .arg = d->endpoints,
    };
    if (d->flags.systemd_socket) {
        options.listen_fd = service_listen_socket();
        if (options.listen_fd < 0) {
            log_error("--web.systemd-socket: systemd passed no listening socket");
            return -1;
        }
        address = "the socket systemd passed";
    }
    if (!(d->http = http_server_new(d->base, &options, err, sizeof(err)))) {
        log_error("%s", err);
        return -1;
    }
    /* What was accepted before the last stop is back before anything is
     * served or fetched. */
    if (!(d->persistence = persistence_new(d->base, d->config, encode_state, d))) {
        log_error("cannot set up snapshots");
        return -1;
    }
    persistence_restore(d->persistence, d->store);
    /* Restored records were sent before the stop; from here on every change
     * is, after the pending samples saved at the stop. */
    if (!(d->remote_write = remote_write_new(d->base, d->config->state_dir, render_evaluation,
                                             d)) ||
        remote_write_configure(d->remote_write, d->config) != 0)
        return -1;
    store_set_observer(d->store, on_record_changed, d);
    if (feeds_configure(d->feeds, d->config) != 0) {
        log_error("cannot schedule the feeds");
        return -1;
    }
    push_configure(d->push, d->config); /* a token it cannot read is logged */
    if (service_watchdog_start(d->base) != 0) {
        log_error("cannot start the watchdog timer");
        return -1;
    }
    log_info("ingotd %s serving %s on %s%s with %zu feeds", INGOT_VERSION,
             d->flags.telemetry_path, address,
             d->security && web_security_tls(d->security) ? " over TLS" : "",
             d->config->n_feeds);
    d->self = (struct metrics_daemon){
        .last_reload_successful = 1, .last_reload_success_timestamp = (double)time(NULL),
    };
    report_status(d, true);
    return 0;
}

int main(int argc, char **argv)
{
    struct daemon d = {0};
    int parsed = parse_flags(argc, argv, &d.flags);
    if (parsed != 0)
        return parsed < 0 ? 0 : 1;

    if (d.flags.check_config)
        return config_check(d.flags.config_file, stdout, stderr);
    d.config = load_config(d.flags.config_file, NULL, 0);
    if (!d.config)
        return 1;

    signal(SIGPIPE, SIG_IGN);
    int rc = 1;
    if (daemon_start(&d) == 0 && event_base_dispatch(d.base) == 0)
        rc = 0;
    daemon_free(&d);
    return rc;
}
