//! JSON-LD (schema.org) for search engines: a topic is a `DiscussionForumPosting` with its
//! visible replies as comments, or a `QAPage` when staff marked an official answer; an article
//! is a `BlogPosting`. Built as JSON values by serde_json, never by pasting strings, so every
//! member's text is a JSON string; `components::page::JsonLd` then makes the JSON safe inside
//! the script element it goes in. Only what a visitor may read goes in: public pages, visible
//! posts.
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::model::{
    ArticlePage, ArticleState, PostState, PostView, TopicPage, post_url, topic_url,
};
use crate::server::html_text;

/// Plain text taken from a post for `text`: enough for a search snippet, not the whole post.
const TEXT_CHARS: usize = 1000;
const COMMENT_CHARS: usize = 500;

fn date(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn person(site_url: &str, username: &str, display_name: &str) -> Value {
    json!({
        "@type": "Person",
        "name": if display_name.is_empty() { username } else { display_name },
        "url": format!("{site_url}/u/{username}"),
    })
}

fn visible(p: &PostView) -> bool {
    p.state == PostState::Visible
}

/// A topic page's JSON-LD, or None where there is nothing public to describe: a held topic, an
/// article's comment topic (its article has its own), a page after the first (the opening post
/// and the answer are on the first).
pub fn topic(t: &TopicPage, site_url: &str) -> Option<String> {
    if t.held || t.article_path.is_some() || t.page != 1 {
        return None;
    }
    let opening = t.posts.first().filter(|p| p.number == 1)?;
    let url = format!("{site_url}{}", topic_url(t.id, &t.slug, 1));
    let author = person(site_url, &t.author_username, &opening.author_display_name);
    // A hidden opening post leaves the topic public (its replies are readable), but its text is
    // no one's to index.
    let text = visible(opening).then(|| html_text::excerpt(&opening.html, TEXT_CHARS));
    let replies = t.posts.iter().filter(|p| p.number > 1 && visible(p));
    let reply_count = (t.post_count - 1).max(0);
    let value = match t.official_answer.as_ref().filter(|a| visible(a)) {
        Some(answer) => {
            let mut question = json!({
                "@type": "Question",
                "name": t.title,
                "url": url,
                "answerCount": reply_count,
                "dateCreated": date(t.created_at),
                "author": author,
                "acceptedAnswer": {
                    "@type": "Answer",
                    "text": html_text::excerpt(&answer.html, TEXT_CHARS),
                    "url": format!("{site_url}{}", post_url(t.id, &t.slug, answer.number)),
                    "dateCreated": date(answer.created_at),
                    "author": person(site_url, &answer.author_username, &answer.author_display_name),
                },
            });
            if let Some(text) = text {
                question["text"] = json!(text);
            }
            json!({
                "@context": "https://schema.org",
                "@type": "QAPage",
                "mainEntity": question,
            })
        }
        None => {
            let comments: Vec<Value> = replies
                .map(|p| {
                    json!({
                        "@type": "Comment",
                        "text": html_text::excerpt(&p.html, COMMENT_CHARS),
                        "url": format!("{site_url}{}", post_url(t.id, &t.slug, p.number)),
                        "datePublished": date(p.created_at),
                        "author": person(site_url, &p.author_username, &p.author_display_name),
                    })
                })
                .collect();
            let mut posting = json!({
                "@context": "https://schema.org",
                "@type": "DiscussionForumPosting",
                "headline": t.title,
                "url": url,
                "author": author,
                "datePublished": date(t.created_at),
                "dateModified": date(opening.edited_at.unwrap_or(opening.created_at)),
                "interactionStatistic": {
                    "@type": "InteractionCounter",
                    "interactionType": "https://schema.org/CommentAction",
                    "userInteractionCount": reply_count,
                },
                "comment": comments,
            });
            if let Some(text) = text {
                posting["text"] = json!(text);
            }
            posting
        }
    };
    serde_json::to_string(&value).ok()
}

/// A published article's JSON-LD (none for a draft or scheduled one: its page is a preview).
pub fn article(p: &ArticlePage, site_url: &str, site_name: &str) -> Option<String> {
    let a = &p.article;
    if a.state != ArticleState::Published {
        return None;
    }
    let published = a.published_at?;
    let mut posting = json!({
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": a.title,
        "description": a.summary,
        "url": format!("{site_url}/blog/{}", a.slug),
        "datePublished": date(published),
        "dateModified": date(a.updated_at.max(published)),
        "author": person(site_url, &a.author_username, &a.author_display_name),
        "publisher": { "@type": "Organization", "name": site_name, "url": format!("{site_url}/") },
        "articleBody": html_text::excerpt(&p.html, TEXT_CHARS),
        "keywords": a.tags,
        "commentCount": a.comment_count,
    });
    if let Some(image) = &a.cover_image_url {
        posting["image"] = json!(image);
    }
    serde_json::to_string(&posting).ok()
}
