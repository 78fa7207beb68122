#!/usr/bin/env python3
"""test_readme.py - the README's curl examples, run in order against a fresh
stack, print exactly the answers the README shows: the README stays true.
The token they use ($CLIENTES_TOKEN) is the one the first run prints
(`clientes-admin first-run`, as bin/run runs it), through the lines the
README tells a newcomer to copy."""
import os
import re
import shlex
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402
from stack import StackTestCase  # noqa: E402

README = os.path.join(stack.ROOT, "README.md")


def examples():
    """(command, expected output) for every `$ curl ...` line of the README's
    sh blocks, in order; the expected output is the line that follows."""
    text = open(README, encoding="utf-8").read()
    out = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        lines = block.split("\n")
        for i, line in enumerate(lines):
            if line.startswith("$ curl"):
                out.append((line[2:], lines[i + 1]))
    return out


def first_run_token(st, readme):
    """The token the first run prints, after checking that its output has
    the two lines the README shows (the token elided there)."""
    out = st.admin("first-run").stdout
    m = re.search(r"^  export CLIENTES_TOKEN=(clt_[0-9a-f]{64})$", out, re.M)
    if not m:
        raise AssertionError("first-run printed no token: %r" % out)
    shown = re.search(r"^  export CLIENTES_TOKEN=clt_5f0c…\n(  curl .*)$", readme, re.M)
    if not shown:
        raise AssertionError("README lost the first run's lines")
    curl = shown.group(1).replace("localhost:8080", "localhost:%d" % st.port)
    if curl not in out.splitlines():
        raise AssertionError("first-run does not print README's %r: %r" % (curl, out))
    return m.group(1)


class ReadmeExamples(StackTestCase):
    stack_kwargs = {"credentials": None}  # the newcomer's: nothing until the first run

    def test_examples_answer_as_documented(self):
        cases = examples()
        self.assertGreaterEqual(len(cases), 10, "README lost its curl examples")
        token = first_run_token(self.stack, open(README, encoding="utf-8").read())
        # a second start prints nothing: the store has a token now
        self.assertEqual(self.stack.admin("first-run").stdout, "")
        for cmd, expected in cases:
            argv = [a.replace("localhost:8080", "127.0.0.1:%d" % self.stack.port)
                    .replace("$CLIENTES_TOKEN", token)
                    for a in shlex.split(cmd)]
            got = subprocess.run(argv, capture_output=True, timeout=20).stdout
            self.assertEqual(got.decode("utf-8").strip(), expected, cmd)


if __name__ == "__main__":
    stack.main()
