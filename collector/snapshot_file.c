/*
 * snapshot_file: the on-disk side of snapshots. Owns the file framing
 * (magic, length, CRC-32), the file names ("snapshot-YYYYMMDDTHHMMSS.mmmZ.pb"
 * and the temporary ".snapshot-YYYYMMDDTHHMMSS.mmmZ.pb.tmp", which never
 * matches the snapshot pattern), the atomic write, pruning to the newest
 * keep files, and picking the newest sound file on start. It knows nothing
 * of what a payload means.
 */
#include "snapshot_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "error_text.h"
#include "log.h"

#define MAGIC "INGOTSN1"
#define MAGIC_SIZE 8
#define HEADER_SIZE 20
/* Largest file read or written: a snapshot near this size is a bug. */
#define MAX_FILE_SIZE ((uint64_t)4 << 30)
#define MAX_PAYLOAD_SIZE (MAX_FILE_SIZE - HEADER_SIZE)

/* "snapshot-20240229T235959.123Z.pb": '#' stands for a digit. */
static const char name_shape[] = "snapshot-########T######.###Z.pb";
#define NAME_LEN (sizeof(name_shape) - 1)
#define NAME_SIZE (NAME_LEN + 1)
/* The temporary: "." name ".tmp". */
#define TMP_PREFIX "."
#define TMP_SUFFIX ".tmp"
#define TMP_LEN (sizeof(TMP_PREFIX) - 1 + NAME_LEN + sizeof(TMP_SUFFIX) - 1)
#define TMP_SIZE (TMP_LEN + 1)

/* Mode of new files: the state directory is private to the service. */
#define FILE_MODE 0640

/* Writes the snapshot name for taken_at_ms (Unix milliseconds, UTC) into
 * out (NAME_SIZE bytes). Returns 0, or -1 when the time has no four-digit
 * year. */
static int format_name(int64_t taken_at_ms, char *out)
{
    int64_t seconds = taken_at_ms / 1000;
    int64_t ms = taken_at_ms % 1000;
    if (ms < 0) {
        ms += 1000;
        seconds--;
    }
    time_t t = (time_t)seconds;
    struct tm tm;
    if ((int64_t)t != seconds || !gmtime_r(&t, &tm) || tm.tm_year < -1900 ||
        tm.tm_year > 9999 - 1900)
        return -1;
    int n = snprintf(out, NAME_SIZE, "snapshot-%04d%02d%02dT%02d%02d%02d.%03dZ.pb",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (int)ms);
    return n == (int)NAME_LEN ? 0 : -1;
}

/* The number spelt by the n digits at s. */
static int digits(const char *s, size_t n)
{
    int value = 0;
    for (size_t i = 0; i < n; i++)
        value = value * 10 + (s[i] - '0');
    return value;
}

/* The time a snapshot name was made from (is_snapshot_name(name) holds). */
static int64_t name_time_ms(const char *name)
{
    const char *stamp = name + strlen("snapshot-");
    struct tm tm = {
        .tm_year = digits(stamp, 4) - 1900,
        .tm_mon = digits(stamp + 4, 2) - 1,
        .tm_mday = digits(stamp + 6, 2),
        .tm_hour = digits(stamp + 9, 2),
        .tm_min = digits(stamp + 11, 2),
        .tm_sec = digits(stamp + 13, 2),
    };
    return (int64_t)timegm(&tm) * 1000 + digits(stamp + 16, 3);
}

/* True when name is exactly a snapshot name format_name could have made:
 * the right shape, and a real date and time (no month 13, no 25th hour). */
static bool is_snapshot_name(const char *name)
{
    if (strlen(name) != NAME_LEN)
        return false;
    for (size_t i = 0; i < NAME_LEN; i++) {
        bool ok = name_shape[i] == '#' ? name[i] >= '0' && name[i] <= '9'
                                       : name[i] == name_shape[i];
        if (!ok)
            return false;
    }
    /* timegm normalises out-of-range fields, so an impossible date comes
     * back as another name. */
    char again[NAME_SIZE];
    return format_name(name_time_ms(name), again) == 0 && strcmp(again, name) == 0;
}

/* True when name is exactly the temporary of some snapshot name. */
static bool is_tmp_name(const char *name)
{
    size_t prefix = sizeof(TMP_PREFIX) - 1;
    char inner[NAME_SIZE];
    if (strlen(name) != TMP_LEN || strncmp(name, TMP_PREFIX, prefix) != 0 ||
        strcmp(name + prefix + NAME_LEN, TMP_SUFFIX) != 0)
        return false;
    memcpy(inner, name + prefix, NAME_LEN);
    inner[NAME_LEN] = '\0';
    return is_snapshot_name(inner);
}

/* A growable array of snapshot or temporary names. */
struct name_list {
    char (*names)[TMP_SIZE];
    size_t count, capacity;
};

static int name_list_add(struct name_list *list, const char *name)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 16;
        char(*grown)[TMP_SIZE] = realloc(list->names, capacity * sizeof(*grown));
        if (!grown)
            return -1;
        list->names = grown;
        list->capacity = capacity;
    }
    snprintf(list->names[list->count++], TMP_SIZE, "%s", name);
    return 0;
}

static int newest_first(const void *a, const void *b)
{
    return strcmp(b, a);
}

/* Reads the directory open at dir_fd (which stays open) and collects its
 * snapshot names into snapshots, newest first, and, when temps is not NULL,
 * its temporary names into temps. Other names are ignored. Returns 0, or
 * -1 with errno set; the lists are the caller's to free either way. */
static int list_dir(int dir_fd, struct name_list *snapshots, struct name_list *temps)
{
    int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    int result = 0;
    for (;;) {
        errno = 0;
        struct dirent *entry = readdir(d);
        if (!entry) {
            result = errno ? -1 : 0;
            break;
        }
        if (is_snapshot_name(entry->d_name)) {
            if (name_list_add(snapshots, entry->d_name) != 0) {
                result = -1;
                break;
            }
        } else if (temps && is_tmp_name(entry->d_name)) {
            if (name_list_add(temps, entry->d_name) != 0) {
                result = -1;
                break;
            }
        }
    }
    int saved = errno;
    closedir(d);
    errno = saved;
    if (result == 0 && snapshots->count > 1)
        qsort(snapshots->names, snapshots->count, sizeof(*snapshots->names), newest_first);
    return result;
}

/* Removes the temporaries left by killed writers and the snapshots beyond
 * the newest keep, never the one just written (named written; NULL before
 * it is), even when a clock that went back makes it look older than the
 * rest. Best effort: a file that cannot be listed or removed now is tried
 * again by the next write. */
static void prune(int dir_fd, const char *written, unsigned keep)
{
    struct name_list snapshots = {0}, temps = {0};
    if (list_dir(dir_fd, &snapshots, &temps) == 0) {
        for (size_t i = 0; i < temps.count; i++)
            unlinkat(dir_fd, temps.names[i], 0);
        unsigned kept = written ? 1 : 0;
        for (size_t i = 0; i < snapshots.count; i++) {
            if (written && strcmp(snapshots.names[i], written) == 0)
                continue;
            if (kept < keep)
                kept++;
            else
                unlinkat(dir_fd, snapshots.names[i], 0);
        }
    }
    free(snapshots.names);
    free(temps.names);
}

/* Writes all len bytes of buf to fd, through short writes and EINTR.
 * Returns 0, or -1 with errno set. */
static int write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads up to len bytes from fd into buf, through short reads and EINTR,
 * stopping early only at end of file. Returns the bytes read, or -1 with
 * errno set. */
static ssize_t read_all(int fd, uint8_t *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = read(fd, buf + done, len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

static void put_le(uint8_t *out, uint64_t value, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++)
        out[i] = (uint8_t)(value >> (8 * i));
}

static uint64_t get_le(const uint8_t *in, size_t bytes)
{
    uint64_t value = 0;
    for (size_t i = 0; i < bytes; i++)
        value |= (uint64_t)in[i] << (8 * i);
    return value;
}

static uint32_t checksum(const uint8_t *payload, size_t len)
{
    return (uint32_t)crc32_z(0, payload, len);
}

/* Writes the framed payload as name in the directory open at dir_fd
 * (named dir in messages), through the temporary tmp: create (a stale one
 * is removed first), write, fsync, rename over name, fsync of dir. Returns
 * 0, or -1 with err set and the temporary removed. */
static int write_framed(int dir_fd, const char *dir, const char *name, const char *tmp,
                        const char *magic, const uint8_t *payload, size_t len, char *err,
                        size_t err_size)
{
    int result = -1, fd = -1;
    bool tmp_created = false;
    uint8_t header[HEADER_SIZE];
    memcpy(header, magic, MAGIC_SIZE);
    put_le(header + 8, len, 8);
    put_le(header + 16, checksum(payload, len), 4);

    /* A temporary of this very name left by a killed writer goes first, so
     * that O_EXCL gives a fresh file with our mode. */
    if (unlinkat(dir_fd, tmp, 0) != 0 && errno != ENOENT) {
        error_text(err, err_size, "cannot remove %s/%s: %s", dir, tmp, strerror(errno));
        goto out;
    }
    fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, FILE_MODE);
    if (fd < 0) {
        error_text(err, err_size, "cannot create %s/%s: %s", dir, tmp, strerror(errno));
        goto out;
    }
    tmp_created = true;
    if (write_all(fd, header, sizeof(header)) != 0 || write_all(fd, payload, len) != 0) {
        error_text(err, err_size, "cannot write %s/%s: %s", dir, tmp, strerror(errno));
        goto out;
    }
    if (fsync(fd) != 0) {
        error_text(err, err_size, "cannot sync %s/%s: %s", dir, tmp, strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        error_text(err, err_size, "cannot close %s/%s: %s", dir, tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (renameat(dir_fd, tmp, dir_fd, name) != 0) {
        error_text(err, err_size, "cannot rename %s/%s to %s: %s", dir, tmp, name,
                strerror(errno));
        goto out;
    }
    tmp_created = false;
    if (fsync(dir_fd) != 0) {
        error_text(err, err_size, "cannot sync directory %s: %s", dir, strerror(errno));
        goto out;
    }
    result = 0;
out:
    if (fd >= 0)
        close(fd);
    if (tmp_created)
        unlinkat(dir_fd, tmp, 0);
    return result;
}

int64_t snapshot_file_newest_ms(const char *dir)
{
    int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0)
        return 0;
    struct name_list snapshots = {0};
    int64_t newest = 0;
    if (list_dir(dir_fd, &snapshots, NULL) == 0 && snapshots.count > 0)
        newest = name_time_ms(snapshots.names[0]);
    free(snapshots.names);
    close(dir_fd);
    return newest;
}

int snapshot_file_write(const char *dir, int64_t taken_at_ms, const uint8_t *payload,
                        size_t len, unsigned keep, char *err, size_t err_size)
{
    char name[NAME_SIZE], tmp[TMP_SIZE];
    if (keep < 1) {
        error_text(err, err_size, "keep must be at least 1");
        return -1;
    }
    if ((uint64_t)len > MAX_PAYLOAD_SIZE) {
        error_text(err, err_size, "snapshot too large: %zu bytes (the limit is %" PRIu64 ")", len,
                MAX_PAYLOAD_SIZE);
        return -1;
    }
    int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) {
        error_text(err, err_size, "cannot open %s: %s", dir, strerror(errno));
        return -1;
    }
    if (format_name(taken_at_ms, name) != 0) {
        error_text(err, err_size, "snapshot time %" PRId64 " ms is out of range", taken_at_ms);
        close(dir_fd);
        return -1;
    }
    snprintf(tmp, sizeof(tmp), TMP_PREFIX "%s" TMP_SUFFIX, name);

    /* Room first: old snapshots beyond keep - 1 (but never the last one)
     * go before the new one is renamed in, so a writer killed at any moment,
     * however often, leaves at most keep files, or two when keep is 1. */
    prune(dir_fd, NULL, keep > 1 ? keep - 1 : 1);
    int result = write_framed(dir_fd, dir, name, tmp, MAGIC, payload, len, err, err_size);
    if (result == 0)
        prune(dir_fd, name, keep);
    close(dir_fd);
    return result;
}

int snapshot_file_write_framed(const char *dir, const char *name, const char *magic,
                               const uint8_t *payload, size_t len, char *err, size_t err_size)
{
    if (strlen(magic) != MAGIC_SIZE || !name[0] || strchr(name, '/') || name[0] == '.') {
        error_text(err, err_size, "invalid file name or magic");
        return -1;
    }
    if ((uint64_t)len > MAX_PAYLOAD_SIZE) {
        error_text(err, err_size, "payload too large: %zu bytes (the limit is %" PRIu64 ")", len,
                MAX_PAYLOAD_SIZE);
        return -1;
    }
    char *tmp = NULL;
    if (asprintf(&tmp, TMP_PREFIX "%s" TMP_SUFFIX, name) < 0) {
        error_text(err, err_size, "%s", strerror(ENOMEM));
        return -1;
    }
    int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int result = -1;
    if (dir_fd < 0) {
        error_text(err, err_size, "cannot open %s: %s", dir, strerror(errno));
    } else {
        result = write_framed(dir_fd, dir, name, tmp, magic, payload, len, err, err_size);
        close(dir_fd);
    }
    free(tmp);
    return result;
}

int snapshot_file_read(const char *path, uint8_t **payload, size_t *len, char *err,
                       size_t err_size)
{
    return snapshot_file_read_framed(path, MAGIC, "snapshot", payload, len, err, err_size);
}

int snapshot_file_read_framed(const char *path, const char *magic, const char *what,
                              uint8_t **payload, size_t *len, char *err, size_t err_size)
{
    *payload = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error_text(err, err_size, "cannot open: %s", strerror(errno));
        return -1;
    }
    int result = -1;
    uint8_t *buf = NULL;
    struct stat st;
    uint8_t header[HEADER_SIZE];
    if (fstat(fd, &st) != 0) {
        error_text(err, err_size, "cannot stat: %s", strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        error_text(err, err_size, "not a regular file");
        goto out;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size == 0) {
        error_text(err, err_size, "empty file");
        goto out;
    }
    if (size > MAX_FILE_SIZE) {
        error_text(err, err_size, "too large: %" PRIu64 " bytes (the limit is %" PRIu64 ")", size,
                MAX_FILE_SIZE);
        goto out;
    }
    if (size < HEADER_SIZE) {
        error_text(err, err_size, "too short for a %s header", what);
        goto out;
    }
    ssize_t got = read_all(fd, header, HEADER_SIZE);
    if (got < 0) {
        error_text(err, err_size, "cannot read: %s", strerror(errno));
        goto out;
    }
    if (got < HEADER_SIZE) { /* shrank since fstat */
        error_text(err, err_size, "too short for a %s header", what);
        goto out;
    }
    if (strlen(magic) != MAGIC_SIZE || memcmp(header, magic, MAGIC_SIZE) != 0) {
        error_text(err, err_size, "not a %s file (bad magic)", what);
        goto out;
    }
    uint64_t declared = get_le(header + 8, 8);
    uint64_t present = size - HEADER_SIZE;
    if (present < declared) {
        error_text(err, err_size, "truncated: %" PRIu64 " of %" PRIu64 " payload bytes", present,
                declared);
        goto out;
    }
    if (present > declared) {
        error_text(err, err_size, "%" PRIu64 " trailing bytes after the payload",
                present - declared);
        goto out;
    }
    /* declared <= MAX_PAYLOAD_SIZE now, which fits in a size_t. */
    if (declared > 0) {
        buf = malloc((size_t)declared);
        if (!buf) {
            error_text(err, err_size, "cannot read: %s", strerror(ENOMEM));
            goto out;
        }
        got = read_all(fd, buf, (size_t)declared);
        if (got < 0) {
            error_text(err, err_size, "cannot read: %s", strerror(errno));
            goto out;
        }
        if ((uint64_t)got < declared) { /* shrank since fstat */
            error_text(err, err_size, "truncated: %zd of %" PRIu64 " payload bytes", got,
                    declared);
            goto out;
        }
    }
    if (checksum(buf, (size_t)declared) != (uint32_t)get_le(header + 16, 4)) {
        error_text(err, err_size, "checksum mismatch");
        goto out;
    }
    *payload = buf;
    *len = (size_t)declared;
    buf = NULL;
    result = 0;
out:
    free(buf);
    close(fd);
    return result;
}

int snapshot_file_load_newest(const char *dir, snapshot_file_accept_fn accept, void *arg,
                              char *err, size_t err_size)
{
    int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) {
        if (errno == ENOENT)
            return 0;
        error_text(err, err_size, "cannot open %s: %s", dir, strerror(errno));
        return -1;
    }
    struct name_list snapshots = {0};
    int listed = list_dir(dir_fd, &snapshots, NULL);
    int saved = errno;
    close(dir_fd);
    if (listed != 0) {
        error_text(err, err_size, "cannot list %s: %s", dir, strerror(saved));
        free(snapshots.names);
        return -1;
    }
    size_t path_size = strlen(dir) + 1 + NAME_SIZE;
    char *path = malloc(path_size);
    if (!path) {
        error_text(err, err_size, "cannot list %s: %s", dir, strerror(ENOMEM));
        free(snapshots.names);
        return -1;
    }
    int taken = 0;
    for (size_t i = 0; i < snapshots.count && !taken; i++) {
        snprintf(path, path_size, "%s/%s", dir, snapshots.names[i]);
        char reason[256] = "";
        uint8_t *payload;
        size_t len;
        if (snapshot_file_read(path, &payload, &len, reason, sizeof(reason)) == 0) {
            taken = accept(arg, path, payload, len, reason, sizeof(reason)) == 0;
            if (!taken && !reason[0])
                snprintf(reason, sizeof(reason), "rejected");
            free(payload);
        }
        if (!taken)
            log_warn("snapshot %s skipped: %s", path, reason);
    }
    free(path);
    free(snapshots.names);
    return taken;
}
