"""ports.py - a TCP port to listen on in a test, standard library only."""
import random
import socket


def free_port(host="0.0.0.0"):
    """A free port above the kernel's ephemeral range: the client sockets of
    the suites running meanwhile (thousands of connections) take their ports
    from that range, and one of them could otherwise take a port picked here
    before the server under test binds it."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            high = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        high = 60999
    for _ in range(200):
        port = random.randint(min(high + 1, 64000), 65535)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
        return port
    raise AssertionError("no free port above the ephemeral range")
