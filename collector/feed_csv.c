/*
 * feed_csv: the CSV feed formats, native and mapped, on libcsv. Both are one
 * reader driven by a layout: where each field of a record comes from (a
 * header column, a constant, or nowhere), the delimiter, the number
 * spelling and each quantity's unit. The native format is the layout whose
 * columns are named like the fields; a mapping gives another. libcsv
 * reports cells and row ends but no positions, so the document is fed to
 * it one line at a time and the line count is kept here. One parser reads
 * the document twice: a checking pass that calls no sink, then the pass
 * that hands rows on.
 */
#include "feed_csv.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "number.h"

/* A record's fields are the mapping's slots: plant, metal and period (the
 * text fields), then the quantities in record_field order. */
#define CSV_TEXT_COUNT MAPPING_QUANTITY
#define CSV_NO_COLUMN ((size_t)-1)

static const char *const text_columns[CSV_TEXT_COUNT] = {
    [MAPPING_PLANT] = "plant",
    [MAPPING_METAL] = "metal",
    [MAPPING_PERIOD] = "period",
};

/* Where each field comes from, and how its cells are read. */
struct csv_layout {
    char delimiter;
    bool decimal_comma;                       /* number_parse_decimal_comma */
    const char *column[MAPPING_SLOT_COUNT];   /* its header name, or NULL */
    bool required[MAPPING_SLOT_COUNT];        /* the header must name it */
    const char *constant[MAPPING_SLOT_COUNT]; /* plant and metal: a fixed value */
    double scale[MAPPING_SLOT_COUNT];         /* quantities: into ingot's unit */
};

/* The native format: every field a column named like it, plant, metal and
 * period required. */
static void native_layout(struct csv_layout *layout)
{
    *layout = (struct csv_layout){.delimiter = ','};
    for (int slot = 0; slot < MAPPING_SLOT_COUNT; slot++) {
        layout->column[slot] = slot < CSV_TEXT_COUNT ? text_columns[slot]
                                                     : record_field_names[slot - CSV_TEXT_COUNT];
        layout->required[slot] = slot < CSV_TEXT_COUNT;
        layout->scale[slot] = 1;
    }
}

/* A mapping's layout: each mapped column required, constants as given. */
static void mapped_layout(struct csv_layout *layout, const struct config_mapping *mapping)
{
    *layout = (struct csv_layout){.delimiter = mapping->delimiter,
                                  .decimal_comma = mapping->decimal_comma};
    for (int slot = 0; slot < MAPPING_SLOT_COUNT; slot++) {
        const struct config_mapping_field *f = &mapping->fields[slot];
        if (f->source == MAPPING_COLUMN) {
            layout->column[slot] = f->text;
            layout->required[slot] = true;
        } else if (f->source == MAPPING_VALUE && slot < CSV_TEXT_COUNT) {
            layout->constant[slot] = f->text;
        }
        layout->scale[slot] = f->scale;
    }
}

/* The state of one pass over the document, shared with libcsv's callbacks. */
struct csv_pass {
    const struct csv_layout *layout;
    const struct feed_sink *sink; /* NULL in the checking pass */
    char *text;                   /* the row's text cells; NULL in the checking pass */
    size_t text_used;             /* bytes of text the row has used so far */
    size_t text_need;             /* the most any row used */
    unsigned long line;           /* the line being fed to libcsv */
    unsigned long row_line;       /* the line the row in progress starts on; 0 between rows */
    unsigned long cell_line;      /* the line the cell in progress starts on */
    int have_header;
    size_t header_cells;
    size_t column[MAPPING_SLOT_COUNT]; /* each field's header column, or CSV_NO_COLUMN */
    size_t cell;                       /* index of the row's cell in progress */
    const char *texts[CSV_TEXT_COUNT];
    struct feed_raw_record record; /* the row so far */
    char problem[80];
    int failed;
    char *err;
    size_t err_size;
};

static void pass_init(struct csv_pass *ps, const struct csv_layout *layout,
                      const struct feed_sink *sink, char *text, char *err, size_t err_size)
{
    *ps = (struct csv_pass){
        .layout = layout, .sink = sink, .text = text, .err = err, .err_size = err_size,
    };
    for (int slot = 0; slot < MAPPING_SLOT_COUNT; slot++)
        ps->column[slot] = CSV_NO_COLUMN;
}

/* Fails the document; only the first failure is kept. Returns -1. */
static int csv_fail(struct csv_pass *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int csv_fail(struct csv_pass *ps, const char *fmt, ...)
{
    if (!ps->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->err, ps->err_size, fmt, ap);
        va_end(ap);
        ps->failed = 1;
    }
    return -1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Narrows s/n to the cell without surrounding spaces and tabs. */
static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_space((*s)[0])) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_space((*s)[*n - 1]))
        (*n)--;
}

static bool column_is(const char *name, const char *s, size_t n)
{
    return name != NULL && strlen(name) == n && memcmp(name, s, n) == 0;
}

/* Keeps a text cell until the row ends, NUL-terminated, since libcsv
 * reuses its buffer for the next cell. The checking pass only counts the
 * bytes. Returns the copy, or NULL for an empty cell or when checking. */
static const char *keep_text(struct csv_pass *ps, const char *s, size_t n)
{
    if (n == 0)
        return NULL;
    char *copy = ps->text != NULL ? ps->text + ps->text_used : NULL;
    ps->text_used += n + 1;
    if (copy != NULL) {
        memcpy(copy, s, n);
        copy[n] = '\0';
    }
    return copy;
}

/* A header cell: the column of every field the layout names so. */
static void header_cell(struct csv_pass *ps, size_t col, const char *s, size_t n)
{
    for (int slot = 0; slot < MAPPING_SLOT_COUNT; slot++) {
        if (!column_is(ps->layout->column[slot], s, n))
            continue;
        if (ps->column[slot] != CSV_NO_COLUMN) {
            csv_fail(ps, "line %lu: header names column \"%s\" twice", ps->row_line,
                     ps->layout->column[slot]);
            return;
        }
        ps->column[slot] = col;
    }
}

/* A quantity cell, trimmed: ABSENT when empty, else a number in the
 * layout's spelling, scaled into ingot's unit. */
static struct feed_value quantity(const struct csv_layout *layout, int slot, const char *s,
                                  size_t n)
{
    struct feed_value v = {.state = FEED_VALUE_ABSENT};
    if (n == 0)
        return v;
    int rc = layout->decimal_comma ? number_parse_decimal_comma(s, n, &v.value)
                                   : number_parse(s, n, &v.value);
    v.state = rc == 0 ? FEED_VALUE_PRESENT : FEED_VALUE_INVALID;
    feed_value_scale(&v, layout->scale[slot]);
    return v;
}

/* libcsv's cell callback: data/n is the unquoted cell. */
static void cell_cb(void *data, size_t n, void *arg)
{
    struct csv_pass *ps = arg;
    const char *s = data;
    size_t col = ps->cell++;
    /* The next cell starts right after this one's delimiter, on this line. */
    ps->cell_line = ps->line;
    trim(&s, &n);
    if (!ps->have_header) {
        header_cell(ps, col, s, n);
        return;
    }
    for (int slot = 0; slot < MAPPING_SLOT_COUNT; slot++) {
        if (ps->column[slot] != col)
            continue;
        if (slot < CSV_TEXT_COUNT)
            ps->texts[slot] = keep_text(ps, s, n);
        else
            ps->record.fields[slot - CSV_TEXT_COUNT] = quantity(ps->layout, slot, s, n);
    }
}

static void end_header(struct csv_pass *ps)
{
    ps->have_header = 1;
    ps->header_cells = ps->cell;
    for (int slot = 0; slot < MAPPING_SLOT_COUNT; slot++) {
        if (ps->layout->required[slot] && ps->column[slot] == CSV_NO_COLUMN) {
            csv_fail(ps, "line %lu: header lacks column \"%s\"", ps->row_line,
                     ps->layout->column[slot]);
            return;
        }
    }
}

/* A text field of the row: its cell, or the layout's constant. */
static const char *row_text(const struct csv_pass *ps, int slot)
{
    return ps->layout->constant[slot] != NULL ? ps->layout->constant[slot] : ps->texts[slot];
}

static void end_record(struct csv_pass *ps)
{
    if (ps->sink == NULL)
        return;
    ps->record.plant = row_text(ps, MAPPING_PLANT);
    ps->record.metal = row_text(ps, MAPPING_METAL);
    ps->record.period = row_text(ps, MAPPING_PERIOD);
    ps->record.line = ps->row_line;
    if (ps->cell != ps->header_cells) {
        snprintf(ps->problem, sizeof(ps->problem), "row has %zu cell%s, header has %zu",
                 ps->cell, ps->cell == 1 ? "" : "s", ps->header_cells);
        ps->record.problem = ps->problem;
    }
    ps->sink->record(ps->sink->ctx, &ps->record);
}

/* libcsv's row callback. */
static void row_cb(int terminator, void *arg)
{
    (void)terminator;
    struct csv_pass *ps = arg;
    if (ps->have_header)
        end_record(ps);
    else
        end_header(ps);
    if (ps->text_used > ps->text_need)
        ps->text_need = ps->text_used;
    ps->text_used = 0;
    ps->cell = 0;
    ps->row_line = 0;
    for (int slot = 0; slot < CSV_TEXT_COUNT; slot++)
        ps->texts[slot] = NULL;
    ps->record = (struct feed_raw_record){0}; /* every field ABSENT */
}

/* Length of the line at p: through its LF, CRLF or lone CR, or to end. */
static size_t line_length(const char *p, const char *end)
{
    const char *q = p;
    while (q < end && *q != '\n' && *q != '\r')
        q++;
    if (q < end) {
        if (*q == '\r' && q + 1 < end && q[1] == '\n')
            q++;
        q++;
    }
    return (size_t)(q - p);
}

/* Whether libcsv skips the line between rows: only spaces and line ends
 * (a tab or space delimiter is not a space: it ends a cell). */
static int is_blank_line(const char *p, size_t n, char delimiter)
{
    for (size_t i = 0; i < n; i++) {
        if ((!is_space(p[i]) || p[i] == delimiter) && p[i] != '\n' && p[i] != '\r')
            return 0;
    }
    return 1;
}

/* One pass over the document. Returns 0, or -1 with the error written. */
static int csv_run(struct csv_pass *ps, struct csv_parser *parser, const char *buf, size_t len)
{
    const char *p = buf;
    const char *end = len ? buf + len : buf; /* buf may be NULL when len is 0 */
    for (ps->line = 1; p < end && !ps->failed; ps->line++) {
        size_t n = line_length(p, end);
        const char *nul = memchr(p, '\0', n);
        if (nul != NULL)
            return csv_fail(ps, "line %lu, column %zu: NUL byte", ps->line,
                            (size_t)(nul - p) + 1);
        /* A line starts a row unless libcsv will skip it. */
        if (ps->row_line == 0 && !is_blank_line(p, n, ps->layout->delimiter))
            ps->row_line = ps->cell_line = ps->line;
        size_t used = csv_parse(parser, p, n, cell_cb, row_cb, ps);
        if (used < n)
            return csv_fail(ps, "line %lu, column %zu: %s", ps->line, used + 1,
                            csv_strerror(csv_error(parser)));
        p += n;
    }
    if (!ps->failed && csv_fini(parser, cell_cb, row_cb, ps) != 0)
        csv_fail(ps, "line %lu: unterminated quoted field", ps->cell_line);
    if (!ps->failed && !ps->have_header)
        csv_fail(ps, "empty document");
    return ps->failed ? -1 : 0;
}

/* Reads the document with the given layout: see feed_csv.h. */
static int parse_layout(const char *buf, size_t len, const struct csv_layout *layout,
                        const struct feed_sink *sink, char *err, size_t err_size)
{
    static const char bom[3] = "\xEF\xBB\xBF";
    if (len >= sizeof(bom) && memcmp(buf, bom, sizeof(bom)) == 0) {
        buf += sizeof(bom);
        len -= sizeof(bom);
    }

    struct csv_parser parser;
    csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI); /* fails only for a NULL parser */
    csv_set_delim(&parser, (unsigned char)layout->delimiter);
    struct csv_pass check;
    pass_init(&check, layout, NULL, NULL, err, err_size);
    int rc = csv_run(&check, &parser, buf, len);
    char *text = NULL;
    if (rc == 0) {
        text = malloc(check.text_need + 1);
        if (text == NULL)
            rc = csv_fail(&check, "out of memory");
    }
    if (rc == 0) {
        /* Cannot fail: the same bytes again, and libcsv's buffer already
         * fits the largest cell, so nothing is allocated. */
        struct csv_pass emit;
        pass_init(&emit, layout, sink, text, err, err_size);
        rc = csv_run(&emit, &parser, buf, len);
    }
    free(text);
    csv_free(&parser);
    return rc;
}

int feed_csv_parse(const char *buf, size_t len, const struct feed_sink *sink, char *err,
                   size_t err_size)
{
    struct csv_layout layout;
    native_layout(&layout);
    return parse_layout(buf, len, &layout, sink, err, err_size);
}

int feed_csv_parse_mapped(const char *buf, size_t len, const struct config_mapping *mapping,
                          const struct feed_sink *sink, char *err, size_t err_size)
{
    struct csv_layout layout;
    mapped_layout(&layout, mapping);
    return parse_layout(buf, len, &layout, sink, err, err_size);
}
