import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SessionEmitter } from "./session-emitter.js";

interface Events {
  data: [value: number];
  end: [];
}

class Probe extends SessionEmitter<Events> {
  has(event: keyof Events): boolean {
    return this.hasListeners(event);
  }
}

describe("SessionEmitter", () => {
  it("calls listeners in order with the arguments, and reports whether any ran", () => {
    const emitter = new Probe();
    const seen: string[] = [];
    assert.equal(emitter.emit("data", 1), false);
    emitter.on("data", (v) => seen.push(`a${v}`)).on("data", (v) => seen.push(`b${v}`));
    assert.equal(emitter.emit("data", 2), true);
    assert.deepEqual(seen, ["a2", "b2"]);
    assert.equal(emitter.listenerCount("data"), 2);
    assert.equal(emitter.listenerCount("end"), 0);
  });

  it("runs a once listener a single time, and off() removes it by its original function", () => {
    const emitter = new Probe();
    let count = 0;
    const listener = (): void => {
      count++;
    };
    emitter.once("end", listener);
    assert.deepEqual(emitter.listeners("end"), [listener]);
    emitter.emit("end");
    emitter.emit("end");
    assert.equal(count, 1);
    emitter.once("end", listener).off("end", listener);
    emitter.emit("end");
    assert.equal(count, 1);
    assert.equal(emitter.has("end"), false);
  });

  it("is safe against listeners removed while emitting", () => {
    const emitter = new Probe();
    const seen: string[] = [];
    const second = (): void => {
      seen.push("second");
    };
    emitter.on("end", () => {
      seen.push("first");
      emitter.off("end", second);
    });
    emitter.on("end", second);
    emitter.emit("end");
    emitter.emit("end");
    assert.deepEqual(seen, ["first", "second", "first"]);
  });

  it("removes all listeners of one event or of every event", () => {
    const emitter = new Probe();
    emitter.on("data", () => {}).on("end", () => {});
    emitter.removeAllListeners("data");
    assert.equal(emitter.has("data"), false);
    assert.equal(emitter.has("end"), true);
    emitter.removeAllListeners();
    assert.equal(emitter.listenerCount("end"), 0);
  });
});
