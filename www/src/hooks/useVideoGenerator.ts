// Video generations watched by the page's PollingManager (the "video" preset:
// slower start, longer limits), with the outward shape of the product's video
// generator hook (the state and functions listed at the end of
// upstream-api.md), rebuilt on the hooks of react/. Finished videos and the
// running generations are kept in localStorage; after a reload the running
// ones are watched again and finish, announced once.
import {
  useGenerator,
  type CheckOutcome,
  type ConnectionStatus,
  type GeneratedItem,
  type GenerationForm,
  type Generation,
  type GenerationStatus,
  type GeneratorOptions,
} from "./useGenerator";
import type { Channel } from "@react/hooks";

export type {
  CheckOutcome,
  ConnectionStatus,
  GeneratedItem,
  GenerationForm,
  Generation,
  GenerationSettings,
  GenerationStatus,
  GeneratorOptions,
} from "./useGenerator";

export interface UseVideoGeneratorReturn {
  /** The latest generation: `{ status, progress, message, estimatedTime, projectId, requestId, fileId }`. */
  generationStatus: GenerationStatus;
  /** The latest finished video (`{ url, timestamp, settings, ... }`), until cleared. */
  currentGeneration: GeneratedItem | null;
  /** Finished videos, newest first (kept in localStorage). */
  generatedVideos: GeneratedItem[];
  isGenerating: boolean;
  /** The current generation is on the event stream. */
  isConnected: boolean;
  connectionStatus: ConnectionStatus;
  /** POSTs /api/generate/video, then watches the file with `{ preset: "video" }`. */
  generateVideo(formData: GenerationForm | FormData): Promise<Generation | null>;
  /** Stops (if running) and removes a video, by local id or file id. */
  deleteVideo(id: string): void;
  clearAllVideos(): void;
  clearCurrentGeneration(): void;
  /** A request at once for a running job; a short check (10 s) for a stopped or failed one. */
  forceCheckResults(id?: string): Promise<CheckOutcome>;
  /** Stops the poller of the current (or the given) generation. */
  stopGeneration(id?: string): boolean;
  downloadVideo(video: GeneratedItem | string, filename?: string): Promise<boolean>;
  copyVideoUrl(video: GeneratedItem | string): Promise<boolean>;
  /** Demo extras: every generation (the cards), the current channel, whether the manager exists. */
  generations: Generation[];
  channel: Channel | null;
  ready: boolean;
}

export function useVideoGenerator(options?: GeneratorOptions): UseVideoGeneratorReturn {
  const g = useGenerator("video", options);
  return {
    generationStatus: g.generationStatus,
    currentGeneration: g.currentGeneration,
    generatedVideos: g.generatedItems,
    isGenerating: g.isGenerating,
    isConnected: g.isConnected,
    connectionStatus: g.connectionStatus,
    generateVideo: g.generate,
    deleteVideo: g.deleteItem,
    clearAllVideos: g.clearAll,
    clearCurrentGeneration: g.clearCurrentGeneration,
    forceCheckResults: g.forceCheckResults,
    stopGeneration: g.stopGeneration,
    downloadVideo: g.download,
    copyVideoUrl: g.copyUrl,
    generations: g.generations,
    channel: g.channel,
    ready: g.ready,
  };
}
