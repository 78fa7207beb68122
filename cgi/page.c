/* page.c - the pages of the browser interface, from plain structs to HTML
 * (page.h).  Markup comes from the literals below and nowhere else; every
 * value goes through html_text(), html_attr() or html_url(). */
#include "page.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "asset.h"
#include "store.h"

/* Shorthands over the one writer `h` of every function here: L takes only
 * literals (html_lit), T, A and U values. */
#define L(lit) html_lit(h, lit)
#define T(s) html_text(h, s)
#define A(s) html_attr(h, s)
#define U(s) html_url(h, s)
#define N(n) html_int(h, n)
/* One literal or the other. */
#define LIF(cond, a, b) ((cond) ? html_lit(h, a) : html_lit(h, b))

/* The form field that carries the session's CSRF token (cgi/auth.h's
 * AUTH_CSRF_FIELD; tests/cgi/test_ui.c checks they agree). */
#define CSRF_FIELD "csrf_token"

/* ---- words ------------------------------------------------------------- */

static const char *const field_labels[CLIENT_NFIELDS] = {
    [CLIENT_NOMBRE] = "Nombre",
    [CLIENT_APELLIDOS] = "Apellidos",
    [CLIENT_MAIL] = "Correo electrónico",
    [CLIENT_FECHA_NACIMIENTO] = "Fecha de nacimiento",
    [CLIENT_DIRECCION] = "Dirección",
};

const char *page_field_label(enum client_field f)
{
    return (unsigned)f < CLIENT_NFIELDS ? field_labels[f] : "";
}

/* A wire name's label ("nombre" -> "Nombre"); the name itself if unknown. */
static const char *label_of(const char *wire)
{
    const struct client_field_desc *d = wire ? client_field_by_name(wire, strlen(wire)) : NULL;

    return d ? field_labels[d->field] : wire;
}

static const char *role_label(enum role r)
{
    switch (r) {
    case ROLE_READER: return "lector";
    case ROLE_EDITOR: return "editor";
    case ROLE_ADMIN: return "administrador";
    case ROLE_NONE: break;
    }
    return "ninguno";
}

static const char *const sort_names[PSORT_COUNT] = {
    [PSORT_MAIL] = "mail",
    [PSORT_NOMBRE] = "nombre",
    [PSORT_APELLIDOS] = "apellidos",
    [PSORT_FECHA] = "fecha",
    [PSORT_MODIFICADO] = "modificado",
};

const char *page_sort_name(enum page_sort s)
{
    return (unsigned)s < PSORT_COUNT ? sort_names[s] : sort_names[PSORT_MAIL];
}

int page_sort_parse(const char *name)
{
    for (int i = 0; name && i < PSORT_COUNT; i++)
        if (strcmp(name, sort_names[i]) == 0)
            return i;
    return -1;
}

/* What the audit trail's actions are called, on the audit page and in a
 * client's history. */
static const struct {
    const char *action, *label, *history;
} actions[] = {
    {"client.create", "Alta de cliente", "creó el cliente"},
    {"client.update", "Cambio de cliente", "modificó"},
    {"client.delete", "Baja de cliente", "borró el cliente"},
    {"client.erase", "Supresión de datos personales", "suprimió sus datos personales"},
    {"login.ok", "Inicio de sesión", NULL},
    {"login.fail", "Inicio de sesión fallido", NULL},
    {"logout", "Cierre de sesión", NULL},
    {"user.create", "Alta de usuario", NULL},
    {"user.password", "Cambio de contraseña", NULL},
    {"user.role", "Cambio de rol", NULL},
    {"user.disable", "Usuario desactivado", NULL},
    {"user.enable", "Usuario activado", NULL},
    {"token.create", "Token creado", NULL},
    {"token.revoke", "Token revocado", NULL},
};
#define NACTIONS (sizeof(actions) / sizeof(actions[0]))

static const char *action_label(const char *action, bool history)
{
    for (size_t i = 0; action && i < NACTIONS; i++)
        if (strcmp(actions[i].action, action) == 0)
            return history && actions[i].history ? actions[i].history : actions[i].label;
    return action ? action : "";
}

/* ---- formats ----------------------------------------------------------- */

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

void page_date(const char *stored, char out[11])
{
    const char *s = stored ? stored : "";
    size_t len = strlen(s);
    const char *slash1 = strchr(s, '/'), *slash2 = slash1 ? strchr(slash1 + 1, '/') : NULL;

    if (len == 10 && s[4] == '-' && s[7] == '-' && digits(s, 4) && digits(s + 5, 2) &&
        digits(s + 8, 2)) {
        snprintf(out, 11, "%.2s/%.2s/%.4s", s + 8, s + 5, s);
        return;
    }
    if (slash1 && slash2) { /* D/M/YYYY, one or two digits each */
        size_t nd = (size_t)(slash1 - s), nm = (size_t)(slash2 - slash1 - 1);
        if (nd >= 1 && nd <= 2 && nm >= 1 && nm <= 2 && strlen(slash2 + 1) == 4 &&
            digits(s, nd) && digits(slash1 + 1, nm) && digits(slash2 + 1, 4)) {
            snprintf(out, 11, "%s%.*s/%s%.*s/%.4s", nd == 1 ? "0" : "", (int)nd, s,
                     nm == 1 ? "0" : "", (int)nm, slash1 + 1, slash2 + 1);
            return;
        }
    }
    snprintf(out, 11, "%s", s);
}

/* DD/MM/YYYY HH:MM of a broken-down time, in out (17 bytes). */
static void format_tm(const struct tm *tm, char out[17])
{
    char buf[64];

    snprintf(buf, sizeof(buf), "%02d/%02d/%04d %02d:%02d", tm->tm_mday, tm->tm_mon + 1,
             tm->tm_year + 1900, tm->tm_hour, tm->tm_min);
    snprintf(out, 17, "%.16s", buf);
}

void page_time(const char *t, char out[17])
{
    struct tm tm, local;
    time_t when;

    out[0] = '\0';
    if (!t || strlen(t) < 19 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' ||
        t[16] != ':' || !digits(t, 4) || !digits(t + 5, 2) || !digits(t + 8, 2) ||
        !digits(t + 11, 2) || !digits(t + 14, 2) || !digits(t + 17, 2))
        return;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = (t[0] - '0') * 1000 + (t[1] - '0') * 100 + (t[2] - '0') * 10 + (t[3] - '0') - 1900;
    tm.tm_mon = (t[5] - '0') * 10 + (t[6] - '0') - 1;
    tm.tm_mday = (t[8] - '0') * 10 + (t[9] - '0');
    tm.tm_hour = (t[11] - '0') * 10 + (t[12] - '0');
    tm.tm_min = (t[14] - '0') * 10 + (t[15] - '0');
    tm.tm_sec = (t[17] - '0') * 10 + (t[18] - '0');
    when = timegm(&tm);
    if (!localtime_r(&when, &local))
        return;
    format_tm(&local, out);
}

/* A unix time as "DD/MM/YYYY HH:MM" in the service's zone; "" for 0. */
static void unix_time(long long t, char out[17])
{
    struct tm local;
    time_t when = (time_t)t;

    out[0] = '\0';
    if (t <= 0 || !localtime_r(&when, &local))
        return;
    format_tm(&local, out);
}

void page_actor(const char *actor, char *out, size_t len)
{
    const char *a = actor ? actor : "";

    if (strncmp(a, "user:", 5) == 0)
        snprintf(out, len, "%s", a + 5);
    else if (strncmp(a, "token:", 6) == 0)
        snprintf(out, len, "token %s", a + 6);
    else if (strcmp(a, "cli") == 0)
        snprintf(out, len, "operador (clientes-admin)");
    else if (strcmp(a, "anonymous") == 0 || !*a)
        snprintf(out, len, "anónimo");
    else
        snprintf(out, len, "%s", a);
}

/* ---- pieces ------------------------------------------------------------ */

/* A <time> element for a stored time. */
static void put_time(struct html *h, const char *t)
{
    char shown[17];

    page_time(t, shown);
    if (!shown[0]) {
        L("—");
        return;
    }
    L("<time datetime=\"");
    A(t);
    L("\">");
    T(shown);
    L("</time>");
}

static void put_date(struct html *h, const char *stored)
{
    char shown[11];

    page_date(stored, shown);
    T(shown);
}

static void csrf(struct html *h, const struct page_frame *f)
{
    L("<input type=\"hidden\" name=\"" CSRF_FIELD "\" value=\"");
    A(f->csrf ? f->csrf : "");
    L("\">\n");
}

static void nav_item(struct html *h, const struct page_frame *f, enum page_nav item)
{
    L("<li><a href=\"");
    switch (item) {
    case NAV_CLIENTES: L("/ui/clientes"); break;
    case NAV_NUEVO: L("/ui/clientes/nuevo"); break;
    case NAV_IMPORTAR: L("/ui/importar"); break;
    case NAV_USUARIOS: L("/ui/usuarios"); break;
    case NAV_TOKENS: L("/ui/tokens"); break;
    case NAV_AUDITORIA: L("/ui/auditoria"); break;
    case NAV_NONE: break;
    }
    L("\"");
    if (f->nav == item)
        L(" aria-current=\"page\"");
    L(">");
    switch (item) {
    case NAV_CLIENTES: L("Clientes"); break;
    case NAV_NUEVO: L("Nuevo cliente"); break;
    case NAV_IMPORTAR: L("Importar"); break;
    case NAV_USUARIOS: L("Usuarios"); break;
    case NAV_TOKENS: L("Tokens"); break;
    case NAV_AUDITORIA: L("Auditoría"); break;
    case NAV_NONE: break;
    }
    L("</a></li>\n");
}

void page_begin(struct html *h, const struct page_frame *f, const char *title, bool error)
{
    L("<!doctype html>\n<html lang=\"es\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"referrer\" content=\"no-referrer\">\n<title>");
    if (error)
        L("Error: ");
    T(title);
    L(" · clientes</title>\n<link rel=\"stylesheet\" href=\"");
    A(asset_url(ASSET_CSS));
    L("\">\n<link rel=\"icon\" href=\"");
    A(asset_url(ASSET_ICON));
    L("\">\n<script src=\"");
    A(asset_url(ASSET_JS));
    L("\" defer></script>\n</head>\n<body>\n"
      "<a class=\"saltar\" href=\"#contenido\">Saltar al contenido</a>\n"
      "<header class=\"barra\">\n<a class=\"marca\" href=\"/ui/clientes\">clientes</a>\n");
    if (f->user) {
        L("<nav aria-label=\"Principal\">\n<ul>\n");
        nav_item(h, f, NAV_CLIENTES);
        if (role_allows(f->role, ROLE_EDITOR)) {
            nav_item(h, f, NAV_NUEVO);
            nav_item(h, f, NAV_IMPORTAR);
        }
        if (role_allows(f->role, ROLE_ADMIN)) {
            nav_item(h, f, NAV_USUARIOS);
            nav_item(h, f, NAV_TOKENS);
            nav_item(h, f, NAV_AUDITORIA);
        }
        L("</ul>\n</nav>\n<div class=\"cuenta\">\n<span>");
        T(f->user);
        L(" <span class=\"rol\">(");
        T(role_label(f->role));
        L(")</span></span>\n<form method=\"post\" action=\"/ui/salir\">\n");
        csrf(h, f);
        L("<button class=\"boton-barra\" type=\"submit\">Cerrar sesión</button>\n</form>\n</div>\n");
    }
    L("</header>\n<main id=\"contenido\" tabindex=\"-1\">\n");
    if (f->aviso) {
        L("<p class=\"aviso\" role=\"status\">");
        T(f->aviso);
        L("</p>\n");
    }
}

void page_end(struct html *h)
{
    L("</main>\n<footer class=\"pie\">clientes · gestión de clientes</footer>\n</body>\n</html>\n");
}

/* The GOV.UK "error summary": a box at the top listing each problem, each a
 * link to its field; it takes the focus (clientes.js) and is announced. */
static void error_summary_open(struct html *h)
{
    L("<div class=\"resumen-errores\" role=\"alert\" tabindex=\"-1\" "
      "aria-labelledby=\"resumen-errores-titulo\">\n"
      "<h2 id=\"resumen-errores-titulo\">Hay un problema</h2>\n<ul>\n");
}

static void error_summary_item(struct html *h, const char *id, const char *msg)
{
    L("<li><a href=\"#");
    A(id);
    L("\">");
    T(msg);
    L("</a></li>\n");
}

static void error_summary_close(struct html *h)
{
    L("</ul>\n</div>\n");
}

/* One labelled input with its hint and its error: the error is read with
 * the field (aria-describedby) and the field says it is invalid. */
struct field {
    const char *id, *name, *label, *type, *value, *error, *hint, *autocomplete;
    long maxlength; /* 0: none */
    bool required;
    bool verbatim;   /* no capitals or spelling help (mails, user names) */
    bool numeric;    /* a number: the numeric keyboard */
    const char *min; /* a date's lower bound, or NULL */
};

static void put_field(struct html *h, const struct field *fd)
{
    L("<div class=\"campo\">\n<label for=\"");
    A(fd->id);
    L("\">");
    T(fd->label);
    L("</label>\n");
    if (fd->hint) {
        L("<span class=\"ayuda\" id=\"");
        A(fd->id);
        L("-ayuda\">");
        T(fd->hint);
        L("</span>\n");
    }
    if (fd->error) {
        L("<span class=\"error-campo\" id=\"");
        A(fd->id);
        L("-error\"><span class=\"visualmente-oculto\">Error: </span>");
        T(fd->error);
        L("</span>\n");
    }
    L("<input id=\"");
    A(fd->id);
    L("\" name=\"");
    A(fd->name);
    L("\" type=\"");
    A(fd->type);
    L("\" value=\"");
    A(fd->value ? fd->value : "");
    L("\"");
    if (fd->maxlength > 0) {
        L(" maxlength=\"");
        N(fd->maxlength);
        L("\"");
    }
    if (fd->required)
        L(" required");
    L(" autocomplete=\"");
    A(fd->autocomplete ? fd->autocomplete : "off");
    L("\"");
    if (fd->hint || fd->error) {
        L(" aria-describedby=\"");
        if (fd->hint) {
            A(fd->id);
            L("-ayuda");
        }
        if (fd->hint && fd->error)
            L(" ");
        if (fd->error) {
            A(fd->id);
            L("-error");
        }
        L("\"");
    }
    if (fd->error)
        L(" aria-invalid=\"true\"");
    if (fd->verbatim)
        L(" autocapitalize=\"none\" spellcheck=\"false\"");
    if (fd->numeric)
        L(" inputmode=\"numeric\"");
    if (fd->min) {
        L(" min=\"");
        A(fd->min);
        L("\"");
    }
    L(">\n</div>\n");
}

static void role_options(struct html *h, enum role selected)
{
    static const enum role roles[] = {ROLE_READER, ROLE_EDITOR, ROLE_ADMIN};

    for (size_t i = 0; i < 3; i++) {
        L("<option value=\"");
        A(role_name(roles[i]));
        L("\"");
        if (roles[i] == selected)
            L(" selected");
        L(">");
        T(role_label(roles[i]));
        L("</option>\n");
    }
}

/* ---- signing in --------------------------------------------------------- */

void page_login(struct html *h, const struct page_frame *f, const struct page_login *v)
{
    struct field user = {.id = "usuario", .name = "usuario", .label = "Usuario", .type = "text",
                         .value = v->usuario, .autocomplete = "username", .required = true,
                         .maxlength = USER_NAME_MAX,
                         .verbatim = true};
    struct field pw = {.id = "clave", .name = "clave", .label = "Contraseña",
                       .type = "password", .autocomplete = "current-password", .required = true,
                       .maxlength = ACCOUNT_PASSWORD_MAX};

    page_begin(h, f, "Iniciar sesión", v->error != NULL);
    L("<div class=\"estrecho\">\n<h1>Iniciar sesión</h1>\n");
    if (v->first_run)
        L("<div class=\"aviso atencion\">\n<p><strong>Todavía no hay ningún usuario.</strong> "
          "Quien administra el servidor crea el primero con:</p>\n"
          "<p><code>bin/clientes-admin user add NOMBRE --role admin</code></p>\n"
          "<p>La orden pide la contraseña (de 15 a 128 caracteres). Después, inicie sesión "
          "aquí con ese usuario.</p>\n</div>\n");
    if (v->error) {
        error_summary_open(h);
        error_summary_item(h, "usuario", v->error);
        error_summary_close(h);
    }
    L("<form method=\"post\" action=\"/ui/entrar\" novalidate>\n");
    if (v->volver && *v->volver) {
        L("<input type=\"hidden\" name=\"volver\" value=\"");
        A(v->volver);
        L("\">\n");
    }
    put_field(h, &user);
    put_field(h, &pw);
    L("<div class=\"acciones\"><button class=\"boton\" type=\"submit\">Entrar</button></div>\n"
      "</form>\n</div>\n");
    page_end(h);
}

/* ---- the list ------------------------------------------------------------ */

/* The list's URL with its search and order, and optionally a cursor. */
static void list_href(struct html *h, const struct page_list *v, enum page_sort sort, bool desc,
                      const char *cursor_name, const char *cursor)
{
    L("/ui/clientes?orden=");
    U(page_sort_name(sort));
    if (desc)
        L("&amp;desc=1");
    if (v->q && *v->q) {
        L("&amp;q=");
        U(v->q);
    }
    if (cursor) {
        L("&amp;");
        A(cursor_name); /* a literal name of ours */
        L("=");
        U(cursor);
    }
}

static void sort_header(struct html *h, const struct page_list *v, enum page_sort sort,
                        const char *label)
{
    bool current = v->sort == sort;
    bool next_desc = current && !v->desc;

    L("<th scope=\"col\"");
    if (current)
        LIF(v->desc, " aria-sort=\"descending\"", " aria-sort=\"ascending\"");
    L("><a href=\"");
    list_href(h, v, sort, next_desc, NULL, NULL);
    L("\">");
    T(label);
    if (current) {
        L("<span class=\"orden\" aria-hidden=\"true\">");
        LIF(v->desc, "▼", "▲");
        L("</span>");
    }
    L("<span class=\"visualmente-oculto\">");
    if (current)
        LIF(next_desc, " (ordenar de forma descendente)", " (ordenar de forma ascendente)");
    else
        L(" (ordenar por esta columna)");
    L("</span></a></th>\n");
}

static void client_href(struct html *h, const char *mail)
{
    L("/ui/cliente?mail=");
    U(mail);
}

static void list_row(struct html *h, const struct page_client *r)
{
    const struct client *c = r->c;

    L("<tr>\n<td data-etiqueta=\"Nombre\"><a href=\"");
    client_href(h, c->mail);
    L("\">");
    T(c->nombre);
    L("</a></td>\n<td data-etiqueta=\"Apellidos\">");
    T(c->apellidos);
    L("</td>\n<td class=\"mail\" data-etiqueta=\"Correo\">");
    T(c->mail);
    L("</td>\n<td data-etiqueta=\"Nacimiento\">");
    put_date(h, c->fecha_nacimiento);
    L("</td>\n<td data-etiqueta=\"Dirección\">");
    T(c->direccion);
    L("</td>\n</tr>\n");
}

static void put_count(struct html *h, long long n, const char *one, const char *many)
{
    N(n);
    L(" ");
    T(n == 1 ? one : many);
}

void page_list(struct html *h, const struct page_frame *f, const struct page_list *v)
{
    bool searching = v->q && *v->q;
    bool editor = role_allows(f->role, ROLE_EDITOR);

    page_begin(h, f, searching ? "Búsqueda de clientes" : "Clientes", false);
    L("<div class=\"cabecera\">\n<h1>Clientes</h1>\n<div class=\"acciones\">\n");
    if (editor)
        L("<a class=\"boton\" href=\"/ui/clientes/nuevo\">Nuevo cliente</a>\n");
    if (v->all > 0) {
        L("<a class=\"boton secundario\" href=\"/ui/exportar?orden=");
        U(page_sort_name(v->sort));
        if (v->desc)
            L("&amp;desc=1");
        if (searching) {
            L("&amp;q=");
            U(v->q);
        }
        L("\" download>Exportar CSV");
        if (searching)
            L("<span class=\"visualmente-oculto\"> (solo los de esta búsqueda)</span>");
        L("</a>\n");
    }
    L("</div>\n</div>\n");

    L("<form class=\"buscador\" method=\"get\" action=\"/ui/clientes\" role=\"search\">\n"
      "<div class=\"campo\">\n<label for=\"q\">Buscar por nombre, apellidos o correo</label>\n"
      "<input id=\"q\" name=\"q\" type=\"search\" maxlength=\"200\" autocomplete=\"off\" "
      "value=\"");
    A(v->q ? v->q : "");
    L("\">\n</div>\n<input type=\"hidden\" name=\"orden\" value=\"");
    A(page_sort_name(v->sort));
    L("\">\n");
    if (v->desc)
        L("<input type=\"hidden\" name=\"desc\" value=\"1\">\n");
    L("<button class=\"boton\" type=\"submit\">Buscar</button>\n");
    if (searching)
        L("<a href=\"/ui/clientes\">Quitar la búsqueda</a>\n");
    L("</form>\n");

    if (v->all == 0) {
        L("<div class=\"vacio\">\n<p><strong>Todavía no hay ningún cliente.</strong></p>\n");
        if (editor)
            L("<p>Añada el primero con <a href=\"/ui/clientes/nuevo\">Nuevo cliente</a>, o "
              "<a href=\"/ui/importar\">importe un fichero CSV</a> con los que ya tenga.</p>\n");
        else
            L("<p>Cuando alguien con permiso de edición los añada, aparecerán aquí.</p>\n");
        L("</div>\n");
        page_end(h);
        return;
    }
    if (v->total == 0) {
        L("<div class=\"vacio\">\n<p><strong>Ningún cliente coincide con «");
        T(v->q);
        L("».</strong></p>\n<p>Compruebe lo que ha escrito, o busque solo una parte del "
          "nombre, de los apellidos o del correo (no importan las mayúsculas ni los "
          "acentos).</p>\n<p><a href=\"/ui/clientes\">Ver todos los clientes</a></p>\n</div>\n");
        page_end(h);
        return;
    }

    L("<p class=\"resumen\" role=\"status\">");
    if (searching) {
        put_count(h, v->total, "cliente coincide", "clientes coinciden");
        L(" con «");
        T(v->q);
        L("»");
    } else {
        put_count(h, v->total, "cliente", "clientes");
    }
    if (v->total > v->nrows) {
        L(" · se muestran ");
        N(v->nrows);
    }
    L("</p>\n");

    L("<table class=\"tarjetas\">\n<caption class=\"visualmente-oculto\">Clientes");
    if (searching) {
        L(" que coinciden con «");
        T(v->q);
        L("»");
    }
    L(", ordenados por ");
    T(v->sort == PSORT_FECHA        ? "fecha de nacimiento"
      : v->sort == PSORT_MODIFICADO ? "última modificación"
      : v->sort == PSORT_MAIL       ? "correo"
                                    : page_sort_name(v->sort));
    L("</caption>\n<thead>\n<tr>\n");
    sort_header(h, v, PSORT_NOMBRE, "Nombre");
    sort_header(h, v, PSORT_APELLIDOS, "Apellidos");
    sort_header(h, v, PSORT_MAIL, "Correo electrónico");
    sort_header(h, v, PSORT_FECHA, "Fecha de nacimiento");
    L("<th scope=\"col\">Dirección</th>\n</tr>\n</thead>\n<tbody>\n");
    for (int i = 0; i < v->nrows; i++)
        list_row(h, &v->rows[i]);
    L("</tbody>\n</table>\n");

    if (v->prev || v->next) {
        L("<nav class=\"paginas\" aria-label=\"Páginas de la lista\">\n");
        if (v->prev) {
            L("<a rel=\"prev\" href=\"");
            list_href(h, v, v->sort, v->desc, "antes", v->prev);
            L("\">← Anteriores</a>\n");
        } else {
            L("<span class=\"deshabilitado\">← Anteriores</span>\n");
        }
        if (v->next) {
            L("<a rel=\"next\" href=\"");
            list_href(h, v, v->sort, v->desc, "despues", v->next);
            L("\">Siguientes →</a>\n");
        } else {
            L("<span class=\"deshabilitado\">Siguientes →</span>\n");
        }
        L("</nav>\n");
    }
    page_end(h);
}

/* ---- one client ------------------------------------------------------- */

static void ficha_fields(struct html *h, const struct page_client *pc, bool times)
{
    const struct client *c = pc->c;

    L("<dl class=\"ficha\">\n<dt>Nombre</dt><dd>");
    T(c->nombre);
    L("</dd>\n<dt>Apellidos</dt><dd>");
    T(c->apellidos);
    L("</dd>\n<dt>Correo electrónico</dt><dd>");
    T(c->mail);
    L("</dd>\n<dt>Fecha de nacimiento</dt><dd>");
    put_date(h, c->fecha_nacimiento);
    L("</dd>\n<dt>Dirección</dt><dd>");
    T(c->direccion);
    L("</dd>\n");
    if (times) {
        L("<dt>Creado</dt><dd>");
        put_time(h, pc->creado);
        L("</dd>\n<dt>Modificado</dt><dd>");
        put_time(h, pc->modificado);
        L("</dd>\n");
    }
    L("</dl>\n");
}

static void full_name(struct html *h, const struct client *c)
{
    T(c->nombre);
    L(" ");
    T(c->apellidos);
}

/* A value in a history entry: "—" for none, a date as people read it. */
static void change_value(struct html *h, const char *field, const char *value)
{
    if (!value) {
        L("—");
        return;
    }
    if (field && strcmp(field, "fecha_nacimiento") == 0)
        put_date(h, value);
    else
        T(value);
}

static void history(struct html *h, const struct page_ficha *v)
{
    char who[PAGE_ACTOR_MAX];

    L("<section aria-labelledby=\"historial\">\n<h2 id=\"historial\">Historial</h2>\n");
    if (v->nhistory == 0) {
        L("<p>No hay cambios registrados.</p>\n</section>\n");
        return;
    }
    L("<ol class=\"historial\">\n");
    for (int i = 0; i < v->nhistory; i++) {
        const struct page_event *e = &v->history[i];
        page_actor(e->actor, who, sizeof(who));
        L("<li>");
        put_time(h, e->at);
        L(" — <strong>");
        T(who);
        L("</strong> ");
        T(action_label(e->action, true));
        if (e->action && strcmp(e->action, "client.update") == 0) {
            L(":\n<ul class=\"cambio\">\n");
            for (int k = 0; k < e->nchanges; k++) {
                const struct page_change *ch = &e->changes[k];
                L("<li>");
                T(label_of(ch->field));
                L(": <del><span class=\"visualmente-oculto\">antes: </span>");
                change_value(h, ch->field, ch->before);
                L("</del> <span aria-hidden=\"true\">→</span> <ins><span "
                  "class=\"visualmente-oculto\">después: </span>");
                change_value(h, ch->field, ch->after);
                L("</ins></li>\n");
            }
            if (e->nchanges == 0)
                L("<li>sin cambios en los datos</li>\n");
            L("</ul>");
        }
        L("</li>\n");
    }
    L("</ol>\n");
    if (v->older > 0) {
        L("<p><a href=\"");
        client_href(h, v->client.c->mail);
        L("&amp;antes=");
        N(v->older);
        L("#historial\">Cambios más antiguos</a></p>\n");
    }
    L("</section>\n");
}

void page_ficha(struct html *h, const struct page_frame *f, const struct page_ficha *v)
{
    const struct client *c = v->client.c;
    char title[CLIENT_NOMBRE_CAP + CLIENT_APELLIDOS_CAP + 1];

    snprintf(title, sizeof(title), "%s %s", c->nombre, c->apellidos);
    page_begin(h, f, title, false);
    L("<p><a href=\"/ui/clientes\">← Todos los clientes</a></p>\n<h1>");
    full_name(h, c);
    L("</h1>\n");
    if (role_allows(f->role, ROLE_EDITOR)) {
        L("<div class=\"acciones\">\n<a class=\"boton\" href=\"/ui/cliente/editar?mail=");
        U(c->mail);
        L("\">Editar</a>\n<a class=\"boton peligro\" href=\"/ui/cliente/borrar?mail=");
        U(c->mail);
        L("\">Borrar</a>\n</div>\n");
    }
    ficha_fields(h, &v->client, true);
    history(h, v);
    page_end(h);
}

/* ---- the form (new and edit) ---------------------------------------------- */

static const char *const field_ids[CLIENT_NFIELDS] = {
    [CLIENT_NOMBRE] = "nombre",
    [CLIENT_APELLIDOS] = "apellidos",
    [CLIENT_MAIL] = "mail",
    [CLIENT_FECHA_NACIMIENTO] = "fecha_nacimiento",
    [CLIENT_DIRECCION] = "direccion",
};

static void form_field(struct html *h, const struct page_form *v, enum client_field fld)
{
    struct field fd = {.id = field_ids[fld], .name = client_fields[fld].name,
                       .label = field_labels[fld], .type = "text", .value = v->values[fld],
                       .error = v->errors[fld], .maxlength = (long)client_fields[fld].max_chars,
                       .required = true};

    switch (fld) {
    case CLIENT_MAIL:
        fd.type = "email";
        fd.hint = "Identifica al cliente: no se puede cambiar después.";
        fd.verbatim = true;
        break;
    case CLIENT_FECHA_NACIMIENTO:
        fd.type = "date";
        fd.hint = "Día, mes y año (dd/mm/aaaa), entre 1900 y hoy.";
        fd.maxlength = 0;
        fd.min = "1900-01-01";
        break;
    case CLIENT_DIRECCION:
        fd.hint = "Calle, número, piso, código postal y localidad.";
        break;
    default:
        break;
    }
    put_field(h, &fd);
}

void page_form(struct html *h, const struct page_frame *f, const struct page_form *v)
{
    bool any = v->error != NULL;
    const char *mail = v->values[CLIENT_MAIL] ? v->values[CLIENT_MAIL] : "";

    for (int i = 0; i < CLIENT_NFIELDS; i++)
        any = any || v->errors[i];
    page_begin(h, f, v->edit ? "Editar cliente" : "Nuevo cliente", any);
    if (v->edit) {
        L("<p><a href=\"");
        client_href(h, mail);
        L("\">← Volver a la ficha</a></p>\n<h1>Editar cliente</h1>\n");
    } else {
        L("<h1>Nuevo cliente</h1>\n");
    }
    if (v->current) {
        char when[17];
        page_time(v->current->modificado, when);
        L("<div class=\"conflicto\" role=\"alert\">\n<h2>Modificado por otra persona</h2>\n"
          "<p>Otra persona ha cambiado este cliente mientras usted lo editaba");
        if (when[0]) {
            L(" (");
            T(when);
            L(")");
        }
        L(". Sus cambios <strong>no se han guardado</strong>. El formulario muestra ahora los "
          "datos actuales: revíselos, vuelva a escribir lo que quería cambiar y guarde.</p>\n");
        L("<p>Lo que usted había escrito:</p>\n<dl class=\"ficha\">\n");
        for (int i = 0; i < CLIENT_NFIELDS; i++) {
            if (i == CLIENT_MAIL)
                continue;
            L("<dt>");
            T(field_labels[i]);
            L("</dt><dd>");
            if (i == CLIENT_FECHA_NACIMIENTO)
                put_date(h, v->mine[i]);
            else
                T(v->mine[i]);
            L("</dd>\n");
        }
        L("</dl>\n</div>\n");
    }
    if (any) {
        error_summary_open(h);
        if (v->error)
            error_summary_item(h, v->edit ? "nombre" : "mail", v->error);
        for (int i = 0; i < CLIENT_NFIELDS; i++)
            if (v->errors[i])
                error_summary_item(h, field_ids[i], v->errors[i]);
        error_summary_close(h);
    }
    if (v->edit)
        L("<form method=\"post\" action=\"/ui/cliente/editar\" novalidate>\n");
    else
        L("<form method=\"post\" action=\"/ui/clientes/nuevo\" novalidate>\n");
    csrf(h, f);
    if (v->edit) {
        L("<input type=\"hidden\" name=\"mail\" value=\"");
        A(mail);
        L("\">\n<input type=\"hidden\" name=\"version\" value=\"");
        N(v->version);
        L("\">\n<div class=\"campo\">\n<span class=\"etiqueta\">Correo electrónico</span>\n"
          "<span>");
        T(mail);
        L("</span>\n</div>\n");
    }
    for (int i = 0; i < CLIENT_NFIELDS; i++)
        if (!(v->edit && i == CLIENT_MAIL))
            form_field(h, v, (enum client_field)i);
    L("<div class=\"acciones\">\n<button class=\"boton\" type=\"submit\">");
    LIF(v->edit, "Guardar los cambios", "Crear el cliente");
    L("</button>\n<a class=\"boton secundario\" href=\"");
    if (v->edit)
        client_href(h, mail);
    else
        L("/ui/clientes");
    L("\">Cancelar</a>\n</div>\n</form>\n");
    page_end(h);
}

void page_borrar(struct html *h, const struct page_frame *f, const struct page_client *v)
{
    page_begin(h, f, "Borrar cliente", false);
    L("<div class=\"estrecho\">\n<h1>¿Borrar este cliente?</h1>\n<p>Se borrará <strong>");
    full_name(h, v->c);
    L("</strong>. No se puede deshacer.</p>\n");
    ficha_fields(h, v, false);
    L("<form method=\"post\" action=\"/ui/cliente/borrar\">\n");
    csrf(h, f);
    L("<input type=\"hidden\" name=\"mail\" value=\"");
    A(v->c->mail);
    L("\">\n<input type=\"hidden\" name=\"version\" value=\"");
    N(v->version);
    L("\">\n<div class=\"acciones\">\n<button class=\"boton peligro\" type=\"submit\">Sí, "
      "borrar el cliente</button>\n<a class=\"boton secundario\" href=\"");
    client_href(h, v->c->mail);
    L("\">No, volver a la ficha</a>\n</div>\n</form>\n</div>\n");
    page_end(h);
}

/* ---- import ------------------------------------------------------------ */

/* The two forms here post a file (multipart/form-data), which the worker
 * does not decode before the dispatcher checks the CSRF token: they carry it
 * in their action's query string instead (the one secret that is not a
 * credential by itself; the access log drops query strings and pages send
 * no Referer). */

static void import_choose(struct html *h, const struct page_frame *f, const struct page_import *v)
{
    L("<p>Suba un fichero CSV en UTF-8 cuya primera fila nombre las columnas <code>nombre</code>, "
      "<code>apellidos</code>, <code>mail</code>, <code>fecha_nacimiento</code> y "
      "<code>direccion</code> (en cualquier orden), separadas por comas o por punto y coma: "
      "el formato en que esta aplicación los exporta. Antes de guardar nada verá lo que se "
      "importaría y los errores de cada línea.</p>\n<p>Desde aquí, hasta 1 MB por fichero "
      "(unos 10 000 clientes); los mayores, por la API <code>/v1/clientes/import</code>.</p>\n");
    if (v->error) {
        error_summary_open(h);
        error_summary_item(h, "fichero", v->error);
        error_summary_close(h);
    }
    L("<form method=\"post\" action=\"/ui/importar?" CSRF_FIELD "=");
    U(f->csrf ? f->csrf : "");
    L("\" enctype=\"multipart/form-data\" novalidate>\n");
    L("<div class=\"campo\">\n<label for=\"fichero\">Fichero CSV</label>\n");
    if (v->error) {
        L("<span class=\"error-campo\" id=\"fichero-error\"><span class=\"visualmente-oculto\">"
          "Error: </span>");
        T(v->error);
        L("</span>\n<input id=\"fichero\" name=\"fichero\" type=\"file\" "
          "accept=\".csv,text/csv\" aria-describedby=\"fichero-error\" aria-invalid=\"true\">\n");
    } else {
        L("<input id=\"fichero\" name=\"fichero\" type=\"file\" accept=\".csv,text/csv\">\n");
    }
    L("</div>\n<div class=\"campo\">\n<label for=\"texto\">O pegue aquí su contenido</label>\n"
      "<textarea id=\"texto\" name=\"texto\" rows=\"8\" spellcheck=\"false\"></textarea>\n"
      "</div>\n<div class=\"acciones\">\n<button class=\"boton\" type=\"submit\">Ver lo que se "
      "importaría</button>\n</div>\n</form>\n");
}

static void import_preview(struct html *h, const struct page_frame *f, const struct page_import *v)
{
    L("<p class=\"resumen\" role=\"status\">");
    if (v->creates == 0)
        L("No se crearía ningún cliente.");
    else {
        L("Se crearán ");
        put_count(h, v->creates, "cliente", "clientes");
        L(".");
    }
    if (v->bad_lines > 0) {
        L(" ");
        put_count(h, v->bad_lines, "línea tiene errores y no se importará",
                  "líneas tienen errores y no se importarán");
        L(".");
    }
    L("</p>\n");
    if (v->nerrors > 0) {
        L("<table class=\"tarjetas\">\n<caption>Líneas con errores</caption>\n<thead>\n<tr><th scope=\"col\" "
          "class=\"num\">Línea</th><th scope=\"col\">Campo</th><th scope=\"col\">Problema</th>"
          "</tr>\n</thead>\n<tbody>\n");
        for (int i = 0; i < v->nerrors; i++) {
            const struct page_import_error *e = &v->errors[i];
            L("<tr class=\"mal\"><td class=\"num\" data-etiqueta=\"Línea\">");
            N((long long)e->line);
            L("</td><td data-etiqueta=\"Campo\">");
            if (e->field)
                T(label_of(e->field));
            else
                L("—");
            L("</td><td class=\"error\" data-etiqueta=\"Problema\">");
            T(e->reason);
            L("</td></tr>\n");
        }
        L("</tbody>\n</table>\n");
        if (v->bad_lines > v->nerrors) {
            L("<p>… y ");
            N(v->bad_lines - v->nerrors);
            L(" más.</p>\n");
        }
    }
    if (v->nrows > 0) {
        L("<table class=\"tarjetas\">\n<caption>Clientes que se crearán</caption>\n<thead>\n<tr>"
          "<th scope=\"col\">Nombre</th><th scope=\"col\">Apellidos</th><th scope=\"col\">"
          "Correo electrónico</th><th scope=\"col\">Fecha de nacimiento</th><th scope=\"col\">"
          "Dirección</th></tr>\n</thead>\n<tbody>\n");
        for (int i = 0; i < v->nrows; i++) {
            const struct client *c = v->rows[i].c;
            L("<tr>\n<td data-etiqueta=\"Nombre\">");
            T(c->nombre);
            L("</td>\n<td data-etiqueta=\"Apellidos\">");
            T(c->apellidos);
            L("</td>\n<td class=\"mail\" data-etiqueta=\"Correo\">");
            T(c->mail);
            L("</td>\n<td data-etiqueta=\"Nacimiento\">");
            put_date(h, c->fecha_nacimiento);
            L("</td>\n<td data-etiqueta=\"Dirección\">");
            T(c->direccion);
            L("</td>\n</tr>\n");
        }
        L("</tbody>\n</table>\n");
        if (v->creates > v->nrows) {
            L("<p>… y ");
            N(v->creates - v->nrows);
            L(" más.</p>\n");
        }
    }
    L("<div class=\"acciones\">\n");
    if (v->creates > 0) {
        L("<form method=\"post\" action=\"/ui/importar/confirmar?" CSRF_FIELD "=");
        U(f->csrf ? f->csrf : "");
        L("\" enctype=\"multipart/form-data\">\n");
        L("<input type=\"hidden\" name=\"base64\" value=\"");
        A(v->carry);
        L("\">\n<button class=\"boton\" type=\"submit\">");
        if (v->bad_lines > 0) {
            L("Importar solo los ");
            N(v->creates);
            L(" válidos");
        } else {
            L("Importar ");
            put_count(h, v->creates, "cliente", "clientes");
        }
        L("</button>\n</form>\n");
    }
    L("<a class=\"boton secundario\" href=\"/ui/importar\">Elegir otro fichero</a>\n</div>\n");
}

void page_import(struct html *h, const struct page_frame *f, const struct page_import *v)
{
    bool preview = v->carry != NULL && !v->error;

    page_begin(h, f, preview ? "Revisar la importación" : "Importar clientes", v->error != NULL);
    L("<h1>");
    L("Importar clientes");
    L("</h1>\n");
    if (preview)
        import_preview(h, f, v);
    else
        import_choose(h, f, v);
    page_end(h);
}

/* ---- administration ---------------------------------------------------- */

void page_users(struct html *h, const struct page_frame *f, const struct page_users *v)
{
    struct field name = {.id = "nuevo-usuario", .name = "usuario", .label = "Usuario",
                         .type = "text", .value = v->name, .error = v->error_name,
                         .hint = "Letras minúsculas, cifras y . _ @ - (hasta 64).",
                         .maxlength = USER_NAME_MAX, .required = true,
                         .verbatim = true};
    struct field pw = {.id = "nueva-clave", .name = "clave", .label = "Contraseña",
                       .type = "password", .error = v->error_password,
                       .hint = "De 15 a 128 caracteres; una frase larga es una buena "
                               "contraseña.",
                       .autocomplete = "new-password", .maxlength = ACCOUNT_PASSWORD_MAX,
                       .required = true};
    bool any = v->error || v->error_name || v->error_password;

    page_begin(h, f, "Usuarios", any);
    L("<h1>Usuarios</h1>\n<table class=\"tarjetas\">\n<caption class=\"visualmente-oculto\">"
      "Usuarios del servicio</caption>\n<thead>\n<tr><th scope=\"col\">Usuario</th>"
      "<th scope=\"col\">Rol</th><th scope=\"col\">Estado</th><th scope=\"col\">Creado</th>"
      "<th scope=\"col\">Acciones</th></tr>\n</thead>\n<tbody>\n");
    for (int i = 0; i < v->nusers; i++) {
        const struct page_user *u = &v->users[i];
        bool self = f->user && strcmp(f->user, u->name) == 0;
        L("<tr>\n<td data-etiqueta=\"Usuario\">");
        T(u->name);
        L("</td>\n<td data-etiqueta=\"Rol\">");
        T(role_label(u->role));
        L("</td>\n<td data-etiqueta=\"Estado\">");
        LIF(u->disabled, "desactivado", "activo");
        L("</td>\n<td data-etiqueta=\"Creado\">");
        put_time(h, u->creado);
        L("</td>\n<td data-etiqueta=\"Acciones\">\n");
        if (self) {
            L("(usted)\n");
        } else {
            L("<form class=\"en-linea\" method=\"post\" action=\"/ui/usuarios/rol\">\n");
            csrf(h, f);
            L("<input type=\"hidden\" name=\"usuario\" value=\"");
            A(u->name);
            L("\">\n<label class=\"visualmente-oculto\" for=\"rol-");
            N(i);
            L("\">Rol de ");
            T(u->name);
            L("</label>\n<select id=\"rol-");
            N(i);
            L("\" name=\"rol\">\n");
            role_options(h, u->role);
            L("</select>\n<button class=\"boton secundario pequeno\" type=\"submit\">Cambiar rol"
              "<span class=\"visualmente-oculto\"> de ");
            T(u->name);
            L("</span></button>\n</form>\n<form class=\"en-linea\" method=\"post\" "
              "action=\"/ui/usuarios/estado\">\n");
            csrf(h, f);
            L("<input type=\"hidden\" name=\"usuario\" value=\"");
            A(u->name);
            L("\">\n<input type=\"hidden\" name=\"activo\" value=\"");
            LIF(u->disabled, "1", "0");
            L("\">\n<button class=\"boton pequeno");
            LIF(u->disabled, " secundario", " peligro");
            L("\" type=\"submit\">");
            LIF(u->disabled, "Activar", "Desactivar");
            L("<span class=\"visualmente-oculto\"> a ");
            T(u->name);
            L("</span></button>\n</form>\n");
        }
        L("</td>\n</tr>\n");
    }
    L("</tbody>\n</table>\n<h2 id=\"alta\">Nuevo usuario</h2>\n");
    if (any) {
        error_summary_open(h);
        if (v->error)
            error_summary_item(h, "nuevo-usuario", v->error);
        if (v->error_name)
            error_summary_item(h, "nuevo-usuario", v->error_name);
        if (v->error_password)
            error_summary_item(h, "nueva-clave", v->error_password);
        error_summary_close(h);
    }
    L("<form method=\"post\" action=\"/ui/usuarios\" novalidate>\n");
    csrf(h, f);
    put_field(h, &name);
    L("<div class=\"campo\">\n<label for=\"nuevo-rol\">Rol</label>\n<select id=\"nuevo-rol\" "
      "name=\"rol\">\n");
    role_options(h, v->role ? v->role : ROLE_READER);
    L("</select>\n</div>\n");
    put_field(h, &pw);
    L("<div class=\"acciones\"><button class=\"boton\" type=\"submit\">Crear el usuario</button>"
      "</div>\n</form>\n");
    page_end(h);
}

static void token_state(struct html *h, const struct page_token *t, long long now)
{
    if (t->revoked)
        L("revocado");
    else if (t->expires && t->expires <= now)
        L("caducado");
    else if (t->owner_disabled)
        L("sin efecto (usuario desactivado)");
    else
        L("activo");
}

void page_tokens(struct html *h, const struct page_frame *f, const struct page_tokens *v)
{
    struct field label = {.id = "token-nombre", .name = "nombre", .label = "Nombre",
                          .type = "text", .value = v->label,
                          .hint = "Para qué o para quién es, p. ej. «copias nocturnas».",
                          .maxlength = TOKEN_LABEL_MAX, .required = true};
    struct field days = {.id = "token-dias", .name = "dias", .label = "Caduca en (días)",
                         .type = "text", .value = v->expires_days,
                         .hint = "Vacío: no caduca.", .maxlength = 5,
                         .numeric = true};
    char when[17];

    page_begin(h, f, "Tokens", v->error != NULL);
    L("<h1>Tokens de acceso</h1>\n<p>Los programas (scripts, integraciones) se identifican con "
      "un token en la cabecera <code>Authorization: Bearer</code>. Solo se guarda su huella: "
      "un token se muestra una única vez, al crearlo.</p>\n");
    if (v->new_token) {
        L("<div class=\"aviso\" role=\"status\">\n<h2>Token «");
        T(v->new_label);
        L("» creado</h2>\n<p><strong>Cópielo ahora:</strong> es la única vez que se muestra.</p>\n"
          "<code class=\"token\" id=\"token-nuevo\">");
        T(v->new_token);
        L("</code>\n<p><button class=\"boton secundario pequeno\" type=\"button\" "
          "data-copiar=\"token-nuevo\" hidden>Copiar</button></p>\n"
          "<p>Ejemplo: <code>curl -H \"Authorization: Bearer $TOKEN\" "
          "https://…/v1/clientes</code></p>\n</div>\n");
    }
    L("<table class=\"tarjetas\">\n<caption class=\"visualmente-oculto\">Tokens</caption>\n"
      "<thead>\n<tr><th scope=\"col\" class=\"num\">N.º</th><th scope=\"col\">Nombre</th>"
      "<th scope=\"col\">Rol</th><th scope=\"col\">Propietario</th><th scope=\"col\">Creado"
      "</th><th scope=\"col\">Caduca</th><th scope=\"col\">Último uso</th><th scope=\"col\">"
      "Estado</th><th scope=\"col\">Acciones</th></tr>\n</thead>\n<tbody>\n");
    for (int i = 0; i < v->ntokens; i++) {
        const struct page_token *t = &v->tokens[i];
        L("<tr>\n<td class=\"num\" data-etiqueta=\"N.º\">");
        N(t->id);
        L("</td>\n<td data-etiqueta=\"Nombre\">");
        T(t->label);
        L("</td>\n<td data-etiqueta=\"Rol\">");
        T(role_label(t->role));
        L("</td>\n<td data-etiqueta=\"Propietario\">");
        if (t->owner && *t->owner)
            T(t->owner);
        else
            L("operador");
        L("</td>\n<td data-etiqueta=\"Creado\">");
        put_time(h, t->creado);
        L("</td>\n<td data-etiqueta=\"Caduca\">");
        unix_time(t->expires, when);
        if (when[0])
            T(when);
        else
            L("nunca");
        L("</td>\n<td data-etiqueta=\"Último uso\">");
        unix_time(t->last_used, when);
        if (when[0])
            T(when);
        else
            L("nunca");
        L("</td>\n<td data-etiqueta=\"Estado\">");
        token_state(h, t, v->now);
        L("</td>\n<td data-etiqueta=\"Acciones\">");
        if (!t->revoked) {
            L("\n<form class=\"en-linea\" method=\"post\" action=\"/ui/tokens/revocar\">\n");
            csrf(h, f);
            L("<input type=\"hidden\" name=\"id\" value=\"");
            N(t->id);
            L("\">\n<button class=\"boton peligro pequeno\" type=\"submit\">Revocar"
              "<span class=\"visualmente-oculto\"> el token ");
            N(t->id);
            L("</span></button>\n</form>\n");
        }
        L("</td>\n</tr>\n");
    }
    if (v->ntokens == 0)
        L("<tr><td colspan=\"9\">Todavía no hay ningún token.</td></tr>\n");
    L("</tbody>\n</table>\n<h2>Nuevo token</h2>\n");
    if (v->error) {
        error_summary_open(h);
        error_summary_item(h, "token-nombre", v->error);
        error_summary_close(h);
    }
    L("<form method=\"post\" action=\"/ui/tokens\" novalidate>\n");
    csrf(h, f);
    put_field(h, &label);
    L("<div class=\"fila-form\">\n<div class=\"campo\">\n<label for=\"token-rol\">Rol</label>\n"
      "<select id=\"token-rol\" name=\"rol\">\n");
    role_options(h, v->role ? v->role : ROLE_READER);
    L("</select>\n</div>\n<div class=\"campo\">\n<label for=\"token-propietario\">Propietario"
      "</label>\n<select id=\"token-propietario\" name=\"propietario\">\n");
    for (int i = 0; i < v->nowners; i++) {
        L("<option value=\"");
        A(v->owners[i]);
        L("\"");
        if ((v->owner && strcmp(v->owner, v->owners[i]) == 0) ||
            (!v->owner && f->user && strcmp(f->user, v->owners[i]) == 0))
            L(" selected");
        L(">");
        T(v->owners[i]);
        L("</option>\n");
    }
    L("</select>\n</div>\n</div>\n");
    put_field(h, &days);
    L("<p class=\"ayuda\">El rol de un token nunca supera el de su propietario.</p>\n"
      "<div class=\"acciones\"><button class=\"boton\" type=\"submit\">Crear el token</button>"
      "</div>\n</form>\n");
    page_end(h);
}

void page_audit(struct html *h, const struct page_frame *f, const struct page_audit *v)
{
    char who[PAGE_ACTOR_MAX];

    page_begin(h, f, "Auditoría", false);
    L("<h1>Auditoría</h1>\n<form class=\"fila-form\" method=\"get\" action=\"/ui/auditoria\">\n"
      "<div class=\"campo\">\n<label for=\"f-actor\">Quién</label>\n<input id=\"f-actor\" "
      "name=\"actor\" type=\"text\" autocomplete=\"off\" maxlength=\"100\" "
      "placeholder=\"user:ana\" value=\"");
    A(v->actor ? v->actor : "");
    L("\">\n</div>\n<div class=\"campo\">\n<label for=\"f-accion\">Acción</label>\n<select "
      "id=\"f-accion\" name=\"accion\">\n<option value=\"\">Todas</option>\n");
    for (size_t i = 0; i < NACTIONS; i++) {
        L("<option value=\"");
        A(actions[i].action);
        L("\"");
        if (v->action && strcmp(v->action, actions[i].action) == 0)
            L(" selected");
        L(">");
        T(actions[i].label);
        L("</option>\n");
    }
    L("</select>\n</div>\n<div class=\"campo\">\n<label for=\"f-desde\">Desde</label>\n<input "
      "id=\"f-desde\" name=\"desde\" type=\"date\" value=\"");
    A(v->since ? v->since : "");
    L("\">\n</div>\n<div class=\"campo\"><button class=\"boton\" type=\"submit\">Filtrar"
      "</button></div>\n</form>\n");
    if (v->nrows == 0) {
        L("<div class=\"vacio\"><p>No hay entradas que coincidan.</p></div>\n");
        page_end(h);
        return;
    }
    L("<table class=\"tarjetas\">\n<caption class=\"visualmente-oculto\">Registro de auditoría, "
      "lo más reciente primero</caption>\n<thead>\n<tr><th scope=\"col\">Fecha</th>"
      "<th scope=\"col\">Quién</th><th scope=\"col\">Acción</th><th scope=\"col\">Sobre</th>"
      "<th scope=\"col\">Campos</th><th scope=\"col\">Petición</th><th scope=\"col\">"
      "Dirección IP</th></tr>\n</thead>\n<tbody>\n");
    for (int i = 0; i < v->nrows; i++) {
        const struct page_audit_row *r = &v->rows[i];
        page_actor(r->actor, who, sizeof(who));
        L("<tr>\n<td data-etiqueta=\"Fecha\">");
        put_time(h, r->at);
        L("</td>\n<td data-etiqueta=\"Quién\">");
        T(who);
        L("</td>\n<td data-etiqueta=\"Acción\">");
        T(action_label(r->action, false));
        L("</td>\n<td class=\"mail\" data-etiqueta=\"Sobre\">");
        if (r->target && r->action && strncmp(r->action, "client.", 7) == 0 &&
            strcmp(r->action, "client.delete") != 0) {
            L("<a href=\"");
            client_href(h, r->target);
            L("\">");
            T(r->target);
            L("</a>");
        } else {
            T(r->target ? r->target : "—");
        }
        L("</td>\n<td data-etiqueta=\"Campos\">");
        T(r->changes ? r->changes : "");
        L("</td>\n<td class=\"mail\" data-etiqueta=\"Petición\">");
        T(r->request_id ? r->request_id : "");
        L("</td>\n<td data-etiqueta=\"Dirección IP\">");
        T(r->client_addr ? r->client_addr : "");
        L("</td>\n</tr>\n");
    }
    L("</tbody>\n</table>\n");
    if (v->older > 0) {
        L("<nav class=\"paginas\" aria-label=\"Páginas del registro\"><a rel=\"next\" "
          "href=\"/ui/auditoria?antes=");
        N(v->older);
        if (v->actor && *v->actor) {
            L("&amp;actor=");
            U(v->actor);
        }
        if (v->action && *v->action) {
            L("&amp;accion=");
            U(v->action);
        }
        if (v->since && *v->since) {
            L("&amp;desde=");
            U(v->since);
        }
        L("\">Entradas más antiguas →</a></nav>\n");
    }
    page_end(h);
}

/* ---- errors ------------------------------------------------------------ */

static const char *error_title(int status)
{
    switch (status) {
    case 400: return "Petición incorrecta";
    case 401: return "Inicie sesión";
    case 403: return "Acceso no permitido";
    case 404: return "Página no encontrada";
    case 405: return "Método no permitido";
    case 409:
    case 412: return "Modificado por otra persona";
    case 413: return "Demasiado grande";
    case 414: return "Dirección demasiado larga";
    case 415: return "Formato no admitido";
    case 429: return "Demasiados intentos";
    case 503: return "Servicio no disponible";
    default: return status >= 500 ? "Error interno" : "Error";
    }
}

void page_error(struct html *h, const struct page_frame *f, int status, const char *detail)
{
    page_begin(h, f, error_title(status), false);
    L("<div class=\"error-pagina\">\n<p class=\"codigo\">");
    N(status);
    L("</p>\n<h1>");
    T(error_title(status));
    L("</h1>\n");
    if (detail && *detail) {
        L("<p>");
        T(detail);
        L("</p>\n");
    }
    if (f->user)
        L("<p><a href=\"/ui/clientes\">Volver a la lista de clientes</a></p>\n");
    else
        L("<p><a href=\"/ui/entrar\">Iniciar sesión</a></p>\n");
    L("</div>\n");
    page_end(h);
}
