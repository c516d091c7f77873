// A returning reader on a phone network, in Chromium: opens the home page (a fresh cache),
// then goes to a category page, and reports for that second page how many requests went to the
// server and when it was first painted and loaded. Network: Chrome's "Fast 3G" (150 ms added
// round trip, 1.6 Mbit/s down, 750 kbit/s up). Medians over the runs.
// usage: node bench/returning.cjs BASE_URL [RUNS]
const path = require("path");
const { chromium } = require(path.join(__dirname, "../end2end/node_modules/@playwright/test"));

const base = process.argv[2];
const runs = Number(process.argv[3] ?? 15);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

(async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const rows = { requests: [], fcp: [], load: [] };
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false, latency: 150, downloadThroughput: 200_000, uploadThroughput: 93_750,
    });
    await page.goto(`${base}/`, { waitUntil: "networkidle" });

    let requests = 0;
    const cached = new Set();
    cdp.on("Network.requestServedFromCache", (e) => cached.add(e.requestId));
    cdp.on("Network.responseReceived", (e) => {
      if (!e.response.fromDiskCache && !cached.has(e.requestId)) requests += 1;
    });
    await page.goto(`${base}/c/questions`, { waitUntil: "networkidle" });
    const t = await page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      const fcp = performance.getEntriesByName("first-contentful-paint")[0];
      return { fcp: fcp ? fcp.startTime : NaN, load: nav.loadEventEnd };
    });
    rows.requests.push(requests);
    rows.fcp.push(t.fcp);
    rows.load.push(t.load);
    await context.close();
  }
  await browser.close();
  console.log(`next page, ${runs} runs (medians): ${median(rows.requests)} requests to the server, ` +
    `first paint ${median(rows.fcp).toFixed(0)} ms, loaded ${median(rows.load).toFixed(0)} ms`);
})();
