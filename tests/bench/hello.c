/* hello.c - the benchmark's reference FastCGI application: libfcgi with no
 * work at all, answering every request with the same body.  What nginx +
 * FastCGI cost on this machine before any of the service's own work: the
 * ceiling the worker is measured against (bin/bench).
 *
 *   bench_hello SOCKET PROCESSES BODYFILE
 * listens on the unix socket SOCKET, forks PROCESSES single-threaded
 * processes blocking in FCGX_Accept_r (enough that none is pinned to a
 * connection nginx keeps open), and answers 200 with BODYFILE's bytes as
 * application/json.  Stops on SIGTERM. */
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char head[256];
static char body[64 * 1024];
static int head_len, body_len;

static void serve(int fd)
{
    FCGX_Request r;

    FCGX_InitRequest(&r, fd, 0);
    while (FCGX_Accept_r(&r) >= 0) {
        FCGX_PutStr(head, head_len, r.out);
        FCGX_PutStr(body, body_len, r.out);
        FCGX_Finish_r(&r);
    }
}

int main(int argc, char **argv)
{
    FILE *f;
    int fd, n;

    if (argc != 4 || (n = atoi(argv[2])) < 1 || n > 4096) {
        fprintf(stderr, "usage: bench_hello SOCKET PROCESSES BODYFILE\n");
        return 2;
    }
    if (!(f = fopen(argv[3], "rb"))) {
        perror(argv[3]);
        return 1;
    }
    body_len = (int)fread(body, 1, sizeof(body), f);
    fclose(f);
    head_len = snprintf(head, sizeof(head),
                        "Status: 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                        "Content-Length: %d\r\n\r\n",
                        body_len);
    unlink(argv[1]);
    if (FCGX_Init() != 0 || (fd = FCGX_OpenSocket(argv[1], 1024)) < 0) {
        fprintf(stderr, "bench_hello: cannot listen on %s\n", argv[1]);
        return 1;
    }
    chmod(argv[1], 0666); /* nginx's workers: the benchmark's own throwaway socket */
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < n; i++) {
        pid_t p = fork();
        if (p == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM); /* nothing outlives the parent */
            serve(fd);
            _exit(0);
        }
        if (p < 0) {
            perror("fork");
            break;
        }
    }
    while (wait(NULL) > 0) /* until SIGTERM: the children follow the parent */
        ;
    unlink(argv[1]);
    return 0;
}
