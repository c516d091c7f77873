//! Categories as lists and pages name them.
use std::collections::{HashMap, HashSet};

use chrono::{Duration, Utc};
use sea_orm::prelude::DateTimeUtc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::server::{
    blog, content,
    db::begin_write,
    entity::{category, post, topic, user},
    forms, moderation, posting, records, staff, visibility,
};
use crate::{
    error::AppError,
    model::{
        ActivityPost, CategoryPage, CategoryRef, CategorySummary, EditablePost, PAGE_SIZE,
        PostState, PostView, TopicListItem, TopicPage, UserProfile,
    },
};


pub(crate) fn category_ref(c: &category::Model) -> CategoryRef {
    CategoryRef {
        id: c.id,
        slug: c.slug.clone(),
        name: c.name.clone(),
        colour: c.colour.clone(),
    }
}

pub const CATEGORY_MISSING: &str = "Choose a category from the list.";
