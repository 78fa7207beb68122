/* errlog.h - nginx's error-log lines as the supervisor passes them on: the
 * refusal warnings nginx writes once per refused request are recognised (to
 * be counted and summarised), and every other line loses what could be
 * personal data before it reaches the logs. */
#ifndef CLIENTES_ERRLOG_H
#define CLIENTES_ERRLOG_H

enum errlog_refusal {
    ERRLOG_LIMIT_REQ = 0,      /* "limiting requests" (limit_req) */
    ERRLOG_LIMIT_CONN,         /* "limiting connections" (limit_conn) */
    ERRLOG_WORKER_CONNECTIONS, /* "worker_connections are not enough" */
    ERRLOG_REFUSAL_KINDS
};

/* The refusal a line reports (an enum errlog_refusal), or -1 for any other line. */
int errlog_refusal(const char *line);

/* "limiting requests", ...: the words nginx uses, for summaries. */
const char *errlog_refusal_name(int kind);

/* Rewrites one line (no newline) in place, only ever shortening it: the query
 * string of the logged request line goes (`request: "GET /cliente HTTP/1.1"`),
 * the referrer goes, and what a client sent that nginx quotes back ("client
 * sent invalid header line: ...") is cut.  Paths, statuses, addresses and
 * nginx's own words stay. */
void errlog_clean(char *line);

#endif
