//! The daily digest: once a day at 07:00 in the member's time zone (their profile's, else the
//! site's), everything since the last one whose kind they chose "daily digest" for, in one
//! message. The clock is a parameter, so tests drive it without sleeping.
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::{
    compose,
    preferences::{self, MailKind, Mode},
};
use crate::{
    error::AppError,
    server::{
        db::begin_private_write,
        entity::{notification, user},
        mail, settings,
    },
};

/// The hour the digest goes out, in the member's time zone.
pub const DIGEST_HOUR: u32 = 7;
/// A first digest (or one after a long pause) reaches back at most this far.
const LONGEST_BACK_DAYS: i64 = 7;
const MOST_ITEMS: u64 = 50;

/// The zone a member's digest follows.
pub async fn zone_of(conn: &impl ConnectionTrait, u: &user::Model) -> Result<Tz, AppError> {
    if let Some(tz) = u.time_zone.as_deref().and_then(|z| z.parse::<Tz>().ok()) {
        return Ok(tz);
    }
    let site = settings::text(conn, settings::SITE_TIME_ZONE).await?;
    Ok(site.parse::<Tz>().unwrap_or(Tz::UTC))
}

/// The last 07:00 in `tz` at or before `now`, in UTC.
pub fn last_digest_time(now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let local = now.with_timezone(&tz);
    let seven = NaiveTime::from_hms_opt(DIGEST_HOUR, 0, 0).expect("a valid time");
    let at = |date: chrono::NaiveDate| {
        // On a day whose 07:00 does not exist or exists twice (a clock change), the earliest.
        tz.from_local_datetime(&date.and_time(seven))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    };
    match at(local.date_naive()) {
        Some(today) if today <= now => today,
        _ => at(local.date_naive() - Duration::days(1)).unwrap_or(now - Duration::days(1)),
    }
}

/// Sends every digest due at `now`; gives how many were queued.
pub async fn send_due(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<usize, AppError> {
    // Members with something new for a digest since their last one.
    let candidates: Vec<i64> = notification::Entity::find()
        .select_only()
        .column(notification::Column::UserId)
        .distinct()
        .filter(notification::Column::MailKind.ne(""))
        .filter(notification::Column::UpdatedAt.gt(now - Duration::days(LONGEST_BACK_DAYS)))
        .into_tuple::<i64>()
        .all(db)
        .await?;
    let mut sent = 0;
    for user_id in candidates {
        let txn = begin_private_write(db).await?;
        if send_one(&txn, user_id, now).await? {
            sent += 1;
        }
        txn.commit().await?;
    }
    Ok(sent)
}

/// The member's digest, if one is due and has anything in it; the member's row is read again
/// in the transaction, so two workers send it once.
async fn send_one(
    txn: &impl ConnectionTrait,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let Some(member) = user::Entity::find_by_id(user_id).one(txn).await? else {
        return Ok(false);
    };
    let due_at = last_digest_time(now, zone_of(txn, &member).await?);
    if member.last_digest_at.is_some_and(|last| last >= due_at) {
        return Ok(false);
    }
    let since = member
        .last_digest_at
        .unwrap_or(now - Duration::days(1))
        .max(now - Duration::days(LONGEST_BACK_DAYS));
    let kinds: Vec<&str> = preferences::modes(txn, user_id)
        .await?
        .into_iter()
        .filter(|(_, mode)| *mode == Mode::Digest)
        .map(|(kind, _)| kind.as_str())
        .collect();
    let items = if kinds.is_empty() || !preferences::mailable(&member) {
        Vec::new()
    } else {
        notification::Entity::find()
            .filter(notification::Column::UserId.eq(user_id))
            .filter(notification::Column::MailKind.is_in(kinds))
            .filter(notification::Column::UpdatedAt.gt(since))
            .filter(notification::Column::UpdatedAt.lte(now))
            .order_by_asc(notification::Column::UpdatedAt)
            .limit(MOST_ITEMS)
            .all(txn)
            .await?
    };
    let mut row: user::ActiveModel = member.clone().into();
    row.last_digest_at = Set(Some(now));
    row.update(txn).await?;
    if items.is_empty() {
        return Ok(false);
    }
    queue(txn, &member, &items).await?;
    Ok(true)
}

async fn queue(
    txn: &impl ConnectionTrait,
    member: &user::Model,
    items: &[notification::Model],
) -> Result<(), AppError> {
    let site = settings::text(txn, settings::SITE_NAME).await?;
    let base = compose::outside().public_url;
    let esc = compose::escape;
    let line = |n: &notification::Model| {
        if n.count > 1 {
            format!("{} (and {} more)", n.message, n.count - 1)
        } else {
            n.message.clone()
        }
    };
    let mut text = format!("What happened on {site} since your last digest:\n\n");
    let mut html = format!(
        "<!doctype html><html><body style=\"font-family:system-ui,sans-serif;line-height:1.5;\
         max-width:40em\"><p>What happened on {} since your last digest:</p><ul>",
        esc(&site)
    );
    for n in items {
        text.push_str(&format!("- {}\n  {base}{}\n", line(n), n.link));
        html.push_str(&format!(
            "<li><a href=\"{}{}\">{}</a>{}</li>",
            esc(&base),
            esc(&n.link),
            esc(&line(n)),
            if n.staff {
                " <strong>(staff)</strong>"
            } else {
                ""
            }
        ));
    }
    // One unsubscribe per message: the digest's largest share decides which kind it stops.
    let kind = items
        .iter()
        .filter_map(|n| MailKind::parse(&n.mail_kind))
        .max_by_key(|k| items.iter().filter(|n| n.mail_kind == k.as_str()).count())
        .unwrap_or(MailKind::Replies);
    let unsubscribe = compose::unsubscribe_url(txn, member.id, kind).await?;
    text.push_str(&format!(
        "\n-- \nYou chose a daily digest for some notifications on {site}.\n\
         Stop digests of {label}: {unsubscribe}\nChoose what you get: {base}/account\n",
        label = kind.label()
    ));
    html.push_str(&format!(
        "</ul><hr><p style=\"color:#555;font-size:0.9em\">You chose a daily digest for some \
         notifications on {}.<br><a href=\"{}\">Stop digests of {}</a> · \
         <a href=\"{}/account\">Choose what you get</a></p></body></html>",
        esc(&site),
        esc(&unsubscribe),
        esc(kind.label()),
        esc(&base)
    ));
    mail::queue(
        txn,
        mail::Outgoing {
            to: member.email.clone(),
            subject: format!("[{site}] Your daily digest"),
            text,
            html: Some(html),
            user_id: Some(member.id),
            kind: "digest",
            reply_to: None,
            list_unsubscribe: compose::one_click(unsubscribe),
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_time_is_seven_in_the_members_zone() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let paris: Tz = "Europe/Paris".parse().unwrap();
        // 05:59 UTC is 06:59 in Paris (winter): yesterday's 07:00 counts.
        assert_eq!(
            last_digest_time(at("2026-12-01T05:59:00Z"), paris),
            at("2026-11-30T06:00:00Z")
        );
        assert_eq!(
            last_digest_time(at("2026-12-01T06:00:00Z"), paris),
            at("2026-12-01T06:00:00Z")
        );
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        assert_eq!(
            last_digest_time(at("2026-12-01T00:00:00Z"), tokyo),
            at("2026-11-30T22:00:00Z")
        );
    }
}
