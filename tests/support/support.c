/* support.c - files and records for the C test suites (see support.h). */
#include "support.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const ts_db_suffixes[] = {"-wal", "-shm", "-journal", NULL};

const char *const ts_example[CLIENT_NFIELDS] = {
    [CLIENT_NOMBRE] = "Jesus",
    [CLIENT_APELLIDOS] = "Mesa Gonzalez",
    [CLIENT_MAIL] = TS_EXAMPLE_MAIL,
    [CLIENT_FECHA_NACIMIENTO] = "29/06/1996",
    [CLIENT_DIRECCION] = "Calle Paseo Moreras 39",
};

int ts_mkdtemp(char *out, size_t cap, const char *base)
{
    int n;

    if (!base) {
        base = getenv("TMPDIR");
        if (!base || !*base)
            base = "/tmp";
    }
    n = snprintf(out, cap, "%s/clientes-test-XXXXXX", base);
    if (n < 0 || (size_t)n >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkdtemp(out) ? 0 : -1;
}

int ts_rmtree(const char *path)
{
    struct stat st;
    struct dirent *e;
    DIR *d;
    int rc = 0;

    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    /* make sure we may list and empty it, whatever a test left it as */
    chmod(path, 0700);
    d = opendir(path);
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        char child[4096];
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        ts_join(child, sizeof(child), path, e->d_name);
        if (ts_rmtree(child) != 0)
            rc = -1;
    }
    closedir(d);
    if (rmdir(path) != 0)
        rc = -1;
    return rc;
}

static void join_or_abort(char *out, size_t cap, const char *a, const char *sep, const char *b)
{
    int n = snprintf(out, cap, "%s%s%s", a, sep, b);

    if (n < 0 || (size_t)n >= cap) {
        fprintf(stderr, "path too long: %s%s%s\n", a, sep, b);
        abort();
    }
}

void ts_join(char *out, size_t cap, const char *dir, const char *name)
{
    join_or_abort(out, cap, dir, "/", name);
}

void ts_suffix(char *out, size_t cap, const char *path, const char *suffix)
{
    join_or_abort(out, cap, path, "", suffix);
}

int ts_read_file(const char *path, unsigned char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b = NULL;
    size_t n = 0, cap = 0;

    if (!f)
        return -1;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            unsigned char *nb = realloc(b, ncap);
            if (!nb) {
                free(b);
                fclose(f);
                return -1;
            }
            b = nb;
            cap = ncap;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(b);
        fclose(f);
        return -1;
    }
    fclose(f);
    *buf = b;
    *len = n;
    return 0;
}

int ts_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const char *p = data;

    if (fd < 0)
        return -1;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return close(fd);
}

int ts_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int ts_db_is_wal(const char *path)
{
    unsigned char *buf;
    size_t len;
    int wal;

    if (ts_read_file(path, &buf, &len) != 0)
        return -1;
    wal = len >= 100 && memcmp(buf, "SQLite format 3", 16) == 0 && buf[18] == 2 && buf[19] == 2;
    free(buf);
    return wal;
}

int ts_db_unlink(const char *path)
{
    char p[4096];
    int rc = 0;

    if (unlink(path) != 0 && errno != ENOENT)
        rc = -1;
    for (int i = 0; ts_db_suffixes[i]; i++) {
        ts_suffix(p, sizeof(p), path, ts_db_suffixes[i]);
        if (unlink(p) != 0 && errno != ENOENT)
            rc = -1;
    }
    return rc;
}

enum cl_err ts_client_from(struct client *c, const char *const v[CLIENT_NFIELDS])
{
    client_init(c);
    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        enum cl_err err = client_set(c, (enum client_field)f, v[f], strlen(v[f]), NULL);
        if (err)
            return err;
    }
    return CL_OK;
}

enum cl_err ts_client(struct client *c, const char *nombre, const char *apellidos,
                      const char *mail, const char *fecha, const char *direccion)
{
    const char *v[CLIENT_NFIELDS] = {
        [CLIENT_NOMBRE] = nombre,
        [CLIENT_APELLIDOS] = apellidos,
        [CLIENT_MAIL] = mail,
        [CLIENT_FECHA_NACIMIENTO] = fecha,
        [CLIENT_DIRECCION] = direccion,
    };
    return ts_client_from(c, v);
}

int ts_client_equal(const struct client *a, const struct client *b)
{
    for (int f = 0; f < CLIENT_NFIELDS; f++) {
        if (strcmp(client_get(a, (enum client_field)f), client_get(b, (enum client_field)f)))
            return 0;
    }
    return 1;
}

const char *ts_check_record(const cJSON *item, const struct client *c, bool legacy)
{
    static char why[400];
    const cJSON *it;

    if (!cJSON_IsObject(item))
        return "not an object";
    if (!item->string || strcmp(item->string, c->mail) != 0) {
        snprintf(why, sizeof(why), "record key '%.150s' is not the mail '%.150s'",
                 item->string ? item->string : "(none)", c->mail);
        return why;
    }
    it = item->child;
    for (int f = 0; f < CLIENT_NFIELDS; f++, it = it->next) {
        const struct client_field_desc *d = &client_fields[f];
        const char *key = legacy ? d->legacy_name : d->name;
        if (!it) {
            snprintf(why, sizeof(why), "%d keys, %d expected", f, CLIENT_NFIELDS);
            return why;
        }
        if (!it->string || strcmp(it->string, key) != 0) {
            snprintf(why, sizeof(why), "key %d is '%.100s', expected '%s'", f,
                     it->string ? it->string : "(none)", key);
            return why;
        }
        if (!cJSON_IsString(it) || strcmp(it->valuestring, client_get(c, d->field)) != 0) {
            snprintf(why, sizeof(why), "%s is '%.150s', expected '%.150s'", key,
                     cJSON_IsString(it) ? it->valuestring : "(not a string)",
                     client_get(c, d->field));
            return why;
        }
    }
    if (it)
        return "more keys than the five fields";
    return NULL;
}
