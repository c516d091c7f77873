import { expect, Page, test } from "@playwright/test";
import { formReady, jsOn, signedInPage, signUp, uniqueName } from "./helpers";

async function postsInThirtyDays(page: Page): Promise<number> {
  await page.goto("/admin");
  const caption = await page.locator("#chart-posts-desc").textContent();
  return Number(caption!.match(/(\d+) in the last 30 days/)![1]);
}

test("an admin adds a category, promotes a member to staff, and the dashboard moves", async ({ browser }, info) => {
  const admin = await signedInPage(browser, "admin");
  const before = await postsInThirtyDays(admin);

  // A category with a 4-hour response target.
  const name = `Billing ${uniqueName("c")}`;
  await admin.goto("/admin/categories");
  const create = admin.locator("form", { has: admin.getByRole("button", { name: "Create category" }) });
  await create.getByLabel("Name", { exact: true }).fill(name);
  await create.getByLabel("Target to first staff reply (hours)").fill("4");
  await create.getByRole("button", { name: "Create category" }).click();
  await expect(admin.getByRole("heading", { level: 2, name: new RegExp(name) })).toBeVisible();
  await admin.goto("/staff/metrics");
  await expect(admin.locator("table.category-figures").first().locator("tr", { hasText: name })).toContainText("4 h");

  // A new member, promoted to staff with a title.
  const member = await (await browser.newContext({ javaScriptEnabled: jsOn(info) })).newPage();
  const username = uniqueName("helper");
  await signUp(member, info, username, "quiet harbour lantern 7741");
  await expect(member.getByText(`Signed in as ${username}`)).toBeVisible();
  await admin.goto(`/admin/users?q=${username}`);
  await admin.getByRole("link", { name: username }).click();
  await admin.locator("#member-role").selectOption("staff");
  await admin.getByLabel("Staff title (shown on their badge)").fill("Product Expert");
  await admin.getByRole("button", { name: "Save role" }).click();
  await expect(admin.getByText("Staff · Product Expert")).toBeVisible();

  // Their next reply carries the badge with the title.
  await member.goto("/c/praise");
  await member.getByRole("link", { name: "Welcome to our community" }).click();
  await formReady(member, info);
  const text = `Glad to help here from now on. (${username})`;
  await member.getByLabel("Your reply").fill(text);
  await member.getByRole("button", { name: "Post reply" }).click();
  await expect(member).toHaveURL(/#post-\d+$/);
  const reply = member.locator("article.post", { hasText: text });
  await expect(reply.locator(".staff-badge")).toHaveText("Reply from Staff · Product Expert");

  // The dashboard counts the new post.
  expect(await postsInThirtyDays(admin)).toBeGreaterThan(before);
});
