//! The words of the benchmark database (`backyard seed-bench`): titles and bodies in
//! customer-support English, made from word lists with a Zipf-like frequency and a tiny
//! deterministic generator, so that a search for a mid-frequency word finds a few hundred posts
//! out of 500,000, not all of them or none. The text of post `n` of topic `t` depends on `t` and
//! `n` alone: the seed, the statistics and `backyard bench-queries` regenerate the same words.
//!
//! Every list is ordered from the most to the least common word; a list's `Zipf` gives word
//! `r` (from 1) a weight of 1 / (r + q)^s. `q` flattens the head (no word in every post); `s`
//! sets how fast the tail thins (the rare words that queries are made of).
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// xorshift64* seeded through splitmix64: small, fast and good enough to pick words.
pub struct Rng(u64);

fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        // xorshift must never hold 0.
        Rng(splitmix(seed) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A number in 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }
    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

struct Zipf {
    words: &'static [&'static str],
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(words: &'static [&'static str], s: f64, q: f64) -> Self {
        let mut total = 0.0;
        let cumulative = (0..words.len())
            .map(|r| {
                total += 1.0 / (r as f64 + 1.0 + q).powf(s);
                total
            })
            .collect();
        Zipf { words, cumulative }
    }
    fn draw(&self, rng: &mut Rng) -> &'static str {
        let total = *self.cumulative.last().expect("a word list is never empty");
        let x = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
        let i = self.cumulative.partition_point(|&c| c <= x);
        self.words[i.min(self.words.len() - 1)]
    }
}

// Things in the product a customer writes about.
const PRODUCTS: &[&str] = &[
    "account",
    "password",
    "dashboard",
    "report",
    "invoice",
    "app",
    "email",
    "notification",
    "file",
    "order",
    "payment",
    "subscription",
    "profile",
    "calendar",
    "team",
    "project",
    "message",
    "document",
    "customer",
    "ticket",
    "chart",
    "spreadsheet",
    "template",
    "integration",
    "workspace",
    "attachment",
    "receipt",
    "refund",
    "form",
    "folder",
    "comment",
    "reminder",
    "label",
    "widget",
    "invitation",
    "permission",
    "backup",
    "sidebar",
    "toolbar",
    "editor",
    "preview",
    "thumbnail",
    "avatar",
    "signature",
    "timesheet",
    "booking",
    "checkout",
    "cart",
    "coupon",
    "discount",
    "shipment",
    "warehouse",
    "inventory",
    "catalogue",
    "barcode",
    "printer",
    "scanner",
    "webhook",
    "certificate",
    "domain",
    "mailbox",
    "newsletter",
    "survey",
    "contract",
    "quote",
    "estimate",
    "budget",
    "expense",
    "mileage",
    "payslip",
    "payroll",
    "holiday",
    "roster",
    "appointment",
    "waitlist",
    "kiosk",
    "tablet",
    "headset",
    "keyboard",
    "trackpad",
    "monitor",
    "firmware",
    "driver",
    "plugin",
    "changelog",
    "roadmap",
    "sandbox",
    "tenant",
    "subdomain",
    "favicon",
    "watermark",
    "letterhead",
    "footnote",
    "glossary",
    "transcript",
    "subtitle",
    "playlist",
    "podcast",
    "webinar",
    "livestream",
    "whiteboard",
    "kanban",
    "milestone",
    "sprint",
    "backlog",
    "storyboard",
    "moodboard",
    "palette",
    "typeface",
    "ligature",
    "voucher",
    "pallet",
    "manifest",
    "consignment",
    "courier",
    "parcel",
    "locker",
    "turnstile",
    "lanyard",
    "badge",
    "wristband",
    "clipboard",
    "stylus",
    "dongle",
    "hotspot",
    "router",
    "thermostat",
    "doorbell",
    "sprinkler",
    "dehumidifier",
    "treadmill",
    "kettle",
    "blender",
    "espresso",
    "grinder",
    "tripod",
    "gimbal",
    "drone",
    "caravan",
    "trailer",
    "canoe",
    "kayak",
    "hammock",
    "telescope",
    "microscope",
    "metronome",
];

// What a customer wants the product to do; several words each, so each is also a phrase.
const FEATURES: &[&str] = &[
    "dark mode",
    "mobile app",
    "CSV export",
    "two-factor authentication",
    "single sign-on",
    "bulk edit",
    "keyboard shortcuts",
    "push notifications",
    "version history",
    "offline mode",
    "custom fields",
    "recurring invoices",
    "drag and drop",
    "audit log",
    "saved filters",
    "email digest",
    "PDF export",
    "calendar sync",
    "shared inbox",
    "guest access",
    "public API",
    "read receipts",
    "time zone support",
    "spell check",
    "dark theme",
    "desktop app",
    "browser extension",
    "auto save",
    "high contrast mode",
    "screen reader support",
    "right-to-left layout",
    "multi-currency pricing",
    "split payments",
    "partial refunds",
    "gift cards",
    "loyalty points",
    "purchase orders",
    "delivery slots",
    "pick-up points",
    "barcode scanning",
    "label printing",
    "Slack integration",
    "Zapier integration",
    "webhook retries",
    "data retention rules",
    "account deletion",
    "magic links",
    "session timeout",
    "activity feed",
    "quick replies",
    "canned responses",
    "satisfaction survey",
    "knowledge base",
    "live chat",
    "status page",
    "weekly summary",
    "approval workflow",
    "role templates",
    "IP allow lists",
    "usage quotas",
    "sandbox accounts",
    "white labelling",
    "custom domains",
    "scheduled exports",
    "conditional formatting",
    "pivot tables",
    "heat maps",
];

const VERBS: &[&str] = &[
    "export",
    "log in",
    "upload",
    "download",
    "sync",
    "reset",
    "delete",
    "change",
    "update",
    "cancel",
    "print",
    "share",
    "import",
    "install",
    "find",
    "open",
    "save",
    "edit",
    "add",
    "remove",
    "connect",
    "pay",
    "invite",
    "sign up",
    "archive",
    "restore",
    "merge",
    "rename",
    "move",
    "copy",
    "attach",
    "schedule",
    "approve",
    "assign",
    "sort",
    "subscribe",
    "unsubscribe",
    "verify",
    "migrate",
    "duplicate",
    "customise",
    "translate",
    "embed",
    "revoke",
    "transfer",
    "recover",
    "reconcile",
    "forward",
    "snooze",
    "pin",
    "mute",
    "bookmark",
    "annotate",
    "redact",
    "collate",
    "laminate",
    "notarise",
    "calibrate",
];

// How it goes wrong: "the {product} is {problem}".
const PROBLEMS: &[&str] = &[
    "slow",
    "broken",
    "missing",
    "stuck",
    "blank",
    "empty",
    "wrong",
    "frozen",
    "greyed out",
    "duplicated",
    "not loading",
    "not saving",
    "timing out",
    "out of sync",
    "cut off",
    "truncated",
    "misaligned",
    "unresponsive",
    "flickering",
    "delayed",
    "invisible",
    "overlapping",
    "outdated",
    "locked",
    "spinning forever",
    "garbled",
    "corrupted",
    "blurry",
    "too small",
    "unreadable",
    "sluggish",
    "laggy",
    "glitchy",
    "pixelated",
    "stretched",
    "off by one",
    "upside down",
    "zoomed in",
    "reversed",
    "doubled",
    "jumbled",
    "inverted",
    "choppy",
    "mangled",
    "scrambled",
    "lopsided",
    "wobbly",
    "squashed",
    "mirrored",
];

// Where: browsers, systems and devices.
const PLATFORMS: &[&str] = &[
    "Chrome",
    "Firefox",
    "Safari",
    "Android",
    "iPhone",
    "Windows",
    "Edge",
    "Mac",
    "iPad",
    "Linux",
    "Ubuntu",
    "Opera",
    "Brave",
    "ChromeOS",
    "Samsung Internet",
    "Vivaldi",
    "Fedora",
    "Debian",
    "Pixel",
    "Galaxy",
    "ThinkPad",
    "Chromebook",
    "Kindle",
    "Surface",
    "LibreWolf",
    "Waterfox",
    "Falkon",
    "Konqueror",
    "Midori",
    "Lynx",
];

const TIMES: &[&str] = &[
    "since the last update",
    "since yesterday",
    "this morning",
    "for a few days",
    "since Monday",
    "every time",
    "since last week",
    "at the end of the month",
    "after I changed my plan",
    "since version 4.2",
    "during the night",
    "on the first of the month",
    "since the migration",
    "twice a day",
    "since we added a second team",
];

// In code blocks, as pasted from a console or a log.
const ERRORS: &[&str] = &[
    "Error 500: Internal Server Error",
    "TypeError: cannot read properties of undefined (reading 'rows')",
    "net::ERR_CONNECTION_RESET",
    "413 Request Entity Too Large",
    "502 Bad Gateway",
    "504 Gateway Timeout",
    "SSL_ERROR_BAD_CERT_DOMAIN",
    "QuotaExceededError: the quota has been exceeded",
    "Invalid CSRF token",
    "ERR_TOO_MANY_REDIRECTS",
    "connect ECONNREFUSED 127.0.0.1:443",
    "Uncaught RangeError: Maximum call stack size exceeded",
    "SyntaxError: Unexpected token '<' in JSON at position 0",
    "java.lang.NullPointerException at InvoiceExporter.run(InvoiceExporter.java:212)",
    "DOMException: The operation is insecure.",
    "Error: ENOSPC: no space left on device",
    "403 Forbidden: missing scope reports:write",
    "PaymentDeclined: card_declined (insufficient_funds)",
    "SMTP 550 5.7.1 relaying denied",
    "Webhook delivery failed after 5 attempts (HTTP 410)",
    "Access to fetch blocked by CORS policy: No 'Access-Control-Allow-Origin' header",
    "ResizeObserver loop limit exceeded",
    "sqlite3.OperationalError: database is locked",
    "Sync conflict: the file was changed on another device",
    "PDF generation failed: font 'Helvetica-Oblique' not found",
    "Error E1042: the export job was cancelled",
    "Error E2210: the invoice number already exists",
    "Error E3307: the calendar feed could not be read",
    "Error E4019: the barcode is not valid",
    "Error E5151: the session has expired",
];

// Accented words, as customers write them: searches must fold them (café = cafe).
const BUSINESSES: &[&str] = &[
    "café",
    "bakery",
    "brasserie",
    "crêperie",
    "pâtisserie",
    "boutique",
    "bistro",
    "atelier",
    "florist",
    "bookshop",
];
const CITIES: &[&str] = &[
    "Zürich",
    "São Paulo",
    "Montréal",
    "Kraków",
    "Malmö",
    "Düsseldorf",
    "Québec",
    "Reykjavík",
    "Łódź",
    "Tromsø",
    "Besançon",
    "Göteborg",
    "Leeds",
    "Porto",
    "Ghent",
];
const DISHES: &[&str] = &[
    "crème brûlée",
    "jalapeño poppers",
    "soufflé",
    "açaí bowls",
    "crêpes",
    "smørrebrød",
    "phở",
    "piña colada",
    "entrée salads",
    "käsespätzle",
];

// About one post in a hundred is a question in Japanese, Chinese or Korean.
const CJK: &[&str] = &[
    "エクスポートボタンを押しても何も起こりません。",
    "パスワードをリセットできません。",
    "請求書のダウンロードがとても遅いです。",
    "ログインするとエラーが表示されます。",
    "ダークモードはいつ対応しますか？",
    "スマホアプリで通知が届きません。",
    "カレンダーの同期が止まっています。",
    "領収書の宛名を変更したいです。",
    "定期請求書の設定方法を教えてください。",
    "サポートの回答ありがとうございます。",
    "导出报表的时候一直在转圈。",
    "我无法重置密码，请帮忙。",
    "发票下载很慢。",
    "登录后页面是空白的。",
    "请问什么时候支持深色模式？",
    "手机上收不到通知。",
    "日历同步失败了。",
    "退款什么时候到账？",
    "我想修改发票抬头。",
    "谢谢客服的帮助。",
    "비밀번호를 재설정할 수 없습니다.",
    "내보내기 버튼이 작동하지 않아요.",
    "영수증을 다운로드할 수 없어요.",
    "다크 모드를 지원해 주세요.",
];
/// Strings of two or more CJK characters the statistics count (substring search).
const CJK_TERMS: &[&str] = &[
    "請求書",
    "パスワード",
    "通知",
    "发票",
    "深色模式",
    "同期",
    "退款",
    "비밀번호",
    "영수증",
];

const GREETINGS: &[&str] = &[
    "Hi,",
    "Hello,",
    "Hi team,",
    "Hello support,",
    "Good morning,",
];
const CLOSINGS: &[&str] = &[
    "Thanks in advance.",
    "Any ideas?",
    "Thanks!",
    "Please advise.",
    "Cheers.",
    "Is this a known issue?",
    "Appreciate any help.",
];

const SMALL_TALK: &[&str] = &[
    "We use it every day and most of the time it works well.",
    "I will try that tomorrow and report back.",
    "Let me know if you need screenshots.",
    "Our accountant noticed it first.",
    "It was fine last month.",
    "I have cleared the cache and logged in again, no change.",
    "Not a big deal, but it is annoying.",
    "My colleague sees the same thing on her laptop.",
    "Happy to test a beta if that helps.",
    "This is the third time this quarter.",
    "Thank you for looking into it so quickly.",
    "We are on the yearly plan, if that matters.",
];

struct Vocabulary {
    products: Zipf,
    features: Zipf,
    verbs: Zipf,
    problems: Zipf,
    platforms: Zipf,
    times: Zipf,
    errors: Zipf,
    /// Multi-word features and problems: the phrases a post can hold, by bit.
    phrases: Vec<&'static str>,
    phrase_bit: HashMap<&'static str, u32>,
}

fn vocabulary() -> &'static Vocabulary {
    static V: OnceLock<Vocabulary> = OnceLock::new();
    V.get_or_init(|| {
        let phrases: Vec<&'static str> = FEATURES
            .iter()
            .chain(PROBLEMS)
            .copied()
            .filter(|w| w.contains(' '))
            .take(128)
            .collect();
        let phrase_bit = phrases
            .iter()
            .enumerate()
            .map(|(i, p)| (*p, i as u32))
            .collect();
        Vocabulary {
            products: Zipf::new(PRODUCTS, 1.6, 3.0),
            features: Zipf::new(FEATURES, 1.3, 1.0),
            verbs: Zipf::new(VERBS, 1.2, 2.0),
            problems: Zipf::new(PROBLEMS, 1.3, 1.0),
            platforms: Zipf::new(PLATFORMS, 1.7, 1.0),
            times: Zipf::new(TIMES, 1.0, 1.0),
            errors: Zipf::new(ERRORS, 1.0, 2.0),
            phrases,
            phrase_bit,
        }
    })
}

/// What a topic is about: its first post asks it, some replies come back to it.
#[derive(Clone)]
pub struct Subject {
    product: &'static str,
    verb: &'static str,
    problem: &'static str,
    feature: &'static str,
    platform: &'static str,
    cjk: bool,
}

pub struct TopicText {
    pub title: String,
    pub subject: Subject,
}

/// A body as written, and which of the tracked phrases it holds (bit i: `phrases()[i]`).
pub struct PostText {
    pub source: String,
    pub phrases: u128,
}

/// Categories, by the index the seed gives them: 0 product feedback, 1 questions, 2 bug
/// reports, 3 praise.
pub fn topic(t: u64, category: usize) -> TopicText {
    let v = vocabulary();
    let mut rng = Rng::new(t.wrapping_mul(0x1_0000_0001));
    let subject = Subject {
        product: v.products.draw(&mut rng),
        verb: v.verbs.draw(&mut rng),
        problem: v.problems.draw(&mut rng),
        feature: v.features.draw(&mut rng),
        platform: v.platforms.draw(&mut rng),
        cjk: rng.chance(1),
    };
    let s = &subject;
    let title = if s.cjk {
        let mut title = CJK[rng.below(CJK.len())].to_string();
        title.pop(); // the full stop
        title
    } else {
        match (category, rng.below(4)) {
            (0, 0) => format!("Feature request: {} for the {}", s.feature, s.product),
            (0, 1) => format!("Please add {} to the {}", s.feature, s.product),
            (0, 2) => format!("Let us {} the {} in bulk", s.verb, s.product),
            (0, _) => format!("{} in the {} settings", capital(s.feature), s.product),
            (1, 0) => format!("How do I {} the {}?", s.verb, s.product),
            (1, 1) => format!(
                "Is there a way to {} a {} on {}?",
                s.verb, s.product, s.platform
            ),
            (1, 2) => format!("Can I {} my {} with {}?", s.verb, s.product, s.feature),
            (1, _) => format!("Question about {} and the {}", s.feature, s.product),
            (2, 0) => format!("{} {} on {}", capital(s.product), s.problem, s.platform),
            (2, 1) => format!("Can't {} the {} since the update", s.verb, s.product),
            (2, 2) => format!(
                "{} is {} when I {} it",
                capital(s.product),
                s.problem,
                s.verb
            ),
            (2, _) => format!("{} {} with {} on", capital(s.product), s.problem, s.feature),
            (_, 0) => format!("Love the new {}", s.feature),
            (_, 1) => format!("Thanks for fixing the {}", s.product),
            (_, 2) => format!("The {} is so much better with {}", s.product, s.feature),
            (_, _) => format!("Great job on the {} for {}", s.feature, s.platform),
        }
    };
    TopicText { title, subject }
}

fn capital(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

struct Writer<'a> {
    rng: Rng,
    v: &'a Vocabulary,
    text: String,
    phrases: u128,
}

impl Writer<'_> {
    fn note(&mut self, w: &'static str) -> &'static str {
        if let Some(bit) = self.v.phrase_bit.get(w) {
            self.phrases |= 1 << bit;
        }
        w
    }
    fn product(&mut self) -> &'static str {
        self.v.products.draw(&mut self.rng)
    }
    fn feature(&mut self) -> &'static str {
        let w = self.v.features.draw(&mut self.rng);
        self.note(w)
    }
    fn verb(&mut self) -> &'static str {
        self.v.verbs.draw(&mut self.rng)
    }
    fn problem(&mut self) -> &'static str {
        let w = self.v.problems.draw(&mut self.rng);
        self.note(w)
    }
    fn platform(&mut self) -> &'static str {
        self.v.platforms.draw(&mut self.rng)
    }
    fn time(&mut self) -> &'static str {
        self.v.times.draw(&mut self.rng)
    }
    fn sentence(&mut self, s: &str) {
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push(' ');
        }
        self.text.push_str(s);
    }
    fn paragraph(&mut self) {
        if !self.text.is_empty() {
            self.text.push_str("\n\n");
        }
    }

    /// One sentence about something that goes wrong, a third of the time about the subject.
    fn complaint(&mut self, s: &Subject) {
        let on_subject = self.rng.chance(35);
        let (p, x) = if on_subject {
            (s.product, self.note(s.problem))
        } else {
            (self.product(), self.problem())
        };
        let line = match self.rng.below(8) {
            0 => format!("When I try to {} the {p}, it is {x}.", self.verb()),
            1 => format!("The {p} has been {x} {}.", self.time()),
            2 => format!("I can't {} my {p} on {}.", self.verb(), self.platform()),
            3 => format!(
                "It happens on {} and {}, but not on {}.",
                self.platform(),
                self.platform(),
                self.platform()
            ),
            4 => format!(
                "Our {} depends on the {p}, so this is urgent for us.",
                self.product()
            ),
            5 => format!("After I {} the {p} it shows up {x}.", self.verb()),
            6 => format!(
                "Every {} in the {p} looks {x} on {}.",
                self.product(),
                self.platform()
            ),
            _ => format!(
                "We have {} people using the {p} and it is {x} for all of them.",
                2 + self.rng.below(60)
            ),
        };
        self.sentence(&line);
    }

    fn error_block(&mut self) {
        let e = self.v.errors.draw(&mut self.rng);
        self.paragraph();
        self.text.push_str("This is what I get:\n\n```\n");
        self.text.push_str(e);
        self.text.push_str("\n```");
        self.paragraph();
    }

    fn steps(&mut self, s: &Subject) {
        self.paragraph();
        let p = s.product;
        let lines = [
            format!("1. Open the {p}"),
            format!("2. Click **{}**", capital(self.verb())),
            format!("3. Choose the {} and wait", self.product()),
            format!("4. The {p} is {}", self.problem()),
        ];
        let n = 2 + self.rng.below(3);
        self.text.push_str(&lines[..n].join("\n"));
        self.paragraph();
    }

    fn local(&mut self) {
        let biz = self.rng.pick(BUSINESSES);
        let city = self.rng.pick(CITIES);
        let line = match self.rng.below(4) {
            0 => format!(
                "We run a small {biz} in {city} and use the {} every day.",
                self.product()
            ),
            1 => format!("Sorry if this is a naïve question, we are a {biz} in {city}."),
            2 => format!(
                "I tried to upload my résumé as a {} but it was {}.",
                self.product(),
                self.problem()
            ),
            _ => format!(
                "Our {biz} menu has {} and the {} shows them {}.",
                self.rng.pick(DISHES),
                self.product(),
                self.problem()
            ),
        };
        self.sentence(&line);
    }

    fn wish(&mut self, s: &Subject) {
        let f = if self.rng.chance(50) {
            self.note(s.feature)
        } else {
            self.feature()
        };
        let line = match self.rng.below(5) {
            0 => format!("It would be great if the {} supported {f}.", self.product()),
            1 => format!("Please add {f} to the {}.", self.product()),
            2 => format!("We would pay extra for {f}."),
            3 => format!(
                "Without {f} we have to {} every {} by hand.",
                self.verb(),
                self.product()
            ),
            _ => format!("+1 for {f}, our {} team needs it too.", self.product()),
        };
        self.sentence(&line);
    }
}

/// The body of post `n` of topic `t` (about `subject`); `staff` picks a staff member's voice.
pub fn post(t: u64, n: u64, subject: &Subject, staff: bool) -> PostText {
    let v = vocabulary();
    let mut w = Writer {
        rng: Rng::new((t << 24) ^ n ^ 0x5EED),
        v,
        text: String::new(),
        phrases: 0,
    };
    let s = subject;
    if (s.cjk && (n == 1 || w.rng.chance(40))) || w.rng.below(1000) < 5 {
        // A CJK question or answer, sometimes with a line of English.
        for _ in 0..1 + w.rng.below(3) {
            let line = w.rng.pick(CJK);
            w.sentence(line);
        }
        if w.rng.chance(30) {
            w.sentence("Sorry for my English.");
            w.complaint(s);
        }
    } else if n == 1 {
        if w.rng.chance(40) {
            let g = w.rng.pick(GREETINGS);
            w.sentence(g);
            w.paragraph();
        }
        for _ in 0..1 + w.rng.below(3) {
            w.complaint(s);
        }
        if w.rng.chance(30) {
            w.wish(s);
        }
        if w.rng.chance(25) {
            w.steps(s);
        }
        if w.rng.chance(20) {
            w.error_block();
        }
        if w.rng.chance(4) {
            w.local();
        }
        let c = w.rng.pick(CLOSINGS);
        w.sentence(c);
    } else if staff {
        let p = if w.rng.chance(50) {
            s.product
        } else {
            w.product()
        };
        let line = match w.rng.below(6) {
            0 => format!(
                "Thanks for the report. We could reproduce the {} {p} on {} and a fix ships next week.",
                w.problem(),
                w.platform()
            ),
            1 => format!(
                "You can {} the {p} from **Settings > {}**.",
                w.verb(),
                capital(w.product())
            ),
            2 => format!(
                "This is caused by {}; turning it off fixes it for now.",
                w.feature()
            ),
            3 => format!("Could you send us the {p} ID and the time it happened?"),
            4 => format!(
                "{} is on our roadmap for the next quarter.",
                capital(w.feature())
            ),
            _ => format!(
                "We have released a fix for the {p}. Please {} it again and let us know.",
                w.verb()
            ),
        };
        w.sentence(&line);
        if w.rng.chance(30) {
            w.sentence(
                "See [the help article](https://help.example.com/articles/42) for the details.",
            );
        }
        if w.rng.chance(20) {
            w.steps(s);
        }
    } else {
        match w.rng.below(10) {
            0 | 1 => {
                let line = format!(
                    "Same here, the {} is {} on {} too.",
                    s.product,
                    w.note(s.problem),
                    w.platform()
                );
                w.sentence(&line);
                if w.rng.chance(40) {
                    w.complaint(s);
                }
            }
            2 => w.sentence("Thanks, that fixed it!"),
            3 | 4 => {
                w.wish(s);
                if w.rng.chance(50) {
                    w.wish(s);
                }
            }
            5 => {
                let line = format!(
                    "Any update on this? Our {} is still {}.",
                    w.product(),
                    w.problem()
                );
                w.sentence(&line);
            }
            6 => {
                let line = format!(
                    "I found a workaround: {} the {} first, then {} it again.",
                    w.verb(),
                    w.product(),
                    w.verb()
                );
                w.sentence(&line);
            }
            7 => {
                let problem = w.note(s.problem);
                w.text
                    .push_str(&format!("> The {} is {problem}\n\n", s.product));
                w.complaint(s);
                w.error_block();
            }
            8 => {
                w.complaint(s);
                w.complaint(s);
                if w.rng.chance(15) {
                    w.local();
                }
            }
            _ => {
                let line = format!(
                    "The new {} is fantastic, thank you for making the {} so much faster.",
                    w.feature(),
                    w.product()
                );
                w.sentence(&line);
            }
        }
    }
    // Replies run longer than one sentence: more about the problem, a wish, some small talk.
    if n > 1 && w.text.is_ascii() {
        for _ in 0..w.rng.below(4) {
            match w.rng.below(4) {
                0 => w.complaint(s),
                1 => w.wish(s),
                _ => {
                    let line = w.rng.pick(SMALL_TALK);
                    w.sentence(line);
                }
            }
        }
    }
    PostText {
        source: w.text.trim_end().to_string(),
        phrases: w.phrases,
    }
}

/// The tracked phrases, by bit.
pub fn phrases() -> &'static [&'static str] {
    &vocabulary().phrases
}

/// An article's body for `week`.
pub fn article(week: u64) -> String {
    let subject = topic(week.wrapping_add(1 << 40), 0).subject;
    let mut text = String::new();
    for n in 1..=3 {
        text.push_str(&post(week.wrapping_add(1 << 40), n + 100, &subject, n % 2 == 0).source);
        text.push_str("\n\n");
    }
    text
}

/// Lower-case words of `text` with accents folded (café: cafe): roughly the tokens a search
/// engine keeps, for the statistics.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().flat_map(fold).collect())
}

fn fold(c: char) -> impl Iterator<Item = char> {
    let base = match c {
        'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' | 'À' | 'Á' | 'Â' | 'Ä' | 'Ã' | 'Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Í' => 'i',
        'ñ' | 'Ñ' => 'n',
        // Not ø or ł: letters of their own, not accented ones, so the engines' folding (FTS5's
        // remove_diacritics) keeps them.
        'ò' | 'ó' | 'ô' | 'ö' | 'õ' | 'Ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ü' => 'u',
        'ź' | 'ż' => 'z',
        _ => c,
    };
    base.to_lowercase()
}

fn has_cjk(text: &str) -> bool {
    text.chars()
        .any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}' | '\u{ac00}'..='\u{d7af}'))
}

/// How often the words occur, over what the seed writes (posts; a topic's title counts with its
/// first post).
#[derive(Default)]
pub struct Stats {
    pub posts: u64,
    pub topics: u64,
    /// word: (posts, topics) that contain it.
    pub words: HashMap<String, (u64, u64)>,
    last_topic: HashMap<String, u64>,
    pub phrases: Vec<(u64, u64)>,
    phrase_topics: Vec<u64>,
    pub cjk_terms: Vec<(u64, u64)>,
    cjk_topics: Vec<u64>,
    pub cjk_posts: u64,
}

/// One query for the benchmark, with the posts and topics the seed wrote that match it.
pub struct Query {
    pub kind: &'static str,
    pub text: String,
    pub posts: u64,
    pub topics: u64,
}

/// The seed's sizes, as far as the words are concerned.
pub struct Shape {
    pub topics: u64,
    pub posts: u64,
}

impl Shape {
    /// Posts in topic `t`: the first has exactly `first`; the rest share what is left evenly.
    pub fn posts_in(&self, t: u64, first: u64) -> u64 {
        let rest = self.posts.saturating_sub(first);
        let others = self.topics.saturating_sub(1).max(1);
        if t == 1 {
            first.min(self.posts)
        } else {
            rest / others + u64::from(t - 2 < rest % others)
        }
    }
}

/// Who writes post `n` of topic `t` (member ids from 1); every 50th member is staff.
pub fn author(t: u64, n: u64, users: u64) -> u64 {
    if n == 1 {
        (t * 7919) % users + 1
    } else {
        (t * 31 + n * 17) % users + 1
    }
}

pub fn is_staff(member: u64) -> bool {
    member.is_multiple_of(50)
}

/// The title of topic 1, which bench/pages.sh opens.
pub const BENCH_TOPIC_TITLE: &str = "Bench topic with sixty posts";

/// Every (topic, post number, body) the seed writes, in order, with its topic's title.
pub fn each_post(
    shape: &Shape,
    first: u64,
    users: u64,
    mut f: impl FnMut(u64, u64, &str, &PostText),
) {
    for t in 1..=shape.topics {
        let text = topic(t, (t % 4) as usize);
        let title = if t == 1 {
            BENCH_TOPIC_TITLE.to_string()
        } else {
            text.title.clone()
        };
        for n in 1..=shape.posts_in(t, first) {
            let body = post(t, n, &text.subject, is_staff(author(t, n, users)));
            f(t, n, &title, &body);
        }
    }
}

/// The single words of the content lists (products, features, verbs, problems, platforms,
/// places): what people search for, unlike the small talk around them.
fn content_words() -> HashSet<String> {
    [
        PRODUCTS, FEATURES, VERBS, PROBLEMS, PLATFORMS, BUSINESSES, CITIES, DISHES,
    ]
    .iter()
    .flat_map(|list| list.iter())
    .flat_map(|item| words(item).collect::<Vec<_>>())
    .collect()
}

const STOP: &[&str] = &[
    "the",
    "and",
    "for",
    "with",
    "this",
    "that",
    "when",
    "have",
    "from",
    "every",
    "since",
    "there",
    "about",
    "after",
    "again",
    "thanks",
    "please",
    "would",
    "could",
    "them",
    "they",
    "what",
    "first",
    "then",
    "other",
    "https",
    "example",
    "articles",
    "help",
    "details",
    "question",
    "sorry",
    "update",
    "using",
    "people",
    "great",
    "shows",
    "something",
];

impl Stats {
    pub fn collect(shape: &Shape, first: u64, users: u64) -> Stats {
        let mut st = Stats {
            phrases: vec![(0, 0); phrases().len()],
            phrase_topics: vec![0; phrases().len()],
            cjk_terms: vec![(0, 0); CJK_TERMS.len()],
            cjk_topics: vec![0; CJK_TERMS.len()],
            ..Default::default()
        };
        let mut seen: HashSet<String> = HashSet::new();
        let mut last = 0;
        each_post(shape, first, users, |t, n, title, body| {
            st.posts += 1;
            if t != last {
                st.topics += 1;
                last = t;
            }
            seen.clear();
            seen.extend(words(&body.source));
            if n == 1 {
                seen.extend(words(title));
            }
            for w in seen.drain() {
                let topic_seen = st.last_topic.get(&w) == Some(&t);
                let e = st.words.entry(w.clone()).or_default();
                e.0 += 1;
                if !topic_seen {
                    e.1 += 1;
                    st.last_topic.insert(w, t);
                }
            }
            for (i, (posts, topics)) in st.phrases.iter_mut().enumerate() {
                if body.phrases & (1 << i) != 0 {
                    *posts += 1;
                    if st.phrase_topics[i] != t {
                        *topics += 1;
                        st.phrase_topics[i] = t;
                    }
                }
            }
            if has_cjk(&body.source) || (n == 1 && has_cjk(title)) {
                st.cjk_posts += 1;
                for (i, term) in CJK_TERMS.iter().enumerate() {
                    if body.source.contains(term) || (n == 1 && title.contains(term)) {
                        st.cjk_terms[i].0 += 1;
                        if st.cjk_topics[i] != t {
                            st.cjk_terms[i].1 += 1;
                            st.cjk_topics[i] = t;
                        }
                    }
                }
            }
        });
        st
    }

    /// Words for the benchmark that the seed wrote into a few hundred posts: one-word queries
    /// (no other word starts like them, so prefix matching and stemming find the same posts),
    /// an accented word typed without its accent, CJK terms, phrases, three-word queries and
    /// titles for the similar-topics lookup.
    pub fn queries(&self, shape: &Shape, first: u64, users: u64) -> Vec<Query> {
        // "A few hundred" of 500,000 posts, scaled to smaller seeds.
        let scale = self.posts as f64 / 500_000.0;
        let lo = (150.0 * scale).max(3.0) as u64;
        let hi = (700.0 * scale).max(10.0) as u64;
        let content = content_words();
        let usable = |w: &str| {
            w.len() >= 5
                && content.contains(w)
                && w.chars().all(|c| c.is_ascii_lowercase())
                && !STOP.contains(&w)
                && !self
                    .words
                    .keys()
                    .any(|o| o != w && o.starts_with(&w[..w.len().min(w.len().max(6) - 2)]))
        };
        let mut out = Vec::new();
        let mut one: Vec<(&String, &(u64, u64))> = self
            .words
            .iter()
            .filter(|(w, (p, _))| (lo..=hi).contains(p) && usable(w))
            .collect();
        one.sort_by(|a, b| a.1.0.cmp(&b.1.0).then(a.0.cmp(b.0)));
        for q in spread(&one, 6) {
            out.push(Query {
                kind: "word",
                text: q.0.clone(),
                posts: q.1.0,
                topics: q.1.1,
            });
        }
        // Accented words, typed without accents.
        let mut accented: Vec<(String, u64, u64)> = BUSINESSES
            .iter()
            .chain(CITIES)
            .chain(&["naïve", "résumé"])
            .filter(|w| !w.is_ascii() && !w.contains(' '))
            .filter_map(|w| {
                let folded: String = words(w).collect();
                self.words.get(&folded).map(|&(p, t)| (folded, p, t))
            })
            .filter(|(_, p, _)| *p >= lo / 2)
            .collect();
        accented.sort_by(|a, b| {
            a.1.abs_diff(lo * 2)
                .cmp(&b.1.abs_diff(lo * 2))
                .then(a.0.cmp(&b.0))
        });
        // café, the issue's example, first whatever its count.
        if let Some(i) = accented.iter().position(|(w, _, _)| w == "cafe") {
            let cafe = accented.remove(i);
            accented.insert(0, cafe);
        }
        for (w, p, t) in accented.into_iter().take(2) {
            out.push(Query {
                kind: "accent",
                text: w,
                posts: p,
                topics: t,
            });
        }
        let mut cjk: Vec<(usize, &(u64, u64))> = self.cjk_terms.iter().enumerate().collect();
        cjk.sort_by_key(|(i, (p, _))| (p.abs_diff(lo * 2), *i));
        for (i, (p, t)) in cjk.into_iter().take(2) {
            out.push(Query {
                kind: "cjk",
                text: CJK_TERMS[i].into(),
                posts: *p,
                topics: *t,
            });
        }
        let mut phrase: Vec<(usize, &(u64, u64))> = self
            .phrases
            .iter()
            .enumerate()
            .filter(|(_, (p, _))| (lo / 3..=hi * 2).contains(p))
            .collect();
        // The phrases nearest a few hundred posts.
        phrase.sort_by_key(|(i, (p, _))| (p.abs_diff(lo * 2), *i));
        phrase.truncate(4);
        phrase.sort_by_key(|(i, (p, _))| (*p, *i));
        for (i, (p, t)) in phrase {
            out.push(Query {
                kind: "phrase",
                text: format!("\"{}\"", phrases()[i]),
                posts: *p,
                topics: *t,
            });
        }
        out.extend(self.three_words(shape, first, users, lo / 5, hi));
        // What a customer types as a new topic's title: an existing title without its last word
        // (still being typed), from titles with at least three words worth matching.
        let typed: Vec<String> = (2..=shape.topics)
            .map(|t| {
                let title = topic(t, (t % 4) as usize).title;
                let mut typed: Vec<&str> = title.split(' ').collect();
                typed.pop();
                typed.join(" ")
            })
            .filter(|typed| {
                words(typed)
                    .filter(|w| w.len() >= 4 && !STOP.contains(&w.as_str()))
                    .count()
                    >= 3
            })
            .collect();
        for text in spread(&typed, 6) {
            out.push(Query {
                kind: "similar",
                text,
                posts: 0,
                topics: 0,
            });
        }
        out
    }

    /// Three common words that occur together in some posts: candidates from the words in 1% to
    /// 15% of posts, counted over a second pass of the text.
    fn three_words(&self, shape: &Shape, first: u64, users: u64, lo: u64, hi: u64) -> Vec<Query> {
        let content = content_words();
        let mut common: Vec<(&String, u64)> = self
            .words
            .iter()
            .filter(|(w, (p, _))| {
                content.contains(w.as_str())
                    && *p * 100 >= self.posts
                    && *p * 100 <= self.posts * 15
                    && w.len() >= 4
                    && w.chars().all(|c| c.is_ascii_lowercase())
                    && !STOP.contains(&w.as_str())
            })
            .map(|(w, (p, _))| (w, *p))
            .collect();
        common.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        common.truncate(64);
        let index: HashMap<&str, u32> = common
            .iter()
            .enumerate()
            .map(|(i, (w, _))| (w.as_str(), i as u32))
            .collect();
        let mut masks = Vec::with_capacity(self.posts as usize);
        let mut topic_of = Vec::with_capacity(self.posts as usize);
        each_post(shape, first, users, |t, n, title, body| {
            let mut mask = 0u64;
            let title_words = if n == 1 { Some(words(title)) } else { None };
            for w in words(&body.source).chain(title_words.into_iter().flatten()) {
                if let Some(i) = index.get(w.as_str()) {
                    mask |= 1 << i;
                }
            }
            masks.push(mask);
            topic_of.push(t);
        });
        let mut rng = Rng::new(3);
        let mut found = Vec::new();
        let k = common.len();
        for _ in 0..if k >= 3 { 600 } else { 0 } {
            let (a, b, c) = (rng.below(k), rng.below(k), rng.below(k));
            if a == b || b == c || a == c {
                continue;
            }
            let want = (1u64 << a) | (1 << b) | (1 << c);
            let (mut posts, mut topics, mut last) = (0, 0, 0);
            for (m, t) in masks.iter().zip(&topic_of) {
                if m & want == want {
                    posts += 1;
                    if *t != last {
                        topics += 1;
                        last = *t;
                    }
                }
            }
            if (lo.max(2)..=hi).contains(&posts) {
                let mut ws = [a, b, c];
                ws.sort_unstable();
                let text = ws
                    .iter()
                    .map(|&i| common[i].0.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                if !found.iter().any(|q: &Query| q.text == text) {
                    found.push(Query {
                        kind: "three",
                        text,
                        posts,
                        topics,
                    });
                }
            }
            if found.len() == 6 {
                break;
            }
        }
        found
    }

    /// How many words occur in how many posts: the shape of the frequency curve.
    pub fn histogram(&self) -> Vec<(String, usize)> {
        let bands: [(u64, u64, &str); 7] = [
            (0, 10, "1-9"),
            (10, 100, "10-99"),
            (100, 1000, "100-999"),
            (1000, 10_000, "1,000-9,999"),
            (10_000, 50_000, "10,000-49,999"),
            (50_000, 250_000, "50,000-249,999"),
            (250_000, u64::MAX, "250,000+"),
        ];
        bands
            .iter()
            .map(|(lo, hi, name)| {
                let n = self
                    .words
                    .values()
                    .filter(|(p, _)| (lo..hi).contains(&p))
                    .count();
                (format!("in {name} posts"), n)
            })
            .collect()
    }
}

/// Picks `n` items spread evenly over `items` (all of them when there are fewer).
fn spread<T: Clone>(items: &[T], n: usize) -> Vec<T> {
    if items.len() <= n {
        return items.to_vec();
    }
    (0..n)
        .map(|i| items[i * (items.len() - 1) / (n - 1).max(1)].clone())
        .collect()
}

/// The queries as lines of `kind<TAB>query<TAB>posts<TAB>topics` (what bench/search.py reads).
pub fn tsv(queries: &[Query]) -> String {
    queries
        .iter()
        .map(|q| format!("{}\t{}\t{}\t{}\n", q.kind, q.text, q.posts, q.topics))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_post_every_time() {
        let a = topic(17, 2);
        let b = topic(17, 2);
        assert_eq!(a.title, b.title);
        assert_eq!(
            post(17, 3, &a.subject, false).source,
            post(17, 3, &b.subject, false).source
        );
        assert_ne!(
            post(17, 3, &a.subject, false).source,
            post(17, 4, &a.subject, false).source
        );
    }

    #[test]
    fn folding() {
        assert_eq!(
            words("Café in Zürich, naïve").collect::<Vec<_>>(),
            ["cafe", "in", "zurich", "naive"]
        );
    }
}
