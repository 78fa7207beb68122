/* listen.c - FCGI_LISTEN: parsed by one rule, opened by one function. */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Characters that would need quoting in nginx's config (fastcgi_pass). */
static const char nginx_unsafe[] = " \t\"';{}$\\#";

static int fail(char *err, size_t errlen, const char *why)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", why);
    return -1;
}

static int parse_path(const char *p, struct listen_addr *a, char *err, size_t errlen)
{
    char cwd[LISTEN_PATH_MAX];
    int n;

    if (!*p)
        return fail(err, errlen, "names no socket path");
    for (const char *c = p; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f || strchr(nginx_unsafe, *c))
            return fail(err, errlen, "socket path has a character nginx's config cannot take");
    if (p[0] == '/') {
        n = snprintf(a->path, sizeof(a->path), "%s", p);
    } else {
        if (!getcwd(cwd, sizeof(cwd)))
            return fail(err, errlen, "relative socket path, and the current directory is too long");
        n = snprintf(a->path, sizeof(a->path), "%s/%s", cwd, p);
    }
    if (n < 0 || (size_t)n >= sizeof(a->path))
        return fail(err, errlen, "socket path longer than a unix socket takes (107 bytes)");
    a->kind = LISTEN_UNIX;
    return 0;
}

static int host_ok(const char *h)
{
    struct in6_addr a6;

    if (strchr(h, ':'))
        return inet_pton(AF_INET6, h, &a6) == 1;
    if (strlen(h) > 253)
        return 0;
    for (const char *c = h; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '-'))
            return 0;
    return *h != '\0' && *h != '.' && *h != '-';
}

int listen_parse(const char *text, struct listen_addr *a, char *err, size_t errlen)
{
    const char *colon, *port;
    size_t hlen;
    long n = 0;

    memset(a, 0, sizeof(*a));
    if (!text)
        return fail(err, errlen, "is empty");
    if (strncmp(text, "unix:", 5) == 0)
        return parse_path(text + 5, a, err, errlen);
    colon = strrchr(text, ':');
    if (strchr(text, '/') || !colon)
        return parse_path(text, a, err, errlen);

    port = colon + 1;
    if (!*port || strlen(port) > 5)
        return fail(err, errlen, "must be a socket path or HOST:PORT with a port 1..65535");
    for (const char *c = port; *c; c++) {
        if (*c < '0' || *c > '9')
            return fail(err, errlen, "must be a socket path or HOST:PORT with a port 1..65535");
        n = n * 10 + (*c - '0');
    }
    if (n < 1 || n > 65535)
        return fail(err, errlen, "must be a socket path or HOST:PORT with a port 1..65535");
    a->port = (int)n;

    hlen = (size_t)(colon - text);
    if (hlen == 0) {
        snprintf(a->host, sizeof(a->host), "127.0.0.1"); /* loopback unless asked */
    } else if (text[0] == '[') {
        if (hlen < 3 || text[hlen - 1] != ']' || hlen - 2 >= sizeof(a->host))
            return fail(err, errlen, "has a malformed [IPv6] host");
        memcpy(a->host, text + 1, hlen - 2);
        a->host[hlen - 2] = '\0';
    } else {
        if (hlen >= sizeof(a->host))
            return fail(err, errlen, "host name too long");
        memcpy(a->host, text, hlen);
        a->host[hlen] = '\0';
        if (strcmp(a->host, "*") == 0)
            snprintf(a->host, sizeof(a->host), "0.0.0.0");
        else if (strchr(a->host, ':'))
            return fail(err, errlen, "an IPv6 host must be written in brackets: [::1]:9000");
    }
    if (!host_ok(a->host))
        return fail(err, errlen, "host is not a host name or an IP address");
    a->kind = LISTEN_TCP;
    return 0;
}

static int open_unix(const struct listen_addr *a, int backlog, mode_t mode, gid_t gid, char *err,
                     size_t errlen)
{
    struct sockaddr_un sun;
    struct stat st;
    mode_t old;
    int fd, rc;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, a->path, strlen(a->path) + 1);
    /* A socket file left by a killed run; anything else at the path is not ours. */
    if (lstat(a->path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(a->path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    /* Created private, then opened to exactly `mode` and `gid`: nobody can
     * connect in between. */
    old = umask(0077);
    rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    umask(old);
    if (rc != 0) {
        snprintf(err, errlen, "bind %s: %s", a->path, strerror(errno));
        close(fd);
        return -1;
    }
    if ((gid != (gid_t)-1 && chown(a->path, (uid_t)-1, gid) != 0) || chmod(a->path, mode) != 0) {
        snprintf(err, errlen, "chown/chmod %s: %s", a->path, strerror(errno));
        close(fd);
        unlink(a->path);
        return -1;
    }
    if (listen(fd, backlog) != 0) {
        snprintf(err, errlen, "listen %s: %s", a->path, strerror(errno));
        close(fd);
        unlink(a->path);
        return -1;
    }
    return fd;
}

static int open_tcp(const struct listen_addr *a, int backlog, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    char port[8];
    int fd, one = 1, rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%d", a->port);
    if ((rc = getaddrinfo(a->host, port, &hints, &res)) != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", a->host, gai_strerror(rc));
        return -1;
    }
    fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        freeaddrinfo(res);
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, backlog) != 0) {
        snprintf(err, errlen, "bind %s:%d: %s", a->host, a->port, strerror(errno));
        close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    return fd;
}

int listen_open(const struct listen_addr *a, int backlog, mode_t mode, gid_t gid, char *err,
                size_t errlen)
{
    switch (a->kind) {
    case LISTEN_UNIX:
        return open_unix(a, backlog, mode, gid, err, errlen);
    case LISTEN_TCP:
        return open_tcp(a, backlog, err, errlen);
    case LISTEN_NONE:
        break;
    }
    return fail(err, errlen, "no listen address");
}

static int put(size_t len, int n)
{
    return n >= 0 && (size_t)n < len ? 0 : -1;
}

int listen_pass(const struct listen_addr *a, int fd, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[INET6_ADDRSTRLEN];
    int port;

    if (a->kind == LISTEN_UNIX)
        return put(len, snprintf(buf, len, "unix:%s", a->path));
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        return -1;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        if (in->sin_addr.s_addr == htonl(INADDR_ANY))
            in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
        return put(len, snprintf(buf, len, "%s:%d", host, port));
    }
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
            in6->sin6_addr = in6addr_loopback;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
        return put(len, snprintf(buf, len, "[%s]:%d", host, port));
    }
    return -1;
}

int listen_describe(const struct listen_addr *a, char *buf, size_t len)
{
    if (a->kind == LISTEN_UNIX)
        return put(len, snprintf(buf, len, "%s", a->path));
    if (a->kind == LISTEN_NONE)
        return put(len, snprintf(buf, len, "(none)"));
    return put(len, snprintf(buf, len, strchr(a->host, ':') ? "[%s]:%d" : "%s:%d",
                                  a->host, a->port));
}
