/* profile.c - the worker's own work for one kind of request, without nginx,
 * libfcgi or a socket: N requests through route_dispatch() over a real
 * SQLite store in a temporary directory, with an editor's Bearer token, so
 * that `valgrind --tool=callgrind` counts the instructions each costs
 * (counts repeat exactly on a noisy machine; docs/PERFORMANCE.md).
 *
 *   bench_profile KIND N        KIND: get (GET /cliente), v1get, v1post, v1patch
 *
 * Run it twice (N and 10 N) and subtract: what is left is the cost of 9 N
 * requests, set-up excluded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accounts.h"
#include "http.h"
#include "route.h"
#include "store.h"

static int sink(void *ctx, const char *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
    return 0;
}

static int send_one(struct store *s, struct http_request *q, const char *method, const char *path,
                    const char *query, const char *body)
{
    struct http_response res;

    q->method_name = method;
    q->method = http_method_parse(method);
    q->path = q->raw_uri = path;
    q->query = query;
    q->content_type = body ? "application/json" : NULL;
    q->body = body;
    q->body_len = body ? strlen(body) : 0;
    q->client_addr = "192.0.2.7";
    q->nparams = 0;
    http_set_request_id(q, "profile");
    http_response_init(&res, sink, NULL, false);
    return route_dispatch(s, q, &res);
}

int main(int argc, char **argv)
{
    char dir[] = "/tmp/clientes-profile.XXXXXX", url[200], token[TOKEN_TEXT_LEN + 1], bearer[200];
    char err[512] = "", path[128], body[400], etag[64];
    const char *why = NULL;
    struct accounts_config cfg;
    struct principal op;
    struct store *s;
    long n;
    int bad = 0;

    if (argc != 3 || (n = strtol(argv[2], NULL, 10)) <= 0) {
        fprintf(stderr, "usage: bench_profile get|v1get|v1post|v1patch N\n");
        return 2;
    }
    if (!mkdtemp(dir))
        return 1;
    snprintf(url, sizeof(url), "sqlite://%s/p.db", dir);
    if (account_init() != CL_OK || store_open(url, &s, err, sizeof(err)) != CL_OK) {
        fprintf(stderr, "bench_profile: %s\n", err);
        return 1;
    }
    accounts_config_default(&cfg);
    principal_operator(&op);
    if (accounts_token_create(s, &cfg, &op, "profile", ROLE_EDITOR, NULL, 0, token, NULL, &why)) {
        fprintf(stderr, "bench_profile: token: %s\n", why ? why : store_errmsg(s));
        return 1;
    }
    snprintf(bearer, sizeof(bearer), "Bearer %s", token);
    struct http_request *q = calloc(1, sizeof(*q));
    if (!q)
        return 1;
    q->authorization = bearer;
    for (long i = 0; i < n; i++) {
        int st;
        if (strcmp(argv[1], "get") == 0) {
            st = send_one(s, q, "GET", "/cliente", "mail=ejemplo%40gmail.com", NULL);
        } else if (strcmp(argv[1], "v1get") == 0) {
            st = send_one(s, q, "GET", "/v1/clientes/ejemplo@gmail.com", NULL, NULL);
        } else if (strcmp(argv[1], "v1post") == 0) {
            snprintf(body, sizeof(body),
                     "{\"nombre\":\"Nombre\",\"apellidos\":\"Apellido Apellido\",\"mail\":"
                     "\"p%06ld@bench.es\",\"fecha_nacimiento\":\"01/01/1990\",\"direccion\":"
                     "\"Calle Mayor %ld\"}", i, i);
            st = send_one(s, q, "POST", "/v1/clientes", NULL, body);
        } else if (strcmp(argv[1], "v1patch") == 0) {
            /* the version grows by one a change: If-Match names the current one */
            snprintf(etag, sizeof(etag), "*");
            q->if_match = etag;
            snprintf(path, sizeof(path), "/v1/clientes/ejemplo@gmail.com");
            snprintf(body, sizeof(body), "{\"direccion\":\"Calle Mayor %ld\"}", i);
            st = send_one(s, q, "PATCH", path, NULL, body);
        } else {
            fprintf(stderr, "bench_profile: unknown kind %s\n", argv[1]);
            return 2;
        }
        bad += st >= 300;
    }
    printf("%s x %ld: %d not 2xx\n", argv[1], n, bad);
    free(q);
    store_close(s);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return bad != 0;
}
