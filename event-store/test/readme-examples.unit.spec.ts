import type { DescService } from "@bufbuild/protobuf";
import { CrudStoreService } from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import { ConsumerService } from "@eskit/gen/eskit/eventstore/v1/consumer_pb.js";
import { EventStoreService } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { Health } from "@eskit/gen/grpc/health/v1/health_pb.js";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./harness.js";
import { outputMismatch, showsError } from "@eskit/test-kit/expected-output.js";
import {
  assignmentOf,
  expandVariables,
  manualExamples,
  notRunReason,
  shellExamples,
} from "@eskit/test-kit/readme-examples.js";

const services: DescService[] = [EventStoreService, ConsumerService, CrudStoreService, Health];

/** The URLs that the README's examples call, each also as its path (`package.Service/Method`), by tool; only the run ones. */
function calledByTool(): { curl: Set<string>; bufCurl: Set<string> } {
  const curl = new Set<string>();
  const bufCurl = new Set<string>();
  const variables = new Map<string, string>();
  for (const { command } of manualExamples(repoRoot)) {
    const assignment = assignmentOf(command);
    if (assignment !== undefined) variables.set(assignment.name, assignment.value);
    if (assignment !== undefined || notRunReason(command) !== undefined) continue;
    const expanded = expandVariables(command, variables);
    const tool = /^npx buf curl\b/u.test(expanded.trim())
      ? bufCurl
      : /(?:^|\|)\s*curl\s/u.test(expanded)
        ? curl
        : undefined;
    for (const [url] of expanded.matchAll(/https?:\/\/[^\s'"]+/gu)) {
      tool?.add(url);
      tool?.add(url.replace(/^https?:\/\/[^/]+\//u, ""));
    }
  }
  return { curl, bufCurl };
}

describe("README", () => {
  const { curl, bufCurl } = calledByTool();
  const rpcs = services.flatMap((service) => service.methods.map((method) => `${service.typeName}/${method.name}`));

  it("shows every RPC of every service with a curl example that the examples test runs", () => {
    expect(rpcs.filter((rpc) => !curl.has(rpc))).toEqual([]);
  });

  it("shows every RPC of every service with a buf curl example that the examples test runs", () => {
    expect(rpcs.filter((rpc) => !bufCurl.has(rpc))).toEqual([]);
  });

  it("shows the Metrics Consumer's /metrics with curl", () => {
    expect(curl).toContain("http://127.0.0.1:8083/metrics");
  });
});

describe("shellExamples", () => {
  const markdown = [
    "```sh",
    "# a remark at the top of a block",
    "X=http://127.0.0.1:8081/svc",
    "curl -s $X/A \\",
    '  -d \'{"a":[',
    "",
    "    1]}'",
    '# {"ok":true}',
    '#   {"more":1}',
    "make run   # it's a trailing comment",
    "",
    "# a remark after a blank line",
    "echo done",
    "```",
    "```ts",
    "not(a, shell, example);",
    "```",
  ].join("\n");

  it("splits a block into commands across continued lines and line ends inside quotes, with the output under each", () => {
    expect(shellExamples(markdown)).toEqual([
      { line: 3, command: "X=http://127.0.0.1:8081/svc", expected: "" },
      { line: 4, command: "curl -s $X/A \\\n  -d '{\"a\":[\n\n    1]}'", expected: '{"ok":true}\n  {"more":1}' },
      { line: 10, command: "make run   # it's a trailing comment", expected: "" },
      { line: 13, command: "echo done", expected: "" },
    ]);
  });

  it("recognises a variable set on its own and expands it in later commands", () => {
    expect(assignmentOf("X=http://127.0.0.1:8081/svc")).toEqual({ name: "X", value: "http://127.0.0.1:8081/svc" });
    expect(assignmentOf("X=1 node main.ts")).toBeUndefined();
    expect(expandVariables("curl $X/A ${X}/B $Y", new Map([["X", "u"]]))).toBe("curl u/A u/B $Y");
  });

  it("does not run the commands that never end, and runs the rest", () => {
    expect(notRunReason("make run    # all three services")).toBeDefined();
    expect(notRunReason("EVENT_STORE_URL=http://x \\\n  node --import tsx crud-store/src/main.ts")).toBeDefined();
    expect(
      notRunReason("npx buf curl --schema proto \\\n  http://h/eskit.eventstore.v1.EventStoreService/LogsPoll -d '{}'"),
    ).toBeDefined();
    expect(
      notRunReason("npx buf curl --timeout 2s http://h/eskit.eventstore.v1.EventStoreService/LogsPoll"),
    ).toBeUndefined();
    expect(notRunReason("curl -s http://127.0.0.1:8083/metrics")).toBeUndefined();
  });
});

describe("outputMismatch", () => {
  it("compares JSON as values, so compact JSON in the README matches indented output", () => {
    expect(outputMismatch('{\n  "b": [1, 2],\n  "a": "x"\n}\n', '{"a":"x","b":[1,2]}')).toBeUndefined();
    expect(outputMismatch('{"a":"x","b":[1,3]}', '{"a":"x","b":[1,2]}')).toMatch(/value 1\.b\[1\]/u);
    expect(outputMismatch('{"a":"x","c":1}', '{"a":"x"}')).toMatch(/keys/u);
  });

  it("lets ... stand for any value, the members not shown, or any characters inside a string", () => {
    const expected = '{"id":"7","event":{...},"at":"...","list":[...],"msg":"version 2 (...)","e":{"t":"X.Y",...}}';
    const actual =
      '{"id":"7","event":{"p":1},"at":"2026-01-01T00:00:00Z","list":[1,2],"msg":"version 2 (read again)","e":{"t":"X.Y","m":{}}}';
    expect(outputMismatch(actual, expected)).toBeUndefined();
    expect(outputMismatch(actual.replace('"t":"X.Y"', '"t":"X.Z"'), expected)).toMatch(/value 1\.e\.t/u);
    expect(outputMismatch(actual.replace("version 2", "version 3"), expected)).toMatch(/value 1\.msg/u);
  });

  it("compares a sequence of JSON values, as a stream ended by an error prints", () => {
    const expected = '{"entries":[...]}\n{"code":"deadline_exceeded","message":"..."}';
    expect(
      outputMismatch('{"entries":[1]}\n{\n   "code": "deadline_exceeded",\n   "message": "timed out"\n}', expected),
    ).toBeUndefined();
    expect(outputMismatch('{"entries":[1]}', expected)).toMatch(/1 JSON value\(s\) printed, 2 shown/u);
    expect(showsError(expected)).toBe(true);
    expect(showsError('{"entries":[...]}')).toBe(false);
  });

  it("compares other output as text, line by line, with ... matching anything", () => {
    const metrics = 'eskit_x{entity_type="a"} 1\neskit_lag{consumer_id="m"} 0  \n';
    expect(outputMismatch(metrics, 'eskit_x{entity_type="a"} 1\neskit_lag{consumer_id="m"} 0')).toBeUndefined();
    expect(outputMismatch(metrics, 'eskit_x{entity_type="a"} 2\neskit_lag{consumer_id="m"} 0')).toBe(
      "the text differs",
    );
    expect(outputMismatch(metrics, "eskit_x...\neskit_lag...")).toBeUndefined();
  });

  it("expects no output where the README shows none", () => {
    expect(outputMismatch("", "")).toBeUndefined();
    expect(outputMismatch("{}\n", "")).toBe("the text differs");
  });
});
