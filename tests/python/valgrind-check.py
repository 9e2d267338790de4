#!/usr/bin/python3
# valgrind-check.py — runs a Python test under valgrind memcheck and fails
# on a definite leak from libforkjoin (or one of its plugins) and on any
# invalid memory access or free.
#
# Copyright 2026 The forkjoin authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: valgrind-check.py [--suppressions FILE]... [--log-dir DIR] TEST.py [ARG...]
#
# The interpreter itself leaks at exit (and girepository never frees the
# closures of Python vfuncs): those leaks have no frame in our code and do
# not count.  A leak counts when a frame of its allocation stack is in
# libforkjoin-1.so or in a plugin module from FORKJOIN_PLUGIN_PATH, or when
# the allocation was made by GLib, GObject or json-glib called straight from
# libffi, that is by a function Python called through a typelib: with -O2 a
# function of ours that ends in `return g_object_new (...)` or
# `return g_strdup (...)` is a tail call and leaves no frame of its own.
# Before the real run, two planted leaks (made through ctypes, one with a
# frame of ours and one through such a tail call) check that the checker
# sees both kinds.

import argparse
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

GLIB_SUPP = '/usr/share/glib-2.0/valgrind/glib.supp'
PLANT = '''
import ctypes, ctypes.util, os, sys
lib = ctypes.CDLL(os.path.join(sys.argv[1], 'libforkjoin-1.so.0'))
gobject = ctypes.CDLL('libgobject-2.0.so.0')
for f in ('fj_usage_new', 'fj_agent_result_new', 'fj_agent_result_to_json_string'):
    getattr(lib, f).restype = ctypes.c_void_p
lib.fj_agent_result_new.argtypes = [ctypes.c_char_p, ctypes.c_uint]
lib.fj_agent_result_to_json_string.argtypes = [ctypes.c_void_p, ctypes.c_int]
gobject.g_object_unref.argtypes = [ctypes.c_void_p]
lib.fj_usage_new()                                # a tail call to g_malloc0
result = lib.fj_agent_result_new(b'planted', 0)
lib.fj_agent_result_to_json_string(result, 0)     # has a frame of ours
gobject.g_object_unref(result)
'''
# Libraries whose allocations, made straight from libffi, are a typelib
# call's; the walk down the allocation stack skips these.
ALLOCATORS = ('vgpreload_memcheck', 'libc.so', 'ld-linux', 'libglib-2.0.so',
              'libgobject-2.0.so', 'libgio-2.0.so', 'libjson-glib-1.0.so')


def our_objects():
    """Path prefixes of our code: the library's dir and the plugin dirs."""
    dirs = [d for d in os.environ.get('FORKJOIN_PLUGIN_PATH', '').split(':') if d]
    return [os.path.realpath(d) + os.sep for d in dirs]


def lib_dir():
    for d in os.environ.get('LD_LIBRARY_PATH', '').split(':'):
        if d and os.path.exists(os.path.join(d, 'libforkjoin-1.so.0')):
            return d
    return None


def is_ours(frame, plugin_dirs):
    obj = frame.findtext('obj') or ''
    fn = frame.findtext('fn') or ''
    if os.path.basename(obj).startswith('libforkjoin-1.so'):
        return True
    if any(os.path.realpath(obj).startswith(d) for d in plugin_dirs):
        return True
    return fn.startswith('fj_') or fn.startswith('_fj_')


def frames(error):
    return error.find('stack').findall('frame')


def from_typelib_call(error):
    """Allocated by GLib/GObject/json-glib called straight from libffi."""
    for frame in frames(error):
        obj = os.path.basename(frame.findtext('obj') or '')
        if obj.startswith('libffi.so'):
            return True
        if not any(obj.startswith(a) for a in ALLOCATORS):
            return False
    return False


def leaks_of_ours(errors, plugin_dirs):
    return [e for e in errors if e.findtext('kind') == 'Leak_DefinitelyLost' and
            (any(is_ours(f, plugin_dirs) for f in frames(e)) or from_typelib_call(e))]


def describe(error):
    what = error.find('xwhat')
    text = what.findtext('text') if what is not None else error.findtext('what')
    lines = ['%s: %s' % (error.findtext('kind'), text)]
    for frame in frames(error):
        obj = os.path.basename(frame.findtext('obj') or '?')
        where = frame.findtext('file')
        if where:
            where = '%s:%s' % (where, frame.findtext('line'))
        lines.append('    %s (%s%s)' % (frame.findtext('fn') or '??', obj,
                                       ', ' + where if where else ''))
    return '\n'.join(lines)


def run_valgrind(xml_path, suppressions, argv, env):
    cmd = ['valgrind', '--leak-check=full', '--errors-for-leak-kinds=definite',
           '--num-callers=40', '--track-origins=no',
           '--xml=yes', '--xml-file=' + xml_path]
    cmd += ['--suppressions=' + s for s in suppressions]
    cmd += [sys.executable] + argv
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=600)
    errors = ET.parse(xml_path).getroot().findall('error')
    return proc, errors


def comment(text):
    for line in text.splitlines():
        print('# ' + line)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--suppressions', action='append', default=[])
    parser.add_argument('--log-dir', default='.')
    parser.add_argument('test')
    parser.add_argument('args', nargs=argparse.REMAINDER)
    opts = parser.parse_args()

    if shutil.which('valgrind') is None:
        print('1..0 # SKIP valgrind is not installed')
        return 0
    print('1..4')
    sys.stdout.flush()

    suppressions = [GLIB_SUPP] + opts.suppressions
    env = dict(os.environ, PYTHONMALLOC='malloc', G_SLICE='always-malloc',
               G_DEBUG='gc-friendly')
    plugin_dirs = our_objects()
    name = os.path.splitext(os.path.basename(opts.test))[0]

    # 1. The checker sees a leak when there is one.
    xml_path = os.path.join(opts.log_dir, 'valgrind-planted-leak.xml')
    proc, errors = run_valgrind(xml_path, suppressions, ['-c', PLANT, lib_dir() or '.'], env)
    planted = leaks_of_ours(errors, plugin_dirs)
    with_frame = [e for e in planted if any(f.findtext('fn') == 'fj_agent_result_to_json_string'
                                            for f in frames(e))]
    ok = proc.returncode == 0 and len(planted) == 2 and len(with_frame) == 1
    print('%s 1 - two leaks planted in libforkjoin are found' % ('ok' if ok else 'not ok'))
    if not ok:
        comment(proc.stdout)
        comment('\n'.join(describe(e) for e in errors))

    # 2. The test itself passes under valgrind.
    xml_path = os.path.join(opts.log_dir, 'valgrind-%s.xml' % name)
    proc, errors = run_valgrind(xml_path, suppressions, [opts.test] + opts.args, env)
    lines = proc.stdout.splitlines()
    not_ok = [line for line in lines if line.startswith('not ok')]
    n_ok = len([line for line in lines if line.startswith('ok ')])
    ok = proc.returncode == 0 and not not_ok and n_ok > 0
    print('%s 2 - %s passes under valgrind (%d ok, %d not ok)' % (
        'ok' if ok else 'not ok', os.path.basename(opts.test), n_ok, len(not_ok)))
    if not ok:
        comment(proc.stdout)

    # 3. No definite leak from our code.
    leaks = leaks_of_ours(errors, plugin_dirs)
    others = [e for e in errors if e.findtext('kind') == 'Leak_DefinitelyLost' and e not in leaks]
    print('%s 3 - no definite leak from libforkjoin or its plugins (%d not ours)' % (
        'ok' if not leaks else 'not ok', len(others)))
    comment('\n'.join(describe(e) for e in leaks))

    # 4. No invalid read, write or free anywhere (a reference dropped twice
    # through the binding shows up here, with its stack in libgobject).
    bad = [e for e in errors if not e.findtext('kind').startswith('Leak_')]
    print('%s 4 - no invalid memory access or free' % ('ok' if not bad else 'not ok'))
    comment('\n'.join(describe(e) for e in bad))
    comment('valgrind log: ' + xml_path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
