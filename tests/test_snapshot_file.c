/*
 * test_snapshot_file: snapshot files in a fresh temporary directory per
 * test. A payload written comes back byte for byte; names follow the time
 * taken and sort by it; a write keeps the newest files, removes stale
 * temporaries and leaves other files alone; every kind of damaged file is
 * refused with its own reason; and loading falls back past damaged or
 * rejected files to an older one, or to none.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "snapshot_file.h"

/* Unix milliseconds of a few instants, and the names they give. */
#define T_1999_END 946684799999LL  /* 1999-12-31T23:59:59.999Z */
#define T_2000 946684800000LL      /* 2000-01-01T00:00:00.000Z */
#define T_2000_1MS 946684800001LL  /* 2000-01-01T00:00:00.001Z */
#define T_2000_1S 946684801000LL   /* 2000-01-01T00:00:01.000Z */
#define T_2000_FEB 949363200000LL  /* 2000-02-01T00:00:00.000Z */
#define T_LEAP 1709251199123LL     /* 2024-02-29T23:59:59.123Z */
#define N_1999_END "snapshot-19991231T235959.999Z.pb"
#define N_2000 "snapshot-20000101T000000.000Z.pb"
#define N_2000_1MS "snapshot-20000101T000000.001Z.pb"
#define N_2000_1S "snapshot-20000101T000001.000Z.pb"
#define N_2000_FEB "snapshot-20000201T000000.000Z.pb"
#define N_LEAP "snapshot-20240229T235959.123Z.pb"

struct fixture {
    char dir[256]; /* a fresh temporary directory */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof(f->dir), "%s/test_snapshot_file_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int result = nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return result;
}

static void path_in(const struct fixture *f, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", f->dir, name);
}

static void write_raw(const struct fixture *f, const char *name, const void *bytes, size_t len)
{
    char path[512];
    path_in(f, name, path, sizeof(path));
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    if (len)
        assert_int_equal(fwrite(bytes, 1, len, out), len);
    assert_int_equal(fclose(out), 0);
}

/* The whole file at dir/name in a new buffer; *len its size. */
static uint8_t *read_raw(const struct fixture *f, const char *name, size_t *len)
{
    char path[512];
    path_in(f, name, path, sizeof(path));
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    uint8_t *buf = malloc(1 << 16);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 16, in);
    assert_true(feof(in));
    fclose(in);
    return buf;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in the fixture's directory, sorted, one per line. */
static void list_names(const struct fixture *f, char *out, size_t size)
{
    char *names[32];
    size_t n = 0;
    DIR *d = opendir(f->dir);
    assert_non_null(d);
    struct dirent *entry;
    while ((entry = readdir(d)))
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) {
            assert_true(n < 32);
            names[n++] = strdup(entry->d_name);
        }
    closedir(d);
    qsort(names, n, sizeof(*names), by_name);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        used += (size_t)snprintf(out + used, size - used, "%s\n", names[i]);
        free(names[i]);
    }
}

static void write_ok(const struct fixture *f, int64_t taken_at_ms, const char *text,
                     unsigned keep)
{
    char err[256] = "";
    if (snapshot_file_write(f->dir, taken_at_ms, (const uint8_t *)text, strlen(text), keep, err,
                            sizeof(err)) != 0)
        fail_msg("snapshot_file_write: %s", err);
}

/* Fails unless reading name gives back exactly len bytes of expected. */
static void read_back(const struct fixture *f, const char *name, const void *expected,
                      size_t len)
{
    char path[512], err[256] = "";
    path_in(f, name, path, sizeof(path));
    uint8_t *payload = (uint8_t *)"not set";
    size_t got = 1;
    if (snapshot_file_read(path, &payload, &got, err, sizeof(err)) != 0)
        fail_msg("snapshot_file_read %s: %s", name, err);
    assert_int_equal(got, len);
    if (len == 0)
        assert_null(payload);
    else
        assert_memory_equal(payload, expected, len);
    free(payload);
}

static void test_round_trip(void **state)
{
    struct fixture *f = *state;
    umask(022);
    char err[256];

    const char *text = "a serialised Snapshot";
    assert_int_equal(snapshot_file_write(f->dir, T_LEAP, (const uint8_t *)text, strlen(text), 3,
                                         err, sizeof(err)),
                     0);
    read_back(f, N_LEAP, text, strlen(text));
    char path[512];
    path_in(f, N_LEAP, path, sizeof(path));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(st.st_size, 20 + strlen(text));

    /* Every byte value, in a payload bigger than one read. */
    size_t big_len = 50000;
    uint8_t *big = malloc(big_len);
    assert_non_null(big);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (uint8_t)(i * 7 + i / 256);
    assert_int_equal(snapshot_file_write(f->dir, T_2000, big, big_len, 3, err, sizeof(err)), 0);
    read_back(f, N_2000, big, big_len);
    free(big);

    /* An empty payload is a sound snapshot of 0 bytes. */
    assert_int_equal(snapshot_file_write(f->dir, T_1999_END, NULL, 0, 3, err, sizeof(err)), 0);
    read_back(f, N_1999_END, NULL, 0);

    char names[1024];
    list_names(f, names, sizeof(names));
    assert_string_equal(names, N_1999_END "\n" N_2000 "\n" N_LEAP "\n");
}

static void test_names(void **state)
{
    struct fixture *f = *state;
    char err[256];
    write_ok(f, 0, "epoch", 10);
    write_ok(f, -1, "a millisecond before", 10);
    write_ok(f, 253402300799999LL, "the last name there is", 10);
    char names[1024];
    list_names(f, names, sizeof(names));
    assert_string_equal(names, "snapshot-19691231T235959.999Z.pb\n"
                               "snapshot-19700101T000000.000Z.pb\n"
                               "snapshot-99991231T235959.999Z.pb\n");

    /* A five-digit year has no name. */
    assert_int_equal(snapshot_file_write(f->dir, 253402300800000LL, (const uint8_t *)"x", 1, 10,
                                         err, sizeof(err)),
                     -1);
    assert_string_equal(err, "snapshot time 253402300800000 ms is out of range");

    /* The same millisecond twice: the second replaces the first. */
    write_ok(f, 0, "epoch again", 10);
    read_back(f, "snapshot-19700101T000000.000Z.pb", "epoch again", 11);

    assert_int_equal(snapshot_file_write(f->dir, 0, (const uint8_t *)"x", 1, 0, err, sizeof(err)),
                     -1);
    assert_string_equal(err, "keep must be at least 1");
}

static void test_write_errors(void **state)
{
    struct fixture *f = *state;
    char err[512], path[512];
    path_in(f, "missing", path, sizeof(path));
    assert_int_equal(snapshot_file_write(path, 0, (const uint8_t *)"x", 1, 3, err, sizeof(err)),
                     -1);
    char expected[600];
    snprintf(expected, sizeof(expected), "cannot open %s: No such file or directory", path);
    assert_string_equal(err, expected);

    /* A directory where the temporary goes: the write fails and the
     * snapshot it would have replaced stays. */
    write_ok(f, 0, "old", 3);
    path_in(f, ".snapshot-19700101T000000.000Z.pb.tmp", path, sizeof(path));
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(snapshot_file_write(f->dir, 0, (const uint8_t *)"new", 3, 3, err,
                                         sizeof(err)),
                     -1);
    snprintf(expected, sizeof(expected), "cannot remove %s: Is a directory", path);
    assert_string_equal(err, expected);
    read_back(f, "snapshot-19700101T000000.000Z.pb", "old", 3);
}

/* Written out of order, five snapshots leave the three newest by time. */
static void test_keep_newest(void **state)
{
    struct fixture *f = *state;
    write_ok(f, T_2000_1S, "4", 3);
    write_ok(f, T_1999_END, "1", 3);
    write_ok(f, T_2000_FEB, "5", 3);
    write_ok(f, T_2000, "2", 3);
    write_ok(f, T_2000_1MS, "3", 3);
    char names[1024];
    list_names(f, names, sizeof(names));
    assert_string_equal(names, N_2000_1MS "\n" N_2000_1S "\n" N_2000_FEB "\n");

    /* keep=1 leaves only the one written. */
    write_ok(f, T_LEAP, "6", 1);
    list_names(f, names, sizeof(names));
    assert_string_equal(names, N_LEAP "\n");
}

/* A clock that went back: the snapshot just written is kept even though
 * its name is older than the others. */
static void test_keep_never_removes_the_new_file(void **state)
{
    struct fixture *f = *state;
    write_ok(f, T_2000_1S, "future", 2);
    write_ok(f, T_2000_FEB, "further future", 2);
    write_ok(f, T_2000, "now", 2);
    char names[1024];
    list_names(f, names, sizeof(names));
    assert_string_equal(names, N_2000 "\n" N_2000_FEB "\n");
}

static int count_calls(void *arg, const char *path, const uint8_t *payload, size_t len,
                       char *err, size_t err_size)
{
    (void)path;
    (void)payload;
    (void)len;
    (*(int *)arg)++;
    snprintf(err, err_size, "not wanted");
    return -1;
}

/* Temporaries left by a killed writer are never loaded and are removed by
 * the next write; files not named like snapshots stay untouched. */
static void test_stale_temporaries_and_strangers(void **state)
{
    struct fixture *f = *state;
    static const char *const strangers[] = {
        "notes.txt",
        "snapshot-bogus.pb",
        "snapshot-20241301T000000.000Z.pb",      /* month 13 */
        "snapshot-20240230T000000.000Z.pb",      /* 30 February */
        "snapshot-20240101T000000.000Z.pb.bak",  /* a copy */
        "snapshot-20240101T000000.000Z.pbx",     /* one character more */
        "snapshot-2024010T1000000.000Z.pb",      /* the T misplaced */
        ".snapshot-20240101T000000.000.pb.tmp",  /* not our temporary */
        ".snapshot-20241301T000000.000Z.pb.tmp", /* nor this */
    };
    size_t n_strangers = sizeof(strangers) / sizeof(strangers[0]);
    for (size_t i = 0; i < n_strangers; i++)
        write_raw(f, strangers[i], "INGOTSN1", 8);
    /* A killed writer's temporary, complete and sound but for its name. */
    write_ok(f, T_2000, "would be sound", 3);
    char from[512], to[512];
    path_in(f, N_2000, from, sizeof(from));
    path_in(f, "." N_2000 ".tmp", to, sizeof(to));
    assert_int_equal(rename(from, to), 0);
    write_raw(f, "." N_LEAP ".tmp", "INGOTSN1\x05", 9);

    int calls = 0;
    char err[256];
    assert_int_equal(snapshot_file_load_newest(f->dir, count_calls, &calls, err, sizeof(err)), 0);
    assert_int_equal(calls, 0);

    write_ok(f, T_2000_FEB, "fresh", 1);
    char names[1024], expected[1024] = "";
    list_names(f, names, sizeof(names));
    const char *left[] = {
        ".snapshot-20240101T000000.000.pb.tmp", ".snapshot-20241301T000000.000Z.pb.tmp",
        "notes.txt", N_2000_FEB, "snapshot-20240101T000000.000Z.pb.bak",
        "snapshot-20240101T000000.000Z.pbx", "snapshot-2024010T1000000.000Z.pb",
        "snapshot-20240230T000000.000Z.pb", "snapshot-20241301T000000.000Z.pb",
        "snapshot-bogus.pb",
    };
    for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++) {
        strcat(expected, left[i]);
        strcat(expected, "\n");
    }
    assert_string_equal(names, expected);
}

/* One damaged version of a sound 100-byte snapshot. */
struct damage {
    const char *what;
    size_t keep_bytes;   /* the file cut to this size; 0: the whole file */
    size_t extra_bytes;  /* zero bytes appended */
    size_t flip_offset;  /* byte to flip bit flip_bit of; 0: none */
    uint8_t flip_bit;
    const char *reason;
};

/* Other files of state_dir: the same framing with a magic of their own,
 * written under their name (replaced), never pruned, and told from
 * snapshots by the magic. */
static void test_framed_files(void **state)
{
    struct fixture *f = *state;
    char err[256], path[512];
    assert_int_equal(snapshot_file_write_framed(f->dir, "remote-write-vm.pending", "INGOTRW1",
                                                (const uint8_t *)"one", 3, err, sizeof(err)),
                     0);
    assert_int_equal(snapshot_file_write_framed(f->dir, "remote-write-vm.pending", "INGOTRW1",
                                                (const uint8_t *)"two!", 4, err, sizeof(err)),
                     0);
    write_ok(f, T_2000, "snap", 1);
    char names[512];
    list_names(f, names, sizeof(names));
    assert_string_equal(names, "remote-write-vm.pending\n" N_2000 "\n");

    path_in(f, "remote-write-vm.pending", path, sizeof(path));
    uint8_t *out = NULL;
    size_t len = 0;
    assert_int_equal(snapshot_file_read_framed(path, "INGOTRW1", "pending", &out, &len, err,
                                               sizeof(err)),
                     0);
    assert_int_equal(len, 4);
    assert_memory_equal(out, "two!", 4);
    free(out);
    assert_int_equal(snapshot_file_read(path, &out, &len, err, sizeof(err)), -1);
    assert_string_equal(err, "not a snapshot file (bad magic)");
    path_in(f, N_2000, path, sizeof(path));
    assert_int_equal(snapshot_file_read_framed(path, "INGOTRW1", "remote write pending", &out,
                                               &len, err, sizeof(err)),
                     -1);
    assert_string_equal(err, "not a remote write pending file (bad magic)");

    assert_int_equal(snapshot_file_write_framed(f->dir, "../x", "INGOTRW1", NULL, 0, err,
                                                sizeof(err)),
                     -1);
    assert_int_equal(snapshot_file_write_framed(f->dir, "x", "SHORT", NULL, 0, err, sizeof(err)),
                     -1);
}

static void test_damaged_files(void **state)
{
    struct fixture *f = *state;
    uint8_t payload[100];
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 31);
    char err[256];
    assert_int_equal(snapshot_file_write(f->dir, T_2000, payload, sizeof(payload), 3, err,
                                         sizeof(err)),
                     0);
    size_t sound_len;
    uint8_t *sound = read_raw(f, N_2000, &sound_len);
    assert_int_equal(sound_len, 120);
    assert_memory_equal(sound, "INGOTSN1\x64\0\0\0\0\0\0\0", 16);

    static const struct damage damages[] = {
        {"10 bytes", 10, 0, 0, 0, "too short for a snapshot header"},
        {"19 bytes", 19, 0, 0, 0, "too short for a snapshot header"},
        {"wrong magic", 0, 0, 7, 0x02, "not a snapshot file (bad magic)"},
        {"payload cut", 90, 0, 0, 0, "truncated: 70 of 100 payload bytes"},
        {"header only", 20, 0, 0, 0, "truncated: 0 of 100 payload bytes"},
        {"bytes appended", 0, 5, 0, 0, "5 trailing bytes after the payload"},
        {"payload bit flipped", 0, 0, 70, 0x10, "checksum mismatch"},
        {"last payload bit flipped", 0, 0, 119, 0x80, "checksum mismatch"},
        {"checksum bit flipped", 0, 0, 18, 0x01, "checksum mismatch"},
        {"length one more", 0, 0, 8, 0x01, "truncated: 100 of 101 payload bytes"},
        {"length four less", 0, 0, 8, 0x04, "4 trailing bytes after the payload"},
        {"length high byte", 0, 0, 15, 0x01, "truncated: 100 of 72057594037928036 payload bytes"},
    };
    for (size_t i = 0; i < sizeof(damages) / sizeof(damages[0]); i++) {
        const struct damage *d = &damages[i];
        uint8_t bad[200] = {0};
        memcpy(bad, sound, sound_len);
        size_t len = d->keep_bytes ? d->keep_bytes : sound_len + d->extra_bytes;
        if (d->flip_offset)
            bad[d->flip_offset] ^= d->flip_bit;
        write_raw(f, "bad.pb", bad, len);
        char path[512];
        path_in(f, "bad.pb", path, sizeof(path));
        uint8_t *out = (uint8_t *)"not set";
        size_t out_len = 1;
        err[0] = '\0';
        int result = snapshot_file_read(path, &out, &out_len, err, sizeof(err));
        if (result != -1 || strcmp(err, d->reason) != 0)
            fail_msg("%s: got %d \"%s\", want -1 \"%s\"", d->what, result, err, d->reason);
        assert_null(out);
        assert_int_equal(out_len, 0);
    }
    free(sound);

    char path[512];
    write_raw(f, "empty.pb", "", 0);
    path_in(f, "empty.pb", path, sizeof(path));
    uint8_t *out;
    size_t out_len;
    assert_int_equal(snapshot_file_read(path, &out, &out_len, err, sizeof(err)), -1);
    assert_string_equal(err, "empty file");

    path_in(f, "absent.pb", path, sizeof(path));
    assert_int_equal(snapshot_file_read(path, &out, &out_len, err, sizeof(err)), -1);
    assert_string_equal(err, "cannot open: No such file or directory");

    assert_int_equal(snapshot_file_read(f->dir, &out, &out_len, err, sizeof(err)), -1);
    assert_string_equal(err, "not a regular file");
}

/* What accept saw, and which calls it refuses. */
struct offers {
    int calls;
    char names[8][64];  /* basenames offered, in order */
    int refuse_first;   /* refuse this many offers */
    char taken[64];     /* payload taken, as text */
};

static int take(void *arg, const char *path, const uint8_t *payload, size_t len, char *err,
                size_t err_size)
{
    struct offers *o = arg;
    assert_true(o->calls < 8);
    const char *slash = strrchr(path, '/');
    snprintf(o->names[o->calls], sizeof(o->names[0]), "%s", slash ? slash + 1 : path);
    if (o->calls++ < o->refuse_first) {
        snprintf(err, err_size, "decodes to nothing");
        return -1;
    }
    snprintf(o->taken, sizeof(o->taken), "%.*s", (int)len, (const char *)payload);
    return 0;
}

/* Runs snapshot_file_load_newest on dir with stderr caught in log (of
 * size bytes); returns its result. */
static int load_logged(const char *dir, struct offers *o, char *err, size_t err_size, char *log,
                       size_t size)
{
    FILE *caught = tmpfile();
    assert_non_null(caught);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(caught), STDERR_FILENO) >= 0);
    int result = snapshot_file_load_newest(dir, take, o, err, err_size);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(caught);
    size_t n = fread(log, 1, size - 1, caught);
    log[n] = '\0';
    fclose(caught);
    return result;
}

/* Damages the snapshot dir/name by flipping one payload bit. */
static void corrupt(const struct fixture *f, const char *name)
{
    size_t len;
    uint8_t *bytes = read_raw(f, name, &len);
    bytes[len - 1] ^= 0x01;
    write_raw(f, name, bytes, len);
    free(bytes);
}

static void test_load_falls_back_past_a_damaged_file(void **state)
{
    struct fixture *f = *state;
    write_ok(f, T_2000, "oldest", 3);
    write_ok(f, T_2000_1S, "previous", 3);
    write_ok(f, T_2000_FEB, "newest", 3);
    corrupt(f, N_2000_FEB);

    struct offers o = {0};
    char err[256], log[2048];
    assert_int_equal(load_logged(f->dir, &o, err, sizeof(err), log, sizeof(log)), 1);
    assert_int_equal(o.calls, 1);
    assert_string_equal(o.names[0], N_2000_1S);
    assert_string_equal(o.taken, "previous");
    char expected[600];
    snprintf(expected, sizeof(expected), "snapshot %s/%s skipped: checksum mismatch\n", f->dir,
             N_2000_FEB);
    assert_non_null(strstr(log, expected));
    assert_null(strstr(log, N_2000_1S));
}

static void test_load_falls_back_past_a_refused_file(void **state)
{
    struct fixture *f = *state;
    write_ok(f, T_2000, "oldest", 3);
    write_ok(f, T_2000_1S, "previous", 3);
    write_ok(f, T_2000_FEB, "newest", 3);

    struct offers o = {.refuse_first = 1};
    char err[256], log[2048];
    assert_int_equal(load_logged(f->dir, &o, err, sizeof(err), log, sizeof(log)), 1);
    assert_int_equal(o.calls, 2);
    assert_string_equal(o.names[0], N_2000_FEB);
    assert_string_equal(o.names[1], N_2000_1S);
    assert_string_equal(o.taken, "previous");
    char expected[600];
    snprintf(expected, sizeof(expected), "snapshot %s/%s skipped: decodes to nothing\n", f->dir,
             N_2000_FEB);
    assert_non_null(strstr(log, expected));
}

static void test_load_with_nothing_sound(void **state)
{
    struct fixture *f = *state;
    write_ok(f, T_2000, "oldest", 3);
    write_ok(f, T_2000_1S, "previous", 3);
    write_ok(f, T_2000_FEB, "newest", 3);
    write_raw(f, N_2000, "", 0);

    struct offers o = {.refuse_first = 8};
    char err[256], log[4096];
    assert_int_equal(load_logged(f->dir, &o, err, sizeof(err), log, sizeof(log)), 0);
    assert_int_equal(o.calls, 2);
    assert_string_equal(o.names[0], N_2000_FEB);
    assert_string_equal(o.names[1], N_2000_1S);
    char expected[600];
    snprintf(expected, sizeof(expected), "snapshot %s/%s skipped: empty file\n", f->dir, N_2000);
    assert_non_null(strstr(log, expected));
}

static void test_load_from_no_snapshots(void **state)
{
    struct fixture *f = *state;
    struct offers o = {0};
    char err[512], log[2048], path[512];

    assert_int_equal(load_logged(f->dir, &o, err, sizeof(err), log, sizeof(log)), 0);
    path_in(f, "missing", path, sizeof(path));
    assert_int_equal(load_logged(path, &o, err, sizeof(err), log, sizeof(log)), 0);
    assert_int_equal(o.calls, 0);
    assert_string_equal(log, "");

    write_raw(f, "file", "x", 1);
    path_in(f, "file", path, sizeof(path));
    assert_int_equal(load_logged(path, &o, err, sizeof(err), log, sizeof(log)), -1);
    char expected[600];
    snprintf(expected, sizeof(expected), "cannot open %s: Not a directory", path);
    assert_string_equal(err, expected);
}

/* A writer killed at any moment leaves only sound snapshot files, and the
 * newest is taken without a warning. Each round kills a child that writes
 * 1 MB snapshots in a loop after a different delay, then checks. */
static void test_sigkill_leaves_only_sound_files(void **state)
{
    struct fixture *f = *state;
    size_t len = 1 << 20;
    uint8_t *payload = malloc(len);
    assert_non_null(payload);
    memset(payload, 0xa5, len);
    for (int round = 0; round < 20; round++) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            char err[256];
            for (int64_t t = T_2000 + round * 100000LL;; t++)
                if (snapshot_file_write(f->dir, t, payload, len, 3, err, sizeof(err)) != 0)
                    _exit(1);
        }
        nanosleep(&(struct timespec){.tv_nsec = 1000000L + round * 700000L}, NULL);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));

        DIR *d = opendir(f->dir);
        assert_non_null(d);
        struct dirent *entry;
        while ((entry = readdir(d))) {
            if (strncmp(entry->d_name, "snapshot-", 9) != 0)
                continue;
            char path[512], err[256];
            uint8_t *out;
            size_t out_len;
            path_in(f, entry->d_name, path, sizeof(path));
            if (snapshot_file_read(path, &out, &out_len, err, sizeof(err)) != 0)
                fail_msg("round %d: %s: %s", round, entry->d_name, err);
            assert_int_equal(out_len, len);
            free(out);
        }
        closedir(d);

        struct offers o = {0};
        char err[256], log[2048];
        int loaded = load_logged(f->dir, &o, err, sizeof(err), log, sizeof(log));
        assert_int_equal(loaded, o.calls);
        assert_string_equal(log, "");
    }
    free(payload);
}

static int group_setup(void **state)
{
    (void)state;
    log_set_format(LOG_FORMAT_PLAIN);
    log_set_level(LOG_LEVEL_WARN);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_newest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_never_removes_the_new_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_temporaries_and_strangers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_framed_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_falls_back_past_a_damaged_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_falls_back_past_a_refused_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_with_nothing_sound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_from_no_snapshots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigkill_leaves_only_sound_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
