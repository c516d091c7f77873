//! Account rules: sign-up, log-in, and creating staff accounts from the command line.
pub mod addresses;
mod link_tokens;
pub mod preferences;
pub mod profile;
pub mod sign_in;

use crate::server::notify::welcome;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
};

use crate::server::{
    auth::Refused,
    auth::random_token,
    auth::{hash_password, verify_password},
    db::{begin_write, is_unique_violation, lock_key},
    entity::user,
    forms,
};
use crate::{error::AppError, model::Role};

pub const USERNAME_MAX_CHARS: usize = 32;
pub const USERNAME_MIN_CHARS: usize = 2;
pub const PASSWORD_MIN_CHARS: usize = 10;
pub const PASSWORD_MAX_BYTES: usize = 1000;
pub const EMAIL_MAX_CHARS: usize = 254;

pub const USERNAME_TAKEN: &str = "That username is taken. Try another one.";
pub const EMAIL_TAKEN: &str =
    "An account with that e-mail address already exists. Log in instead, or use another address.";
pub const WRONG_LOGIN: &str =
    "That username or e-mail and password don't match. Check both and try again.";
pub const EMAIL_ONE_ADDRESS: &str = "Enter one e-mail address, like name@example.com: no spaces, commas, semicolons, quotes, brackets or line breaks.";
pub const EMAIL_NEVER_DELIVERED: &str =
    "Mail can't reach an address ending in .invalid. Enter the address you read your mail at.";
pub const USERNAME_LOOKALIKE: &str = "That username looks too much like another member's, the site's or one kept for the team. Choose another one.";
pub const SIGNUP_SENT_TWICE: &str =
    "This form was already sent once, and your account was created then. Log in to continue.";

/// What the sign-up form sends.
#[derive(Clone, Debug, Default)]
pub struct NewAccount {
    pub username: String,
    pub email: String,
    pub password: String,
    /// The form's one-shot token; None for accounts made outside a form (command line, seed).
    pub form_token: Option<String>,
}

pub fn validate_username(username: &str) -> Result<(), AppError> {
    let err = |m: &str| Err(AppError::invalid("username", m));
    if username.is_empty() {
        return err("Choose a username.");
    }
    if username.chars().any(char::is_control) {
        return err("Usernames can't contain control characters.");
    }
    if username.chars().any(char::is_whitespace) {
        return err("Usernames can't contain spaces.");
    }
    let count = username.chars().count();
    if count > USERNAME_MAX_CHARS {
        return err("Usernames can be at most 32 characters.");
    }
    if count < USERNAME_MIN_CHARS {
        return err("Usernames need at least 2 characters.");
    }
    if !username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return err("Use only letters, numbers, dots, dashes and underscores.");
    }
    if !username.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return err("Start your username with a letter or a number.");
    }
    Ok(())
}

/// One plain address (`local@domain`, see mail::address_problem): mail goes to exactly the
/// address given, so nothing that could name a second recipient is accepted. Beyond its shape
/// the only real test of an address is mail reaching it.
pub fn validate_email(email: &str) -> Result<(), AppError> {
    let err = |m: &str| Err(AppError::invalid("email", m));
    if email.is_empty() {
        return err("Enter your e-mail address.");
    }
    if email.chars().count() > EMAIL_MAX_CHARS {
        return err("E-mail addresses can be at most 254 characters.");
    }
    match crate::server::mail::address_problem(email) {
        None if crate::server::email_address::unreachable(email) => {
            err("That doesn't look like an e-mail address (like name@example.com).")
        }
        None => Ok(()),
        Some(true) => err(EMAIL_ONE_ADDRESS),
        Some(false) => err("That doesn't look like an e-mail address (like name@example.com)."),
    }
}

pub fn validate_password(password: &str) -> Result<(), AppError> {
    let err = |m: &str| Err(AppError::invalid("password", m));
    if password.len() > PASSWORD_MAX_BYTES {
        return err("Passwords can be at most 1,000 bytes long.");
    }
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return err("Use at least 10 characters for your password.");
    }
    Ok(())
}

/// A customer signs up through the form.
pub const SIGNUPS_CLOSED: &str = "Sign-ups are closed at the moment.";
pub const AWAITING_APPROVAL: &str =
    "Your account is waiting for an admin's approval; you can log in once it is approved.";

/// A visitor signs up, as the site's sign-up setting allows: open (welcomed at once), closed
/// (refused), or by approval (the account waits for an admin). Returns the account.
pub async fn sign_up(db: &DatabaseConnection, input: NewAccount) -> Result<user::Model, AppError> {
    let mode = crate::server::settings::text(db, crate::server::settings::SIGNUP_MODE).await?;
    if mode == "closed" {
        return Err(AppError::invalid("form", SIGNUPS_CLOSED));
    }
    let created = create_account(db, input, Role::Customer, None).await?;
    if mode == "approval" {
        let mut row: user::ActiveModel = created.into();
        row.awaiting_approval = Set(true);
        return Ok(row.update(db).await?);
    }
    welcome(db, created.id).await?;
    Ok(created)
}

/// `validate_email`, for an address a person gives as their own (sign-up, a change of
/// address): one no mail can reach is refused too. A site's own accounts (the demo's) may
/// have one.
pub fn validate_own_email(email: &str) -> Result<(), AppError> {
    validate_email(email)?;
    if crate::server::email_address::never_delivered(email) {
        return Err(AppError::invalid("email", EMAIL_NEVER_DELIVERED));
    }
    Ok(())
}

/// Creates an account with `role`. Every check runs before anything is written, and the write
/// is one transaction: a refused sign-up leaves no row behind.
pub async fn create_account(
    db: &DatabaseConnection,
    input: NewAccount,
    role: Role,
    staff_title: Option<String>,
) -> Result<user::Model, AppError> {
    insert_account(db, input, role, staff_title, true).await
}

/// Creates a demo or benchmark account. Their passwords are not chosen by anyone: they are
/// published on purpose (README, bench/), so the strength check, which refuses exactly those,
/// is skipped; every other check applies.
pub async fn create_seed_account(
    db: &DatabaseConnection,
    input: NewAccount,
    role: Role,
    staff_title: Option<String>,
) -> Result<user::Model, AppError> {
    insert_account(db, input, role, staff_title, false).await
}

/// What the "a new account gave your address" e-mail is called; at most one a day per address.
const ADDRESS_GIVEN_SUBJECT: &str = "A new account gave your address";

async fn insert_account(
    db: &DatabaseConnection,
    input: NewAccount,
    role: Role,
    staff_title: Option<String>,
    check_password: bool,
) -> Result<user::Model, AppError> {
    let username = input.username.clone();
    let email = crate::server::email_address::as_given(&input.email);
    let from_form = input.form_token.is_some();
    // Every field's error at once, not one per attempt.
    let password_checked = if check_password {
        crate::server::accounts::sign_in::validate_new_password(
            db,
            &input.password,
            &username,
            &email,
        )
        .await
    } else {
        Ok(())
    };
    AppError::fields(
        [
            validate_username(&username),
            if from_form {
                validate_own_email(&email)
            } else {
                validate_email(&email)
            },
            password_checked,
        ]
        .into_iter()
        .filter_map(Result::err)
        .collect(),
    )?;
    // Visitors cannot take the team's or the site's names; an operator creating staff may.
    let site_name = crate::server::settings::text(db, crate::server::settings::SITE_NAME).await?;
    if (from_form && crate::server::names::is_reserved(&username, &site_name))
        || crate::server::names::looks_deleted(&username)
    {
        return Err(AppError::invalid("username", USERNAME_LOOKALIKE));
    }
    // A username shows on every post and in every address of its member's.
    let watched = crate::server::posting::watched_list(db).await?;
    if let Some(word) = crate::server::watched_words::unfit_for_a_name(&username, &watched) {
        return Err(AppError::invalid("username", profile::name_with(&word)));
    }
    let (username_key, email_key) = (
        username.to_lowercase(),
        crate::server::mail::address_key(&email),
    );

    // Cheap refusals first, so a taken name costs no hashing; re-checked under the write lock.
    if let Some(token) = &input.form_token {
        forms::check_unused(db, token, SIGNUP_SENT_TWICE).await?;
    }
    let seen = check_free(db, &username_key, &email_key, from_form, 0).await?;
    let password_hash = hash_password(input.password).await?;

    let txn = begin_write(db).await?;
    // Sign-ups take turns on PostgreSQL too (SQLite's one writer already makes them), so the
    // check below sees every account created before this one: two look-alike names, or two
    // sign-ups giving one address, cannot both pass it at once.
    lock_key(&txn, "sign-up").await?;
    if let Some(token) = &input.form_token {
        forms::consume(&txn, token, SIGNUP_SENT_TWICE).await?;
    }
    // Only the accounts created since the check above are compared for look-alikes here: a
    // scan of every member's name held SQLite's one writer (and every post waiting for it) for
    // each sign-up.
    let address_in_use = check_free(&txn, &username_key, &email_key, from_form, seen.newest)
        .await?
        .address_in_use;
    // An address that already has an account is not refused (that would tell anyone which
    // addresses have accounts): the new account gets it as its contact address, under a key
    // of its own, and its owner is told by e-mail. See `login_candidates`.
    let stored_email_key = if address_in_use {
        format!("{email_key}{SHARED_ADDRESS_MARK}{}", &random_token()[..16])
    } else {
        email_key.clone()
    };
    let row = user::ActiveModel {
        username: Set(username.clone()),
        username_key: Set(username_key),
        email: Set(email.clone()),
        email_key: Set(stored_email_key),
        display_name: Set(username.clone()),
        password_hash: Set(password_hash),
        role: Set(role.as_str().to_string()),
        staff_title: Set(staff_title.filter(|_| role.is_staff())),
        trust_level: Set(0),
        created_at: Set(Utc::now()),
        // An operator's accounts (create-admin, the demo, benchmarks) are vouched for; a
        // visitor's address is confirmed by the link sent below.
        email_confirmed_at: Set((!from_form).then(Utc::now)),
        ..Default::default()
    };
    let created = match row.insert(&txn).await {
        Ok(created) => created,
        // Lost a race with a concurrent sign-up for the same name.
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::invalid("username", USERNAME_TAKEN));
        }
        Err(e) => return Err(e.into()),
    };
    // The owner is told once a day at most, however many sign-ups give their address: anyone
    // can type it, so each telling would otherwise be a mail anyone can send them.
    if address_in_use {
        let key = crate::server::mail::address_key(&email);
        lock_key(&txn, &format!("mail:{key}")).await?;
        let day_ago = Utc::now() - chrono::Duration::days(1);
        // The owner's one telling carries the new account's confirmation link: an address
        // in use gets no other mail from a sign-up.
        if crate::server::mail::sent_since(&txn, &key, ADDRESS_GIVEN_SUBJECT, day_ago).await? == 0 {
            let link = addresses::new_link(&txn, created.id, &email).await?;
            let body = format!(
                "Hello,\n\nSomeone just created the account \"{username}\" and gave this address. \
                 If that was you, welcome: log in with that username, and confirm this address \
                 for it within 48 hours to get its e-mails:\n\n{link}\n\nIf it wasn't, you can \
                 ignore this e-mail; your own account is unchanged, and the new one cannot log in \
                 with this address. Further accounts giving this address today are not announced.\n"
            );
            crate::server::mail::enqueue(&txn, &email, ADDRESS_GIVEN_SUBJECT, &body).await?;
        }
    } else if from_form {
        addresses::queue_confirmation(&txn, &created, &email).await?;
    }
    txn.commit().await?;
    Ok(created)
}

/// Between an address's key and the random part that makes a second account's key unique.
const SHARED_ADDRESS_MARK: &str = " #";

/// The accounts an address logs in (or resets a password) for: its own, then any that were
/// created later with the same address (at most a handful, oldest first).
pub async fn login_candidates(
    conn: &impl sea_orm::ConnectionTrait,
    email_key: &str,
) -> Result<Vec<user::Model>, AppError> {
    use sea_orm::{
        Condition, QueryOrder, QuerySelect,
        sea_query::{Expr, ExprTrait, LikeExpr},
    };
    // Keys of later accounts are "key #random". LIKE (with the address's own % and _ escaped)
    // rather than a range: PostgreSQL's collations do not order punctuation byte by byte.
    let escaped: String = email_key
        .chars()
        .flat_map(|c| match c {
            '\\' | '%' | '_' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let pattern = format!("{escaped}{SHARED_ADDRESS_MARK}%");
    let shared = Expr::col(user::Column::EmailKey).like(LikeExpr::new(pattern).escape('\\'));
    Ok(user::Entity::find()
        .filter(
            Condition::any()
                .add(user::Column::EmailKey.eq(email_key))
                .add(shared),
        )
        .order_by_asc(user::Column::Id)
        .limit(5)
        .all(conn)
        .await?)
}

/// What `check_free` found.
struct Free {
    /// The address already has an account (a form sign-up goes on regardless, see
    /// `insert_account`).
    address_in_use: bool,
    /// The newest account it compared the name with, for a second check that compares only
    /// those created since.
    newest: i64,
}

/// Refuses a taken username, or one that looks like the name of a member created after
/// `created_after` (an id; 0 for every member): usernames are public, every profile is at
/// /u/NAME. An operator's command is told plainly that the address has an account; a form
/// sign-up goes on (see `insert_account`). Accounts are never removed, only renamed when
/// deleted (to a reserved name), so the members after an id are all those created since.
async fn check_free(
    conn: &impl sea_orm::ConnectionTrait,
    username_key: &str,
    email_key: &str,
    from_form: bool,
    created_after: i64,
) -> Result<Free, AppError> {
    if user::Entity::find()
        .filter(user::Column::UsernameKey.eq(username_key))
        .one(conn)
        .await?
        .is_some()
    {
        return Err(AppError::invalid("username", USERNAME_TAKEN));
    }
    // Names that read like a member's are as good as taken: a reader cannot tell them apart.
    let wanted = crate::server::names::lookalike_key(username_key);
    let names: Vec<(i64, String)> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::UsernameKey)
        .filter(user::Column::Id.gt(created_after))
        .into_tuple()
        .all(conn)
        .await?;
    if names
        .iter()
        .any(|(_, name)| crate::server::names::lookalike_key(name) == wanted)
    {
        return Err(AppError::invalid("username", USERNAME_LOOKALIKE));
    }
    let newest = names
        .iter()
        .map(|(id, _)| *id)
        .max()
        .unwrap_or(created_after);
    let address_in_use = user::Entity::find()
        .filter(user::Column::EmailKey.eq(email_key))
        .one(conn)
        .await?
        .is_some();
    if address_in_use && !from_form {
        return Err(AppError::invalid("email", EMAIL_TAKEN));
    }
    Ok(Free {
        address_in_use,
        newest,
    })
}

/// What a typed log-in is looked up by: a username in lower case, or an address's key
/// (`mail::address_key`: an address typed in another Unicode form finds its account too).
pub fn login_key(login: &str) -> String {
    if login.contains('@') {
        crate::server::mail::address_key(login)
    } else {
        login.to_lowercase()
    }
}

/// Checks a username-or-e-mail and password. The same message, and the same argon2 work, whether
/// or not the account exists. Too many failures for the name, or from `ip`, are refused before
/// any password work with when to try again (sign_in::admit_attempt); a right password with an
/// old hash gets a new one.
pub async fn log_in(
    db: &DatabaseConnection,
    login: &str,
    password: &str,
    ip: Option<std::net::IpAddr>,
) -> Result<user::Model, AppError> {
    let login = login.trim();
    if login.is_empty() {
        return Err(AppError::invalid(
            "login",
            "Enter your username or e-mail address.",
        ));
    }
    if password.is_empty() {
        return Err(AppError::invalid("password", "Enter your password."));
    }
    let key = login_key(login);
    let candidates = if key.contains('@') {
        login_candidates(db, &key).await?
    } else {
        user::Entity::find()
            .filter(user::Column::UsernameKey.eq(key.clone()))
            .all(db)
            .await?
    };
    let attempt = crate::server::accounts::sign_in::attempt_keys(&key, &candidates);
    let recorded = crate::server::accounts::sign_in::admit_attempt(db, &attempt, ip).await?;
    if password.len() > PASSWORD_MAX_BYTES {
        return Err(AppError::invalid("form", WRONG_LOGIN));
    }
    // The password is checked against each account the name or address is for; with none, once
    // against a dummy hash, so an unknown name costs the same time.
    let found = match find_by_password(&candidates, password).await {
        Ok(found) => found,
        Err((e, checked_any)) => {
            // The password was never checked (the hashing queue was full for the first
            // account): the attempt is not a guess, so it is taken back and the member may
            // simply try again. Once one account's hash was checked it was a guess, and stays.
            if !checked_any {
                crate::server::accounts::sign_in::take_back_attempt(db, &recorded).await?;
            }
            return Err(e);
        }
    };
    // A wrong password stays counted (admit_attempt recorded it); a right one is taken back.
    let Some(user) = found else {
        return Err(AppError::invalid("form", WRONG_LOGIN));
    };
    // Only with the right password does anyone learn of the suspension; the attempt stays
    // counted as a failed log-in, and nothing else is written (no rehash).
    crate::server::auth::check_suspension(&user, Refused::LogIn)?;
    // Only with the right password does anyone learn the account waits for approval; such an
    // account's right password forgets nothing either.
    if user.awaiting_approval {
        return Err(AppError::invalid("form", AWAITING_APPROVAL));
    }
    // Only the failures of the account whose password this was: an address shared with an
    // account of the attacker's own must not let its password wipe the other accounts' count.
    crate::server::accounts::sign_in::clear_failures(
        db,
        &crate::server::accounts::sign_in::attempt_keys(&key, std::slice::from_ref(&user)),
    )
    .await?;
    crate::server::accounts::sign_in::rehash_if_old(db, &user, password).await?;
    Ok(user)
}

/// The account among `candidates` whose password this is. With none, the password is checked
/// once against a dummy hash, so an unknown name costs the same time.
/// An error says whether any account's hash had been checked before it.
async fn find_by_password(
    candidates: &[user::Model],
    password: &str,
) -> Result<Option<user::Model>, (AppError, bool)> {
    for (i, candidate) in candidates.iter().enumerate() {
        match verify_password(password.to_string(), Some(candidate.password_hash.clone())).await {
            Ok(true) => return Ok(Some(candidate.clone())),
            Ok(false) => {}
            Err(e) => return Err((e, i > 0)),
        }
    }
    if candidates.is_empty() {
        verify_password(password.to_string(), None)
            .await
            .map_err(|e| (e, false))?;
    }
    Ok(None)
}

/// Promotes or creates the first admin from the command line (`backyard create-admin`).
pub async fn create_admin(
    db: &DatabaseConnection,
    username: &str,
    email: &str,
    password: &str,
    title: Option<String>,
) -> Result<user::Model, AppError> {
    let input = NewAccount {
        username: username.to_string(),
        email: email.to_string(),
        password: password.to_string(),
        form_token: None,
    };
    create_account(
        db,
        input,
        Role::Admin,
        title.or(Some("Administrator".into())),
    )
    .await
}

pub async fn count_users(db: &DatabaseConnection) -> Result<u64, AppError> {
    use sea_orm::PaginatorTrait;
    Ok(user::Entity::find().count(db).await?)
}

/// The demo logins, printed at start so whoever runs the demo can sign in.
pub const DEMO_LOGINS: [(&str, &str, &str); 3] = [
    ("admin", "demo-admin-pass", "admin"),
    ("sam", "demo-staff-pass", "staff (Support Lead)"),
    ("casey", "demo-customer-pass", "customer"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{auth::random_token, testing::test_db};

    fn account(username: &str, email: &str) -> NewAccount {
        NewAccount {
            username: username.into(),
            email: email.into(),
            password: "a long enough password".into(),
            form_token: Some(random_token()),
        }
    }

    async fn field_error(db: &DatabaseConnection, input: NewAccount) -> (String, String) {
        match sign_up(db, input).await {
            Err(AppError::Invalid { field, message }) => (field, message),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    /// Sign-ups at once: of look-alike names only one is taken (each later one is compared with
    /// the accounts created since it was first checked), and sign-ups giving one address all
    /// get accounts, one with the address as its own, none told its name is taken.
    async fn sign_ups_at_once_keep_names_apart(db: &DatabaseConnection) {
        let groups: [&[&str]; 3] = [
            &["morgan", "m0rgan", "rnorgan", "MORGAN"],
            &["quinn", "qu1nn", "quinn_"],
            &["river", "stone", "cloud"],
        ];
        let mut set = tokio::task::JoinSet::new();
        for (g, names) in groups.iter().enumerate() {
            for name in names.iter() {
                let (db, name) = (db.clone(), name.to_string());
                let email = if g == 2 {
                    "shared@example.com".to_string()
                } else {
                    format!("{name}@example.com")
                };
                set.spawn(async move {
                    let outcome = sign_up(&db, account(&name, &email)).await;
                    (name, outcome)
                });
            }
        }
        let outcomes: std::collections::HashMap<String, Result<user::Model, AppError>> =
            set.join_all().await.into_iter().collect();
        for names in &groups[..2] {
            let created: Vec<&&str> = names.iter().filter(|n| outcomes[**n].is_ok()).collect();
            assert_eq!(created.len(), 1, "{names:?}: {outcomes:?}");
            for name in names.iter().filter(|n| outcomes[**n].is_err()) {
                assert!(
                    matches!(
                        &outcomes[*name],
                        Err(AppError::Invalid { message, .. })
                            if message == USERNAME_LOOKALIKE || message == USERNAME_TAKEN
                    ),
                    "{name}: {:?}",
                    outcomes[*name]
                );
            }
        }
        let mut keys: Vec<String> = groups[2]
            .iter()
            .map(|n| match &outcomes[*n] {
                Ok(u) => u.email_key.clone(),
                Err(e) => panic!("{n}: {e:?}"),
            })
            .collect();
        keys.sort();
        assert_eq!(keys[0], "shared@example.com", "{keys:?}");
        assert!(
            keys[1..]
                .iter()
                .all(|k| k.starts_with("shared@example.com #")),
            "{keys:?}"
        );
        assert_eq!(
            sea_orm::PaginatorTrait::count(user::Entity::find(), db)
                .await
                .unwrap(),
            5
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sign_ups_at_once_keep_names_apart_on_sqlite() {
        sign_ups_at_once_keep_names_apart(&test_db().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sign_ups_at_once_keep_names_apart_on_postgres() {
        let Some(pg) = crate::server::testing::PostgresTestDb::create().await else {
            return;
        };
        sign_ups_at_once_keep_names_apart(&pg.db).await;
        pg.drop().await;
    }

    /// A username with a blocked or censored word is refused, naming it, and nothing written.
    #[tokio::test]
    async fn a_username_with_a_watched_word_is_refused() {
        let db = test_db().await;
        crate::server::testing::watch(&db, &[("casino", "block"), ("darn", "censor")]).await;
        for (name, word) in [("casino_king", "casino"), ("DARN-it", "DARN")] {
            assert_eq!(
                field_error(&db, account(name, "someone@example.com")).await,
                ("username".to_string(), profile::name_with(word)),
            );
        }
        assert_eq!(
            sea_orm::PaginatorTrait::count(user::Entity::find(), &db)
                .await
                .unwrap(),
            0
        );
        sign_up(&db, account("darnell", "someone@example.com"))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn signs_up_a_customer_and_logs_in_by_name_or_email() {
        let db = test_db().await;
        let user = sign_up(&db, account("Ada", " Ada@Example.com "))
            .await
            .unwrap();
        assert_eq!(user.role(), Role::Customer);
        assert_eq!(user.email, "Ada@Example.com");
        assert!(user.password_hash.starts_with("$argon2id$"));
        assert_eq!(
            log_in(&db, "ada", "a long enough password", None)
                .await
                .unwrap()
                .id,
            user.id
        );
        assert_eq!(
            log_in(&db, "ADA@example.com", "a long enough password", None)
                .await
                .unwrap()
                .id,
            user.id
        );
    }

    #[tokio::test]
    async fn each_bad_input_gets_its_message_and_writes_nothing() {
        let db = test_db().await;
        sign_up(&db, account("taken", "taken@example.com"))
            .await
            .unwrap();
        let cases: Vec<(NewAccount, &str, &str)> = vec![
            (
                account("TAKEN", "new@example.com"),
                "username",
                USERNAME_TAKEN,
            ),
            (
                account("has space", "a@example.com"),
                "username",
                "Usernames can't contain spaces.",
            ),
            (
                account("bell\u{7}", "a@example.com"),
                "username",
                "Usernames can't contain control characters.",
            ),
            (
                account(&"x".repeat(33), "a@example.com"),
                "username",
                "Usernames can be at most 32 characters.",
            ),
            (
                account("", "a@example.com"),
                "username",
                "Choose a username.",
            ),
            (
                account("fine", "not-an-email"),
                "email",
                "That doesn't look like an e-mail address (like name@example.com).",
            ),
            (
                account("fine", "a@b"),
                "email",
                "That doesn't look like an e-mail address (like name@example.com).",
            ),
            // The demo's own addresses: a visitor giving one could pass for a demo account.
            (
                account("casey", "casey@demo.backyard.invalid"),
                "email",
                EMAIL_NEVER_DELIVERED,
            ),
            (
                account("fine", "Me@Example.INVALID"),
                "email",
                EMAIL_NEVER_DELIVERED,
            ),
            (
                NewAccount {
                    password: "short".into(),
                    ..account("fine", "f@example.com")
                },
                "password",
                "Use at least 10 characters for your password.",
            ),
            (
                NewAccount {
                    password: "é".repeat(501),
                    ..account("fine", "f@example.com")
                },
                "password",
                "Passwords can be at most 1,000 bytes long.",
            ),
        ];
        for (input, field, message) in cases {
            let label = format!("{:?}/{:?}", input.username, input.email);
            assert_eq!(
                field_error(&db, input).await,
                (field.to_string(), message.to_string()),
                "{label}"
            );
        }
        assert_eq!(
            count_users(&db).await.unwrap(),
            1,
            "no refused sign-up may write a row"
        );
    }

    /// An address in a script whose letters take combining marks (Hindi's vowel signs), or
    /// with an accent typed apart from its letter, signs up; it is kept composed (NFC), and
    /// logs in however it is typed. A mark that shows nothing is refused, and nothing written.
    #[tokio::test]
    async fn an_address_with_combining_marks_is_kept_composed_and_logs_in() {
        let db = test_db().await;
        let hindi = sign_up(&db, account("raja", "राजा@डाटामेल.भारत"))
            .await
            .unwrap();
        assert_eq!(hindi.email, "राजा@डाटामेल.भारत");
        let typed_apart = "Jose\u{301}@Example.com";
        let jose = sign_up(&db, account("jose", typed_apart)).await.unwrap();
        assert_eq!(jose.email, "Jos\u{e9}@Example.com");
        assert_eq!(jose.email_key, "jos\u{e9}@example.com");
        for login in [
            typed_apart,
            "jos\u{e9}@example.com",
            " JOS\u{c9}@EXAMPLE.COM",
        ] {
            assert_eq!(
                log_in(&db, login, "a long enough password", None)
                    .await
                    .unwrap()
                    .id,
                jose.id,
                "{login}"
            );
        }
        assert_eq!(
            log_in(&db, "राजा@डाटामेल.भारत", "a long enough password", None)
                .await
                .unwrap()
                .id,
            hindi.id
        );
        // The same address composed: in use (a second account for it, as for any address).
        let again = sign_up(&db, account("jose2", "jos\u{e9}@example.com"))
            .await
            .unwrap();
        assert!(again.email_key.starts_with("jos\u{e9}@example.com #"));
        use sea_orm::PaginatorTrait;
        let before = user::Entity::find().count(&db).await.unwrap();
        for bad in [
            "bo\u{34f}b@example.com",
            "\u{301}a@example.com",
            "a.\u{301}b@example.com",
        ] {
            assert_eq!(
                sign_up(&db, account("marked", bad)).await.unwrap_err(),
                AppError::invalid(
                    "email",
                    "That doesn't look like an e-mail address (like name@example.com)."
                ),
                "{bad}"
            );
        }
        assert_eq!(user::Entity::find().count(&db).await.unwrap(), before);
    }

    /// The once-a-day word to an address's owner counts mail by the address's key, also for a
    /// capital letter outside ASCII (SQL's `lower` on SQLite changes only ASCII ones, and every
    /// sign-up as "RENÉE" mailed the owner again).
    #[tokio::test]
    async fn an_address_with_a_capital_outside_ascii_is_told_once_a_day() {
        let db = test_db().await;
        sign_up(&db, account("renee", "renée@example.com"))
            .await
            .unwrap();
        for (n, typed) in [
            "RENÉE@EXAMPLE.COM",
            "Rene\u{301}e@example.com",
            "RENÉE@example.com",
        ]
        .into_iter()
        .enumerate()
        {
            sign_up(&db, account(&format!("renee{n}"), typed))
                .await
                .unwrap();
        }
        let told = crate::server::entity::email::Entity::find()
            .filter(crate::server::entity::email::Column::Subject.eq(ADDRESS_GIVEN_SUBJECT))
            .all(&db)
            .await
            .unwrap();
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!(told[0].to_key, "renée@example.com");
    }

    /// Migration 31 writes again the keys the old rule (lower case alone) wrote where the new
    /// one differs, keeping a later account's mark; a key given for another reason (a deleted
    /// account's) or one another account has stays; the outbox's messages get their keys.
    #[tokio::test]
    async fn migration_31_writes_address_keys_again() {
        use migrations::{Migrator, MigratorTrait};
        use sea_orm::{ConnectionTrait, Statement};
        let dir = std::env::temp_dir().join(format!("backyard-m31-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = crate::server::db::connect(&format!("sqlite://{}/m.db?mode=rwc", dir.display()))
            .await
            .unwrap();
        let count = Migrator::migrations().len() as u32;
        Migrator::up(&db, Some(count - 1)).await.unwrap();
        let jamo = "\u{1100}\u{1161}legacy@example.com";
        let members = [
            ("jamo", jamo, jamo.to_string()),
            ("sigma", "ΟΔΟΣ@x.gr", "οδος@x.gr".to_string()),
            ("later", "ΟΔΟΣ@x.gr", "οδος@x.gr #abcdef".to_string()),
            ("gone", jamo, "gone@deleted.invalid".to_string()),
            ("ascii", "Ann@Example.com", "ann@example.com".to_string()),
            // Its new key is another account's: left as it is.
            (
                "dup",
                "\u{1100}\u{1161}dup@x.com",
                "\u{1100}\u{1161}dup@x.com".to_string(),
            ),
            ("held", "\u{ac00}dup@x.com", "\u{ac00}dup@x.com".to_string()),
            ("idn", "a@مثال.إختبار", "a@مثال.إختبار".to_string()),
        ];
        for (name, email, key) in &members {
            db.execute_raw(Statement::from_sql_and_values(
                sea_orm::DbBackend::Sqlite,
                "INSERT INTO users (username, username_key, email, email_key, display_name,
                                    bio_source, bio_html, password_hash, role, trust_level,
                                    created_at, awaiting_approval, session_generation,
                                    follow_on_start, follow_on_reply, follow_on_vote)
                 VALUES (?, ?, ?, ?, ?, '', '', '!', 'customer', 1, ?, FALSE, 0, TRUE, TRUE, TRUE)",
                [
                    (*name).into(),
                    (*name).into(),
                    (*email).into(),
                    key.clone().into(),
                    (*name).into(),
                    Utc::now().into(),
                ],
            ))
            .await
            .unwrap();
        }
        for to in ["RENÉE@example.com", "plain@Example.com"] {
            db.execute_raw(Statement::from_sql_and_values(
                sea_orm::DbBackend::Sqlite,
                "INSERT INTO email_outbox (to_address, subject, body, created_at, kind, status,
                                           attempts)
                 VALUES (?, 'Hello', 'Body', ?, 'notice', 'queued', 0)",
                [to.into(), Utc::now().into()],
            ))
            .await
            .unwrap();
        }
        Migrator::up(&db, None).await.unwrap();
        let members = user::Entity::find().all(&db).await.unwrap();
        let keys: std::collections::HashMap<String, String> = members
            .iter()
            .map(|u| (u.username.clone(), u.email_key.clone()))
            .collect();
        let ids: std::collections::HashMap<String, i64> =
            members.iter().map(|u| (u.username.clone(), u.id)).collect();
        assert_eq!(keys["jamo"], "\u{ac00}legacy@example.com");
        assert_eq!(keys["sigma"], "οδοσ@x.gr");
        assert_eq!(keys["later"], "οδοσ@x.gr #abcdef");
        assert_eq!(keys["gone"], "gone@deleted.invalid");
        assert_eq!(keys["ascii"], "ann@example.com");
        assert_eq!(
            keys["dup"],
            format!("\u{ac00}dup@x.com #m31-{}", ids["dup"])
        );
        assert_eq!(keys["held"], "\u{ac00}dup@x.com");
        assert_eq!(keys["idn"], "a@xn--mgbh0fb.xn--kgbechtv");
        // Both accounts of the address are found by it.
        assert_eq!(
            login_candidates(&db, &crate::server::mail::address_key("\u{ac00}dup@x.com"))
                .await
                .unwrap()
                .len(),
            2
        );
        let outbox: Vec<String> = crate::server::entity::email::Entity::find()
            .all(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.to_key)
            .collect();
        assert_eq!(outbox, ["renée@example.com", "plain@example.com"]);
        db.close().await.unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn an_address_in_use_is_not_refused_and_logs_in_to_each_of_its_accounts() {
        let db = test_db().await;
        let first = sign_up(&db, account("first", "Same@Example.com"))
            .await
            .unwrap();
        let mut input = account("second", "same@example.com");
        input.password = "another long password".into();
        let second = sign_up(&db, input).await.unwrap();
        assert_ne!(first.email_key, second.email_key);
        assert_eq!(second.email, "same@example.com");
        // The first account's confirmation, then the owner of the address is told (and only
        // that: an address in use gets no other mail from a sign-up).
        let mails = crate::server::entity::email::Entity::find()
            .all(&db)
            .await
            .unwrap();
        assert_eq!(mails.len(), 2);
        assert_eq!(mails[0].subject, addresses::CONFIRM_SUBJECT);
        assert_eq!(mails[1].subject, ADDRESS_GIVEN_SUBJECT);
        assert!(mails[1].body.contains("\"second\""));
        // The address logs in to whichever account the password is for.
        let by_email = |p: &'static str| log_in(&db, "same@example.com", p, None);
        assert_eq!(
            by_email("a long enough password").await.unwrap().id,
            first.id
        );
        assert_eq!(
            by_email("another long password").await.unwrap().id,
            second.id
        );
        assert_eq!(
            by_email("neither of them!").await.unwrap_err(),
            AppError::invalid("form", WRONG_LOGIN)
        );
        assert_eq!(
            login_candidates(&db, "same@example.com")
                .await
                .unwrap()
                .len(),
            2
        );
        assert!(
            login_candidates(&db, "same@example.co")
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            login_candidates(&db, "same@example.co_")
                .await
                .unwrap()
                .is_empty()
        );
        assert!(login_candidates(&db, "%").await.unwrap().is_empty());
        // An operator creating an admin is told plainly.
        let err = create_admin(
            &db,
            "boss",
            "same@example.com",
            "a long enough password",
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(err, AppError::invalid("email", EMAIL_TAKEN));
    }

    #[tokio::test]
    async fn thirty_two_characters_is_allowed() {
        let db = test_db().await;
        sign_up(&db, account(&"x".repeat(32), "x@example.com"))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_form_sent_twice_creates_one_account() {
        let db = test_db().await;
        let first = account("twice", "twice@example.com");
        let again = first.clone();
        sign_up(&db, first).await.unwrap();
        let (field, message) = field_error(&db, again).await;
        assert_eq!(
            (field.as_str(), message.as_str()),
            ("form", SIGNUP_SENT_TWICE)
        );
        assert_eq!(count_users(&db).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn wrong_logins_get_one_message_whether_or_not_the_account_exists() {
        let db = test_db().await;
        sign_up(&db, account("real", "real@example.com"))
            .await
            .unwrap();
        let wrong_password = log_in(&db, "real", "not the password", None)
            .await
            .unwrap_err();
        let no_such_user = log_in(&db, "ghost", "not the password", None)
            .await
            .unwrap_err();
        assert_eq!(wrong_password, AppError::invalid("form", WRONG_LOGIN));
        assert_eq!(wrong_password, no_such_user);
    }

    #[tokio::test]
    async fn create_admin_gives_a_title() {
        let db = test_db().await;
        let admin = create_admin(
            &db,
            "root",
            "root@example.com",
            "a long enough password",
            None,
        )
        .await
        .unwrap();
        assert_eq!(admin.role(), Role::Admin);
        assert_eq!(admin.staff_title.as_deref(), Some("Administrator"));
    }
}
