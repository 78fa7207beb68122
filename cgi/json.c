/* json.c - a streaming JSON writer whose strings are cJSON's bytes. */
#include "json.h"

#include <stdio.h>
#include <string.h>

void json_init(struct json *j, http_write_fn fn, void *ctx)
{
    j->write = fn;
    j->ctx = ctx;
    j->depth = 0;
    j->failed = false;
}

static int emit(struct json *j, const char *buf, size_t len)
{
    if (j->failed)
        return -1;
    if (j->write == json_buf_write) {
        /* the common target, appended to here: a record is some 40 pieces */
        struct json_buf *b = j->ctx;
        if (len > b->cap - b->len) {
            b->overflow = true;
            j->failed = true;
            return -1;
        }
        memcpy(b->data + b->len, buf, len);
        b->len += len;
        return 0;
    }
    if (len && j->write(j->ctx, buf, len) != 0) {
        j->failed = true;
        return -1;
    }
    return 0;
}

static int fail(struct json *j)
{
    j->failed = true;
    return -1;
}

/* The bytes a string cannot hold as they are: controls (and the NUL that
 * ends it), the quote and the backslash. */
static const unsigned char special[256] = {
    [0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1, [0x06] = 1,
    [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1, [0x0c] = 1, [0x0d] = 1,
    [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1, [0x12] = 1, [0x13] = 1, [0x14] = 1,
    [0x15] = 1, [0x16] = 1, [0x17] = 1, [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1,
    [0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1, ['"'] = 1,  ['\\'] = 1,
};

/* The one escaper.  Runs of bytes that need no escape go out in one write;
 * the escapes are cJSON's (print_string_ptr): lower-case \u00xx. */
static int emit_string(struct json *j, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = s;
    char esc[6];

    if (emit(j, "\"", 1))
        return -1;
    for (;; s++) {
        unsigned char c = (unsigned char)*s;
        size_t n = 2;

        if (!special[c])
            continue;
        if (emit(j, run, (size_t)(s - run)))
            return -1;
        if (c == '\0')
            break;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        if (emit(j, esc, n))
            return -1;
        run = s + 1;
    }
    return emit(j, "\"", 1);
}

/* What comes before a new value: a comma after a previous member, and the
 * key inside an object.  The scope stack decides, as in kcgi's kjson_check. */
static int begin_value(struct json *j, const char *key)
{
    int d = j->depth - 1;

    if (j->failed)
        return -1;
    if (d < 0 || (j->in_array[d] ? key != NULL : key == NULL))
        return fail(j);
    if (j->has_member[d] && emit(j, ",", 1))
        return -1;
    j->has_member[d] = true;
    if (key && (emit_string(j, key) || emit(j, ":", 1)))
        return -1;
    return 0;
}

static int open_scope(struct json *j, const char *key, bool array)
{
    if (j->depth == JSON_MAX_DEPTH)
        return fail(j);
    if (j->depth > 0 ? begin_value(j, key) : (key ? fail(j) : 0))
        return -1;
    if (emit(j, array ? "[" : "{", 1))
        return -1;
    j->in_array[j->depth] = array;
    j->has_member[j->depth] = false;
    j->depth++;
    return 0;
}

static int close_scope(struct json *j, bool array)
{
    if (j->failed)
        return -1;
    if (j->depth == 0 || j->in_array[j->depth - 1] != array)
        return fail(j);
    j->depth--;
    return emit(j, array ? "]" : "}", 1);
}

int json_obj_open(struct json *j, const char *key)
{
    return open_scope(j, key, false);
}

int json_arr_open(struct json *j, const char *key)
{
    return open_scope(j, key, true);
}

int json_obj_close(struct json *j)
{
    return close_scope(j, false);
}

int json_arr_close(struct json *j)
{
    return close_scope(j, true);
}

int json_put_str(struct json *j, const char *key, const char *val)
{
    if (!val)
        return fail(j);
    if (begin_value(j, key))
        return -1;
    return emit_string(j, val);
}

int json_put_int(struct json *j, const char *key, long long val)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%lld", val);

    if (begin_value(j, key))
        return -1;
    return emit(j, num, (size_t)n);
}

static int put_literal(struct json *j, const char *key, const char *lit)
{
    if (begin_value(j, key))
        return -1;
    return emit(j, lit, strlen(lit));
}

int json_put_null(struct json *j, const char *key)
{
    return put_literal(j, key, "null");
}

int json_put_bool(struct json *j, const char *key, bool val)
{
    return put_literal(j, key, val ? "true" : "false");
}

int json_put_str_or_null(struct json *j, const char *key, const char *val)
{
    return val ? json_put_str(j, key, val) : json_put_null(j, key);
}

int json_put_raw(struct json *j, const char *key, const char *val)
{
    if (!val || !*val)
        return json_put_null(j, key);
    return put_literal(j, key, val);
}

void json_buf_init(struct json_buf *b, char *data, size_t cap)
{
    b->data = data;
    b->len = 0;
    b->cap = cap;
    b->overflow = false;
}

int json_buf_write(void *ctx, const char *buf, size_t len)
{
    struct json_buf *b = ctx;

    if (len > b->cap - b->len) {
        b->overflow = true;
        return -1;
    }
    memcpy(b->data + b->len, buf, len);
    b->len += len;
    return 0;
}
