/*
 * test_web_security: web_security against a CA, server and client
 * certificates made with the openssl CLI in a temporary directory (the
 * tests skip when openssl is missing). TLS handshakes run in memory over a
 * BIO pair. crypt_r is wrapped (-Wl,--wrap=crypt_r) to count bcrypt runs:
 * that is how the password cache and the dummy bcrypt for unknown users
 * are checked, independent of the machine's speed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "log.h"
#include "web_security.h"

#include <crypt.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* crypt_r, counted                                                    */

static unsigned crypt_calls;

char *__real_crypt_r(const char *phrase, const char *setting, struct crypt_data *data);
char *__wrap_crypt_r(const char *phrase, const char *setting, struct crypt_data *data);
char *__wrap_crypt_r(const char *phrase, const char *setting, struct crypt_data *data)
{
    crypt_calls++;
    return __real_crypt_r(phrase, setting, data);
}

/* ------------------------------------------------------------------ */
/* Fixture: certificates and hashes, made once                          */

struct world {
    bool have_openssl;
    char dir[256];
    char alice_hash[128]; /* "wonderland", cost 4 */
    char bob_hash[128];   /* "builder", cost 5 */
};

static struct world world;

static void path_in(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", world.dir, name);
}

/* Runs an openssl command line in the fixture's directory. */
static int openssl_cli(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "cd '%s' && openssl %s >/dev/null 2>&1", world.dir, args);
    return system(cmd) == 0 ? 0 : -1;
}

/* A key and a certificate for name signed by the test CA, with serial. */
static int make_cert(const char *name, const char *cn, int serial)
{
    char args[768];
    snprintf(args, sizeof(args),
             "req -new -newkey EC -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s.key "
             "-out %s.csr -subj /CN=%s",
             name, name, cn);
    if (openssl_cli(args))
        return -1;
    snprintf(args, sizeof(args),
             "x509 -req -in %s.csr -CA ca.crt -CAkey ca.key -set_serial %d -days 2 -out %s.crt",
             name, serial, name);
    return openssl_cli(args);
}

static void make_hash(const char *password, unsigned long cost, char *out, size_t size)
{
    char salt[64];
    struct crypt_data data;
    memset(&data, 0, sizeof(data));
    if (!crypt_gensalt_rn("$2b$", cost, NULL, 0, salt, sizeof(salt)))
        abort();
    const char *hash = crypt_r(password, salt, &data);
    if (!hash || strlen(hash) != 60)
        abort();
    snprintf(out, size, "%s", hash);
}

static int group_setup(void **state)
{
    (void)state;
    log_set_level(LOG_LEVEL_ERROR);
    make_hash("wonderland", 4, world.alice_hash, sizeof(world.alice_hash));
    make_hash("builder", 5, world.bob_hash, sizeof(world.bob_hash));
    const char *tmp = getenv("TMPDIR");
    snprintf(world.dir, sizeof(world.dir), "%s/test_web_security_XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(world.dir))
        return -1;
    world.have_openssl = system("command -v openssl >/dev/null 2>&1") == 0;
    if (!world.have_openssl)
        return 0;
    if (openssl_cli("req -x509 -newkey EC -pkeyopt ec_paramgen_curve:P-256 -nodes "
                    "-keyout ca.key -out ca.crt -days 2 -subj /CN=ingot-test-ca") ||
        make_cert("server", "localhost", 2) || make_cert("client", "prometheus", 3) ||
        make_cert("server2", "localhost", 4))
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", world.dir);
    return system(cmd) == 0 ? 0 : -1;
}

#define NEED_OPENSSL()                                                                         \
    do {                                                                                       \
        if (!world.have_openssl)                                                               \
            skip();                                                                            \
    } while (0)

static void write_file(const char *name, const char *text)
{
    char path[512];
    path_in(path, sizeof(path), name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* Overwrites dst with src's bytes in place (same inode). */
static void copy_file(const char *src, const char *dst)
{
    char from[512], to[512], buf[8192];
    path_in(from, sizeof(from), src);
    path_in(to, sizeof(to), dst);
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

/* Moves a file's mtime seconds ahead, so a change is seen even within one
 * timestamp tick. */
static void bump_mtime(const char *name, int seconds)
{
    char path[512];
    path_in(path, sizeof(path), name);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    times[1].tv_sec += seconds;
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

/* The web config (in the fixture's directory, relative file names) with
 * the given TLS lines and alice and bob as users. */
static void write_web_config(const char *tls_lines, const char *extra)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "%s"
             "http_server_config:\n"
             "  headers:\n"
             "    Strict-Transport-Security: max-age=31536000\n"
             "basic_auth_users:\n"
             "  alice: %s\n"
             "  bob: %s\n"
             "%s",
             tls_lines, world.alice_hash, world.bob_hash, extra);
    write_file("web.yml", text);
}

#define MUTUAL_TLS                                                                             \
    "tls_server_config:\n"                                                                     \
    "  cert_file: tls.crt\n"                                                                   \
    "  key_file: tls.key\n"                                                                    \
    "  client_auth_type: RequireAndVerifyClientCert\n"                                         \
    "  client_ca_file: ca.crt\n"

/* Before each test: tls.crt/tls.key are the server's, web.yml is mutual TLS. */
static int setup(void **state)
{
    (void)state;
    if (!world.have_openssl)
        return 0;
    copy_file("server.crt", "tls.crt");
    copy_file("server.key", "tls.key");
    write_web_config(MUTUAL_TLS, "");
    crypt_calls = 0;
    return 0;
}

static struct web_security *open_security(void)
{
    char path[512], err[512] = "";
    path_in(path, sizeof(path), "web.yml");
    struct web_security *s = web_security_new(path, err, sizeof(err));
    if (!s)
        fail_msg("web_security_new: %s", err);
    return s;
}

/* ------------------------------------------------------------------ */
/* TLS handshakes in memory                                             */

/* A client context trusting the test CA, presenting the client
 * certificate when with_cert. */
static SSL_CTX *client_ctx(bool with_cert)
{
    char ca[512], crt[512], key[512];
    path_in(ca, sizeof(ca), "ca.crt");
    path_in(crt, sizeof(crt), "client.crt");
    path_in(key, sizeof(key), "client.key");
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(ctx);
    assert_int_equal(SSL_CTX_load_verify_locations(ctx, ca, NULL), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (with_cert) {
        assert_int_equal(SSL_CTX_use_certificate_file(ctx, crt, SSL_FILETYPE_PEM), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM), 1);
    }
    return ctx;
}

/* Runs a handshake between server (consumed) and a client from cctx, then
 * a one-byte exchange (TLS 1.3 reports a refused client certificate only
 * then). Returns 0 on success with the server certificate's serial in
 * *serial, or -1. */
static int handshake(SSL *server, SSL_CTX *cctx, long *serial)
{
    SSL *client = SSL_new(cctx);
    assert_non_null(client);
    BIO *cb, *sb;
    assert_int_equal(BIO_new_bio_pair(&cb, 0, &sb, 0), 1);
    SSL_set_bio(client, cb, cb);
    SSL_set_bio(server, sb, sb);
    SSL_set_connect_state(client);
    SSL_set_accept_state(server);
    int rc = -1;
    bool client_done = false, server_done = false;
    for (int round = 0; round < 50 && !(client_done && server_done); round++) {
        if (!client_done) {
            int r = SSL_do_handshake(client);
            if (r == 1)
                client_done = true;
            else if (SSL_get_error(client, r) != SSL_ERROR_WANT_READ)
                goto out;
        }
        if (!server_done) {
            int r = SSL_do_handshake(server);
            if (r == 1)
                server_done = true;
            else if (SSL_get_error(server, r) != SSL_ERROR_WANT_READ)
                goto out;
        }
    }
    if (!client_done || !server_done)
        goto out;
    char byte = 'x', got = 0;
    if (SSL_write(client, &byte, 1) != 1 || SSL_read(server, &got, 1) != 1 || got != 'x')
        goto out;
    if (SSL_write(server, &byte, 1) != 1 || SSL_read(client, &got, 1) != 1)
        goto out;
    X509 *cert = SSL_get1_peer_certificate(client);
    assert_non_null(cert);
    *serial = ASN1_INTEGER_get(X509_get0_serialNumber(cert));
    X509_free(cert);
    rc = 0;
out:
    ERR_clear_error();
    SSL_free(client);
    SSL_free(server);
    return rc;
}

/* A handshake against the current context of s; 0 with the serial, or -1. */
static int connect_to(struct web_security *s, bool with_cert, long *serial)
{
    SSL_CTX *cctx = client_ctx(with_cert);
    SSL *server = SSL_new(web_security_tls(s));
    assert_non_null(server);
    int rc = handshake(server, cctx, serial);
    SSL_CTX_free(cctx);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Basic credentials                                                   */

static const char *basic(const char *user_colon_password, char *buf, size_t size)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *in = (const unsigned char *)user_colon_password;
    size_t len = strlen(user_colon_password), o = (size_t)snprintf(buf, size, "Basic ");
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        assert_true(o + 5 < size);
        buf[o++] = alphabet[v >> 18 & 63];
        buf[o++] = alphabet[v >> 12 & 63];
        buf[o++] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
        buf[o++] = i + 2 < len ? alphabet[v & 63] : '=';
    }
    buf[o] = '\0';
    return buf;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */

static void test_no_config(void **state)
{
    (void)state;
    char err[256];
    struct web_security *s = web_security_new(NULL, err, sizeof(err));
    assert_non_null(s);
    web_security_refresh(s);
    assert_null(web_security_tls(s));
    assert_int_equal(web_security_check(s, NULL), 0);
    assert_int_equal(web_security_check(s, "Basic !!!"), 0);
    const struct web_header *headers = (const struct web_header *)1;
    assert_int_equal(web_security_headers(s, &headers), 0);
    assert_null(headers);
    assert_int_equal(crypt_calls, 0);
    web_security_free(s);
}

static void test_tls_context(void **state)
{
    (void)state;
    NEED_OPENSSL();
    struct web_security *s = open_security();
    SSL_CTX *ctx = web_security_tls(s);
    assert_non_null(ctx);
    assert_int_equal(SSL_CTX_get_verify_mode(ctx),
                     SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
    assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
    assert_true(SSL_CTX_get_options(ctx) & SSL_OP_NO_COMPRESSION);
    assert_true(SSL_CTX_get_options(ctx) & SSL_OP_NO_RENEGOTIATION);
    long serial = 0;
    assert_int_equal(connect_to(s, true, &serial), 0);
    assert_int_equal(serial, 2);
    /* RequireAndVerifyClientCert: no certificate, no connection. */
    assert_int_equal(connect_to(s, false, &serial), -1);
    const struct web_header *headers;
    assert_int_equal(web_security_headers(s, &headers), 1);
    assert_string_equal(headers[0].name, "Strict-Transport-Security");
    assert_string_equal(headers[0].value, "max-age=31536000");
    /* Nothing changed: the same context. */
    web_security_refresh(s);
    assert_ptr_equal(web_security_tls(s), ctx);
    web_security_free(s);

    /* Without client certificates a client without one gets in. */
    write_web_config("tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n", "");
    s = open_security();
    assert_int_equal(SSL_CTX_get_verify_mode(web_security_tls(s)), SSL_VERIFY_NONE);
    assert_int_equal(connect_to(s, false, &serial), 0);
    web_security_free(s);

    /* No tls_server_config: plain HTTP. */
    write_web_config("", "");
    s = open_security();
    assert_null(web_security_tls(s));
    web_security_free(s);
}

static void test_check(void **state)
{
    (void)state;
    NEED_OPENSSL();
    struct web_security *s = open_security();
    char buf[256];
    assert_int_equal(web_security_check(s, basic("alice:wonderland", buf, sizeof(buf))), 0);
    assert_int_equal(web_security_check(s, basic("bob:builder", buf, sizeof(buf))), 0);
    /* The scheme is case-insensitive; spaces around the credentials are fine. */
    snprintf(buf, sizeof(buf), "basic   YWxpY2U6d29uZGVybGFuZA==  ");
    assert_int_equal(web_security_check(s, buf), 0);
    assert_int_equal(crypt_calls, 2);

    crypt_calls = 0;
    assert_int_equal(web_security_check(s, basic("alice:wonderlanD", buf, sizeof(buf))), -1);
    assert_int_equal(web_security_check(s, basic("alice:", buf, sizeof(buf))), -1);
    assert_int_equal(web_security_check(s, basic("bob:wonderland", buf, sizeof(buf))), -1);
    assert_int_equal(crypt_calls, 3);

    /* Missing or malformed: refused without a bcrypt. */
    crypt_calls = 0;
    static const char *const malformed[] = {
        "",
        "Basic",
        "Basic ",
        "BasicYWxpY2U6d29uZGVybGFuZA==",        /* no space */
        "Bearer YWxpY2U6d29uZGVybGFuZA==",      /* another scheme */
        "Basic YWxpY2U6d29uZGVybGFuZA",         /* no padding */
        "Basic YWxpY2U6d29uZGVybGFuZA=a",       /* '=' then data */
        "Basic YWxp!2U6d29uZGVybGFuZA==",       /* not base64 */
        "Basic YWxpY2U6d29u ZGVybGFuZA==",      /* a space inside */
        "Basic YWxpY2U=",                       /* "alice": no colon */
        "Basic YWxpY2UAOndvbmRlcmxhbmQ=",       /* "alice\0:wonderland" */
        "Basic YWxpY2U6d29uZGVybGFuZAB4",       /* "alice:wonderland\0x" */
    };
    assert_int_equal(web_security_check(s, NULL), -1);
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
        if (web_security_check(s, malformed[i]) != -1)
            fail_msg("accepted \"%s\"", malformed[i]);
    /* Far too long. */
    char long_value[4096] = "Basic ";
    memset(long_value + 6, 'A', sizeof(long_value) - 7);
    long_value[sizeof(long_value) - 1] = '\0';
    assert_int_equal(web_security_check(s, long_value), -1);
    assert_int_equal(crypt_calls, 0);

    /* An unknown user costs one bcrypt, like a wrong password. */
    assert_int_equal(web_security_check(s, basic("mallory:wonderland", buf, sizeof(buf))), -1);
    assert_int_equal(web_security_check(s, basic(":wonderland", buf, sizeof(buf))), -1);
    assert_int_equal(crypt_calls, 2);
    web_security_free(s);
}

static void test_cache(void **state)
{
    (void)state;
    NEED_OPENSSL();
    struct web_security *s = open_security();
    char right[256], wrong[256], other[256];
    basic("alice:wonderland", right, sizeof(right));
    basic("alice:looking-glass", wrong, sizeof(wrong));
    basic("bob:builder", other, sizeof(other));
    assert_int_equal(web_security_check(s, right), 0);
    assert_int_equal(crypt_calls, 1);
    for (int i = 0; i < 200; i++)
        assert_int_equal(web_security_check(s, right), 0);
    assert_int_equal(crypt_calls, 1);
    /* A wrong password is never served from the cache, nor does it evict. */
    assert_int_equal(web_security_check(s, wrong), -1);
    assert_int_equal(web_security_check(s, wrong), -1);
    assert_int_equal(crypt_calls, 3);
    assert_int_equal(web_security_check(s, right), 0);
    assert_int_equal(crypt_calls, 3);
    /* Per user: bob's first check costs its own bcrypt. */
    assert_int_equal(web_security_check(s, other), 0);
    assert_int_equal(web_security_check(s, other), 0);
    assert_int_equal(crypt_calls, 4);

    /* A reload drops the cache; it fills again. */
    write_web_config(MUTUAL_TLS, "# touched\n");
    bump_mtime("web.yml", 10);
    web_security_refresh(s);
    assert_int_equal(web_security_check(s, right), 0);
    assert_int_equal(crypt_calls, 5);
    assert_int_equal(web_security_check(s, right), 0);
    assert_int_equal(crypt_calls, 5);

    /* A reload that removes alice refuses her, cached or not. */
    char text[512];
    snprintf(text, sizeof(text), MUTUAL_TLS "basic_auth_users:\n  bob: %s\n", world.bob_hash);
    write_file("web.yml", text);
    bump_mtime("web.yml", 20);
    web_security_refresh(s);
    assert_int_equal(web_security_check(s, right), -1);
    assert_int_equal(web_security_check(s, other), 0);
    web_security_free(s);
}

static void test_rotation(void **state)
{
    (void)state;
    NEED_OPENSSL();
    struct web_security *s = open_security();
    SSL_CTX *old = web_security_tls(s);
    /* A connection accepted before the rotation. */
    SSL *live = SSL_new(old);
    assert_non_null(live);

    copy_file("server2.crt", "tls.crt");
    copy_file("server2.key", "tls.key");
    bump_mtime("tls.crt", 10);
    bump_mtime("tls.key", 10);
    web_security_refresh(s);
    SSL_CTX *rotated = web_security_tls(s);
    assert_non_null(rotated);
    assert_ptr_not_equal(rotated, old);
    long serial = 0;
    assert_int_equal(connect_to(s, true, &serial), 0);
    assert_int_equal(serial, 4);
    /* The live connection keeps the context it was made from. */
    assert_ptr_equal(SSL_get_SSL_CTX(live), old);
    SSL_CTX *cctx = client_ctx(true);
    assert_int_equal(handshake(live, cctx, &serial), 0);
    SSL_CTX_free(cctx);
    assert_int_equal(serial, 2);

    /* Nothing changed since: the same context. */
    web_security_refresh(s);
    assert_ptr_equal(web_security_tls(s), rotated);
    /* The users survive a certificate rotation, and so does the cache. */
    char buf[256];
    assert_int_equal(web_security_check(s, basic("alice:wonderland", buf, sizeof(buf))), 0);
    web_security_free(s);
}

/* A broken new web config keeps everything as it was: the TLS context, the
 * users (and their cache) and the headers. */
static void test_broken_config_keeps_state(void **state)
{
    (void)state;
    NEED_OPENSSL();
    struct web_security *s = open_security();
    SSL_CTX *ctx = web_security_tls(s);
    char alice[256], bob[256];
    basic("alice:wonderland", alice, sizeof(alice));
    basic("bob:builder", bob, sizeof(bob));
    assert_int_equal(web_security_check(s, alice), 0);

    static const char *const broken[] = {
        "tls_server_config:\n  cert_file: tls.crt\n", /* no key_file */
        "basic_auth_users:\n  alice: not-a-hash\n",
        "tls_server_config: [\n", /* not YAML */
        "basic_auth_users: {}\n", /* valid, but TLS off: that takes a restart */
    };
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        write_file("web.yml", broken[i]);
        bump_mtime("web.yml", 10 * (int)(i + 1));
        crypt_calls = 0;
        web_security_refresh(s);
        assert_ptr_equal(web_security_tls(s), ctx);
        assert_int_equal(web_security_check(s, alice), 0);
        assert_int_equal(crypt_calls, 0); /* the cache survived */
        assert_int_equal(web_security_check(s, bob), 0);
        const struct web_header *headers;
        assert_int_equal(web_security_headers(s, &headers), 1);
        assert_string_equal(headers[0].name, "Strict-Transport-Security");
        long serial;
        assert_int_equal(connect_to(s, true, &serial), 0);
    }
    /* A removed web config is a broken one too. */
    char path[512];
    path_in(path, sizeof(path), "web.yml");
    assert_int_equal(unlink(path), 0);
    web_security_refresh(s);
    assert_ptr_equal(web_security_tls(s), ctx);
    assert_int_equal(web_security_check(s, alice), 0);

    /* Fixed again: a new state (a new context, the cache starts over). */
    write_web_config(MUTUAL_TLS, "");
    crypt_calls = 0;
    web_security_refresh(s);
    assert_non_null(web_security_tls(s));
    assert_ptr_not_equal(web_security_tls(s), ctx);
    assert_int_equal(web_security_check(s, alice), 0);
    assert_int_equal(crypt_calls, 1);
    web_security_free(s);
}

/* Broken certificate files keep the previous context until they load. */
static void test_broken_certificate_keeps_tls(void **state)
{
    (void)state;
    NEED_OPENSSL();
    struct web_security *s = open_security();
    SSL_CTX *ctx = web_security_tls(s);
    long serial;

    write_file("tls.crt", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
    bump_mtime("tls.crt", 10);
    web_security_refresh(s);
    assert_ptr_equal(web_security_tls(s), ctx);
    assert_int_equal(connect_to(s, true, &serial), 0);
    assert_int_equal(serial, 2);

    /* Half a rotation: the new certificate with the old key. */
    copy_file("server2.crt", "tls.crt");
    bump_mtime("tls.crt", 20);
    web_security_refresh(s);
    assert_ptr_equal(web_security_tls(s), ctx);

    /* The other half: now it loads. */
    copy_file("server2.key", "tls.key");
    bump_mtime("tls.key", 20);
    web_security_refresh(s);
    assert_ptr_not_equal(web_security_tls(s), ctx);
    assert_int_equal(connect_to(s, true, &serial), 0);
    assert_int_equal(serial, 4);
    web_security_free(s);
}

/* A new web config whose certificate is not there yet waits for it. */
static void test_pending_config(void **state)
{
    (void)state;
    NEED_OPENSSL();
    struct web_security *s = open_security();
    SSL_CTX *ctx = web_security_tls(s);
    char alice[256], carol[256];
    basic("alice:wonderland", alice, sizeof(alice));
    basic("carol:wonderland", carol, sizeof(carol));

    char text[1024];
    snprintf(text, sizeof(text),
             "tls_server_config:\n  cert_file: new.crt\n  key_file: new.key\n"
             "basic_auth_users:\n  carol: %s\n",
             world.alice_hash);
    write_file("web.yml", text);
    bump_mtime("web.yml", 10);
    web_security_refresh(s);
    assert_ptr_equal(web_security_tls(s), ctx);
    assert_int_equal(web_security_check(s, alice), 0);
    assert_int_equal(web_security_check(s, carol), -1);
    web_security_refresh(s); /* nothing changed: still waiting */
    assert_ptr_equal(web_security_tls(s), ctx);

    copy_file("server2.crt", "new.crt");
    copy_file("server2.key", "new.key");
    web_security_refresh(s);
    assert_ptr_not_equal(web_security_tls(s), ctx);
    assert_int_equal(web_security_check(s, alice), -1);
    assert_int_equal(web_security_check(s, carol), 0);
    /* No client certificate needed any more. */
    long serial;
    assert_int_equal(connect_to(s, false, &serial), 0);
    assert_int_equal(serial, 4);
    const struct web_header *headers;
    assert_int_equal(web_security_headers(s, &headers), 0);
    web_security_free(s);
}

static void test_new_errors(void **state)
{
    (void)state;
    NEED_OPENSSL();
    char path[512], err[512];
    path_in(path, sizeof(path), "web.yml");

    /* The first problem in file order, and a note that there are more. */
    write_file("web.yml", "tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n"
                          "  min_version: TLS14\n  cert_fil: x\n");
    assert_null(web_security_new(path, err, sizeof(err)));
    assert_non_null(strstr(err, "web.yml:4:16: tls_server_config.min_version: unknown TLS "
                                "version \"TLS14\""));
    assert_non_null(strstr(err, "(and 1 more, logged above)"));

    write_web_config("tls_server_config:\n  cert_file: none.crt\n  key_file: tls.key\n", "");
    assert_null(web_security_new(path, err, sizeof(err)));
    assert_non_null(strstr(err, "tls_server_config.cert_file "));
    assert_non_null(strstr(err, "none.crt: No such file or directory"));

    /* A key that is not the certificate's. */
    write_web_config("tls_server_config:\n  cert_file: tls.crt\n  key_file: server2.key\n", "");
    assert_null(web_security_new(path, err, sizeof(err)));
    assert_non_null(strstr(err, "tls_server_config.key_file "));
    assert_non_null(strstr(err, "server2.key"));

    /* A CA file that holds no certificate. */
    write_web_config("tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n"
                     "  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: web.yml\n",
                     "");
    assert_null(web_security_new(path, err, sizeof(err)));
    assert_non_null(strstr(err, "tls_server_config.client_ca_file "));

    char missing[512];
    path_in(missing, sizeof(missing), "none.yml");
    assert_null(web_security_new(missing, err, sizeof(err)));
    assert_non_null(strstr(err, "none.yml: No such file or directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_no_config, setup),
        cmocka_unit_test_setup(test_tls_context, setup),
        cmocka_unit_test_setup(test_check, setup),
        cmocka_unit_test_setup(test_cache, setup),
        cmocka_unit_test_setup(test_rotation, setup),
        cmocka_unit_test_setup(test_broken_config_keeps_state, setup),
        cmocka_unit_test_setup(test_broken_certificate_keeps_tls, setup),
        cmocka_unit_test_setup(test_pending_config, setup),
        cmocka_unit_test_setup(test_new_errors, setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
