#!/usr/bin/python3
# py-fanout.py — benchmark scenario 5: the fork-join of a spec run from
# Python through introspection (FjSpec → FjForkJoinTask), to price the
# binding against `forkjoin-tool run`.  Used by bench/bench.py.
#
#   py-fanout.py SPEC.json
#
# Reads ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY; prints one JSON line:
# {"status": ..., "succeeded": N, "failed": N, "wall_ms": N}.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import sys
import time

import gi

gi.require_version('Forkjoin', '1.0')
from gi.repository import Forkjoin, GLib  # noqa: E402

registry = Forkjoin.PluginRegistry.get_default()
registry.load_default()
spec = Forkjoin.Spec.new(registry)
spec.load_from_file(sys.argv[1])
client = Forkjoin.Client.new()  # ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL
task = spec.create_task(client)
loop = GLib.MainLoop()
result = None


def on_done(task, res):
    global result
    result = task.run_finish(res)
    loop.quit()


start = time.monotonic()
task.run_async(spec.get_agents(), spec.get_input(), None, on_done)
loop.run()
wall_ms = round((time.monotonic() - start) * 1000)

ok = sum(1 for r in result.get_results() if r.get_status() == Forkjoin.AgentStatus.SUCCESS)
print(json.dumps({
    'status': result.get_status().value_nick,
    'succeeded': ok,
    'failed': len(result.get_results()) - ok,
    'wall_ms': wall_ms,
}))
sys.exit(1 if result.get_status() == Forkjoin.ForkJoinStatus.FAILED else 0)
