/**
 * The few platform globals the core may use. Every target (Node 20+, browsers, workers) has
 * them; declaring them here instead of pulling in DOM or Node types keeps anything else out.
 */
declare class TextEncoder {
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array): string;
}
declare function queueMicrotask(callback: () => void): void;
declare const console: { log(...args: unknown[]): void; warn(...args: unknown[]): void };
