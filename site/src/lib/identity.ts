// The viewer's identity: the {requestor_id, token} the API issued (POST /requestor-token), kept in
// localStorage so a reload keeps their answers. Votes and history reads carry the token.
//
// A new identity costs a little work first (contract/api.ts TokenChallenge): the page finds a nonce
// such that SHA-256(challenge + nonce) starts with `difficulty` zero bits. solveChallenge does it in
// the page's own thread, in slices under the 50 ms that make a long task, between which the page
// renders and answers input (no Worker: nothing to allow in a Content-Security-Policy). Shorter
// slices leave the work too small a share of the thread while the page starts: with 12 ms ones it
// took three times as long in the viewer page as in an empty one (bench/token-work.ts). It hashes
// with the small SHA-256 below rather than crypto.subtle: WebCrypto exists only in secure contexts
// (not on a phone reaching the local stack at http://192.168.…), and one awaited digest per nonce
// ran 7 to 15 times slower than hashing in place, a handicap a script minting in bulk would not share.
import type { ViewerIdentity } from '../../../contract/api.ts';
import { REQUESTOR_ID } from '../../../core/ids.ts';

const KEY = 'showrunner.viewer';
/** Before tokens the page kept a bare id: the API no longer takes it, so it is dropped. */
const OLD_KEY = 'requestor_id';

export interface IdentityStore {
  load(): ViewerIdentity | null;
  save(identity: ViewerIdentity): void;
}

export function localIdentity(storage: Storage = localStorage): IdentityStore {
  return {
    load() {
      storage.removeItem(OLD_KEY);
      try {
        const value = JSON.parse(storage.getItem(KEY) ?? 'null') as Partial<ViewerIdentity> | null;
        if (typeof value?.requestor_id === 'string' && REQUESTOR_ID.test(value.requestor_id)) {
          if (typeof value.token === 'string' && value.token.length > 0) return value as ViewerIdentity;
        }
      } catch {
        // not ours, or damaged: a new identity replaces it
      }
      return null;
    },
    save(identity) {
      storage.setItem(KEY, JSON.stringify(identity));
    },
  };
}

/** The nickname this viewer saved (the API has no read of it): kept beside their identity. */
export interface NicknameStore {
  /** The nickname saved for this requestor id, or null. */
  load(requestorId: string): string | null;
  save(requestorId: string, nickname: string): void;
}

const NICKNAME_KEY = 'showrunner.nickname';

export function localNickname(storage: Storage = localStorage): NicknameStore {
  return {
    load(requestorId) {
      try {
        const value = JSON.parse(storage.getItem(NICKNAME_KEY) ?? 'null') as {
          requestor_id?: unknown;
          nickname?: unknown;
        } | null;
        return value?.requestor_id === requestorId && typeof value.nickname === 'string'
          ? value.nickname
          : null;
      } catch {
        return null;
      }
    },
    save(requestorId, nickname) {
      storage.setItem(NICKNAME_KEY, JSON.stringify({ requestor_id: requestorId, nickname }));
    },
  };
}

export interface SolveOptions {
  /** How long one slice of hashing may hold the thread before the page gets it back (default 40 ms). */
  sliceMs?: number;
  /**
   * Gives the thread back between slices (default: a message to this page, which background tabs do
   * not throttle as they throttle timers).
   */
  yieldNow?: () => Promise<void>;
  /** Called between slices with the number of hashes tried so far (progress, benchmarks). */
  onProgress?: (hashes: number) => void;
}

/**
 * The nonce (decimal digits) for which SHA-256 of `challenge + nonce` (UTF-8) starts with
 * `difficulty` zero bits (0 to 32). Takes 2^difficulty hashes on average; never blocks the thread for
 * more than a slice.
 */
export async function solveChallenge(
  challenge: string,
  difficulty: number,
  options: SolveOptions = {},
): Promise<string> {
  if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > 32) {
    throw new RangeError(`difficulty: expected a whole number from 0 to 32, got ${difficulty}`);
  }
  const sliceMs = options.sliceMs ?? 40;
  const yieldNow = options.yieldNow ?? nextTask;
  const work = new ChallengeHasher(challenge);
  for (let nonce = 0; ;) {
    const sliceEnd = performance.now() + sliceMs;
    do {
      // 256 hashes between clock reads: a few hundred microseconds on a phone.
      for (const stop = nonce + 256; nonce < stop; nonce++) {
        if (Math.clz32(work.firstWord(nonce)) >= difficulty) return String(nonce);
      }
    } while (performance.now() < sliceEnd);
    options.onProgress?.(nonce);
    await yieldNow();
  }
}

/** Resolves in a new task: the page renders, handles input and plays video in between. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/**
 * SHA-256 (FIPS 180-4) of one fixed prefix followed by a decimal counter: the prefix's whole 64-byte
 * blocks are compressed once, so each nonce costs only the last one or two blocks. Checked against
 * node:crypto in test/unit/viewer-work.test.ts.
 */
export class ChallengeHasher {
  readonly #midstate = new Int32Array(8);
  readonly #tail = new Uint8Array(128);
  readonly #restLength: number;
  readonly #prefixBits: number;
  readonly #state = new Int32Array(8);
  readonly #w = new Int32Array(64);

  constructor(prefix: string) {
    const bytes = new TextEncoder().encode(prefix);
    this.#midstate.set(INITIAL_HASH);
    const whole = bytes.length - (bytes.length % 64);
    for (let at = 0; at < whole; at += 64) this.#compress(this.#midstate, bytes, at);
    this.#restLength = bytes.length - whole;
    this.#tail.set(bytes.subarray(whole));
    this.#prefixBits = bytes.length * 8;
  }

  /** The first 32 bits of SHA-256(prefix + String(nonce)), for a whole number `nonce`. */
  firstWord(nonce: number): number {
    const digits = String(nonce);
    const tail = this.#tail;
    let length = this.#restLength;
    for (let i = 0; i < digits.length; i++) tail[length++] = digits.charCodeAt(i);
    tail[length++] = 0x80;
    const blocks = length + 8 <= 64 ? 1 : 2;
    const end = blocks * 64;
    tail.fill(0, length, end - 4);
    const bits = this.#prefixBits + digits.length * 8; // < 2^32: prefixes are short
    tail[end - 4] = bits >>> 24;
    tail[end - 3] = bits >>> 16;
    tail[end - 2] = bits >>> 8;
    tail[end - 1] = bits;
    const state = this.#state;
    state.set(this.#midstate);
    this.#compress(state, tail, 0);
    if (blocks === 2) this.#compress(state, tail, 64);
    return state[0]!;
  }

  /** The whole digest of prefix + String(nonce), as bytes. */
  digest(nonce: number): Uint8Array {
    this.firstWord(nonce);
    const out = new Uint8Array(32);
    const view = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) view.setUint32(i * 4, this.#state[i]!);
    return out;
  }

  #compress(h: Int32Array, bytes: Uint8Array, at: number): void {
    const w = this.#w;
    for (let i = 0; i < 16; i++) {
      const j = at + i * 4;
      w[i] = (bytes[j]! << 24) | (bytes[j + 1]! << 16) | (bytes[j + 2]! << 8) | bytes[j + 3]!;
    }
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15]!;
      const y = w[i - 2]!;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = w[i - 16]! + s0 + w[i - 7]! + s1;
    }
    let a = h[0]!;
    let b = h[1]!;
    let c = h[2]!;
    let d = h[3]!;
    let e = h[4]!;
    let f = h[5]!;
    let g = h[6]!;
    let k = h[7]!;
    for (let i = 0; i < 64; i++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (k + s1 + ((e & f) ^ (~e & g)) + ROUND_CONSTANTS[i]! + w[i]!) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      k = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = h[0]! + a;
    h[1] = h[1]! + b;
    h[2] = h[2]! + c;
    h[3] = h[3]! + d;
    h[4] = h[4]! + e;
    h[5] = h[5]! + f;
    h[6] = h[6]! + g;
    h[7] = h[7]! + k;
  }
}

const INITIAL_HASH = Int32Array.of(
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
);

const ROUND_CONSTANTS = Int32Array.of(
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
);
