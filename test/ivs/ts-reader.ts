// A deliberately separate, minimal MPEG-TS demuxer for the tests (it shares no code with local/ivs/ts.ts,
// so the writer is not checked against itself): PMT streams, PES units per PID with PTS/DTS, the
// random_access_indicator of video PES starts, and continuity counter errors.

export interface PesUnit {
  pid: number;
  streamId: number;
  pts?: number;
  dts?: number;
  /** PES_packet_length as written (0 = unbounded). */
  declaredLength: number;
  /** The PES header flag bytes (6..8) as written, e.g. 84 80 05 for IVS metadata. */
  headerBytes: number[];
  payload: Buffer;
  randomAccess: boolean;
}

export interface Demuxed {
  pmtPid?: number;
  streams: { streamType: number; pid: number; esInfo: Buffer }[];
  programInfo: Buffer;
  pes: PesUnit[];
  continuityErrors: string[];
  packetCount: number;
}

function ts33(b: Buffer, o: number): number {
  return (
    ((b[o]! >> 1) & 7) * 2 ** 30 +
    (b[o + 1]! << 22) +
    ((b[o + 2]! >> 1) << 15) +
    (b[o + 3]! << 7) +
    (b[o + 4]! >> 1)
  );
}

export function demux(data: Buffer): Demuxed {
  if (data.length % 188 !== 0) throw new Error(`not a whole number of packets: ${data.length}`);
  const out: Demuxed = {
    streams: [],
    programInfo: Buffer.alloc(0),
    pes: [],
    continuityErrors: [],
    packetCount: 0,
  };
  const open = new Map<number, { chunks: Buffer[]; randomAccess: boolean }>();
  const lastCc = new Map<number, number>();
  const finish = (pid: number) => {
    const unit = open.get(pid);
    open.delete(pid);
    if (!unit) return;
    const pes = Buffer.concat(unit.chunks);
    if (pes[0] !== 0 || pes[1] !== 0 || pes[2] !== 1) throw new Error(`PID ${pid}: PES without start code`);
    const flags = pes[7]! >> 6;
    const headerLength = pes[8]!;
    const unitOut: PesUnit = {
      pid,
      streamId: pes[3]!,
      declaredLength: pes.readUInt16BE(4),
      headerBytes: [pes[6]!, pes[7]!, pes[8]!],
      payload: pes.subarray(9 + headerLength),
      randomAccess: unit.randomAccess,
    };
    if (flags & 2) unitOut.pts = ts33(pes, 9);
    if (flags === 3) unitOut.dts = ts33(pes, 14);
    if (unitOut.declaredLength !== 0) {
      const actual = pes.length - 6;
      if (actual !== unitOut.declaredLength)
        throw new Error(`PID ${pid}: PES length ${unitOut.declaredLength} but ${actual} bytes`);
    }
    out.pes.push(unitOut);
  };
  for (let i = 0; i < data.length; i += 188) {
    const p = data.subarray(i, i + 188);
    out.packetCount++;
    if (p[0] !== 0x47) throw new Error(`lost sync at ${i}`);
    const pid = ((p[1]! & 0x1f) << 8) | p[2]!;
    const pusi = (p[1]! & 0x40) !== 0;
    const afc = (p[3]! >> 4) & 3;
    const cc = p[3]! & 0x0f;
    let offset = 4;
    let randomAccess = false;
    if (afc & 2) {
      randomAccess = p[4]! > 0 && (p[5]! & 0x40) !== 0;
      offset = 5 + p[4]!;
    }
    if (!(afc & 1)) continue;
    const prev = lastCc.get(pid);
    if (prev !== undefined && ((prev + 1) & 15) !== cc)
      out.continuityErrors.push(`PID ${pid} packet ${i / 188}: ${prev} -> ${cc}`);
    lastCc.set(pid, cc);
    const payload = p.subarray(offset);
    if (pid === 0) {
      const s = payload.subarray(1 + payload[0]!);
      out.pmtPid = ((s[10]! & 0x1f) << 8) | s[11]!;
      continue;
    }
    if (pid === out.pmtPid) {
      const s = payload.subarray(1 + payload[0]!);
      const sectionLength = ((s[1]! & 0x0f) << 8) | s[2]!;
      const end = 3 + sectionLength - 4;
      const infoLength = ((s[10]! & 0x0f) << 8) | s[11]!;
      out.programInfo = Buffer.from(s.subarray(12, 12 + infoLength));
      out.streams = [];
      for (let j = 12 + infoLength; j < end;) {
        const esLength = ((s[j + 3]! & 0x0f) << 8) | s[j + 4]!;
        out.streams.push({
          streamType: s[j]!,
          pid: ((s[j + 1]! & 0x1f) << 8) | s[j + 2]!,
          esInfo: Buffer.from(s.subarray(j + 5, j + 5 + esLength)),
        });
        j += 5 + esLength;
      }
      continue;
    }
    if (pid === 0x11 || pid === 0x1fff) continue;
    if (pusi) {
      finish(pid);
      open.set(pid, { chunks: [Buffer.from(payload)], randomAccess });
    } else {
      open.get(pid)?.chunks.push(Buffer.from(payload));
    }
  }
  for (const pid of [...open.keys()]) finish(pid);
  return out;
}

export interface PrivFrame {
  owner: string;
  data: Buffer;
  version: number;
}

/** Reads an ID3v2.4 tag's PRIV frames (sizes syncsafe, as hls.js reads them). */
export function readPrivFrames(tag: Buffer): PrivFrame[] {
  if (tag.toString('latin1', 0, 3) !== 'ID3') throw new Error('not an ID3 tag');
  const syncsafe = (o: number) => (tag[o]! << 21) | (tag[o + 1]! << 14) | (tag[o + 2]! << 7) | tag[o + 3]!;
  const size = syncsafe(6);
  if (10 + size !== tag.length) throw new Error(`ID3 size ${size} but ${tag.length - 10} bytes follow`);
  const frames: PrivFrame[] = [];
  for (let o = 10; o + 10 <= tag.length;) {
    const id = tag.toString('latin1', o, o + 4);
    const frameSize = syncsafe(o + 4);
    const body = tag.subarray(o + 10, o + 10 + frameSize);
    if (id === 'PRIV') {
      const zero = body.indexOf(0);
      frames.push({
        owner: body.toString('latin1', 0, zero),
        data: Buffer.from(body.subarray(zero + 1)),
        version: tag[3]!,
      });
    }
    o += 10 + frameSize;
  }
  return frames;
}
