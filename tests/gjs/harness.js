// harness.js — TAP output, the in-process simulator and the main loop for
// the gjs tests
//
// Copyright 2026 The forkjoin authors
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Json from 'gi://Json';
import System from 'system';

import Forkjoin from 'gi://Forkjoin?version=1.0';

export const KEY = 'fj-test-key-7f3a9c1d';

class CheckError extends Error {}

// Throws (and so fails the current test) when @condition is false.
export function check(condition, what) {
    if (!condition)
        throw new CheckError(what);
}

export function checkEqual(actual, expected, what) {
    const a = JSON.stringify(actual);
    const e = JSON.stringify(expected);
    if (a !== e)
        throw new CheckError(`${what}: got ${a}, expected ${e}`);
}

// An in-process simulator on loopback serving @scenario, and a client for
// it holding the key.
export function startSimulator(scenario, {recordPrompts = false} = {}) {
    const simulator = Forkjoin.Simulator.new();
    simulator.set_api_key(KEY);
    simulator.load_scenario_from_data(JSON.stringify(scenario), -1);
    simulator.set_record_prompts(recordPrompts);
    simulator.start();

    const client = Forkjoin.Client.new_for_base_url(simulator.dup_base_url());
    client.set_api_key(KEY);
    return {simulator, client};
}

// The simulator's statistics (a JsonNode) as a plain object.
export function simulatorStats(simulator) {
    return JSON.parse(Json.to_string(simulator.get_stats(), false));
}

// Waits for @promise while the loop runs, failing after @seconds so that a
// lost callback fails the test instead of hanging it.
export function within(seconds, promise, what) {
    let id = 0;
    const timeout = new Promise((resolve, reject) => {
        id = GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, seconds, () => {
            id = 0;
            reject(new CheckError(`${what} did not finish within ${seconds} s`));
            return GLib.SOURCE_REMOVE;
        });
    });
    return Promise.race([promise, timeout]).finally(() => {
        if (id !== 0)
            GLib.source_remove(id);
    });
}

// Runs each [name, async function] as one TAP test inside a GLib.MainLoop
// on the default main context (where the simulator serves too), calls
// @teardown, then exits with 1 if any failed.
export function runTests(tests, teardown = () => {}) {
    const loop = new GLib.MainLoop(null, false);
    let failed = 0;

    print(`1..${tests.length}`);
    (async () => {
        for (const [i, [name, func]] of tests.entries()) {
            try {
                await func();
                print(`ok ${i + 1} - ${name}`);
            } catch (e) {
                failed++;
                const why = String(e.message ?? e).replace(/\n/g, ' ');
                print(`not ok ${i + 1} - ${name} # ${why}`);
                if (!(e instanceof CheckError) && e.stack)
                    print(e.stack.trimEnd().split('\n').map(l => `#   ${l}`).join('\n'));
            }
        }
    })().catch(e => {
        failed++;
        logError(e);
    }).finally(() => loop.quit());
    loop.run();
    teardown();
    System.exit(failed > 0 ? 1 : 0);
}
