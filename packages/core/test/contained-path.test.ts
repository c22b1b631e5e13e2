import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveInside } from '../src/node.js';

describe('resolveInside', () => {
  const root = resolve('/tmp/run');

  it('resolves relative paths inside the root', () => {
    expect(resolveInside(root, 'members/ziplm-2.00x')).toBe(join(root, 'members', 'ziplm-2.00x'));
    expect(resolveInside(root, 'members\\ziplm-2.00x')).toBe(join(root, 'members', 'ziplm-2.00x'));
    expect(resolveInside(root, './a/../b')).toBe(join(root, 'b'));
  });

  it.each([
    ['../../somewhere/else'],
    ['members/../../x'],
    ['..'],
    ['.'],
    [''],
    ['/etc/passwd'],
    ['\\\\server\\share'],
    ['C:\\x'],
    ['a\0b'],
    [42],
    [null],
  ])('refuses %j', (path) => {
    expect(() => resolveInside(root, path)).toThrow(RangeError);
  });

  it('throws the caller’s error with the problem', () => {
    class Refused extends Error {}
    expect(() => resolveInside(root, '../x', (problem) => new Refused(`member.json "dir" ${problem}`))).toThrow(
      /member\.json "dir" must name a path inside .*run, got "\.\.\/x"/,
    );
    expect(() => resolveInside(root, '../x', (problem) => new Refused(problem))).toThrow(Refused);
  });

  it('refuses a sibling whose name starts with the root’s name', () => {
    expect(() => resolveInside(root, '../run-other/x')).toThrow(RangeError);
  });
});
