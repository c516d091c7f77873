import { expect, Page, test, TestInfo } from "@playwright/test";
import { formReady, signedInPage, uniqueName } from "./helpers";

async function startTopic(page: Page, info: TestInfo, title: string): Promise<string> {
  await page.goto("/new-topic?category=questions");
  await formReady(page, info);
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Details").fill("Where do I find last month's invoice?");
  await page.getByRole("button", { name: "Post topic" }).click();
  await expect(page.getByRole("heading", { level: 1, name: title })).toBeVisible();
  return page.url().split("#")[0];
}

/** Starts from nothing unread, so the count the test sees is its own. */
async function readEverything(page: Page) {
  await page.goto("/notifications");
  const markAll = page.getByRole("button", { name: "Mark all as read" });
  if ((await markAll.count()) > 0) {
    await markAll.click();
    await expect(markAll).toHaveCount(0);
  }
  await expect(page.getByRole("link", { name: "Notifications", exact: true })).toBeVisible();
}

test("a customer posts, staff answer, the customer sees 1 unread and the notification opens the answer", async ({ browser }, info) => {
  const casey = await signedInPage(browser, "casey");
  const sam = await signedInPage(browser, "sam");
  await readEverything(casey);

  const title = `Invoice ${uniqueName("n")}`;
  const topicUrl = await startTopic(casey, info, title);

  await sam.goto(topicUrl);
  await formReady(sam, info);
  await sam.getByLabel("Your reply").fill("It is under Billing, top right.");
  await sam.getByRole("button", { name: "Post reply" }).click();
  await expect(sam).toHaveURL(/#post-2$/);

  await casey.goto("/");
  const unread = casey.getByRole("link", { name: "Notifications (1 unread)" });
  await expect(unread).toBeVisible();
  await unread.click();
  await expect(casey).toHaveURL(/\/notifications$/);
  const item = casey.locator(".notification-list li", { hasText: title });
  await expect(item).toHaveCount(1);
  await expect(item.locator(".staff-badge")).toBeVisible();
  await item.getByRole("link", { name: new RegExp(`answered your topic “${title}”`) }).click();

  // It lands on the answer, and the header on that page already counts it read.
  await expect(casey).toHaveURL(new RegExp(`${topicUrl.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}#post-2$`));
  await expect(casey.locator("#post-2")).toContainText("It is under Billing, top right.");
  await expect(casey.getByRole("link", { name: "Notifications", exact: true })).toBeVisible();
});

test("a member follows, mutes and watches with one click", async ({ browser }, info) => {
  const casey = await signedInPage(browser, "casey");
  const title = `Follow me ${uniqueName("f")}`;
  const topicUrl = await startTopic(casey, info, title);

  // Starting a topic follows it.
  const control = casey.locator("#follow");
  await expect(control.getByRole("status")).toHaveText("You are Following on this topic.");
  await formReady(casey, info);
  await control.getByRole("button", { name: "Muted" }).click();
  await expect(control.getByRole("status")).toHaveText("You are Muted on this topic.");
  await expect(control.getByRole("button", { name: "Muted" })).toHaveAttribute("aria-pressed", "true");
  await casey.goto(topicUrl);
  await expect(casey.locator("#follow").getByRole("status")).toHaveText("You are Muted on this topic.");

  await casey.goto("/c/questions");
  const watch = casey.locator("#watch");
  await formReady(casey, info);
  await watch.getByRole("button", { name: "Watch" }).click();
  await expect(watch.getByRole("button", { name: "Stop watching" })).toBeVisible();
  await watch.getByRole("button", { name: "Stop watching" }).click();
  await expect(watch.getByRole("button", { name: "Watch" })).toBeVisible();
});
