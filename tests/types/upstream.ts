// Issue 9, item 6: call sites written the way the product's generator hooks
// write them against their old polling module (/work/shared/upstream-api.md,
// "How the hooks use it"), with only the import pointing at this package.
//
// Two proofs from one file:
// - `npx tsc -p .` compiles it under --strict against pkg/index.d.ts (no
//   casts, no `any`, no non-null assertions on the package's values);
// - e2e/upstream.test.mjs transpiles it, bundles it with pkg/ and runs every
//   call site in Chromium against the demo server, checking each outcome.
//
// Nothing here calls init(): the hooks never did.

import type { PollingChecker, PollingOptions, PollingResult } from "smart-polling";

/** The slice of a hook's state these call sites write (`generationStatus` and friends). */
export interface HookState {
  status: "idle" | "generating" | "completed" | "error";
  message: string;
  progressLog: string[];
  errors: string[];
  /** `currentGeneration` */
  current: { url: string; thumbnail: string | null; projectId: string | null; timestamp: number } | null;
  /** What the call site's result looked like, for the test. */
  outcome: { success: boolean; method: string; attempts: number; duration: number; failureKind?: string } | null;
}

export function newState(): HookState {
  return { status: "generating", message: "", progressLog: [], errors: [], current: null, outcome: null };
}

// The hooks' own handlers take strings and render them (React text, toasts).
function handleGenerationError(state: HookState, message: string): void {
  state.status = "error";
  state.message = message;
  state.errors.push(message);
}

function handleGenerationComplete(state: HookState, url: string, thumbnail: string | null, projectId: string | null): void {
  state.status = "completed";
  state.message = "Generation complete";
  state.current = { url, thumbnail, projectId, timestamp: Date.now() };
}

/**
 * The fallback behind the hook's own SSE connection: a long poll (7 min by
 * default). `useStream: false` because the hook already holds a stream.
 */
export async function pollAsFallback(state: HookState, fileId: string, maxDuration = 7 * 60 * 1000): Promise<HookState> {
  const { pollFileCompletion } = await import("smart-polling");
  const result = await pollFileCompletion(fileId, {
    maxDuration,
    initialInterval: 1000,
    maxInterval: 10000,
    useStream: false,
    onProgress: (attempt, elapsed, nextInterval) => {
      state.message = `Still generating... (check ${attempt}, ${Math.round(elapsed / 1000)}s, next in ${Math.round(nextInterval / 1000)}s)`;
      state.progressLog.push(state.message);
    },
    onError: (error, attempt) => {
      console.warn(`Polling error on attempt ${attempt}:`, error.message);
    },
  });
  state.outcome = { success: result.success, method: result.method, attempts: result.attempts, duration: result.duration };
  if (result.success) {
    const projectId = result.data.tasks?.[0]?.project_id ?? null;
    handleGenerationComplete(state, result.data.url, result.data.thumbnail_url ?? null, projectId);
  } else {
    state.outcome.failureKind = result.failure.kind;
    handleGenerationError(state, result.error || "Generation failed");
  }
  return state;
}

/**
 * "Check now" and recovery after a reload: a short check (10 s by default)
 * that must give up at its own deadline, whatever else polls the same file.
 */
export async function checkNow(state: HookState, fileId: string, maxDuration = 10000): Promise<HookState> {
  const { pollFileCompletion } = await import("smart-polling");
  const result = await pollFileCompletion(fileId, {
    maxDuration,
    initialInterval: 1000,
    maxInterval: 3000,
    onProgress: (attempt, elapsed, nextInterval) => {
      state.progressLog.push(`check ${attempt} at ${elapsed}ms, next in ${nextInterval}ms`);
    },
  });
  state.outcome = { success: result.success, method: result.method, attempts: result.attempts, duration: result.duration };
  if (result.success && result.data?.url) {
    handleGenerationComplete(state, result.data.url, result.data.thumbnail_url ?? null, result.data.tasks?.[0]?.project_id ?? null);
  } else if (result.method === "timeout") {
    state.message = "Still generating, we'll keep checking";
  } else {
    handleGenerationError(state, result.error || "Could not check the generation");
  }
  return state;
}

/** The video hook waits on the project instead of the file. */
export async function waitForProject(state: HookState, projectId: string): Promise<HookState> {
  const { pollProjectCompletion } = await import("smart-polling");
  const result = await pollProjectCompletion(projectId, {
    maxDuration: 15 * 60 * 1000,
    initialInterval: 2000,
    maxInterval: 10000,
    backoffMultiplier: 2,
    maxConsecutiveErrors: 5,
    onProgress: (attempt, elapsed, nextInterval) => {
      state.progressLog.push(`${attempt}/${elapsed}/${nextInterval}`);
    },
  });
  state.outcome = { success: result.success, method: result.method, attempts: result.attempts, duration: result.duration };
  if (result.success) {
    handleGenerationComplete(state, result.data.url, null, result.data.projectId);
  } else {
    handleGenerationError(state, result.error || "Video generation failed");
  }
  return state;
}

/** The hooks' own record type (they never imported the package's). */
interface GeneratedFile {
  id: string;
  url: string | null;
  thumbnail_url?: string | null;
  tasks?: Array<{ status: string; project_id?: string | null }>;
}

/** A rate limit as the old module's checkers threw it (fetch-wrapper style). */
interface HttpError extends Error {
  status: number;
  headers: Record<string, string>;
}

function httpError(response: Response): HttpError {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  return Object.assign(new Error(`HTTP ${response.status}`), { status: response.status, headers });
}

/** The singleton with the hook's own checker, under the hook's own poll id. */
export async function pollWithChecker(state: HookState, fileId: string, pollId = `image-gen-${fileId}`): Promise<HookState> {
  const { smartPollingManager } = await import("smart-polling");
  const result = await smartPollingManager.startPolling(
    pollId,
    async () => {
      const response = await fetch(`/api/file/${encodeURIComponent(fileId)}`);
      if (response.status === 404) return { completed: false, shouldContinue: true };
      if (!response.ok) throw httpError(response);
      const data: GeneratedFile = await response.json();
      if (data.url) return { completed: true, data };
      const status = data.tasks?.[0]?.status?.toLowerCase();
      if (status === "error") return { completed: false, error: "The generation failed on the server", shouldContinue: false };
      return { completed: false, data, shouldContinue: true };
    },
    {
      maxDuration: 60000,
      initialInterval: 1000,
      maxInterval: 5000,
      onProgress: (attempt, elapsed, nextInterval) => {
        state.progressLog.push(`checker ${attempt} ${elapsed} ${nextInterval}`);
      },
      onError: (error, attempt) => {
        state.progressLog.push(`error ${attempt}: ${error.message}`);
      },
    },
  );
  state.outcome = { success: result.success, method: result.method, attempts: result.attempts, duration: result.duration };
  // the old module's `data?: T`: a checker may complete with none
  if (result.success && result.data?.url) {
    handleGenerationComplete(state, result.data.url, result.data.thumbnail_url ?? null, result.data.tasks?.[0]?.project_id ?? null);
  } else if (!result.success) {
    state.outcome.failureKind = result.failure.kind;
    handleGenerationError(state, result.error || "Generation failed");
  }
  return state;
}

/** What the singleton reports about a poll id (the hooks' `stopGeneration` and status line). */
export async function singletonView(pollId: string): Promise<{ polling: boolean; status: Array<{ pollId: string; attempts: number; elapsed: number; lastError?: string }> }> {
  const { smartPollingManager } = await import("smart-polling");
  const polling: boolean = smartPollingManager.isPolling(pollId);
  return { polling, status: smartPollingManager.getPollingStatus().filter((s) => s.pollId === pollId) };
}

/** `stopGeneration`: stops the file's poll through the singleton. */
export async function stopGeneration(state: HookState, fileId: string): Promise<boolean> {
  const { smartPollingManager } = await import("smart-polling");
  const stopped: boolean = smartPollingManager.stopPolling(`file-${fileId}`);
  if (stopped) {
    state.status = "idle";
    state.message = "Generation stopped";
  }
  return stopped;
}

/** On unmount the hooks stop everything. */
export async function stopEverything(): Promise<void> {
  const { smartPollingManager } = await import("smart-polling");
  smartPollingManager.stopAllPolling();
}

/** The old module's type names, an options object typed with them and
 *  passed to either form, and the app's own record type named at the call
 *  (the old module's data was untyped). Type-checked only. */
export const fallbackOptions: PollingOptions = {
  maxDuration: 3 * 60 * 1000,
  maxInterval: 10000,
  onError: (error, attempt) => console.warn(attempt, error.message),
};

export async function typedCalls(fileId: string): Promise<Array<string | null | undefined>> {
  const { pollFileCompletion, smartPollingManager } = await import("smart-polling");
  const own: PollingResult<GeneratedFile> = await pollFileCompletion<GeneratedFile>(fileId, fallbackOptions);
  const file: GeneratedFile | undefined = own.data;
  // The default record type: the generation the server embeds.
  const plain = await pollFileCompletion(fileId, fallbackOptions);
  const prompt = plain.success ? plain.data.image_generation?.prompt : undefined;
  const checker: PollingChecker<GeneratedFile> = async () => ({ completed: false });
  const checked = await smartPollingManager.startPolling(`typed-${fileId}`, checker, fallbackOptions);
  return [file?.url, prompt, checked.data?.url];
}
