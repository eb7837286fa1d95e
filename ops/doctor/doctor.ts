// doctor: "will this account take the deploy?" Sizes the stack for the audience (core/sizing.ts),
// reads what the account has (facts.ts) and judges each need (evaluate.ts). The CLI renders the report
// (cli/render/doctor.ts); the exit code follows report.ok.
import { DEFAULT_AUDIENCE, sizeFor } from '../../core/sizing.ts';
import { evaluate, quotasToRead, type DoctorReport } from './evaluate.ts';
import { gatherFacts, type DoctorClients } from './facts.ts';

export interface DoctorRequest {
  clients: DoctorClients;
  region: string;
  stackName: string;
  /** Viewers per show (sizing's MIN_AUDIENCE to MAX_AUDIENCE); default sizing's DEFAULT_AUDIENCE. */
  audience?: number;
}

export async function doctor(request: DoctorRequest): Promise<DoctorReport> {
  const sizing = sizeFor(request.audience ?? DEFAULT_AUDIENCE);
  const facts = await gatherFacts({
    clients: request.clients,
    region: request.region,
    stackName: request.stackName,
    quotas: quotasToRead(sizing),
  });
  return evaluate({
    sizing,
    defaultAudience: request.audience === undefined,
    stackName: request.stackName,
    facts,
  });
}
