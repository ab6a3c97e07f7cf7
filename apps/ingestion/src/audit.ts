// Audit summaries computed from the items: exact-duplicate groups and per-label statistics
// (count, size histogram, size outlier). A label whose images come in sizes no other label has
// lets a model learn the size instead of the disease (rice-leaf's Healthy is all 64×64).
import { create } from '@bufbuild/protobuf';
import { Audit_DuplicateGroupSchema, Audit_LabelStatsSchema, Audit_SizeCountSchema, type Audit_DuplicateGroup, type Audit_LabelStats } from '@paddock/contracts';
import { compareCodepoints } from '@paddock/labels';

export interface Hashed {
  readonly path: string;
  readonly sha256: string;
}

/**
 * Groups of ≥2 items with equal bytes. `items` must be sorted by path; ids are 1..k in order of
 * each group's first path, and `groupOf` maps every item's path to its id (0 = unique).
 */
export function duplicateGroups(items: readonly Hashed[]): { groups: Audit_DuplicateGroup[]; groupOf: Map<string, number> } {
  const byHash = new Map<string, string[]>();
  for (const { path, sha256 } of items) {
    const paths = byHash.get(sha256);
    if (paths) paths.push(path);
    else byHash.set(sha256, [path]);
  }
  const groups: Audit_DuplicateGroup[] = [];
  const groupOf = new Map<string, number>();
  // Map iteration follows first insertion, i.e. each hash's first path in sorted order.
  for (const [sha256, paths] of byHash) {
    if (paths.length < 2) continue;
    const id = groups.length + 1;
    groups.push(create(Audit_DuplicateGroupSchema, { id, sha256, paths }));
    for (const p of paths) groupOf.set(p, id);
  }
  return { groups, groupOf };
}

export interface Sized {
  readonly label: string;
  readonly width: number;
  readonly height: number;
}

/**
 * One entry per vocab label, in vocab order. sizes: distinct (width, height) by count descending,
 * ties by width then height. size_outlier: no size of this label occurs in any other label. It is
 * only claimed when there are ≥2 labels and not every label qualifies — when all images have
 * sizes of their own (free-size photos) being disjoint says nothing about one label.
 */
export function labelStats(items: readonly Sized[], vocab: readonly string[]): Audit_LabelStats[] {
  const counts = new Map<string, Map<string, { width: number; height: number; count: number }>>(vocab.map((l) => [l, new Map()]));
  const labelsWithSize = new Map<string, Set<string>>();
  for (const { label, width, height } of items) {
    const key = `${width}x${height}`;
    const sizes = counts.get(label);
    if (!sizes) throw new Error(`labelStats: label "${label}" is not in the vocab`);
    const entry = sizes.get(key);
    if (entry) entry.count++;
    else sizes.set(key, { width, height, count: 1 });
    let owners = labelsWithSize.get(key);
    if (!owners) labelsWithSize.set(key, (owners = new Set()));
    owners.add(label);
  }
  const disjoint = vocab.map((label) => {
    const sizes = counts.get(label)!;
    return sizes.size > 0 && [...sizes.keys()].every((k) => labelsWithSize.get(k)!.size === 1);
  });
  const claim = vocab.length >= 2 && !disjoint.every(Boolean);
  return vocab.map((label, i) => {
    const sizes = [...counts.get(label)!.values()].sort((a, b) => b.count - a.count || a.width - b.width || a.height - b.height);
    return create(Audit_LabelStatsSchema, {
      label,
      count: sizes.reduce((n, s) => n + s.count, 0),
      sizes: sizes.map((s) => create(Audit_SizeCountSchema, s)),
      sizeOutlier: claim && disjoint[i],
    });
  });
}

/** Sort key for audit lists: by path in code-point order, then by kind. */
export function byPath<T extends { path: string; kind?: string }>(a: T, b: T): number {
  return compareCodepoints(a.path, b.path) || compareCodepoints(a.kind ?? '', b.kind ?? '');
}
