import { expect, test } from "@playwright/test";
import { formReady } from "./helpers";

test("the home page lists the demo categories", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1, name: "Community" })).toBeVisible();
  for (const name of ["Product feedback", "Questions", "Bug reports", "Praise"]) {
    await expect(page.getByRole("heading", { name })).toBeVisible();
  }
});

test("unknown pages get a 404 page", async ({ page }) => {
  const res = await page.goto("/definitely/not/here");
  expect(res?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});

test("pages load and hydrate without console errors", async ({ page }, info) => {
  test.skip(info.project.name !== "js", "console errors come from scripts");
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  const withForms = ["/signup", "/login", "/new-topic", "/t/1/export-to-csv-would-save-me-an-hour-a-week"];
  for (const path of ["/", "/c/questions", "/u/casey", ...withForms]) {
    await page.goto(path);
    await page.waitForLoadState("networkidle");
    if (withForms.includes(path)) await formReady(page, info);
  }
  expect(problems).toEqual([]);
});

// scripts/leptos_end2end.sh (`cargo leptos end-to-end`) runs the suite on cargo-leptos's build,
// which keeps the names pkg/backyard.{js,wasm,css} across builds: the server serves those
// no-cache (server/src/lib.rs, pkg_files), so a browser asks again and gets a 304 when they are
// unchanged, instead of running an old bundle after a rebuild.
const cargoLeptosBuild = process.env.LEPTOS_OUTPUT_NAME !== undefined;

test("a returning reader's browser keeps the bundle and stylesheets: the next page asks for none of them", async ({ page }, info) => {
  test.skip(cargoLeptosBuild, "cargo-leptos's bundle has no content hash in its names (the next test)");
  // The network as Chromium sees it: a file taken from its memory or disk cache is marked so;
  // any other answer (a 200 or a revalidation's 304) went to the server.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  let fetched: string[] = [];
  const cached = new Set<string>();
  cdp.on("Network.requestServedFromCache", (e) => cached.add(e.requestId));
  cdp.on("Network.responseReceived", (e) => {
    const url = new URL(e.response.url);
    const asset = url.pathname.startsWith("/pkg/") || url.pathname === "/theme.css";
    if (asset && !e.response.fromDiskCache && !cached.has(e.requestId)) fetched.push(`${url.pathname} ${e.response.status}`);
  });

  await page.goto("/");
  await page.waitForLoadState("networkidle");
  const first = fetched;
  expect(first.some((f) => /^\/pkg\/backyard\.[0-9a-f]{16}\.css 200$/.test(f)), first.join(", ")).toBe(true);
  expect(first, "the category colours").toContain("/theme.css 200");
  if (info.project.name === "js") {
    expect(first.some((f) => /^\/pkg\/backyard\.[0-9a-f]{16}_bg\.wasm 200$/.test(f)), first.join(", ")).toBe(true);
  }

  fetched = [];
  await page.goto("/c/questions");
  await page.waitForLoadState("networkidle");
  expect(fetched).toEqual([]);
});

test("under cargo-leptos the next page asks for the bundle again, so it never runs a stale one", async ({ page }, info) => {
  test.skip(!cargoLeptosBuild, "only cargo-leptos's build names its bundle without a content hash");
  // As in the test above: what went to the server, as Chromium sees it.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  let fetched: string[] = [];
  const cached = new Set<string>();
  cdp.on("Network.requestServedFromCache", (e) => cached.add(e.requestId));
  cdp.on("Network.responseReceived", (e) => {
    const url = new URL(e.response.url);
    if (url.pathname.startsWith("/pkg/") && !e.response.fromDiskCache && !cached.has(e.requestId)) {
      fetched.push(`${url.pathname} ${e.response.status}`);
    }
  });

  await page.goto("/");
  await page.waitForLoadState("networkidle");
  expect(fetched, fetched.join(", ")).toContain("/pkg/backyard.css 200");
  if (info.project.name === "js") expect(fetched, fetched.join(", ")).toContain("/pkg/backyard.wasm 200");
  const paths = (list: string[]) => list.map((f) => f.split(" ")[0]).sort();
  const first = paths(fetched);

  fetched = [];
  await page.goto("/c/questions");
  await page.waitForLoadState("networkidle");
  // Every file is asked for again; the stylesheet and script come back "unchanged". The debug
  // build's 4 MB wasm came back whole (200) in Chromium here: it did not keep it for the page's
  // context. Either answer is the server's current file.
  expect(paths(fetched), fetched.join(", ")).toEqual(first);
  expect(fetched).toContain("/pkg/backyard.css 304");
  if (info.project.name === "js") expect(fetched).toContain("/pkg/backyard.js 304");
});
