// The one state machine definition (statemachine/show.asl.json) with its DefinitionSubstitutions
// applied. CDK passes the same names to `definitionSubstitutions`; aws-local-stepfunctions does not
// apply them, so the local stack replaces `${…}` here before the definition is parsed.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { PLACEHOLDER, substitutionNames, type Substitutions } from '../../contract/state-machine.ts';

export const DEFINITION_FILE = fileURLToPath(new URL('../../statemachine/show.asl.json', import.meta.url));

export class DefinitionSubstitutionError extends Error {
  override readonly name = 'DefinitionSubstitutionError';
}

/**
 * Replaces `${Name}` like CloudFormation's DefinitionSubstitutions. Values are JSON-escaped because
 * they land inside JSON strings; a name without a value is an error, not a silent leftover.
 */
export function substitute(text: string, values: Readonly<Record<string, string>>): string {
  const missing = substitutionNames(text).filter((name) => values[name] === undefined);
  if (missing.length > 0) {
    throw new DefinitionSubstitutionError(`no value for definition substitution(s): ${missing.join(', ')}`);
  }
  return text.replace(PLACEHOLDER, (_, name: string) => JSON.stringify(values[name]).slice(1, -1));
}

export interface LoadedDefinition {
  /** The substituted definition text, as DescribeStateMachine returns it. */
  text: string;
  definition: Record<string, unknown>;
}

export async function loadDefinition(
  values: Substitutions,
  file = DEFINITION_FILE,
): Promise<LoadedDefinition> {
  const text = substitute(await readFile(file, 'utf8'), values);
  return { text, definition: JSON.parse(text) as Record<string, unknown> };
}
