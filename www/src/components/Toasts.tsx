// Announcements of finished generations (one per generation, never again
// after a reload: the hooks' onComplete / onError), in a polite live region.
export interface Toast {
  key: number;
  tone: "ok" | "bad";
  title: string;
  body: string;
  fileId: string;
  kind: "image" | "video";
}

export function Toasts({ toasts, onDismiss }: { toasts: Toast[]; onDismiss(key: number): void }) {
  return (
    <div className="toasts" aria-live="polite" data-testid="toasts">
      {toasts.map((t) => (
        <div
          key={t.key}
          className={`toast toast--${t.tone}`}
          role="status"
          data-testid="toast"
          data-file-id={t.fileId}
          data-kind={t.kind}
          data-tone={t.tone}
        >
          <div className="toast__text">
            <strong>{t.title}</strong>
            <span>{t.body}</span>
          </div>
          <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => onDismiss(t.key)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
