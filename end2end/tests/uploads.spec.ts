import { Browser, expect, Locator, Page, test } from "@playwright/test";
import * as zlib from "node:zlib";
import { formReady, jsOn, signedInPage, uniqueName } from "./helpers";

// Files are made here, at test time: no binary fixtures in the repository.

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A small valid PNG (8-bit RGB) with a colour no other test uses, so every upload is new. */
function png(width = 48, height = 32): Buffer {
  const [r, g, b] = [0, 0, 0].map(() => Math.floor(Math.random() * 256));
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  const rows: number[] = [];
  for (let y = 0; y < height; y++) {
    rows.push(0); // filter: none
    for (let x = 0; x < width; x++) {
      // A diagonal stripe, so the picture is not one flat colour.
      const stripe = (x + y) % 8 < 2;
      rows.push(stripe ? 255 - r : r, stripe ? 255 - g : g, stripe ? 255 - b : b);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    pngChunk("IDAT", zlib.deflateSync(Buffer.from(rows))),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A minimal PDF, padded to exactly `size` bytes (a comment before the end marker). */
function pdf(size = 2048): Buffer {
  const head = `%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n% ${uniqueName("r")}\n%`;
  const tail = "\n%%EOF\n";
  return Buffer.from(head + "x".repeat(size - head.length - tail.length) + tail, "ascii");
}

const HTML_AS_PNG = Buffer.from("<!doctype html><html><body><script>alert(1)</script></body></html>\n");
const PROGRAM = Buffer.concat([Buffer.from("MZ"), Buffer.alloc(126, 0x90)]);

type FileSpec = { name: string; mimeType: string; buffer: Buffer };
const pngFile = (name: string): FileSpec => ({ name, mimeType: "image/png", buffer: png() });

const UPLOAD_URL = String.raw`/uploads/\d+/`;
/** The Markdown an image upload puts in the text: `![stem](/uploads/<id>/<name>)`. */
const imageMarkdown = (stem: string, name: string) =>
  new RegExp(String.raw`!\[${stem}\]\(${UPLOAD_URL}${name.replace(".", "\\.")}\)`);

/** Waits until `img` has loaded real pixels (not a broken image). */
async function expectLoaded(img: Locator) {
  await expect(img).toBeVisible();
  await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBeGreaterThan(0);
}

/** A browser with no cookie at all: what a visitor gets for `url`. */
async function visitorStatus(browser: Browser, url: string): Promise<number> {
  const context = await browser.newContext();
  try {
    return (await context.request.get(url)).status();
  } finally {
    await context.close();
  }
}

async function openNewTopic(page: Page, title: string, body: string) {
  await page.goto("/new-topic?category=questions");
  await formReady(page, test.info());
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Details").fill(body);
}

/** Attaches files in the composer. With JavaScript each is uploaded at once and its Markdown
 * lands in the text (`expectInText`); without it they wait in the field for the form's post. */
async function attach(page: Page, files: FileSpec[], expectInText: RegExp[]) {
  if (files.length) await page.getByLabel("Attach files").setInputFiles(files);
  if (jsOn(test.info())) {
    for (const markdown of expectInText) await expect(page.locator("#field-body")).toHaveValue(markdown);
    await expect(page.locator(".upload-list li")).toHaveCount(0);
  }
}

/** Fires a `paste` (clipboard holding files) or a `drop` (drag holding files) on the editor. */
async function giveFiles(page: Page, how: "paste" | "drop", files: FileSpec[]) {
  const plain = files.map((f) => ({ name: f.name, type: f.mimeType, base64: f.buffer.toString("base64") }));
  await page.locator("#field-body").evaluate(
    (area, { how, plain }) => {
      const data = new DataTransfer();
      for (const f of plain) {
        const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
        data.items.add(new File([bytes], f.name, { type: f.type }));
      }
      const init = { bubbles: true, cancelable: true, composed: true };
      if (how === "paste") {
        area.dispatchEvent(new ClipboardEvent("paste", { ...init, clipboardData: data }));
      } else {
        area.dispatchEvent(new DragEvent("dragenter", { ...init, dataTransfer: data }));
        area.dispatchEvent(new DragEvent("dragover", { ...init, dataTransfer: data }));
        area.dispatchEvent(new DragEvent("drop", { ...init, dataTransfer: data }));
      }
    },
    { how, plain },
  );
}

test("a customer attaches a screenshot to a bug report, staff see it, a moderator hides the post and the image then answers 404 to visitors", async ({ browser }, info) => {
  const casey = await signedInPage(browser, "casey");
  const title = `Export crashes ${uniqueName("u")}`;
  await openNewTopic(casey, title, "Export crashes with this error:");
  if (jsOn(info)) {
    // The upload is held back a moment, so that its progress line can be seen.
    await casey.route("**/uploads", async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await route.continue();
    }, { times: 1 });
    await casey.getByLabel("Attach files").setInputFiles([pngFile("screenshot.png")]);
    await expect(casey.locator(".upload-list li")).toContainText(/(Uploading screenshot\.png… \d+ %|Processing screenshot\.png…)/);
  }
  await attach(casey, jsOn(info) ? [] : [pngFile("screenshot.png")], [imageMarkdown("screenshot", "screenshot.png")]);
  if (jsOn(info)) {
    // The text is kept, the Markdown follows it, and the preview shows the picture.
    await expect(casey.getByLabel("Details")).toHaveValue(/^Export crashes with this error:\n\n!\[screenshot\]/);
    await expectLoaded(casey.locator(".preview .post-body img"));
  }
  await casey.getByRole("button", { name: "Post topic" }).click();
  await expect(casey.getByRole("heading", { level: 1, name: title })).toBeVisible();
  const topicUrl = casey.url().split("#")[0];
  await expect(casey.locator("#post-1 .post-body")).toContainText("Export crashes with this error:");
  const img = casey.locator("#post-1 .post-body img");
  await expectLoaded(img);
  const src = (await img.getAttribute("src"))!;
  expect(src).toMatch(new RegExp(`^${UPLOAD_URL}screenshot\\.png$`));

  // Staff see it; so does a visitor, while the post is public.
  const sam = await signedInPage(browser, "sam");
  await sam.goto(topicUrl);
  await expectLoaded(sam.locator("#post-1 .post-body img"));
  expect(await visitorStatus(browser, src)).toBe(200);

  // A moderator hides the post.
  const admin = await signedInPage(browser, "admin");
  await admin.goto(topicUrl);
  const post = admin.locator("#post-1");
  await post.locator("summary", { hasText: "Moderate" }).click();
  await post.getByLabel("Action", { exact: true }).selectOption("hide");
  await post.getByLabel("Reason (the author sees it)").fill("Screenshots with customer data stay private.");
  await post.getByRole("button", { name: "Apply" }).click();
  await expect(admin.locator("#post-1 .moderation-notice")).toContainText("Hidden by a moderator");

  // Visitors now get "not found" for the picture, and for the topic, whose opening post it was.
  expect(await visitorStatus(browser, src)).toBe(404);
  const visitor = await (await browser.newContext({ javaScriptEnabled: jsOn(info) })).newPage();
  await visitor.goto(topicUrl);
  await expect(visitor.getByText("That topic doesn't exist. It may have been removed.")).toBeVisible();
  await expect(visitor.locator(`img[src="${src}"]`)).toHaveCount(0);
  // Its author still sees their own upload.
  expect((await casey.request.get(src)).status()).toBe(200);
});

test("pasting a screenshot or dropping a file puts it in the text at the cursor; a refused file keeps the text", async ({ browser }, info) => {
  test.skip(!jsOn(info), "paste and drop need JavaScript; the form's Upload button is tested without it");
  const casey = await signedInPage(browser, "casey");
  const title = `Paste and drop ${uniqueName("u")}`;
  await openNewTopic(casey, title, "Line one.\nLine two.");
  const box = casey.locator("#field-body");

  // A screenshot pasted with the cursor after "Line one.": it goes there, on lines of its own.
  await box.evaluate((el: HTMLTextAreaElement) => {
    el.focus();
    el.setSelectionRange(9, 9);
  });
  await giveFiles(casey, "paste", [pngFile("image.png")]);
  await expect(box).toHaveValue(new RegExp(String.raw`^Line one\.\n\n!\[image\]\(${UPLOAD_URL}image\.png\)\n\nLine two\.$`));
  await expectLoaded(casey.locator(".preview .post-body img").first());
  await expect(casey.locator(".upload-list li")).toHaveCount(0);

  // A file dropped on the text, with the cursor at the end.
  await box.evaluate((el: HTMLTextAreaElement) => el.setSelectionRange(el.value.length, el.value.length));
  await giveFiles(casey, "drop", [pngFile("dropped.png")]);
  await expect(box).toHaveValue(new RegExp(String.raw`Line two\.\n\n!\[dropped\]\(${UPLOAD_URL}dropped\.png\)\n\n$`));
  await expect(casey.locator(".preview .post-body img")).toHaveCount(2);
  await expectLoaded(casey.locator(".preview .post-body img").nth(1));

  // Refused files: a web page named .png (dropped) and a program (pasted). Each says why, and
  // the text is exactly as it was.
  const before = await box.inputValue();
  await giveFiles(casey, "drop", [{ name: "evil.png", mimeType: "image/png", buffer: HTML_AS_PNG }]);
  const refusals = casey.locator(".upload-list .field-error");
  await expect(refusals).toHaveCount(1);
  await expect(refusals.first()).toContainText("evil.png");
  await expect(refusals.first()).toContainText("an HTML page this site doesn't take");
  await giveFiles(casey, "paste", [{ name: "setup.exe", mimeType: "application/octet-stream", buffer: PROGRAM }]);
  await expect(refusals).toHaveCount(2);
  await expect(refusals.nth(1)).toContainText("setup.exe");
  await expect(refusals.nth(1)).toContainText("a program this site doesn't take");
  await expect(box).toHaveValue(before);
  // A refusal can be dismissed.
  await casey.locator(".upload-list li").first().getByRole("button", { name: "Dismiss" }).click();
  await expect(refusals).toHaveCount(1);

  // Both pictures are in the post.
  await casey.getByRole("button", { name: "Post topic" }).click();
  await expect(casey.getByRole("heading", { level: 1, name: title })).toBeVisible();
  await expect(casey.locator("#post-1 .post-body img")).toHaveCount(2);
  await expectLoaded(casey.locator("#post-1 .post-body img").first());
  await expectLoaded(casey.locator("#post-1 .post-body img").nth(1));
  await expect(casey.locator("#post-1 .post-body")).toContainText("Line two.");
});

test("without JavaScript, Upload keeps the text, adds the file's Markdown and previews it; a refused file comes back with why", async ({ browser }, info) => {
  test.skip(jsOn(info), "with JavaScript files upload as they are picked");
  const casey = await signedInPage(browser, "casey");
  const title = `Upload button ${uniqueName("u")}`;
  await openNewTopic(casey, title, "The chart is blank:");
  // With no script the Upload button shows.
  const upload = casey.locator("button[name=attach]");
  await expect(upload).toBeVisible();

  await casey.getByLabel("Attach files").setInputFiles([pngFile("chart.png")]);
  await upload.click();
  const box = casey.getByLabel("Details");
  await expect(box).toHaveValue(new RegExp(String.raw`^The chart is blank:\n\n!\[chart\]\(${UPLOAD_URL}chart\.png\)$`));
  await expect(casey.getByLabel("Title")).toHaveValue(title);
  const preview = casey.locator(".preview .post-body img");
  await expect(preview).toBeVisible();
  const src = (await preview.getAttribute("src"))!;
  expect(src).toMatch(new RegExp(`^${UPLOAD_URL}chart\\.png$`));
  const picture = await casey.request.get(src);
  expect(picture.status()).toBe(200);
  expect(picture.headers()["content-type"]).toMatch(/^image\//);

  // A web page named .png: refused, with why beside the editor; the text (with the picture
  // taken before) is kept, and nothing is posted.
  const kept = await box.inputValue();
  await casey.getByLabel("Attach files").setInputFiles([{ name: "evil.png", mimeType: "image/png", buffer: HTML_AS_PNG }]);
  await upload.click();
  await expect(casey.locator("#field-body-error")).toContainText("evil.png");
  await expect(casey.locator("#field-body-error")).toContainText("an HTML page this site doesn't take");
  await expect(box).toHaveValue(kept);
  await expect(casey.getByLabel("Title")).toHaveValue(title);

  // Posting sends the text with the picture.
  await casey.getByRole("button", { name: "Post topic" }).click();
  await expect(casey.getByRole("heading", { level: 1, name: title })).toBeVisible();
  await expect(casey.locator("#post-1 .post-body")).toContainText("The chart is blank:");
  await expect(casey.locator(`#post-1 .post-body img[src="${src}"]`)).toBeVisible();
  expect(await visitorStatus(browser, src)).toBe(200);
});

test("a PDF attachment is a link with its name and size, and downloads as an attachment", async ({ browser }, info) => {
  const casey = await signedInPage(browser, "casey");
  const title = `Invoice is wrong ${uniqueName("u")}`;
  await openNewTopic(casey, title, "See the attached invoice.");
  await attach(
    casey,
    [{ name: "invoice.pdf", mimeType: "application/pdf", buffer: pdf(2048) }],
    [new RegExp(String.raw`\[invoice\.pdf \(2 KB\)\]\(${UPLOAD_URL}invoice\.pdf\)`)],
  );
  await casey.getByRole("button", { name: "Post topic" }).click();
  await expect(casey.getByRole("heading", { level: 1, name: title })).toBeVisible();

  const link = casey.locator("#post-1 .post-body a", { hasText: "invoice.pdf" });
  await expect(link).toHaveText("invoice.pdf (2 KB)");
  const href = (await link.getAttribute("href"))!;
  expect(href).toMatch(new RegExp(`^${UPLOAD_URL}invoice\\.pdf$`));
  await expect(casey.locator("#post-1 .post-body img")).toHaveCount(0);

  const answer = await casey.request.get(href);
  expect(answer.status()).toBe(200);
  expect(answer.headers()["content-type"]).toBe("application/pdf");
  expect(answer.headers()["content-disposition"]).toMatch(/^attachment; filename="invoice\.pdf"/);
  expect((await answer.body()).subarray(0, 5).toString()).toBe("%PDF-");

  // Clicking it downloads the file under its name.
  const sam = await signedInPage(browser, "sam");
  await sam.goto(casey.url().split("#")[0]);
  const [download] = await Promise.all([
    sam.waitForEvent("download"),
    sam.locator("#post-1 .post-body a", { hasText: "invoice.pdf" }).click(),
  ]);
  expect(download.suggestedFilename()).toBe("invoice.pdf");
});
