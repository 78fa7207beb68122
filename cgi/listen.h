/* listen.h - where the worker listens (FCGI_LISTEN): one rule for telling a
 * unix socket path from a TCP host:port, and one way to open it, shared by
 * the supervisor (which binds it) and a worker started on its own. */
#ifndef CLIENTES_LISTEN_H
#define CLIENTES_LISTEN_H

#include <stddef.h>
#include <sys/types.h>

#define LISTEN_PATH_MAX 108 /* sun_path, NUL included */
#define LISTEN_HOST_MAX 256

enum listen_kind {
    LISTEN_NONE = 0, /* not set: the supervisor picks a socket in its runtime dir */
    LISTEN_UNIX,
    LISTEN_TCP
};

struct listen_addr {
    enum listen_kind kind;
    char path[LISTEN_PATH_MAX]; /* LISTEN_UNIX: absolute */
    char host[LISTEN_HOST_MAX]; /* LISTEN_TCP: name or address, IPv6 without brackets */
    int port;                   /* LISTEN_TCP: 1..65535 */
};

/* Parses `text` into *a.  The rule, the only one in the project:
 *   "unix:PATH", or anything with a '/', or anything without a ':' is a unix
 *   socket path (a relative one is made absolute against the current
 *   directory); otherwise it is HOST:PORT, where an empty HOST (":9000") means
 *   loopback, 127.0.0.1 - every interface only when asked for ("0.0.0.0:9000",
 *   "[::]:9000").
 * A path must fit a unix socket and be writable into nginx's config as is (no
 * spaces, quotes, ';', '{', '}', '$', '\\' or '#').  Returns 0, or -1 with a
 * reason (without the variable's name) in err. */
int listen_parse(const char *text, struct listen_addr *a, char *err, size_t errlen);

/* Binds and listens on *a with `backlog`; returns the descriptor (close-on-exec)
 * or -1 with a reason in err.  A unix socket replaces a stale socket file at its
 * path (nothing else), and is created with `mode` and, when gid is not -1, that
 * group, before anyone can connect: that is who may talk FastCGI to the worker. */
int listen_open(const struct listen_addr *a, int backlog, mode_t mode, gid_t gid, char *err,
                size_t errlen);

/* Writes *a as nginx's fastcgi_pass takes it: "unix:/path" or "address:port"
 * - for TCP the address fd (listen_open's) is bound to, so that nginx
 * connects where the socket is even when a name resolves to several, and
 * loopback for an every-interface one.  Returns 0, or -1 when buf is too
 * small or fd is not a bound TCP socket. */
int listen_pass(const struct listen_addr *a, int fd, char *buf, size_t len);

/* Writes *a for logs and for FCGI_LISTEN itself: "/path" or "host:port". */
int listen_describe(const struct listen_addr *a, char *buf, size_t len);

#endif
