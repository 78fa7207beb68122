/* manager.c - validation in front of the store: nothing invalid gets stored. */
#include "manager.h"

#include <string.h>

static enum cl_err reject(enum cl_err err, enum client_field f, const char *why,
                          struct manager_reject *rej)
{
    if (err && rej) {
        rej->field = f;
        rej->reason = why;
    }
    return err;
}

/* A new value for `f`: the field's own (current) rule. */
static enum cl_err check(enum client_field f, const char *v, struct manager_reject *rej)
{
    const char *why = NULL;
    enum cl_err err = client_validate(f, v, v ? strlen(v) : 0, &why);

    return reject(err, f, why, rej);
}

/* The mail that names a stored record: the looser key rule, so that a record
 * stored under an older, laxer mail rule can still be read, changed and
 * deleted (see client_validate_key). */
static enum cl_err check_key(const char *mail, struct manager_reject *rej)
{
    const char *why = NULL;
    enum cl_err err = client_validate_key(mail, mail ? strlen(mail) : 0, &why);

    return reject(err, CLIENT_MAIL, why, rej);
}

enum cl_err manager_add(struct store *s, const struct client *c, struct manager_reject *rej)
{
    enum client_field bad = CLIENT_NFIELDS;
    const char *why = NULL;
    enum cl_err err = client_check(c, &bad, &why);

    return err ? reject(err, bad, why, rej) : s->ops->add(s, c);
}

enum cl_err manager_get(struct store *s, const char *mail, struct client *out,
                        struct manager_reject *rej)
{
    enum cl_err err = check_key(mail, rej);
    return err ? err : s->ops->get(s, mail, out);
}

enum cl_err manager_delete(struct store *s, const char *mail, struct manager_reject *rej)
{
    enum cl_err err = check_key(mail, rej);
    return err ? err : s->ops->del(s, mail);
}

enum cl_err manager_update(struct store *s, const char *mail, enum client_field field,
                           const char *value, struct manager_reject *rej)
{
    enum cl_err err = check_key(mail, rej);

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
