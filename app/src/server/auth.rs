//! Password hashing, random tokens and permission checks.

use std::sync::OnceLock;

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{
        PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
        rand_core::RngCore,
    },
};

use super::entity::user;
use crate::{error::AppError, model::Role};

/// argon2id at 7 MiB of memory, 5 passes, 1 lane: one of OWASP's equivalent minimum settings
/// (19 MiB with 2 passes is another). About the same work per hash, but a log-in holds a third
/// of the memory while it runs, so a crowd of log-ins does not make the server's peak.
pub const ARGON2_MEMORY_KIB: u32 = 7 * 1024;
pub const ARGON2_ITERATIONS: u32 = 5;
pub const ARGON2_LANES: u32 = 1;

fn hasher() -> Argon2<'static> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_LANES, None)
        .expect("argon2 parameters are valid constants");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Password hashes computed at once: about one per core, so a log-in flood takes the CPU it
/// can use and no more. Each hash holds 7 MiB while it runs (ARGON2_MEMORY_KIB), so the count
/// also bounds memory: at most 8 (56 MiB) however many cores the host has.
fn hashing_slots() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
}

/// Log-ins that may wait for a slot. A short queue absorbs a crowd (a hash takes tens of
/// milliseconds, so the last in line waits a fraction of a second); beyond it the answer is 503
/// at once, which costs nothing, instead of a queue that grows with the attack.
const HASHING_QUEUE_PER_SLOT: usize = 4;

pub const HASHING_BUSY: &str =
    "Too many log-ins are being checked right now. Please try again in a few seconds.";

/// Runs password hashes on the blocking pool, `slots` at a time, with at most `queue` more
/// waiting; anyone beyond that is refused with `AppError::Busy`.
#[derive(Clone)]
pub struct HashingQueue(std::sync::Arc<HashingQueueInner>);

pub struct HashingQueueInner {
    slots: std::sync::Arc<tokio::sync::Semaphore>,
    /// Hashes running or waiting for a slot.
    admitted: std::sync::atomic::AtomicUsize,
    limit: usize,
}

/// One admitted hash, counted until it is dropped: when the hash has finished, or when the
/// request is dropped while still waiting.
struct Admitted(HashingQueue);

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0
            .0
            .admitted
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl HashingQueue {
    pub fn new(slots: usize, queue: usize) -> Self {
        HashingQueue(std::sync::Arc::new(HashingQueueInner {
            slots: std::sync::Arc::new(tokio::sync::Semaphore::new(slots)),
            admitted: std::sync::atomic::AtomicUsize::new(0),
            limit: slots + queue,
        }))
    }

    /// Hashes running or waiting now.
    pub fn admitted(&self) -> usize {
        self.0.admitted.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How many may run or wait at once; the next is refused.
    pub fn capacity(&self) -> usize {
        self.0.limit
    }

    /// Runs `work` on the blocking pool when a slot is free. The slot and the count travel with
    /// the blocking task, not the request: a client that hangs up mid-hash cannot free a slot
    /// while its memory is still in use.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        // Count, then check: parallel callers can never all see room for one.
        let before = self
            .0
            .admitted
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let admitted = Admitted(self.clone());
        if before >= self.0.limit {
            return Err(AppError::Busy(HASHING_BUSY.into()));
        }
        let slot = self
            .0
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| AppError::Internal)?;
        tokio::task::spawn_blocking(move || {
            let _held = (slot, admitted);
            work()
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing task failed");
            AppError::Internal
        })
    }
}

/// The process's one queue for password hashing.
pub fn hashing_queue() -> &'static HashingQueue {
    static QUEUE: OnceLock<HashingQueue> = OnceLock::new();
    QUEUE.get_or_init(|| {
        return_large_blocks_to_the_system();
        let slots = hashing_slots();
        HashingQueue::new(slots, slots * HASHING_QUEUE_PER_SLOT)
    })
}

/// glibc serves blocks above M_MMAP_THRESHOLD with their own mmap and gives them back on free,
/// but by default the threshold moves: after the first argon2 block (megabytes) is freed it rises
/// above that size, so every later block comes from a malloc arena (one per blocking thread) and
/// stays resident after the hash (a log-in flood took the server from 69 to 287 MB for good).
/// Setting the threshold fixes it (mallopt turns the moving threshold off): each hash's memory
/// goes back to the system when the hash ends. 1 MiB keeps page-sized buffers in the arenas.
/// Simpler than a pool of preallocated blocks, which would stay resident between floods.
/// The `backyard` binary allocates with mimalloc (server/src/main.rs), which maps blocks this
/// large on their own and unmaps them on free; this keeps glibc's malloc (the tests, the C
/// libraries) the same.
fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a parameter of the allocator; it takes the allocator's lock.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Runs argon2 work through the process's hashing queue.
async fn bounded<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    hashing_queue().run(work).await
}

pub async fn hash_password(password: String) -> Result<String, AppError> {
    bounded(move || hash_password_blocking(&password)).await
}

/// True when `stored` was made with another algorithm or other parameters than today's: an
/// earlier release's hash (19 MiB, 2 passes) is replaced by an equally costly one that holds less
/// memory, and a cheaper one by today's.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    parsed.algorithm != Algorithm::Argon2id.ident()
        || params.m_cost() != ARGON2_MEMORY_KIB
        || params.t_cost() != ARGON2_ITERATIONS
        || params.p_cost() != ARGON2_LANES
}

/// A hash with other (older, cheaper) parameters, as an earlier release made them: for the tests
/// of re-hashing at login.
pub fn hash_with_params(password: &str, memory_kib: u32, iterations: u32) -> String {
    let params = Params::new(memory_kib, iterations, 1, None).expect("valid parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
        .expect("hashing with valid parameters cannot fail")
        .to_string()
}

fn hash_password_blocking(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("hashing with valid parameters cannot fail")
        .to_string()
}

/// A real hash of a password nobody has, verified when the account does not exist, so that an
/// unknown username costs the same time as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password_blocking("backyard-dummy-password-for-timing"))
}

/// Checks `password` against `stored`, or against the dummy hash when there is no account.
/// Returns true only for a real account with the right password.
pub async fn verify_password(password: String, stored: Option<String>) -> Result<bool, AppError> {
    bounded(move || {
        let exists = stored.is_some();
        let hash = stored.unwrap_or_else(|| dummy_hash().to_string());
        let ok = match PasswordHash::new(&hash) {
            Ok(parsed) => hasher()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        };
        exists && ok
    })
    .await
}

/// 32 random bytes as 64 hex characters: form tokens and the like.
pub fn random_token() -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let mut out = String::with_capacity(64);
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

/// HMAC-SHA-256 (RFC 2104): a tag over `message` that only a holder of `key` can make.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// The server's secret called `name` (32 random bytes), made on first use and stored in the
/// database, so every server process on it shares it and it outlives restarts.
pub async fn server_secret(
    db: &impl sea_orm::ConnectionTrait,
    name: &str,
) -> Result<[u8; 32], AppError> {
    use sea_orm::sea_query::{Alias, Expr, Query};
    let table = Alias::new("server_secrets");
    let select = Query::select()
        .column(Alias::new("value"))
        .from(table.clone())
        .and_where(sea_orm::ExprTrait::eq(Expr::col(Alias::new("name")), name))
        .to_owned();
    // Read first: every signed link asks, and only the first start has to write.
    let row = match db.query_one(&select).await? {
        Some(row) => row,
        None => made(db, &table, name, &select).await?,
    };
    let hex: String = row.try_get("", "value")?;
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2).ok_or(AppError::Internal)?, 16)
            .map_err(|_| AppError::Internal)?;
    }
    Ok(key)
}

/// Makes the secret (two first starts at once: one insert wins, both read the winner's).
async fn made(
    db: &impl sea_orm::ConnectionTrait,
    table: &sea_orm::sea_query::Alias,
    name: &str,
    select: &sea_orm::sea_query::SelectStatement,
) -> Result<sea_orm::QueryResult, AppError> {
    use sea_orm::sea_query::{Alias, OnConflict, Query};
    let insert = Query::insert()
        .into_table(table.clone())
        .columns([Alias::new("name"), Alias::new("value")])
        .values_panic([name.into(), random_token().into()])
        .on_conflict(
            OnConflict::column(Alias::new("name"))
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    db.execute(&insert).await?;
    db.query_one(select).await?.ok_or(AppError::Internal)
}

/// Bytes as lower-case hex.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The one permission check: is `role` at least `needed`?
pub fn require_role(role: Option<Role>, needed: Role) -> Result<(), AppError> {
    match role {
        None => Err(AppError::SignInRequired("Please log in first.".into())),
        Some(r) if r >= needed => Ok(()),
        Some(_) => Err(AppError::Forbidden(format!(
            "Only {} and above can do that.",
            needed.label().to_lowercase()
        ))),
    }
}

pub const PROTECTED_MEMBER: &str =
    "Moderators can't act on admins, other moderators or their posts: ask an admin.";

/// Whether a member of role `actor` may use moderation powers on a member of role `target` or
/// their posts (end their sessions, suspend or remove them, edit, hide or delete their posts).
/// Admins may act on anyone; moderators on customers and staff, not on admins or each other
/// (as in Discourse), so a moderator cannot put words under an admin's name or lock them out.
pub fn may_act_on(actor: Role, target: Role) -> bool {
    match actor {
        Role::Admin => true,
        Role::Moderator => target < Role::Moderator,
        Role::Staff | Role::Customer => false,
    }
}

/// The check every moderation action on a member or their content makes: `may_act_on`, and
/// anyone may act on their own account and posts as far as their role allows.
pub fn check_may_act_on(
    actor: &super::entity::user::Model,
    target: &super::entity::user::Model,
) -> Result<(), AppError> {
    if actor.id == target.id || may_act_on(actor.role(), target.role()) {
        Ok(())
    } else {
        Err(AppError::Forbidden(PROTECTED_MEMBER.into()))
    }
}

/// What a suspended member is refused: writing anything, or logging in.
#[derive(Clone, Copy)]
pub enum Refused {
    Writing,
    LogIn,
}

/// Refuses a suspended member, saying until when and why.
pub fn check_suspension(member: &user::Model, refused: Refused) -> Result<(), AppError> {
    let Some(until) = member
        .suspended_until
        .filter(|until| *until > chrono::Utc::now())
    else {
        return Ok(());
    };
    // "For good" is stored as a date a century away: no date is shown for it.
    let suspended = if until - chrono::Utc::now() > chrono::Duration::days(365 * 50) {
        "Your account is suspended".to_string()
    } else {
        format!(
            "Your account is suspended until {}",
            crate::format::exact_utc(until)
        )
    };
    let consequence = match refused {
        Refused::Writing => ": you can read, but not post or change anything.",
        Refused::LogIn => ", so you can't log in.",
    };
    let reason = match member.suspension_reason.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() => format!(" Reason: {r}"),
        _ => String::new(),
    };
    Err(AppError::Forbidden(format!(
        "{suspended}{consequence}{reason}"
    )))
}

/// Refuses any write by a suspended member (see `api::writer`).
pub fn check_not_suspended(member: &user::Model) -> Result<(), AppError> {
    check_suspension(member, Refused::Writing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{hash}");
        assert!(
            verify_password("correct horse battery".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("wrong horse battery".into(), Some(hash))
                .await
                .unwrap()
        );
        // No account: never true, even with the dummy's own password.
        assert!(
            !verify_password("backyard-dummy-password-for-timing".into(), None)
                .await
                .unwrap()
        );
    }

    /// One slot and one place in the queue: the third caller is refused at once with 503 and
    /// the message, and the queue works again once the first two are done.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn beyond_the_queue_hashing_is_refused_with_busy() {
        let queue = HashingQueue::new(1, 1);
        let (release, released) = std::sync::mpsc::channel::<()>();
        let running = tokio::spawn({
            let queue = queue.clone();
            async move { queue.run(move || released.recv().is_ok()).await }
        });
        while queue.admitted() < 1 {
            tokio::task::yield_now().await;
        }
        let waiting = tokio::spawn({
            let queue = queue.clone();
            async move { queue.run(|| "waited").await }
        });
        while queue.admitted() < 2 {
            tokio::task::yield_now().await;
        }
        let refused = queue.run(|| "ran").await;
        assert_eq!(refused, Err(AppError::Busy(HASHING_BUSY.into())));
        assert_eq!(refused.unwrap_err().status(), 503);
        assert_eq!(queue.admitted(), 2, "a refusal takes no place");
        release.send(()).unwrap();
        assert_eq!(running.await.unwrap(), Ok(true));
        assert_eq!(waiting.await.unwrap(), Ok("waited"));
        assert_eq!(queue.admitted(), 0);
        assert_eq!(queue.run(|| "ran").await, Ok("ran"));
    }

    /// However many are admitted, no more than the slots run at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_hashes_run_at_once_than_there_are_slots() {
        use std::sync::{
            Arc,
            atomic::{AtomicUsize, Ordering},
        };
        let queue = HashingQueue::new(2, 30);
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let jobs: Vec<_> = (0..32)
            .map(|_| {
                let (queue, now, most) = (queue.clone(), now.clone(), most.clone());
                tokio::spawn(async move {
                    queue
                        .run(move || {
                            let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(n, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(2));
                            now.fetch_sub(1, Ordering::SeqCst);
                        })
                        .await
                })
            })
            .collect();
        for job in jobs {
            assert_eq!(job.await.unwrap(), Ok(()));
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn old_or_cheaper_hashes_need_rehashing() {
        assert!(needs_rehash(&hash_with_params("pw", 4096, 1)));
        // The earlier release's parameters: as costly, but three times the memory.
        assert!(needs_rehash(&hash_with_params("pw", 19 * 1024, 2)));
        assert!(!needs_rehash(&hash_password_blocking("pw")));
        assert!(needs_rehash("not a hash"));
    }

    #[test]
    fn roles_are_ordered() {
        assert!(require_role(Some(Role::Admin), Role::Moderator).is_ok());
        assert!(matches!(
            require_role(Some(Role::Customer), Role::Staff),
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(
            require_role(None, Role::Customer),
            Err(AppError::SignInRequired(_))
        ));
    }

    #[test]
    fn admins_act_on_anyone_moderators_only_below_themselves() {
        use Role::*;
        for (actor, target, allowed) in [
            (Admin, Admin, true),
            (Admin, Moderator, true),
            (Admin, Staff, true),
            (Admin, Customer, true),
            (Moderator, Admin, false),
            (Moderator, Moderator, false),
            (Moderator, Staff, true),
            (Moderator, Customer, true),
            (Staff, Customer, false),
            (Customer, Customer, false),
        ] {
            assert_eq!(
                may_act_on(actor, target),
                allowed,
                "{actor:?} on {target:?}"
            );
        }
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test cases 1 and 6 (a key longer than the block).
        assert_eq!(
            to_hex(&hmac_sha256(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            to_hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn tokens_are_unique_hex() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
