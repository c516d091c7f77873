import { expect, Page, TestInfo } from "@playwright/test";

export const jsOn = (info: TestInfo) => info.project.name === "js";

/** A username no earlier run used (the database is fresh per run, but tests share it). */
export function uniqueName(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

/** With JavaScript on, waits until the form's island has hydrated, so the test exercises the
 * enhanced path rather than racing the wasm download into a plain form post. */
export async function formReady(page: Page, info: TestInfo) {
  if (jsOn(info)) {
    await expect(page.locator("form[data-ready='true']")).toBeVisible();
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

export async function logIn(page: Page, info: TestInfo, login: string, password: string) {
  await page.goto("/login");
  await formReady(page, info);
  await page.getByLabel("Username or e-mail").fill(login);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}
