import { expect, test } from "@playwright/test";
import { formReady, logIn, signUp, submitLogIn, uniqueName } from "./helpers";

test("sign up, log out, log in", async ({ page }, info) => {
  const name = uniqueName("e2e");
  const password = "quiet harbour lantern 7741";

  await signUp(page, info, name, password);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByText(`Signed in as ${name}`)).toBeVisible();

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("link", { name: "Log in" })).toBeVisible();
  await expect(page.getByText("Signed in as")).toHaveCount(0);

  await logIn(page, name, password);
  await expect(page).toHaveURL(/\/$/);
});

test("bad input gets its message next to the field", async ({ page }, info) => {
  await signUp(page, info, "has space", "short");
  const username = page.locator("#field-username-error");
  await expect(username).toHaveText("Usernames can't contain spaces.");
  await expect(page.getByLabel("Username")).toHaveAttribute("aria-invalid", "true");
  // A plain form, with JavaScript or without: the error comes back in the URL, with what was
  // typed (never the password).
  expect(page.url()).toContain("__err");
  await expect(page.getByLabel("Username")).toHaveValue("has space");
  await expect(page.getByLabel("Password")).toHaveValue("");

  await formReady(page, info);
  await page.getByLabel("Username").fill(uniqueName("ok"));
  await page.getByLabel("E-mail").fill("ok@example.com");
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator("#field-password-error")).toHaveText("Use at least 10 characters for your password.");
});

test("a wrong login says so without telling whether the account exists", async ({ page }, info) => {
  await submitLogIn(page, "casey", "not the password");
  const message = "That username or e-mail and password don't match. Check both and try again.";
  await expect(page.getByRole("alert")).toHaveText(message);
  await submitLogIn(page, "nobody-by-this-name", "not the password");
  await expect(page.getByRole("alert")).toHaveText(message);
});

test("logging in from a page returns to it", async ({ page }, info) => {
  await page.goto("/no-such-page");
  await page.getByRole("link", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/login\?next=%2Fno-such-page|\/login\?next=\/no-such-page/);
  await logIn(page, "casey", "demo-customer-pass", { here: true });
  await expect(page).toHaveURL(/\/no-such-page$/);
});
