import { expect, Page, test, TestInfo } from "@playwright/test";
import { formReady, logIn, signedInPage, uniqueName } from "./helpers";

async function startTopic(page: Page, info: TestInfo, title: string, body: string) {
  await page.goto("/new-topic");
  await formReady(page, info);
  await page.getByLabel("Category").selectOption({ label: "Questions" });
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Details").fill(body);
  await page.getByRole("button", { name: "Post topic" }).click();
  await expect(page.getByRole("heading", { level: 1, name: title })).toBeVisible();
}

test("start a topic, reply quoting it, edit the first post", async ({ browser }, info) => {
  const casey = await signedInPage(browser, "casey");
  const title = `Where are invoices? ${uniqueName("t")}`;
  await startTopic(casey, info, title, "I can't find **my invoices** anywhere.");
  await expect(casey.locator("#post-1 .post-body")).toContainText("I can't find my invoices anywhere.");
  const topicUrl = casey.url().split("#")[0];

  const sam = await signedInPage(browser, "sam");
  await sam.goto(topicUrl);
  await sam.locator("#post-1").getByRole("link", { name: "Quote" }).click();
  await formReady(sam, info);
  const box = sam.getByLabel("Your reply");
  await expect(box).toHaveValue(/^@casey wrote:\n> I can't find \*\*my invoices\*\* anywhere\./);
  await box.press("End");
  await box.fill((await box.inputValue()) + "They are under Settings, then Billing.");
  await sam.getByRole("button", { name: "Post reply" }).click();
  await expect(sam).toHaveURL(/#post-2$/);
  const reply = sam.locator("#post-2");
  await expect(reply.locator("blockquote")).toContainText("I can't find my invoices anywhere.");
  await expect(reply).toContainText("They are under Settings, then Billing.");
  await expect(reply.locator(".staff-badge")).toContainText("Support Lead");

  await casey.goto(topicUrl);
  await casey.locator("#post-1").getByRole("link", { name: "Edit" }).click();
  await formReady(casey, info);
  await casey.getByLabel("Post").fill("Found them under **Billing**, thanks!");
  await casey.getByRole("button", { name: "Save edit" }).click();
  await expect(casey).toHaveURL(/#post-1$/);
  await expect(casey.locator("#post-1 .post-body")).toHaveText("Found them under Billing, thanks!");
  await expect(casey.locator("#post-1 .edited")).toBeVisible();
  // Nobody else gets an Edit link on it.
  await sam.goto(topicUrl);
  await expect(sam.locator("#post-1").getByRole("link", { name: "Edit" })).toHaveCount(0);
});

test("a bad reply is refused with its message and the text kept", async ({ browser }, info) => {
  const casey = await signedInPage(browser, "casey");
  await casey.goto("/c/praise");
  await casey.getByRole("link", { name: "Welcome to our community" }).click();
  await formReady(casey, info);
  await casey.getByLabel("Your reply").fill("   ");
  await casey.getByRole("button", { name: "Post reply" }).click();
  await expect(casey.locator("#field-body-error")).toHaveText("Write something before posting.");

  // The textarea's maxlength stops people at 50,000 characters; the server refuses more
  // from anything that removes it.
  if (info.project.name === "js") {
    const box = casey.getByLabel("Your reply");
    await box.evaluate((el) => el.removeAttribute("maxlength"));
    await box.fill("a".repeat(50_001));
    await casey.getByRole("button", { name: "Post reply" }).click();
    await expect(casey.locator("#field-body-error")).toHaveText("Posts can be at most 50,000 characters; this one has 50,001.");
    await expect(box).toHaveValue("a".repeat(50_001));
  }
});

test("preview shows the rendered post before posting", async ({ browser }, info) => {
  const casey = await signedInPage(browser, "casey");
  await casey.goto("/new-topic?category=questions");
  await formReady(casey, info);
  await casey.getByLabel("Title").fill("Preview check");
  await casey.getByLabel("Details").fill("Some **bold** words");
  await casey.getByRole("button", { name: "Preview" }).click();
  await expect(casey.locator(".preview .post-body strong")).toHaveText("bold");
  await expect(casey.getByLabel("Details")).toHaveValue("Some **bold** words");
  await expect(casey.getByLabel("Title")).toHaveValue("Preview check");
});

test("pages of 30 posts with working page links", async ({ browser }, info) => {
  const casey = await signedInPage(browser, "casey");
  const title = `Long thread ${uniqueName("p")}`;
  await startTopic(casey, info, title, "Post one.");
  const topicUrl = casey.url().split("#")[0];
  const topicId = topicUrl.match(/\/t\/(\d+)\//)![1];
  // 29 replies through the server function (any unused 64-hex token is a valid one-shot key),
  // then the 31st post through the page.
  for (let i = 2; i <= 30; i++) {
    const token = Array.from({ length: 64 }, () => "0123456789abcdef"[Math.floor(Math.random() * 16)]).join("");
    const res = await casey.request.post("/api/reply", {
      form: { topic_id: topicId, body: `Reply number ${i}.`, form_token: token },
      // A script on the site's own pages says where it comes from, as a browser's fetch does.
      headers: { Accept: "application/json", Origin: new URL(topicUrl).origin },
    });
    expect(res.status()).toBe(200);
  }
  await casey.goto(topicUrl);
  await expect(casey.locator(".post")).toHaveCount(30);
  await expect(casey.getByRole("navigation", { name: "Pages" })).toHaveCount(0);
  await formReady(casey, info);
  await casey.getByLabel("Your reply").fill("Reply number 31, the first on page two.");
  await casey.getByRole("button", { name: "Post reply" }).click();
  await expect(casey).toHaveURL(/\?page=2&done=posted&post=\d+#post-31$/);
  await expect(casey.locator("#post-31")).toContainText("the first on page two");
  await expect(casey.locator(".post")).toHaveCount(1);

  const pages = casey.getByRole("navigation", { name: "Pages" });
  await pages.getByRole("link", { name: "Page 1" }).click();
  await expect(casey).toHaveURL(topicUrl);
  await expect(casey.locator(".post")).toHaveCount(30);
  await casey.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Next →" }).click();
  await expect(casey.locator("#post-31")).toBeVisible();
});

test("writing while signed out keeps the text through logging in", async ({ page }, info) => {
  await page.goto("/c/praise");
  await page.getByRole("link", { name: "Welcome to our community" }).click();
  await formReady(page, info);
  await page.getByLabel("Your reply").fill("Typed before logging in.");
  await page.getByRole("button", { name: "Post reply" }).click();
  await expect(page).toHaveURL(/\/login\?next=/);
  await logIn(page, "casey", "demo-customer-pass", { here: true });
  await expect(page).toHaveURL(/\/t\/\d+\/welcome-to-our-community#composer$/);
  await expect(page.getByLabel("Your reply")).toHaveValue("Typed before logging in.");
});

test("with JavaScript, Quote adds to what is being typed", async ({ browser }, info) => {
  test.skip(info.project.name !== "js", "without JavaScript, Quote opens the page with the quote");
  const sam = await signedInPage(browser, "sam");
  await sam.goto("/c/praise");
  await sam.getByRole("link", { name: "Welcome to our community" }).click();
  await formReady(sam, info);
  const url = sam.url();
  await sam.getByLabel("Your reply").fill("Typed first.");
  await sam.locator("#post-2").getByRole("link", { name: "Quote" }).click();
  await expect(sam.getByLabel("Your reply")).toHaveValue("Typed first.\n\n@casey wrote:\n> Glad to have a place for this!\n\n");
  expect(sam.url()).toBe(url);
});
