#!/usr/bin/python3
# run-test.py — run the GTK example under Xvfb against the simulator (TAP)
#
# Copyright 2026 The forkjoin authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: run-test.py APP SCREENSHOT.png
#
# Starts `APP --simulate --self-test SCREENSHOT.png` on a private X server
# (xvfb-run) with the cairo renderer, then checks on its own that the
# screenshot was written and is not blank.

import os
import shutil
import signal
import subprocess
import sys
import tempfile

import gi

gi.require_version('GdkPixbuf', '2.0')
from gi.repository import GdkPixbuf, GLib  # noqa: E402

TIMEOUT = 270  # seconds; meson's own timeout for the test is 300


def comment(text):
    for line in text.splitlines():
        print(f'# {line}')


def run_app(app, screenshot):
    xvfb_run = shutil.which('xvfb-run')
    if xvfb_run is None:
        return 'xvfb-run not found: install xvfb and xauth (build-aux/install-deps.sh)'
    env = dict(os.environ,
               GSK_RENDERER='cairo',
               GDK_BACKEND='x11',
               GDK_DEBUG='gl-disable',
               NO_AT_BRIDGE='1',
               GTK_A11Y='none',
               GSETTINGS_BACKEND='memory',
               G_DEBUG='fatal-criticals')
    env.pop('WAYLAND_DISPLAY', None)
    with tempfile.TemporaryDirectory(prefix='fj-gtk-test-') as runtime:
        env.setdefault('XDG_RUNTIME_DIR', runtime)
        # No session bus: GApplication then runs as a plain non-unique
        # app, and nothing autolaunches a bus that would outlive the test.
        env['DBUS_SESSION_BUS_ADDRESS'] = f'unix:path={runtime}/no-bus'
        command = [xvfb_run, '-a', '-s', '-screen 0 1280x800x24',
                   sys.executable, app, '--simulate', '--self-test', screenshot]
        # A session of its own, so a hang ends with Xvfb too.
        process = subprocess.Popen(command, env=env, start_new_session=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True)
        try:
            output, _ = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            comment(output)
            return f'the app did not exit in {TIMEOUT} s'
    comment(output)
    if process.returncode != 0:
        return f'the app exited with status {process.returncode}'
    return None


def check_png(path):
    try:
        pixbuf = GdkPixbuf.Pixbuf.new_from_file(path)
    except GLib.Error as error:
        return f'cannot read {path}: {error.message}'
    width, height = pixbuf.get_width(), pixbuf.get_height()
    if width < 400 or height < 300:
        return f'{path} is only {width}x{height}'
    pixels = pixbuf.get_pixels()
    step = pixbuf.get_n_channels()
    colours = {pixels[i:i + 3] for i in range(0, len(pixels) - 2, step * 5)}
    comment(f'{path}: {width}x{height}, {len(colours)} colours sampled')
    if len(colours) < 16:
        return f'{path} is blank ({len(colours)} colours)'
    return None


def report(number, description, problem):
    if problem is None:
        print(f'ok {number} - {description}')
    else:
        print(f'not ok {number} - {description}: {problem}')
    return problem is None


def main():
    app, screenshot = sys.argv[1], sys.argv[2]
    if os.path.exists(screenshot):
        os.unlink(screenshot)

    print('1..3', flush=True)
    ok = report(1, 'one run driven through the window', run_app(app, screenshot))
    written = os.path.isfile(screenshot) and os.path.getsize(screenshot) > 0
    ok &= report(2, 'screenshot written',
                 None if written else f'no screenshot at {screenshot}')
    ok &= report(3, 'screenshot not blank',
                 check_png(screenshot) if written else 'no screenshot')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
