/** The databases the API suites run every test against: in memory, and durable (buffered, strict). */
import { Strata } from '../../src/api/index.js';
import { MemoryBackend } from '../../src/backend/index.js';
import { ManualClock, ManualScheduler } from '../../src/base/index.js';
import { nodeScheduler } from '../../src/node.js';

export interface Fixture {
  db: Strata;
  clock: ManualClock;
}

export type Opener = () => Promise<Fixture>;

/**
 * `Strata.cache()` and a MemoryBackend database in buffered and in strict mode, each on a manual
 * clock at 1,000 ms. Durable ones run background work on a manual scheduler, or with `realScheduler`
 * on Node's (retried transactions wait for pending commits through the scheduler: it must run).
 */
export function apiConfigs(options: { realScheduler?: boolean } = {}): [string, Opener][] {
  return [
    [
      'Strata.cache()',
      async () => {
        const clock = new ManualClock(1_000);
        return { db: await Strata.cache({ clock, scheduler: new ManualScheduler(clock) }), clock };
      },
    ],
    ...(['buffered', 'strict'] as const).map((durability): [string, Opener] => [
      `durable (${durability}) on a MemoryBackend`,
      async () => {
        const clock = new ManualClock(1_000);
        const db = await Strata.open('memory', {
          backend: new MemoryBackend(),
          durability,
          clock,
          scheduler: options.realScheduler === true ? nodeScheduler : new ManualScheduler(clock),
        });
        return { db, clock };
      },
    ]),
  ];
}
