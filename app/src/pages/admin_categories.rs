use crate::components::category_colours::colour_class;
use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;

use crate::{
    api::admin::{ArchiveCategory, MoveCategory, SaveCategory, get_admin_categories},
    components::{form::error_from_url_of, page::ErrorView},
    model::AdminCategory,
};

/// /admin/categories (admins): create, edit, reorder and archive categories. Plain forms.
#[component]
pub fn AdminCategoriesPage() -> impl IntoView {
    let data = OnceResource::new(get_admin_categories());
    let error = error_from_url_of(&[
        SaveCategory::PATH,
        MoveCategory::PATH,
        ArchiveCategory::PATH,
    ]);
    view! {
        <Title text="Categories" />
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading…"</p> }>
            {move || {
                let error = error.clone();
                Suspend::new(async move {
                    let list = match data.await {
                        Ok(list) => list,
                        Err(e) => return view! { <ErrorView error=e /> }.into_any(),
                    };
                    let blank = AdminCategory {
                        id: 0,
                        slug: String::new(),
                        name: String::new(),
                        description: String::new(),
                        colour: "#3b6ea5".into(),
                        target_hours: "24".into(),
                        customers_may_start: true,
                        archived: false,
                        topic_count: 0,
                        kind: "forum".into(),
                    };
                    let count = list.len();
                    view! {
                        <section class="narrow">
                            <h1>"Categories"</h1>
                            <p class="lede">"Renaming a category's address keeps the old one working as a redirect. Archived categories are read-only and not offered for new topics."</p>
                            {error.map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
                            <ol class="admin-categories">
                                {list.into_iter().enumerate().map(|(i, c)| view! { <CategoryEditor category=c first=i == 0 last=i + 1 == count /> }).collect_view()}
                            </ol>
                            <section aria-labelledby="new-category">
                                <h2 id="new-category">"New category"</h2>
                                <CategoryForm category=blank />
                            </section>
                        </section>
                    }
                    .into_any()
                })
            }}
        </Suspense>
    }
}

#[component]
fn CategoryEditor(category: AdminCategory, first: bool, last: bool) -> impl IntoView {
    let id = category.id;
    let archived = category.archived;
    let heading = format!(
        "{}{}",
        category.name,
        if archived { " (archived)" } else { "" }
    );
    let kind = if category.kind == "ideas" {
        "ideas"
    } else {
        "forum"
    };
    let facts = format!(
        " · {kind} · /c/{} · {}",
        category.slug,
        crate::format::count(category.topic_count as i64, "topic", "topics")
    );
    let classes = format!("admin-category {}", colour_class(&category.slug));
    view! {
        <li class=classes>
            <h2>{heading} <span class="muted">{facts}</span></h2>
            <div class="form-actions">
                {(!first).then(|| view! { <MoveButton id direction="up" label="Move up" /> })}
                {(!last).then(|| view! { <MoveButton id direction="down" label="Move down" /> })}
                <form method="post" action=ArchiveCategory::url() class="inline-form">
                    <input type="hidden" name="category_id" value=id />
                    <input type="hidden" name="archived" value=if archived { "no" } else { "yes" } />
                    <button type="submit" class="button">{if archived { "Bring back" } else { "Archive" }}</button>
                </form>
            </div>
            <details>
                <summary>"Edit"</summary>
                <CategoryForm category />
            </details>
        </li>
    }
}

#[component]
fn MoveButton(id: i64, direction: &'static str, label: &'static str) -> impl IntoView {
    view! {
        <form method="post" action=MoveCategory::url() class="inline-form">
            <input type="hidden" name="category_id" value=id />
            <input type="hidden" name="direction" value=direction />
            <button type="submit" class="button subtle">{label}</button>
        </form>
    }
}

/// The category's fields; ids are unique per category so several forms share a page.
#[component]
fn CategoryForm(category: AdminCategory) -> impl IntoView {
    let key = if category.id == 0 {
        "new".to_string()
    } else {
        category.id.to_string()
    };
    let field = move |name: &str| format!("category-{key}-{name}");
    let text =
        |id: String, name: &'static str, label: &'static str, value: String, kind: &'static str| {
            let label_for = id.clone();
            view! {
                <div class="field">
                    <label for=label_for>{label}</label>
                    <input id=id name=name type=kind value=value />
                </div>
            }
        };
    view! {
        <form method="post" action=SaveCategory::url() class="stack compact">
            <input type="hidden" name="category_id" value=category.id />
            {text(field("name"), "name", "Name", category.name.clone(), "text")}
            {text(field("slug"), "slug", "Address (/c/…; empty: made from the name)", category.slug.clone(), "text")}
            {text(field("description"), "description", "Description", category.description.clone(), "text")}
            {text(field("colour"), "colour", "Colour (#rrggbb)", category.colour.clone(), "text")}
            {text(field("target"), "target_hours", "Target to first staff reply (hours)", category.target_hours.clone(), "text")}
            <div class="field">
                <label for=field("kind")>"Kind"</label>
                <p class="hint" id=field("kind-hint")>"Ideas take votes: their list sorts by votes, and members vote for the ones they want."</p>
                <select id=field("kind") name="kind" aria-describedby=field("kind-hint")>
                    <option value="forum" selected=category.kind != "ideas">"Forum"</option>
                    <option value="ideas" selected=category.kind == "ideas">"Ideas"</option>
                </select>
            </div>
            <label class="choice" for=field("customers")>
                <input type="checkbox" id=field("customers") name="customers_may_start" value="on" checked=category.customers_may_start />
                "Customers may start topics here"
            </label>
            <button type="submit" class="button primary">{if category.id == 0 { "Create category" } else { "Save" }}</button>
        </form>
    }
}
