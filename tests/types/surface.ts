// Compile-time test of the package's type surface (issue 17, item 5), run by
// `tsc -p .` against the shipped pkg/index.d.ts and pkg/react.d.ts: the public
// names are exported, the glue's internals are not, init() resolves with
// nothing, and the React entry types a load failure as state. Every line
// marked to expect an error must be one.
import init, {
  configureDefaults,
  initSync,
  pollFileCompletion,
  pollProjectCompletion,
  PollingManager,
  smartPollingManager,
} from "smart-polling";
import type {
  Channel,
  CheckResult,
  Completed,
  FileRecord,
  InitInput,
  ManagerOptions,
  Media,
  PollOptions,
  PollStatus,
  PollingCallbacks,
  PollingConfig,
  PollingError,
  PollingErrorKind,
  PollingMetrics,
  PollingProgress,
  PollingResult,
  ProjectRecord,
  ProjectResult,
  SmartPollingManager,
  SyncInitInput,
  Task,
  TaskStatus,
} from "smart-polling";
import * as entry from "smart-polling";
import {
  PollingProvider,
  usePolling,
  usePollingContext,
  usePollingLoadError,
  usePollingManager,
} from "smart-polling/react";
import type { LoadFailure, PollingState } from "smart-polling/react";

/** Every public type, named once (a missing export fails to compile). */
export type PublicTypes = [
  Channel, CheckResult, Completed<FileRecord>, FileRecord, InitInput, ManagerOptions, Media,
  PollOptions, PollStatus, PollingCallbacks, PollingConfig, PollingError, PollingErrorKind,
  PollingMetrics, PollingProgress, PollingResult, ProjectRecord, ProjectResult,
  SmartPollingManager, SyncInitInput, Task, TaskStatus,
];

export async function values(): Promise<unknown[]> {
  const loaded: void = await init();
  const loadedFrom: Promise<void> = init(new URL("https://cdn.example/smart_polling_bg.wasm"));
  const synced: void = initSync(new Uint8Array(8));
  configureDefaults({ eventsUrl: "/api/events/file.{id}", fileUrl: "/api/file/{id}" });
  configureDefaults({ eventsUrl: null });
  {
    using manager = new PollingManager({ eventsUrl: null });
    manager.startPolling("file-1", { onComplete: (file) => file.url.length });
  } // disposed here: its jobs are stopped
  const file: PollingResult<FileRecord> = await pollFileCompletion("file-2");
  const project: PollingResult<ProjectResult> = await pollProjectCompletion("project-1");
  const check: PollingResult<number | undefined, number | undefined> = await smartPollingManager.startPolling("check-1", () => ({ completed: true, data: 1 }));
  const dispose: () => void = new PollingManager()[Symbol.dispose];

  // @ts-expect-error init() resolves with nothing (not the glue's InitOutput)
  (await init()).memory;
  // @ts-expect-error initSync() returns nothing
  initSync(new Uint8Array(8)).memory;
  // @ts-expect-error configureDefaults takes the manager's options, typed
  configureDefaults({ fileURL: "/x/{id}" });
  // @ts-expect-error ... and requires them
  configureDefaults();
  return [loaded, loadedFrom, synced, file, project, check, dispose];
}

// The glue's internals are not part of the package's API.
export const internals = [
  // @ts-expect-error raw export behind smartPollingManager.stopPolling
  entry.stopPollId,
  // @ts-expect-error raw export behind smartPollingManager.startPolling (checker: Function)
  entry.startCheckPolling,
  // @ts-expect-error raw export behind smartPollingManager.isPolling
  entry.isPollIdActive,
  // @ts-expect-error raw export behind smartPollingManager.stopAllPolling
  entry.stopAllPollIds,
  // @ts-expect-error raw export behind smartPollingManager.getPollingStatus
  entry.pollIdStatuses,
];
// @ts-expect-error the wasm exports' type is not exported
export type Raw = entry.InitOutput;

// The React entry: a load failure is state, the context is still a manager or null.
export function Status({ fileId }: { fileId: string | null }) {
  const manager: PollingManager | null = usePollingContext();
  const failure: LoadFailure | null = usePollingLoadError();
  const state: PollingState = usePolling(manager, fileId);
  const own: PollingManager | null = usePollingManager({ maxStreams: 1 }, "/smart_polling_bg.wasm");
  const kind: PollingErrorKind | "load_failed" | undefined = state.error?.kind;
  const loadMessage: string | undefined = state.error?.kind === "load_failed" ? state.error.message : undefined;
  if (failure) {
    const literal: "load_failed" = failure.kind;
    const retryable: boolean = failure.retryable;
    const attempt: 0 = failure.attempt;
    return PollingProvider({ children: [literal, retryable, attempt, failure.message] });
  }
  return PollingProvider({ options: { eventsUrl: null }, children: [own === manager, kind, loadMessage] });
}
