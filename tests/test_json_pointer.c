/*
 * test_json_pointer: RFC 6901 pointers: decoding (~0, ~1 and their order),
 * array indices, malformed pointers, and the prefix lengths messages use.
 * Resolution against documents is tested through feed_mapped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "json_pointer.h"

static void assert_token(const struct json_pointer_token *t, const char *name, size_t len,
                         long long index)
{
    assert_int_equal(t->len, len);
    assert_memory_equal(t->name, name, len);
    assert_int_equal(t->name[len], '\0');
    assert_int_equal(t->index, index);
}

static void test_root_and_empty_tokens(void **state)
{
    (void)state;
    struct json_pointer p;
    assert_int_equal(json_pointer_parse("", &p), 0);
    assert_int_equal(p.n, 0);
    json_pointer_free(&p);

    /* "/" is the member "" of the root, "//" the member "" of that. */
    assert_int_equal(json_pointer_parse("/", &p), 0);
    assert_int_equal(p.n, 1);
    assert_token(&p.tokens[0], "", 0, -1);
    json_pointer_free(&p);
    assert_int_equal(json_pointer_parse("//", &p), 0);
    assert_int_equal(p.n, 2);
    assert_token(&p.tokens[1], "", 0, -1);
    json_pointer_free(&p);
}

/* The examples of RFC 6901 section 5, token by token. */
static void test_rfc_examples(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *name;
        size_t len;
    } cases[] = {
        {"/foo", "foo", 3}, {"/a~1b", "a/b", 3}, {"/c%d", "c%d", 3}, {"/e^f", "e^f", 3},
        {"/g|h", "g|h", 3}, {"/i\\j", "i\\j", 3}, {"/k\"l", "k\"l", 3}, {"/ ", " ", 1},
        {"/m~0n", "m~n", 3},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct json_pointer p;
        assert_int_equal(json_pointer_parse(cases[i].text, &p), 0);
        assert_int_equal(p.n, 1);
        assert_token(&p.tokens[0], cases[i].name, cases[i].len, -1);
        assert_true(json_pointer_token_is_key(&p.tokens[0], (const unsigned char *)cases[i].name,
                                              cases[i].len));
        json_pointer_free(&p);
    }
}

/* ~01 is "~1" (not "/"): ~1 is decoded before ~0 would make a new one. */
static void test_escape_order(void **state)
{
    (void)state;
    struct json_pointer p;
    assert_int_equal(json_pointer_parse("/~01/~10/~0~1~1~0/a~1~1b", &p), 0);
    assert_int_equal(p.n, 4);
    assert_token(&p.tokens[0], "~1", 2, -1);
    assert_token(&p.tokens[1], "/0", 2, -1);
    assert_token(&p.tokens[2], "~//~", 4, -1);
    assert_token(&p.tokens[3], "a//b", 4, -1);
    assert_string_equal(p.text, "/~01/~10/~0~1~1~0/a~1~1b");
    json_pointer_free(&p);
}

static void test_array_indices(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        long long index;
    } cases[] = {
        {"/0", 0},
        {"/7", 7},
        {"/10", 10},
        {"/4611686018427387903", 4611686018427387903LL}, /* 2^62 - 1 */
        {"/4611686018427387904", -1},                    /* 2^62: too large */
        {"/99999999999999999999999", -1},
        /* Far past any 64-bit integer (found by fuzz_mapped: an overflow). */
        {"/2222222222222222222222222222222222222222222222222222222222222222222222222222", -1},
        {"/01", -1},
        {"/00", -1},
        {"/-", -1},
        {"/+1", -1},
        {"/-1", -1},
        {"/1e0", -1},
        {"/1.0", -1},
        {"/ 1", -1},
        {"/x", -1},
        {"/", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct json_pointer p;
        assert_int_equal(json_pointer_parse(cases[i].text, &p), 0);
        assert_int_equal(p.tokens[0].index, cases[i].index);
        if (cases[i].index >= 0) {
            assert_true(json_pointer_token_is_index(&p.tokens[0], (size_t)cases[i].index));
            assert_false(json_pointer_token_is_index(&p.tokens[0], (size_t)cases[i].index + 1));
        }
        /* A token that is an index is also a member name. */
        const char *name = cases[i].text + 1;
        assert_true(json_pointer_token_is_key(&p.tokens[0], (const unsigned char *)name,
                                              strlen(name)));
        json_pointer_free(&p);
    }
}

static void test_keys_match_exactly(void **state)
{
    (void)state;
    struct json_pointer p;
    assert_int_equal(json_pointer_parse("/rows", &p), 0);
    const struct json_pointer_token *t = &p.tokens[0];
    assert_true(json_pointer_token_is_key(t, (const unsigned char *)"rows", 4));
    assert_false(json_pointer_token_is_key(t, (const unsigned char *)"Rows", 4));
    assert_false(json_pointer_token_is_key(t, (const unsigned char *)"rows ", 5));
    assert_false(json_pointer_token_is_key(t, (const unsigned char *)"row", 3));
    /* A key holding a NUL never matches a token, which cannot hold one. */
    assert_false(json_pointer_token_is_key(t, (const unsigned char *)"rows\0", 5));
    assert_false(json_pointer_token_is_index(t, 0));
    json_pointer_free(&p);
}

static void test_malformed(void **state)
{
    (void)state;
    static const char *const cases[] = {"rows", " /rows", "#/rows", "/a~", "/a~2", "/~",
                                        "/a/~x/b", "/~~0"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct json_pointer p;
        assert_int_equal(json_pointer_parse(cases[i], &p), -1);
        assert_int_equal(p.n, 0);
        assert_null(p.tokens);
        json_pointer_free(&p); /* harmless on a failed parse */
    }
}

static void test_prefix_len(void **state)
{
    (void)state;
    struct json_pointer p;
    assert_int_equal(json_pointer_parse("/a~1b/c//0", &p), 0);
    assert_int_equal(p.n, 4);
    assert_int_equal(json_pointer_prefix_len(&p, 0), 0);
    assert_int_equal(json_pointer_prefix_len(&p, 1), 5);  /* "/a~1b" */
    assert_int_equal(json_pointer_prefix_len(&p, 2), 7);  /* "/a~1b/c" */
    assert_int_equal(json_pointer_prefix_len(&p, 3), 8);  /* "/a~1b/c/" */
    assert_int_equal(json_pointer_prefix_len(&p, 4), 10); /* all of it */
    assert_int_equal(json_pointer_prefix_len(&p, 9), 10);
    json_pointer_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_and_empty_tokens),
        cmocka_unit_test(test_rfc_examples),
        cmocka_unit_test(test_escape_order),
        cmocka_unit_test(test_array_indices),
        cmocka_unit_test(test_keys_match_exactly),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_prefix_len),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
