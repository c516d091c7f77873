//! What a received message says, read from its bytes alone (no database): the reply addresses it
//! was sent to, who sent it, its Message-ID and the member's own words: the reply text with the
//! quoted original and the signature taken off. A delivery status notification (a bounce) gives
//! the addresses that failed instead, and an auto-reply is recognised so it is never posted.
//!
//! MIME, transfer encodings and charsets are mail-parser's; the HTML of an HTML-only reply is
//! read as a tree (scraper), so quoted blocks are dropped by element. What is left is plain
//! text, cut by the conventions of the common mail clients (see the samples/ directory, one
//! real-looking message per client, and the tests at the end).
use mail_parser::{Message, MessageParser, MimeHeaders, PartType};
use scraper::{ElementRef, Html, Node};

/// The longest Message-ID kept (the `received_mail.message_id` column's length).
pub const MAX_MESSAGE_ID_CHARS: usize = 300;

/// What a message is, for Backyard.
#[derive(Debug, PartialEq, Eq)]
pub enum Inbound {
    /// Written by a person (as far as its headers tell): perhaps a member's reply.
    Reply(Reply),
    /// A delivery status notification: the recipients it reports as failed (may be empty).
    Bounce { failed: Vec<String> },
    /// Sent by a program on someone's behalf (out of office, vacation, a list): never posted.
    AutoReply { because: String },
    /// Not a message mail-parser can read.
    Unreadable,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Reply {
    /// The TOKENs of the `reply+TOKEN@…` addresses it was sent to, lower-cased, in the order
    /// the headers give them (the MTA's envelope headers first), without repeats.
    pub tokens: Vec<String>,
    /// The address in From, as written.
    pub from: Option<String>,
    /// Without its angle brackets.
    pub message_id: Option<String>,
    /// The member's words, without the quoted original and the signature.
    pub text: String,
}

pub fn parse(raw: &[u8]) -> Inbound {
    let Some(message) = MessageParser::default().parse(raw) else {
        return Inbound::Unreadable;
    };
    // Before the auto-reply test: a bounce carries Auto-Submitted too.
    if let Some(failed) = failed_recipients(&message) {
        return Inbound::Bounce { failed };
    }
    if let Some(because) = auto_reply(&message) {
        return Inbound::AutoReply { because };
    }
    Inbound::Reply(Reply {
        tokens: reply_tokens(&message),
        from: message
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(str::to_string),
        message_id: message.message_id().map(str::to_string),
        text: reply_text(&message),
    })
}

/// Headers holding the address a message was delivered to: the MTA's envelope headers first
/// (what Postfix's pipe adds with its D and O flags, or Exim's Envelope-To), then the ones the
/// sender wrote.
const RECIPIENT_HEADERS: &[&str] = &["delivered-to", "x-original-to", "envelope-to", "to", "cc"];

fn reply_tokens(message: &Message) -> Vec<String> {
    let mut tokens = Vec::new();
    for wanted in RECIPIENT_HEADERS {
        for (name, value) in message.headers_raw() {
            if name.eq_ignore_ascii_case(wanted) {
                tokens_in(value, &mut tokens);
            }
        }
    }
    tokens
}

/// Adds the TOKEN of every `reply+TOKEN@` in `text`. Read from the raw header, so a display
/// name, an encoded word or a group around the address changes nothing.
fn tokens_in(text: &str, tokens: &mut Vec<String>) {
    let lower = text.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(at) = rest.find("reply+") {
        rest = &rest[at + "reply+".len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
            .unwrap_or(rest.len());
        let token = &rest[..end];
        if !token.is_empty() && rest[end..].starts_with('@') && !tokens.iter().any(|t| t == token) {
            tokens.push(token.to_string());
        }
        rest = &rest[end..];
    }
}

/// Why the message was sent by a program (RFC 3834's Auto-Submitted, the older Precedence and
/// X-Autoreply conventions), or None.
fn auto_reply(message: &Message) -> Option<String> {
    let header = |name: &str| {
        message
            .headers_raw()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_ascii_lowercase())
    };
    if let Some(value) = header("auto-submitted") {
        let kind = value.split(';').next().unwrap_or("").trim();
        if kind != "no" {
            return Some(format!("Auto-Submitted: {kind}"));
        }
    }
    if let Some(value) = header("precedence")
        && ["bulk", "auto_reply", "list", "junk"].contains(&value.as_str())
    {
        return Some(format!("Precedence: {value}"));
    }
    for name in ["x-autoreply", "x-autorespond"] {
        if header(name).is_some() {
            return Some(format!("{name} header"));
        }
    }
    None
}

/// For a delivery status notification (multipart/report; report-type=delivery-status, RFC
/// 3464), the recipients whose Action is "failed" (their Final- and Original-Recipient); None
/// for any other message.
fn failed_recipients(message: &Message) -> Option<Vec<String>> {
    let root = message.root_part().content_type()?;
    let is_report = root.ctype().eq_ignore_ascii_case("multipart")
        && root
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        && root
            .attribute("report-type")
            .is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"));
    if !is_report {
        return None;
    }
    let mut failed = Vec::new();
    for part in &message.parts {
        let is_status = part.content_type().is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("message")
                && ct.subtype().is_some_and(|s| {
                    s.eq_ignore_ascii_case("delivery-status")
                        || s.eq_ignore_ascii_case("global-delivery-status")
                })
        });
        if is_status {
            failed_in_status(&String::from_utf8_lossy(part.contents()), &mut failed);
        }
    }
    Some(failed)
}

/// The failed recipients of one delivery-status body: a block of fields about the message,
/// then one block per recipient, blocks separated by blank lines, long fields folded.
fn failed_in_status(body: &str, failed: &mut Vec<String>) {
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut blocks = Vec::new();
    for line in body.lines() {
        if line.trim().is_empty() {
            if !fields.is_empty() {
                blocks.push(std::mem::take(&mut fields));
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    blocks.push(fields);
    for block in blocks {
        let field = |name: &str| block.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        if !field("action").is_some_and(|a| a.eq_ignore_ascii_case("failed")) {
            continue;
        }
        for name in ["final-recipient", "original-recipient"] {
            // "rfc822; someone@example.org" (the address type, then the address).
            let Some((kind, address)) = field(name).and_then(|v| v.split_once(';')) else {
                continue;
            };
            let address = address.trim().trim_start_matches('<').trim_end_matches('>');
            let known_kind = ["rfc822", "utf-8"]
                .iter()
                .any(|k| kind.trim().eq_ignore_ascii_case(k));
            if known_kind
                && address.contains('@')
                && !failed
                    .iter()
                    .any(|f: &String| f.eq_ignore_ascii_case(address))
            {
                failed.push(address.to_string());
            }
        }
    }
}

/// The member's words: the first text/plain body part, else the HTML one turned to text, with
/// the quoted original and the signature cut off.
fn reply_text(message: &Message) -> String {
    for id in &message.text_body {
        let Some(part) = message.parts.get(*id as usize) else {
            continue;
        };
        match &part.body {
            PartType::Text(text) => {
                let flowed = part.content_type().and_then(|ct| {
                    ct.attribute("format")
                        .filter(|f| f.eq_ignore_ascii_case("flowed"))
                        .map(|_| {
                            ct.attribute("delsp")
                                .is_some_and(|d| d.eq_ignore_ascii_case("yes"))
                        })
                });
                return match flowed {
                    Some(delsp) => strip_quoted(&unflow(text, delsp)),
                    None => strip_quoted(text),
                };
            }
            PartType::Html(html) => return strip_quoted(&html_to_text(html)),
            _ => {}
        }
    }
    String::new()
}

/// Joins the lines of a format=flowed body (RFC 3676) into its paragraphs: a line ending in a
/// space continues on the next line of the same quote depth; space-stuffing is undone. The
/// quote depth stays as `>` marks, which `strip_quoted` then removes with their lines.
pub fn unflow(text: &str, delsp: bool) -> String {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut open = false;
    for line in text.lines() {
        let depth = line.chars().take_while(|&c| c == '>').count();
        let content = &line[depth..];
        let content = content.strip_prefix(' ').unwrap_or(content);
        let signature = content == "-- ";
        let mut piece = content.to_string();
        let soft = piece.ends_with(' ') && !signature;
        if soft && delsp {
            piece.pop();
        }
        match out.last_mut() {
            Some((d, joined)) if open && *d == depth && !signature => joined.push_str(&piece),
            _ => out.push((depth, piece)),
        }
        open = soft;
    }
    out.into_iter()
        .map(|(depth, line)| {
            if depth == 0 {
                line
            } else {
                format!("{} {line}", ">".repeat(depth))
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Elements whose content is never the member's words.
const SKIPPED: &[&str] = &[
    "head", "style", "script", "template", "title", "img", "object",
];
/// Classes of clients' attribution lines and signatures: dropped, the rest kept.
const SKIPPED_CLASSES: &[&str] = &[
    "gmail_attr",
    "moz-cite-prefix",
    "gmail_signature",
    "moz-signature",
    "ms-outlook-mobile-signature",
];
/// Where Outlook (web, mobile, new Outlook), Hotmail and Yahoo start the quoted original:
/// everything from there on is cut.
const CUT_IDS: &[&str] = &[
    "appendonsend",
    "divrplyfwdmsg",
    "stopspelling",
    "mail-editor-reference-message-container",
];
const CUT_CLASSES: &[&str] = &["yahoo_quoted"];
/// Elements that start a new line.
const BLOCKS: &[&str] = &[
    "div",
    "blockquote",
    "li",
    "tr",
    "table",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "hr",
    "section",
    "article",
    "header",
    "footer",
    "address",
];

/// The text of an HTML body, with quoted blocks (Gmail's, Apple Mail's and Thunderbird's
/// `blockquote`) left as a lone `>` line, so `strip_quoted` drops them and their attribution.
pub fn html_to_text(html: &str) -> String {
    let document = Html::parse_document(html);
    let mut out = TextOut::default();
    walk(document.root_element(), &mut out, 0);
    out.text
}

#[derive(Default)]
struct TextOut {
    text: String,
    space: bool,
}

impl TextOut {
    fn push_text(&mut self, text: &str) {
        for c in text.chars() {
            // Any run of white space (U+00A0 included) is one space, none at a line's start.
            if c.is_whitespace() {
                self.space = true;
                continue;
            }
            if self.space && !self.text.is_empty() && !self.text.ends_with('\n') {
                self.text.push(' ');
            }
            self.space = false;
            self.text.push(c);
        }
    }

    fn break_line(&mut self) {
        self.text.push('\n');
        self.space = false;
    }

    fn end_line(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push('\n');
        }
        self.space = false;
    }

    fn end_paragraph(&mut self) {
        self.end_line();
        if !self.text.is_empty() && !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }
}

/// Writes `element`'s children; false once a cut point is reached (nothing after it counts).
/// Elements nested deeper than this are not read: a reply is never that deep, and walking a
/// hostile message's 100,000 nested spans would overflow the stack.
const MAX_DEPTH: usize = 200;

fn walk(element: ElementRef, out: &mut TextOut, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    for child in element.children() {
        match child.value() {
            Node::Text(text) => out.push_text(text),
            Node::Element(e) => {
                let Some(child) = ElementRef::wrap(child) else {
                    continue;
                };
                let name = e.name().to_ascii_lowercase();
                let id = e.id().map(str::to_ascii_lowercase);
                let has_class = |list: &[&str]| e.classes().any(|c| list.contains(&c));
                if id.is_some_and(|id| CUT_IDS.contains(&id.as_str())) || has_class(CUT_CLASSES) {
                    return false;
                }
                if SKIPPED.contains(&name.as_str())
                    || has_class(SKIPPED_CLASSES)
                    || e.attr("data-smartmail") == Some("gmail_signature")
                {
                    continue;
                }
                let quoted = name == "blockquote"
                    && (e
                        .attr("type")
                        .is_some_and(|t| t.eq_ignore_ascii_case("cite"))
                        || e.has_class("gmail_quote", scraper::CaseSensitivity::CaseSensitive));
                if quoted {
                    out.end_line();
                    out.text.push_str(">\n");
                    continue;
                }
                match name.as_str() {
                    "br" => out.break_line(),
                    "p" => {
                        out.end_paragraph();
                        if !walk(child, out, depth + 1) {
                            return false;
                        }
                        out.end_paragraph();
                    }
                    "li" => {
                        out.end_line();
                        out.text.push_str("- ");
                        if !walk(child, out, depth + 1) {
                            return false;
                        }
                        out.end_line();
                    }
                    block if BLOCKS.contains(&block) => {
                        out.end_line();
                        if !walk(child, out, depth + 1) {
                            return false;
                        }
                        out.end_line();
                    }
                    _ => {
                        if !walk(child, out, depth + 1) {
                            return false;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    true
}

/// Phone and app signatures clients add on their own ("Sent from my iPhone"), in the common
/// languages: the reply ends before them.
const DEVICE_SIGNATURES: &[&str] = &[
    "Sent from my ",
    "Sent from Mail for Windows",
    "Sent from Yahoo Mail",
    "Sent from Outlook",
    "Get Outlook for ",
    "Von meinem iPhone gesendet",
    "Von meinem iPad gesendet",
    "Gesendet von meinem ",
    "Envoyé de mon ",
    "Enviado desde mi ",
    "Enviado do meu ",
    "Inviato da ",
    "Verzonden vanaf mijn ",
    "Verstuurd vanaf mijn ",
    "Skickat från min ",
    "iPhoneから送信",
];

/// How attribution lines ("On …, Jane wrote:") end, in the common languages and clients.
const ATTRIBUTION_ENDINGS: &[&str] = &[
    "wrote:",
    "writes:",
    "a écrit :",
    "a écrit:",
    "schrieb:",
    "escribió:",
    "escreveu:",
    "scrisse:",
    "ha scritto:",
    "schreef:",
    "skrev:",
    "napisał:",
    "napisał(a):",
    "kirjoitti:",
    "написал:",
    "написал(а):",
    "写道：",
    "写道:",
    "寫道：",
    "寫道:",
];

/// How attribution lines start, when a client folded one over two lines.
const ATTRIBUTION_OPENERS: &[&str] = &[
    "On ", "Le ", "Am ", "El ", "Em ", "Il ", "Op ", "Den ", "Dne ", "W dniu ",
];

/// Outlook's header block of the quoted original: a From line, then a Sent or Date line.
const FROM_LABELS: &[&str] = &[
    "From:",
    "Von:",
    "De :",
    "De:",
    "Da:",
    "Van:",
    "Från:",
    "Fra:",
    "Od:",
    "差出人:",
    "发件人:",
    "寄件者:",
];
const SENT_LABELS: &[&str] = &[
    "Sent:",
    "Date:",
    "Gesendet:",
    "Datum:",
    "Envoyé :",
    "Envoyé:",
    "Date :",
    "Enviado:",
    "Enviado el:",
    "Fecha:",
    "Inviato:",
    "Data:",
    "Verzonden:",
    "Skickat:",
    "Sendt:",
    "Wysłane:",
    "送信日時:",
    "发送时间:",
    "寄件日期:",
];

fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

/// `line` without Outlook's bold stars around a label ("*From:* …").
fn label_text(line: &str) -> String {
    line.trim().replacen('*', "", 2)
}

fn starts_with_any(line: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| line.starts_with(p))
}

/// Whether everything from line `i` on is the quoted original or a signature.
fn starts_trailer(lines: &[&str], i: usize) -> bool {
    let line = lines[i];
    let trimmed = line.trim();
    if line == "-- " || line.trim_end() == "--" {
        return true;
    }
    if starts_with_any(trimmed, DEVICE_SIGNATURES) && trimmed.split_whitespace().count() <= 6 {
        return true;
    }
    // -----Original Message----- and its translations; Gmail's forwarded-message line.
    if trimmed.len() > 10
        && trimmed.starts_with("-----")
        && trimmed.ends_with("-----")
        && trimmed.trim_matches('-').chars().any(char::is_alphabetic)
    {
        return true;
    }
    let header_block_at = |j: usize| {
        starts_with_any(&label_text(lines[j]), FROM_LABELS)
            && lines[j + 1..]
                .iter()
                .take(4)
                .any(|l| starts_with_any(&label_text(l), SENT_LABELS))
    };
    if header_block_at(i) {
        return true;
    }
    // Outlook's line of underscores above that block.
    if trimmed.len() >= 10 && trimmed.chars().all(|c| c == '_') {
        return lines[i + 1..]
            .iter()
            .position(|l| !l.trim().is_empty())
            .is_some_and(|next| header_block_at(i + 1 + next));
    }
    false
}

fn ends_like_attribution(line: &str) -> bool {
    let trimmed = line.trim();
    ATTRIBUTION_ENDINGS.iter().any(|e| trimmed.ends_with(e))
        // Japanese Gmail ("2026年12月1日(火) 10:02 Name <address>:") and mutt ("* Name
        // <address> [date]:") name the address and end with a colon.
        || (trimmed.ends_with(':') && trimmed.contains('@'))
}

/// The member's words from a plain-text body: cut before the quoted original's header block
/// or the signature; lines quoted with '>' removed, with the attribution line above them;
/// blank lines collapsed.
pub fn strip_quoted(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let end = (0..lines.len())
        .find(|&i| !is_quoted(lines[i]) && starts_trailer(&lines, i))
        .unwrap_or(lines.len());
    let lines = &lines[..end];
    let mut keep = vec![true; lines.len()];
    for (i, line) in lines.iter().enumerate() {
        if is_quoted(line) {
            keep[i] = false;
            continue;
        }
        if !ends_like_attribution(line) {
            continue;
        }
        let next = lines[i + 1..].iter().find(|l| !l.trim().is_empty());
        if !next.is_some_and(|l| is_quoted(l)) {
            continue;
        }
        keep[i] = false;
        // A folded attribution: its first half is the line above.
        if i > 0 {
            let above = lines[i - 1].trim();
            if !is_quoted(above)
                && starts_with_any(above, ATTRIBUTION_OPENERS)
                && !above.ends_with(['.', '!', '?'])
            {
                keep[i - 1] = false;
            }
        }
    }
    let mut out: Vec<&str> = Vec::new();
    for (line, kept) in lines.iter().zip(keep) {
        if !kept {
            continue;
        }
        let line = line.trim_end();
        if line.is_empty() && out.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        out.push(line);
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "7.42-0123456789abcdef0123456789abcdef";

    fn sample(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/src/server/inbound_mail/samples/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn reply(name: &str) -> Reply {
        match parse(&sample(name)) {
            Inbound::Reply(r) => r,
            other => panic!("{name} is not read as a reply: {other:?}"),
        }
    }

    /// The sample is a reply to TOKEN from `from`, with `id`, and its text is `text`.
    fn check(name: &str, from: &str, id: &str, text: &str) {
        let r = reply(name);
        assert_eq!(r.tokens, vec![TOKEN.to_string()], "{name}");
        assert_eq!(r.from.as_deref(), Some(from), "{name}");
        assert_eq!(r.message_id.as_deref(), Some(id), "{name}");
        assert_eq!(r.text, text, "{name}");
    }

    #[test]
    fn gmail_top_posted_keeps_the_answer_above_a_folded_attribution() {
        check(
            "gmail_top_posted.eml",
            "jane.doe@gmail.com",
            "CAF=ab12cd34ef56+XyZ@mail.gmail.com",
            "I'm on 3.4.1, the one from the App Store. It happens with every file\n\
             that ends without a newline.\n\nJane",
        );
    }

    #[test]
    fn gmail_inline_reply_keeps_the_answers_between_the_quotes() {
        check(
            "gmail_inline.eml",
            "jane.doe@gmail.com",
            "CAF=inline77+Qq@mail.gmail.com",
            "3.4.1 from the App Store.\n\nOnly with files that end without a newline.",
        );
    }

    #[test]
    fn outlook_windows_1252_quoted_printable_ends_at_the_header_block() {
        check(
            "outlook_windows1252.eml",
            "Pieter@Contoso.example",
            "AM0PR01MB1234ABCD5678EF90@AM0PR01MB1234.eurprd01.prod.exchangelabs.com",
            "That’s the “classic” exporter – we paid €40 for it.\n\nRegards,\nPieter",
        );
    }

    #[test]
    fn outlook_ios_base64_ends_at_its_app_signature() {
        check(
            "outlook_ios_base64.eml",
            "sam.lee@outlook.com",
            "DB9P191MB1234C0FFEE@DB9P191MB1234.EURP191.PROD.OUTLOOK.COM",
            "Tried it on the beta too, same thing.",
        );
    }

    #[test]
    fn apple_mail_format_flowed_is_joined_and_the_quote_dropped() {
        check(
            "apple_mail.eml",
            "li.wei@icloud.com",
            "9A8B7C6D-5E4F-3A2B-1C0D-EF1234567890@icloud.com",
            "Here is the file that loses its last row. It has 1,204 rows and the export has 1,203.\n\nBest,\nLi",
        );
    }

    #[test]
    fn iphone_base64_ends_at_sent_from_my_iphone() {
        check(
            "iphone_base64.eml",
            "omar.h@me.com",
            "E1F2A3B4-C5D6-7E8F-9012-3456789ABCDE@me.com",
            "Yes, that fixed it. Thank you!",
        );
    }

    #[test]
    fn thunderbird_inline_flowed_reply_without_its_signature() {
        check(
            "thunderbird_inline.eml",
            "karl.mueller@example.de",
            "4d3c2b1a-0f9e-8d7c-6b5a-493827160504@example.de",
            "Version 3.4.1 on Debian 13, installed from the .deb package on the download page.\n\n\
             It says \"3.4.1 (build 977)\".",
        );
    }

    #[test]
    fn thunderbird_html_in_iso_8859_1_drops_cite_prefix_quote_and_signature() {
        check(
            "thunderbird_html_iso8859-1.eml",
            "juergen@example.de",
            "a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90@example.de",
            "Danke, mit der neuen Version funktioniert der Export.\n\nGrüße aus München\nJürgen",
        );
    }

    #[test]
    fn plain_bottom_posted_reply_after_a_mutt_attribution() {
        check(
            "mutt_plain_bottom_posted.eml",
            "ada@quinn.example",
            "20261201123000.GA1234@quinn.example",
            "The one in Debian stable, 3.2.0.",
        );
    }

    #[test]
    fn french_iso_8859_1_with_a_french_attribution() {
        check(
            "french_iso8859-1.eml",
            "renee.lefevre@orange.example",
            "000001db4a2b$1c2d3e40$55667788$@orange.example",
            "Bonjour,\n\nLe problème est réglé depuis la mise à jour, merci à l'équipe !",
        );
    }

    #[test]
    fn japanese_shift_jis_base64_with_a_gmail_style_attribution() {
        check(
            "japanese_shift_jis.eml",
            "tanaka.taro@example.jp",
            "20261201190500.8F3A.TANAKA@example.jp",
            "お世話になっております。\n\nバージョン3.4.1で再現しました。よろしくお願いします。",
        );
    }

    #[test]
    fn html_only_turns_into_paragraphs_and_a_list_without_style_or_script() {
        check(
            "html_only.eml",
            "priya@raman.example",
            "html-only-1733041800@webmail.raman.example",
            "Hi & thanks — the export works now <3\n\n\
             One more thing: the header row is missing.\nIs that on purpose?\n\n\
             - Chrome 131\n- Windows 11",
        );
    }

    /// The HTML alternative of a sample, read as if it came alone (as HTML-only clients send).
    fn html_reply(name: &str) -> String {
        let raw = sample(name);
        let message = MessageParser::default().parse(&raw).unwrap();
        let html = message
            .parts
            .iter()
            .find_map(|p| match &p.body {
                PartType::Html(html) => Some(html.to_string()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{name} has no HTML part"));
        strip_quoted(&html_to_text(&html))
    }

    #[test]
    fn the_html_alternatives_give_the_same_answers() {
        let cases = [
            (
                "gmail_top_posted.eml",
                "I'm on 3.4.1, the one from the App Store. It happens with every file that ends \
                 without a newline.\n\nJane",
            ),
            (
                "gmail_inline.eml",
                "3.4.1 from the App Store.\n\nOnly with files that end without a newline.",
            ),
            (
                "outlook_windows1252.eml",
                "That’s the “classic” exporter – we paid €40 for it.\n\nRegards,\n\nPieter",
            ),
            (
                "outlook_ios_base64.eml",
                "Tried it on the beta too, same thing.",
            ),
            (
                "apple_mail.eml",
                "Here is the file that loses its last row. It has 1,204 rows and the export has \
                 1,203.\n\nBest,\nLi",
            ),
        ];
        for (name, text) in cases {
            assert_eq!(html_reply(name), text, "{name}");
        }
    }

    #[test]
    fn a_message_nested_beyond_reason_is_read_without_overflowing_the_stack() {
        let body = format!(
            "{}hi{}",
            "<span>".repeat(100_000),
            "</span>".repeat(100_000)
        );
        let raw = format!(
            "From: a@example.com\r\nTo: reply+x@example.com\r\nMessage-ID: <deep@x>\r\n\
             Content-Type: text/html\r\n\r\n{body}\r\n"
        );
        // Whatever it makes of it, it returns.
        let _ = parse(raw.as_bytes());
    }

    #[test]
    fn a_postfix_dsn_gives_the_failed_recipient_only() {
        assert_eq!(
            parse(&sample("postfix_dsn.eml")),
            Inbound::Bounce {
                failed: vec!["Jane@Example.org".into()]
            }
        );
    }

    #[test]
    fn an_exchange_dsn_gives_its_failed_recipient() {
        assert_eq!(
            parse(&sample("exchange_dsn.eml")),
            Inbound::Bounce {
                failed: vec!["Tomas.Novak@Fabrikam.example".into()]
            }
        );
    }

    #[test]
    fn auto_replies_are_recognised() {
        assert_eq!(
            parse(&sample("out_of_office.eml")),
            Inbound::AutoReply {
                because: "Auto-Submitted: auto-generated".into()
            }
        );
        assert_eq!(
            parse(&sample("vacation_precedence.eml")),
            Inbound::AutoReply {
                because: "Precedence: bulk".into()
            }
        );
        // Auto-Submitted: no is a person's message.
        let person = b"From: a@example.org\nTo: reply+1.2-ab@x.example\nAuto-Submitted: no\nMessage-ID: <1@example.org>\n\nHello\n";
        assert!(matches!(parse(person), Inbound::Reply(r) if r.text == "Hello"));
        let x_autoreply =
            b"From: a@example.org\nTo: reply+1.2-ab@x.example\nX-Autoreply: yes\n\nAway\n";
        assert!(matches!(parse(x_autoreply), Inbound::AutoReply { .. }));
    }

    #[test]
    fn tokens_come_from_every_recipient_header_envelope_first_without_repeats() {
        let raw = "Delivered-To: Reply+9.1-AAAA@feedback.example.com\n\
                   To: \"Backyard\" <reply+9.1-aaaa@feedback.example.com>, other@example.org\n\
                   Cc: =?utf-8?q?Forum?= <REPLY+5.6-bbbb@Feedback.Example.com>\n\
                   From: someone@example.org\n\nhi\n";
        let Inbound::Reply(r) = parse(raw.as_bytes()) else {
            panic!("not a reply")
        };
        assert_eq!(r.tokens, vec!["9.1-aaaa".to_string(), "5.6-bbbb".into()]);
        // A reply+ that is no address (no @ after it), and none at all.
        let mut none = Vec::new();
        tokens_in("reply+ reply+abc and noreply@example.org", &mut none);
        assert!(none.is_empty());
    }

    #[test]
    fn outlook_translations_and_original_message_lines_cut_the_quote() {
        let cases = [
            "Danke!\n\nVon: Backyard <reply+x@y>\nGesendet: Dienstag, 1. Dezember 2026 10:02\nAn: Karl\n\nold",
            "Danke!\n\n-----Ursprüngliche Nachricht-----\nVon: Backyard\nold",
            "Danke!\n\n*From:* Backyard <reply+x@y>\n*Sent:* Tuesday\nold",
            "Danke!\n________________________________\nDe : Backyard\nEnvoyé : mardi\nold",
        ];
        for text in cases {
            assert_eq!(strip_quoted(text), "Danke!", "{text}");
        }
        // A From: line that is not a header block stays.
        assert_eq!(
            strip_quoted("From: the export page\nit fails"),
            "From: the export page\nit fails"
        );
        // A line that ends like an attribution but introduces no quote stays.
        assert_eq!(
            strip_quoted("Logs are attached. Write to ops@example.org:\n\nThe export wrote:"),
            "Logs are attached. Write to ops@example.org:\n\nThe export wrote:"
        );
        // A sentence starting like a device signature stays.
        let sentence = "Sent from my laptop the export fails every single time, sadly";
        assert_eq!(strip_quoted(sentence), sentence);
    }

    #[test]
    fn unflow_joins_soft_breaks_and_keeps_quote_depth() {
        assert_eq!(
            unflow("one two \nthree\n> quoted \n> more\n-- \nsig", false),
            "one two three\n> quoted more\n-- \nsig"
        );
        assert_eq!(unflow("日本 \n語", true), "日本語");
        assert_eq!(unflow(" >not a quote", false), ">not a quote");
    }

    #[test]
    fn unreadable_and_empty_messages() {
        // mail-parser reads nearly anything; an empty input is not a message.
        assert_eq!(parse(b""), Inbound::Unreadable);
        let Inbound::Reply(r) = parse(b"Subject: hi\n\n> only a quote\n") else {
            panic!("not a reply")
        };
        assert_eq!((r.tokens.len(), r.from, r.text.as_str()), (0, None, ""));
    }
}
