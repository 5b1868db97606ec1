#!/usr/bin/env python3
"""Selects tests by Swift Testing tag, for scripts/test.sh.

`swift test --filter` takes regular expressions over test IDs and nothing else (Swift 6.3:
`--filter tag:unit` matches no test), so this reads the tags from the test listing and turns
a tag into the regular expressions that select exactly the tests carrying it.

    test-selection.py LISTING check      fails unless every test has exactly one phase tag
    test-selection.py LISTING PHASE      prints one `--filter` pattern per line:
                                         the tests of PHASE, less those tagged `timing`
    test-selection.py LISTING timing     the tests tagged `timing`, whatever their phase

LISTING is the JSON-lines event stream of the test binary run with `--list-tests`
(see scripts/test.sh). A test's tags are its own and those of the suites around it.
"""
import json
import re
import sys

PHASES = ["unit", "memoryBounds", "integration", "fault"]
KNOWN = set(PHASES) | {"timing"}


def load(path):
    suites, functions = {}, {}
    with open(path) as f:
        for line in f:
            record = json.loads(line)
            if record.get("kind") != "test":
                continue
            test = record["payload"]
            tags = {t.lstrip(".") for t in test.get("_tags", [])}
            if test["kind"] == "suite":
                suites[test["id"]] = tags
            else:
                functions[test["id"]] = tags
    if not functions:
        sys.exit("test-selection: the listing names no test")
    return suites, functions


def suite_path(function_id):
    """The IDs of the suites around a function, outermost first.

    A function's ID is `Module.Suite/Inner/name()/File.swift:line:column`."""
    parts = function_id.split("/")[:-2]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def effective_tags(suites, functions):
    result = {}
    for fid, tags in functions.items():
        tags = set(tags)
        for sid in suite_path(fid):
            tags |= suites.get(sid, set())
        result[fid] = tags
    return result


def check(tags_by_test):
    problems = []
    for fid, tags in sorted(tags_by_test.items()):
        unknown = tags - KNOWN
        phases = tags & set(PHASES)
        if unknown:
            problems.append(f"{fid}: unknown tag(s) {sorted(unknown)} (known: {sorted(KNOWN)})")
        if len(phases) != 1:
            problems.append(f"{fid}: {len(phases)} phase tags {sorted(phases)}; give its suite exactly one of {PHASES}")
    if problems:
        sys.exit("test-selection: every test needs exactly one phase tag\n  " + "\n  ".join(problems))


def patterns(selected, all_tests):
    """The fewest anchored patterns that match `selected` and nothing else: a whole
    top-level suite when all its tests are selected, else each test by its full ID."""
    by_top = {}
    for fid in all_tests:
        by_top.setdefault(fid.split("/")[0], []).append(fid)
    out = []
    for top, members in sorted(by_top.items()):
        chosen = [fid for fid in members if fid in selected]
        if not chosen:
            continue
        if len(chosen) == len(members):
            out.append("^" + re.escape(top) + "(/|$)")
        else:
            out.extend("^" + re.escape(fid) + "$" for fid in sorted(chosen))
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    listing, what = sys.argv[1], sys.argv[2]
    suites, functions = load(listing)
    tags_by_test = effective_tags(suites, functions)
    check(tags_by_test)
    if what == "check":
        return
    if what == "timing":
        selected = {fid for fid, tags in tags_by_test.items() if "timing" in tags}
    elif what in PHASES:
        selected = {fid for fid, tags in tags_by_test.items() if what in tags and "timing" not in tags}
    else:
        sys.exit(f"test-selection: unknown selection {what!r}; one of check, timing, {', '.join(PHASES)}")
    for pattern in patterns(selected, tags_by_test):
        print(pattern)


if __name__ == "__main__":
    main()
