"""Shared by the Python side of qbench: finds interop/demoapp.py (the Celery app whose tasks
mirror qworker's demo tasks, including demo.noop) and prints results as one JSON line."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))


def emit(**fields):
    """The last line of output is the result qbench reads."""
    print(json.dumps(fields), flush=True)
