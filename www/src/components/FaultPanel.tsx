import type { ReactNode } from "react";
import { isFaultFree, type Faults } from "../api";
import type { FaultsState } from "../hooks/useFaults";

const STREAM_MODES: Array<{ value: Faults["stream"]; label: string }> = [
  { value: "ok", label: "ok — events flow" },
  { value: "off", label: "off — endpoint errors" },
  { value: "never", label: "never — opens, stays silent" },
  { value: "die", label: "die — drops mid-job" },
  { value: "garbage", label: "garbage — unreadable messages" },
];

function Row({ label, hint, children }: { label: string; hint?: string; children: ReactNode }) {
  return (
    <div className="fault">
      <div className="fault__label">
        <span>{label}</span>
        {hint && <small>{hint}</small>}
      </div>
      <div className="fault__control">{children}</div>
    </div>
  );
}

function Slider({
  id,
  value,
  min,
  max,
  step,
  format,
  onChange,
}: {
  id: string;
  value: number;
  min: number;
  max: number;
  step: number;
  format(v: number): string;
  onChange(v: number): void;
}) {
  return (
    <label className="slider">
      <input
        type="range"
        data-testid={id}
        min={min}
        max={max}
        step={step}
        value={value}
        onChange={(e) => onChange(Number(e.target.value))}
      />
      <output>{format(value)}</output>
    </label>
  );
}

function Toggle({ id, checked, onChange, label }: { id: string; checked: boolean; onChange(v: boolean): void; label: string }) {
  return (
    <label className="switch">
      <input type="checkbox" role="switch" data-testid={id} checked={checked} onChange={(e) => onChange(e.target.checked)} />
      <span className="switch__track" aria-hidden="true" />
      <span className="switch__text">{label}</span>
    </label>
  );
}

const pct = (v: number) => `${Math.round(v * 100)} %`;
const ms = (v: number) => (v === 0 ? "off" : v >= 1000 ? `${(v / 1000).toFixed(v % 1000 ? 1 : 0)} s` : `${v} ms`);

export function FaultPanel({ state }: { state: FaultsState }) {
  const { faults: f, perJob, save, error } = state;
  const set = (change: Partial<Faults>) => state.update({ ...f, ...change });

  const saveLabel = perJob
    ? "Sent with the next job only"
    : save === "loading"
      ? "Loading…"
      : save === "saving"
        ? "Saving…"
        : save === "error"
          ? `Not saved: ${error ?? "API unreachable"}`
          : isFaultFree(f)
            ? "No faults: the API behaves"
            : "Applied to every request";

  return (
    <section className="panel faults" aria-labelledby="faults-title">
      <div className="panel__head">
        <h2 id="faults-title">Fault injection</h2>
        <button type="button" className="link-button" data-testid="fault-reset" onClick={state.reset}>
          Reset
        </button>
      </div>
      <p className="panel__sub">Break the API on purpose and watch each job recover, back off or fail cleanly.</p>

      <div className="scope" role="radiogroup" aria-label="Apply faults to">
        <label className={!perJob ? "on" : ""}>
          <input type="radio" name="fault-scope" checked={!perJob} onChange={() => state.setPerJob(false)} />
          All requests
        </label>
        <label className={perJob ? "on" : ""}>
          <input
            type="radio"
            name="fault-scope"
            data-testid="fault-per-job"
            checked={perJob}
            onChange={() => state.setPerJob(true)}
          />
          Next job only
        </label>
      </div>
      <p className={`save save--${perJob ? "job" : save}`} aria-live="polite">
        {saveLabel}
      </p>

      <Row label="Rate limit (429)" hint="with Retry-After">
        <Slider
          id="fault-rate-limit"
          value={f.rateLimit.probability}
          min={0}
          max={1}
          step={0.05}
          format={pct}
          onChange={(v) => set({ rateLimit: { ...f.rateLimit, probability: v } })}
        />
        <div className="inline">
          <select
            data-testid="fault-rate-limit-retry-after"
            aria-label="Retry-After form"
            value={f.rateLimit.retryAfter}
            onChange={(e) => set({ rateLimit: { ...f.rateLimit, retryAfter: e.target.value as Faults["rateLimit"]["retryAfter"] } })}
          >
            <option value="seconds">Retry-After: seconds</option>
            <option value="date">Retry-After: HTTP date</option>
            <option value="none">no Retry-After</option>
          </select>
          <label className="number">
            <input
              type="number"
              data-testid="fault-rate-limit-seconds"
              aria-label="Retry-After seconds"
              min={0}
              max={600}
              value={f.rateLimit.seconds}
              disabled={f.rateLimit.retryAfter === "none"}
              onChange={(e) => set({ rateLimit: { ...f.rateLimit, seconds: Math.max(0, Number(e.target.value) || 0) } })}
            />
            s
          </label>
        </div>
      </Row>

      <Row label="Server error (5xx)" hint="retried with backoff">
        <Slider
          id="fault-server-error"
          value={f.serverError.probability}
          min={0}
          max={1}
          step={0.05}
          format={pct}
          onChange={(v) => set({ serverError: { ...f.serverError, probability: v } })}
        />
        <select
          data-testid="fault-server-error-status"
          aria-label="Server error status"
          value={f.serverError.status}
          onChange={(e) => set({ serverError: { ...f.serverError, status: Number(e.target.value) } })}
        >
          {[500, 502, 503, 504].map((s) => (
            <option key={s} value={s}>
              HTTP {s}
            </option>
          ))}
        </select>
      </Row>

      <Row label="Not found (404)" hint="for the first moments of a job">
        <Slider id="fault-not-found-for" value={f.notFoundFor} min={0} max={20000} step={500} format={ms} onChange={(v) => set({ notFoundFor: v })} />
      </Row>

      <Row label="Slow responses" hint="added latency">
        <Slider id="fault-slow" value={f.slow} min={0} max={5000} step={100} format={ms} onChange={(v) => set({ slow: v })} />
      </Row>

      <Row label="Hanging requests" hint="never answer (request timeout)">
        <Slider id="fault-hang" value={f.hang} min={0} max={1} step={0.05} format={pct} onChange={(v) => set({ hang: v })} />
      </Row>

      <Row label="Malformed bodies" hint="unreadable JSON">
        <Slider id="fault-malformed" value={f.malformed} min={0} max={1} step={0.05} format={pct} onChange={(v) => set({ malformed: v })} />
      </Row>

      <Row label="Event stream">
        <select
          data-testid="fault-stream"
          aria-label="Event stream behaviour"
          value={f.stream}
          onChange={(e) => set({ stream: e.target.value as Faults["stream"] })}
        >
          {STREAM_MODES.map((m) => (
            <option key={m.value} value={m.value}>
              {m.label}
            </option>
          ))}
        </select>
      </Row>

      <div className="toggles">
        <Toggle id="fault-forbidden" checked={f.forbidden} onChange={(v) => set({ forbidden: v })} label="Forbidden (403) — stops at once" />
        <Toggle id="fault-fail" checked={f.fail} onChange={(v) => set({ fail: v })} label="Generation fails (task error)" />
      </div>
    </section>
  );
}
