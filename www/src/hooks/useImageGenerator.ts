// Image generations watched by the page's PollingManager (same outward shape
// as the original use-image-generator hook, rebuilt on react/usePolling.ts).
import { useGenerator, type GenerateOptions, type Generation, type GeneratorState } from "./useGenerator";

export type { GenerateOptions, Generation, GenerationStatus } from "./useGenerator";

export interface UseImageGeneratorReturn extends Omit<GeneratorState, "generate" | "completedGenerations"> {
  /** Finished images, newest first. */
  generatedImages: Generation[];
  /** POSTs /api/generate/image, then watches the file (stream first, polling as the fallback). */
  generateImage(prompt: string, options?: GenerateOptions): Promise<Generation | null>;
}

export function useImageGenerator(): UseImageGeneratorReturn {
  const { generate, completedGenerations, ...rest } = useGenerator("image");
  return { ...rest, generatedImages: completedGenerations, generateImage: generate };
}
