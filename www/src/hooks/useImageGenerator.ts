// Image generations watched by the page's PollingManager, with the outward
// shape of the product's image generator hook (the state and functions listed
// at the end of upstream-api.md), rebuilt on the hooks of react/. Finished
// images and the running generations are kept in localStorage; after a reload
// the running ones are watched again and finish, announced once.
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

export interface UseImageGeneratorReturn {
  /** The latest generation: `{ status, progress, message, estimatedTime, projectId, requestId, fileId }`. */
  generationStatus: GenerationStatus;
  /** The latest finished image (`{ url, timestamp, settings, ... }`), until cleared. */
  currentGeneration: GeneratedItem | null;
  /** Finished images, newest first (kept in localStorage). */
  generatedImages: GeneratedItem[];
  isGenerating: boolean;
  /** The current generation is on the event stream. */
  isConnected: boolean;
  connectionStatus: ConnectionStatus;
  /** POSTs /api/generate/image, then watches the file (stream first, polling as the fallback). */
  generateImage(formData: GenerationForm | FormData): Promise<Generation | null>;
  /** Stops (if running) and removes an image, by local id or file id. */
  deleteImage(id: string): void;
  clearAllImages(): void;
  clearCurrentGeneration(): void;
  /** A request at once for a running job; a short check (10 s) for a stopped or failed one. */
  forceCheckResults(id?: string): Promise<CheckOutcome>;
  /** Stops the poller of the current (or the given) generation. */
  stopGeneration(id?: string): boolean;
  downloadImage(image: GeneratedItem | string, filename?: string): Promise<boolean>;
  copyImageUrl(image: GeneratedItem | string): Promise<boolean>;
  /** Demo extras: every generation (the cards), the current channel, whether the manager exists. */
  generations: Generation[];
  channel: Channel | null;
  ready: boolean;
}

export function useImageGenerator(options?: GeneratorOptions): UseImageGeneratorReturn {
  const g = useGenerator("image", options);
  return {
    generationStatus: g.generationStatus,
    currentGeneration: g.currentGeneration,
    generatedImages: g.generatedItems,
    isGenerating: g.isGenerating,
    isConnected: g.isConnected,
    connectionStatus: g.connectionStatus,
    generateImage: g.generate,
    deleteImage: g.deleteItem,
    clearAllImages: g.clearAll,
    clearCurrentGeneration: g.clearCurrentGeneration,
    forceCheckResults: g.forceCheckResults,
    stopGeneration: g.stopGeneration,
    downloadImage: g.download,
    copyImageUrl: g.copyUrl,
    generations: g.generations,
    channel: g.channel,
    ready: g.ready,
  };
}
