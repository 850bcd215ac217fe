// The Event Store's tests use the shared test kit like every other package's (test-kit/src/event-store.ts).
export * from "@eskit/test-kit/event-store.js";
