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
