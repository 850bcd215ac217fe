import { createClient, type Client } from "@connectrpc/connect";
import {
  createConsumerClient,
  createEventStoreClient,
  createTransport,
  CrudStoreService,
  type ConsumerClient,
  type EventStoreClient,
} from "@eskit/client";
import type { Settings } from "./settings.js";

/** The console's clients, all built from one {@link Settings}; rebuilt whenever the settings change. */
export interface Clients {
  readonly eventStore: EventStoreClient;
  readonly consumers: ConsumerClient;
  /** The Crud Store's plain RPCs: documents travel as JSON text, so the console needs no message types. */
  readonly crud: Client<typeof CrudStoreService>;
}

/**
 * One transport per service. gRPC-Web goes as protobuf binary (what every gRPC-Web server speaks); Connect as JSON,
 * readable in the browser's network tab.
 */
export function clientsFor(settings: Settings): Clients {
  const transport = (baseUrl: string) =>
    createTransport({
      baseUrl,
      protocol: settings.protocol,
      ...(settings.token === "" ? {} : { token: settings.token }),
    });
  const eventStoreTransport = transport(settings.eventStoreUrl);
  return {
    eventStore: createEventStoreClient(eventStoreTransport),
    consumers: createConsumerClient(eventStoreTransport),
    crud: createClient(CrudStoreService, transport(settings.crudStoreUrl)),
  };
}
