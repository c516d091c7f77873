//! How many times the notification worker has failed to spread a fan-out. A fan-out whose
//! spreading fails (a database error on one row, say) used to roll back the worker's whole
//! turn and stay first in the queue, so every notification queued after it waited until
//! someone fixed the cause. Now the worker spreads the others, counts a failure here (at most
//! once a round, and never for the database's own trouble), and gives up on a fan-out after a
//! few (see notify::fan_out).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FanOuts {
    Table,
    Attempts,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(FanOuts::Table)
                    .add_column(
                        ColumnDef::new(FanOuts::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(FanOuts::Table)
                    .drop_column(FanOuts::Attempts)
                    .to_owned(),
            )
            .await
    }
}
