import { expect, Page, test } from "@playwright/test";
import { formReady, jsOn, signedInPage, uniqueName } from "./helpers";

// Forms that behave (issue 19): destructive actions ask first (a <dialog> with JavaScript, the
// /confirm page without), an action's confirmation lands on its result (focused with
// JavaScript, so it is read out), and an error sits in the form that caused it and goes away
// once its field is changed.

/** casey replies in the welcome topic; returns the topic's address and the reply's anchor. */
async function caseysReply(page: Page, text: string): Promise<{ url: string; anchor: string }> {
  await page.goto("/c/praise");
  await page.getByRole("link", { name: "Welcome to our community" }).click();
  await formReady(page, test.info());
  await page.getByLabel("Your reply").fill(text);
  await page.getByRole("button", { name: "Post reply" }).click();
  const post = page.locator("article.post", { hasText: text });
  await expect(post).toBeVisible();
  const anchor = (await post.getAttribute("id")) ?? "";
  return { url: page.url().split(/[?#]/)[0], anchor };
}

test("deleting a post asks first, and Cancel deletes nothing", async ({ browser }, info) => {
  const casey = await signedInPage(browser, "casey");
  const text = `Delete me ${uniqueName("p")}`;
  const { url, anchor } = await caseysReply(casey, text);

  const admin = await signedInPage(browser, "admin");
  await admin.goto(url);
  const post = admin.locator(`#${anchor}`);
  const apply = async () => {
    // Open the moderation form unless it still is (after a dialog's Cancel it stays open).
    const details = post.locator("details", { has: admin.locator("summary", { hasText: "Moderate" }) });
    if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open))) {
      await post.locator("summary", { hasText: "Moderate" }).click();
    }
    await post.getByLabel("Action", { exact: true }).selectOption("delete");
    await post.getByLabel("Reason (the author sees it)").fill("Test cleanup");
    await post.getByRole("button", { name: "Apply" }).click();
  };

  await apply();
  if (jsOn(info)) {
    const dialog = admin.getByRole("dialog");
    await expect(dialog).toBeVisible();
    await expect(dialog).toContainText("Delete this post?");
    // The safe answer has the focus.
    await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toHaveCount(0);
    await expect(post.getByRole("button", { name: "Apply" })).toBeFocused();
    expect(admin.url()).toBe(url);
  } else {
    await expect(admin).toHaveURL(/\/confirm\?action=delete_post/);
    await expect(admin.getByRole("heading", { level: 1, name: "Delete this post?" })).toBeVisible();
    await expect(admin.getByText(text)).toBeVisible();
    await admin.getByRole("link", { name: "Cancel" }).click();
    await expect(admin).toHaveURL(url);
  }
  await expect(post).not.toHaveClass(/moderated/);

  await apply();
  await admin.getByRole("button", { name: "Delete the post" }).click();
  const status = admin.locator(`#${anchor} [role=status]`);
  await expect(status).toHaveText("The post was deleted.");
  await expect(status).toHaveAttribute("aria-live", "polite");
  if (jsOn(info)) await expect(status).toBeFocused();
  await expect(admin.locator(`#${anchor} .moderation-notice`)).toContainText("Deleted by a moderator");
});

test("a flag lands on its post with an announced confirmation", async ({ browser }, info) => {
  const casey = await signedInPage(browser, "casey");
  const sam = await signedInPage(browser, "sam");
  const text = `Flag target ${uniqueName("f")}`;
  const { url, anchor } = await caseysReply(sam, text);

  await casey.goto(url);
  const post = casey.locator(`#${anchor}`);
  // Each post links to its flag page, where the form is: none under the posts.
  await expect(casey.locator("form[action='/api/flag_post']")).toHaveCount(0);
  await post.getByRole("link", { name: /^Flag post \d+ by / }).click();
  await expect(casey).toHaveURL(/\/p\/\d+\/flag$/);
  await expect(casey.getByRole("heading", { level: 1, name: "Flag a post for the moderators" })).toBeVisible();
  await expect(casey.locator("figure.flag-target")).toContainText(text);
  const form = casey.locator("form[action='/api/flag_post']");
  // "Something else" needs details: the error comes back in this form, beside the field.
  await form.getByLabel("What's wrong with this post?").selectOption("other");
  await form.getByRole("button", { name: "Flag for moderators" }).click();
  await expect(casey).toHaveURL(/\/p\/\d+\/flag\?/);
  const note = form.locator("input[name=note]");
  const error = form.locator(".field:has(input[name=note]) .field-error");
  await expect(error).not.toBeEmpty();
  await expect(note).toHaveAttribute("aria-invalid", "true");
  await expect(casey.locator(".field-error:not(:empty)")).toHaveCount(1);
  // The choice made is still chosen.
  await expect(form.getByLabel("What's wrong with this post?")).toHaveValue("other");
  if (jsOn(info)) {
    // Focus went to the field to fix; changing it clears its error.
    await expect(note).toBeFocused();
    await note.fill("It links to a phishing page");
    await expect(error).toBeHidden();
    await expect(note).toHaveAttribute("aria-invalid", "false");
  } else {
    await note.fill("It links to a phishing page");
  }
  // Sent: back at the post in its topic, told so beside it.
  await form.getByRole("button", { name: "Flag for moderators" }).click();
  await expect(casey).toHaveURL(new RegExp(`^${url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  const status = casey.locator(`#${anchor} [role=status]`);
  await expect(status).toContainText("Flag sent to moderators.");
  if (jsOn(info)) await expect(status).toBeFocused();
  await expect(casey).toHaveURL(new RegExp(`#status-post-`));

  // A visitor never sees it.
  const visitor = await (await browser.newContext({ javaScriptEnabled: jsOn(info) })).newPage();
  await visitor.goto(url);
  await expect(visitor.getByText("Flag sent to moderators.")).toHaveCount(0);
});

test("deleting an account asks first; its page then says it was deleted", async ({ browser }, info) => {
  const name = uniqueName("gone");
  const visitor = await (await browser.newContext({ javaScriptEnabled: jsOn(info) })).newPage();
  await visitor.goto("/signup");
  await formReady(visitor, info);
  await visitor.getByLabel("Username").fill(name);
  await visitor.getByLabel("E-mail").fill(`${name}@example.com`);
  await visitor.getByLabel("Password").fill("quiet harbour lantern 7741");
  await visitor.getByRole("button", { name: "Create account" }).click();
  await expect(visitor.getByText(`Signed in as ${name}`)).toBeVisible();

  const admin = await signedInPage(browser, "admin");
  await admin.goto(`/admin/users?q=${name}`);
  await admin.getByRole("link", { name }).click();
  await admin.getByRole("button", { name: "Delete account" }).click();
  if (jsOn(info)) {
    await expect(admin.getByRole("dialog")).toContainText(`Delete the account of ${name}?`);
  } else {
    await expect(admin.getByRole("heading", { level: 1, name: `Delete the account of ${name}?` })).toBeVisible();
  }
  await admin.getByRole("button", { name: "Delete the account" }).click();
  const status = admin.locator("#status");
  await expect(status).toHaveText("The account was deleted.");
  if (jsOn(info)) await expect(status).toBeFocused();
  await admin.getByRole("link", { name: "Public page" }).click();
  await expect(admin.getByRole("heading", { level: 1, name: "Deleted account" })).toBeVisible();
  await expect(admin.getByText("This account was deleted.")).toBeVisible();
  await expect(admin.locator("main form")).toHaveCount(0);
});
