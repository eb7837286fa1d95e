// doctor: one line per check (what the audience needs, what the account has, OK/WARN/FAIL/INFO and
// what to do), a verdict, and the quota requests to file; or --json.
import { fmt } from '../../core/sizing.ts';
import type { CheckLine, DoctorReport } from '../../ops/doctor/evaluate.ts';
import { table } from '../format.ts';

export function renderDoctor(report: DoctorReport, json: boolean): string {
  if (json) return JSON.stringify(report, null, 2) + '\n';
  const where = `${report.account ? `account ${report.account}` : 'this account'} in ${report.region}`;
  const audience = `${fmt(report.audience)} viewers${report.defaultAudience ? ' (the default: --audience N for more)' : ''}`;
  const fixes = report.lines.some((l) => l.fix);
  const out = [
    `Will ${where} take stack ${report.stackName}, sized for ${audience}?`,
    '',
    table(report.lines, [
      { header: 'STATUS', value: (l: CheckLine) => l.status },
      { header: 'CHECK', value: (l) => `${l.service} ${l.check}` },
      { header: 'NEEDS', value: (l) => l.needs },
      { header: 'HAS', value: (l) => l.has },
      ...(fixes ? [{ header: 'FIX', value: (l: CheckLine) => l.fix ?? '' }] : []),
    ]).trimEnd(),
    '',
  ];
  const count = (status: CheckLine['status']) => report.lines.filter((l) => l.status === status).length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const fails = count('FAIL');
  const warns = count('WARN');
  out.push(
    fails > 0
      ? `✗ The deploy would fail here: ${plural(fails, 'check')} FAIL${warns ? `, ${plural(warns, 'warning')}` : ''}.`
      : `✓ This account takes the deploy${warns ? ` (${plural(warns, 'warning')})` : ''}.`,
  );
  // One request per quota, for the most any FAIL line needs of it.
  const raises = new Map<string, NonNullable<CheckLine['raise']>>();
  for (const { raise, status } of report.lines) {
    if (!raise || status !== 'FAIL') continue;
    const key = `${raise.serviceCode}/${raise.quotaCode}`;
    if ((raises.get(key)?.to ?? -1) < raise.to) raises.set(key, raise);
  }
  if (raises.size > 0) {
    out.push('', 'Quota increases to request (Service Quotas reviews each one; some take days):');
    for (const r of raises.values())
      out.push(
        `  aws service-quotas request-service-quota-increase --region ${report.region} --service-code ${r.serviceCode} --quota-code ${r.quotaCode} --desired-value ${r.to}   # ${r.name}`,
      );
  }
  return out.join('\n') + '\n';
}
