/*
 * feed_csv: the CSV feed format, on libcsv. libcsv reports cells and row
 * ends but no positions, so the document is fed to it one line at a time
 * and the line count is kept here. One parser reads the document twice: a
 * checking pass that calls no sink, then the pass that hands rows on.
 */
#include "feed_csv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "number.h"

/* What a header column means: the three text columns, then the quantities
 * in record_field order. */
enum csv_role { CSV_ROLE_PLANT, CSV_ROLE_METAL, CSV_ROLE_PERIOD, CSV_ROLE_TEXT_COUNT };
#define CSV_ROLE_COUNT (CSV_ROLE_TEXT_COUNT + RECORD_FIELD_COUNT)
#define CSV_NO_COLUMN ((size_t)-1)

static const char *const text_columns[CSV_ROLE_TEXT_COUNT] = {
    [CSV_ROLE_PLANT] = "plant",
    [CSV_ROLE_METAL] = "metal",
    [CSV_ROLE_PERIOD] = "period",
};

/* The state of one pass over the document, shared with libcsv's callbacks. */
struct csv_pass {
    const struct feed_sink *sink; /* NULL in the checking pass */
    char *text;                   /* the row's text cells; NULL in the checking pass */
    size_t text_used;             /* bytes of text the row has used so far */
    size_t text_need;             /* the most any row used */
    unsigned long line;           /* the line being fed to libcsv */
    unsigned long row_line;       /* the line the row in progress starts on; 0 between rows */
    unsigned long cell_line;      /* the line the cell in progress starts on */
    int have_header;
    size_t header_cells;
    size_t column[CSV_ROLE_COUNT]; /* each role's header column, or CSV_NO_COLUMN */
    size_t cell;                   /* index of the row's cell in progress */
    const char *texts[CSV_ROLE_TEXT_COUNT];
    struct feed_raw_record record; /* the row so far */
    char problem[80];
    int failed;
    char *err;
    size_t err_size;
};

static void pass_init(struct csv_pass *ps, const struct feed_sink *sink, char *text, char *err,
                      size_t err_size)
{
    *ps = (struct csv_pass){.sink = sink, .text = text, .err = err, .err_size = err_size};
    for (int role = 0; role < CSV_ROLE_COUNT; role++)
        ps->column[role] = CSV_NO_COLUMN;
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

static const char *role_name(int role)
{
    return role < CSV_ROLE_TEXT_COUNT ? text_columns[role]
                                      : record_field_names[role - CSV_ROLE_TEXT_COUNT];
}

/* The role a header cell names, or -1 for an unknown column. */
static int role_named(const char *s, size_t n)
{
    for (int role = 0; role < CSV_ROLE_COUNT; role++) {
        const char *name = role_name(role);
        if (strlen(name) == n && memcmp(name, s, n) == 0)
            return role;
    }
    return -1;
}

/* The role of a data cell's column, or -1 for a column not used. */
static int role_at(const struct csv_pass *ps, size_t col)
{
    for (int role = 0; role < CSV_ROLE_COUNT; role++) {
        if (ps->column[role] == col)
            return role;
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

static void header_cell(struct csv_pass *ps, size_t col, const char *s, size_t n)
{
    int role = role_named(s, n);
    if (role < 0)
        return;
    if (ps->column[role] != CSV_NO_COLUMN) {
        csv_fail(ps, "line %lu: header names column \"%s\" twice", ps->row_line,
                 role_name(role));
        return;
    }
    ps->column[role] = col;
}

/* libcsv's cell callback: data/n is the unquoted cell. */
static void cell_cb(void *data, size_t n, void *arg)
{
    struct csv_pass *ps = arg;
    const char *s = data;
    size_t col = ps->cell++;
    /* The next cell starts right after this one's comma, on this line. */
    ps->cell_line = ps->line;
    trim(&s, &n);
    if (!ps->have_header) {
        header_cell(ps, col, s, n);
        return;
    }
    int role = role_at(ps, col);
    if (role < 0)
        return;
    if (role < CSV_ROLE_TEXT_COUNT) {
        ps->texts[role] = keep_text(ps, s, n);
        return;
    }
    struct feed_value *v = &ps->record.fields[role - CSV_ROLE_TEXT_COUNT];
    if (n > 0)
        v->state = number_parse(s, n, &v->value) == 0 ? FEED_VALUE_PRESENT : FEED_VALUE_INVALID;
}

static void end_header(struct csv_pass *ps)
{
    ps->have_header = 1;
    ps->header_cells = ps->cell;
    for (int role = 0; role < CSV_ROLE_TEXT_COUNT; role++) {
        if (ps->column[role] == CSV_NO_COLUMN) {
            csv_fail(ps, "line %lu: header lacks column \"%s\"", ps->row_line,
                     text_columns[role]);
            return;
        }
    }
}

static void end_record(struct csv_pass *ps)
{
    if (ps->sink == NULL)
        return;
    ps->record.plant = ps->texts[CSV_ROLE_PLANT];
    ps->record.metal = ps->texts[CSV_ROLE_METAL];
    ps->record.period = ps->texts[CSV_ROLE_PERIOD];
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
    for (int role = 0; role < CSV_ROLE_TEXT_COUNT; role++)
        ps->texts[role] = NULL;
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

/* Whether libcsv skips the line between rows: only spaces and line ends. */
static int is_blank_line(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_space(p[i]) && p[i] != '\n' && p[i] != '\r')
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
        if (ps->row_line == 0 && !is_blank_line(p, n))
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

int feed_csv_parse(const char *buf, size_t len, const struct feed_sink *sink, char *err,
                   size_t err_size)
{
    static const char bom[3] = "\xEF\xBB\xBF";
    if (len >= sizeof(bom) && memcmp(buf, bom, sizeof(bom)) == 0) {
        buf += sizeof(bom);
        len -= sizeof(bom);
    }

    struct csv_parser parser;
    csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI); /* fails only for a NULL parser */
    struct csv_pass check;
    pass_init(&check, NULL, NULL, err, err_size);
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
        pass_init(&emit, sink, text, err, err_size);
        rc = csv_run(&emit, &parser, buf, len);
    }
    free(text);
    csv_free(&parser);
    return rc;
}
