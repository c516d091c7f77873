//! Documents for machines: the blog's Atom feed and the sitemap. Both list public content only
//! (published articles whose time has come), written out by hand: two small, fixed shapes do
//! not need an XML library.
use chrono::Utc;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    prelude::DateTimeUtc,
};

use crate::server::entity::{category, topic};
use crate::{error::AppError, model::topic_url};

/// How many articles the feed carries.
pub const FEED_ENTRIES: u64 = 20;
/// Sitemaps hold at most 50,000 addresses; the newest topics go in first.
const SITEMAP_TOPICS: u64 = 45_000;

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
            // Characters XML 1.0 cannot carry at all (most C0 controls) are dropped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn rfc3339(at: DateTimeUtc) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The blog's Atom 1.0 feed: the newest published articles with their full clean HTML.
pub async fn atom_feed(
    db: &DatabaseConnection,
    site_url: &str,
    site_name: &str,
) -> Result<String, AppError> {
    let articles = crate::server::views::blog::latest_public(db, FEED_ENTRIES).await?;
    let updated = articles
        .iter()
        .map(|a| a.updated_at.max(a.published_at.unwrap_or(a.updated_at)))
        .max()
        .unwrap_or_else(Utc::now);
    let summaries = crate::server::views::blog::summaries(db, articles.clone()).await?;
    let blog_url = format!("{site_url}/blog");
    let mut xml =
        String::with_capacity(4096 + articles.iter().map(|a| a.html.len() * 2).sum::<usize>());
    xml.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    xml.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    xml.push_str(&format!(
        "  <id>{}</id>\n  <title>{}</title>\n  <updated>{}</updated>\n",
        xml_escape(&format!("{blog_url}/")),
        xml_escape(&format!("{site_name} blog")),
        rfc3339(updated),
    ));
    xml.push_str(&format!(
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n",
        xml_escape(&blog_url),
        xml_escape(&format!("{blog_url}/feed.xml")),
    ));
    xml.push_str(&format!(
        "  <author><name>{}</name></author>\n  <generator>Backyard</generator>\n",
        xml_escape(site_name)
    ));
    for (a, s) in articles.iter().zip(&summaries) {
        let url = format!("{site_url}{}", crate::server::records::articles::url_of(a));
        let author = if s.author_display_name.is_empty() {
            site_name
        } else {
            &s.author_display_name
        };
        xml.push_str("  <entry>\n");
        // The id must never change: the article's number, not its address.
        xml.push_str(&format!(
            "    <id>{}</id>\n    <title>{}</title>\n",
            xml_escape(&format!("{blog_url}/{}", a.id)),
            xml_escape(&a.title)
        ));
        xml.push_str(&format!(
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
            xml_escape(&url)
        ));
        if let Some(published) = a.published_at {
            xml.push_str(&format!(
                "    <published>{}</published>\n",
                rfc3339(published)
            ));
        }
        xml.push_str(&format!(
            "    <updated>{}</updated>\n",
            rfc3339(a.updated_at.max(a.published_at.unwrap_or(a.updated_at)))
        ));
        xml.push_str(&format!(
            "    <author><name>{}</name></author>\n",
            xml_escape(author)
        ));
        for tag in &s.tags {
            xml.push_str(&format!("    <category term=\"{}\"/>\n", xml_escape(tag)));
        }
        xml.push_str(&format!(
            "    <summary>{}</summary>\n",
            xml_escape(&s.summary)
        ));
        xml.push_str(&format!(
            "    <content type=\"html\">{}</content>\n",
            xml_escape(&a.html)
        ));
        xml.push_str("  </entry>\n");
    }
    xml.push_str("</feed>\n");
    Ok(xml)
}

/// sitemap.xml: the home page, the blog and its public articles, the forum's categories and its
/// newest topics. Drafts, scheduled articles and the hidden blog-comments topics never appear.
pub async fn sitemap(db: &DatabaseConnection, site_url: &str) -> Result<String, AppError> {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let mut url = |path: &str, modified: Option<DateTimeUtc>| {
        xml.push_str(&format!(
            "  <url><loc>{}</loc>",
            xml_escape(&format!("{site_url}{path}"))
        ));
        if let Some(at) = modified {
            xml.push_str(&format!("<lastmod>{}</lastmod>", rfc3339(at)));
        }
        xml.push_str("</url>\n");
    };
    url("/", None);
    url("/blog", None);
    for (slug, updated) in crate::server::views::blog::public_addresses(db).await? {
        url(&format!("/blog/{slug}"), Some(updated));
    }
    let categories: Vec<(i64, String, Option<DateTimeUtc>)> = category::Entity::find()
        .select_only()
        .columns([
            category::Column::Id,
            category::Column::Slug,
            category::Column::LastPostedAt,
        ])
        .filter(category::Column::Kind.ne("blog_comments"))
        .order_by_asc(category::Column::Position)
        .into_tuple()
        .all(db)
        .await?;
    for (_, slug, last) in &categories {
        url(&format!("/c/{slug}"), *last);
    }
    let topics: Vec<(i64, String, DateTimeUtc)> = topic::Entity::find()
        .select_only()
        .columns([
            topic::Column::Id,
            topic::Column::Slug,
            topic::Column::LastPostedAt,
        ])
        .filter(topic::Column::CategoryId.is_in(categories.iter().map(|c| c.0)))
        .filter(
            topic::Column::Id.in_subquery(crate::server::visibility::public_topic_ids(Utc::now())),
        )
        .order_by_desc(topic::Column::LastPostedAt)
        .limit(SITEMAP_TOPICS)
        .into_tuple()
        .all(db)
        .await?;
    for (id, slug, last) in topics {
        url(&topic_url(id, &slug, 1), Some(last));
    }
    xml.push_str("</urlset>\n");
    Ok(xml)
}

#[cfg(test)]
mod tests {
    use super::xml_escape;

    #[test]
    fn escaping_covers_markup_quotes_and_illegal_characters() {
        assert_eq!(
            xml_escape("<a href=\"x\">Tom & 'Jerry'</a>\u{1}"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &apos;Jerry&apos;&lt;/a&gt;"
        );
    }
}
