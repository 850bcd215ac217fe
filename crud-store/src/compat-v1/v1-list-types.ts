import type { TypeRegistry, TypeSpec } from "../registry/type-registry.js";
import type { CallScope } from "../store/event-store-port.js";

/** The most types one v1 ListTypes returns: v1 has no page token, so this bounds the answer (and the work). */
export const maxV1Types = 10_000;

/** The page size asked of the registry (its own maximum). */
const registryPage = 1000;

/**
 * Every registered type, for v1's ListTypes, which has a `limit` but no page token: our registry's pages are followed
 * internally until `limit` types are read (0 = all, up to {@link maxV1Types}) or there are no more.
 */
export async function listTypesV1(registry: TypeRegistry, limit: number, scope: CallScope): Promise<TypeSpec[]> {
  const wanted = limit === 0 || limit > maxV1Types ? maxV1Types : limit;
  const specs: TypeSpec[] = [];
  let pageToken = "";
  do {
    const page = await registry.list(Math.min(registryPage, wanted - specs.length), pageToken, scope);
    specs.push(...page.specs);
    pageToken = page.nextPageToken;
  } while (pageToken !== "" && specs.length < wanted);
  return specs.slice(0, wanted);
}
