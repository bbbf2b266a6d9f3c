#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""header_names.py ROOT - every evtls name a header comment mentions exists.

A comment in include/evtls/*.h or src/*.h that names evtls_x or evtls__x
(a function, type or macro; "evtls_cfg_set_retry_*" names a family; a
module's file name, evtls_http for src/evtls_http.c, is a name too) must
name something the code declares or defines somewhere in the tree's C
sources and headers: a renamed or removed function leaves no stale word
behind. Prints each stale name with its file and line; exits 1 if any."""
import glob
import os
import re
import sys

root = sys.argv[1]
files = sorted(glob.glob(os.path.join(root, 'include/evtls/*.h')) +
               glob.glob(os.path.join(root, 'src/*.h')))
code_files = files + sorted(glob.glob(os.path.join(root, 'src/*.c')))

comment_re = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
known = set()
for f in code_files:
    with open(f, encoding='utf-8') as fh:
        code = comment_re.sub(' ', fh.read())
    known.update(re.findall(r'\b(evtls_\w+|EVTLS_\w+)\b', code))
# Modules: src/evtls_x.c or .h, include/evtls/x.h.
for f in code_files:
    known.add(os.path.splitext(os.path.basename(f))[0])
known.update('evtls_' + os.path.splitext(os.path.basename(f))[0]
             for f in glob.glob(os.path.join(root, 'include/evtls/*.h')))

stale = []
for f in files:
    with open(f, encoding='utf-8') as fh:
        text = fh.read()
    for m in comment_re.finditer(text):
        for n in re.finditer(r'\b((?:evtls|EVTLS)_\w*(?:\*)?)', m.group(0)):
            name = n.group(1)
            line = text.count('\n', 0, m.start() + n.start()) + 1
            if name.endswith('*'):  # a family: some known name starts so
                if not any(k.startswith(name[:-1]) for k in known):
                    stale.append((f, line, name))
            elif name not in known:
                stale.append((f, line, name))
for f, line, name in stale:
    print('%s:%d: %s is named in a comment but declared nowhere' % (os.path.relpath(f, root), line, name))
print('header_names: %d files, %d stale names' % (len(files), len(stale)))
sys.exit(1 if stale else 0)
