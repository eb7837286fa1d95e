// `npm run bench`: measures the project's targets (sync, latency, votes, scale, schedule…) side by side in one run, prints a
// table, writes bench/results/summary.json and updates docs/BENCHMARKS.md.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startStack, ROOT } from '../test/support/stack.ts';
import { benchPollGet } from './poll-get.ts';
import { benchVotes } from './votes.ts';
import { benchViewers } from './viewers.ts';
import { benchFootprint } from './footprint.ts';
import { benchSchedule } from './schedule.ts';
import { benchCueToAir } from './cue-to-air.ts';
import { MAX_POLLS } from '../core/show.ts';
import { benchFirstRun, firstRunTables } from './first-run.ts';
import { benchDeadAirBeforeAfter, deadAirTable } from './dead-air.ts';
import { table } from './lib.ts';
import {
  benchCapacity,
  benchStorm,
  benchStormScoring,
  metered,
  scoringCheckRow,
  scoringMeterRow,
  patternRows,
  QUICK_STORM_SIZE,
  STORM_SIZE,
  stormRow,
  type StormSize,
} from './audience.ts';
import type { StormMeasurement } from './storm.ts';
import {
  CAPACITY_AUDIENCES,
  OURS_PATTERN,
  SCORING_PATTERN,
  patternFromStorm,
  scoringRows,
  withinLimits,
} from './capacity.ts';
import { benchStandings, QUICK_STANDINGS_SIZES, STANDINGS_SIZES } from './standings.ts';

const HELP = `Usage: npm run bench -- [--only sync,votes,poll_get,schedule,cue_to_air,footprint,dead_air,storm,storm_scoring,capacity,standings,first_run]
                       [--quick] [--scoring] [--viewers N] [--watchers N]

Runs the benchmarks against a fresh local stack, prints a table, writes
bench/results/summary.json and updates docs/BENCHMARKS.md.

  --only LIST   run only these (sync = sync + cue_latency, votes, poll_get, schedule, cue_to_air, footprint;
                dead_air: time's up → results in Chromium, at the defaults before and after they were cut;
                first_run runs only when named: it clones this checkout's HEAD, runs npm install
                with the warm npm cache and npm start — a minute or more and ~1 GB of disk;
                node bench/first-run.ts --cold-cache for the figure with every download)
                storm_scoring: the storm with quiz scoring on (a quiz question, the speed bonus, votes
                with elapsed_ms), checked after the close: no vote and no point lost; then quiz
                scoring's cost in the capacity model, before and after, at 1k…1M viewers;
                standings: 1k, 10k and 100k players' score items, the time to compute the standings
  --quick       smaller sizes, for a smoke run (figures are not comparable; first_run is unchanged)
  --scoring     with storm: also run storm_scoring (a second storm row, scoring on)
  --viewers N   storm and capacity: simulated viewers (default ${STORM_SIZE.viewers}; --quick ${QUICK_STORM_SIZE.viewers})
  --watchers N  storm and capacity: how many of them download the stream (default ${STORM_SIZE.watchers})
  -h, --help    this help
`;

const BENCHES = [
  'sync',
  'votes',
  'poll_get',
  'schedule',
  'cue_to_air',
  'footprint',
  'dead_air',
  'storm',
  'storm_scoring',
  'capacity',
  'standings',
  'first_run',
] as const;
type BenchName = (typeof BENCHES)[number];
/** first_run is opt-in: it installs ~1 GB into a fresh clone and runs for a minute or more. */
const DEFAULT_BENCHES: readonly BenchName[] = BENCHES.filter((name) => name !== 'first_run');
/**
 * storm and capacity start metered stacks of their own, dead_air two with different vote settles,
 * first_run its own clone: the rest share one.
 */
const OWN_STACK_BENCHES: readonly BenchName[] = [
  'dead_air',
  'storm',
  'storm_scoring',
  'capacity',
  'first_run',
];
const STACK_BENCHES: readonly BenchName[] = BENCHES.filter((name) => !OWN_STACK_BENCHES.includes(name));

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean' },
    scoring: { type: 'boolean' },
    viewers: { type: 'string' },
    watchers: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const only = (values.only?.split(',').map((s) => s.trim()) ?? [...DEFAULT_BENCHES]) as BenchName[];
if (values.scoring && only.includes('storm') && !only.includes('storm_scoring'))
  only.splice(only.indexOf('storm') + 1, 0, 'storm_scoring');
for (const name of only) {
  if (!BENCHES.includes(name)) {
    console.error(`--only: unknown benchmark "${name}" (known: ${BENCHES.join(', ')})`);
    process.exit(2);
  }
}

const stormSize: StormSize = { ...(values.quick ? QUICK_STORM_SIZE : STORM_SIZE) };
for (const name of ['viewers', 'watchers'] as const) {
  const raw = values[name];
  if (raw === undefined) continue;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`--${name}: expected a whole number ≥ 1, got "${raw}"`);
    process.exit(2);
  }
  stormSize[name] = n;
}
stormSize.watchers = Math.min(stormSize.watchers, stormSize.viewers);

const resultsDir = join(ROOT, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const summaryPath = join(resultsDir, 'summary.json');
const doc = join(ROOT, 'docs', 'BENCHMARKS.md');
const marker = '<!-- bench:figures -->';
/** The figures last written to docs/BENCHMARKS.md: where there is no summary.json (a fresh clone), a
 * run of some benchmarks keeps the others' figures instead of dropping them from the document. */
function figuresInDoc(): Record<string, unknown> {
  const text = existsSync(doc) ? readFileSync(doc, 'utf8') : '';
  const json = new RegExp(`${marker}[\\s\\S]*?\`\`\`json\\n([\\s\\S]*?)\`\`\`[\\s\\S]*?${marker}`).exec(
    text,
  )?.[1];
  try {
    return json ? (JSON.parse(json) as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
const summary: Record<string, unknown> = existsSync(summaryPath)
  ? JSON.parse(readFileSync(summaryPath, 'utf8'))
  : figuresInDoc();
const log = (line: string) => console.log(`[bench] ${line}`);

// The stack only for the benchmarks that measure it; first_run starts its own, after this one stops.
const stack = only.some((name) => STACK_BENCHES.includes(name)) ? await startStack() : undefined;
try {
  if (stack) {
    if (only.includes('footprint')) {
      // First, while the stack is fresh: idle memory, then 100 simulated viewers.
      log('footprint: idle, then 100 viewers following the stream and polling the API…');
      const footprint = await benchFootprint(stack, values.quick ? { viewers: 100, seconds: 10 } : undefined);
      summary.footprint = footprint;
      console.log(`\nfootprint (local stack incl. ffmpeg)\n${table([footprint as never])}\n`);
    }
    if (only.includes('sync')) {
      log('sync: viewers held back 0, 2 and 4 s in Chromium; cues through PutMetadata…');
      const viewers = await benchViewers(
        stack,
        values.quick ? { cues: 3, holdBacksMs: [0, 2000], spacingMs: 3000 } : undefined,
        log,
      );
      summary.sync = viewers.sync;
      summary.cue_latency_ms = viewers.cue_latency_ms;
      console.log(`\nsync (target: max_abs_frame_offset ≤ 1)\n${table([viewers.sync as never])}\n`);
      console.log(`cue_latency_ms (target: p95 ≤ 3000)\n${table([viewers.cue_latency_ms as never])}\n`);
    }
    if (only.includes('votes')) {
      log('votes: API path vs database alone, alternating rounds…');
      const votes = await benchVotes(
        stack,
        values.quick ? { votes: 500, rounds: 1, concurrency: 50 } : undefined,
      );
      summary.votes = votes;
      console.log(`\nvotes (target: ratio ≥ 0.7, lost = doubled = 0)\n${table([votes as never])}\n`);
    }
    if (only.includes('poll_get')) {
      log('poll_get: tally read vs counting every answer…');
      const rows = await benchPollGet(stack, values.quick ? [1_000, 5_000] : undefined, log);
      summary.poll_get = rows;
      console.log(`\npoll_get (target: ratio ≥ 100 at 100k votes)\n${table(rows as never)}\n`);
    }
    if (only.includes('schedule')) {
      log('schedule: a long show on the local Step Functions…');
      const schedule = await benchSchedule(stack, values.quick ? 6 : MAX_POLLS, log);
      summary.schedule = schedule;
      console.log(`\nschedule (target: p99_late_ms ≤ 1000)\n${table([schedule as never])}\n`);
    }
    if (only.includes('standings')) {
      const sizes = values.quick ? QUICK_STANDINGS_SIZES : STANDINGS_SIZES;
      log(
        `standings: ${sizes.join(', ')} players' score items, then the standings read at close and by the producer…`,
      );
      const rows = await benchStandings(stack.edgeUrl, sizes, {}, log);
      summary.standings = rows;
      console.log(
        `\nstandings (close: every score shard read, top 10 named; producer: every player named; ordered = true, read = players)\n${table(rows as never)}\n`,
      );
    }
    if (only.includes('cue_to_air')) {
      log('cue_to_air: `npx showrunner cue RUN` as a producer types it, until IVS accepts the question…');
      const cueToAir = await benchCueToAir(stack, values.quick ? { cues: 2, startups: 2 } : undefined, log);
      summary.cue_to_air = cueToAir;
      console.log(
        `\ncue_to_air (target: p95_ms ≤ 1000, start-up included; control_click_p95_ms ≤ 300)\n${table([cueToAir as never])}\n`,
      );
    }
  }
} finally {
  await stack?.stop();
}

if (only.includes('dead_air')) {
  log("dead_air: a viewer near live and one 5 s behind, from time's up to results, before and after…");
  const rows = await benchDeadAirBeforeAfter(log);
  summary.dead_air = rows;
  console.log(`\ndead_air (target: time's up → results ≤ 7 s at the default grace)\n${deadAirTable(rows)}\n`);
}

// The storms start stacks of their own (metered, some with other settings), after the shared one stopped.
let storm: StormMeasurement | undefined;
if (only.includes('storm')) {
  log(
    `storm: ${stormSize.viewers} viewers (${stormSize.watchers} following the stream) on one poll of a real show…`,
  );
  storm = await benchStorm(stormSize, log);
  summary.storm = storm.result;
  console.log(`\nstorm (target: lost = doubled = 0, 5xx = 0)\n${table([stormRow(storm.result)])}`);
  if (storm.result.tally_lag_note) console.log(`tally_lag_ms: ${storm.result.tally_lag_note}`);
  console.log('');
}
if (only.includes('storm_scoring')) {
  log(
    `storm_scoring: ${stormSize.viewers} viewers on one quiz question (speed bonus on, votes with elapsed_ms), then the standings against every acknowledged vote…`,
  );
  const scored = await benchStormScoring(stormSize, log);
  const before = storm?.meter ? patternFromStorm(OURS_PATTERN, metered(storm)) : OURS_PATTERN;
  const after = scored.meter ? patternFromStorm(SCORING_PATTERN, metered(scored)) : SCORING_PATTERN;
  const rows = scoringRows(CAPACITY_AUDIENCES, before, after);
  summary.storm_scoring = {
    storm: scored.result,
    meter: scored.meter ? scoringMeterRow(scored) : null,
    before: { tableWriteUnitsPerVote: before.tableWriteUnitsPerVote, measured: before.measured.length > 0 },
    after: {
      tableWriteUnitsPerVote: after.tableWriteUnitsPerVote,
      scoreWriteUnitsPerVote: after.scoreWriteUnitsPerVote,
      measured: after.measured.length > 0,
    },
    model: rows,
  };
  console.log(
    `\nstorm with scoring (target: lost = doubled = 0, 5xx = 0; players_missing = points_lost = score_mismatches = 0)\n${table([stormRow(scored.result)])}\n\n${table([scoringCheckRow(scored.result)])}\n`,
  );
  if (scored.meter) console.log(`what the meter counted\n${table([scoringMeterRow(scored)])}\n`);
  console.log(
    `quiz scoring at the peak second, before → after (the score writes per vote measured above when metered)\n${table(rows)}\n`,
  );
}
if (only.includes('capacity')) {
  log('capacity: request patterns measured on the local stack, scaled by the model…');
  const capacity = await benchCapacity(stormSize, storm, log);
  summary.capacity = {
    patterns: capacity.patterns,
    model: capacity.capacities.map((c) => ({
      audience: c.audience,
      design: c.design,
      vote_keys: c.voteKeys,
      key_wu: c.keyWriteUnits.value,
      item_wu: c.itemWriteUnits.value,
      table_wu: c.tableWriteUnits.value,
      api_rps: c.apiRequests.value,
      lambda: c.lambdaConcurrency.value,
      put_metadata: c.putMetadata.value,
      item_ru: c.hotItemReadUnits.value,
      within_limits: withinLimits(c),
    })),
    storms: capacity.storms,
  };
  console.log(
    `\nrequest pattern (per vote, per answered viewer-second, per live-count read)\n${table(patternRows(capacity.patterns))}\n`,
  );
  console.log(
    `capacity at the peak second (ok: within AWS's default; raise*: a quota raise README "Sizing and quotas" lists; raise: one it does not; OVER: a limit no raise lifts)\n${table(capacity.rows)}\n`,
  );
  console.log(
    `storms behind it (capped: DynamoDB's per-key limit scaled to the local audience)\n${table(capacity.storms.map(stormRow))}\n`,
  );
}

if (only.includes('first_run')) {
  log(
    'first_run: fresh clone of HEAD, npm install (warm npm cache), npm start until the demo question shows…',
  );
  const firstRun = await benchFirstRun({}, (line) => log(`first_run: ${line}`));
  // The essentials here; bench/results/first-run.json has everything.
  summary.first_run = {
    commit: firstRun.commit,
    cache: firstRun.cache,
    install_s: firstRun.install_s,
    install_cpu_s: firstRun.install_cpu_s,
    site_build_s: firstRun.prestart_s,
    start_to_ready_s: firstRun.start_to_ready_s,
    start_to_question_s: firstRun.start_to_question_s,
    total_s: firstRun.total_s,
    question_source: firstRun.question_source,
    stopped_cleanly: firstRun.stopped_cleanly,
    load_1min: `${firstRun.load_average.before[0]} before, ${firstRun.load_average.after[0]} after`,
  };
  console.log(`\n${firstRunTables(firstRun)}\n`);
}

summary.machine = {
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
  memory_gb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
};
summary.date = new Date().toISOString();
writeFileSync(summaryPath, `${JSON.stringify(summary, null, 2)}\n`);
log(`wrote ${summaryPath}`);

const existing = existsSync(doc) ? readFileSync(doc, 'utf8') : '';
const figures = `${marker}\nLast run: ${summary.date} on ${(summary.machine as { cpus: number }).cpus} cores (${(summary.machine as { cpu: string }).cpu}), Node ${process.version}.\n\n\`\`\`json\n${JSON.stringify(summary, null, 2)}\n\`\`\`\n${marker}`;
const updated = existing.includes(marker)
  ? existing.replace(new RegExp(`${marker}[\\s\\S]*${marker}`), figures)
  : `${existing}\n${figures}\n`;
writeFileSync(doc, updated);
log(`updated ${doc}`);
