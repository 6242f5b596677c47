#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Turn a meson testlog.json into lines 'PASS|PART|FAIL|SKIP <label>:<unit> [reason]'.

PART is a unit that exited 0 but skipped some of its cases: pfrag-test prints
'PARTIAL SKIP: K of N cases skipped: case (reason), ...' for it. It is not a
plain pass, and devtools/test.sh counts it apart ("partly skipped").
A missing log means the run declared no test: nothing is printed, so an
earlier run's results can never be counted again.
"""
import json
import os
import sys

label, path = sys.argv[1], sys.argv[2]
KIND = {'OK': 'PASS', 'SKIP': 'SKIP', 'EXPECTEDFAIL': 'PASS'}
if not os.path.exists(path):
    sys.exit(0)
with open(path, encoding='utf-8') as f:
    for line in f:
        t = json.loads(line)
        kind = KIND.get(t['result'], 'FAIL')
        reason = ''
        out = (t.get('stdout') or '').splitlines()
        if kind == 'SKIP':
            for o in out:
                if o.startswith('SKIP: '):
                    reason = o[6:]
            if not reason:
                reason = '(the unit gave no reason)'
        elif kind == 'PASS':
            for o in out:
                if o.startswith('PARTIAL SKIP: '):
                    kind, reason = 'PART', o[len('PARTIAL SKIP: '):]
        else:
            reason = t['result']
        print(f"{kind} {label}:{t['name']} {reason}".rstrip())
