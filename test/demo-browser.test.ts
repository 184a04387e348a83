// The chat demo in a real headless Chromium: two pages chat, the server restarts, both pages
// reconnect by themselves and the conversation goes on with nothing lost. Screenshots land
// in test-output/.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import { startDemo } from "../src/cli/demo.js";

const CHROMIUM = "/usr/bin/chromium";
// In CI a missing browser is a failure, not a skip (.ci/run installs it).
const skip = !existsSync(CHROMIUM) && process.env.CI !== "true" ? "no /usr/bin/chromium" : false;
const OUT = new URL("../test-output/", import.meta.url);

describe("chat demo in Chromium", { skip }, () => {
  let browser: Browser;
  let demo: Awaited<ReturnType<typeof startDemo>>;

  before(async () => {
    demo = await startDemo(0);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
      ],
    });
    mkdirSync(OUT, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await demo?.io.close();
  });

  async function openPage(name: string): Promise<Page> {
    const page = await browser.newPage();
    await page.addInitScript((n) => localStorage.setItem("sb-name", n), name);
    await page.goto(`http://127.0.0.1:${demo.port}/`);
    await page.waitForSelector("#status.online", { timeout: 10_000 });
    return page;
  }

  async function say(page: Page, text: string): Promise<void> {
    await page.fill("#text", text);
    await page.press("#text", "Enter");
  }

  async function waitForMessage(page: Page, text: string): Promise<void> {
    try {
      await page.waitForFunction(
        (t) =>
          [...document.querySelectorAll("#messages li.chat")].some((li) =>
            li.textContent?.includes(t),
          ),
        text,
        { timeout: 10_000 },
      );
    } catch (err) {
      const lines = await page.$$eval("#messages li", (items) => items.map((li) => li.textContent));
      const status = await page.$eval("#status", (e) => e.textContent);
      throw new Error(
        `"${text}" never showed (status ${status}); page has ${JSON.stringify(lines)}`,
        { cause: err },
      );
    }
  }

  const chatLines = (page: Page) =>
    page.$$eval("#messages li.chat", (items) => items.map((li) => li.textContent ?? ""));

  test("two pages chat, survive a server restart, and lose nothing", async () => {
    const alice = await openPage("alice");
    const bob = await openPage("bob");
    await say(alice, "hello from alice");
    await waitForMessage(bob, "hello from alice");
    await say(bob, "hi alice");
    await waitForMessage(alice, "hi alice");

    // Restart the server on the same port; the pages see it go and come back by themselves.
    const port = demo.port;
    await demo.io.close();
    await alice.waitForSelector("#status:not(.online)", { timeout: 10_000 });
    await bob.waitForSelector("#status:not(.online)", { timeout: 10_000 });
    await say(alice, "sent while the server was down"); // buffered by the client
    demo = await startDemo(port);
    await alice.waitForSelector("#status.online", { timeout: 15_000 });
    await bob.waitForSelector("#status.online", { timeout: 15_000 });
    await waitForMessage(bob, "sent while the server was down");
    await say(bob, "welcome back");
    await waitForMessage(alice, "welcome back");

    const expected = [
      "hello from alice",
      "hi alice",
      "sent while the server was down",
      "welcome back",
    ];
    for (const page of [alice, bob]) {
      const lines = await chatLines(page);
      const seen = expected.map((t) => lines.filter((l) => l.includes(t)).length);
      assert.deepEqual(
        seen,
        [1, 1, 1, 1],
        `each message exactly once on ${page.url()}: ${JSON.stringify(lines)}`,
      );
    }
    await alice.screenshot({ path: new URL("demo-alice.png", OUT).pathname });
    await bob.screenshot({ path: new URL("demo-bob.png", OUT).pathname });
  });
});
