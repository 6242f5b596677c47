#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Turn a meson testlog.json into lines 'PASS|FAIL|SKIP <label>:<unit> [reason]'."""
import json
import sys

label, path = sys.argv[1], sys.argv[2]
KIND = {'OK': 'PASS', 'SKIP': 'SKIP', 'EXPECTEDFAIL': 'PASS'}
with open(path, encoding='utf-8') as f:
    for line in f:
        t = json.loads(line)
        kind = KIND.get(t['result'], 'FAIL')
        reason = ''
        if kind == 'SKIP':
            for out in (t.get('stdout') or '').splitlines():
                if out.startswith('SKIP: '):
                    reason = out[6:]
        elif kind == 'FAIL':
            reason = t['result']
        print(f"{kind} {label}:{t['name']} {reason}".rstrip())
