import { test, expect, Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { jsOn, logIn } from "./helpers";

// The server's own list of its server functions: every write the site has.
const binary = process.env.BACKYARD_BIN ?? path.resolve(__dirname, "../../target/debug/backyard");
const writes = execFileSync(binary, ["server-functions"], { encoding: "utf8" })
  .trim()
  .split("\n")
  .map((line) => line.split(" "));

// Server functions that only read, asked for with GET as the islands do.
const READS_BY_GET = ["/api/similar_topics"];

// The tests' site is http://127.0.0.1:PORT; http://localhost:PORT is another site to the browser
// (a different host), so a page there is a cross-site attacker. Playwright serves its page.
const attacker = (base: string) => base.replace("127.0.0.1", "localhost") + "/attack";

async function attackPage(page: Page, base: string, body: string) {
  await page.route(attacker(base), (route) =>
    route.fulfill({ contentType: "text/html", body: `<!doctype html><title>Win a prize</title>${body}` }),
  );
  await page.goto(attacker(base));
}

test("every write posted from another site is refused, signed in or not", async ({ page, baseURL }, info) => {
  test.setTimeout(120_000);
  expect(writes.length).toBeGreaterThan(40);
  await logIn(page, "casey");
  const topicUrl = `${baseURL}/t/1/x`;
  await page.goto(topicUrl);
  const repliesBefore = await page.locator("article.post").count();

  for (const [method, fnPath] of writes) {
    // Every server function is a POST but these reads, which write nothing (a GET is never
    // checked for its origin, so a write must never be one).
    if (READS_BY_GET.includes(fnPath)) {
      expect(method).toBe("GET");
      continue;
    }
    expect(method, fnPath).toBe("POST");
    await attackPage(
      page,
      baseURL!,
      `<form method="post" action="${baseURL}${fnPath}">
         <input name="topic_id" value="1"><input name="body" value="Free prizes at evil.example">
         <input name="title" value="Hijacked"><input name="category" value="questions">
         <input name="form_token" value="${"a".repeat(64)}"><input name="post_id" value="1">
         <input name="reason" value="spam"><input name="status" value="resolved">
         <button>Claim</button></form>`,
    );
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(fnPath)),
      page.getByRole("button", { name: "Claim" }).click(),
    ]);
    expect(response.status(), fnPath).toBe(403);
    expect(await response.text()).toBe("Cross-site requests are not allowed.");
  }

  // Nothing happened: still signed in (log_out was among them), no reply was added.
  await page.goto(topicUrl);
  await expect(page.getByText("Signed in as")).toBeVisible();
  expect(await page.locator("article.post").count()).toBe(repliesBefore);
  await expect(page.getByText("Free prizes at evil.example")).toHaveCount(0);
});

test("a script on another site cannot write either", async ({ page, baseURL }, info) => {
  test.skip(!jsOn(info), "needs JavaScript on the attacking page");
  await logIn(page, "casey");
  await attackPage(
    page,
    baseURL!,
    `<script>
       // Refused by the server, or blocked by the browser itself: either way nothing is written.
       const send = (path, body) => fetch("${baseURL}" + path, { method: "POST", mode: "no-cors",
         credentials: "include", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body })
         .then(() => "sent", () => "blocked");
       window.results = Promise.all([send("/api/log_out", ""),
         send("/api/reply", "topic_id=1&body=Scripted+spam+from+evil")]).then(() => "done");
     </script>`,
  );
  expect(await page.evaluate(() => (window as any).results)).toBe("done");
  await page.goto(`${baseURL}/t/1/x`);
  await expect(page.getByText("Signed in as")).toBeVisible();
  await expect(page.getByText("Scripted spam from evil")).toHaveCount(0);
});

test("pages hydrate under the Content-Security-Policy with no violations", async ({ page }, info) => {
  test.skip(!jsOn(info), "hydration needs JavaScript");
  const problems: string[] = [];
  page.on("console", (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(e.message));
  // Visitors' content pages come from the shared page cache and allow their scripts by hash;
  // the others by the render's nonce.
  for (const [url, allowedBy] of [["/", "'sha256-"], ["/login", "'nonce-"], ["/t/1/x", "'sha256-"],
                                  ["/blog", "'sha256-"], ["/signup", "'nonce-"]]) {
    const res = await page.goto(url);
    const csp = res!.headers()["content-security-policy"];
    expect(csp, url).toContain(allowedBy);
    expect(csp).not.toContain("unsafe-inline");
    expect(res!.headers()["x-content-type-options"]).toBe("nosniff");
  }
  // Islands hydrate under both (data-ready flips to true only in the wasm): the reply composer
  // on a shared topic page (served from the cache now: it was just visited), on a member's page
  // kept for members like them (by hash: the first visit renders and keeps it, unless a write
  // of an earlier test's background work lands between), and on a member's page rendered for
  // them alone (a quote in the address: nonce).
  const shared = await page.goto("/t/1/x");
  expect(shared!.headers()["content-security-policy"]).toContain("'sha256-");
  await expect(page.locator("form[data-ready='true']").first()).toBeVisible();
  // logIn waits for the log-in to land: navigating at once would abort it and leave no reply form.
  await logIn(page, "casey");
  let kept = await page.goto("/t/1/x");
  for (let i = 0; i < 5 && !kept!.headers()["content-security-policy"].includes("'sha256-"); i++) {
    kept = await page.goto("/t/1/x");
  }
  expect(kept!.headers()["content-security-policy"]).toContain("'sha256-");
  await expect(page.getByText("Signed in as")).toBeVisible();
  await expect(page.locator("form[data-ready='true']").first()).toBeVisible();
  // At the topic's own address: a wrong slug is redirected to it, without the quote.
  const own = await page.goto(`${new URL(page.url()).pathname}?quote=1`);
  expect(own!.headers()["content-security-policy"]).toContain("'nonce-");
  await expect(page.locator("form[data-ready='true']").first()).toBeVisible();
  expect(problems).toEqual([]);
});

test("a cross-site frame is refused", async ({ page, baseURL }) => {
  const res = await page.request.get(`${baseURL}/`);
  expect(res.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(res.headers()["x-frame-options"]).toBe("DENY");
});
