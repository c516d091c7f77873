import { expect, test } from "@playwright/test";
import { formReady, jsOn, logIn } from "./helpers";

// Search and the similar topics of the new-topic form, with JavaScript on and off (projects).

test("a customer searches a phrase from the header and opens the staff answer", async ({ page }) => {
  await logIn(page, "casey");
  await page.goto("/c/questions");
  const box = page.getByRole("search").first().getByLabel("Search");
  await box.fill('"next invoice"');
  await box.press("Enter");
  await expect(page).toHaveURL(/\/search\?q=/);
  await expect(page.getByText("1 topic found")).toBeVisible();
  const result = page.locator(".search-hit").first();
  // The matched words are marked; the link goes to the exact post.
  await expect(result.locator("mark").first()).toHaveText(/next/i);
  const link = result.getByRole("link", { name: "How do I change the e-mail on my account?" });
  await expect(link).toHaveAttribute("href", /#post-2$/);
  await link.click();
  await expect(page).toHaveURL(/#post-2$/);
  await expect(page.locator("#post-2")).toContainText("Changes apply from the next invoice.");
});

test("filters narrow a search and a bad one is said next to its field", async ({ page }) => {
  await page.goto("/search?q=invoice&category=praise");
  await expect(page.getByText("Nothing matches that.")).toBeVisible();
  await page.goto("/search?q=invoice&author=nobody-at-all");
  await expect(page.getByText("There is no member with that username.")).toBeVisible();
  await expect(page.getByLabel("Author")).toHaveValue("nobody-at-all");
});

test("typing a title that was answered before suggests that topic", async ({ page }, info) => {
  await logIn(page, "casey");
  await page.goto("/new-topic");
  await formReady(page, info);
  await page.getByLabel("Title").fill("change the e-mail for invoices");
  await page.getByLabel("Details").fill("Kept while checking.");
  if (!jsOn(info)) {
    // Without JavaScript the button asks the server and the page comes back with the text.
    await page.getByRole("button", { name: "Check for similar topics" }).click();
    await expect(page.getByLabel("Title")).toHaveValue("change the e-mail for invoices");
    await expect(page.getByLabel("Details")).toHaveValue("Kept while checking.");
  }
  const similar = page.locator("#similar-topics");
  const suggestion = similar.getByRole("link", { name: "How do I change the e-mail on my account?" });
  await expect(suggestion).toBeVisible();
  await expect(similar.getByText("Staff replied").first()).toBeVisible();
  await suggestion.click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("How do I change the e-mail on my account?");
});
