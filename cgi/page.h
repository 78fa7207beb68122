/* page.h - the pages of the browser interface rendered from plain structs:
 * what each page shows, with no store and no request in sight (cgi/ui.c
 * fills the structs; tests fill them with hostile values).  Every value goes
 * through html.h; every page is a complete HTML document in Spanish with its
 * landmarks, its title and no inline script or style.
 *
 * Strings in the views are borrowed, NUL-terminated UTF-8 and may be NULL
 * where said; nothing here allocates. */
#ifndef CLIENTES_PAGE_H
#define CLIENTES_PAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "account.h"
#include "client.h"
#include "html.h"

/* Rows shown per page of the client list. */
#define PAGE_ROWS 20

/* The entries of the navigation bar (which one is the current page). */
enum page_nav {
    NAV_NONE = 0,
    NAV_CLIENTES,
    NAV_NUEVO,
    NAV_IMPORTAR,
    NAV_USUARIOS,
    NAV_TOKENS,
    NAV_AUDITORIA
};

/* What every page around its content needs. */
struct page_frame {
    /* The signed-in user, or NULL (the login page, an error before
     * authentication): no navigation, no logout. */
    const char *user;
    enum role role;
    const char *csrf;  /* the session's CSRF token for every form; "" for none */
    enum page_nav nav;
    const char *aviso; /* a one-shot confirmation ("Cliente creado"), or NULL */
};

/* Writes the head, the bar and the opening of <main>; `title` names the page
 * (the <title> adds " · clientes"; with `error` it starts with "Error: ").
 * page_end() closes the document. */
void page_begin(struct html *h, const struct page_frame *f, const char *title, bool error);
void page_end(struct html *h);

/* ---- signing in --------------------------------------------------------- */

struct page_login {
    const char *usuario;  /* what was typed, kept after a refusal; NULL */
    const char *error;    /* why it was refused, or NULL */
    const char *volver;   /* the /ui/ path to go back to after signing in, or NULL */
    bool first_run;       /* the store has no user yet: say how to make one */
};
void page_login(struct html *h, const struct page_frame *f, const struct page_login *v);

/* ---- the list ------------------------------------------------------------ */

/* How the list is ordered: the query string's "orden". */
enum page_sort {
    PSORT_MAIL = 0,
    PSORT_NOMBRE,
    PSORT_APELLIDOS,
    PSORT_FECHA,
    PSORT_MODIFICADO,
    PSORT_COUNT
};

/* The name of a sort in URLs ("nombre"), and back (-1 when unknown). */
const char *page_sort_name(enum page_sort s);
int page_sort_parse(const char *name);

/* One client as a list or a card shows it. */
struct page_client {
    const struct client *c;
    const char *creado, *modificado; /* RFC 3339 UTC ("2026-12-01T11:35:09.123Z"), or NULL */
    long long version;
};

struct page_list {
    const char *q;         /* the search as typed, or NULL/"" for none */
    enum page_sort sort;
    bool desc;
    const struct page_client *rows;
    int nrows;
    long long total;       /* clients matching q */
    long long all;         /* clients in all (for the empty state) */
    const char *next;      /* cursor of the following page, or NULL */
    const char *prev;      /* cursor of the preceding page, or NULL */
};
void page_list(struct html *h, const struct page_frame *f, const struct page_list *v);

/* ---- one client ------------------------------------------------------- */

/* One change of a field in a history entry. */
struct page_change {
    const char *field;          /* wire name: "nombre" */
    const char *before, *after; /* NULL: none (a creation, a deletion) */
};

#define PAGE_CHANGES_MAX CLIENT_NFIELDS

struct page_event {
    const char *at;     /* RFC 3339 UTC */
    const char *actor;  /* "user:ana", "token:3 (ci)", "cli", "anonymous" */
    const char *action; /* "client.create", "client.update", ... */
    struct page_change changes[PAGE_CHANGES_MAX];
    int nchanges;
};

struct page_ficha {
    struct page_client client;
    const struct page_event *history;
    int nhistory;
    long long older;   /* the id to continue the history from ("antes"), 0: no more */
};
void page_ficha(struct html *h, const struct page_frame *f, const struct page_ficha *v);

/* ---- the form (new and edit) ---------------------------------------------- */

struct page_form {
    bool edit;                            /* edit (mail fixed) or new */
    const char *values[CLIENT_NFIELDS];   /* what the fields hold (a date as YYYY-MM-DD) */
    const char *errors[CLIENT_NFIELDS];   /* the message next to each field, or NULL */
    const char *error;                    /* one for the whole form (the mail exists), or NULL */
    long long version;                    /* edit: the version the form was loaded at */
    /* Edit after a conflict: the record as it is now (the form then holds
     * its values, and `mine` what the user had sent), else NULL. */
    const struct page_client *current;
    const char *mine[CLIENT_NFIELDS];
};
void page_form(struct html *h, const struct page_frame *f, const struct page_form *v);

/* The confirmation step of a deletion. */
void page_borrar(struct html *h, const struct page_frame *f, const struct page_client *v);

/* ---- import ------------------------------------------------------------ */

struct page_import_error {
    unsigned long line;
    const char *field;  /* wire name, or NULL: the whole line */
    const char *reason;
};

struct page_import {
    /* The file as sent, in base64 (exactly its bytes, whatever they are),
     * carried by the confirmation form; NULL: the first step (choose a
     * file). */
    const char *carry;
    const char *error;                 /* the file as a whole is unusable, or NULL */
    const struct page_client *rows;    /* what would be created (the first ones) */
    int nrows;
    long long creates;                 /* how many would be created in all */
    const struct page_import_error *errors;
    int nerrors;                       /* listed */
    long long bad_lines;               /* lines with errors in all */
};
void page_import(struct html *h, const struct page_frame *f, const struct page_import *v);

/* ---- administration ---------------------------------------------------- */

struct page_user {
    const char *name;
    enum role role;
    bool disabled;
    const char *creado;
};

struct page_users {
    const struct page_user *users;
    int nusers;
    /* the creation form, kept after a refusal */
    const char *name;
    enum role role;
    const char *error_name, *error_password, *error; /* NULL for none */
};
void page_users(struct html *h, const struct page_frame *f, const struct page_users *v);

struct page_token {
    long long id;
    const char *label;
    enum role role;
    const char *owner;  /* "" for the operator's */
    const char *creado;
    long long expires, revoked, last_used; /* unix times; 0 none */
    bool owner_disabled;
};

struct page_tokens {
    const struct page_token *tokens;
    int ntokens;
    long long now;            /* unix time, to tell expired tokens */
    const char *new_token;    /* just created: shown once, or NULL */
    const char *new_label;
    /* the creation form, kept after a refusal */
    const char *label;
    enum role role;
    const char *owner;
    const char *expires_days;
    const char *error;
    const char *const *owners; /* user names an admin may give a token to */
    int nowners;
};
void page_tokens(struct html *h, const struct page_frame *f, const struct page_tokens *v);

struct page_audit_row {
    long long id;
    const char *at, *actor, *action, *target, *changes, *request_id, *client_addr;
};

struct page_audit {
    const struct page_audit_row *rows;
    int nrows;
    const char *actor, *action, *since; /* the filters as given, or NULL */
    long long older;                    /* id to continue from, 0: no more */
};
void page_audit(struct html *h, const struct page_frame *f, const struct page_audit *v);

/* ---- errors ------------------------------------------------------------ */

/* A whole error page: the status, its title and the detail (NULL: none). */
void page_error(struct html *h, const struct page_frame *f, int status, const char *detail);

/* ---- formats ----------------------------------------------------------- */

/* A birth date as stored (D/M/YYYY or YYYY-MM-DD) as DD/MM/YYYY in out (11
 * bytes); what does not parse is copied as it is (cut to fit). */
void page_date(const char *stored, char out[11]);

/* A stored time (RFC 3339 UTC) as "DD/MM/YYYY HH:MM" in the service's time
 * zone, in out (17 bytes); "" for NULL or what does not parse. */
void page_time(const char *rfc3339, char out[17]);

/* Who an audit actor is, for people: "ana", "token 3 (ci)", "operador". */
#define PAGE_ACTOR_MAX 128
void page_actor(const char *actor, char *out, size_t len);

/* The field's label for people ("Fecha de nacimiento"). */
const char *page_field_label(enum client_field f);

#endif
