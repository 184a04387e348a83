import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { randomId } from "../engine/index.js";
import { pidFromTail, pidSocketId, pidTail, sessionPid } from "./session-pid.js";

describe("recovery pids", () => {
  it("start with the socket id, which a pid gives back, and keep the random part apart", () => {
    const id = randomId();
    const tail = randomId();
    const pid = sessionPid(id, tail);
    assert.equal(pid.length, 40);
    assert.match(pid, /^[A-Za-z0-9_-]+$/, "a NATS subject token and a Redis key part");
    assert.equal(pidSocketId(pid), id);
    assert.equal(pidTail(id, pid), tail);
    assert.equal(pidFromTail(id, tail), pid);
  });

  it("keep a pid of another form whole, and name no socket for it", () => {
    const legacy = randomId(); // an older version's pid: 20 random characters
    assert.equal(pidSocketId(legacy), undefined);
    const id = randomId();
    assert.equal(pidTail(id, legacy), `.${legacy}`);
    assert.equal(pidFromTail(id, pidTail(id, legacy)), legacy);
    assert.equal(pidSocketId(""), undefined);
  });
});
