// test-fork-join.js — the fork-join from gjs: the async API through
// Gio._promisify and await, a tool and a synthesizer written in
// JavaScript (main-thread), and the runner's results model observed live.
//
// Copyright 2026 The forkjoin authors
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GObject from 'gi://GObject';

import Forkjoin from 'gi://Forkjoin?version=1.0';

import {check, checkEqual, runTests, simulatorStats, startSimulator, within} from './harness.js';

Gio._promisify(Forkjoin.ForkJoinTask.prototype, 'run_async', 'run_finish');

const {AgentStatus, ForkJoinStatus, PluginKind} = Forkjoin;
const QUESTION = 'Analyze Q3 for ACME';
const TEAM = [
    ['market-analyst', 'You are a market analyst.'],
    ['technical-analyst', 'You are a technical analyst.'],
    ['financial-analyst', 'You are a financial analyst.'],
];

const registry = Forkjoin.PluginRegistry.get_default();
registry.load_default();

// One simulator for every test: agents that have tools call `lookup` once
// before answering; an agent whose instructions say "broken analyst" gets
// a 400, which is not retried.
const {simulator, client} = startSimulator({
    seed: 7,
    latency: {min: 0.02, max: 0.1},
    output_tokens: 40,
    tokens_per_second: 80,
    tool_use: {name: 'lookup', input: {ticker: 'ACME'}},
    agents: [
        {name: 'broken', match: 'broken analyst', failures: [{status: 400}]},
    ],
}, {recordPrompts: true});

function agentModel(team, tools = {}) {
    const model = new Gio.ListStore({item_type: Forkjoin.Agent});
    for (const [name, instructions] of team) {
        const agent = Forkjoin.Agent.new(name);
        agent.set_instructions(instructions);
        agent.set_timeout(30);
        for (const tool of tools[name] ?? [])
            agent.add_tool(tool);
        model.append(agent);
    }
    return model;
}

function synthesizer(name, options = null) {
    return registry.create(PluginKind.SYNTHESIZER, name, options);
}

// AgentStatus values by their nick ('timed-out' for TIMED_OUT).
const NICKS = new Map(Object.entries(AgentStatus)
    .filter(([, value]) => typeof value === 'number')
    .map(([key, value]) => [value, key.toLowerCase().replace(/_/g, '-')]));
const statusNick = status => NICKS.get(status) ?? `unknown ${status}`;

// A tool written in JavaScript. Gjs refuses (with a critical, and returns
// nothing) to run JavaScript called from another thread, so it must set
// main-thread; it also checks that it runs on the thread that owns the
// main context, and keeps its calls in a plain JS array.
const LookupTool = GObject.registerClass({
    GTypeName: 'FjGjsLookupTool',
}, class LookupTool extends Forkjoin.Tool {
    _init(params = {}) {
        super._init({
            name: 'lookup',
            description: 'Looks up the price of a ticker',
            input_schema: JSON.stringify({
                type: 'object',
                properties: {ticker: {type: 'string'}},
                required: ['ticker'],
            }),
            main_thread: true,
            ...params,
        });
        this.calls = [];
    }

    vfunc_invoke(inputJson, _cancellable) {
        const input = JSON.parse(inputJson);
        this.calls.push({input, onMainThread: GLib.MainContext.default().is_owner()});
        return `${input.ticker} at 42.${this.calls.length}`;
    }
});

// A tool whose JavaScript throws: the model reads the exception's message
// as an is_error tool result.
const FailingTool = GObject.registerClass({
    GTypeName: 'FjGjsFailingTool',
}, class FailingTool extends Forkjoin.Tool {
    vfunc_invoke(_inputJson, _cancellable) {
        throw new Error('no quote for ACME today');
    }
});

// A synthesizer written in JavaScript: lists who answered and who is
// missing. The main-thread property makes the default synthesize_async run
// it on the main context instead of a worker thread.
const RollCallSynthesizer = GObject.registerClass({
    GTypeName: 'FjGjsRollCallSynthesizer',
    Implements: [Forkjoin.Synthesizer],
    Properties: {
        'main-thread': GObject.ParamSpec.boolean('main-thread', 'Main thread',
            'Run on the main thread', GObject.ParamFlags.READWRITE, true),
    },
}, class RollCallSynthesizer extends GObject.Object {
    _init(params = {}) {
        super._init(params);
        this.calls = [];
    }

    vfunc_synthesize(input, results, _cancellable) {
        this.calls.push({input, results, onMainThread: GLib.MainContext.default().is_owner()});
        const answered = results.filter(r => r.status === AgentStatus.SUCCESS);
        const missing = results.filter(r => r.status !== AgentStatus.SUCCESS);
        return `${input}: ${answered.map(r => r.agent_name).join(', ')}` +
            ` (missing ${missing.map(r => `${r.agent_name}/${r.error_code}`).join(', ')})`;
    }
});

// A synthesizer that fails: by throwing, or by returning null without an
// error (what gjs also does when it refuses a call from another thread).
const FailingSynthesizer = GObject.registerClass({
    GTypeName: 'FjGjsFailingSynthesizer',
    Implements: [Forkjoin.Synthesizer],
    Properties: {
        'main-thread': GObject.ParamSpec.boolean('main-thread', 'Main thread',
            'Run on the main thread', GObject.ParamFlags.READWRITE, true),
    },
}, class FailingSynthesizer extends GObject.Object {
    vfunc_synthesize(input, _results, _cancellable) {
        if (this.throws)
            throw new Error(`cannot merge the answers on ${input}`);
        return null;
    }
});

async function testForkJoin() {
    const runner = Forkjoin.AgentRunner.new(client);
    const task = Forkjoin.ForkJoinTask.new(runner, synthesizer('llm'));
    task.set_min_successes(2);
    simulator.reset_stats();

    const running = task.run_async(agentModel(TEAM), QUESTION, null);
    // One run at a time: a second one is refused while the first runs.
    let refused = null;
    try {
        await task.run_async(agentModel(TEAM), QUESTION, null);
    } catch (e) {
        refused = e;
    }
    check(refused instanceof GLib.Error && refused.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.PENDING),
        `a second run while running is refused with G_IO_ERROR_PENDING (got ${refused})`);

    const result = await within(30, running, 'the fork-join');
    checkEqual(result.get_status(), ForkJoinStatus.COMPLETE, 'fork-join status');
    check(result.get_error() === null, 'a complete fork-join has no error');
    checkEqual(result.get_input(), QUESTION, 'input');

    const results = result.get_results();
    checkEqual(results.map(r => r.agent_name), TEAM.map(([name]) => name), 'results in agent order');
    checkEqual(results.map(r => statusNick(r.status)), ['success', 'success', 'success'], 'statuses');
    for (const r of results) {
        check(r.output?.includes(QUESTION), `${r.agent_name} answered the question: ${r.output}`);
        check(r.error === null && r.error_code === null, `${r.agent_name} has no error`);
        check(r.usage.output_tokens > 0, `${r.agent_name} reports output tokens`);
        checkEqual(r.attempts, 1, `${r.agent_name} attempts`);
    }

    const synthesis = result.get_synthesis_result();
    check(synthesis !== null, 'the llm synthesis has its own result');
    checkEqual(statusNick(synthesis.status), 'success', 'synthesis status');
    check(result.get_output()?.length > 0, 'the fork-join has the synthesis output');
    checkEqual(result.get_output(), synthesis.output, 'output is the synthesis output');

    // The synthesis request (the one after the three agents) carried every
    // agent's answer.
    const log = simulatorStats(simulator).log;
    checkEqual(log.length, 4, 'requests sent (three agents, one synthesis)');
    const synthesisRequest = log.find(entry => !TEAM.some(([, instr]) => entry.system === instr));
    check(synthesisRequest !== undefined, 'the simulator saw the synthesis request');
    for (const r of results) {
        const firstLine = r.output.split('\n')[0].slice(0, 60);
        check(synthesisRequest.user.includes(firstLine), `the synthesis was sent ${r.agent_name}'s answer`);
    }

    const usage = result.get_usage();
    const sum = results.reduce((n, r) => n + r.usage.output_tokens, synthesis.usage.output_tokens);
    checkEqual(usage.output_tokens, sum, 'total output tokens add up');
}

async function testFailingAgent() {
    const team = [TEAM[0], ['broken-analyst', 'You are a broken analyst.'], TEAM[2]];
    const runner = Forkjoin.AgentRunner.new(client);
    const task = Forkjoin.ForkJoinTask.new(runner, synthesizer('concat'));
    task.set_min_successes(2);

    const result = await within(30, task.run_async(agentModel(team), QUESTION, null), 'the fork-join');
    checkEqual(result.get_status(), ForkJoinStatus.DEGRADED, 'fork-join status with one failure');
    const results = result.get_results();
    checkEqual(results.map(r => statusNick(r.status)), ['success', 'failed', 'success'], 'statuses');

    const broken = results[1];
    check(broken.output === null, 'the failed agent has no output');
    checkEqual(broken.error_code, 'invalid-request', 'error code');
    const error = broken.get_error();
    check(error instanceof GLib.Error, `get_error() gives a GLib.Error (got ${error})`);
    check(error.matches(Forkjoin.Error, Forkjoin.Error.INVALID_REQUEST),
        `the error is FJ_ERROR_INVALID_REQUEST (got ${error.domain}/${error.code})`);
    check(broken.error instanceof GLib.Error && broken.error.message === error.message,
        'the error property is the same error');
    check(error.message.includes('broken-analyst'), `the message names the agent: ${error.message}`);
    checkEqual(broken.error_message, error.message, 'error-message');

    const out = result.get_output();
    check(out.includes(results[0].output.trim()) && out.includes(results[2].output.trim()),
        'concat joined the two answers');
    check(/- broken-analyst: failed \(invalid-request\)/.test(out), `concat lists the missing agent: ${out}`);
}

async function testJavaScriptTool() {
    const lookup = new LookupTool();
    const failing = new FailingTool({name: 'lookup', main_thread: true});
    const runner = Forkjoin.AgentRunner.new(client);
    const task = Forkjoin.ForkJoinTask.new(runner, synthesizer('concat'));
    const tools = {
        'market-analyst': [lookup],
        'technical-analyst': [failing],
        'financial-analyst': [lookup],
    };

    const result = await within(30, task.run_async(agentModel(TEAM, tools), QUESTION, null),
        'the fork-join');
    checkEqual(result.get_status(), ForkJoinStatus.COMPLETE, 'fork-join status');

    checkEqual(lookup.calls.length, 2, 'the JavaScript tool ran once per agent that has it');
    checkEqual(lookup.calls.map(c => c.input), [{ticker: 'ACME'}, {ticker: 'ACME'}], 'the input it got');
    check(lookup.calls.every(c => c.onMainThread), 'it ran on the thread that owns the main context');

    const [market, technical, financial] = result.get_results();
    const quoted = [market, financial].map(r => r.output.match(/the lookup tool returned "([^"]*)"/)?.[1]);
    checkEqual(quoted.sort(), ['ACME at 42.1', 'ACME at 42.2'], 'the answers quote what the tool returned');
    checkEqual([market.turns, financial.turns], [2, 2], 'turns of the agents with the tool');

    checkEqual(statusNick(technical.status), 'success', 'a tool error does not fail the agent');
    check(technical.output.includes('the lookup tool returned "Error: no quote for ACME today"'),
        `the model read the exception's message: ${technical.output}`);
}

// Follows a results model: its items-changed emissions, and for each item
// that appears, its status when it appeared and every status and output
// it is notified of afterwards.
class ModelObserver {
    constructor(model) {
        this.model = model;
        this.changes = [];
        this.items = new Map();
        this._id = model.connect('items-changed', (_model, position, removed, added) => {
            this.changes.push([position, removed, added]);
            for (let i = position; i < position + added; i++)
                this._watch(model.get_item(i), i);
        });
    }

    _watch(item, position) {
        const seen = {position, statuses: [statusNick(item.status)], outputs: []};
        this.items.set(item, seen);
        item.connect('notify::status', () => seen.statuses.push(statusNick(item.status)));
        item.connect('notify::output', () => seen.outputs.push(item.output ?? ''));
    }

    stop() {
        this.model.disconnect(this._id);
    }
}

async function testResultsModelLive() {
    const runner = Forkjoin.AgentRunner.new(client);
    runner.set_max_concurrent(2);
    const task = Forkjoin.ForkJoinTask.new(runner, synthesizer('concat'));
    const model = runner.get_results();
    checkEqual(model.get_n_items(), 0, 'the model is empty before a run');

    const observer = new ModelObserver(model);
    try {
        const running = task.run_async(agentModel(TEAM), QUESTION, null);
        // Before the main loop runs again: every agent has its result already.
        checkEqual(model.get_n_items(), TEAM.length, 'items right after starting');
        checkEqual(observer.changes, [[0, 0, 3]], 'one items-changed adding all the agents');
        const items = [...Array(TEAM.length).keys()].map(i => model.get_item(i));
        checkEqual(items.map(r => r.agent_name), TEAM.map(([name]) => name), 'items in agent order');
        checkEqual(items.map(r => [r.index, observer.items.get(r).position]), [[0, 0], [1, 1], [2, 2]],
            'item indexes and positions');
        checkEqual(items.map(r => observer.items.get(r).statuses[0]), ['pending', 'pending', 'pending'],
            'every item is pending when it appears');
        checkEqual(statusNick(items[2].status), 'pending', 'the third agent waits for a slot');
        check(items.every(r => !r.finished), 'no item is finished yet');

        const result = await within(30, running, 'the fork-join');
        checkEqual(result.get_status(), ForkJoinStatus.COMPLETE, 'fork-join status');
        check(result.get_results().every((r, i) => r === items[i]), 'the model holds the very results returned');

        for (const item of items) {
            const name = item.agent_name;
            const {statuses, outputs} = observer.items.get(item);
            checkEqual(statuses, ['pending', 'running', 'success'], `${name} status transitions`);
            check(outputs.length >= 2, `${name}: output notified while streaming (${outputs.length} times)`);
            check(outputs.every((text, i) => i === 0 || text.startsWith(outputs[i - 1])),
                `${name}: each notification extends the output`);
            checkEqual(outputs[outputs.length - 1], item.output,
                `${name}: the last notification has the final output`);
        }
        checkEqual([runner.n_succeeded, runner.n_pending, runner.n_running], [3, 0, 0], 'counters at the end');

        // Running again replaces every item with a new pending result.
        const again = task.run_async(agentModel(TEAM), QUESTION, null);
        checkEqual(observer.changes, [[0, 0, 3], [0, 3, 3]], 'a new run replaces the items');
        const fresh = [0, 1, 2].map(i => model.get_item(i));
        check(fresh.every((r, i) => r !== items[i] && observer.items.get(r).statuses[0] === 'pending'),
            'the new items are new results, pending when they appear');
        await within(30, again, 'the second fork-join');
        checkEqual(fresh.map(r => statusNick(r.status)), ['success', 'success', 'success'],
            'second run statuses');
    } finally {
        observer.stop();
    }
}

async function testJavaScriptSynthesizer() {
    const team = [TEAM[0], ['broken-analyst', 'You are a broken analyst.'], TEAM[2]];
    const synth = new RollCallSynthesizer();
    const runner = Forkjoin.AgentRunner.new(client);
    const task = Forkjoin.ForkJoinTask.new(runner, synth);
    task.set_min_successes(2);

    const result = await within(30, task.run_async(agentModel(team), QUESTION, null), 'the fork-join');
    checkEqual(synth.calls.length, 1, 'the JavaScript synthesizer ran once');
    const [call] = synth.calls;
    check(call.onMainThread, 'it ran on the thread that owns the main context');
    checkEqual(call.input, QUESTION, 'it got the input');
    check(call.results.every(r => r instanceof Forkjoin.AgentResult), 'it got AgentResult objects');
    checkEqual(call.results.map(r => r.agent_name), team.map(([name]) => name),
        'it got every result, failed included');

    checkEqual(result.get_status(), ForkJoinStatus.DEGRADED, 'fork-join status');
    checkEqual(result.get_output(),
        `${QUESTION}: market-analyst, financial-analyst (missing broken-analyst/invalid-request)`,
        'its return value is the fork-join output');
    check(result.get_synthesis_result() === null,
        'a synthesizer without a model run has no result of its own');
}

async function testFailingSynthesizer() {
    const synth = new FailingSynthesizer();
    const task = Forkjoin.ForkJoinTask.new(Forkjoin.AgentRunner.new(client), synth);

    synth.throws = true;
    let result = await within(30, task.run_async(agentModel(TEAM), QUESTION, null), 'the fork-join');
    checkEqual(result.get_status(), ForkJoinStatus.FAILED, 'status when the synthesizer throws');
    check(result.get_error()?.message.includes(`cannot merge the answers on ${QUESTION}`),
        `the error has the exception's message: ${result.get_error()?.message}`);
    checkEqual(result.get_results().map(r => statusNick(r.status)),
        ['success', 'success', 'success'], 'the agents kept their results');

    synth.throws = false;
    result = await within(30, task.run_async(agentModel(TEAM), QUESTION, null), 'the fork-join');
    checkEqual(result.get_status(), ForkJoinStatus.FAILED, 'status when the synthesizer returns null');
    const error = result.get_error();
    check(error?.matches(Forkjoin.Error, Forkjoin.Error.PLUGIN) &&
        error.message.includes('FjGjsFailingSynthesizer returned neither a synthesis nor an error'),
    `a null synthesis is a plugin error: ${error?.message}`);
}

runTests([
    ['a fork-join of three agents through Gio._promisify and await', testForkJoin],
    ["a failing agent's error is a field of its result", testFailingAgent],
    ['a tool written in JavaScript runs on the main thread', testJavaScriptTool],
    ["the runner's results model is observed live", testResultsModelLive],
    ['a synthesizer written in JavaScript is the join', testJavaScriptSynthesizer],
    ['a JavaScript synthesizer that throws or returns null fails the fork-join', testFailingSynthesizer],
], () => simulator.stop());
