// Builds the Showrunner stack for the CDK tests with the app's cdk.json feature flags, a
// throw-away built site, and (unless asked) no Lambda bundling.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { REPO_ROOT } from '../../cdk/lib/paths.ts';
import { ShowrunnerStack, type ShowrunnerStackProps } from '../../cdk/lib/showrunner-stack.ts';

export const CDK_JSON = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
  app: string;
  context: Record<string, unknown>;
};

const tempDirs: string[] = [];

/** A fresh temporary directory, removed by removeTempDirs() (call it in afterAll). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `showrunner-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A directory that looks like Vite's output (and carries a stale config.json the deploy must replace). */
export function fakeSite(): string {
  const dir = tempDir('site');
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>showrunner</title>');
  writeFileSync(join(dir, 'config.json'), '{"apiUrl":"http://127.0.0.1:3000/api"}');
  return dir;
}

export interface Synth {
  app: App;
  stack: ShowrunnerStack;
  template: Template;
}

export function synth(props: ShowrunnerStackProps = {}, options: { bundle?: boolean } = {}): Synth {
  const app = new App({
    outdir: tempDir('cdk'),
    context: {
      ...CDK_JSON.context,
      // Bundling is slow; one test in bundle.test.ts does it for real.
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
  });
  const stack = new ShowrunnerStack(app, 'Showrunner', { siteDir: fakeSite(), ...props });
  return { app, stack, template: Template.fromStack(stack) };
}

/** The logical id of the one resource of a type (fails when there are none or several). */
export function onlyResource(template: Template, type: string, props?: object): [string, any] {
  const found = Object.entries(template.findResources(type, props ? { Properties: props } : undefined));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0]!;
}

/** IAM policy statements of the template, each with the logical id of its policy. */
export function statements(template: Template): { policy: string; statement: any }[] {
  return Object.entries(template.findResources('AWS::IAM::Policy')).flatMap(([policy, resource]) =>
    (resource.Properties.PolicyDocument.Statement as any[]).map((statement) => ({ policy, statement })),
  );
}

export const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Renders a CloudFormation value as text: Ref → <Id>, GetAtt → <Id.Attr>, Join → joined parts. */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as Record<string, any>;
    if ('Ref' in v) return `<${v.Ref}>`;
    if ('Fn::GetAtt' in v) return `<${v['Fn::GetAtt'].join('.')}>`;
    if ('Fn::Join' in v) return (v['Fn::Join'][1] as unknown[]).map(render).join(v['Fn::Join'][0]);
    if ('Fn::Sub' in v) return String(v['Fn::Sub']);
    if ('Fn::Select' in v) {
      const [index, list] = v['Fn::Select'] as [number, Record<string, any>];
      if ('Fn::Split' in list) {
        const [separator, of] = list['Fn::Split'] as [string, unknown];
        return `${render(of)}.split(${separator})[${index}]`;
      }
    }
  }
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

/** The viewer API's ANY /{proxy+} resource (the one under the API's root, not /producer/{proxy+}). */
export function rootProxy(template: Template): string {
  const [api] = onlyResource(template, 'AWS::ApiGateway::RestApi');
  const [id] = onlyResource(template, 'AWS::ApiGateway::Resource', {
    PathPart: '{proxy+}',
    ParentId: { 'Fn::GetAtt': [api, 'RootResourceId'] },
  });
  return id;
}
