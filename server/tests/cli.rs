//! The operator commands, run as the real binary.
mod common;

use std::process::Command;

use common::*;

fn backyard(db_path: &std::path::Path, args: &[&str], password: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_backyard"))
        .args(args)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", db_path.display()),
        )
        .env("BACKYARD_ADMIN_PASSWORD", password)
        .env("BACKYARD_LOG", "warn")
        .output()
        .expect("the backyard binary runs")
}

#[tokio::test]
async fn create_admin_makes_an_admin_who_can_log_in() {
    let dir = std::env::temp_dir().join(format!("backyard-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cli.db");
    let _ = std::fs::remove_file(&path);
    let args = [
        "create-admin",
        "--username",
        "boss",
        "--email",
        "boss@example.com",
        "--title",
        "Head of Support",
    ];

    let out = backyard(&path, &args, "a long enough password");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Created admin boss"));

    // Bad input is refused with the rule's message and a failing exit code.
    let again = backyard(&path, &args, "a long enough password");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("That username is taken"));
    let short = backyard(
        &path,
        &[
            "create-admin",
            "--username",
            "b2",
            "--email",
            "b2@example.com",
        ],
        "short",
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 10 characters"));

    let db = file_db(&path).await;
    assert_eq!(user_count(&db).await, 1);
    let user = app::server::accounts::log_in(&db, "boss", "a long enough password")
        .await
        .unwrap();
    assert_eq!(user.role(), app::model::Role::Admin);
    assert_eq!(user.staff_title.as_deref(), Some("Head of Support"));
    db.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
