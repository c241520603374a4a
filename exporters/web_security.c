/*
 * web_security: owns the web config in force, the TLS context built from
 * it, the per-user cache of verified passwords, and the file signatures
 * (stat results) that tell web_security_refresh() what changed.
 *
 * State: `config` and `tls` are in force. `tls_sigs` are the signatures of
 * their certificate, key and CA files when last read. A new web config that
 * parsed but whose TLS files failed waits in `pending`, with the signatures
 * of the files as tried in `pending_sigs`; it replaces the one in force as
 * soon as its files load. A file's signature is taken before it is read, so
 * a change during the read is seen by the next refresh.
 *
 * Basic auth: RFC 7617 credentials, strict base64; bcrypt through
 * libxcrypt's crypt_r; verified passwords cached as an HMAC-SHA-256 under a
 * key drawn at start-up, so the cache never holds a fast unkeyed hash of a
 * password.
 */
#include "web_security.h"

#include "log.h"

#include <crypt.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define DIGEST_LEN 32          /* HMAC-SHA-256 */
#define MAX_CREDENTIALS 768    /* decoded "user:password" bytes */
#define MAX_BASE64 (MAX_CREDENTIALS / 3 * 4)
#define BCRYPT_LEN 60
#define ERR_LEN 512
#define SESSION_ID_CONTEXT "ingotd"

enum { FILE_CERT, FILE_KEY, FILE_CA, TLS_FILES };

/* What stat says about a file, to notice that it changed. */
struct file_sig {
    bool present;
    int error; /* errno of a failed stat */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
};

struct cached_password {
    bool valid;
    unsigned char digest[DIGEST_LEN];
};

struct web_security {
    char *path;                 /* NULL: no web config */
    struct file_sig config_sig; /* of the web config as last read */
    struct web_config *config;  /* in force; NULL only without a path */
    SSL_CTX *tls;               /* in force; NULL when TLS is off */
    struct file_sig tls_sigs[TLS_FILES];
    struct web_config *pending; /* parsed, waiting for its TLS files */
    struct file_sig pending_sigs[TLS_FILES];
    struct cached_password *cache; /* [config->n_users] */
    char dummy_hash[BCRYPT_LEN + 1];
    unsigned char cache_key[DIGEST_LEN];
    struct crypt_data *crypt; /* 32 KiB: kept off the stack */
};

/* ------------------------------------------------------------------ */
/* File signatures                                                     */

static void sig_of(const char *path, struct file_sig *sig)
{
    struct stat st;
    memset(sig, 0, sizeof(*sig));
    if (!path)
        return;
    if (stat(path, &st) != 0) {
        sig->error = errno;
        return;
    }
    sig->present = true;
    sig->dev = st.st_dev;
    sig->ino = st.st_ino;
    sig->size = st.st_size;
    sig->mtime = st.st_mtim;
    sig->ctime = st.st_ctim;
}

static bool same_time(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static bool sig_equal(const struct file_sig *a, const struct file_sig *b)
{
    if (a->present != b->present)
        return false;
    if (!a->present)
        return a->error == b->error;
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           same_time(a->mtime, b->mtime) && same_time(a->ctime, b->ctime);
}

static void tls_paths(const struct web_config *cfg, const char *paths[TLS_FILES])
{
    paths[FILE_CERT] = cfg->cert_file;
    paths[FILE_KEY] = cfg->key_file;
    paths[FILE_CA] = cfg->client_ca_file;
}

/* True when a TLS file of cfg differs from its signature in sigs. */
static bool tls_files_changed(const struct web_config *cfg, const struct file_sig *sigs)
{
    const char *paths[TLS_FILES];
    tls_paths(cfg, paths);
    for (size_t i = 0; i < TLS_FILES; i++) {
        struct file_sig now;
        sig_of(paths[i], &now);
        if (!sig_equal(&now, &sigs[i]))
            return true;
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* The TLS context                                                     */

/* Writes "what: <OpenSSL's first queued error>" into err and empties the
 * queue. */
static void openssl_error(char *err, size_t size, const char *what)
{
    char detail[256] = "unknown error";
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, detail, sizeof(detail));
    ERR_clear_error();
    snprintf(err, size, "%s: %s", what, detail);
}

/* An encrypted key fails to load instead of prompting on a terminal. */
static int no_password(char *buf, int size, int rwflag, void *arg)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)arg;
    return 0;
}

/* RequestClientCert and RequireAnyClientCert take any certificate. */
static int accept_any(int preverify_ok, X509_STORE_CTX *store)
{
    (void)preverify_ok;
    (void)store;
    return 1;
}

/* Sets up client certificates on ctx as cfg says. 0, or -1 with err. */
static int setup_client_auth(SSL_CTX *ctx, const struct web_config *cfg, char *err, size_t size)
{
    int mode = SSL_VERIFY_NONE;
    SSL_verify_cb callback = NULL;
    switch (cfg->client_auth) {
    case WEB_NO_CLIENT_CERT:
        break;
    case WEB_REQUEST_CLIENT_CERT:
        mode = SSL_VERIFY_PEER;
        callback = accept_any;
        break;
    case WEB_REQUIRE_ANY_CLIENT_CERT:
        mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        callback = accept_any;
        break;
    case WEB_VERIFY_CLIENT_CERT_IF_GIVEN:
        mode = SSL_VERIFY_PEER;
        break;
    case WEB_REQUIRE_AND_VERIFY_CLIENT_CERT:
        mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        break;
    }
    if (cfg->client_ca_file) {
        char what[ERR_LEN];
        snprintf(what, sizeof(what), "tls_server_config.client_ca_file %s", cfg->client_ca_file);
        if (SSL_CTX_load_verify_locations(ctx, cfg->client_ca_file, NULL) != 1) {
            openssl_error(err, size, what);
            return -1;
        }
        /* The CA names go into the certificate request, as hints. */
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->client_ca_file);
        if (!names) {
            openssl_error(err, size, what);
            return -1;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
    }
    SSL_CTX_set_verify(ctx, mode, callback);
    /* Resumed sessions of verified clients need an id context. */
    if (SSL_CTX_set_session_id_context(ctx, (const unsigned char *)SESSION_ID_CONTEXT,
                                       sizeof(SESSION_ID_CONTEXT) - 1) != 1) {
        openssl_error(err, size, "cannot set the session id context");
        return -1;
    }
    return 0;
}

/* Builds the server context for cfg (which has TLS on), first taking the
 * signatures of its files into sigs. NULL with err on failure. */
static SSL_CTX *build_tls(const struct web_config *cfg, struct file_sig *sigs, char *err,
                          size_t size)
{
    static const char *const keys[TLS_FILES] = {"cert_file", "key_file", "client_ca_file"};
    const char *paths[TLS_FILES];
    tls_paths(cfg, paths);
    for (size_t i = 0; i < TLS_FILES; i++)
        sig_of(paths[i], &sigs[i]);
    for (size_t i = 0; i < TLS_FILES; i++) {
        if (paths[i] && !sigs[i].present) {
            snprintf(err, size, "tls_server_config.%s %s: %s", keys[i], paths[i],
                     strerror(sigs[i].error));
            return NULL;
        }
    }

    ERR_clear_error();
    char what[ERR_LEN];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        openssl_error(err, size, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_default_passwd_cb(ctx, no_password);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 (cfg->prefer_server_ciphers ? SSL_OP_CIPHER_SERVER_PREFERENCE
                                                             : 0));
    /* Idle keep-alive connections give their read and write buffers back. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_set_min_proto_version(ctx, cfg->min_version) != 1 ||
        (cfg->max_version && SSL_CTX_set_max_proto_version(ctx, cfg->max_version) != 1)) {
        openssl_error(err, size, "tls_server_config.min_version/max_version");
        goto fail;
    }
    if (cfg->cipher_list && SSL_CTX_set_cipher_list(ctx, cfg->cipher_list) != 1) {
        openssl_error(err, size, "tls_server_config.cipher_suites");
        goto fail;
    }
    if (cfg->groups && SSL_CTX_set1_groups_list(ctx, cfg->groups) != 1) {
        openssl_error(err, size, "tls_server_config.curve_preferences");
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1) {
        snprintf(what, sizeof(what), "tls_server_config.cert_file %s", cfg->cert_file);
        openssl_error(err, size, what);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1) {
        snprintf(what, sizeof(what), "tls_server_config.key_file %s", cfg->key_file);
        openssl_error(err, size, what);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(what, sizeof(what), "tls_server_config.key_file %s does not match cert_file %s",
                 cfg->key_file, cfg->cert_file);
        openssl_error(err, size, what);
        goto fail;
    }
    if (setup_client_auth(ctx, cfg, err, size) == 0)
        return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Putting a config in force                                           */

static int bcrypt_cost(const char *hash)
{
    return (hash[4] - '0') * 10 + (hash[5] - '0');
}

/* Makes cfg (owned) and ctx (owned, may be NULL) the state in force, with
 * sigs the signatures of cfg's TLS files; the previous ones are released
 * and the password cache starts empty. -1 (nothing changed, cfg and ctx
 * still the caller's) when out of memory. */
static int install(struct web_security *s, struct web_config *cfg, SSL_CTX *ctx,
                   const struct file_sig *sigs)
{
    struct cached_password *cache = calloc(cfg->n_users ? cfg->n_users : 1, sizeof(*cache));
    if (!cache)
        return -1;
    int cost = 4;
    for (size_t i = 0; i < cfg->n_users; i++)
        if (bcrypt_cost(cfg->users[i].hash) > cost)
            cost = bcrypt_cost(cfg->users[i].hash);
    /* A well-formed hash at that cost, salt and hash all zero bits ('.');
     * what it matches does not matter: an unknown user is refused anyway. */
    memcpy(s->dummy_hash, "$2b$", 4);
    s->dummy_hash[4] = (char)('0' + cost / 10);
    s->dummy_hash[5] = (char)('0' + cost % 10);
    s->dummy_hash[6] = '$';
    memset(s->dummy_hash + 7, '.', BCRYPT_LEN - 7);
    s->dummy_hash[BCRYPT_LEN] = '\0';

    if (s->cache && s->config)
        OPENSSL_cleanse(s->cache, (s->config->n_users ? s->config->n_users : 1) *
                                      sizeof(*s->cache));
    free(s->cache);
    s->cache = cache;
    if (cfg != s->config)
        web_config_free(s->config);
    s->config = cfg;
    SSL_CTX_free(s->tls);
    s->tls = ctx;
    memcpy(s->tls_sigs, sigs, sizeof(s->tls_sigs));
    return 0;
}

/* Logs each of errors as one line about the web config. */
static void log_config_errors(const struct config_errors *errors)
{
    for (size_t i = 0; i < errors->count; i++)
        log_error("web config: %s", errors->messages[i]);
}

/* Tries to put cfg (owned: a newly read config, or the pending one) in
 * force. When its TLS files fail, it becomes the pending config. */
static void try_config(struct web_security *s, struct web_config *cfg)
{
    struct file_sig sigs[TLS_FILES] = {0};
    char err[ERR_LEN];
    SSL_CTX *ctx = NULL;
    if (cfg->tls && !(ctx = build_tls(cfg, sigs, err, sizeof(err)))) {
        log_error("web config %s: %s; keeping the previous TLS, users and headers until the "
                  "files load", s->path, err);
        if (cfg != s->pending) {
            web_config_free(s->pending);
            s->pending = cfg;
        }
        memcpy(s->pending_sigs, sigs, sizeof(s->pending_sigs));
        return;
    }
    if (install(s, cfg, ctx, sigs) != 0) {
        log_error("web config %s: out of memory; keeping the previous settings", s->path);
        SSL_CTX_free(ctx);
        if (cfg != s->pending)
            web_config_free(cfg);
        return;
    }
    if (cfg == s->pending)
        s->pending = NULL;
    log_info("web config %s: loaded (TLS %s, %zu user%s, %zu extra header%s)", s->path,
             cfg->tls ? "on" : "off", cfg->n_users, cfg->n_users == 1 ? "" : "s",
             cfg->n_headers, cfg->n_headers == 1 ? "" : "s");
}

/* The TLS files of the config in force changed: a new context from them. */
static void rotate_tls(struct web_security *s)
{
    struct file_sig sigs[TLS_FILES];
    char err[ERR_LEN];
    SSL_CTX *ctx = build_tls(s->config, sigs, err, sizeof(err));
    memcpy(s->tls_sigs, sigs, sizeof(s->tls_sigs));
    if (!ctx) {
        log_error("web config %s: %s; keeping the previous certificate", s->path, err);
        return;
    }
    SSL_CTX_free(s->tls);
    s->tls = ctx;
    log_info("web config %s: reloaded the changed TLS files", s->path);
}

/* ------------------------------------------------------------------ */
/* The API                                                             */

struct web_security *web_security_new(const char *path, char *err, size_t err_size)
{
    struct web_security *s = calloc(1, sizeof(*s));
    if (!s || !(s->crypt = calloc(1, sizeof(*s->crypt))) ||
        RAND_bytes(s->cache_key, sizeof(s->cache_key)) != 1) {
        snprintf(err, err_size, "out of memory or no randomness for the password cache");
        web_security_free(s);
        return NULL;
    }
    if (!path)
        return s;
    if (!(s->path = strdup(path))) {
        snprintf(err, err_size, "out of memory");
        web_security_free(s);
        return NULL;
    }
    sig_of(path, &s->config_sig);
    struct config_errors errors;
    struct web_config *cfg = web_config_load(path, &errors);
    if (!cfg) {
        /* The caller reports err; the rest would be lost. */
        if (errors.count > 1)
            log_config_errors(&errors);
        if (errors.count > 1)
            snprintf(err, err_size, "%s (and %zu more, logged above)", errors.messages[0],
                     errors.count - 1);
        else
            snprintf(err, err_size, "%s", errors.count ? errors.messages[0] : "out of memory");
        config_errors_free(&errors);
        web_security_free(s);
        return NULL;
    }
    struct file_sig sigs[TLS_FILES] = {0};
    SSL_CTX *ctx = NULL;
    if (cfg->tls && !(ctx = build_tls(cfg, sigs, err, err_size))) {
        web_config_free(cfg);
        web_security_free(s);
        return NULL;
    }
    if (install(s, cfg, ctx, sigs) != 0) {
        snprintf(err, err_size, "out of memory");
        SSL_CTX_free(ctx);
        web_config_free(cfg);
        web_security_free(s);
        return NULL;
    }
    return s;
}

void web_security_free(struct web_security *s)
{
    if (!s)
        return;
    if (s->cache && s->config)
        OPENSSL_cleanse(s->cache, (s->config->n_users ? s->config->n_users : 1) *
                                      sizeof(*s->cache));
    free(s->cache);
    OPENSSL_cleanse(s->cache_key, sizeof(s->cache_key));
    if (s->crypt)
        OPENSSL_cleanse(s->crypt, sizeof(*s->crypt));
    free(s->crypt);
    web_config_free(s->config);
    web_config_free(s->pending);
    SSL_CTX_free(s->tls);
    free(s->path);
    free(s);
}

void web_security_refresh(struct web_security *s)
{
    if (!s->path)
        return;
    struct file_sig now;
    sig_of(s->path, &now);
    if (!sig_equal(&now, &s->config_sig)) {
        s->config_sig = now;
        /* What waited for its files is no longer what the file says. */
        web_config_free(s->pending);
        s->pending = NULL;
        struct config_errors errors;
        struct web_config *cfg = web_config_load(s->path, &errors);
        if (!cfg) {
            log_config_errors(&errors);
            log_error("web config %s: %s; keeping the previous TLS, users and headers", s->path,
                      errors.count ? "not reloaded" : "out of memory");
            config_errors_free(&errors);
            return;
        }
        if (cfg->tls != s->config->tls) {
            /* Clients and the scrape config would have to switch scheme. */
            log_error("web config %s: a reload cannot turn TLS %s (restart ingotd for that); "
                      "keeping the previous TLS, users and headers",
                      s->path, cfg->tls ? "on" : "off");
            web_config_free(cfg);
            return;
        }
        try_config(s, cfg);
        return;
    }
    if (s->pending) {
        if (tls_files_changed(s->pending, s->pending_sigs))
            try_config(s, s->pending);
        return;
    }
    if (s->config->tls && tls_files_changed(s->config, s->tls_sigs))
        rotate_tls(s);
}

SSL_CTX *web_security_tls(const struct web_security *s)
{
    return s->tls;
}

size_t web_security_headers(const struct web_security *s, const struct web_header **headers)
{
    if (!s->config || s->config->n_headers == 0) {
        *headers = NULL;
        return 0;
    }
    *headers = s->config->headers;
    return s->config->n_headers;
}

/* ------------------------------------------------------------------ */
/* Basic authentication                                                */

static int base64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict standard base64 with padding: len a multiple of 4, '=' only at
 * the end. Writes at most len / 4 * 3 bytes to out. 0, or -1. */
static int base64_decode(const char *in, size_t len, unsigned char *out, size_t *out_len)
{
    if (len == 0 || len % 4)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t bits = 0;
        size_t pad = 0;
        for (size_t j = 0; j < 4; j++) {
            unsigned char c = (unsigned char)in[i + j];
            int v = 0;
            if (c == '=' && i + 4 == len && j >= 2)
                pad++;
            else if (pad || (v = base64_value(c)) < 0)
                return -1;
            bits = bits << 6 | (uint32_t)v;
        }
        out[n++] = (unsigned char)(bits >> 16);
        if (pad < 2)
            out[n++] = (unsigned char)(bits >> 8);
        if (pad < 1)
            out[n++] = (unsigned char)bits;
    }
    *out_len = n;
    return 0;
}

/* Index of the user named name, or -1. */
static int find_user(const struct web_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_users; i++)
        if (strcmp(cfg->users[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* True when password matches the bcrypt hash. */
static bool bcrypt_matches(struct web_security *s, const char *password, const char *hash)
{
    const char *out = crypt_r(password, hash, s->crypt);
    size_t len = strlen(hash);
    return out && strlen(out) == len && CRYPTO_memcmp(out, hash, len) == 0;
}

/* 0 when password (of password_len bytes) is user's, else -1. */
static int verify(struct web_security *s, const char *user, const char *password,
                  size_t password_len)
{
    int i = find_user(s->config, user);
    if (i < 0) {
        /* As long as a wrong password of a real user takes. */
        (void)bcrypt_matches(s, password, s->dummy_hash);
        return -1;
    }
    const char *hash = s->config->users[i].hash;
    struct cached_password *cached = &s->cache[i];
    unsigned char digest[DIGEST_LEN];
    unsigned int digest_len = 0;
    if (!HMAC(EVP_sha256(), s->cache_key, sizeof(s->cache_key), (const unsigned char *)password,
              password_len, digest, &digest_len) ||
        digest_len != DIGEST_LEN)
        return bcrypt_matches(s, password, hash) ? 0 : -1; /* no cache, still correct */
    int rc = -1;
    if (cached->valid && CRYPTO_memcmp(cached->digest, digest, DIGEST_LEN) == 0) {
        rc = 0;
    } else if (bcrypt_matches(s, password, hash)) {
        memcpy(cached->digest, digest, DIGEST_LEN);
        cached->valid = true;
        rc = 0;
    }
    OPENSSL_cleanse(digest, sizeof(digest));
    return rc;
}

int web_security_check(struct web_security *s, const char *authorization)
{
    if (!s->config || s->config->n_users == 0)
        return 0;
    if (!authorization || strncasecmp(authorization, "Basic ", 6) != 0)
        return -1;
    const char *b64 = authorization + 6;
    b64 += strspn(b64, " ");
    size_t len = strlen(b64);
    while (len && (b64[len - 1] == ' ' || b64[len - 1] == '\t'))
        len--;
    unsigned char credentials[MAX_CREDENTIALS + 1];
    size_t n;
    if (len > MAX_BASE64 || base64_decode(b64, len, credentials, &n) != 0)
        return -1;
    int rc = -1;
    unsigned char *colon = memchr(credentials, ':', n);
    /* A NUL would cut the password short for crypt_r. */
    if (colon && !memchr(credentials, '\0', n)) {
        *colon = '\0';
        credentials[n] = '\0';
        rc = verify(s, (const char *)credentials, (const char *)colon + 1,
                    n - (size_t)(colon + 1 - credentials));
    }
    OPENSSL_cleanse(credentials, sizeof(credentials));
    return rc;
}
