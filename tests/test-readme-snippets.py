#!/usr/bin/python3
# test-readme-snippets.py — the README's C, Python and gjs snippets run
#
# Copyright 2026 The forkjoin authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: test-readme-snippets.py README.md BUILDDIR CC...
#
# Takes the three code blocks of the README's "Using it from C, Python, gjs
# and GTK" section as a newcomer would copy them, and runs each against
# `forkjoin-tool simulate` (loopback, a random key) with ANTHROPIC_BASE_URL
# and ANTHROPIC_API_KEY set: the C one wrapped in main() and compiled
# against the build tree, the Python one with /usr/bin/python3, the gjs one
# with `gjs -m`.  Each must exit 0 and print every agent and the synthesis.
# TAP output.

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

readme, build = sys.argv[1], os.path.abspath(sys.argv[2])
cc = sys.argv[3:]
source = os.path.dirname(os.path.abspath(readme))
tool = os.path.join(build, 'tools', 'forkjoin-tool')
tmp = tempfile.mkdtemp(prefix='fj-readme-')
AGENTS = ('academic-researcher', 'industry-analyst', 'trend-forecaster')


def section_blocks():
    with open(readme, encoding='utf-8') as f:
        text = f.read()
    start = text.index('## Using it from C, Python, gjs and GTK')
    end = text.index('\n## ', start + 1)
    blocks = {}
    for m in re.finditer(r'```(\w+)\n(.*?)```', text[start:end], flags=re.S):
        blocks.setdefault(m.group(1), m.group(2))
    return blocks


def start_simulator():
    # It prints ANTHROPIC_BASE_URL=... and ANTHROPIC_API_KEY=... first.
    proc = subprocess.Popen([tool, 'simulate', '--port', '0'], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    found = {}
    for line in proc.stdout:
        name, sep, value = line.strip().partition('=')
        if sep and name in ('ANTHROPIC_BASE_URL', 'ANTHROPIC_API_KEY'):
            found[name] = value
        if len(found) == 2:
            break
    if len(found) != 2:
        proc.kill()
        sys.exit('forkjoin-tool simulate printed no URL and key')
    return proc, found['ANTHROPIC_BASE_URL'], found['ANTHROPIC_API_KEY']


def run(argv, cwd, environ, expect):
    try:
        proc = subprocess.run(argv, cwd=cwd, env=environ, capture_output=True, text=True,
                              timeout=120)
    except subprocess.TimeoutExpired:
        return 'timed out'
    if proc.returncode != 0:
        return 'exit %d: %s%s' % (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    missing = [e for e in expect if e not in proc.stdout]
    if missing:
        return 'output lacks %r: %s' % (missing, proc.stdout[-2000:])
    return None


def main():
    blocks = section_blocks()
    print('1..4')
    ok = set(blocks) == {'c', 'python', 'js'}
    print('%s 1 - the section has a C, a Python and a gjs block%s'
          % ('ok' if ok else 'not ok', '' if ok else ' (found %s)' % sorted(blocks)))
    if not ok:
        return 1

    sim, url, key = start_simulator()
    failed = 0
    try:
        environ = dict(os.environ, ANTHROPIC_BASE_URL=url, ANTHROPIC_API_KEY=key)
        environ.pop('ANTHROPIC_AUTH_TOKEN', None)

        # C: the lines as they are, in main(), run where research.json is.
        c_file = os.path.join(tmp, 'snippet.c')
        with open(c_file, 'w', encoding='utf-8') as f:
            f.write('#include <forkjoin.h>\n\nint\nmain (void)\n{\n%s  return 0;\n}\n'
                    % blocks['c'])
        flags = subprocess.run(['pkg-config', '--cflags', '--libs', 'forkjoin-1-uninstalled'],
                               env=dict(os.environ, PKG_CONFIG_PATH=os.path.join(build, 'meson-uninstalled')),
                               capture_output=True, text=True, check=True).stdout.split()
        exe = os.path.join(tmp, 'snippet')
        compiled = subprocess.run(cc + ['-o', exe, c_file] + flags +
                                  ['-Wl,-rpath,' + os.path.join(build, 'lib')],
                                  capture_output=True, text=True)
        if compiled.returncode != 0:
            why = 'does not compile: ' + compiled.stderr[-2000:]
        else:
            why = run([exe], os.path.join(source, 'data', 'examples'), environ,
                      ['%s: ' % a for a in AGENTS])
        failed += why is not None
        print('%s 2 - the C snippet' % ('not ok' if why else 'ok'))
        if why:
            print('# ' + why.replace('\n', '\n# '))

        py_file = os.path.join(tmp, 'snippet.py')
        with open(py_file, 'w', encoding='utf-8') as f:
            f.write(blocks['python'])
        why = run(['/usr/bin/python3', py_file], source, environ,
                  ['%s ok ' % a for a in AGENTS])
        failed += why is not None
        print('%s 3 - the Python snippet' % ('not ok' if why else 'ok'))
        if why:
            print('# ' + why.replace('\n', '\n# '))

        gjs = shutil.which('gjs')
        js_file = os.path.join(tmp, 'snippet.js')
        with open(js_file, 'w', encoding='utf-8') as f:
            f.write(blocks['js'])
        why = run([gjs, '-m', js_file], source, environ,
                  ['%s ok' % a for a in AGENTS]) if gjs else 'gjs is not installed'
        failed += why is not None
        print('%s 4 - the gjs snippet' % ('not ok' if why else 'ok'))
        if why:
            print('# ' + why.replace('\n', '\n# '))
    finally:
        sim.send_signal(signal.SIGINT)
        try:
            sim.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sim.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
