//! Who may see an uploaded file as the posts that use it change (held, hidden, deleted,
//! quoted, their author removed as a spammer), and the sweep of what nothing uses.
use super::*;

#[tokio::test]
async fn a_file_is_its_uploaders_until_a_post_uses_it_then_as_visible_as_the_post() {
    let w = World::new().await;
    let store = DbStore::new(w.db.clone());
    let u = up(&w, &store, &w.customer, "shot.png", png(80, 60, 9, false)).await;
    assert_eq!(seen_by(&w, u.id).await, UPLOADER_ONLY);
    assert!(
        !sees(&w.db, u.id + 1000, Some(&w.customer)).await,
        "no such upload"
    );

    let (t, p) = forum::start_topic(
        &w.db,
        &w.customer,
        "questions",
        "The login screen is blank",
        &format!("It looks like this:\n\n{}", u.markdown),
        None,
    )
    .await
    .unwrap();
    assert_eq!(links(&w.db, p.id).await, vec![u.id]);
    assert_eq!(seen_by(&w, u.id).await, EVERYONE);
    assert_eq!(
        of_posts(&w.db, &[p.id]).await.unwrap()[&p.id],
        vec![u.clone()]
    );

    // Hidden by a moderator: the author and moderators only.
    moderation::act_on_post(
        &w.db,
        &w.moderator,
        p.id,
        moderation::PostAction::Hide,
        "Off topic",
    )
    .await
    .unwrap();
    assert_eq!(post_row(&w.db, p.id).await.state(), PostState::Hidden);
    assert_eq!(seen_by(&w, u.id).await, AUTHOR_AND_MODERATORS);
    moderation::act_on_post(
        &w.db,
        &w.moderator,
        p.id,
        moderation::PostAction::Restore,
        "",
    )
    .await
    .unwrap();
    assert_eq!(seen_by(&w, u.id).await, EVERYONE);

    // A reply that uses it too, then deleted: the reply's deletion changes nothing while the
    // first post shows it.
    let u2 = up(
        &w,
        &store,
        &w.customer,
        "second.png",
        png(80, 60, 10, false),
    )
    .await;
    let r = forum::reply(&w.db, &w.customer, t.id, &u2.markdown, None)
        .await
        .unwrap();
    assert_eq!(seen_by(&w, u2.id).await, EVERYONE);
    moderation::act_on_post(
        &w.db,
        &w.moderator,
        r.id,
        moderation::PostAction::Delete,
        "Spam",
    )
    .await
    .unwrap();
    assert_eq!(post_row(&w.db, r.id).await.state(), PostState::Deleted);
    assert_eq!(seen_by(&w, u2.id).await, AUTHOR_AND_MODERATORS);

    // Edited out of the post: the uploader's again (and the sweep's, in a day).
    forum::edit_post(&w.db, &w.customer, p.id, "Fixed, no picture needed.")
        .await
        .unwrap();
    assert!(links(&w.db, p.id).await.is_empty());
    assert_eq!(seen_by(&w, u.id).await, UPLOADER_ONLY);
}

#[tokio::test]
async fn a_held_post_shows_its_files_to_its_author_and_staff_only() {
    let w = World::new().await;
    let store = DbStore::new(w.db.clone());
    set(&w.db, settings::UPLOAD_NEW_MEMBERS, "hold").await;
    let newcomer = member(&w, 12, 0).await;
    let u = up(&w, &store, &newcomer, "error.png", png(50, 50, 11, false)).await;
    // Text alone is not held.
    let (plain, plain_post) = forum::start_topic(
        &w.db,
        &newcomer,
        "questions",
        "No picture",
        "Just words.",
        None,
    )
    .await
    .unwrap();
    assert_eq!(plain_post.state(), PostState::Visible);
    // A topic whose first post uses a file waits for a moderator, and so does the file.
    let (t, p) = forum::start_topic(
        &w.db,
        &newcomer,
        "questions",
        "Error on save",
        &format!("See: {}", u.markdown),
        None,
    )
    .await
    .unwrap();
    assert_eq!(p.state(), PostState::Pending);
    assert!(
        !topic::Entity::find_by_id(t.id)
            .one(&w.db)
            .await
            .unwrap()
            .unwrap()
            .visible
    );
    assert_eq!(links(&w.db, p.id).await, vec![u.id]);
    // Visitor, another customer, staff, moderator, the uploader.
    assert_eq!(
        seen_by_with(&w, u.id, &newcomer).await,
        [false, false, true, true, true]
    );
    // An established member's post with a file is not held.
    let u2 = up(&w, &store, &w.customer, "ok.png", png(50, 50, 12, false)).await;
    let ok = forum::reply(&w.db, &w.customer, plain.id, &u2.markdown, None)
        .await
        .unwrap();
    assert_eq!(ok.state(), PostState::Visible);
    // Approved: everyone.
    moderation::act_on_post(
        &w.db,
        &w.moderator,
        p.id,
        moderation::PostAction::Approve,
        "",
    )
    .await
    .unwrap();
    assert_eq!(seen_by_with(&w, u.id, &newcomer).await, EVERYONE);
}

#[tokio::test]
async fn linking_someone_elses_unused_upload_does_not_publish_it() {
    let w = World::new().await;
    let store = DbStore::new(w.db.clone());
    let private = up(
        &w,
        &store,
        &w.customer,
        "private.png",
        png(64, 48, 13, false),
    )
    .await;
    let (t, p) = forum::start_topic(
        &w.db,
        &w.other,
        "questions",
        "Look what I found",
        &format!("![x]({})", private.url),
        None,
    )
    .await
    .unwrap();
    assert!(links(&w.db, p.id).await.is_empty(), "attach refused it");
    assert_eq!(seen_by(&w, private.id).await, UPLOADER_ONLY);
    // Nor by a reply, nor by an edit, nor by a moderator editing the other's post (an edit
    // attaches the author's uploads only).
    let r = forum::reply(&w.db, &w.other, t.id, &private.markdown, None)
        .await
        .unwrap();
    assert!(links(&w.db, r.id).await.is_empty());
    forum::edit_post(&w.db, &w.other, r.id, &format!("again {}", private.url))
        .await
        .unwrap();
    assert!(links(&w.db, r.id).await.is_empty());
    moderation::edit_post(
        &w.db,
        &w.moderator,
        p.id,
        &format!("moderated {}", private.url),
        "Testing",
    )
    .await
    .unwrap();
    assert!(links(&w.db, p.id).await.is_empty());
    assert_eq!(seen_by(&w, private.id).await, UPLOADER_ONLY);
    // The same for one used in a hidden post: not public, so not taken.
    let (_, hidden_post) = forum::start_topic(
        &w.db,
        &w.customer,
        "questions",
        "Soon hidden",
        &private.markdown,
        None,
    )
    .await
    .unwrap();
    moderation::act_on_post(
        &w.db,
        &w.moderator,
        hidden_post.id,
        moderation::PostAction::Hide,
        "No",
    )
    .await
    .unwrap();
    let r2 = forum::reply(
        &w.db,
        &w.other,
        t.id,
        &format!("quoting {}", private.markdown),
        None,
    )
    .await
    .unwrap();
    assert!(links(&w.db, r2.id).await.is_empty());
    assert_eq!(seen_by(&w, private.id).await, AUTHOR_AND_MODERATORS);
}

#[tokio::test]
async fn quoting_a_public_image_uses_it_too() {
    let w = World::new().await;
    let store = DbStore::new(w.db.clone());
    let u = up(&w, &store, &w.customer, "chart.png", png(64, 48, 14, false)).await;
    // In a reply: a hidden opening post would take the whole topic out of sight.
    let (t, _) = forum::start_topic(&w.db, &w.customer, "questions", "Chart", "See below.", None)
        .await
        .unwrap();
    let p = forum::reply(&w.db, &w.customer, t.id, &u.markdown, None)
        .await
        .unwrap();
    let quote = forum::reply(
        &w.db,
        &w.other,
        t.id,
        &format!("> {}\n\nSame here.", u.markdown),
        None,
    )
    .await
    .unwrap();
    assert_eq!(links(&w.db, quote.id).await, vec![u.id]);
    assert_eq!(seen_by(&w, u.id).await, EVERYONE);
    // The uploader's own post decides: hidden by a moderator, the file is down everywhere, the
    // quote included (nobody keeps a picture up by linking it again).
    moderation::act_on_post(
        &w.db,
        &w.moderator,
        p.id,
        moderation::PostAction::Hide,
        "Dup",
    )
    .await
    .unwrap();
    assert_eq!(seen_by(&w, u.id).await, AUTHOR_AND_MODERATORS);
    // The quote keeps its link through an edit (it was used already).
    forum::edit_post(
        &w.db,
        &w.other,
        quote.id,
        &format!("{}\n\nStill.", u.markdown),
    )
    .await
    .unwrap();
    assert_eq!(links(&w.db, quote.id).await, vec![u.id]);
}

/// A staff article that shows a member's public screenshot keeps it up no longer than the
/// member's post: hidden by a moderator, it is down in the article too (as for a quote).
#[tokio::test]
async fn a_staff_article_showing_a_members_image_does_not_keep_it_up() {
    let w = World::new().await;
    let store = DbStore::new(w.db.clone());
    let u = up(
        &w,
        &store,
        &w.customer,
        "private.png",
        png(40, 40, 21, false),
    )
    .await;
    let (_, p) = forum::start_topic(&w.db, &w.customer, "questions", "Shot", &u.markdown, None)
        .await
        .unwrap();
    let input = ArticleInput {
        title: "What customers saw".into(),
        slug: String::new(),
        summary: String::new(),
        body: format!("As reported:\n\n{}", u.markdown),
        cover_image_url: String::new(),
        tags: String::new(),
        comments_open: true,
        publish: Publish::Now,
    };
    create_article(&w.db, &w.staff, &input, None).await.unwrap();
    assert_eq!(seen_by(&w, u.id).await, EVERYONE);
    moderation::act_on_post(
        &w.db,
        &w.moderator,
        p.id,
        moderation::PostAction::Hide,
        "Private data",
    )
    .await
    .unwrap();
    assert_eq!(seen_by(&w, u.id).await, AUTHOR_AND_MODERATORS);
    // The staff member's own image in their article is the article's to show.
    let own = up(&w, &store, &w.staff, "chart.png", png(40, 40, 22, false)).await;
    let input = ArticleInput {
        title: "Our chart".into(),
        body: own.markdown.clone(),
        ..input
    };
    create_article(&w.db, &w.staff, &input, None).await.unwrap();
    assert_eq!(seen_by_with(&w, own.id, &w.staff).await, EVERYONE);
}

#[tokio::test]
async fn a_removed_spammers_files_are_gone_at_once_and_their_bytes_at_the_sweep() {
    let w = World::new().await;
    let store = DbStore::new(w.db.clone());
    let spammer = member(&w, 13, 1).await;
    let spam = up(&w, &store, &spammer, "buy.png", png(70, 70, 15, true)).await;
    let unused = up(&w, &store, &spammer, "more.log", text(2000, 9)).await;
    let (_, p) = forum::start_topic(
        &w.db,
        &spammer,
        "questions",
        "Cheap watches",
        &spam.markdown,
        None,
    )
    .await
    .unwrap();
    // Someone quoted it before the moderator came.
    let kept = up(&w, &store, &w.customer, "mine.png", png(30, 30, 16, false)).await;
    let (t2, _) = forum::start_topic(
        &w.db,
        &w.customer,
        "questions",
        "Mine",
        &kept.markdown,
        None,
    )
    .await
    .unwrap();
    forum::reply(&w.db, &w.other, t2.id, &spam.markdown, None)
        .await
        .unwrap();
    assert_eq!(seen_by(&w, spam.id).await, EVERYONE);

    moderation::remove_spammer(&w.db, &w.moderator, spammer.id, "Spam")
        .await
        .unwrap();
    assert_eq!(post_row(&w.db, p.id).await.state(), PostState::Deleted);
    for id in [spam.id, unused.id] {
        assert_eq!(seen_by(&w, id).await, [false; 5]);
        assert!(!sees(&w.db, id, Some(&spammer)).await);
    }
    assert_eq!(
        upload::Entity::find()
            .filter(upload::Column::UserId.eq(spammer.id))
            .count(&w.db)
            .await
            .unwrap(),
        0
    );
    assert_eq!(seen_by(&w, kept.id).await, EVERYONE, "others' files stay");
    // The bytes go once nothing holds them and they are an hour old.
    let before = blob_keys(&w.db).await;
    assert_eq!(sweep(&w.db, &store).await.unwrap(), Swept::default());
    backdate_files(&w.db, 2).await;
    assert_eq!(
        sweep(&w.db, &store).await.unwrap(),
        Swept {
            uploads: 0,
            files: 2
        }
    );
    let after = blob_keys(&w.db).await;
    let spam_hash = content_hash(&png(70, 70, 15, true));
    assert!(before.iter().any(|k| k.contains(&spam_hash)));
    assert!(!after.iter().any(|k| k.contains(&spam_hash)), "{after:?}");
    assert!(
        after
            .iter()
            .any(|k| k.contains(&content_hash(&png(30, 30, 16, false))))
    );
    assert!(sees(&w.db, kept.id, None).await);
}

#[tokio::test]
async fn the_sweep_takes_uploads_unused_for_a_day_then_files_nothing_holds() {
    let w = World::new().await;
    let store = DbStore::new(w.db.clone());
    let used = up(&w, &store, &w.customer, "used.png", png(40, 30, 17, false)).await;
    forum::start_topic(
        &w.db,
        &w.customer,
        "questions",
        "Used",
        &used.markdown,
        None,
    )
    .await
    .unwrap();
    let stale = up(&w, &store, &w.customer, "stale.png", png(40, 30, 18, false)).await;
    // Another upload of the stale one's bytes, made today: the file stays for it.
    let stale_bytes = png(40, 30, 18, false);
    let shared_log = text(500, 3);
    let old_log = up(&w, &store, &w.customer, "old.log", shared_log.clone()).await;
    backdate_uploads(&w.db, 25).await;
    let fresh = up(&w, &store, &w.other, "fresh.log", shared_log.clone()).await;
    let (_, files_before, blobs_before) = counts(&w.db).await;
    assert_eq!(files_before, 3);

    // Uploads: the stale one and the old log go; the used one and today's stay.
    let swept = sweep(&w.db, &store).await.unwrap();
    assert_eq!(
        swept,
        Swept {
            uploads: 2,
            files: 0
        },
        "files under an hour old wait"
    );
    for (id, there) in [
        (used.id, true),
        (stale.id, false),
        (old_log.id, false),
        (fresh.id, true),
    ] {
        assert_eq!(
            upload::Entity::find_by_id(id)
                .one(&w.db)
                .await
                .unwrap()
                .is_some(),
            there,
            "upload {id}"
        );
    }
    assert_eq!(counts(&w.db).await, (2, 3, blobs_before));
    // An hour on: the stale image's file and copies go; the log stays for today's upload.
    backdate_files(&w.db, 2).await;
    assert_eq!(
        sweep(&w.db, &store).await.unwrap(),
        Swept {
            uploads: 0,
            files: 1
        }
    );
    let stale_hash = content_hash(&stale_bytes);
    assert!(
        file::Entity::find_by_id(stale_hash.clone())
            .one(&w.db)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !blob_keys(&w.db)
            .await
            .iter()
            .any(|k| k.contains(&stale_hash))
    );
    assert!(
        read(&store, &stale_hash, Variant::Main)
            .await
            .unwrap()
            .is_none()
    );
    assert!(sees(&w.db, used.id, None).await);
    assert!(sees(&w.db, fresh.id, Some(&w.other)).await);
    // Nothing left to do: a second sweep removes nothing.
    assert_eq!(sweep(&w.db, &store).await.unwrap(), Swept::default());
}
