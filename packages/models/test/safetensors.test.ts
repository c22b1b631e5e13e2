import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WeightsError } from '../src/errors.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  float16BitsToNumber,
  numberToBfloat16Bits,
  numberToFloat16Bits,
  readSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
} from '../src/io/safetensors.js';
import type { WeightMap } from '../src/weights.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ziplm-safetensors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Builds a safetensors file by hand (independent of the writer): header JSON + raw data bytes. */
function rawFile(header: unknown, data: Uint8Array, headerLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function u16le(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  values.forEach((v, i) => {
    new DataView(out.buffer).setUint16(2 * i, v, true);
  });
  return out;
}

/** A header whose key contains the byte 0xff (never valid UTF-8). */
function invalidUtf8(): Uint8Array {
  const f = rawFile('{"ab": {}}', new Uint8Array(0));
  f[8 + 2] = 0xff;
  return f;
}

async function fileWith(name: string, bytes: Uint8Array): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, bytes);
  return file;
}

describe('safetensors round trip', () => {
  const weights: WeightMap = new Map([
    ['a.weight', { shape: [2, 3], data: new Float32Array([1, -2.5, 3e-41, -0, Infinity, NaN]) }],
    ['a.bias', { shape: [3], data: new Float32Array([0.1, 0.2, 0.3]) }],
    ['scalar', { shape: [], data: new Float32Array([7]) }],
    ['empty', { shape: [0, 4], data: new Float32Array(0) }],
  ]);

  it('F32 write → read is bit-exact, keeps order and metadata, and is 8-byte aligned', async () => {
    const file = join(dir, 'rt.safetensors');
    await writeSafetensors(file, weights, { metadata: { format: 'pt' } });
    const { tensors, metadata, header } = await readSafetensors(file);
    expect(metadata).toEqual({ format: 'pt' });
    expect(header.dataStart % 8).toBe(0);
    expect([...tensors.keys()]).toEqual([...weights.keys()]);
    for (const [name, t] of weights) {
      const back = tensors.get(name)!;
      expect(back.shape).toEqual(t.shape);
      expect(new Uint8Array(back.data.buffer, back.data.byteOffset, back.data.byteLength)).toEqual(new Uint8Array(t.data.buffer));
    }
    // F32 tensors are views into one buffer (the file is held once, not copied per tensor).
    expect(tensors.get('a.weight')!.data.buffer).toBe(tensors.get('a.bias')!.data.buffer);
    // No temporary file is left behind.
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('encode → decode in memory equals the file writer', async () => {
    const file = join(dir, 'rt2.safetensors');
    await writeSafetensors(file, weights, { metadata: { format: 'pt' } });
    const { readFile } = await import('node:fs/promises');
    expect(new Uint8Array(await readFile(file))).toEqual(encodeSafetensors(weights, { metadata: { format: 'pt' } }));
    const decoded = decodeSafetensors(encodeSafetensors(weights));
    expect(Array.from(decoded.tensors.get('a.bias')!.data)).toEqual(Array.from(weights.get('a.bias')!.data));
  });

  it('F16 and BF16 storage round-trip values that are representable', () => {
    const exact: WeightMap = new Map([['x', { shape: [5], data: new Float32Array([1, -2, 0.5, 65504, 2 ** -24]) }]]);
    expect(Array.from(decodeSafetensors(encodeSafetensors(exact, { dtype: 'F16' })).tensors.get('x')!.data)).toEqual([
      1,
      -2,
      0.5,
      65504,
      2 ** -24,
    ]);
    const bf: WeightMap = new Map([['x', { shape: [4], data: new Float32Array([1, -2, 3.140625, 1e38]) }]]);
    const back = Array.from(decodeSafetensors(encodeSafetensors(bf, { dtype: 'BF16' })).tensors.get('x')!.data);
    expect(back.slice(0, 3)).toEqual([1, -2, 3.140625]);
    expect(Math.abs(back[3]! - 1e38) / 1e38).toBeLessThan(2 ** -8);
  });
});

describe('dtype conversion', () => {
  it('reads hand-made F16 bytes (normal, subnormal, extremes, inf, NaN)', () => {
    const bits = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x8000, 0x7c00, 0xfc00, 0x3555, 0x7e00];
    const file = rawFile({ h: { dtype: 'F16', shape: [10], data_offsets: [0, 20] } }, u16le(bits));
    const data = Array.from(decodeSafetensors(file).tensors.get('h')!.data);
    expect(data.slice(0, 9)).toEqual([1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, -0, Infinity, -Infinity, 0.333251953125]);
    expect(Object.is(data[5], -0)).toBe(true);
    expect(Number.isNaN(data[9])).toBe(true);
  });

  it('reads hand-made BF16 bytes', () => {
    const bits = [0x3f80, 0x4049, 0xc2f7, 0x0001, 0x7f80, 0xff80];
    const file = rawFile({ b: { dtype: 'BF16', shape: [2, 3], data_offsets: [0, 12] } }, u16le(bits));
    const t = decodeSafetensors(file).tensors.get('b')!;
    expect(t.shape).toEqual([2, 3]);
    expect(Array.from(t.data)).toEqual([1, 3.140625, -123.5, Math.fround(2 ** -133), Infinity, -Infinity]);
  });

  it('reads F64 (converted to float32) and unaligned F32 (copied)', () => {
    const data = new Uint8Array(2 + 12 + 16);
    const view = new DataView(data.buffer);
    data[0] = 7;
    data[1] = 9; // a U8 [2] first puts the F32 tensor at offset 2 (unaligned)
    [1.5, -3, 1e-3].forEach((v, i) => {
      view.setFloat32(2 + 4 * i, v, true);
    });
    [Math.PI, -1e300].forEach((v, i) => {
      view.setFloat64(14 + 8 * i, v, true);
    });
    const file = rawFile(
      {
        u: { dtype: 'U8', shape: [2], data_offsets: [0, 2] },
        f: { dtype: 'F32', shape: [3], data_offsets: [2, 14] },
        d: { dtype: 'F64', shape: [2], data_offsets: [14, 30] },
      },
      data,
    );
    const { tensors } = decodeSafetensors(file, { select: (e) => e.name !== 'u' });
    expect(Array.from(tensors.get('f')!.data)).toEqual([1.5, -3, Math.fround(1e-3)]);
    expect(Array.from(tensors.get('d')!.data)).toEqual([Math.fround(Math.PI), -Infinity]);
    expect(tensors.has('u')).toBe(false);
    expect(() => decodeSafetensors(file)).toThrow(/tensor "u" has dtype U8; only F32, F16, BF16, F64 can be loaded/);
  });

  it('float16 encoding rounds to nearest even and inverts decoding for all 65536 patterns', () => {
    const wrong: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const v = float16BitsToNumber(h);
      if (!Number.isNaN(v) && numberToFloat16Bits(v) !== h) wrong.push(h);
    }
    expect(wrong).toEqual([]);
    expect(numberToFloat16Bits(65519)).toBe(0x7bff);
    expect(numberToFloat16Bits(65520)).toBe(0x7c00); // halfway to 2^16 rounds to Inf
    expect(numberToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(numberToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even
    expect(numberToFloat16Bits(2 ** -25)).toBe(0); // half the smallest subnormal → even (0)
    expect(numberToFloat16Bits(3 * 2 ** -26)).toBe(1);
    expect(numberToFloat16Bits(-1e9)).toBe(0xfc00);
    expect(numberToFloat16Bits(NaN) & 0x7e00).toBe(0x7e00);
  });

  it('bfloat16 encoding rounds to nearest even and inverts decoding for all 65536 patterns', () => {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    const wrong: number[] = [];
    for (let h = 0; h < 65536; h++) {
      u[0] = h << 16;
      if (!Number.isNaN(f[0]) && numberToBfloat16Bits(f[0]!) !== h) wrong.push(h);
    }
    expect(wrong).toEqual([]);
    expect(numberToBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie → even
    expect(numberToBfloat16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(numberToBfloat16Bits(NaN) & 0x7fc0).toBe(0x7fc0);
  });
});

describe('malformed safetensors files give a WeightsError naming the file', () => {
  const ok = { t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['shorter than 8 bytes', new Uint8Array([1, 0, 0]), /shorter than the 8-byte header length/],
    ['header longer than the file', rawFile(ok, new Uint8Array(8), 10_000n), /header length 10000 exceeds the file size/],
    ['absurd header length', rawFile(ok, new Uint8Array(8), 2n ** 62n), /exceeds the file size/],
    ['zero header length', rawFile(ok, new Uint8Array(8), 0n), /header length is 0/],
    ['bad JSON', rawFile('{"t": {"dtype": "F32",', new Uint8Array(8)), /not valid UTF-8 JSON/],
    ['JSON that is not an object', rawFile('[1, 2]', new Uint8Array(8)), /must be a JSON object/],
    ['invalid UTF-8', invalidUtf8(), /not valid UTF-8 JSON/],
    [
      'unknown dtype',
      rawFile({ t: { dtype: 'F128', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(8)),
      /tensor "t": unknown dtype "F128"/,
    ],
    [
      'bad shape',
      rawFile({ t: { dtype: 'F32', shape: [2.5], data_offsets: [0, 8] } }, new Uint8Array(8)),
      /shape must be an array of non-negative integers/,
    ],
    [
      'size not shape × dtype',
      rawFile({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)),
      /span 8 bytes but shape \[3\] of F32 needs 12/,
    ],
    ['end before begin', rawFile({ t: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, new Uint8Array(8)), /0 <= begin <= end/],
    [
      'offsets out of range',
      rawFile({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)),
      /out of range: the data section has 8 bytes/,
    ],
    [
      'overlapping tensors',
      rawFile(
        { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
        new Uint8Array(12),
      ),
      /tensors "a" \[0, 8\) and "b" \[4, 12\) overlap/,
    ],
    ['metadata not strings', rawFile({ __metadata__: { format: 1 }, ...ok }, new Uint8Array(8)), /__metadata__.format must be a string/],
    ['entry not an object', rawFile({ t: 5 }, new Uint8Array(0)), /tensor "t": header entry must be an object/],
  ];
  it.each(cases)('%s', async (name, bytes, problem) => {
    const file = await fileWith(`${name.replace(/\W+/g, '-')}.safetensors`, bytes);
    const error = await readSafetensors(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsError);
    expect((error as WeightsError).file).toBe(file);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toMatch(problem);
    // The header-only reader validates the same things.
    await expect(readSafetensorsHeader(file)).rejects.toThrow(problem);
  });

  it('a missing file', async () => {
    await expect(readSafetensors(join(dir, 'nope.safetensors'))).rejects.toThrow(/nope\.safetensors: file not found/);
  });

  it('the writer rejects tensors whose data does not match their shape', async () => {
    const bad: WeightMap = new Map([['x', { shape: [2, 2], data: new Float32Array(3) }]]);
    await expect(writeSafetensors(join(dir, 'bad.safetensors'), bad)).rejects.toThrow(
      /bad\.safetensors: tensor "x": shape \[2, 2\] does not match its 3 elements/,
    );
    expect((await readdir(dir)).filter((f) => f.startsWith('bad.safetensors'))).toEqual([]);
  });
});
