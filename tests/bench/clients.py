#!/usr/bin/env python3
"""clients.py - the benchmark's clients as clientes-admin import reads them
(NDJSON, lib/transfer.h): the header line, then clients FROM..TO.

    tests/bench/clients.py FROM TO [DOMAIN] > seed.ndjson
    DATABASE_URL=... bin/clientes-admin import seed.ndjson          # an empty store
    DATABASE_URL=... bin/clientes-admin import more.ndjson --merge  # more

Client k is c%06d@DOMAIN (bench.es): zero-padded, so mail order is number
order and the Lua scripts can name the page of any client (k - 1) / 20 + 1.
Names and surnames with accents, from short lists, so a search (q) has
folded text to match; the number is in the mail and the address only, so
q=c012345 finds exactly one client (a search that must read every key).
"""
import json
import sys

NOMBRES = ["Ana", "José", "Lucía", "Íñigo", "María", "Jesús", "Àlex", "Nerea", "Óscar", "Zoë"]
APELLIDOS = ["García", "Pérez", "Muñoz", "López", "Núñez", "Sáez", "Ibáñez", "Ortega"]


def main():
    if len(sys.argv) not in (3, 4):
        sys.stderr.write("usage: clients.py FROM TO [DOMAIN]\n")
        return 2
    first, last = int(sys.argv[1]), int(sys.argv[2])
    domain = sys.argv[3] if len(sys.argv) == 4 else "bench.es"
    out = sys.stdout
    out.write('{"type":"header","format":"clientes-ndjson","version":1}\n')
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for k in range(first, last + 1):
        out.write(dumps({
            "type": "client",
            "mail": "c%06d@%s" % (k, domain),
            "nombre": NOMBRES[k % len(NOMBRES)],
            "apellidos": "%s %s" % (APELLIDOS[k % len(APELLIDOS)], APELLIDOS[(k // 8) % len(APELLIDOS)]),
            "fecha_nacimiento": "%04d-%02d-%02d" % (1950 + k % 50, 1 + k % 12, 1 + k % 28),
            "direccion": "Calle Mayor %d" % k,
        }) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
