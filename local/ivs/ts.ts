// MPEG-2 transport stream primitives for the segmenter: reading packet headers, PAT/PMT, PES
// timestamps and PCRs; rewriting timestamps; building the PMT that declares the ID3 stream and the
// ID3 PES packets themselves. Pure functions over Buffers (no I/O) so every byte is unit-testable.
// No maintained npm library writes MPEG-TS (mux.js only parses), hence this module.

export const PACKET_SIZE = 188;
export const SYNC_BYTE = 0x47;
export const PAT_PID = 0x0000;
export const NULL_PID = 0x1fff;
/** ffmpeg uses 0x100 (video) and 0x101 (audio); IVS puts timed metadata on 0x102. */
export const ID3_PID = 0x102;
export const STREAM_TYPE_H264 = 0x1b;
export const STREAM_TYPE_METADATA = 0x15;
/** PTS/DTS/PCR-base arithmetic is modulo 2^33 (90 kHz clock, wraps after ~26.5 h). */
export const TS_MODULO = 2 ** 33;
export const CLOCK_HZ = 90_000;

// metadata_pointer_descriptor (program_info) and metadata_descriptor (ES_info) exactly as found in
// real IVS segments: format 0xFFFF/'ID3 ', metadata format 0xFF/'ID3 '. The last two bytes of the
// pointer descriptor are the program_number, patched in buildPmtSection.
const METADATA_POINTER_DESCRIPTOR = [
  0x25, 0x0f, 0xff, 0xff, 0x49, 0x44, 0x33, 0x20, 0xff, 0x49, 0x44, 0x33, 0x20, 0x00, 0x1f, 0x00, 0x01,
];
const METADATA_DESCRIPTOR = [
  0x26, 0x0d, 0xff, 0xff, 0x49, 0x44, 0x33, 0x20, 0xff, 0x49, 0x44, 0x33, 0x20, 0x00, 0x0f,
];

export function wrapTs(value: number): number {
  return ((value % TS_MODULO) + TS_MODULO) % TS_MODULO;
}

/** Forward distance from `from` to `to` on the 33-bit clock (handles a wrap in between). */
export function tsForward(from: number, to: number): number {
  return wrapTs(to - from);
}

// ---------------------------------------------------------------- CRC-32/MPEG-2

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let bit = 0; bit < 8; bit++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** Poly 0x04C11DB7, init 0xFFFFFFFF, not reflected, no final XOR (the PSI section CRC). */
export function crc32Mpeg2(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ bytes[i]!) & 0xff]!) >>> 0;
  return crc >>> 0;
}

// ---------------------------------------------------------------- packet header

export interface PacketHeader {
  pid: number;
  payloadUnitStart: boolean;
  hasAdaptation: boolean;
  hasPayload: boolean;
  continuityCounter: number;
  /** Offset of the payload inside the packet (188 when there is none). */
  payloadOffset: number;
  randomAccess: boolean;
  hasPcr: boolean;
}

export function readHeader(packet: Uint8Array): PacketHeader {
  const pid = ((packet[1]! & 0x1f) << 8) | packet[2]!;
  const afc = (packet[3]! >> 4) & 0x03;
  const hasAdaptation = (afc & 0x02) !== 0;
  const hasPayload = (afc & 0x01) !== 0;
  let payloadOffset = 4;
  let randomAccess = false;
  let hasPcr = false;
  if (hasAdaptation) {
    const afLength = packet[4]!;
    payloadOffset = 5 + afLength;
    if (afLength > 0) {
      randomAccess = (packet[5]! & 0x40) !== 0;
      hasPcr = (packet[5]! & 0x10) !== 0 && afLength >= 7;
    }
  }
  return {
    pid,
    payloadUnitStart: (packet[1]! & 0x40) !== 0,
    hasAdaptation,
    hasPayload,
    continuityCounter: packet[3]! & 0x0f,
    payloadOffset: hasPayload ? Math.min(payloadOffset, PACKET_SIZE) : PACKET_SIZE,
    randomAccess,
    hasPcr,
  };
}

export function setContinuityCounter(packet: Uint8Array, cc: number): void {
  packet[3] = (packet[3]! & 0xf0) | (cc & 0x0f);
}

// ---------------------------------------------------------------- PES timestamps

export function readTimestamp(bytes: Uint8Array, offset: number): number {
  const high = (bytes[offset]! >> 1) & 0x07; // bits 32..30
  const low =
    ((bytes[offset + 1]! << 22) |
      ((bytes[offset + 2]! >> 1) << 15) |
      (bytes[offset + 3]! << 7) |
      (bytes[offset + 4]! >> 1)) >>>
    0;
  return high * 2 ** 30 + low;
}

/** Writes a 33-bit timestamp with its 4-bit prefix ('0010' PTS only, '0011'/'0001' PTS/DTS pair) and marker bits. */
export function writeTimestamp(bytes: Uint8Array, offset: number, prefix: number, value: number): void {
  const ts = wrapTs(value);
  const high = Math.floor(ts / 2 ** 30) & 0x07;
  const low = ts % 2 ** 30;
  bytes[offset] = (prefix << 4) | (high << 1) | 0x01;
  bytes[offset + 1] = (low >>> 22) & 0xff;
  bytes[offset + 2] = (((low >>> 15) & 0x7f) << 1) | 0x01;
  bytes[offset + 3] = (low >>> 7) & 0xff;
  bytes[offset + 4] = ((low & 0x7f) << 1) | 0x01;
}

export interface PesTimestamps {
  pts?: number;
  dts?: number;
  /** Offsets of the PTS/DTS fields inside the packet, for in-place rewriting. */
  ptsOffset?: number;
  dtsOffset?: number;
}

/** Reads PTS/DTS from the PES header that starts at `offset` (a payload_unit_start packet's payload). */
export function readPesTimestamps(packet: Uint8Array, offset: number): PesTimestamps {
  if (offset + 9 > packet.length) return {};
  if (packet[offset] !== 0 || packet[offset + 1] !== 0 || packet[offset + 2] !== 1) return {};
  const flags = packet[offset + 7]! >> 6;
  const result: PesTimestamps = {};
  if (flags & 0x02 && offset + 14 <= packet.length) {
    result.ptsOffset = offset + 9;
    result.pts = readTimestamp(packet, offset + 9);
    if (flags === 0x03 && offset + 19 <= packet.length) {
      result.dtsOffset = offset + 14;
      result.dts = readTimestamp(packet, offset + 14);
    }
  }
  return result;
}

export function readPcrBase(packet: Uint8Array): number {
  return (
    packet[6]! * 2 ** 25 + ((packet[7]! << 17) | (packet[8]! << 9) | (packet[9]! << 1) | (packet[10]! >> 7))
  );
}

export function writePcrBase(packet: Uint8Array, base: number): void {
  const v = wrapTs(base);
  packet[6] = Math.floor(v / 2 ** 25) & 0xff;
  const low = v % 2 ** 25;
  packet[7] = (low >>> 17) & 0xff;
  packet[8] = (low >>> 9) & 0xff;
  packet[9] = (low >>> 1) & 0xff;
  packet[10] = ((low & 0x01) << 7) | (packet[10]! & 0x7f); // keep the reserved bits and PCR extension
}

/**
 * Shifts the PCR (if any) and, on a PES start, the PTS/DTS of one packet by `offset` ticks, in place.
 * Used to keep one monotonic timeline when the source process changes.
 */
export function shiftTimestamps(packet: Uint8Array, header: PacketHeader, offset: number): void {
  if (offset === 0) return;
  if (header.hasPcr) writePcrBase(packet, readPcrBase(packet) + offset);
  if (header.payloadUnitStart && header.hasPayload) {
    const ts = readPesTimestamps(packet, header.payloadOffset);
    if (ts.pts !== undefined && ts.ptsOffset !== undefined) {
      writeTimestamp(packet, ts.ptsOffset, packet[ts.ptsOffset]! >> 4, ts.pts + offset);
    }
    if (ts.dts !== undefined && ts.dtsOffset !== undefined) {
      writeTimestamp(packet, ts.dtsOffset, packet[ts.dtsOffset]! >> 4, ts.dts + offset);
    }
  }
}

// ---------------------------------------------------------------- PSI

/** The section starting in this packet's payload (after the pointer_field), up to and including its CRC. */
export function readSection(packet: Uint8Array, header: PacketHeader): Uint8Array | undefined {
  if (!header.payloadUnitStart || !header.hasPayload) return undefined;
  const start = header.payloadOffset + 1 + packet[header.payloadOffset]!;
  if (start + 3 > PACKET_SIZE) return undefined;
  const sectionLength = ((packet[start + 1]! & 0x0f) << 8) | packet[start + 2]!;
  const end = start + 3 + sectionLength;
  // Sections spanning several packets never occur for the PAT/PMT of a 2-stream program; skip them.
  if (end > PACKET_SIZE) return undefined;
  return packet.subarray(start, end);
}

/** PID of the first program's PMT (programs other than the first are ignored, like hls.js does). */
export function parsePat(section: Uint8Array): number | undefined {
  if (section[0] !== 0x00) return undefined;
  const end = section.length - 4;
  for (let i = 8; i + 4 <= end; i += 4) {
    const programNumber = (section[i]! << 8) | section[i + 1]!;
    if (programNumber !== 0) return ((section[i + 2]! & 0x1f) << 8) | section[i + 3]!;
  }
  return undefined;
}

export interface PmtStream {
  streamType: number;
  pid: number;
  esInfo: Uint8Array;
}

export interface Pmt {
  programNumber: number;
  version: number;
  pcrPid: number;
  programInfo: Uint8Array;
  streams: PmtStream[];
}

export function parsePmt(section: Uint8Array): Pmt | undefined {
  if (section[0] !== 0x02 || section.length < 16) return undefined;
  const programNumber = (section[3]! << 8) | section[4]!;
  const version = (section[5]! >> 1) & 0x1f;
  const pcrPid = ((section[8]! & 0x1f) << 8) | section[9]!;
  const programInfoLength = ((section[10]! & 0x0f) << 8) | section[11]!;
  const programInfo = section.slice(12, 12 + programInfoLength);
  const streams: PmtStream[] = [];
  const end = section.length - 4;
  for (let i = 12 + programInfoLength; i + 5 <= end;) {
    const esInfoLength = ((section[i + 3]! & 0x0f) << 8) | section[i + 4]!;
    streams.push({
      streamType: section[i]!,
      pid: ((section[i + 1]! & 0x1f) << 8) | section[i + 2]!,
      esInfo: section.slice(i + 5, i + 5 + esInfoLength),
    });
    i += 5 + esInfoLength;
  }
  return { programNumber, version, pcrPid, programInfo, streams };
}

export function buildPmtSection(pmt: Pmt): Buffer {
  const esBytes = pmt.streams.reduce((n, s) => n + 5 + s.esInfo.length, 0);
  const sectionLength = 9 + pmt.programInfo.length + esBytes + 4; // bytes after the length field
  const section = Buffer.alloc(3 + sectionLength);
  section[0] = 0x02;
  section[1] = 0xb0 | ((sectionLength >> 8) & 0x0f); // section_syntax_indicator 1, '0', reserved '11'
  section[2] = sectionLength & 0xff;
  section.writeUInt16BE(pmt.programNumber, 3);
  section[5] = 0xc1 | ((pmt.version & 0x1f) << 1); // reserved '11', version, current_next_indicator 1
  section[6] = 0x00; // section_number
  section[7] = 0x00; // last_section_number
  section.writeUInt16BE(0xe000 | pmt.pcrPid, 8);
  section.writeUInt16BE(0xf000 | pmt.programInfo.length, 10);
  section.set(pmt.programInfo, 12);
  let i = 12 + pmt.programInfo.length;
  for (const stream of pmt.streams) {
    section[i] = stream.streamType;
    section.writeUInt16BE(0xe000 | stream.pid, i + 1);
    section.writeUInt16BE(0xf000 | stream.esInfo.length, i + 3);
    section.set(stream.esInfo, i + 5);
    i += 5 + stream.esInfo.length;
  }
  section.writeUInt32BE(crc32Mpeg2(section, 0, i), i);
  return section;
}

/**
 * The source's PMT plus what IVS declares for timed metadata: the metadata_pointer_descriptor in
 * program_info and a stream_type 0x15 entry on `id3Pid` with its metadata_descriptor.
 */
export function withMetadataStream(pmt: Pmt, id3Pid: number = ID3_PID): Pmt {
  if (pmt.streams.some((s) => s.pid === id3Pid && s.streamType !== STREAM_TYPE_METADATA)) {
    throw new Error(`PID 0x${id3Pid.toString(16)} is already used by the source`);
  }
  const pointer = Uint8Array.from(METADATA_POINTER_DESCRIPTOR);
  pointer[15] = (pmt.programNumber >> 8) & 0xff;
  pointer[16] = pmt.programNumber & 0xff;
  const programInfo = new Uint8Array(pmt.programInfo.length + pointer.length);
  programInfo.set(pmt.programInfo, 0);
  programInfo.set(pointer, pmt.programInfo.length);
  return {
    ...pmt,
    programInfo,
    streams: [
      ...pmt.streams.filter((s) => s.pid !== id3Pid),
      { streamType: STREAM_TYPE_METADATA, pid: id3Pid, esInfo: Uint8Array.from(METADATA_DESCRIPTOR) },
    ],
  };
}

/** One packet carrying a whole PSI section, stuffed with 0xFF (the PSI convention, not an adaptation field). */
export function psiPacket(pid: number, section: Uint8Array, cc = 0): Buffer {
  if (section.length > PACKET_SIZE - 5)
    throw new RangeError(`section of ${section.length} bytes does not fit one packet`);
  const packet = Buffer.alloc(PACKET_SIZE, 0xff);
  packet[0] = SYNC_BYTE;
  packet[1] = 0x40 | ((pid >> 8) & 0x1f);
  packet[2] = pid & 0xff;
  packet[3] = 0x10 | (cc & 0x0f);
  packet[4] = 0x00; // pointer_field
  packet.set(section, 5);
  return packet;
}

// ---------------------------------------------------------------- PES packetizing

/** `00 00 01 BD <len> 84 80 05 <PTS>`: private_stream_1, data_alignment_indicator, PTS only, exact length. */
export function buildMetadataPes(tag: Uint8Array, pts: number): Buffer {
  const pes = Buffer.alloc(14 + tag.length);
  const packetLength = 8 + tag.length; // everything after the PES_packet_length field
  if (packetLength > 0xffff) throw new RangeError('ID3 tag too large for one PES packet');
  pes[2] = 0x01;
  pes[3] = 0xbd;
  pes.writeUInt16BE(packetLength, 4);
  pes[6] = 0x84; // '10', not scrambled, priority 0, data_alignment_indicator 1
  pes[7] = 0x80; // PTS only
  pes[8] = 0x05; // PES_header_data_length
  writeTimestamp(pes, 9, 0x02, pts);
  pes.set(tag, 14);
  return pes;
}

/**
 * Splits a PES into TS packets on `pid`. The last packet is filled with an adaptation field of stuffing
 * (never with bytes inside the payload, which the demuxer would read as data).
 */
export function packetizePes(pid: number, pes: Uint8Array, firstCc = 0): Buffer[] {
  const packets: Buffer[] = [];
  let cc = firstCc;
  for (let offset = 0; offset < pes.length;) {
    const remaining = pes.length - offset;
    const packet = Buffer.alloc(PACKET_SIZE, 0xff);
    packet[0] = SYNC_BYTE;
    packet[1] = (offset === 0 ? 0x40 : 0x00) | ((pid >> 8) & 0x1f);
    packet[2] = pid & 0xff;
    let payloadStart = 4;
    if (remaining >= 184) {
      packet[3] = 0x10 | (cc & 0x0f);
    } else {
      const afLength = 183 - remaining; // adaptation_field_length (excludes itself)
      packet[3] = 0x30 | (cc & 0x0f);
      packet[4] = afLength;
      if (afLength > 0) packet[5] = 0x00; // no flags; the rest of the field stays 0xFF stuffing
      payloadStart = 5 + afLength;
    }
    const take = Math.min(remaining, PACKET_SIZE - payloadStart);
    packet.set(pes.subarray(offset, offset + take), payloadStart);
    packets.push(packet);
    offset += take;
    cc = (cc + 1) & 0x0f;
  }
  return packets;
}

// ---------------------------------------------------------------- stream alignment

/**
 * Cuts a byte stream (a pipe's chunks) into 188-byte packets, carrying the tail over to the next chunk
 * and re-synchronising on 0x47 if the stream ever loses alignment.
 */
export class PacketAligner {
  #rest: Buffer = Buffer.alloc(0);
  /** Bytes skipped to regain sync (should stay 0 for ffmpeg's output). */
  skipped = 0;

  push(chunk: Buffer, onPacket: (packet: Buffer) => void): void {
    const data = this.#rest.length > 0 ? Buffer.concat([this.#rest, chunk]) : chunk;
    let offset = 0;
    while (data.length - offset >= PACKET_SIZE) {
      if (data[offset] !== SYNC_BYTE) {
        const next = data.indexOf(SYNC_BYTE, offset + 1);
        const to = next < 0 ? data.length : next;
        this.skipped += to - offset;
        offset = to;
        continue;
      }
      // Copy: the packet may be rewritten in place and kept in a segment after the chunk is reused.
      onPacket(Buffer.from(data.subarray(offset, offset + PACKET_SIZE)));
      offset += PACKET_SIZE;
    }
    this.#rest = Buffer.from(data.subarray(offset));
  }

  reset(): void {
    this.#rest = Buffer.alloc(0);
  }
}
