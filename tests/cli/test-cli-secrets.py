#!/usr/bin/python3
# test-cli-secrets.py — the API key never leaks; key files, plain HTTP and
# plugin directories are checked before anything is trusted
#
# Copyright 2026 The forkjoin authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# TAP on stdout.  Environment (tests/cli/meson.build): FORKJOIN_TOOL, the
# binary; FORKJOIN_PLUGIN_PATH; FJ_DATA_DIR, the source data/ directory.
# Standard library only.  Every server is a `forkjoin-tool simulate` child
# on loopback; the non-loopback URLs used here are refused before any
# connection is made.

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import traceback

TOOL = os.environ["FORKJOIN_TOOL"]
DATA = os.environ["FJ_DATA_DIR"]
Q3 = os.path.join(DATA, "examples", "q3-analysis.json")

TMP = tempfile.TemporaryDirectory(prefix="fj-cli-secrets-")
# A key nothing else could print by accident.
KEY = "sk-ant-test-" + secrets.token_hex(16)
WRONG_KEY = "sk-ant-wrong-" + secrets.token_hex(16)
# The random keys of --simulate's in-process simulators.
SIM_KEY_RE = re.compile(r"sim-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
tests = []


def test(fn):
    tests.append(fn)
    return fn


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def path(*names):
    return os.path.join(TMP.name, *names)


def write(name, content, mode=None):
    with open(path(name), "w", encoding="utf-8") as f:
        if isinstance(content, str):
            f.write(content)
        else:
            json.dump(content, f, indent=2)
    if mode is not None:
        os.chmod(path(name), mode)
    return path(name)


def load_q3():
    with open(Q3, encoding="utf-8") as f:
        return json.load(f)


def env(**extra):
    """The test environment without credentials, all debug messages on."""
    e = {k: v for k, v in os.environ.items()
         if not k.startswith("ANTHROPIC_") and k != "FORKJOIN_PRICES"}
    e["G_MESSAGES_DEBUG"] = "all"
    e.update(extra)
    return e


def run(*args, environ=None, timeout=120):
    return subprocess.run([TOOL, *args], env=environ if environ is not None else env(),
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def expect_status(proc, status, what):
    check(proc.returncode == status,
          "%s: exit status %d, expected %d\nstderr: %s" % (what, proc.returncode, status,
                                                          proc.stderr.strip()[-2000:]))


def assert_no_secret(what, text, secret=KEY):
    check(secret not in text, "%s contains the key" % what)
    # Nor a recognisable piece of it (the random half).
    check(secret[-16:] not in text, "%s contains part of the key" % what)


def assert_clean(proc, what, files=(), secret=KEY):
    assert_no_secret(what + ": stdout", proc.stdout, secret)
    assert_no_secret(what + ": stderr", proc.stderr, secret)
    for name in files:
        with open(name, encoding="utf-8", errors="replace") as f:
            assert_no_secret("%s: %s" % (what, os.path.basename(name)), f.read(), secret)


FAST = write("fast.json", {"seed": 3, "latency": 0.05, "output_tokens": 20,
                           "tokens_per_second": 0})
STREAM = write("stream.json", {"seed": 3, "latency": 0.05, "output_tokens": 20,
                               "tokens_per_second": 400})
# Streams (the SSE path), and the technical analyst fails once (resume).
STREAM_DEGRADED = write("stream-degraded.json", {
    "seed": 3, "latency": 0.05, "output_tokens": 20, "tokens_per_second": 400,
    "agents": [{"name": "technical-analyst", "match": "technical analyst",
                "failures": [{"status": 400}]}]})


class Simulator:
    """`forkjoin-tool simulate --api-key KEY` as a child process."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([TOOL, "simulate", *args], env=env(G_MESSAGES_DEBUG=""),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        self.vars = {}
        for _ in range(2):
            line = self._readline(30)
            match = re.match(r"^(ANTHROPIC_BASE_URL|ANTHROPIC_API_KEY)=(\S+)\n$", line)
            check(match, "simulate's first lines must be VAR=value, got %r" % line)
            self.vars[match.group(1)] = match.group(2)
        self.url = self.vars["ANTHROPIC_BASE_URL"]
        # Nothing else is read from it: drain the rest so it never blocks.
        self._drain = threading.Thread(target=self.proc.stdout.read, daemon=True)
        self._drain.start()

    def _readline(self, timeout):
        watchdog = threading.Timer(timeout, self.kill)
        watchdog.start()
        try:
            line = self.proc.stdout.readline()
        finally:
            watchdog.cancel()
        if not line:
            raise Failure("simulate printed nothing (exit %s)" % self.proc.poll())
        return line

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        return False


def api_env(sim, key=KEY, **extra):
    return env(ANTHROPIC_BASE_URL=sim.url, ANTHROPIC_API_KEY=key, **extra)


# The key never shows


@test
def no_key_in_any_output_format_with_the_real_client():
    spec = write("q3.json", load_q3())
    with Simulator("--api-key", KEY, "--scenario", FAST) as sim:
        check(sim.vars["ANTHROPIC_API_KEY"] == KEY, "the simulator took another key")
        e = api_env(sim)
        formats = [[], ["--json"], ["--markdown"], ["--events"], ["--sequential"]]
        for args in formats:
            proc = run("run", spec, *args, environ=e)
            expect_status(proc, 0, "run %s" % " ".join(args))
            assert_clean(proc, "run %s" % " ".join(args))
            # G_MESSAGES_DEBUG=all really showed the library's messages.
            check("-DEBUG" in proc.stderr,
                  "run %s: no debug output on stderr: %r" % (" ".join(args), proc.stderr[:300]))

        output = path("run-output.json")
        timeline = path("run-timeline.svg")
        proc = run("run", spec, "--json", "--output", output, "--timeline", timeline, environ=e)
        expect_status(proc, 0, "run --output --timeline")
        assert_clean(proc, "run --output --timeline", [output, timeline])
        with open(output, encoding="utf-8") as f:
            check(json.load(f)["status"] == "complete", "the run was not complete")

        output_md = path("run-output.md")
        proc = run("run", spec, "--markdown", "--output", output_md, "--events", environ=e)
        expect_status(proc, 0, "run --markdown --output --events")
        assert_clean(proc, "run --markdown --output --events", [output_md])

        # bench sends with the same client.
        proc = run("bench", spec, "--runs", "1", "--widths", "1,3", "--json", environ=e)
        expect_status(proc, 0, "bench")
        assert_clean(proc, "bench")


@test
def no_key_in_streaming_runs_nor_in_resume():
    spec = write("resume.json", load_q3())
    first = path("resume-first.json")
    second = path("resume-second.json")
    timeline = path("resume-timeline.svg")
    with Simulator("--api-key", KEY, "--scenario", STREAM_DEGRADED) as sim:
        e = api_env(sim)
        proc = run("run", spec, "--json", "--events", "--output", first, environ=e)
        expect_status(proc, 0, "first run")
        assert_clean(proc, "first run", [first])
        with open(first, encoding="utf-8") as f:
            before = json.load(f)
        check(before["status"] == "degraded", "the first run was %r" % before["status"])

    # The scenario fails that agent every time: resume against another.
    with Simulator("--api-key", KEY, "--scenario", STREAM) as sim:
        e = api_env(sim)
        proc = run("resume", first, "--events", "--json", "--output", second,
                   "--timeline", timeline, environ=e)
        expect_status(proc, 0, "resume")
        assert_clean(proc, "resume", [second, timeline])
        with open(second, encoding="utf-8") as f:
            after = json.load(f)
        check(after["status"] == "complete", "the resumed run is %r: %r" % (
            after["status"], [(a["name"], a["status"], a["error"]) for a in after["agents"]]))


@test
def no_key_in_validate_plugins_or_simulate_runs():
    e = env(ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL="http://127.0.0.1:9")
    for name in ("q3-analysis.json", "research.json"):
        proc = run("validate", os.path.join(DATA, "examples", name), environ=e)
        expect_status(proc, 0, "validate %s" % name)
        assert_clean(proc, "validate %s" % name)
    proc = run("plugins", "--json", environ=e)
    expect_status(proc, 0, "plugins")
    assert_clean(proc, "plugins")

    # --simulate: the in-process simulator's random key never shows either.
    spec = write("sim.json", load_q3())
    output = path("sim-output.json")
    timeline = path("sim-timeline.svg")
    runs = [[], ["--json"], ["--markdown"], ["--events"],
            ["--json", "--output", output, "--timeline", timeline]]
    for args in runs:
        proc = run("run", "--simulate=" + FAST, spec, *args, environ=e)
        expect_status(proc, 0, "run --simulate %s" % " ".join(args))
        assert_clean(proc, "run --simulate %s" % " ".join(args))
        for text in (proc.stdout, proc.stderr):
            check(not SIM_KEY_RE.search(text), "run --simulate %s shows the simulator's key"
                  % " ".join(args))
    assert_clean(proc, "run --simulate", [output, timeline])
    for name in (output, timeline):
        with open(name, encoding="utf-8") as f:
            check(not SIM_KEY_RE.search(f.read()), "%s holds the simulator's key" % name)


@test
def no_key_in_errors_for_a_rejected_key():
    spec = load_q3()
    spec.setdefault("client", {})["max_retries"] = 0
    spec_path = write("rejected.json", spec)
    output = path("rejected-output.json")
    with Simulator("--api-key", KEY, "--scenario", FAST) as sim:
        proc = run("run", spec_path, "--json", "--output", output,
                   environ=api_env(sim, key=WRONG_KEY))
        expect_status(proc, 1, "run with a wrong key")
        for secret in (WRONG_KEY, KEY):
            assert_clean(proc, "run with a wrong key", [output], secret)
        with open(output, encoding="utf-8") as f:
            agents = json.load(f)["agents"]
        check(all(a["status"] != "success" for a in agents) and
              any(a["status"] == "failed" and a["error"]["code"] == "authentication"
                  for a in agents),
              "agents %r" % [(a["status"], a["error"]) for a in agents])


@test
def run_resume_and_bench_take_no_key_on_the_command_line():
    for command in ("run", "resume", "bench"):
        proc = run(command, "--help")
        expect_status(proc, 0, command + " --help")
        options = set(re.findall(r"--[a-z][a-z-]*", proc.stdout))
        keyish = sorted(o for o in options if "key" in o or "token" in o)
        check(keyish == ["--api-key-file"], "%s offers %r" % (command, keyish))
        proc = run(command, "--api-key=" + KEY, "x.json")
        expect_status(proc, 2, command + " --api-key")
        assert_clean(proc, command + " --api-key")
    # simulate --api-key is the simulator's own key, and says so.
    proc = run("simulate", "--help")
    expect_status(proc, 0, "simulate --help")
    check(re.search(r"--api-key=KEY\s+The key clients must send", proc.stdout),
          "simulate --help: %r" % proc.stdout)


# --api-key-file


@test
def api_key_file_mode_is_checked():
    spec = write("keyfile.json", load_q3())
    with Simulator("--api-key", KEY, "--scenario", FAST) as sim:
        e = env(ANTHROPIC_BASE_URL=sim.url)
        for mode in (0o600, 0o400):
            key_file = write("key-%o" % mode, KEY + "\n", mode)
            proc = run("run", "--api-key-file", key_file, spec, "--json", environ=e)
            expect_status(proc, 0, "run --api-key-file (mode %04o)" % mode)
            assert_clean(proc, "run --api-key-file (mode %04o)" % mode)
            os.chmod(key_file, 0o600)

        for mode in (0o640, 0o604, 0o644, 0o660, 0o602):
            key_file = write("key-%o" % mode, KEY + "\n", mode)
            for command in (["run", spec], ["bench", spec, "--runs", "1", "--widths", "1"]):
                proc = run(command[0], "--api-key-file", key_file, *command[1:], environ=e)
                what = "%s --api-key-file (mode %04o)" % (command[0], mode)
                expect_status(proc, 2, what)
                expected = ("forkjoin-tool: %s: readable by others (mode %04o); chmod 600 %s\n"
                            % (key_file, mode, key_file))
                check(expected in proc.stderr, "%s: stderr %r" % (what, proc.stderr[-500:]))
                check(proc.stdout == "", "%s: stdout %r" % (what, proc.stdout[:200]))
                assert_clean(proc, what)
            os.chmod(key_file, 0o600)

        # A missing file names the file and is a usage error too.
        proc = run("run", "--api-key-file", path("no-such-key"), spec, environ=e)
        expect_status(proc, 2, "run --api-key-file missing")
        check(path("no-such-key") in proc.stderr, "stderr %r" % proc.stderr)


# Plain HTTP


def insecure_spec(name, allow):
    spec = load_q3()
    spec["client"] = {"max_retries": 0}
    if allow is not None:
        spec["allow_insecure_http"] = allow
    return write(name, spec)


@test
def plain_http_to_another_host_is_refused():
    for allow in (None, False):
        spec = insecure_spec("insecure-%s.json" % allow, allow)
        for url in ("http://10.1.2.3", "http://example.com", "http://192.168.7.7:8080/api"):
            for command in (["run", spec], ["bench", spec, "--runs", "1", "--widths", "1"]):
                proc = run(*command, environ=env(ANTHROPIC_BASE_URL=url, ANTHROPIC_API_KEY=KEY),
                           timeout=60)
                what = "%s with ANTHROPIC_BASE_URL=%s" % (command[0], url)
                expect_status(proc, 2, what)
                check(url.rstrip("/") in proc.stderr and
                      '"allow_insecure_http": true' in proc.stderr,
                      "%s: stderr %r" % (what, proc.stderr[-500:]))
                check("plain-HTTP" in proc.stderr, "%s: stderr %r" % (what, proc.stderr[-500:]))
                assert_clean(proc, what)

    # Loopback and https are fine as they are.
    spec = insecure_spec("loopback.json", None)
    with Simulator("--api-key", KEY, "--scenario", FAST) as sim:
        port = sim.url.rsplit(":", 1)[1]
        for url in (sim.url, "http://localhost:" + port):
            proc = run("run", spec, "--json", environ=env(ANTHROPIC_BASE_URL=url,
                                                          ANTHROPIC_API_KEY=KEY))
            expect_status(proc, 0, "run on %s" % url)
            check("plain HTTP" not in proc.stderr and "allow_insecure_http" not in proc.stderr,
                  "run on %s warned: %r" % (url, proc.stderr[-500:]))


@test
def allow_insecure_http_warns_then_sends():
    spec = insecure_spec("allowed.json", True)

    proc = run("validate", spec)
    expect_status(proc, 0, "validate")
    check(re.search(r"warning: .*allow_insecure_http.*unencrypted", proc.stderr),
          "validate: no warning in %r" % proc.stderr)

    # 0.0.0.0 is not loopback, yet on Linux a connection to it reaches this
    # machine: the simulator on 127.0.0.1 answers.  Nothing leaves the host.
    with Simulator("--api-key", KEY, "--scenario", FAST) as sim:
        port = sim.url.rsplit(":", 1)[1]
        url = "http://0.0.0.0:" + port
        proc = run("run", spec, "--json", environ=env(ANTHROPIC_BASE_URL=url,
                                                      ANTHROPIC_API_KEY=KEY))
        check(proc.returncode in (0, 1), "run with allow_insecure_http: status %d, stderr %r"
              % (proc.returncode, proc.stderr[-500:]))
        check(re.search(r"forkjoin-tool: warning: sending over plain HTTP to "
                        + re.escape(url) + r" \(allow_insecure_http\)", proc.stderr),
              "no plain-HTTP warning: %r" % proc.stderr[-500:])
        check("refusing" not in proc.stderr, "refused anyway: %r" % proc.stderr[-500:])
        # It was sent: either the simulator answered or the connection failed.
        document = json.loads(proc.stdout)
        check(document["status"] == "complete" or
              all(a["status"] == "failed" for a in document["agents"]),
              "status %r" % document["status"])
        assert_clean(proc, "run with allow_insecure_http")


# Plugins


@test
def plugins_are_never_taken_from_the_current_directory():
    build_dirs = os.environ.get("FORKJOIN_PLUGIN_PATH", "")
    workdir = path("cwd")
    os.makedirs(workdir, exist_ok=True)
    os.chmod(workdir, 0o755)
    # A file the loader would complain about if it opened it.
    with open(os.path.join(workdir, "evil.so"), "w") as f:
        f.write("not a module\n")
    os.chmod(os.path.join(workdir, "evil.so"), 0o644)
    e = env(FORKJOIN_PLUGIN_PATH=".:" + build_dirs + "::relative/dir:")
    proc = subprocess.run([TOOL, "plugins", "--json"], env=e, capture_output=True, text=True,
                          timeout=60, cwd=workdir, stdin=subprocess.DEVNULL)
    expect_status(proc, 0, "plugins with . in FORKJOIN_PLUGIN_PATH")
    document = json.loads(proc.stdout)
    text = json.dumps(document["errors"])
    check("evil.so" not in text, "a module in the current directory was opened: %s" % text)
    check("must be absolute" in text and "relative/dir" in text,
          "no error for the relative entries: %s" % text)
    names = [p["name"] for p in document["plugins"]]
    check("concat" in names, "the build dirs were not loaded: %r" % names)


@test
def plugins_refuses_group_or_world_writable_modules():
    build_dirs = os.environ.get("FORKJOIN_PLUGIN_PATH", "").split(":")
    source = None
    for d in build_dirs:
        candidate = os.path.join(d, "synthesis-concat.so")
        if d and os.path.exists(candidate):
            source = candidate
    check(source is not None, "no synthesis-concat.so in %r" % build_dirs)

    unsafe_dir = path("unsafe-dir")
    os.makedirs(unsafe_dir, exist_ok=True)
    shutil.copy(source, os.path.join(unsafe_dir, "synthesis-concat.so"))
    os.chmod(os.path.join(unsafe_dir, "synthesis-concat.so"), 0o644)
    os.chmod(unsafe_dir, 0o777)

    unsafe_module_dir = path("unsafe-module")
    os.makedirs(unsafe_module_dir, exist_ok=True)
    os.chmod(unsafe_module_dir, 0o755)
    module = os.path.join(unsafe_module_dir, "synthesis-concat.so")
    shutil.copy(source, module)
    os.chmod(module, 0o666)

    for d, mode, what in ((unsafe_dir, "0777", unsafe_dir), (unsafe_module_dir, "0666", module)):
        proc = run("plugins", environ=env(FORKJOIN_PLUGIN_PATH=d))
        expect_status(proc, 0, "plugins with %s" % what)
        check(what in proc.stdout + proc.stderr and ("mode %s" % mode) in proc.stdout + proc.stderr,
              "plugins does not list %s (mode %s): %r" % (what, mode,
                                                        (proc.stdout + proc.stderr)[-800:]))
        proc = run("plugins", "--json", environ=env(FORKJOIN_PLUGIN_PATH=d))
        document = json.loads(proc.stdout)
        check(any(("mode %s" % mode) in json.dumps(err) for err in document["errors"]),
              "plugins --json errors: %r" % document["errors"])
        paths = [p.get("path", p.get("module")) for p in document["plugins"]]
        check(all(not str(p).startswith(d) for p in paths), "loaded from %s: %r" % (d, paths))
    os.chmod(unsafe_dir, 0o755)


def main():
    # Arguments, if any, pick the tests whose names contain one of them.
    selected = [fn for fn in tests
                if len(sys.argv) < 2 or any(arg in fn.__name__ for arg in sys.argv[1:])]
    print("1..%d" % len(selected))
    failed = 0
    for number, fn in enumerate(selected, 1):
        name = fn.__name__
        try:
            fn()
        except Exception as error:
            failed += 1
            print("not ok %d - %s" % (number, name))
            detail = str(error) if isinstance(error, Failure) else traceback.format_exc()
            for line in detail.splitlines():
                print("# " + line)
        else:
            print("ok %d - %s" % (number, name))
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
