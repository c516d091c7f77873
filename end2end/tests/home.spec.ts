import { expect, test } from "@playwright/test";
import { formReady, signedInPage, uniqueName } from "./helpers";

test("a visitor's home page: latest topics beside the categories, the response headline to /accountability", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 2, name: "Latest topics" })).toBeVisible();
  await expect(page.getByRole("heading", { level: 2, name: "Categories" })).toBeVisible();
  await expect(page.locator(".latest-list .topic-row").first()).toBeVisible();
  await expect(page.locator(".unread-badge")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Mark all read" })).toHaveCount(0);
  await page.locator(".response-headline a").click();
  await expect(page).toHaveURL(/\/accountability$/);
});

test("a member sees a new topic marked until they read it, and Mark all read clears the rest", async ({ browser }, info) => {
  const sam = await signedInPage(browser, "sam");
  const casey = await signedInPage(browser, "casey");
  const title = `Maintenance ${uniqueName("h")}`;
  await sam.goto("/new-topic?category=questions");
  await formReady(sam, info);
  await sam.getByLabel("Title").fill(title);
  await sam.getByLabel("Details").fill("Down for ten minutes on Sunday.");
  await sam.getByRole("button", { name: "Post topic" }).click();
  await expect(sam.getByRole("heading", { level: 1, name: title })).toBeVisible();

  await casey.goto("/");
  const row = casey.locator(".latest-row", { hasText: title });
  await expect(row.locator(".unread-badge")).toContainText("New");
  await row.getByRole("link", { name: title }).click();
  await expect(casey.getByRole("heading", { level: 1, name: title })).toBeVisible();
  await casey.goto("/");
  await expect(casey.locator(".latest-row", { hasText: title }).locator(".unread-badge")).toHaveCount(0);

  await casey.getByRole("button", { name: "Mark all read" }).click();
  await expect(casey).toHaveURL(/\/$/);
  await expect(casey.locator(".unread-badge")).toHaveCount(0);
});
