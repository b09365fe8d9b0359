// Video generations watched by the page's PollingManager with the "video"
// preset (slower start, longer limits); same outward shape as the original
// use-video-generator hook, rebuilt on react/usePolling.ts.
import { useGenerator, type GenerateOptions, type Generation, type GeneratorState } from "./useGenerator";

export type { GenerateOptions, Generation, GenerationStatus } from "./useGenerator";

export interface UseVideoGeneratorReturn extends Omit<GeneratorState, "generate" | "completedGenerations"> {
  /** Finished videos, newest first. */
  generatedVideos: Generation[];
  /** POSTs /api/generate/video, then watches the file with `{ preset: "video" }`. */
  generateVideo(prompt: string, options?: GenerateOptions): Promise<Generation | null>;
}

export function useVideoGenerator(): UseVideoGeneratorReturn {
  const { generate, completedGenerations, ...rest } = useGenerator("video");
  return { ...rest, generatedVideos: completedGenerations, generateVideo: generate };
}
