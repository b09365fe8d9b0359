// The fault panel's state: the server's global faults (GET/PUT/DELETE
// /api/faults), or a draft sent with the next generate POST only.
import { useCallback, useEffect, useRef, useState } from "react";
import { deleteFaults, getFaults, NO_FAULTS, putFaults, type Faults } from "../api";

export type SaveState = "loading" | "saved" | "saving" | "error";

export interface FaultsState {
  /** What the controls show: the global faults, or the next-job draft. */
  faults: Faults;
  /** The server's global faults as last seen. */
  global: Faults;
  perJob: boolean;
  save: SaveState;
  error: string | null;
  setPerJob(on: boolean): void;
  update(next: Faults): void;
  reset(): void;
  /** The faults to send with a job now (the draft when "next job only" is on), switching back to global. */
  takeJobFaults(): Faults | null;
}

export function useFaults(): FaultsState {
  const [global, setGlobal] = useState<Faults>(NO_FAULTS);
  const [draft, setDraft] = useState<Faults>(NO_FAULTS);
  const [perJob, setPerJobState] = useState(false);
  const [save, setSave] = useState<SaveState>("loading");
  const [error, setError] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const seq = useRef(0);
  const draftRef = useRef(draft);
  draftRef.current = draft;
  const perJobRef = useRef(perJob);
  perJobRef.current = perJob;

  useEffect(() => {
    let alive = true;
    getFaults().then(
      (f) => {
        if (!alive) return;
        setGlobal(f);
        setSave("saved");
      },
      (e: Error) => {
        if (!alive) return;
        setSave("error");
        setError(e.message);
      },
    );
    return () => {
      alive = false;
      if (timer.current) clearTimeout(timer.current);
    };
  }, []);

  // Applies the server's answer unless a newer change has been sent since.
  const settle = useCallback((request: Promise<Faults>, mine: number) => {
    request.then(
      (f) => {
        if (mine !== seq.current) return;
        setGlobal(f);
        setSave("saved");
        setError(null);
      },
      (e: Error) => {
        if (mine !== seq.current) return;
        setSave("error");
        setError(e.message);
      },
    );
  }, []);

  const push = useCallback(
    (next: Faults) => {
      if (timer.current) clearTimeout(timer.current);
      setSave("saving");
      const mine = ++seq.current;
      timer.current = setTimeout(() => settle(putFaults(next), mine), 200);
    },
    [settle],
  );

  const update = useCallback(
    (next: Faults) => {
      if (perJobRef.current) {
        setDraft(next);
      } else {
        setGlobal(next);
        push(next);
      }
    },
    [push],
  );

  const reset = useCallback(() => {
    if (perJobRef.current) {
      setDraft(NO_FAULTS);
      return;
    }
    if (timer.current) clearTimeout(timer.current);
    const mine = ++seq.current;
    setGlobal(NO_FAULTS);
    setSave("saving");
    settle(deleteFaults(), mine);
  }, [settle]);

  const setPerJob = useCallback(
    (on: boolean) => {
      if (on) setDraft(NO_FAULTS);
      setPerJobState(on);
    },
    [],
  );

  const takeJobFaults = useCallback((): Faults | null => {
    if (!perJobRef.current) return null;
    const f = draftRef.current;
    perJobRef.current = false;
    setPerJobState(false);
    return f;
  }, []);

  return { faults: perJob ? draft : global, global, perJob, save, error, setPerJob, update, reset, takeJobFaults };
}
