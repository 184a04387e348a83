import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveCookieOptions, serializeCookie } from "./cookie.js";

describe("cookie", () => {
  it("is off by default and uses engine.io's defaults when on", () => {
    assert.equal(resolveCookieOptions(undefined), false);
    assert.equal(resolveCookieOptions(false), false);
    const options = resolveCookieOptions(true);
    assert.ok(options);
    assert.equal(serializeCookie("abc", options), "io=abc; Path=/; HttpOnly; SameSite=Lax");
  });

  it("serializes every attribute and encodes the value", () => {
    const options = resolveCookieOptions({
      name: "sid",
      path: "/x",
      httpOnly: false,
      sameSite: "strict",
      secure: true,
      maxAge: 90.5,
    });
    assert.ok(options);
    assert.equal(
      serializeCookie("a b", options),
      "sid=a%20b; Max-Age=90; Path=/x; Secure; SameSite=Strict",
    );
  });
});
