import { describe, expect, it } from 'vitest';
import { ProtoWriter, readFields, readPackedFloats, readPackedVarints, WireType } from '../src/internal/protobuf.js';

function varintBytes(v: number | bigint): number[] {
  const w = new ProtoWriter();
  w.varint(v);
  return [...w.finish()];
}

describe('protobuf writer', () => {
  it('encodes varints as the protobuf spec does', () => {
    expect(varintBytes(0)).toEqual([0]);
    expect(varintBytes(1)).toEqual([1]);
    expect(varintBytes(127)).toEqual([0x7f]);
    expect(varintBytes(128)).toEqual([0x80, 0x01]);
    expect(varintBytes(300)).toEqual([0xac, 0x02]);
    expect(varintBytes(2 ** 53 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    // int64 -1 is ten bytes of two's complement.
    expect(varintBytes(-1)).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(varintBytes(-2n)).toEqual([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(() => varintBytes(1.5)).toThrow(RangeError);
    expect(() => varintBytes(2 ** 60)).toThrow(RangeError);
  });

  it('writes keys, strings, floats and nested messages that read back', () => {
    const child = new ProtoWriter();
    child.string(1, 'héllo');
    child.int(2, -3);
    const w = new ProtoWriter();
    w.int(1, 150);
    w.message(3, child);
    w.float(4, 0.5);
    w.packedInts(5, [1, 300, -1]);
    w.packedFloats(6, [1.5, -2.25]);
    const bytes = w.finish();
    // Field 1 = 150: the example of the protobuf encoding guide.
    expect([...bytes.subarray(0, 3)]).toEqual([0x08, 0x96, 0x01]);
    expect(bytes.length).toBe(w.length);
    const f = readFields(bytes);
    expect(f.map((x) => [x.field, x.wire])).toEqual([
      [1, WireType.Varint],
      [3, WireType.LengthDelimited],
      [4, WireType.Fixed32],
      [5, WireType.LengthDelimited],
      [6, WireType.LengthDelimited],
    ]);
    expect(f[0]!.value).toBe(150n);
    const inner = readFields(f[1]!.value as Uint8Array);
    expect(new TextDecoder().decode(inner[0]!.value as Uint8Array)).toBe('héllo');
    expect(BigInt.asIntN(64, inner[1]!.value as bigint)).toBe(-3n);
    expect(readPackedFloats(f, 4)).toEqual([0.5]);
    expect(readPackedVarints(f, 5).map((v) => BigInt.asIntN(64, v))).toEqual([1n, 300n, -1n]);
    expect(readPackedFloats(f, 6)).toEqual([1.5, -2.25]);
  });

  it('keeps large payloads by reference and copies them once in finish()', () => {
    const big = new Uint8Array(100_000).map((_, i) => i % 251);
    const inner = new ProtoWriter();
    inner.bytes(9, big);
    const outer = new ProtoWriter();
    outer.message(1, inner);
    outer.string(2, 'tail');
    const bytes = outer.finish();
    const f = readFields(bytes);
    const payload = readFields(f[0]!.value as Uint8Array)[0]!.value as Uint8Array;
    expect(payload.length).toBe(big.length);
    expect(payload.every((b, i) => b === big[i])).toBe(true);
    expect(new TextDecoder().decode(f[1]!.value as Uint8Array)).toBe('tail');
  });

  it('rejects truncated input', () => {
    expect(() => readFields(new Uint8Array([0x0a, 0x02, 0x01]))).toThrow(/runs past the end/);
    expect(() => readFields(new Uint8Array([0x0a, 0x05, 0x01]))).toThrow(/length 5 at byte 2 exceeds the input \(3 bytes\)/);
    expect(() => readFields(new Uint8Array([0x08, 0x80]))).toThrow(/truncated varint/);
  });
});
