/* admin.c - clientes-admin: main(), the command table, what commands share,
 * and the commands of users, tokens, the audit trail and the first run. */
#include "admin.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "log.h"
#include "manager.h"

#define PROG "clientes-admin"

struct admin {
    struct config cfg;
    struct accounts_config accounts;
    struct principal operator;
    struct store *store;
};

static struct admin_commands *tables;

void admin_register(struct admin_commands *c)
{
    struct admin_commands **p = &tables;

    while (*p && (*p)->order <= c->order)
        p = &(*p)->next;
    c->next = *p;
    *p = c;
}

const struct config *admin_config(const struct admin *a)
{
    return &a->cfg;
}

const struct accounts_config *admin_accounts(const struct admin *a)
{
    return &a->accounts;
}

const struct principal *admin_operator(const struct admin *a)
{
    return &a->operator;
}

int admin_fail(const char *fmt, ...)
{
    char msg[900];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    wlog(WLOG_ERROR, "%s", msg);
    return ADMIN_FAILED;
}

int admin_store_fail(struct admin *a, enum cl_err e, const char *what)
{
    const char *detail = a->store ? store_errmsg(a->store) : "";

    return admin_fail("%s: %s%s%s", what, cl_strerror(e), *detail ? ": " : "", detail);
}

struct store *admin_store(struct admin *a)
{
    static struct audit_actor cli = {.actor = "cli", .request_id = NULL, .client_addr = NULL};
    char err[512], clean[512], shown[CONFIG_URL_MAX];

    if (a->store)
        return a->store;
    if (store_open(a->cfg.database_url, &a->store, err, sizeof(err)) != CL_OK) {
        config_redact(a->cfg.database_url, shown, sizeof(shown));
        admin_fail("DATABASE_URL %s: %s", shown, config_redact(err, clean, sizeof(clean)));
        return NULL;
    }
    store_set_actor(a->store, &cli);
    return a->store;
}

int admin_usage(const struct admin_command *cmd)
{
    fprintf(stderr, "usage: " PROG " %s%s%s\n", cmd->name, *cmd->args ? " " : "", cmd->args);
    return ADMIN_USAGE;
}

int admin_args(const struct admin_command *cmd, int argc, char **argv, const char **pos, int min,
               int max, const struct admin_option *opts)
{
    int n = 0;

    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const struct admin_option *o;
        if (strncmp(arg, "--", 2) != 0 || strcmp(arg, "--") == 0) {
            if (strcmp(arg, "--") == 0 && ++i >= argc)
                break;
            if (n == max)
                return admin_usage(cmd);
            pos[n++] = argv[i];
            continue;
        }
        for (o = opts; o && o->name; o++) {
            size_t len = strlen(o->name);
            if (strncmp(arg, o->name, len) != 0)
                continue;
            if (o->flag) {
                if (arg[len] != '\0')
                    continue;
                *o->value = "yes";
                break;
            }
            if (arg[len] == '=') {
                *o->value = arg + len + 1;
                break;
            }
            if (arg[len] == '\0') {
                if (i + 1 >= argc)
                    return admin_usage(cmd);
                *o->value = argv[++i];
                break;
            }
        }
        if (!o || !o->name) {
            fprintf(stderr, PROG ": unknown option %s\n", arg);
            return admin_usage(cmd);
        }
    }
    return n < min ? admin_usage(cmd) : 0;
}

/* One line of fd 0: on a terminal (hide) without echo, after `prompt` on
 * stderr, which comes once the echo is off, so nothing typed after it
 * shows; otherwise as it comes. */
static long read_line(char *buf, size_t cap, bool hide, const char *prompt)
{
    struct termios old, quiet;
    bool restore = false;
    size_t n = 0;

    if (hide && tcgetattr(STDIN_FILENO, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
    if (hide) {
        fprintf(stderr, "%s: ", prompt);
        fflush(stderr);
    }
    for (;;) {
        char c;
        ssize_t r = read(STDIN_FILENO, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || c == '\n')
            break;
        if (n + 1 < cap)
            buf[n] = c;
        n++; /* counted past the end: too long is refused, never cut */
    }
    if (restore) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (n + 1 >= cap)
        return -2;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    return (long)n;
}

long admin_read_password(const char *prompt, char *buf, size_t cap)
{
    bool tty = isatty(STDIN_FILENO);
    char again[ACCOUNT_PASSWORD_MAX_BYTES + 2];
    long n, m;

    n = read_line(buf, cap, tty, prompt);
    if (n == -2) {
        admin_fail("the password is longer than %d characters", ACCOUNT_PASSWORD_MAX);
        return -1;
    }
    if (n <= 0) {
        admin_fail("no password given (%s)", tty ? "empty" : "one line on stdin");
        return -1;
    }
    if (!tty)
        return n;
    m = read_line(again, sizeof(again), true, "Again");
    if (m != n || memcmp(again, buf, (size_t)n) != 0) {
        explicit_bzero(again, sizeof(again));
        admin_fail("the two passwords differ");
        return -1;
    }
    explicit_bzero(again, sizeof(again));
    return n;
}

/* ---- users ------------------------------------------------------------ */

static int role_arg(const char *s, enum role *r)
{
    if (!s || role_parse(s, r) != CL_OK) {
        admin_fail("role must be reader, editor or admin, not '%s'", s ? s : "");
        return -1;
    }
    return 0;
}

/* The exit status of a call on user `name`. */
static int user_result(struct admin *a, enum cl_err e, const char *name, const char *reason,
                       const char *what)
{
    switch (e) {
    case CL_OK:
        return ADMIN_OK;
    case CL_NOT_FOUND:
        return admin_fail("no user '%s'", name);
    case CL_EXISTS:
        return admin_fail("user '%s' exists already", name);
    case CL_INVALID:
        return admin_fail("%s: refused: %s", what, reason ? reason : "invalid");
    default:
        return admin_store_fail(a, e, what);
    }
}

static int cmd_user_add(struct admin *a, const struct admin_command *cmd, int argc, char **argv)
{
    const char *pos[1], *role_s = NULL, *reason = NULL;
    struct admin_option opts[] = {{"--role", &role_s, false}, {NULL, NULL, false}};
    char pw[ACCOUNT_PASSWORD_MAX_BYTES + 2], prompt[128];
    struct store *s;
    enum role role;
    enum cl_err e;
    long n;
    int st;

    if ((st = admin_args(cmd, argc, argv, pos, 1, 1, opts)))
        return st;
    if (!role_s)
        return admin_usage(cmd);
    if (role_arg(role_s, &role) || accounts_name_check(pos[0], &reason))
        return reason ? admin_fail("%s", reason) : ADMIN_FAILED;
    if (!(s = admin_store(a)))
        return ADMIN_FAILED;
    snprintf(prompt, sizeof(prompt), "Password for %s", pos[0]);
    if ((n = admin_read_password(prompt, pw, sizeof(pw))) < 0)
        return ADMIN_FAILED;
    e = accounts_user_add(s, &a->accounts, pos[0], role, pw, (size_t)n, &reason);
    explicit_bzero(pw, sizeof(pw));
    return user_result(a, e, pos[0], reason, "adding the user");
}

static int cmd_user_passwd(struct admin *a, const struct admin_command *cmd, int argc,
                           char **argv)
{
    char pw[ACCOUNT_PASSWORD_MAX_BYTES + 2], prompt[128];
    const char *pos[1], *reason = NULL;
    struct store *s;
    struct user u;
    enum cl_err e;
    long n;
    int st;

    if ((st = admin_args(cmd, argc, argv, pos, 1, 1, NULL)))
        return st;
    if (!(s = admin_store(a)))
        return ADMIN_FAILED;
    if ((e = accounts_user_get(s, pos[0], &u))) /* before asking for a password */
        return user_result(a, e, pos[0], NULL, "reading the user");
    snprintf(prompt, sizeof(prompt), "New password for %s", pos[0]);
    if ((n = admin_read_password(prompt, pw, sizeof(pw))) < 0)
        return ADMIN_FAILED;
    e = accounts_user_passwd(s, &a->accounts, pos[0], pw, (size_t)n, &reason);
    explicit_bzero(pw, sizeof(pw));
    return user_result(a, e, pos[0], reason, "setting the password");
}

static int cmd_user_role(struct admin *a, const struct admin_command *cmd, int argc, char **argv)
{
    const char *pos[2];
    struct store *s;
    enum role role;
    int st;

    if ((st = admin_args(cmd, argc, argv, pos, 2, 2, NULL)))
        return st;
    if (role_arg(pos[1], &role))
        return ADMIN_FAILED;
    if (!(s = admin_store(a)))
        return ADMIN_FAILED;
    return user_result(a, accounts_user_role(s, &a->accounts, pos[0], role), pos[0], NULL,
                       "setting the role");
}

static int set_disabled(struct admin *a, const struct admin_command *cmd, int argc, char **argv,
                        bool disabled)
{
    const char *pos[1];
    struct store *s;
    int st;

    if ((st = admin_args(cmd, argc, argv, pos, 1, 1, NULL)))
        return st;
    if (!(s = admin_store(a)))
        return ADMIN_FAILED;
    return user_result(a, accounts_user_disable(s, &a->accounts, pos[0], disabled), pos[0], NULL,
                       disabled ? "disabling the user" : "enabling the user");
}

static int cmd_user_disable(struct admin *a, const struct admin_command *cmd, int argc,
                            char **argv)
{
    return set_disabled(a, cmd, argc, argv, true);
}

static int cmd_user_enable(struct admin *a, const struct admin_command *cmd, int argc,
                           char **argv)
{
    return set_disabled(a, cmd, argc, argv, false);
}

static int print_user(const struct user *u, void *ctx)
{
    (void)ctx;
    printf("%s\t%s\t%s\t%s\n", u->name, role_name(u->role), u->disabled ? "disabled" : "active",
           u->creado);
    return 0;
}

static int cmd_user_list(struct admin *a, const struct admin_command *cmd, int argc, char **argv)
{
    struct store *s;
    enum cl_err e;
    int st;

    if ((st = admin_args(cmd, argc, argv, NULL, 0, 0, NULL)))
        return st;
    if (!(s = admin_store(a)))
        return ADMIN_FAILED;
    printf("NAME\tROLE\tSTATE\tCREATED\n");
    if ((e = accounts_user_list(s, print_user, NULL)))
        return admin_store_fail(a, e, "listing the users");
    return ADMIN_OK;
}

/* ---- tokens ----------------------------------------------------------- */

/* "90d", "12h", "15m", "30s" (a number and a unit) as seconds; -1 if not. */
static long long duration(const char *s)
{
    char *end;
    long long n;

    errno = 0;
    n = strtoll(s, &end, 10);
    if (errno || end == s || n <= 0 || n > 36500LL * 86400 || end[0] == '\0' || end[1] != '\0')
        return -1;
    switch (end[0]) {
    case 's': return n;
    case 'm': return n * 60;
    case 'h': return n * 3600;
    case 'd': return n * 86400;
    default: return -1;
    }
}

static int cmd_token_create(struct admin *a, const struct admin_command *cmd, int argc,
                            char **argv)
{
    const char *pos[1], *role_s = NULL, *user = NULL, *days = NULL, *in = NULL, *reason = NULL;
    struct admin_option opts[] = {{"--role", &role_s, false},
                                  {"--user", &user, false},
                                  {"--expires-days", &days, false},
                                  {"--expires-in", &in, false},
                                  {NULL, NULL, false}};
    char token[TOKEN_TEXT_LEN + 1];
    long long expires = 0;
    struct store *s;
    enum role role;
    enum cl_err e;
    int st;

    if ((st = admin_args(cmd, argc, argv, pos, 1, 1, opts)))
        return st;
    if (!role_s || (days && in))
        return admin_usage(cmd);
    if (role_arg(role_s, &role))
        return ADMIN_FAILED;
    if (days) {
        char *end;
        long long d = strtoll(days, &end, 10);
        if (*end || end == days || d < 1 || d > 36500)
            return admin_fail("--expires-days must be 1..36500, not '%s'", days);
        expires = d * 86400;
    }
    if (in && (expires = duration(in)) < 0)
        return admin_fail("--expires-in must be a number and s, m, h or d (90d), not '%s'", in);
    if (!(s = admin_store(a)))
        return ADMIN_FAILED;
    e = accounts_token_create(s, &a->accounts, &a->operator, pos[0], role, user, expires, token,
                              NULL, &reason);
    if (e == CL_NOT_FOUND)
        return admin_fail("no user '%s'", user);
    if (e == CL_INVALID)
        return admin_fail("%s", reason ? reason : "invalid");
    if (e)
        return admin_store_fail(a, e, "creating the token");
    printf("%s\n", token); /* all there is on stdout: T=$(clientes-admin token create ...) */
    explicit_bzero(token, sizeof(token));
    return fflush(stdout) == 0 ? ADMIN_OK : admin_fail("cannot write the token: %s",
                                                       strerror(errno));
}

/* A unix time as "2026-12-01T11:35:09Z", or "-" for 0. */
static const char *unix_text(long long t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (t <= 0 || !gmtime_r(&tt, &tm) || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return "-";
    return buf;
}

static int print_token(const struct token *t, void *ctx)
{
    long long now = *(const long long *)ctx;
    char exp[32], used[32];
    const char *state = t->revoked                          ? "revoked"
                        : t->expires && now >= t->expires   ? "expired"
                        : t->owner_disabled                 ? "owner-disabled"
                                                            : "active";

    printf("%lld\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t->id, t->label, role_name(t->role),
           t->user_id ? t->owner : "-", t->creado, unix_text(t->expires, exp, sizeof(exp)),
           unix_text(t->last_used, used, sizeof(used)), state);
    return 0;
}

static int cmd_token_list(struct admin *a, const struct admin_command *cmd, int argc,
                          char **argv)
{
    long long now = accounts_now(&a->accounts);
    struct store *s;
    enum cl_err e;
    int st;

    if ((st = admin_args(cmd, argc, argv, NULL, 0, 0, NULL)))
        return st;
    if (!(s = admin_store(a)))
        return ADMIN_FAILED;
    printf("ID\tLABEL\tROLE\tOWNER\tCREATED\tEXPIRES\tLAST_USED\tSTATE\n");
    if ((e = accounts_token_list(s, print_token, &now)))
        return admin_store_fail(a, e, "listing the tokens");
    return ADMIN_OK;
}

static int cmd_token_revoke(struct admin *a, const struct admin_command *cmd, int argc,
                            char **argv)
{
    const char *pos[1];
    struct store *s;
    long long id;
    char *end;
    enum cl_err e;
    int st;

    if ((st = admin_args(cmd, argc, argv, pos, 1, 1, NULL)))
        return st;
    id = strtoll(pos[0], &end, 10);
    if (*end || end == pos[0] || id <= 0)
        return admin_fail("a token id is a positive number (token list), not '%s'", pos[0]);
    if (!(s = admin_store(a)))
        return ADMIN_FAILED;
    e = accounts_token_revoke(s, &a->accounts, &a->operator, id);
    if (e == CL_NOT_FOUND)
        return admin_fail("no token %lld that is not revoked already", id);
    return e ? admin_store_fail(a, e, "revoking the token") : ADMIN_OK;
}

/* ---- the audit trail -------------------------------------------------- */

#define AUDIT_PAGE 1000

struct audit_print {
    long long last_id;
    long long n;     /* rows of this page */
    long long total; /* rows printed */
    long long limit; /* 0: all */
};

static int print_audit(const struct audit_view *r, void *ctx)
{
    struct audit_print *p = ctx;

    if (p->limit && p->total >= p->limit)
        return 1;
    printf("%lld\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r->id, r->at, r->actor, r->action,
           r->target ? r->target : "-", r->changes ? r->changes : "-",
           r->request_id ? r->request_id : "-", r->client_addr ? r->client_addr : "-");
    p->last_id = r->id;
    p->n++;
    p->total++;
    return 0;
}

/* A date or the start of an RFC 3339 time: digits and -, T, :, ., Z. */
static bool since_ok(const char *s)
{
    if (strlen(s) < 4 || strlen(s) > STORE_TIME_LEN)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || strchr("-T:.Z", *s)))
            return false;
    return true;
}

static int cmd_audit(struct admin *a, const struct admin_command *cmd, int argc, char **argv)
{
    const char *mail = NULL, *since = NULL, *limit_s = NULL;
    struct admin_option opts[] = {
        {"--client", &mail, false}, {"--since", &since, false}, {"--limit", &limit_s, false}, {NULL, NULL, false}};
    struct audit_print p = {0};
    struct audit_query q;
    struct store *s;
    enum cl_err e = CL_OK;
    int st;

    if ((st = admin_args(cmd, argc, argv, NULL, 0, 0, opts)))
        return st;
    if (since && !since_ok(since))
        return admin_fail("--since takes a date (2026-12-01) or a UTC time, not '%s'", since);
    if (limit_s) {
        char *end;
        p.limit = strtoll(limit_s, &end, 10);
        if (*end || end == limit_s || p.limit < 1)
            return admin_fail("--limit takes a positive number, not '%s'", limit_s);
    }
    if (!(s = admin_store(a)))
        return ADMIN_FAILED;
    printf("ID\tAT\tACTOR\tACTION\tTARGET\tCHANGES\tREQUEST_ID\tADDRESS\n");
    do { /* newest first, a page at a time */
        long long before = p.last_id;
        p.n = 0;
        if (mail) {
            e = manager_history(s, mail, before, AUDIT_PAGE, print_audit, &p);
            if (e == CL_NOT_FOUND && p.total == 0)
                return admin_fail("no client '%s' and no audit row of one", mail);
            if (e == CL_INVALID)
                return admin_fail("--client: '%s' is not a mail", mail);
        } else {
            memset(&q, 0, sizeof(q));
            q.since = since;
            q.before_id = before;
            q.limit = AUDIT_PAGE;
            e = manager_audit(s, &q, print_audit, &p);
        }
        if (e && e != CL_NOT_FOUND)
            return admin_store_fail(a, e, "reading the audit trail");
    } while (p.n == AUDIT_PAGE && !(p.limit && p.total >= p.limit));
    return ADMIN_OK;
}

/* ---- the first run ---------------------------------------------------- */

/* bin/run, at every start: on a new store that nobody can use yet (no user,
 * no token), a token for the person who just started it, shown once. */
static int cmd_first_run(struct admin *a, const struct admin_command *cmd, int argc,
                         char **argv)
{
    char token[TOKEN_TEXT_LEN + 1];
    const char *reason = NULL;
    struct store *s;
    bool unused = false;
    enum cl_err e;
    int st;

    if ((st = admin_args(cmd, argc, argv, NULL, 0, 0, NULL)))
        return st;
    if (!(s = admin_store(a)))
        return ADMIN_FAILED;
    if ((e = accounts_unused(s, &unused)))
        return admin_store_fail(a, e, "reading the users");
    if (!unused)
        return ADMIN_OK;
    e = accounts_token_create(s, &a->accounts, &a->operator, "primer-arranque", ROLE_ADMIN, NULL,
                              86400, token, NULL, &reason);
    if (e)
        return e == CL_INVALID ? admin_fail("%s", reason) : admin_store_fail(a, e, "the token");
    printf("\nThis store is new and has no user yet. An admin token for the next 24 hours,\n"
           "shown only now:\n\n"
           "  export CLIENTES_TOKEN=%s\n"
           "  curl -H \"Authorization: Bearer $CLIENTES_TOKEN\" http://localhost:%d/clientes\n\n"
           "To keep using the service, create your own admin and token (README, \"First run\"):\n"
           "  bin/clientes-admin user add NAME --role admin\n"
           "  bin/clientes-admin token create LABEL --role editor\n\n",
           token, a->cfg.port);
    explicit_bzero(token, sizeof(token));
    return fflush(stdout) == 0 ? ADMIN_OK : ADMIN_FAILED;
}

static const struct admin_command account_commands[] = {
    {"user add", "NAME --role ROLE",
     "add a user (password from stdin, or asked twice on a terminal)", cmd_user_add},
    {"user passwd", "NAME", "set a user's password (as for user add)", cmd_user_passwd},
    {"user role", "NAME ROLE", "set a user's role: reader, editor or admin", cmd_user_role},
    {"user disable", "NAME", "disable a user: no login, their sessions and tokens stop",
     cmd_user_disable},
    {"user enable", "NAME", "enable a disabled user again", cmd_user_enable},
    {"user list", "", "list the users", cmd_user_list},
    {"token create", "LABEL --role ROLE [--user NAME] [--expires-days N | --expires-in 12h]",
     "create an API token and print it (only it, shown once)", cmd_token_create},
    {"token list", "", "list the tokens (never their secrets)", cmd_token_list},
    {"token revoke", "ID", "revoke a token: refused from its next request on", cmd_token_revoke},
    {"audit", "[--client MAIL] [--since DATE] [--limit N]",
     "print the audit trail, newest first", cmd_audit},
    {"first-run", "", "bin/run: on a store nobody can use yet, print a 24-hour admin token",
     cmd_first_run},
};
ADMIN_COMMANDS(account_commands, 10)

/* ---- main ------------------------------------------------------------- */

static void help(FILE *out)
{
    fputs("usage: " PROG " COMMAND [ARGS]\n\n"
          "The operator's command over the store of DATABASE_URL (the service's own\n"
          "configuration; see README). Exit status: 0 done, 1 refused or failed, 2 usage.\n\n",
          out);
    for (const struct admin_commands *t = tables; t; t = t->next)
        for (size_t i = 0; i < t->n; i++) {
            const struct admin_command *c = &t->rows[i];
            fprintf(out, "  %s%s%s\n      %s\n", c->name, *c->args ? " " : "", c->args,
                    c->summary);
        }
}

/* The command whose words begin argv; *words: how many. */
static const struct admin_command *lookup(int argc, char **argv, int *words)
{
    for (const struct admin_commands *t = tables; t; t = t->next)
        for (size_t i = 0; i < t->n; i++) {
            const char *name = t->rows[i].name;
            int w = 0;
            bool ok = true;
            while (*name && ok) {
                size_t len = strcspn(name, " ");
                ok = w < argc && strlen(argv[w]) == len && memcmp(argv[w], name, len) == 0;
                name += len;
                name += *name == ' ';
                w++;
            }
            if (ok) {
                *words = w;
                return &t->rows[i];
            }
        }
    return NULL;
}

int main(int argc, char **argv)
{
    static struct admin a;
    struct auth_settings as;
    const struct admin_command *cmd;
    char err[512];
    int words = 0, rc;

    wlog_init(PROG, WLOG_INFO);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        help(argc < 2 ? stderr : stdout);
        return argc < 2 ? ADMIN_USAGE : ADMIN_OK;
    }
    if (!(cmd = lookup(argc - 1, argv + 1, &words))) {
        fprintf(stderr, PROG ": unknown command '%s' (" PROG " --help)\n", argv[1]);
        return ADMIN_USAGE;
    }
    for (int i = 1 + words; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: " PROG " %s%s%s\n  %s\n", cmd->name, *cmd->args ? " " : "", cmd->args,
                   cmd->summary);
            return ADMIN_OK;
        }
    if (config_load(&a.cfg, err, sizeof(err)) != 0)
        return admin_fail("%s", err);
    setenv("TZ", a.cfg.tz, 1);
    tzset();
    if (account_init() != CL_OK)
        return admin_fail("libsodium cannot start (no usable random source)");
    auth_settings_from(&a.cfg, 1, &as);
    a.accounts = as.accounts;
    principal_operator(&a.operator);
    rc = cmd->run(&a, cmd, argc - 1 - words, argv + 1 + words);
    store_close(a.store);
    return rc;
}
