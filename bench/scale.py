#!/usr/bin/python3
# bench/scale.py — the runner at scale against the simulator in its own
# process (issue: the fan-out engine).  Not run by the tests.
#
#   bench/scale.py [BUILDDIR]
#
# Scenario A: 1,000 agents, max-concurrent 100, 200 ms each (ideal 2.0 s).
# Scenario B: 10,000 agents, max-concurrent 1,000, 100 ms each (ideal 1.0 s).
# For each: wall time, CPU (user+sys) and peak RSS of the fan-out process,
# the simulator's connections and most requests in flight, and its CPU.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import resource
import signal
import subprocess
import sys
import time

build = sys.argv[1] if len(sys.argv) > 1 else 'build'
sim_bin = os.path.join(build, 'bench', 'fj-bench-sim')
fanout_bin = os.path.join(build, 'bench', 'fj-bench-fanout')
env = dict(os.environ, GIO_USE_PROXY_RESOLVER='dummy')


def run(n_agents, cap, latency, runs=3):
    rows = []
    for _ in range(runs):
        sim = subprocess.Popen([sim_bin, '--latency', str(latency), '--output-tokens', '20'],
                               stdout=subprocess.PIPE, text=True, env=env)
        url, key = sim.stdout.readline().split()
        start = time.monotonic()
        out = subprocess.run([fanout_bin, '--url', url, '--agents', str(n_agents),
                              '--max-concurrent', str(cap)],
                             capture_output=True, text=True, env=dict(env, FJ_BENCH_KEY=key))
        wall = time.monotonic() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        sim.send_signal(signal.SIGTERM)
        sim_out, _ = sim.communicate(timeout=30)
        sim_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
        result = json.loads(out.stdout)
        stats = json.loads(sim_out.strip().splitlines()[-1])
        rows.append({
            'wall_s': result['wall_s'],
            'process_wall_s': round(wall, 3),
            'cpu_s': result['cpu_s'],
            'peak_rss_mib': result['peak_rss_mib'],
            'succeeded': result['succeeded'],
            'sessions': result['sessions'],
            'connections': stats['connections'],
            'max_in_flight': stats['max_in_flight'],
            'sim_cpu_s': round((sim_usage.ru_utime - after.ru_utime) + (sim_usage.ru_stime - after.ru_stime), 3),
        })
    return rows


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


for label, n, cap, latency, ideal in (('A', 1000, 100, 0.2, 2.0), ('B', 10000, 1000, 0.1, 1.0)):
    rows = run(n, cap, latency)
    walls = [r['wall_s'] for r in rows]
    print(f'{label}: {n} agents, max-concurrent {cap}, {int(latency * 1000)} ms (ideal {ideal:.1f} s)')
    for r in rows:
        print('   ', json.dumps(r))
    print(f'    wall median {median(walls):.3f} s (min {min(walls):.3f}, max {max(walls):.3f}),'
          f' {median(walls) / ideal:.3f} x ideal')
