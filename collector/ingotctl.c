/*
 * ingotctl: the operators' command-line tool. It parses the command line,
 * prints the help pages and dispatches: `snapshot dump` and `snapshot
 * verify` to snapshot_dump, `check-config` to config_check (the very check
 * `ingotd --check-config` runs). Exit status: 0 success, 1 the command
 * failed, 2 a usage error.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil_time.h"
#include "config.h"
#include "log.h"
#include "snapshot_dump.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "usage: ingotctl snapshot dump [--format=text|json] FILE|URL|-\n"
    "       ingotctl snapshot verify FILE|URL|-...\n"
    "       ingotctl check-config FILE\n"
    "       ingotctl [COMMAND] --help | --version\n";

static const char main_help[] =
    "NAME\n"
    "    ingotctl - read ingot snapshots and check ingotd configuration files\n"
    "\n"
    "SYNOPSIS\n"
    "    ingotctl snapshot dump [--format=text|json] FILE|URL|-\n"
    "    ingotctl snapshot verify FILE|URL|-...\n"
    "    ingotctl check-config FILE\n"
    "    ingotctl [COMMAND] --help\n"
    "    ingotctl --version\n"
    "\n"
    "DESCRIPTION\n"
    "    ingotctl is the operators' companion to ingotd. It reads the snapshots\n"
    "    ingotd writes into its state_dir and serves on GET /snapshot (one\n"
    "    ingot.v1.Snapshot protobuf message: the plants and their records, the\n"
    "    targets, the national figures and the feeds), and it checks configuration\n"
    "    files with the same code as `ingotd --check-config`. It needs no running\n"
    "    ingotd, except to fetch a URL it is given.\n"
    "\n"
    "COMMANDS\n"
    "    snapshot dump     print a snapshot: text for people, JSON for programs\n"
    "    snapshot verify   check that snapshots are sound, and say why one is not\n"
    "    check-config      validate a configuration file and print its summary\n"
    "\n"
    "    `ingotctl COMMAND --help` (for example `ingotctl snapshot dump --help`)\n"
    "    describes a command in full.\n"
    "\n"
    "OPTIONS\n"
    "    --help       print this help and exit\n"
    "    --version    print the version and exit\n"
    "\n"
    "EXIT STATUS\n"
    "    0    the command succeeded\n"
    "    1    it failed: a snapshot or configuration that is not valid, a file or\n"
    "         URL that cannot be read, output that cannot be written\n"
    "    2    usage error: an unknown command or option, a missing argument\n"
    "\n"
    "EXAMPLES\n"
    "    ingotctl snapshot dump http://127.0.0.1:8467/snapshot\n"
    "    ingotctl snapshot dump --format=json /var/lib/ingot/snapshot-*.pb | jq .national\n"
    "    ingotctl snapshot verify /var/lib/ingot/snapshot-*.pb\n"
    "    ingotctl check-config /etc/ingot/ingot.yaml\n"
    "\n"
    "SEE ALSO\n"
    "    ingotd --help; README.md, section \"ingotctl\";\n"
    "    proto/ingot/v1/snapshot.proto, the snapshot's schema\n";

static const char snapshot_help[] =
    "NAME\n"
    "    ingotctl snapshot - read ingot snapshots\n"
    "\n"
    "SYNOPSIS\n"
    "    ingotctl snapshot dump [--format=text|json] FILE|URL|-\n"
    "    ingotctl snapshot verify FILE|URL|-...\n"
    "\n"
    "DESCRIPTION\n"
    "    A snapshot is ingotd's whole state in one ingot.v1.Snapshot protobuf\n"
    "    message. ingotctl reads one from a snapshot file in ingotd's state_dir,\n"
    "    from a raw payload as GET /snapshot returns it, from standard input (-),\n"
    "    or from an http:// or https:// URL.\n"
    "\n"
    "    dump      print it, as text (the default) or JSON\n"
    "    verify    check it, exit 1 with the reason when it is not sound\n"
    "\n"
    "    See `ingotctl snapshot dump --help` and `ingotctl snapshot verify --help`.\n"
    "\n"
    "EXIT STATUS\n"
    "    0 success, 1 failure, 2 usage error.\n";

static const char dump_help[] =
    "NAME\n"
    "    ingotctl snapshot dump - print a snapshot as text or JSON\n"
    "\n"
    "SYNOPSIS\n"
    "    ingotctl snapshot dump [--format=text|json] FILE|URL|-\n"
    "\n"
    "DESCRIPTION\n"
    "    Reads one snapshot, checks it in full (as `ingotctl snapshot verify`\n"
    "    does) and prints it on standard output. Nothing is printed from a\n"
    "    snapshot that is not sound. The snapshot is one of:\n"
    "\n"
    "    FILE   a snapshot file from ingotd's state_dir\n"
    "           (snapshot-YYYYMMDDTHHMMSS.mmmZ.pb): its framing, magic INGOTSN1,\n"
    "           length and CRC-32, is checked first; or a raw payload as\n"
    "           GET /snapshot returns it (saved with `curl -o`). A file that\n"
    "           starts with INGOTSN1 is a snapshot file, any other a payload.\n"
    "    -      standard input, either of the two.\n"
    "    URL    http:// or https:// (GET /snapshot of an ingotd), fetched with\n"
    "           gzip accepted, TLS verified, redirects to http and https only,\n"
    "           at most 1 GiB within 30 seconds; a status other than 2xx fails.\n"
    "\n"
    "    Text, for people, has four parts:\n"
    "      NATIONAL  per year: each metal's production, its target, the progress\n"
    "                towards it, growth against its target and the projection;\n"
    "                output against the baseline year; CO2 and energy intensity\n"
    "                and waste recycled against the target and each benchmark;\n"
    "                then the initiatives, with progress and deadline\n"
    "      FEEDS     each feed: up, last success, fetches, records accepted,\n"
    "                changed and rejected (with the reasons)\n"
    "      PLANTS    each plant's attributes and its record count and periods\n"
    "                per metal (not the records: use JSON for those)\n"
    "      SNAPSHOT  when it was taken, by which ingot, its size\n"
    "\n"
    "    JSON, for programs, is one object with every field of the snapshot,\n"
    "    every record included. Its keys are the field names of\n"
    "    proto/ingot/v1/snapshot.proto, in its field-number order at every level,\n"
    "    so a snapshot always prints to the same bytes:\n"
    "\n"
    "      taken_at_unix_ms, ingot_version, ingot_revision, metals,\n"
    "      targets {baseline_year, years, benchmarks, initiatives},\n"
    "      plants [{id, name, region, capacity_tonnes_per_year,\n"
    "               workers_certified, green_operational,\n"
    "               series [{metal, records [{period, production_tonnes,\n"
    "                        co2_tonnes, energy_mwh, waste_tonnes,\n"
    "                        waste_recycled_tonnes}]}]}],\n"
    "      national {evaluated_at_unix_s, current_year, years, initiatives},\n"
    "      feeds [{name, up, last_success_unix_ms, ..., records_rejected}]\n"
    "\n"
    "    Units are the ones the names end with (tonnes, mwh, ratio, unix_ms,\n"
    "    seconds). A field that is not set, such as a co2_tonnes the plant did\n"
    "    not report, is left out: never null, never 0. Lists are always there,\n"
    "    [] when empty. Integers are JSON integers; doubles have 17 significant\n"
    "    digits, so they parse back to exactly the value in the snapshot.\n"
    "\n"
    "OPTIONS\n"
    "    --format=text|json   the output format (default text)\n"
    "    --help               print this help and exit\n"
    "\n"
    "EXIT STATUS\n"
    "    0    the snapshot was printed\n"
    "    1    it could not be read or is not sound (\"SOURCE: reason\" on standard\n"
    "         error), or standard output could not be written\n"
    "    2    usage error\n"
    "\n"
    "EXAMPLES\n"
    "    ingotctl snapshot dump http://127.0.0.1:8467/snapshot | less\n"
    "    ingotctl snapshot dump --format=json /var/lib/ingot/snapshot-20250715T120000.000Z.pb\n"
    "    curl -s http://127.0.0.1:8467/snapshot | ingotctl snapshot dump --format=json - |\n"
    "        jq '.national.years[] | {year, output_vs_baseline}'\n";

static const char verify_help[] =
    "NAME\n"
    "    ingotctl snapshot verify - check that snapshots are sound\n"
    "\n"
    "SYNOPSIS\n"
    "    ingotctl snapshot verify FILE|URL|-...\n"
    "\n"
    "DESCRIPTION\n"
    "    Checks each snapshot as ingotd checks one before restoring it: for a\n"
    "    snapshot file, its framing (magic INGOTSN1, length, CRC-32); then the\n"
    "    whole payload (well-formed protobuf, every plant, series and record\n"
    "    unpacking, plant ids valid, periods real, quantities finite and within\n"
    "    the store's range, taken_at_unix_ms present). Sources are read as by\n"
    "    `ingotctl snapshot dump` (see its --help).\n"
    "\n"
    "    A sound snapshot prints one line on standard output:\n"
    "        FILE: ok, taken 2025-07-15T12:00:00Z by ingot 0.1.0, 6 plants, 432 records\n"
    "    One that is not prints the first problem found on standard error:\n"
    "        FILE: checksum mismatch\n"
    "        FILE: truncated: 100 of 2048 payload bytes\n"
    "        FILE: byte 12: field 6 (plants) truncated: 80 bytes of value, 3 left\n"
    "\n"
    "OPTIONS\n"
    "    --help   print this help and exit\n"
    "\n"
    "EXIT STATUS\n"
    "    0    every snapshot is sound\n"
    "    1    at least one is not, or cannot be read\n"
    "    2    usage error\n"
    "\n"
    "EXAMPLES\n"
    "    ingotctl snapshot verify /var/lib/ingot/snapshot-*.pb\n"
    "    curl -s -o now.pb http://127.0.0.1:8467/snapshot && ingotctl snapshot verify now.pb\n";

static const char check_config_help[] =
    "NAME\n"
    "    ingotctl check-config - validate an ingotd configuration file\n"
    "\n"
    "SYNOPSIS\n"
    "    ingotctl check-config FILE\n"
    "\n"
    "DESCRIPTION\n"
    "    Loads FILE exactly as ingotd does, with the same code as\n"
    "    `ingotd --check-config --config.file=FILE`, and answers the same way.\n"
    "    When it is valid, prints a one-screen summary on standard output: the\n"
    "    listen address, state directory, metals, every feed, the targets,\n"
    "    benchmarks and initiatives. When it is not, prints every error on\n"
    "    standard error in one pass, each as FILE:LINE:COLUMN: key.path: what was\n"
    "    found and what was expected, then \"FILE: invalid configuration\".\n"
    "\n"
    "OPTIONS\n"
    "    --help   print this help and exit\n"
    "\n"
    "EXIT STATUS\n"
    "    0    the configuration is valid\n"
    "    1    it is not, or FILE cannot be read\n"
    "    2    usage error\n"
    "\n"
    "EXAMPLES\n"
    "    ingotctl check-config /etc/ingot/ingot.yaml\n"
    "    ingotctl check-config new.yaml && cp new.yaml /etc/ingot/ingot.yaml &&\n"
    "        systemctl reload ingotd\n";

/* The usage on stderr, after what was wrong. Returns EXIT_USAGE. */
static int usage_error(const char *what, const char *arg)
{
    if (what)
        fprintf(stderr, "ingotctl: %s%s%s\n", what, arg ? " " : "", arg ? arg : "");
    fputs(usage_text, stderr);
    fputs("Try 'ingotctl --help'.\n", stderr);
    return EXIT_USAGE;
}

/* A command's options: --help, and --format for dump. */
struct command_options {
    enum snapshot_dump_format format;
    bool help;
};

/* Parses argv (argv[0] the command's name) up to its operands, which start
 * at *first. 0, or EXIT_USAGE (reported). */
static int parse_options(int argc, char **argv, bool with_format, struct command_options *o,
                         int *first)
{
    enum { O_HELP = 1, O_FORMAT };
    static const struct option with[] = {
        {"help", no_argument, NULL, O_HELP},
        {"format", required_argument, NULL, O_FORMAT},
        {NULL, 0, NULL, 0},
    };
    static const struct option without[] = {
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    *o = (struct command_options){.format = SNAPSHOT_DUMP_TEXT};
    optind = 0; /* glibc: start afresh on this argv */
    opterr = 0; /* reported below, naming ingotctl rather than argv[0] */
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", with_format ? with : without, NULL)) != -1) {
        switch (opt) {
        case 'h':
        case O_HELP:
            o->help = true;
            break;
        case O_FORMAT:
            if (strcmp(optarg, "text") == 0)
                o->format = SNAPSHOT_DUMP_TEXT;
            else if (strcmp(optarg, "json") == 0)
                o->format = SNAPSHOT_DUMP_JSON;
            else
                return usage_error("--format must be text or json, not", optarg);
            break;
        case ':':
            return usage_error("option needs a value:", argv[optind - 1]);
        default:
            return usage_error("unknown option", argv[optind - 1]);
        }
    }
    *first = optind;
    return 0;
}

static int cmd_dump(int argc, char **argv)
{
    struct command_options o;
    int first, rc = parse_options(argc, argv, true, &o, &first);
    if (rc != 0)
        return rc;
    if (o.help) {
        fputs(dump_help, stdout);
        return EXIT_OK;
    }
    if (argc - first != 1)
        return usage_error(argc == first ? "snapshot dump: missing FILE|URL|-"
                                         : "snapshot dump: one snapshot at a time, not also",
                           argc == first ? NULL : argv[first + 1]);
    const char *source = argv[first];
    char err[512];
    uint8_t *payload;
    size_t len;
    rc = EXIT_OK;
    if (snapshot_dump_load(source, &payload, &len, err, sizeof(err)) != 0 ||
        snapshot_dump(payload, len, o.format, stdout, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", source, err);
        rc = EXIT_FAILED;
    }
    free(payload);
    return rc;
}

static int cmd_verify(int argc, char **argv)
{
    struct command_options o;
    int first, rc = parse_options(argc, argv, false, &o, &first);
    if (rc != 0)
        return rc;
    if (o.help) {
        fputs(verify_help, stdout);
        return EXIT_OK;
    }
    if (argc == first)
        return usage_error("snapshot verify: missing FILE|URL|-", NULL);
    for (int i = first; i < argc; i++) {
        char err[512], when[32];
        uint8_t *payload;
        size_t len;
        struct snapshot_info info;
        if (snapshot_dump_load(argv[i], &payload, &len, err, sizeof(err)) != 0 ||
            snapshot_dump_verify(payload, len, &info, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s: %s\n", argv[i], err);
            rc = EXIT_FAILED;
        } else {
            civil_format_rfc3339(info.taken_at_ms / 1000 - (info.taken_at_ms % 1000 < 0), when,
                                 sizeof(when));
            printf("%s: ok, taken %s by ingot %s, %" PRIu64 " plants, %" PRIu64 " records\n",
                   argv[i], when, info.version[0] ? info.version : "(unknown)", info.plants,
                   info.records);
        }
        free(payload);
    }
    return rc;
}

static int cmd_check_config(int argc, char **argv)
{
    struct command_options o;
    int first, rc = parse_options(argc, argv, false, &o, &first);
    if (rc != 0)
        return rc;
    if (o.help) {
        fputs(check_config_help, stdout);
        return EXIT_OK;
    }
    if (argc - first != 1)
        return usage_error(argc == first ? "check-config: missing FILE"
                                         : "check-config: one file at a time, not also",
                           argc == first ? NULL : argv[first + 1]);
    return config_check(argv[first], stdout, stderr);
}

/* `ingotctl snapshot SUBCOMMAND ...`, argv[0] "snapshot". */
static int cmd_snapshot(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("snapshot: missing dump or verify", NULL);
    if (strcmp(argv[1], "dump") == 0)
        return cmd_dump(argc - 1, argv + 1);
    if (strcmp(argv[1], "verify") == 0)
        return cmd_verify(argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(snapshot_help, stdout);
        return EXIT_OK;
    }
    return usage_error("snapshot: unknown command", argv[1]);
}

int main(int argc, char **argv)
{
    /* check-config reports errors through log.h, as ingotd does. */
    log_set_format(log_stderr_is_journal() ? LOG_FORMAT_JOURNAL : LOG_FORMAT_PLAIN);
    if (argc < 2)
        return usage_error("missing command", NULL);
    const char *command = argv[1];
    int rc;
    if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0) {
        fputs(main_help, stdout);
        rc = EXIT_OK;
    } else if (strcmp(command, "--version") == 0) {
        printf("ingotctl %s (revision %s)\n", INGOT_VERSION, INGOT_REVISION);
        rc = EXIT_OK;
    } else if (strcmp(command, "snapshot") == 0) {
        rc = cmd_snapshot(argc - 1, argv + 1);
    } else if (strcmp(command, "check-config") == 0) {
        rc = cmd_check_config(argc - 1, argv + 1);
    } else {
        rc = usage_error(command[0] == '-' ? "unknown option" : "unknown command", command);
    }
    if (fflush(stdout) != 0 && rc == EXIT_OK) {
        perror("ingotctl: standard output");
        rc = EXIT_FAILED;
    }
    return rc;
}
