#!/usr/bin/python3
# research_app.py — a GTK 4 window over the research fork-join
#
# Copyright 2026 The forkjoin authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: research_app.py [--simulate] [--self-test SCREENSHOT.png]
#
# Type a question and press Run: three agents (an academic researcher, an
# industry analyst and a trend forecaster, from data/examples/research.json)
# answer it in parallel, one row each, filled in live from the runner's
# `results` model; the `llm` synthesis plugin then merges their answers.
# The key comes from ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN); with
# --simulate the agents talk to an in-process simulator instead.

import argparse
import os
import sys

import gi

gi.require_version('Gdk', '4.0')
gi.require_version('Gtk', '4.0')
gi.require_version('Pango', '1.0')
gi.require_version('Forkjoin', '1.0')
from gi.repository import Forkjoin, Gdk, Gio, GLib, GObject, Gtk, Pango  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', '..', 'data')
SPEC = os.path.join(DATA, 'examples', 'research.json')
SCENARIO = os.path.join(DATA, 'scenarios', 'research.json')

# How a row shows each status: an icon and a style class for it.
STATUS_ICONS = {
    Forkjoin.AgentStatus.PENDING: ('content-loading-symbolic', 'dim-label'),
    Forkjoin.AgentStatus.SUCCESS: ('emblem-ok-symbolic', 'success'),
    Forkjoin.AgentStatus.FAILED: ('dialog-error-symbolic', 'error'),
    Forkjoin.AgentStatus.TIMED_OUT: ('alarm-symbolic', 'warning'),
    Forkjoin.AgentStatus.CANCELLED: ('process-stop-symbolic', 'dim-label'),
    Forkjoin.AgentStatus.SKIPPED: ('media-skip-forward-symbolic', 'dim-label'),
}
OVERALL = {
    Forkjoin.ForkJoinStatus.COMPLETE: ('Complete', 'success'),
    Forkjoin.ForkJoinStatus.DEGRADED: ('Degraded', 'warning'),
    Forkjoin.ForkJoinStatus.FAILED: ('Failed', 'error'),
}
STYLES = ('dim-label', 'success', 'warning', 'error')
TAIL = 320  # characters of a streaming answer shown: its newest text
CSS = '''
.success { color: #26a269; }
.warning { color: #c64600; }
.error { color: #c01c28; }
'''


def set_style(widget, style):
    for name in STYLES:
        if name != style:
            widget.remove_css_class(name)
    if style:
        widget.add_css_class(style)


def format_tokens(usage):
    if usage is None or usage.input_tokens + usage.output_tokens == 0:
        return ''
    return f'{usage.input_tokens:,} in · {usage.output_tokens:,} out'


class AgentRow(Gtk.Box):
    """One agent: status icon, name, streamed text, tokens."""

    def __init__(self):
        super().__init__(spacing=12, margin_top=8, margin_bottom=8,
                         margin_start=12, margin_end=12)
        self.result = None
        self.handler = 0

        self.icon = Gtk.Image(pixel_size=16)
        self.spinner = Gtk.Spinner()
        self.status = Gtk.Stack(valign=Gtk.Align.START, margin_top=2)
        self.status.add_named(self.icon, 'icon')
        self.status.add_named(self.spinner, 'spinner')
        self.append(self.status)

        column = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=4,
                         hexpand=True)
        header = Gtk.Box(spacing=8)
        self.name = Gtk.Label(xalign=0, hexpand=True, css_classes=['heading'])
        self.attempts = Gtk.Label(css_classes=['dim-label', 'caption'])
        self.tokens = Gtk.Label(css_classes=['dim-label', 'caption', 'numeric'])
        header.append(self.name)
        header.append(self.attempts)
        header.append(self.tokens)
        column.append(header)
        # An inscription keeps every row three lines high, so rows do not
        # jump while the text streams in.
        self.text = Gtk.Inscription(min_lines=3, nat_lines=3, min_chars=20,
                                    nat_chars=80, xalign=0, yalign=0,
                                    wrap_mode=Pango.WrapMode.WORD_CHAR,
                                    text_overflow=Gtk.InscriptionOverflow.ELLIPSIZE_END)
        column.append(self.text)
        self.append(column)

    def bind(self, result):
        self.result = result
        self.handler = result.connect('notify', self.update)
        self.update()

    def unbind(self):
        if self.result is not None:
            self.result.disconnect(self.handler)
        self.result = None

    def update(self, *args):
        result = self.result
        status = result.props.status
        running = status == Forkjoin.AgentStatus.RUNNING

        self.name.set_label(result.props.agent_name)
        if running:
            self.status.set_visible_child_name('spinner')
            self.spinner.start()
        else:
            icon, style = STATUS_ICONS.get(status, ('dialog-question-symbolic', None))
            self.spinner.stop()
            self.icon.set_from_icon_name(icon)
            set_style(self.icon, style)
            self.status.set_visible_child_name('icon')
        self.status.set_tooltip_text(status.value_nick)

        text = result.props.output or ''
        attempts = result.props.attempts
        if status in (Forkjoin.AgentStatus.FAILED, Forkjoin.AgentStatus.TIMED_OUT,
                      Forkjoin.AgentStatus.CANCELLED):
            text = result.props.error_message or status.value_nick
            set_style(self.text, 'error')
        elif status == Forkjoin.AgentStatus.PENDING:
            text = 'Waiting for a slot…'
            set_style(self.text, 'dim-label')
        elif running and not text:
            text = 'Retrying…' if attempts > 1 else 'Waiting for the first words…'
            set_style(self.text, 'dim-label')
        else:
            set_style(self.text, None)
        if running and len(text) > TAIL:
            text = '…' + text[-TAIL:].split(' ', 1)[-1]
        self.text.set_text(text.replace('\n', ' '))
        self.text.set_tooltip_text(result.props.output or None)

        self.attempts.set_label(f'attempt {attempts}' if attempts > 1 else '')
        self.tokens.set_label(format_tokens(result.props.usage))


class ResearchWindow(Gtk.ApplicationWindow):
    __gsignals__ = {
        # Emitted with the FjForkJoinResult (or None) when a run ends.
        'run-finished': (GObject.SignalFlags.RUN_FIRST, None, (object,)),
    }

    def __init__(self, app, client, simulated):
        super().__init__(application=app, title='Parallel Research',
                         default_width=960, default_height=720)
        self.client = client
        self.spec = None
        self.task = None
        self.agents = None
        self.cancellable = None

        header = Gtk.HeaderBar()
        self.entry = Gtk.Entry(placeholder_text='Ask the three agents a question',
                               width_chars=48, max_width_chars=80, hexpand=True)
        self.entry.connect('activate', self.on_run)
        self.entry.connect('changed', lambda *_: self.update_run_button())
        header.set_title_widget(self.entry)
        self.run_button = Gtk.Button(label='Run', css_classes=['suggested-action'])
        self.run_button.connect('clicked', self.on_run)
        header.pack_end(self.run_button)
        if simulated:
            header.pack_start(Gtk.Label(label='Simulator', css_classes=['dim-label'],
                                        tooltip_text='Running against an in-process simulator'))
        self.set_titlebar(header)

        content = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=12,
                          margin_top=12, margin_bottom=12,
                          margin_start=12, margin_end=12)
        self.banner = Gtk.Label(wrap=True, xalign=0, visible=False,
                                css_classes=['error'])
        content.append(self.banner)

        self.list_view = Gtk.ListView(show_separators=True, css_classes=['view'])
        factory = Gtk.SignalListItemFactory()
        factory.connect('setup', lambda f, item: item.set_child(AgentRow()))
        factory.connect('bind', lambda f, item: item.get_child().bind(item.get_item()))
        factory.connect('unbind', lambda f, item: item.get_child().unbind())
        self.list_view.set_factory(factory)
        self.placeholder = Gtk.Label(label='Type a question and press Run: '
                                     'each agent’s answer appears here as it streams in.',
                                     wrap=True, css_classes=['dim-label'],
                                     margin_top=24, margin_bottom=24)
        self.agents_stack = Gtk.Stack()
        self.agents_stack.add_named(self.placeholder, 'placeholder')
        self.agents_stack.add_named(Gtk.ScrolledWindow(child=self.list_view,
                                                       hscrollbar_policy=Gtk.PolicyType.NEVER),
                                    'list')
        agents_frame = Gtk.Frame(child=self.agents_stack)

        synthesis_header = Gtk.Box(spacing=8)
        synthesis_header.append(Gtk.Label(label='Synthesis', xalign=0,
                                          css_classes=['heading']))
        self.synthesis_spinner = Gtk.Spinner()
        synthesis_header.append(self.synthesis_spinner)
        self.overall = Gtk.Label(xalign=1, hexpand=True, css_classes=['heading'])
        synthesis_header.append(self.overall)
        self.details = Gtk.Label(xalign=1, css_classes=['dim-label', 'numeric'])
        synthesis_header.append(self.details)
        self.synthesis = Gtk.TextView(editable=False, cursor_visible=False,
                                      wrap_mode=Gtk.WrapMode.WORD_CHAR,
                                      top_margin=8, bottom_margin=8,
                                      left_margin=8, right_margin=8)
        synthesis_box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=6,
                                margin_top=6)
        synthesis_box.append(synthesis_header)
        synthesis_box.append(Gtk.Frame(child=Gtk.ScrolledWindow(child=self.synthesis,
                                                                vexpand=True)))

        paned = Gtk.Paned(orientation=Gtk.Orientation.VERTICAL, vexpand=True,
                          start_child=agents_frame, end_child=synthesis_box,
                          resize_start_child=True, shrink_start_child=False,
                          resize_end_child=True, shrink_end_child=False,
                          position=330)
        content.append(paned)
        self.set_child(content)
        self.connect('close-request', self.on_close_request)

        self.load_spec()
        self.update_run_button()
        self.set_focus(self.entry)

    def show_error(self, message):
        self.banner.set_label(message or '')
        self.banner.set_visible(message is not None)

    def load_spec(self):
        if self.client is None:
            return
        if not self.client.get_has_credentials():
            self.show_error('No API key. Set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) '
                            'in the environment, or start the app with --simulate to use '
                            'the built-in simulator.')
            return
        # Keep the spec: disposing of it empties its agents model.
        self.spec = spec = Forkjoin.Spec.new(None)
        try:
            spec.load_from_file(SPEC)
            self.task = spec.create_task(self.client)
        except GLib.Error as error:
            self.show_error(f'Cannot load {SPEC}: {error.message}')
            return
        self.task.set_prices(Forkjoin.Prices.get_default())  # for the cost
        self.agents = spec.get_agents()
        self.entry.set_placeholder_text(spec.get_input())
        # The results model holds one FjAgentResult per agent from the
        # moment a run starts; each changes in place as its agent runs.
        model = self.task.get_runner().get_results()
        self.list_view.set_model(Gtk.NoSelection(model=model))
        self.task.connect('synthesis-started', self.on_synthesis_started)

    def update_run_button(self):
        running = self.cancellable is not None
        self.run_button.set_label('Stop' if running else 'Run')
        self.run_button.remove_css_class('suggested-action')
        self.run_button.remove_css_class('destructive-action')
        self.run_button.add_css_class('destructive-action' if running else 'suggested-action')
        self.run_button.set_sensitive(running or (self.task is not None and
                                                  self.entry.get_text().strip() != ''))

    def on_run(self, *args):
        if self.cancellable is not None:
            self.cancellable.cancel()
            return
        question = self.entry.get_text().strip()
        if self.task is None or not question:
            return
        self.show_error(None)
        self.synthesis.get_buffer().set_text('')
        self.overall.set_label('')
        self.details.set_label('Running…')
        self.agents_stack.set_visible_child_name('list')
        self.cancellable = Gio.Cancellable()
        self.entry.set_editable(False)
        self.update_run_button()
        self.task.run_async(self.agents, question, self.cancellable, self.on_run_done)

    def on_synthesis_started(self, task):
        self.details.set_label('Synthesising…')
        self.synthesis_spinner.start()

    def on_run_done(self, task, async_result):
        self.cancellable = None
        self.entry.set_editable(True)
        self.synthesis_spinner.stop()
        self.update_run_button()
        try:
            result = task.run_finish(async_result)
        except GLib.Error as error:
            self.details.set_label('')
            self.show_error(error.message)
            self.emit('run-finished', None)
            return

        label, style = OVERALL[result.get_status()]
        self.overall.set_label(label)
        set_style(self.overall, style)
        usage = result.get_usage()
        details = f'{result.get_wall_time():.1f} s'
        if usage is not None:
            details += f' · {usage.input_tokens + usage.output_tokens:,} tokens'
        if result.get_cost() >= 0:
            details += f' · ${result.get_cost():.4f}'
        self.details.set_label(details)
        error = result.get_error()
        if error is not None:
            self.show_error(error.message)
        self.synthesis.get_buffer().set_text(result.get_output() or '')
        self.emit('run-finished', result)

    def on_close_request(self, window):
        if self.cancellable is not None:
            self.cancellable.cancel()
        return False


class ResearchApp(Gtk.Application):
    def __init__(self, args):
        super().__init__(application_id='org.example.ForkjoinResearch',
                         flags=Gio.ApplicationFlags.NON_UNIQUE)
        self.args = args
        self.simulator = None
        self.status = 0

    def start_simulator(self):
        key = GLib.uuid_string_random()
        self.simulator = Forkjoin.Simulator.new()
        self.simulator.set_api_key(key)
        self.simulator.load_scenario_from_file(SCENARIO)
        self.simulator.start()
        client = Forkjoin.Client.new_for_base_url(self.simulator.dup_base_url())
        client.set_api_key(key)
        return client

    def do_startup(self):
        Gtk.Application.do_startup(self)
        provider = Gtk.CssProvider()
        provider.load_from_data(CSS.encode())
        Gtk.StyleContext.add_provider_for_display(Gdk.Display.get_default(), provider,
                                                  Gtk.STYLE_PROVIDER_PRIORITY_APPLICATION)

    def do_activate(self):
        client = None
        error = None
        if self.args.simulate:
            try:
                client = self.start_simulator()
            except GLib.Error as e:
                error = f'Cannot start the simulator: {e.message}'
        else:
            client = Forkjoin.Client.new()
        window = ResearchWindow(self, client, self.args.simulate)
        if error is not None:
            window.show_error(error)
        window.present()
        if self.args.self_test:
            import self_test
            self_test.start(self, window, self.args.self_test)

    def do_shutdown(self):
        if self.simulator is not None:
            self.simulator.stop()
        Gtk.Application.do_shutdown(self)


def main():
    parser = argparse.ArgumentParser(description='Research fork-join in a GTK window')
    parser.add_argument('--simulate', action='store_true',
                        help='run against the built-in simulator instead of the API')
    parser.add_argument('--self-test', metavar='SCREENSHOT.png',
                        help='drive one run, check it and save a screenshot (for tests)')
    args = parser.parse_args()
    app = ResearchApp(args)
    status = app.run([sys.argv[0]])
    return status or app.status


if __name__ == '__main__':
    sys.exit(main())
