// The publishing half of an RTMP server, as much as OBS and ffmpeg need to push a stream, so the
// local ingest can refuse a wrong stream key the way IVS does. ffmpeg's own RTMP listener (the
// earlier ingest) accepts any stream name and only warns ("Unexpected stream …"), so
// rtmp://127.0.0.1:1935/live/<anything> took the channel over. Here the publish command's stream
// name is checked before a single media byte is taken, and the media are handed on as FLV (the
// container RTMP's audio, video and data messages are the tags of), which an ffmpeg reads on stdin.
//
// Pure: bytes in, events out (`send` to the publisher, `flv` for the transcoder); the sockets are
// ./ingest.ts. What is implemented, after the RTMP 1.0 specification (Adobe, 2012):
// - the simple handshake (C0/C1/C2 ↔ S0/S1/S2; no digest: OBS and ffmpeg publishers accept it);
// - chunk streams: basic headers of 1–3 bytes, message headers of types 0–3, extended timestamps,
//   Set Chunk Size and Abort from the publisher, Acknowledgements after its window, ping replies;
// - AMF0 commands: connect, releaseStream, FCPublish, createStream, publish, FCUnpublish,
//   deleteStream, closeStream, _checkbw; AMF3-wrapped ones (types 15 and 17) are read as AMF0;
// - audio (8), video (9) and data (18, @setDataFrame stripped as ffmpeg's RTMP reader does).
// The FLV header says which tracks come: from onMetaData (audiocodecid, videocodecid), or, without
// metadata, from the first second of media, so a publisher without audio is known as one.

const HANDSHAKE_SIZE = 1536;
const RTMP_VERSION = 3;
/** Our outgoing chunk size (announced with Set Chunk Size); the publisher's starts at 128. */
const OUT_CHUNK_SIZE = 4096;
/** What we ask the publisher to acknowledge, and tell it we send at most (as ffmpeg's server does). */
const WINDOW_SIZE = 2_500_000;
/** A message before publish (a command) is small; after, a video frame can be a few MB. */
const MAX_COMMAND_BYTES = 64 * 1024;
/** All a publisher may send before its publish is accepted (a handshake and a few commands: ~5 KB). */
const MAX_BYTES_BEFORE_PUBLISH = 1024 * 1024;
const MAX_MEDIA_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Without onMetaData, which tracks come is judged from this much media (ms of timestamps) or tags. */
const TRACK_PROBE_MS = 1000;
const TRACK_PROBE_TAGS = 64;
/** Nesting allowed in AMF0 values (objects in arrays in objects…). */
const MAX_AMF_DEPTH = 16;

const TYPE = {
  setChunkSize: 1,
  abort: 2,
  acknowledgement: 3,
  userControl: 4,
  windowAckSize: 5,
  setPeerBandwidth: 6,
  audio: 8,
  video: 9,
  dataAmf3: 15,
  commandAmf3: 17,
  dataAmf0: 18,
  commandAmf0: 20,
} as const;

export class RtmpProtocolError extends Error {
  override readonly name = 'RtmpProtocolError';
}

// ---------------------------------------------------------------------------------------------
// AMF0

export type AmfValue =
  number | boolean | string | null | undefined | Date | AmfValue[] | { [key: string]: AmfValue };

/** Reads AMF0 values from a buffer, front to back. */
export class Amf0Reader {
  readonly #data: Buffer;
  #at = 0;

  constructor(data: Buffer) {
    this.#data = data;
  }

  get done(): boolean {
    return this.#at >= this.#data.length;
  }

  /** Bytes read so far. */
  get offset(): number {
    return this.#at;
  }

  #need(bytes: number): void {
    if (this.#at + bytes > this.#data.length) throw new RtmpProtocolError('AMF0 value runs past its message');
  }

  #u8(): number {
    this.#need(1);
    return this.#data[this.#at++]!;
  }

  #string(lengthBytes: 2 | 4): string {
    this.#need(lengthBytes);
    const length = lengthBytes === 2 ? this.#data.readUInt16BE(this.#at) : this.#data.readUInt32BE(this.#at);
    this.#at += lengthBytes;
    this.#need(length);
    const text = this.#data.toString('utf8', this.#at, this.#at + length);
    this.#at += length;
    return text;
  }

  #properties(depth: number): { [key: string]: AmfValue } {
    const object: { [key: string]: AmfValue } = Object.create(null) as { [key: string]: AmfValue };
    for (;;) {
      const key = this.#string(2);
      if (key === '') {
        if (this.#u8() !== 0x09) throw new RtmpProtocolError('AMF0 object without its end marker');
        return object;
      }
      object[key] = this.read(depth + 1);
    }
  }

  read(depth = 0): AmfValue {
    if (depth > MAX_AMF_DEPTH) throw new RtmpProtocolError('AMF0 value nested too deep');
    const marker = this.#u8();
    switch (marker) {
      case 0x00: {
        this.#need(8);
        const value = this.#data.readDoubleBE(this.#at);
        this.#at += 8;
        return value;
      }
      case 0x01:
        return this.#u8() !== 0;
      case 0x02:
        return this.#string(2);
      case 0x03:
        return this.#properties(depth);
      case 0x05:
        return null;
      case 0x06:
        return undefined;
      case 0x08:
        this.#need(4);
        this.#at += 4; // the count is a hint; the properties end with the object end marker
        return this.#properties(depth);
      case 0x0a: {
        this.#need(4);
        const count = this.#data.readUInt32BE(this.#at);
        this.#at += 4;
        const values: AmfValue[] = [];
        for (let i = 0; i < count; i++) values.push(this.read(depth + 1));
        return values;
      }
      case 0x0b: {
        this.#need(10);
        const ms = this.#data.readDoubleBE(this.#at);
        this.#at += 10;
        return new Date(ms);
      }
      case 0x0c:
        return this.#string(4);
      default:
        throw new RtmpProtocolError(`AMF0 type 0x${marker.toString(16)} is not supported`);
    }
  }
}

/** AMF0 encoding of the values our replies carry. */
export function amf0(...values: AmfValue[]): Buffer {
  const parts: Buffer[] = [];
  const string = (text: string) => {
    const bytes = Buffer.from(text, 'utf8');
    const length = Buffer.alloc(2);
    length.writeUInt16BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  const write = (value: AmfValue): void => {
    if (typeof value === 'number') {
      const b = Buffer.alloc(9);
      b.writeDoubleBE(value, 1);
      parts.push(b);
    } else if (typeof value === 'boolean') parts.push(Buffer.from([0x01, value ? 1 : 0]));
    else if (typeof value === 'string') parts.push(Buffer.from([0x02]), string(value));
    else if (value === null) parts.push(Buffer.from([0x05]));
    else if (value === undefined) parts.push(Buffer.from([0x06]));
    else if (value instanceof Date || Array.isArray(value))
      throw new TypeError('amf0: dates and arrays are not written');
    else {
      parts.push(Buffer.from([0x03]));
      for (const [key, v] of Object.entries(value)) {
        parts.push(string(key));
        write(v);
      }
      parts.push(Buffer.from([0x00, 0x00, 0x09]));
    }
  };
  for (const value of values) write(value);
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// Chunks

interface ChunkStream {
  /** The last message header seen on this chunk stream (later headers may omit parts of it). */
  timestamp: number;
  timestampField: number;
  extended: boolean;
  length: number;
  type: number;
  streamId: number;
  /** The message being assembled, or undefined between messages. */
  parts: Buffer[] | undefined;
  received: number;
}

export interface RtmpMessage {
  type: number;
  streamId: number;
  /** Milliseconds, as the publisher's clock counts them (32 bits, wrapping). */
  timestamp: number;
  payload: Buffer;
}

/** Writes one message as chunks of `chunkSize` (a type 0 header, then type 3 continuation headers). */
export function encodeMessage(
  csid: number,
  message: { type: number; streamId: number; timestamp?: number; payload: Buffer },
  chunkSize = OUT_CHUNK_SIZE,
): Buffer {
  if (csid < 2 || csid > 63) throw new RangeError('csid: 2–63 only (one-byte basic headers)');
  const timestamp = message.timestamp ?? 0;
  const extended = timestamp >= 0xffffff;
  const header = Buffer.alloc(12 + (extended ? 4 : 0));
  header[0] = csid; // fmt 0
  header.writeUIntBE(extended ? 0xffffff : timestamp, 1, 3);
  header.writeUIntBE(message.payload.length, 4, 3);
  header[7] = message.type;
  header.writeUInt32LE(message.streamId, 8);
  if (extended) header.writeUInt32BE(timestamp >>> 0, 12);
  const parts: Buffer[] = [header];
  for (let at = 0; at < message.payload.length; at += chunkSize) {
    if (at > 0) {
      parts.push(Buffer.from([0xc0 | csid]));
      if (extended) parts.push(header.subarray(12, 16));
    }
    parts.push(message.payload.subarray(at, at + chunkSize));
  }
  return Buffer.concat(parts);
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
}

const control = (type: number, payload: Buffer) => encodeMessage(2, { type, streamId: 0, payload });

// ---------------------------------------------------------------------------------------------
// FLV

/** The FLV file header plus PreviousTagSize0, for the tracks that come. */
export function flvHeader(tracks: { audio: boolean; video: boolean }): Buffer {
  const header = Buffer.from([0x46, 0x4c, 0x56, 0x01, 0, 0, 0, 0, 9, 0, 0, 0, 0]);
  header[4] = (tracks.audio ? 0x04 : 0) | (tracks.video ? 0x01 : 0);
  return header;
}

/** One FLV tag (with its trailing PreviousTagSize) for an audio, video or script message. */
export function flvTag(type: number, timestamp: number, data: Buffer): Buffer {
  const head = Buffer.alloc(11);
  head[0] = type;
  head.writeUIntBE(data.length, 1, 3);
  head.writeUIntBE(timestamp & 0xffffff, 4, 3);
  head[7] = (timestamp >>> 24) & 0xff;
  // stream id: 3 bytes of 0
  return Buffer.concat([head, data, u32(11 + data.length)]);
}

// ---------------------------------------------------------------------------------------------
// The session

export type PublishDecision = { ok: true } | { ok: false; code: string; description: string };

export interface PublishSessionEvents {
  /** Bytes for the publisher. */
  send(bytes: Buffer): void;
  /**
   * The publish command: its stream name (the stream key) and the app of connect. Return whether
   * it may publish; a refusal is answered with an error status, and then `refused` is emitted.
   */
  authorize(request: { app: string; streamName: string }): PublishDecision;
  /** The publisher was refused: close the connection once the bytes sent so far are out. */
  refused(reason: string): void;
  /** Publishing began and the tracks are known: the FLV stream starts with the next `flv` bytes. */
  stream(tracks: { audio: boolean; video: boolean }): void;
  /** FLV bytes (the header first, then tags). */
  flv(bytes: Buffer): void;
  /** The publisher stopped publishing (FCUnpublish, deleteStream, closeStream). */
  unpublished(): void;
}

type Phase = 'c0c1' | 'c2' | 'chunks';

export class RtmpPublishSession {
  readonly #events: PublishSessionEvents;
  #phase: Phase = 'c0c1';
  #input: Buffer = Buffer.alloc(0);
  #inChunkSize = 128;
  readonly #streams = new Map<number, ChunkStream>();
  #app = '';
  #publishing = false;
  #ended = false;
  /** Set once the FLV header is out; until then tags wait in #held. */
  #tracks: { audio: boolean; video: boolean } | undefined;
  #held: { type: number; timestamp: number; data: Buffer }[] = [];
  #firstMediaTimestamp: number | undefined;
  #ackWindow = 0;
  #bytesReceived = 0;
  #lastAck = 0;
  #nextStreamId = 1;

  constructor(events: PublishSessionEvents) {
    this.#events = events;
  }

  /** True once a publish command was accepted. */
  get publishing(): boolean {
    return this.#publishing;
  }

  /** Takes the publisher's bytes; throws RtmpProtocolError on anything RTMP does not allow. */
  push(chunk: Buffer): void {
    if (this.#ended) return;
    this.#bytesReceived += chunk.length;
    if (!this.#publishing && this.#bytesReceived > MAX_BYTES_BEFORE_PUBLISH)
      throw new RtmpProtocolError(`more than ${MAX_BYTES_BEFORE_PUBLISH} bytes before publish`);
    this.#input = this.#input.length === 0 ? chunk : Buffer.concat([this.#input, chunk]);
    for (;;) {
      const before = this.#input.length;
      if (this.#phase === 'c0c1') this.#handshake();
      else if (this.#phase === 'c2') this.#c2();
      else this.#chunk();
      if (this.#ended || this.#input.length === before) break;
    }
    if (this.#ackWindow > 0 && this.#bytesReceived - this.#lastAck >= this.#ackWindow) {
      this.#lastAck = this.#bytesReceived;
      this.#events.send(control(TYPE.acknowledgement, u32(this.#bytesReceived)));
    }
  }

  /** No more input is taken (the publisher went away or stopped publishing). */
  end(): void {
    this.#ended = true;
    this.#held = [];
  }

  #handshake(): void {
    if (this.#input.length < 1 + HANDSHAKE_SIZE) return;
    if (this.#input[0] !== RTMP_VERSION)
      throw new RtmpProtocolError(`not RTMP: version byte ${this.#input[0]} (expected 3)`);
    const c1 = this.#input.subarray(1, 1 + HANDSHAKE_SIZE);
    this.#input = this.#input.subarray(1 + HANDSHAKE_SIZE);
    const s1 = Buffer.alloc(HANDSHAKE_SIZE);
    // time 0, zero version (no digest handshake), then random bytes for the publisher to echo.
    for (let i = 8; i < HANDSHAKE_SIZE; i++) s1[i] = (Math.random() * 256) | 0;
    // S2 echoes C1, as the specification and ffmpeg's server do.
    this.#events.send(Buffer.concat([Buffer.from([RTMP_VERSION]), s1, c1]));
    this.#phase = 'c2';
  }

  #c2(): void {
    if (this.#input.length < HANDSHAKE_SIZE) return;
    this.#input = this.#input.subarray(HANDSHAKE_SIZE); // its content only matters to digest handshakes
    this.#phase = 'chunks';
  }

  /** Reads one chunk if it is all there; leaves the input alone otherwise. */
  #chunk(): void {
    const data = this.#input;
    if (data.length < 1) return;
    const fmt = data[0]! >> 6;
    let csid = data[0]! & 0x3f;
    let at = 1;
    if (csid === 0) {
      if (data.length < 2) return;
      csid = 64 + data[1]!;
      at = 2;
    } else if (csid === 1) {
      if (data.length < 3) return;
      csid = 64 + data[1]! + data[2]! * 256;
      at = 3;
    }
    const headerBytes = [11, 7, 3, 0][fmt]!;
    if (data.length < at + headerBytes) return;
    let stream = this.#streams.get(csid);
    if (!stream) {
      if (fmt !== 0) throw new RtmpProtocolError(`chunk stream ${csid} starts without a full header`);
      stream = {
        timestamp: 0,
        timestampField: 0,
        extended: false,
        length: 0,
        type: 0,
        streamId: 0,
        parts: undefined,
        received: 0,
      };
    }
    const starting = stream.parts === undefined;
    if (!starting && fmt !== 3)
      throw new RtmpProtocolError(`chunk stream ${csid}: a new header before its message was complete`);
    let field = stream.timestampField;
    let extended = stream.extended;
    let { length, type, streamId } = stream;
    if (fmt <= 2) {
      field = data.readUIntBE(at, 3);
      extended = field === 0xffffff;
    }
    if (fmt <= 1) {
      length = data.readUIntBE(at + 3, 3);
      type = data[at + 6]!;
    }
    if (fmt === 0) streamId = data.readUInt32LE(at + 7);
    at += headerBytes;
    if (extended) {
      if (data.length < at + 4) return;
      field = data.readUInt32BE(at);
      at += 4;
    }
    const limit = this.#publishing ? MAX_MEDIA_MESSAGE_BYTES : MAX_COMMAND_BYTES;
    if (length > limit)
      throw new RtmpProtocolError(
        `message of ${length} bytes (at most ${limit} ${this.#publishing ? 'while publishing' : 'before publish'})`,
      );
    const payloadBytes = Math.min(this.#inChunkSize, length - (starting ? 0 : stream.received));
    if (data.length < at + payloadBytes) return;

    // The whole chunk is here: commit its header.
    if (starting) {
      // Type 0 carries the absolute time; types 1–3 a delta (type 3 repeats the previous field, as
      // ffmpeg's reader counts it).
      stream.timestamp = fmt === 0 ? field : (stream.timestamp + field) >>> 0;
      stream.parts = [];
      stream.received = 0;
    }
    stream.timestampField = field;
    stream.extended = extended;
    stream.length = length;
    stream.type = type;
    stream.streamId = streamId;
    this.#streams.set(csid, stream);
    stream.parts!.push(data.subarray(at, at + payloadBytes));
    stream.received += payloadBytes;
    this.#input = data.subarray(at + payloadBytes);
    if (stream.received >= stream.length) {
      const payload = Buffer.concat(stream.parts!);
      stream.parts = undefined;
      this.#message({ type, streamId, timestamp: stream.timestamp, payload });
    }
  }

  #message(message: RtmpMessage): void {
    const { type, payload } = message;
    switch (type) {
      case TYPE.setChunkSize: {
        if (payload.length < 4) throw new RtmpProtocolError('Set Chunk Size shorter than 4 bytes');
        const size = payload.readUInt32BE(0) & 0x7fffffff;
        if (size < 1) throw new RtmpProtocolError('Set Chunk Size of 0');
        this.#inChunkSize = Math.min(size, 0xffffff);
        return;
      }
      case TYPE.abort: {
        if (payload.length >= 4) {
          const stream = this.#streams.get(payload.readUInt32BE(0));
          if (stream) stream.parts = undefined;
        }
        return;
      }
      case TYPE.windowAckSize:
        if (payload.length >= 4) this.#ackWindow = payload.readUInt32BE(0);
        return;
      case TYPE.userControl:
        // Ping request (6) → ping response (7) with the same time stamp.
        if (payload.length >= 6 && payload.readUInt16BE(0) === 6)
          this.#events.send(
            control(TYPE.userControl, Buffer.concat([Buffer.from([0, 7]), payload.subarray(2, 6)])),
          );
        return;
      case TYPE.commandAmf0:
        return this.#command(message, payload);
      case TYPE.commandAmf3:
        return this.#command(message, payload.subarray(1));
      case TYPE.dataAmf0:
        return this.#data(message, payload);
      case TYPE.dataAmf3:
        return this.#data(message, payload.subarray(1));
      case TYPE.audio:
      case TYPE.video:
        if (this.#publishing && payload.length > 0) this.#media(type, message.timestamp, payload);
        return;
      default:
        return; // acknowledgements, peer bandwidth, aggregates, shared objects: nothing to do
    }
  }

  #reply(message: RtmpMessage, ...values: AmfValue[]): void {
    this.#events.send(
      encodeMessage(3, { type: TYPE.commandAmf0, streamId: message.streamId, payload: amf0(...values) }),
    );
  }

  #command(message: RtmpMessage, payload: Buffer): void {
    const reader = new Amf0Reader(payload);
    const name = reader.read();
    if (typeof name !== 'string') throw new RtmpProtocolError('command without a name');
    const transaction = reader.done ? 0 : reader.read();
    const txn = typeof transaction === 'number' ? transaction : 0;
    const args: AmfValue[] = [];
    while (!reader.done) args.push(reader.read());
    switch (name) {
      case 'connect': {
        const object = args[0];
        const app =
          object && typeof object === 'object' && !Array.isArray(object)
            ? (object as Record<string, AmfValue>).app
            : '';
        this.#app = typeof app === 'string' ? app : '';
        this.#events.send(
          Buffer.concat([
            control(TYPE.windowAckSize, u32(WINDOW_SIZE)),
            control(TYPE.setPeerBandwidth, Buffer.concat([u32(WINDOW_SIZE), Buffer.from([2])])),
            control(TYPE.setChunkSize, u32(OUT_CHUNK_SIZE)),
          ]),
        );
        this.#reply(
          message,
          '_result',
          txn,
          { fmsVer: 'FMS/3,0,1,123', capabilities: 31 },
          {
            level: 'status',
            code: 'NetConnection.Connect.Success',
            description: 'Connection succeeded.',
            objectEncoding: 0,
          },
        );
        return;
      }
      case 'createStream':
        this.#reply(message, '_result', txn, null, this.#nextStreamId++);
        return;
      case 'releaseStream':
      case '_checkbw':
        this.#reply(message, '_result', txn, null);
        return;
      case 'FCPublish':
        this.#reply(message, 'onFCPublish', 0, null, { code: 'NetStream.Publish.Start', description: '' });
        return;
      case 'publish':
        return this.#publish(message, args[1]);
      case 'FCUnpublish':
      case 'deleteStream':
      case 'closeStream':
        if (this.#publishing && !this.#ended) {
          this.end();
          this.#events.unpublished();
        }
        return;
      default:
        return;
    }
  }

  #publish(message: RtmpMessage, name: AmfValue): void {
    if (this.#publishing) return;
    const streamName = typeof name === 'string' ? name.split('?')[0]! : '';
    const decision = this.#events.authorize({ app: this.#app, streamName });
    if (!decision.ok) {
      this.#reply(message, 'onStatus', 0, null, {
        level: 'error',
        code: decision.code,
        description: decision.description,
      });
      this.#ended = true;
      this.#events.refused(decision.description);
      return;
    }
    this.#publishing = true;
    // Stream Begin on the publisher's stream, then the status it waits for before sending media.
    const begin = Buffer.alloc(6);
    begin.writeUInt32BE(message.streamId, 2);
    this.#events.send(control(TYPE.userControl, begin));
    this.#reply(message, 'onStatus', 0, null, {
      level: 'status',
      code: 'NetStream.Publish.Start',
      description: `${streamName.slice(0, 8)}… is now published`,
    });
  }

  #data(message: RtmpMessage, payload: Buffer): void {
    if (!this.#publishing) return;
    const reader = new Amf0Reader(payload);
    let name = reader.read();
    let data = payload;
    if (name === '@setDataFrame') {
      data = payload.subarray(reader.offset);
      name = new Amf0Reader(data).read();
    }
    if (name === 'onMetaData' && !this.#tracks) {
      const values = new Amf0Reader(data);
      values.read();
      const properties = values.done ? undefined : values.read();
      if (properties && typeof properties === 'object' && !Array.isArray(properties)) {
        const keys = properties as Record<string, AmfValue>;
        this.#tracks = { audio: 'audiocodecid' in keys, video: 'videocodecid' in keys };
        this.#startFlv();
      }
    }
    this.#tag(TYPE.dataAmf0, message.timestamp, data);
  }

  #media(type: number, timestamp: number, payload: Buffer): void {
    this.#tag(type, timestamp, payload);
    if (this.#tracks) return;
    this.#firstMediaTimestamp ??= timestamp;
    const kinds = new Set(this.#held.map((t) => t.type));
    if (
      (kinds.has(TYPE.audio) && kinds.has(TYPE.video)) ||
      timestamp - this.#firstMediaTimestamp >= TRACK_PROBE_MS ||
      this.#held.length >= TRACK_PROBE_TAGS
    )
      this.#startFlv();
  }

  #tag(type: number, timestamp: number, data: Buffer): void {
    if (this.#tracks) this.#events.flv(flvTag(type, timestamp, data));
    else this.#held.push({ type, timestamp, data });
  }

  /** Decides the tracks (from the media held, unless onMetaData did), then sends header and held tags. */
  #startFlv(): void {
    this.#tracks ??= {
      audio: this.#held.some((t) => t.type === TYPE.audio),
      video: this.#held.some((t) => t.type === TYPE.video),
    };
    this.#events.stream(this.#tracks);
    this.#events.flv(flvHeader(this.#tracks));
    const held = this.#held;
    this.#held = [];
    for (const t of held) this.#events.flv(flvTag(t.type, t.timestamp, t.data));
  }
}
