/* test_store_lists.c - keyset pages of clients on either backend
 * (store_fx.h): every order in both directions against a reference sort of
 * mixed-case and non-ASCII data, walks while another handle writes, search,
 * date ranges, counts. */
#include "store_fx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct row {
    struct client c;
    struct client_meta m;
};

struct rows {
    struct row *r;
    int n, cap;
};

static void rows_push(struct rows *rs, const struct client *c, const struct client_meta *m)
{
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 64;
        rs->r = realloc(rs->r, (size_t)rs->cap * sizeof(*rs->r));
        assert_non_null(rs->r);
    }
    rs->r[rs->n].c = *c;
    rs->r[rs->n].m = *m;
    rs->n++;
}

static int collect(const struct client *c, const struct client_meta *m, void *ctx)
{
    rows_push(ctx, c, m);
    return 0;
}

/* The sort column's value of a row, as the cursor names it. */
static void value_of(const struct row *r, enum client_sort sort, char *out, size_t cap)
{
    struct client_keys k;

    client_keys_of(&r->c, &k);
    switch (sort) {
    case SORT_MAIL: snprintf(out, cap, "%s", ""); break;
    case SORT_NOMBRE: snprintf(out, cap, "%s", k.nombre_key); break;
    case SORT_APELLIDOS: snprintf(out, cap, "%s", k.apellidos_key); break;
    case SORT_FECHA: snprintf(out, cap, "%s", k.fecha_iso); break;
    case SORT_CREADO: snprintf(out, cap, "%s", r->m.creado); break;
    case SORT_MODIFICADO: snprintf(out, cap, "%s", r->m.modificado); break;
    }
}

static void key_of(const struct row *r, char out[CLIENT_MAIL_CAP])
{
    struct client_keys k;

    client_keys_of(&r->c, &k);
    memcpy(out, k.mail_key, CLIENT_MAIL_CAP);
}

/* The reference order: the sort's value, then the mail key, both compared
 * as bytes (strcmp compares unsigned chars): what COLLATE "C" and SQLite's
 * BINARY do. */
static int cmp_rows(const struct row *a, const struct row *b, enum client_sort sort)
{
    char va[CLIENT_NOMBRE_CAP], vb[CLIENT_NOMBRE_CAP], ka[CLIENT_MAIL_CAP], kb[CLIENT_MAIL_CAP];
    int c;

    value_of(a, sort, va, sizeof(va));
    value_of(b, sort, vb, sizeof(vb));
    if ((c = strcmp(va, vb)) != 0)
        return c;
    key_of(a, ka);
    key_of(b, kb);
    return strcmp(ka, kb);
}

static enum client_sort ref_sort;
static int ref_desc;

static int cmp_ref(const void *a, const void *b)
{
    int c = cmp_rows(a, b, ref_sort);
    return ref_desc ? -c : c;
}

static struct rows everything(struct store *s)
{
    struct rows rs = {0};
    const struct client_query q = {.sort = SORT_MAIL};

    assert_int_equal(manager_list(s, &q, collect, &rs), CL_OK);
    return rs;
}

/* Every row of q's order, read page by page (limit rows each) through the
 * cursor of the last row, forward. */
static struct rows walk_pages(struct store *s, struct client_query q, int limit)
{
    struct rows all = {0};
    char value[CLIENT_NOMBRE_CAP], key[CLIENT_MAIL_CAP];

    q.limit = limit;
    for (int guard = 0; guard < 10000; guard++) {
        struct rows page = {0};
        assert_int_equal(manager_list(s, &q, collect, &page), CL_OK);
        assert_true(page.n <= limit);
        for (int i = 0; i < page.n; i++)
            rows_push(&all, &page.r[i].c, &page.r[i].m);
        if (page.n < limit) {
            free(page.r);
            return all;
        }
        value_of(&page.r[page.n - 1], q.sort, value, sizeof(value));
        key_of(&page.r[page.n - 1], key);
        q.after_value = q.sort == SORT_MAIL ? NULL : value;
        q.after_key = key;
        free(page.r);
    }
    fail_msg("the pages never end");
    return all;
}

static void assert_same_mails(const struct rows *got, const struct row *want, int n,
                              const char *what)
{
    if (got->n != n)
        fail_msg("%s: %d rows, expected %d", what, got->n, n);
    for (int i = 0; i < n; i++)
        if (strcmp(got->r[i].c.mail, want[i].c.mail) != 0)
            fail_msg("%s: row %d is %s, expected %s", what, i, got->r[i].c.mail, want[i].c.mail);
}

static const char *const names[][3] = {
    /* nombre, apellidos, mail: case, accents, letters outside Latin-1,
     * punctuation that sorts around the letters */
    {"álvaro", "Zúñiga", "alvaro@x.es"},   {"Alvaro", "zuniga", "Alvaro2@X.es"},
    {"ÁLVARO", "Ábrego", "ALVARO3@x.es"},  {"Zoë", "Ødegaard", "zoe@x.es"},
    {"zoe", "odegaard", "ZOE2@x.es"},      {"Ñandú", "Peña", "nandu@x.es"},
    {"nandu", "Pena", "NANDU2@x.es"},      {"Émile", "Zola", "emile@x.es"},
    {"Œdipe", "Roi", "oedipe@x.es"},       {"Straße", "Groß", "strasse@x.es"},
    {"日本", "東京", "nihon@x.es"},        {"Ωmega", "Ελληνικά", "omega@x.es"},
    {"ωmega", "ελληνικά", "omega2@x.es"},  {"_guion", "Bajo", "_x@x.es"},
    {"a-b", "Guion", "a-b@x.es"},          {"a.b", "Punto", "A.b@x.es"},
    {"a+b", "Mas", "a+b@x.es"},            {"aB", "Mixto", "aB@x.es"},
    {"Ab", "mixto", "ab2@x.es"},           {"Jose", "Núñez", "jose@x.es"},
    {"José", "Nuñez", "Jose2@x.es"},       {"JOSÉ", "NÚÑEZ", "jose3@x.es"},
    {"Ana", "López", "b@x.es"},            {"ana", "lopez", "B2@x.es"},
    {"Ana", "López", "a@x.es"},            {"Íñigo", "Ibáñez", "inigo@x.es"},
    {"Çelik", "Çağlar", "celik@x.es"},     {"Łukasz", "Łódź", "lukasz@x.es"},
    {"Eve", "Ångström", "eve@x.es"},       {"Ève", "Angstrom", "eve2@x.es"},
};
#define NNAMES ((int)(sizeof(names) / sizeof(names[0])))

static const char *const dates[] = {"1/2/1980", "1980-02-01", "31/12/1999", "2000-01-01",
                                    "29/02/1996", "1996-02-29", "9/9/1909", "1950-06-15"};

static void seed_mixed(struct store *s)
{
    for (int i = 0; i < NNAMES; i++) {
        struct client c;
        fx_make(&c, names[i][0], names[i][1], names[i][2], dates[i % 8], "Calle");
        assert_int_equal(manager_add(s, &c, NULL), CL_OK);
    }
    /* some records modified after, so modificado orders otherwise */
    for (int i = 0; i < NNAMES; i += 3)
        assert_int_equal(manager_update(s, names[i][2], CLIENT_DIRECCION, "Otra", NULL), CL_OK);
}

/* Every order, both directions, read in pages of 7 and whole, equals the
 * reference sort; the pages before a cursor are those after it, reversed. */
static void test_orders_match_reference(void **state)
{
    struct fx *fx = *state;
    struct rows all;

    seed_mixed(fx->s);
    all = everything(fx->s);
    assert_int_equal(all.n, NNAMES + 1);
    for (int sort = SORT_MAIL; sort <= SORT_MODIFICADO; sort++) {
        for (int desc = 0; desc < 2; desc++) {
            struct client_query q = {.sort = (enum client_sort)sort, .desc = desc};
            struct row *ref = malloc((size_t)all.n * sizeof(*ref));
            char what[64], value[CLIENT_NOMBRE_CAP], key[CLIENT_MAIL_CAP];
            struct rows got, whole = {0}, back = {0};

            memcpy(ref, all.r, (size_t)all.n * sizeof(*ref));
            ref_sort = (enum client_sort)sort;
            ref_desc = desc;
            qsort(ref, (size_t)all.n, sizeof(*ref), cmp_ref);

            snprintf(what, sizeof(what), "sort %d desc %d, pages of 7", sort, desc);
            got = walk_pages(fx->s, q, 7);
            assert_same_mails(&got, ref, all.n, what);
            snprintf(what, sizeof(what), "sort %d desc %d, pages of 1", sort, desc);
            free(got.r);
            got = walk_pages(fx->s, q, 1);
            assert_same_mails(&got, ref, all.n, what);
            free(got.r);

            snprintf(what, sizeof(what), "sort %d desc %d, a walk", sort, desc);
            assert_int_equal(manager_list(fx->s, &q, collect, &whole), CL_OK);
            assert_same_mails(&whole, ref, all.n, what);
            free(whole.r);

            /* backward from the last row, 5 at a time, nearest first */
            q.backward = true;
            q.limit = 5;
            value_of(&ref[all.n - 1], q.sort, value, sizeof(value));
            key_of(&ref[all.n - 1], key);
            q.after_value = sort == SORT_MAIL ? NULL : value;
            q.after_key = key;
            for (;;) {
                struct rows page = {0};
                assert_int_equal(manager_list(fx->s, &q, collect, &page), CL_OK);
                for (int i = 0; i < page.n; i++)
                    rows_push(&back, &page.r[i].c, &page.r[i].m);
                if (page.n < 5) {
                    free(page.r);
                    break;
                }
                value_of(&page.r[page.n - 1], q.sort, value, sizeof(value));
                key_of(&page.r[page.n - 1], key);
                free(page.r);
            }
            assert_int_equal(back.n, all.n - 1);
            for (int i = 0; i < back.n; i++)
                if (strcmp(back.r[i].c.mail, ref[all.n - 2 - i].c.mail) != 0)
                    fail_msg("sort %d desc %d backward: row %d is %s, expected %s", sort, desc,
                             i, back.r[i].c.mail, ref[all.n - 2 - i].c.mail);
            free(back.r);
            free(ref);
        }
    }
    /* the meta comes with every row of a list */
    for (int i = 0; i < all.n; i++) {
        struct client c;
        struct client_meta m;
        assert_int_equal(manager_get_meta(fx->s, all.r[i].c.mail, &c, &m, NULL), CL_OK);
        fx_client_eq(&all.r[i].c, &c);
        assert_string_equal(all.r[i].m.creado, m.creado);
        assert_string_equal(all.r[i].m.modificado, m.modificado);
        assert_int_equal(all.r[i].m.version, m.version);
    }
    free(all.r);
}

static int stop_after_3(const struct client *c, const struct client_meta *m, void *ctx)
{
    (void)c;
    (void)m;
    return ++*(int *)ctx == 3;
}

static void test_limits_and_stops(void **state)
{
    struct fx *fx = *state;
    struct client_query q = {.sort = SORT_NOMBRE, .limit = 4};
    struct rows page = {0};
    int seen = 0;

    seed_mixed(fx->s);
    assert_int_equal(manager_list(fx->s, &q, collect, &page), CL_OK);
    assert_int_equal(page.n, 4);
    free(page.r);
    q.limit = 0;
    assert_int_equal(manager_list(fx->s, &q, stop_after_3, &seen), CL_OK);
    assert_int_equal(seen, 3);
    q.limit = 1000;
    page = (struct rows){0};
    assert_int_equal(manager_list(fx->s, &q, collect, &page), CL_OK);
    assert_int_equal(page.n, NNAMES + 1);
    free(page.r);
    page = (struct rows){0};
    /* malformed queries */
    q.limit = 1001;
    assert_int_equal(manager_list(fx->s, &q, collect, &page), CL_INVALID);
    q.limit = -1;
    assert_int_equal(manager_list(fx->s, &q, collect, &page), CL_INVALID);
    q.limit = 10;
    q.after_key = "a@x.es"; /* a cursor of another column needs its value */
    assert_int_equal(manager_list(fx->s, &q, collect, &page), CL_INVALID);
    q.after_key = NULL;
    q.sort = (enum client_sort)99;
    assert_int_equal(manager_list(fx->s, &q, collect, &page), CL_INVALID);
    q.sort = SORT_FECHA;
    static const char *const bad_dates[] = {"1980-1-1", "31/12/1980", "1980-13-01",
                                            "1980-00-10", "19800101", "", "1980-01-01x"};
    for (size_t i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++) {
        long long n;
        q.fecha_desde = bad_dates[i];
        assert_int_equal(manager_list(fx->s, &q, collect, &page), CL_INVALID);
        assert_int_equal(manager_count_query(fx->s, &q, &n), CL_INVALID);
        q.fecha_desde = NULL;
        q.fecha_hasta = bad_dates[i];
        assert_int_equal(manager_list(fx->s, &q, collect, &page), CL_INVALID);
        q.fecha_hasta = NULL;
    }
    assert_int_equal(page.n, 0);
}

/* The mails of a list with search text q (folded by the manager). */
static struct rows search(struct store *s, const char *needle)
{
    struct rows rs = {0};
    struct client_query q = {.sort = SORT_MAIL, .search = needle};
    long long n = -1;

    assert_int_equal(manager_list(s, &q, collect, &rs), CL_OK);
    assert_int_equal(manager_count_query(s, &q, &n), CL_OK);
    assert_int_equal(n, rs.n);
    return rs;
}

static void expect_search(struct store *s, const char *needle, const char *const *mails)
{
    struct rows rs = search(s, needle);
    int n = 0;

    while (mails[n])
        n++;
    if (rs.n != n) {
        for (int i = 0; i < rs.n; i++)
            fprintf(stderr, "  found %s\n", rs.r[i].c.mail);
        fail_msg("q=\"%s\": %d rows, expected %d", needle, rs.n, n);
    }
    for (int i = 0; i < n; i++)
        assert_string_equal(rs.r[i].c.mail, mails[i]);
    free(rs.r);
}

#define M(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE ((const char *const[]){NULL})

static void test_search(void **state)
{
    struct fx *fx = *state;
    static const char *const data[][3] = {
        {"José", "Núñez", "a1@x.es"},       {"JOSÉ LUIS", "García", "a2@x.es"},
        {"Josefa", "Pérez", "a3@x.es"},     {"María José", "Ruiz", "a4@x.es"},
        {"Pedro", "Ruiz", "jose.p@y.org"},  {"Cien", "100% real", "a6@x.es"},
        {"Guion", "bajo_medio", "a7@x.es"}, {"Barra", "con \\ dentro", "a8@x.es"},
        {"Zoë", "Ødegaard", "a9@x.es"},     {"Jo", "Se", "b1@x.es"},
    };
    struct client c;

    for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++) {
        fx_make(&c, data[i][0], data[i][1], data[i][2], "1/1/1990", "Calle");
        assert_int_equal(manager_add(fx->s, &c, NULL), CL_OK);
    }
    /* case and accents folded on both sides; the mail is searched too */
    expect_search(fx->s, "jose", M("a1@x.es", "a2@x.es", "a3@x.es", "a4@x.es", "jose.p@y.org"));
    expect_search(fx->s, "JOSÉ", M("a1@x.es", "a2@x.es", "a3@x.es", "a4@x.es", "jose.p@y.org"));
    expect_search(fx->s, "Jose\xcc\x81", /* a decomposed é */
                  M("a1@x.es", "a2@x.es", "a3@x.es", "a4@x.es", "jose.p@y.org"));
    expect_search(fx->s, "núñez", M("a1@x.es"));
    expect_search(fx->s, "NUNEZ", M("a1@x.es"));
    expect_search(fx->s, "zoe odegaard", M("a9@x.es")); /* across nombre and apellidos */
    expect_search(fx->s, "y.org", M("jose.p@y.org"));
    expect_search(fx->s, "Y.ORG", M("jose.p@y.org"));
    /* LIKE's wildcards are plain characters */
    expect_search(fx->s, "%", M("a6@x.es"));
    expect_search(fx->s, "100%", M("a6@x.es"));
    expect_search(fx->s, "_", M("a7@x.es"));
    expect_search(fx->s, "o_m", M("a7@x.es"));
    expect_search(fx->s, "\\", M("a8@x.es"));
    expect_search(fx->s, "j%e", NONE);
    expect_search(fx->s, "jo_e", NONE);
    expect_search(fx->s, "jo se", M("b1@x.es")); /* "jo se b1@x.es" */
    expect_search(fx->s, "nadie", NONE);
    /* empty: everything */
    struct rows rs = search(fx->s, "");
    assert_int_equal(rs.n, 11);
    free(rs.r);
    /* a needle longer than any record's text finds nothing, and is no error */
    char longer[2000];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    expect_search(fx->s, longer, NONE);
    /* search and order together */
    struct client_query q = {.sort = SORT_NOMBRE, .desc = true, .search = "ruiz"};
    rs = (struct rows){0};
    assert_int_equal(manager_list(fx->s, &q, collect, &rs), CL_OK);
    assert_int_equal(rs.n, 2);
    assert_string_equal(rs.r[0].c.mail, "jose.p@y.org"); /* pedro > maria jose */
    assert_string_equal(rs.r[1].c.mail, "a4@x.es");
    free(rs.r);
}

static void test_date_ranges(void **state)
{
    struct fx *fx = *state;
    struct rows rs = {0};
    long long n;
    struct client_query q = {.sort = SORT_FECHA, .fecha_desde = "1980-02-01",
                             .fecha_hasta = "1996-02-29"};

    seed_mixed(fx->s);
    /* inclusive at both ends, whichever form the date was given in */
    assert_int_equal(manager_list(fx->s, &q, collect, &rs), CL_OK);
    struct rows all = everything(fx->s);
    int want = 0;
    for (int i = 0; i < all.n; i++) {
        struct client_keys k;
        client_keys_of(&all.r[i].c, &k);
        if (strcmp(k.fecha_iso, "1980-02-01") >= 0 && strcmp(k.fecha_iso, "1996-02-29") <= 0)
            want++;
    }
    assert_true(want > 4);
    assert_int_equal(rs.n, want);
    for (int i = 0; i < rs.n; i++) {
        struct client_keys k;
        client_keys_of(&rs.r[i].c, &k);
        assert_true(strcmp(k.fecha_iso, "1980-02-01") >= 0);
        assert_true(strcmp(k.fecha_iso, "1996-02-29") <= 0);
        if (i)
            assert_true(cmp_rows(&rs.r[i - 1], &rs.r[i], SORT_FECHA) < 0);
    }
    assert_int_equal(manager_count_query(fx->s, &q, &n), CL_OK);
    assert_int_equal(n, want);
    free(rs.r);
    /* one end only */
    q.fecha_hasta = NULL;
    q.fecha_desde = "2000-01-01";
    assert_int_equal(manager_count_query(fx->s, &q, &n), CL_OK);
    assert_true(n >= 3); /* 2000-01-01 given as such, and those of 31/12/1999? no: */
    rs = (struct rows){0};
    assert_int_equal(manager_list(fx->s, &q, collect, &rs), CL_OK);
    for (int i = 0; i < rs.n; i++)
        assert_string_equal(rs.r[i].c.fecha_nacimiento, "2000-01-01");
    assert_int_equal(rs.n, n);
    free(rs.r);
    q.fecha_desde = NULL;
    q.fecha_hasta = "1909-09-09";
    rs = (struct rows){0};
    assert_int_equal(manager_list(fx->s, &q, collect, &rs), CL_OK);
    for (int i = 0; i < rs.n; i++)
        assert_string_equal(rs.r[i].c.fecha_nacimiento, "9/9/1909");
    assert_true(rs.n >= 3);
    free(rs.r);
    /* with a search */
    q.fecha_hasta = NULL;
    q.fecha_desde = "1900-01-01";
    q.search = "jose";
    assert_int_equal(manager_count_query(fx->s, &q, &n), CL_OK);
    assert_int_equal(n, 3);
    free(all.r);
}

/* ---- walks while another handle writes ---------------------------------- */

#define BIG 1000

static void big_mail(char *out, size_t cap, int i)
{
    /* scrambled and mixed case, so mail order is not creation order */
    int j = (i * 7919) % BIG;
    snprintf(out, cap, j % 2 ? "C%04d@Walk.ES" : "c%04d@walk.es", j);
}

static bool is_volatile(int j)
{
    return j % 10 == 0;
}

static void seed_big(struct store *s)
{
    static const char *const first[] = {"José", "jose", "Ana", "ÁNGELA", "Zoë", "Ñandú",
                                        "émile", "Œdipe", "_x", "日本", "Ωmega", "Íñigo"};
    assert_int_equal(manager_begin(s), CL_OK);
    for (int i = 0; i < BIG; i++) {
        struct client c;
        char mail[64], nombre[64];
        big_mail(mail, sizeof(mail), i);
        snprintf(nombre, sizeof(nombre), "%s %d", first[i % 12], (i * 31) % 97);
        fx_make(&c, nombre, "Apellido", mail, dates[i % 8], "Calle");
        assert_int_equal(manager_add(s, &c, NULL), CL_OK);
    }
    assert_int_equal(manager_commit(s), CL_OK);
}

struct writer {
    struct store *s;
    int next_new, next_del;
    int deleted_new; /* inserted by the writer and deleted again */
};

/* Between two pages: three inserts and three deletes, of volatile records
 * only (the initial ones with j % 10 == 0, and the writer's own). */
static void meddle(struct writer *w)
{
    for (int k = 0; k < 3; k++) {
        struct client c;
        char mail[64];
        snprintf(mail, sizeof(mail), "nuevo%04d@walk.es", w->next_new);
        fx_make(&c, w->next_new % 2 ? "Álvaro" : "zacarías", "Nuevo", mail, "1/1/1990", "X");
        assert_int_equal(manager_add(w->s, &c, NULL), CL_OK);
        w->next_new++;
    }
    for (int k = 0; k < 3 && w->next_del < BIG; k++) {
        char mail[64];
        int j;
        do {
            j = (w->next_del++ * 37) % BIG;
        } while (!is_volatile(j) && w->next_del < BIG * 2);
        snprintf(mail, sizeof(mail), j % 2 ? "C%04d@Walk.ES" : "c%04d@walk.es", j);
        enum cl_err e = manager_delete(w->s, mail, NULL);
        assert_true(e == CL_OK || e == CL_NOT_FOUND);
    }
    if (w->next_new > 4) { /* and one of its own, inserted earlier */
        char mail[64];
        snprintf(mail, sizeof(mail), "nuevo%04d@walk.es", w->next_new - 4);
        if (manager_delete(w->s, mail, NULL) == CL_OK)
            w->deleted_new++;
    }
}

/* No row twice, every stable row once, in the order. */
static void check_walk(const struct rows *got, enum client_sort sort, bool desc, const char *what)
{
    int seen[BIG] = {0};

    for (int i = 0; i < got->n; i++) {
        const char *m = got->r[i].c.mail;
        int j;
        if (i) {
            int c = cmp_rows(&got->r[i - 1], &got->r[i], sort);
            if (desc ? c <= 0 : c >= 0)
                fail_msg("%s: %s then %s, out of order", what, got->r[i - 1].c.mail, m);
        }
        if (sscanf(m, "%*[cC]%4d@", &j) == 1 && j >= 0 && j < BIG && seen[j]++)
            fail_msg("%s: %s twice", what, m);
    }
    for (int j = 0; j < BIG; j++)
        if (!is_volatile(j) && seen[j] != 1)
            fail_msg("%s: c%04d, there throughout, seen %d times", what, j, seen[j]);
}

static void test_pages_while_writing(void **state)
{
    struct fx *fx = *state;
    static const struct {
        enum client_sort sort;
        bool desc;
    } orders[] = {{SORT_MAIL, false}, {SORT_NOMBRE, true}, {SORT_FECHA, false},
                  {SORT_CREADO, true}, {SORT_APELLIDOS, false}, {SORT_MAIL, true}};
    char value[CLIENT_NOMBRE_CAP], key[CLIENT_MAIL_CAP], what[64];

    seed_big(fx->s);
    for (size_t o = 0; o < sizeof(orders) / sizeof(orders[0]); o++) {
        struct writer w = {fx_open(fx), (int)o * 1000, (int)o * 150, 0};
        struct client_query q = {.sort = orders[o].sort, .desc = orders[o].desc, .limit = 37};
        struct rows all = {0};

        for (;;) {
            struct rows page = {0};
            assert_int_equal(manager_list(fx->s, &q, collect, &page), CL_OK);
            for (int i = 0; i < page.n; i++)
                rows_push(&all, &page.r[i].c, &page.r[i].m);
            if (page.n < q.limit) {
                free(page.r);
                break;
            }
            value_of(&page.r[page.n - 1], q.sort, value, sizeof(value));
            key_of(&page.r[page.n - 1], key);
            q.after_value = q.sort == SORT_MAIL ? NULL : value;
            q.after_key = key;
            free(page.r);
            meddle(&w);
        }
        snprintf(what, sizeof(what), "pages, sort %d desc %d", q.sort, q.desc);
        check_walk(&all, orders[o].sort, orders[o].desc, what);
        free(all.r);
        store_close(w.s);
    }
}

struct walk_meddle {
    struct rows rows;
    struct writer w;
};

static int walk_and_meddle(const struct client *c, const struct client_meta *m, void *ctx)
{
    struct walk_meddle *wm = ctx;

    rows_push(&wm->rows, c, m);
    if (wm->rows.n % 50 == 0) /* another handle: the walked one is not used */
        meddle(&wm->w);
    return 0;
}

static void test_walk_while_writing(void **state)
{
    struct fx *fx = *state;

    seed_big(fx->s);
    for (int sort = SORT_MAIL; sort <= SORT_NOMBRE; sort++) {
        struct walk_meddle wm = {{0}, {fx_open(fx), sort * 1000, sort * 300, 0}};
        struct client_query q = {.sort = (enum client_sort)sort};
        assert_int_equal(manager_list(fx->s, &q, walk_and_meddle, &wm), CL_OK);
        check_walk(&wm.rows, q.sort, false, sort ? "walk by nombre" : "walk by mail");
        free(wm.rows.r);
        store_close(wm.w.s);
    }
    /* the legacy walk too */
    struct rows all = everything(fx->s);
    long long n = fx_count(fx->s);
    assert_int_equal(all.n, n);
    free(all.r);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup_any, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_orders_match_reference),
        T(test_limits_and_stops),
        T(test_search),
        T(test_date_ranges),
        T(test_pages_while_writing),
        T(test_walk_while_writing),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
