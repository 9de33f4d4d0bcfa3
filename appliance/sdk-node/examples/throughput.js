#!/usr/bin/env node
'use strict';
/**
 * The Node SDK's throughput against a live appliance: BLS signatures submitted at a fixed rate
 * (open loop: request k is due at start + k/rate whatever happened to earlier ones, and its
 * latency runs from when it was due, as bench-rig measures), for a warm-up and then a measured
 * window. Prints the rate achieved, answers and refusals by kind, latency percentiles, and,
 * with --appliance-pid on the appliance's host, the appliance's CPU per 1,000 answers (the
 * figure bench-rig reports as cpu_seconds_per_1k), and this process's own CPU.
 *
 *     node throughput.js --state-dir DIR [--rps 800] [--duration 20] [--warmup 5] \
 *         [--vectors DIR] [--purpose bench] [--class P2] [--connections 1] [--retries 0] \
 *         [--appliance-pid PID] [--json]
 *
 * --state-dir is a folder with a partner.toml (an appliance's state directory: the demo
 * tenant; or one onboarding wrote). The statements are the valid single signatures among the
 * Ethereum BLS test vectors (`verify_valid_case_*.json` in --vectors, default
 * ../shared/testdata/eth-bls12-381-tests/verify beside the Trust Fabric checkout), sent in
 * turn. Run it where @trust-fabric/partner is installed (copy it into that project). Exit 0
 * when every request was answered with a valid verdict, 1 otherwise.
 */

const fs = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const tf = require('@trust-fabric/partner');

async function main() {
  const options = parseArguments(process.argv.slice(2));
  const statements = readVectors(options.vectors);
  const partners = [];
  for (let n = 0; n < options.connections; n += 1) {
    partners.push(await tf.Partner.connect({ stateDir: options.stateDir, retries: options.retries }));
  }
  try {
    const result = await run(options, partners, statements);
    report(options, result);
    return result.answered === result.due && result.invalid === 0 ? 0 : 1;
  } finally {
    await Promise.all(partners.map((partner) => partner.close()));
  }
}

/** Sends at the rate for the warm-up and the measured window; what the window saw. */
async function run(options, partners, statements) {
  const interval = 1000 / options.rps;
  const warmupEnd = options.warmup * 1000;
  const end = warmupEnd + options.duration * 1000;
  const measured = {
    due: 0, answered: 0, invalid: 0, refused: new Map(), latencies: [],
  };
  const inFlight = new Set();
  let cpu = null;
  const start = performance.now();
  let sent = 0;

  const send = (k, due) => {
    const statement = statements[k % statements.length];
    const partner = partners[k % partners.length];
    const counted = due >= warmupEnd;
    if (counted) {
      measured.due += 1;
    }
    const request = partner.submitBls({
      publicKeys: statement.publicKey, messages: statement.message,
      signature: statement.signature, purpose: options.purpose, datasetClass: options.datasetClass,
    }).then((verdict) => {
      if (!counted) {
        return;
      }
      measured.latencies.push(performance.now() - start - due);
      measured.answered += 1;
      if (!verdict.valid) {
        measured.invalid += 1;
      }
    }, (error) => {
      if (!counted) {
        return;
      }
      const kind = error instanceof tf.TrustFabricError ? error.kind : String(error);
      measured.refused.set(kind, (measured.refused.get(kind) ?? 0) + 1);
    }).finally(() => inFlight.delete(request));
    inFlight.add(request);
  };

  // Each turn sends every request due by now, then sleeps until the next is due.
  for (;;) {
    const now = performance.now() - start;
    if (cpu === null && now >= warmupEnd) {
      cpu = cpuNow(options.appliancePid);
    }
    while (sent * interval <= now && sent * interval < end) {
      send(sent, sent * interval);
      sent += 1;
    }
    if (sent * interval >= end) {
      break;
    }
    await sleep(Math.max(0, sent * interval - (performance.now() - start)));
  }
  await Promise.allSettled([...inFlight]);
  const cpuEnd = cpuNow(options.appliancePid);
  const window = (performance.now() - start - warmupEnd) / 1000;
  return { ...measured, window, cpu: cpu && cpuEnd && difference(cpu, cpuEnd) };
}

function report(options, result) {
  const sorted = Float64Array.from(result.latencies).sort();
  const pick = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN);
  const refused = Object.fromEntries(result.refused);
  const summary = {
    target_rps: options.rps,
    seconds: options.duration,
    connections: options.connections,
    due: result.due,
    answered: result.answered,
    invalid: result.invalid,
    refused,
    answered_rps: result.answered / options.duration,
    latency_ms: { p50: pick(0.5), p90: pick(0.9), p99: pick(0.99), p999: pick(0.999), max: pick(1) },
    appliance_cpu_seconds_per_1k: result.cpu && result.cpu.appliance !== null
      ? (result.cpu.appliance * 1000) / Math.max(result.answered, 1) : null,
    client_cpu_seconds_per_1k: result.cpu
      ? (result.cpu.client * 1000) / Math.max(result.answered, 1) : null,
  };
  if (options.json) {
    console.log(JSON.stringify(summary));
    return;
  }
  const ms = (v) => v.toFixed(2);
  console.log(`Node SDK, BLS single signatures at ${options.rps} req/s for ${options.duration} s `
    + `(after ${options.warmup} s of warm-up), ${options.connections} connection(s)`);
  console.log(`  due ${summary.due}, answered ${summary.answered} (${summary.answered_rps.toFixed(1)} req/s), `
    + `invalid ${summary.invalid}, refused ${JSON.stringify(refused)}`);
  const l = summary.latency_ms;
  console.log(`  latency from the due time: p50 ${ms(l.p50)} ms, p90 ${ms(l.p90)} ms, `
    + `p99 ${ms(l.p99)} ms, p99.9 ${ms(l.p999)} ms, max ${ms(l.max)} ms`);
  if (summary.client_cpu_seconds_per_1k !== null) {
    const appliance = summary.appliance_cpu_seconds_per_1k;
    console.log(`  CPU per 1k answered: appliance ${appliance === null ? 'not measured (--appliance-pid)' : `${appliance.toFixed(3)} s`}, `
      + `this client ${summary.client_cpu_seconds_per_1k.toFixed(3)} s`);
  }
}

/** The valid single-signature vectors in `dir`: public key, message, signature (hex). */
function readVectors(dir) {
  let names;
  try {
    names = fs.readdirSync(dir).filter((name) => /^verify_valid_case_.*\.json$/.test(name)).sort();
  } catch (error) {
    throw new Error(`--vectors ${dir}: ${error.message}`);
  }
  if (names.length === 0) {
    throw new Error(`--vectors ${dir}: no verify_valid_case_*.json there`);
  }
  return names.map((name) => {
    const { input } = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
    return {
      publicKey: Buffer.from(input.pubkey.replace(/^0x/, ''), 'hex'),
      message: Buffer.from(input.message.replace(/^0x/, ''), 'hex'),
      signature: Buffer.from(input.signature.replace(/^0x/, ''), 'hex'),
    };
  });
}

/** CPU seconds used so far: the appliance's (from /proc, when its pid is given) and ours. */
function cpuNow(pid) {
  let appliance = null;
  if (pid) {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux).
    appliance = (Number(fields[11]) + Number(fields[12])) / 100;
  }
  const own = process.cpuUsage();
  return { appliance, client: (own.user + own.system) / 1e6 };
}

function difference(from, to) {
  return {
    appliance: from.appliance === null ? null : to.appliance - from.appliance,
    client: to.client - from.client,
  };
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function parseArguments(args) {
  const options = {
    stateDir: null,
    rps: 800,
    duration: 20,
    warmup: 5,
    vectors: path.resolve(__dirname, '../../../../shared/testdata/eth-bls12-381-tests/verify'),
    purpose: 'bench',
    datasetClass: 'P2',
    connections: 1,
    retries: 0,
    appliancePid: null,
    json: false,
  };
  const numbers = { '--rps': 'rps', '--duration': 'duration', '--warmup': 'warmup',
    '--connections': 'connections', '--retries': 'retries', '--appliance-pid': 'appliancePid' };
  const texts = { '--state-dir': 'stateDir', '--vectors': 'vectors', '--purpose': 'purpose',
    '--class': 'datasetClass' };
  for (let i = 0; i < args.length; i += 1) {
    const flag = args[i];
    if (flag === '--json') {
      options.json = true;
    } else if (flag === '--help' || flag === '-h') {
      console.log(fs.readFileSync(__filename, 'utf8').split('*/')[0]);
      process.exit(0);
    } else if (flag in numbers || flag in texts) {
      const value = args[i + 1];
      i += 1;
      if (value === undefined) {
        usage(`${flag} needs a value`);
      }
      if (flag in numbers) {
        const number = Number(value);
        if (!(number >= 0) || !Number.isFinite(number)) {
          usage(`${flag} ${value}: expected a number`);
        }
        options[numbers[flag]] = number;
      } else {
        options[texts[flag]] = value;
      }
    } else {
      usage(`unknown option ${flag}`);
    }
  }
  if (!options.stateDir) {
    usage('--state-dir is required');
  }
  if (!(options.rps > 0) || !(options.duration > 0) || !(options.connections >= 1)) {
    usage('--rps, --duration and --connections must be positive');
  }
  options.connections = Math.floor(options.connections);
  return options;
}

function usage(problem) {
  console.error(`throughput.js: ${problem} (--help for the options)`);
  process.exit(2);
}

main().then((code) => {
  process.exitCode = code;
}, (error) => {
  console.error(error instanceof tf.TrustFabricError
    ? `failed (${error.kind}): ${error.message}` : error);
  process.exitCode = 1;
});
