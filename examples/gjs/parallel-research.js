#!/usr/bin/env -S gjs -m
// parallel-research.js — an academic researcher, an industry analyst and a
// trend forecaster answer one question in parallel; an LLM merges the views.
//
// Copyright 2026 The forkjoin authors
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Usage: gjs -m parallel-research.js [--simulate] [QUESTION]
// Reads ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN); --simulate uses the
// built-in simulator instead. The team is data/examples/research.json.

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import System from 'system';

import Forkjoin from 'gi://Forkjoin?version=1.0';

Gio._promisify(Forkjoin.ForkJoinTask.prototype, 'run_async', 'run_finish');

const args = ARGV.filter(arg => arg !== '--simulate');
const simulate = args.length < ARGV.length;
const [script] = GLib.filename_from_uri(import.meta.url);
const dataFile = name => GLib.build_filenamev([GLib.path_get_dirname(script), '..', '..', 'data', name]);

let client, simulator = null;
if (simulate) {
    const key = GLib.uuid_string_random();
    simulator = Forkjoin.Simulator.new();
    simulator.set_api_key(key);
    simulator.load_scenario_from_file(dataFile('scenarios/research.json'));
    simulator.start();
    client = Forkjoin.Client.new_for_base_url(simulator.dup_base_url());
    client.set_api_key(key);
} else {
    client = Forkjoin.Client.new();
    if (!client.has_credentials) {
        printerr('Set ANTHROPIC_API_KEY, or pass --simulate to use the built-in simulator');
        System.exit(2);
    }
}

// The llm synthesis plugin comes from FORKJOIN_PLUGIN_PATH or the
// installed plugin directory.
const registry = Forkjoin.PluginRegistry.get_default();
registry.load_default();
const spec = Forkjoin.Spec.new(registry);
spec.load_from_file(dataFile('examples/research.json'));
const task = spec.create_task(client);
const question = args[0] ?? spec.get_input();

task.runner.connect('agent-finished', (_runner, result) => {
    const ok = result.status === Forkjoin.AgentStatus.SUCCESS;
    print(`  ${ok ? '+' : 'x'} ${result.agent_name.padEnd(20)} ${ok ? 'success' : result.error_code}` +
        `  ${result.duration.toFixed(2)} s, ${result.attempts} attempt(s)`);
});
task.connect('synthesis-started', () => print('\n  synthesising...\n'));

print(`> ${question}\n`);
const loop = new GLib.MainLoop(null, false);
let exitStatus = 1;
task.run_async(spec.get_agents(), question, null).then(result => {
    print(result.get_output() ?? result.get_error().message);
    for (const r of result.get_results().filter(res => res.error !== null))
        print(`  missing: ${r.error_message}`);
    if (result.get_status() !== Forkjoin.ForkJoinStatus.FAILED)
        exitStatus = 0;
}).catch(e => printerr(e.message)).finally(() => loop.quit());
loop.run();

simulator?.stop();
System.exit(exitStatus);
