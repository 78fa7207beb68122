#!/usr/bin/env python3
"""etags.py - the ETags tests/bench/v1_patch.lua sends in If-Match.

    tests/bench/etags.py FILE PORT SET     (BENCH_TOKEN: the API token)

FILE holds "k version" lines for clients c000001..c<SET>@bench.es; each one
missing (the first run, or a PATCH whose answer was still in flight when
wrk stopped) is read with GET /v1/clientes/{mail} and added, as a client
does before it changes a record.  Prints how many were read.
"""
import http.client
import os
import sys


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: etags.py FILE PORT SET\n")
        return 2
    path, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    known = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                k, _, v = line.partition(" ")
                if v.strip():
                    known[int(k)] = v.strip()
    headers = {"Authorization": "Bearer " + os.environ["BENCH_TOKEN"]}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    read = 0
    for k in range(1, n + 1):
        if k in known:
            continue
        conn.request("GET", "/v1/clientes/c%06d%%40bench.es" % k, headers=headers)
        r = conn.getresponse()
        r.read()
        etag = r.getheader("ETag") or ""
        if r.status != 200 or not etag.startswith('"'):
            sys.stderr.write("etags.py: client %d: %d %s\n" % (k, r.status, etag))
            return 1
        known[k] = etag.strip('"')
        read += 1
    with open(path + ".tmp", "w") as f:
        f.writelines("%d %s\n" % kv for kv in sorted(known.items()))
    os.replace(path + ".tmp", path)
    print(read)
    return 0


if __name__ == "__main__":
    sys.exit(main())
