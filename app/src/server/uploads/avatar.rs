//! A member's avatar after it is set (`accept` with `Purpose::Avatar` sets it): taking it away.
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr};

use super::Purpose;
use crate::{
    error::AppError,
    server::{
        db,
        entity::{upload, user},
    },
};

/// Takes `member_id`'s avatar away: pages draw their initials from now on, its address answers
/// "not found", and the sweep removes the stored copies (no upload holds the file any more).
/// Nothing to remove is not an error: the member asked for no avatar and has none.
pub async fn remove(db: &DatabaseConnection, member_id: i64) -> Result<(), AppError> {
    let txn = db::begin_write(db).await?;
    // The same lock as an upload's, so an avatar being saved at this moment is either replaced
    // before this or removed by it, never left set behind it.
    db::lock_key(&txn, &format!("uploads:{member_id}")).await?;
    user::Entity::update_many()
        .col_expr(
            user::Column::AvatarUploadId,
            Expr::value(Option::<i64>::None),
        )
        .filter(user::Column::Id.eq(member_id))
        .exec(&txn)
        .await?;
    upload::Entity::delete_many()
        .filter(upload::Column::UserId.eq(member_id))
        .filter(upload::Column::Purpose.eq(Purpose::Avatar.as_str()))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use sea_orm::{ActiveModelTrait, PaginatorTrait, Set};

    use super::*;
    use crate::server::testing::{insert_user, test_db};

    async fn avatar_of(db: &DatabaseConnection, member_id: i64) -> i64 {
        let row = upload::Entity::insert(upload::ActiveModel {
            user_id: Set(member_id),
            file_hash: Set(format!("{member_id:064}")),
            name: Set("me.png".into()),
            received_size: Set(100),
            purpose: Set(Purpose::Avatar.as_str().into()),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .exec_with_returning(db)
        .await
        .unwrap();
        let mut member: user::ActiveModel = user::Entity::find_by_id(member_id)
            .one(db)
            .await
            .unwrap()
            .unwrap()
            .into();
        member.avatar_upload_id = Set(Some(row.id));
        member.update(db).await.unwrap();
        row.id
    }

    #[tokio::test]
    async fn removing_an_avatar_clears_it_and_its_upload_and_no_one_elses() {
        let db = test_db().await;
        let (me, other) = (insert_user(&db, 1).await, insert_user(&db, 2).await);
        avatar_of(&db, me.id).await;
        let theirs = avatar_of(&db, other.id).await;
        let post_file = upload::Entity::insert(upload::ActiveModel {
            user_id: Set(me.id),
            file_hash: Set("f".repeat(64)),
            name: Set("shot.png".into()),
            received_size: Set(100),
            purpose: Set(Purpose::Post.as_str().into()),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .exec_with_returning(&db)
        .await
        .unwrap();

        remove(&db, me.id).await.unwrap();
        let me = user::Entity::find_by_id(me.id)
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(me.avatar_upload_id, None);
        let left: Vec<i64> = upload::Entity::find()
            .all(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.id)
            .collect();
        assert_eq!(left, vec![theirs, post_file.id]);
        let other = user::Entity::find_by_id(other.id)
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(other.avatar_upload_id, Some(theirs));

        // Again, with nothing left to remove.
        remove(&db, me.id).await.unwrap();
        assert_eq!(upload::Entity::find().count(&db).await.unwrap(), 2);
    }
}
