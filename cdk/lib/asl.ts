// Reads the one state machine definition (statemachine/show.asl.json) at synth time: which
// `${Name}` DefinitionSubstitutions it expects, and which service integrations its Task states
// call, so the stack fills every substitution and grants exactly the calls the file makes.
// A mismatch fails `cdk synth` with a message that names the file, the state and the fix.
import { existsSync, readFileSync } from 'node:fs';
import { PLACEHOLDER, substitutionNames } from '../../contract/state-machine.ts';

export class DefinitionError extends Error {
  override readonly name = 'DefinitionError';
}

export interface AslDefinition {
  path: string;
  text: string;
  /** Every `${Name}` placeholder in the file, in order of first use. */
  substitutionNames: string[];
  /** Every Task state's integration, e.g. lambda:invoke, aws-sdk ivs:putMetadata. */
  tasks: TaskIntegration[];
}

export interface TaskIntegration {
  state: string;
  resource: string;
  /** The IAM action the integration needs, e.g. `lambda:InvokeFunction`, `ivs:PutMetadata`. */
  iamAction: string;
  /** The state's Parameters (JSONPath) or Arguments (JSONata), if any. */
  parameters: Record<string, unknown>;
}

export function readAslDefinition(path: string): AslDefinition {
  if (!existsSync(path)) {
    throw new DefinitionError(
      `${path}: the state machine definition is missing (statemachine/show.asl.json)`,
    );
  }
  const text = readFileSync(path, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DefinitionError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  return { path, text, substitutionNames: substitutionNames(text), tasks: taskIntegrations(parsed, path) };
}

/**
 * Picks the substitutions the definition uses from what the stack provides. Fails when the
 * file uses a name the stack does not provide: CloudFormation would otherwise leave the literal
 * `${Name}` in the deployed definition and the execution would fail at that state.
 */
export function selectSubstitutions(
  definition: Pick<AslDefinition, 'path' | 'substitutionNames'>,
  provided: Record<string, string>,
): Record<string, string> {
  const missing = definition.substitutionNames.filter((name) => !(name in provided));
  if (missing.length > 0) {
    throw new DefinitionError(
      `${definition.path} uses ${missing.map((n) => '${' + n + '}').join(', ')}, which the Showrunner stack ` +
        `does not provide. It provides: ${Object.keys(provided).join(', ')}. ` +
        'Add the value to the definitionSubstitutions in cdk/lib/orchestration.ts (and grant the state machine what it needs).',
    );
  }
  return Object.fromEntries(definition.substitutionNames.map((name) => [name, provided[name]!]));
}

/** Applies substitutions the way CloudFormation does (used by the tests on resolved values). */
export function applySubstitutions(text: string, values: Record<string, string>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole);
}

function taskIntegrations(asl: unknown, path: string): TaskIntegration[] {
  const found: TaskIntegration[] = [];
  const visitStates = (states: unknown) => {
    if (!isObject(states)) return;
    for (const [name, state] of Object.entries(states)) {
      if (!isObject(state)) continue;
      if (state.Type === 'Task' && typeof state.Resource === 'string') {
        const parameters = isObject(state.Parameters)
          ? state.Parameters
          : isObject(state.Arguments)
            ? state.Arguments
            : {};
        found.push({
          state: name,
          resource: state.Resource,
          iamAction: iamActionFor(state.Resource, name, path),
          parameters,
        });
      }
      // Map (ItemProcessor or the older Iterator) and Parallel (Branches) nest their own States.
      for (const nested of [
        state.ItemProcessor,
        state.Iterator,
        ...(Array.isArray(state.Branches) ? state.Branches : []),
      ]) {
        if (isObject(nested)) visitStates(nested.States);
      }
    }
  };
  if (isObject(asl)) visitStates(asl.States);
  return found;
}

/**
 * `arn:aws:states:::lambda:invoke` (or a function ARN as the Resource) → lambda:InvokeFunction;
 * `arn:aws:states:::aws-sdk:ivs:putMetadata` → ivs:PutMetadata (the SDK integration's action is the
 * API name with its first letter upper-cased); `.waitForTaskToken` / `.sync` suffixes do not change it.
 */
export function iamActionFor(resource: string, state: string, path = 'the definition'): string {
  // A Lambda function as the Resource itself (its ARN or a `${…}` placeholder for it).
  if (/^\$\{[A-Za-z0-9_]+\}$/.test(resource) || /^arn:aws[a-z-]*:lambda:/.test(resource)) {
    return 'lambda:InvokeFunction';
  }
  const integration = /^arn:aws[a-z-]*:states:::(.+?)(?:\.(?:waitForTaskToken|sync(?::2)?))?$/.exec(
    resource,
  )?.[1];
  if (integration === 'lambda:invoke') return 'lambda:InvokeFunction';
  const sdk = integration && /^aws-sdk:([a-z0-9-]+):([A-Za-z0-9]+)$/.exec(integration);
  if (sdk) return `${sdk[1]}:${sdk[2]![0]!.toUpperCase()}${sdk[2]!.slice(1)}`;
  throw new DefinitionError(
    `${path}: state "${state}" uses the resource "${resource}", which the Showrunner stack does not know ` +
      'how to grant (it knows lambda:invoke and aws-sdk:<service>:<action>). Extend cdk/lib/asl.ts.',
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
