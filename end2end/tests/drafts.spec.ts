import { expect, Page, test } from "@playwright/test";
import { formReady, signedInPage, uniqueName } from "./helpers";

// Drafts (issue 19): with JavaScript, what is typed in a composer is kept in the browser
// (public/forms.js), offered back when the composer opens again, forgotten once posted, and
// leaving with unsent text asks first. Without JavaScript the server's session drafts do the
// keeping (tested in forum.spec.ts), so these run in the JavaScript project only.

async function openWelcomeTopic(page: Page) {
  await page.goto("/c/praise");
  await page.getByRole("link", { name: "Welcome to our community" }).click();
  await formReady(page, test.info());
}

/** Types like a person (a click first: browsers ask before leaving only after a gesture). */
async function typeReply(page: Page, text: string) {
  const box = page.getByLabel("Your reply");
  await box.click();
  await box.pressSequentially(text);
}

/** Closes the page running its beforeunload handlers; says whether it asked first. */
async function closeAsks(page: Page): Promise<boolean> {
  let asked = false;
  page.on("dialog", async (dialog) => {
    if (dialog.type() === "beforeunload") asked = true;
    await dialog.accept();
  });
  const closed = page.waitForEvent("close");
  await page.close({ runBeforeUnload: true });
  await closed;
  return asked;
}

test("a reply's draft survives a reload, is offered back, and goes once posted", async ({ browser }, info) => {
  test.skip(info.project.name !== "js", "drafts in the browser need JavaScript");
  const casey = await signedInPage(browser, "casey");
  await openWelcomeTopic(casey);
  const text = `Draft kept ${uniqueName("d")}`;
  await typeReply(casey, text);
  await casey.reload();
  await formReady(casey, info);

  // Offered, not put in unasked.
  const prompt = casey.locator(".draft-prompt");
  await expect(prompt).toHaveAttribute("role", "status");
  await expect(prompt).toContainText(/You have an unsent draft from (less than a minute|\d+ min) ago\./);
  await expect(casey.getByLabel("Your reply")).toHaveValue("");
  await prompt.getByRole("button", { name: "Restore draft" }).focus();
  await casey.keyboard.press("Enter");
  await expect(casey.getByLabel("Your reply")).toHaveValue(text);
  await expect(prompt).toHaveCount(0);
  await expect(casey.getByLabel("Your reply")).toBeFocused();

  // Posted: the draft is gone, the composer opens empty without an offer.
  await casey.getByRole("button", { name: "Post reply" }).click();
  await expect(casey).toHaveURL(/#post-\d+$/);
  await expect(casey.locator(".post-body", { hasText: text })).toBeVisible();
  await casey.reload();
  await formReady(casey, info);
  await expect(casey.getByLabel("Your reply")).toHaveValue("");
  await expect(casey.locator(".draft-prompt")).toHaveCount(0);
  const kept = await casey.evaluate(() =>
    Object.keys(localStorage).filter((k) => k.startsWith("backyard:draft:")),
  );
  expect(kept).toEqual([]);
  // Nothing unsent: leaving does not ask.
  expect(await closeAsks(casey)).toBe(false);
});

test("discarding a draft keeps the page's text and forgets the draft", async ({ browser }, info) => {
  test.skip(info.project.name !== "js", "drafts in the browser need JavaScript");
  const casey = await signedInPage(browser, "casey");
  await openWelcomeTopic(casey);
  await typeReply(casey, "Not worth keeping");
  await casey.reload();
  await formReady(casey, info);
  await casey.locator(".draft-prompt").getByRole("button", { name: "Discard" }).click();
  await expect(casey.locator(".draft-prompt")).toHaveCount(0);
  await expect(casey.getByLabel("Your reply")).toHaveValue("");
  await casey.reload();
  await formReady(casey, info);
  await expect(casey.getByLabel("Your reply")).toHaveValue("");
  await expect(casey.locator(".draft-prompt")).toHaveCount(0);
});

test("leaving a composer with unsent text asks first", async ({ browser }, info) => {
  test.skip(info.project.name !== "js", "the leave-page warning needs JavaScript");
  const casey = await signedInPage(browser, "casey");
  await openWelcomeTopic(casey);
  await typeReply(casey, "Half a thought");
  expect(await closeAsks(casey)).toBe(true);
});

test("a refused post keeps its draft", async ({ browser }, info) => {
  test.skip(info.project.name !== "js", "drafts in the browser need JavaScript");
  const casey = await signedInPage(browser, "casey");
  await casey.goto("/new-topic");
  await formReady(casey, info);
  const title = `No category ${uniqueName("t")}`;
  await casey.getByLabel("Title").fill(title);
  const details = casey.getByLabel("Details");
  await details.click();
  await details.pressSequentially("Which category was it?");
  // No category chosen: refused in place.
  await casey.getByRole("button", { name: "Post topic" }).click();
  await expect(casey.locator("#field-category-error")).toHaveText("Choose a category from the list.");
  await casey.goto("/");
  const draft = await casey.evaluate(() => localStorage.getItem("backyard:draft:casey:topic"));
  expect(draft).not.toBeNull();
  expect(JSON.parse(draft!).values).toEqual({ title, body: "Which category was it?" });
});
