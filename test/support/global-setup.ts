// Before any test: says which ffmpeg, ffprobe and Chromium this run uses (the system's or the
// npm-shipped ones), and unpacks the npm Chromium once rather than in every worker at the same time.
import { describeBinary, resolveChromium, resolveFfmpeg, resolveFfprobe } from '../../local/binaries.ts';

export default async function globalSetup(): Promise<void> {
  const results = await Promise.allSettled([resolveFfmpeg(), resolveFfprobe(), resolveChromium()]);
  const lines = results.map((r) =>
    r.status === 'fulfilled' ? describeBinary(r.value) : `MISSING ${(r.reason as Error).message}`,
  );
  process.stdout.write(`\nbinaries for this run: ${lines.join('; ')}\n`);
}
