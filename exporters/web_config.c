/*
 * web_config: reads the --web.config.file (exporter-toolkit's format) with
 * the key tables of yaml_walk.c, so its errors look like the main config's:
 * "file:line:column: key.path: message", all of them in one pass, unknown
 * keys with a "did you mean".
 *
 *   tls_server_config:          TLS is on when cert_file and key_file are set
 *     cert_file, key_file       file names, both or neither; relative ones are
 *                               resolved against this file's directory
 *     client_auth_type          NoClientCert [default] | RequestClientCert |
 *                               RequireAnyClientCert | VerifyClientCertIfGiven |
 *                               RequireAndVerifyClientCert
 *     client_ca_file            required by the two Verify* types; an error
 *                               with NoClientCert (as in exporter-toolkit)
 *     min_version, max_version  TLS10 | TLS11 | TLS12 | TLS13 [TLS12, none]
 *     cipher_suites             Go (IANA) names, mapped to OpenSSL's for
 *                               TLS 1.2 and below; TLS 1.3 names are accepted
 *                               and, as in Go, not configurable
 *     prefer_server_cipher_suites  boolean [true]
 *     curve_preferences         CurveP256 | CurveP384 | CurveP521 | X25519
 *   http_server_config:
 *     headers                   name: value, added to every response; blank
 *                               values are left out (exporter-toolkit does so)
 *     http2                     boolean, read and ignored (HTTP/1.1 only)
 *   basic_auth_users            name: bcrypt hash
 *
 * exporter-toolkit keys ingotd refuses with a reason: tls_server_config's
 * cert, key, client_ca (inline PEM) and client_allowed_sans, and rate_limit.
 * An empty (null) tls_server_config, http_server_config, headers or
 * basic_auth_users means none, as it does for exporter-toolkit.
 */
#include "web_config.h"

#include "yaml_walk.h"

#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ARRAY_LEN(a) YAML_WALK_ARRAY_LEN(a)
#define BCRYPT_LEN 60
#define LIST_LEN 4096 /* cipher or group names joined by ':' */

static const char *const client_auth_names[] = {
    [WEB_NO_CLIENT_CERT] = "NoClientCert",
    [WEB_REQUEST_CLIENT_CERT] = "RequestClientCert",
    [WEB_REQUIRE_ANY_CLIENT_CERT] = "RequireAnyClientCert",
    [WEB_VERIFY_CLIENT_CERT_IF_GIVEN] = "VerifyClientCertIfGiven",
    [WEB_REQUIRE_AND_VERIFY_CLIENT_CERT] = "RequireAndVerifyClientCert",
};

static const char *const version_names[] = {"TLS10", "TLS11", "TLS12", "TLS13"};
static const int version_numbers[] = {TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION,
                                      TLS1_3_VERSION};
_Static_assert(ARRAY_LEN(version_names) == ARRAY_LEN(version_numbers), "a number per name");

/* Go's curve names and OpenSSL's for the same groups. */
static const char *const curve_names[] = {"CurveP256", "CurveP384", "CurveP521", "X25519"};
static const char *const group_names[] = {"P-256", "P-384", "P-521", "X25519"};
_Static_assert(ARRAY_LEN(curve_names) == ARRAY_LEN(group_names), "a group per curve");

/* Go's TLS 1.3 suites: accepted in cipher_suites and, as in Go, ignored. */
static const char *const tls13_suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                           "TLS_CHACHA20_POLY1305_SHA256"};

/* Response headers the HTTP server writes itself (framing, negotiation,
 * authentication): a second copy from the config would break responses. */
static const char *const reserved_headers[] = {
    "Allow", "Connection", "Content-Encoding", "Content-Length", "Content-Type", "Date",
    "Keep-Alive", "Trailer", "Transfer-Encoding", "Upgrade", "Vary", "WWW-Authenticate",
};

static const char TOKEN_CHARS[] = "!#$%&'*+-.^_`|~0123456789"
                                  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char BCRYPT_CHARS[] = "./0123456789"
                                   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/* The loader's context (walk->user). */
struct loader {
    struct web_config *cfg;
    size_t dir_len; /* of the config path up to and including its last '/' */
};

/* ------------------------------------------------------------------ */
/* Values                                                              */

static const char *file_problem(const char *s)
{
    return *s ? NULL : "is empty (expected a file name)";
}

/* A file name, resolved against the web config file's directory. */
static int parse_file(struct yaml_walk *w, yaml_node_t *value, const char *path,
                      const struct yaml_walk_key *key, void *field)
{
    (void)key;
    const struct loader *ld = w->user;
    const char *s = yaml_walk_read_text(w, value, path, file_problem);
    if (!s)
        return -1;
    if (s[0] == '/' || ld->dir_len == 0)
        return yaml_walk_store_string(w, s, field);
    char *resolved;
    if (asprintf(&resolved, "%.*s%s", (int)ld->dir_len, ld->cfg->path, s) < 0) {
        yaml_walk_out_of_memory(w);
        return -1;
    }
    free(*(char **)field);
    *(char **)field = resolved;
    return 0;
}

static int parse_client_auth(struct yaml_walk *w, yaml_node_t *value, const char *path,
                             const struct yaml_walk_key *key, void *field)
{
    int i = yaml_walk_read_choice(w, value, path, key->name, client_auth_names,
                                  ARRAY_LEN(client_auth_names));
    if (i < 0)
        return -1;
    *(enum web_client_auth *)field = (enum web_client_auth)i;
    return 0;
}

static int parse_version(struct yaml_walk *w, yaml_node_t *value, const char *path,
                         const struct yaml_walk_key *key, void *field)
{
    (void)key;
    int i = yaml_walk_read_choice(w, value, path, "TLS version", version_names,
                                  ARRAY_LEN(version_names));
    if (i < 0)
        return -1;
    *(int *)field = version_numbers[i];
    return 0;
}

static const char *version_name(int version)
{
    for (size_t i = 0; i < ARRAY_LEN(version_numbers); i++)
        if (version_numbers[i] == version)
            return version_names[i];
    return "?";
}

static bool is_tls13_suite(const char *s)
{
    for (size_t i = 0; i < ARRAY_LEN(tls13_suites); i++)
        if (strcmp(s, tls13_suites[i]) == 0)
            return true;
    return false;
}

static const char *cipher_problem(const char *s)
{
    if (is_tls13_suite(s) || strcmp(OPENSSL_cipher_name(s), "(NONE)") != 0)
        return NULL;
    return "is not a cipher suite this OpenSSL knows (expected a Go name such as "
           "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)";
}

/* Appends name to the ':'-separated list in buf; -1 when it does not fit. */
static int append_name(char *buf, size_t size, const char *name)
{
    size_t used = strlen(buf);
    int n = snprintf(buf + used, size - used, "%s%s", used ? ":" : "", name);
    return n < 0 || (size_t)n >= size - used ? -1 : 0;
}

/* cipher_suites into the OpenSSL cipher list *field (NULL when only TLS 1.3
 * suites are named: those stay OpenSSL's). */
static int parse_ciphers(struct yaml_walk *w, yaml_node_t *value, const char *path,
                         const struct yaml_walk_key *key, void *field)
{
    (void)key;
    char **names = NULL;
    size_t n = 0;
    int rc = yaml_walk_read_string_list(w, value, path, "cipher suite", cipher_problem, 64,
                                        &names, &n);
    char list[LIST_LEN] = "";
    for (size_t i = 0; i < n; i++) {
        if (rc == 0 && !is_tls13_suite(names[i]) &&
            append_name(list, sizeof(list), OPENSSL_cipher_name(names[i]))) {
            yaml_walk_error_at(w, value->start_mark, path, "too many cipher suites");
            rc = -1;
        }
        free(names[i]);
    }
    free(names);
    if (rc == 0 && list[0])
        rc = yaml_walk_store_string(w, list, field);
    return rc;
}

/* curve_preferences: unique Go curve names into the OpenSSL group list. */
static int parse_curves(struct yaml_walk *w, yaml_node_t *value, const char *path,
                        const struct yaml_walk_key *key, void *field)
{
    (void)key;
    if (!yaml_walk_expect_type(w, value, path, YAML_SEQUENCE_NODE))
        return -1;
    if (yaml_walk_item_count(value) == 0) {
        yaml_walk_error_at(w, value->start_mark, path,
                           "found an empty list, expected at least one curve");
        return -1;
    }
    int rc = 0;
    char list[LIST_LEN] = "";
    for (size_t i = 0; i < yaml_walk_item_count(value); i++) {
        yaml_node_t *item = yaml_walk_item(w, value, i);
        char child[YAML_WALK_PATH_LEN];
        yaml_walk_item_path(child, path, i);
        int c = yaml_walk_read_choice(w, item, child, "curve", curve_names,
                                      ARRAY_LEN(curve_names));
        if (c < 0) {
            rc = -1;
            continue;
        }
        size_t j = 0;
        while (j < i && !yaml_walk_same_text(yaml_walk_item(w, value, j), item))
            j++;
        if (j < i) {
            yaml_mark_t first = yaml_walk_item(w, value, j)->start_mark;
            yaml_walk_error_at(w, item->start_mark, child,
                               "duplicate curve %s (first at line %zu, column %zu)",
                               yaml_walk_quote(item).s, first.line + 1, first.column + 1);
            rc = -1;
            continue;
        }
        append_name(list, sizeof(list), group_names[c]); /* four short names fit */
    }
    return rc ? -1 : yaml_walk_store_string(w, list, field);
}

/* http2: checked to be a boolean, then ignored (ingotd speaks HTTP/1.1). */
static int parse_ignored_bool(struct yaml_walk *w, yaml_node_t *value, const char *path,
                              const struct yaml_walk_key *key, void *field)
{
    (void)key;
    (void)field;
    bool ignored;
    return yaml_walk_read_bool(w, value, path, &ignored);
}

/* ------------------------------------------------------------------ */
/* Headers and users                                                   */

static bool reserved_header(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(reserved_headers); i++)
        if (strcasecmp(name, reserved_headers[i]) == 0)
            return true;
    return false;
}

/* True when s has a control character other than those in allowed. */
static bool has_control(const char *s, const char *allowed)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 || *p == 0x7F) && !strchr(allowed, *p))
            return true;
    return false;
}

/* What header_entry and user_entry need besides the config. */
struct entries {
    struct web_config *cfg;
    yaml_node_t *map;   /* the mapping being read */
    const char *path;   /* its key path */
};

/* One "Name: value" of http_server_config.headers; a blank value is left
 * out. Names are unique in any case. */
static int header_entry(struct yaml_walk *w, yaml_node_t *key, yaml_node_t *value,
                        const char *path, const struct yaml_walk_key *row, void *ctx)
{
    (void)row;
    struct entries *e = ctx;
    const char *name = yaml_walk_text(key);
    if (!*name || strspn(name, TOKEN_CHARS) != strlen(name)) {
        yaml_walk_error_at(w, key->start_mark, e->path,
                           "header name %s is not an HTTP token (expected letters, digits and "
                           "!#$%%&'*+-.^_`|~, without spaces)",
                           yaml_walk_quote(key).s);
        return -1;
    }
    if (reserved_header(name)) {
        yaml_walk_error_at(w, key->start_mark, e->path, "header %s is set by ingotd itself",
                           yaml_walk_quote(key).s);
        return -1;
    }
    for (yaml_node_pair_t *p = e->map->data.mapping.pairs.start; p < e->map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *earlier = yaml_walk_node(w, p->key);
        if (earlier == key)
            break;
        if (earlier->type == YAML_SCALAR_NODE &&
            strcasecmp(yaml_walk_text(earlier), name) == 0) {
            yaml_walk_error_at(w, key->start_mark, e->path,
                               "duplicate header %s (first at line %zu, column %zu)",
                               yaml_walk_quote(key).s, earlier->start_mark.line + 1,
                               earlier->start_mark.column + 1);
            return -1;
        }
    }
    if (yaml_walk_is_null(value))
        return 0;
    const char *text = yaml_walk_scalar(w, value, path, "a header value");
    if (!text)
        return -1;
    if (has_control(text, "\t")) {
        yaml_walk_error_at(w, value->start_mark, path,
                           "%s contains a line break or control character (expected one line)",
                           yaml_walk_quote(value).s);
        return -1;
    }
    if (!*text)
        return 0;
    struct web_header *h = &e->cfg->headers[e->cfg->n_headers];
    if (!(h->name = yaml_walk_strdup(w, name)) || !(h->value = yaml_walk_strdup(w, text))) {
        free(h->name);
        h->name = NULL;
        return -1;
    }
    e->cfg->n_headers++;
    return 0;
}

/* A mapping's value that may be null (none), with room for one item per
 * entry allocated into *items. 1 when there are entries to read, 0 when
 * there are none, -1 after reporting. */
static int entries_start(struct yaml_walk *w, yaml_node_t *value, const char *path,
                         size_t size, void **items)
{
    if (yaml_walk_is_null(value))
        return 0;
    if (!yaml_walk_expect_type(w, value, path, YAML_MAPPING_NODE))
        return -1;
    if (!(*items = yaml_walk_calloc(w, yaml_walk_pair_count(value), size)))
        return -1;
    return 1;
}

static int parse_headers(struct yaml_walk *w, yaml_node_t *value, const char *path,
                         const struct yaml_walk_key *key, void *field)
{
    struct web_config *cfg = field;
    int rc = entries_start(w, value, path, sizeof(*cfg->headers), (void **)&cfg->headers);
    struct entries e = {cfg, value, path};
    return rc <= 0 ? rc : yaml_walk_entries(w, value, path, header_entry, key, &e);
}

/* $2a$, $2b$ or $2y$, a two-digit cost 04..31, '$', 22 characters of salt
 * and 31 of hash. */
static bool bcrypt_valid(const char *s)
{
    if (strlen(s) != BCRYPT_LEN || s[0] != '$' || s[1] != '2' || !strchr("aby", s[2]) ||
        s[3] != '$' || s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' || s[6] != '$')
        return false;
    int cost = (s[4] - '0') * 10 + (s[5] - '0');
    return cost >= 4 && cost <= 31 && strspn(s + 7, BCRYPT_CHARS) == BCRYPT_LEN - 7;
}

/* One "name: hash" of basic_auth_users. The hash is never quoted in a
 * message: it is a secret. */
static int user_entry(struct yaml_walk *w, yaml_node_t *key, yaml_node_t *value,
                      const char *path, const struct yaml_walk_key *row, void *ctx)
{
    (void)row;
    struct entries *e = ctx;
    const char *name = yaml_walk_text(key);
    int rc = 0;
    if (!*name || strchr(name, ':') || has_control(name, "")) {
        yaml_walk_error_at(w, key->start_mark, e->path,
                           "user name %s is not valid (expected at least one character, "
                           "no ':' and no control characters)",
                           yaml_walk_quote(key).s);
        rc = -1;
    }
    const char *hash = yaml_walk_scalar(w, value, path, "a bcrypt hash");
    if (!hash)
        return -1;
    if (!bcrypt_valid(hash)) {
        yaml_walk_error_at(w, value->start_mark, path,
                           "the value is not a bcrypt hash (expected $2y$, $2b$ or $2a$, a cost "
                           "04..31, $ and 53 characters of [./A-Za-z0-9], as from htpasswd "
                           "-nBC 10 USER)");
        return -1;
    }
    if (rc)
        return -1;
    struct web_user *u = &e->cfg->users[e->cfg->n_users];
    if (!(u->name = yaml_walk_strdup(w, name)) || !(u->hash = yaml_walk_strdup(w, hash))) {
        free(u->name);
        u->name = NULL;
        return -1;
    }
    e->cfg->n_users++;
    return 0;
}

static int parse_users(struct yaml_walk *w, yaml_node_t *value, const char *path,
                       const struct yaml_walk_key *key, void *field)
{
    struct web_config *cfg = field;
    int rc = entries_start(w, value, path, sizeof(*cfg->users), (void **)&cfg->users);
    struct entries e = {cfg, value, path};
    return rc <= 0 ? rc : yaml_walk_entries(w, value, path, user_entry, key, &e);
}

/* A section mapping; null means the section is absent. */
static int parse_section(struct yaml_walk *w, yaml_node_t *value, const char *path,
                         const struct yaml_walk_key *key, void *field)
{
    return yaml_walk_is_null(value) ? 0 : yaml_walk_mapping(w, value, path, key->spec, field);
}

/* ------------------------------------------------------------------ */
/* Tables (every one fills struct web_config)                          */

enum { ROW_CERT_FILE, ROW_KEY_FILE, ROW_CLIENT_AUTH, ROW_CLIENT_CA_FILE, ROW_MIN_VERSION,
       ROW_MAX_VERSION, ROW_CIPHER_SUITES, ROW_PREFER_SERVER, ROW_CURVES, ROW_CERT, ROW_KEY,
       ROW_CLIENT_CA, ROW_CLIENT_ALLOWED_SANS, ROW_KEY_COUNT };

static const struct yaml_walk_key tls_keys[] = {
    [ROW_CERT_FILE] = {.name = "cert_file", .parse = parse_file,
                       .offset = offsetof(struct web_config, cert_file)},
    [ROW_KEY_FILE] = {.name = "key_file", .parse = parse_file,
                      .offset = offsetof(struct web_config, key_file)},
    [ROW_CLIENT_AUTH] = {.name = "client_auth_type", .parse = parse_client_auth,
                         .offset = offsetof(struct web_config, client_auth)},
    [ROW_CLIENT_CA_FILE] = {.name = "client_ca_file", .parse = parse_file,
                            .offset = offsetof(struct web_config, client_ca_file)},
    [ROW_MIN_VERSION] = {.name = "min_version", .parse = parse_version,
                         .offset = offsetof(struct web_config, min_version)},
    [ROW_MAX_VERSION] = {.name = "max_version", .parse = parse_version,
                         .offset = offsetof(struct web_config, max_version)},
    [ROW_CIPHER_SUITES] = {.name = "cipher_suites", .parse = parse_ciphers,
                           .offset = offsetof(struct web_config, cipher_list)},
    [ROW_PREFER_SERVER] = {.name = "prefer_server_cipher_suites", .parse = yaml_walk_parse_bool,
                           .offset = offsetof(struct web_config, prefer_server_ciphers)},
    [ROW_CURVES] = {.name = "curve_preferences", .parse = parse_curves,
                    .offset = offsetof(struct web_config, groups)},
    [ROW_CERT] = {.name = "cert", .unsupported = "ingotd reads the certificate from cert_file"},
    [ROW_KEY] = {.name = "key", .unsupported = "ingotd reads the key from key_file"},
    [ROW_CLIENT_CA] = {.name = "client_ca",
                       .unsupported = "ingotd reads client CAs from client_ca_file"},
    [ROW_CLIENT_ALLOWED_SANS] = {.name = "client_allowed_sans",
                                 .unsupported = "ingotd does not match client certificate "
                                                "names; give clients a CA of their own"},
};
_Static_assert(ARRAY_LEN(tls_keys) == ROW_KEY_COUNT, "a row per ROW_ index");
YAML_WALK_FITS(tls_keys);

/* Rules across the keys of tls_server_config. */
static int tls_check(struct yaml_walk *w, yaml_node_t *map, const char *path,
                     const struct yaml_walk_seen *seen, void *obj)
{
    struct web_config *cfg = obj;
    int rc = 0;
    bool cert = seen[ROW_CERT_FILE].value, key = seen[ROW_KEY_FILE].value;
    if (cert != key) {
        yaml_walk_error_at(w, map->start_mark, path, "missing required key \"%s\" (%s needs it)",
                           cert ? "key_file" : "cert_file", cert ? "cert_file" : "key_file");
        rc = -1;
    } else if (!cert && yaml_walk_pair_count(map) > 0) {
        yaml_walk_error_at(w, map->start_mark, path,
                           "missing required keys \"cert_file\" and \"key_file\" (TLS needs both)");
        rc = -1;
    }
    cfg->tls = seen[ROW_CERT_FILE].state == YAML_WALK_VALID &&
               seen[ROW_KEY_FILE].state == YAML_WALK_VALID;

    const struct yaml_walk_seen *auth = &seen[ROW_CLIENT_AUTH], *ca = &seen[ROW_CLIENT_CA_FILE];
    bool verifies = cfg->client_auth == WEB_VERIFY_CLIENT_CERT_IF_GIVEN ||
                    cfg->client_auth == WEB_REQUIRE_AND_VERIFY_CLIENT_CERT;
    if (auth->state == YAML_WALK_VALID && verifies && !ca->value) {
        yaml_walk_error_at(w, map->start_mark, path,
                           "missing required key \"client_ca_file\" (client_auth_type %s needs it)",
                           client_auth_names[cfg->client_auth]);
        rc = -1;
    }
    if (ca->value && auth->state != YAML_WALK_INVALID && cfg->client_auth == WEB_NO_CLIENT_CERT) {
        yaml_walk_error_at(w, ca->key->start_mark, path,
                           "key \"client_ca_file\" needs a client_auth_type other than %s",
                           client_auth_names[WEB_NO_CLIENT_CERT]);
        rc = -1;
    }

    const struct yaml_walk_seen *max = &seen[ROW_MAX_VERSION];
    if (max->state == YAML_WALK_VALID && seen[ROW_MIN_VERSION].state != YAML_WALK_INVALID &&
        cfg->max_version < cfg->min_version) {
        char child[YAML_WALK_PATH_LEN];
        yaml_walk_child_path(child, path, "max_version");
        yaml_walk_error_at(w, max->value->start_mark, child, "%s is below min_version %s",
                           yaml_walk_text(max->value), version_name(cfg->min_version));
        rc = -1;
    }
    return rc;
}

static const struct yaml_walk_spec tls_spec = {
    .keys = tls_keys, .n_keys = ARRAY_LEN(tls_keys), .check = tls_check,
};

static const struct yaml_walk_key http_keys[] = {
    {.name = "headers", .parse = parse_headers},
    {.name = "http2", .parse = parse_ignored_bool},
};
YAML_WALK_FITS(http_keys);

static const struct yaml_walk_spec http_spec = {.keys = http_keys, .n_keys = ARRAY_LEN(http_keys)};

static const struct yaml_walk_key top_keys[] = {
    {.name = "tls_server_config", .parse = parse_section, .spec = &tls_spec},
    {.name = "http_server_config", .parse = parse_section, .spec = &http_spec},
    {.name = "basic_auth_users", .parse = parse_users},
    {.name = "rate_limit", .unsupported = "ingotd does not rate-limit requests; the main "
                                          "config's web.max_connections caps connections"},
};
YAML_WALK_FITS(top_keys);

static int top_init(struct yaml_walk *w, void *obj)
{
    (void)w;
    struct web_config *cfg = obj;
    cfg->min_version = TLS1_2_VERSION;
    cfg->prefer_server_ciphers = true;
    return 0;
}

static const struct yaml_walk_spec top_spec = {
    .keys = top_keys, .n_keys = ARRAY_LEN(top_keys), .init = top_init,
};

/* ------------------------------------------------------------------ */
/* Loading                                                             */

static void read_root(struct yaml_walk *w, yaml_node_t *root)
{
    struct loader *ld = w->user;
    if (!(ld->cfg = calloc(1, sizeof(*ld->cfg))) || !(ld->cfg->path = strdup(w->file))) {
        yaml_walk_out_of_memory(w);
        return;
    }
    yaml_walk_mapping(w, root, "", &top_spec, ld->cfg);
}

struct web_config *web_config_load(const char *path, struct config_errors *errors)
{
    const char *slash = strrchr(path, '/');
    struct loader ld = {.dir_len = slash ? (size_t)(slash - path) + 1 : 0};
    struct yaml_walk w;
    yaml_walk_init(&w, path, &ld);
    yaml_walk_file(&w, read_root);
    if (yaml_walk_finish(&w, errors)) {
        web_config_free(ld.cfg);
        return NULL;
    }
    return ld.cfg;
}

void web_config_free(struct web_config *config)
{
    if (!config)
        return;
    free(config->path);
    free(config->cert_file);
    free(config->key_file);
    free(config->client_ca_file);
    for (size_t i = 0; i < config->n_users; i++) {
        free(config->users[i].name);
        free(config->users[i].hash);
    }
    free(config->users);
    for (size_t i = 0; i < config->n_headers; i++) {
        free(config->headers[i].name);
        free(config->headers[i].value);
    }
    free(config->headers);
    free(config->cipher_list);
    free(config->groups);
    free(config);
}

const char *web_client_auth_name(enum web_client_auth auth)
{
    return (size_t)auth < ARRAY_LEN(client_auth_names) ? client_auth_names[auth] : "unknown";
}
