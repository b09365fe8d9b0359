/** 0.4 s, 12.3 s, 2 m 05 s */
export function duration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return "—";
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} m ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
}

export function percent(x: number | null | undefined, digits = 0): string {
  if (x == null || !Number.isFinite(x)) return "—";
  return `${(x * 100).toFixed(digits)} %`;
}

export function shortId(id: string | null | undefined): string {
  if (!id) return "…";
  return id.length > 10 ? `${id.slice(0, 4)}…${id.slice(-4)}` : id;
}
