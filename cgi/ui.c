/* ui.c - the handlers of the browser interface (ui.h): decode the form or
 * the query, call the library, render a page of page.h or answer 303. */
#include "ui.h"

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts.h"
#include "auth.h"
#include "csv.h"
#include "html.h"
#include "log.h"
#include "manager.h"
#include "multipart.h"
#include "page.h"
#include "utf8.h"
#include "v1.h"

#define HTML_TYPE "text/html; charset=utf-8"
#define SEARCH_MAX 200        /* longest search taken (bytes) */
#define HISTORY_ROWS 20       /* history entries per page of a card */
#define AUDIT_ROWS 50         /* rows per page of the audit trail */
#define USERS_MAX 500         /* users listed on one page */
#define TOKENS_MAX 500        /* tokens listed on one page */
#define IMPORT_SHOWN 50       /* clients listed in an import's preview */
#define IMPORT_ERRORS 100     /* errors listed in an import's preview */
/* The largest file the browser's import takes (the API's import takes
 * IMPORT_MAX_BYTES): its preview carries it back in base64, in the page and
 * in the confirmation's body, and nginx takes bodies up to 2 MiB on these
 * two routes (conf/nginx.conf.template). */
#define IMPORT_FILE_MAX (1024 * 1024)
#define IMPORT_MAX_TEXT "1 MB"
#define IMPORT_BODY_MAX (2 * 1024 * 1024)
/* What a confirmation's body holds besides the file's base64: the
 * multipart framing of its fields. */
#define IMPORT_FORM_SLACK 512
_Static_assert(IMPORT_FILE_MAX / 3 * 4 + 8 + IMPORT_FORM_SLACK <= IMPORT_BODY_MAX,
               "a confirmation of the largest file fits the body taken");
#define AVISO_COOKIE "__Host-aviso"
#define AVISO_ATTRS "; Path=/; Secure; HttpOnly; SameSite=Strict"

_Static_assert(sizeof(AUTH_CSRF_FIELD) == sizeof("csrf_token"),
               "page.c's forms carry the token in the field auth.c reads");

/* ---- responses ------------------------------------------------------------ */

static int res_write(void *ctx, const char *buf, size_t len)
{
    return http_write(ctx, buf, len);
}

/* The one-shot confirmations a redirect leaves for the next page: a code in
 * a cookie (never a value: no personal data), shown once, then cleared. */
static const struct {
    const char *code, *text;
} avisos[] = {
    {"creado", "Cliente creado."},
    {"guardado", "Cambios guardados."},
    {"sin-cambios", "No había nada que cambiar."},
    {"borrado", "Cliente borrado."},
    {"importado", "Importación terminada."},
    {"usuario-creado", "Usuario creado."},
    {"rol-cambiado", "Rol cambiado."},
    {"usuario-desactivado", "Usuario desactivado: sus sesiones y tokens ya no sirven."},
    {"usuario-activado", "Usuario activado."},
    {"token-revocado", "Token revocado: deja de servir desde la próxima petición."},
    {"sesion-cerrada", "Ha cerrado la sesión."},
    {"sesion-caducada", "Su sesión ha terminado. Vuelva a iniciarla para seguir."},
};
#define NAVISOS (sizeof(avisos) / sizeof(avisos[0]))

/* The confirmation waiting in the request's cookies, or NULL. */
static const char *aviso_of(const struct http_request *r)
{
    static const char name[] = AVISO_COOKIE "=";
    const char *p = r->cookie;

    while (p && (p = strstr(p, name)) != NULL) {
        if (p == r->cookie || p[-1] == ' ' || p[-1] == ';') {
            const char *v = p + sizeof(name) - 1;
            size_t n = strcspn(v, "; ");
            for (size_t i = 0; i < NAVISOS; i++)
                if (strlen(avisos[i].code) == n && strncmp(avisos[i].code, v, n) == 0)
                    return avisos[i].text;
            return NULL;
        }
        p++;
    }
    return NULL;
}

/* The frame of a page for whoever is asking. */
static void frame_of(struct ui_request *c, struct page_frame *f, enum page_nav nav)
{
    const struct principal *p = &c->auth->who;

    memset(f, 0, sizeof(*f));
    f->csrf = "";
    f->nav = nav;
    if (c->auth->status == AUTH_OK && p->kind != PRINCIPAL_NONE) {
        f->user = p->user[0] ? p->user : p->token_label;
        f->role = p->role;
        f->csrf = p->csrf;
    }
    f->aviso = aviso_of(c->req);
}

/* Starts an HTML page with its status and extra header lines (NULL for
 * none); a confirmation shown by this page is cleared. */
static void begin(struct ui_request *c, struct html *h, const struct page_frame *f, int status,
                  const char *extra)
{
    char head[5120];

    snprintf(head, sizeof(head), "%s%s", extra ? extra : "",
             f->aviso ? "Set-Cookie: " AVISO_COOKIE "=" AVISO_ATTRS "; Max-Age=0\r\n" : "");
    http_begin_type(c->res, status, HTML_TYPE, head, -1);
    html_init(h, res_write, c->res);
}

/* 303 to `path` (a literal of ours), with ?mail=<mail> when mail is not
 * NULL, a confirmation (an avisos[] code, or NULL) and extra header lines. */
static int see_other(struct ui_request *c, const char *path, const char *mail, const char *aviso,
                     const char *extra)
{
    char enc[3 * CLIENT_MAIL_CAP + 1] = "", head[2048];

    if (mail)
        http_pct_encode(mail, NULL, enc, sizeof(enc));
    snprintf(head, sizeof(head), "Location: %s%s%s\r\n%s%s%s%s%s", path, mail ? "?mail=" : "",
             enc, aviso ? "Set-Cookie: " AVISO_COOKIE "=" : "", aviso ? aviso : "",
             aviso ? AVISO_ATTRS "; Max-Age=60\r\n" : "", extra ? extra : "", "");
    http_begin_type(c->res, 303, NULL, head, 0);
    return 303;
}

/* The one line a failure the person cannot see leaves in the log (ids and
 * the library's detail, never a value), as the dispatcher's own. */
static void log_failure(const struct ui_request *c, int status, const char *detail)
{
    wlog(WLOG_ERROR, "request_id=%s method=%s route=%s status=%d: %s", c->req->request_id,
         http_method_name(c->req->method), c->req->path ? c->req->path : "-", status, detail);
}

static const char *param(const struct ui_request *c, const char *name)
{
    return http_param(c->req, name, NULL);
}

/* Overwrites a decoded parameter's value (a password) in the request's own
 * buffer once it has been used. */
static void wipe_param(struct ui_request *c, const char *name)
{
    for (int i = 0; i < c->req->nparams; i++) {
        const struct http_param *p = &c->req->params[i];
        size_t off = (size_t)(p->value - c->req->scratch);
        if (strcmp(p->name, name) == 0 && off < sizeof(c->req->scratch) &&
            p->value_len <= sizeof(c->req->scratch) - off)
            explicit_bzero(c->req->scratch + off, p->value_len);
    }
}

/* A library error as the page's error (c->err; ui_send_error renders it). */
static int lib_error(struct ui_request *c, enum cl_err e)
{
    snprintf(c->detail, c->detail_len, "%s: %s", cl_strerror(e), store_errmsg(c->store));
    if (e == CL_STORAGE)
        return http_fail(c->err, 503, "El almacenamiento no está disponible; avise a quien "
                                       "administra el servicio.");
    http_fail(c->err, 503, "El servicio está ocupado; vuelva a intentarlo en unos segundos.");
    c->err->retry_after = 1;
    return 503;
}

/* ---- fields ---------------------------------------------------------------- */

/* What a person reads when a field is refused: the rule of the API in
 * words, with the validator's reason when there is nothing better. */
static void field_message(enum client_field f, const char *reason, char *out, size_t len)
{
    static const char *const empty[CLIENT_NFIELDS] = {
        [CLIENT_NOMBRE] = "Escriba el nombre",
        [CLIENT_APELLIDOS] = "Escriba los apellidos",
        [CLIENT_MAIL] = "Escriba el correo electrónico",
        [CLIENT_FECHA_NACIMIENTO] = "Escriba la fecha de nacimiento",
        [CLIENT_DIRECCION] = "Escriba la dirección",
    };

    if (!reason || strcmp(reason, "vacio") == 0)
        snprintf(out, len, "%s", empty[f]);
    else if (strcmp(reason, "demasiado largo") == 0)
        snprintf(out, len, "%s es demasiado largo: como mucho %zu caracteres",
                 page_field_label(f), client_fields[f].max_chars);
    else if (strcmp(reason, "fecha futura") == 0)
        snprintf(out, len, "La fecha de nacimiento no puede ser posterior a hoy");
    else if (strcmp(reason, "fecha anterior a 1900") == 0)
        snprintf(out, len, "La fecha de nacimiento debe ser de 1900 o posterior");
    else if (strcmp(reason, "fecha inexistente") == 0)
        snprintf(out, len, "Esa fecha no existe en el calendario");
    else if (f == CLIENT_FECHA_NACIMIENTO)
        snprintf(out, len, "Escriba la fecha como dd/mm/aaaa");
    else if (f == CLIENT_MAIL)
        snprintf(out, len, "Escriba un correo electrónico válido, como nombre@ejemplo.es (%s)",
                 reason);
    else
        snprintf(out, len, "%s: %s", page_field_label(f), reason);
}

/* The form's five values as sent ("" for a missing one), checked by the
 * API's rules; msgs[f] holds each refusal.  Only the fields in `mask` are
 * checked.  Returns how many were refused. */
struct form_in {
    const char *v[CLIENT_NFIELDS];
    const char *err[CLIENT_NFIELDS];
    char msg[CLIENT_NFIELDS][256];
};

static int read_form(struct ui_request *c, struct form_in *in, unsigned mask)
{
    int bad = 0;

    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        const char *v = param(c, client_fields[f].name), *reason = NULL;
        in->v[f] = v ? v : "";
        in->err[f] = NULL;
        if (!(mask & MANAGER_FIELD(f)))
            continue;
        if (client_validate((enum client_field)f, in->v[f], strlen(in->v[f]), &reason)) {
            field_message((enum client_field)f, reason, in->msg[f], sizeof(in->msg[f]));
            in->err[f] = in->msg[f];
            bad++;
        }
    }
    return bad;
}

static void fill_client(struct client *cl, const struct form_in *in, unsigned mask)
{
    client_init(cl);
    for (int f = 0; f < CLIENT_NFIELDS; f++)
        if (mask & MANAGER_FIELD(f))
            snprintf((char *)cl + client_fields[f].offset, client_fields[f].cap, "%s", in->v[f]);
}

/* The date of a record as YYYY-MM-DD (what <input type=date> holds). */
static void iso_date(const struct client *cl, char out[11])
{
    struct client_keys k;

    client_keys_of(cl, &k);
    snprintf(out, 11, "%s", k.fecha_iso);
}

#define ALL_FIELDS ((1u << CLIENT_NFIELDS) - 1)

/* ---- signing in and out ------------------------------------------------------ */

int ui_home(struct ui_request *c)
{
    return see_other(c, "/ui/clientes", NULL, NULL, NULL);
}

/* Where to go after signing in: a page of ours, never another site. */
static const char *safe_return(const char *v)
{
    if (!v || strncmp(v, "/ui/", 4) != 0 || strstr(v, "//") || strchr(v, '\\'))
        return "/ui/clientes";
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x21 || *p == 0x7f)
            return "/ui/clientes";
    return v;
}

static int login_page(struct ui_request *c, int status, const char *usuario, const char *error,
                      const char *extra)
{
    struct page_frame f;
    struct page_login v = {usuario, error, param(c, "volver"), false};
    long long users = 1;
    struct html h;

    frame_of(c, &f, NAV_NONE);
    f.user = NULL; /* this page never shows a session's bar */
    if (accounts_user_count(c->store, &users) == CL_OK)
        v.first_run = users == 0;
    begin(c, &h, &f, status, extra);
    page_login(&h, &f, &v);
    return status;
}

int ui_login_form(struct ui_request *c)
{
    return login_page(c, 200, NULL, NULL, NULL);
}

int ui_login(struct ui_request *c)
{
    const struct auth_settings *as = auth_settings();
    const char *user = param(c, "usuario"), *pw = param(c, "clave");
    struct accounts_session se;
    char cookie[192], retry_line[64];
    long retry = 0;
    size_t pwlen = pw ? strlen(pw) : 0;
    enum cl_err e;

    if (!user || !*user || !pw || !*pw)
        return login_page(c, 400, user, "Escriba su usuario y su contraseña", NULL);
    if (!auth_hash_begin()) { /* every password check slot is taken */
        *c->quiet = true;
        return login_page(c, 503, user,
                          "Hay demasiados inicios de sesión a la vez; vuelva a intentarlo",
                          "Retry-After: 1\r\n");
    }
    e = accounts_login(c->store, &as->accounts, user, pw, pwlen, &se, &retry);
    auth_hash_end();
    wipe_param(c, "clave");
    if (e == CL_DENIED)
        return login_page(c, 401, user, "Usuario o contraseña incorrectos",
                          AUTH_CHALLENGE "\r\n");
    if (e == CL_THROTTLED) {
        char msg[160];
        snprintf(msg, sizeof(msg), "Demasiados intentos fallidos con este usuario; espere %ld "
                 "minutos y vuelva a intentarlo", retry > 60 ? (retry + 59) / 60 : 1);
        snprintf(retry_line, sizeof(retry_line), "Retry-After: %ld\r\n", retry > 0 ? retry : 1);
        return login_page(c, 429, user, msg, retry_line);
    }
    if (e)
        return lib_error(c, e);
    if (auth_cookie_set(cookie, sizeof(cookie), se.id)) {
        explicit_bzero(&se, sizeof(se));
        snprintf(c->detail, c->detail_len, "session cookie does not fit");
        return http_fail(c->err, 500, "Error interno");
    }
    explicit_bzero(&se, sizeof(se));
    {
        char head[2048], enc[1024];
        const char *back = safe_return(param(c, "volver"));
        /* the page asked for goes back as it was, but for its bytes that a
         * header cannot carry */
        size_t n = 0;
        for (const char *p = back; *p && n + 4 < sizeof(enc); p++)
            enc[n++] = *p;
        enc[n] = '\0';
        snprintf(head, sizeof(head), "Location: %s\r\n%s", enc, cookie);
        http_begin_type(c->res, 303, NULL, head, 0);
        explicit_bzero(cookie, sizeof(cookie));
        explicit_bzero(head, sizeof(head));
    }
    return 303;
}

int ui_logout(struct ui_request *c)
{
    const struct auth_settings *as = auth_settings();
    char clear[192];
    enum cl_err e;

    if (c->auth->who.kind != PRINCIPAL_SESSION)
        return http_fail(c->err, 400, "Esta petición no usa una sesión");
    e = accounts_logout(c->store, &as->accounts, c->auth->session_id, SESSION_ID_LEN);
    if (e && e != CL_NOT_FOUND)
        return lib_error(c, e);
    auth_cookie_clear(clear, sizeof(clear));
    return see_other(c, "/ui/entrar", NULL, "sesion-cerrada", clear);
}

/* ---- the list ------------------------------------------------------------ */

static const enum client_sort sort_of[PSORT_COUNT] = {
    [PSORT_MAIL] = SORT_MAIL,
    [PSORT_NOMBRE] = SORT_NOMBRE,
    [PSORT_APELLIDOS] = SORT_APELLIDOS,
    [PSORT_FECHA] = SORT_FECHA,
    [PSORT_MODIFICADO] = SORT_MODIFICADO,
};

/* A page's cursor: the /v1 API's (v1.h), so a list and its pages are
 * addressed alike there and here; one made for another order is refused. */
#define CURSOR_TEXT_CAP V1_CURSOR_TEXT_CAP

static void cursor_of(enum page_sort s, bool desc, const struct client *cl,
                      const struct client_meta *m, char out[CURSOR_TEXT_CAP])
{
    struct v1_cursor cur;

    v1_cursor_of(cl, m, sort_of[s], desc, &cur);
    v1_cursor_encode(&cur, out);
}

static bool cursor_parse(const char *text, enum page_sort s, bool desc, struct v1_cursor *cur)
{
    return v1_cursor_decode(text, cur) == 0 && cur->sort == sort_of[s] && cur->desc == desc;
}

struct list_rows {
    struct client c[PAGE_ROWS + 1];
    struct client_meta m[PAGE_ROWS + 1];
    int n;
};

static int collect_client(const struct client *cl, const struct client_meta *m, void *ctx)
{
    struct list_rows *r = ctx;

    r->c[r->n] = *cl;
    r->m[r->n] = *m;
    return ++r->n == PAGE_ROWS + 1;
}

int ui_list(struct ui_request *c)
{
    const char *q = param(c, "q"), *orden = param(c, "orden"), *desc = param(c, "desc");
    const char *despues = param(c, "despues"), *antes = param(c, "antes");
    char next[CURSOR_TEXT_CAP], prev[CURSOR_TEXT_CAP];
    struct page_client pc[PAGE_ROWS];
    struct client_query query = {0};
    struct page_list v = {0};
    struct list_rows *rows;
    struct page_frame f;
    struct v1_cursor cur;
    struct html h;
    enum cl_err e;
    int sort;

    if (q && strlen(q) > SEARCH_MAX)
        return http_fail(c->err, 400, "La búsqueda es demasiado larga (como mucho %d bytes)",
                         SEARCH_MAX);
    sort = orden && *orden ? page_sort_parse(orden) : PSORT_NOMBRE;
    if (sort < 0)
        return http_fail(c->err, 400, "Orden desconocido");
    v.q = q && *q ? q : NULL;
    v.sort = (enum page_sort)sort;
    v.desc = desc && strcmp(desc, "1") == 0;
    query.search = v.q;
    query.sort = sort_of[sort];
    query.desc = v.desc;
    query.limit = PAGE_ROWS + 1;
    if ((despues && antes) ||
        ((despues || antes) && !cursor_parse(despues ? despues : antes, v.sort, v.desc, &cur)))
        return http_fail(c->err, 400, "El enlace de página no es válido; vuelva a la lista");
    if (despues || antes) {
        query.after_value = sort == PSORT_MAIL ? NULL : cur.value;
        query.after_key = cur.key;
        query.backward = antes != NULL;
    }
    if (!(rows = malloc(sizeof(*rows))))
        return lib_error(c, CL_NOMEM);
    rows->n = 0;
    e = manager_list(c->store, &query, collect_client, rows);
    if (!e && antes && rows->n == 0) { /* nothing before any more: the first page */
        query.after_value = query.after_key = NULL;
        query.backward = false;
        antes = NULL;
        e = manager_list(c->store, &query, collect_client, rows);
    }
    /* the total: a first page that holds every match says it (a search
     * that finds a few costs one scan, not two); else the store counts */
    if (!e && !despues && !antes && rows->n <= PAGE_ROWS)
        v.total = rows->n;
    else if (!e)
        e = manager_count_query(c->store, &query, &v.total);
    v.all = v.total;
    if (!e && v.q && v.total == 0) /* nothing found: is there anything at all? */
        e = manager_count(c->store, &v.all);
    if (e) {
        free(rows);
        return lib_error(c, e);
    }
    v.nrows = rows->n > PAGE_ROWS ? PAGE_ROWS : rows->n;
    if (antes) { /* nearest first: the extra row is the farthest one */
        for (int i = 0; i < v.nrows / 2; i++) {
            struct client tc = rows->c[i];
            struct client_meta tm = rows->m[i];
            rows->c[i] = rows->c[v.nrows - 1 - i];
            rows->m[i] = rows->m[v.nrows - 1 - i];
            rows->c[v.nrows - 1 - i] = tc;
            rows->m[v.nrows - 1 - i] = tm;
        }
    }
    for (int i = 0; i < v.nrows; i++)
        pc[i] = (struct page_client){&rows->c[i], rows->m[i].creado, rows->m[i].modificado,
                                     rows->m[i].version};
    if (v.nrows > 0) {
        bool more = rows->n > PAGE_ROWS;
        if (antes ? true : more) {
            cursor_of(v.sort, v.desc, &rows->c[v.nrows - 1], &rows->m[v.nrows - 1], next);
            v.next = next;
        }
        if (antes ? more : despues != NULL) {
            cursor_of(v.sort, v.desc, &rows->c[0], &rows->m[0], prev);
            v.prev = prev;
        }
    }
    v.rows = pc;
    frame_of(c, &f, NAV_CLIENTES);
    begin(c, &h, &f, 200, NULL);
    page_list(&h, &f, &v);
    free(rows);
    return 200;
}

/* ---- one client ------------------------------------------------------- */

/* The record named by the request's `mail`: 0, or the error's status. */
static int load(struct ui_request *c, const char *mail, struct client *cl, struct client_meta *m)
{
    struct manager_reject rej;
    enum cl_err e;

    if (!mail || !*mail)
        return http_fail(c->err, 400, "Falta el correo del cliente");
    e = manager_get_meta(c->store, mail, cl, m, &rej);
    if (e == CL_NOT_FOUND || e == CL_INVALID)
        return http_fail(c->err, 404, "No hay ningún cliente con ese correo: quizá lo ha borrado "
                                       "otra persona.");
    return e ? lib_error(c, e) : 0;
}

struct history {
    struct page_event ev[HISTORY_ROWS];
    cJSON *doc[HISTORY_ROWS];
    char *text[HISTORY_ROWS][3]; /* at, actor, action */
    long long id[HISTORY_ROWS + 1];
    int n;
    bool nomem;
};

/* The changes of an audit row ({"field": [old, new]}) as page_change rows
 * pointing into the parsed document. */
static int changes_of(const char *json, cJSON **doc, struct page_change *out, int max)
{
    cJSON *d = json ? cJSON_Parse(json) : NULL, *m;
    int n = 0;

    *doc = d;
    if (!cJSON_IsObject(d))
        return 0;
    cJSON_ArrayForEach(m, d) {
        cJSON *before = cJSON_GetArrayItem(m, 0), *after = cJSON_GetArrayItem(m, 1);
        if (n == max || !cJSON_IsArray(m) || !m->string)
            continue;
        out[n].field = m->string;
        out[n].before = cJSON_IsString(before) ? before->valuestring : NULL;
        out[n].after = cJSON_IsString(after) ? after->valuestring : NULL;
        n++;
    }
    return n;
}

static char *dup(const char *s, bool *nomem)
{
    char *d = s ? strdup(s) : NULL;

    if (s && !d)
        *nomem = true;
    return d;
}

static int collect_event(const struct audit_view *row, void *ctx)
{
    struct history *hs = ctx;
    int i = hs->n;

    hs->id[i] = row->id;
    if (i == HISTORY_ROWS) { /* one more than shown: there are older ones */
        hs->n++;
        return 1;
    }
    hs->text[i][0] = dup(row->at, &hs->nomem);
    hs->text[i][1] = dup(row->actor, &hs->nomem);
    hs->text[i][2] = dup(row->action, &hs->nomem);
    hs->ev[i].at = hs->text[i][0];
    hs->ev[i].actor = hs->text[i][1];
    hs->ev[i].action = hs->text[i][2];
    hs->ev[i].nchanges = changes_of(row->changes, &hs->doc[i], hs->ev[i].changes,
                                    PAGE_CHANGES_MAX);
    hs->n++;
    return 0;
}

static void history_free(struct history *hs)
{
    for (int i = 0; i < hs->n && i < HISTORY_ROWS; i++) {
        cJSON_Delete(hs->doc[i]);
        for (int k = 0; k < 3; k++)
            free(hs->text[i][k]);
    }
}

int ui_ficha(struct ui_request *c)
{
    const char *mail = param(c, "mail"), *antes = param(c, "antes");
    struct page_ficha v = {0};
    struct client cl;
    struct client_meta m;
    struct history *hs;
    struct page_frame f;
    long long before = 0;
    struct html h;
    enum cl_err e;
    int st;

    if (antes && (sscanf(antes, "%lld", &before) != 1 || before <= 0))
        return http_fail(c->err, 400, "El enlace del historial no es válido");
    if ((st = load(c, mail, &cl, &m)))
        return st;
    if (!(hs = calloc(1, sizeof(*hs))))
        return lib_error(c, CL_NOMEM);
    e = manager_history(c->store, mail, before, HISTORY_ROWS + 1, collect_event, hs);
    if (e == CL_NOT_FOUND)
        e = CL_OK;
    if (!e && hs->nomem)
        e = CL_NOMEM;
    if (e) {
        history_free(hs);
        free(hs);
        return lib_error(c, e);
    }
    v.client = (struct page_client){&cl, m.creado, m.modificado, m.version};
    v.history = hs->ev;
    v.nhistory = hs->n > HISTORY_ROWS ? HISTORY_ROWS : hs->n;
    v.older = hs->n > HISTORY_ROWS ? hs->id[HISTORY_ROWS - 1] : 0;
    frame_of(c, &f, NAV_CLIENTES);
    begin(c, &h, &f, 200, NULL);
    page_ficha(&h, &f, &v);
    history_free(hs);
    free(hs);
    return 200;
}

/* ---- the form (new and edit) ---------------------------------------------- */

static int form_page(struct ui_request *c, int status, const struct page_form *v)
{
    struct page_frame f;
    struct html h;

    frame_of(c, &f, v->edit ? NAV_CLIENTES : NAV_NUEVO);
    begin(c, &h, &f, status, NULL);
    page_form(&h, &f, v);
    return status;
}

int ui_new_form(struct ui_request *c)
{
    struct page_form v = {0};

    return form_page(c, 200, &v);
}

int ui_create(struct ui_request *c)
{
    struct manager_reject rej;
    struct page_form v = {0};
    struct form_in in;
    struct client cl;
    char msg[256];
    enum cl_err e;
    int bad = read_form(c, &in, ALL_FIELDS);

    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        v.values[f] = in.v[f];
        v.errors[f] = in.err[f];
    }
    if (bad)
        return form_page(c, 422, &v);
    fill_client(&cl, &in, ALL_FIELDS);
    e = manager_create(c->store, &cl, NULL, &rej);
    if (e == CL_EXISTS) {
        v.errors[CLIENT_MAIL] = "Ya hay un cliente con ese correo electrónico";
        return form_page(c, 409, &v);
    }
    if (e == CL_INVALID) {
        field_message(rej.field, rej.reason, msg, sizeof(msg));
        v.errors[rej.field < CLIENT_NFIELDS ? rej.field : CLIENT_MAIL] = msg;
        return form_page(c, 422, &v);
    }
    if (e)
        return lib_error(c, e);
    return see_other(c, "/ui/cliente", cl.mail, "creado", NULL);
}

/* The form filled with a record as stored (the date as YYYY-MM-DD). */
static void form_of(struct page_form *v, const struct client *cl, char date[11])
{
    iso_date(cl, date);
    for (int f = 0; f < CLIENT_NFIELDS; f++)
        v->values[f] = client_get(cl, (enum client_field)f);
    v->values[CLIENT_FECHA_NACIMIENTO] = date;
}

int ui_edit_form(struct ui_request *c)
{
    struct page_form v = {.edit = true};
    struct client cl;
    struct client_meta m;
    char date[11];
    int st;

    if ((st = load(c, param(c, "mail"), &cl, &m)))
        return st;
    form_of(&v, &cl, date);
    v.version = m.version;
    return form_page(c, 200, &v);
}

int ui_update(struct ui_request *c)
{
    const char *mail = param(c, "mail"), *ver = param(c, "version");
    struct page_form v = {.edit = true};
    struct manager_reject rej;
    struct client cur, cl;
    struct client_meta m;
    struct page_client now;
    char date[11], sent_iso[11], msg[256];
    long long version = 0;
    struct form_in in;
    unsigned mask = 0;
    enum cl_err e;
    int st;

    if (!ver || sscanf(ver, "%lld", &version) != 1 || version <= 0)
        return http_fail(c->err, 400, "Falta la versión del cliente que se editaba");
    if ((st = load(c, mail, &cur, &m)))
        return st;
    read_form(c, &in, 0);
    /* what changed: only those fields are checked and written (a date
     * written otherwise but the same day keeps its stored form) */
    iso_date(&cur, date);
    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        if (f == CLIENT_MAIL)
            continue;
        if (f == CLIENT_FECHA_NACIMIENTO) {
            struct client probe;
            client_init(&probe);
            snprintf(probe.fecha_nacimiento, sizeof(probe.fecha_nacimiento), "%s", in.v[f]);
            iso_date(&probe, sent_iso);
            if (strcmp(in.v[f], cur.fecha_nacimiento) == 0 ||
                (strlen(in.v[f]) < sizeof(probe.fecha_nacimiento) &&
                 client_validate(CLIENT_FECHA_NACIMIENTO, in.v[f], strlen(in.v[f]), NULL) ==
                     CL_OK &&
                 strcmp(sent_iso, date) == 0))
                continue;
        } else if (strcmp(in.v[f], client_get(&cur, (enum client_field)f)) == 0) {
            continue;
        }
        mask |= MANAGER_FIELD(f);
    }
    in.v[CLIENT_MAIL] = cur.mail;
    v.version = version;
    for (int f = 0; f < CLIENT_NFIELDS; f++)
        v.values[f] = in.v[f];
    if (read_form(c, &in, mask)) {
        in.v[CLIENT_MAIL] = cur.mail;
        for (int f = 0; f < CLIENT_NFIELDS; f++)
            v.errors[f] = in.err[f];
        return form_page(c, 422, &v);
    }
    in.v[CLIENT_MAIL] = cur.mail;
    if (mask == 0)
        return see_other(c, "/ui/cliente", cur.mail, "sin-cambios", NULL);
    fill_client(&cl, &in, mask);
    snprintf(cl.mail, sizeof(cl.mail), "%s", cur.mail);
    e = manager_change(c->store, cur.mail, &cl, mask, version, NULL, NULL, &rej);
    if (e == CL_CONFLICT) {
        /* someone else saved meanwhile: the form shows the record as it is
         * now, with its new version, and what this person had sent */
        if ((st = load(c, cur.mail, &cur, &m)))
            return st;
        for (int f = 0; f < CLIENT_NFIELDS; f++)
            v.mine[f] = in.v[f];
        form_of(&v, &cur, date);
        v.version = m.version;
        now = (struct page_client){&cur, m.creado, m.modificado, m.version};
        v.current = &now;
        return form_page(c, 409, &v);
    }
    if (e == CL_NOT_FOUND)
        return http_fail(c->err, 404, "Otra persona ha borrado este cliente mientras usted lo "
                                       "editaba.");
    if (e == CL_INVALID) {
        field_message(rej.field, rej.reason, msg, sizeof(msg));
        v.errors[rej.field < CLIENT_NFIELDS ? rej.field : CLIENT_NOMBRE] = msg;
        return form_page(c, 422, &v);
    }
    if (e)
        return lib_error(c, e);
    return see_other(c, "/ui/cliente", cur.mail, "guardado", NULL);
}

/* ---- deletion ---------------------------------------------------------- */

static int delete_page(struct ui_request *c, int status, const struct client *cl,
                       const struct client_meta *m, const char *notice)
{
    struct page_client v = {cl, m->creado, m->modificado, m->version};
    struct page_frame f;
    struct html h;

    frame_of(c, &f, NAV_CLIENTES);
    if (notice)
        f.aviso = notice;
    begin(c, &h, &f, status, NULL);
    page_borrar(&h, &f, &v);
    return status;
}

int ui_delete_form(struct ui_request *c)
{
    struct client cl;
    struct client_meta m;
    int st;

    if ((st = load(c, param(c, "mail"), &cl, &m)))
        return st;
    return delete_page(c, 200, &cl, &m, NULL);
}

int ui_delete(struct ui_request *c)
{
    const char *mail = param(c, "mail"), *ver = param(c, "version");
    struct manager_reject rej;
    struct client cl;
    struct client_meta m;
    long long version = 0;
    enum cl_err e;
    int st;

    if (!ver || sscanf(ver, "%lld", &version) != 1 || version <= 0)
        return http_fail(c->err, 400, "Falta la versión del cliente que se iba a borrar");
    if ((st = load(c, mail, &cl, &m)))
        return st;
    e = manager_remove(c->store, cl.mail, version, &rej);
    if (e == CL_CONFLICT) {
        if ((st = load(c, cl.mail, &cl, &m)))
            return st;
        return delete_page(c, 409, &cl, &m, "Otra persona ha modificado este cliente mientras "
                                            "usted confirmaba: revise sus datos actuales antes "
                                            "de borrarlo.");
    }
    if (e == CL_NOT_FOUND)
        return http_fail(c->err, 404, "Otra persona ya ha borrado este cliente.");
    if (e)
        return lib_error(c, e);
    return see_other(c, "/ui/clientes", NULL, "borrado", NULL);
}

/* ---- import ------------------------------------------------------------ */

struct import_run {
    struct ui_request *c;
    int col[CSV_MAX_CELLS];   /* the field of each column */
    int ncols;
    bool header;              /* the header row was read */
    const char *file_error;   /* the file as a whole is unusable */
    char file_msg[200];
    enum cl_err fatal;        /* the store failed: stop */
    long long creates, bad_lines;
    struct client shown[IMPORT_SHOWN];
    int nshown;
    struct page_import_error errors[IMPORT_ERRORS];
    char reasons[IMPORT_ERRORS][256];
    int nerrors;
};

static void import_error(struct import_run *r, unsigned long line, int field, const char *why)
{
    r->bad_lines++;
    if (r->nerrors == IMPORT_ERRORS)
        return;
    r->errors[r->nerrors].line = line;
    r->errors[r->nerrors].field = field >= 0 ? client_fields[field].name : NULL;
    snprintf(r->reasons[r->nerrors], sizeof(r->reasons[0]), "%s", why);
    r->errors[r->nerrors].reason = r->reasons[r->nerrors];
    r->nerrors++;
}

/* The header names the five fields once each, in any order. */
static int import_header(struct import_run *r, char **cells, size_t n)
{
    bool seen[CLIENT_NFIELDS] = {false};

    for (size_t i = 0; i < n; i++) {
        const struct client_field_desc *d = client_field_by_name(cells[i], strlen(cells[i]));
        if (!d) {
            snprintf(r->file_msg, sizeof(r->file_msg),
                     "La primera fila debe nombrar las columnas; «%.60s» no es ninguna de "
                     "nombre, apellidos, mail, fecha_nacimiento, direccion", cells[i]);
            r->file_error = r->file_msg;
            return 1;
        }
        if (seen[d->field]) {
            snprintf(r->file_msg, sizeof(r->file_msg), "La columna %s aparece dos veces",
                     d->name);
            r->file_error = r->file_msg;
            return 1;
        }
        seen[d->field] = true;
        r->col[i] = d->field;
    }
    for (int f = 0; f < CLIENT_NFIELDS; f++)
        if (!seen[f]) {
            snprintf(r->file_msg, sizeof(r->file_msg), "Falta la columna %s en la primera fila",
                     client_fields[f].name);
            r->file_error = r->file_msg;
            return 1;
        }
    r->ncols = (int)n;
    r->header = true;
    return 0;
}

static int import_row(void *ctx, unsigned long line, char **cells, size_t n)
{
    struct import_run *r = ctx;
    struct manager_reject rej;
    struct client cl;
    bool blank = true;
    char msg[256];
    enum cl_err e;

    for (size_t i = 0; i < n; i++)
        blank = blank && !cells[i][0];
    if (blank)
        return 0; /* an empty line */
    if (!r->header)
        return import_header(r, cells, n);
    if ((int)n != r->ncols) {
        snprintf(msg, sizeof(msg), "tiene %zu columnas y la primera fila %d", n, r->ncols);
        import_error(r, line, -1, msg);
        return 0;
    }
    client_init(&cl);
    for (size_t i = 0; i < n; i++) {
        const char *reason = NULL;
        enum client_field f = (enum client_field)r->col[i];
        if (client_set(&cl, f, cells[i], strlen(cells[i]), &reason)) {
            field_message(f, reason, msg, sizeof(msg));
            import_error(r, line, (int)f, msg);
            return 0;
        }
    }
    e = manager_create(r->c->store, &cl, NULL, &rej);
    if (e == CL_EXISTS) {
        import_error(r, line, CLIENT_MAIL, "Ya hay un cliente con ese correo electrónico");
        return 0;
    }
    if (e == CL_INVALID) {
        field_message(rej.field, rej.reason, msg, sizeof(msg));
        import_error(r, line, rej.field < CLIENT_NFIELDS ? (int)rej.field : -1, msg);
        return 0;
    }
    if (e) {
        r->fatal = e;
        return 1;
    }
    if (r->nshown < IMPORT_SHOWN)
        r->shown[r->nshown++] = cl;
    r->creates++;
    return 0;
}

/* Runs the whole file in one transaction: kept when `commit`, else rolled
 * back (the preview: exactly what the import would do, then nothing). */
static void import_csv(struct import_run *r, const char *csv, size_t len, bool commit)
{
    struct csv_parser *p = malloc(sizeof(*p));
    enum cl_err e;

    if (!p) {
        r->fatal = CL_NOMEM;
        return;
    }
    if ((e = manager_begin(r->c->store))) {
        r->fatal = e;
        free(p);
        return;
    }
    csv_parser_init(p, import_row, r, 0);
    if (!utf8_valid((const unsigned char *)csv, len)) {
        r->file_error = "El fichero no está en UTF-8: guárdelo como «CSV UTF-8» y vuelva a "
                        "subirlo";
    } else if (csv_parse_feed(p, csv, len) || csv_parse_finish(p)) {
        snprintf(r->file_msg, sizeof(r->file_msg), "El fichero no es un CSV válido (línea %lu: "
                 "%s)", p->error_line, p->error ? p->error : "");
        r->file_error = r->file_msg;
    } else if (!r->fatal && !r->header && !r->file_error) {
        r->file_error = "El fichero está vacío";
    }
    free(p);
    if (commit && !r->fatal && !r->file_error && r->creates > 0)
        e = manager_commit(r->c->store);
    else
        e = manager_rollback(r->c->store);
    if (e && !r->fatal)
        r->fatal = e;
}

/* The file of an import form: the chosen file, else the pasted text, else
 * (the confirmation) the base64 the preview carried.  *owned is what the
 * caller frees. */
struct upload {
    const char *data;
    size_t len;
    char *body;  /* the form's whole body, read here */
    size_t body_len;
    char *owned;
    bool from_file, from_text, from_carry;
    const char *carry;
    size_t carry_len;
};

static int pick_part(void *ctx, const struct multipart_part *p)
{
    struct upload *u = ctx;

    if (strcmp(p->name, "fichero") == 0 && p->file && p->len > 0) {
        u->data = p->data;
        u->len = p->len;
        u->from_file = true;
    } else if (strcmp(p->name, "texto") == 0 && !p->file && p->len > 0 && !u->from_file) {
        u->data = p->data;
        u->len = p->len;
        u->from_text = true;
    } else if (strcmp(p->name, "base64") == 0 && !p->file) {
        u->carry = p->data;
        u->carry_len = p->len;
    }
    return 0;
}

/* The whole body of an import's form, in *body (the caller frees it). */
static const char *read_body(struct ui_request *c, char **body, size_t *len)
{
    size_t total = c->req->body_len + c->req->body_pending, off = 0, got = 0;
    long n;

    *body = NULL;
    *len = 0;
    if (total > IMPORT_BODY_MAX)
        return "El fichero es demasiado grande para importarlo desde el navegador (como "
               "mucho " IMPORT_MAX_TEXT "): divídalo, o use la API /v1/clientes/import";
    if (!(*body = malloc(total + 1)))
        return "No hay memoria para leer el fichero; vuelva a intentarlo";
    while (got < total && (n = http_body_read(c->req, &off, *body + got, total - got)) > 0)
        got += (size_t)n;
    if (got != total)
        return "El fichero llegó incompleto; vuelva a subirlo";
    *len = total;
    return NULL;
}

static const char *read_upload(struct ui_request *c, struct upload *u)
{
    char boundary[MULTIPART_BOUNDARY_MAX + 1];
    const char *reason = NULL;

    memset(u, 0, sizeof(*u));
    if (!multipart_boundary(c->req->content_type, boundary))
        return "El formulario debe enviarse como multipart/form-data";
    if ((reason = read_body(c, &u->body, &u->body_len)))
        return reason;
    if (!multipart_parse(u->body, u->body_len, boundary, pick_part, u, &reason))
        return reason;
    if (u->carry && !u->data) {
        size_t n = 0;
        if (!(u->owned = malloc(u->carry_len + 1)) ||
            sodium_base642bin((unsigned char *)u->owned, u->carry_len + 1, u->carry,
                              u->carry_len, "\r\n", &n, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0)
            return "El fichero de la vista previa llegó dañado; vuelva a subirlo";
        u->data = u->owned;
        u->len = n;
        u->from_carry = true;
    }
    if (!u->data || u->len == 0)
        return "Elija un fichero CSV o pegue su contenido";
    return NULL;
}

static void upload_free(struct upload *u)
{
    free(u->owned);
    free(u->body);
}

static int import_page(struct ui_request *c, int status, const struct page_import *v)
{
    struct page_frame f;
    struct html h;

    frame_of(c, &f, NAV_IMPORTAR);
    begin(c, &h, &f, status, NULL);
    page_import(&h, &f, v);
    return status;
}

int ui_import_form(struct ui_request *c)
{
    struct page_import v = {0};

    return import_page(c, 200, &v);
}

/* What the preview and the confirmation share: reads the uploaded file and
 * runs the import over it (committed only when `commit`).  Returns 0 with
 * *out the run, or the status of the answer already given (a missing or
 * unreadable upload, a file the preview cannot carry back, no memory, a
 * store failure, a file that is not a CSV of clients).  The caller frees
 * *out (NULL or not) and the upload either way. */
static int import_upload(struct ui_request *c, bool commit, struct page_import *v,
                         struct upload *u, struct import_run **out)
{
    const char *err = read_upload(c, u);
    struct import_run *r;

    *out = NULL;
    if (err) {
        v->error = err;
        return import_page(c, 400, v);
    }
    /* the confirmation carries the file back in base64, within the body the
     * worker reads whole */
    if (!commit && u->len > IMPORT_FILE_MAX) {
        v->error = "El fichero es demasiado grande para importarlo desde el navegador (como "
                   "mucho " IMPORT_MAX_TEXT "): divídalo, o use la API /v1/clientes/import";
        return import_page(c, 413, v);
    }
    if (!(*out = r = calloc(1, sizeof(*r))))
        return lib_error(c, CL_NOMEM);
    r->c = c;
    import_csv(r, u->data, u->len, commit);
    if (r->fatal)
        return lib_error(c, r->fatal);
    if (r->file_error) {
        v->error = r->file_error;
        return import_page(c, 422, v);
    }
    return 0;
}

int ui_import_preview(struct ui_request *c)
{
    struct page_client pc[IMPORT_SHOWN];
    struct page_import v = {0};
    struct import_run *r;
    struct upload u;
    char *carry = NULL;
    int st = import_upload(c, false, &v, &u, &r);

    if (st == 0) {
        size_t cap = sodium_base64_ENCODED_LEN(u.len, sodium_base64_VARIANT_ORIGINAL);
        if (!(carry = malloc(cap))) {
            st = lib_error(c, CL_NOMEM);
        } else {
            sodium_bin2base64(carry, cap, (const unsigned char *)u.data, u.len,
                              sodium_base64_VARIANT_ORIGINAL);
            for (int i = 0; i < r->nshown; i++)
                pc[i] = (struct page_client){&r->shown[i], NULL, NULL, 0};
            v.carry = carry;
            v.rows = pc;
            v.nrows = r->nshown;
            v.creates = r->creates;
            v.errors = r->errors;
            v.nerrors = r->nerrors;
            v.bad_lines = r->bad_lines;
            st = import_page(c, 200, &v);
        }
    }
    free(carry);
    free(r);
    upload_free(&u);
    return st;
}

int ui_import_confirm(struct ui_request *c)
{
    struct page_import v = {0};
    struct import_run *r;
    struct upload u;
    int st = import_upload(c, true, &v, &u, &r);

    if (st == 0)
        st = see_other(c, "/ui/clientes", NULL, "importado", NULL);
    free(r);
    upload_free(&u);
    return st;
}

/* ---- export ------------------------------------------------------------ */

struct export_run {
    struct csv_writer w;
    long long rows;
};

static int csv_out(void *ctx, const char *buf, size_t len)
{
    return http_write(ctx, buf, len);
}

static int export_row(const struct client *cl, const struct client_meta *m, void *ctx)
{
    struct export_run *x = ctx;
    const char *cells[CLIENT_NFIELDS];

    (void)m;
    for (int f = 0; f < CLIENT_NFIELDS; f++)
        cells[f] = client_get(cl, (enum client_field)f);
    x->rows++;
    return csv_write_row(&x->w, cells, CLIENT_NFIELDS) ? 1 : 0;
}

int ui_export(struct ui_request *c)
{
    const char *q = param(c, "q"), *orden = param(c, "orden"), *desc = param(c, "desc");
    const char *names[CLIENT_NFIELDS];
    struct client_query query = {0};
    struct export_run x = {0};
    char head[256], today[16];
    time_t now = time(NULL);
    struct tm tm;
    enum cl_err e;
    int sort = orden && *orden ? page_sort_parse(orden) : PSORT_NOMBRE;

    if (sort < 0 || (q && strlen(q) > SEARCH_MAX))
        return http_fail(c->err, 400, "Búsqueda u orden no válidos");
    query.search = q && *q ? q : NULL;
    query.sort = sort_of[sort];
    query.desc = desc && strcmp(desc, "1") == 0;
    query.limit = 0; /* every row, read by the store in short pages */
    if (!localtime_r(&now, &tm) || !strftime(today, sizeof(today), "%Y-%m-%d", &tm))
        snprintf(today, sizeof(today), "hoy");
    snprintf(head, sizeof(head), "Content-Disposition: attachment; filename=\"clientes-%s.csv\"\r\n",
             today);
    /* a spreadsheet's CSV: UTF-8 with its mark, ';' (Spanish Excel), and
     * formulas neutralised by the writer */
    http_begin_type(c->res, 200, "text/csv; charset=utf-8; header=present", head, -1);
    if (c->res->head_only)
        return 200; /* the headers alone: no walk */
    csv_writer_init(&x.w, csv_out, c->res, ';', true);
    for (int f = 0; f < CLIENT_NFIELDS; f++)
        names[f] = client_fields[f].name;
    csv_write_row(&x.w, names, CLIENT_NFIELDS);
    e = manager_list(c->store, &query, export_row, &x);
    if (e && !c->res->failed) {
        snprintf(c->detail, c->detail_len, "export cut short after %lld rows: %s: %s", x.rows,
                 cl_strerror(e), store_errmsg(c->store));
        log_failure(c, 200, c->detail);
    }
    return 200;
}

/* ---- administration ---------------------------------------------------- */

static const struct accounts_config *acfg(void)
{
    return &auth_settings()->accounts;
}

struct user_list {
    struct user *u;
    int n;
};

static int collect_user(const struct user *u, void *ctx)
{
    struct user_list *l = ctx;

    if (l->n == USERS_MAX)
        return 1;
    l->u[l->n++] = *u;
    return 0;
}

static int users_page(struct ui_request *c, int status, struct page_users *v)
{
    struct user_list l = {calloc(USERS_MAX, sizeof(struct user)), 0};
    struct page_user *pu = calloc(USERS_MAX, sizeof(*pu));
    struct page_frame f;
    struct html h;
    enum cl_err e = l.u && pu ? accounts_user_list(c->store, collect_user, &l) : CL_NOMEM;

    if (e) {
        free(l.u);
        free(pu);
        return lib_error(c, e);
    }
    for (int i = 0; i < l.n; i++)
        pu[i] = (struct page_user){l.u[i].name, l.u[i].role, l.u[i].disabled, l.u[i].creado};
    v->users = pu;
    v->nusers = l.n;
    frame_of(c, &f, NAV_USUARIOS);
    begin(c, &h, &f, status, NULL);
    page_users(&h, &f, v);
    free(l.u);
    free(pu);
    return status;
}

int ui_users(struct ui_request *c)
{
    struct page_users v = {0};

    return users_page(c, 200, &v);
}

static enum role role_param(const struct ui_request *c)
{
    const char *r = param(c, "rol");
    enum role role = ROLE_NONE;

    if (!r || role_parse(r, &role))
        return ROLE_NONE;
    return role;
}

int ui_user_create(struct ui_request *c)
{
    const char *name = param(c, "usuario"), *pw = param(c, "clave"), *reason = NULL;
    struct page_users v = {0};
    enum role role = role_param(c);
    size_t pwlen = pw ? strlen(pw) : 0;
    enum cl_err e;

    v.name = name;
    v.role = role;
    if (role == ROLE_NONE)
        v.error = "Elija un rol";
    else if (!name || accounts_name_check(name, &reason))
        v.error_name = name && *name ? reason : "Escriba el nombre del usuario";
    else if (!pw || password_check(pw, pwlen, name, &reason))
        v.error_password = pw && *pw ? reason : "Escriba una contraseña";
    if (v.error || v.error_name || v.error_password) {
        wipe_param(c, "clave");
        return users_page(c, 422, &v);
    }
    e = accounts_user_add(c->store, acfg(), name, role, pw, pwlen, &reason);
    wipe_param(c, "clave");
    if (e == CL_EXISTS) {
        v.error_name = "Ya hay un usuario con ese nombre";
        return users_page(c, 409, &v);
    }
    if (e == CL_INVALID) {
        v.error = reason ? reason : "Datos no válidos";
        return users_page(c, 422, &v);
    }
    if (e)
        return lib_error(c, e);
    return see_other(c, "/ui/usuarios", NULL, "usuario-creado", NULL);
}

/* The user a change names, never the one asking: an admin cannot take away
 * their own access (another admin must). */
static int other_user(struct ui_request *c, const char **name)
{
    *name = param(c, "usuario");
    if (!*name || !**name)
        return http_fail(c->err, 400, "Falta el usuario");
    if (strcmp(*name, c->auth->who.user) == 0)
        return http_fail(c->err, 409, "No puede cambiar su propio rol ni desactivar su propia "
                                       "cuenta: pídaselo a otro administrador.");
    return 0;
}

int ui_user_role(struct ui_request *c)
{
    enum role role = role_param(c);
    const char *name;
    enum cl_err e;
    int st;

    if ((st = other_user(c, &name)))
        return st;
    if (role == ROLE_NONE)
        return http_fail(c->err, 400, "Rol desconocido");
    e = accounts_user_role(c->store, acfg(), name, role);
    if (e == CL_NOT_FOUND)
        return http_fail(c->err, 404, "No hay ningún usuario con ese nombre");
    if (e)
        return lib_error(c, e);
    return see_other(c, "/ui/usuarios", NULL, "rol-cambiado", NULL);
}

int ui_user_state(struct ui_request *c)
{
    const char *name, *activo = param(c, "activo");
    bool enable;
    enum cl_err e;
    int st;

    if ((st = other_user(c, &name)))
        return st;
    if (!activo || (strcmp(activo, "0") != 0 && strcmp(activo, "1") != 0))
        return http_fail(c->err, 400, "Falta el estado");
    enable = activo[0] == '1';
    e = accounts_user_disable(c->store, acfg(), name, !enable);
    if (e == CL_NOT_FOUND)
        return http_fail(c->err, 404, "No hay ningún usuario con ese nombre");
    if (e)
        return lib_error(c, e);
    return see_other(c, "/ui/usuarios", NULL, enable ? "usuario-activado" : "usuario-desactivado",
                     NULL);
}

struct token_list {
    struct token *t;
    int n;
};

static int collect_token(const struct token *t, void *ctx)
{
    struct token_list *l = ctx;

    if (l->n == TOKENS_MAX)
        return 1;
    l->t[l->n] = *t;
    memset(l->t[l->n].digest, 0, sizeof(l->t[l->n].digest)); /* never needed here */
    l->n++;
    return 0;
}

static int tokens_page(struct ui_request *c, int status, struct page_tokens *v)
{
    struct token_list tl = {calloc(TOKENS_MAX, sizeof(struct token)), 0};
    struct user_list ul = {calloc(USERS_MAX, sizeof(struct user)), 0};
    struct page_token *pt = calloc(TOKENS_MAX, sizeof(*pt));
    const char **owners = calloc(USERS_MAX, sizeof(*owners));
    struct page_frame f;
    struct html h;
    enum cl_err e = tl.t && ul.u && pt && owners ? accounts_token_list(c->store, collect_token, &tl)
                                                 : CL_NOMEM;

    if (!e)
        e = accounts_user_list(c->store, collect_user, &ul);
    if (e) {
        free(tl.t);
        free(ul.u);
        free(pt);
        free(owners);
        return lib_error(c, e);
    }
    for (int i = 0; i < tl.n; i++) {
        const struct token *t = &tl.t[i];
        pt[i] = (struct page_token){t->id, t->label, t->role, t->owner, t->creado, t->expires,
                                    t->revoked, t->last_used, t->owner_disabled};
    }
    for (int i = 0; i < ul.n; i++)
        if (!ul.u[i].disabled)
            owners[v->nowners++] = ul.u[i].name;
    v->tokens = pt;
    v->ntokens = tl.n;
    v->owners = owners;
    v->now = accounts_now(acfg());
    frame_of(c, &f, NAV_TOKENS);
    begin(c, &h, &f, status, NULL);
    page_tokens(&h, &f, v);
    free(tl.t);
    free(ul.u);
    free(pt);
    free(owners);
    return status;
}

int ui_tokens(struct ui_request *c)
{
    struct page_tokens v = {0};

    return tokens_page(c, 200, &v);
}

int ui_token_create(struct ui_request *c)
{
    const char *label = param(c, "nombre"), *owner = param(c, "propietario");
    const char *days = param(c, "dias"), *reason = NULL;
    struct page_tokens v = {0};
    char token[TOKEN_TEXT_LEN + 1];
    enum role role = role_param(c);
    long long n = 0, id = 0;
    enum cl_err e;
    int st;

    v.label = label;
    v.role = role;
    v.owner = owner;
    v.expires_days = days;
    if (days && *days && (sscanf(days, "%lld", &n) != 1 || n < 1 || n > 3650))
        v.error = "Los días hasta que caduque deben ser un número de 1 a 3650 (vacío: nunca)";
    else if (role == ROLE_NONE)
        v.error = "Elija un rol";
    else if (!label || !*label)
        v.error = "Escriba un nombre para el token";
    if (v.error)
        return tokens_page(c, 422, &v);
    e = accounts_token_create(c->store, acfg(), &c->auth->who, label, role,
                              owner && *owner ? owner : NULL, n * 86400, token, &id, &reason);
    if (e == CL_INVALID || e == CL_NOT_FOUND) {
        v.error = e == CL_NOT_FOUND ? "No hay ningún usuario con ese nombre" : reason;
        return tokens_page(c, 422, &v);
    }
    if (e)
        return lib_error(c, e);
    /* shown once, on this answer, which is not stored (no-store) and not a
     * redirect: the token never travels in a URL or a cookie */
    v.new_token = token;
    v.new_label = label;
    v.label = v.owner = v.expires_days = NULL;
    v.role = ROLE_READER;
    st = tokens_page(c, 201, &v);
    explicit_bzero(token, sizeof(token));
    return st;
}

int ui_token_revoke(struct ui_request *c)
{
    const char *id = param(c, "id");
    long long n = 0;
    enum cl_err e;

    if (!id || sscanf(id, "%lld", &n) != 1 || n <= 0)
        return http_fail(c->err, 400, "Falta el número del token");
    e = accounts_token_revoke(c->store, acfg(), &c->auth->who, n);
    if (e == CL_NOT_FOUND)
        return http_fail(c->err, 404, "No hay ningún token activo con ese número");
    if (e)
        return lib_error(c, e);
    return see_other(c, "/ui/tokens", NULL, "token-revocado", NULL);
}

struct audit_rows {
    struct page_audit_row r[AUDIT_ROWS + 1];
    char *text[AUDIT_ROWS][7];
    int n;
    bool nomem;
};

/* The names of the fields an audit row's changes name ("nombre, mail"). */
static char *changed_names(const char *json, bool *nomem)
{
    cJSON *d = json ? cJSON_Parse(json) : NULL, *m;
    char buf[256] = "";
    size_t n = 0;

    if (cJSON_IsObject(d))
        cJSON_ArrayForEach(m, d) {
            if (m->string && n + strlen(m->string) + 3 < sizeof(buf))
                n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? ", " : "",
                                      m->string);
        }
    cJSON_Delete(d);
    return dup(buf, nomem);
}

static int collect_audit(const struct audit_view *row, void *ctx)
{
    struct audit_rows *a = ctx;
    int i = a->n;

    a->r[i].id = row->id;
    if (i == AUDIT_ROWS) {
        a->n++;
        return 1;
    }
    a->r[i].at = a->text[i][0] = dup(row->at, &a->nomem);
    a->r[i].actor = a->text[i][1] = dup(row->actor, &a->nomem);
    a->r[i].action = a->text[i][2] = dup(row->action, &a->nomem);
    a->r[i].target = a->text[i][3] = dup(row->target, &a->nomem);
    a->r[i].changes = a->text[i][4] = changed_names(row->changes, &a->nomem);
    a->r[i].request_id = a->text[i][5] = dup(row->request_id, &a->nomem);
    a->r[i].client_addr = a->text[i][6] = dup(row->client_addr, &a->nomem);
    a->n++;
    return 0;
}

int ui_audit(struct ui_request *c)
{
    const char *actor = param(c, "actor"), *action = param(c, "accion");
    const char *since = param(c, "desde"), *antes = param(c, "antes");
    struct audit_query q = {0};
    struct page_audit v = {0};
    struct audit_rows *a;
    struct page_frame f;
    struct html h;
    enum cl_err e;

    if (antes && (sscanf(antes, "%lld", &q.before_id) != 1 || q.before_id <= 0))
        return http_fail(c->err, 400, "El enlace de página no es válido");
    if (since && *since &&
        (strlen(since) != 10 || since[4] != '-' || since[7] != '-' || strspn(since, "0123456789-") != 10))
        return http_fail(c->err, 400, "La fecha «desde» debe ser dd/mm/aaaa");
    q.actor = actor && *actor ? actor : NULL;
    q.action = action && *action ? action : NULL;
    q.since = since && *since ? since : NULL;
    q.limit = AUDIT_ROWS + 1;
    if (!(a = calloc(1, sizeof(*a))))
        return lib_error(c, CL_NOMEM);
    e = manager_audit(c->store, &q, collect_audit, a);
    if (!e && a->nomem)
        e = CL_NOMEM;
    if (!e) {
        v.rows = a->r;
        v.nrows = a->n > AUDIT_ROWS ? AUDIT_ROWS : a->n;
        v.older = a->n > AUDIT_ROWS ? a->r[AUDIT_ROWS - 1].id : 0;
        v.actor = actor;
        v.action = action;
        v.since = since;
        frame_of(c, &f, NAV_AUDITORIA);
        begin(c, &h, &f, 200, NULL);
        page_audit(&h, &f, &v);
    }
    for (int i = 0; i < a->n && i < AUDIT_ROWS; i++)
        for (int k = 0; k < 7; k++)
            free(a->text[i][k]);
    free(a);
    return e ? lib_error(c, e) : 200;
}

/* ---- errors ------------------------------------------------------------ */

void ui_send_error(struct ui_request *c)
{
    const struct http_error *err = c->err;
    struct page_frame f;
    char head[4608];
    struct html h;
    size_t n = 0;

    if (c->res->started)
        return;
    if (err->status == 401) {
        /* no session, or one that ended: sign in, then come back here */
        char back[1200] = "", enc[3700], clear[192] = "";
        if (c->req->method & HTTP_SAFE_METHODS) {
            snprintf(back, sizeof(back), "%s%s%s", c->req->path ? c->req->path : "/ui/",
                     c->req->query && *c->req->query ? "?" : "",
                     c->req->query ? c->req->query : "");
            http_pct_encode(safe_return(back), NULL, enc, sizeof(enc));
        } else {
            enc[0] = '\0';
        }
        if (c->auth->cookie_sent)
            auth_cookie_clear(clear, sizeof(clear));
        snprintf(head, sizeof(head), "Location: /ui/entrar%s%s\r\n%s%s", enc[0] ? "?volver=" : "",
                 enc, clear,
                 c->auth->cookie_sent ? "Set-Cookie: " AVISO_COOKIE "=sesion-caducada" AVISO_ATTRS
                                       "; Max-Age=60\r\n"
                                     : "");
        http_begin_type(c->res, 303, NULL, head, 0);
        return;
    }
    head[0] = '\0';
    if (err->allow)
        n += (size_t)snprintf(head + n, sizeof(head) - n, "Allow: %s\r\n", err->allow);
    if (err->retry_after > 0 && n < sizeof(head))
        n += (size_t)snprintf(head + n, sizeof(head) - n, "Retry-After: %d\r\n", err->retry_after);
    if (err->headers && n < sizeof(head))
        snprintf(head + n, sizeof(head) - n, "%s", err->headers);
    frame_of(c, &f, NAV_NONE);
    begin(c, &h, &f, err->status, head);
    page_error(&h, &f, err->status, err->mensaje);
}
