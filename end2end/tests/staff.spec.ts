import { expect, Page, test, TestInfo } from "@playwright/test";
import { formReady, signedInPage, uniqueName } from "./helpers";

async function startTopic(page: Page, info: TestInfo, title: string): Promise<string> {
  await page.goto("/new-topic?category=questions");
  await formReady(page, info);
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Details").fill("The export button does nothing since this morning.");
  await page.getByRole("button", { name: "Post topic" }).click();
  await expect(page.getByRole("heading", { level: 1, name: title })).toBeVisible();
  await expect(page.locator(".response-badge")).toContainText("Awaiting staff");
  return page.url().split("#")[0];
}

/** The Questions row of the last-7-days table: answered topics, and resolved ones. */
async function questionsFigures(page: Page): Promise<{ answered: number; resolved: number }> {
  await page.goto("/staff/metrics");
  const row = page.locator("table.category-figures").first().locator("tr", { hasText: "Questions" });
  const cells = row.locator("td");
  const answered = Number(await cells.nth(2).innerText());
  // "50% of 4", or "— (none resolved)".
  const resolved = Number((await cells.nth(7).innerText()).match(/of (\d+)/)?.[1] ?? 0);
  return { answered, resolved };
}

test("a customer's topic is queued, answered with the badge, resolved and confirmed; the figures move", async ({ browser }, info) => {
  const casey = await signedInPage(browser, "casey");
  const sam = await signedInPage(browser, "sam");
  const before = await questionsFigures(sam);

  const title = `Export broken ${uniqueName("q")}`;
  const topicUrl = await startTopic(casey, info, title);

  // It waits in the staff queue.
  await sam.goto("/staff/queue");
  await sam.getByRole("link", { name: title }).click();
  await expect(sam).toHaveURL(topicUrl);

  // Staff answer: the reply carries the badge with their title; the topic leaves the queue.
  await formReady(sam, info);
  await sam.getByLabel("Your reply").fill("Thanks! A fix is going out this afternoon.");
  await sam.getByRole("button", { name: "Post reply" }).click();
  await expect(sam).toHaveURL(/#post-2$/);
  await expect(sam.locator("#post-2 .staff-badge")).toHaveText("Reply from Staff · Support Lead");
  await expect(sam.locator(".topic-badges .response-badge")).toContainText("Staff replied in");
  await sam.goto("/staff/queue");
  await expect(sam.getByRole("link", { name: title })).toHaveCount(0);

  // Official answer, then resolved with a note.
  await sam.goto(topicUrl);
  await sam.locator("#post-2").getByRole("button", { name: "Mark as official answer" }).click();
  await expect(sam.locator("#official-answer")).toContainText("A fix is going out this afternoon.");
  await sam.getByLabel("Status").selectOption("resolved");
  await sam.getByLabel("Note (optional)").fill("The fix is live: exports work again.");
  await sam.getByRole("button", { name: "Update status" }).click();
  await expect(sam.locator(".topic-badges .status-tag")).toHaveText("Resolved");
  await expect(sam.getByText("sam set the status to Resolved")).toBeVisible();

  // The customer confirms.
  await casey.goto(topicUrl);
  await expect(casey.getByRole("heading", { name: "Did this solve it?" })).toBeVisible();
  await casey.getByRole("button", { name: "Yes, it's solved" }).click();
  await expect(casey.locator(".topic-badges .status-tag")).toHaveText("Resolved, confirmed by the customer");
  await expect(casey.getByRole("heading", { name: "Did this solve it?" })).toHaveCount(0);

  // The figures count one more answered topic and one more resolution.
  const after = await questionsFigures(sam);
  expect(after.answered).toBe(before.answered + 1);
  expect(after.resolved).toBe(before.resolved + 1);
  await casey.goto("/accountability");
  await expect(casey.getByRole("heading", { level: 1, name: "How fast we answer" })).toBeVisible();
});

test("a customer who says No puts the topic back in the queue", async ({ browser }, info) => {
  const casey = await signedInPage(browser, "casey");
  const sam = await signedInPage(browser, "sam");
  const title = `Still failing ${uniqueName("r")}`;
  const topicUrl = await startTopic(casey, info, title);

  await sam.goto(topicUrl);
  await sam.getByLabel("Status").selectOption("resolved");
  await sam.getByLabel("Note (optional)").fill("Should be fixed after the restart.");
  await sam.getByRole("button", { name: "Update status" }).click();
  await expect(sam.locator(".topic-badges .status-tag")).toHaveText("Resolved");

  await casey.goto(topicUrl);
  await casey.getByRole("button", { name: "No, I still need help" }).click();
  await expect(casey.getByText("casey reopened this for staff")).toBeVisible();
  await expect(casey.locator(".topic-badges .status-tag")).toHaveCount(0);

  await sam.goto("/staff/queue");
  const row = sam.locator(".queue-item", { hasText: title });
  await expect(row).toBeVisible();
  await expect(row.getByText("Reopened")).toBeVisible();
});

test("customers get no staff queue or tools", async ({ browser }, info) => {
  const casey = await signedInPage(browser, "casey");
  const res = await casey.goto("/staff/queue");
  expect(res?.status()).toBe(403);
  await casey.goto("/c/questions");
  await casey.getByRole("link", { name: "How do I change the e-mail on my account?" }).click();
  await expect(casey.getByRole("heading", { name: "Staff tools" })).toHaveCount(0);
  await expect(casey.getByRole("button", { name: "Mark as official answer" })).toHaveCount(0);
});
