import { expect, test } from "@playwright/test";
import { axe, formReady, jsOn, signedInPage, signUp, uniqueName } from "./helpers";

test("a flagged post is hidden with a reason, edited by its author and approved", async ({ browser }, info) => {
  const casey = await signedInPage(browser, "casey");
  const sam = await signedInPage(browser, "sam");
  const admin = await signedInPage(browser, "admin");
  const title = `Fed up ${uniqueName("m")}`;

  await casey.goto("/new-topic?category=questions");
  await formReady(casey, info);
  await casey.getByLabel("Title").fill(title);
  await casey.getByLabel("Details").fill("You people are useless and so is this product.");
  await casey.getByRole("button", { name: "Post topic" }).click();
  await expect(casey.getByRole("heading", { level: 1, name: title })).toBeVisible();
  const topicUrl = casey.url().split("#")[0];

  // A member flags it as rude.
  await sam.goto(topicUrl);
  // "Flag" under the post opens its flag page, which comes back to the post once sent.
  await sam.locator("#post-1").getByRole("link", { name: /^Flag post 1 by / }).click();
  await sam.getByLabel("What's wrong with this post?").selectOption("rude");
  await sam.getByRole("button", { name: "Flag for moderators" }).click();
  await expect(sam.locator("#post-1").getByText("You flagged this")).toBeVisible();

  // A moderator hides it from the review queue, with a reason.
  await admin.goto("/admin/review");
  const item = admin.locator(".review-item", { hasText: title });
  await expect(item.getByText("Rude or abusive")).toBeVisible();
  await item.getByLabel("Action", { exact: true }).selectOption("hide");
  await item.getByLabel("Reason", { exact: true }).fill("Please describe the problem without insults.");
  await item.getByRole("button", { name: "Apply" }).click();
  await expect(admin.locator(".review-item", { hasText: title })).toHaveCount(0);

  // Its opening post hidden, the topic leaves the lists and others' sight (its title is in
  // every list); the author sees why, is notified, and edits it.
  await sam.goto(topicUrl);
  await expect(sam.getByText("That topic doesn't exist. It may have been removed.")).toBeVisible();
  await expect(sam.locator("main")).not.toContainText("useless");
  await sam.goto("/c/questions");
  await expect(sam.locator("main").getByText(title)).toHaveCount(0);
  await casey.goto(topicUrl);
  await expect(casey.locator("#post-1 .moderation-notice")).toContainText("Please describe the problem without insults.");
  await expect(casey.getByRole("link", { name: /Notifications \(\d+ unread\)/ })).toBeVisible();
  await casey.locator("#post-1").getByRole("link", { name: "Edit" }).click();
  await formReady(casey, info);
  await casey.getByLabel("Post").fill("The export keeps failing and I am frustrated. Can someone help?");
  await casey.getByRole("button", { name: "Save edit" }).click();
  await expect(casey.locator("#post-1 .post-body")).toContainText("I am frustrated");

  // Back in the queue as an edit; approved; public again.
  await admin.goto("/admin/review");
  const edited = admin.locator(".review-item", { hasText: title });
  await expect(edited.getByText("Edited after hiding")).toBeVisible();
  await edited.getByLabel("Action", { exact: true }).selectOption("approve");
  await edited.getByRole("button", { name: "Apply" }).click();
  await expect(admin.locator(".review-item", { hasText: title })).toHaveCount(0);
  await sam.goto(topicUrl);
  await expect(sam.locator("#post-1 .post-body")).toContainText("I am frustrated");
  await sam.goto("/c/questions");
  await expect(sam.locator("main").getByText(title)).toBeVisible();
  await expect(sam.locator("#post-1 .moderation-notice")).toHaveCount(0);
});

test("a spammer is removed in one step", async ({ browser }, info) => {
  const spammer = await (await browser.newContext({ javaScriptEnabled: jsOn(info) })).newPage();
  const name = uniqueName("spam");
  await signUp(spammer, info, name, "quiet harbour lantern 7741");
  await expect(spammer.getByText(`Signed in as ${name}`)).toBeVisible();
  await spammer.goto("/c/praise");
  await spammer.getByRole("link", { name: "Welcome to our community" }).click();
  await formReady(spammer, info);
  await spammer.getByLabel("Your reply").fill(`Cheap watches from ${name}, best prices!`);
  await spammer.getByRole("button", { name: "Post reply" }).click();
  // A new member's first post waits for approval, and they are told.
  await expect(spammer.locator(".moderation-notice").last()).toContainText("first posts wait for a moderator");

  const admin = await signedInPage(browser, "admin");
  await admin.goto("/admin/review");
  const item = admin.locator(".review-item", { hasText: name });
  await expect(item.getByText("New member's post")).toBeVisible();
  await item.locator("summary", { hasText: "Moderate this member" }).click();
  await item.getByRole("button", { name: /Remove spammer/ }).click();
  // It asks first: a dialog with JavaScript, the confirmation page without; both say "Remove the spammer".
  await admin.getByRole("button", { name: "Remove the spammer" }).click();
  await expect(admin).toHaveURL(/\/admin\/review/);
  await expect(admin.locator(".review-item", { hasText: name })).toHaveCount(0);

  // Their session is gone, and they cannot post again.
  await spammer.reload();
  await expect(spammer.getByText(`Signed in as ${name}`)).toHaveCount(0);
});

test("the review queue's bulk bar keeps a refused selection and says what it did", async ({ browser }, info) => {
  const casey = await signedInPage(browser, "casey");
  const sam = await signedInPage(browser, "sam");
  const admin = await signedInPage(browser, "admin");
  const texts = [`Buy cheap ${uniqueName("a")}`, `Buy cheaper ${uniqueName("b")}`];

  // Casey posts twice; sam flags both as spam.
  await casey.goto("/c/praise");
  await casey.getByRole("link", { name: "Welcome to our community" }).click();
  const topicUrl = casey.url().split("#")[0];
  for (const text of texts) {
    await casey.goto(topicUrl);
    await formReady(casey, info);
    await casey.getByLabel("Your reply").fill(text);
    await casey.getByRole("button", { name: "Post reply" }).click();
    await expect(casey.locator("article.post", { hasText: text })).toBeVisible();
  }
  for (const text of texts) {
    await sam.goto(topicUrl);
    await sam.locator("article.post", { hasText: text }).getByRole("link", { name: /^Flag post \d+ by / }).click();
    await sam.getByLabel("What's wrong with this post?").selectOption("spam");
    await sam.getByRole("button", { name: "Flag for moderators" }).click();
    await expect(sam.locator("article.post", { hasText: text }).getByText("You flagged this")).toBeVisible();
  }

  // Both selected, "Hide" without a reason: refused in the bar, the selection and action kept.
  await admin.goto("/admin/review");
  for (const text of texts) {
    await admin.locator(".review-item", { hasText: text }).getByRole("checkbox").check();
  }
  const bar = admin.locator("#bulk");
  await bar.getByLabel("With the selected items").selectOption("hide");
  await bar.getByRole("button", { name: "Apply to selected" }).click();
  await expect(bar.getByRole("alert")).toHaveText("Give a reason: the author will see it.");
  await expect(bar.getByLabel("With the selected items")).toHaveValue("hide");
  for (const text of texts) {
    await expect(admin.locator(".review-item", { hasText: text }).getByRole("checkbox")).toBeChecked();
  }
  // axe runs in the page: with JavaScript on (the markup is the server's either way).
  if (jsOn(info)) expect(await axe(admin)).toEqual([]);

  // With a reason: both hidden, and the queue says so.
  await bar.getByLabel("Reason for the selected items").fill("Advertising.");
  await bar.getByRole("button", { name: "Apply to selected" }).click();
  await expect(admin.locator("#status")).toHaveText("2 posts hidden. Their authors see the reason.");
  for (const text of texts) {
    await expect(admin.locator(".review-item", { hasText: text })).toHaveCount(0);
  }
});
