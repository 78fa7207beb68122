/* supervise.c - clientes-web, the web process (bin/start-web execs it).  It
 * renders nginx's config, binds the worker's FastCGI socket itself and hands
 * it over as fd 0, runs the worker and nginx as its children and supervises
 * them: a dead or hung worker is restarted while nginx stays up (the socket
 * stays bound, so connections queue for the next worker), nginx dying ends
 * the process, TERM/INT stop both gracefully, HUP re-renders and reloads
 * nginx.  nginx's error log passes through here, stripped of personal data,
 * its per-request refusal warnings counted and summarised.  Signals are taken
 * synchronously (signalfd), exit statuses come from waitpid(): no handler, no
 * polling of /proc. */
#define _GNU_SOURCE /* pipe2, F_DUPFD_CLOEXEC */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "asset.h"
#include "config.h"
#include "errlog.h"
#include "listen.h"
#include "log.h"
#include "render.h"
#include "shm.h"
#include "store.h"

#define LISTEN_BACKLOG 1024
#define START_TIMEOUT_MS 30000  /* both children ready, or give up */
#define TICK_MS 1000            /* the watchdog's look at the worker's progress */
#define SUMMARY_MS 5000         /* one line of nginx refusals at most this often */
#define GRACE_NGINX_MS 7500     /* TERM/INT: nginx's share of the 10 s ... */
#define GRACE_WORKER_MS 9500    /* ... and the worker's, from the same start */
#define FATAL_NGINX_MS 3000     /* a child died: what the other gets */
#define FATAL_WORKER_MS 8000
#define KILLED_MS 1000          /* after SIGKILL, before giving up on a child */
#define BACKOFF_FIRST_MS 250    /* the second restart in a window; then doubled */
#define BACKOFF_MAX_MS 5000
#define RESTARTS_MAX 1000       /* WORKER_RESTART_MAX's upper bound */

struct child {
    pid_t pid;          /* 0: not running */
    bool ready;         /* said it serves (worker) or listens (nginx) */
    bool killed;        /* stopping: SIGKILLed at its deadline */
    long long deadline; /* stopping: when it is killed (then given up on) */
};

enum phase { STARTING, RUNNING, STOPPING };

static struct {
    struct config cfg;
    char root[PATH_MAX], conf_dir[PATH_MAX + 8], run_dir[PATH_MAX], tmpl[PATH_MAX];
    char conf[PATH_MAX + 16], nginx_bin[PATH_MAX], worker_bin[PATH_MAX + 32];
    char nginx_version[64], user_line[2 * CONFIG_WORD_MAX + 16];
    char fcgi_pass[LISTEN_PATH_MAX + LISTEN_HOST_MAX];
    char listen_text[LISTEN_PATH_MAX + LISTEN_HOST_MAX];
    char store_shown[CONFIG_URL_MAX];
    bool early_log;       /* nginx takes -e stderr (1.19.5 and later) */
    const char *drop[4];  /* temp path directives of modules this nginx lacks */
    struct listen_addr listen;
    gid_t sock_gid;       /* root: CLIENTES_USER's group, the one nginx's workers run in */
    uid_t run_uid;        /* root: CLIENTES_USER, who owns the SQLite file's directory */
    int listen_fd, shm_fd, sig_fd, nginx_err, ready_r, inotify_fd, devnull;
    struct shm_page *shm;
    sigset_t old_mask;
    pid_t self;

    struct child worker, nginx;
    enum phase phase;
    long long t_start;
    bool worker_ever_ready, hup_pending, watchdog_kill;

    long long restarts[RESTARTS_MAX + 1]; /* when each recent restart happened */
    int nrestarts;
    bool restart_due;
    long long restart_at;

    unsigned long wd_progress;
    int wd_probe;       /* the watchdog's own connection to the worker; -1 none */
    long long wd_since; /* when connections were first seen waiting with no progress; 0: not */
    long long next_tick;

    unsigned long window[ERRLOG_REFUSAL_KINDS];
    long long next_summary;

    int stop_rc;
    bool graceful, worker_told;
    long long t_stop;

    char line[4096];
    size_t line_len;
} S = {.listen_fd = -1, .shm_fd = -1, .sig_fd = -1, .nginx_err = -1, .ready_r = -1,
       .inotify_fd = -1, .devnull = -1, .wd_probe = -1, .sock_gid = (gid_t)-1, .run_uid = (uid_t)-1};

/* snprintf that says whether everything fitted. */
static bool fmt(char *buf, size_t len, const char *f, ...) __attribute__((format(printf, 3, 4)));
static bool fmt(char *buf, size_t len, const char *f, ...)
{
    va_list ap;
    int n;

    va_start(ap, f);
    n = vsnprintf(buf, len, f, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < len;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "status 1", "signal 9 (Killed)": how a child ended. */
static const char *how(int st, char *buf, size_t len)
{
    if (WIFEXITED(st))
        snprintf(buf, len, "status %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(buf, len, "signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else
        snprintf(buf, len, "wait status %d", st);
    return buf;
}

/* What this process exits with when a child's end ends it: never 0. */
static int exit_code(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st) ? WEXITSTATUS(st) : 1;
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return 1;
}

/* ------------------------------------------------------------ processes */

/* Starts argv[0] in a session of its own (a terminal's ^C or a reload reaches
 * it only through here), with a parent-death TERM so that it never outlives
 * this process, and with descriptor from[i] as to[i]. */
static pid_t spawn(char *const argv[], const int *from, const int *to, int n, bool is_nginx)
{
    pid_t pid = fork();
    int tmp[8];

    if (pid != 0)
        return pid;
    setsid();
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != S.self)
        _exit(1);
    /* Out of the way first, so that no target clobbers a source. */
    for (int i = 0; i < n; i++)
        if ((tmp[i] = fcntl(from[i], F_DUPFD_CLOEXEC, 32)) < 0)
            _exit(126);
    for (int i = 0; i < n; i++)
        if (dup2(tmp[i], to[i]) < 0)
            _exit(126);
    sigprocmask(SIG_SETMASK, &S.old_mask, NULL);
    signal(SIGPIPE, SIG_DFL);
    /* nginx reads NGINX itself, as a list of inherited sockets. */
    if (is_nginx)
        unsetenv("NGINX");
    execv(argv[0], argv);
    wlog(WLOG_ERROR, "cannot run %s: %s", argv[0], strerror(errno));
    _exit(127);
}

/* Runs argv to completion, stdout and stderr captured into out (cut to
 * len); returns its wait status, or -1 when it cannot be started. */
static int run_capture(char *const argv[], char *out, size_t len)
{
    int p[2], st = -1;
    size_t got = 0;
    pid_t pid;

    out[0] = '\0';
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    {
        const int from[] = {S.devnull, p[1], p[1]}, to[] = {0, 1, 2};
        pid = spawn(argv, from, to, 3, true);
    }
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return -1;
    }
    for (;;) {
        char chunk[1024];
        ssize_t r = read(p[0], chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        for (ssize_t i = 0; i < r && got + 1 < len; i++)
            out[got++] = chunk[i];
        out[got] = '\0';
    }
    close(p[0]);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return st;
}

/* spawn() with a new pipe whose write end becomes the child's descriptor
 * to[n - 1] (from[n - 1] is filled in here); *pid is the child's.  Returns
 * the pipe's read end, non-blocking, or -1 with the reason logged. */
static int spawn_piped(char *const argv[], int *from, const int *to, int n, bool is_nginx,
                       pid_t *pid)
{
    int p[2];

    *pid = 0;
    if (pipe2(p, O_CLOEXEC) != 0) {
        wlog(WLOG_ERROR, "pipe: %s", strerror(errno));
        return -1;
    }
    from[n - 1] = p[1];
    *pid = spawn(argv, from, to, n, is_nginx);
    close(p[1]);
    if (*pid < 0) {
        wlog(WLOG_ERROR, "fork: %s", strerror(errno));
        *pid = 0;
        close(p[0]);
        return -1;
    }
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    return p[0];
}

/* The worker: the socket as fd 0, the shared page as 3, the write end of
 * its readiness pipe as 4 (it writes "R" once it serves). */
static int start_worker(void)
{
    char *argv[] = {S.worker_bin, "--shm-fd", "3", "--ready-fd", "4", NULL};
    int from[] = {S.listen_fd, S.shm_fd, -1};
    const int to[] = {0, 3, 4};

    if ((S.ready_r = spawn_piped(argv, from, to, 3, false, &S.worker.pid)) < 0)
        return -1;
    S.worker.ready = false;
    S.watchdog_kill = false;
    S.wd_progress = atomic_load_explicit(&S.shm->progress, memory_order_relaxed);
    S.wd_since = 0;
    return 0;
}

/* nginx: stdin from /dev/null, stderr into a pipe read here (errlog.h). */
static int start_nginx(void)
{
    char *argv[8];
    int n = 0, from[] = {S.devnull, -1};
    const int to[] = {0, 2};

    argv[n++] = S.nginx_bin;
    if (S.early_log) { /* errors before the config is read go to stderr too */
        argv[n++] = "-e";
        argv[n++] = "stderr";
    }
    argv[n++] = "-p";
    argv[n++] = S.run_dir; /* ends in '/' */
    argv[n++] = "-c";
    argv[n++] = S.conf;
    argv[n] = NULL;
    /* nginx's readiness: its pid file, written once its sockets listen. */
    S.inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (S.inotify_fd < 0 ||
        inotify_add_watch(S.inotify_fd, S.run_dir, IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
        wlog(WLOG_ERROR, "inotify: %s", strerror(errno));
        return -1;
    }
    S.nginx_err = spawn_piped(argv, from, to, 2, true, &S.nginx.pid);
    return S.nginx_err < 0 ? -1 : 0;
}

/* ------------------------------------------------------------ files */

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

static void rm_rf(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int mkdir_p(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            *p = '/';
            return -1;
        }
        *p = '/';
    }
    return mkdir(path, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static char *read_file(const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    if (!f)
        return NULL;
    buf = malloc(max + 1);
    if (buf) {
        n = fread(buf, 1, max, f);
        buf[n] = '\0';
        if (!feof(f)) { /* larger than any template */
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

/* Every directory from / down to d can be entered by others: nginx's
 * workers (CLIENTES_USER) reach the socket and temp paths inside it. */
static bool others_can_enter(const char *d)
{
    char p[PATH_MAX];
    struct stat st;

    snprintf(p, sizeof(p), "%s", d);
    for (;;) {
        char *slash;
        if (stat(p[0] ? p : "/", &st) != 0 || !(st.st_mode & S_IXOTH))
            return false;
        if (!p[0] || strcmp(p, "/") == 0)
            return true;
        slash = strrchr(p, '/');
        *slash = '\0';
    }
}

/* A path nginx's config takes unquoted, short enough for the socket inside. */
static bool usable_run_dir(const char *d)
{
    for (const char *c = d; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f || strchr("\"';{}$\\#", *c))
            return false;
    if (strlen(d) + strlen("/worker.sock") >= LISTEN_PATH_MAX)
        return false;
    return geteuid() != 0 || others_can_enter(d);
}

/* Runtime dirs under base left by a clientes-web killed with KILL (its
 * children stop through their parent-death signal, but nobody removes the
 * dir): only ours, and only when their owner is gone. */
static void sweep_stale(const char *base)
{
    DIR *dir = opendir(base);
    struct dirent *e;

    if (!dir)
        return;
    while ((e = readdir(dir)) != NULL) {
        char path[PATH_MAX], file[PATH_MAX + 8], cmd[512];
        struct stat st;
        long owner;
        FILE *f;
        size_t n;

        if (strncmp(e->d_name, "clientes-web.", 13) != 0 || strlen(e->d_name) != 19)
            continue;
        if (!fmt(path, sizeof(path), "%s/%s", base, e->d_name) || lstat(path, &st) != 0 ||
            !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
            continue;
        snprintf(file, sizeof(file), "%s/owner", path);
        if (!(f = fopen(file, "r")))
            continue;
        n = fscanf(f, "%ld", &owner) == 1;
        fclose(f);
        if (!n || owner <= 0)
            continue;
        if (kill((pid_t)owner, 0) == 0 || errno == EPERM) {
            snprintf(file, sizeof(file), "/proc/%ld/cmdline", owner);
            if ((f = fopen(file, "rb")) != NULL) {
                n = fread(cmd, 1, sizeof(cmd) - 1, f);
                fclose(f);
                for (size_t i = 0; i < n; i++)
                    if (!cmd[i])
                        cmd[i] = ' ';
                cmd[n] = '\0';
                if (strstr(cmd, "clientes-web") || strstr(cmd, "start-web"))
                    continue; /* alive: not stale */
            }
        }
        rm_rf(path);
    }
    closedir(dir);
}

static int make_run_dir(void)
{
    const char *bases[] = {S.cfg.tmpdir, "/tmp"};

    for (size_t i = 0; i < 2; i++) {
        char base[PATH_MAX], t[PATH_MAX + 32], real[PATH_MAX], owner[PATH_MAX + 8];
        size_t n = strlen(bases[i]);
        FILE *f;

        if (i == 1 && strcmp(bases[0], "/tmp") == 0)
            break;
        while (n > 1 && bases[i][n - 1] == '/')
            n--;
        snprintf(base, sizeof(base), "%.*s", (int)n, bases[i]);
        if (!fmt(t, sizeof(t), "%s/clientes-web.XXXXXX", strcmp(base, "/") ? base : "") ||
            !mkdtemp(t))
            continue;
        if (!fmt(owner, sizeof(owner), "%s/owner", t) || !realpath(t, real) ||
            chmod(real, 0755) != 0 || !(f = fopen(owner, "w"))) {
            rm_rf(t);
            continue;
        }
        fprintf(f, "%ld\n", (long)getpid());
        fclose(f);
        if (!usable_run_dir(real)) {
            rm_rf(real);
            continue;
        }
        fmt(S.run_dir, sizeof(S.run_dir), "%s/", real); /* fits: usable_run_dir */
        sweep_stale(base);
        return 0;
    }
    wlog(WLOG_ERROR, "cannot make a runtime dir under %s or /tmp (TMPDIR)", S.cfg.tmpdir);
    return -1;
}

/* ------------------------------------------------------------ nginx config */

/* A template that is "#!extends BASE NAME=VALUE..." becomes BASE's text with
 * those names set: returns the text to render (text itself, or BASE's with
 * text freed), or NULL with the reason in err (text freed). */
static char *extend(char *text, struct render_var *vars, size_t nvars, char *err, size_t errlen)
{
    static char names[512]; /* the overrides' strings; the supervisor is one thread */
    struct render_var over[RENDER_EXTENDS_MAX];
    char base[128], path[PATH_MAX], *slash, *btext;
    size_t nover;
    int rc = render_extends(text, base, sizeof(base), over, &nover, names, sizeof(names), err,
                            errlen);

    if (rc <= 0) {
        if (rc < 0) {
            free(text);
            return NULL;
        }
        return text;
    }
    free(text);
    for (size_t i = 0; i < nover; i++) {
        size_t k = 0;
        while (k < nvars && strcmp(vars[k].name, over[i].name) != 0)
            k++;
        if (k == nvars) {
            snprintf(err, errlen, "#!extends sets an unknown name %s", over[i].name);
            return NULL;
        }
        vars[k].value = over[i].value;
    }
    snprintf(path, sizeof(path), "%s", S.tmpl);
    slash = strrchr(path, '/');
    if (!slash || !fmt(slash + 1, sizeof(path) - (size_t)(slash + 1 - path), "%s", base)) {
        snprintf(err, errlen, "#!extends: path of %s too long", base);
        return NULL;
    }
    if (!(btext = read_file(path, 1 << 20))) {
        snprintf(err, errlen, "#!extends: cannot read %.200s: %s", base, strerror(errno));
        return NULL;
    }
    if (strstr(btext, "\n#!extends ") || strncmp(btext, "#!extends ", 10) == 0) {
        free(btext);
        snprintf(err, errlen, "#!extends: %s extends another template (one level only)", base);
        return NULL;
    }
    return btext;
}

static char *render_conf(char *err, size_t errlen)
{
    char port[16], procs[16], maxreq[16], client_max[16], client_rate[24], import_max[16];
    char v6[64], *text, *out = NULL;
    char *allow = render_allow_map(), *real_ip = render_real_ip(&S.cfg.trusted_proxies);
    char *statics = render_static_map();
    char run_dir[PATH_MAX];
    FILE *f;

    snprintf(port, sizeof(port), "%d", S.cfg.port);
    snprintf(procs, sizeof(procs), S.cfg.nginx_worker_processes ? "%d" : "auto",
             S.cfg.nginx_worker_processes);
    snprintf(maxreq, sizeof(maxreq), "%d", S.cfg.worker_max_requests);
    snprintf(client_max, sizeof(client_max), "%d", S.cfg.client_max_requests);
    snprintf(client_rate, sizeof(client_rate), "%dr/s", S.cfg.client_rate);
    snprintf(import_max, sizeof(import_max), "%d", S.cfg.import_max_bytes);
    snprintf(run_dir, sizeof(run_dir), "%.*s", (int)strlen(S.run_dir) - 1, S.run_dir);
    v6[0] = '\0';
    if ((f = fopen("/proc/net/if_inet6", "r")) != NULL) { /* IPv6 is up */
        if (fgetc(f) != EOF)
            snprintf(v6, sizeof(v6), "listen [::]:%d default_server;", S.cfg.port);
        fclose(f);
    }
    struct render_var vars[] = {
        {"LIMITS", "default"},
        {"NGINX_USER_LINE", S.user_line},
        {"WORKER_PROCESSES", procs},
        {"MAX_REQUESTS", maxreq},
        {"CLIENT_MAX_REQUESTS", client_max},
        {"CLIENT_RATE", client_rate},
        {"ERROR_LOG_LEVEL", S.cfg.nginx_error_log_level},
        {"RUNTIME_DIR", run_dir},
        {"PORT", port},
        {"LISTEN_V6", v6},
        {"FCGI_PASS", S.fcgi_pass},
        {"CONF_DIR", S.conf_dir},
        {"APP_ROOT", S.root},
        {"REAL_IP_CONF", real_ip},
        {"ALLOW_MAP", allow},
        {"STATIC_MAP", statics},
        {"STATIC_CSS", asset_url(ASSET_CSS)},
        {"STATIC_ICON", asset_url(ASSET_ICON)},
        {"IMPORT_MAX_BYTES", import_max},
    };
    if (!allow || !real_ip || !statics) {
        snprintf(err, errlen, "out of memory");
    } else if (!(text = read_file(S.tmpl, 1 << 20))) {
        snprintf(err, errlen, "cannot read it: %s", strerror(errno));
    } else if ((text = extend(text, vars, sizeof(vars) / sizeof(vars[0]), err, errlen))) {
        out = render_text(text, vars, sizeof(vars) / sizeof(vars[0]), S.drop, err, errlen);
        free(text);
    }
    free(allow);
    free(real_ip);
    free(statics);
    return out;
}

/* Renders the template into path; 0, or -1 with the reason logged. */
static int render_to(const char *path)
{
    char err[1024], *text = render_conf(err, sizeof(err));
    FILE *f;
    int rc = 0;

    if (!text) {
        wlog(WLOG_ERROR, "cannot render %s: %s", S.tmpl, err);
        return -1;
    }
    if (!(f = fopen(path, "w")) || fputs(text, f) < 0)
        rc = -1;
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc)
        wlog(WLOG_ERROR, "cannot write %s: %s", path, strerror(errno));
    free(text);
    return rc;
}

/* nginx -t on a rendered file: quiet unless nginx rejects it; then its
 * words, and the line it names as rendered (the file goes with the runtime
 * dir). */
static int nginx_test(char *path)
{
    char *argv[9], out[8192], key[PATH_MAX + 40], *at;
    long want = 0;
    int n = 0, st;
    FILE *f;

    argv[n++] = S.nginx_bin;
    if (S.early_log) {
        argv[n++] = "-e";
        argv[n++] = "stderr";
    }
    argv[n++] = "-p";
    argv[n++] = S.run_dir;
    argv[n++] = "-t";
    argv[n++] = "-c";
    argv[n++] = path;
    argv[n] = NULL;
    st = run_capture(argv, out, sizeof(out));
    if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    /* "... in /run/dir/nginx.conf:12" */
    snprintf(key, sizeof(key), "%s:", path);
    if ((at = strstr(out, key)) != NULL)
        want = strtol(at + strlen(key), NULL, 10);
    wlog(WLOG_ERROR, "nginx rejects the config rendered from %s:", S.tmpl);
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
        wlog(WLOG_ERROR, "  %s", line);
    if (want > 0 && (f = fopen(path, "r")) != NULL) {
        char buf[1024];
        long lineno = 0;
        while (fgets(buf, sizeof(buf), f))
            if (++lineno == want) {
                buf[strcspn(buf, "\n")] = '\0';
                wlog(WLOG_ERROR, "line %ld as rendered: %s", want, buf);
                break;
            }
        fclose(f);
    }
    return -1;
}

/* ------------------------------------------------------------ start-up */

static int find_in_path(const char *name, char *out, size_t len)
{
    const char *path = getenv("PATH");

    while (path && *path) {
        size_t n = strcspn(path, ":");
        snprintf(out, len, "%.*s/%s", (int)n, path, name);
        if (n && access(out, X_OK) == 0)
            return 0;
        path += n;
        path += *path == ':';
    }
    return -1;
}

static int find_binaries(void)
{
    char self[PATH_MAX];
    ssize_t n;

    if (S.cfg.nginx_bin[0] && strchr(S.cfg.nginx_bin, '/'))
        snprintf(S.nginx_bin, sizeof(S.nginx_bin), "%s", S.cfg.nginx_bin);
    else if (find_in_path(S.cfg.nginx_bin[0] ? S.cfg.nginx_bin : "nginx", S.nginx_bin,
                          sizeof(S.nginx_bin)) != 0)
        snprintf(S.nginx_bin, sizeof(S.nginx_bin), "/usr/sbin/nginx");
    if (access(S.nginx_bin, X_OK) != 0) {
        wlog(WLOG_ERROR, "nginx not found (set NGINX, or run bin/install-deps)");
        return -1;
    }
    if (S.cfg.worker_bin[0]) {
        snprintf(S.worker_bin, sizeof(S.worker_bin), "%s", S.cfg.worker_bin);
    } else {
        if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0)
            n = 0;
        self[n] = '\0';
        if (strrchr(self, '/'))
            *strrchr(self, '/') = '\0';
        snprintf(S.worker_bin, sizeof(S.worker_bin), "%s/clientes-worker", self);
    }
    if (access(S.worker_bin, X_OK) != 0) {
        wlog(WLOG_ERROR, "worker binary '%s' missing (CLIENTES_WORKER); build it: cmake -S . -B "
                         "build/default && cmake --build build/default (or use bin/run)",
             S.worker_bin);
        return -1;
    }
    return 0;
}

/* What nginx is: -e support (1.19.5+) and modules built without. */
static int probe_nginx(void)
{
    char *v_argv[] = {S.nginx_bin, "-V", NULL}, out[8192], *p;
    static const char *const temp[][2] = {{"uwsgi", "uwsgi_temp_path"},
                                          {"scgi", "scgi_temp_path"},
                                          {"proxy", "proxy_temp_path"}};
    int st = run_capture(v_argv, out, sizeof(out)), a = 0, b = 0, c = 0, nd = 0;

    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || !(p = strstr(out, "nginx/"))) {
        wlog(WLOG_ERROR, "'%s -V' failed: %.200s", S.nginx_bin, out);
        return -1;
    }
    snprintf(S.nginx_version, sizeof(S.nginx_version), "%.*s", (int)strcspn(p + 6, " \n"), p + 6);
    if (sscanf(S.nginx_version, "%d.%d.%d", &a, &b, &c) == 3)
        S.early_log = a > 1 || (a == 1 && (b > 19 || (b == 19 && c >= 5)));
    for (size_t i = 0; i < sizeof(temp) / sizeof(temp[0]); i++) {
        char flag[64];
        snprintf(flag, sizeof(flag), "--without-http_%s_module", temp[i][0]);
        if (strstr(out, flag))
            S.drop[nd++] = temp[i][1];
    }
    S.drop[nd] = NULL;
    return 0;
}

static int find_template(void)
{
    const char *t = S.cfg.nginx_conf;

    if (t[0] == '/' || access(t, R_OK) == 0) {
        if (!realpath(t, S.tmpl))
            snprintf(S.tmpl, sizeof(S.tmpl), "%s", t);
    } else {
        fmt(S.tmpl, sizeof(S.tmpl), "%s/%s", S.root, t);
    }
    if (access(S.tmpl, R_OK) != 0) {
        wlog(WLOG_ERROR, "nginx config template '%s' not readable (NGINX_CONF)", S.tmpl);
        return -1;
    }
    snprintf(S.conf_dir, sizeof(S.conf_dir), "%s/conf", S.root);
    if (strpbrk(S.conf_dir, "\"\\")) {
        wlog(WLOG_ERROR, "the app root '%s' has a character nginx's include cannot take", S.root);
        return -1;
    }
    return 0;
}

/* Root: CLIENTES_USER is who nginx's workers run as (and the worker drops
 * to); its group alone may connect to the worker's socket. */
static int find_user(void)
{
    struct passwd *pw;
    struct group *gr;
    char gname[32];

    if (geteuid() != 0)
        return 0; /* nginx cannot switch users; everything runs as this one */
    if (!(pw = getpwnam(S.cfg.user))) {
        wlog(WLOG_ERROR, "CLIENTES_USER: no user '%s' on this system", S.cfg.user);
        return -1;
    }
    if (pw->pw_uid == 0) {
        wlog(WLOG_ERROR, "CLIENTES_USER '%s' is root, not an unprivileged user", S.cfg.user);
        return -1;
    }
    S.sock_gid = pw->pw_gid;
    S.run_uid = pw->pw_uid;
    if ((gr = getgrgid(pw->pw_gid)) != NULL)
        snprintf(gname, sizeof(gname), "%s", gr->gr_name);
    else
        snprintf(gname, sizeof(gname), "%ld", (long)pw->pw_gid);
    snprintf(S.user_line, sizeof(S.user_line), "user %s %s;", S.cfg.user, gname);
    return 0;
}

/* A SQLite file's directory is created (the store creates the file). */
static int make_store_dir(void)
{
    char path[CONFIG_URL_MAX], *slash;
    struct stat st;

    if (store_sqlite_path(S.cfg.database_url, path, sizeof(path)) != 0 ||
        strcmp(path, ":memory:") == 0 || !(slash = strrchr(path, '/')) || slash == path)
        return 0;
    *slash = '\0';
    if (mkdir_p(path) != 0) {
        wlog(WLOG_ERROR, "cannot create the directory of the SQLite file: %s: %s", path,
             strerror(errno));
        return -1;
    }
    /* The worker runs as CLIENTES_USER: the store's own directory is its
     * own, so that it can manage the files next to the database (a -wal
     * moved aside when the file was replaced), as a database server owns its
     * data directory.  Only a directory root owns is handed over. */
    if (S.run_uid != (uid_t)-1 && stat(path, &st) == 0 && st.st_uid == 0 &&
        chown(path, S.run_uid, S.sock_gid) != 0) {
        wlog(WLOG_ERROR, "cannot give the SQLite file's directory %s to CLIENTES_USER: %s", path,
             strerror(errno));
        return -1;
    }
    return 0;
}

static int open_socket(void)
{
    char err[512];
    mode_t mode = geteuid() == 0 ? 0660 : 0600;

    if (S.cfg.fcgi_listen.kind != LISTEN_NONE) {
        S.listen = S.cfg.fcgi_listen;
    } else {
        S.listen.kind = LISTEN_UNIX;
        fmt(S.listen.path, sizeof(S.listen.path), "%sworker.sock", S.run_dir);
    }
    S.listen_fd = listen_open(&S.listen, LISTEN_BACKLOG, mode, S.sock_gid, err, sizeof(err));
    if (S.listen_fd < 0) {
        wlog(WLOG_ERROR, "cannot listen for the worker (FCGI_LISTEN): %s", err);
        return -1;
    }
    if (listen_pass(&S.listen, S.listen_fd, S.fcgi_pass, sizeof(S.fcgi_pass)) != 0 ||
        listen_describe(&S.listen, S.listen_text, sizeof(S.listen_text)) != 0) {
        wlog(WLOG_ERROR, "FCGI_LISTEN: address too long");
        return -1;
    }
    /* The worker names the socket it serves in its own start-up line. */
    setenv("FCGI_LISTEN", S.listen_text, 1);
    return 0;
}

static int take_signals(void)
{
    sigset_t set;

    /* Inherited as ignored (a shell's background job), a signal would never
     * be pending: default first, then blocked and read from signalfd. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, &S.old_mask) != 0 ||
        (S.sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
        wlog(WLOG_ERROR, "signalfd: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int setup(void)
{
    S.self = getpid();
    S.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    config_redact(S.cfg.database_url, S.store_shown, sizeof(S.store_shown));
    if (S.devnull < 0 || take_signals() || find_binaries() || find_template() || find_user() ||
        probe_nginx() || make_store_dir() || make_run_dir() || open_socket())
        return -1;
    if (!(S.shm = shm_create(&S.shm_fd))) {
        wlog(WLOG_ERROR, "cannot create the shared page: %s", strerror(errno));
        return -1;
    }
    snprintf(S.conf, sizeof(S.conf), "%snginx.conf", S.run_dir);
    if (render_to(S.conf) || nginx_test(S.conf))
        return -1;
    S.t_start = now_ms();
    S.next_summary = S.t_start + SUMMARY_MS;
    S.next_tick = S.t_start + TICK_MS;
    return start_worker() || start_nginx() ? -1 : 0;
}

static void cleanup(void)
{
    if (S.listen_fd >= 0) {
        close(S.listen_fd);
        if (S.listen.kind == LISTEN_UNIX)
            unlink(S.listen.path);
    }
    if (S.run_dir[0])
        rm_rf(S.run_dir);
}

/* ------------------------------------------------------------ nginx's stderr */

static void summarize(void)
{
    unsigned long sum = 0, total = 0;

    if (!S.shm)
        return;
    for (int k = 0; k < ERRLOG_REFUSAL_KINDS; k++) {
        sum += S.window[k];
        total += atomic_load_explicit(&S.shm->refused[k], memory_order_relaxed);
    }
    if (sum)
        wlog(WLOG_WARN, "nginx refused %lu requests in the last %d s (%s %lu, %s %lu, %s %lu; "
                        "%lu since start)",
             sum, SUMMARY_MS / 1000, errlog_refusal_name(ERRLOG_LIMIT_REQ),
             S.window[ERRLOG_LIMIT_REQ], errlog_refusal_name(ERRLOG_LIMIT_CONN),
             S.window[ERRLOG_LIMIT_CONN], errlog_refusal_name(ERRLOG_WORKER_CONNECTIONS),
             S.window[ERRLOG_WORKER_CONNECTIONS], total);
    memset(S.window, 0, sizeof(S.window));
}

static void nginx_line(void)
{
    int kind;

    S.line[S.line_len] = '\0';
    if (S.line_len == 0)
        return;
    kind = errlog_refusal(S.line);
    if (kind >= 0) {
        atomic_fetch_add_explicit(&S.shm->refused[kind], 1, memory_order_relaxed);
        S.window[kind]++;
    } else {
        size_t n;
        errlog_clean(S.line);
        n = strlen(S.line);
        S.line[n++] = '\n';
        if (write(STDERR_FILENO, S.line, n) < 0) {
            /* stderr gone: nothing left to tell */
        }
    }
    S.line_len = 0;
}

/* Reads what nginx wrote to its stderr; at EOF closes the pipe. */
static void read_nginx_err(void)
{
    char buf[4096];
    ssize_t n;

    while ((n = read(S.nginx_err, buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                nginx_line();
                continue;
            }
            S.line[S.line_len++] = buf[i];
            if (S.line_len == sizeof(S.line) - 2) /* longer than nginx writes */
                nginx_line();
        }
    }
    if (n == 0) {
        nginx_line();
        close(S.nginx_err);
        S.nginx_err = -1;
    }
}

/* ------------------------------------------------------------ lifecycle */

static void stop_step(void);

static void begin_stop(int rc, bool graceful)
{
    if (S.phase == STOPPING)
        return;
    S.phase = STOPPING;
    S.stop_rc = rc;
    S.graceful = graceful;
    S.t_stop = now_ms();
    S.restart_due = false;
    if (S.nginx.pid) {
        kill(S.nginx.pid, graceful ? SIGQUIT : SIGTERM);
        S.nginx.deadline = S.t_stop + (graceful ? GRACE_NGINX_MS : FATAL_NGINX_MS);
    }
    stop_step();
}

/* A stopping child past its deadline is killed, with its group; one more
 * second and it is given up on.  True while it is still waited for. */
static bool stop_waiting(struct child *c, const char *name, long long now)
{
    if (!c->pid)
        return false;
    if (now < c->deadline)
        return true;
    if (c->killed) { /* not even SIGKILL: stop waiting for it */
        c->pid = 0;
        return false;
    }
    wlog(WLOG_ERROR, "%s (pid %d) still running after %lld ms; killing it", name, (int)c->pid,
         now - S.t_stop);
    kill(-c->pid, SIGKILL);
    kill(c->pid, SIGKILL);
    c->killed = true;
    c->deadline = now + KILLED_MS;
    if (S.stop_rc == 0)
        S.stop_rc = 1;
    return true;
}

/* Moves the stop on: nginx first (it stops accepting and finishes what it
 * serves), then the worker (it finishes its requests); each killed at its
 * deadline. */
static void stop_step(void)
{
    long long now = now_ms();

    if (stop_waiting(&S.nginx, "nginx", now))
        return;
    if (S.worker.pid && !S.worker_told) {
        kill(S.worker.pid, SIGTERM);
        kill(S.worker.pid, SIGCONT); /* a stopped worker would never see TERM */
        S.worker_told = true;
        S.worker.deadline = S.t_stop + (S.graceful ? GRACE_WORKER_MS : FATAL_WORKER_MS);
        if (S.worker.deadline < now + 500)
            S.worker.deadline = now + 500;
        return;
    }
    stop_waiting(&S.worker, "the worker", now);
}

static void reload(void);

static void started(void)
{
    if (S.phase != STARTING || !S.worker.ready || !S.nginx.ready)
        return;
    S.phase = RUNNING;
    if (S.inotify_fd >= 0) {
        close(S.inotify_fd);
        S.inotify_fd = -1;
    }
    wlog(WLOG_INFO, "listening on http://0.0.0.0:%d (nginx %s pid %d; worker pid %d on %s; "
                    "store %s)",
         S.cfg.port, S.nginx_version, (int)S.nginx.pid, (int)S.worker.pid, S.listen_text,
         S.store_shown);
    if (S.hup_pending) { /* a HUP that came during start-up */
        S.hup_pending = false;
        reload();
    }
}

static void reload(void)
{
    char next[PATH_MAX + 32];

    if (S.phase == STARTING) { /* nginx may not handle HUP yet */
        S.hup_pending = true;
        return;
    }
    if (S.phase != RUNNING || !S.nginx.pid)
        return;
    snprintf(next, sizeof(next), "%s.new", S.conf);
    if (render_to(next) == 0 && nginx_test(next) == 0 && rename(next, S.conf) == 0) {
        wlog(WLOG_INFO, "SIGHUP: reloading nginx");
        kill(S.nginx.pid, SIGHUP);
    } else {
        unlink(next);
        wlog(WLOG_WARN, "SIGHUP: keeping the running nginx config");
    }
}

static void worker_exited(int st)
{
    char h[64];
    pid_t pid = S.worker.pid;
    long long now = now_ms();
    int max = S.cfg.worker_restart_max, n = 0;
    long long delay;

    kill(-pid, SIGKILL); /* anything it left in its group */
    S.worker.pid = 0;
    S.worker.ready = false;
    if (S.ready_r >= 0) {
        close(S.ready_r);
        S.ready_r = -1;
    }
    how(st, h, sizeof(h));
    if (S.phase == STOPPING) {
        if (S.graceful && S.stop_rc == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
            wlog(WLOG_ERROR, "the worker exited with %s", h);
            S.stop_rc = exit_code(st);
        }
        return;
    }
    if (!S.worker_ever_ready) {
        wlog(WLOG_ERROR, "the worker exited during start-up (%s); see its messages above", h);
        begin_stop(exit_code(st), false);
        return;
    }
    /* The restarts within the window, oldest first. */
    for (int i = 0; i < S.nrestarts; i++)
        if (now - S.restarts[i] < (long long)S.cfg.worker_restart_window_s * 1000)
            S.restarts[n++] = S.restarts[i];
    S.nrestarts = n;
    if (n >= max) {
        wlog(WLOG_ERROR, "the worker (pid %d) died (%s%s) after %d restarts within %d s "
                         "(WORKER_RESTART_MAX): stopping nginx and exiting",
             (int)pid, h, S.watchdog_kill ? ", killed by the watchdog" : "", n,
             S.cfg.worker_restart_window_s);
        begin_stop(exit_code(st), false);
        return;
    }
    delay = n == 0 ? 0 : (long long)BACKOFF_FIRST_MS << (n - 1 < 5 ? n - 1 : 5);
    if (delay > BACKOFF_MAX_MS)
        delay = BACKOFF_MAX_MS;
    S.restarts[S.nrestarts++] = now;
    atomic_fetch_add_explicit(&S.shm->worker_restarts, 1, memory_order_relaxed);
    S.restart_due = true;
    S.restart_at = now + delay;
    wlog(WLOG_WARN, "the worker (pid %d) died (%s%s); restarting it in %lld ms (restart %d of "
                    "%d within %d s); nginx keeps the requests waiting",
         (int)pid, h, S.watchdog_kill ? ", killed by the watchdog" : "", delay, n + 1, max,
         S.cfg.worker_restart_window_s);
}

static void nginx_exited(int st)
{
    char h[64];

    kill(-S.nginx.pid, SIGKILL); /* its workers, if the master was killed */
    S.nginx.pid = 0;
    if (S.phase == STOPPING)
        return;
    wlog(WLOG_ERROR, "nginx exited unexpectedly (%s); stopping the worker and exiting",
         how(st, h, sizeof(h)));
    begin_stop(exit_code(st), false);
}

static void reap(void)
{
    pid_t pid;
    int st;

    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        if (pid == S.worker.pid)
            worker_exited(st);
        else if (pid == S.nginx.pid)
            nginx_exited(st);
    }
}

static void read_signals(void)
{
    struct signalfd_siginfo si;

    while (read(S.sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        switch (si.ssi_signo) {
        case SIGCHLD:
            reap();
            break;
        case SIGHUP:
            reload();
            break;
        case SIGTERM:
        case SIGINT:
            if (S.phase != STOPPING)
                wlog(WLOG_INFO, "SIG%s: stopping nginx gracefully, then the worker",
                     si.ssi_signo == SIGTERM ? "TERM" : "INT");
            begin_stop(0, true);
            break;
        }
    }
}

static void read_ready(void)
{
    char c;
    ssize_t n = read(S.ready_r, &c, 1);

    if (n == 1 && c == 'R' && S.worker.pid) {
        S.worker.ready = true;
        if (S.worker_ever_ready)
            wlog(WLOG_INFO, "the worker (pid %d) is serving again", (int)S.worker.pid);
        S.worker_ever_ready = true;
        started();
    } else if (n == 0 || (n < 0 && errno != EAGAIN)) {
        close(S.ready_r);
        S.ready_r = -1;
    }
}

static void read_inotify(void)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n = read(S.inotify_fd, buf, sizeof(buf));
    char path[PATH_MAX + 16];
    long pid = 0;
    FILE *f;

    if (n <= 0)
        return;
    for (char *p = buf; p < buf + n;) {
        struct inotify_event *e = (struct inotify_event *)p;
        if (e->len && strcmp(e->name, "nginx.pid") == 0) {
            snprintf(path, sizeof(path), "%snginx.pid", S.run_dir);
            if ((f = fopen(path, "r")) != NULL) {
                if (fscanf(f, "%ld", &pid) != 1)
                    pid = 0;
                fclose(f);
            }
            if (pid == (long)S.nginx.pid && pid > 0)
                S.nginx.ready = true;
        }
        p += sizeof(*e) + e->len;
    }
    started();
}

/* A connection waits in the listening socket's queue: nobody has accepted it. */
static bool requests_wait(void)
{
    struct pollfd p = {.fd = S.listen_fd, .events = POLLIN};

    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void probe_close(void)
{
    if (S.wd_probe >= 0)
        close(S.wd_probe);
    S.wd_probe = -1;
}

/* nginx keeps its connections to the worker open, and sends requests over
 * them: a hung worker's requests then wait where the supervisor cannot see
 * them.  So when the worker shows no progress, the watchdog connects to it
 * itself: a live worker accepts the connection (progress), a hung one leaves
 * it waiting on the listening socket, where it is seen. */
static void probe_open(void)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd;

    if (S.wd_probe >= 0 || getsockname(S.listen_fd, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        if (in->sin_addr.s_addr == htonl(INADDR_ANY))
            in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
            in6->sin6_addr = in6addr_loopback;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (connect(fd, (struct sockaddr *)&ss, len) != 0 && errno != EINPROGRESS) {
        close(fd);
        return;
    }
    S.wd_probe = fd;
}

/* The watchdog: a worker whose progress counter has not moved for
 * WORKER_WATCHDOG_S while connections wait for it is hung (stopped, deadlocked,
 * every thread stuck): killed, and restarted like a dead one. */
static void watchdog(long long now)
{
    unsigned long p;

    if (!S.cfg.worker_watchdog_s || !S.worker.pid || S.phase == STOPPING || S.watchdog_kill) {
        probe_close();
        return;
    }
    p = atomic_load_explicit(&S.shm->progress, memory_order_relaxed);
    if (p != S.wd_progress) {
        S.wd_progress = p;
        S.wd_since = 0;
        probe_close();
        return;
    }
    if (!requests_wait()) {
        S.wd_since = 0;
        probe_open(); /* no progress and nothing seen waiting: look closer */
        return;
    }
    if (!S.wd_since) { /* first seen waiting without progress: the clock starts */
        S.wd_since = now;
        return;
    }
    if (now - S.wd_since < (long long)S.cfg.worker_watchdog_s * 1000)
        return;
    wlog(WLOG_WARN, "watchdog: the worker (pid %d) has made no progress for %d s while requests "
                    "wait (WORKER_WATCHDOG_S); killing it",
         (int)S.worker.pid, S.cfg.worker_watchdog_s);
    S.watchdog_kill = true;
    probe_close();
    kill(S.worker.pid, SIGKILL);
}

static void timers(void)
{
    long long now = now_ms();

    if (S.phase == STARTING && now - S.t_start >= START_TIMEOUT_MS) {
        wlog(WLOG_ERROR, "%s not ready %d s after start; exiting",
             !S.worker.ready ? "the worker is" : "nginx is", START_TIMEOUT_MS / 1000);
        begin_stop(1, false);
    }
    if (S.restart_due && now >= S.restart_at && S.phase != STOPPING) {
        S.restart_due = false;
        if (start_worker() != 0)
            begin_stop(1, false);
    }
    if (now >= S.next_tick) {
        S.next_tick = now + TICK_MS;
        watchdog(now);
    }
    if (now >= S.next_summary) {
        S.next_summary = now + SUMMARY_MS;
        summarize();
    }
    if (S.phase == STOPPING)
        stop_step();
}

static int next_timeout(void)
{
    long long now = now_ms(), next = S.next_summary;

    if (S.next_tick < next)
        next = S.next_tick;
    if (S.phase == STARTING && S.t_start + START_TIMEOUT_MS < next)
        next = S.t_start + START_TIMEOUT_MS;
    if (S.restart_due && S.restart_at < next)
        next = S.restart_at;
    if (S.phase == STOPPING) {
        if (S.nginx.pid && S.nginx.deadline < next)
            next = S.nginx.deadline;
        else if (!S.nginx.pid && S.worker.pid && (!S.worker_told || S.worker.deadline < next))
            next = S.worker_told ? S.worker.deadline : now;
    }
    return next <= now ? 0 : (int)(next - now);
}

static int run(void)
{
    for (;;) {
        struct pollfd p[4];
        int n = 0, rc;

        p[n++] = (struct pollfd){.fd = S.sig_fd, .events = POLLIN};
        p[n++] = (struct pollfd){.fd = S.nginx_err, .events = POLLIN};
        p[n++] = (struct pollfd){.fd = S.ready_r, .events = POLLIN};
        p[n++] = (struct pollfd){.fd = S.inotify_fd, .events = POLLIN};
        rc = poll(p, (nfds_t)n, next_timeout()); /* a negative fd is skipped */
        if (rc < 0 && errno != EINTR) {
            wlog(WLOG_ERROR, "poll: %s", strerror(errno));
            begin_stop(1, false);
        }
        if (rc > 0) {
            if (p[1].revents)
                read_nginx_err();
            if (p[2].revents && S.ready_r >= 0)
                read_ready();
            if (p[3].revents && S.inotify_fd >= 0)
                read_inotify();
            if (p[0].revents)
                read_signals();
        }
        timers();
        if (S.phase == STOPPING && !S.nginx.pid && !S.worker.pid)
            break;
    }
    /* What nginx still had to say, then the last summary. */
    if (S.nginx_err >= 0) {
        fcntl(S.nginx_err, F_SETFL, O_NONBLOCK);
        read_nginx_err();
    }
    summarize();
    if (S.graceful)
        wlog(WLOG_INFO, "stopped in %lld ms", now_ms() - S.t_stop);
    return S.stop_rc;
}

static void usage(FILE *out)
{
    fputs("usage: clientes-web [--root DIR]   run nginx and the worker (bin/start-web)\n"
          "       clientes-web --config-doc   print the environment variables as Markdown\n",
          out);
}

int main(int argc, char **argv)
{
    char err[1024];
    const char *root = NULL;
    int rc;

    wlog_init("clientes-web", WLOG_INFO);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config-doc") == 0) {
            config_doc(stdout);
            return 0;
        } else if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
            root = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (config_load(&S.cfg, err, sizeof(err)) != 0) {
        wlog(WLOG_ERROR, "%s", err);
        return 1;
    }
    wlog_init("clientes-web", S.cfg.log_level);
    if (!realpath(root ? root : ".", S.root)) {
        wlog(WLOG_ERROR, "the app root '%s': %s", root ? root : ".", strerror(errno));
        return 1;
    }
    if (setup() != 0) {
        begin_stop(1, false);
        rc = run();
        cleanup();
        return rc ? rc : 1;
    }
    rc = run();
    cleanup();
    return rc;
}
