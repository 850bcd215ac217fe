import { describe, expect, it } from "vitest";
import { parseExposition, sampleValue } from "./exposition.js";

describe("parseExposition", () => {
  it("reads names, escaped label values and special values, skipping comments", () => {
    const samples = parseExposition(
      [
        "# HELP a_total A.",
        "# TYPE a_total counter",
        'a_total{method="Get",note="say \\"hi\\"\\nthere"} 3',
        "b 1.5e3",
        'c_bucket{le="+Inf"} +Inf 1700000000000',
        "d Nan",
        "",
      ].join("\n"),
    );
    expect(samples).toEqual([
      { name: "a_total", labels: { method: "Get", note: 'say "hi"\nthere' }, value: 3 },
      { name: "b", labels: {}, value: 1500 },
      { name: "c_bucket", labels: { le: "+Inf" }, value: Infinity },
      { name: "d", labels: {}, value: NaN },
    ]);
    expect(sampleValue(samples, "a_total", { method: "Get" })).toBeUndefined();
    expect(sampleValue(samples, "b")).toBe(1500);
  });

  it("throws on a line that is not a sample", () => {
    expect(() => parseExposition("not a sample line at all\n")).toThrow(/not a sample/);
  });
});
