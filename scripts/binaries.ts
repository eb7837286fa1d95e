// `npm run binaries`: which ffmpeg, ffprobe, Chromium and font this machine will use, and from where.
// `--npm --env` prints the npm-shipped copies as FFMPEG_PATH=… lines, so CI can run the stream and
// browser tests on them even where the system has its own.
import { parseArgs } from 'node:util';
import {
  describeBinary,
  resolveChromium,
  resolveFfmpeg,
  resolveFfprobe,
  resolveFont,
  type ResolvedBinary,
  type ResolveOptions,
} from '../local/binaries.ts';

const HELP = `Usage: npm run binaries -- [--npm] [--env]

Resolves ffmpeg, ffprobe and Chromium the way npm start, the tests and the benchmarks do:
FFMPEG_PATH / FFPROBE_PATH / CHROMIUM_PATH, else the system's copy on PATH, else the copy
shipped in an npm package (@ffmpeg-installer, @ffprobe-installer, @sparticuz/chromium).

Options:
  --npm      skip the system's copies (the variables still win)
  --env      print VARIABLE=path lines instead of the table
  -h, --help show this help
`;

const VARIABLES = { ffmpeg: 'FFMPEG_PATH', ffprobe: 'FFPROBE_PATH', chromium: 'CHROMIUM_PATH' } as const;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { npm: { type: 'boolean' }, env: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const options: ResolveOptions = { prefer: values.npm ? 'npm' : 'system' };
  const results = await Promise.allSettled([
    resolveFfmpeg(options),
    resolveFfprobe(options),
    resolveChromium(options),
  ]);
  let failed = 0;
  for (const result of results) {
    if (result.status === 'rejected') {
      failed++;
      console.error(`missing: ${(result.reason as Error).message}`);
      continue;
    }
    const binary: ResolvedBinary = result.value;
    console.log(values.env ? `${VARIABLES[binary.name]}=${binary.path}` : describeBinary(binary));
  }
  if (!values.env) {
    const font = resolveFont();
    console.log(
      font
        ? `font ${font.path} (${font.source === 'npm' ? 'npm package dejavu-fonts-ttf' : 'system'})`
        : 'font: none',
    );
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`binaries: ${(error as Error).message}\n\n${HELP}`);
    process.exit(2);
  },
);
