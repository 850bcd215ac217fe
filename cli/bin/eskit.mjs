#!/usr/bin/env node
// The `eskit` command. In this repository every package runs from its TypeScript sources through tsx, as the
// services do (`node --import tsx`), so the command registers tsx and then loads its entry point.
import { register } from "tsx/esm/api";

register();
const { run } = await import("../src/main.ts");
process.exitCode = await run(process.argv.slice(2));
