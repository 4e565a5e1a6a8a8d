/**
 * Strata: an embedded, branch-aware, versioned database for agent state.
 * This is the Node.js entry; it installs the Node platform (file system, clock, timers).
 */
import './node.js';

export {
  type AsOf,
  Branch,
  type BranchDescription,
  type BranchDiff,
  type ForkOptions,
  type MergeOptions,
  type OpenOptions,
  Strata,
  Transaction,
  type TransactionOptions,
  type TransactionResult,
} from './api/index.js';
export type { Clock, Committed, ErrorCode, Random, Scheduler } from './base/index.js';
export { ERROR_CODES, isStrataError, StrataError } from './base/index.js';
export type {
  AppendResult,
  Commit,
  DeleteNodeOptions,
  DeleteNodeResult,
  Direction,
  EdgeFilter,
  EdgeListOptions,
  EventsDiff,
  Graph,
  GraphDiff,
  GraphEdge,
  GraphNode,
  HistoryEntry,
  JsonDeleteResult,
  JsonDiff,
  JsonHistoryEntry,
  JsonListOptions,
  JsonVersioned,
  KvDiff,
  ListOptions,
  MergeConflictReport,
  MergeReport,
  Neighbor,
  NeighborOptions,
  NodeHistoryEntry,
  NodeListOptions,
  Props,
  PutOptions,
  ReadEventsOptions,
  ShortestPathOptions,
  StreamDiff,
  StreamEvent,
  StreamInfo,
  StreamsOptions,
  TraverseOptions,
  TraverseStep,
  TxAppendResult,
  TxGraph,
  Value,
  VerifyOptions,
  VerifyProblem,
  VerifyResult,
  VersionedValue,
  WeightedPath,
} from './engine/index.js';
export type { Durability, MergeStrategy, RecoveryReport, StorageStats } from './storage/index.js';
