// Compile-time test (npx tsc -p .): what a page may rely on after narrowing
// is typed so, and what may be missing at run time is typed as missing.
// Each @ts-expect-error must be an error.
import { pollFileCompletion, pollProjectCompletion, smartPollingManager } from "smart-polling";
import type { PollingErrorKind } from "smart-polling";
import type { PollingState } from "smart-polling/react";

/** An app's own record type, which need not extend FileRecord. */
interface AppFile {
  id: string;
  url?: string | null;
  thumbnail_url?: string | null;
}

export async function narrowed(id: string): Promise<unknown[]> {
  // A completed file has its url, whatever the page's type says of it.
  const file = await pollFileCompletion<AppFile>(id);
  const url: string | undefined = file.success ? file.data.url : undefined;

  // A project's value typed by the page; its url and the project id are there.
  const project = await pollProjectCompletion<{ thumbnail_url?: string; duration?: number }>(id);
  const value: Array<string | number | undefined> = project.success
    ? [project.data.url, project.data.projectId, project.data.thumbnail_url, project.data.duration]
    : [];

  // A checker's data is missing where it gave none: the result and onUpdate say so.
  const checked = await smartPollingManager.startPolling("c-1", async () => ({ completed: true, data: 1 }), {
    onUpdate: (data) => {
      // @ts-expect-error `{ completed: false }` updates with undefined
      const n: number = data;
      return n;
    },
  });
  // @ts-expect-error `{ completed: true }` alone resolves with no data
  const n: number = checked.success ? checked.data : 0;
  const m: number | undefined = checked.success ? checked.data : undefined;

  // The Promise form's onError always has a kind: a switch can be exhaustive.
  await pollFileCompletion(id, {
    onError: (error) => {
      const kind: PollingErrorKind = error.kind;
      const transient: boolean = error.retryable;
      return [kind, transient];
    },
  });

  // The singleton's methods need no `this`.
  const { isPolling, stopPolling } = smartPollingManager;
  return [url, value, n, m, isPolling("c-1"), stopPolling("c-1")];
}

/** The hooks' state narrows on `status`. */
export function view(state: PollingState): string {
  switch (state.status) {
    case "completed":
      return state.record.url; // a string: it completed
    case "error":
      return state.error.message; // set: it failed
    case "active":
      // @ts-expect-error no url before it completes
      return state.record.url;
    case "idle":
      return "";
    default: {
      const never: never = state;
      return never;
    }
  }
}
