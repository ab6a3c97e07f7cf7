import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LabelSourceError, csvLabels, parentLabel, readCsv } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'paddock-labels-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function csv(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function thrown(f: () => unknown): LabelSourceError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LabelSourceError);
    return e as LabelSourceError;
  }
  throw new Error('expected a LabelSourceError');
}

describe('parentLabel', () => {
  it('is the name of the folder holding the file', () => {
    expect(parentLabel('Healthy/a.jpg')).toBe('Healthy');
    expect(parentLabel('train_images/Leaf_Blast/sub/b.png')).toBe('sub');
    expect(parentLabel('train_images\\Brown_Spot\\c.jpg')).toBe('Brown_Spot');
    expect(parentLabel('./Healthy//a.jpg')).toBe('Healthy');
    expect(parentLabel('a.jpg')).toBe('');
  });
});

describe('csvLabels', () => {
  it('maps image_id to label in file order, accepting a BOM, CRLF and extra columns', () => {
    const p = csv('train.csv', '\uFEFFimage_id,label,variety\r\n100330.jpg,bacterial_leaf_blight,ADT45\r\n\r\n100365.jpg,normal,ADT45\r\n');
    const m = csvLabels(p);
    expect([...m.entries()]).toEqual([
      ['100330.jpg', 'bacterial_leaf_blight'],
      ['100365.jpg', 'normal'],
    ]);
  });

  it('reads other column names when told', () => {
    const p = csv('other.csv', 'label,file\ncat,a.png\ndog,b.png\n');
    expect(csvLabels(p, { idColumn: 'file', labelColumn: 'label' }).get('b.png')).toBe('dog');
  });

  it('names the file and the missing column, listing the header it found', () => {
    const p = csv('nocol.csv', 'id,class\na.png,cat\n');
    const e = thrown(() => csvLabels(p));
    expect(e.message).toBe(`${p}: line 1: no column "image_id", "label" in the header (found "id", "class")`);
    expect(e.path).toBe(p);
    expect(e.line).toBe(1);
  });

  it('names the line of a ragged record', () => {
    const p = csv('ragged.csv', 'image_id,label\na.png,cat\nb.png,dog,extra\n');
    const e = thrown(() => csvLabels(p));
    expect(e.line).toBe(3);
    expect(e.message).toContain(`${p}: line 3: malformed CSV`);
  });

  it('names the line of an unclosed quote', () => {
    const p = csv('quote.csv', 'image_id,label\na.png,cat\n"b.png,dog\n');
    const e = thrown(() => csvLabels(p));
    expect(e.message).toMatch(/malformed CSV/);
    expect(e.message).toContain(p);
  });

  it('refuses an id given two different labels, naming both lines', () => {
    const p = csv('conflict.csv', 'image_id,label\na.png,cat\nb.png,dog\na.png,dog\n');
    expect(() => csvLabels(p)).toThrow(`${p}: line 4: image_id "a.png" is labelled "dog" here but "cat" on line 2`);
    const same = csv('repeat.csv', 'image_id,label\na.png,cat\na.png,cat\n');
    expect(csvLabels(same).size).toBe(1);
  });

  it('refuses empty labels and empty files', () => {
    const p = csv('blank.csv', 'image_id,label\na.png,\n');
    expect(thrown(() => csvLabels(p)).line).toBe(2);
    const empty = csv('empty.csv', '');
    expect(() => csvLabels(empty)).toThrow(/the file is empty/);
  });

  it('says so when the file does not exist', () => {
    const p = join(dir, 'absent.csv');
    expect(thrown(() => csvLabels(p)).message).toMatch(/cannot read the file/);
  });
});

describe('readCsv', () => {
  it('returns the asked columns with the line each record ends on', () => {
    const p = csv('sample.csv', 'image_id,label\n10.jpg,\n9.jpg,\n"multi\nline.jpg",\n');
    expect(readCsv(p, ['image_id'])).toEqual([
      { line: 2, values: { image_id: '10.jpg' } },
      { line: 3, values: { image_id: '9.jpg' } },
      { line: 5, values: { image_id: 'multi\nline.jpg' } },
    ]);
  });
});
