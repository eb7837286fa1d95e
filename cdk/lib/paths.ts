// Where the stack finds the repository's files at synth time: the Lambda entries and lock file, the
// state machine definition and the built viewer site.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_DEFINITION_PATH = join(REPO_ROOT, 'statemachine', 'show.asl.json');
export const DEFAULT_SITE_DIR = join(REPO_ROOT, 'site', 'dist');
