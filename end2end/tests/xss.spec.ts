import { expect, test } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { logIn } from "./helpers";

// A public XSS corpus from well-known projects' test suites, installed from the package
// registries by scripts/test.sh (never committed): Yahoo's xss-filters fuzz seed (OWASP XSS
// filter-evasion vectors, npm), wfuzz's XSS injection list (Debian) and bleach's sanitiser
// test vectors (PyPI).
function corpus(): string[] {
  const root = path.resolve(__dirname, "..");
  const lines = (file: string) =>
    fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n") : [];
  const bleachDir = path.join(root, "../target/xss-corpus/bleach");
  const bleach = fs.existsSync(bleachDir)
    ? fs.readdirSync(bleachDir).map((f) => fs.readFileSync(path.join(bleachDir, f), "utf8"))
    : [];
  const all = [
    ...lines(path.join(root, "node_modules/xss-filters/tests/fuzz/bin/seed.xss")),
    ...lines(path.join(root, "../target/xss-corpus/wfuzz-XSS.txt")),
    ...bleach,
  ];
  return [...new Set(all.map((p) => p.trim()).filter((p) => p.length > 0))];
}

const PLANTED = "http://planted.invalid";
// Our own canaries beside the corpus: if any of these ran, the browser would ask for this URL.
const CANARIES = [
  `<script src="${PLANTED}/s.js"></script>`,
  `<img src=x onerror="fetch('${PLANTED}/img')">`,
  `<a href="javascript:fetch('${PLANTED}/a')">click</a>`,
  `<svg onload="fetch('${PLANTED}/svg')"></svg>`,
  `<iframe src="${PLANTED}/frame"></iframe>`,
  `[md](javascript:fetch('${PLANTED}/md'))`,
];

function token(): string {
  return Array.from({ length: 64 }, () => "0123456789abcdef"[Math.floor(Math.random() * 16)]).join("");
}

test("no payload of a public XSS corpus runs or survives, raw or inside Markdown", async ({ page, baseURL }, info) => {
  test.skip(info.project.name !== "js", "scripts can only run, and be caught running, with JavaScript on");
  test.setTimeout(300_000);
  const payloads = corpus();
  expect(payloads.length, "the corpus from scripts/test.sh (run it once)").toBeGreaterThanOrEqual(200);

  await logIn(page, "sam");
  const start = await page.request.post("/api/start_topic", {
    form: { category: "questions", title: `XSS corpus ${Date.now()}`, body: "Every payload below is a reply.", form_token: token() },
    headers: { Accept: "application/json", Origin: new URL(baseURL!).origin }, // as the site's own script
  });
  expect(start.status()).toBe(200);
  // The redirect to the new topic is in the response header for script clients.
  await page.goto("/c/questions");
  await page.getByRole("link", { name: /XSS corpus/ }).first().click();
  const topicUrl = page.url().split("#")[0].split("?")[0];
  const topicId = topicUrl.match(/\/t\/(\d+)\//)![1];

  // Every payload twice: as raw HTML, and inside Markdown constructs.
  const bodies = [...CANARIES];
  for (const p of payloads) {
    bodies.push(p);
    bodies.push(`## ${p}\n\n> ${p}\n\n- *${p}*\n\n[link](${p}) **${p}**`);
  }
  // A payload the cleaner leaves nothing of (a bare <script>) is refused as empty, and written
  // nowhere; every other one is posted.
  let posted = 0;
  let empty = 0;
  for (const body of bodies) {
    const res = await page.request.post("/api/reply", {
      form: { topic_id: topicId, body, form_token: token() },
      headers: { Accept: "application/json", Origin: new URL(baseURL!).origin }, // as the site's own script
    });
    if (res.status() === 400) {
      expect(await res.text(), body.slice(0, 80)).toContain("Write something before posting.");
      empty += 1;
    } else {
      expect(res.status(), body.slice(0, 80)).toBe(200);
      posted += 1;
    }
  }
  expect(posted, "most payloads leave something to show").toBeGreaterThan(bodies.length / 2);

  const dialogs: string[] = [];
  const markers: string[] = [];
  const outbound: string[] = [];
  page.on("dialog", async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  page.on("console", (m) => {
    if (/xss/i.test(m.text())) markers.push(m.text());
  });
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith("http://127.0.0.1") || url.startsWith("http://localhost")) return route.continue();
    outbound.push(`${route.request().resourceType()} ${url}`);
    return route.abort();
  });

  const pages = Math.ceil((posted + 1) / 30);
  let seen = 0;
  for (let n = 1; n <= pages; n++) {
    await page.goto(n === 1 ? topicUrl : `${topicUrl}?page=${n}`);
    await page.waitForLoadState("networkidle");
    // The payloads really are on the page, as posts (not dropped, not an error page).
    seen += await page.locator("article.post .post-body").count();
    // Give anything that would run on a timer or an event a moment.
    await page.mouse.move(200, 300);
    await page.waitForTimeout(150);
    const bad = await page.evaluate(() => {
      const found: string[] = [];
      for (const el of Array.from(document.querySelectorAll("*"))) {
        for (const attr of Array.from(el.attributes)) {
          const name = attr.name.toLowerCase();
          const value = attr.value.replace(/[\u0000-\u0020]/g, "").toLowerCase();
          if (name.startsWith("on")) found.push(`${el.tagName} ${name}`);
          if (/^(javascript|vbscript|livescript):/.test(value) || value.startsWith("data:text/html")) {
            found.push(`${el.tagName} ${name}=${attr.value.slice(0, 60)}`);
          }
        }
        const tag = el.tagName.toLowerCase();
        if (["iframe", "object", "embed", "frame", "frameset", "applet", "base", "meta"].includes(tag) && el.closest(".post-body")) {
          found.push(`<${tag}> in a post`);
        }
        if (tag === "script" && el.closest(".post-body")) found.push("<script> in a post");
      }
      return found;
    });
    expect(bad, `page ${n}`).toEqual([]);
  }
  expect(seen, "every post was rendered").toBe(posted + 1);
  expect(dialogs, "no alert, confirm or prompt ran").toEqual([]);
  expect(markers, "no console marker").toEqual([]);
  expect(outbound.filter((r) => r.includes("planted.invalid")), "no request to the planted URL").toEqual([]);
  // Web images are allowed in posts; anything else leaving the site would be a payload at work.
  expect(outbound.filter((r) => !r.startsWith("image ")), "no script, frame or fetch to another host").toEqual([]);
  console.log(`XSS corpus: ${payloads.length} payloads, ${posted} posts (${empty} refused as empty), ${pages} pages checked`);
});
