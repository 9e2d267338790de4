#!/usr/bin/python3
# bench/waves.py — where a fan-out's time goes, wave by wave.  Not run by
# the tests.
#
#   bench/waves.py [BUILDDIR] [AGENTS [MAX_CONCURRENT [LATENCY]]]
#
# Runs fj-bench-fanout against fj-bench-sim (1,000 agents, max-concurrent
# 100, 0.2 s: bench/scale.py's scenario A) with the simulator's per-request
# log, and splits the time past the ideal (AGENTS / MAX_CONCURRENT waves of
# LATENCY) into:
#
#   first wave   how long the first MAX_CONCURRENT requests took to reach
#                the simulator, from the first one;
#   simulator    how late each reply's first byte left, past its latency,
#                counted from the request's arrival;
#   turnaround   from a reply's end at the simulator to the arrival of the
#                request that took its place: the client reading the reply,
#                settling the agent, starting the next one and sending its
#                request, plus both main loops' waits.
#
# Agents are admitted first in, first out, so the k-th reply to finish makes
# room for the (MAX_CONCURRENT + k)-th request to arrive.  The slowest chain
# of agents that followed each other through one place is printed last.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile

build = sys.argv[1] if len(sys.argv) > 1 else 'build'
n_agents = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
cap = int(sys.argv[3]) if len(sys.argv) > 3 else 100
latency = float(sys.argv[4]) if len(sys.argv) > 4 else 0.2
env = dict(os.environ, GIO_USE_PROXY_RESOLVER='dummy')


def summary(values):
    values = sorted(values)
    return (f'mean {statistics.mean(values):.2f}, median {values[len(values) // 2]:.2f}, '
            f'p90 {values[int(0.9 * (len(values) - 1))]:.2f}, max {values[-1]:.2f} ms')


with tempfile.TemporaryDirectory() as tmp:
    log_path = os.path.join(tmp, 'log.json')
    sim = subprocess.Popen([os.path.join(build, 'bench', 'fj-bench-sim'), '--latency', str(latency),
                            '--output-tokens', '20', '--log', log_path],
                           stdout=subprocess.PIPE, text=True, env=env)
    url, key = sim.stdout.readline().split()
    out = subprocess.run([os.path.join(build, 'bench', 'fj-bench-fanout'), '--url', url,
                          '--agents', str(n_agents), '--max-concurrent', str(cap)],
                         capture_output=True, text=True, env=dict(env, FJ_BENCH_KEY=key))
    sim.send_signal(signal.SIGTERM)
    sim.communicate(timeout=30)
    if out.returncode != 0:
        sys.exit(f'waves.py: the fan-out failed:\n{out.stderr}')
    with open(log_path) as f:
        log = [e for e in json.load(f)['log'] if e['status'] == 200]

result = json.loads(out.stdout)
if len(log) != n_agents or cap >= n_agents:
    sys.exit(f'waves.py: {len(log)} successful requests for {n_agents} agents at max-concurrent {cap}')

log.sort(key=lambda e: e['arrival_ms'])
arrival = [e['arrival_ms'] for e in log]
first_byte = [e['first_byte_ms'] for e in log]
finish = [e['finish_ms'] for e in log]
latency_ms = latency * 1000
ideal_ms = -(-n_agents // cap) * latency_ms
by_finish = sorted(range(n_agents), key=lambda i: finish[i])
late = [first_byte[i] - arrival[i] - latency_ms for i in range(n_agents)]
turnaround = [arrival[cap + k] - finish[by_finish[k]] for k in range(n_agents - cap)]

print(f'{n_agents} agents, max-concurrent {cap}, {latency_ms:.0f} ms: '
      f'wall {result["wall_s"] * 1000:.1f} ms, ideal {ideal_ms:.0f} ms '
      f'({result["wall_s"] * 1000 / ideal_ms:.3f} x), client CPU {result["cpu_s"]:.3f} s')
print(f'  first wave:  the {cap}th request arrived {arrival[cap - 1] - arrival[0]:.1f} ms after the first')
print(f'  simulator:   first byte past the latency: {summary(late)}')
print(f'  turnaround:  reply end to the next request: {summary(turnaround)}')

# The chain that finished last, back to its first agent.
place_of = {by_finish[k]: cap + k for k in range(n_agents - cap)}
before = {after: i for i, after in place_of.items()}
chain = [max(range(n_agents), key=lambda i: finish[i])]
while chain[-1] in before:
    chain.append(before[chain[-1]])
chain.reverse()
parts = [f'start +{arrival[chain[0]] - arrival[0]:.1f}']
for i, j in zip(chain, chain[1:]):
    parts.append(f'simulator +{late[i]:.1f}, turnaround +{arrival[j] - finish[i]:.1f}')
parts.append(f'simulator +{late[chain[-1]]:.1f}')
print(f'  last chain ({len(chain)} agents): ' + ' | '.join(parts))
