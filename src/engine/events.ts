/** The events primitive: its API lands in a following change; until then it has no methods. */
import type { ReadPoint, Storage } from '../storage/index.js';
import type { Batch } from './context.js';
import type { PrimitiveMerge } from './merge.js';
import { mergeKv } from './merge.js';
export interface EventsDiff {
  todo: true;
}
export class Events {
  constructor(
    readonly storage: Storage,
    readonly keyspace: string,
    readonly at?: ReadPoint,
  ) {}
  diff(_other: Events): EventsDiff {
    return { todo: true };
  }
}
export class TxEvents {
  constructor(
    readonly batch: Batch,
    readonly keyspace: string,
  ) {}
}
export const mergeEvents: PrimitiveMerge = mergeKv;
