#!/usr/bin/python3
# test-python-plugins.py — a synthesizer and a policy written in Python are
# used the same way as loaded plugins: registered, created from JSON
# options, and run in a fork-join against the simulator.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import sys

import gi

gi.require_version('Forkjoin', '1.0')
gi.require_version('Json', '1.0')
from gi.repository import Forkjoin, Gio, GLib, GObject, Json  # noqa: E402

KEY = 'fj-test-key-7f3a9c1d'
print('1..4')


class ShoutSynthesizer(GObject.Object, Forkjoin.Synthesizer):
    __gtype_name__ = 'PyShoutSynthesizer'
    prefix = GObject.Property(type=str, default='MERGED', blurb='What the output starts with')
    main_thread = GObject.Property(type=bool, default=True, blurb='Run on the main thread')

    def do_synthesize(self, question, results, cancellable):
        good = [r.get_agent_name() for r in results
                if r.get_status() == Forkjoin.AgentStatus.SUCCESS]
        return '%s: %s' % (self.prefix, ', '.join(good))


class FirstTwoPolicy(GObject.Object, Forkjoin.Policy):
    __gtype_name__ = 'PyFirstTwoPolicy'

    def do_settled(self, state, result):
        if state.get_n_succeeded() >= 2:
            return Forkjoin.PolicyDecision.STOP_SATISFIED
        return Forkjoin.PolicyDecision.CONTINUE


registry = Forkjoin.PluginRegistry.new()
registry.add(Forkjoin.PluginKind.SYNTHESIZER, 'shout', ShoutSynthesizer.__gtype__,
             'Lists the successful agents')
registry.add(Forkjoin.PluginKind.POLICY, 'first-two', FirstTwoPolicy.__gtype__,
             'Stops after two successes')
options = Json.from_string('{"prefix": "JOINED"}').get_object()
synth = registry.create(Forkjoin.PluginKind.SYNTHESIZER, 'shout', options)
print(('ok' if synth.props.prefix == 'JOINED' else 'not ok') + ' 1 created from JSON options')

try:
    registry.create(Forkjoin.PluginKind.SYNTHESIZER, 'shout',
                    Json.from_string('{"prefx": "x"}').get_object())
    print('not ok 2 an unknown option is refused')
except GLib.Error as e:
    print(('ok' if 'prefix' in e.message else 'not ok') + ' 2 an unknown option is refused')

sim = Forkjoin.Simulator.new()
sim.set_api_key(KEY)
sim.load_scenario_from_data(
    '{"latency": 0.05, "agents": [{"match": "slow", "latency": 10}]}', -1)
sim.start()
client = Forkjoin.Client.new_for_base_url(sim.dup_base_url())
client.set_api_key(KEY)

agents = []
for name, instructions in (('a', 'You are analyst a.'), ('b', 'You are analyst b.'),
                           ('c', 'You are a slow analyst.')):
    agent = Forkjoin.Agent.new(name)
    agent.set_instructions(instructions)
    agents.append(agent)
model = Gio.ListStore.new(Forkjoin.Agent)
for agent in agents:
    model.append(agent)

runner = Forkjoin.AgentRunner.new(client)
runner.add_policy(registry.create(Forkjoin.PluginKind.POLICY, 'first-two', None))
task = Forkjoin.ForkJoinTask.new(runner, synth)
task.set_min_successes(2)

loop = GLib.MainLoop()
out = []


def on_done(source, res):
    out.append(source.run_finish(res))
    loop.quit()


task.run_async(model, 'Q3?', None, on_done)
GLib.timeout_add_seconds(20, loop.quit)
loop.run()
result = out[0] if out else None

ok = (result is not None and
      result.get_status() == Forkjoin.ForkJoinStatus.COMPLETE and
      result.get_output() == 'JOINED: a, b')
print(('ok' if ok else 'not ok') + ' 3 a Python synthesizer joins the fork')
statuses = [r.get_status() for r in result.get_results()] if result else []
ok = statuses[:2] == [Forkjoin.AgentStatus.SUCCESS] * 2 and \
    statuses[2] == Forkjoin.AgentStatus.CANCELLED
print(('ok' if ok else 'not ok') + ' 4 a Python policy stops the run early')
sim.stop()
sys.exit(0)
