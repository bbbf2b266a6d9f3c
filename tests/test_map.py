#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""test_map.py ROOT - every test case is on tests/README.md's map.

A test case is a `static void test_NAME(void **state)` in tests/unit,
tests/integration or tests/tools; the map must name it (`test_NAME`).
Prints each missing one; exits 1 if any."""
import glob
import os
import re
import sys

root = sys.argv[1]
with open(os.path.join(root, 'tests/README.md'), encoding='utf-8') as f:
    mapped = set(re.findall(r'`(test_\w+)`', f.read()))
missing = []
count = 0
for pat in ('tests/unit/*.c', 'tests/integration/*.c', 'tests/tools/*.c'):
    for path in sorted(glob.glob(os.path.join(root, pat))):
        with open(path, encoding='utf-8') as f:
            for name in re.findall(r'static void (test_\w+)\(void \*\*state\)', f.read()):
                count += 1
                if name not in mapped:
                    missing.append((os.path.relpath(path, root), name))
for path, name in missing:
    print('%s: %s is not on tests/README.md' % (path, name))
print('test_map: %d test cases, %d missing from the map' % (count, len(missing)))
sys.exit(1 if missing else 0)
