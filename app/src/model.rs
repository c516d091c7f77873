//! The types that cross the wire to the browser. Never a database entity: only what a page may
//! show. (No e-mail addresses or password hashes here.)
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a member may do. Ordered: each role can do everything the ones before it can.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Staff,
    Moderator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Customer, Role::Staff, Role::Moderator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Staff => "staff",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Customer => "Member",
            Role::Staff => "Staff",
            Role::Moderator => "Moderator",
            Role::Admin => "Admin",
        }
    }

    /// Staff, moderators and admins speak for the company: their posts carry the staff badge.
    pub fn is_staff(self) -> bool {
        self >= Role::Staff
    }
}

/// The signed-in member, as the page header and permission-aware views need them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub staff_title: Option<String>,
}

/// A forum category as listed on the home page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategorySummary {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub colour: String,
    pub topic_count: i32,
    pub post_count: i32,
    pub last_posted_at: Option<DateTime<Utc>>,
    pub latest_topic_title: Option<String>,
}
