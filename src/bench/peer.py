"""The Python side of the benchmarks' peer protocol (dev.jdetect.examples.bench.PythonPeer).

* The Java benchmark runs ``/usr/bin/python3 src/bench/<peer>.py --dir DIR <options>``; DIR is the
  exchange folder both sides share.
* Arrays travel as ``DIR/<name>.npz`` files, each array under its name (``load`` / ``save``).
* The peer answers with one JSON object, the last line of its standard output (``reply``);
  everything else goes to standard error (``log``), which the benchmark forwards.
* Exit code 0 means success.
"""

import argparse
import json
import os
import sys

import numpy as np


def parser(doc):
    """An argument parser with the protocol's ``--dir``; ``doc`` is the peer's docstring."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", required=True, help="exchange folder shared with the Java benchmark")
    return p


def path(directory, name):
    return os.path.join(directory, name + ".npz")


def load(directory, name):
    """The arrays of ``DIR/<name>.npz`` as a dict of numpy arrays."""
    with np.load(path(directory, name)) as f:
        return {k: f[k] for k in f.files}


def save(directory, name, arrays):
    """Writes a dict of numpy arrays as ``DIR/<name>.npz``."""
    np.savez(path(directory, name), **arrays)


def log(*values):
    print(*values, file=sys.stderr, flush=True)


def reply(answer):
    """Prints the answer, one JSON object, as the last line of standard output."""
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
