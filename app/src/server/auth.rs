//! Password hashing, random tokens and permission checks.
use std::sync::OnceLock;

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{
        PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
        rand_core::RngCore,
    },
};

use crate::{error::AppError, model::Role};

/// OWASP's argon2id minimum: 19 MiB of memory, 2 passes, 1 lane.
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
pub const ARGON2_ITERATIONS: u32 = 2;
pub const ARGON2_LANES: u32 = 1;

fn hasher() -> Argon2<'static> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_LANES, None)
        .expect("argon2 parameters are valid constants");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// At most this many password hashes are computed at once: argon2 takes tens of milliseconds of
/// CPU and 19 MiB each by design, so a burst of log-ins (an attack, or a crowd) would otherwise
/// take every core and starve all other requests. Half the cores, at least one: the rest keep
/// serving pages while log-ins queue.
fn hashing_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        tokio::sync::Semaphore::new((cores / 2).max(1))
    })
}

/// Runs argon2 work on the blocking pool, one of `hashing_permits` at a time.
async fn bounded<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let _permit = hashing_permits()
        .acquire()
        .await
        .map_err(|_| AppError::Internal)?;
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        tracing::error!(error = %e, "password hashing task failed");
        AppError::Internal
    })
}

pub async fn hash_password(password: String) -> Result<String, AppError> {
    bounded(move || hash_password_blocking(&password)).await
}

/// True when `stored` was made with another algorithm or cheaper parameters than today's.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    parsed.algorithm != Algorithm::Argon2id.ident()
        || params.m_cost() < ARGON2_MEMORY_KIB
        || params.t_cost() < ARGON2_ITERATIONS
        || params.p_cost() < ARGON2_LANES
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
    db: &sea_orm::DatabaseConnection,
    name: &str,
) -> Result<[u8; 32], AppError> {
    use sea_orm::{
        ConnectionTrait,
        sea_query::{Alias, Expr, OnConflict, Query},
    };
    let table = Alias::new("server_secrets");
    let insert = Query::insert()
        .into_table(table.clone())
        .columns([Alias::new("name"), Alias::new("value")])
        .values_panic([name.into(), random_token().into()])
        .on_conflict(OnConflict::column(Alias::new("name")).do_nothing().to_owned())
        .to_owned();
    db.execute(&insert).await?;
    let select = Query::select()
        .column(Alias::new("value"))
        .from(table)
        .and_where(sea_orm::ExprTrait::eq(Expr::col(Alias::new("name")), name))
        .to_owned();
    let row = db.query_one(&select).await?.ok_or(AppError::Internal)?;
    let hex: String = row.try_get("", "value")?;
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2).ok_or(AppError::Internal)?, 16)
            .map_err(|_| AppError::Internal)?;
    }
    Ok(key)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
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

    #[test]
    fn old_or_cheaper_hashes_need_rehashing() {
        assert!(needs_rehash(&hash_with_params("pw", 4096, 1)));
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
