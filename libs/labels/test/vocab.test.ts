import { describe, expect, it } from 'vitest';
import { Vocab, compareCodepoints } from '../src/index.ts';

describe('Vocab', () => {
  it('sorts the unique labels and numbers them from 0', () => {
    const v = Vocab.fromLabels(['Leaf_Blight', 'Healthy', 'Brown_Spot', 'Healthy', 'Leaf_Blast', 'Brown_Spot']);
    expect(v.names).toEqual(['Brown_Spot', 'Healthy', 'Leaf_Blast', 'Leaf_Blight']);
    expect(v.size).toBe(4);
    expect(v.encode('Brown_Spot')).toBe(0);
    expect(v.encode('Leaf_Blight')).toBe(3);
    expect(v.decode(2)).toBe('Leaf_Blast');
    for (let i = 0; i < v.size; i++) expect(v.encode(v.decode(i))).toBe(i);
  });

  it('gives the same ids whatever order the labels arrive in', () => {
    const a = Vocab.fromLabels(['c', 'a', 'b']);
    const b = Vocab.fromLabels(['b', 'c', 'a', 'a']);
    expect(a.names).toEqual(b.names);
    expect(a.encode('c')).toBe(2);
  });

  it('sorts like Python: upper case before lower case, code points not UTF-16 units', () => {
    // "Z" (0x5A) < "a" (0x61); "\uFF21" (fullwidth A) < "😀" (U+1F600) in code-point order,
    // although the emoji's first UTF-16 unit 0xD83D is smaller than 0xFF21.
    const v = Vocab.fromLabels(['a', 'Z', '😀', '\uFF21']);
    expect(v.names).toEqual(['Z', 'a', '\uFF21', '😀']);
    expect(compareCodepoints('ab', 'a')).toBeGreaterThan(0);
    expect(compareCodepoints('a', 'a')).toBe(0);
    expect(compareCodepoints('a-b', 'a/b')).toBeLessThan(0);
  });

  it('names the unknown label and lists the vocab when encoding fails', () => {
    const v = Vocab.fromLabels(['cat', 'dog']);
    expect(() => v.encode('cow')).toThrow('unknown label "cow": the vocab has 2 labels: "cat", "dog"');
    expect(v.has('cow')).toBe(false);
    expect(v.has('dog')).toBe(true);
  });

  it('rejects ids outside the vocab and non-integers when decoding', () => {
    const v = Vocab.fromLabels(['cat', 'dog']);
    expect(() => v.decode(2)).toThrow(/label id 2 is outside the vocab \(ids 0\.\.1/);
    expect(() => v.decode(-1)).toThrow(RangeError);
    expect(() => v.decode(0.5)).toThrow(RangeError);
  });

  it('round-trips through JSON keeping the stored order', () => {
    const v = Vocab.fromLabels(['b', 'a']);
    const json = JSON.stringify({ vocab: v });
    expect(json).toBe('{"vocab":["a","b"]}');
    const back = Vocab.fromJSON(JSON.parse(json).vocab);
    expect(back.names).toEqual(['a', 'b']);
    // A stored vocab is taken as is, not re-sorted: ids must not move when a manifest is reloaded.
    expect(new Vocab(['z', 'a']).encode('z')).toBe(0);
  });

  it('refuses empty and repeated names', () => {
    expect(() => new Vocab(['a', 'a'])).toThrow('label "a" appears twice (ids 0 and 1)');
    expect(() => Vocab.fromLabels(['a', ''])).toThrow(/non-empty/);
  });

  it('keeps its names immutable', () => {
    const v = Vocab.fromLabels(['a', 'b']);
    expect(Object.isFrozen(v.names)).toBe(true);
    const out = v.toJSON();
    out.push('c');
    expect(v.size).toBe(2);
  });
});
