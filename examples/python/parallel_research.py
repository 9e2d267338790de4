#!/usr/bin/python3
# parallel_research.py — an academic researcher, an industry analyst and a
# trend forecaster answer one question in parallel; an LLM merges the views.
#
# Copyright 2026 The forkjoin authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: parallel_research.py [--simulate] [QUESTION]
# Reads ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN); --simulate uses the
# built-in simulator instead. The team is data/examples/research.json.

import os
import sys
import uuid

import gi

gi.require_version('Forkjoin', '1.0')
from gi.repository import Forkjoin, GLib  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'data')
args = [a for a in sys.argv[1:] if a != '--simulate']

if len(args) < len(sys.argv) - 1:
    # An Anthropic-compatible server on 127.0.0.1, in this process, serving
    # on this thread's main context (so the run below must be async).
    key = str(uuid.uuid4())
    simulator = Forkjoin.Simulator.new()
    simulator.set_api_key(key)
    simulator.load_scenario_from_file(os.path.join(DATA, 'scenarios', 'research.json'))
    simulator.start()
    client = Forkjoin.Client.new_for_base_url(simulator.dup_base_url())
    client.set_api_key(key)
else:
    client = Forkjoin.Client.new()  # ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL
    if not client.get_has_credentials():
        print('Set ANTHROPIC_API_KEY, or pass --simulate to use the simulator', file=sys.stderr)
        sys.exit(2)

# The spec names the `llm` synthesis plugin: the default registry finds it
# in FORKJOIN_PLUGIN_PATH or the installed plugin directory.
registry = Forkjoin.PluginRegistry.get_default()
registry.load_default()
spec = Forkjoin.Spec.new(registry)
spec.load_from_file(os.path.join(DATA, 'examples', 'research.json'))
task = spec.create_task(client)
question = args[0] if args else spec.get_input()


def on_agent_finished(runner, result):
    ok = result.get_status() == Forkjoin.AgentStatus.SUCCESS
    print('  %s %-20s %-9s %5.2f s, %d attempt(s)' % (
        '+' if ok else 'x', result.get_agent_name(),
        'success' if ok else result.get_error_code(),
        result.get_duration(), result.get_attempts()))


task.get_runner().connect('agent-finished', on_agent_finished)
task.connect('synthesis-started', lambda task: print('\n  synthesising...\n'))

def on_done(task, res):
    global result
    result = task.run_finish(res)
    loop.quit()


print('> %s\n' % question)
loop = GLib.MainLoop()
task.run_async(spec.get_agents(), question, None, on_done)
loop.run()
for r in result.get_results():
    if r.get_error() is not None:
        print('  missing: %s' % r.get_error_message())
print(result.get_output() or result.get_error().message)
sys.exit(1 if result.get_status() == Forkjoin.ForkJoinStatus.FAILED else 0)
