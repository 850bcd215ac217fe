import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { bundleBudget } from "./build/bundle-budget.js";

/**
 * The console is static files: `vite build` writes them to `console/dist/`, which `make run`, the Compose file's
 * `console` service and the browser tests serve. `base: "./"` keeps every asset path relative, so the files work under
 * any path a proxy puts them. The build fails when the gzipped scripts and styles pass their budget.
 */
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  logLevel: "warn",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
    // The budget below is what counts: it weighs the gzipped output, which is what a browser downloads.
    chunkSizeWarningLimit: 2048,
  },
  oxc: { jsx: { runtime: "automatic" } },
  plugins: [bundleBudget()],
});
