//! Documents for machines: Atom feeds (the blog, the whole forum, each category) and the
//! sitemap (an index and its pages). All list public content only: published articles whose
//! time has come, and forum topics a visitor may see (visibility::public_forum_topics; the
//! articles' comment topics are the articles). Written out by hand through `xml_escape`: a few
//! small, fixed shapes do not need an XML library, and every feed goes through one Atom writer.
use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    prelude::DateTimeUtc, sea_query::Expr,
};

use crate::server::{
    entity::{category, post, topic, user},
    html_text, settings,
    visibility::public_forum_topics,
};
use crate::{error::AppError, model::PostState, model::topic_url};

/// How many entries a feed carries.
pub const FEED_ENTRIES: u64 = 20;
/// The most addresses one sitemap page may hold (sitemaps.org).
pub const SITEMAP_PAGE_URLS: i64 = 50_000;

/// Escapes text for XML content and attribute values.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all (most C0 controls, U+FFFE and U+FFFF) are
            // dropped: one in a member's title would make the whole feed unreadable.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            '\u{FFFE}' | '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

fn rfc3339(at: DateTimeUtc) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An Atom 1.0 feed, as every feed of the site is written.
pub struct AtomFeed {
    /// Permanent: a feed reader knows the feed by it.
    pub id: String,
    pub title: String,
    /// The page the feed follows.
    pub html_url: String,
    /// The feed's own address.
    pub self_url: String,
    /// Who the feed is by when an entry names nobody: the site.
    pub author: String,
    pub entries: Vec<AtomEntry>,
}

pub struct AtomEntry {
    /// Permanent: the thing's number, never its address (a new slug is no new entry).
    pub id: String,
    pub title: String,
    pub url: String,
    pub published: Option<DateTimeUtc>,
    pub updated: DateTimeUtc,
    pub author: String,
    pub categories: Vec<String>,
    pub summary: String,
    /// Stored, clean HTML.
    pub html: String,
}

impl AtomFeed {
    pub fn to_xml(&self) -> String {
        // The newest change in it; a feed with no entries yet has changed now.
        let updated = self
            .entries
            .iter()
            .map(|e| e.updated)
            .max()
            .unwrap_or_else(Utc::now);
        let mut xml = String::with_capacity(
            4096 + self.entries.iter().map(|e| e.html.len() * 2).sum::<usize>(),
        );
        xml.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        xml.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
        xml.push_str(&format!(
            "  <id>{}</id>\n  <title>{}</title>\n  <updated>{}</updated>\n",
            xml_escape(&self.id),
            xml_escape(&self.title),
            rfc3339(updated),
        ));
        xml.push_str(&format!(
            "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n",
            xml_escape(&self.html_url),
            xml_escape(&self.self_url),
        ));
        xml.push_str(&format!(
            "  <author><name>{}</name></author>\n  <generator>Backyard</generator>\n",
            xml_escape(&self.author)
        ));
        for e in &self.entries {
            let author = if e.author.is_empty() {
                &self.author
            } else {
                &e.author
            };
            xml.push_str("  <entry>\n");
            xml.push_str(&format!(
                "    <id>{}</id>\n    <title>{}</title>\n",
                xml_escape(&e.id),
                xml_escape(&e.title)
            ));
            xml.push_str(&format!(
                "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
                xml_escape(&e.url)
            ));
            if let Some(published) = e.published {
                xml.push_str(&format!(
                    "    <published>{}</published>\n",
                    rfc3339(published)
                ));
            }
            xml.push_str(&format!("    <updated>{}</updated>\n", rfc3339(e.updated)));
            xml.push_str(&format!(
                "    <author><name>{}</name></author>\n",
                xml_escape(author)
            ));
            for term in &e.categories {
                xml.push_str(&format!("    <category term=\"{}\"/>\n", xml_escape(term)));
            }
            xml.push_str(&format!(
                "    <summary>{}</summary>\n",
                xml_escape(&e.summary)
            ));
            xml.push_str(&format!(
                "    <content type=\"html\">{}</content>\n",
                xml_escape(&e.html)
            ));
            xml.push_str("  </entry>\n");
        }
        xml.push_str("</feed>\n");
        xml
    }
}

/// The blog's Atom feed: the newest published articles with their full clean HTML.
pub async fn atom_feed(
    db: &DatabaseConnection,
    site_url: &str,
    site_name: &str,
) -> Result<String, AppError> {
    let articles = crate::server::views::blog::latest_public(db, FEED_ENTRIES).await?;
    let summaries = crate::server::views::blog::summaries(db, articles.clone()).await?;
    let blog_url = format!("{site_url}/blog");
    let entries = articles
        .iter()
        .zip(summaries)
        .map(|(a, s)| AtomEntry {
            id: format!("{blog_url}/{}", a.id),
            title: a.title.clone(),
            url: format!("{site_url}{}", crate::server::records::articles::url_of(a)),
            published: a.published_at,
            updated: a.updated_at.max(a.published_at.unwrap_or(a.updated_at)),
            author: s.author_display_name,
            categories: s.tags,
            summary: s.summary,
            html: a.html.clone(),
        })
        .collect();
    Ok(AtomFeed {
        id: format!("{blog_url}/"),
        title: format!("{site_name} blog"),
        html_url: blog_url.clone(),
        self_url: format!("{blog_url}/feed.xml"),
        author: site_name.to_string(),
        entries,
    }
    .to_xml())
}

/// The forum's Atom feed (/feed.xml): its newest public topics, each with its opening post.
pub async fn forum_feed(
    db: &DatabaseConnection,
    site_url: &str,
    site_name: &str,
) -> Result<String, AppError> {
    Ok(AtomFeed {
        id: format!("{site_url}/"),
        title: format!("{site_name}: new topics"),
        html_url: format!("{site_url}/"),
        self_url: format!("{site_url}/feed.xml"),
        author: site_name.to_string(),
        entries: topic_entries(db, site_url, None).await?,
    }
    .to_xml())
}

/// A forum category's Atom feed (/c/{slug}/feed.xml); "not found" for a category that is not
/// a forum category.
pub async fn category_feed(
    db: &DatabaseConnection,
    site_url: &str,
    site_name: &str,
    slug: &str,
) -> Result<String, AppError> {
    let c = category::Entity::find()
        .filter(category::Column::Slug.eq(slug))
        .filter(category::Column::Kind.ne("blog_comments"))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("There is no such category.".into()))?;
    let page = format!("{site_url}/c/{}", c.slug);
    Ok(AtomFeed {
        // The category's number: renaming it (a new slug) keeps its feed.
        id: format!("{site_url}/c/{}", c.id),
        title: format!("{site_name}: {}", c.name),
        self_url: format!("{page}/feed.xml"),
        html_url: page,
        author: site_name.to_string(),
        entries: topic_entries(db, site_url, Some(&c)).await?,
    }
    .to_xml())
}

/// The newest public topics (of one category, or all), newest first, as feed entries. A topic
/// whose opening post is not public (hidden by a moderator) has nothing to show and is left
/// out.
async fn topic_entries(
    db: &DatabaseConnection,
    site_url: &str,
    only: Option<&category::Model>,
) -> Result<Vec<AtomEntry>, AppError> {
    let mut q = topic::Entity::find().filter(public_forum_topics());
    if let Some(c) = only {
        q = q.filter(topic::Column::CategoryId.eq(c.id));
    }
    let topics = q
        .order_by_desc(topic::Column::CreatedAt)
        .order_by_desc(topic::Column::Id)
        .limit(FEED_ENTRIES)
        .all(db)
        .await?;
    let openings: HashMap<i64, post::Model> = post::Entity::find()
        .filter(post::Column::TopicId.is_in(topics.iter().map(|t| t.id)))
        .filter(post::Column::PostNumber.eq(1))
        .filter(post::Column::State.eq(PostState::Visible.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.topic_id, p))
        .collect();
    let authors: HashMap<i64, (String, String)> = user::Entity::find()
        .select_only()
        .columns([
            user::Column::Id,
            user::Column::Username,
            user::Column::DisplayName,
        ])
        .filter(user::Column::Id.is_in(openings.values().map(|p| p.author_id)))
        .into_tuple::<(i64, String, String)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, username, display)| (id, (username, display)))
        .collect();
    let category_names: HashMap<i64, String> = match only {
        Some(c) => HashMap::from([(c.id, c.name.clone())]),
        None => category::Entity::find()
            .select_only()
            .columns([category::Column::Id, category::Column::Name])
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect(),
    };
    Ok(topics
        .into_iter()
        .filter_map(|t| {
            let opening = openings.get(&t.id)?;
            let author = authors
                .get(&opening.author_id)
                .map(|(username, display)| {
                    if display.is_empty() {
                        username.clone()
                    } else {
                        display.clone()
                    }
                })
                .unwrap_or_default();
            Some(AtomEntry {
                id: format!("{site_url}/t/{}", t.id),
                url: format!("{site_url}{}", topic_url(t.id, &t.slug, 1)),
                published: Some(t.created_at),
                updated: opening
                    .edited_at
                    .unwrap_or(opening.created_at)
                    .max(t.created_at),
                author,
                categories: category_names
                    .get(&t.category_id)
                    .cloned()
                    .into_iter()
                    .collect(),
                summary: html_text::excerpt(&opening.html, 200),
                html: opening.html.clone(),
                title: t.title,
            })
        })
        .collect())
}

/// Addresses crawlers are kept out of: pages for one member (account, notifications, drafts,
/// editors, tokens in links), staff and admin tools, search results (endless and thin), the
/// forms, and the server functions.
pub const ROBOTS_DISALLOWED: &[&str] = &[
    "/api/",
    "/search",
    "/admin",
    "/staff",
    "/account",
    "/notifications",
    "/new-topic",
    "/p/",
    "/blog/new",
    "/login",
    "/signup",
    "/reset",
    "/unsubscribe",
    "/confirm-email",
];

/// /robots.txt: the sitemap and what to leave alone; with indexing switched off, everything.
pub async fn robots_txt(db: &DatabaseConnection, site_url: &str) -> Result<String, AppError> {
    if !settings::search_engines_index(db).await? {
        return Ok(
            "# Indexing is switched off in the site settings.\nUser-agent: *\nDisallow: /\n".into(),
        );
    }
    let mut txt = String::from("User-agent: *\n");
    for path in ROBOTS_DISALLOWED {
        txt.push_str(&format!("Disallow: {path}\n"));
    }
    txt.push_str(&format!("\nSitemap: {site_url}/sitemap.xml\n"));
    Ok(txt)
}

/// One page of the sitemap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SitemapPage {
    /// /sitemap/site.xml: the home page, the blog, the accountability page when public, the
    /// forum's categories and the public articles.
    Site,
    /// /sitemap/topics-N.xml: the public forum topics numbered from (N-1)×size+1 to N×size.
    /// Ranges of ids rather than counts of topics: each page is one range scan of the primary
    /// key and needs no count of what came before, whatever the forum's size; a range never
    /// holds more than `size` topics, and ranges with no public topic are not listed.
    Topics(i64),
}

impl SitemapPage {
    /// The page a file name under /sitemap/ names, if it names one.
    pub fn parse(file: &str) -> Option<SitemapPage> {
        let name = file.strip_suffix(".xml")?;
        if name == "site" {
            return Some(SitemapPage::Site);
        }
        let n = name.strip_prefix("topics-")?;
        // Digits only, no sign or leading zero: one address per page.
        if n.is_empty() || n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        n.parse().ok().map(SitemapPage::Topics)
    }

    pub fn path(self) -> String {
        match self {
            SitemapPage::Site => "/sitemap/site.xml".into(),
            SitemapPage::Topics(n) => format!("/sitemap/topics-{n}.xml"),
        }
    }
}

fn not_found() -> AppError {
    AppError::NotFound("There is no such sitemap page.".into())
}

fn urlset(urls: impl IntoIterator<Item = (String, Option<DateTimeUtc>)>) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (loc, modified) in urls {
        xml.push_str(&format!("  <url><loc>{}</loc>", xml_escape(&loc)));
        if let Some(at) = modified {
            xml.push_str(&format!("<lastmod>{}</lastmod>", rfc3339(at)));
        }
        xml.push_str("</url>\n");
    }
    xml.push_str("</urlset>\n");
    xml
}

/// The site page's addresses with their last change: the forum's latest activity for the home
/// page, the newest article for the blog.
async fn site_urls(
    db: &DatabaseConnection,
    site_url: &str,
    page_size: i64,
) -> Result<Vec<(String, Option<DateTimeUtc>)>, AppError> {
    let categories: Vec<(String, Option<DateTimeUtc>)> = category::Entity::find()
        .select_only()
        .columns([category::Column::Slug, category::Column::LastPostedAt])
        .filter(category::Column::Kind.ne("blog_comments"))
        .order_by_asc(category::Column::Position)
        .limit(page_size.max(0) as u64)
        .into_tuple()
        .all(db)
        .await?;
    let articles = crate::server::views::blog::public_addresses(db).await?;
    let forum_activity = categories.iter().filter_map(|c| c.1).max();
    let blog_activity = articles.iter().map(|a| a.1).max();
    let mut urls = vec![
        (format!("{site_url}/"), forum_activity.max(blog_activity)),
        (format!("{site_url}/blog"), blog_activity),
    ];
    if settings::accountability_public(db).await? {
        urls.push((format!("{site_url}/accountability"), None));
    }
    urls.extend(
        categories
            .into_iter()
            .map(|(slug, last)| (format!("{site_url}/c/{slug}"), last)),
    );
    // A company blog does not reach 50,000 articles; if it did, the newest are listed.
    let room = (page_size.max(0) as usize).saturating_sub(urls.len());
    urls.extend(
        articles
            .into_iter()
            .take(room)
            .map(|(slug, updated)| (format!("{site_url}/blog/{slug}"), Some(updated))),
    );
    Ok(urls)
}

/// The first and last topic id of topic page `n`.
fn id_range(n: i64, page_size: i64) -> (i64, i64) {
    ((n - 1) * page_size + 1, n * page_size)
}

/// Topic n holds ids (n-1)×size+1 ..= n×size: its page number is (id-1)/size+1, in SQL. (Its
/// own function: ExprTrait's `max` would shadow Ord's wherever it is imported.)
fn topic_page_of_id(page_size: i64) -> Expr {
    use sea_orm::sea_query::ExprTrait;
    Expr::col(topic::Column::Id).sub(1).div(page_size).add(1)
}

/// /sitemap.xml: the sitemap index (sitemaps.org), naming the site page and every topic page
/// that holds a public topic, each with its latest activity. One grouped scan of the topics.
pub async fn sitemap_index(
    db: &DatabaseConnection,
    site_url: &str,
    page_size: i64,
) -> Result<String, AppError> {
    let page_size = page_size.max(1);
    let site_modified = site_urls(db, site_url, page_size)
        .await?
        .into_iter()
        .filter_map(|u| u.1)
        .max();
    // Grouped and ordered by the output column's name: PostgreSQL would not match the same
    // expression written twice with its numbers as separate parameters.
    let page = || Expr::col(sea_orm::sea_query::Alias::new("page"));
    let topic_pages: Vec<(i64, DateTimeUtc)> = topic::Entity::find()
        .select_only()
        .column_as(topic_page_of_id(page_size), "page")
        .column_as(topic::Column::LastPostedAt.max(), "modified")
        .filter(public_forum_topics())
        .group_by(page())
        .order_by_asc(page())
        .into_tuple()
        .all(db)
        .await?;
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let pages = std::iter::once((SitemapPage::Site, site_modified)).chain(
        topic_pages
            .into_iter()
            .map(|(n, modified)| (SitemapPage::Topics(n), Some(modified))),
    );
    for (page, modified) in pages {
        xml.push_str(&format!(
            "  <sitemap><loc>{}</loc>",
            xml_escape(&format!("{site_url}{}", page.path()))
        ));
        if let Some(at) = modified {
            xml.push_str(&format!("<lastmod>{}</lastmod>", rfc3339(at)));
        }
        xml.push_str("</sitemap>\n");
    }
    xml.push_str("</sitemapindex>\n");
    Ok(xml)
}

/// One page of the sitemap; "not found" for a topic page that holds no public topic (past the
/// end, or all of its topics removed), as the index does not list it.
pub async fn sitemap_page(
    db: &DatabaseConnection,
    site_url: &str,
    page: SitemapPage,
    page_size: i64,
) -> Result<String, AppError> {
    let page_size = page_size.max(1);
    let urls = match page {
        SitemapPage::Site => site_urls(db, site_url, page_size).await?,
        SitemapPage::Topics(n) => {
            if n < 1 || n > i64::MAX / page_size {
                return Err(not_found());
            }
            let (first, last) = id_range(n, page_size);
            let topics: Vec<(i64, String, DateTimeUtc)> = topic::Entity::find()
                .select_only()
                .columns([
                    topic::Column::Id,
                    topic::Column::Slug,
                    topic::Column::LastPostedAt,
                ])
                .filter(topic::Column::Id.between(first, last))
                .filter(public_forum_topics())
                .order_by_asc(topic::Column::Id)
                .into_tuple()
                .all(db)
                .await?;
            if topics.is_empty() {
                return Err(not_found());
            }
            topics
                .into_iter()
                .map(|(id, slug, last)| {
                    (format!("{site_url}{}", topic_url(id, &slug, 1)), Some(last))
                })
                .collect()
        }
    };
    Ok(urlset(urls))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{
        blog::{self, ArticleInput, Publish},
        forum,
        moderation::{self, PostAction},
        testing::World,
    };

    /// What XML 1.0 cannot carry never reaches a feed, wherever a member typed it (a title, a
    /// post, a display name): one U+FFFE in a title made every feed reader drop the site's feed.
    #[tokio::test]
    async fn a_feed_carries_only_what_xml_can_whatever_members_type() {
        let w = World::new().await;
        let mut author: crate::server::entity::user::ActiveModel = w.customer.clone().into();
        author.display_name = sea_orm::Set("Feed \u{FFFF} Breaker".into());
        sea_orm::ActiveModelTrait::update(author, &w.db)
            .await
            .unwrap();
        let customer = crate::server::records::users::member(&w.db, w.customer.id)
            .await
            .unwrap();
        let (t, _) = forum::start_topic(
            &w.db,
            &customer,
            "questions",
            "ZQ \u{FFFE} \u{1b}[31m ansi\u{85}\ttab",
            "body \u{FFFE} and \u{FFFF} \u{1b} end",
            None,
        )
        .await
        .unwrap();
        assert_eq!(t.title, "ZQ  [31m ansi tab");
        let xml = forum_feed(&w.db, "https://x.example", "Site")
            .await
            .unwrap();
        let unfit: Vec<char> = xml
            .chars()
            .filter(|&c| {
                matches!(c, '\u{FFFE}' | '\u{FFFF}')
                    || (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
            })
            .collect();
        assert_eq!(unfit, Vec::<char>::new(), "{xml}");
        assert!(xml.contains("Feed  Breaker"), "{xml}");
        assert_eq!(xml_escape("a\u{FFFE}b\u{FFFF}c\u{1}d<"), "abcd&lt;");
        // A title of nothing but what is dropped is no title.
        let empty = forum::validate_title("\u{1b}\u{FFFE}\u{7f}");
        assert!(matches!(empty, Err(AppError::Invalid { .. })), "{empty:?}");
    }

    /// Addresses (as paths) on sitemap page `page` at `size` a page, or None when it is not found.
    async fn paths_on(
        db: &DatabaseConnection,
        page: SitemapPage,
        size: i64,
    ) -> Option<Vec<String>> {
        let xml = match sitemap_page(db, "https://x.example", page, size).await {
            Ok(xml) => xml,
            Err(AppError::NotFound(_)) => return None,
            Err(e) => panic!("{e}"),
        };
        Some(
            xml.lines()
                .filter_map(|l| l.split("<loc>https://x.example").nth(1))
                .map(|rest| rest.split("</loc>").next().unwrap().to_string())
                .collect(),
        )
    }

    /// Pages are ranges of topic ids: at size 2 each holds at most two topics, removed topics
    /// and articles' comment topics leave gaps, and a range with nothing public is neither
    /// listed nor found.
    #[tokio::test]
    async fn sitemap_pages_are_ranges_of_topic_ids_of_at_most_the_page_size() {
        // The shared fixture: members of every role, the questions category.
        let w = World::new().await;
        let (db, author, moderator, staff) = (w.db.clone(), &w.customer, &w.moderator, &w.staff);
        let mut topics = Vec::new();
        for title in ["One", "Two", "Three", "Four", "Five"] {
            topics.push(
                forum::start_topic(&db, author, "questions", title, "Text", None)
                    .await
                    .unwrap(),
            );
        }
        for removed in [2, 4] {
            moderation::act_on_post(
                &db,
                moderator,
                topics[removed].1.id,
                PostAction::Delete,
                "spam",
            )
            .await
            .unwrap();
        }
        let input = ArticleInput {
            title: "An article".into(),
            slug: String::new(),
            summary: String::new(),
            body: "Text".into(),
            cover_image_url: String::new(),
            tags: String::new(),
            comments_open: true,
            publish: Publish::Now,
        };
        let (a, _) = blog::create_article(&db, staff, &input, None)
            .await
            .unwrap();
        assert_eq!(
            a.topic_id,
            topics[4].0.id + 1,
            "the article's topic is number 6"
        );

        let path = |i: usize| topic_url(topics[i].0.id, &topics[i].0.slug, 1);
        assert_eq!(
            paths_on(&db, SitemapPage::Topics(1), 2).await,
            Some(vec![path(0), path(1)])
        );
        assert_eq!(
            paths_on(&db, SitemapPage::Topics(2), 2).await,
            Some(vec![path(3)])
        );
        // Topic 5 removed, topic 6 an article's: nothing public.
        assert_eq!(paths_on(&db, SitemapPage::Topics(3), 2).await, None);
        assert_eq!(paths_on(&db, SitemapPage::Topics(4), 2).await, None);
        // At the real size, one page holds them all.
        assert_eq!(
            paths_on(&db, SitemapPage::Topics(1), SITEMAP_PAGE_URLS).await,
            Some(vec![path(0), path(1), path(3)])
        );
        let site = paths_on(&db, SitemapPage::Site, 2).await.unwrap();
        assert_eq!(
            site[..3],
            ["/".to_string(), "/blog".into(), "/accountability".into()]
        );

        let index = sitemap_index(&db, "https://x.example", 2).await.unwrap();
        let listed: Vec<&str> = index
            .lines()
            .filter_map(|l| l.split("<loc>https://x.example").nth(1))
            .map(|rest| rest.split("</loc>").next().unwrap())
            .collect();
        assert_eq!(
            listed,
            [
                "/sitemap/site.xml",
                "/sitemap/topics-1.xml",
                "/sitemap/topics-2.xml"
            ]
        );
        // Each page's lastmod is the latest activity of its topics.
        let last = crate::server::entity::topic::Entity::find_by_id(topics[3].0.id)
            .one(&db)
            .await
            .unwrap()
            .unwrap()
            .last_posted_at;
        assert!(index.contains(&format!(
            "<loc>https://x.example/sitemap/topics-2.xml</loc><lastmod>{}</lastmod>",
            rfc3339(last)
        )));
    }

    #[test]
    fn escaping_covers_markup_quotes_and_illegal_characters() {
        assert_eq!(
            xml_escape("<a href=\"x\">Tom & 'Jerry'</a>\u{1}"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &apos;Jerry&apos;&lt;/a&gt;"
        );
    }

    #[test]
    fn sitemap_page_names_are_one_address_each() {
        assert_eq!(SitemapPage::parse("site.xml"), Some(SitemapPage::Site));
        assert_eq!(
            SitemapPage::parse("topics-12.xml"),
            Some(SitemapPage::Topics(12))
        );
        for no in [
            "topics-0.xml",
            "topics-01.xml",
            "topics--1.xml",
            "topics-.xml",
            "topics-1",
            "x.xml",
            "topics-99999999999999999999.xml",
        ] {
            assert_eq!(SitemapPage::parse(no), None, "{no}");
        }
        assert_eq!(SitemapPage::Topics(3).path(), "/sitemap/topics-3.xml");
        assert_eq!(id_range(1, 2), (1, 2));
        assert_eq!(id_range(3, 50_000), (100_001, 150_000));
    }
}
