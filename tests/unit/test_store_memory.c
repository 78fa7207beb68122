/* test_store_memory.c - walking 100 000 clients keeps one record in memory at a
 * time. */
#include "store_fx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

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
    fx_sql_exec(fx->path, sql);
    assert_int_equal(fx_count(fx->s), BULK + 1);

    long before = max_rss_kb();
    memset(&b, 0, sizeof(b));
    assert_int_equal(manager_walk(fx->s, bulk_fn, &b), CL_OK);
    long grown = max_rss_kb() - before;
    assert_int_equal(b.n, BULK + 1);
    assert_int_equal(b.out_of_order, 0);
    assert_int_equal(b.bad, 0);
    assert_int_equal(fx_count(fx->s), BULK + 1);
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
#define T(fn, setup) cmocka_unit_test_setup_teardown(fn, setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_walk_100k, fx_setup_store),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
