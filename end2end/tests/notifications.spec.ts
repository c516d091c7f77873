import { expect, Page, test, TestInfo } from "@playwright/test";
import { formReady, signedInPage, uniqueName } from "./helpers";
import { mailTo } from "./mail";

const CASEY_ADDRESS = "casey@demo.backyard.invalid";

/** Answers by e-mail at once (another run of this test may have unsubscribed them). A plain
 * form: nothing to wait for. */
async function answersByMail(page: Page) {
  await page.goto("/account");
  await page
    .getByLabel("E-mail me about answers and status changes on my topics")
    .selectOption("immediately");
  await page.getByRole("button", { name: "Save notification settings" }).click();
  await expect(page.getByText("Your notification settings were saved.")).toBeVisible();
}

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
  await answersByMail(casey);
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

  // The same answer by e-mail, read back from the SMTP server: exactly one, with the text.
  const mail = await mailTo(CASEY_ADDRESS, (m) => m.subject.includes(title));
  expect(mail.subject).toBe(`[Backyard] ${title}`);
  expect(mail.text).toContain(`sam (Support Lead, staff) answered your topic “${title}”`);
  expect(mail.text).toContain("It is under Billing, top right.");
  expect(mail.text).toMatch(/Open it: http:\/\/127\.0\.0\.1:\d+\/t\/\d+\/[^\s]+#post-2/);
  info.attach("delivered e-mail", { body: mail.data, contentType: "message/rfc822" });

  // Its unsubscribe link works without signing in: opening it only asks; the button stops it.
  const unsubscribe = mail.text.match(/Stop these e-mails: (\S+)/)![1];
  const stranger = await browser.newContext({ javaScriptEnabled: info.project.name === "js" });
  const page = await stranger.newPage();
  await page.goto(unsubscribe);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Stop these e-mails?");
  await expect(page.getByText("Stop e-mails to casey about answers and status changes on my topics and ideas I voted for?")).toBeVisible();
  await page.getByRole("button", { name: "Stop these e-mails" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("E-mails stopped");
  await stranger.close();
  await casey.goto("/account");
  await expect(
    casey.getByLabel("E-mail me about answers and status changes on my topics"),
  ).toHaveValue("never");
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
