#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Print 'name suite flags' for every PFRAG_TEST_REGISTER() in the given sources.

The build runs this at configure time to declare one meson test per unit.
"""
import re
import sys

SUITES = {'FAST': 'fast-tests', 'PERF': 'perf-tests', 'STRESS': 'stress-tests',
          'INTEROP': 'interop-tests', 'VM': 'vm-tests'}
PATTERN = re.compile(r'^PFRAG_TEST_REGISTER\(\s*(\w+)\s*,\s*(\w+)\s*,\s*([\w|\s]+?)\s*,',
                     re.M)

for path in sys.argv[1:]:
    with open(path, encoding='utf-8') as f:
        for name, suite, flags in PATTERN.findall(f.read()):
            if suite not in SUITES:
                sys.exit(f'{path}: unit {name}: unknown suite {suite}')
            nohuge = 'nohuge' if 'PFRAG_TEST_NOHUGE' in flags else 'huge'
            print(name, SUITES[suite], nohuge)
