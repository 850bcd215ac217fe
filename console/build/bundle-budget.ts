import { gzipSync } from "node:zlib";
import type { Plugin } from "vite";

/** The most the console's scripts and styles may weigh together, gzipped: what a first visit downloads. */
export const bundleBudgetBytes = 300 * 1024;

/** One emitted script or stylesheet and its gzipped size. */
export interface AssetWeight {
  readonly fileName: string;
  readonly gzipBytes: number;
}

/** The gzipped size of every script and stylesheet in a build's output, largest first. */
export function weighAssets(files: ReadonlyArray<{ fileName: string; contents: string | Uint8Array }>): AssetWeight[] {
  return files
    .filter(({ fileName }) => /\.(js|css)$/.test(fileName))
    .map(({ fileName, contents }) => ({ fileName, gzipBytes: gzipSync(contents, { level: 9 }).length }))
    .sort((a, b) => b.gzipBytes - a.gzipBytes);
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/**
 * Fails `vite build` when the console's scripts and styles pass {@link bundleBudgetBytes} gzipped, naming the
 * heaviest files, so that a dependency that drags in half of npm is noticed at build time, not by users on a slow
 * link. The weights are written to the build log either way.
 */
export function bundleBudget(budget = bundleBudgetBytes): Plugin {
  return {
    name: "eskit-bundle-budget",
    apply: "build",
    generateBundle(_options, bundle) {
      const weights = weighAssets(
        Object.values(bundle).map((output) => ({
          fileName: output.fileName,
          contents: output.type === "chunk" ? output.code : output.source,
        })),
      );
      const total = weights.reduce((sum, w) => sum + w.gzipBytes, 0);
      const lines = weights.map((w) => `  ${w.fileName} ${kib(w.gzipBytes)}`).join("\n");
      if (total > budget) {
        this.error(`the console weighs ${kib(total)} gzipped, over its budget of ${kib(budget)}:\n${lines}`);
      }
      this.info(`console bundle: ${kib(total)} gzipped of a ${kib(budget)} budget`);
    },
  };
}
