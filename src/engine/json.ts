/** The json primitive: its API lands in a following change; until then it has no methods. */
import type { ReadPoint, Storage } from '../storage/index.js';
import type { Batch } from './context.js';
import type { PrimitiveMerge } from './merge.js';
import { mergeKv } from './merge.js';
export interface JsonDiff {
  todo: true;
}
export class Json {
  constructor(
    readonly storage: Storage,
    readonly keyspace: string,
    readonly at?: ReadPoint,
  ) {}
  diff(_other: Json): JsonDiff {
    return { todo: true };
  }
}
export class TxJson {
  constructor(
    readonly batch: Batch,
    readonly keyspace: string,
  ) {}
}
export const mergeJson: PrimitiveMerge = mergeKv;
