#!/usr/bin/env python3
"""test_readme.py - the README's curl examples, run in order against a fresh
stack, print exactly the answers the README shows: the README stays true."""
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


class ReadmeExamples(StackTestCase):
    def test_examples_answer_as_documented(self):
        cases = examples()
        self.assertGreaterEqual(len(cases), 10, "README lost its curl examples")
        for cmd, expected in cases:
            argv = [a.replace("localhost:8080", "127.0.0.1:%d" % self.stack.port)
                    for a in shlex.split(cmd)]
            got = subprocess.run(argv, capture_output=True, timeout=20).stdout
            self.assertEqual(got.decode("utf-8").strip(), expected, cmd)


if __name__ == "__main__":
    stack.main()
