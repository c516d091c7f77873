//! The `[[workspace.metadata.leptos]]` block (the root Cargo.toml) against what cargo-leptos
//! 0.3.10 needs to build and run the site (`cargo leptos watch`, scripts/dev.sh). Nothing else
//! builds with that block, so without this a new binary in the server package, a renamed
//! feature or a moved stylesheet would break the development loop unseen. The facts come from
//! `cargo metadata`, which is what cargo-leptos reads too (binaries found in src/bin included).
//! Its own test target because it needs none of the application: it links in a second.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

/// Every key cargo-leptos 0.3.10 reads from a `[[workspace.metadata.leptos]]` table: the fields
/// of its `ProjectDefinition` and `ProjectConfig` (src/config/project.rs), in kebab-case. It warns
/// about any other key and ignores it, as it did about the `env` this block once had. Left out:
/// `separate-front-target-dir`, deprecated there (it warns when set).
const KNOWN_KEYS: &[&str] = &[
    // ProjectDefinition
    "name",
    "bin-package",
    "lib-package",
    // ProjectConfig
    "output-name",
    "site-addr",
    "site-root",
    "site-pkg-dir",
    "style-file",
    "style-bundle",
    "hash-file-name",
    "hash-files",
    "tailwind-input-file",
    "tailwind-config-file",
    "assets-dir",
    "js-dir",
    "js-minify",
    "watch-additional-files",
    "reload-port",
    "end2end-cmd",
    "end2end-dir",
    "browserquery",
    "bin-target",
    "bin-target-triple",
    "bin-target-dir",
    "bin-cargo-command",
    "bin-cargo-args",
    "bin-exe-name",
    "features",
    "lib-features",
    "lib-default-features",
    "lib-cargo-args",
    "bin-features",
    "bin-default-features",
    "server-fn-prefix",
    "disable-server-fn-hash",
    "disable-erase-components",
    "always-erase-components",
    "server-fn-mod-path",
    "graceful-shutdown",
    "graceful-shutdown-timeout-secs",
    "graceful-shutdown-unix-signal",
    "front-target-dir",
    "lib-profile-dev",
    "lib-profile-release",
    "bin-profile-dev",
    "bin-profile-release",
    "wasm-opt-features",
];

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// `cargo metadata` of the workspace's own packages, as cargo-leptos asks for it.
fn cargo_metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .arg("--manifest-path")
        .arg(workspace_root().join("Cargo.toml"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

fn package<'a>(metadata: &'a Value, name: &str) -> Option<&'a Value> {
    metadata["packages"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
}

fn targets_of_kind<'a>(package: &'a Value, kind: &str) -> Vec<&'a str> {
    package["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == kind))
        })
        .filter_map(|t| t["name"].as_str())
        .collect()
}

/// What would stop cargo-leptos, or make it warn, for each leptos table of the workspace
/// metadata; paths are taken from `root`. Empty when all is well.
fn problems(metadata: &Value, root: &Path) -> Vec<String> {
    let Some(tables) = metadata["metadata"]["leptos"].as_array() else {
        return vec!["no [[workspace.metadata.leptos]] table".into()];
    };
    let mut found = Vec::new();
    for table in tables {
        let Some(table) = table.as_object() else {
            found.push("a [[workspace.metadata.leptos]] entry is not a table".into());
            continue;
        };
        let text = |key: &str| table.get(key).and_then(Value::as_str);
        let unknown: Vec<&str> = table
            .keys()
            .map(String::as_str)
            .filter(|k| !KNOWN_KEYS.contains(k))
            .collect();
        if !unknown.is_empty() {
            found.push(format!(
                "keys cargo-leptos 0.3.10 does not know (it warns and ignores them): {unknown:?}"
            ));
        }
        for key in ["name", "bin-package", "lib-package"] {
            if text(key).is_none() {
                found.push(format!("{key} is missing"));
            }
        }

        // The server: the one binary cargo-leptos builds, and the file it then runs.
        if let Some(bin_package) = text("bin-package") {
            match package(metadata, bin_package) {
                None => found.push(format!(
                    "bin-package {bin_package:?} is not a workspace member"
                )),
                Some(p) => {
                    let bins = targets_of_kind(p, "bin");
                    let target = match text("bin-target") {
                        Some(t) if bins.contains(&t) => Some(t),
                        Some(t) => {
                            found.push(format!(
                                "bin-target {t:?} is not a binary of {bin_package} (it has {bins:?})"
                            ));
                            None
                        }
                        None if bins.len() == 1 => Some(bins[0]),
                        None => {
                            found.push(format!(
                                "{bin_package} has {} binaries {bins:?} and no bin-target: \
                                 cargo-leptos stops with \"Several bin targets found\"",
                                bins.len()
                            ));
                            None
                        }
                    };
                    // cargo names the executable after the target; cargo-leptos looks for it
                    // under bin-exe-name, else under the package's name.
                    let exe = text("bin-exe-name").unwrap_or(bin_package);
                    if let Some(target) = target
                        && exe != target
                    {
                        found.push(format!(
                            "cargo builds the binary {target:?} but cargo-leptos would run \
                             {:?}/<profile>/{exe}, which is not it: set bin-exe-name = {target:?}",
                            text("bin-target-dir").unwrap_or("target")
                        ));
                    }
                }
            }
        }

        // The browser bundle: the library built for wasm with the hydrate feature.
        if let Some(lib_package) = text("lib-package") {
            match package(metadata, lib_package) {
                None => found.push(format!(
                    "lib-package {lib_package:?} is not a workspace member"
                )),
                Some(p) => {
                    let lib_features: Vec<&str> = table
                        .get("lib-features")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect();
                    if !lib_features.contains(&"hydrate") {
                        found.push(format!(
                            "lib-features {lib_features:?} leave out \"hydrate\": the bundle would not hydrate the islands"
                        ));
                    }
                    for feature in lib_features {
                        if p["features"].get(feature).is_none() {
                            found.push(format!(
                                "lib-features names {feature:?}, which {lib_package} does not have"
                            ));
                        }
                    }
                    if !targets_of_kind(p, "cdylib").contains(&lib_package) {
                        found.push(format!(
                            "{lib_package} is not built as a cdylib: there would be no wasm"
                        ));
                    }
                }
            }
        }

        // Files it copies or watches, relative to the workspace root.
        match text("style-file") {
            Some(f) if root.join(f).is_file() => {}
            Some(f) => found.push(format!("style-file {f:?} is not a file")),
            None => found.push("style-file is missing: pages link /pkg/<output-name>.css".into()),
        }
        match text("assets-dir") {
            Some(d) if root.join(d).is_dir() => {}
            Some(d) => found.push(format!("assets-dir {d:?} is not a folder")),
            None => {
                found.push("assets-dir is missing: public/ (forms.js) would not be served".into())
            }
        }
        if let Some(d) = text("end2end-dir")
            && !root.join(d).is_dir()
        {
            found.push(format!("end2end-dir {d:?} is not a folder"));
        }
        // cargo-leptos stops when the two ports are the same.
        let site_port = text("site-addr")
            .and_then(|a| a.parse::<std::net::SocketAddr>().ok())
            .map(|a| a.port());
        if table.contains_key("site-addr") && site_port.is_none() {
            found.push("site-addr is not an address like 127.0.0.1:3000".into());
        }
        let reload_port = table
            .get("reload-port")
            .and_then(Value::as_u64)
            .unwrap_or(3001);
        if site_port.map(u64::from) == Some(reload_port) {
            found.push(format!(
                "site-addr and reload-port share the port {reload_port}"
            ));
        }
    }
    found
}

/// The workspace's metadata with the first leptos table changed by `edit`.
fn edited(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut metadata = cargo_metadata();
    edit(
        metadata["metadata"]["leptos"][0]
            .as_object_mut()
            .expect("a leptos table"),
    );
    metadata
}

#[test]
fn the_workspace_block_is_what_cargo_leptos_needs() {
    let metadata = cargo_metadata();
    assert_eq!(
        metadata["metadata"]["leptos"].as_array().map(Vec::len),
        Some(1),
        "one [[workspace.metadata.leptos]] table"
    );
    assert_eq!(problems(&metadata, workspace_root()), Vec::<String>::new());
}

#[test]
fn several_binaries_need_bin_target() {
    // The server package has the benchmarks' binaries besides backyard.
    let metadata = edited(|t| {
        t.remove("bin-target");
    });
    let found = problems(&metadata, workspace_root());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("and no bin-target"), "{found:?}");
    assert!(found[0].contains("\"ceiling\""), "{found:?}");
}

/// The server package's targets in `cargo metadata`'s answer.
fn server_targets(metadata: &mut Value) -> &mut Vec<Value> {
    metadata["packages"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p["name"] == "server")
        .unwrap()["targets"]
        .as_array_mut()
        .unwrap()
}

#[test]
fn a_second_binary_is_refused_without_bin_target() {
    // A server package with backyard alone is fine without bin-target; one more binary is not.
    let mut metadata = edited(|t| {
        t.remove("bin-target");
    });
    server_targets(&mut metadata)
        .retain(|t| t["kind"] != json!(["bin"]) || t["name"] == "backyard");
    assert_eq!(problems(&metadata, workspace_root()), Vec::<String>::new());

    server_targets(&mut metadata).push(json!({"name": "new_tool", "kind": ["bin"]}));
    let found = problems(&metadata, workspace_root());
    assert_eq!(
        found,
        vec![
            "server has 2 binaries [\"backyard\", \"new_tool\"] and no bin-target: cargo-leptos \
             stops with \"Several bin targets found\""
        ]
    );
}

#[test]
fn the_binary_must_be_found_under_its_name() {
    // Without bin-exe-name cargo-leptos looked for target/debug/server and stopped.
    let metadata = edited(|t| {
        t.remove("bin-exe-name");
    });
    assert_eq!(
        problems(&metadata, workspace_root()),
        vec![
            "cargo builds the binary \"backyard\" but cargo-leptos would run \
             \"target/leptos\"/<profile>/server, which is not it: set bin-exe-name = \"backyard\""
        ]
    );
}

#[test]
fn a_bin_target_that_does_not_exist_is_refused() {
    let metadata = edited(|t| {
        t.insert("bin-target".into(), json!("backyard-server"));
    });
    let found = problems(&metadata, workspace_root());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("bin-target \"backyard-server\" is not a binary of server"),
        "{found:?}"
    );
}

#[test]
fn unknown_keys_are_refused() {
    // `env` was read by cargo-leptos 0.1; 0.3.10 warns about it.
    let metadata = edited(|t| {
        t.insert("env".into(), json!("DEV"));
    });
    assert_eq!(
        problems(&metadata, workspace_root()),
        vec!["keys cargo-leptos 0.3.10 does not know (it warns and ignores them): [\"env\"]"]
    );
}

#[test]
fn the_bundle_needs_the_hydrate_feature() {
    let metadata = edited(|t| {
        t.insert("lib-features".into(), json!(["hydrat"]));
    });
    assert_eq!(
        problems(&metadata, workspace_root()),
        vec![
            "lib-features [\"hydrat\"] leave out \"hydrate\": the bundle would not hydrate the islands",
            "lib-features names \"hydrat\", which app does not have",
        ]
    );
}

#[test]
fn the_style_file_and_assets_must_exist() {
    let metadata = edited(|t| {
        t.insert("style-file".into(), json!("style/site.css"));
        t.insert("assets-dir".into(), json!("static"));
    });
    assert_eq!(
        problems(&metadata, workspace_root()),
        vec![
            "style-file \"style/site.css\" is not a file",
            "assets-dir \"static\" is not a folder",
        ]
    );
}

#[test]
fn the_reload_port_is_not_the_site_port() {
    let metadata = edited(|t| {
        t.insert("reload-port".into(), json!(3000));
    });
    assert_eq!(
        problems(&metadata, workspace_root()),
        vec!["site-addr and reload-port share the port 3000"]
    );
}
