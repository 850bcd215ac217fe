import { configurePropertySizes } from "./test-sizes.js";

// vitest's setupFiles: the sizes of property tests (small locally, full in CI; see test-sizes.ts).
configurePropertySizes();
