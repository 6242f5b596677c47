#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The project's test suites and pfrag-test's units, for the build and devtools/test.sh.

  list_units.py --suites        'kind suite timeout runs...' per line of test_suites.h
  list_units.py SOURCE...       'name suite flags' per PFRAG_TEST_REGISTER() in SOURCE...

test_suites.h (next to this script) is the one list of suites: the build
declares every test in one of them, and a unit naming another is an error.
"""
import os
import re
import sys

SUITE_LINE = re.compile(r'^\s*X\(\s*(\w+)\s*,\s*"([\w-]+)"\s*,\s*(\d+)\s*,\s*"([\w ]*)"\s*\)', re.M)
PATTERN = re.compile(r'^PFRAG_TEST_REGISTER\(\s*(\w+)\s*,\s*(\w+)\s*,\s*([\w|\s]+?)\s*,',
                     re.M)


def suites():
    """[(kind, meson suite, timeout, [runs])] in the order of test_suites.h."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'test_suites.h')
    with open(path, encoding='utf-8') as f:
        table = [(k, n, int(t), r.split()) for k, n, t, r in SUITE_LINE.findall(f.read())]
    if not table:
        sys.exit(f'{path}: no X(kind, "suite", timeout, "runs") lines')
    return table


def main():
    table = suites()
    if sys.argv[1:2] == ['--suites']:
        for kind, name, timeout, runs in table:
            print(kind, name, timeout, ' '.join(runs))
        return
    names = {kind: name for kind, name, _, _ in table}
    for path in sys.argv[1:]:
        with open(path, encoding='utf-8') as f:
            for name, suite, flags in PATTERN.findall(f.read()):
                if suite not in names:
                    sys.exit(f'{path}: unit {name}: unknown suite {suite}')
                nohuge = 'nohuge' if 'PFRAG_TEST_NOHUGE' in flags else 'huge'
                print(name, names[suite], nohuge)


main()
