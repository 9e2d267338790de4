#!/usr/bin/python3
# test-fork-join.py — the fork-join engine driven from Python through
# introspection, against the simulator.
#
# Copyright 2026 The forkjoin authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The simulator runs in this process, on a thread of its own with its own
# GMainContext: FjSimulator serves on the context that was thread-default
# when it started, and a _sync call runs its own context on the calling
# thread, so a simulator on the main thread's default context would never
# be served while a _sync call waits.  One thread serves both the async
# runs (the main thread's GLib.MainLoop) and the _sync ones.
#
# With --quick only the core cases run, for a quick look by hand; the
# python-valgrind test runs every case.

import gc
import json
import os
import sys
import threading

import gi

gi.require_version('Forkjoin', '1.0')
gi.require_version('Json', '1.0')
from gi.repository import Forkjoin, Gio, GLib, GObject, Json  # noqa: E402

KEY = 'fj-test-key-7f3a9c1d'
QUICK = '--quick' in sys.argv[1:]
MAIN_THREAD = threading.get_ident()
FJ_DOMAIN = GLib.quark_to_string(Forkjoin.error_quark())

# Agents with tools call `lookup`; the "broken analyst" gets a 400 on
# every attempt (no retry); "slow" analysts answer after 10 s.
SCENARIO = json.dumps({
    'seed': 5,
    'latency': 0.02,
    'output_tokens': 30,
    'tokens_per_second': 0,
    'tool_use': {'name': 'lookup', 'input': {'ticker': 'ACME'}, 'turns': 1},
    'agents': [
        {'name': 'broken', 'match': 'broken analyst',
         'failures': [{'status': 400, 'message': 'the simulator refuses this one'}]},
        {'name': 'slow', 'match': 'slow analyst', 'latency': 10},
    ],
})


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, ok, name, detail=None):
        self.n += 1
        if not ok:
            self.failed += 1
        print('%s %d - %s' % ('ok' if ok else 'not ok', self.n, name))
        if not ok and detail is not None:
            for line in str(detail).splitlines():
                print('# ' + line)
        sys.stdout.flush()


tap = Tap()


class SimulatorThread:
    """An FjSimulator serving on its own thread and main context."""

    def __init__(self, scenario_data=None, scenario_file=None):
        self.scenario_data = scenario_data
        self.scenario_file = scenario_file
        self.ready = threading.Event()
        self.error = None
        self.base_url = None
        self.context = None
        self.loop = None
        self.thread = threading.Thread(target=self._serve, name='simulator')

    def _serve(self):
        context = GLib.MainContext.new()
        context.push_thread_default()
        sim = Forkjoin.Simulator.new()
        try:
            sim.set_api_key(KEY)
            if self.scenario_data is not None:
                sim.load_scenario_from_data(self.scenario_data, -1)
            if self.scenario_file is not None:
                sim.load_scenario_from_file(self.scenario_file)
            sim.start()
            self.base_url = sim.dup_base_url()
            self.context = context
            self.loop = GLib.MainLoop.new(context, False)
        except GLib.Error as e:
            self.error = e
        self.ready.set()
        if self.loop is not None:
            self.loop.run()
        sim.stop()
        while context.pending():
            context.iteration(False)
        del sim
        context.pop_thread_default()

    def __enter__(self):
        self.thread.start()
        self.ready.wait()
        if self.error is not None:
            raise self.error
        return self

    def client(self):
        client = Forkjoin.Client.new_for_base_url(self.base_url)
        client.set_api_key(KEY)
        return client

    def __exit__(self, *exc):
        if self.loop is not None:
            loop = self.loop
            self.context.invoke_full(GLib.PRIORITY_DEFAULT, lambda: loop.quit() or False)
        self.thread.join()
        self.loop = None
        self.context = None


class ListSynthesizer(GObject.Object, Forkjoin.Synthesizer):
    """Joins by listing each agent's status; records how it was called."""
    __gtype_name__ = 'PyTestListSynthesizer'
    main_thread = GObject.Property(type=bool, default=False,
                                   blurb='Run on the main thread')

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = []

    def do_synthesize(self, question, results, cancellable):
        self.calls.append({'thread': threading.get_ident(), 'question': question,
                           'names': [r.get_agent_name() for r in results]})
        return 'JOINED %s: %s' % (question, '; '.join(
            '%s=%s' % (r.get_agent_name(), r.get_status().value_nick) for r in results))


class LookupTool(Forkjoin.Tool):
    """A stock quote lookup: the agent's input JSON in, a short text out."""
    __gtype_name__ = 'PyTestLookupTool'

    def __init__(self, fail=False, **kwargs):
        super().__init__(name='lookup', description='Looks up a stock quote',
                         input_schema='{"type": "object", "properties": '
                                      '{"ticker": {"type": "string"}}}', **kwargs)
        self.fail = fail
        self.inputs = []
        self.threads = []

    def do_invoke(self, input_json, cancellable):
        args = json.loads(input_json)
        self.inputs.append(args)
        self.threads.append(threading.get_ident())
        if self.fail:
            raise GLib.Error.new_literal(Gio.io_error_quark(), 'the quote feed is down',
                                         Gio.IOErrorEnum.NOT_CONNECTED)
        return '%s trades at 42.17' % args['ticker']


class FirstSuccessPolicy(GObject.Object, Forkjoin.Policy):
    """Stops the run once one agent succeeded; refuses agents named banned-*."""
    __gtype_name__ = 'PyTestFirstSuccessPolicy'

    def __init__(self):
        super().__init__()
        self.settled = []

    def do_admit(self, state, agent):
        if agent.get_name().startswith('banned'):
            raise GLib.Error.new_literal(Forkjoin.error_quark(),
                                         'no budget for this one',
                                         Forkjoin.Error.BUDGET)
        return True

    def do_settled(self, state, result):
        self.settled.append(result.get_agent_name())
        if state.get_n_succeeded() >= 1:
            return Forkjoin.PolicyDecision.STOP_SATISFIED
        return Forkjoin.PolicyDecision.CONTINUE


def make_agents(*specs):
    model = Gio.ListStore.new(Forkjoin.Agent)
    for name, instructions in specs:
        agent = Forkjoin.Agent.new(name)
        agent.set_instructions(instructions)
        model.append(agent)
    return model


def analysts():
    return make_agents(('market-analyst', 'You are a market analyst.'),
                       ('technical-analyst', 'You are a technical analyst.'),
                       ('financial-analyst', 'You are a financial analyst.'))


def run_async(task, agents, question):
    """task.run_async inside a GLib.MainLoop; returns (result, error)."""
    loop = GLib.MainLoop()
    out = {}

    def on_done(source, res):
        try:
            out['result'] = source.run_finish(res)
        except GLib.Error as e:
            out['error'] = e
        loop.quit()

    def on_timeout():
        out['timeout'] = out['error'] = 'no answer in 60 s'
        loop.quit()
        return GLib.SOURCE_REMOVE

    task.run_async(agents, question, None, on_done)
    timeout = GLib.timeout_add_seconds(60, on_timeout)
    loop.run()
    if 'timeout' not in out:
        GLib.source_remove(timeout)
    return out.get('result'), out.get('error')


def statuses(result):
    return [r.get_status() for r in result.get_results()]


S = Forkjoin.AgentStatus


def test_async(sim):
    client = sim.client()
    synth = ListSynthesizer()
    task = Forkjoin.ForkJoinTask.new(Forkjoin.AgentRunner.new(client), synth)
    result, error = run_async(task, analysts(), 'How did ACME do in Q3?')

    ok = (error is None and result is not None and
          result.get_status() == Forkjoin.ForkJoinStatus.COMPLETE and
          statuses(result) == [S.SUCCESS] * 3)
    tap.check(ok, 'async: three agents fork and join in a GLib.MainLoop',
              error or (result and result.to_json_string(True)))
    if result is None:
        for name in ('async: results read as objects', 'async: a Python synthesizer joins',
                     'results read as JSON'):
            tap.check(False, name)
        return

    results = result.get_results()
    names = [r.get_agent_name() for r in results]
    usage_ok = all(r.get_usage().input_tokens > 0 and r.get_usage().output_tokens > 0
                   for r in results)
    total = result.get_usage()
    ok = (names == ['market-analyst', 'technical-analyst', 'financial-analyst'] and
          [r.get_index() for r in results] == [0, 1, 2] and
          all('analyst' in (r.get_output() or '') for r in results) and
          all(r.get_attempts() == 1 and r.get_error() is None for r in results) and
          all(r.get_stop_reason() == 'end_turn' for r in results) and
          usage_ok and
          total.output_tokens == sum(r.get_usage().output_tokens for r in results) and
          result.get_wall_time() > 0)
    tap.check(ok, 'async: results read as objects (status, output, usage, attempts)',
              result.to_json_string(True))

    expected = ('JOINED How did ACME do in Q3?: market-analyst=success; '
                'technical-analyst=success; financial-analyst=success')
    ok = (result.get_output() == expected and len(synth.calls) == 1 and
          synth.calls[0]['thread'] != MAIN_THREAD)
    tap.check(ok, 'async: a Python synthesizer joins (in a worker thread)',
              '%r %r' % (result.get_output(), synth.calls))

    # The same result as JSON, both ways.
    doc = json.loads(result.to_json_string(False))
    node_doc = json.loads(Json.to_string(result.to_json(), False))
    agent_doc = json.loads(Json.to_string(results[0].to_json(), False))
    back = Forkjoin.AgentResult.new_from_json(results[0].to_json(), 0)
    ok = (doc == node_doc and doc['status'] == 'complete' and
          [a['name'] for a in doc['agents']] == names and
          [a['status'] for a in doc['agents']] == ['success'] * 3 and
          [a['output'] for a in doc['agents']] == [r.get_output() for r in results] and
          all(a['usage']['input_tokens'] == r.get_usage().input_tokens
              for a, r in zip(doc['agents'], results)) and
          doc['synthesis']['output'] == expected and
          doc['usage']['output_tokens'] == total.output_tokens and
          agent_doc == doc['agents'][0] and
          back.get_output() == results[0].get_output() and
          back.get_status() == S.SUCCESS and
          back.get_usage().input_tokens == results[0].get_usage().input_tokens)
    tap.check(ok, 'results read as JSON (to_json_string, to_json, new_from_json)',
              json.dumps(doc, indent=1))


def test_sync(sim):
    client = sim.client()
    synth = ListSynthesizer(main_thread=True)
    runner = Forkjoin.AgentRunner.new(client)
    task = Forkjoin.ForkJoinTask.new(runner, synth)
    try:
        result = task.run_sync(analysts(), 'How did ACME do in Q3?', None)
        error = None
    except GLib.Error as e:
        result, error = None, e
    ok = (result is not None and
          result.get_status() == Forkjoin.ForkJoinStatus.COMPLETE and
          statuses(result) == [S.SUCCESS] * 3 and
          result.get_output().startswith('JOINED How did ACME do in Q3?: market-analyst=success'))
    tap.check(ok, 'sync: the same fork-join with run_sync',
              error or (result and result.to_json_string(True)))
    ok = len(synth.calls) == 1 and synth.calls[0]['thread'] == MAIN_THREAD
    tap.check(ok, 'sync: a main-thread Python synthesizer runs on the calling thread',
              synth.calls)

    # The runner alone, run again: a list of results.
    try:
        results = runner.run_sync(analysts(), 'And in Q4?', None)
    except GLib.Error as e:
        results = e
    ok = (isinstance(results, list) and
          [r.get_status() for r in results] == [S.SUCCESS] * 3 and
          all('Q4' in r.get_output() for r in results) and
          runner.get_n_succeeded() == 3 and runner.get_running() is False and
          runner.get_results().get_n_items() == 3)
    tap.check(ok, 'sync: AgentRunner.run_sync returns every agent\'s result', results)


def test_tool(sim):
    tool = LookupTool()
    broken_tool = LookupTool(fail=True, main_thread=True)
    agents = make_agents(('quoter', 'You quote stock prices with your tool.'),
                         ('plain', 'You are a plain analyst.'),
                         ('unlucky', 'You quote stock prices with a broken tool.'))
    agents.get_item(0).add_tool(tool)
    agents.get_item(2).add_tool(broken_tool)
    task = Forkjoin.ForkJoinTask.new(Forkjoin.AgentRunner.new(sim.client()), ListSynthesizer())
    result, error = run_async(task, agents, 'What does ACME trade at?')
    if result is None:
        tap.check(False, 'a Python FjTool is called by an agent', error)
        tap.check(False, 'a GLib.Error raised in a Python tool reaches the model')
        return
    quoter, plain, unlucky = result.get_results()
    ok = (tool.inputs == [{'ticker': 'ACME'}] and
          quoter.get_status() == S.SUCCESS and quoter.get_turns() == 2 and
          'the lookup tool returned "ACME trades at 42.17"' in quoter.get_output() and
          plain.get_status() == S.SUCCESS and plain.get_turns() == 1 and
          tool.threads[0] != MAIN_THREAD and broken_tool.threads == [MAIN_THREAD] and
          agents.get_item(0).find_tool('lookup') == tool)
    tap.check(ok, 'a Python FjTool is called by an agent (in a worker thread, or the '
              'main one when main-thread) and its result quoted',
              '%r\n%s' % (tool.inputs, result.to_json_string(True)))
    ok = (broken_tool.inputs == [{'ticker': 'ACME'}] and
          unlucky.get_status() == S.SUCCESS and
          'the lookup tool returned "Error: the quote feed is down"' in unlucky.get_output())
    tap.check(ok, 'a GLib.Error raised in a Python tool reaches the model as the tool\'s error',
              unlucky.to_json_string(True))


def test_policy(sim):
    policy = FirstSuccessPolicy()
    runner = Forkjoin.AgentRunner.new(sim.client())
    runner.add_policy(policy)
    task = Forkjoin.ForkJoinTask.new(runner, ListSynthesizer())
    agents = make_agents(('banned-analyst', 'You are a banned analyst.'),
                         ('quick', 'You are a quick analyst.'),
                         ('slow-1', 'You are a slow analyst, the first.'),
                         ('slow-2', 'You are a slow analyst, the second.'))
    result, error = run_async(task, agents, 'Q3?')
    if result is None:
        tap.check(False, 'a Python policy stops the run after the first success', error)
        tap.check(False, 'a Python policy\'s admit error skips the agent')
        return
    got = statuses(result)
    # Degraded, not complete: the banned agent was skipped with an error.
    ok = (got == [S.SKIPPED, S.SUCCESS, S.CANCELLED, S.CANCELLED] and
          result.get_status() == Forkjoin.ForkJoinStatus.DEGRADED and
          'quick' in policy.settled and runner.get_n_cancelled() == 2)
    tap.check(ok, 'a Python policy stops the run after the first success',
              '%r %r\n%s' % (got, policy.settled, result.to_json_string(True)))
    banned = result.get_results()[0]
    err = banned.get_error()
    ok = (err is not None and err.matches(Forkjoin.error_quark(), Forkjoin.Error.BUDGET) and
          'no budget for this one' in err.message and banned.get_error_code() == 'budget' and
          banned.get_attempts() == 0)
    tap.check(ok, 'a GLib.Error raised in a Python policy\'s admit skips the agent with it',
              err)


def test_failure(sim):
    task = Forkjoin.ForkJoinTask.new(Forkjoin.AgentRunner.new(sim.client()), ListSynthesizer())
    task.set_min_successes(2)
    agents = make_agents(('market-analyst', 'You are a market analyst.'),
                         ('broken', 'You are a broken analyst.'),
                         ('financial-analyst', 'You are a financial analyst.'))
    result, error = run_async(task, agents, 'Q3?')
    if result is None:
        tap.check(False, 'a failing agent\'s error is a field of its result', error)
        tap.check(False, 'a quorum that cannot be met fails the fork-join with an error')
        return
    broken = result.get_results()[1]
    err = broken.get_error()
    doc = json.loads(result.to_json_string(False))
    ok = (result.get_status() == Forkjoin.ForkJoinStatus.DEGRADED and
          statuses(result) == [S.SUCCESS, S.FAILED, S.SUCCESS] and
          result.get_error() is None and
          isinstance(err, GLib.Error) and err.domain == FJ_DOMAIN and
          err.code == int(Forkjoin.Error.INVALID_REQUEST) and
          err.matches(Forkjoin.error_quark(), Forkjoin.Error.INVALID_REQUEST) and
          err.message.startswith('broken: HTTP 400') and
          'the simulator refuses this one' in err.message and
          broken.get_error_code() == 'invalid-request' and
          broken.get_error_message() == err.message and
          broken.get_output() is None and broken.get_attempts() == 1 and
          doc['agents'][1]['error'] == {'code': 'invalid-request', 'message': err.message} and
          'broken=failed' in result.get_output())
    tap.check(ok, 'a failing agent\'s error is a field of its result '
              '(domain, code, message, nick)',
              '%r\n%s' % (err, result.to_json_string(True)))

    # Not enough successes left: the fork-join itself fails, with an error.
    task.set_min_successes(3)
    result, error = run_async(task, agents, 'Q3?')
    err = result.get_error() if result is not None else None
    ok = (result is not None and result.get_status() == Forkjoin.ForkJoinStatus.FAILED and
          err is not None and
          err.matches(Forkjoin.error_quark(), Forkjoin.Error.QUORUM_NOT_MET) and
          result.get_output() is None)
    tap.check(ok, 'a quorum that cannot be met fails the fork-join with an error',
              error or err)


def test_misuse():
    task = Forkjoin.ForkJoinTask.new(None, ListSynthesizer())

    try:
        task.run_sync('three analysts', 'Q3?', None)
        tap.check(False, 'misuse: a str where a GListModel is expected raises TypeError')
    except TypeError as e:
        tap.check('GListModel' in str(e) or 'ListModel' in str(e),
                  'misuse: a str where a GListModel is expected raises TypeError', e)

    try:
        Forkjoin.ForkJoinTask.new(None, 'a synthesizer')
        tap.check(False, 'misuse: a str where an FjSynthesizer is expected raises TypeError')
    except TypeError as e:
        tap.check(True, 'misuse: a str where an FjSynthesizer is expected raises TypeError', e)

    # No client anywhere: the run is refused with a GLib.Error.
    try:
        task.run_sync(analysts(), 'Q3?', None)
        tap.check(False, 'misuse: a run without a client raises GLib.Error')
    except GLib.Error as e:
        tap.check(e.matches(Gio.io_error_quark(), Gio.IOErrorEnum.INVALID_ARGUMENT),
                  'misuse: a run without a client raises GLib.Error', e)

    spec = Forkjoin.Spec.new(None)
    try:
        spec.load_from_data('{\n  "input": "x",\n  "agents": [ {"name": "a",, } ]\n}',
                            -1, 'broken.json')
        tap.check(False, 'misuse: a broken spec raises GLib.Error with file:line:col')
    except GLib.Error as e:
        ok = (e.matches(Forkjoin.error_quark(), Forkjoin.Error.SPEC) and
              e.message.startswith('broken.json:3:'))
        tap.check(ok, 'misuse: a broken spec raises GLib.Error with file:line:col', e.message)


def test_spec():
    data_dir = os.environ.get('FJ_DATA_DIR',
                              os.path.join(os.path.dirname(__file__), '..', '..', 'data'))
    registry = Forkjoin.PluginRegistry.get_default()
    registry.load_default()
    spec = Forkjoin.Spec.new(registry)
    try:
        spec.load_from_file(os.path.join(data_dir, 'examples', 'q3-analysis.json'))
    except GLib.Error as e:
        tap.check(False, 'FjSpec: q3-analysis.json against q3-demo.json is degraded', e)
        return
    with SimulatorThread(scenario_file=os.path.join(data_dir, 'scenarios',
                                                    'q3-demo.json')) as sim:
        try:
            task = spec.create_task(sim.client())
            result = task.run_sync(spec.get_agents(), spec.get_input(), None)
            error = None
        except GLib.Error as e:
            result, error = None, e
    got = statuses(result) if result is not None else None
    ok = (result is not None and
          result.get_status() == Forkjoin.ForkJoinStatus.DEGRADED and
          got == [S.SUCCESS, S.FAILED, S.SUCCESS] and
          result.get_results()[1].get_error_code() == 'server' and
          spec.get_min_successes() == 2 and spec.get_synthesis_plugin() == 'llm' and
          result.get_synthesis_result() is not None and
          result.get_synthesis_result().get_status() == S.SUCCESS and
          bool(result.get_output()))
    tap.check(ok, 'FjSpec: q3-analysis.json against q3-demo.json is degraded',
              error or (result and result.to_json_string(True)))


def main():
    print('1..%d' % (7 if QUICK else 18))
    sys.stdout.flush()
    with SimulatorThread(scenario_data=SCENARIO) as sim:
        test_async(sim)
        test_sync(sim)
        if not QUICK:
            test_tool(sim)
            test_policy(sim)
            test_failure(sim)
    if not QUICK:
        test_misuse()
        test_spec()
    # Let everything go before exit, so a leak checker sees only real leaks.
    gc.collect()
    context = GLib.MainContext.default()
    while context.pending():
        context.iteration(False)
    return 1 if tap.failed else 0


if __name__ == '__main__':
    sys.exit(main())
