/*
 * snapshot_dump: getting a snapshot payload from a file, stdin or a URL,
 * checking it, and writing it as JSON or text (the formats are described in
 * snapshot_dump.h). A payload is checked with snapshot_read first; then the
 * small top-level fields (metals, targets, national, feeds) are copied out
 * of it and unpacked together, and the plants are taken one at a time with
 * snapshot.c's wire scanner (snapshot_wire.h), like snapshot_read does.
 * JSON is built with jansson, one value at a time, driven by the generated
 * descriptors: the .proto alone decides the keys and their order. Nothing
 * here logs; failures go to the caller's err buffer.
 */
#include "snapshot_dump.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error_text.h"
#include "civil_time.h"
#include "ingot/v1/snapshot.pb-c.h"
#include "snapshot_file.h"
#include "snapshot_wire.h"

/* The first bytes of a snapshot file (snapshot_file.h). */
#define FILE_MAGIC "INGOTSN1"
#define FILE_MAGIC_SIZE 8


/* ------------------------------------------------------------------ */
/* Loading                                                             */

int snapshot_dump_is_url(const char *source)
{
    return strncasecmp(source, "http://", 7) == 0 || strncasecmp(source, "https://", 8) == 0;
}

/* Bytes read so far, at most limit of them. */
struct input {
    uint8_t *buf;
    size_t len, cap;
    uint64_t limit;
    bool too_large, out_of_memory;
};

/* Appends the n bytes at p. 0, or -1 (too_large or out_of_memory set). */
static int input_add(struct input *in, const void *p, size_t n)
{
    if (n > SIZE_MAX - in->len || in->len + n > in->limit) {
        in->too_large = true;
        return -1;
    }
    if (in->len + n > in->cap) {
        size_t cap = in->cap ? in->cap : 65536;
        while (cap < in->len + n)
            cap = cap <= SIZE_MAX / 2 ? cap * 2 : in->len + n;
        uint8_t *grown = realloc(in->buf, cap);
        if (!grown) {
            in->out_of_memory = true;
            return -1;
        }
        in->buf = grown;
        in->cap = cap;
    }
    memcpy(in->buf + in->len, p, n);
    in->len += n;
    return 0;
}

/* Why input_add failed. Returns -1. */
static int input_fail(const struct input *in, char *err, size_t err_size)
{
    if (in->too_large)
        return error_text(err, err_size, "too large: more than %" PRIu64 " bytes", in->limit);
    return error_text(err, err_size, "out of memory");
}

/* Reads fd to its end into in. 0, or -1 with err set. */
static int read_fd(int fd, struct input *in, char *err, size_t err_size)
{
    uint8_t chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return error_text(err, err_size, "cannot read: %s", strerror(errno));
        if (n == 0)
            return 0;
        if (input_add(in, chunk, (size_t)n) != 0)
            return input_fail(in, err, err_size);
    }
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    (void)size; /* always 1 */
    return input_add(arg, data, n) == 0 ? n : 0;
}

/* GETs url into in. 0, or -1 with err set: a transfer error, a body over
 * in->limit, or a status outside 2xx. */
static int fetch_url(const char *url, struct input *in, char *err, size_t err_size)
{
    char curl_err[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = NULL;
    CURL *e = NULL;
    int rc = -1;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return error_text(err, err_size, "cannot initialise libcurl");
    if (!(headers = curl_slist_append(NULL, "Accept: application/x-protobuf")) ||
        !(e = curl_easy_init())) {
        error_text(err, err_size, "out of memory");
        goto done;
    }
    if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)SNAPSHOT_DUMP_URL_TIMEOUT_S) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_USERAGENT, "ingotctl/" INGOT_VERSION) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)in->limit) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEDATA, in) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, curl_err) != CURLE_OK) {
        error_text(err, err_size, "cannot set up libcurl");
        goto done;
    }
    CURLcode res = curl_easy_perform(e);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (in->too_large || res == CURLE_FILESIZE_EXCEEDED)
        error_text(err, err_size, "body larger than %" PRIu64 " bytes", in->limit);
    else if (in->out_of_memory)
        error_text(err, err_size, "out of memory");
    else if (res != CURLE_OK)
        error_text(err, err_size, "cannot fetch: %s", curl_err[0] ? curl_err : curl_easy_strerror(res));
    else if (status < 200 || status > 299)
        error_text(err, err_size, "HTTP %ld", status);
    else
        rc = 0;
done:
    curl_easy_cleanup(e);
    curl_slist_free_all(headers);
    curl_global_cleanup();
    return rc;
}

/* Unwraps a snapshot file held in memory. snapshot_file_read reads paths,
 * so the bytes go to an anonymous memory file first. */
static int unframe(const struct input *in, uint8_t **payload, size_t *len, char *err,
                   size_t err_size)
{
    int fd = memfd_create("ingot-snapshot", MFD_CLOEXEC);
    if (fd < 0)
        return error_text(err, err_size, "cannot hold the snapshot file: %s", strerror(errno));
    for (size_t done = 0; done < in->len;) {
        ssize_t n = write(fd, in->buf + done, in->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            error_text(err, err_size, "cannot hold the snapshot file: %s", strerror(errno));
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    int rc = snapshot_file_read(path, payload, len, err, err_size);
    close(fd);
    return rc;
}

/* Opens path: a snapshot file goes through snapshot_file_read (*framed
 * set); anything else is read into in. 0, or -1 with err set. */
static int read_path(const char *path, struct input *in, bool *framed, uint8_t **payload,
                     size_t *len, char *err, size_t err_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return error_text(err, err_size, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        error_text(err, err_size, "cannot stat: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (S_ISREG(st.st_mode)) {
        uint8_t head[FILE_MAGIC_SIZE];
        ssize_t n = pread(fd, head, sizeof(head), 0);
        if (n == 0 || (n == FILE_MAGIC_SIZE && memcmp(head, FILE_MAGIC, FILE_MAGIC_SIZE) == 0)) {
            close(fd);
            *framed = true;
            return snapshot_file_read(path, payload, len, err, err_size);
        }
        if ((uint64_t)st.st_size > in->limit) {
            error_text(err, err_size, "too large: %" PRIu64 " bytes (the limit is %" PRIu64 ")",
                 (uint64_t)st.st_size, in->limit);
            close(fd);
            return -1;
        }
    }
    int rc = read_fd(fd, in, err, err_size);
    close(fd);
    return rc;
}

int snapshot_dump_load(const char *source, uint8_t **payload, size_t *len, char *err,
                       size_t err_size)
{
    struct input in = {.limit = SNAPSHOT_DUMP_MAX_FILE_BYTES};
    bool framed = false;
    const char *what = "input";
    int rc;

    *payload = NULL;
    *len = 0;
    if (snapshot_dump_is_url(source)) {
        in.limit = SNAPSHOT_DUMP_MAX_URL_BYTES;
        what = "body";
        rc = fetch_url(source, &in, err, err_size);
    } else if (strcmp(source, "-") == 0) {
        rc = read_fd(STDIN_FILENO, &in, err, err_size);
    } else {
        rc = read_path(source, &in, &framed, payload, len, err, err_size);
        if (framed)
            return rc;
    }
    if (rc == 0) {
        if (in.len == 0) {
            rc = error_text(err, err_size, "empty %s", what);
        } else if (in.len >= FILE_MAGIC_SIZE && memcmp(in.buf, FILE_MAGIC, FILE_MAGIC_SIZE) == 0) {
            rc = unframe(&in, payload, len, err, err_size);
        } else {
            *payload = in.buf;
            *len = in.len;
            return 0;
        }
    }
    free(in.buf);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Checking                                                            */

static void ignore_plant(void *ctx, const struct feed_plant_attrs *attrs)
{
    (void)ctx;
    (void)attrs;
}

static void ignore_record(void *ctx, const struct feed_raw_record *record)
{
    (void)ctx;
    (void)record;
}

int snapshot_dump_verify(const uint8_t *payload, size_t len, struct snapshot_info *info,
                         char *err, size_t err_size)
{
    const struct feed_sink sink = {.plant = ignore_plant, .record = ignore_record};
    return snapshot_read(payload, len, &sink, info, err, err_size);
}

/* ------------------------------------------------------------------ */
/* Taking a checked payload apart                                      */

/* One dump in progress. */
struct dump {
    FILE *out;
    const Ingot__V1__Snapshot *top; /* every field but the plants */
    struct snapshot_info info;
    size_t payload_len;
    bool first;         /* JSON: no plant written yet */
    bool out_of_memory; /* set where it happened */
    bool write_failed;
};

/* Every top-level field of a checked payload but the plants, unpacked
 * together (release with ingot__v1__snapshot__free_unpacked). NULL when
 * memory ran out. */
static Ingot__V1__Snapshot *unpack_top(const uint8_t *buf, size_t len)
{
    const uint32_t plants = snapshot_field_number("plants");
    struct snapshot_wire w = {buf, len, 0};
    struct snapshot_wire_field f;
    char err[160];
    size_t size = 0;
    while (snapshot_wire_next(&w, &f, err, sizeof(err)) > 0)
        if (f.number != plants)
            size += w.pos - f.offset;
    uint8_t *rest = malloc(size ? size : 1);
    if (!rest)
        return NULL;
    /* Concatenated fields are one message, whatever their order. */
    size = 0;
    w.pos = 0;
    while (snapshot_wire_next(&w, &f, err, sizeof(err)) > 0) {
        if (f.number != plants) {
            memcpy(rest + size, buf + f.offset, w.pos - f.offset);
            size += w.pos - f.offset;
        }
    }
    Ingot__V1__Snapshot *top = ingot__v1__snapshot__unpack(NULL, size, rest);
    free(rest); /* it unpacked in the check: NULL is out of memory */
    return top;
}

typedef int (*plant_fn)(struct dump *d, const Ingot__V1__Plant *plant);

/* Calls fn with each plant of a checked payload, in order, unpacking one at
 * a time. 0, or -1 when memory ran out or fn returned -1. */
static int each_plant(struct dump *d, const uint8_t *buf, size_t len, plant_fn fn)
{
    const uint32_t plants = snapshot_field_number("plants");
    struct snapshot_wire w = {buf, len, 0};
    struct snapshot_wire_field f;
    char err[160];
    while (snapshot_wire_next(&w, &f, err, sizeof(err)) > 0) {
        if (f.number != plants)
            continue;
        Ingot__V1__Plant *p = ingot__v1__plant__unpack(NULL, f.len, f.data);
        if (!p) { /* it unpacked in the check */
            d->out_of_memory = true;
            return -1;
        }
        int rc = fn(d, p);
        ingot__v1__plant__free_unpacked(p, NULL);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */

static json_t *message_json(const ProtobufCMessage *m, bool *oom);

/* s as a JSON string; bytes that are not UTF-8 (a foreign snapshot's
 * strings are not checked) become U+FFFD. NULL only when memory ran out. */
static json_t *string_json(const char *s, bool *oom)
{
    json_t *v = json_string(s);
    if (!v) {
        size_t n = strlen(s);
        char *clean = n <= (SIZE_MAX - 1) / 3 ? malloc(3 * n + 1) : NULL;
        if (clean) {
            size_t k = 0;
            for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p < 0x80) {
                    clean[k++] = (char)*p;
                } else {
                    memcpy(clean + k, "\xEF\xBF\xBD", 3);
                    k += 3;
                }
            }
            clean[k] = '\0';
            v = json_string(clean);
            free(clean);
        }
    }
    if (!v)
        *oom = true;
    return v;
}

/* The JSON of the value of type fd->type at p (a singular member, or one
 * element of a repeated one). NULL when it has no JSON form (a NaN or
 * infinite double, bytes, which ingot.v1 has none of) or memory ran out
 * (*oom set). */
static json_t *value_json(const ProtobufCFieldDescriptor *fd, const void *p, bool *oom)
{
    json_t *v = NULL;
    double real;
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        v = json_integer(*(const int32_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        v = json_integer(*(const uint32_t *)p);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        v = json_integer(*(const int64_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (*(const uint64_t *)p <= (uint64_t)LLONG_MAX)
            v = json_integer((json_int_t) * (const uint64_t *)p);
        else
            v = json_real((double)*(const uint64_t *)p);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
    case PROTOBUF_C_TYPE_FLOAT:
        real = fd->type == PROTOBUF_C_TYPE_DOUBLE ? *(const double *)p : *(const float *)p;
        if (!isfinite(real))
            return NULL;
        v = json_real(real);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        v = json_boolean(*(const protobuf_c_boolean *)p);
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value(fd->descriptor, *(const int *)p);
        v = ev ? json_string(ev->name) : json_integer(*(const int *)p);
        break;
    }
    case PROTOBUF_C_TYPE_STRING:
        return string_json(*(char *const *)p, oom);
    case PROTOBUF_C_TYPE_MESSAGE:
        return message_json(*(ProtobufCMessage *const *)p, oom);
    default:
        return NULL;
    }
    if (!v)
        *oom = true;
    return v;
}

/* The size of one element of a repeated field of type t. */
static size_t element_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    default: /* strings and messages: pointers */
        return sizeof(void *);
    }
}

/* True when the singular field fd of m is set. */
static bool field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
    const char *base = (const char *)m;
    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(base + fd->quantifier_offset) == fd->id;
    if (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE)
        return *(void *const *)(base + fd->offset) != NULL;
    if (fd->label == PROTOBUF_C_LABEL_OPTIONAL)
        return *(const protobuf_c_boolean *)(base + fd->quantifier_offset);
    return true;
}

/* The JSON of field fd of m: an array for a repeated field (empty or not),
 * the value for a set singular field, NULL for an unset one or when memory
 * ran out (*oom set). */
static json_t *field_json(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd,
                          bool *oom)
{
    const char *base = (const char *)m;
    if (fd->label != PROTOBUF_C_LABEL_REPEATED)
        return field_present(m, fd) ? value_json(fd, base + fd->offset, oom) : NULL;
    json_t *array = json_array();
    if (!array) {
        *oom = true;
        return NULL;
    }
    size_t n = *(const size_t *)(base + fd->quantifier_offset);
    const char *elements = *(const char *const *)(base + fd->offset);
    size_t size = element_size(fd->type);
    for (size_t i = 0; i < n && !*oom; i++) {
        json_t *v = value_json(fd, elements + i * size, oom);
        if (v && json_array_append_new(array, v) != 0)
            *oom = true;
    }
    if (*oom) {
        json_decref(array);
        return NULL;
    }
    return array;
}

/* m as a JSON object: its fields in field-number order (protobuf-c's
 * descriptors list them so), by their .proto names. NULL when memory ran
 * out (*oom set). */
static json_t *message_json(const ProtobufCMessage *m, bool *oom)
{
    const ProtobufCMessageDescriptor *desc = m->descriptor;
    json_t *object = json_object();
    if (!object) {
        *oom = true;
        return NULL;
    }
    for (unsigned i = 0; i < desc->n_fields && !*oom; i++) {
        json_t *v = field_json(m, &desc->fields[i], oom);
        if (v && json_object_set_new(object, desc->fields[i].name, v) != 0)
            *oom = true;
    }
    if (*oom) {
        json_decref(object);
        return NULL;
    }
    return object;
}

/* json_dump_callback's writer: the text goes to out with indent more spaces
 * after every line break, so a value dumped on its own nests in the
 * document around it. JSON strings hold no raw newline: every '\n' jansson
 * writes is a line break. */
struct json_writer {
    FILE *out;
    int indent;
};

static int json_write_cb(const char *buf, size_t size, void *arg)
{
    const struct json_writer *jw = arg;
    while (size > 0) {
        const char *nl = memchr(buf, '\n', size);
        size_t n = nl ? (size_t)(nl - buf) + 1 : size;
        if (fwrite(buf, 1, n, jw->out) != n)
            return -1;
        if (nl && fprintf(jw->out, "%*s", jw->indent, "") < 0)
            return -1;
        buf += n;
        size -= n;
    }
    return 0;
}

/* 17 significant digits: every double parses back to itself. */
#define JSON_FLAGS \
    (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17))

/* Writes v (consumed; NULL when building it ran out of memory) at indent.
 * 0, or -1 with d's flags set. */
static int json_write(struct dump *d, json_t *v, int indent)
{
    if (!v) {
        d->out_of_memory = true;
        return -1;
    }
    struct json_writer jw = {d->out, indent};
    int rc = json_dump_callback(v, json_write_cb, &jw, JSON_FLAGS);
    json_decref(v);
    if (rc != 0)
        d->write_failed = true;
    return rc;
}

static int json_plant(struct dump *d, const Ingot__V1__Plant *plant)
{
    if (fputs(d->first ? "\n    " : ",\n    ", d->out) < 0) {
        d->write_failed = true;
        return -1;
    }
    d->first = false;
    return json_write(d, message_json(&plant->base, &d->out_of_memory), 4);
}

/* The whole snapshot as one JSON object, the plants streamed in their
 * place. */
static int dump_json(struct dump *d, const uint8_t *buf, size_t len)
{
    const ProtobufCMessageDescriptor *desc = &ingot__v1__snapshot__descriptor;
    const uint32_t plants = snapshot_field_number("plants");
    const char *sep = "{";
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &desc->fields[i];
        if (fd->id == plants) {
            fprintf(d->out, "%s\n  \"%s\": [", sep, fd->name);
            d->first = true;
            if (each_plant(d, buf, len, json_plant) != 0)
                return -1;
            fputs(d->first ? "]" : "\n  ]", d->out);
        } else {
            json_t *v = field_json(&d->top->base, fd, &d->out_of_memory);
            if (d->out_of_memory)
                return -1;
            if (!v)
                continue;
            fprintf(d->out, "%s\n  \"%s\": ", sep, fd->name);
            if (json_write(d, v, 2) != 0)
                return -1;
        }
        sep = ",";
    }
    fputs("\n}\n", d->out);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Text                                                                */

enum { NUM = 48, NAME = 160 };

/* s for a terminal: control bytes become '?', and a long s is cut with
 * "...". NULL gives "-". Returns buf (of NAME bytes). */
static const char *clean(const char *s, char *buf)
{
    if (!s)
        return "-";
    size_t k = 0;
    for (; *s && k < NAME - 1; s++)
        buf[k++] = (unsigned char)*s < 0x20 || *s == 0x7F ? '?' : *s;
    if (*s)
        memcpy(buf + NAME - 4, "...", 3);
    buf[k] = '\0';
    return buf;
}

/* v for people: digits grouped by commas and no decimals from 1,000 on
 * ("136,236"), else 4 significant digits ("0.95", "4.3", "7"); "-" when
 * has is false. Returns buf (of NUM bytes). */
static const char *num(protobuf_c_boolean has, double v, char *buf)
{
    if (!has)
        return "-";
    if (!isfinite(v) || fabs(v) < 1000 || fabs(v) >= 1e18) {
        snprintf(buf, NUM, "%.4g", v);
        return buf;
    }
    char digits[NUM];
    int n = snprintf(digits, sizeof(digits), "%.0f", fabs(v));
    size_t k = 0;
    if (v < 0)
        buf[k++] = '-';
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[k++] = ',';
        buf[k++] = digits[i];
    }
    buf[k] = '\0';
    return buf;
}

/* A ratio as a percentage ("48.7 %", or "+5.2 %" when signed); "-" when
 * has is false. Returns buf (of NUM bytes). */
static const char *percent(protobuf_c_boolean has, double v, bool sign, char *buf)
{
    if (!has)
        return "-";
    snprintf(buf, NUM, sign ? "%+.1f %%" : "%.1f %%", v * 100);
    return buf;
}

/* Unix milliseconds as "2025-07-15T12:00:00.123Z". Returns buf (of NUM
 * bytes). */
static const char *time_ms(int64_t ms, char *buf)
{
    int64_t s = ms / 1000, frac = ms % 1000;
    if (frac < 0) {
        s -= 1;
        frac += 1000;
    }
    char t[32]; /* "YYYY-MM-DDTHH:MM:SSZ" and room to spare */
    civil_format_rfc3339(s, t, sizeof(t));
    t[strlen(t) - 1] = '\0'; /* the Z */
    snprintf(buf, NUM, "%.31s.%03dZ", t, (int)(frac % 1000));
    return buf;
}

static const Ingot__V1__TargetYear *target_year(const Ingot__V1__Targets *t, int year)
{
    for (size_t i = 0; t && i < t->n_years; i++)
        if (t->years[i]->has_year && t->years[i]->year == year)
            return t->years[i];
    return NULL;
}

static const Ingot__V1__Initiative *target_initiative(const Ingot__V1__Targets *t,
                                                      const char *name)
{
    for (size_t i = 0; t && name && i < t->n_initiatives; i++)
        if (t->initiatives[i]->name && strcmp(t->initiatives[i]->name, name) == 0)
            return t->initiatives[i];
    return NULL;
}

/* Which of a national year's double fields a line of the year block shows,
 * with the same figure of a benchmark. */
enum measure { OUTPUT, CO2, ENERGY, RECYCLING };

/* "  co2 intensity t/t   0.95   target 0.9   global_leader_avg 1.2". */
static void text_measure(struct dump *d, const Ingot__V1__NationalYear *y, enum measure m)
{
    static const char *const labels[] = {
        [OUTPUT] = "output vs baseline", [CO2] = "co2 intensity t/t",
        [ENERGY] = "energy intensity MWh/t", [RECYCLING] = "waste recycled",
    };
    const Ingot__V1__Targets *t = d->top->targets;
    protobuf_c_boolean has = 0, has_target = 0;
    double v = 0, target = 0;
    switch (m) {
    case OUTPUT:
        has = y->has_output_vs_baseline, v = y->output_vs_baseline;
        has_target = y->has_target_output_vs_baseline, target = y->target_output_vs_baseline;
        break;
    case CO2:
        has = y->has_co2_intensity_tonnes_per_tonne, v = y->co2_intensity_tonnes_per_tonne;
        has_target = y->has_target_co2_intensity_tonnes_per_tonne;
        target = y->target_co2_intensity_tonnes_per_tonne;
        break;
    case ENERGY:
        has = y->has_energy_intensity_mwh_per_tonne, v = y->energy_intensity_mwh_per_tonne;
        has_target = y->has_target_energy_intensity_mwh_per_tonne;
        target = y->target_energy_intensity_mwh_per_tonne;
        break;
    case RECYCLING:
        has = y->has_waste_recycling_ratio, v = y->waste_recycling_ratio;
        has_target = y->has_target_waste_recycling_ratio;
        target = y->target_waste_recycling_ratio;
        break;
    }
    char a[NUM], b[NUM], n[NAME];
    fprintf(d->out, "  %-24s %10s", labels[m],
            m == RECYCLING ? percent(has, v, false, a) : num(has, v, a));
    if (has_target)
        fprintf(d->out, "   target %s",
                m == RECYCLING ? percent(1, target, false, b) : num(1, target, b));
    for (size_t i = 0; m != OUTPUT && t && i < t->n_benchmarks; i++) {
        const Ingot__V1__Benchmark *bm = t->benchmarks[i];
        if (m == CO2 && bm->has_co2_intensity_tonnes_per_tonne)
            fprintf(d->out, "   %s %s", clean(bm->name, n),
                    num(1, bm->co2_intensity_tonnes_per_tonne, b));
        else if (m == ENERGY && bm->has_energy_intensity_mwh_per_tonne)
            fprintf(d->out, "   %s %s", clean(bm->name, n),
                    num(1, bm->energy_intensity_mwh_per_tonne, b));
        else if (m == RECYCLING && bm->has_waste_recycling_ratio)
            fprintf(d->out, "   %s %s", clean(bm->name, n),
                    percent(1, bm->waste_recycling_ratio, false, b));
    }
    fputc('\n', d->out);
}

#define METAL_ROW "  %-12s %14s %14s %9s %9s %14s %14s\n"

static void text_year(struct dump *d, const Ingot__V1__NationalYear *y)
{
    const Ingot__V1__National *n = d->top->national;
    const Ingot__V1__Targets *t = d->top->targets;
    const char *roles[4];
    size_t n_roles = 0;
    if (n->has_current_year && y->year == n->current_year)
        roles[n_roles++] = "current year";
    if (n->has_current_year && y->year == n->current_year - 1)
        roles[n_roles++] = "previous year";
    if (t && t->has_baseline_year && y->year == t->baseline_year)
        roles[n_roles++] = "baseline year";
    if (target_year(t, y->year))
        roles[n_roles++] = "target year";
    fprintf(d->out, "\n%d", y->year);
    for (size_t i = 0; i < n_roles; i++)
        fprintf(d->out, "%s%s", i ? ", " : " (", roles[i]);
    fputs(n_roles ? ")\n" : "\n", d->out);

    fprintf(d->out, METAL_ROW, "metal", "production t", "target t", "progress", "growth",
            "target growth", "projected t");
    for (size_t i = 0; i < y->n_metals; i++) {
        const Ingot__V1__MetalYear *m = y->metals[i];
        char name[NAME], a[NUM], b[NUM], c[NUM], e[NUM], f[NUM], g[NUM];
        fprintf(d->out, METAL_ROW, clean(m->metal, name),
                num(m->has_production_tonnes, m->production_tonnes, a),
                num(m->has_target_production_tonnes, m->target_production_tonnes, b),
                percent(m->has_target_progress_ratio, m->target_progress_ratio, false, c),
                percent(m->has_growth_ratio, m->growth_ratio, true, e),
                percent(m->has_target_growth_ratio, m->target_growth_ratio, true, f),
                num(m->has_projected_tonnes, m->projected_tonnes, g));
    }
    for (enum measure m = OUTPUT; m <= RECYCLING; m++)
        text_measure(d, y, m);
}

#define INITIATIVE_ROW "  %-23s %-24s %8s %8s %8s  %-10s  %s\n"

static void text_initiatives(struct dump *d)
{
    const Ingot__V1__National *n = d->top->national;
    if (n->n_initiatives == 0)
        return;
    fprintf(d->out, "\ninitiatives\n" INITIATIVE_ROW, "initiative", "measure", "value", "target",
            "progress", "deadline", "on track");
    for (size_t i = 0; i < n->n_initiatives; i++) {
        const Ingot__V1__InitiativeStatus *s = n->initiatives[i];
        const Ingot__V1__Initiative *in = target_initiative(d->top->targets, s->name);
        char name[NAME], measure[NAME], deadline[NAME], a[NUM], b[NUM], c[NUM];
        fprintf(d->out, INITIATIVE_ROW, clean(s->name, name),
                clean(in ? in->measure : NULL, measure), num(s->has_value, s->value, a),
                num(in && in->has_target, in ? in->target : 0, b),
                percent(s->has_progress_ratio, s->progress_ratio, false, c),
                clean(in ? in->deadline_date : NULL, deadline),
                !s->has_on_track ? "-" : s->on_track ? "yes" : "no");
    }
}

static void text_national(struct dump *d)
{
    const Ingot__V1__National *n = d->top->national;
    if (!n) {
        fputs("NATIONAL\n  none: this snapshot was taken without an evaluation\n", d->out);
        return;
    }
    char when[NUM] = "-";
    if (n->has_evaluated_at_unix_s)
        civil_format_rfc3339(n->evaluated_at_unix_s, when, sizeof(when));
    fprintf(d->out, "NATIONAL, evaluated at %s\n", when);
    for (size_t i = 0; i < n->n_years; i++)
        text_year(d, n->years[i]);
    text_initiatives(d);
}

#define FEED_ROW "  %-18s %-3s %-24s %9s %6s %6s %8s %8s %8s\n"

static void text_feeds(struct dump *d)
{
    const Ingot__V1__Snapshot *s = d->top;
    fprintf(d->out, "\nFEEDS (%zu)\n", s->n_feeds);
    if (s->n_feeds == 0)
        return;
    fprintf(d->out, FEED_ROW, "feed", "up", "last success", "last fetch", "ok", "errors",
            "accepted", "changed", "rejected");
    for (size_t i = 0; i < s->n_feeds; i++) {
        const Ingot__V1__FeedStatus *f = s->feeds[i];
        char name[NAME], when[NUM] = "-", took[NUM] = "-", ok[NUM] = "-", errors[NUM] = "-",
             accepted[NUM] = "-", changed[NUM] = "-", rejected[NUM];
        uint64_t total = 0;
        for (size_t r = 0; r < f->n_records_rejected; r++)
            total += f->records_rejected[r]->records;
        if (f->has_last_success_unix_ms)
            time_ms(f->last_success_unix_ms, when);
        if (f->has_last_duration_seconds)
            snprintf(took, sizeof(took), "%.3f s", f->last_duration_seconds);
        if (f->has_fetches_ok)
            snprintf(ok, sizeof(ok), "%" PRIu64, f->fetches_ok);
        if (f->has_fetches_error)
            snprintf(errors, sizeof(errors), "%" PRIu64, f->fetches_error);
        if (f->has_records_accepted)
            snprintf(accepted, sizeof(accepted), "%" PRIu64, f->records_accepted);
        if (f->has_records_changed)
            snprintf(changed, sizeof(changed), "%" PRIu64, f->records_changed);
        snprintf(rejected, sizeof(rejected), "%" PRIu64, total);
        fprintf(d->out, FEED_ROW, clean(f->name, name),
                !f->has_up ? "-" : f->up ? "yes" : "no", when, took, ok, errors, accepted,
                changed, rejected);
        const char *sep = "      rejected: ";
        for (size_t r = 0; r < f->n_records_rejected; r++) {
            const Ingot__V1__RejectedCount *rc = f->records_rejected[r];
            if (rc->records == 0)
                continue;
            fprintf(d->out, "%s%s %" PRIu64, sep, clean(rc->reason, name), rc->records);
            sep = ", ";
        }
        if (*sep == ',')
            fputc('\n', d->out);
    }
}

/* "  kz-a: Balkhash copper smelter, Karaganda; capacity 250,000 t/year; ..."
 * then one line per metal: its record count and the periods they span. */
static int text_plant(struct dump *d, const Ingot__V1__Plant *p)
{
    char a[NAME], b[NUM];
    fprintf(d->out, "  %s", clean(p->id, a));
    if (p->name)
        fprintf(d->out, ": %s", clean(p->name, a));
    if (p->region)
        fprintf(d->out, "%s%s", p->name ? ", " : ": ", clean(p->region, a));
    const char *sep = p->name || p->region ? "; " : ": ";
    if (p->has_capacity_tonnes_per_year) {
        fprintf(d->out, "%scapacity %s t/year", sep, num(1, p->capacity_tonnes_per_year, b));
        sep = "; ";
    }
    if (p->has_green_operational) {
        fprintf(d->out, "%s%s", sep,
                p->green_operational ? "green operational" : "not green operational");
        sep = "; ";
    }
    if (p->has_workers_certified)
        fprintf(d->out, "%s%s workers certified", sep, num(1, p->workers_certified, b));
    fputc('\n', d->out);
    for (size_t s = 0; s < p->n_series; s++) {
        const Ingot__V1__Series *series = p->series[s];
        const char *first = NULL, *last = NULL;
        for (size_t r = 0; r < series->n_records; r++) {
            const char *period = series->records[r]->period;
            if (!first || strcmp(period, first) < 0)
                first = period;
            if (!last || strcmp(period, last) > 0)
                last = period;
        }
        char c[NAME], e[NAME];
        fprintf(d->out, "    %-12s %8zu record%s", clean(series->metal, a), series->n_records,
                series->n_records == 1 ? " " : "s");
        if (first && strcmp(first, last) != 0)
            fprintf(d->out, "  %s..%s", clean(first, c), clean(last, e));
        else if (first)
            fprintf(d->out, "  %s", clean(first, c));
        fputc('\n', d->out);
    }
    return ferror(d->out) ? -1 : 0;
}

static void text_snapshot(struct dump *d)
{
    const Ingot__V1__Snapshot *s = d->top;
    char a[NAME], b[NAME], when[NUM];
    fprintf(d->out, "\nSNAPSHOT\n");
    fprintf(d->out, "  taken at       %s\n", time_ms(s->taken_at_unix_ms, when));
    fprintf(d->out, "  written by     ingot %s (revision %s)\n", clean(s->ingot_version, a),
            clean(s->ingot_revision, b));
    fprintf(d->out, "  metals         ");
    for (size_t i = 0; i < s->n_metals; i++)
        fprintf(d->out, "%s%s", i ? ", " : "", clean(s->metals[i], a));
    fprintf(d->out, "%s\n", s->n_metals ? "" : "-");
    if (s->targets && s->targets->has_baseline_year)
        fprintf(d->out, "  baseline year  %d\n", s->targets->baseline_year);
    fprintf(d->out, "  size           %zu bytes, %" PRIu64 " plants, %" PRIu64 " records\n",
            d->payload_len, d->info.plants, d->info.records);
}

static int dump_text(struct dump *d, const uint8_t *buf, size_t len)
{
    text_national(d);
    text_feeds(d);
    fprintf(d->out, "\nPLANTS (%" PRIu64 " plants, %" PRIu64 " records)\n", d->info.plants,
            d->info.records);
    if (each_plant(d, buf, len, text_plant) != 0)
        return -1;
    text_snapshot(d);
    return 0;
}

int snapshot_dump(const uint8_t *payload, size_t len, enum snapshot_dump_format format,
                  FILE *out, char *err, size_t err_size)
{
    struct dump d = {.out = out, .payload_len = len};
    if (snapshot_dump_verify(payload, len, &d.info, err, err_size) != 0)
        return -1;
    Ingot__V1__Snapshot *top = unpack_top(payload, len);
    if (!top)
        return error_text(err, err_size, "out of memory");
    d.top = top;
    errno = 0; /* a failed write leaves its reason */
    int rc = format == SNAPSHOT_DUMP_JSON ? dump_json(&d, payload, len)
                                          : dump_text(&d, payload, len);
    ingot__v1__snapshot__free_unpacked(top, NULL);
    if (fflush(out) != 0 || ferror(out) || d.write_failed)
        return error_text(err, err_size, "write error: %s", strerror(errno ? errno : EIO));
    if (rc != 0 || d.out_of_memory)
        return error_text(err, err_size, "out of memory");
    return 0;
}
