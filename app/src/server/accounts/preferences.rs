//! What a member wants by e-mail, as /account shows and saves it (one choice per kind, the two
//! follow switches (starting, replying, voting), the digest's time zone), and the one-click unsubscribe link that every
//! notification e-mail carries: it works without signing in, because its signed token names
//! the member and the kind.
use std::collections::HashMap;

use chrono_tz::Tz;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Set};

use crate::{
    error::AppError,
    model::{MailChoice, MailSettings, UnsubscribeView},
    server::{
        db::begin_private_write,
        entity::user,
        notify::preferences::{self, KIND_UNKNOWN, MODE_UNKNOWN, MailKind, Mode},
        settings::{self, ZONE_UNKNOWN},
        signing,
    },
};

pub const UNSUBSCRIBE_LINK_BAD: &str = "This unsubscribe link doesn't work: it was altered or cut short. Copy the whole link from the e-mail, or choose what you get on your account page.";
/// A form that left out a kind: every kind is one select of the form, so this is a stale or
/// hand-made form, and saving the rest would quietly keep a choice the member did not see.
pub const KIND_MISSING: &str = "Choose immediately, daily digest or never for each kind of e-mail.";

/// What the Notifications form sends: kind name to mode name, as typed by the browser.
#[derive(Clone, Debug, Default)]
pub struct MailForm {
    pub modes: HashMap<String, String>,
    pub follow_on_start: bool,
    pub follow_on_reply: bool,
    pub follow_on_vote: bool,
    /// An IANA zone name, or empty for the site's zone.
    pub time_zone: String,
}

/// The member's e-mail settings as the form shows them.
pub async fn mail_settings(
    conn: &impl ConnectionTrait,
    member: &user::Model,
) -> Result<MailSettings, AppError> {
    let modes = preferences::modes(conn, member.id).await?;
    Ok(MailSettings {
        choices: modes
            .into_iter()
            .map(|(kind, mode)| MailChoice {
                kind: kind.as_str().into(),
                label: kind.label().into(),
                mode: mode.as_str().into(),
            })
            .collect(),
        follow_on_start: member.follow_on_start,
        follow_on_reply: member.follow_on_reply,
        follow_on_vote: member.follow_on_vote,
        time_zone: member.time_zone.clone(),
        site_time_zone: settings::text(conn, settings::SITE_TIME_ZONE).await?,
        zones: chrono_tz::TZ_VARIANTS
            .iter()
            .map(|tz| tz.name().to_string())
            .collect(),
    })
}

/// Saves the whole form in one transaction, after checking every field: an unknown kind or
/// mode, a missing kind or an unknown zone is refused and nothing is saved.
pub async fn save_mail_settings(
    db: &DatabaseConnection,
    user_id: i64,
    form: MailForm,
) -> Result<(), AppError> {
    let mut chosen = Vec::with_capacity(MailKind::ALL.len());
    for (kind, mode) in &form.modes {
        let kind = MailKind::parse(kind).ok_or_else(|| AppError::invalid("modes", KIND_UNKNOWN))?;
        let mode = Mode::parse(mode).ok_or_else(|| AppError::invalid("modes", MODE_UNKNOWN))?;
        chosen.push((kind, mode));
    }
    if chosen.len() != MailKind::ALL.len() {
        return Err(AppError::invalid("modes", KIND_MISSING));
    }
    let zone = form.time_zone.trim();
    let time_zone = if zone.is_empty() {
        None
    } else {
        // Stored as chrono_tz spells it, which is how the select lists it.
        let tz: Tz = zone
            .parse()
            .map_err(|_| AppError::invalid("time_zone", ZONE_UNKNOWN))?;
        Some(tz.name().to_string())
    };
    let txn = begin_private_write(db).await?;
    for (kind, mode) in chosen {
        preferences::set_mode(&txn, user_id, kind, mode).await?;
    }
    user::ActiveModel {
        id: Set(user_id),
        follow_on_start: Set(form.follow_on_start),
        follow_on_reply: Set(form.follow_on_reply),
        follow_on_vote: Set(form.follow_on_vote),
        time_zone: Set(time_zone),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The member and kind an unsubscribe token stands for; a forged, altered or malformed token,
/// a kind Backyard does not send or a member who no longer exists is one and the same refusal.
async fn unsubscribe_target(
    conn: &impl ConnectionTrait,
    token: &str,
) -> Result<(user::Model, MailKind), AppError> {
    let bad = || AppError::NotFound(UNSUBSCRIBE_LINK_BAD.into());
    let (user_id, kind) = signing::read_unsubscribe_token(conn, token)
        .await?
        .ok_or_else(bad)?;
    let kind = MailKind::parse(&kind).ok_or_else(bad)?;
    let member = user::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .ok_or_else(bad)?;
    Ok((member, kind))
}

/// What the unsubscribe page asks about. Reads only: link scanners open links in e-mails.
pub async fn unsubscribe_view(
    conn: &impl ConnectionTrait,
    token: &str,
) -> Result<UnsubscribeView, AppError> {
    let (member, kind) = unsubscribe_target(conn, token).await?;
    let stopped = preferences::mode(conn, member.id, kind).await? == Mode::Never;
    Ok(UnsubscribeView {
        display_name: member.display_name,
        kind_label: kind.label().into(),
        stopped,
    })
}

/// The one-click unsubscribe (RFC 8058): that member's e-mails of that kind stop.
pub async fn unsubscribe(db: &DatabaseConnection, token: &str) -> Result<(), AppError> {
    let (member, kind) = unsubscribe_target(db, token).await?;
    preferences::set_mode(db, member.id, kind, Mode::Never).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{entity::mail_preference, testing::World};

    fn form(pairs: &[(&str, &str)], zone: &str) -> MailForm {
        MailForm {
            modes: pairs
                .iter()
                .map(|(k, m)| (k.to_string(), m.to_string()))
                .collect(),
            follow_on_start: false,
            follow_on_reply: true,
            follow_on_vote: false,
            time_zone: zone.into(),
        }
    }

    const ALL_NEVER: [(&str, &str); 4] = [
        ("answers", "never"),
        ("replies", "never"),
        ("new_topics", "never"),
        ("mentions", "never"),
    ];

    async fn snapshot(w: &World, id: i64) -> (Vec<mail_preference::Model>, user::Model) {
        (
            mail_preference::Entity::find().all(&w.db).await.unwrap(),
            user::Entity::find_by_id(id)
                .one(&w.db)
                .await
                .unwrap()
                .unwrap(),
        )
    }

    #[tokio::test]
    async fn the_form_saves_every_kind_the_switches_and_the_zone() {
        let w = World::new().await;
        let me = w.customer.clone();
        let defaults = mail_settings(&w.db, &me).await.unwrap();
        let shown: Vec<(&str, &str)> = defaults
            .choices
            .iter()
            .map(|c| (c.kind.as_str(), c.mode.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("answers", "immediately"),
                ("replies", "digest"),
                ("new_topics", "digest"),
                ("mentions", "immediately")
            ]
        );
        assert!(defaults.zones.iter().any(|z| z == "Europe/Paris"));
        save_mail_settings(&w.db, me.id, form(&ALL_NEVER, "Europe/Paris"))
            .await
            .unwrap();
        let (_, saved) = snapshot(&w, me.id).await;
        assert_eq!(saved.time_zone.as_deref(), Some("Europe/Paris"));
        assert!(!saved.follow_on_start && saved.follow_on_reply);
        assert!(
            defaults.follow_on_vote && !saved.follow_on_vote,
            "voting follows until switched off"
        );
        let modes = preferences::modes(&w.db, me.id).await.unwrap();
        assert!(modes.iter().all(|(_, m)| *m == Mode::Never));
        // Empty zone: the site's again.
        save_mail_settings(&w.db, me.id, form(&ALL_NEVER, ""))
            .await
            .unwrap();
        assert_eq!(snapshot(&w, me.id).await.1.time_zone, None);
    }

    #[tokio::test]
    async fn each_bad_form_gets_its_message_and_saves_nothing() {
        let w = World::new().await;
        let me = w.customer.id;
        let before = snapshot(&w, me).await;
        let mut unknown_kind = ALL_NEVER.to_vec();
        unknown_kind[3] = ("newsletters", "never");
        let mut unknown_mode = ALL_NEVER.to_vec();
        unknown_mode[0] = ("answers", "hourly");
        let cases = [
            (form(&unknown_kind, ""), "modes", KIND_UNKNOWN),
            (form(&unknown_mode, ""), "modes", MODE_UNKNOWN),
            (form(&ALL_NEVER[..3], ""), "modes", KIND_MISSING),
            (
                form(&ALL_NEVER, "Mars/Olympus_Mons"),
                "time_zone",
                ZONE_UNKNOWN,
            ),
            (form(&ALL_NEVER, "UTC; DROP"), "time_zone", ZONE_UNKNOWN),
        ];
        for (input, field, message) in cases {
            let label = format!("{input:?}");
            assert_eq!(
                save_mail_settings(&w.db, me, input).await.unwrap_err(),
                AppError::invalid(field, message),
                "{label}"
            );
        }
        assert_eq!(snapshot(&w, me).await, before);
    }

    #[tokio::test]
    async fn an_unsubscribe_token_stops_its_kind_for_its_member_only() {
        let w = World::new().await;
        let (me, other) = (w.customer.id, w.other.id);
        let token = signing::unsubscribe_token(&w.db, me, "replies")
            .await
            .unwrap();
        let view = unsubscribe_view(&w.db, &token).await.unwrap();
        assert_eq!(view.display_name, w.customer.display_name);
        assert_eq!(view.kind_label, MailKind::Replies.label());
        assert!(!view.stopped);
        unsubscribe(&w.db, &token).await.unwrap();
        assert_eq!(
            preferences::mode(&w.db, me, MailKind::Replies)
                .await
                .unwrap(),
            Mode::Never
        );
        assert!(unsubscribe_view(&w.db, &token).await.unwrap().stopped);
        assert_eq!(
            preferences::mode(&w.db, other, MailKind::Replies)
                .await
                .unwrap(),
            Mode::Digest
        );
        assert_eq!(
            preferences::mode(&w.db, me, MailKind::Answers)
                .await
                .unwrap(),
            Mode::Immediately
        );
    }

    #[tokio::test]
    async fn forged_altered_and_malformed_tokens_change_nothing() {
        let w = World::new().await;
        let me = w.customer.id;
        let mine = signing::unsubscribe_token(&w.db, me, "replies")
            .await
            .unwrap();
        let (payload, signature) = mine.rsplit_once('-').unwrap();
        let other_member = format!("{}.replies-{signature}", w.other.id);
        let other_kind = format!("{me}.answers-{signature}");
        let forged = signing::sign(&w.db, "reply", &format!("{me}.replies"))
            .await
            .unwrap();
        let unknown_kind = signing::unsubscribe_token(&w.db, me, "newsletters")
            .await
            .unwrap();
        let gone = signing::unsubscribe_token(&w.db, 9999, "replies")
            .await
            .unwrap();
        let before = mail_preference::Entity::find().all(&w.db).await.unwrap();
        for bad in [
            other_member.as_str(),
            other_kind.as_str(),
            forged.as_str(),
            unknown_kind.as_str(),
            gone.as_str(),
            payload,
            "",
            "not-a-token",
            &format!("{mine}0"),
            &"a".repeat(500),
        ] {
            let expected = AppError::NotFound(UNSUBSCRIBE_LINK_BAD.into());
            assert_eq!(
                unsubscribe(&w.db, bad).await.unwrap_err(),
                expected,
                "{bad}"
            );
            assert_eq!(
                unsubscribe_view(&w.db, bad).await.unwrap_err(),
                expected,
                "{bad}"
            );
        }
        assert_eq!(
            mail_preference::Entity::find().all(&w.db).await.unwrap(),
            before
        );
    }
}
