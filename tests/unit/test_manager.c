/* test_manager.c - the legacy operations of the manager over a real store
 * (either backend: store_fx.h): add, get, delete, update, count and walk,
 * with validation in front. */
#include "store_fx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void test_new_store_has_example(void **state)
{
    struct fx *fx = *state;
    struct client ex;

    fx_example(&ex);
    assert_string_equal(fx->s->ops->name, fx_backend() == FX_PG ? "postgresql" : "sqlite");
    assert_int_equal(manager_ping(fx->s), CL_OK);
    assert_int_equal(fx_count(fx->s), 1);
    fx_stored(fx->s, &ex);
    assert_string_equal(store_errmsg(fx->s), "");
    assert_string_equal(store_errmsg(NULL), "");
    /* a new file is in WAL mode */
    if (fx_backend() == FX_SQLITE)
        assert_int_equal(ts_db_is_wal(fx->path), 1);
}

static void test_add_then_get(void **state)
{
    struct fx *fx = *state;
    struct client c, out;
    struct manager_reject rej = {CLIENT_NFIELDS, "sentinel"};

    fx_make(&c, "Íñigo", "Pérez Ñúñez", "Inigo.Perez@Example.ES", "8/09/1978",
         "Avenida de la Constitución 1, 3º B");
    assert_int_equal(manager_add(fx->s, &c, &rej), CL_OK);
    assert_string_equal(store_errmsg(fx->s), "");
    assert_int_equal(fx_count(fx->s), 2);

    memset(&out, 'x', sizeof(out));
    assert_int_equal(manager_get(fx->s, "Inigo.Perez@Example.ES", &out, &rej), CL_OK);
    fx_client_eq(&out, &c);
    /* the date comes back exactly as given, not normalised */
    assert_string_equal(out.fecha_nacimiento, "8/09/1978");

    /* the longest values round-trip intact */
    char big[1024];
    size_t n = 0;
    for (int i = 0; i < 200; i++, n += 4)
        memcpy(big + n, "\xf0\x9f\x98\x80", 4);
    big[n] = '\0';
    fx_make(&c, "N", "A", "big@example.com", "2000-02-29", big);
    big[400] = '\0';
    assert_int_equal(client_set(&c, CLIENT_NOMBRE, big, 400, NULL), CL_OK);
    assert_int_equal(manager_add(fx->s, &c, NULL), CL_OK);
    fx_stored(fx->s, &c);
    assert_int_equal(strlen(c.direccion), 800);
}

static void test_add_duplicate(void **state)
{
    struct fx *fx = *state;
    struct client first, dup, ex;
    struct manager_reject rej;

    fx_make(&first, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");
    assert_int_equal(manager_add(fx->s, &first, &rej), CL_OK);

    fx_make(&dup, "Otra", "Persona", "ana@example.com", "2/3/1990", "Calle Dos 2");
    assert_int_equal(manager_add(fx->s, &dup, &rej), CL_EXISTS);
    assert_true(store_errmsg(fx->s)[0] != '\0');
    fx_make(&dup, "Otra", "Persona", "ANA@Example.COM", "2/3/1990", "Calle Dos 2");
    assert_int_equal(manager_add(fx->s, &dup, &rej), CL_EXISTS);
    /* the example, too, is a key like any other */
    fx_make(&dup, "X", "Y", "Ejemplo@GMAIL.com", "2/3/1990", "Z");
    assert_int_equal(manager_add(fx->s, &dup, NULL), CL_EXISTS);

    assert_int_equal(fx_count(fx->s), 2);
    fx_stored(fx->s, &first);
    fx_example(&ex);
    fx_stored(fx->s, &ex);
    /* the store is still usable after the refused writes */
    fx_make(&dup, "Otra", "Persona", "ana2@example.com", "2/3/1990", "Calle Dos 2");
    assert_int_equal(manager_add(fx->s, &dup, NULL), CL_OK);
    assert_string_equal(store_errmsg(fx->s), "");
    assert_int_equal(fx_count(fx->s), 3);
}

static void test_get_case_insensitive(void **state)
{
    struct fx *fx = *state;
    struct client c, out;

    fx_make(&c, "Ana", "Lopez", "Ana.Lopez@Example.com", "1/2/1980", "Calle Uno 1");
    assert_int_equal(manager_add(fx->s, &c, NULL), CL_OK);
    const char *forms[] = {"ana.lopez@example.com", "ANA.LOPEZ@EXAMPLE.COM",
                           "Ana.Lopez@Example.com", "aNA.lOPEZ@eXAMPLE.COM"};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        client_init(&out);
        assert_int_equal(manager_get(fx->s, forms[i], &out, NULL), CL_OK);
        /* the address is returned as first stored */
        fx_client_eq(&out, &c);
    }
    assert_int_equal(manager_get(fx->s, "EJEMPLO@GMAIL.COM", &out, NULL), CL_OK);
    assert_string_equal(out.mail, EX_MAIL);
    /* near misses are not matches */
    fx_absent(fx->s, "ana.lopez@example.co");
    fx_absent(fx->s, "na.lopez@example.com");
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

    fx_make(&a, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");
    fx_make(&b, "Luis", "Diaz", "luis@example.com", "3/4/1970", "Calle Dos 2");
    assert_int_equal(manager_add(fx->s, &a, NULL), CL_OK);
    assert_int_equal(manager_add(fx->s, &b, NULL), CL_OK);

    assert_int_equal(manager_delete(fx->s, "ANA@example.com", &rej), CL_OK);
    fx_absent(fx->s, "ana@example.com");
    assert_int_equal(manager_delete(fx->s, "ana@example.com", &rej), CL_NOT_FOUND);
    assert_int_equal(fx_count(fx->s), 2);
    fx_stored(fx->s, &b);

    assert_int_equal(manager_delete(fx->s, "noat", &rej), CL_INVALID);
    assert_int_equal(rej.field, CLIENT_MAIL);
    assert_string_equal(rej.reason, "falta la '@'");
    assert_int_equal(manager_delete(fx->s, NULL, NULL), CL_INVALID);
    /* LIKE wildcards mean nothing */
    assert_int_equal(manager_delete(fx->s, "%@example.com", NULL), CL_NOT_FOUND);
    assert_int_equal(fx_count(fx->s), 2);

    /* deleted, it can be added again */
    assert_int_equal(manager_add(fx->s, &a, NULL), CL_OK);
    fx_stored(fx->s, &a);
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

    fx_make(&a, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");
    fx_make(&b, "Ana", "Lopez", "ana2@example.com", "1/2/1980", "Calle Uno 1");
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
        fx_client_eq(&out, &a);
        assert_string_equal(client_get(&out, changes[i].f), changes[i].value);
        /* the other client, identical before, is untouched */
        fx_stored(fx->s, &b);
    }
    assert_int_equal(fx_count(fx->s), 3);

    /* unknown client */
    assert_int_equal(manager_update(fx->s, "nadie@example.com", CLIENT_NOMBRE, "X", &rej),
                     CL_NOT_FOUND);
    assert_int_equal(fx_count(fx->s), 3);
}

static void test_update_mail_refused(void **state)
{
    struct fx *fx = *state;
    struct client a;
    struct manager_reject rej = {CLIENT_NFIELDS, NULL};

    fx_make(&a, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");
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
    fx_stored(fx->s, &a);
    fx_absent(fx->s, "nueva@example.com");
    assert_int_equal(fx_count(fx->s), 2);
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

    fx_make(&good, "Ana", "Lopez", "ana@example.com", "1/2/1980", "Calle Uno 1");
    fx_example(&ex);

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
        assert_int_equal(fx_count(fx->s), 1);
        fx_absent(fx->s, "ana@example.com");
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
    assert_int_equal(fx_count(fx->s), 1);

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

    fx_stored(fx->s, &good);
    fx_stored(fx->s, &ex);
    assert_int_equal(fx_count(fx->s), 2);
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
        fx_make(&c, nombre, "Apellido", mails[i], "1/1/1990", "Calle");
        assert_int_equal(manager_add(fx->s, &c, NULL), CL_OK);
        assert_int_equal(fx_count(fx->s), (long long)i + 2);
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
        fx_client_eq(&col.rec[i], &want);
    }
    assert_int_equal(fx_count(fx->s), (long long)n);
}

static void test_walk_stops_early(void **state)
{
    struct fx *fx = *state;
    struct client c;
    struct collect col;
    char mail[64];

    for (int i = 0; i < 5; i++) {
        snprintf(mail, sizeof(mail), "w%d@x.es", i);
        fx_make(&c, "N", "A", mail, "1/1/1990", "D");
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
    fx_make(&c, "N", "A", "after@x.es", "1/1/1990", "D");
    assert_int_equal(manager_add(fx->s, &c, NULL), CL_OK);
    assert_int_equal(manager_delete(fx->s, "w4@x.es", NULL), CL_OK);
    struct store *other = fx_open(fx);
    fx_make(&c, "N", "A", "other@x.es", "1/1/1990", "D");
    assert_int_equal(manager_add(other, &c, NULL), CL_OK);
    store_close(other);

    memset(&col, 0, sizeof(col));
    assert_int_equal(manager_walk(fx->s, collect_fn, &col), CL_OK);
    assert_int_equal(col.n, 7);
    assert_int_equal(fx_count(fx->s), 7);
}

static void test_walk_empty(void **state)
{
    struct fx *fx = *state;
    struct collect col;

    assert_int_equal(manager_delete(fx->s, EX_MAIL, NULL), CL_OK);
    assert_int_equal(fx_count(fx->s), 0);
    memset(&col, 0, sizeof(col));
    assert_int_equal(manager_walk(fx->s, collect_fn, &col), CL_OK);
    assert_int_equal(col.n, 0);
    assert_int_equal(manager_ping(fx->s), CL_OK);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup_any, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_new_store_has_example),
        T(test_add_then_get),
        T(test_add_duplicate),
        T(test_get_case_insensitive),
        T(test_get_unknown_or_invalid),
        T(test_delete_twice),
        T(test_update_each_field_only),
        T(test_update_mail_refused),
        T(test_invalid_values_refused),
        T(test_count_and_ordered_walk),
        T(test_walk_stops_early),
        T(test_walk_empty),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
