import { expect, Page, test } from "@playwright/test";
import { signedInPage } from "./helpers";

/** Nothing on the page scrolls sideways, and every per-category table shows all its cells
 * inside the window: cards on a phone, a table on a desktop, no column hidden or cut off. */
async function figuresFit(page: Page, width: number) {
  const pageWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(pageWidth, "the page does not scroll sideways").toBeLessThanOrEqual(width);
  const tables = page.locator("table.category-figures");
  expect(await tables.count()).toBeGreaterThan(0);
  for (const table of await tables.all()) {
    const cells = table.locator("tbody td");
    const n = await cells.count();
    expect(n % 8, "eight figures a row").toBe(0);
    for (let i = 0; i < n; i++) {
      const cell = cells.nth(i);
      await expect(cell).toBeVisible();
      const box = (await cell.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width, "cell inside the window").toBeLessThanOrEqual(width + 0.5);
    }
  }
  // The trend's labels stay readable however narrow the chart is (at least 0.75rem).
  const sizes = await page
    .locator(".trend-scale span, .trend-weeks span")
    .evaluateAll((els) => els.map((e) => parseFloat(getComputedStyle(e).fontSize)));
  expect(sizes.length).toBeGreaterThan(0);
  for (const size of sizes) expect(size).toBeGreaterThanOrEqual(12);
}

for (const width of [360, 1280]) {
  test(`the figures fit ${width} px wide on /accountability and /staff/metrics`, async ({ browser }) => {
    const sam = await signedInPage(browser, "sam");
    await sam.setViewportSize({ width, height: 900 });
    for (const path of ["/accountability", "/staff/metrics"]) {
      await sam.goto(path);
      await expect(sam.locator("dl.headline-figures").first()).toBeVisible();
      await expect(sam.getByRole("img", { name: "Time to first staff reply over the last 12 weeks" })).toBeVisible();
      await figuresFit(sam, width);
    }
    if (width === 360) {
      // On a phone each category is a card that names every figure.
      await sam.goto("/accountability");
      const card = sam.locator("table.category-figures tbody tr").first();
      const display = await card.evaluate((e) => getComputedStyle(e).display);
      expect(display).toBe("block");
    } else {
      // On a desktop the column headings show.
      await sam.goto("/accountability");
      await expect(sam.locator("table.category-figures thead th", { hasText: "Resolutions confirmed" })).toBeVisible();
    }
    // The week-by-week numbers open without JavaScript (a <details>): twelve weeks.
    await sam.getByText("The numbers, week by week").click();
    await expect(sam.locator("table.trend-table tbody tr")).toHaveCount(12);
  });
}
