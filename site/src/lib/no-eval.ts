// Loaded first by a page that checks data with zod (the control room's index.html, before its main
// module): the site's Content-Security-Policy (contract/site-headers.ts) refuses eval, and zod, unless
// told it is jitless, probes for it with a `new Function('')` when the first z.object is built. The
// probe's refusal is caught, but the browser still reports it as a violation; jitless skips the probe
// and builds the same parsers without generated code.
import { config } from 'zod';

config({ jitless: true });
