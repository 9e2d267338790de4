#!/usr/bin/python3
# test-gi-import.py — the typelib loads and exposes the core classes.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import sys

import gi

gi.require_version('Forkjoin', '1.0')
from gi.repository import Forkjoin, GLib  # noqa: E402

print('1..3')

ok = all(hasattr(Forkjoin, name) for name in
         ('Client', 'Simulator', 'Agent', 'AgentResult', 'Message', 'Tool', 'Usage'))
print(('ok' if ok else 'not ok') + ' 1 classes are exported')

# The key is write-only: it cannot be read back through the binding.
client = Forkjoin.Client.new_for_base_url('http://127.0.0.1:9')
client.set_api_key('fj-test-key-7f3a9c1d')
try:
    client.get_property('api-key')
    print('not ok 2 api-key is not readable')
except TypeError:
    print('ok 2 api-key is not readable')

# A simulator and an agent run through the binding.
sim = Forkjoin.Simulator.new()
sim.set_api_key('fj-test-key-7f3a9c1d')
sim.start()
client = Forkjoin.Client.new_for_base_url(sim.dup_base_url())
client.set_api_key('fj-test-key-7f3a9c1d')
agent = Forkjoin.Agent.new('market-analyst')
agent.set_instructions('You are a market analyst.')
loop = GLib.MainLoop()
results = []


def on_done(source, res):
    results.append(source.run_finish(res))
    loop.quit()


agent.run_async(client, 'How did ACME do in Q3?', None, on_done)
GLib.timeout_add_seconds(30, loop.quit)
loop.run()
result = results[0] if results else None
good = result is not None and (result.get_status() == Forkjoin.AgentStatus.SUCCESS and
        'market analyst' in result.get_output())
print(('ok' if good else 'not ok') + ' 3 an agent runs against the simulator')
sim.stop()

sys.exit(0)
