/* fuzz_body.c - libFuzzer harness for the JSON body -> record path of the
 * /v1 API (v1_decode_record): byte 0 picks the mode (% 4: create, replace,
 * patch, import), the rest is the body.  Checked: the only outcomes are 0,
 * 400 and 422; a body that is not UTF-8 or holds a NUL is never accepted; an
 * accepted record has every field its mode requires, each valid by the
 * field's own rule (the key rule for the mail of replace and patch) and
 * NUL-free UTF-8; a 422 names at least one field, each name UTF-8 of at most
 * 64 bytes with a reason; a 400 has a message; the same body decodes the
 * same way twice; and an accepted create, written back as JSON by the
 * service's own writer, decodes to the same record. */
#include <string.h>

#include "client.h"
#include "fuzz.h"
#include "json.h"
#include "manager.h"
#include "v1.h"

static const char *const mode_names[] = {"create", "replace", "patch", "import"};

static void check_error(const struct http_error *e, int st)
{
    FUZZ_CHECK(e->status == st, "status %d vs %d", e->status, st);
    FUZZ_CHECK(e->mensaje[0] && fuzz_utf8_valid(e->mensaje, strlen(e->mensaje)), "message");
    if (st == 422) {
        FUZZ_CHECK(e->nfields >= 1, "a 422 names no field");
        for (int i = 0; i < e->nfields; i++) {
            size_t n = strlen(e->fields[i].field);
            FUZZ_CHECK(n <= HTTP_FIELD_NAME_MAX, "field name of %zu bytes", n);
            FUZZ_CHECK(fuzz_utf8_valid(e->fields[i].field, n), "field name not UTF-8");
            FUZZ_CHECK(e->fields[i].reason && e->fields[i].reason[0], "field without reason");
        }
    } else {
        FUZZ_CHECK(e->nfields == 0, "a 400 with fields");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct client c, again;
    struct http_error e, e2;
    unsigned mask, mask2;
    enum v1_body mode;
    const char *body;
    size_t len;
    int st, st2;

    if (size < 1 || size > HTTP_BODY_MAX + 1)
        return 0;
    mode = (enum v1_body)(data[0] % 4);
    body = (const char *)data + 1;
    len = size - 1;
    st = v1_decode_record(body, len, mode, &c, &mask, &e);
    FUZZ_CHECK(st == 0 || st == 400 || st == 422, "status %d", st);
    st2 = v1_decode_record(body, len, mode, &again, &mask2, &e2);
    FUZZ_CHECK(st2 == st && mask2 == mask, "not deterministic (%s)", mode_names[mode]);
    if (st) {
        check_error(&e, st);
        return 0;
    }
    FUZZ_CHECK(!memchr(body, '\0', len) && fuzz_utf8_valid(body, len),
               "accepted a body with a NUL or invalid UTF-8");
    FUZZ_CHECK(memcmp(&c, &again, sizeof(c)) == 0, "two decodes differ");
    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        const char *v = client_get(&c, (enum client_field)f);
        size_t n = strlen(v);
        bool given = (mask & MANAGER_FIELD(f)) != 0;
        bool required = mode == V1_BODY_CREATE || mode == V1_BODY_IMPORT ||
                        (mode == V1_BODY_REPLACE && f != CLIENT_MAIL);
        FUZZ_CHECK(given || !required, "%s missing in %s", client_fields[f].name,
                   mode_names[mode]);
        if (!given) {
            FUZZ_CHECK(n == 0, "%s set but not given", client_fields[f].name);
            continue;
        }
        FUZZ_CHECK(fuzz_utf8_valid(v, n), "%s not UTF-8", client_fields[f].name);
        if (f == CLIENT_MAIL && (mode == V1_BODY_REPLACE || mode == V1_BODY_PATCH))
            FUZZ_CHECK(client_validate_key(v, n, NULL) == CL_OK, "mail not a key");
        else
            FUZZ_CHECK(client_validate(f, v, n, NULL) == CL_OK, "%s invalid: accepted",
                       client_fields[f].name);
    }
    if (mode == V1_BODY_CREATE) {
        /* written by the service's writer, read back: the same record */
        static char buf[HTTP_BODY_MAX];
        struct json_buf b;
        struct json j;
        json_buf_init(&b, buf, sizeof(buf));
        json_init(&j, json_buf_write, &b);
        json_obj_open(&j, NULL);
        for (int f = 0; f < CLIENT_NFIELDS; f++)
            json_put_str(&j, client_fields[f].name, client_get(&c, (enum client_field)f));
        json_obj_close(&j);
        FUZZ_CHECK(!j.failed, "cannot write the record back");
        st2 = v1_decode_record(b.data, b.len, mode, &again, &mask2, &e2);
        FUZZ_CHECK(st2 == 0 && memcmp(&c, &again, sizeof(c)) == 0, "round trip: %d", st2);
    }
    return 0;
}
