import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { matchesPath, normalizePath, parseQuery } from "./handshake.js";

describe("parseQuery", () => {
  const rows = [
    { url: "/engine.io/?EIO=4&transport=polling", EIO: "4", transport: "polling", sid: undefined },
    { url: "/e/?EIO=4&transport=websocket&sid=abc", EIO: "4", transport: "websocket", sid: "abc" },
    { url: "/e/?sid=&EIO=3", EIO: "3", transport: undefined, sid: undefined },
    { url: "/e/", EIO: undefined, transport: undefined, sid: undefined },
    { url: "/e/?%%%=&&&EIO=%34", EIO: "4", transport: undefined, sid: undefined },
    { url: "/e/?EIO=4&EIO=3&transport&sid=a=b", EIO: "4", transport: "", sid: "a=b" },
    { url: "/e/?sid=x+y&EIO=4", EIO: "4", transport: undefined, sid: "x y" },
    { url: "/e/?", EIO: undefined, transport: undefined, sid: undefined },
    { url: "/e/?=4&&EIO=&transport=polling", EIO: "", transport: "polling", sid: undefined },
  ];
  for (const row of rows) {
    it(`reads ${row.url}`, () => {
      assert.deepEqual(parseQuery(row.url), {
        EIO: row.EIO,
        transport: row.transport,
        sid: row.sid,
      });
    });
  }
  it("reads plain queries as URLSearchParams does", () => {
    for (const query of ["EIO=4&sid=&sid=b", "a=1&EIO=4&transport=websocket&t=x", "EIO", "&&"]) {
      const params = new URLSearchParams(query);
      assert.deepEqual(parseQuery(`/e/?${query}`), {
        EIO: params.get("EIO") ?? undefined,
        transport: params.get("transport") ?? undefined,
        sid: params.get("sid") || undefined,
      });
    }
  });
  it("never throws on undefined", () => {
    assert.deepEqual(parseQuery(undefined), {
      EIO: undefined,
      transport: undefined,
      sid: undefined,
    });
  });
});

describe("matchesPath", () => {
  it("matches the path with or without trailing slash, and nothing longer", () => {
    const path = normalizePath("/socket.io/");
    assert.equal(path, "/socket.io");
    assert.equal(matchesPath("/socket.io/?EIO=4", path), true);
    assert.equal(matchesPath("/socket.io?EIO=4", path), true);
    assert.equal(matchesPath("/socket.io", path), true);
    assert.equal(matchesPath("/socket.io.js", path), false);
    assert.equal(matchesPath("/socket.io/x", path), false);
    assert.equal(matchesPath("/other/?EIO=4", path), false);
    assert.equal(matchesPath(undefined, path), false);
    assert.equal(matchesPath("/socket.io//", path), false);
    assert.equal(matchesPath("/socket.io//?EIO=4", path), false);
    assert.equal(matchesPath("/socket.i", path), false);
    assert.equal(matchesPath("/socket.io/", path), true);
    assert.equal(matchesPath("/socket.io/?", path), true);
    assert.equal(normalizePath("/"), "/");
    assert.equal(matchesPath("/?EIO=4", "/"), true);
    assert.equal(matchesPath("//?EIO=4", "/"), true);
    assert.equal(matchesPath("/x?EIO=4", "/"), false);
  });
});

describe("parseQuery on long queries", () => {
  it("reads many parameters, with and without values, as URLSearchParams does", () => {
    const query = `${"a&".repeat(500)}b=1&${"c=2&d&".repeat(200)}EIO=4&sid=x=y&transport=websocket&EIO=3`;
    const params = new URLSearchParams(query);
    assert.deepEqual(parseQuery(`/e/?${query}`), {
      EIO: params.get("EIO") ?? undefined,
      transport: params.get("transport") ?? undefined,
      sid: params.get("sid") || undefined,
    });
    assert.deepEqual(parseQuery("/e/?transport=pollingX&EIO=4"), {
      EIO: "4",
      transport: "pollingX",
      sid: undefined,
    });
  });
});

describe("parseQuery's table of engine-only URLs", () => {
  it("parses an engine-only URL once: later calls return the same frozen result", () => {
    const url = "/cached/?EIO=4&transport=websocket&sb_connect=/chat";
    const first = parseQuery(url);
    assert.deepEqual(first, { EIO: "4", transport: "websocket", sid: undefined });
    assert.equal(Object.isFrozen(first), true);
    assert.equal(parseQuery(`${url}`), first);
    assert.equal(
      parseQuery(["/cached/?EIO=4", "transport=websocket", "sb_connect=/chat"].join("&")),
      first,
    );
  });

  it("parses URLs with a session id, a token or a cache buster every time", () => {
    for (const url of [
      "/u/?EIO=4&transport=polling&sid=abc",
      "/u/?EIO=4&transport=polling&t=PqR1",
      "/u/?EIO=4&transport=websocket&token=x",
      "/u/?EIO=4&transport=websocket&sb_connect=/a%20b",
    ]) {
      const first = parseQuery(url);
      assert.notEqual(parseQuery(url), first, url);
      assert.deepEqual(parseQuery(url), first, url);
    }
  });

  it("keeps at most 16 URLs", () => {
    const urls = Array.from({ length: 40 }, (_, i) => `/bounded${i}/?EIO=4&transport=polling`);
    const first = urls.map((url) => parseQuery(url));
    const kept = urls.filter((url, i) => parseQuery(url) === first[i]).length;
    assert.ok(kept >= 1 && kept <= 16, `${kept} kept`);
  });
});
