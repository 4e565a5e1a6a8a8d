/**
 * Every limit Strata enforces, in one place. Units are last in the names.
 * Documented for users in docs/limits.md; keep the two in step.
 */

/** Largest user key, in UTF-8 bytes. */
export const KEY_SIZE_BYTES_MAX = 4096;
/** Largest encoded value of one write. */
export const VALUE_SIZE_BYTES_MAX = 16 * 1024 * 1024;
/** Largest branch or space name, in UTF-8 bytes. */
export const NAME_SIZE_BYTES_MAX = 255;
/** Largest single WAL frame payload (one commit batch). */
export const FRAME_PAYLOAD_BYTES_MAX = 64 * 1024 * 1024;
/** Most operations in one commit batch. */
export const BATCH_OPS_MAX = 100_000;
/** A WAL segment is rotated once it grows past this size. */
export const WAL_SEGMENT_BYTES_TARGET = 64 * 1024 * 1024;
/** Versions and timestamps are safe integers (or finite numbers for timestamps). */
export const VERSION_MAX = Number.MAX_SAFE_INTEGER;
/** Deepest nesting of a structured value. */
export const VALUE_DEPTH_MAX = 128;

// --- graph (src/engine/graph.ts) ---------------------------------------------------------------
/** Most nodes a traverse returns (and a path search visits) when the call gives no maxNodes. */
export const GRAPH_TRAVERSE_NODES_DEFAULT = 100_000;
/** Largest maxNodes a traverse or path search may ask for. */
export const GRAPH_TRAVERSE_NODES_MAX = 10_000_000;
/** Largest maxDepth (hops from the start) a traverse or path search may ask for; also its default. */
export const GRAPH_TRAVERSE_DEPTH_MAX = 1_000_000;
/** Largest encoded props of one node or edge. */
export const GRAPH_PROPS_SIZE_BYTES_MAX = VALUE_SIZE_BYTES_MAX;
/** Most edge types one neighbors, traverse or path call may filter by. */
export const GRAPH_TYPES_MAX = 64;
/** Default cap on the estimated bytes of all graph adjacency caches of one database (64 MiB). */
export const GRAPH_CACHE_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;

// --- events (src/engine/events.ts) -------------------------------------------------------------
/** Largest stream name, in UTF-8 bytes (a stream name is a key). */
export const EVENT_STREAM_NAME_BYTES_MAX = KEY_SIZE_BYTES_MAX;
/** Largest event type, in UTF-8 bytes. */
export const EVENT_TYPE_BYTES_MAX = KEY_SIZE_BYTES_MAX;
/** Largest encoded data of one event. */
export const EVENT_DATA_BYTES_MAX = VALUE_SIZE_BYTES_MAX;
/** Events (or streams) one read or streams() call returns when it gives no limit. */
export const EVENTS_READ_LIMIT_DEFAULT = 1000;
/** Largest limit a read or streams() call may ask for. */
export const EVENTS_READ_LIMIT_MAX = 100_000;

// --- JSON documents (docs/limits.md, docs/formats/json.md) -------------------------------------

/** Largest JSON document, as the value codec encodes the whole of it. */
export const JSON_DOCUMENT_BYTES_MAX = 16 * 1024 * 1024;
/** Longest path string, in characters. */
export const JSON_PATH_LENGTH_MAX = 4096;
/** Most steps (`.name`, `[n]`) in one path: a document nests at most VALUE_DEPTH_MAX levels. */
export const JSON_PATH_STEPS_MAX = VALUE_DEPTH_MAX;
/** A document or subtree whose encoding is at most this size is stored in one row. */
export const JSON_INLINE_BYTES_MAX = 4096;
/** Longest node row key of a split document (after the keyspace); an object with a longer member name stays inline. */
export const JSON_NODE_KEY_BYTES_MAX = 8192;
/** Largest chunk row of a split container (its consecutive children); a bigger child has its own rows. */
export const JSON_CHUNK_BYTES_MAX = 4096;
