// The package's types under the strictest settings teams use
// (tsconfig.strictest.json: exactOptionalPropertyTypes,
// noUncheckedIndexedAccess, noPropertyAccessFromIndexSignature,
// verbatimModuleSyntax, ...): a page passes options and callbacks it may not
// have (`props.timeout`, `props.onComplete`) as `undefined`, which the
// manual says means "not given". Each @ts-expect-error must be an error.
import { PollingManager, pollFileCompletion, smartPollingManager } from "smart-polling";
import type { FileRecord, ManagerOptions, PollingError } from "smart-polling";
import { PollingProvider, usePolling } from "smart-polling/react";
import type { PollingOverrides } from "smart-polling/react";

interface Props {
  fileId: string;
  timeout?: number;
  eventsUrl?: string | null;
  onComplete?: (file: FileRecord & { url: string }) => void;
  onError?: (error: PollingError) => void;
}

export function passesWhatItMayNotHave(props: Props): void {
  const options: ManagerOptions = { eventsUrl: props.eventsUrl, timeout: props.timeout, debug: undefined };
  const m = new PollingManager(options);
  m.startPolling(props.fileId, { onComplete: props.onComplete, onError: props.onError }, { timeout: props.timeout, preset: undefined });
  void pollFileCompletion(props.fileId, { maxDuration: props.timeout, onError: undefined, onProgress: undefined });
  void smartPollingManager.startPolling("check", async () => ({ completed: false, data: undefined, error: undefined }), {
    timeout: props.timeout,
  });
  const overrides: PollingOverrides = { timeout: props.timeout, intervals: undefined };
  m.startPolling("f2", {}, overrides);
  // @ts-expect-error a wrong type is still refused
  m.startPolling("f3", {}, { timeout: "5s" });
  // @ts-expect-error so is an unknown callback's value of the wrong kind
  m.startPolling("f4", { onComplete: 42 });
}

/** A narrower record type in a callback is accepted, as a method's parameter is. */
interface MyFile extends FileRecord {
  prompt: string;
}
export function narrowsTheRecord(m: PollingManager): void {
  m.startPolling("f", {
    onUpdate(file: MyFile) {
      console.log(file.prompt);
    },
  });
}

export function Hooked(props: Props & { wasm?: string }) {
  const state = usePolling(null, props.fileId, { onComplete: props.onComplete }, { timeout: props.timeout });
  return PollingProvider({ options: { eventsUrl: props.eventsUrl }, wasm: props.wasm, children: state.status });
}
