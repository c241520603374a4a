/*
 * push_api: POST /api/v1/ingest, the HTTP side of push ingestion
 * (collector/push.h): the bearer token, the Content-Type, and the answer.
 *
 * The path authenticates with push sources' bearer tokens only: the web
 * config's basic_auth_users do not apply to it (a request carries one
 * Authorization header, and a plant should not hold the scrapers'
 * password), while its TLS and client-certificate rules apply to every
 * connection, pushes included.
 */
#ifndef INGOT_PUSH_API_H
#define INGOT_PUSH_API_H

#include <stddef.h>

#include "config.h"
#include "http_server.h"
#include "push.h"

#define PUSH_API_PATH "/api/v1/ingest"

/* Answers a POST to PUSH_API_PATH (the caller has checked path and
 * method), always with a JSON body:
 *   202 {"accepted": N, "rejected": M, "rejections": [{"index": I, "reason":
 *       "R"}, ...], "truncated": false}: the document was read; rejections
 *       lists at most PUSH_MAX_LISTED_REJECTIONS, in document order, and
 *       truncated is true when it lists fewer than M;
 *   400 {"error": "..."}: the document does not parse (the parser's line);
 *       nothing applied;
 *   401 (WWW-Authenticate: Bearer realm="ingot"): no Authorization, not
 *       "Bearer <token>", or a token no push source has;
 *   403: a known token, but every record of the document is for a plant
 *       its source may not write; nothing applied;
 *   415: a Content-Type other than application/json or text/csv (a charset
 *       parameter other than utf-8 or us-ascii included), or none.
 * In that order: a client without a valid token learns nothing else. */
void push_api_serve(struct push *push, const struct http_request *req, struct http_response *r);

/* The token of an Authorization value "Bearer <token>": the scheme in any
 * case, one or more spaces, then a token of printable ASCII without spaces
 * (RFC 6750's b64token and more), trailing spaces and tabs ignored. Sets
 * *token and *len and returns 0, or -1 when authorization is NULL or
 * anything else. */
int push_api_bearer(const char *authorization, const char **token, size_t *len);

/* The document format a Content-Type value names: application/json (JSON
 * v1) or text/csv, in any case, with any parameters, of which charset must
 * be utf-8 or us-ascii (quoted or not, any case). Returns 0 and sets
 * *format, or -1 with the reason in err (err_size may be 0). */
int push_api_content_type(const char *content_type, enum feed_format *format, char *err,
                          size_t err_size);

#endif
