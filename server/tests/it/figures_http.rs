//! The response figures pages as a browser gets them (/accountability for everyone,
//! /staff/metrics for staff), parsed as HTML: the headline figures with their change, the
//! 12-week trend with its title and table, every column of the per-category table on every
//! row, and a hostile category name shown as text.
use crate::common::*;
use app::server::entity::category;
use axum::http::StatusCode;
use scraper::{ElementRef, Html, Selector};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};

fn select<'a>(scope: ElementRef<'a>, css: &str) -> Vec<ElementRef<'a>> {
    scope.select(&Selector::parse(css).unwrap()).collect()
}

fn text(e: &ElementRef) -> String {
    e.text().collect::<String>().trim().to_string()
}

const COLUMNS: [&str; 9] = [
    "Category",
    "Target",
    "Topics",
    "Answered",
    "Median to first staff reply",
    "90th percentile",
    "Answered within target",
    "Waiting now",
    "Resolutions confirmed",
];

/// The four headline figures of each window on the page: (label, value, change) of each.
fn headline_figures(doc: &Html) -> Vec<Vec<(String, String, String)>> {
    select(doc.root_element(), "dl.headline-figures")
        .into_iter()
        .map(|dl| {
            select(dl, ".figure")
                .into_iter()
                .map(|f| {
                    let one = |css: &str| text(&select(f, css)[0]);
                    (one("dt"), one(".figure-value"), one(".figure-change"))
                })
                .collect()
        })
        .collect()
}

/// Checks the trend chart and returns its table's rows (week, topics, answered, median, p90,
/// within target).
fn trend_rows(doc: &Html) -> Vec<Vec<String>> {
    let charts = select(doc.root_element(), "figure.trend");
    assert_eq!(charts.len(), 1, "one trend chart");
    let svg = select(charts[0], "svg")[0];
    assert_eq!(svg.attr("role"), Some("img"));
    assert_eq!(svg.attr("aria-labelledby"), Some("trend-title trend-desc"));
    assert!(svg.attr("style").is_none(), "no inline styles (CSP)");
    let title = select(svg, "title#trend-title");
    assert_eq!(
        text(&title[0]),
        "Time to first staff reply over the last 12 weeks"
    );
    let desc = text(&select(svg, "desc#trend-desc")[0]);
    assert!(
        desc.starts_with("Weekly median time to first staff reply"),
        "{desc}"
    );
    assert!(
        select(charts[0], "[style]").is_empty(),
        "no inline styles in the chart"
    );
    let rows: Vec<Vec<String>> = select(charts[0], "details table.trend-table tbody tr")
        .into_iter()
        .map(|tr| select(tr, "th, td").iter().map(text).collect())
        .collect();
    assert_eq!(rows.len(), 12, "a row a week");
    for row in &rows {
        assert_eq!(row.len(), 6, "{row:?}");
    }
    rows
}

/// Checks every per-category table: all nine columns, every cell labelled with its column for
/// the phone's cards. Returns each table's rows as text, the category name first.
fn category_tables(doc: &Html) -> Vec<Vec<Vec<String>>> {
    select(doc.root_element(), "table.category-figures")
        .into_iter()
        .map(|table| {
            let heads: Vec<String> = select(table, "thead th").iter().map(text).collect();
            assert_eq!(heads, COLUMNS);
            select(table, "tbody tr")
                .into_iter()
                .map(|tr| {
                    let name = select(tr, "th[scope=row]");
                    assert_eq!(name.len(), 1);
                    let cells = select(tr, "td");
                    let labels: Vec<&str> = cells
                        .iter()
                        .map(|c| c.attr("data-label").unwrap())
                        .collect();
                    assert_eq!(labels, COLUMNS[1..], "every cell says its column");
                    std::iter::once(text(&name[0]))
                        .chain(cells.iter().map(text))
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// Nothing of the hostile name became an element or an attribute.
fn assert_inert(doc: &Html) {
    assert!(select(doc.root_element(), "[onerror]").is_empty());
    assert!(
        !select(doc.root_element(), "script")
            .iter()
            .any(|s| text(s) == "alert(1)")
    );
}

const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&amp; Billing";

#[tokio::test]
async fn accountability_and_staff_metrics_show_every_figure() {
    let d = demo_members().await;
    // A hostile category name (admins name categories; the page must show it as text).
    category::Entity::update_many()
        .col_expr(category::Column::Name, Expr::value(HOSTILE))
        .filter(category::Column::Slug.eq("bug-reports"))
        .exec(&d.db)
        .await
        .unwrap();
    let forum_categories = category::Entity::find()
        .filter(category::Column::Kind.ne("blog_comments"))
        .all(&d.db)
        .await
        .unwrap()
        .len();

    let public = get(&d.app, "/accountability", None).await;
    assert_eq!(public.status, StatusCode::OK);
    let doc = Html::parse_document(&public.body);
    let figures = headline_figures(&doc);
    assert_eq!(figures.len(), 1, "the last 30 days");
    let labels: Vec<&str> = figures[0].iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        labels,
        [
            "Median time to first staff reply",
            "90% of first replies came within",
            "Answered within target",
            "Resolutions the customer confirmed",
        ]
    );
    for (label, value, change) in &figures[0] {
        assert!(!value.is_empty(), "{label}");
        assert!(
            change.ends_with("than the previous 30 days")
                || change.starts_with("The same as the previous 30 days")
                || change.starts_with("No data yet"),
            "{label}: {change}"
        );
    }
    trend_rows(&doc);
    let tables = category_tables(&doc);
    assert_eq!(tables.len(), 1);
    assert_eq!(tables[0].len(), forum_categories + 1, "a row each and all");
    let all = tables[0].last().unwrap();
    assert_eq!(all[0], "All categories");
    // One function counts both: the headline median is the table's "All categories" median.
    let median = &figures[0][0].1;
    if median != "No data yet" {
        assert_eq!(&all[4], median);
    }
    // The hostile name is text in its row header, and nothing of it became markup.
    assert!(tables[0].iter().any(|row| row[0] == HOSTILE));
    assert_inert(&doc);

    // Staff see the same components for 7 and 30 days.
    let staff = get(&d.app, "/staff/metrics", Some(&d.sam)).await;
    assert_eq!(staff.status, StatusCode::OK);
    let doc = Html::parse_document(&staff.body);
    let figures = headline_figures(&doc);
    assert_eq!(figures.len(), 2);
    assert!(
        figures[0]
            .iter()
            .all(|f| f.2.contains("the previous 7 days") || f.2.starts_with("No data yet")),
        "{:?}",
        figures[0]
    );
    let weeks = trend_rows(&doc);
    // The trend's last week is the last 7 days.
    let last_week_median = &weeks[11][3];
    let week_median = &figures[0][0].1;
    if week_median == "No data yet" {
        assert_eq!(last_week_median, "—");
    } else {
        assert_eq!(last_week_median, week_median);
    }
    let tables = category_tables(&doc);
    assert_eq!(tables.len(), 2);
    for table in &tables {
        assert_eq!(table.len(), forum_categories + 1);
        assert!(table.iter().any(|row| row[0] == HOSTILE));
    }
    assert_inert(&doc);
}
