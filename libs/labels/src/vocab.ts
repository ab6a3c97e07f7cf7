// Vocab: the ordered list of class names and the name <-> id mapping every stage shares.
// Built from labels it is sorted (fastai's CategoryMap sorts), so the same labels give the same ids
// on every machine; loaded from a manifest it keeps the stored order.
import { compareCodepoints } from './order.ts';

// Error messages list the vocab; beyond this many names they say how many more there are.
const MAX_LISTED = 30;

export class Vocab {
  readonly names: readonly string[];
  private readonly ids: Map<string, number>;

  /** Names in id order, exactly as given (e.g. DatasetManifest.vocab). Use fromLabels to build one. */
  constructor(names: Iterable<string>) {
    const list = [...names];
    const ids = new Map<string, number>();
    list.forEach((name, i) => {
      if (typeof name !== 'string' || name === '') {
        throw new RangeError(`Vocab: label ${i} is ${JSON.stringify(name)}; labels must be non-empty strings`);
      }
      if (ids.has(name)) throw new RangeError(`Vocab: label "${name}" appears twice (ids ${ids.get(name)} and ${i})`);
      ids.set(name, i);
    });
    this.names = Object.freeze(list);
    this.ids = ids;
  }

  /** The sorted set of the given labels (code-point order, like Python's sorted()). */
  static fromLabels(labels: Iterable<string>): Vocab {
    return new Vocab([...new Set(labels)].sort(compareCodepoints));
  }

  /** The inverse of toJSON. */
  static fromJSON(names: readonly string[]): Vocab {
    return new Vocab(names);
  }

  get size(): number {
    return this.names.length;
  }

  has(name: string): boolean {
    return this.ids.has(name);
  }

  encode(name: string): number {
    const id = this.ids.get(name);
    if (id === undefined) {
      throw new RangeError(`unknown label "${name}": the vocab has ${this.size} labels: ${this.listed()}`);
    }
    return id;
  }

  decode(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.size) {
      throw new RangeError(`label id ${id} is outside the vocab (ids 0..${this.size - 1}: ${this.listed()})`);
    }
    return this.names[id];
  }

  /** The names in id order: what DatasetManifest.vocab and model metadata store. */
  toJSON(): string[] {
    return [...this.names];
  }

  private listed(): string {
    const shown = this.names.slice(0, MAX_LISTED).map((n) => `"${n}"`).join(', ');
    return this.size > MAX_LISTED ? `${shown}, … (${this.size - MAX_LISTED} more)` : shown || '(none)';
  }
}
