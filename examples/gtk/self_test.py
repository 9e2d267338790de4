# self_test.py — drive one run of research_app.py and check what it shows
#
# Copyright 2026 The forkjoin authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Loaded by `research_app.py --simulate --self-test SCREENSHOT.png` (see
# run-test.py, which starts it under Xvfb).  It types the question, clicks
# Run, follows the results model and the rows of the list while the agents
# stream, checks the rows and the synthesis once the fork-join has
# finished, saves a screenshot of the window and quits with status 0, or
# 1 with a message on the first failed check.

import ctypes
import sys

import gi

gi.require_version('GdkPixbuf', '2.0')
from gi.repository import Forkjoin, GdkPixbuf, GLib  # noqa: E402

QUESTION = 'Which phone apps will run a small language model on the device by 2030?'
TIMEOUT = 240  # seconds: a guard against a hang, not a measurement
RUNNING = Forkjoin.AgentStatus.RUNNING


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def pointer(obj):
    # PyGObject hashes a GObject wrapper by the address of its C object.
    return ctypes.c_void_p(hash(obj))


def save_screenshot(window, path):
    """Renders @window with its own renderer and writes a PNG.

    GTK 4.8: a Gtk.WidgetPaintable snapshots the window into a render node
    that the window's Gsk.Renderer turns into a Gdk.Texture.  PyGObject
    3.42 cannot hold a GskRenderNode (a fundamental type without GObject),
    so the node's three calls go through ctypes on the same libgtk.
    The paintable copies the render node of the window's last frame: call
    this from the frame clock's after-paint.
    """
    gtk = ctypes.CDLL('libgtk-4.so.1')
    gtk.gtk_snapshot_new.restype = ctypes.c_void_p
    gtk.gtk_snapshot_to_node.restype = ctypes.c_void_p
    gtk.gtk_snapshot_to_node.argtypes = [ctypes.c_void_p]
    gtk.gdk_paintable_snapshot.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                           ctypes.c_double, ctypes.c_double]
    gtk.gsk_renderer_render_texture.restype = ctypes.c_void_p
    gtk.gsk_renderer_render_texture.argtypes = [ctypes.c_void_p] * 3
    gtk.gsk_render_node_unref.argtypes = [ctypes.c_void_p]
    gtk.gdk_texture_save_to_png.restype = ctypes.c_int
    gtk.gdk_texture_save_to_png.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    gtk.g_object_unref.argtypes = [ctypes.c_void_p]

    from gi.repository import Gtk
    paintable = Gtk.WidgetPaintable.new(window)
    snapshot = Gtk.Snapshot.new()
    paintable.snapshot(snapshot, window.get_width(), window.get_height())
    node = gtk.gtk_snapshot_to_node(pointer(snapshot))
    check(node, 'the window drew nothing')
    renderer = window.get_native().get_renderer()
    texture = gtk.gsk_renderer_render_texture(pointer(renderer), node, None)
    gtk.gsk_render_node_unref(node)
    check(texture, 'the renderer made no texture')
    saved = gtk.gdk_texture_save_to_png(texture, path.encode())
    gtk.g_object_unref(texture)
    check(saved, f'cannot write {path}')


def check_screenshot(path, width, height):
    pixbuf = GdkPixbuf.Pixbuf.new_from_file(path)
    check(pixbuf.get_width() == width and pixbuf.get_height() == height,
          f'{path} is {pixbuf.get_width()}x{pixbuf.get_height()}, '
          f'the window {width}x{height}')
    pixels = pixbuf.get_pixels()
    step = pixbuf.get_n_channels()
    colours = {pixels[i:i + 3] for i in range(0, len(pixels) - 2, step * 7)}
    check(len(colours) >= 16, f'{path} is blank ({len(colours)} colours)')
    return len(colours)


class SelfTest:
    def __init__(self, app, window, path):
        self.app = app
        self.window = window
        self.path = path
        self.guard = 0
        self.notified = {}   # agent name -> output notifications while running
        self.shown = {}      # agent name -> texts its row showed while running

    def log(self, message):
        print(f'self-test: {message}', flush=True)

    def fail(self, message):
        print(f'self-test: FAILED: {message}', file=sys.stderr, flush=True)
        self.app.status = 1
        self.app.quit()

    def guarded(self, func, *args):
        try:
            func(*args)
        except Failure as failure:
            self.fail(str(failure))
        except Exception as exception:  # a bug in the app is a failure too
            self.fail(f'{type(exception).__name__}: {exception}')
        return False

    def rows(self):
        """The row widgets the list view shows, bound to a result."""
        rows = []
        child = self.window.list_view.get_first_child()
        while child is not None:
            row = child.get_first_child()
            if getattr(row, 'result', None) is not None:
                rows.append(row)
            child = child.get_next_sibling()
        return sorted(rows, key=lambda row: row.result.props.index)

    # Step 1: type the question and click Run.
    def begin(self):
        window = self.window
        check(window.task is not None, f'no task: {window.banner.get_label()}')
        model = window.task.get_runner().get_results()
        model.connect('items-changed', self.on_items_changed)
        window.connect('run-finished', lambda w, result:
                       self.guarded(self.on_finished, result))
        window.entry.set_text(QUESTION)
        check(window.run_button.get_sensitive(), 'Run is not clickable')
        self.log('question typed, clicking Run')
        window.run_button.emit('clicked')
        check(window.run_button.get_label() == 'Stop', 'Run did not start a run')
        self.guard = GLib.timeout_add_seconds(TIMEOUT, self.on_timeout)

    # Step 2: follow each result and the row that shows it.
    def on_items_changed(self, model, position, removed, added):
        for i in range(position, position + added):
            result = model.get_item(i)
            name = result.props.agent_name
            self.notified[name] = 0
            self.shown[name] = set()
            result.connect_after('notify::output', self.on_output)

    def on_output(self, result, pspec):
        if result.props.status != RUNNING or not result.props.output:
            return
        name = result.props.agent_name
        self.notified[name] += 1
        for row in self.rows():
            if row.result is result and row.text.get_text():
                self.shown[name].add(row.text.get_text())

    def on_timeout(self):
        self.guard = 0
        self.fail(f'the fork-join did not finish in {TIMEOUT} s')
        return False

    # Step 3: check the list, the rows and the synthesis.
    def on_finished(self, result):
        if self.guard:
            GLib.source_remove(self.guard)
            self.guard = 0
        window = self.window
        check(result is not None, f'the run failed to start: {window.banner.get_label()}')
        names = [window.agents.get_item(i).get_name()
                 for i in range(window.agents.get_n_items())]
        model = window.task.get_runner().get_results()
        check(model.get_n_items() == len(names) == 3,
              f'{model.get_n_items()} results for {len(names)} agents')

        rows = self.rows()
        check([row.result.props.agent_name for row in rows] == names,
              f'rows {[row.result.props.agent_name for row in rows]}, agents {names}')
        for row in rows:
            name = row.result.props.agent_name
            check(row.result.props.status == Forkjoin.AgentStatus.SUCCESS,
                  f'{name}: {row.result.props.status.value_nick}')
            check(self.notified[name] >= 2,
                  f'{name}: {self.notified[name]} output notifications while running')
            # The row follows the stream: its text changed while running.
            check(len(self.shown[name]) >= 2,
                  f'{name}: its row showed {len(self.shown[name])} texts while running')
            check(row.name.get_label() == name, f'{name}: row named {row.name.get_label()!r}')
            output = row.result.props.output
            check(output and row.text.get_text() == output.replace('\n', ' '),
                  f'{name}: the row does not show the final answer')
            check(row.status.get_visible_child_name() == 'icon'
                  and row.icon.get_icon_name() == 'emblem-ok-symbolic',
                  f'{name}: the row does not show the success icon')
            check(row.tokens.get_label().endswith(' out'), f'{name}: no token count')
            self.log(f'{name}: {self.notified[name]} deltas, row updated '
                     f'{len(self.shown[name])} times while streaming, '
                     f'{row.tokens.get_label()}')
        # The scenario rate-limits the industry analyst once.
        check(rows[1].attempts.get_label() == 'attempt 2',
              f'industry-analyst shows {rows[1].attempts.get_label()!r}')

        check(result.get_status() == Forkjoin.ForkJoinStatus.COMPLETE,
              f'status {result.get_status().value_nick}')
        check(window.overall.get_label() == 'Complete',
              f'overall status shows {window.overall.get_label()!r}')
        buffer = window.synthesis.get_buffer()
        text = buffer.get_text(buffer.get_start_iter(), buffer.get_end_iter(), False)
        check(text != '' and text == result.get_output(),
              'the synthesis is not shown')
        check(window.run_button.get_label() == 'Run', 'Run did not come back')
        self.log(f'synthesis {len(text)} characters, {window.details.get_label()}')

        # Step 4: once the window has drawn its final state, take a picture.
        self.window.queue_draw()
        clock = self.window.get_frame_clock()
        self.paint_handler = clock.connect('after-paint', self.on_painted)

    def on_painted(self, clock):
        # The widget paintable copies what the window drew in this frame:
        # take it now, before anything else asks for a redraw.
        clock.disconnect(self.paint_handler)
        self.guarded(self.finish)

    def finish(self):
        width, height = self.window.get_width(), self.window.get_height()
        save_screenshot(self.window, self.path)
        colours = check_screenshot(self.path, width, height)
        self.log(f'screenshot {self.path} ({width}x{height}, {colours} colours)')
        self.log('ok')
        self.app.status = 0
        self.app.quit()


def start(app, window, path):
    test = SelfTest(app, window, path)
    app.status = 1  # until every check has passed
    # Begin once the window is on screen and has laid itself out.
    GLib.timeout_add(200, test.guarded, test.begin)
