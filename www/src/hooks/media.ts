// downloadImage / downloadVideo and copyImageUrl / copyVideoUrl of the
// generator hooks. Only http(s) or relative urls are used (safeUrl).
import { safeUrl } from "./storage";

export interface MediaTarget {
  url: string;
  fileId?: string | null;
  contentType?: string | null;
  kind?: "image" | "video";
}

function extensionOf(target: MediaTarget): string {
  const path = target.url.split(/[?#]/)[0];
  const ext = /\.([A-Za-z0-9]{2,5})$/.exec(path)?.[1];
  if (ext) return ext.toLowerCase();
  const sub = target.contentType?.split("/")[1];
  return sub && /^[a-z0-9]{2,5}$/.test(sub) ? sub : target.kind === "video" ? "mp4" : "png";
}

/** `image-{fileId}.png` */
export function fileNameOf(target: MediaTarget): string {
  const base = target.fileId && /^[A-Za-z0-9_-]{1,128}$/.test(target.fileId) ? target.fileId : String(Date.now());
  return `${target.kind ?? "media"}-${base}.${extensionOf(target)}`;
}

function clickLink(href: string, filename: string, newTab: boolean): void {
  const a = document.createElement("a");
  a.href = href;
  a.download = filename;
  if (newTab) {
    a.target = "_blank";
    a.rel = "noopener noreferrer";
  }
  a.style.display = "none";
  document.body.appendChild(a);
  a.click();
  a.remove();
}

/**
 * Saves the file: fetched as a blob so `download` names it even when the
 * server sends no Content-Disposition; if that fails (CORS), the link opens
 * the url itself. False for an unsafe url.
 */
export async function downloadMedia(target: MediaTarget | string, filename?: string): Promise<boolean> {
  const t: MediaTarget = typeof target === "string" ? { url: target } : target;
  const url = safeUrl(t.url);
  if (!url) return false;
  const name = filename ?? fileNameOf(t);
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const href = URL.createObjectURL(await res.blob());
    clickLink(href, name, false);
    setTimeout(() => URL.revokeObjectURL(href), 10_000);
  } catch {
    clickLink(url, name, true);
  }
  return true;
}

/** Copies the absolute url to the clipboard; false for an unsafe url or a refused clipboard. */
export async function copyMediaUrl(target: MediaTarget | string): Promise<boolean> {
  const url = safeUrl(typeof target === "string" ? target : target.url);
  if (!url) return false;
  const absolute = new URL(url, location.href).href;
  try {
    await navigator.clipboard.writeText(absolute);
    return true;
  } catch {
    // no clipboard permission (or not a secure context): the selection fallback
    const area = document.createElement("textarea");
    area.value = absolute;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}
