/* test_store.c - the manager over the real SQLite store, in a temp dir. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "error.h"
#include "manager.h"
#include "store.h"
#include "unit_support.h"

#define EX_MAIL "ejemplo@gmail.com"

/* One fresh temp dir per test; `s` is open on `path` when the setup asks. */
struct fx {
    char dir[1024];
    char path[1200];
    struct store *s;
    int cwd_fd; /* where to come back to after a test that chdir()s, or -1 */
};

static int fx_new(void **state, const char *base, int open_store)
{
    struct fx *fx = calloc(1, sizeof(*fx));
    char err[512];

    if (!fx)
        return -1;
    fx->cwd_fd = -1;
    if (ut_mkdtemp(fx->dir, sizeof(fx->dir), base) != 0) {
        perror("mkdtemp");
        free(fx);
        return -1;
    }
    ut_join(fx->path, sizeof(fx->path), fx->dir, "clientes.db");
    if (open_store && store_open(fx->path, &fx->s, err, sizeof(err)) != CL_OK) {
        fprintf(stderr, "setup: %s\n", err);
        ut_rmtree(fx->dir);
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int setup_store(void **state)
{
    return fx_new(state, NULL, 1);
}

static int setup_dir(void **state)
{
    return fx_new(state, NULL, 0);
}

/* Under /tmp, which any user can traverse, for the test that drops root. */
static int setup_dir_tmp(void **state)
{
    return fx_new(state, "/tmp", 0);
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    int rc = 0;

    store_close(fx->s);
    if (fx->cwd_fd >= 0) {
        if (fchdir(fx->cwd_fd) != 0)
            rc = -1;
        close(fx->cwd_fd);
    }
    if (ut_rmtree(fx->dir) != 0) {
        fprintf(stderr, "teardown: cannot remove %s\n", fx->dir);
        rc = -1;
    }
    free(fx);
    return rc;
}

static void fx_reopen(struct fx *fx)
{
    char err[512] = "";
    store_close(fx->s);
    fx->s = NULL;
    if (store_open(fx->path, &fx->s, err, sizeof(err)) != CL_OK)
        fail_msg("reopen %s: %s", fx->path, err);
    assert_non_null(fx->s);
}

static void fx_chdir(struct fx *fx)
{
    fx->cwd_fd = open(".", O_RDONLY | O_DIRECTORY);
    assert_true(fx->cwd_fd >= 0);
    assert_int_equal(chdir(fx->dir), 0);
}

static void make(struct client *c, const char *nombre, const char *apellidos, const char *mail,
                 const char *fecha, const char *direccion)
{
    if (ut_client(c, nombre, apellidos, mail, fecha, direccion) != CL_OK)
        fail_msg("test data refused: %s / %s / %s / %s / %s", nombre, apellidos, mail, fecha,
                 direccion);
}

static void assert_client_eq(const struct client *got, const struct client *want)
{
    for (int f = 0; f < CLIENT_NFIELDS; f++)
        assert_string_equal(client_get(got, (enum client_field)f),
                            client_get(want, (enum client_field)f));
}

static void example(struct client *c)
{
    make(c, "Jesus", "Mesa Gonzalez", EX_MAIL, "29/06/1996", "Calle Paseo Moreras 39");
}

static long long count(struct store *s)
{
    long long n = -1;
    assert_int_equal(manager_count(s, &n), CL_OK);
    return n;
}

static void assert_absent(struct store *s, const char *mail)
{
    struct client out;
    assert_int_equal(manager_get(s, mail, &out, NULL), CL_NOT_FOUND);
}

static void assert_stored(struct store *s, const struct client *want)
{
    struct client out;
    client_init(&out);
    assert_int_equal(manager_get(s, want->mail, &out, NULL), CL_OK);
    assert_client_eq(&out, want);
}

/* ---- the manager ----------------------------------------------------------- */

static void test_new_store_has_example(void **state)
{
    struct fx *fx = *state;
    struct client ex;

    example(&ex);
    assert_string_equal(fx->s->ops->name, "sqlite");
    assert_int_equal(manager_ping(fx->s), CL_OK);
    assert_int_equal(count(fx->s), 1);
    assert_stored(fx->s, &ex);
    assert_string_equal(store_errmsg(fx->s), "");
    assert_string_equal(store_errmsg(NULL), "");
    /* a new file is in WAL mode (header bytes 18-19 are 2) */
    unsigned char *buf;
    size_t len;
    assert_int_equal(ut_read_file(fx->path, &buf, &len), 0);
    assert_true(len >= 100);
    assert_memory_equal(buf, "SQLite format 3", 16);
    assert_int_equal(buf[18], 2);
    assert_int_equal(buf[19], 2);
    free(buf);
}

static void test_add_then_get(void **state)
{
    struct fx *fx = *state;
    struct client c, out;
    struct manager_reject rej = {CLIENT_NFIELDS, "sentinel"};

    make(&c, "Íñigo", "Pérez Ñúñez", "Inigo.Perez@Example.ES", "8/09/1978",
         "Avenida de la Constitución 1, 3º B");
    assert_int_equal(manager_add(fx->s, &c, &rej), CL_OK);
    assert_string_equal(store_errmsg(fx->s), "");
    assert_int_equal(count(fx->s), 2);

    memset(&out, 'x', sizeof(out));
    assert_int_equal(manager_get(fx->s, "Inigo.Perez@Example.ES", &out, &rej), CL_OK);
    assert_client_eq(&out, &c);
    /* the date comes back exactly as given, not normalised */
    assert_string_equal(out.fecha_nacimiento, "8/09/1978");

    /* the longest values round-trip intact */
    char big[1024];
    size_t n = 0;
    for (int i = 0; i < 200; i++, n += 4)
        memcpy(big + n, "\xf0\x9f\x98\x80", 4);
    big[n] = '\0';
    make(&c, "N", "A", "big@example.com", "2000-02-29", big);
    big[400] = '\0';
    assert_int_equal(client_set(&c, CLIENT_NOMBRE, big, 400, NULL), CL_OK);
    assert_int_equal(manager_add(fx->s, &c, NULL), CL_OK);
    assert_stored(fx->s, &c);
    assert_int_equal(strlen(c.direccion), 800);
}

static void test_add_duplicate(void **state)
{
    struct fx *fx = *state;
    struct client first, dup, ex;
    struct manager_reject rej;

    make(&first, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");
    assert_int_equal(manager_add(fx->s, &first, &rej), CL_OK);

    make(&dup, "Otra", "Persona", "ana@example.com", "2/3/1990", "Calle Dos 2");
    assert_int_equal(manager_add(fx->s, &dup, &rej), CL_EXISTS);
    assert_true(store_errmsg(fx->s)[0] != '\0');
    make(&dup, "Otra", "Persona", "ANA@Example.COM", "2/3/1990", "Calle Dos 2");
    assert_int_equal(manager_add(fx->s, &dup, &rej), CL_EXISTS);
    /* the example, too, is a key like any other */
    make(&dup, "X", "Y", "Ejemplo@GMAIL.com", "2/3/1990", "Z");
    assert_int_equal(manager_add(fx->s, &dup, NULL), CL_EXISTS);

    assert_int_equal(count(fx->s), 2);
    assert_stored(fx->s, &first);
    example(&ex);
    assert_stored(fx->s, &ex);
    /* the store is still usable after the refused writes */
    make(&dup, "Otra", "Persona", "ana2@example.com", "2/3/1990", "Calle Dos 2");
    assert_int_equal(manager_add(fx->s, &dup, NULL), CL_OK);
    assert_string_equal(store_errmsg(fx->s), "");
    assert_int_equal(count(fx->s), 3);
}

static void test_get_case_insensitive(void **state)
{
    struct fx *fx = *state;
    struct client c, out;

    make(&c, "Ana", "Lopez", "Ana.Lopez@Example.com", "1/2/1980", "Calle Uno 1");
    assert_int_equal(manager_add(fx->s, &c, NULL), CL_OK);
    const char *forms[] = {"ana.lopez@example.com", "ANA.LOPEZ@EXAMPLE.COM",
                           "Ana.Lopez@Example.com", "aNA.lOPEZ@eXAMPLE.COM"};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        client_init(&out);
        assert_int_equal(manager_get(fx->s, forms[i], &out, NULL), CL_OK);
        /* the address is returned as first stored */
        assert_client_eq(&out, &c);
    }
    assert_int_equal(manager_get(fx->s, "EJEMPLO@GMAIL.COM", &out, NULL), CL_OK);
    assert_string_equal(out.mail, EX_MAIL);
    /* near misses are not matches */
    assert_absent(fx->s, "ana.lopez@example.co");
    assert_absent(fx->s, "na.lopez@example.com");
}

static void test_get_unknown_or_invalid(void **state)
{
    struct fx *fx = *state;
    struct client out;
    struct manager_reject rej = {CLIENT_NFIELDS, NULL};

    assert_int_equal(manager_get(fx->s, "nadie@example.com", &out, &rej), CL_NOT_FOUND);
    assert_int_equal(manager_get(fx->s, "a@b", &out, &rej), CL_INVALID);
    assert_int_equal(rej.field, CLIENT_MAIL);
    assert_string_equal(rej.reason, "dominio invalido");
    rej.reason = NULL;
    assert_int_equal(manager_get(fx->s, NULL, &out, &rej), CL_INVALID);
    assert_int_equal(rej.field, CLIENT_MAIL);
    assert_non_null(rej.reason);
    assert_int_equal(manager_get(fx->s, "", &out, NULL), CL_INVALID);
    /* SQL-looking input is just a value, and not a valid mail */
    assert_int_equal(manager_get(fx->s, "x' OR '1'='1@a.es", &out, &rej), CL_INVALID);
    assert_int_equal(manager_get(fx->s, "%@gmail.com", &out, &rej), CL_NOT_FOUND);
    assert_int_equal(manager_get(fx->s, "_jemplo@gmail.com", &out, &rej), CL_NOT_FOUND);
}

static void test_delete_twice(void **state)
{
    struct fx *fx = *state;
    struct client a, b;
    struct manager_reject rej = {CLIENT_NFIELDS, NULL};

    make(&a, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");
    make(&b, "Luis", "Diaz", "luis@example.com", "3/4/1970", "Calle Dos 2");
    assert_int_equal(manager_add(fx->s, &a, NULL), CL_OK);
    assert_int_equal(manager_add(fx->s, &b, NULL), CL_OK);

    assert_int_equal(manager_delete(fx->s, "ANA@example.com", &rej), CL_OK);
    assert_absent(fx->s, "ana@example.com");
    assert_int_equal(manager_delete(fx->s, "ana@example.com", &rej), CL_NOT_FOUND);
    assert_int_equal(count(fx->s), 2);
    assert_stored(fx->s, &b);

    assert_int_equal(manager_delete(fx->s, "noat", &rej), CL_INVALID);
    assert_int_equal(rej.field, CLIENT_MAIL);
    assert_string_equal(rej.reason, "falta la '@'");
    assert_int_equal(manager_delete(fx->s, NULL, NULL), CL_INVALID);
    /* LIKE wildcards mean nothing */
    assert_int_equal(manager_delete(fx->s, "%@example.com", NULL), CL_NOT_FOUND);
    assert_int_equal(count(fx->s), 2);

    /* deleted, it can be added again */
    assert_int_equal(manager_add(fx->s, &a, NULL), CL_OK);
    assert_stored(fx->s, &a);
}

static void test_update_each_field_only(void **state)
{
    struct fx *fx = *state;
    struct client a, b, out;
    static const struct {
        enum client_field f;
        const char *value;
    } changes[] = {
        {CLIENT_NOMBRE, "Anabel"},
        {CLIENT_APELLIDOS, "López de Vega"},
        {CLIENT_FECHA_NACIMIENTO, "8/09/1978"},
        {CLIENT_DIRECCION, "Plaza Mayor 7, 2º"},
        {CLIENT_FECHA_NACIMIENTO, "2000-02-29"},
        {CLIENT_NOMBRE, "Ana"},
    };
    struct manager_reject rej;

    make(&a, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");
    make(&b, "Ana", "Lopez", "ana2@example.com", "1/2/1980", "Calle Uno 1");
    assert_int_equal(manager_add(fx->s, &a, NULL), CL_OK);
    assert_int_equal(manager_add(fx->s, &b, NULL), CL_OK);

    for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
        const char *key = i % 2 ? "ANA@EXAMPLE.COM" : "ana@example.com";
        assert_int_equal(manager_update(fx->s, key, changes[i].f, changes[i].value, &rej), CL_OK);
        /* what we expect: the old record with that one field replaced */
        assert_int_equal(client_set(&a, changes[i].f, changes[i].value, strlen(changes[i].value),
                                    NULL),
                         CL_OK);
        client_init(&out);
        assert_int_equal(manager_get(fx->s, "ana@example.com", &out, NULL), CL_OK);
        assert_client_eq(&out, &a);
        assert_string_equal(client_get(&out, changes[i].f), changes[i].value);
        /* the other client, identical before, is untouched */
        assert_stored(fx->s, &b);
    }
    assert_int_equal(count(fx->s), 3);

    /* unknown client */
    assert_int_equal(manager_update(fx->s, "nadie@example.com", CLIENT_NOMBRE, "X", &rej),
                     CL_NOT_FOUND);
    assert_int_equal(count(fx->s), 3);
}

static void test_update_mail_refused(void **state)
{
    struct fx *fx = *state;
    struct client a;
    struct manager_reject rej = {CLIENT_NFIELDS, NULL};

    make(&a, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");
    assert_int_equal(manager_add(fx->s, &a, NULL), CL_OK);

    assert_int_equal(manager_update(fx->s, "ana@example.com", CLIENT_MAIL, "nueva@example.com",
                                    &rej),
                     CL_INVALID);
    assert_int_equal(rej.field, CLIENT_MAIL);
    assert_non_null(rej.reason);
    assert_string_equal(rej.reason, "no se puede cambiar");
    /* even a change of case only */
    assert_int_equal(manager_update(fx->s, "ana@example.com", CLIENT_MAIL, "ANA@example.com",
                                    NULL),
                     CL_INVALID);
    assert_int_equal(manager_update(fx->s, "ana@example.com", CLIENT_NFIELDS, "x", &rej),
                     CL_INVALID);
    assert_non_null(rej.reason);
    assert_stored(fx->s, &a);
    assert_absent(fx->s, "nueva@example.com");
    assert_int_equal(count(fx->s), 2);
    /* the backend refuses it as well, were the manager bypassed */
    assert_int_equal(fx->s->ops->update(fx->s, "ana@example.com", CLIENT_MAIL, "n@example.com"),
                     CL_INVALID);
    assert_stored(fx->s, &a);
}

static void test_invalid_values_refused(void **state)
{
    struct fx *fx = *state;
    struct client good, bad, ex;
    struct manager_reject rej;
    static const char *bad_values[CLIENT_NFIELDS] = {
        [CLIENT_NOMBRE] = "   ",
        [CLIENT_APELLIDOS] = "Lo\tpez",
        [CLIENT_MAIL] = "a@b",
        [CLIENT_FECHA_NACIMIENTO] = "29/02/2001",
        [CLIENT_DIRECCION] = "Calle \xc0\xaf",
    };
    static const char *reasons[CLIENT_NFIELDS] = {
        [CLIENT_NOMBRE] = "vacio",
        [CLIENT_APELLIDOS] = "contiene caracteres de control",
        [CLIENT_MAIL] = "dominio invalido",
        [CLIENT_FECHA_NACIMIENTO] = "fecha inexistente",
        [CLIENT_DIRECCION] = "UTF-8 invalido",
    };

    make(&good, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");
    example(&ex);

    /* add: each field broken alone is named, and nothing is stored */
    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        memcpy(&bad, &good, sizeof(bad));
        strcpy((char *)&bad + client_fields[f].offset, bad_values[f]);
        rej.field = CLIENT_NFIELDS;
        rej.reason = NULL;
        assert_int_equal(manager_add(fx->s, &bad, &rej), CL_INVALID);
        assert_int_equal(rej.field, f);
        assert_non_null(rej.reason);
        assert_string_equal(rej.reason, reasons[f]);
        assert_int_equal(manager_add(fx->s, &bad, NULL), CL_INVALID);
        assert_int_equal(count(fx->s), 1);
        assert_absent(fx->s, "ana@example.com");
    }
    /* a member with no NUL inside its capacity is refused, not overrun */
    memcpy(&bad, &good, sizeof(bad));
    memset(bad.fecha_nacimiento, '1', sizeof(bad.fecha_nacimiento));
    assert_int_equal(manager_add(fx->s, &bad, &rej), CL_INVALID);
    assert_int_equal(rej.field, CLIENT_FECHA_NACIMIENTO);
    /* a future birth date */
    memcpy(&bad, &good, sizeof(bad));
    strcpy(bad.fecha_nacimiento, "1/1/9999");
    assert_int_equal(manager_add(fx->s, &bad, &rej), CL_INVALID);
    assert_int_equal(rej.field, CLIENT_FECHA_NACIMIENTO);
    assert_string_equal(rej.reason, "fecha futura");
    assert_int_equal(count(fx->s), 1);

    /* update: a bad value names its field and changes nothing */
    assert_int_equal(manager_add(fx->s, &good, NULL), CL_OK);
    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        if (f == CLIENT_MAIL)
            continue;
        rej.field = CLIENT_NFIELDS;
        rej.reason = NULL;
        assert_int_equal(manager_update(fx->s, "ana@example.com", (enum client_field)f,
                                        bad_values[f], &rej),
                         CL_INVALID);
        assert_int_equal(rej.field, f);
        assert_string_equal(rej.reason, reasons[f]);
        rej.reason = NULL;
        assert_int_equal(manager_update(fx->s, "ana@example.com", (enum client_field)f, NULL,
                                        &rej),
                         CL_INVALID);
        assert_int_equal(rej.field, f);
        assert_non_null(rej.reason);
    }
    assert_int_equal(manager_update(fx->s, "ana@example.com", CLIENT_FECHA_NACIMIENTO,
                                    "1/1/1899", &rej),
                     CL_INVALID);
    assert_string_equal(rej.reason, "fecha anterior a 1900");
    /* the mail is checked first, even when the value is bad too */
    assert_int_equal(manager_update(fx->s, "a b@c.es", CLIENT_NOMBRE, "", &rej), CL_INVALID);
    assert_int_equal(rej.field, CLIENT_MAIL);
    assert_string_equal(rej.reason, "contiene caracteres no permitidos");
    assert_int_equal(manager_update(fx->s, "ana@example.com", CLIENT_NOMBRE, "", NULL),
                     CL_INVALID);

    assert_stored(fx->s, &good);
    assert_stored(fx->s, &ex);
    assert_int_equal(count(fx->s), 2);
}

struct collect {
    struct client rec[16];
    int n;
    int stop_at; /* return non-zero once n reaches it (0: never) */
    int stop_value;
};

static int collect_fn(const struct client *c, void *ctx)
{
    struct collect *col = ctx;
    if (col->n < 16)
        memcpy(&col->rec[col->n], c, sizeof(*c));
    col->n++;
    return col->stop_at && col->n >= col->stop_at ? col->stop_value : 0;
}

static int cmp_mail(const void *a, const void *b)
{
    return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_count_and_ordered_walk(void **state)
{
    struct fx *fx = *state;
    struct client c;
    struct collect col;
    /* '_' sorts before letters only when case is folded to lower case, as
     * "case-insensitive mail order" means here (SQLite NOCASE, strcasecmp) */
    const char *mails[] = {"b@x.es", "A@x.es", "c@x.es",   "B2@x.es", "aa@x.es",
                           "Z@x.es", "m@x.es", "a_b@x.es", "aB@x.es", EX_MAIL};
    const size_t n = sizeof(mails) / sizeof(mails[0]);
    const char *sorted[sizeof(mails) / sizeof(mails[0])];

    for (size_t i = 0; i + 1 < n; i++) {
        char nombre[32];
        snprintf(nombre, sizeof(nombre), "Cliente %zu", i);
        make(&c, nombre, "Apellido", mails[i], "1/1/1990", "Calle");
        assert_int_equal(manager_add(fx->s, &c, NULL), CL_OK);
        assert_int_equal(count(fx->s), (long long)i + 2);
    }
    memcpy(sorted, mails, sizeof(mails));
    qsort(sorted, n, sizeof(sorted[0]), cmp_mail);

    memset(&col, 0, sizeof(col));
    assert_int_equal(manager_walk(fx->s, collect_fn, &col), CL_OK);
    assert_int_equal(col.n, (int)n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(col.rec[i].mail, sorted[i]); /* case as stored */
    /* whole records come through the walk */
    for (size_t i = 0; i < n; i++) {
        struct client want;
        client_init(&want);
        assert_int_equal(manager_get(fx->s, col.rec[i].mail, &want, NULL), CL_OK);
        assert_client_eq(&col.rec[i], &want);
    }
    assert_int_equal(count(fx->s), (long long)n);
}

static void test_walk_stops_early(void **state)
{
    struct fx *fx = *state;
    struct client c;
    struct collect col;
    char mail[64];

    for (int i = 0; i < 5; i++) {
        snprintf(mail, sizeof(mail), "w%d@x.es", i);
        make(&c, "N", "A", mail, "1/1/1990", "D");
        assert_int_equal(manager_add(fx->s, &c, NULL), CL_OK);
    }
    memset(&col, 0, sizeof(col));
    col.stop_at = 2;
    col.stop_value = 1;
    assert_int_equal(manager_walk(fx->s, collect_fn, &col), CL_OK);
    assert_int_equal(col.n, 2);
    assert_string_equal(col.rec[0].mail, EX_MAIL);
    assert_string_equal(col.rec[1].mail, "w0@x.es");

    memset(&col, 0, sizeof(col));
    col.stop_at = 1;
    col.stop_value = -7;
    assert_int_equal(manager_walk(fx->s, collect_fn, &col), CL_OK);
    assert_int_equal(col.n, 1);

    /* an interrupted walk leaves the handle (and the file) fully usable */
    make(&c, "N", "A", "after@x.es", "1/1/1990", "D");
    assert_int_equal(manager_add(fx->s, &c, NULL), CL_OK);
    assert_int_equal(manager_delete(fx->s, "w4@x.es", NULL), CL_OK);
    struct store *other;
    char err[256];
    assert_int_equal(store_open(fx->path, &other, err, sizeof(err)), CL_OK);
    make(&c, "N", "A", "other@x.es", "1/1/1990", "D");
    assert_int_equal(manager_add(other, &c, NULL), CL_OK);
    store_close(other);

    memset(&col, 0, sizeof(col));
    assert_int_equal(manager_walk(fx->s, collect_fn, &col), CL_OK);
    assert_int_equal(col.n, 7);
    assert_int_equal(count(fx->s), 7);
}

static void test_walk_empty(void **state)
{
    struct fx *fx = *state;
    struct collect col;

    assert_int_equal(manager_delete(fx->s, EX_MAIL, NULL), CL_OK);
    assert_int_equal(count(fx->s), 0);
    memset(&col, 0, sizeof(col));
    assert_int_equal(manager_walk(fx->s, collect_fn, &col), CL_OK);
    assert_int_equal(col.n, 0);
    assert_int_equal(manager_ping(fx->s), CL_OK);
}

/* ---- persistence ------------------------------------------------------------ */

static void test_reopen_keeps_everything(void **state)
{
    struct fx *fx = *state;
    struct client a, b, c, ex;

    make(&a, "Ana", "Lopez", "Ana@example.com", "1/2/1980", "Calle Uno 1");
    make(&b, "Luis", "Díaz", "luis@example.com", "1990-03-04", "Calle Dos 2");
    make(&c, "Eva", "Ruiz", "eva@example.com", "8/09/1978", "Calle Tres 3");
    example(&ex);
    assert_int_equal(manager_add(fx->s, &a, NULL), CL_OK);
    assert_int_equal(manager_add(fx->s, &b, NULL), CL_OK);
    assert_int_equal(manager_add(fx->s, &c, NULL), CL_OK);
    assert_int_equal(manager_update(fx->s, "luis@example.com", CLIENT_DIRECCION, "Nueva 9", NULL),
                     CL_OK);
    assert_int_equal(client_set(&b, CLIENT_DIRECCION, "Nueva 9", 7, NULL), CL_OK);
    assert_int_equal(manager_delete(fx->s, "eva@example.com", NULL), CL_OK);

    for (int round = 0; round < 2; round++) {
        fx_reopen(fx);
        assert_int_equal(count(fx->s), 3);
        assert_stored(fx->s, &a);
        assert_stored(fx->s, &b);
        assert_stored(fx->s, &ex);
        assert_absent(fx->s, "eva@example.com");
    }
    /* and the uniqueness survives too */
    assert_int_equal(manager_add(fx->s, &a, NULL), CL_EXISTS);
}

static void test_example_only_on_creation(void **state)
{
    struct fx *fx = *state;
    struct client a;

    assert_int_equal(manager_delete(fx->s, EX_MAIL, NULL), CL_OK);
    fx_reopen(fx);
    assert_absent(fx->s, EX_MAIL);
    assert_int_equal(count(fx->s), 0);

    make(&a, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");
    assert_int_equal(manager_add(fx->s, &a, NULL), CL_OK);
    fx_reopen(fx);
    assert_absent(fx->s, EX_MAIL);
    assert_int_equal(count(fx->s), 1);
    assert_stored(fx->s, &a);
}

static void test_empty_file_is_new(void **state)
{
    struct fx *fx = *state;
    struct client ex;
    char err[256];

    /* a zero-byte file is a new database (e.g. made by `touch`) */
    assert_int_equal(ut_write_file(fx->path, "", 0), 0);
    assert_int_equal(store_open(fx->path, &fx->s, err, sizeof(err)), CL_OK);
    example(&ex);
    assert_int_equal(count(fx->s), 1);
    assert_stored(fx->s, &ex);
}

static void open_ok(const char *url, struct store **s)
{
    char err[512] = "";
    *s = NULL;
    if (store_open(url, s, err, sizeof(err)) != CL_OK)
        fail_msg("store_open(\"%s\") failed: %s", url, err);
    assert_non_null(*s);
}

static void test_url_forms(void **state)
{
    struct fx *fx = *state;
    struct store *s;
    struct client a;
    char url[1500], p[1300];

    fx_chdir(fx);
    make(&a, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");

    /* sqlite://relative/path, relative to the working directory */
    open_ok("sqlite://rel.db", &s);
    assert_int_equal(manager_add(s, &a, NULL), CL_OK);
    store_close(s);
    ut_join(p, sizeof(p), fx->dir, "rel.db");
    assert_true(ut_exists(p));

    /* the same file by sqlite:///abs/path and by bare path */
    snprintf(url, sizeof(url), "sqlite://%s", p);
    assert_int_equal(url[9], '/');
    open_ok(url, &s);
    assert_int_equal(count(s), 2);
    assert_stored(s, &a);
    store_close(s);
    open_ok(p, &s);
    assert_int_equal(count(s), 2);
    store_close(s);
    open_ok("rel.db", &s);
    assert_stored(s, &a);
    store_close(s);

    /* a relative path with a directory part */
    assert_int_equal(mkdir("sub", 0700), 0);
    open_ok("sqlite://sub/nested.db", &s);
    assert_int_equal(count(s), 1);
    store_close(s);
    ut_join(p, sizeof(p), fx->dir, "sub/nested.db");
    assert_true(ut_exists(p));
    open_ok("sub/nested.db", &s);
    assert_int_equal(count(s), 1);
    store_close(s);

    /* sqlite:///abs of a new file, and a bare absolute path of another */
    ut_join(p, sizeof(p), fx->dir, "abs.db");
    snprintf(url, sizeof(url), "sqlite://%s", p);
    open_ok(url, &s);
    store_close(s);
    assert_true(ut_exists(p));
    ut_join(p, sizeof(p), fx->dir, "bare.db");
    open_ok(p, &s);
    store_close(s);
    assert_true(ut_exists(p));

    /* ?busy_timeout=N is an option, not part of the file name */
    open_ok("sqlite://bt.db?busy_timeout=250", &s);
    assert_int_equal(count(s), 1);
    store_close(s);
    assert_true(ut_exists("bt.db"));
    assert_false(ut_exists("bt.db?busy_timeout=250"));
    open_ok("bt2.db?busy_timeout=0", &s);
    store_close(s);
    assert_true(ut_exists("bt2.db"));
    ut_join(p, sizeof(p), fx->dir, "rel.db");
    snprintf(url, sizeof(url), "sqlite://%s?busy_timeout=5000", p);
    open_ok(url, &s);
    assert_stored(s, &a);
    store_close(s);
}

static void test_bad_urls(void **state)
{
    struct fx *fx = *state;
    static const char *bad[] = {
        "postgres://user:secret@localhost:5432/clientes",
        "postgresql://localhost/clientes",
        "mysql://localhost/clientes",
        "http://example.com/x.db",
        "",
        "sqlite://",
        "sqlite://?busy_timeout=10",
        "?busy_timeout=10",
        "x.db?busy_timeout=",
        "x.db?busy_timeout=abc",
        "x.db?busy_timeout=-1",
        "x.db?busy_timeout=10ms",
        "x.db?busy_timeout=99999999999999999999999",
        "x.db?mode=ro",
        "sqlite://x.db?cache=shared",
    };
    struct store dummy;
    char err[512];

    fx_chdir(fx);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct store *s = &dummy;
        err[0] = '\0';
        enum cl_err e = store_open(bad[i], &s, err, sizeof(err));
        if (e != CL_INVALID)
            fail_msg("store_open(\"%s\") = %d (%s), expected CL_INVALID", bad[i], (int)e, err);
        assert_null(s);
        assert_true(err[0] != '\0');
        /* without a message buffer, and with a tiny one */
        s = &dummy;
        assert_int_equal(store_open(bad[i], &s, NULL, 0), CL_INVALID);
        assert_null(s);
        memset(err, 'z', sizeof(err));
        assert_int_equal(store_open(bad[i], &s, err, 8), CL_INVALID);
        assert_true(memchr(err, '\0', 8) != NULL);
        assert_int_equal(err[8], 'z');
    }
    struct store *s = &dummy;
    assert_int_equal(store_open(NULL, &s, err, sizeof(err)), CL_INVALID);
    assert_null(s);
    /* a refused URL created nothing */
    assert_false(ut_exists("x.db"));
    char p[1300];
    ut_join(p, sizeof(p), fx->dir, "x.db");
    assert_false(ut_exists(p));
}

/* ---- failure paths ---------------------------------------------------------- */

static void test_missing_directory(void **state)
{
    struct fx *fx = *state;
    struct store *s = NULL;
    char p[1300], url[1400], err[512] = "";
    struct store dummy;

    ut_join(p, sizeof(p), fx->dir, "no/such/dir/clientes.db");
    s = &dummy;
    assert_int_equal(store_open(p, &s, err, sizeof(err)), CL_STORAGE);
    assert_null(s);
    assert_true(err[0] != '\0');
    assert_non_null(strstr(err, p)); /* the message says which file */
    snprintf(url, sizeof(url), "sqlite://%s", p);
    err[0] = '\0';
    assert_int_equal(store_open(url, &s, err, sizeof(err)), CL_STORAGE);
    assert_true(err[0] != '\0');
    assert_int_equal(store_open(url, &s, NULL, 0), CL_STORAGE);
    ut_join(p, sizeof(p), fx->dir, "no");
    assert_false(ut_exists(p));

    /* a directory where the file should be */
    err[0] = '\0';
    assert_int_equal(store_open(fx->dir, &s, err, sizeof(err)), CL_STORAGE);
    assert_null(s);
    assert_true(err[0] != '\0');
}

/* What the unprivileged child checks; returns a step number on failure.
 * open_may_fail: the directory is not writable either, so SQLite cannot
 * create the WAL index (-shm) it needs even to read a WAL file; the open may
 * then be refused, but only as CL_STORAGE with a message. */
static int read_only_child(const char *path, int open_may_fail)
{
    struct store *s;
    struct client out, c;
    char err[512] = "";
    enum cl_err e;
    long long n = -1;

    if (getuid() == 0 || geteuid() == 0) {
        /* root writes through 0444; become nobody so the file is really read-only */
        if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0) {
            perror("dropping privileges");
            return 2;
        }
    }
    if (geteuid() == 0)
        return 3;
    if (access(path, R_OK) != 0) {
        perror("child cannot read the file (is the temp dir reachable?)");
        return 4;
    }
    if (access(path, W_OK) == 0)
        return 5;

    s = NULL;
    e = store_open(path, &s, err, sizeof(err));
    if (e != CL_OK && open_may_fail && e == CL_STORAGE && !s && strstr(err, path)) {
        fprintf(stderr, "note: read-only file in a read-only directory refused: %s\n", err);
        return 0;
    }
    if (e != CL_OK) {
        fprintf(stderr, "read-only open: %s (%s)\n", cl_strerror(e), err);
        return 10;
    }
    if (manager_get(s, EX_MAIL, &out, NULL) != CL_OK || strcmp(out.nombre, "Jesus") != 0)
        return 11;
    if (manager_get(s, "ana@example.com", &out, NULL) != CL_OK || strcmp(out.nombre, "Ana") != 0)
        return 12;
    if (manager_count(s, &n) != CL_OK || n != 2)
        return 13;
    if (ut_client(&c, "Luis", "Diaz", "luis@example.com", "3/4/1970", "Calle Dos 2") != CL_OK)
        return 14;
    e = manager_add(s, &c, NULL);
    if (e != CL_STORAGE) {
        fprintf(stderr, "read-only add: %s (%s)\n", cl_strerror(e), store_errmsg(s));
        return 15;
    }
    if (store_errmsg(s)[0] == '\0')
        return 16;
    e = manager_update(s, "ana@example.com", CLIENT_NOMBRE, "Anabel", NULL);
    if (e != CL_STORAGE) {
        fprintf(stderr, "read-only update: %s (%s)\n", cl_strerror(e), store_errmsg(s));
        return 17;
    }
    e = manager_delete(s, EX_MAIL, NULL);
    if (e != CL_STORAGE) {
        fprintf(stderr, "read-only delete: %s (%s)\n", cl_strerror(e), store_errmsg(s));
        return 18;
    }
    /* reads still work after the refused writes */
    if (manager_get(s, "ana@example.com", &out, NULL) != CL_OK || strcmp(out.nombre, "Ana") != 0)
        return 19;
    if (manager_count(s, &n) != CL_OK || n != 2 || manager_ping(s) != CL_OK)
        return 20;
    store_close(s);
    return 0;
}

static void run_read_only(struct fx *fx, mode_t dir_mode)
{
    struct client a;
    unsigned char *before, *after;
    size_t blen, alen;
    char p[1300];
    int status;

    assert_int_equal(store_open(fx->path, &fx->s, NULL, 0), CL_OK);
    make(&a, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");
    assert_int_equal(manager_add(fx->s, &a, NULL), CL_OK);
    store_close(fx->s);
    fx->s = NULL;
    /* the last close checkpoints and removes the WAL files */
    snprintf(p, sizeof(p), "%s-wal", fx->path);
    assert_false(ut_exists(p));
    snprintf(p, sizeof(p), "%s-shm", fx->path);
    assert_false(ut_exists(p));
    assert_int_equal(chmod(fx->path, 0444), 0);
    assert_int_equal(chmod(fx->dir, dir_mode), 0); /* others may enter */
    assert_int_equal(ut_read_file(fx->path, &before, &blen), 0);

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(read_only_child(fx->path, !(dir_mode & 0002)));
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("read-only child failed: %s %d", WIFEXITED(status) ? "exit" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));

    assert_int_equal(ut_read_file(fx->path, &after, &alen), 0);
    assert_int_equal(alen, blen);
    assert_memory_equal(after, before, blen);
    free(before);
    free(after);
}

/* A 0444 file in a directory where others may create files (like /tmp):
 * reads work, every write is CL_STORAGE. */
static void test_read_only_file(void **state)
{
    run_read_only(*state, 01777);
}

/* A 0444 file in a 0755 directory: no crash, and a refusal is CL_STORAGE. */
static void test_read_only_file_and_dir(void **state)
{
    run_read_only(*state, 0755);
}

static void expect_refused_untouched(const char *path, const char *msg_part)
{
    unsigned char *before, *after;
    size_t blen, alen;
    struct store *s;
    struct store dummy;
    char err[512] = "", side[1300];

    assert_int_equal(ut_read_file(path, &before, &blen), 0);
    s = &dummy;
    enum cl_err e = store_open(path, &s, err, sizeof(err));
    if (e != CL_STORAGE)
        fail_msg("store_open(%s) = %s (%s), expected CL_STORAGE", path, cl_strerror(e), err);
    assert_null(s);
    if (!strstr(err, msg_part))
        fail_msg("message '%s' does not mention '%s'", err, msg_part);
    assert_int_equal(ut_read_file(path, &after, &alen), 0);
    assert_int_equal(alen, blen);
    assert_memory_equal(after, before, blen);
    free(before);
    free(after);
    snprintf(side, sizeof(side), "%s-wal", path);
    assert_false(ut_exists(side));
    snprintf(side, sizeof(side), "%s-journal", path);
    assert_false(ut_exists(side));
}

static void test_garbage_file(void **state)
{
    struct fx *fx = *state;
    unsigned char junk[8192];
    uint32_t x = 12345;
    char text[2048] = "";

    for (size_t i = 0; i < sizeof(junk); i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (unsigned char)(x >> 16);
    }
    assert_true(memcmp(junk, "SQLite format 3", 15) != 0);
    assert_int_equal(ut_write_file(fx->path, junk, sizeof(junk)), 0);
    expect_refused_untouched(fx->path, "not a database");

    /* short text */
    const char *line = "nombre,apellidos,mail\nJesus,Mesa Gonzalez,ejemplo@gmail.com\n";
    assert_int_equal(ut_write_file(fx->path, line, strlen(line)), 0);
    expect_refused_untouched(fx->path, "not a database");

    /* longer text, more than one page */
    while (strlen(text) + 40 < sizeof(text))
        strcat(text, "esto no es una base de datos SQLite.\n");
    assert_int_equal(ut_write_file(fx->path, text, strlen(text)), 0);
    expect_refused_untouched(fx->path, "not a database");

    /* a SQLite header followed by junk */
    memcpy(junk, "SQLite format 3", 16);
    assert_int_equal(ut_write_file(fx->path, junk, sizeof(junk)), 0);
    struct store *s;
    char err[512] = "";
    enum cl_err e = store_open(fx->path, &s, err, sizeof(err));
    assert_int_not_equal(e, CL_OK);
    assert_null(s);
    assert_true(err[0] != '\0');
}

static void sql_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    char *msg = NULL;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
    sqlite3_close(db);
}

static long long sql_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    long long v = -1;

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void test_foreign_sqlite_file(void **state)
{
    struct fx *fx = *state;

    /* someone else's database: user_version 0 but not empty */
    sql_exec(fx->path, "CREATE TABLE facturas(id INTEGER PRIMARY KEY, total REAL);"
                       "INSERT INTO facturas(total) VALUES (10.5), (20.25);");
    assert_int_equal(sql_int(fx->path, "PRAGMA user_version"), 0);
    expect_refused_untouched(fx->path, "not a clientes store");

    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM facturas"), 2);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM sqlite_schema WHERE name = 'clients'"),
                     0);
    assert_int_equal(sql_int(fx->path, "PRAGMA user_version"), 0);

    /* an empty table is still someone else's */
    sql_exec(fx->path, "DELETE FROM facturas");
    expect_refused_untouched(fx->path, "not a clientes store");
}

static void test_newer_schema_refused(void **state)
{
    struct fx *fx = *state;
    struct client a;

    make(&a, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");
    assert_int_equal(manager_add(fx->s, &a, NULL), CL_OK);
    store_close(fx->s);
    fx->s = NULL;
    long long v = sql_int(fx->path, "PRAGMA user_version");
    assert_true(v >= 1);
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld", v + 1);
    sql_exec(fx->path, sql);

    expect_refused_untouched(fx->path, "newer");
    assert_int_equal(sql_int(fx->path, "PRAGMA user_version"), v + 1);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM clients"), 2);

    /* put back at the current version, it opens again with its data */
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld", v);
    sql_exec(fx->path, sql);
    fx_reopen(fx);
    assert_stored(fx->s, &a);
}

/* A file written by the first schema (rowid table + unique NOCASE index,
 * user_version 1) is upgraded in place on open: same clients, no example
 * brought back, uniqueness still case-insensitive, at the current version. */
static void test_migrates_version_1_file(void **state)
{
    struct fx *fx = *state;
    struct client a, b, dup;
    char err[512] = "";

    sql_exec(fx->path,
             "CREATE TABLE clients (id INTEGER PRIMARY KEY, mail TEXT NOT NULL,"
             " nombre TEXT NOT NULL, apellidos TEXT NOT NULL,"
             " fecha_nacimiento TEXT NOT NULL, direccion TEXT NOT NULL);"
             "CREATE UNIQUE INDEX clients_mail_nocase ON clients(mail COLLATE NOCASE);"
             "INSERT INTO clients(mail, nombre, apellidos, fecha_nacimiento, direccion) VALUES"
             " ('Zoe@Example.com', 'Zoe', 'Ruiz', '2000-02-29', 'Calle Dos 2'),"
             " ('ana@example.com', 'Ana', 'Lopez', '1/2/1980', 'Calle Uno 1');"
             "PRAGMA user_version = 1;");
    assert_int_equal(store_open(fx->path, &fx->s, err, sizeof(err)), CL_OK);
    assert_true(sql_int(fx->path, "PRAGMA user_version") > 1);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM sqlite_schema WHERE name = 'clients_v2'"), 0);

    make(&a, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");
    make(&b, "Zoe", "Ruiz", "Zoe@Example.com", "2000-02-29", "Calle Dos 2");
    assert_int_equal(count(fx->s), 2); /* the example is not seeded into an old file */
    assert_stored(fx->s, &a);
    assert_stored(fx->s, &b);
    assert_absent(fx->s, "ejemplo@gmail.com");
    make(&dup, "Otra", "Zoe", "ZOE@example.COM", "1/1/1990", "Calle Tres 3");
    assert_int_equal(manager_add(fx->s, &dup, NULL), CL_EXISTS);
    assert_stored(fx->s, &b);

    /* and it stays migrated: reopening changes nothing */
    fx_reopen(fx);
    assert_int_equal(count(fx->s), 2);
}

/* ---- memory ----------------------------------------------------------------- */

#define BULK 100000

struct bulk {
    long long n;
    char prev[CLIENT_MAIL_CAP];
    int out_of_order;
    int bad;
};

static int bulk_fn(const struct client *c, void *ctx)
{
    struct bulk *b = ctx;
    if (b->n && strcasecmp(b->prev, c->mail) >= 0)
        b->out_of_order++;
    if (!c->mail[0] || !c->nombre[0] || !c->direccion[0])
        b->bad++;
    memcpy(b->prev, c->mail, sizeof(b->prev));
    b->n++;
    return 0;
}

static long max_rss_kb(void)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

static void test_walk_100k(void **state)
{
    struct fx *fx = *state;
    struct bulk b;
    char sql[1024];

    /* filled behind the library's back, in one transaction, for speed; the
     * mails come in a scrambled order and mixed case */
    snprintf(sql, sizeof(sql),
             "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
             " INSERT INTO clients(mail, nombre, apellidos, fecha_nacimiento, direccion)"
             " SELECT CASE WHEN i %% 2 THEN upper(m) ELSE m END,"
             " 'Nombre ' || i, 'Apellidos', '1/1/1990', 'Calle larga numero ' || i"
             " FROM (SELECT i, printf('c%%06d@example.com', (i * 7919) %% %d) AS m FROM n)",
             BULK - 1, BULK);
    sql_exec(fx->path, sql);
    assert_int_equal(count(fx->s), BULK + 1);

    long before = max_rss_kb();
    memset(&b, 0, sizeof(b));
    assert_int_equal(manager_walk(fx->s, bulk_fn, &b), CL_OK);
    long grown = max_rss_kb() - before;
    assert_int_equal(b.n, BULK + 1);
    assert_int_equal(b.out_of_order, 0);
    assert_int_equal(b.bad, 0);
    assert_int_equal(count(fx->s), BULK + 1);
    /* one record at a time: 100k records of ~1.9 KB each would be ~190 MB */
    if (grown > 48 * 1024)
        fail_msg("walking %d clients grew the peak RSS by %ld KB", BULK, grown);

    /* a second walk sees the same */
    memset(&b, 0, sizeof(b));
    assert_int_equal(manager_walk(fx->s, bulk_fn, &b), CL_OK);
    assert_int_equal(b.n, BULK + 1);
}

int main(void)
{
#define T(fn, setup) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_new_store_has_example, setup_store),
        T(test_add_then_get, setup_store),
        T(test_add_duplicate, setup_store),
        T(test_get_case_insensitive, setup_store),
        T(test_get_unknown_or_invalid, setup_store),
        T(test_delete_twice, setup_store),
        T(test_update_each_field_only, setup_store),
        T(test_update_mail_refused, setup_store),
        T(test_invalid_values_refused, setup_store),
        T(test_count_and_ordered_walk, setup_store),
        T(test_walk_stops_early, setup_store),
        T(test_walk_empty, setup_store),
        T(test_reopen_keeps_everything, setup_store),
        T(test_example_only_on_creation, setup_store),
        T(test_empty_file_is_new, setup_dir),
        T(test_url_forms, setup_dir),
        T(test_bad_urls, setup_dir),
        T(test_missing_directory, setup_dir),
        T(test_read_only_file, setup_dir_tmp),
        T(test_read_only_file_and_dir, setup_dir_tmp),
        T(test_garbage_file, setup_dir),
        T(test_foreign_sqlite_file, setup_dir),
        T(test_newer_schema_refused, setup_store),
        T(test_migrates_version_1_file, setup_dir),
        T(test_walk_100k, setup_store),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
