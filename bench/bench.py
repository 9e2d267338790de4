#!/usr/bin/python3
# bench/bench.py — forkjoin against the peer a user would pick instead: the
# official TypeScript SDK (@anthropic-ai/sdk) with Promise.allSettled and a
# semaphore (bench/peers/node/fanout.mjs).  Not part of CI.
#
# How to run it
#   make bench                              # builds, installs node/npm if missing, full run
#   ./bench/bench.py BUILDDIR [--runs N] [--quick] [--only 1,2,...]
#
#   BUILDDIR   a meson build dir of this tree (default: build)
#   --runs N   runs of each side per scenario (default 5), alternating
#              ours, theirs, ours, ...
#   --quick    a smoke run: few agents (same ideal walls), 2 runs each
#   --only     run only these scenarios (1-5)
#
# The peer's dependencies are installed with `npm ci` into
# bench/peers/node/node_modules (pinned in package-lock.json) when missing.
#
# For each scenario one `forkjoin-tool simulate` process serves both sides
# on loopback with the same scenario file.  Per run: wall time of the
# process, its user+sys CPU and peak RSS (os.wait4 rusage), the wall time
# the client reports itself (forkjoin-tool's `wall_ms`), and the CPU the
# simulator spent during the run (/proc/PID/stat).  Medians with min and
# max, ratios ours/theirs, and the targets as PASS/MISS go to stdout
# and bench/RESULTS.md.
#
# Scenarios (ideal wall = scripted latencies on the critical path):
#   1  3 agents, 1 s latency, no synthesis, unlimited concurrency (ideal
#      1.0 s), and the same sequential (ideal 3.0 s)
#   2  1,000 agents, max-concurrent 100, 200 ms, plus a 200 ms synthesis
#      (ideal 2.2 s)
#   3  scenario 2 streaming 500 output tokens per agent at 2,000 tokens/s
#      (ideal 10 x 0.45 + 0.2 = 4.7 s)
#   4  10,000 agents, max-concurrent 1,000, 100 ms, no synthesis (ideal 1.0 s)
#   5  scenario 2 from Python through introspection (bench/py-fanout.py),
#      against `forkjoin-tool run` on the same simulator
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse
import datetime
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
PEER = os.path.join(HERE, 'peers', 'node')
# Scenario 5 needs python3-gi, which only the system interpreter has (a
# python3 earlier on PATH may not).
GI_PYTHON = "/usr/bin/python3"
CLK_TCK = os.sysconf('SC_CLK_TCK')
TIME = '/usr/bin/time'

SYNTH_MATCH = 'synthesizer'


# ------------------------------------------------------------------ setup

def parse_args():
    p = argparse.ArgumentParser(description='forkjoin-tool against the Node SDK peer')
    p.add_argument('builddir', nargs='?', default='build')
    p.add_argument('--runs', type=int, default=5)
    p.add_argument('--quick', action='store_true')
    p.add_argument('--only', default='1,2,3,4,5')
    p.add_argument('--results', default=os.path.join(HERE, 'RESULTS.md'))
    a = p.parse_args()
    if a.quick and '--runs' not in sys.argv:
        a.runs = 2
    a.only = {int(x) for x in a.only.split(',') if x}
    a.builddir = os.path.abspath(a.builddir)
    return a


def build_env(builddir):
    plugin_dirs = [os.path.join(builddir, 'plugins', d) for d in
                   ('synthesis/concat', 'synthesis/llm', 'synthesis/vote', 'policy/quorum',
                    'policy/budget', 'tools/read-file', 'tools/clock')]
    env = dict(os.environ)
    for k in ('ANTHROPIC_BASE_URL', 'ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN'):
        env.pop(k, None)
    env['FORKJOIN_PLUGIN_PATH'] = ':'.join(plugin_dirs)
    env['GI_TYPELIB_PATH'] = ':'.join(filter(None, [os.path.join(builddir, 'lib'),
                                                    os.environ.get('GI_TYPELIB_PATH')]))
    env['LD_LIBRARY_PATH'] = ':'.join(filter(None, [os.path.join(builddir, 'lib'),
                                                    os.environ.get('LD_LIBRARY_PATH')]))
    env['GIO_USE_PROXY_RESOLVER'] = 'dummy'
    env['NO_PROXY'] = env['no_proxy'] = '127.0.0.1,localhost'
    for k in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'):
        env.pop(k, None)
    return env


def ensure_peer():
    if not os.path.isdir(os.path.join(PEER, 'node_modules', '@anthropic-ai', 'sdk')):
        print('bench: npm ci in bench/peers/node', file=sys.stderr)
        subprocess.run(['npm', 'ci', '--no-audit', '--no-fund'], cwd=PEER, check=True)


def versions():
    node = subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()
    with open(os.path.join(PEER, 'node_modules', '@anthropic-ai', 'sdk', 'package.json')) as f:
        sdk = json.load(f)['version']
    return node, sdk


def cpu_model():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


# ------------------------------------------------------------------ scenarios

def make_scenarios(quick):
    """Each: key, title, spec (ours and theirs), simulator scenario, ideal,
    and the variants run against it."""
    def agents(n):
        return [{'name': f'agent-{i:05d}',
                 'instructions': f'You are analyst number {i}. Answer in one short paragraph.'}
                for i in range(n)]

    def spec(n, cap, stream, synthesis):
        s = {
            'input': 'Analyze Q3 performance for ACME Corp',
            'defaults': {'model': 'claude-haiku-5-5', 'max_tokens': 1024, 'timeout': 60,
                         'stream': stream},
            'agents': agents(n),
            'runner': {'max_concurrent': cap},
        }
        if synthesis:
            s['synthesis'] = {'plugin': 'llm', 'model': 'claude-haiku-5-5', 'max_tokens': 1024}
        return s

    def sim(latency, tokens, tps, synthesis):
        s = {'seed': 1, 'latency': latency, 'output_tokens': tokens, 'tokens_per_second': tps}
        if synthesis:
            s['agents'] = [{'name': 'synthesis', 'match': SYNTH_MATCH, 'latency': 0.2,
                            'output_tokens': 60, 'tokens_per_second': 0}]
        return s

    n2, c2 = (100, 10) if quick else (1000, 100)
    n4, c4 = (1000, 100) if quick else (10000, 1000)
    return [
        {'key': 1, 'title': f'1. 3 agents, 1 s, fork only',
         'spec': spec(3, 0, False, False), 'sim': sim(1.0, 20, 0, False),
         'variants': [('parallel', [], 1.0), ('sequential', ['--sequential'], 3.0)]},
        {'key': 2, 'title': f'2. {n2} agents, max-concurrent {c2}, 200 ms + 200 ms synthesis',
         'spec': spec(n2, c2, False, True), 'sim': sim(0.2, 20, 0, True),
         'variants': [('', [], 10 * 0.2 + 0.2)]},
        {'key': 3, 'title': f'3. as 2, streaming 500 tokens at 2,000 tokens/s',
         'spec': spec(n2, c2, True, True), 'sim': sim(0.2, 500, 2000, True),
         'variants': [('', [], 10 * 0.45 + 0.2)]},
        {'key': 4, 'title': f'4. {n4} agents, max-concurrent {c4}, 100 ms',
         'spec': spec(n4, c4, False, False), 'sim': sim(0.1, 20, 0, False),
         'variants': [('', [], 10 * 0.1)]},
        {'key': 5, 'title': f'5. scenario 2 from Python (gi) vs forkjoin-tool',
         'spec': spec(n2, c2, False, True), 'sim': sim(0.2, 20, 0, True),
         'variants': [('', [], 10 * 0.2 + 0.2)], 'python': True},
    ]


# ------------------------------------------------------------------ running

class Simulator:
    def __init__(self, tool, scenario_path, env):
        self.proc = subprocess.Popen([tool, 'simulate', '--scenario', scenario_path],
                                     stdout=subprocess.PIPE, text=True, env=env)
        lines = {}
        for _ in range(2):
            line = self.proc.stdout.readline().strip()
            if '=' not in line:
                raise RuntimeError(f'simulator said {line!r}')
            k, v = line.split('=', 1)
            lines[k] = v
        self.url = lines['ANTHROPIC_BASE_URL']
        self.key = lines['ANTHROPIC_API_KEY']

    def cpu(self):
        with open(f'/proc/{self.proc.pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def stats(self):
        try:
            with urllib.request.urlopen(self.url + '/__stats', timeout=30) as r:
                return json.load(r)
        except Exception as e:  # noqa: BLE001
            return {'error': str(e)}

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def measure(argv, env, cwd=None):
    """Runs argv, returns (wall_s, cpu_s, maxrss_kib, rc, stdout, stderr)."""
    # Linux keeps the high-water RSS of the image a process replaces in
    # execve, so a child forked from this (larger) Python process would
    # report at least our RSS: the child is forked from /usr/bin/time
    # instead, which reports the child's own peak RSS (%M, KiB).  CPU comes
    # from wait4 (time's own share is a few hundred microseconds).
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
         tempfile.NamedTemporaryFile('r') as tv:
        start = time.monotonic()
        proc = subprocess.Popen([TIME, '-f', '%M', '-o', tv.name, *argv],
                                stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        try:
            maxrss = int(tv.read().strip().splitlines()[-1])
        except (ValueError, IndexError):
            maxrss = ru.ru_maxrss
        return (wall, ru.ru_utime + ru.ru_stime, maxrss, proc.returncode,
                out.read().decode(errors='replace'), err.read().decode(errors='replace'))


def summarize_ours(stdout):
    doc = json.loads(stdout)
    agents = doc.get('agents', [])
    ok = sum(1 for a in agents if a.get('status') == 'success')
    return {'succeeded': ok, 'failed': len(agents) - ok, 'inner_ms': doc.get('wall_ms'),
            'status': doc.get('status'), 'synthesis': doc.get('synthesis') is not None}


def summarize_json_line(stdout):
    doc = json.loads(stdout.strip().splitlines()[-1])
    return {'succeeded': doc.get('succeeded'), 'failed': doc.get('failed'),
            'inner_ms': doc.get('wall_ms'), 'status': doc.get('status'),
            'synthesis': doc.get('synthesis')}


def one_run(side, argv, env, sim):
    c0 = sim.cpu()
    wall, cpu, rss, rc, out, err = measure(argv, env)
    sim_cpu = sim.cpu() - c0
    try:
        summary = summarize_ours(out) if side == 'ours' else summarize_json_line(out)
    except (ValueError, IndexError) as e:
        summary = {'error': f'{e}'}
    if rc != 0 or 'error' in summary:
        sys.stderr.write(f'bench: {side} exited {rc}: {err[-2000:]}\n')
    return dict(summary, wall_s=wall, cpu_s=cpu, rss_kib=rss, rc=rc, sim_cpu_s=sim_cpu)


def run_scenario(sc, args, env, tool, tmp):
    spec_path = os.path.join(tmp, f'spec-{sc["key"]}.json')
    sim_path = os.path.join(tmp, f'scenario-{sc["key"]}.json')
    with open(spec_path, 'w') as f:
        json.dump(sc['spec'], f, indent=1)
    with open(sim_path, 'w') as f:
        json.dump(sc['sim'], f, indent=1)

    sim = Simulator(tool, sim_path, env)
    renv = dict(env, ANTHROPIC_BASE_URL=sim.url, ANTHROPIC_API_KEY=sim.key)
    out = []
    try:
        for label, extra, ideal in sc['variants']:
            ours_argv = [tool, 'run', '--json', *extra, spec_path]
            if sc.get('python'):
                sides = [('ours', ours_argv),
                         ('python', [GI_PYTHON, os.path.join(HERE, 'py-fanout.py'), spec_path])]
            else:
                sides = [('ours', ours_argv),
                         ('theirs', ['node', os.path.join(PEER, 'fanout.mjs'), *extra, spec_path])]
            rows = {s: [] for s, _ in sides}
            for i in range(args.runs):
                for side, argv in sides:
                    r = one_run(side, argv, renv, sim)
                    rows[side].append(r)
                    print(f'  {sc["key"]}{label[:1]} run {i + 1} {side:7s} wall {r["wall_s"]:.3f} s'
                          f' cpu {r["cpu_s"]:.3f} s rss {r["rss_kib"] / 1024:.1f} MiB'
                          f' sim-cpu {r["sim_cpu_s"]:.2f} s ok {r.get("succeeded")}'
                          f' fail {r.get("failed")}', file=sys.stderr)
            out.append({'label': label, 'ideal': ideal, 'rows': rows})
        stats = sim.stats()
    finally:
        sim.stop()
    return {'key': sc['key'], 'title': sc['title'], 'variants': out, 'sim_stats': stats}


# ------------------------------------------------------------------ report

def agg(rows, field):
    vals = [r[field] for r in rows if r.get(field) is not None]
    if not vals:
        return None
    return statistics.median(vals), min(vals), max(vals)


def fmt(a, scale=1.0, digits=3):
    if a is None:
        return 'n/a'
    m, lo, hi = (x * scale for x in a)
    return f'{m:.{digits}f} ({lo:.{digits}f}–{hi:.{digits}f})'


def med(rows, field):
    a = agg(rows, field)
    return a[0] if a else None


def ratio(a, b):
    return a / b if a is not None and b else None


def table(results):
    head = ['scenario', 'side', 'wall s', 'own wall_ms', 'CPU s', 'peak RSS MiB',
            'sim CPU s', 'ok/failed', 'ideal s', 'wall/ideal']
    lines = []
    for res in results:
        for v in res['variants']:
            name = res['title'] + (f' — {v["label"]}' if v['label'] else '')
            for side, rows in v['rows'].items():
                ok = '/'.join('n/a' if med(rows, f) is None else f'{med(rows, f):g}'
                              for f in ('succeeded', 'failed'))
                w = med(rows, 'wall_s')
                lines.append([name, side, fmt(agg(rows, 'wall_s')), fmt(agg(rows, 'inner_ms'), 1, 0),
                              fmt(agg(rows, 'cpu_s')), fmt(agg(rows, 'rss_kib'), 1 / 1024, 1),
                              fmt(agg(rows, 'sim_cpu_s'), 1, 2), ok, f'{v["ideal"]:.2f}',
                              f'{w / v["ideal"]:.3f}' if w else 'n/a'])
                name = ''
    return head, lines


def ratios(results):
    head = ['scenario', 'compared', 'wall', 'CPU', 'peak RSS']
    lines = []
    for res in results:
        for v in res['variants']:
            sides = list(v['rows'])
            a, b = v['rows'][sides[0]], v['rows'][sides[1]]
            name = res['title'] + (f' — {v["label"]}' if v['label'] else '')
            r = [ratio(med(a, f), med(b, f)) for f in ('wall_s', 'cpu_s', 'rss_kib')]
            if res['key'] == 5:  # python / C
                r = [ratio(med(b, f), med(a, f)) for f in ('wall_s', 'cpu_s', 'rss_kib')]
                cmp = 'python / forkjoin-tool'
            else:
                cmp = 'ours / theirs'
            lines.append([name, cmp] + [f'{x:.3f}' if x is not None else 'n/a' for x in r])
    return head, lines


def targets(results):
    by = {r['key']: r for r in results}
    out = []

    def add(name, value, limit, ok_if_le=True, unit='', rows=()):
        # A figure from runs that failed measures the failure, not the target.
        broken = sum(1 for r in rows if r.get('rc') != 0 or 'error' in r)
        if broken:
            out.append(('FAIL', name, f'{broken} of {len(rows)} runs failed (see the log)'))
            return
        if value is None:
            out.append(('n/a', name, 'not measured'))
            return
        ok = value <= limit if ok_if_le else value >= limit
        out.append(('PASS' if ok else 'MISS', name, f'{value:.3f}{unit} (limit {limit:.3f}{unit})'))

    def side(key, variant, s):
        return by[key]['variants'][variant]['rows'][s]

    if 1 in by:
        par, seq = side(1, 0, 'ours'), side(1, 1, 'ours')
        add('S1 ours parallel wall ≤ 1.05 × ideal', med(par, 'wall_s'), 1.05 * 1.0, unit=' s', rows=par)
        if med(par, 'wall_s') and med(seq, 'wall_s'):
            cut = 1 - med(par, 'wall_s') / med(seq, 'wall_s')
            add('S1 parallel cuts ≥ 65 % off sequential', cut * 100, 65, ok_if_le=False, unit=' %',
                rows=par + seq)
    for key, lim_inner, lim_proc in ((2, 1.05, 1.10), (3, None, 1.10)):
        if key not in by:
            continue
        v = by[key]['variants'][0]
        ours = v['rows']['ours']
        if lim_inner:
            inner = med(ours, 'inner_ms')
            add(f'S{key} own wall_ms ≤ {lim_inner:.2f} × ideal', inner / 1000 if inner else None,
                lim_inner * v['ideal'], unit=' s', rows=ours)
        add(f'S{key} process wall ≤ {lim_proc:.2f} × ideal', med(ours, 'wall_s'),
            lim_proc * v['ideal'], unit=' s', rows=ours)
    for key in (2, 3, 4):
        if key not in by:
            continue
        ours, theirs = side(key, 0, 'ours'), side(key, 0, 'theirs')
        add(f'S{key} CPU ours/theirs ≤ 1/6', ratio(med(ours, 'cpu_s'), med(theirs, 'cpu_s')), 1 / 6,
            rows=ours + theirs)
        add(f'S{key} peak RSS ours/theirs ≤ 1/8', ratio(med(ours, 'rss_kib'), med(theirs, 'rss_kib')), 1 / 8,
            rows=ours + theirs)
        if key == 4:
            add('S4 wall ours/theirs ≤ 1/3', ratio(med(ours, 'wall_s'), med(theirs, 'wall_s')), 1 / 3,
                rows=ours + theirs)
    if 5 in by:
        ours, py = side(5, 0, 'ours'), side(5, 0, 'python')
        add('S5 Python CPU ≤ 1.5 × forkjoin-tool CPU', ratio(med(py, 'cpu_s'), med(ours, 'cpu_s')), 1.5,
            rows=ours + py)
    return out


def text_table(head, lines):
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines)]
    fmt_line = lambda row: '  '.join(str(x).ljust(w) for x, w in zip(row, widths))  # noqa: E731
    return '\n'.join([fmt_line(head), fmt_line(['-' * w for w in widths])] + [fmt_line(r) for r in lines])


def md_table(head, lines):
    return '\n'.join(['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)] +
                     ['| ' + ' | '.join(str(x) for x in r) + ' |' for r in lines])


def write_results(path, args, results, meta):
    t_head, t_lines = table(results)
    r_head, r_lines = ratios(results)
    tg = targets(results)
    now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    parts = [
        '# forkjoin benchmark: forkjoin-tool against the Node SDK peer',
        '',
        f'Written by `bench/bench.py` ({"--quick, " if args.quick else ""}{args.runs} runs per side, '
        'alternating) — do not edit by hand.',
        '',
        f'- date: {now}',
        f'- machine: `nproc` = {os.cpu_count()}, CPU: {meta["cpu"]}',
        f'- node {meta["node"]}, @anthropic-ai/sdk {meta["sdk"]}, Python {platform.python_version()}',
        f'- forkjoin build: `{os.path.relpath(args.builddir, TOP)}`',
        '',
        'Medians with (min–max). wall = the client process from spawn to exit; own wall_ms = what the',
        'client reports itself (forkjoin-tool `wall_ms`, the peer\'s `performance.now()` around its',
        'fan-out); CPU = user+sys of the process (wait4 rusage); peak RSS = GNU time %M; sim CPU = the',
        'simulator\'s CPU during the run (one `forkjoin-tool simulate` per scenario, in its own',
        'process). Other work on the machine may make the figures noisy.',
        '',
        '## Figures',
        '',
        md_table(t_head, t_lines),
        '',
        '## Ratios (medians)',
        '',
        md_table(r_head, r_lines),
        '',
        '## Targets (issue 8)',
        '',
        md_table(['result', 'target', 'measured'], [list(t) for t in tg]),
        '',
        '## Simulator statistics per scenario (both sides, all runs, cumulative)',
        '',
    ]
    for res in results:
        st = res['sim_stats']
        keep = {k: v for k, v in st.items() if not isinstance(v, (list, dict))} if isinstance(st, dict) else st
        parts.append(f'- {res["title"]}: `{json.dumps(keep)}`')
    parts.append('')
    with open(path, 'w') as f:
        f.write('\n'.join(parts))
    return (t_head, t_lines), (r_head, r_lines), tg


def main():
    args = parse_args()
    tool = os.path.join(args.builddir, 'tools', 'forkjoin-tool')
    if not os.access(tool, os.X_OK):
        sys.exit(f'bench: no {tool}: build first (make build BUILDDIR=...)')
    env = build_env(args.builddir)
    ensure_peer()
    node, sdk = versions()
    meta = {'node': node, 'sdk': sdk, 'cpu': cpu_model()}

    results = []
    with tempfile.TemporaryDirectory(prefix='fj-bench-') as tmp:
        for sc in make_scenarios(args.quick):
            if sc['key'] not in args.only:
                continue
            print(f'bench: {sc["title"]}', file=sys.stderr)
            results.append(run_scenario(sc, args, env, tool, tmp))

    (th, tl), (rh, rl), tg = write_results(args.results, args, results, meta)
    print(f'forkjoin-tool vs node {node} + @anthropic-ai/sdk {sdk}; nproc {os.cpu_count()}, {meta["cpu"]}')
    print(f'{args.runs} runs per side{" (--quick)" if args.quick else ""}; medians (min–max)\n')
    print(text_table(th, tl))
    print()
    print(text_table(rh, rl))
    print()
    for t in tg:
        print(f'{t[0]:4s}  {t[1]}: {t[2]}')
    print(f'\nwrote {os.path.relpath(args.results)}')


if __name__ == '__main__':
    main()
