/** The page's side of the studio's workers: starting one, and asking the tools worker for a job. */
import type { ToolReply, ToolRequest, ToolResults, WorkerReady } from './protocol.js';

/** A studio worker (worker.ts), told which backend the page's address forces, if any. */
export const startWorker = (backend: string | null): Worker => {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  worker.postMessage({ type: 'init', backend });
  return worker;
};

/** Runs jobs on a tools worker, each answered by its id. */
export type Ask = <K extends ToolRequest['type']>(request: Extract<ToolRequest, { type: K }>) => Promise<ToolResults[K]>;

/** A client for a tools worker (its `ready` message is not needed: jobs wait for the backend there). */
export const toolsClient = (worker: Worker): Ask => {
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  worker.onmessage = (e: MessageEvent<ToolReply | WorkerReady>): void => {
    const msg = e.data;
    if ('type' in msg) return;
    const job = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.ok) job?.resolve(msg.result);
    else job?.reject(new Error(msg.message));
  };
  return (request) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ type: 'tool', id, request });
    });
};
