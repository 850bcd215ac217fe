import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LogBuffer } from "./log-buffer.js";

describe("LogBuffer", () => {
  it("holds exactly the newest capacity items, oldest first, and counts the ones it forgot", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.oneof(fc.integer(), fc.constant("clear" as const)), { maxLength: 200 }),
        (capacity, operations) => {
          const buffer = new LogBuffer<number>(capacity);
          // The model: every item since the last clear.
          let model: number[] = [];
          for (const operation of operations) {
            if (operation === "clear") {
              buffer.clear();
              model = [];
            } else {
              buffer.push(operation);
              model.push(operation);
            }
            const kept = model.slice(-capacity);
            expect(buffer.size).toBe(kept.length);
            expect(buffer.dropped).toBe(model.length - kept.length);
            expect(Array.from({ length: buffer.size }, (_, i) => buffer.at(i))).toEqual(kept);
            expect(buffer.last()).toBe(kept.at(-1));
          }
        },
      ),
    );
  });

  it("answers undefined outside what it holds", () => {
    const buffer = new LogBuffer<string>(2);
    buffer.push("a");
    expect([buffer.at(-1), buffer.at(1), buffer.at(0.5)]).toEqual([undefined, undefined, undefined]);
  });

  it("refuses a capacity that is not a positive integer", () => {
    expect(() => new LogBuffer(0)).toThrow(RangeError);
    expect(() => new LogBuffer(1.5)).toThrow(RangeError);
  });
});
