import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "@playwright/test";

/** One e-mail the test SMTP server accepted, decoded as a mail client would. */
export interface Delivered {
  rcpt_tos: string[];
  subject: string;
  text: string;
  data: string;
}

function delivered(): Delivered[] {
  const dir = process.env.BACKYARD_E2E_MAIL_DIR ?? "";
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as Delivered);
}

/** Waits (the outbox worker sends every second) for the one e-mail to `to` that `matches`. */
export async function mailTo(to: string, matches: (m: Delivered) => boolean): Promise<Delivered> {
  let found: Delivered[] = [];
  await expect
    .poll(
      () => {
        found = delivered().filter((m) => m.rcpt_tos.includes(to) && matches(m));
        return found.length;
      },
      { timeout: 15_000 },
    )
    .toBe(1);
  return found[0];
}
