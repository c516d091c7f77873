//! Delivery of the outbox. `deliver_due` claims what is due (a lease in `claimed_until`, taken
//! with `FOR UPDATE SKIP LOCKED` on PostgreSQL, under SQLite's one write lock there), sends a few
//! messages at once through the `Transport` (pooled SMTP connections, or a sendmail program), and
//! records each outcome: sent; refused for good (5xx: failed, with the reason); or not now (4xx,
//! no connection: queued again after an exponential backoff, for up to 3 days).
//!
//! A message is marked sent only after the server accepted it, within `OUTCOMES_WITHIN`. A worker
//! killed in between leaves its claim to expire, and the message is sent again: at most one
//! duplicate, with the same Message-ID, so mail clients that deduplicate show it once. A server
//! asked to stop does not leave them so: the round sends nothing more, writes each outcome as it
//! comes, and gives back the messages it had not tried (`Stopping`).
use std::{
    sync::{Arc, LazyLock, Mutex},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use lettre::{
    Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    address::Envelope,
    message::{
        Mailbox, MultiPart,
        header::{ContentType, HeaderName, HeaderValue},
    },
    transport::smtp::{
        PoolConfig,
        authentication::Credentials,
        client::{Certificate, Tls, TlsParameters},
    },
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, LockBehavior, LockType},
};

use crate::error::AppError;
use crate::server::{
    config::{Config, SmtpSecurity, SmtpServer},
    db,
    entity::email,
    stopping::Stopping,
};

/// Messages in flight at once, and the SMTP connections kept open for them. Each message costs
/// about 50 ms of waiting whatever its size: lettre writes the closing `.` apart from the body,
/// and Nagle's algorithm holds it until the server's delayed ACK (lettre leaves TCP_NODELAY
/// off). 16 connections make that about 300 messages a second; most servers allow 20 or more
/// from one client.
pub const SENDS_AT_ONCE: usize = 16;
/// Messages one claim takes; the lease must outlast sending them all.
const CLAIM_BATCH: u64 = 200;
/// How long a claim keeps other workers away. A worker that dies holding it delays its
/// messages by this much; one still sending when it ends may see them sent twice.
pub const LEASE: Duration = Duration::from_secs(15 * 60);
/// Each SMTP command's limit, connecting included: a dead server costs a round this, not more.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Retries stop when the waits between them add up to this.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(3 * 24 * 3600);
/// Outcomes written in one transaction (SQLite syncs once per commit).
const OUTCOMES_PER_WRITE: usize = 64;
/// The longest an outcome waits for others to be written with: the window in which a killed
/// worker forgets a message the server accepted. Before it, a round of slow sends recorded
/// nothing until 64 had come in.
const OUTCOMES_WITHIN: Duration = Duration::from_millis(200);

/// How the site delivers mail: built once at start from the configuration.
#[derive(Clone)]
pub struct Transport {
    via: Via,
    from: Mailbox,
    /// The right-hand side of our Message-IDs: the From address's domain.
    id_domain: String,
}

#[derive(Clone)]
enum Via {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Sendmail(Arc<str>),
}

impl Transport {
    /// The transport BACKYARD_SMTP_URL or BACKYARD_SENDMAIL names, or None when neither is set
    /// (mail then stays queued, and admins read it at /admin/mail). Errors name the variable.
    pub fn from_config(config: &Config) -> Result<Option<Transport>, String> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .map_err(|e| format!("BACKYARD_MAIL_FROM is not an address: {e}"))?;
        let via = match (&config.smtp, &config.sendmail) {
            (Some(smtp), _) => Via::Smtp(smtp_transport(smtp, config.smtp_ca_file.as_deref())?),
            (None, Some(program)) => Via::Sendmail(program.as_str().into()),
            (None, None) => return Ok(None),
        };
        Ok(Some(Transport {
            via,
            id_domain: from.email.domain().to_string(),
            from,
        }))
    }

    /// This transport with the site's name as the sender's name when the configured From
    /// address has none (the default), so mail says who it is from as the pages do, and an
    /// admin's rename applies from the next message on.
    pub fn named(&self, site_name: &str) -> Transport {
        let mut named = self.clone();
        // A header value: no controls, whatever was stored before settings refused them.
        let name: String = site_name.chars().filter(|c| !c.is_control()).collect();
        if named.from.name.is_none() && !name.trim().is_empty() {
            named.from = Mailbox::new(Some(name.trim().to_string()), named.from.email.clone());
        }
        named
    }

    /// The message exactly as it goes out: headers built by lettre, which encodes every value
    /// (a subject or name with CR/LF becomes an encoded word, never a second header). Its
    /// Message-ID is signed with `id_key` (`signing::message_id_token`), the same on every try.
    pub fn compose(&self, row: &email::Model, id_key: &[u8; 32]) -> Result<Message, String> {
        let to: Mailbox = row
            .to_address
            .parse()
            .map_err(|e| format!("the recipient is not an address ({e})"))?;
        if super::address_problem(&row.to_address).is_some() {
            return Err("the recipient is not one plain address".into());
        }
        let envelope = Envelope::new(Some(self.from.email.clone()), vec![to.email.clone()])
            .map_err(|e| e.to_string())?;
        let header = |name: &'static str, value: String| {
            HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
        };
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .raw_header(subject_header(&row.subject))
            .date(row.created_at.into())
            .message_id(Some(format!(
                "<backyard.{}@{}>",
                crate::server::signing::message_id_token(
                    id_key,
                    row.id,
                    row.created_at.timestamp()
                ),
                self.id_domain
            )))
            .raw_header(header("Auto-Submitted", "auto-generated".into()))
            .envelope(envelope);
        if let Some(reply_to) = &row.reply_to {
            let reply_to: Address = reply_to
                .parse()
                .map_err(|e| format!("the Reply-To is not an address ({e})"))?;
            builder = builder.reply_to(Mailbox::new(None, reply_to));
        }
        if let Some(url) = &row.list_unsubscribe {
            if !one_click_url(url) {
                return Err("the unsubscribe link is not one https URL".into());
            }
            builder = builder
                .raw_header(header("List-Unsubscribe", format!("<{url}>")))
                .raw_header(header(
                    "List-Unsubscribe-Post",
                    "List-Unsubscribe=One-Click".into(),
                ));
        }
        let built = match &row.html_body {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                row.body.clone(),
                html.clone(),
            )),
            None => builder
                .header(ContentType::TEXT_PLAIN)
                .body(row.body.clone()),
        };
        built.map_err(|e| e.to_string())
    }

    async fn send(&self, message: &Message) -> Result<(), Failure> {
        match &self.via {
            Via::Smtp(smtp) => smtp.send(message.clone()).await.map(|_| ()).map_err(|e| {
                // A refused log-in (530, 534, 535, 538) is about our settings, not this
                // message: wait for the operator to fix them instead of failing every message.
                let login_refused = e
                    .status()
                    .is_some_and(|code| ["530", "534", "535", "538"].contains(&&*code.to_string()));
                if e.is_permanent() && !login_refused {
                    Failure::Permanent(e.to_string())
                } else {
                    // No answer at all (connection, TLS, timeout, an answer that is no SMTP
                    // reply), or 421 (the server is closing): the server, not this message, is
                    // the problem, so the round stops. Another 4xx (451 for a greylisted
                    // recipient, 452 for a full mailbox) is this message's: the others go on.
                    // (lettre's `is_response` is only an answer it could not read.)
                    let server_down = e.status().is_none_or(|code| code.to_string() == "421");
                    Failure::Transient {
                        reason: e.to_string(),
                        server_unreachable: server_down || login_refused,
                    }
                }
            }),
            Via::Sendmail(program) => sendmail(program, message).await,
        }
    }
}

/// An https URL with nothing that could end the `<...>` around it or start another header.
/// The Subject as lettre writes it, except that a subject holding "=?" is written as encoded
/// words whole: lettre leaves an ASCII word as it is, and a mail client decodes one written like
/// an encoded word, so a title "=?utf-8?b?DQpCY2M6IGV2aWw=?=" showed as a subject with a line
/// break and a Bcc in it.
fn subject_header(subject: &str) -> HeaderValue {
    let name = HeaderName::new_from_ascii_str("Subject");
    if !subject.contains("=?") {
        return HeaderValue::new(name, subject.to_string());
    }
    use base64::Engine;
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in subject.chars() {
        // 45 bytes make 60 of base64: each encoded word stays within a 76-character line.
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    words.push(chunk);
    let encoded = words
        .iter()
        .map(|w| {
            format!(
                "=?utf-8?b?{}?=",
                base64::engine::general_purpose::STANDARD.encode(w)
            )
        })
        .collect::<Vec<_>>()
        .join("\r\n ");
    HeaderValue::dangerous_new_pre_encoded(name, subject.to_string(), encoded)
}

pub fn one_click_url(url: &str) -> bool {
    url.starts_with("https://")
        && url.len() <= 500
        && url
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\\'))
}

fn smtp_transport(
    server: &SmtpServer,
    ca_file: Option<&str>,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let tls_parameters = || -> Result<TlsParameters, String> {
        let mut builder = TlsParameters::builder(server.host.clone());
        if let Some(path) = ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| format!("BACKYARD_SMTP_CA_FILE={path} cannot be read: {e}"))?;
            let certificate = Certificate::from_pem(&pem)
                .ok()
                .filter(|_| String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----"))
                .ok_or_else(|| format!("BACKYARD_SMTP_CA_FILE={path} holds no PEM certificate"))?;
            builder = builder.add_root_certificate(certificate);
        }
        builder
            .build_rustls()
            .map_err(|e| format!("cannot set up TLS for BACKYARD_SMTP_URL: {e}"))
    };
    let tls = match server.security {
        SmtpSecurity::StartTls => Tls::Required(tls_parameters()?),
        SmtpSecurity::ImplicitTls => Tls::Wrapper(tls_parameters()?),
        SmtpSecurity::Plain => Tls::None,
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&server.host)
        .port(server.port)
        .tls(tls)
        .timeout(Some(SMTP_TIMEOUT))
        .pool_config(PoolConfig::new().max_size(SENDS_AT_ONCE as u32));
    if let Some((user, password)) = &server.credentials {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

/// Pipes the message to a sendmail-compatible program. The envelope recipient is the one
/// argument after `--` (so it cannot be read as an option); without -t, sendmail takes no
/// recipients from the headers.
async fn sendmail(program: &str, message: &Message) -> Result<(), Failure> {
    use tokio::io::AsyncWriteExt;
    let to = message.envelope().to().first().map(|a| a.to_string());
    let Some(to) = to else {
        return Err(Failure::Permanent("no recipient".into()));
    };
    let unreachable = |reason: String| Failure::Transient {
        reason,
        server_unreachable: true,
    };
    let mut child = tokio::process::Command::new(program)
        .args(["-i", "--", to.as_str()])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| unreachable(format!("cannot run {program}: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(&message.formatted())
            .await
            .map_err(|e| unreachable(format!("{program} did not read the message: {e}")))?;
    }
    match child.wait().await {
        Ok(status) if status.success() => Ok(()),
        // sendmail's exit codes do not say reliably which failures are final: retry them all.
        Ok(status) => Err(Failure::Transient {
            reason: format!("{program} exited with {status}"),
            server_unreachable: false,
        }),
        Err(e) => Err(unreachable(format!("{program} failed: {e}"))),
    }
}

/// Why a message was not sent.
#[derive(Clone, Debug)]
enum Failure {
    /// 5xx, or a message that cannot be built: retrying will not help.
    Permanent(String),
    /// 4xx, or no answer: try again later.
    Transient {
        reason: String,
        server_unreachable: bool,
    },
}

/// The wait after the `attempts`-th failure: 30 s, doubling, at most 4 hours; None once the
/// waits so far add up to `GIVE_UP_AFTER`.
pub fn retry_delay(attempts: i32) -> Option<Duration> {
    let wait = |n: i32| {
        Duration::from_secs(30)
            .saturating_mul(1 << (n - 1).clamp(0, 20))
            .min(Duration::from_secs(4 * 3600))
    };
    let waited: Duration = (1..attempts).map(wait).sum();
    (waited < GIVE_UP_AFTER).then(|| wait(attempts))
}

/// Sends every message due at `now` (the worker passes the clock; tests pass their own) and
/// returns how many were delivered. Stops early when the server cannot be reached, or when
/// `stopping` is asked (see `send_batch`).
pub async fn deliver_due(
    db: &DatabaseConnection,
    transport: &Transport,
    now: DateTime<Utc>,
    stopping: &Stopping,
) -> Result<usize, AppError> {
    let started = Instant::now();
    // `now` moved on by the time this call has taken, for sent_at and the next attempt.
    let clock = move || now + chrono::Duration::from_std(started.elapsed()).unwrap_or_default();
    let mut delivered = 0;
    loop {
        let batch = claim(db, clock(), CLAIM_BATCH).await?;
        let full = batch.len() as u64 == CLAIM_BATCH;
        if batch.is_empty() {
            return Ok(delivered);
        }
        let round = send_batch(db, transport, batch, &clock, stopping).await?;
        delivered += round.delivered;
        if !full || round.server_unreachable || stopping.asked() {
            return Ok(delivered);
        }
    }
}

/// Takes up to `limit` due messages for this worker until `now + LEASE`.
async fn claim(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<email::Model>, AppError> {
    let txn = db::begin_private_write(db).await?;
    let mut due = email::Entity::find()
        .filter(email::Column::Status.eq("queued"))
        .filter(
            Condition::any()
                .add(email::Column::NextAttemptAt.is_null())
                .add(email::Column::NextAttemptAt.lte(now)),
        )
        .filter(
            Condition::any()
                .add(email::Column::ClaimedUntil.is_null())
                .add(email::Column::ClaimedUntil.lte(now)),
        )
        .order_by_asc(email::Column::Id)
        .limit(limit);
    if txn.get_database_backend() == DbBackend::Postgres {
        // Rows another worker is claiming right now are skipped, not waited for and re-sent.
        due = due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let rows = due.all(&txn).await?;
    if !rows.is_empty() {
        let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
        email::Entity::update_many()
            .col_expr(email::Column::ClaimedUntil, Expr::value(until))
            .filter(email::Column::Id.is_in(rows.iter().map(|r| r.id)))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(rows)
}

struct Round {
    delivered: usize,
    server_unreachable: bool,
}

/// Sends `batch`, `SENDS_AT_ONCE` at a time, writing outcomes as they come in: `OUTCOMES_PER_WRITE`
/// at once, or whatever has waited `OUTCOMES_WITHIN`. Once `stopping` is asked it starts no
/// more sends, writes each outcome as it comes (the server closes the pool a little later),
/// and gives back the claims of the messages not tried, so the next start sends them at once.
async fn send_batch(
    db: &DatabaseConnection,
    transport: &Transport,
    batch: Vec<email::Model>,
    clock: &(impl Fn() -> DateTime<Utc> + Sync),
    stopping: &Stopping,
) -> Result<Round, AppError> {
    // The first "no answer" of the round: the messages not yet sent are not tried, and wait
    // as that one does.
    let unreachable: Arc<Mutex<Option<String>>> = Arc::default();
    let site_name = crate::server::settings::text(db, crate::server::settings::SITE_NAME).await?;
    let transport = &transport.named(&site_name);
    let id_key = crate::server::signing::message_id_key(db).await?;
    let mut stop = stopping.clone();
    let mut rows = batch.into_iter();
    let mut in_flight = tokio::task::JoinSet::new();
    let mut outcomes = Vec::new();
    // When the oldest outcome not yet written must be.
    let mut write_by: Option<tokio::time::Instant> = None;
    let mut delivered = 0;
    loop {
        if stop.asked() {
            // Given back before waiting for the sends in flight, which may outlast the pool.
            let untried: Vec<i64> = rows.by_ref().map(|row| row.id).collect();
            if !untried.is_empty() {
                give_back(db, &untried).await?;
            }
        }
        while in_flight.len() < SENDS_AT_ONCE {
            let Some(row) = rows.next() else { break };
            let transport = transport.clone();
            let unreachable = unreachable.clone();
            in_flight.spawn(async move {
                let skipped = unreachable.lock().expect("not poisoned").clone();
                let result = match (skipped, transport.compose(&row, &id_key)) {
                    (Some(reason), _) => Err(Failure::Transient {
                        reason: format!("not tried: {reason}"),
                        server_unreachable: true,
                    }),
                    (None, Err(reason)) => Err(Failure::Permanent(reason)),
                    (None, Ok(message)) => transport.send(&message).await,
                };
                if let Err(Failure::Transient {
                    reason,
                    server_unreachable: true,
                }) = &result
                {
                    unreachable
                        .lock()
                        .expect("not poisoned")
                        .get_or_insert_with(|| reason.clone());
                }
                (row, result)
            });
        }
        if in_flight.is_empty() {
            break;
        }
        let asked = stop.asked();
        tokio::select! {
            Some(joined) = in_flight.join_next() => match joined {
                Ok(outcome) => {
                    outcomes.push(outcome);
                    write_by.get_or_insert_with(|| tokio::time::Instant::now() + OUTCOMES_WITHIN);
                }
                // Its claim expires and another round sends it.
                Err(e) => tracing::error!(error = %e, "an e-mail send task failed"),
            },
            () = wait_until(write_by) => {}
            () = stop.asked_for(), if !asked => {}
        }
        let due = write_by.is_some_and(|by| tokio::time::Instant::now() >= by);
        if outcomes.len() >= OUTCOMES_PER_WRITE || in_flight.is_empty() || due || stop.asked() {
            delivered += record(db, &outcomes, clock()).await?;
            outcomes.clear();
            write_by = None;
        }
    }
    let server_unreachable = unreachable.lock().expect("not poisoned").is_some();
    Ok(Round {
        delivered,
        server_unreachable,
    })
}

/// Waits until `by`; forever without one.
async fn wait_until(by: Option<tokio::time::Instant>) {
    match by {
        Some(by) => tokio::time::sleep_until(by).await,
        None => std::future::pending().await,
    }
}

/// Ends this worker's claim on messages it did not try.
async fn give_back(db: &DatabaseConnection, ids: &[i64]) -> Result<(), AppError> {
    let txn = db::begin_private_write(db).await?;
    email::Entity::update_many()
        .col_expr(
            email::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(email::Column::Id.is_in(ids.iter().copied()))
        .filter(email::Column::Status.eq("queued"))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Writes what happened to each message, in one transaction; returns how many were sent.
async fn record(
    db: &DatabaseConnection,
    outcomes: &[(email::Model, Result<(), Failure>)],
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    use email::Column as C;
    if outcomes.is_empty() {
        return Ok(0);
    }
    let txn = db::begin_private_write(db).await?;
    let mut delivered = 0;
    for (row, result) in outcomes {
        let attempts = row.attempts + 1;
        let update = email::Entity::update_many()
            .col_expr(C::Attempts, Expr::value(attempts))
            .col_expr(C::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(C::Id.eq(row.id))
            .filter(C::Status.eq("queued"));
        let update = match result {
            Ok(()) => {
                delivered += 1;
                update
                    .col_expr(C::Status, Expr::value("sent"))
                    .col_expr(C::SentAt, Expr::value(now))
                    .col_expr(C::LastError, Expr::value(Option::<String>::None))
            }
            Err(Failure::Transient { reason, .. }) => match retry_delay(attempts) {
                Some(wait) => {
                    let next = now + chrono::Duration::from_std(wait).unwrap_or_default();
                    tracing::info!(id = row.id, attempts, %next, reason, "e-mail not sent; will retry");
                    update
                        .col_expr(C::NextAttemptAt, Expr::value(next))
                        .col_expr(C::LastError, Expr::value(reason.clone()))
                }
                None => {
                    let reason = format!(
                        "gave up after {} over 3 days: {reason}",
                        crate::format::count(attempts as i64, "attempt", "attempts")
                    );
                    tracing::warn!(id = row.id, reason, "e-mail not sent");
                    update
                        .col_expr(C::Status, Expr::value("failed"))
                        .col_expr(C::LastError, Expr::value(reason))
                }
            },
            Err(Failure::Permanent(reason)) => {
                tracing::warn!(id = row.id, reason, "e-mail refused for good; not retried");
                update
                    .col_expr(C::Status, Expr::value("failed"))
                    .col_expr(C::LastError, Expr::value(reason.clone()))
            }
        };
        update.exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(delivered)
}

static WAKE: LazyLock<tokio::sync::Notify> = LazyLock::new(tokio::sync::Notify::new);

/// Tells the worker there is new mail (call after the commit that queued it), so it need not
/// wait for its next round.
pub fn wake_worker() {
    WAKE.notify_one();
}

/// The worker's pause between rounds: `at_most`, or until `wake_worker`.
pub async fn wait_for_work(at_most: Duration) {
    let _ = tokio::time::timeout(at_most, WAKE.notified()).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::mail::{Outgoing, enqueue, queue};
    use crate::server::testing::{
        PostgresTestDb, SmtpTestOptions, SmtpTestServer, fake_sendmail, free_port, smtp_settings,
        smtp_transport, test_db,
    };

    fn secured() -> SmtpTestOptions {
        SmtpTestOptions {
            tls: true,
            auth: true,
            ..Default::default()
        }
    }

    async fn rows(db: &DatabaseConnection) -> Vec<email::Model> {
        email::Entity::find()
            .order_by_asc(email::Column::Id)
            .all(db)
            .await
            .unwrap()
    }

    fn later(now: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
        now + chrono::Duration::seconds(secs)
    }

    /// A sendmail that takes `seconds` to accept each message, and writes down whom it sent to.
    fn slow_sendmail(name: &str, seconds: f32) -> (std::path::PathBuf, Transport) {
        let (dir, program) = fake_sendmail(name, |d| {
            format!(
                "cat > /dev/null\nsleep {seconds}\necho \"$3\" >> {}/sent\n",
                d.display()
            )
        });
        let transport = Transport {
            via: Via::Sendmail(program.into()),
            from: "noreply@example.com".parse().unwrap(),
            id_domain: "example.com".into(),
        };
        (dir, transport)
    }

    /// Whom the slow sendmail sent to, in order.
    fn sent_to(dir: &std::path::Path) -> Vec<String> {
        std::fs::read_to_string(dir.join("sent"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    async fn enqueue_many(db: &DatabaseConnection, count: usize) {
        for n in 0..count {
            enqueue(db, &format!("member{n}@example.com"), "Hello", "Body")
                .await
                .unwrap();
        }
    }

    /// A server stopping in the middle of a round: what the mail server accepted is marked
    /// sent before the round ends (the pool closes soon after), what was not tried is given
    /// back, and the next start sends only those. Before, the accepted messages stayed claimed
    /// and went out again once the claim ran out.
    #[tokio::test]
    async fn a_stop_mid_round_writes_down_what_was_sent_and_gives_back_the_rest() {
        let db = test_db().await;
        let (dir, transport) = slow_sendmail("stop-mid-round", 0.3);
        let count = 48;
        enqueue_many(&db, count).await;
        let (stop, stopping) = Stopping::channel();
        let t0 = Utc::now();
        let round = deliver_due(&db, &transport, t0, &stopping);
        let asking = async {
            tokio::time::sleep(Duration::from_millis(450)).await;
            stop.send(true).unwrap();
        };
        let (delivered, ()) = tokio::join!(round, asking);
        let sent = sent_to(&dir);
        assert_eq!(delivered, Ok(sent.len()));
        assert!(
            !sent.is_empty() && sent.len() < count,
            "{} sent",
            sent.len()
        );
        for row in rows(&db).await {
            if sent.contains(&row.to_address) {
                assert_eq!((row.status.as_str(), row.attempts), ("sent", 1), "{row:?}");
            } else {
                assert_eq!(
                    (row.status.as_str(), row.attempts),
                    ("queued", 0),
                    "{row:?}"
                );
            }
            assert_eq!(row.claimed_until, None, "{row:?}");
        }

        // The next start, a moment later: the rest, and nothing twice.
        let rest = deliver_due(&db, &transport, later(t0, 1), &Stopping::never()).await;
        assert_eq!(rest, Ok(count - sent.len()));
        let mut all = sent_to(&dir);
        all.sort();
        all.dedup();
        assert_eq!(all.len(), count, "each once");
        assert!(rows(&db).await.iter().all(|row| row.status == "sent"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// An accepted message is written down within `OUTCOMES_WITHIN`, not when 64 have come in
    /// or the round ends: a worker killed mid-round sends again only the last moment's.
    #[tokio::test]
    async fn sent_messages_are_written_down_while_the_round_goes_on() {
        let db = test_db().await;
        let (dir, transport) = slow_sendmail("written-down", 0.3);
        let count = 48;
        enqueue_many(&db, count).await;
        let never = Stopping::never();
        let round = deliver_due(&db, &transport, Utc::now(), &never);
        tokio::pin!(round);
        let marked_during_round = loop {
            tokio::select! {
                done = &mut round => {
                    assert_eq!(done, Ok(count));
                    break false;
                }
                () = tokio::time::sleep(Duration::from_millis(50)) => {
                    if rows(&db).await.iter().any(|row| row.status == "sent") {
                        break true;
                    }
                }
            }
        };
        assert!(
            marked_during_round,
            "no message was marked sent before the round ended"
        );
        assert_eq!(round.await, Ok(count));
        assert_eq!(sent_to(&dir).len(), count);
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// STARTTLS with the test CA trusted through BACKYARD_SMTP_CA_FILE, AUTH, every header.
    /// A subject reads in a mail client exactly as the title was typed: one written like an
    /// encoded word goes out encoded, so the client does not decode it into something else.
    #[test]
    fn a_subject_reads_as_typed_even_written_like_an_encoded_word() {
        let subject = |s: &str| {
            let m = Message::builder()
                .from("a@x.example".parse().unwrap())
                .to("b@x.example".parse().unwrap())
                .raw_header(subject_header(s))
                .body(String::new())
                .unwrap();
            let raw = m.formatted();
            let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
            let line = String::from_utf8(raw.clone()).unwrap();
            (parsed.subject().unwrap_or_default().to_string(), line)
        };
        let (plain, raw) = subject("Export hangs");
        assert_eq!(plain, "Export hangs");
        assert!(raw.contains("Subject: Export hangs\r\n"), "{raw}");
        for typed in [
            "Title2 =?utf-8?b?DQpCY2M6IGV2aWxAZXZpbC5leGFtcGxl?= end",
            "=?iso-8859-1?q?caf=E9?= and a long tail of words that goes well past one line of a header",
            "Ünïcode =? half",
        ] {
            let (read, raw) = subject(typed);
            assert_eq!(read, typed, "{raw}");
            assert!(!raw.contains("Bcc"), "{raw}");
        }
    }

    #[tokio::test]
    async fn a_queued_message_is_delivered_once_with_both_parts_and_its_headers() {
        let Some(server) = SmtpTestServer::start(secured()) else {
            return;
        };
        let db = test_db().await;
        let transport = smtp_transport(&server.settings());
        queue(
            &db,
            Outgoing {
                to: "ada@example.com".into(),
                subject: "New reply\r\nBcc: eve@evil.example".into(),
                text: "Grace replied: plain words.".into(),
                html: Some("<p>Grace replied: <b>rich</b> words.</p>".into()),
                user_id: None,
                kind: "notification",
                reply_to: Some("reply+tok3n@support.example.com".into()),
                list_unsubscribe: Some("https://forum.example.com/unsubscribe/abc".into()),
            },
        )
        .await
        .unwrap();
        let now = Utc::now();
        assert_eq!(
            deliver_due(&db, &transport, now, &Stopping::never()).await,
            Ok(1)
        );
        assert_eq!(
            deliver_due(&db, &transport, later(now, 3600), &Stopping::never()).await,
            Ok(0)
        );

        let messages = server.messages();
        assert_eq!(messages.len(), 1, "delivered once");
        let m = &messages[0];
        assert_eq!(m["rcpt_tos"], serde_json::json!(["ada@example.com"]));
        assert_eq!(m["mail_from"], "noreply@example.com");
        let data = m["data"].as_str().unwrap().replace("\r\n", "\n");
        for expected in [
            "From: Backyard <noreply@example.com>\n",
            "To: ada@example.com\n",
            "Reply-To: reply+tok3n@support.example.com\n",
            "List-Unsubscribe: <https://forum.example.com/unsubscribe/abc>\n",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\n",
            "Auto-Submitted: auto-generated\n",
            "Message-ID: <backyard.1.",
            "\nDate: ",
            "Content-Type: multipart/alternative;",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Type: text/html; charset=utf-8",
            "Grace replied: plain words.",
            "<p>Grace replied: <b>rich</b> words.</p>",
        ] {
            assert!(data.contains(expected), "{expected:?} in\n{data}");
        }
        assert!(
            !data.contains("\nBcc:"),
            "no header from the subject:\n{data}"
        );
        let row = &rows(&db).await[0];
        assert_eq!((row.status.as_str(), row.attempts), ("sent", 1));
        assert_eq!((row.claimed_until, row.last_error.as_deref()), (None, None));
    }

    #[tokio::test]
    async fn a_server_answering_421_twice_gets_it_once_after_backing_off() {
        let Some(server) = SmtpTestServer::start(SmtpTestOptions {
            fail_first: 2,
            ..secured()
        }) else {
            return;
        };
        let db = test_db().await;
        let transport = smtp_transport(&server.settings());
        enqueue(&db, "ada@example.com", "Hello", "Body")
            .await
            .unwrap();
        let t0 = Utc::now();
        assert_eq!(
            deliver_due(&db, &transport, t0, &Stopping::never()).await,
            Ok(0)
        );
        let row = &rows(&db).await[0];
        assert_eq!((row.status.as_str(), row.attempts), ("queued", 1));
        assert!(
            row.last_error.as_deref().unwrap().contains("421"),
            "{row:?}"
        );
        let next = row.next_attempt_at.unwrap();
        assert!(
            next >= later(t0, 30) && next < later(t0, 40),
            "{next} after {t0}"
        );

        assert_eq!(
            deliver_due(&db, &transport, later(t0, 10), &Stopping::never()).await,
            Ok(0)
        );
        assert_eq!(rows(&db).await[0].attempts, 1, "not due yet: not tried");
        assert_eq!(
            deliver_due(&db, &transport, later(t0, 35), &Stopping::never()).await,
            Ok(0)
        );
        assert_eq!(rows(&db).await[0].attempts, 2, "the second 421");
        assert_eq!(
            deliver_due(&db, &transport, later(t0, 100), &Stopping::never()).await,
            Ok(1)
        );
        assert_eq!(
            deliver_due(&db, &transport, later(t0, 1000), &Stopping::never()).await,
            Ok(0)
        );
        assert_eq!(server.messages().len(), 1);
        let row = &rows(&db).await[0];
        assert_eq!((row.status.as_str(), row.attempts), ("sent", 3));
    }

    /// A 451 for one recipient (greylisting) is that message's: it waits and is tried again,
    /// and the round sends the others. Before, any answer of the server but 421's kind stopped
    /// the round, and every message after it was charged a try it never had.
    #[tokio::test]
    async fn a_451_for_one_recipient_defers_that_message_only() {
        let Some(server) = SmtpTestServer::start(SmtpTestOptions {
            defer: Some("grey@example.com".into()),
            ..secured()
        }) else {
            return;
        };
        let db = test_db().await;
        let transport = smtp_transport(&server.settings());
        enqueue(&db, "grey@example.com", "Hello", "Body")
            .await
            .unwrap();
        let count = 40;
        enqueue_many(&db, count).await;
        let t0 = Utc::now();
        assert_eq!(
            deliver_due(&db, &transport, t0, &Stopping::never()).await,
            Ok(count)
        );
        assert_eq!(server.messages().len(), count);
        let rows = rows(&db).await;
        let grey = &rows[0];
        assert_eq!((grey.status.as_str(), grey.attempts), ("queued", 1));
        assert!(
            grey.last_error.as_deref().unwrap().contains("451"),
            "{grey:?}"
        );
        assert!(grey.next_attempt_at.unwrap() > t0);
        assert!(
            rows[1..]
                .iter()
                .all(|r| (r.status.as_str(), r.attempts) == ("sent", 1)),
            "{rows:?}"
        );
    }

    #[tokio::test]
    async fn everything_queued_while_the_server_was_down_is_delivered_when_it_is_back() {
        if SmtpTestServer::python().is_none() {
            return;
        }
        let db = test_db().await;
        let port = free_port();
        let transport = smtp_transport(&smtp_settings(port, true));
        for n in 0..5 {
            enqueue(&db, &format!("member{n}@example.com"), "Hello", "Body")
                .await
                .unwrap();
        }
        let t0 = Utc::now();
        assert_eq!(
            deliver_due(&db, &transport, t0, &Stopping::never()).await,
            Ok(0)
        );
        for row in rows(&db).await {
            assert_eq!((row.status.as_str(), row.attempts), ("queued", 1));
            assert!(row.last_error.is_some());
            assert_eq!(row.claimed_until, None);
        }
        let server = SmtpTestServer::start(SmtpTestOptions {
            port: Some(port),
            ..secured()
        })
        .unwrap();
        assert_eq!(
            deliver_due(&db, &transport, later(t0, 60), &Stopping::never()).await,
            Ok(5)
        );
        assert_eq!(server.messages().len(), 5);
    }

    #[tokio::test]
    async fn a_550_fails_the_message_with_the_servers_words_and_it_is_not_retried() {
        let Some(server) = SmtpTestServer::start(SmtpTestOptions {
            reject: true,
            ..secured()
        }) else {
            return;
        };
        let db = test_db().await;
        let transport = smtp_transport(&server.settings());
        enqueue(&db, "ada@example.com", "Hello", "Body")
            .await
            .unwrap();
        let t0 = Utc::now();
        assert_eq!(
            deliver_due(&db, &transport, t0, &Stopping::never()).await,
            Ok(0)
        );
        assert_eq!(
            deliver_due(&db, &transport, later(t0, 86_400), &Stopping::never()).await,
            Ok(0)
        );
        let row = &rows(&db).await[0];
        assert_eq!((row.status.as_str(), row.attempts), ("failed", 1));
        let error = row.last_error.as_deref().unwrap();
        assert!(
            error.contains("550") && error.contains("Rejected by the test server"),
            "{error}"
        );
        assert!(server.messages().is_empty());
    }

    #[tokio::test]
    async fn starttls_is_required_unless_plain_is_allowed_for_localhost() {
        let Some(server) = SmtpTestServer::start(SmtpTestOptions::default()) else {
            return;
        };
        let db = test_db().await;
        enqueue(&db, "ada@example.com", "Hello", "Body")
            .await
            .unwrap();
        // The server offers no STARTTLS: a transport that requires it sends nothing.
        let mut settings = server.settings();
        settings.retain(|(k, _)| *k != "BACKYARD_SMTP_ALLOW_PLAIN_LOCALHOST");
        let requiring = smtp_transport(&settings);
        let t0 = Utc::now();
        assert_eq!(
            deliver_due(&db, &requiring, t0, &Stopping::never()).await,
            Ok(0)
        );
        assert!(server.messages().is_empty());
        let row = &rows(&db).await[0];
        assert_eq!(row.status, "queued");
        assert!(row.last_error.is_some());
        // BACKYARD_SMTP_ALLOW_PLAIN_LOCALHOST=1: the local relay gets it.
        let plain = smtp_transport(&server.settings());
        assert_eq!(
            deliver_due(&db, &plain, later(t0, 60), &Stopping::never()).await,
            Ok(1)
        );
        assert_eq!(server.messages().len(), 1);
    }

    #[tokio::test]
    async fn a_refused_log_in_keeps_the_mail_queued_and_the_right_one_sends_it() {
        let Some(server) = SmtpTestServer::start(secured()) else {
            return;
        };
        let db = test_db().await;
        enqueue(&db, "ada@example.com", "Hello", "Body")
            .await
            .unwrap();
        let mut settings = server.settings();
        for (key, value) in settings.iter_mut() {
            if *key == "BACKYARD_SMTP_URL" {
                *value = value.replace(SmtpTestServer::PASSWORD, "wrong");
            }
        }
        let t0 = Utc::now();
        assert_eq!(
            deliver_due(&db, &smtp_transport(&settings), t0, &Stopping::never()).await,
            Ok(0)
        );
        let row = &rows(&db).await[0];
        assert_eq!(
            row.status, "queued",
            "our settings, not the message, are wrong"
        );
        assert!(
            row.last_error.as_deref().unwrap().contains("535"),
            "{row:?}"
        );
        let right = smtp_transport(&server.settings());
        assert_eq!(
            deliver_due(&db, &right, later(t0, 60), &Stopping::never()).await,
            Ok(1)
        );
        assert_eq!(server.messages().len(), 1);
    }

    /// A worker killed after its claim: nothing is lost, the message goes out when the lease
    /// ends.
    #[tokio::test]
    async fn a_claim_left_by_a_dead_worker_is_sent_when_its_lease_ends() {
        let Some(server) = SmtpTestServer::start(secured()) else {
            return;
        };
        let db = test_db().await;
        let transport = smtp_transport(&server.settings());
        enqueue(&db, "ada@example.com", "Hello", "Body")
            .await
            .unwrap();
        let t0 = Utc::now();
        assert_eq!(claim(&db, t0, 10).await.unwrap().len(), 1);
        assert_eq!(
            deliver_due(&db, &transport, later(t0, 60), &Stopping::never()).await,
            Ok(0)
        );
        let lease = LEASE.as_secs() as i64;
        assert_eq!(
            deliver_due(&db, &transport, later(t0, lease + 1), &Stopping::never()).await,
            Ok(1)
        );
        assert_eq!(server.messages().len(), 1);
    }

    /// Two workers at once (two app servers): each message once. SQLite, then PostgreSQL,
    /// where the claims really run at the same time.
    #[tokio::test]
    async fn two_workers_at_once_never_send_one_message_twice() {
        let Some(server) = SmtpTestServer::start(secured()) else {
            return;
        };
        async fn check(db: &DatabaseConnection, server: &SmtpTestServer) {
            let already = server.messages().len();
            let count = 300;
            for n in 0..count {
                enqueue(db, "ada@example.com", &format!("Message {n}"), "Body")
                    .await
                    .unwrap();
            }
            let (a, b) = (
                smtp_transport(&server.settings()),
                smtp_transport(&server.settings()),
            );
            let now = Utc::now();
            let never = Stopping::never();
            let (sent_a, sent_b) = tokio::join!(
                deliver_due(db, &a, now, &never),
                deliver_due(db, &b, now, &never)
            );
            assert_eq!(sent_a.unwrap() + sent_b.unwrap(), count);
            let mut subjects: Vec<String> = server.messages()[already..]
                .iter()
                .map(|m| {
                    let data = m["data"].as_str().unwrap();
                    data.lines()
                        .find_map(|l| l.strip_prefix("Subject: "))
                        .unwrap()
                        .to_string()
                })
                .collect();
            subjects.sort();
            let before = subjects.len();
            subjects.dedup();
            assert_eq!((before, subjects.len()), (count, count), "each one once");
        }
        let db = test_db().await;
        check(&db, &server).await;
        if let Some(pg) = PostgresTestDb::create().await {
            check(&pg.db, &server).await;
            pg.drop().await;
        }
    }
}
