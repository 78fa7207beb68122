/* manager.c - validation in front of the store: nothing invalid gets stored. */
#include "manager.h"

#include <string.h>

static enum cl_err check(enum client_field f, const char *v, struct manager_reject *rej)
{
    const char *why = NULL;
    enum cl_err err = client_validate(f, v, v ? strlen(v) : 0, &why);

    if (err && rej) {
        rej->field = f;
        rej->reason = why;
    }
    return err;
}

enum cl_err manager_add(struct store *s, const struct client *c, struct manager_reject *rej)
{
    enum client_field bad;
    const char *why;

    if (client_check(c, &bad, &why)) {
        if (rej) {
            rej->field = bad;
            rej->reason = why;
        }
        return CL_INVALID;
    }
    return s->ops->add(s, c);
}

enum cl_err manager_get(struct store *s, const char *mail, struct client *out,
                        struct manager_reject *rej)
{
    enum cl_err err = check(CLIENT_MAIL, mail, rej);
    return err ? err : s->ops->get(s, mail, out);
}

enum cl_err manager_delete(struct store *s, const char *mail, struct manager_reject *rej)
{
    enum cl_err err = check(CLIENT_MAIL, mail, rej);
    return err ? err : s->ops->del(s, mail);
}

enum cl_err manager_update(struct store *s, const char *mail, enum client_field field,
                           const char *value, struct manager_reject *rej)
{
    enum cl_err err = check(CLIENT_MAIL, mail, rej);

    if (err)
        return err;
    if (field == CLIENT_MAIL || (unsigned)field >= CLIENT_NFIELDS) {
        if (rej) {
            rej->field = field;
            rej->reason = "no se puede cambiar";
        }
        return CL_INVALID;
    }
    err = check(field, value, rej);
    return err ? err : s->ops->update(s, mail, field, value);
}

enum cl_err manager_count(struct store *s, long long *n)
{
    return s->ops->count(s, n);
}

enum cl_err manager_walk(struct store *s, store_walk_fn fn, void *ctx)
{
    return s->ops->walk(s, fn, ctx);
}

enum cl_err manager_ping(struct store *s)
{
    return s->ops->ping(s);
}
