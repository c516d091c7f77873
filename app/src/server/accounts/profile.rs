//! A member's profile as they edit it on /account: the name pages show beside their username,
//! and a short bio (Markdown, through the one content pipeline, stored as typed and as clean
//! HTML). The username itself does not change: mentions and links use it.
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};

use crate::{
    error::AppError,
    model::ProfileForm,
    server::{
        content,
        db::begin_write,
        entity::user,
        names,
        records::users,
        settings,
        watched_words::{self, WordAction},
    },
};

pub const DISPLAY_NAME_MAX: usize = 60;
pub const BIO_MAX: usize = 2000;

pub const NAME_EMPTY: &str = "Give the name others see, or your username.";
pub const NAME_LONG: &str = "A display name can be at most 60 characters.";
pub const NAME_RESERVED: &str =
    "That name is kept for the site and its team. Choose another, or use your username.";
pub const NAME_TAKEN: &str = "That name reads like another member's name or a staff title. Choose another name, or use your own username.";
pub const BIO_LONG: &str = "A bio can be at most 2,000 characters.";

/// The refusal of a name (display name or username) holding a blocked or censored word.
pub fn name_with(word: &str) -> String {
    format!("Names can't contain “{word}”. Choose another.")
}

/// The profile form as stored.
pub fn form(member: &user::Model) -> ProfileForm {
    ProfileForm {
        display_name: member.display_name.clone(),
        bio: member.bio_source.clone(),
    }
}

/// Checks every field (all problems reported at once) and saves both, or nothing. A display
/// name may not pass for the site, its team (names::is_reserved) or another member: a name is
/// shown on every post, and readers take it at its word. Writing is for members who may write
/// (the caller refuses a suspended one).
pub async fn save(
    db: &DatabaseConnection,
    member_id: i64,
    display_name: &str,
    bio: &str,
) -> Result<(), AppError> {
    // Read before the write lock is taken: comparing with every member is a scan.
    let taken_keys = names_in_use(db, member_id).await?;
    let txn = begin_write(db).await?;
    // Read again in the write: a save in flight while the account was deleted (or its member
    // suspended) wrote a name and bio onto "deleted user", shown beside its kept posts.
    // Locked (the row is written below): two saves at once take turns.
    let me = users::locked(&txn, member_id).await?;
    users::may_still_write(&me)?;
    // One line, as a title is: direction overrides could make a name read as another, and
    // controls and line separators have no place in one.
    let name = content::one_line(display_name.trim()).trim().to_string();
    let bio = crate::server::invisible::trimmed_or_nothing(bio);
    let mut problems = Vec::new();
    let own = names::lookalike_key(&name) == names::lookalike_key(&me.username);
    // A name of zero-width characters shows as no name at all beside a member's posts.
    if crate::server::invisible::is_blank(&name) {
        problems.push(AppError::invalid("display_name", NAME_EMPTY));
    } else if name.chars().count() > DISPLAY_NAME_MAX {
        problems.push(AppError::invalid("display_name", NAME_LONG));
    } else if !own {
        let site_name = settings::text(&txn, settings::SITE_NAME).await?;
        let key = names::lookalike_key(&name);
        if names::is_reserved(&name, &site_name) || passes_for_the_team(&name, &site_name) {
            problems.push(AppError::invalid("display_name", NAME_RESERVED));
        } else if taken_keys.contains(&key) {
            problems.push(AppError::invalid("display_name", NAME_TAKEN));
        }
    }
    // The watched words judge a name (`unfit_for_a_name`) and a bio as they judge a post.
    let watched = crate::server::posting::watched_list(&txn).await?;
    if !crate::server::invisible::is_blank(&name)
        && let Some(word) = watched_words::unfit_for_a_name(&name, &watched)
    {
        problems.push(AppError::invalid("display_name", name_with(&word)));
    }
    let mut bio_html = String::new();
    if bio.chars().count() > BIO_MAX {
        problems.push(AppError::invalid("bio", BIO_LONG));
    } else if !bio.is_empty() {
        let (shown, html) = crate::server::posting::censor_html(&content::render(bio), &watched);
        let written = watched_words::judge(bio, &watched_words::single_words(&watched)).action;
        match [written, shown]
            .into_iter()
            .flatten()
            .find(|(a, _)| *a == WordAction::Block)
        {
            Some((_, word)) => problems.push(AppError::invalid(
                "bio",
                format!("Your bio contains “{word}”, which isn't allowed here. Please reword it."),
            )),
            None => bio_html = html,
        }
    }
    AppError::fields(problems)?;
    let mut row: user::ActiveModel = me.into();
    row.display_name = Set(name);
    row.bio_source = Set(bio.to_string());
    row.bio_html = Set(bio_html);
    row.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Words in a name that make it read as the site's team ("Acme Support", "Admin Team").
const TEAM_WORDS: &[&str] = &[
    "admin",
    "administrator",
    "helpdesk",
    "mod",
    "moderator",
    "moderators",
    "official",
    "security",
    "staff",
    "support",
    "system",
    "team",
];

/// Whether one of the name's words is a team word, or the name holds the site's name, as a
/// reader would see it (look-alike letters folded).
fn passes_for_the_team(name: &str, site_name: &str) -> bool {
    let site = names::lookalike_key(site_name);
    let team: Vec<String> = TEAM_WORDS.iter().map(|w| names::lookalike_key(w)).collect();
    name.split(|c: char| c.is_whitespace() || c == '-' || c == '_' || c == '.')
        .map(names::lookalike_key)
        .any(|word| !word.is_empty() && team.contains(&word))
        || (site.len() >= 3 && names::lookalike_key(name).contains(&site))
}

/// The look-alike keys of every other member's username and display name and of every staff
/// title: a display name may read like none of them. A scan of the members, for a rare action.
async fn names_in_use(
    db: &DatabaseConnection,
    member_id: i64,
) -> Result<std::collections::HashSet<String>, AppError> {
    use sea_orm::QuerySelect;
    let rows: Vec<(i64, String, String, Option<String>)> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::Username)
        .column(user::Column::DisplayName)
        .column(user::Column::StaffTitle)
        .into_tuple()
        .all(db)
        .await?;
    let mut keys = std::collections::HashSet::new();
    for (id, username, display_name, title) in rows {
        if let Some(title) = title {
            keys.insert(names::lookalike_key(&title));
        }
        if id != member_id {
            keys.insert(names::lookalike_key(&username));
            keys.insert(names::lookalike_key(&display_name));
        }
    }
    keys.remove("");
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::testing::{World, insert_user};

    async fn stored(w: &World, id: i64) -> user::Model {
        users::member(&w.db, id).await.unwrap()
    }

    #[tokio::test]
    async fn a_member_sets_a_name_and_a_bio_made_safe() {
        let w = World::new().await;
        let me = insert_user(&w.db, 50).await;
        save(
            &w.db,
            me.id,
            "  Casey \u{202e}Jones\u{7}\u{2028}  ",
            "I **like** <script>alert(1)</script> it",
        )
        .await
        .unwrap();
        let row = stored(&w, me.id).await;
        assert_eq!(row.display_name, "Casey Jones");
        assert!(
            row.bio_html.contains("<strong>like</strong>"),
            "{}",
            row.bio_html
        );
        assert!(!row.bio_html.contains("<script"), "{}", row.bio_html);
        assert_eq!(form(&row).bio, "I **like** <script>alert(1)</script> it");
        // Back to the username, and no bio.
        save(&w.db, me.id, &me.username, "").await.unwrap();
        let row = stored(&w, me.id).await;
        assert_eq!(
            (row.display_name.as_str(), row.bio_html.as_str()),
            (me.username.as_str(), "")
        );
        // A bio of invisible characters is no bio.
        save(&w.db, me.id, &me.username, "\u{200b}\u{2800}\n\u{feff}")
            .await
            .unwrap();
        let row = stored(&w, me.id).await;
        assert_eq!((row.bio_source.as_str(), row.bio_html.as_str()), ("", ""));
    }

    #[tokio::test]
    async fn every_problem_is_reported_at_once_and_nothing_is_saved() {
        let w = World::new().await;
        let me = insert_user(&w.db, 51).await;
        let other = insert_user(&w.db, 52).await;
        let before = stored(&w, me.id).await;
        let long_bio = "x".repeat(BIO_MAX + 1);
        for (name, bio, expected) in [
            ("   ", "", vec![("display_name", NAME_EMPTY)]),
            (
                "\u{200b}\u{2800}\u{3164}",
                "",
                vec![("display_name", NAME_EMPTY)],
            ),
            (&*"n".repeat(61), "", vec![("display_name", NAME_LONG)]),
            ("Admin", "", vec![("display_name", NAME_RESERVED)]),
            ("Backyard", "", vec![("display_name", NAME_RESERVED)]),
            (
                &*other.username.to_uppercase(),
                "",
                vec![("display_name", NAME_TAKEN)],
            ),
            // Look-alike letters, invisible characters and other members' display names.
            ("us\u{0435}r52", "", vec![("display_name", NAME_TAKEN)]),
            ("user\u{200b}52", "", vec![("display_name", NAME_TAKEN)]),
            ("User 52", "", vec![("display_name", NAME_TAKEN)]),
            ("Acme Support", "", vec![("display_name", NAME_RESERVED)]),
            ("The St4ff", "", vec![("display_name", NAME_RESERVED)]),
            (
                "",
                &*long_bio,
                vec![("display_name", NAME_EMPTY), ("bio", BIO_LONG)],
            ),
        ] {
            let e = save(&w.db, me.id, name, bio).await.unwrap_err();
            for (field, message) in &expected {
                assert_eq!(e.for_field(field).as_deref(), Some(*message), "{name:?}");
            }
            assert_eq!(stored(&w, me.id).await, before, "{name:?}: nothing saved");
        }
    }

    /// A blocked or censored word refuses a name; a blocked one refuses a bio, and a censored
    /// one is masked in it, as in a post. Held and flagged words do not apply here.
    #[tokio::test]
    async fn watched_words_judge_names_and_bios() {
        let w = World::new().await;
        crate::server::testing::watch(
            &w.db,
            &[("casino", "block"), ("darn", "censor"), ("crypto", "hold")],
        )
        .await;
        let me = insert_user(&w.db, 53).await;
        let before = stored(&w, me.id).await;
        for (name, bio, field, message) in [
            ("Darn Fan", "", "display_name", name_with("Darn")),
            ("ＣＡＳＩＮＯ King", "", "display_name", name_with("casino")),
            (
                "Casey",
                "Visit my ca**sino**",
                "bio",
                "Your bio contains “casino”, which isn't allowed here. Please reword it.".into(),
            ),
        ] {
            let e = save(&w.db, me.id, name, bio).await.unwrap_err();
            assert_eq!(e.for_field(field), Some(message), "{name:?} {bio:?}");
            assert_eq!(stored(&w, me.id).await, before, "{name:?}: nothing saved");
        }
        save(&w.db, me.id, "Crypto Casey", "It's da*rn* good")
            .await
            .unwrap();
        let row = stored(&w, me.id).await;
        assert_eq!(row.display_name, "Crypto Casey");
        assert_eq!(row.bio_html, "<p>It's ■■<em>■■</em> good</p>\n");
    }
}
