import { Browser, expect, Page, test, TestInfo } from "@playwright/test";
import { formReady, jsOn, logIn, signedInPage, signUp, uniqueName } from "./helpers";
import { mailTo } from "./mail";

/** A new member who confirmed their address through the link in the e-mail: their vote counts
 * (the test server counts votes of accounts of any age: `vote_min_account_hours` is 0 there). */
async function confirmedMember(browser: Browser, info: TestInfo): Promise<{ page: Page; address: string }> {
  const context = await browser.newContext({ javaScriptEnabled: jsOn(info) });
  const page = await context.newPage();
  const name = uniqueName("voter");
  await signUp(page, info, name, "quiet harbour lantern 7741");
  await expect(page.getByText(`Signed in as ${name}`)).toBeVisible();
  const address = `${name}@example.com`;
  const mail = await mailTo(address, (m) => m.subject.includes("Confirm your e-mail address"));
  const link = mail.text.match(/(http:\/\/\S+\/confirm-email\/\S+)/)![1];
  await page.goto(link);
  await page.getByRole("button", { name: "Confirm my address" }).click();
  await expect(page.getByText(/confirmed/i).first()).toBeVisible();
  return { page, address };
}

async function vote(page: Page, info: TestInfo, ideaUrl: string, title: string, expected: string) {
  await page.goto(ideaUrl);
  await formReady(page, info);
  const button = page.getByRole("button", { name: `Vote for: ${title}` });
  await button.click();
  await expect(page.getByRole("button", { name: `Voted for: ${title}` })).toHaveAttribute("aria-pressed", "true");
  await expect(page.locator(".topic-header .vote-count, .idea-votes .vote-count").first()).toHaveText(expected);
}

test("a customer posts an idea, three others vote, staff plan it with a note: every voter hears, the roadmap shows it", async ({ browser }, info) => {
  const casey = await signedInPage(browser, "casey");
  const sam = await signedInPage(browser, "sam");
  const admin = await signedInPage(browser, "admin");

  // Casey posts an idea.
  const title = `Dark mode ${uniqueName("i")}`;
  await casey.goto("/new-topic?category=product-feedback");
  await formReady(casey, info);
  await casey.getByLabel("Title").fill(title);
  await casey.getByLabel("Details").fill("Reading the dashboard at night hurts: a dark theme, please.");
  await casey.getByRole("button", { name: "Post topic" }).click();
  await expect(casey.getByRole("heading", { level: 1, name: title })).toBeVisible();
  const ideaUrl = casey.url().split("#")[0];

  // Three others vote: the count goes up with each.
  const first = await confirmedMember(browser, info);
  const second = await confirmedMember(browser, info);
  await vote(first.page, info, ideaUrl, title, "1 vote");
  await vote(second.page, info, ideaUrl, title, "2 votes");
  await vote(admin, info, ideaUrl, title, "3 votes");

  // The ideas list shows it with its count, sorted by votes.
  await casey.goto("/c/product-feedback?sort=votes");
  const row = casey.locator("li, tr", { hasText: title }).last();
  await expect(row.locator(".vote-count")).toHaveText("3 votes");

  // Staff set it to planned with a note.
  await sam.goto(ideaUrl);
  await formReady(sam, info);
  await sam.getByLabel("Status").selectOption("planned");
  await sam.getByLabel("Note (optional)").fill("Planned for the spring release.");
  await sam.getByRole("button", { name: "Update status" }).click();
  await expect(sam.locator(".topic-badges .status-tag")).toHaveText("Planned");

  // Every voter has a notification and an e-mail (the worker tells them within seconds).
  for (const voter of [first, second]) {
    await expect
      .poll(async () => {
        await voter.page.goto("/notifications");
        return voter.page.locator(".notification-list li", { hasText: title }).filter({ hasText: "to planned" }).count();
      }, { timeout: 15_000 })
      .toBeGreaterThan(0);
    // The status change (the note is also a staff reply, which waits for the daily digest).
    await expect(
      voter.page.locator(".notification-list li", { hasText: title }).filter({ hasText: "to planned" }),
    ).toHaveCount(1);
    const mail = await mailTo(voter.address, (m) => m.subject.includes(title));
    expect(mail.text).toContain("planned");
  }
  await expect
    .poll(async () => {
      await admin.goto("/notifications");
      return admin.locator(".notification-list li", { hasText: title }).count();
    }, { timeout: 15_000 })
    .toBeGreaterThan(0);
  await mailTo("admin@demo.backyard.invalid", (m) => m.subject.includes(title));

  // The roadmap shows it under Planned, with its votes.
  const visitor = await (await browser.newContext({ javaScriptEnabled: jsOn(info) })).newPage();
  await visitor.goto("/roadmap");
  const planned = visitor.locator("section", { has: visitor.getByRole("heading", { name: "Planned" }) });
  const card = planned.locator("li", { hasText: title });
  await expect(card).toBeVisible();
  await expect(card).toContainText("3 votes");
});

test("a visitor's vote is cast after logging in, and counts once", async ({ browser }, info) => {
  const casey = await signedInPage(browser, "casey");
  const title = `Keyboard shortcuts ${uniqueName("i")}`;
  await casey.goto("/new-topic?category=product-feedback");
  await formReady(casey, info);
  await casey.getByLabel("Title").fill(title);
  await casey.getByLabel("Details").fill("j and k to move between topics.");
  await casey.getByRole("button", { name: "Post topic" }).click();
  await expect(casey.getByRole("heading", { level: 1, name: title })).toBeVisible();
  const ideaUrl = casey.url().split("#")[0];

  const context = await browser.newContext({ javaScriptEnabled: jsOn(info) });
  const page = await context.newPage();
  await page.goto(ideaUrl);
  await page.getByRole("button", { name: `Vote for: ${title}` }).click();
  await expect(page).toHaveURL(/\/login\?next=/);
  await logIn(page, "sam", undefined, { here: true });
  await expect(page).toHaveURL(new RegExp(ideaUrl.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  await expect(page.getByRole("button", { name: `Voted for: ${title}` })).toHaveAttribute("aria-pressed", "true");
  await expect(page.locator(".idea-votes .vote-count").first()).toHaveText("1 vote");
});
