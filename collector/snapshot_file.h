/*
 * snapshot_file: snapshot files in the state directory. A file is a framed
 * payload (a serialised Snapshot):
 *
 *     offset 0   8 bytes  magic "INGOTSN1"
 *     offset 8   8 bytes  payload length, little-endian
 *     offset 16  4 bytes  CRC-32 (zlib) of the payload, little-endian
 *     offset 20  payload
 *
 * so a truncated, extended or corrupted file is told from a sound one
 * without decoding it. Files are named "snapshot-YYYYMMDDTHHMMSS.mmmZ.pb"
 * after the time the snapshot was taken (UTC), so names sort by age. They
 * are written atomically: a temporary file, fsync, rename over, fsync of
 * the directory. Other files of state_dir (remote write's pending queues)
 * use the same framing and atomic write with a magic and a name of their
 * own: snapshot_file_write_framed and snapshot_file_read_framed.
 */
#ifndef INGOT_SNAPSHOT_FILE_H
#define INGOT_SNAPSHOT_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Writes payload (len bytes, borrowed; NULL when len is 0) as the snapshot
 * taken at taken_at_ms (Unix milliseconds; a year 0000..9999) into dir,
 * which must exist: to ".snapshot-....pb.tmp", which no snapshot name
 * matches, then fsync, rename over "snapshot-....pb" (a snapshot of the same
 * millisecond is replaced), fsync of dir. Files are created 0640. Names
 * decide which snapshot is the newest: a writer that must survive a clock
 * that went back names its next snapshot after snapshot_file_newest_ms.
 * Best effort (what fails is tried again by the next write), it removes
 * temporaries left by a killed writer and old snapshot files: before the
 * new one is written, all but the newest keep - 1 (at least one stays);
 * after, all beyond the newest keep (keep >= 1). So a writer killed at any
 * moment, however often, leaves at most max(keep, 2) snapshot files. The
 * file just written is never removed, even when a clock that went back
 * makes it look older than the others. Returns 0, or -1 with err set: the
 * temporary is removed, the newest keep - 1 previous snapshots (at least
 * one) are untouched, and when only the final fsync of dir failed the new
 * file may already be in place. A payload above 4 GiB is
 * refused. Blocking: call it off the event loop. */
int snapshot_file_write(const char *dir, int64_t taken_at_ms, const uint8_t *payload,
                        size_t len, unsigned keep, char *err, size_t err_size);

/* The time (Unix ms) the newest snapshot file in dir is named after, or 0
 * when there is none or dir cannot be read. */
int64_t snapshot_file_newest_ms(const char *dir);

/* Reads the file at path and checks its framing. Returns 0 and the payload
 * in *payload (release with free; NULL when len is 0) and *len, or -1 with
 * *payload NULL, *len 0 and err saying why, without the path: "empty file",
 * "too short for a snapshot header", "not a snapshot file (bad magic)",
 * "truncated: 100 of 2048 payload bytes", "5 trailing bytes after the
 * payload", "checksum mismatch", "not a regular file", "too large: ...",
 * "cannot open: <strerror>", ... Files above 4 GiB are refused unread. */
int snapshot_file_read(const char *path, uint8_t **payload, size_t *len, char *err,
                       size_t err_size);

/* Writes payload framed as above but with its own 8-character magic (say
 * "INGOTRW1") as the file name (no "/", not starting with ".") in dir,
 * atomically through ".NAME.tmp" like snapshot_file_write, replacing an
 * existing file; nothing is pruned. Returns 0, or -1 with err set. */
int snapshot_file_write_framed(const char *dir, const char *name, const char *magic,
                               const uint8_t *payload, size_t len, char *err, size_t err_size);

/* snapshot_file_read for a file framed with magic; what names the kind of
 * file in the errors ("not a WHAT file (bad magic)", "too short for a WHAT
 * header"). snapshot_file_read is this with "INGOTSN1" and "snapshot". */
int snapshot_file_read_framed(const char *path, const char *magic, const char *what,
                              uint8_t **payload, size_t *len, char *err, size_t err_size);

/* Called with each candidate's path and payload (both borrowed for the
 * call), newest first; returns 0 to take it or -1 with err set to go on to
 * the next older one. */
typedef int (*snapshot_file_accept_fn)(void *arg, const char *path, const uint8_t *payload,
                                       size_t len, char *err, size_t err_size);

/* Offers the snapshot files of dir to accept, newest first (by name, that
 * is by the time taken), until one is taken. Each file that fails (framing
 * or accept) is logged at warning level as "snapshot PATH skipped: REASON".
 * Returns 1 when one was taken, 0 when there is none (dir missing or empty
 * counts as none), -1 with err set when dir cannot be read. Files that are
 * not named exactly like snapshots, temporaries included, are ignored. */
int snapshot_file_load_newest(const char *dir, snapshot_file_accept_fn accept, void *arg,
                              char *err, size_t err_size);

#endif
