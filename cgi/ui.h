/* ui.h - the browser interface under /ui/: thin handlers of the route table
 * (route.c) that decode a form or a query, call the library and render a
 * page of page.h.  Every page works without JavaScript: forms post, a
 * success answers 303 to the page that shows the result (POST, redirect,
 * GET), a refusal shows the form again with the user's input and the
 * message next to the field.  The route table says who may use each one;
 * the dispatcher has checked the session, its CSRF token and the origin
 * before any of these runs. */
#ifndef CLIENTES_UI_H
#define CLIENTES_UI_H

#include <stdbool.h>
#include <stddef.h>

#include "auth.h"
#include "http.h"
#include "store.h"

/* One request as a page's handler sees it: what the dispatcher decoded and
 * checked (route.c fills it from its own context), and where a refusal goes
 * (*err, rendered by ui_send_error(); *detail: what to log for a 5xx). */
struct ui_request {
    struct store *store;
    struct http_request *req;
    struct http_response *res;
    const struct auth *auth; /* who is asking (nobody on the public pages) */
    struct http_error *err;
    char *detail;
    size_t detail_len;
    bool *quiet; /* set: a refusal by design, not logged */
};

typedef int (*ui_handler)(struct ui_request *c);

/* GET /ui/: to the list. */
int ui_home(struct ui_request *c);

/* GET and POST /ui/entrar: the sign-in form, and signing in (a session
 * cookie, then 303 to the page asked for); POST /ui/salir: signing out. */
int ui_login_form(struct ui_request *c);
int ui_login(struct ui_request *c);
int ui_logout(struct ui_request *c);

/* GET /ui/clientes: the list (q, orden, desc, despues / antes). */
int ui_list(struct ui_request *c);

/* GET /ui/cliente?mail=: a client's card and history (antes: older). */
int ui_ficha(struct ui_request *c);

/* GET and POST /ui/clientes/nuevo; GET and POST /ui/cliente/editar. */
int ui_new_form(struct ui_request *c);
int ui_create(struct ui_request *c);
int ui_edit_form(struct ui_request *c);
int ui_update(struct ui_request *c);

/* GET and POST /ui/cliente/borrar: the confirmation, and the deletion. */
int ui_delete_form(struct ui_request *c);
int ui_delete(struct ui_request *c);

/* GET /ui/importar, POST /ui/importar (the preview: nothing is kept) and
 * POST /ui/importar/confirmar; GET /ui/exportar (the list's search as CSV
 * for spreadsheets). */
int ui_import_form(struct ui_request *c);
int ui_import_preview(struct ui_request *c);
int ui_import_confirm(struct ui_request *c);
int ui_export(struct ui_request *c);

/* Administration: users, tokens, the audit trail. */
int ui_users(struct ui_request *c);
int ui_user_create(struct ui_request *c);
int ui_user_role(struct ui_request *c);
int ui_user_state(struct ui_request *c);
int ui_tokens(struct ui_request *c);
int ui_token_create(struct ui_request *c);
int ui_token_revoke(struct ui_request *c);
int ui_audit(struct ui_request *c);

/* The error of a /ui/ request (c->err) as a page in the style of the
 * others, or for a missing or refused session (401) a 303 to the sign-in
 * page that comes back here afterwards.  route.c's send_error() calls it
 * for the routes whose errors are HTML. */
void ui_send_error(struct ui_request *c);

#endif
