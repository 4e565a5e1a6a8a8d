/** The graph primitive: its API lands in a following change; until then it has no methods. */
import type { ReadPoint, Storage } from '../storage/index.js';
import type { Batch } from './context.js';
import type { PrimitiveMerge } from './merge.js';
import { mergeKv } from './merge.js';
export interface GraphDiff {
  todo: true;
}
export class Graph {
  constructor(
    readonly storage: Storage,
    readonly keyspace: string,
    readonly at?: ReadPoint,
  ) {}
  diff(_other: Graph): GraphDiff {
    return { todo: true };
  }
}
export class TxGraph {
  constructor(
    readonly batch: Batch,
    readonly keyspace: string,
  ) {}
}
export const mergeGraph: PrimitiveMerge = mergeKv;
