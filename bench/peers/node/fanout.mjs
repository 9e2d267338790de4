// fanout.mjs — the peer of forkjoin's benchmark: the fan-out a user of the
// official TypeScript SDK writes by hand (N agents with Promise.allSettled, a
// semaphore for the concurrency cap, AbortSignal.timeout per agent, then one
// synthesis call over the answers that succeeded).
//
//   node fanout.mjs SPEC.json [--max-concurrent N] [--sequential]
//
// SPEC is the forkjoin spec the tool runs (input, defaults, agents,
// runner.max_concurrent, synthesis), so both sides do the same work.
// Reads ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY; prints one JSON line:
// {"succeeded": N, "failed": N, "synthesis": bool, "wall_ms": N}.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import { readFileSync } from 'node:fs';
import Anthropic from '@anthropic-ai/sdk';

class Semaphore {
  #free;
  #waiters = [];

  constructor(n) {
    this.#free = n > 0 ? n : Infinity;
  }

  async acquire() {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise((resolve) => this.#waiters.push(resolve));
  }

  release() {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#free++;
  }
}

const args = process.argv.slice(2);
const spec = JSON.parse(readFileSync(args.findLast((a) => !a.startsWith('--')), 'utf8'));
const defaults = spec.defaults ?? {};
let maxConcurrent = spec.runner?.max_concurrent ?? 0;
if (args.includes('--sequential')) maxConcurrent = 1;
const i = args.indexOf('--max-concurrent');
if (i >= 0) maxConcurrent = Number(args[i + 1]);

const client = new Anthropic(); // ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL
const semaphore = new Semaphore(maxConcurrent);

async function ask(agent, system, content) {
  const params = {
    model: agent.model ?? defaults.model ?? 'claude-haiku-5-5',
    max_tokens: agent.max_tokens ?? defaults.max_tokens ?? 1024,
    system,
    messages: [{ role: 'user', content }],
  };
  const timeout = agent.timeout ?? defaults.timeout;
  const options = timeout ? { signal: AbortSignal.timeout(timeout * 1000) } : {};
  const message = (agent.stream ?? defaults.stream ?? true)
    ? await client.messages.stream(params, options).finalMessage()
    : await client.messages.create(params, options);
  return message.content.filter((b) => b.type === 'text').map((b) => b.text).join('');
}

async function runAgent(agent) {
  await semaphore.acquire();
  try {
    return await ask(agent, agent.instructions, spec.input);
  } finally {
    semaphore.release();
  }
}

const start = performance.now();
const settled = await Promise.allSettled(spec.agents.map(runAgent));
const answers = settled
  .map((r, k) => ({ name: spec.agents[k].name, ...r }))
  .filter((r) => r.status === 'fulfilled');

let synthesis = false;
if (spec.synthesis && answers.length > 0) {
  const sections = answers.map((a) => `## ${a.name}\n\n${a.value}\n\n`).join('');
  await ask(
    { ...spec.synthesis, stream: true },
    'You are the synthesizer: several agents answered the same question; merge their answers into one.',
    `${spec.input}\n\n# Answers\n\n${sections}Merge these answers into one answer to the question above.`,
  );
  synthesis = true;
}

console.log(JSON.stringify({
  succeeded: answers.length,
  failed: settled.length - answers.length,
  synthesis,
  wall_ms: Math.round(performance.now() - start),
}));
