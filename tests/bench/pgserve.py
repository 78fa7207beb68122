#!/usr/bin/env python3
"""pgserve.py - a throwaway PostgreSQL cluster for bin/bench and bin/soak
(tests/support/pgcluster.py's Cluster), up until this process is told to
stop.

    tests/bench/pgserve.py [--durable] URLFILE NAME...

starts a cluster (--durable: fsync, synchronous_commit and full_page_writes
on, as a production server and Heroku Postgres run; without it the fast,
crash-unsafe settings of the functional tests), makes one empty database per
NAME owned by the application role (ICU en-US, as the tests and Heroku's),
writes their URLs to URLFILE one a line in NAME order (then the superuser's
URL), and waits.  TERM, INT or HUP stops the cluster and removes its
directory; so does the death of this process's parent (checked twice a
second), so no server outlives the script that started it.
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import pgcluster  # noqa: E402


def main(argv):
    durable = "--durable" in argv
    args = [a for a in argv if a != "--durable"]
    if len(args) < 2:
        sys.stderr.write("usage: pgserve.py [--durable] URLFILE NAME...\n")
        return 2
    urlfile, names = args[0], args[1:]
    stop = []
    parent = os.getppid()
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, lambda signum, frame: stop.append(signum))
    with pgcluster.Cluster(durable=durable, max_connections=100) as pg:
        admin = pg.admin_url()
        urls = [pgcluster.new_database(n, admin_url=admin) for n in names]
        tmp = urlfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(urls + [admin]) + "\n")
        os.rename(tmp, urlfile)
        while not stop and os.getppid() == parent:
            time.sleep(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
