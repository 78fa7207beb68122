#!/usr/bin/env python3
"""report.py - bin/bench's tables, from the runs it recorded.

    report.py row RAW ID CONNS     the lines of one scenario, as it ends
    report.py final RAW FACTS      the final table, the facts, the targets

RAW holds one tab-separated line per wrk run:
    id  name  conns  round  label  rps  p50_ms  p99_ms  errors
where label is a reference (nginx, hello_close, hello_keep, json) or what
was measured (sqlite, pg, sqlite_p1, pg_p5000, pg_one, pg_two, ...).  In a
round the references run first, right before what they are the reference
of.  Ratios are the medians of the per-round ratios (a noisy minute hits
both sides of a ratio alike); req/s, p50 and p99 are medians over rounds,
errors their sum.  FACTS holds "key<TAB>value" lines (times, sizes, RSS).
"""
import statistics
import sys
from collections import OrderedDict

REFS = ("nginx", "hello_close", "hello_keep", "json")
SHOWN = {
    "nginx": "nginx `return 200`",
    "hello_close": "hello, a connection per request",
    "hello_keep": "hello, kept-alive",
    "json": "json-server",
    "sqlite": "SQLite",
    "pg": "PostgreSQL",
    "pg_one": "PostgreSQL, one stack",
    "pg_two": "PostgreSQL, two stacks at once",
}


def shown(label):
    if label in SHOWN:
        return SHOWN[label]
    base, _, page = label.partition("_p")
    return "%s, page %s" % (SHOWN.get(base, base), page)


def partner(label):
    """What a label is compared with besides its reference."""
    if label == "pg":
        return "sqlite"
    if label == "pg_two":
        return "pg_one"
    if "_p" in label and not label.endswith("_p1"):
        return label.split("_p")[0] + "_p1"
    if label.startswith("pg_p"):
        return "sqlite" + label[2:]
    return None


def load(raw):
    rows = OrderedDict()  # (id, conns) -> {"name", "runs": {label: {round: (rps, p50, p99, err)}}}
    with open(raw) as f:
        for line in f:
            rid, name, conns, rnd, label, rps, p50, p99, err = line.rstrip("\n").split("\t")
            row = rows.setdefault((rid, int(conns)), {"name": name, "runs": OrderedDict()})
            row["runs"].setdefault(label, {})[int(rnd)] = (float(rps), float(p50), float(p99), int(err))
    return rows


def med(xs):
    return statistics.median(xs) if xs else float("nan")


class Row:
    def __init__(self, rid, conns, row):
        self.id, self.conns, self.name, self.runs = rid, conns, row["name"], row["runs"]
        self.labels = list(self.runs)
        refs = [lb for lb in self.labels if lb in REFS]
        self.ref = "hello_keep" if "hello_keep" in refs else (refs[0] if refs else None)

    def has(self, label):
        return label in self.runs

    def stat(self, label, i):
        return med([v[i] for v in self.runs[label].values()])

    def rps(self, label):
        return self.stat(label, 0)

    def p50(self, label):
        return self.stat(label, 1)

    def p99(self, label):
        return self.stat(label, 2)

    def errors(self, label):
        return sum(v[3] for v in self.runs[label].values())

    def ratio(self, a, b, i=0):
        """Median over rounds of a's figure i over b's in the same round."""
        ra, rb = self.runs.get(a, {}), self.runs.get(b, {})
        return med([ra[r][i] / rb[r][i] for r in ra if r in rb and rb[r][i] > 0])


def rows_of(raw):
    return [Row(rid, c, row) for (rid, c), row in load(raw).items()]


def find(rows, rid, conns):
    for r in rows:
        if r.id == rid and r.conns == conns:
            return r
    return None


def fmt(x, nd=0):
    if x != x:  # nan
        return "-"
    return "{:,.{}f}".format(x, nd).replace(",", " ")


def print_row(row):
    print("%s, %d connections" % (row.name, row.conns))
    for lb in row.labels:
        extra = []
        if lb in REFS:
            if lb != "nginx" and row.has("nginx"):
                extra.append("%.3f x nginx" % row.ratio(lb, "nginx"))
        else:
            if row.ref:
                extra.append("%.3f x %s" % (row.ratio(lb, row.ref), shown(row.ref)))
            p = partner(lb)
            if p and row.has(p):
                extra.append("%.3f x %s" % (row.ratio(lb, p), shown(p)))
        print("  %-36s %9s req/s  p50 %7.3f  p99 %8.3f ms  %5d err   %s" % (
            shown(lb), fmt(row.rps(lb)), row.p50(lb), row.p99(lb), row.errors(lb), "; ".join(extra)))
    sys.stdout.flush()


def load_facts(path):
    facts = OrderedDict()
    with open(path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            facts[k] = v
    return facts


def final(raw, facts_path):
    rows = rows_of(raw)
    facts = load_facts(facts_path)

    print("| scenario | store | req/s | p50 ms | p99 ms | errors | reference (req/s) | ratio | vs |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        for lb in row.labels:
            if lb in REFS:
                if row.id != "cliente":
                    continue  # a reference shows once per connection count, with GET /cliente
                store, ref = "reference", "nginx" if lb != "nginx" else None
            else:
                store, ref = shown(lb), row.ref
            p = None if lb in REFS else partner(lb)
            print("| %s, c%d | %s | %s | %.3f | %.3f | %d | %s | %s | %s |" % (
                row.name if lb not in REFS else shown(lb), row.conns, store, fmt(row.rps(lb)),
                row.p50(lb), row.p99(lb), row.errors(lb),
                "%s (%s)" % (shown(ref), fmt(row.rps(ref))) if ref else "-",
                "%.3f" % row.ratio(lb, ref) if ref else "-",
                "%.3f x %s" % (row.ratio(lb, p), shown(p)) if p and row.has(p) else ""))
    print()
    for k, v in facts.items():
        print("%-44s %s" % (k, v))
    print()
    targets(rows, facts)


def verdict(ok):
    return "met" if ok else "MISSED"


def targets(rows, facts):
    out = []

    def add(scenario, target, measured, ok):
        out.append((scenario, target, measured, "-" if ok is None else verdict(ok)))

    c16, c256 = find(rows, "cliente", 16), find(rows, "cliente", 256)
    if c16 and c16.has("sqlite"):
        r_hk = c16.ratio("sqlite", "hello_keep")
        r_js = c16.ratio("sqlite", "json")
        p99, err = c16.p99("sqlite"), c16.errors("sqlite")
        add("`GET /cliente` with a token, SQLite, c16", ">= 0.9x kept-alive hello",
            "%.3f" % r_hk, r_hk >= 0.9)
        add("", ">= 7x json-server", "%.2f" % r_js, r_js >= 7)
        add("", "p99 <= 2 ms", "%.3f ms" % p99, p99 <= 2)
        add("", "0 errors", str(err), err == 0)
    if c256 and c256.has("sqlite"):
        k = c256.ratio("sqlite", "nginx", 2)
        add("same, c256", "p99 <= 8x nginx `return 200` p99",
            "%.3f ms = %.1fx (nginx %.3f ms)" % (c256.p99("sqlite"), k, c256.p99("nginx")), k <= 8)
        add("", "0 errors", str(c256.errors("sqlite")), c256.errors("sqlite") == 0)
    for row in (c16, c256):
        if row and row.has("pg"):
            r = row.ratio("pg", "sqlite")
            add("same on PostgreSQL, c%d" % row.conns, ">= 0.6x SQLite; 0 errors",
                "%.3f; %d errors" % (r, row.errors("pg")), r >= 0.6 and row.errors("pg") == 0)

    def vs_cliente(rid, label, want, what):
        for conns in (16, 256):
            row, base = find(rows, rid, conns), find(rows, "cliente", conns)
            if not (row and base and row.has(label) and base.has(label)):
                continue
            # both normalised by the kept-alive hello of their own rounds
            r = row.ratio(label, row.ref) / base.ratio(label, base.ref)
            add("%s, %s, c%d" % (row.name, shown(label), conns), ">= %gx `GET /cliente`" % want,
                "%.3f" % r, r >= want)

    for lb in ("sqlite", "pg"):
        vs_cliente("v1_get", lb, 0.9, "")
    vs_cliente("v1_add", "sqlite", 0.5, "")
    for lb in ("sqlite", "pg"):
        acked, missing = facts.get("POST acknowledged, " + shown(lb)), facts.get("POST missing, " + shown(lb))
        if acked is not None:
            add("`POST /v1/clientes`, %s" % shown(lb), "every acknowledged write present",
                "%s acknowledged, %s missing" % (acked, missing), missing == "0")
    for rid in ("pages_v1", "pages_ui"):
        row = find(rows, rid, 16)
        if not row:
            continue
        for b in ("sqlite", "pg"):
            a, z = b + "_p1", b + "_p5000"
            if row.has(a) and row.has(z):
                r = row.ratio(a, z)
                spread = max(r, 1 / r)
                add("%s, %s: page 1 vs page 5 000" % (row.name, shown(b)), "within 1.2x",
                    "%.3f" % spread, spread <= 1.2)
    for b in ("SQLite", "PostgreSQL"):
        for what in ("GET /clientes", "CSV export"):
            t = facts.get("%s, %s: seconds to the last byte" % (what, b))
            hwm = facts.get("%s, %s: worker peak RSS kB" % (what, b))
            if t is None:
                continue
            add("%s, %s, %s" % (facts.get("the whole list", "the whole list"), what, b), "< 1 s to the last byte; peak RSS < 64 MB",
                "%s s; %s kB" % (t, hwm), float(t) < 1 and int(hwm) < 64 * 1024)

    print("| scenario | target | measured | |")
    print("|---|---|---|---|")
    for s, t, m, v in out:
        print("| %s | %s | %s | %s |" % (s, t, m, v))


def main(argv):
    if len(argv) == 4 and argv[0] == "row":
        row = find(rows_of(argv[1]), argv[2], int(argv[3]))
        if row:
            print_row(row)
        return 0
    if len(argv) == 3 and argv[0] == "final":
        final(argv[1], argv[2])
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
