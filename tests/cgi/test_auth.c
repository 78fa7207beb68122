/* test_auth.c - cgi/auth.c and the access check of route_dispatch(): the
 * Authorization header's shapes, the roles of the legacy routes in both
 * LEGACY_AUTH modes, the session cookie (login, its attributes, /v1/me,
 * CSRF token and same-origin checks, logout), the login's refusals and
 * bounds, the problem+json renderer, and that a refusal writes nothing. */
#include "route_fx.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "json.h"

#define PW "una frase de paso bastante larga"
#define NO_CREDENTIALS "Faltan las credenciales (Authorization: Bearer <token>)"
#define BAD_CREDENTIALS "Credenciales no validas"
#define CHALLENGE "Bearer realm=\"clientes\""

static int setup(void **state)
{
    struct auth_settings as;

    /* the defaults, as a worker would configure them */
    accounts_config_default(&as.accounts);
    as.legacy = AUTH_LEGACY_TOKEN;
    as.login_concurrency = 2;
    auth_configure(&as);
    return rt_setup(state);
}

static void set_legacy(enum auth_legacy mode)
{
    struct auth_settings as = *auth_settings();

    as.legacy = mode;
    auth_configure(&as);
}

static const char *header(const struct fx *f, const char *name)
{
    static char v[512];

    return cgi_header(&f->r, name, v, sizeof(v));
}

/* The last body, parsed; the caller frees it. */
static cJSON *body(const struct fx *f)
{
    cJSON *j = rt_parse_body(f);

    assert_non_null(j);
    return j;
}

static void expect_problem(const struct fx *f, int status, const char *detail)
{
    cJSON *j = body(f), *m;
    int n = 0;

    assert_int_equal(f->r.status, status);
    assert_string_equal(header(f, "Content-Type"), PROBLEM_CT);
    assert_string_equal(cJSON_GetObjectItem(j, "type")->valuestring, "about:blank");
    assert_string_equal(cJSON_GetObjectItem(j, "title")->valuestring, http_reason(status));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(j, "status")));
    assert_int_equal(cJSON_GetObjectItem(j, "status")->valueint, status);
    if (detail)
        assert_string_equal(cJSON_GetObjectItem(j, "detail")->valuestring, detail);
    cJSON_ArrayForEach(m, j) n++;
    assert_int_equal(n, 4);
    cJSON_Delete(j);
}

/* The first column of the first row of `sql` on the file, read-only. */
static long long sql_int(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;

    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/* ---- the Authorization header ---------------------------------------- */

static void test_authorization_shapes(void **state)
{
    struct fx *f = *state;
    char unknown[TOKEN_TEXT_LEN + 1], buf[200], upper[200];
    static const char *const malformed[] = {
        "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer", "Bearer ", "Bearer clt_1234",
        "Bearerclt_0000000000000000000000000000000000000000000000000000000000000000",
        "Token clt_0000000000000000000000000000000000000000000000000000000000000000",
    };

    /* none: the challenge alone */
    f->authorization = NULL;
    rt_refused(f, "GET", "/cliente", "mail=ejemplo%40gmail.com", 401, NO_CREDENTIALS);
    assert_string_equal(header(f, "WWW-Authenticate"), CHALLENGE);
    assert_null(header(f, "Set-Cookie"));
    /* sent but unreadable */
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        f->authorization = malformed[i];
        rt_refused(f, "GET", "/cliente", "mail=ejemplo%40gmail.com", 401, BAD_CREDENTIALS);
        assert_string_equal(header(f, "WWW-Authenticate"), CHALLENGE ", error=\"invalid_request\"");
    }
    snprintf(buf, sizeof(buf), "Bearer %s extra", f->token);
    f->authorization = buf;
    rt_refused(f, "GET", "/cliente", "mail=ejemplo%40gmail.com", 401, BAD_CREDENTIALS);
    snprintf(upper, sizeof(upper), "Bearer %s", f->token);
    for (char *p = upper + 11; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    f->authorization = upper;
    rt_refused(f, "GET", "/cliente", "mail=ejemplo%40gmail.com", 401, BAD_CREDENTIALS);
    /* well formed, but nobody's */
    token_generate(unknown);
    snprintf(buf, sizeof(buf), "Bearer %s", unknown);
    f->authorization = buf;
    rt_refused(f, "GET", "/cliente", "mail=ejemplo%40gmail.com", 401, BAD_CREDENTIALS);
    assert_string_equal(header(f, "WWW-Authenticate"), CHALLENGE ", error=\"invalid_token\"");
    /* the scheme in any case, blanks around the token */
    snprintf(buf, sizeof(buf), "bearer %s", f->token);
    f->authorization = buf;
    assert_int_equal(rt_req(f, "GET", "/cliente", "mail=ejemplo%40gmail.com"), 200);
    snprintf(buf, sizeof(buf), "  BEARER\t%s  ", f->token);
    assert_int_equal(rt_req(f, "GET", "/cliente", "mail=ejemplo%40gmail.com"), 200);
    /* never from the URL */
    f->authorization = NULL;
    snprintf(buf, sizeof(buf), "mail=ejemplo%%40gmail.com&access_token=%s", f->token);
    rt_refused(f, "GET", "/cliente", buf, 401, NO_CREDENTIALS);
    snprintf(buf, sizeof(buf), "mail=ejemplo%%40gmail.com&token=%s", f->token);
    rt_refused(f, "GET", "/cliente", buf, 401, NO_CREDENTIALS);
}

/* ---- roles on the legacy routes --------------------------------------- */

static void test_legacy_roles(void **state)
{
    struct fx *f = *state;
    char reader[TOKEN_TEXT_LEN + 1], admin[TOKEN_TEXT_LEN + 1], r[100], a[100];

    rt_token(f, ROLE_READER, reader);
    rt_token(f, ROLE_ADMIN, admin);
    snprintf(r, sizeof(r), "Bearer %s", reader);
    snprintf(a, sizeof(a), "Bearer %s", admin);

    f->authorization = r;
    assert_int_equal(rt_req(f, "GET", "/cliente", "mail=ejemplo%40gmail.com"), 200);
    rt_expect_body(f, RT_EXAMPLE_CLIENTE);
    assert_int_equal(rt_req(f, "GET", "/clientes", NULL), 200);
    rt_refused(f, "POST", "/aniadir", NEW_CLIENT, 403, "Su rol (reader) no permite esta operacion");
    assert_null(header(f, "WWW-Authenticate"));
    rt_refused(f, "PUT", "/setNombre", "mail=ejemplo%40gmail.com&nombre=X", 403,
               "Su rol (reader) no permite esta operacion");
    rt_refused(f, "DELETE", "/eliminar", "mail=ejemplo%40gmail.com", 403,
               "Su rol (reader) no permite esta operacion");
    /* the role is checked before the parameters: no 400 leaks through */
    rt_refused(f, "POST", "/aniadir", "x=%G1", 403, "Su rol (reader) no permite esta operacion");
    f->authorization = f->bearer; /* editor */
    assert_int_equal(rt_req(f, "POST", "/aniadir", NEW_CLIENT), 200);
    f->authorization = a;
    assert_int_equal(rt_req(f, "DELETE", "/eliminar", "mail=ana%40x.es"), 200);
    /* public routes ask nothing, and look at nothing */
    f->authorization = "Basic roto";
    assert_int_equal(rt_req(f, "GET", "/", NULL), 200);
    assert_int_equal(rt_req(f, "GET", "/health/ready", NULL), 200);
    rt_expect_body(f, "{\"status\":\"ok\"}");
}

static void test_legacy_open(void **state)
{
    struct fx *f = *state;

    set_legacy(AUTH_LEGACY_OPEN);
    f->authorization = NULL;
    assert_int_equal(rt_req(f, "GET", "/cliente", "mail=ejemplo%40gmail.com"), 200);
    rt_expect_body(f, RT_EXAMPLE_CLIENTE);
    assert_null(header(f, "WWW-Authenticate"));
    assert_int_equal(rt_req(f, "POST", "/aniadir", NEW_CLIENT), 200);
    /* credentials are not even looked at: a bad one changes nothing */
    f->authorization = "Bearer clt_roto";
    assert_int_equal(rt_req(f, "DELETE", "/eliminar", "mail=ana%40x.es"), 200);
    /* said in readiness */
    assert_int_equal(rt_req(f, "GET", "/health/ready", NULL), 200);
    rt_expect_body(f, "{\"status\":\"ok\",\"legacy_auth\":\"open\"}");
    /* the new API is never open */
    f->authorization = NULL;
    assert_int_equal(rt_req(f, "GET", "/v1/me", NULL), 401);
    expect_problem(f, 401, NO_CREDENTIALS);
    set_legacy(AUTH_LEGACY_TOKEN);
}

/* The newest audit row, copied. */
struct audit_one {
    char actor[80], request_id[40], addr[40], action[40];
};

static int take(const struct audit_view *v, void *ctx)
{
    struct audit_one *o = ctx;

    snprintf(o->actor, sizeof(o->actor), "%s", v->actor);
    snprintf(o->request_id, sizeof(o->request_id), "%s", v->request_id ? v->request_id : "");
    snprintf(o->addr, sizeof(o->addr), "%s", v->client_addr ? v->client_addr : "");
    snprintf(o->action, sizeof(o->action), "%s", v->action);
    return 1;
}

/* A refusal writes nothing, not even the token's last use; an allowed
 * request records it and its audit row names the token, the request id and
 * the address. */
static void test_refusal_writes_nothing(void **state)
{
    struct fx *f = *state;
    char reader[TOKEN_TEXT_LEN + 1], r[100], actor[80];
    struct audit_query q = {.limit = 1};
    long long last;

    rt_token(f, ROLE_READER, reader);
    snprintf(r, sizeof(r), "Bearer %s", reader);
    f->authorization = r;
    rt_refused(f, "POST", "/aniadir", NEW_CLIENT, 403, "Su rol (reader) no permite esta operacion");
    last = sql_int(f->db, "SELECT max(last_used) FROM tokens");
    assert_int_equal(last, 0);
    assert_int_equal(rt_req(f, "GET", "/cliente", "mail=ejemplo%40gmail.com"), 200);
    assert_true(sql_int(f->db, "SELECT max(last_used) FROM tokens") > 0);

    f->authorization = f->bearer;
    assert_int_equal(rt_req(f, "POST", "/aniadir", NEW_CLIENT), 200);
    struct audit_one got = {0};
    assert_int_equal(manager_audit(f->store, &q, take, &got), CL_OK);
    snprintf(actor, sizeof(actor), "token:%lld (pruebas)",
             sql_int(f->db, "SELECT min(id) FROM tokens"));
    assert_string_equal(got.actor, actor);
    assert_string_equal(got.action, "client.create");
    assert_string_equal(got.request_id, "test-route");
    assert_string_equal(got.addr, "192.0.2.7");
}

/* ---- sessions --------------------------------------------------------- */

static void add_user(struct fx *f, const char *name, enum role role)
{
    struct accounts_config c;
    const char *why = NULL;

    accounts_config_default(&c);
    if (accounts_user_add(f->store, &c, name, role, PW, strlen(PW), &why))
        fail_msg("user: %s", why ? why : store_errmsg(f->store));
}

/* Logs in through POST /v1/session; fills the cookie line and CSRF token. */
static void log_in(struct fx *f, const char *name, char *cookie, size_t cap, char *csrf)
{
    char json[200];
    const char *set;
    cJSON *j;

    snprintf(json, sizeof(json), "{\"username\":\"%s\",\"password\":\"%s\"}", name, PW);
    f->authorization = NULL;
    assert_int_equal(rt_send(f, "POST", "/v1/session", NULL, "application/json", json), 200);
    set = header(f, "Set-Cookie");
    assert_non_null(set);
    /* __Host-session=<64 hex>; Path=/; Secure; HttpOnly; SameSite=Lax */
    assert_int_equal(strncmp(set, AUTH_COOKIE "=", strlen(AUTH_COOKIE) + 1), 0);
    assert_true(session_id_well_formed(set + strlen(AUTH_COOKIE) + 1, SESSION_ID_LEN));
    assert_string_equal(set + strlen(AUTH_COOKIE) + 1 + SESSION_ID_LEN,
                        "; Path=/; Secure; HttpOnly; SameSite=Lax");
    snprintf(cookie, cap, "otra=1; %.*s; tema=oscuro", (int)(strlen(AUTH_COOKIE) + 1 +
                                                           SESSION_ID_LEN), set);
    j = body(f);
    assert_string_equal(cJSON_GetObjectItem(j, "username")->valuestring, name);
    assert_non_null(cJSON_GetObjectItem(j, "role"));
    snprintf(csrf, SECRET_DIGEST_LEN + 1, "%s", cJSON_GetObjectItem(j, "csrf_token")->valuestring);
    assert_int_equal(strlen(csrf), SECRET_DIGEST_LEN);
    cJSON_Delete(j);
}

static void test_session_flow(void **state)
{
    struct fx *f = *state;
    char cookie[300], csrf[SECRET_DIGEST_LEN + 1], wrong[SECRET_DIGEST_LEN + 1], form[700];
    cJSON *j;

    add_user(f, "ana", ROLE_EDITOR);
    log_in(f, "ana", cookie, sizeof(cookie), csrf);
    f->cookie = cookie;
    /* who am I */
    assert_int_equal(rt_req(f, "GET", "/v1/me", NULL), 200);
    j = body(f);
    assert_string_equal(cJSON_GetObjectItem(j, "username")->valuestring, "ana");
    assert_string_equal(cJSON_GetObjectItem(j, "role")->valuestring, "editor");
    assert_string_equal(cJSON_GetObjectItem(j, "via")->valuestring, "session");
    assert_string_equal(cJSON_GetObjectItem(j, "csrf_token")->valuestring, csrf);
    cJSON_Delete(j);
    /* a cookie is not a credential of the legacy routes */
    rt_refused(f, "GET", "/cliente", "mail=ejemplo%40gmail.com", 401, NO_CREDENTIALS);
    assert_null(header(f, "Set-Cookie"));

    /* a state change with the cookie needs the CSRF token and a same-origin page */
    f->host = "clientes.example.com";
    f->scheme = "https";
    f->sec_fetch_site = "same-origin";
    rt_send(f, "DELETE", "/v1/session", NULL, NULL, NULL);
    expect_problem(f, 403, "Falta el token CSRF de la sesion o no es valido");
    memset(wrong, 'a', SECRET_DIGEST_LEN);
    wrong[SECRET_DIGEST_LEN] = '\0';
    f->csrf_token = wrong;
    rt_send(f, "DELETE", "/v1/session", NULL, NULL, NULL);
    expect_problem(f, 403, "Falta el token CSRF de la sesion o no es valido");
    f->csrf_token = csrf;
    static const char *const sites[] = {"cross-site", "same-site", "bogus"};
    for (size_t i = 0; i < sizeof(sites) / sizeof(sites[0]); i++) {
        f->sec_fetch_site = sites[i];
        rt_send(f, "DELETE", "/v1/session", NULL, NULL, NULL);
        expect_problem(f, 403, "Peticion de otro sitio no permitida");
    }
    /* neither header: a browser always sends one of them on such a request */
    f->sec_fetch_site = NULL;
    rt_send(f, "DELETE", "/v1/session", NULL, NULL, NULL);
    expect_problem(f, 403, "Peticion de otro sitio no permitida");
    f->origin = "https://evil.example";
    rt_send(f, "DELETE", "/v1/session", NULL, NULL, NULL);
    expect_problem(f, 403, "Peticion de otro sitio no permitida");
    /* the session is still there after all of those */
    assert_int_equal(rt_req(f, "GET", "/v1/me", NULL), 200);

    /* the token in a form field, from a same-origin page: logged out */
    f->origin = "https://clientes.example.com";
    f->csrf_token = NULL;
    snprintf(form, sizeof(form), AUTH_CSRF_FIELD "=%s", csrf);
    assert_int_equal(rt_send(f, "DELETE", "/v1/session", NULL, FORM_CT, form), 204);
    assert_string_equal(header(f, "Set-Cookie"),
                        AUTH_COOKIE "=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0");
    /* and the next request finds no session: 401, the cookie cleared */
    assert_int_equal(rt_req(f, "GET", "/v1/me", NULL), 401);
    expect_problem(f, 401, BAD_CREDENTIALS);
    assert_string_equal(header(f, "WWW-Authenticate"), CHALLENGE ", error=\"invalid_token\"");
    assert_string_equal(header(f, "Set-Cookie"),
                        AUTH_COOKIE "=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0");
    /* a cookie that cannot be a session, and two of them */
    f->cookie = AUTH_COOKIE "=nada";
    assert_int_equal(rt_req(f, "GET", "/v1/me", NULL), 401);
    assert_string_equal(header(f, "WWW-Authenticate"), CHALLENGE ", error=\"invalid_request\"");
    log_in(f, "ana", cookie, sizeof(cookie), csrf);
    snprintf(form, sizeof(form), "%s; %s", cookie, cookie);
    f->cookie = form;
    assert_int_equal(rt_req(f, "GET", "/v1/me", NULL), 401);
    f->cookie = cookie;
    assert_int_equal(rt_req(f, "GET", "/v1/me", NULL), 200);
    /* logging out takes a session */
    f->cookie = NULL;
    f->authorization = f->bearer;
    rt_send(f, "DELETE", "/v1/session", NULL, NULL, NULL);
    expect_problem(f, 400, "Esta peticion no usa una sesion");
}

static void test_me_by_token(void **state)
{
    struct fx *f = *state;
    cJSON *j, *t;

    assert_int_equal(rt_req(f, "GET", "/v1/me", NULL), 200);
    j = body(f);
    assert_null(cJSON_GetObjectItem(j, "username")); /* an operator's token has no user */
    assert_string_equal(cJSON_GetObjectItem(j, "role")->valuestring, "editor");
    assert_string_equal(cJSON_GetObjectItem(j, "via")->valuestring, "bearer");
    assert_null(cJSON_GetObjectItem(j, "csrf_token"));
    t = cJSON_GetObjectItem(j, "token");
    assert_string_equal(cJSON_GetObjectItem(t, "label")->valuestring, "pruebas");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(t, "id")));
    cJSON_Delete(j);
    f->authorization = NULL;
    assert_int_equal(rt_req(f, "GET", "/v1/me", NULL), 401);
    expect_problem(f, 401, NO_CREDENTIALS);
    assert_string_equal(header(f, "WWW-Authenticate"), CHALLENGE);
    /* an unknown path under /v1 answers in the API's style too */
    assert_int_equal(rt_req(f, "GET", "/v1/nada", NULL), 404);
    expect_problem(f, 404, "Ruta no encontrada");
    assert_int_equal(rt_req(f, "PUT", "/v1/me", NULL), 405);
    expect_problem(f, 405, "Metodo no permitido");
    assert_string_equal(header(f, "Allow"), "GET, HEAD");
    assert_int_equal(rt_req(f, "PUT", "/v1/session", NULL), 405);
    assert_string_equal(header(f, "Allow"), "POST, DELETE");
}

static void test_login_refusals(void **state)
{
    struct fx *f = *state;
    char wrong[120], unknown[120];
    struct auth_settings as = *auth_settings();

    add_user(f, "ana", ROLE_READER);
    f->authorization = NULL;
    snprintf(wrong, sizeof(wrong), "{\"username\":\"ana\",\"password\":\"no es la clave de ana\"}");
    snprintf(unknown, sizeof(unknown), "{\"username\":\"nadie\",\"password\":\"%s\"}", PW);
    assert_int_equal(rt_send(f, "POST", "/v1/session", NULL, "application/json", wrong), 401);
    expect_problem(f, 401, "Usuario o contrasena incorrectos");
    assert_string_equal(header(f, "WWW-Authenticate"), CHALLENGE);
    assert_null(header(f, "Set-Cookie"));
    assert_int_equal(rt_send(f, "POST", "/v1/session", NULL, "application/json", unknown), 401);
    expect_problem(f, 401, "Usuario o contrasena incorrectos");
    /* the body */
    rt_send(f, "POST", "/v1/session", NULL, FORM_CT, "username=ana&password=x");
    expect_problem(f, 415, NULL);
    rt_send(f, "POST", "/v1/session", NULL, "application/json", "{\"username\":\"ana\"");
    expect_problem(f, 400, NULL);
    rt_send(f, "POST", "/v1/session", NULL, "application/json", "{\"username\":\"ana\"} x");
    expect_problem(f, 400, NULL);
    static const char *const shapes[] = {
        "[]", "{}", "{\"username\":\"ana\"}", "{\"username\":1,\"password\":\"x\"}",
        "{\"username\":\"ana\",\"password\":\"x\",\"otro\":1}",
        "{\"username\":\"ana\",\"username\":\"ana\"}",
    };
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        rt_send(f, "POST", "/v1/session", NULL, "application/json", shapes[i]);
        expect_problem(f, 422, NULL);
    }
    /* from another site (login CSRF) */
    f->sec_fetch_site = "cross-site";
    rt_send(f, "POST", "/v1/session", NULL, "application/json", unknown);
    expect_problem(f, 403, "Peticion de otro sitio no permitida");
    f->sec_fetch_site = NULL;

    /* the account's throttle: 429 with the seconds left */
    as.accounts.login_max_failures = 2; /* one failure above, one more here */
    auth_configure(&as);
    assert_int_equal(rt_send(f, "POST", "/v1/session", NULL, "application/json", wrong), 401);
    assert_int_equal(rt_send(f, "POST", "/v1/session", NULL, "application/json", wrong), 429);
    expect_problem(f, 429, "Demasiados intentos fallidos para esta cuenta; intentelo mas tarde");
    assert_non_null(header(f, "Retry-After"));
    assert_true(atoi(header(f, "Retry-After")) > 800);
    as.accounts.login_max_failures = 5;
    auth_configure(&as);

    /* every password-check slot taken: 503 at once, with Retry-After */
    as.login_concurrency = 1;
    auth_configure(&as);
    assert_true(auth_hash_begin());
    assert_false(auth_hash_begin());
    rt_send(f, "POST", "/v1/session", NULL, "application/json", unknown);
    expect_problem(f, 503, "Demasiados inicios de sesion a la vez; intentelo de nuevo");
    assert_string_equal(header(f, "Retry-After"), "1");
    auth_hash_end();
    assert_int_equal(rt_send(f, "POST", "/v1/session", NULL, "application/json", unknown), 401);
    as.login_concurrency = 2;
    auth_configure(&as);
}

/* ---- the renderer ----------------------------------------------------- */

static void extra_members(struct json *j, const void *ctx)
{
    json_arr_open(j, "errors");
    json_obj_open(j, NULL);
    json_put_str(j, "field", (const char *)ctx);
    json_put_str(j, "reason", "obligatorio");
    json_obj_close(j);
    json_arr_close(j);
}

static void test_problem_renderer(void **state)
{
    struct cgi_out out;
    struct cgi_resp r;
    struct http_response res;
    struct http_error err;
    char v[128];
    cJSON *j;

    (void)state;
    cgi_out_init(&out);
    http_fail(&err, 422, "Campo \"nombre\" invalido");
    err.style = HTTP_ERRORS_PROBLEM;
    err.type = "/problems/validacion";
    err.title = "Datos no validos";
    err.members = extra_members;
    err.members_ctx = "nombre";
    err.headers = "X-Prueba: 1\r\n";
    http_response_init(&res, cgi_out_write, &out, false);
    assert_int_equal(http_send_error(&res, &err), 0);
    cgi_split_response(&out, &r);
    assert_int_equal(r.status, 422);
    assert_string_equal(cgi_header(&r, "Content-Type", v, sizeof(v)), PROBLEM_CT);
    assert_string_equal(cgi_header(&r, "X-Prueba", v, sizeof(v)), "1");
    j = cJSON_ParseWithLength(r.body, r.body_len);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "type")->valuestring, "/problems/validacion");
    assert_string_equal(cJSON_GetObjectItem(j, "title")->valuestring, "Datos no validos");
    assert_int_equal(cJSON_GetObjectItem(j, "status")->valueint, 422);
    assert_string_equal(cJSON_GetObjectItem(j, "detail")->valuestring, "Campo \"nombre\" invalido");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "errors"), 0), "field")
            ->valuestring,
        "nombre");
    cJSON_Delete(j);
    /* http_fail resets everything: the next error is legacy-shaped again */
    http_fail(&err, 404, "No existe");
    cgi_out_reset(&out);
    http_response_init(&res, cgi_out_write, &out, false);
    assert_int_equal(http_send_error(&res, &err), 0);
    cgi_split_response(&out, &r);
    assert_string_equal(cgi_header(&r, "Content-Type", v, sizeof(v)), JSON_CT);
    assert_int_equal(r.body_len, strlen("{\"mensaje\":\"No existe\",\"status\":\"404\"}"));
    cgi_out_free(&out);
}

/* ---- auth.c on its own ------------------------------------------------ */

static void test_same_origin_rule(void **state)
{
    struct http_request *q = calloc(1, sizeof(*q));
    static const struct {
        const char *site, *origin;
        bool ok;
    } cases[] = {
        {"same-origin", NULL, true},
        {"none", NULL, true},
        {"Same-Origin", "https://evil.example", true}, /* Fetch Metadata decides */
        {"same-site", "https://clientes.example.com", false},
        {"cross-site", NULL, false},
        {NULL, "https://clientes.example.com", true},
        {NULL, "https://clientes.example.com:443", true},
        {NULL, "http://clientes.example.com", false},
        {NULL, "https://evil.example", false},
        {NULL, "null", false},
        {NULL, NULL, false},
    };

    (void)state;
    assert_non_null(q);
    q->method = HTTP_POST;
    q->host = "clientes.example.com";
    q->scheme = "https";
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        q->sec_fetch_site = cases[i].site;
        q->origin = cases[i].origin;
        if (auth_same_origin(q) != cases[i].ok)
            fail_msg("Sec-Fetch-Site %s, Origin %s", cases[i].site ? cases[i].site : "-",
                     cases[i].origin ? cases[i].origin : "-");
    }
    free(q);
}

static void test_cookie_lines(void **state)
{
    char buf[200];

    (void)state;
    assert_int_equal(auth_cookie_set(buf, sizeof(buf), "abc"), 0);
    assert_string_equal(buf, "Set-Cookie: __Host-session=abc; Path=/; Secure; HttpOnly; "
                             "SameSite=Lax\r\n");
    assert_int_equal(auth_cookie_set(buf, 20, "abc"), -1);
    assert_int_equal(auth_cookie_clear(buf, sizeof(buf)), 0);
    assert_string_equal(buf, "Set-Cookie: __Host-session=; Path=/; Secure; HttpOnly; "
                             "SameSite=Lax; Max-Age=0\r\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_authorization_shapes, setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_legacy_roles, setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_legacy_open, setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_refusal_writes_nothing, setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_session_flow, setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_me_by_token, setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_login_refusals, setup, rt_teardown),
        cmocka_unit_test(test_problem_renderer),
        cmocka_unit_test(test_same_origin_rule),
        cmocka_unit_test(test_cookie_lines),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
