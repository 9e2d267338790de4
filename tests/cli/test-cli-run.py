#!/usr/bin/python3
# test-cli-run.py — forkjoin-tool run and resume against in-process simulators
#
# Copyright 2026 The forkjoin authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# TAP on stdout.  Environment (tests/cli/meson.build): FORKJOIN_TOOL, the
# binary; FORKJOIN_PLUGIN_PATH; FJ_DATA_DIR, the source data/ directory.
# Standard library only; every server is on loopback.

import hashlib
import http.server
import json
import os
import pty
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import xml.etree.ElementTree as ET

TOOL = os.environ["FORKJOIN_TOOL"]
DATA = os.environ["FJ_DATA_DIR"]
Q3 = os.path.join(DATA, "examples", "q3-analysis.json")
Q3_DEMO = os.path.join(DATA, "scenarios", "q3-demo.json")
Q3_AGENTS = ["market-analyst", "technical-analyst", "financial-analyst"]
AGENT_FIELDS = {"name", "status", "output", "partial_output", "error", "duration_ms",
                "attempts", "turns", "stop_reason", "usage", "cost_usd"}
USAGE_FIELDS = {"input_tokens", "output_tokens", "cache_creation_input_tokens",
                "cache_read_input_tokens"}
EVENTS = {"queued", "started", "first_token", "delta", "retrying", "paused", "finished",
          "synthesis_started", "synthesis_finished", "done"}
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

TMP = tempfile.TemporaryDirectory(prefix="fj-cli-run-")
tests = []


def test(fn):
    tests.append(fn)
    return fn


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def path(name):
    return os.path.join(TMP.name, name)


def write(name, content):
    with open(path(name), "w", encoding="utf-8") as f:
        if isinstance(content, str):
            f.write(content)
        else:
            json.dump(content, f, indent=2)
    return path(name)


def load_q3():
    with open(Q3, encoding="utf-8") as f:
        return json.load(f)


def env(**extra):
    """The test environment without credentials or a prices override."""
    e = {k: v for k, v in os.environ.items()
         if not k.startswith("ANTHROPIC_") and k != "FORKJOIN_PRICES"}
    e.update(extra)
    return e


def run(*args, environ=None, timeout=120, stdin_text=None):
    return subprocess.run([TOOL, *args], env=environ if environ is not None else env(),
                          capture_output=True, text=True, timeout=timeout,
                          input=stdin_text,
                          stdin=None if stdin_text is not None else subprocess.DEVNULL)


def expect_status(proc, status, what):
    check(proc.returncode == status,
          "%s: exit status %d, expected %d\nstderr: %s" % (what, proc.returncode, status,
                                                          proc.stderr.strip()[-2000:]))


def parse_events(text):
    events = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            event = json.loads(line)
        except ValueError:
            raise Failure("stdout line %d is not JSON: %r" % (number, line[:200]))
        check(isinstance(event, dict), "event line %d is not an object" % number)
        events.append(event)
    return events


def check_events(events, agents):
    """Format and order every --events stream must have."""
    check(len(events) > 0, "no events")
    for i, event in enumerate(events):
        check(event.get("event") in EVENTS, "unknown event %r" % event.get("event"))
        check(isinstance(event.get("seq"), int), "event %d: seq is not an integer" % i)
        check(isinstance(event.get("time"), str) and TIME_RE.match(event["time"]),
              "event %d: time %r is not RFC 3339 UTC with milliseconds" % (i, event.get("time")))
        if i > 0:
            check(event["seq"] > events[i - 1]["seq"], "seq does not increase at event %d" % i)
        if event["event"] in ("queued", "started", "first_token", "delta", "retrying",
                              "finished"):
            check(event.get("agent") in agents, "event %d: agent %r" % (i, event.get("agent")))
            check(event.get("index") == agents.index(event["agent"]),
                  "event %d: index %r for %s" % (i, event.get("index"), event["agent"]))
        else:
            check("agent" not in event, "event %d (%s) names an agent" % (i, event["event"]))
    check(events[0]["seq"] in (0, 1), "seq starts at %r" % events[0]["seq"])
    check(events[-1]["event"] == "done", "the last event is %r, not done" % events[-1]["event"])
    check(sum(1 for e in events if e["event"] == "done") == 1, "more than one done")

    # Per agent: queued < started < first_token < deltas < finished.
    for agent in agents:
        mine = [e for e in events if e.get("agent") == agent]
        names = [e["event"] for e in mine]
        if not names:
            continue
        check(names[0] == "queued", "%s: first event %s" % (agent, names[0]))
        check(names.count("queued") == 1 and names.count("finished") == 1,
              "%s: queued/finished not once each: %s" % (agent, names))
        check(names[-1] == "finished", "%s: last event %s" % (agent, names[-1]))
        if "started" in names:
            check(names.index("started") == 1, "%s: started out of order: %s" % (agent, names))
        for name in ("first_token", "delta", "retrying"):
            if name in names:
                check("started" in names and names.index(name) > names.index("started"),
                      "%s: %s before started" % (agent, name))
        if "delta" in names:
            check("first_token" in names and names.index("first_token") < names.index("delta"),
                  "%s: delta before first_token" % agent)

    finished = [i for i, e in enumerate(events) if e["event"] == "finished"]
    for i, e in enumerate(events):
        if e["event"] == "synthesis_started":
            check(all(j < i for j in finished), "synthesis started before every agent finished")
        if e["event"] == "synthesis_finished":
            check(any(x["event"] == "synthesis_started" for x in events[:i]),
                  "synthesis_finished without synthesis_started")


def max_running(events):
    running = peak = 0
    for e in events:
        if e["event"] == "started":
            running += 1
            peak = max(peak, running)
        elif e["event"] == "finished" and any(x["event"] == "started" and x["agent"] == e["agent"]
                                             for x in events):
            running -= 1
    return peak


def sha256(file_name):
    with open(file_name, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# Scenarios and specs of this test, in its temporary directory.
FAST = write("fast.json", {"seed": 3, "latency": 0.05, "output_tokens": 20,
                           "tokens_per_second": 0})
STREAM = write("stream.json", {"seed": 3, "latency": 0.05, "output_tokens": 20,
                               "tokens_per_second": 400})
FAST_DEGRADED = write("fast-degraded.json", {
    "seed": 3, "latency": 0.05, "output_tokens": 20, "tokens_per_second": 0,
    "agents": [{"name": "technical-analyst", "match": "technical analyst",
                "failures": [{"status": 400}]}]})
TOO_MANY_FAIL = write("too-many-fail.json", {
    "seed": 3, "latency": 0.05, "output_tokens": 20, "tokens_per_second": 0,
    "agents": [{"name": "technical-analyst", "match": "technical analyst",
                "failures": [{"status": 400}]},
               {"name": "market-analyst", "match": "market analyst",
                "failures": [{"status": 400}]}]})
SLOW = write("slow.json", {"seed": 3, "latency": 60, "output_tokens": 20})
LATE = write("late.json", {"seed": 3, "latency": 4, "output_tokens": 20,
                           "tokens_per_second": 0,
                           "agents": [{"name": "synthesizer", "match": "synthesi",
                                       "latency": 0.05}]})


def quorum_1_spec():
    spec = load_q3()
    spec["min_successes"] = 1
    return write("quorum-1.json", spec)


QUORUM_1 = quorum_1_spec()


@test
def help_lists_commands():
    for args in (["--help"], ["help"]):
        proc = run(*args)
        expect_status(proc, 0, " ".join(args))
        for command in ("run", "resume", "bench", "simulate", "plugins", "validate"):
            check(re.search(r"^\s+%s\s+\S" % command, proc.stdout, re.M),
                  "%s does not list %s with a summary" % (" ".join(args), command))
    proc = run("--version")
    expect_status(proc, 0, "--version")
    check(re.match(r"^forkjoin-tool \d+\.\d+", proc.stdout), "--version: %r" % proc.stdout)


@test
def usage_errors_exit_2():
    proc = run()
    expect_status(proc, 2, "no command")
    check(proc.stdout == "", "no command: usage went to stdout")
    check(proc.stderr.startswith("forkjoin-tool: ") and "Usage" in proc.stderr,
          "no command: %r" % proc.stderr[:300])
    proc = run("frobnicate")
    expect_status(proc, 2, "unknown command")
    check("forkjoin-tool: " in proc.stderr and "frobnicate" in proc.stderr,
          "unknown command: %r" % proc.stderr[:300])
    for args, what in ((["run"], "no SPEC"),
                       (["run", Q3, Q3], "two SPECs"),
                       (["run", "--simulate", "--no-such-option", Q3], "unknown option"),
                       (["run", "--simulate", "--json", "--markdown", Q3], "--json --markdown"),
                       (["run", "--simulate", "--input", "a", "--input-file", Q3, Q3],
                        "--input with --input-file"),
                       (["run", "--simulate", "--max-concurrent", "many", Q3],
                        "--max-concurrent many"),
                       (["run", "--simulate", "--timeout", "fast", Q3], "--timeout fast"),
                       (["run", "--simulate", "--deadline", "-1", Q3], "--deadline -1"),
                       (["run", "--simulate", "--output", path("no/such/dir/x.json"), Q3],
                        "--output into a missing directory"),
                       (["run", "--simulate", "--events", "--json", Q3],
                        "--events --json without --output"),
                       (["run", "--simulate=" + path("no-such-scenario.json"), Q3],
                        "missing scenario"),
                       (["run", "--simulate", "--prices", path("no-such-prices.json"), Q3],
                        "missing prices file")):
        proc = run(*args)
        expect_status(proc, 2, what)
        check(proc.stderr.startswith("forkjoin-tool: "),
              "%s: message does not start with forkjoin-tool: %r" % (what, proc.stderr[:200]))
        check(proc.stdout == "", "%s: wrote to stdout" % what)


@test
def run_and_resume_help():
    proc = run("run", "--help")
    expect_status(proc, 0, "run --help")
    check("forkjoin-tool run" in proc.stdout, "run --help: no usage line")
    for option in ("--input", "--input-file", "--max-concurrent", "--timeout", "--deadline",
                   "--json", "--markdown", "--output", "--events", "--simulate",
                   "--sequential", "--timeline", "--api-key-file", "--prices"):
        check(option in proc.stdout, "run --help lacks %s" % option)
    proc = run("resume", "--help")
    expect_status(proc, 0, "resume --help")
    for option in ("--json", "--markdown", "--output", "--events", "--timeline",
                   "--simulate", "--api-key-file", "--prices", "--force"):
        check(option in proc.stdout, "resume --help lacks %s" % option)
    check("--input" not in proc.stdout, "resume --help offers --input")


@test
def q3_demo_json_field_by_field():
    proc = run("run", "--simulate=" + Q3_DEMO, Q3, "--json")
    expect_status(proc, 0, "q3 demo (degraded)")
    doc = json.loads(proc.stdout)
    for key in ("status", "input", "spec", "agents", "synthesis", "usage", "cost_usd",
                "wall_ms"):
        check(key in doc, "the document lacks %s" % key)
    check(doc["status"] == "degraded", "status %r" % doc["status"])
    check(doc["input"] == load_q3()["input"], "input %r" % doc["input"])
    check(doc["spec"]["path"] == Q3, "spec.path %r" % doc["spec"]["path"])
    check(doc["spec"]["sha256"] == sha256(Q3), "spec.sha256 %r" % doc["spec"]["sha256"])
    check([a["name"] for a in doc["agents"]] == Q3_AGENTS,
          "agents not in spec order: %r" % [a["name"] for a in doc["agents"]])

    total = {k: 0 for k in USAGE_FIELDS}
    for agent in doc["agents"]:
        name = agent["name"]
        check(AGENT_FIELDS <= set(agent), "%s lacks %s" % (name, AGENT_FIELDS - set(agent)))
        check(set(agent["usage"]) == USAGE_FIELDS, "%s usage fields %r" % (name, agent["usage"]))
        check(isinstance(agent["duration_ms"], int) and agent["duration_ms"] >= 0,
              "%s duration_ms %r" % (name, agent["duration_ms"]))
        for k in USAGE_FIELDS:
            total[k] += agent["usage"][k]
        if name == "technical-analyst":
            check(agent["status"] == "failed", "technical status %r" % agent["status"])
            check(agent["error"]["code"] == "server", "technical error %r" % agent["error"])
            check("technical-analyst" in agent["error"]["message"], "error names no agent")
            check(agent["attempts"] == 3, "technical attempts %r" % agent["attempts"])
            check(agent["output"] is None, "failed agent has output")
            check(agent["usage"]["output_tokens"] == 0, "failed agent has output tokens")
        else:
            check(agent["status"] == "success", "%s status %r" % (name, agent["status"]))
            check(agent["error"] is None, "%s error %r" % (name, agent["error"]))
            check(isinstance(agent["output"], str) and agent["output"], "%s output" % name)
            check(agent["attempts"] == 1 and agent["turns"] == 1,
                  "%s attempts/turns %r/%r" % (name, agent["attempts"], agent["turns"]))
            check(agent["stop_reason"] == "end_turn", "%s stop_reason %r" % (name, agent["stop_reason"]))
            check(agent["usage"]["output_tokens"] == 60, "%s output tokens %r"
                  % (name, agent["usage"]["output_tokens"]))
            check(agent["usage"]["input_tokens"] > 0, "%s input tokens" % name)
            check(isinstance(agent["cost_usd"], float) and agent["cost_usd"] > 0,
                  "%s cost_usd %r" % (name, agent["cost_usd"]))

    # data/prices.json: haiku 0.10 / 0.50, sonnet 2 / 10 dollars per million tokens.
    market = doc["agents"][0]
    expected = (market["usage"]["input_tokens"] * 0.1 + market["usage"]["output_tokens"] * 0.5) / 1e6
    check(abs(market["cost_usd"] - expected) < 1e-9,
          "market-analyst cost %r, expected %r" % (market["cost_usd"], expected))
    financial = doc["agents"][2]
    expected = (financial["usage"]["input_tokens"] * 2 + financial["usage"]["output_tokens"] * 10) / 1e6
    check(abs(financial["cost_usd"] - expected) < 1e-9,
          "financial-analyst cost %r, expected %r" % (financial["cost_usd"], expected))

    synthesis = doc["synthesis"]
    check(isinstance(synthesis, dict), "synthesis %r" % synthesis)
    check(synthesis["plugin"] == "llm", "synthesis plugin %r" % synthesis["plugin"])
    check(synthesis["status"] == "success", "synthesis status %r" % synthesis["status"])
    check(isinstance(synthesis["output"], str) and synthesis["output"], "no synthesis output")
    check(AGENT_FIELDS - {"name"} <= set(synthesis),
          "synthesis lacks %s" % (AGENT_FIELDS - {"name"} - set(synthesis)))
    for k in USAGE_FIELDS:
        total[k] += synthesis["usage"][k]
    check(doc["usage"] == total, "usage totals %r, agents + synthesis %r" % (doc["usage"], total))
    parts = [a["cost_usd"] for a in doc["agents"] if a["cost_usd"]] + [synthesis["cost_usd"]]
    check(abs(doc["cost_usd"] - sum(parts)) < 1e-9, "cost_usd %r, sum %r" % (doc["cost_usd"], sum(parts)))
    check(isinstance(doc["wall_ms"], int) and doc["wall_ms"] > 0, "wall_ms %r" % doc["wall_ms"])
    check(doc["error"] is None, "a degraded run has an error %r" % doc["error"])


@test
def complete_run_exits_0():
    proc = run("run", "--simulate", Q3, "--json")
    expect_status(proc, 0, "complete")
    doc = json.loads(proc.stdout)
    check(doc["status"] == "complete", "status %r" % doc["status"])
    check(all(a["status"] == "success" for a in doc["agents"]), "not every agent succeeded")
    check(proc.stderr == "", "stderr not empty: %r" % proc.stderr[:300])


@test
def failed_run_exits_1():
    proc = run("run", "--simulate=" + TOO_MANY_FAIL, Q3, "--json")
    expect_status(proc, 1, "too many failures")
    doc = json.loads(proc.stdout)
    check(doc["status"] == "failed", "status %r" % doc["status"])
    check(doc["error"]["code"] == "quorum-not-met", "error %r" % doc["error"])
    # The quorum policy's fail_fast may cancel the third agent once two failed.
    statuses = [a["status"] for a in doc["agents"]]
    check(statuses[:2] == ["failed", "failed"] and statuses[2] in ("success", "cancelled"),
          "agent statuses %r" % statuses)
    check(doc["agents"][0]["error"]["code"] == "invalid-request",
          "market error %r" % doc["agents"][0]["error"])


@test
def failed_synthesis_exits_1():
    # Every agent succeeds; the synthesizer's request gets an HTTP 400.
    scenario = write("synthesis-400.json", {
        "seed": 3, "latency": 0.05, "output_tokens": 20, "tokens_per_second": 0,
        "agents": [{"name": "synthesizer", "match": "synthesi",
                    "failures": [{"status": 400}]}]})
    proc = run("run", "--simulate=" + scenario, Q3, "--json")
    expect_status(proc, 1, "failed synthesis")
    doc = json.loads(proc.stdout)
    check(doc["status"] == "failed", "status %r" % doc["status"])
    check([a["status"] for a in doc["agents"]] == ["success"] * 3,
          "agent statuses %r" % [a["status"] for a in doc["agents"]])
    check(isinstance(doc["error"], dict) and doc["error"]["code"] == "invalid-request" and
          "HTTP 400" in doc["error"]["message"], "error %r" % doc["error"])
    synthesis = doc["synthesis"]
    check(isinstance(synthesis, dict) and synthesis["plugin"] == "llm" and
          synthesis["status"] == "failed" and synthesis["output"] is None,
          "synthesis %r" % synthesis)
    check(synthesis["error"] == doc["error"], "synthesis error %r, document error %r"
          % (synthesis["error"], doc["error"]))
    check(synthesis["attempts"] == 1, "a 400 was retried: %r" % synthesis["attempts"])


@test
def text_output():
    proc = run("run", "--simulate=" + FAST_DEGRADED, Q3)
    expect_status(proc, 0, "text")
    out = proc.stdout
    check(out.startswith("degraded"), "headline: %r" % out[:100])
    for name in Q3_AGENTS:
        check(re.search(r"%s\s+(success|failed)\s+\d+\.\d\d s\s+1 attempt" % name, out),
              "no status line for %s:\n%s" % (name, out))
    check(re.search(r"\$0\.\d+", out), "no cost")
    # The fork's wall time against the agents' durations added up.
    durations = [float(d) for d in re.findall(r"(?:success|failed)\s+(\d+\.\d\d) s", out)]
    gain = re.search(r"The 3 agents ran in (\d+\.\d\d) s, against (\d+\.\d\d) s one after another "
                     r"\((\d+\.\d) . faster\)", out)
    check(gain, "no parallel gain line:\n%s" % out)
    check(abs(float(gain.group(2)) - sum(durations)) < 0.02,
          "the sum %s is not the agents' %r" % (gain.group(2), durations))
    # Timing is the runner tests' (a loaded machine stretches 50 ms agents).
    check(float(gain.group(1)) > 0, "no fork wall time: %s" % gain.group(0))
    check("Synthesis (llm)" in out, "no synthesis heading")
    check(re.search(r"Missing perspectives:\s+- technical-analyst", out), "missing not listed")
    check("invalid" in out.lower(), "the failed agent's error is not shown")
    check(not out.lstrip().startswith("{"), "text output is JSON")


@test
def markdown_output():
    proc = run("run", "--simulate=" + FAST_DEGRADED, Q3, "--markdown")
    expect_status(proc, 0, "markdown")
    out = proc.stdout
    check(out.startswith("# ") and "degraded" in out.splitlines()[0], "title: %r" % out[:80])
    check("| Agent | Status |" in out, "no agent table")
    for name in Q3_AGENTS:
        check(re.search(r"^\| %s \| " % name, out, re.M), "no table row for %s" % name)
        check("### %s" % name in out, "no section for %s" % name)
    check("## Synthesis (llm)" in out, "no synthesis section")
    check(re.search(r"## Missing perspectives\s+- \*\*technical-analyst\*\*", out),
          "missing perspectives not listed")


@test
def output_file():
    target = path("out.json")
    proc = run("run", "--simulate=" + FAST, Q3, "--json", "--output", target)
    expect_status(proc, 0, "--output")
    check(proc.stdout == "", "stdout not empty with --output")
    with open(target, encoding="utf-8") as f:
        doc = json.load(f)
    check(doc["status"] == "complete", "status %r" % doc["status"])
    text_target = path("out.txt")
    proc = run("run", "--simulate=" + FAST, Q3, "-o", text_target)
    expect_status(proc, 0, "--output text")
    with open(text_target, encoding="utf-8") as f:
        check(f.read().startswith("complete"), "text file")


@test
def input_sources():
    proc = run("run", "--simulate=" + FAST, Q3, "--json", "--input", "What about Q4?")
    expect_status(proc, 0, "--input")
    check(json.loads(proc.stdout)["input"] == "What about Q4?", "--input not used")
    check("What about Q4?" in json.loads(proc.stdout)["agents"][0]["output"],
          "the agents were not given --input")

    input_file = write("input.txt", "From a file\n")
    proc = run("run", "--simulate=" + FAST, Q3, "--json", "--input-file", input_file)
    expect_status(proc, 0, "--input-file")
    check(json.loads(proc.stdout)["input"] == "From a file", "--input-file not used")

    proc = run("run", "--simulate=" + FAST, Q3, "--json", "--input-file", "-",
               stdin_text="From stdin\n")
    expect_status(proc, 0, "--input-file -")
    check(json.loads(proc.stdout)["input"] == "From stdin", "--input-file - not used")

    proc = run("run", "--simulate=" + FAST, Q3, "--input-file", path("no-such-input.txt"))
    expect_status(proc, 2, "missing --input-file")
    check("no-such-input.txt" in proc.stderr, "the error does not name the file")

    spec = load_q3()
    del spec["input"]
    no_input = write("no-input.json", spec)
    proc = run("run", "--simulate=" + FAST, no_input)
    expect_status(proc, 2, "spec without input")
    check("--input" in proc.stderr and "input" in proc.stderr, "message: %r" % proc.stderr)
    proc = run("run", "--simulate=" + FAST, no_input, "--input", "Now with one", "--json")
    expect_status(proc, 0, "spec without input, --input")


@test
def bad_specs_exit_2_with_position():
    cases = {
        "bad-timeout.json": ('{\n  "input": "x",\n  "agents": [\n'
                             '    { "name": "a", "instructions": "x", "timeout": "fast" }\n'
                             '  ]\n}\n', r"bad-timeout\.json:4:\d+: .*agents\[0\]\.timeout"),
        "bad-key.json": ('{\n  "input": "x",\n  "agnets": []\n}\n',
                         r"bad-key\.json:3:\d+: .*agnets"),
        "bad-syntax.json": ('{\n  "input": "x",\n  "agents": [ { "name": "a" ]\n}\n',
                            r"bad-syntax\.json:3:\d+:"),
        "bad-empty.json": ("", r"bad-empty\.json(:\d+:\d+)?:"),
    }
    for name, (content, pattern) in cases.items():
        spec = write(name, content)
        proc = run("run", "--simulate", spec)
        expect_status(proc, 2, name)
        check(proc.stderr.startswith("forkjoin-tool: "), "%s: %r" % (name, proc.stderr[:200]))
        check(re.search(pattern, proc.stderr), "%s: no %s in %r" % (name, pattern, proc.stderr))
        check(proc.stdout == "", "%s: wrote to stdout" % name)
    proc = run("run", "--simulate", path("no-such-spec.json"))
    expect_status(proc, 2, "missing spec")
    check("no-such-spec.json" in proc.stderr, "missing spec: %r" % proc.stderr)


@test
def no_credentials_exit_2():
    proc = run("run", Q3)
    expect_status(proc, 2, "no credentials")
    for word in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "--api-key-file", "--simulate"):
        check(word in proc.stderr, "the error does not name %s: %r" % (word, proc.stderr))
    check(proc.stdout == "", "wrote to stdout")
    for content, what in (("", "empty"), ("\n\nkey", "first line empty")):
        key_file = write("empty-key", content)
        os.chmod(key_file, 0o600)
        proc = run("run", Q3, "--api-key-file", key_file)
        expect_status(proc, 2, "%s key file" % what)
        check("empty-key" in proc.stderr, "%s key file: %r" % (what, proc.stderr))
    proc = run("run", Q3, "--api-key-file", path("no-such-key"))
    expect_status(proc, 2, "missing key file")
    check("no-such-key" in proc.stderr, "missing key file: %r" % proc.stderr)


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    """Answers every request 401 and remembers its credentials."""
    protocol_version = "HTTP/1.1"
    seen = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        RecordingHandler.seen.append((self.headers.get("x-api-key"),
                                      self.headers.get("authorization")))
        body = json.dumps({"type": "error", "error": {"type": "authentication_error",
                                                      "message": "invalid x-api-key"}}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up on this agent (the quorum failed)

    def log_message(self, *args):
        pass


@test
def credentials_reach_the_api():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RecordingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = "http://127.0.0.1:%d" % server.server_address[1]
        key_file = write("key", "  file-key-123  \nsecond line\n")
        os.chmod(key_file, 0o600)  # a key file others may read is refused
        cases = (
            (["--api-key-file", key_file], {"ANTHROPIC_API_KEY": "env-key"},
             ("file-key-123", None)),
            ([], {"ANTHROPIC_API_KEY": "env-key"}, ("env-key", None)),
            ([], {"ANTHROPIC_AUTH_TOKEN": "env-token"}, (None, "Bearer env-token")),
        )
        for args, extra, expected in cases:
            RecordingHandler.seen = []
            # A quorum of 1: no agent is cancelled before its request failed.
            proc = run("run", QUORUM_1, "--json", *args,
                       environ=env(ANTHROPIC_BASE_URL=url, **extra))
            expect_status(proc, 1, "401 from the API with %s" % (args or extra))
            check(len(RecordingHandler.seen) == 3, "requests: %r" % len(RecordingHandler.seen))
            check(all(s == expected for s in RecordingHandler.seen),
                  "credentials sent %r, expected %r" % (RecordingHandler.seen[:3], expected))
            secret = (expected[0] or expected[1].split()[1])
            check(secret not in proc.stdout and secret not in proc.stderr,
                  "the key appears in the output")
            doc = json.loads(proc.stdout)
            check(all(a["error"]["code"] == "authentication" for a in doc["agents"]),
                  "errors %r" % [a["error"] for a in doc["agents"]])

        # --simulate ignores the environment's endpoint and credentials.
        RecordingHandler.seen = []
        proc = run("run", "--simulate=" + FAST, Q3, "--json",
                   environ=env(ANTHROPIC_BASE_URL=url, ANTHROPIC_API_KEY="env-key"))
        expect_status(proc, 0, "--simulate with ANTHROPIC_BASE_URL set")
        check(RecordingHandler.seen == [], "--simulate sent requests to ANTHROPIC_BASE_URL")
    finally:
        server.shutdown()
        server.server_close()


@test
def events_format_and_order():
    proc = run("run", "--simulate=" + Q3_DEMO, Q3, "--events")
    expect_status(proc, 0, "--events")
    events = parse_events(proc.stdout)
    check_events(events, Q3_AGENTS)
    kinds = [e["event"] for e in events]
    for kind in ("queued", "started", "first_token", "delta", "retrying", "finished",
                 "synthesis_started", "synthesis_finished", "done"):
        check(kind in kinds, "no %s event" % kind)
    check(kinds[:3] == ["queued"] * 3, "the run does not start with the agents queued")
    retries = [e for e in events if e["event"] == "retrying"]
    check(all(e["agent"] == "technical-analyst" for e in retries), "retries of other agents")
    check([e["attempt"] for e in retries] == [2, 3], "retry attempts %r" % [e["attempt"] for e in retries])
    check(all(e["status"] == 500 and isinstance(e["delay"], (int, float)) and e["delay"] >= 0
              for e in retries), "retry fields %r" % retries)
    finished = {e["agent"]: e for e in events if e["event"] == "finished"}
    check(finished["technical-analyst"]["status"] == "failed", "technical finished %r"
          % finished["technical-analyst"])
    check(finished["market-analyst"]["status"] == "success", "market finished")
    text = "".join(e["text"] for e in events
                   if e["event"] == "delta" and e["agent"] == "market-analyst")
    check(text.startswith("As a market analyst"), "market deltas: %r" % text[:80])
    check(events[-1]["status"] == "degraded", "done %r" % events[-1])
    check(kinds.index("synthesis_finished") < kinds.index("done"), "done before the synthesis")


@test
def paused_event():
    # Two requests a minute: the third agent's request gets a 429 with
    # retry-after 30 s, which pauses the client; the agent cannot wait
    # that long within the deadline and ends rate-limited.
    limited = write("two-a-minute.json", {"seed": 3, "latency": 0.05, "output_tokens": 20,
                                          "rate_limits": {"requests_per_minute": 2}})
    spec = load_q3()
    spec["min_successes"] = 1
    del spec["synthesis"]
    no_synthesis = write("no-synthesis.json", spec)
    proc = run("run", "--simulate=" + limited, no_synthesis, "--events", "--deadline", "5")
    expect_status(proc, 0, "rate-limited run")
    events = parse_events(proc.stdout)
    check_events(events, Q3_AGENTS)
    paused = [e for e in events if e["event"] == "paused"]
    check(len(paused) >= 1, "no paused event")
    check(isinstance(paused[0].get("reason"), str) and "429" in paused[0]["reason"],
          "paused reason %r" % paused[0].get("reason"))
    check(TIME_RE.match(paused[0].get("until", "")) and paused[0]["until"] > paused[0]["time"],
          "paused until %r" % paused[0].get("until"))
    finished = [e for e in events if e["event"] == "finished"]
    statuses = [e["status"] for e in finished]
    check(len(statuses) == 3 and statuses.count("success") == 2 and
          (statuses.count("failed") == 1 or statuses.count("timed_out") == 1),
          "statuses %r" % statuses)
    check(any(e["error"] is not None and e["error"]["code"] in ("rate-limited", "timed-out")
              for e in finished), "no agent stopped by the rate limit")
    check("synthesis_started" not in [e["event"] for e in events], "a synthesis without one")


@test
def events_with_json_output_file():
    target = path("events-doc.json")
    proc = run("run", "--simulate=" + STREAM, Q3, "--events", "--json", "--output", target)
    expect_status(proc, 0, "--events --json --output")
    events = parse_events(proc.stdout)
    check_events(events, Q3_AGENTS)
    with open(target, encoding="utf-8") as f:
        doc = json.load(f)
    check(doc["status"] == "complete", "status %r" % doc["status"])
    check(events[-1]["status"] == "complete", "done status %r" % events[-1])
    for agent in doc["agents"]:
        text = "".join(e["text"] for e in events
                       if e["event"] == "delta" and e["agent"] == agent["name"])
        check(text == agent["output"], "%s: deltas do not add up to the output" % agent["name"])


@test
def concurrency_options():
    for args, limit in ((["--max-concurrent", "1"], 1), (["--sequential"], 1),
                        (["--max-concurrent", "2"], 2), ([], 3)):
        proc = run("run", "--simulate=" + FAST, Q3, "--events", *args)
        expect_status(proc, 0, "concurrency %r" % args)
        events = parse_events(proc.stdout)
        check_events(events, Q3_AGENTS)
        peak = max_running(events)
        check(peak == limit, "%r: at most %d agents ran at once, expected %d" % (args, peak, limit))
        started = [e["agent"] for e in events if e["event"] == "started"]
        check(started == Q3_AGENTS, "%r: agents started in order %r" % (args, started))


@test
def timeout_replaces_default_but_not_agents_own():
    # Replies take 4 s; --timeout 0.5 ends the agents that use
    # defaults.timeout, while technical-analyst's own 30 s wins.  A quorum
    # of 1 lets it finish.
    proc = run("run", "--simulate=" + LATE, QUORUM_1, "--json", "--timeout", "0.5")
    expect_status(proc, 0, "--timeout")
    doc = json.loads(proc.stdout)
    check(doc["status"] == "degraded", "status %r" % doc["status"])
    statuses = [a["status"] for a in doc["agents"]]
    check(statuses == ["timed_out", "success", "timed_out"], "statuses %r" % statuses)
    check(doc["agents"][0]["error"]["code"] == "timed-out", "error %r" % doc["agents"][0]["error"])


@test
def deadline_ends_the_run():
    proc = run("run", "--simulate=" + LATE, Q3, "--json", "--deadline", "1", "--sequential")
    expect_status(proc, 1, "--deadline")
    doc = json.loads(proc.stdout)
    statuses = [a["status"] for a in doc["agents"]]
    check(statuses == ["timed_out", "skipped", "skipped"], "statuses %r" % statuses)


@test
def prices_option_and_environment():
    prices = write("prices.json", {"taken": "2026-01-01", "models": {
        "claude-haiku-5-5": {"input": 1, "output": 2, "cache_write": 1, "cache_read": 1}}})
    env_prices = write("env-prices.json", {"taken": "2026-01-01", "models": {
        "claude-haiku-5-5": {"input": 3, "output": 5, "cache_write": 1, "cache_read": 1}}})
    for args, environ, (pin, pout) in ((["--prices", prices], env(), (1, 2)),
                                       ([], env(FORKJOIN_PRICES=env_prices), (3, 5)),
                                       (["--prices", prices], env(FORKJOIN_PRICES=env_prices),
                                        (1, 2))):
        proc = run("run", "--simulate=" + FAST, Q3, "--json", *args, environ=environ)
        expect_status(proc, 0, "prices %r" % args)
        doc = json.loads(proc.stdout)
        market = doc["agents"][0]
        expected = (market["usage"]["input_tokens"] * pin + market["usage"]["output_tokens"] * pout) / 1e6
        check(market["cost_usd"] is not None and abs(market["cost_usd"] - expected) < 1e-9,
              "market cost %r, expected %r" % (market["cost_usd"], expected))
        financial = doc["agents"][2]
        check(financial["cost_usd"] is None, "an unpriced model has cost %r" % financial["cost_usd"])
        check(financial["usage"]["output_tokens"] > 0, "an unpriced model lost its tokens")


@test
def timeline_svg():
    target = path("timeline.svg")
    proc = run("run", "--simulate=" + FAST_DEGRADED, Q3, "--timeline", target, "--json")
    expect_status(proc, 0, "--timeline")
    root = ET.parse(target).getroot()
    check(root.tag.endswith("svg"), "root %r" % root.tag)
    texts = " ".join("".join(e.itertext()) for e in root.iter() if e.tag.endswith("text"))
    for name in Q3_AGENTS:
        check(name in texts, "no label for %s" % name)
    check(any(e.tag.endswith("rect") for e in root.iter()), "no <rect>")


@test
def deprecated_model_warns():
    spec = load_q3()
    spec["agents"][0]["model"] = "claude-mythos-preview"
    deprecated = write("deprecated.json", spec)
    proc = run("run", "--simulate=" + FAST, deprecated, "--json")
    expect_status(proc, 0, "deprecated model")
    check(re.search(r"^forkjoin-tool: warning: .*claude-mythos-preview", proc.stderr, re.M),
          "no warning: %r" % proc.stderr)
    json.loads(proc.stdout)


def watchdog(proc, seconds=90):
    timer = threading.Timer(seconds, proc.kill)
    timer.daemon = True
    timer.start()
    return timer


def interrupt_after_started(args, n_signals=1):
    """Runs with --events, sends SIGINT once an agent has started; returns
    (exit status, events, stderr)."""
    proc = subprocess.Popen([TOOL, *args, "--events"], env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    timer = watchdog(proc)
    lines = []
    try:
        while True:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if json.loads(line)["event"] == "started" and sum(
                    1 for l in lines if '"started"' in l) == 1:
                for _ in range(n_signals):
                    proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        err = proc.stderr.read()
    finally:
        timer.cancel()
        proc.stdout.close()
        proc.stderr.close()
    return proc.returncode, parse_events("".join(lines)), err


@test
def sigint_prints_partial_results_and_exits_130():
    target = path("interrupted.json")
    status, events, err = interrupt_after_started(["run", "--simulate=" + SLOW, Q3, "--json",
                                                   "--output", target])
    check(status == 130, "exit status %r, stderr %r" % (status, err))
    check("forkjoin-tool: interrupted" in err, "stderr: %r" % err)
    check_events(events, Q3_AGENTS)
    with open(target, encoding="utf-8") as f:
        doc = json.load(f)
    check(doc["status"] == "failed" and doc["error"]["code"] == "cancelled", "doc %r"
          % {k: doc[k] for k in ("status", "error")})
    check([a["name"] for a in doc["agents"]] == Q3_AGENTS, "not every agent in the partial result")
    check(all(a["status"] in ("cancelled", "skipped") for a in doc["agents"]),
          "statuses %r" % [a["status"] for a in doc["agents"]])

    target = path("interrupted.txt")
    status, events, err = interrupt_after_started(["run", "--simulate=" + SLOW, Q3,
                                                   "--output", target])
    check(status == 130, "text: exit status %r" % status)
    with open(target, encoding="utf-8") as f:
        text = f.read()
    check(text.startswith("interrupted"), "text: %r" % text[:100])
    for name in Q3_AGENTS:
        check(re.search(r"%s\s+cancelled" % name, text), "text: no state for %s" % name)


@test
def sigint_twice_exits_130():
    # The product cancels at once, so the second Ctrl-C needs a run that
    # stays cancelling: tests/cli/slow-synthesizer.c, a synthesizer plugin
    # that ignores its cancellable for 60 s.
    spec = load_q3()
    spec["synthesis"] = {"plugin": "test-slow"}
    slow_synthesis = write("slow-synthesis.json", spec)
    environ = env(FORKJOIN_PLUGIN_PATH=os.environ["FORKJOIN_PLUGIN_PATH"] + ":" +
                  os.environ["FJ_TEST_PLUGIN_DIR"])
    proc = subprocess.Popen([TOOL, "run", "--simulate=" + FAST, slow_synthesis, "--events"],
                            env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    timer = watchdog(proc)
    try:
        for line in proc.stdout:
            if json.loads(line)["event"] == "synthesis_started":
                break
        else:
            raise Failure("no synthesis_started; stderr %r" % proc.stderr.read())
        # ... and only once the synthesizer really runs (it says so).
        line = ""
        while "test-slow: synthesizing" not in line:
            line = proc.stderr.readline()
            check(line != "", "the slow synthesizer never started")
        proc.send_signal(signal.SIGINT)
        first = ""
        while "interrupted" not in first:
            first = proc.stderr.readline()
            check(first != "", "no message after the first Ctrl-C")
        check(first.startswith("forkjoin-tool: interrupted: cancelling the run"),
              "first Ctrl-C: %r" % first)
        # Still cancelling: the synthesis holds the run for a minute.
        time.sleep(0.5)
        check(proc.poll() is None, "the run ended after one Ctrl-C (status %r)" % proc.returncode)
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        proc.wait(timeout=30)
        elapsed = time.monotonic() - started
        rest = proc.stderr.read()
        proc.stdout.read()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    check(proc.returncode == 130, "exit status %r, stderr %r" % (proc.returncode, rest))
    check("forkjoin-tool: interrupted again: quitting" in rest, "second Ctrl-C: %r" % rest)
    check(elapsed < 20, "the second Ctrl-C took %.1f s to quit" % elapsed)


def run_with_pty_stderr(args, extra_env=None):
    master, slave = pty.openpty()
    environ = env(TERM="xterm", **(extra_env or {}))
    proc = subprocess.Popen([TOOL, *args], env=environ, stdout=subprocess.PIPE, stderr=slave,
                            stdin=subprocess.DEVNULL)
    os.close(slave)
    timer = watchdog(proc)
    captured = b""
    out_chunks = []
    reader = threading.Thread(target=lambda: out_chunks.append(proc.stdout.read()))
    reader.start()
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            captured += data
        proc.wait(timeout=60)
        reader.join(60)
    finally:
        timer.cancel()
        os.close(master)
        proc.stdout.close()
    return proc.returncode, b"".join(out_chunks).decode(), captured.decode("utf-8", "replace")


@test
def progress_on_a_terminal_only():
    status, out, err = run_with_pty_stderr(["run", "--simulate=" + Q3_DEMO, Q3, "--json"])
    check(status == 0, "exit status %r" % status)
    check("\x1b[" in err, "no cursor movement on the terminal")
    check("settled" in err, "no overall bar: %r" % err[-300:])
    for name in Q3_AGENTS:
        check(name in err, "no progress line for %s" % name)
    check(json.loads(out)["status"] == "degraded", "stdout is not the document")

    proc = run("run", "--simulate=" + Q3_DEMO, Q3, "--json", environ=env(TERM="xterm"))
    expect_status(proc, 0, "stderr a pipe")
    check(proc.stderr == "", "progress on a pipe: %r" % proc.stderr[:300])


def run_degraded_for_resume(spec_name):
    spec = write(spec_name, load_q3())
    first = path(spec_name + ".result.json")
    proc = run("run", "--simulate=" + FAST_DEGRADED, spec, "--json", "--output", first)
    expect_status(proc, 0, "first run")
    with open(first, encoding="utf-8") as f:
        return spec, first, json.load(f)


@test
def resume_reruns_only_the_failed_agent():
    spec, first, before = run_degraded_for_resume("resume.json")
    check([a["status"] for a in before["agents"]] == ["success", "failed", "success"],
          "first run %r" % [a["status"] for a in before["agents"]])
    check(before["spec"]["sha256"] == sha256(spec), "the result does not record the spec's SHA-256")

    second = path("resumed.json")
    proc = run("resume", first, "--simulate=" + FAST, "--events", "--json", "--output", second)
    expect_status(proc, 0, "resume")
    events = parse_events(proc.stdout)
    check_events(events, Q3_AGENTS)
    started = [e["agent"] for e in events if e["event"] == "started"]
    check(started == ["technical-analyst"], "resume started %r" % started)
    queued = [e["agent"] for e in events if e["event"] == "queued"]
    check(queued == ["technical-analyst"], "resume queued %r" % queued)
    check("synthesis_started" in [e["event"] for e in events], "no synthesis in the resume")

    with open(second, encoding="utf-8") as f:
        after = json.load(f)
    check(after["status"] == "complete", "resumed status %r" % after["status"])
    check(after["input"] == before["input"], "input changed")
    check(after["spec"] == before["spec"], "spec changed: %r" % after["spec"])
    for old, new in zip(before["agents"], after["agents"]):
        if old["status"] == "success":
            for key in ("output", "attempts", "duration_ms", "usage", "turns", "stop_reason"):
                check(old[key] == new[key], "%s: kept %s changed" % (old["name"], key))
        else:
            check(new["status"] == "success" and new["attempts"] == 1,
                  "%s rerun: %r" % (new["name"], {k: new[k] for k in ("status", "attempts")}))
    check(after["synthesis"]["status"] == "success", "resumed synthesis failed")


@test
def resume_checks_the_spec():
    spec, first, before = run_degraded_for_resume("resume-modified.json")
    with open(spec, encoding="utf-8") as f:
        text = f.read()
    with open(spec, "w", encoding="utf-8") as f:
        f.write(text.replace("three findings", "four findings"))

    proc = run("resume", first, "--simulate=" + FAST, "--json")
    expect_status(proc, 2, "resume with a modified spec")
    check("SHA-256" in proc.stderr and "--force" in proc.stderr, "message %r" % proc.stderr)
    check(proc.stdout == "", "wrote to stdout")

    proc = run("resume", first, "--simulate=" + FAST, "--json", "--force")
    expect_status(proc, 0, "resume --force")
    after = json.loads(proc.stdout)
    check(after["status"] == "complete", "status %r" % after["status"])
    check(after["spec"]["sha256"] == sha256(spec), "the new result records the old SHA-256")
    check(after["agents"][0]["output"] == before["agents"][0]["output"], "a kept output changed")

    # Naming the spec explicitly: the unmodified original is accepted.
    original = write("resume-original.json", load_q3())
    proc = run("resume", first, original, "--simulate=" + FAST, "--json")
    expect_status(proc, 0, "resume with the spec named")


@test
def resume_from_another_directory():
    # The spec named relative to the run's directory: the result records it
    # absolute, and resume finds it from anywhere.
    workdir = path("resume-cwd")
    elsewhere = path("resume-elsewhere")
    os.makedirs(workdir, exist_ok=True)
    os.makedirs(elsewhere, exist_ok=True)
    spec = write(os.path.join("resume-cwd", "spec.json"), load_q3())
    proc = subprocess.run([TOOL, "run", "--simulate=" + FAST_DEGRADED, "spec.json", "--json",
                           "--output", "result.json"], cwd=workdir, env=env(),
                          capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    expect_status(proc, 0, "run with a relative spec path")
    result = os.path.join(workdir, "result.json")
    with open(result, encoding="utf-8") as f:
        before = json.load(f)
    check(os.path.isabs(before["spec"]["path"]) and os.path.samefile(before["spec"]["path"], spec),
          "spec.path %r, expected %r" % (before["spec"]["path"], spec))

    def resume_in(directory, result_arg):
        return subprocess.run([TOOL, "resume", result_arg, "--simulate=" + FAST, "--json"],
                              cwd=directory, env=env(), capture_output=True, text=True,
                              timeout=120, stdin=subprocess.DEVNULL)

    proc = resume_in(elsewhere, os.path.join("..", "resume-cwd", "result.json"))
    expect_status(proc, 0, "resume from another directory")
    after = json.loads(proc.stdout)
    check(after["status"] == "complete", "resumed status %r" % after["status"])
    check(after["spec"] == before["spec"], "spec changed: %r" % after["spec"])

    # A result written before paths were absolute: its relative path is
    # found beside the result when it is not there from the current
    # directory.
    before["spec"]["path"] = "spec.json"
    old = write(os.path.join("resume-cwd", "old-result.json"), before)
    proc = resume_in(elsewhere, old)
    expect_status(proc, 0, "resume of an old result from another directory")
    after = json.loads(proc.stdout)
    check(after["status"] == "complete", "resumed status %r" % after["status"])
    check(os.path.isabs(after["spec"]["path"]) and os.path.samefile(after["spec"]["path"], spec),
          "spec.path %r, expected %r" % (after["spec"]["path"], spec))

    # A spec of that name in the current directory wins, as before; this
    # one is another spec, so its SHA-256 does not match.
    write(os.path.join("resume-elsewhere", "spec.json"), {"input": "x", "agents": [{"name": "a"}]})
    proc = resume_in(elsewhere, old)
    expect_status(proc, 2, "resume with a spec.json in the current directory")
    check("SHA-256" in proc.stderr, "message %r" % proc.stderr)


@test
def resume_usage_errors():
    spec, first, before = run_degraded_for_resume("resume-usage.json")
    not_json = write("not-a-result.json", "this is not JSON")
    other = write("other-json.json", {"hello": "world"})
    for args, what in ((["resume"], "no result"),
                       (["resume", path("no-such-result.json"), "--simulate"], "missing result"),
                       (["resume", not_json, "--simulate"], "not JSON"),
                       (["resume", other, "--simulate"], "not a result"),
                       (["resume", first, "--simulate", "--input", "x"], "--input"),
                       (["resume", first, spec, spec, "--simulate"], "too many arguments"),
                       (["resume", first, "--simulate", "--events", "--json"],
                        "--events --json without --output")):
        proc = run(*args)
        expect_status(proc, 2, what)
        check(proc.stderr.startswith("forkjoin-tool: "), "%s: %r" % (what, proc.stderr[:200]))
    proc = run("resume", first)
    expect_status(proc, 2, "resume without credentials")
    check("ANTHROPIC_API_KEY" in proc.stderr, "resume credentials message %r" % proc.stderr)


# Several clients: "clients" in the spec

MIXED = os.path.join(DATA, "examples", "mixed-providers.json")


def request_lines(stderr):
    """The paths of the request lines G_MESSAGES_DEBUG=forkjoin prints."""
    return re.findall(r"POST https?://[^/\s]+(/v1/\S+) \(attempt", stderr)


@test
def mixed_providers_example_runs_under_simulate():
    proc = run("run", "--simulate", MIXED, "--json",
               environ=env(G_MESSAGES_DEBUG="forkjoin"))
    expect_status(proc, 0, "mixed providers")
    doc = json.loads(proc.stdout)
    check(doc["status"] == "complete", "status %r" % doc["status"])
    clients = {a["name"]: a.get("client", "(absent)") for a in doc["agents"]}
    check(clients == {"advocate": "local", "skeptic": "local", "operator": None},
          "agents' clients %r" % clients)
    check(all(a["status"] == "success" for a in doc["agents"]), "not every agent succeeded")
    check(doc["synthesis"] is not None and doc["synthesis"]["status"] == "success",
          "synthesis %r" % doc["synthesis"])
    # Both APIs, on the one simulator: two agents on the OpenAI-compatible
    # endpoint, one agent and the synthesis on the Anthropic one.
    paths = sorted(request_lines(proc.stderr))
    check(paths == ["/v1/chat/completions"] * 2 + ["/v1/messages"] * 2,
          "requests %r" % paths)

    text = run("run", "--simulate", MIXED)
    expect_status(text, 0, "mixed providers, text report")
    check(re.search(r"advocate \[local\]", text.stdout), "the text report does not name the client:\n"
          + text.stdout[:600])
    check(not re.search(r"operator \[", text.stdout), "the run's client is named:\n" + text.stdout[:600])

    # One client only: no "client" field, as before.
    plain = json.loads(run("run", "--simulate", Q3, "--json").stdout)
    check(all("client" not in a for a in plain["agents"]), "a spec without clients names them")


@test
def validate_reports_the_clients():
    proc = run("validate", MIXED)
    expect_status(proc, 0, "validate")
    check("client local: openai, http://localhost:11434/v1, key none; used by advocate, skeptic"
          in proc.stdout, "validate output %r" % proc.stdout)


class ChildSimulator:
    """forkjoin-tool simulate as a separate server (no --simulate)."""

    def __init__(self):
        self.proc = subprocess.Popen([TOOL, "simulate"], env=env(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        timer = threading.Timer(30, self.stop)
        timer.start()
        try:
            values = dict(self.proc.stdout.readline().strip().split("=", 1) for _ in range(2))
        finally:
            timer.cancel()
        self.url = values["ANTHROPIC_BASE_URL"]
        self.key = values["ANTHROPIC_API_KEY"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


@test
def named_clients_use_their_base_url_and_key_variable():
    sim = ChildSimulator()
    try:
        spec = write("openai-only.json", {
            "input": "Two drafts, please.",
            "clients": {"local": {"provider": "openai", "base_url": sim.url + "/v1",
                                  "api_key_env": "FJ_TEST_LOCAL_KEY"}},
            "defaults": {"client": "local", "model": "llama3.2"},
            "agents": [{"name": "one"}, {"name": "two"}],
            "synthesis": {"plugin": "concat"}})
        # Nothing sends with the run's client: no ANTHROPIC_* needed.
        proc = run("run", spec, "--json",
                   environ=env(FJ_TEST_LOCAL_KEY=sim.key, G_MESSAGES_DEBUG="forkjoin"))
        expect_status(proc, 0, "openai-only spec")
        doc = json.loads(proc.stdout)
        check([a["status"] for a in doc["agents"]] == ["success"] * 2, "agents %r" % doc["agents"])
        check(request_lines(proc.stderr) == ["/v1/chat/completions"] * 2,
              "requests %r" % request_lines(proc.stderr))

        # The variable missing: a usage error naming it and the client,
        # before anything is sent.
        proc = run("run", spec)
        expect_status(proc, 2, "key variable missing")
        check("FJ_TEST_LOCAL_KEY" in proc.stderr and '"local"' in proc.stderr,
              "error %r" % proc.stderr)
        # A wrong key is the server's 401, and never printed.
        proc = run("run", spec, "--json", environ=env(FJ_TEST_LOCAL_KEY="sk-wrong-key-123"))
        expect_status(proc, 1, "wrong key")
        check("sk-wrong-key-123" not in proc.stdout + proc.stderr, "the key was printed")
        check(json.loads(proc.stdout)["agents"][0]["error"]["code"] == "authentication",
              "error %r" % json.loads(proc.stdout)["agents"][0]["error"])

        # The run's client still needs its credentials when an agent uses it.
        mixed = write("mixed-child.json", {
            "input": "Hello",
            "clients": {"local": {"provider": "openai", "base_url": sim.url + "/v1",
                                  "api_key_env": "FJ_TEST_LOCAL_KEY"}},
            "agents": [{"name": "one", "client": "local"}, {"name": "two"}]})
        proc = run("run", mixed, environ=env(FJ_TEST_LOCAL_KEY=sim.key))
        expect_status(proc, 2, "no Anthropic credentials")
        check("ANTHROPIC_API_KEY" in proc.stderr, "error %r" % proc.stderr)
        proc = run("run", mixed, "--json",
                   environ=env(FJ_TEST_LOCAL_KEY=sim.key, ANTHROPIC_BASE_URL=sim.url,
                               ANTHROPIC_API_KEY=sim.key, G_MESSAGES_DEBUG="forkjoin"))
        expect_status(proc, 0, "mixed against a child simulator")
        check(sorted(request_lines(proc.stderr)) == ["/v1/chat/completions", "/v1/messages"],
              "requests %r" % request_lines(proc.stderr))
    finally:
        sim.stop()


# Message Batches mode and the prompt cache

CONTRACT = os.path.join(DATA, "examples", "contract-review.json")


def batch_spec(name, n_agents, poll_interval=0.05, groups=True):
    """A spec in batch mode: every fifth agent errored, every seventh
    expired (batch-scenario below), the rest succeed."""
    agents = []
    for i in range(n_agents):
        tag = ""
        if groups and i % 5 == 4:
            tag = " [errored]"
        elif groups and i % 7 == 6:
            tag = " [expired]"
        agents.append({"name": "agent-%03d" % i, "instructions": "Answer briefly.%s" % tag})
    return write(name, {
        "input": "One question for many.",
        "defaults": {"model": "claude-haiku-5-5", "max_tokens": 100},
        "agents": agents,
        "runner": {"mode": "batch", "poll_interval": poll_interval},
        "synthesis": {"plugin": "concat"}})


def batch_scenario(name, processing_time):
    return write(name, {
        "seed": 3,
        "latency": 0.01,
        "batch": {"processing_time": processing_time},
        "agents": [
            {"match": "[errored]", "failures": [{"status": 500, "attempts": 1}]},
            {"match": "[expired]", "batch_outcome": "expired"}]})


def expected_batch_status(name):
    i = int(name.split("-")[1])
    if i % 5 == 4:
        return "failed"
    if i % 7 == 6:
        return "failed"
    return "success"


def check_batch_document(doc, n_agents):
    check([a["name"] for a in doc["agents"]] == ["agent-%03d" % i for i in range(n_agents)],
          "agents out of order")
    for agent in doc["agents"]:
        want = expected_batch_status(agent["name"])
        check(agent["status"] == want, "%s: %s, expected %s (error %r)"
              % (agent["name"], agent["status"], want, agent["error"]))
        check(set(agent) >= AGENT_FIELDS, "%s lacks %r" % (agent["name"], AGENT_FIELDS - set(agent)))
        i = int(agent["name"].split("-")[1])
        if i % 5 == 4:
            check(agent["error"]["code"] == "server", "%s: %r" % (agent["name"], agent["error"]))
        elif i % 7 == 6:
            check(agent["error"]["code"] == "expired", "%s: %r" % (agent["name"], agent["error"]))
        else:
            check(agent["output"], "%s has no output" % agent["name"])
    check(isinstance(doc.get("batch_ids"), list) and doc["batch_ids"] and
          all(b.startswith("msgbatch_") for b in doc["batch_ids"]),
          "batch_ids %r" % doc.get("batch_ids"))
    check(doc["synthesis"] is not None and doc["synthesis"]["status"] == "success",
          "synthesis %r" % doc["synthesis"])


class BatchSimulator(ChildSimulator):
    """forkjoin-tool simulate with a scenario, in its own process: batches
    outlive the forkjoin-tool that submitted them."""

    def __init__(self, scenario):
        self.proc = subprocess.Popen([TOOL, "simulate", "--scenario", scenario], env=env(),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        values = dict(self.proc.stdout.readline().strip().split("=", 1) for _ in range(2))
        self.url = values["ANTHROPIC_BASE_URL"]
        self.key = values["ANTHROPIC_API_KEY"]

    def environ(self, **extra):
        return env(ANTHROPIC_BASE_URL=self.url, ANTHROPIC_API_KEY=self.key, **extra)


def wait_for_file(name, proc, seconds=60):
    deadline = time.monotonic() + seconds
    while not os.path.exists(name):
        if proc.poll() is not None:
            raise Failure("the run ended before writing %s: %s" % (name, proc.stderr.read()))
        check(time.monotonic() < deadline, "no %s after %d s" % (name, seconds))
        time.sleep(0.05)


@test
def batch_run_maps_every_result_onto_its_agent():
    spec = batch_spec("batch-40.json", 40)
    scenario = batch_scenario("batch-fast.json", 0.3)
    state = path("batch-40.state.json")
    proc = run("run", "--simulate=" + scenario, "--state", state, "--json", spec)
    expect_status(proc, 0, "run in batch mode")
    doc = json.loads(proc.stdout)
    check_batch_document(doc, 40)
    check("state in %s" % state in proc.stderr, "state path not printed: %r" % proc.stderr)
    proc_text = run("run", "--simulate=" + scenario, "--state", path("batch-40b.json"), spec)
    check("Ran as Message Batches batch msgbatch_" in proc_text.stdout,
          "text report %r" % proc_text.stdout[:400])
    with open(state, encoding="utf-8") as f:
        saved = json.load(f)
    check(saved["batches"][0]["id"] == doc["batch_ids"][0], "state %r" % saved["batches"])
    check(os.stat(state).st_mode & 0o077 == 0, "the state file is readable by others")

    # The same spec live: the same document but batch_ids, the agents at
    # twice the batch cost.
    live_spec = json.load(open(spec))
    live_spec["runner"] = {}
    live = write("live-40.json", live_spec)
    proc = run("run", "--simulate=" + scenario, "--json", live)
    live_doc = json.loads(proc.stdout)
    check(set(live_doc) | {"batch_ids"} == set(doc), "keys %r vs %r" % (set(live_doc), set(doc)))
    for a, b in zip(live_doc["agents"], doc["agents"]):
        check(set(a) == set(b), "agent keys %r vs %r" % (set(a), set(b)))
        if a["status"] == "success" and b["status"] == "success" and a["cost_usd"]:
            ratio = b["cost_usd"] / a["cost_usd"]
            check(abs(ratio - 0.5) < 0.01, "%s: batch/live cost %.3f" % (a["name"], ratio))


@test
def batch_flag_and_tools_refused():
    spec = write("batch-tools.json", {
        "input": "What time is it?",
        "agents": [{"name": "plain"}, {"name": "clocked", "tools": ["clock"]}]})
    proc = run("run", "--simulate", "--batch", spec)
    expect_status(proc, 2, "--batch with a tool-using agent")
    check('agents[1].tools' in proc.stderr and "clocked" in proc.stderr and "batch" in proc.stderr,
          "error %r" % proc.stderr)
    proc = run("run", "--simulate", "--state", path("x.json"), spec)
    expect_status(proc, 2, "--state without --batch")


@test
def killed_batch_run_resumes_from_its_state_file():
    scenario = batch_scenario("batch-slow.json", 3)
    sim = BatchSimulator(scenario)
    try:
        spec = batch_spec("batch-kill.json", 24)
        state = path("batch-kill.state.json")
        proc = subprocess.Popen([TOOL, "run", "--state", state, "--json", spec],
                                env=sim.environ(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for_file(state, proc)
            time.sleep(0.2)
            proc.kill()
        finally:
            proc.wait(30)
            proc.stdout.close()
            proc.stderr.close()
        check(proc.returncode == -signal.SIGKILL, "the run ended with %r" % proc.returncode)

        # Anywhere, without ANTHROPIC_BASE_URL: the state knows the endpoint.
        proc = run("resume", "--batch", state, "--json",
                   environ=env(ANTHROPIC_API_KEY=sim.key, G_MESSAGES_DEBUG="forkjoin"))
        expect_status(proc, 0, "resume --batch")
        check_batch_document(json.loads(proc.stdout), 24)
        check("/v1/messages/batches" not in " ".join(request_lines(proc.stderr)),
              "resume submitted a new batch: %r" % request_lines(proc.stderr))
    finally:
        sim.stop()


@test
def interrupted_batch_keeps_running_and_can_be_cancelled():
    scenario = batch_scenario("batch-long.json", 30)
    sim = BatchSimulator(scenario)
    try:
        spec = batch_spec("batch-int.json", 10, groups=False)
        state = path("batch-int.state.json")
        proc = subprocess.Popen([TOOL, "run", "--state", state, "--json", spec],
                                env=sim.environ(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for_file(state, proc)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        check(proc.returncode == 130, "Ctrl-C: exit %r\n%s" % (proc.returncode, err))
        check("resume --batch %s" % state in err and "batch cancel %s" % state in err,
              "no resume/cancel hint: %r" % err)
        doc = json.loads(out)
        check(all(a["status"] == "cancelled" for a in doc["agents"]), "statuses %r"
              % [a["status"] for a in doc["agents"]])

        proc = run("batch", "status", state, environ=env(ANTHROPIC_API_KEY=sim.key))
        expect_status(proc, 0, "batch status")
        check("in_progress" in proc.stdout, "status %r" % proc.stdout)

        proc = run("batch", "cancel", state, environ=env(ANTHROPIC_API_KEY=sim.key))
        expect_status(proc, 0, "batch cancel")
        check("resume --batch %s" % state in proc.stderr, "cancel hint %r" % proc.stderr)

        proc = run("resume", "--batch", state, "--json", environ=env(ANTHROPIC_API_KEY=sim.key))
        doc = json.loads(proc.stdout)
        check(all(a["status"] in ("cancelled", "success") for a in doc["agents"]) and
              any(a["status"] == "cancelled" for a in doc["agents"]),
              "after cancel: %r" % [a["status"] for a in doc["agents"]])

        proc = run("batch", "status", path("no-such-state.json"), environ=env(ANTHROPIC_API_KEY=sim.key))
        expect_status(proc, 2, "batch status of a missing file")
        check("no-such-state.json" in proc.stderr, "error %r" % proc.stderr)
    finally:
        sim.stop()


@test
def shared_input_cache_is_read_by_every_agent_but_the_first():
    proc = run("run", "--simulate", "--json", CONTRACT)
    expect_status(proc, 0, "contract review with the cache")
    doc = json.loads(proc.stdout)
    reads = [a["usage"]["cache_read_input_tokens"] > 0 for a in doc["agents"]]
    writes = [a["usage"]["cache_creation_input_tokens"] > 0 for a in doc["agents"]]
    check(sum(writes) == 1 and sum(reads) == len(reads) - 1 and not any(r and w for r, w in zip(reads, writes)),
          "writes %r reads %r" % (writes, reads))
    cache = doc["cache"]
    check(cache["mode"] == "shared-input" and cache["note"] is None, "cache %r" % cache)
    check(cache["saved_usd"] > 0 and cache["hit_ratio"] > 0.5, "cache %r" % cache)
    check(abs(sum(a["cache_saved_usd"] for a in doc["agents"]) - cache["saved_usd"]) < 1e-9,
          "per-agent savings do not add up to %r" % cache["saved_usd"])

    # The text report says what the cache did, or why it could not.
    proc = run("run", "--simulate", CONTRACT)
    expect_status(proc, 0, "contract review, text report")
    check(re.search(r"^Prompt cache: \d+ input tokens read from it, \d+ written, \d+ % of the input "
                    r"read; \$[0-9.]+ saved", proc.stdout, re.M), "text report %r" % proc.stdout[:400])
    proc = run("run", "--simulate", "--input", "A short contract.", CONTRACT)
    check(re.search(r"^Prompt cache: caching cannot apply: the shared input is about \d+ tokens? "
                    r"and claude-sonnet-5-5 caches from 1024", proc.stdout, re.M),
          "below the minimum %r" % proc.stdout[:400])

    # Off: nobody reads or writes.
    spec = json.load(open(CONTRACT))
    spec["runner"]["cache"] = "none"
    proc = run("run", "--simulate", "--json", write("contract-nocache.json", spec))
    doc = json.loads(proc.stdout)
    check(all(a["usage"]["cache_read_input_tokens"] == 0 and
              a["usage"]["cache_creation_input_tokens"] == 0 for a in doc["agents"]),
          "cache used with cache none")


@test
def bench_prices_live_and_batch_side_by_side():
    proc = run("bench", "--simulate", "--runs", "1", "--widths", "6", "--json", CONTRACT, timeout=240)
    expect_status(proc, 0, "bench")
    cost = json.loads(proc.stdout)["cost"]
    check(abs(cost["batch_usd_per_run"] -
              (cost["agents_usd_per_run"] * cost["batch_discount"] + cost["synthesis_usd_per_run"]))
          < 1e-9, "cost %r" % cost)
    check(cost["batch_discount"] == 0.5 and cost["cache"] == "shared-input" and
          cost["cache_saved_usd_per_run"] > 0, "cost %r" % cost)
    proc = run("bench", "--simulate", "--runs", "1", "--widths", "6", CONTRACT, timeout=240)
    expect_status(proc, 0, "bench table")
    check("batch $" in proc.stdout and "live $" in proc.stdout and "saved $" in proc.stdout,
          "bench output %r" % proc.stdout[-600:])


def main():
    print("1..%d" % len(tests))
    failed = 0
    for number, fn in enumerate(tests, 1):
        name = fn.__name__.replace("_", " ")
        try:
            fn()
        except Exception as e:  # a failed check, or anything unexpected
            failed += 1
            print("not ok %d - %s" % (number, name))
            detail = str(e) if isinstance(e, Failure) else traceback.format_exc()
            for line in detail.splitlines():
                print("# " + line)
        else:
            print("ok %d - %s" % (number, name))
        sys.stdout.flush()
    TMP.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
