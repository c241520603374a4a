/*
 * web_security: what the HTTP server asks about a connection or a request,
 * built from the --web.config.file (web_config.h): the TLS context to accept
 * with, whether an Authorization header lets a request in (HTTP basic auth
 * against bcrypt hashes, with verified passwords cached), and the extra
 * response headers. The web config, certificate, key and CA files are
 * re-read when they change, so certificates rotate without a restart.
 *
 * Not thread-safe: one event loop thread calls everything.
 */
#ifndef INGOT_WEB_SECURITY_H
#define INGOT_WEB_SECURITY_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "web_config.h"

struct web_security;

/* Loads the web config at path (NULL: no TLS, no auth, no extra headers)
 * and builds its TLS context. On failure returns NULL with the first
 * problem in err; when the web config has more than one, all are logged
 * and err ends in " (and N more, logged above)". Release with
 * web_security_free. */
struct web_security *web_security_new(const char *path, char *err, size_t err_size);
void web_security_free(struct web_security *security);

/* Re-reads the web config when it changed (device, inode, size, mtime or
 * ctime), and the certificate, key and CA files when they changed. A
 * failure is logged and the previous state kept; the failed attempt is
 * remembered, so it is retried only when a file changes again. A new web
 * config that parses but whose TLS files fail is kept aside and retried
 * when those files change. A new web config that would turn TLS on or off
 * is refused: that takes a restart. Costs a few stat calls when nothing
 * changed; the server calls it once per new connection. */
void web_security_refresh(struct web_security *security);

/* The current SSL_CTX, NULL when TLS is off. Borrowed: SSL_new() from it
 * per connection (an SSL holds a reference to its SSL_CTX, so a rotation
 * never pulls the context from under a live connection); SSL_CTX_up_ref()
 * to keep it longer than until the next web_security_refresh. */
SSL_CTX *web_security_tls(const struct web_security *security);

/* 0 when authorization (the Authorization header's value, or NULL) lets a
 * request in: no users are configured, or it carries Basic credentials of a
 * configured user whose bcrypt hash matches. -1 otherwise (missing,
 * malformed, unknown user, wrong password). A verified password is cached
 * per user as an HMAC-SHA-256 under a random per-process key, compared in
 * constant time, so a scrape does not cost a bcrypt; the cache is dropped
 * when the web config reloads. An unknown user costs one bcrypt against a
 * dummy hash (at the highest configured cost), so timing does not reveal
 * which users exist. */
int web_security_check(struct web_security *security, const char *authorization);

/* The configured extra response headers into *headers (NULL when none);
 * returns their count. Valid until the next web_security_refresh. */
size_t web_security_headers(const struct web_security *security,
                            const struct web_header **headers);

#endif
