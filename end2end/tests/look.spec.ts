import { expect, test, type Page } from "@playwright/test";
import { axe, logIn } from "./helpers";

// The site's look, held still: screenshots of the main pages at a desktop and a phone width, in
// light and dark, compared with the committed baselines (tests/look.spec.ts-snapshots/), so an
// accidental layout break fails the test command; and axe-core's WCAG 2.1 A and AA rules on
// every one of them, also with the browser's text size doubled. This file runs in its own
// project before the others (playwright.config.ts): on the demo site as it starts, so the
// pages hold the same content on every run. Update the baselines after a deliberate change
// with `npx playwright test --project=look --update-snapshots`, and look at them.

type Who = "visitor" | "casey" | "sam" | "admin";
const PAGES: { name: string; path: string; who: Who }[] = [
  { name: "home", path: "/", who: "visitor" },
  { name: "category", path: "/c/questions", who: "visitor" },
  { name: "topic-staff-answer", path: "/t/2", who: "visitor" },
  { name: "new-topic", path: "/new-topic", who: "casey" },
  { name: "accountability", path: "/accountability", who: "visitor" },
  { name: "staff-queue", path: "/staff/queue", who: "sam" },
  { name: "admin-dashboard", path: "/admin", who: "admin" },
  { name: "review-queue", path: "/admin/review", who: "admin" },
];
const WIDTHS = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 360, height: 740 },
];
const SCHEMES = ["light", "dark"] as const;

/** A page ready to look at: loaded, its islands hydrated, its fonts in. */
async function open(page: Page, path: string) {
  await page.goto(path);
  await page.waitForLoadState("networkidle");
  await page.evaluate(() => document.fonts.ready);
}

for (const who of ["visitor", "casey", "sam", "admin"] as Who[]) {
  const pages = PAGES.filter((p) => p.who === who);
  test.describe(`${who}'s pages`, () => {
    for (const { name, path } of pages) {
      test(`${name} looks as it did and passes axe at both widths, light and dark`, async ({ page }) => {
        if (who !== "visitor") await logIn(page, who);
        const problems: string[] = [];
        for (const size of WIDTHS) {
          await page.setViewportSize({ width: size.width, height: size.height });
          for (const scheme of SCHEMES) {
            await page.emulateMedia({ colorScheme: scheme });
            await open(page, path);
            const wide = await page.evaluate(
              () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
            );
            if (wide > 0) problems.push(`${size.name} ${scheme}: scrolls ${wide}px sideways`);
            for (const v of await axe(page)) problems.push(`${size.name} ${scheme}: ${v}`);
            await expect(page, `${name} ${size.name} ${scheme}`).toHaveScreenshot(
              `${name}-${size.name}-${scheme}.png`,
              { animations: "disabled", caret: "hide", maxDiffPixelRatio: 0.02 },
            );
          }
        }
        expect(problems).toEqual([]);
      });

      test(`${name} reads at twice the browser's text size`, async ({ page }) => {
        if (who !== "visitor") await logIn(page, who);
        // The reader's own setting (chrome://settings/fonts), not page zoom: text in rem grows,
        // and nothing may be cut off or scroll sideways at a phone's width.
        const cdp = await page.context().newCDPSession(page);
        await cdp.send("Page.setFontSizes", { fontSizes: { standard: 32, fixed: 26 } });
        const problems: string[] = [];
        for (const size of WIDTHS) {
          await page.setViewportSize({ width: size.width, height: size.height });
          await open(page, path);
          const body = await page.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));
          if (body < 32) problems.push(`${size.name}: body text is ${body}px, not the reader's 32px`);
          const wide = await page.evaluate(
            () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
          );
          if (wide > 0) problems.push(`${size.name}: scrolls ${wide}px sideways`);
          for (const v of await axe(page)) problems.push(`${size.name}: ${v}`);
        }
        expect(problems).toEqual([]);
      });
    }
  });
}
