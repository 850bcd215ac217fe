/**
 * `@eskit/client`: everything an application needs to talk to the event store and the crud store, safe to
 * bundle for browsers (Node-only transports live in `@eskit/client/node.js`). The generated messages are
 * re-exported so users need not depend on the generated package's layout.
 */
export { createTransport, type TransportOptions, type WebProtocol } from "./transport.js";
export { headersInterceptor } from "./headers-interceptor.js";
export { bearerTokenInterceptor, type TokenSource } from "./bearer-token.js";
export { createEventStoreClient, type EventStoreClient, type VersionRange } from "./event-store-client.js";
export { newEventId, type AppendOptions } from "./append-retry.js";
export { appendInOrder, type AppendBatch, type AppendInOrderOptions } from "./append-in-order.js";
export { createConsumerClient, type ConsumerClient } from "./consumer-client.js";
export { projectionConsumerId, projectionConsumerPrefix, projectionOfConsumer } from "./projection-consumer-id.js";
export { createHealthClient, type HealthClient } from "./health-client.js";
export { encodePayload, toEvent, type NewEvent } from "./new-event.js";
export { tailLogs, type TailOptions } from "./tail-logs.js";
export { pageLogs, type PageLogsOptions } from "./page-logs.js";
export {
  createLogConsumer,
  type BatchHandler,
  type ConsumeControl,
  type ConsumeOptions,
  type ConsumeStart,
  type ConsumeSummary,
  type EntryHandler,
  type LogConsumer,
} from "./consume.js";
export { isTransient } from "./transient-error.js";
export {
  entityTypeProblem,
  eventTypeProblem,
  maxEntityTypeLength,
  maxEventTypeLength,
  maxOriginatorIdLength,
  parseSelectorText,
  splitEventType,
  type EventTypeParts,
  type Selector,
} from "./event-type.js";
export {
  documentConflictOf,
  documentExistsOf,
  eventIdTakenOf,
  schemaViolationsOf,
  versionConflictOf,
  versionGapOf,
  type DocumentConflict,
  type DocumentExists,
  type EventIdTaken,
  type SchemaViolation,
  type SchemaViolations,
  type VersionConflict,
  type VersionGap,
} from "./error-details.js";
export { createCrudClient, type CrudClient } from "./crud-client.js";
export type {
  CreateOptions,
  CrudClientOptions,
  CrudPage,
  CrudRevision,
  GetOptions,
  HistoryOptions,
  ListOptions,
  ListPageOptions,
  OriginatorRef,
  UpdateOptions,
} from "./crud-client-options.js";
export type { CrudDocument } from "./crud-document.js";
export type {
  EntityTypeRef,
  JsonSchema,
  ListTypesOptions,
  RegisterTypeOptions,
  UpdateTypeOptions,
} from "./crud-type-registry.js";

export { Code, ConnectError, type CallOptions, type Interceptor, type Transport } from "@connectrpc/connect";
export * from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
export * from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
export * from "@eskit/gen/eskit/eventstore/v1/consumer_pb.js";
export * from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
export * from "@eskit/gen/eskit/crudstore/v1/errors_pb.js";
export * from "@eskit/gen/eskit/eventstore/v1/errors_pb.js";
export * from "@eskit/gen/grpc/health/v1/health_pb.js";
