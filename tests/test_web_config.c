/*
 * test_web_config: web_config_load on web config files written to a
 * temporary directory: a full valid file with every value checked, the
 * defaults, null sections, relative file names, and a table of broken files
 * each with the one "file:line:column: path: message" it must produce.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "web_config.h"

#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A bcrypt hash of "secret" at cost 4 (what web_config checks is its shape). */
#define HASH "$2b$04$uG5trtQRBSAXysaAIjcs5.JXtSUX2HsXTEHv7lBnHZW4vQJ77CeDO"

struct fixture {
    char dir[256];  /* a fresh temporary directory */
    char path[300]; /* dir/web.yml */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof(f->dir), "%s/test_web_config_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/web.yml", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    assert_int_equal(fwrite(text, 1, strlen(text), out), strlen(text));
    assert_int_equal(fclose(out), 0);
}

static void print_errors(const struct config_errors *errors)
{
    for (size_t i = 0; i < errors->count; i++)
        print_message("  %s\n", errors->messages[i]);
}

/* Loads yaml from the fixture's file and fails unless it loads cleanly. */
static struct web_config *load_ok(const struct fixture *f, const char *yaml)
{
    struct config_errors errors;
    write_file(f->path, yaml);
    struct web_config *cfg = web_config_load(f->path, &errors);
    if (!cfg || errors.count) {
        print_errors(&errors);
        fail_msg("expected the web config to load");
    }
    config_errors_free(&errors);
    return cfg;
}

static void test_full(void **state)
{
    struct fixture *f = *state;
    struct web_config *cfg = load_ok(
        f, "tls_server_config:\n"
           "  cert_file: /etc/ingot/tls.crt\n"
           "  key_file: /etc/ingot/tls.key\n"
           "  client_auth_type: RequireAndVerifyClientCert\n"
           "  client_ca_file: /etc/ingot/ca.crt\n"
           "  min_version: TLS13\n"
           "  max_version: TLS13\n"
           "  cipher_suites:\n"
           "    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
           "    - TLS_AES_128_GCM_SHA256\n"
           "    - TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256\n"
           "  prefer_server_cipher_suites: false\n"
           "  curve_preferences: [X25519, CurveP256]\n"
           "http_server_config:\n"
           "  http2: true\n"
           "  headers:\n"
           "    Strict-Transport-Security: max-age=31536000\n"
           "    X-Frame-Options: deny\n"
           "    Content-Security-Policy: \"\"\n"
           "    X-XSS-Protection:\n"
           "basic_auth_users:\n"
           "  alice: " HASH "\n"
           "  'bob smith': '" HASH "'\n");
    assert_string_equal(cfg->path, f->path);
    assert_true(cfg->tls);
    assert_string_equal(cfg->cert_file, "/etc/ingot/tls.crt");
    assert_string_equal(cfg->key_file, "/etc/ingot/tls.key");
    assert_string_equal(cfg->client_ca_file, "/etc/ingot/ca.crt");
    assert_int_equal(cfg->client_auth, WEB_REQUIRE_AND_VERIFY_CLIENT_CERT);
    assert_int_equal(cfg->min_version, TLS1_3_VERSION);
    assert_int_equal(cfg->max_version, TLS1_3_VERSION);
    assert_string_equal(cfg->cipher_list,
                        "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305");
    assert_false(cfg->prefer_server_ciphers);
    assert_string_equal(cfg->groups, "X25519:P-256");
    /* Blank values are left out, as exporter-toolkit does. */
    assert_int_equal(cfg->n_headers, 2);
    assert_string_equal(cfg->headers[0].name, "Strict-Transport-Security");
    assert_string_equal(cfg->headers[0].value, "max-age=31536000");
    assert_string_equal(cfg->headers[1].name, "X-Frame-Options");
    assert_string_equal(cfg->headers[1].value, "deny");
    assert_int_equal(cfg->n_users, 2);
    assert_string_equal(cfg->users[0].name, "alice");
    assert_string_equal(cfg->users[0].hash, HASH);
    assert_string_equal(cfg->users[1].name, "bob smith");
    assert_string_equal(cfg->users[1].hash, HASH);
    assert_string_equal(web_client_auth_name(cfg->client_auth), "RequireAndVerifyClientCert");
    web_config_free(cfg);
}

static void test_defaults(void **state)
{
    struct fixture *f = *state;
    static const char *const empty_ones[] = {
        "basic_auth_users:\n",
        "tls_server_config:\nhttp_server_config:\nbasic_auth_users:\n",
        "tls_server_config: {}\nhttp_server_config: {headers: {}}\nbasic_auth_users: {}\n",
        "http_server_config:\n  headers:\n",
    };
    for (size_t i = 0; i < sizeof(empty_ones) / sizeof(empty_ones[0]); i++) {
        struct web_config *cfg = load_ok(f, empty_ones[i]);
        assert_false(cfg->tls);
        assert_null(cfg->cert_file);
        assert_null(cfg->key_file);
        assert_null(cfg->client_ca_file);
        assert_int_equal(cfg->client_auth, WEB_NO_CLIENT_CERT);
        assert_int_equal(cfg->min_version, TLS1_2_VERSION);
        assert_int_equal(cfg->max_version, 0);
        assert_null(cfg->cipher_list);
        assert_null(cfg->groups);
        assert_true(cfg->prefer_server_ciphers);
        assert_int_equal(cfg->n_users, 0);
        assert_int_equal(cfg->n_headers, 0);
        web_config_free(cfg);
    }
    /* TLS alone: the client auth and versions keep their defaults. */
    struct web_config *cfg = load_ok(f, "tls_server_config:\n"
                                        "  cert_file: /a.crt\n"
                                        "  key_file: /a.key\n");
    assert_true(cfg->tls);
    assert_int_equal(cfg->client_auth, WEB_NO_CLIENT_CERT);
    assert_int_equal(cfg->min_version, TLS1_2_VERSION);
    assert_int_equal(cfg->max_version, 0);
    web_config_free(cfg);
    /* Only TLS 1.3 suites: the cipher list stays OpenSSL's. */
    cfg = load_ok(f, "tls_server_config:\n"
                     "  cert_file: /a.crt\n"
                     "  key_file: /a.key\n"
                     "  cipher_suites: [TLS_AES_256_GCM_SHA384]\n");
    assert_null(cfg->cipher_list);
    web_config_free(cfg);
}

/* Relative file names are resolved against the web config's directory;
 * absolute ones are kept. */
static void test_relative_paths(void **state)
{
    struct fixture *f = *state;
    struct web_config *cfg = load_ok(f, "tls_server_config:\n"
                                        "  cert_file: tls.crt\n"
                                        "  key_file: keys/tls.key\n"
                                        "  client_auth_type: VerifyClientCertIfGiven\n"
                                        "  client_ca_file: /etc/ssl/ca.crt\n");
    char want[400];
    snprintf(want, sizeof(want), "%s/tls.crt", f->dir);
    assert_string_equal(cfg->cert_file, want);
    snprintf(want, sizeof(want), "%s/keys/tls.key", f->dir);
    assert_string_equal(cfg->key_file, want);
    assert_string_equal(cfg->client_ca_file, "/etc/ssl/ca.crt");
    web_config_free(cfg);

    /* A config named without a directory: names stay relative to the
     * working directory, which is the config's too. */
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(f->dir), 0);
    struct config_errors errors;
    cfg = web_config_load("web.yml", &errors);
    assert_int_equal(chdir(cwd), 0);
    assert_non_null(cfg);
    assert_string_equal(cfg->cert_file, "tls.crt");
    assert_string_equal(cfg->key_file, "keys/tls.key");
    web_config_free(cfg);
}

struct error_case {
    const char *yaml;
    const char *expect; /* from ":line:column: " on */
};

#define TLS "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n"

static const struct error_case error_cases[] = {
    /* Unknown keys, with a suggestion or the list. */
    {"basic_auth_user:\n  alice: " HASH "\n",
     ":1:1: unknown key \"basic_auth_user\" (did you mean \"basic_auth_users\"?)"},
    {TLS "  min_verison: TLS12\n",
     ":4:3: tls_server_config: unknown key \"min_verison\" (did you mean \"min_version\"?)"},
    {"http_server_config:\n  hedaers: {}\n",
     ":2:3: http_server_config: unknown key \"hedaers\" (did you mean \"headers\"?)"},
    {"web:\n",
     ":1:1: unknown key \"web\" (expected one of: tls_server_config, http_server_config, "
     "basic_auth_users)"},
    {TLS "  ca_file: ca.crt\n",
     ":4:3: tls_server_config: unknown key \"ca_file\" (expected one of: cert_file, key_file, "
     "client_auth_type, client_ca_file, min_version, max_version, cipher_suites, "
     "prefer_server_cipher_suites, curve_preferences)"},
    /* exporter-toolkit keys ingotd refuses. */
    {TLS "  client_allowed_sans: [a]\n",
     ":4:3: tls_server_config: key \"client_allowed_sans\" is not supported (ingotd does not "
     "match client certificate names; give clients a CA of their own)"},
    {"tls_server_config:\n  cert: x\n  key_file: a.key\n  cert_file: a.crt\n",
     ":2:3: tls_server_config: key \"cert\" is not supported (ingotd reads the certificate "
     "from cert_file)"},
    {"rate_limit:\n  burst: 5\n", ":1:1: key \"rate_limit\" is not supported"},
    /* Choices. */
    {TLS "  client_auth_type: RequireAndVerify\n",
     ":4:21: tls_server_config.client_auth_type: unknown client_auth_type \"RequireAndVerify\" "
     "(expected one of: NoClientCert, RequestClientCert, RequireAnyClientCert, "
     "VerifyClientCertIfGiven, RequireAndVerifyClientCert)"},
    {TLS "  client_auth_type: RequestClientCrt\n",
     ":4:21: tls_server_config.client_auth_type: unknown client_auth_type \"RequestClientCrt\" "
     "(did you mean \"RequestClientCert\"?)"},
    {TLS "  min_version: TLS1.2\n",
     ":4:16: tls_server_config.min_version: unknown TLS version \"TLS1.2\" (did you mean "
     "\"TLS12\"?)"},
    {TLS "  max_version: SSL3\n",
     ":4:16: tls_server_config.max_version: unknown TLS version \"SSL3\" (expected one of: "
     "TLS10, TLS11, TLS12, TLS13)"},
    {TLS "  max_version: TLS11\n",
     ":4:16: tls_server_config.max_version: TLS11 is below min_version TLS12"},
    {TLS "  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n",
     ":4:19: tls_server_config.cipher_suites[0]: \"TLS_RSA_WITH_RC4_128_SHA\" is not a cipher "
     "suite this OpenSSL knows"},
    {TLS "  cipher_suites: []\n",
     ":4:18: tls_server_config.cipher_suites: found an empty list, expected at least one "
     "cipher suite"},
    {TLS "  curve_preferences: [CurveP265]\n",
     ":4:23: tls_server_config.curve_preferences[0]: unknown curve \"CurveP265\" (did you mean "
     "\"CurveP256\"?)"},
    {TLS "  curve_preferences: [X25519, X25519]\n",
     ":4:31: tls_server_config.curve_preferences[1]: duplicate curve \"X25519\" (first at line "
     "4, column 23)"},
    /* Rules across keys. */
    {"tls_server_config:\n  cert_file: a.crt\n",
     ":2:3: tls_server_config: missing required key \"key_file\" (cert_file needs it)"},
    {"tls_server_config:\n  key_file: a.key\n",
     ":2:3: tls_server_config: missing required key \"cert_file\" (key_file needs it)"},
    {"tls_server_config:\n  min_version: TLS13\n",
     ":2:3: tls_server_config: missing required keys \"cert_file\" and \"key_file\" (TLS needs "
     "both)"},
    {TLS "  client_auth_type: VerifyClientCertIfGiven\n",
     ":2:3: tls_server_config: missing required key \"client_ca_file\" (client_auth_type "
     "VerifyClientCertIfGiven needs it)"},
    {TLS "  client_auth_type: RequireAndVerifyClientCert\n",
     ":2:3: tls_server_config: missing required key \"client_ca_file\" (client_auth_type "
     "RequireAndVerifyClientCert needs it)"},
    {TLS "  client_ca_file: ca.crt\n",
     ":4:3: tls_server_config: key \"client_ca_file\" needs a client_auth_type other than "
     "NoClientCert"},
    {TLS "  key_file: b.key\n",
     ":4:3: tls_server_config: duplicate key \"key_file\" (first at line 3, column 3)"},
    /* Values. */
    {"tls_server_config:\n  cert_file: ''\n  key_file: a.key\n",
     ":2:14: tls_server_config.cert_file: \"\" is empty (expected a file name)"},
    {"basic_auth_users:\n  alice: $2y$10$tooshort\n",
     ":2:10: basic_auth_users.alice: the value is not a bcrypt hash (expected $2y$, $2b$ or "
     "$2a$, a cost 04..31, $ and 53 characters of [./A-Za-z0-9], as from htpasswd -nBC 10 "
     "USER)"},
    {"basic_auth_users:\n  alice: $1$abcdefgh$abcdefghijklmnopqrstuv\n",
     ":2:10: basic_auth_users.alice: the value is not a bcrypt hash"},
    {"basic_auth_users:\n  alice: $2b$03$uG5trtQRBSAXysaAIjcs5.JXtSUX2HsXTEHv7lBnHZW4vQJ77CeDO\n",
     ":2:10: basic_auth_users.alice: the value is not a bcrypt hash"},
    {"basic_auth_users:\n  alice:\n", ":2:9: basic_auth_users.alice: found an empty value, "
                                       "expected a bcrypt hash"},
    {"basic_auth_users:\n  'al:ice': " HASH "\n",
     ":2:3: basic_auth_users: user name \"al:ice\" is not valid (expected at least one "
     "character, no ':' and no control characters)"},
    {"basic_auth_users:\n  '': " HASH "\n", ":2:3: basic_auth_users: user name \"\" is not valid"},
    {"http_server_config:\n  headers:\n    X Frame Options: deny\n",
     ":3:5: http_server_config.headers: header name \"X Frame Options\" is not an HTTP token "
     "(expected letters, digits and !#$%&'*+-.^_`|~, without spaces)"},
    {"http_server_config:\n  headers:\n    X-Evil: \"a\\r\\nSet-Cookie: x=1\"\n",
     ":3:13: http_server_config.headers.X-Evil: \"a\\x0d\\x0aSet-Cookie: x=1\" contains a line "
     "break or control character (expected one line)"},
    {"http_server_config:\n  headers:\n    X-Evil: \"a\\nb\"\n",
     ":3:13: http_server_config.headers.X-Evil: \"a\\x0ab\" contains a line break"},
    {"http_server_config:\n  headers:\n    Content-Length: 5\n",
     ":3:5: http_server_config.headers: header \"Content-Length\" is set by ingotd itself"},
    {"http_server_config:\n  headers:\n    X-Frame-Options: deny\n    x-frame-options: deny\n",
     ":4:5: http_server_config.headers: duplicate header \"x-frame-options\" (first at line 3, "
     "column 5)"},
    /* Wrong types. */
    {"basic_auth_users: [alice]\n",
     ":1:19: basic_auth_users: found a sequence, expected a mapping"},
    {"tls_server_config: yes\n", ":1:20: tls_server_config: found \"yes\", expected a mapping"},
    {"http_server_config:\n  http2: maybe\n",
     ":2:10: http_server_config.http2: found \"maybe\", expected true or false"},
    {TLS "  prefer_server_cipher_suites: 'true'\n",
     ":4:32: tls_server_config.prefer_server_cipher_suites: \"true\" is quoted (expected "
     "true or false without quotes)"},
    {"http_server_config:\n  headers:\n    X-A: [1]\n",
     ":3:10: http_server_config.headers.X-A: found a sequence, expected a header value"},
    {TLS "  cert_file: [a]\n", ":4:3: tls_server_config: duplicate key \"cert_file\""},
    {"tls_server_config:\n  cert_file: {a: b}\n  key_file: a.key\n",
     ":2:14: tls_server_config.cert_file: found a mapping, expected a string"},
    /* The file as a whole. */
    {"", ":1:1: the file holds no YAML document (expected a mapping)"},
    {"- a\n", ":1:1: found a sequence, expected a mapping"},
    {"a: [\n", ":2:1: did not find expected node content while parsing a flow node"},
};

static void test_error_cases(void **state)
{
    struct fixture *f = *state;
    size_t failures = 0;
    for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        const struct error_case *c = &error_cases[i];
        struct config_errors errors;
        write_file(f->path, c->yaml);
        struct web_config *cfg = web_config_load(f->path, &errors);
        char want[1200];
        snprintf(want, sizeof(want), "%s%s", f->path, c->expect);
        if (cfg || errors.count != 1 || strncmp(errors.messages[0], want, strlen(want)) != 0) {
            print_message("case %zu: expected one error starting \"%s\", got %zu:\n", i, want,
                          errors.count);
            print_errors(&errors);
            failures++;
        }
        web_config_free(cfg);
        config_errors_free(&errors);
    }
    assert_int_equal(failures, 0);
}

/* Everything wrong is reported at once, in file order; a hash is never
 * quoted back. */
static void test_many_errors(void **state)
{
    struct fixture *f = *state;
    write_file(f->path, "basic_auth_users:\n"                               /* 1 */
                        "  alice: $2y$10$not-a-real-hash-but-a-secret\n"    /* 2 */
                        "tls_server_config:\n"                              /* 3 */
                        "  cert_file: a.crt\n"                              /* 4 */
                        "  min_version: TLS9\n"                             /* 5 */
                        "http_server_config:\n"                             /* 6 */
                        "  headers:\n"                                      /* 7 */
                        "    Bad Name: x\n");                               /* 8 */
    struct config_errors errors;
    assert_null(web_config_load(f->path, &errors));
    print_errors(&errors);
    assert_int_equal(errors.count, 4);
    static const char *const want[] = {":2:10: basic_auth_users.alice:", ":4:3: tls_server_config:",
                                       ":5:16: tls_server_config.min_version:",
                                       ":8:5: http_server_config.headers:"};
    for (size_t i = 0; i < 4; i++) {
        assert_non_null(strstr(errors.messages[i], want[i]));
        assert_null(strstr(errors.messages[i], "secret"));
    }
    config_errors_free(&errors);
}

static void test_unreadable(void **state)
{
    struct fixture *f = *state;
    struct config_errors errors;
    char missing[400];
    snprintf(missing, sizeof(missing), "%s/none.yml", f->dir);
    assert_null(web_config_load(missing, &errors));
    assert_int_equal(errors.count, 1);
    char want[500];
    snprintf(want, sizeof(want), "%s: No such file or directory", missing);
    assert_string_equal(errors.messages[0], want);
    config_errors_free(&errors);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relative_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
