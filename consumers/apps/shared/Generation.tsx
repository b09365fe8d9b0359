"use client";
// The component every app of the consumer matrix renders (copied into each
// app's source folder): it starts a generation on the demo API, follows it
// with `usePolling` under the app's `PollingProvider`, shows the completed
// url, then checks the job again with the entry's Promise helper. The
// directive makes it a client component in Next.js; Vite ignores it.
import { useState } from "react";
import { pollFileCompletion } from "smart-polling";
import type { PollingResult } from "smart-polling";
import { usePolling, usePollingContext } from "smart-polling/react";

export function Generation() {
  const manager = usePollingContext(); // null until the wasm has loaded
  const [fileId, setFileId] = useState<string | null>(null);
  const [completed, setCompleted] = useState<string | null>(null);
  const [check, setCheck] = useState<string>("");
  const { status, record, progress, error } = usePolling(manager, fileId, {
    onComplete: (file) => {
      const url: string = file.url; // a completed record always has its url
      setCompleted(url);
    },
  });

  async function generate() {
    const res = await fetch("/api/generate/image", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ prompt: "a consumer app", duration: 20 }),
    });
    const body: { fileId: string } = await res.json();
    setFileId(body.fileId);
  }

  async function checkAgain(id: string) {
    const result: PollingResult = await pollFileCompletion(id, { maxDuration: 10000 });
    setCheck(result.success ? `ok ${result.data.url}` : `${result.method}: ${result.error}`);
  }

  return (
    <main>
      <button data-testid="generate" disabled={!manager} onClick={generate}>Generate</button>
      <p data-testid="file-id">{fileId ?? ""}</p>
      <p data-testid="status" data-status={status} data-channel={progress?.channel ?? ""}>
        {status} {progress?.progress ?? ""} {error?.message ?? ""}
      </p>
      {record?.url && <img data-testid="result" src={record.url} alt="result" />}
      {completed && <p data-testid="completed">{completed}</p>}
      {fileId && completed && <button data-testid="check" onClick={() => checkAgain(fileId)}>Check again</button>}
      <p data-testid="check-result">{check}</p>
    </main>
  );
}
