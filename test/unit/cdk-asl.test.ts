// cdk/lib/asl.ts: what the stack reads from a state machine definition at synth time.
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  applySubstitutions,
  iamActionFor,
  readAslDefinition,
  selectSubstitutions,
} from '../../cdk/lib/asl.ts';
import { substitutionNames } from '../../contract/state-machine.ts';
import { DEFAULT_DEFINITION_PATH } from '../../cdk/lib/showrunner-stack.ts';

const dir = mkdtempSync(join(tmpdir(), 'showrunner-asl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function aslFile(definition: unknown): string {
  const path = join(dir, `show-${++files}.asl.json`);
  writeFileSync(path, typeof definition === 'string' ? definition : JSON.stringify(definition));
  return path;
}

describe('ASL definition reader', () => {
  it('lists each ${Name} placeholder once, in order of first use', () => {
    expect(substitutionNames('{"a":"${B}","b":"${A}:${B}","c":"$.x","d":"${not valid}"}')).toEqual([
      'B',
      'A',
    ]);
  });

  it('maps Task resources to the IAM action they need', () => {
    expect(iamActionFor('arn:aws:states:::lambda:invoke', 's')).toBe('lambda:InvokeFunction');
    expect(iamActionFor('arn:aws:states:::lambda:invoke.waitForTaskToken', 's')).toBe(
      'lambda:InvokeFunction',
    );
    expect(iamActionFor('${ManualCueFunctionArn}', 's')).toBe('lambda:InvokeFunction');
    expect(iamActionFor('arn:aws:lambda:us-east-1:123456789012:function:f', 's')).toBe(
      'lambda:InvokeFunction',
    );
    expect(iamActionFor('arn:aws:states:::aws-sdk:ivs:putMetadata', 's')).toBe('ivs:PutMetadata');
    expect(iamActionFor('arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken', 's')).toBe(
      'dynamodb:PutItem',
    );
    expect(() => iamActionFor('arn:aws:states:::sns:publish', 'Notify', 'x.json')).toThrow(
      /x\.json: state "Notify" uses the resource "arn:aws:states:::sns:publish"/,
    );
  });

  it('finds Task states inside Map and Parallel states', () => {
    const path = aslFile({
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemProcessor: {
            StartAt: 'Both',
            States: {
              Both: {
                Type: 'Parallel',
                Branches: [
                  {
                    StartAt: 'Cue',
                    States: {
                      Cue: { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:ivs:putMetadata', End: true },
                    },
                  },
                ],
                End: true,
              },
            },
          },
          End: true,
        },
      },
    });
    expect(readAslDefinition(path).tasks).toEqual([
      {
        state: 'Cue',
        resource: 'arn:aws:states:::aws-sdk:ivs:putMetadata',
        iamAction: 'ivs:PutMetadata',
        parameters: {},
      },
    ]);
  });

  it('reports a file that is not JSON by its path', () => {
    const path = aslFile('{ "StartAt": ');
    expect(() => readAslDefinition(path)).toThrow(
      new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON`),
    );
  });

  it('selects exactly the substitutions used, and names the missing ones', () => {
    const definition = { path: 'show.asl.json', substitutionNames: ['A', 'B'] };
    expect(selectSubstitutions(definition, { A: '1', B: '2', C: '3' })).toEqual({ A: '1', B: '2' });
    expect(() => selectSubstitutions(definition, { A: '1' })).toThrow(
      'show.asl.json uses ${B}, which the Showrunner stack does not provide. It provides: A.',
    );
    expect(applySubstitutions('${A}-${B}-${C}', { A: '1', B: '2' })).toBe('1-2-${C}');
  });

  it('reads the real statemachine/show.asl.json', () => {
    const asl = readAslDefinition(DEFAULT_DEFINITION_PATH);
    expect(asl.tasks.length).toBeGreaterThan(0);
    expect(asl.substitutionNames).toContain('PollLifecycleFunctionArn');
  });
});
