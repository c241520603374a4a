/*
 * web_config: the --web.config.file of ingotd, in Prometheus
 * exporter-toolkit's format so operators can reuse theirs: TLS
 * (tls_server_config), extra response headers (http_server_config.headers)
 * and basic authentication (basic_auth_users with bcrypt hashes). Loaded and
 * validated in one pass like the main config: every problem reported as
 * "file:line:column: key.path: message". A loaded web_config is immutable;
 * web_security.c turns it into a TLS context and an authorization check.
 */
#ifndef INGOT_WEB_CONFIG_H
#define INGOT_WEB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h" /* struct config_errors, config_errors_free */

enum web_client_auth {
    WEB_NO_CLIENT_CERT,
    WEB_REQUEST_CLIENT_CERT,
    WEB_REQUIRE_ANY_CLIENT_CERT,
    WEB_VERIFY_CLIENT_CERT_IF_GIVEN,
    WEB_REQUIRE_AND_VERIFY_CLIENT_CERT,
};

struct web_user {
    char *name; /* non-empty, no ':' and no control characters */
    char *hash; /* bcrypt: $2a$, $2b$ or $2y$, cost 04..31, 53 characters */
};

struct web_header {
    char *name;  /* an HTTP token, not one ingotd sets itself */
    char *value; /* non-empty, no control characters but tab */
};

struct web_config {
    char *path;
    bool tls;                 /* cert_file and key_file are set */
    char *cert_file, *key_file, *client_ca_file; /* resolved; NULL when absent */
    enum web_client_auth client_auth;
    int min_version, max_version; /* OpenSSL TLS1_x_VERSION; max 0 = none */
    struct web_user *users;       /* in file order, unique names */
    size_t n_users;
    struct web_header *headers;   /* in file order, unique names (any case) */
    size_t n_headers;
    /* The exporter-toolkit options ingotd maps onto OpenSSL. */
    char *cipher_list; /* cipher_suites as OpenSSL names joined by ':'; NULL: default */
    char *groups;      /* curve_preferences as OpenSSL group names joined by ':'; NULL: default */
    bool prefer_server_ciphers; /* prefer_server_cipher_suites, default true */
};

/* Reads and validates the web config file at path. Relative cert_file,
 * key_file and client_ca_file are resolved against the file's directory.
 * On success returns a web_config owned by the caller (web_config_free) and
 * leaves errors empty; on failure returns NULL and fills errors (release
 * with config_errors_free). */
struct web_config *web_config_load(const char *path, struct config_errors *errors);
void web_config_free(struct web_config *config);

/* The exporter-toolkit spelling of a client_auth_type ("NoClientCert", ...). */
const char *web_client_auth_name(enum web_client_auth auth);

#endif
