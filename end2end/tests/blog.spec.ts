import { expect, test } from "@playwright/test";
import { formReady, jsOn, signedInPage, uniqueName } from "./helpers";

test("staff write, preview and publish an article; a customer comments; staff answer with the badge", async ({ browser }, info) => {
  const sam = await signedInPage(browser, "sam");
  const casey = await signedInPage(browser, "casey");
  const title = `Roadmap ${uniqueName("a")}`;

  // Write a draft, with a live preview when JavaScript is on.
  await sam.goto("/blog");
  await sam.getByRole("link", { name: "Write an article" }).click();
  await formReady(sam, info);
  await sam.getByLabel("Title").fill(title);
  await sam.getByLabel("Summary").fill("What we are building next.");
  await sam.getByLabel("Tags").fill("roadmap");
  await sam.getByLabel("Article").fill("We are building **CSV export** next.");
  if (jsOn(info)) {
    await expect(sam.locator(".preview .post-body strong")).toHaveText("CSV export");
  }
  await sam.getByRole("button", { name: jsOn(info) ? "Save draft" : "Save" }).click();

  // The preview is the real address, seen by the author only.
  await expect(sam).toHaveURL(/\/blog\/roadmap-[a-z0-9-]+\?saved=draft$/);
  await expect(sam.getByRole("status").first()).toContainText("Draft saved");
  await expect(sam.getByRole("heading", { level: 1 })).toContainText(title);
  await expect(sam.locator(".article-body strong")).toHaveText("CSV export");
  const articleUrl = sam.url().split("?")[0];
  await casey.goto(articleUrl);
  await expect(casey.getByRole("heading", { level: 1, name: "Not found" })).toBeVisible();
  await casey.goto("/blog");
  await expect(casey.getByText(title)).toHaveCount(0);

  // Publish it.
  await sam.getByRole("link", { name: "Edit" }).click();
  await formReady(sam, info);
  await expect(sam.getByLabel("Title")).toHaveValue(title);
  await sam.getByLabel("Publish now").check();
  await sam.getByRole("button", { name: jsOn(info) ? "Publish" : "Save" }).click();
  await expect(sam).toHaveURL(/\?saved=published$/);
  await expect(sam.getByRole("status").first()).toContainText("Published.");

  // A customer finds it on the blog and comments.
  await casey.goto("/blog");
  await casey.getByRole("link", { name: title }).click();
  await expect(casey).toHaveURL(articleUrl);
  await formReady(casey, info);
  await casey.getByLabel("Your comment").fill("Will it include **archived** projects?");
  await casey.getByRole("button", { name: "Post comment" }).click();
  await expect(casey).toHaveURL(/#post-1$/);
  await expect(casey.locator("#post-1 .post-body")).toContainText("Will it include archived projects?");
  await expect(casey.locator("#post-1 .staff-badge")).toHaveCount(0);

  // Staff answer; the answer carries the staff badge with their title.
  await sam.goto(articleUrl);
  await formReady(sam, info);
  await sam.getByLabel("Your comment").fill("Yes, archived projects are included.");
  await sam.getByRole("button", { name: "Post comment" }).click();
  await expect(sam).toHaveURL(/#post-2$/);
  await casey.goto(articleUrl);
  const answer = casey.locator("#post-2");
  await expect(answer).toContainText("Yes, archived projects are included.");
  await expect(answer.locator(".staff-badge")).toHaveText("Reply from Staff · Support Lead");
  await expect(casey.getByRole("heading", { name: "2 comments" })).toBeVisible();
});

test("customers get no article editor", async ({ browser }, info) => {
  const casey = await signedInPage(browser, "casey");
  await casey.goto("/blog");
  await expect(casey.getByRole("link", { name: "Write an article" })).toHaveCount(0);
  const res = await casey.goto("/blog/new");
  expect(res?.status()).toBe(403);
  await expect(casey.getByRole("heading", { level: 1, name: "Not allowed" })).toBeVisible();
  await expect(casey.getByText("Only staff can write articles.")).toBeVisible();
  await expect(casey.getByLabel("Title")).toHaveCount(0);
});

test("the blog links its feed and the feed lists published articles", async ({ page }) => {
  await page.goto("/blog");
  await expect(page.locator('link[rel="alternate"][type="application/atom+xml"]')).toHaveAttribute("href", "/blog/feed.xml");
  const res = await page.request.get("/blog/feed.xml");
  expect(res.headers()["content-type"]).toContain("application/atom+xml");
  expect(await res.text()).toContain("<title>What we shipped in November</title>");
});
