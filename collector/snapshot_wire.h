/*
 * snapshot_wire: the small protobuf wire-format scanner that walks the
 * top-level fields of a serialised ingot.v1.Snapshot, so a reader can take
 * one Plant at a time instead of unpacking the whole message. Internal to
 * the snapshot_* family (snapshot.c defines it, snapshot_dump.c uses it);
 * the rest of the code reads snapshots through snapshot.h.
 */
#ifndef INGOT_SNAPSHOT_WIRE_H
#define INGOT_SNAPSHOT_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* The wire types proto3 writes. */
enum { WIRE_VARINT = 0, WIRE_64BIT = 1, WIRE_LEN = 2, WIRE_32BIT = 5 };

/* A buffer being scanned: buf[pos..len) is still to read. */
struct snapshot_wire {
    const uint8_t *buf;
    size_t len, pos;
};

/* One top-level field as it is on the wire. Its bytes, tag included, are
 * buf[offset..pos) of the scanner right after snapshot_wire_next. */
struct snapshot_wire_field {
    size_t offset; /* of its tag */
    uint32_t number;
    unsigned type;
    uint64_t varint;     /* WIRE_VARINT: the value */
    const uint8_t *data; /* WIRE_LEN: the payload; 64- and 32-bit: the bytes */
    size_t len;
};

/* The number of the Snapshot field called name (a name snapshot.proto
 * defines: names, like numbers, never change within v1). */
uint32_t snapshot_field_number(const char *name);

/* Reads the field at w->pos into *f and moves past it. Returns 1; 0 at the
 * end of the buffer; or -1 with err set when the field is malformed or
 * runs past the end. Every wire type proto3 writes is read; groups (wire
 * types 3 and 4, which proto3 cannot declare and protobuf-c cannot unpack)
 * are refused. */
int snapshot_wire_next(struct snapshot_wire *w, struct snapshot_wire_field *f, char *err,
                       size_t err_size);

#endif
