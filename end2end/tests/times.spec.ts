import { expect, test } from "@playwright/test";
import { jsOn } from "./helpers";

// Exact times (issue 19): a visitor's page says them in the site's zone (UTC in the demo);
// with JavaScript, public/forms.js rewrites them in the browser's zone, title and hidden text
// alike, and the relative words stay.
test("a visitor's exact times are in their browser's zone with JavaScript, the site's without", async ({ browser }, info) => {
  const context = await browser.newContext({ javaScriptEnabled: jsOn(info), timezoneId: "Asia/Tokyo", locale: "en-GB" });
  const page = await context.newPage();
  await page.goto("/");
  const time = page.locator("time[data-exact]").first();
  await expect(time).toContainText(/ago|just now/);
  const zone = jsOn(info) ? /GMT\+9$/ : /UTC$/;
  await expect(time).toHaveAttribute("title", zone);
  const title = await time.getAttribute("title");
  await expect(time.locator(".visually-hidden")).toHaveText(` (${title})`);
  await context.close();
});
