import AxeBuilder from "@axe-core/playwright";
import { Browser, expect, Page, test, TestInfo } from "@playwright/test";

export const jsOn = (info: TestInfo) => info.project.name === "js";

/** A username no earlier run used (the database is fresh per run, but tests share it). */
export function uniqueName(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

/** With JavaScript on, waits until the page's form island (a composer) has hydrated, so the
 * test exercises the enhanced path rather than racing the wasm download into a plain form post.
 * A page without one (log in, sign up, an ideas list) has only plain forms: nothing to wait for. */
export async function formReady(page: Page, info: TestInfo) {
  // An island's form says data-ready="false" in the server's HTML, so the count is known at once.
  if (jsOn(info) && (await page.locator("form[data-ready]").count()) > 0) {
    // Islands hydrate together: any live enhanced form will do.
    await expect(page.locator("form[data-ready='true']").first()).toBeVisible();
  }
}

export async function signUp(page: Page, info: TestInfo, username: string, password: string) {
  await page.goto("/signup");
  await formReady(page, info);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("E-mail").fill(`${username}@example.com`);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
}

/** The demo accounts' passwords (server `--demo` seed), so tests need only name the account. */
const DEMO_PASSWORDS: Record<string, string> = {
  casey: "demo-customer-pass",
  sam: "demo-staff-pass",
  admin: "demo-admin-pass",
};

function demoPassword(username: string): string {
  const password = DEMO_PASSWORDS[username];
  if (!password) throw new Error(`${username} is not a demo account: give its password`);
  return password;
}

/** Where the log-in form is. `here`: already open on this page (the site sent the browser to
 * /login?next=…, and logging in should return there); otherwise /login is opened first. */
export type LogInFrom = { here?: boolean };

/** Fills and sends the log-in form without waiting for the outcome: for refused log-ins. */
export async function submitLogIn(page: Page, login: string, password: string, from: LogInFrom = {}) {
  if (!from.here) await page.goto("/login");
  await formReady(page, test.info());
  await page.getByLabel("Username or e-mail").fill(login);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

/** Logs in (with the demo account's password unless one is given) and waits until the page
 * says "Signed in as …": acting before the log-in lands would abort it. */
export async function logIn(page: Page, username: string, password?: string, from: LogInFrom = {}) {
  await submitLogIn(page, username, password ?? demoPassword(username), from);
  await expect(page.getByText(`Signed in as ${username}`)).toBeVisible();
}

/** A browser of its own (JavaScript on or off as the project says), logged in as `username`. */
export async function signedInPage(browser: Browser, username: string, password?: string): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled: jsOn(test.info()) });
  const page = await context.newPage();
  await logIn(page, username, password);
  return page;
}

const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/** axe-core's WCAG 2.1 A and AA findings on the page as it is, one line each. */
export async function axe(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  return result.violations.map(
    (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`,
  );
}
