/**
 * How a projection shows among the Event Store's consumers. `project()` reports its position through
 * `ConsumerService.SaveOffset` (see projection-report.ts) under the consumer id `projection:<name>` by default; the
 * prefix is how the console, or anyone reading `ListConsumers`, tells a projection from a consumer. Safe for
 * browsers: the console imports it from `@eskit/client`.
 */
export const projectionConsumerPrefix = "projection:";

/** The consumer id projection `name` reports under unless told otherwise: `projection:<name>`. */
export function projectionConsumerId(name: string): string {
  return `${projectionConsumerPrefix}${name}`;
}

/**
 * The projection a consumer id stands for (`projection:orders` → `orders`), or undefined for any other consumer. Only
 * a convention: a consumer that names itself `projection:x` is taken for one, and a projection given another
 * consumer id (`reportPosition.consumerId`) is not.
 */
export function projectionOfConsumer(consumerId: string): string | undefined {
  return consumerId.startsWith(projectionConsumerPrefix) && consumerId.length > projectionConsumerPrefix.length
    ? consumerId.slice(projectionConsumerPrefix.length)
    : undefined;
}
