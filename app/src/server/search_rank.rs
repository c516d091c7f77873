//! `backyard_bm25`, search's ranking function on SQLite: FTS5's own `bm25` with its count of
//! each word's matches bounded.
//!
//! `bm25` weighs each phrase of a query by how rare it is (its idf), and to know that it counts,
//! once per statement, every row of the index holding the phrase. That count follows the
//! phrase's matches, not the rows ranked: "add", in 128,763 of a million posts, cost 4 ms a
//! phrase, and a search's statement counted each phrase twice (posts, then articles) and a
//! prefix's word twice more (as typed and as found in the vocabulary): 12 of its 17 ms, against
//! 5 ms ranked without the count. This function counts at most `COUNTED` matches of a phrase:
//! a phrase in more posts weighs as one in `COUNTED` would. Up to `COUNTED` matches it is
//! `bm25` exactly; above, a common phrase weighs more against the rarer ones of its query than
//! in `bm25` (at a million posts, a word in 128,763 of them 4.6 instead of 1.9, where one in
//! 300 weighs 8.1 in both), and a query of one phrase ranks as `bm25` does, since one weight
//! scales every row alike. (Estimating the rest from the share of post ids the count covered
//! was tried and dropped: an outside tester's word of a launch week, in a few thousand posts
//! in a row, was estimated in all of them and weighed nothing.)
//!
//! Registered on each SQLite connection as it opens (`db::connect`), with the same arguments as
//! `bm25`: the index, then a weight per column.
use std::ffi::{c_int, c_void};

use libsqlite3_sys as ffi;

/// The most matches of one phrase that are counted.
pub const COUNTED: i64 = 10_000;

/// BM25's constants, as FTS5 sets them.
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// What one statement's ranking works out once: each phrase's idf and the rows' mean length,
/// with room for a row's phrase frequencies.
struct Weights {
    idf: Vec<f64>,
    average_length: f64,
    frequency: Vec<f64>,
}

/// Registers `backyard_bm25` on an open connection.
///
/// # Safety
/// `db` must be an open connection handle, used by nobody else during the call.
pub unsafe fn register(db: *mut ffi::sqlite3) -> Result<(), String> {
    // SAFETY (the whole body): the calls follow https://sqlite.org/fts5.html#extending_fts5:
    // the API pointer is read through a pointer bound to `SELECT fts5(?1)`, which lives until
    // the statement is finalized; the function is registered on this handle only.
    unsafe {
        let mut api: *mut ffi::fts5_api = std::ptr::null_mut();
        let mut statement: *mut ffi::sqlite3_stmt = std::ptr::null_mut();
        let rc = ffi::sqlite3_prepare_v2(
            db,
            c"SELECT fts5(?1)".as_ptr(),
            -1,
            &mut statement,
            std::ptr::null_mut(),
        );
        if rc != ffi::SQLITE_OK {
            return Err(format!("could not ask for FTS5's API (SQLite error {rc})"));
        }
        ffi::sqlite3_bind_pointer(
            statement,
            1,
            (&mut api as *mut *mut ffi::fts5_api).cast(),
            c"fts5_api_ptr".as_ptr(),
            None,
        );
        ffi::sqlite3_step(statement);
        ffi::sqlite3_finalize(statement);
        let Some(create) = api.as_ref().and_then(|a| a.xCreateFunction) else {
            return Err("this SQLite has no FTS5".into());
        };
        let rc = create(
            api,
            c"backyard_bm25".as_ptr(),
            std::ptr::null_mut(),
            Some(rank),
            None,
        );
        if rc != ffi::SQLITE_OK {
            return Err(format!(
                "could not register backyard_bm25 (SQLite error {rc})"
            ));
        }
    }
    Ok(())
}

/// The function FTS5 calls for each row: minus the row's score, as `bm25` gives it.
unsafe extern "C" fn rank(
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    ctx: *mut ffi::sqlite3_context,
    n_args: c_int,
    args: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: FTS5 passes its API, the row's context and `n_args` values, valid for the call.
    unsafe {
        match score(&*api, fts, n_args, args) {
            Ok(score) => ffi::sqlite3_result_double(ctx, -score),
            Err(rc) => ffi::sqlite3_result_error_code(ctx, rc),
        }
    }
}

/// FTS5's API function `$name`, or a misuse error if this SQLite lacks it.
macro_rules! call {
    ($api:expr, $name:ident, $($arg:expr),*) => {
        match $api.$name {
            Some(f) => f($($arg),*),
            None => return Err(ffi::SQLITE_MISUSE),
        }
    };
}

/// The row's BM25 score (`bm25`'s formula, fts5_aux.c).
///
/// # Safety
/// As `rank`'s arguments.
unsafe fn score(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    n_args: c_int,
    args: *mut *mut ffi::sqlite3_value,
) -> Result<f64, c_int> {
    // SAFETY: the auxiliary data is only ever a `Weights` set below; FTS5 keeps it for this
    // statement's cursor and frees it with `drop_weights`.
    unsafe {
        let mut weights = call!(api, xGetAuxdata, fts, 0).cast::<Weights>();
        if weights.is_null() {
            let made = Box::into_raw(Box::new(statement_weights(api, fts)?));
            let rc = call!(api, xSetAuxdata, fts, made.cast(), Some(drop_weights));
            if rc != ffi::SQLITE_OK {
                // FTS5 has already freed it with `drop_weights`.
                return Err(rc);
            }
            weights = made;
        }
        let weights = &mut *weights;
        weights.frequency.fill(0.0);
        let mut instances: c_int = 0;
        check(call!(api, xInstCount, fts, &mut instances))?;
        for i in 0..instances {
            let (mut phrase, mut column, mut offset) = (0, 0, 0);
            check(call!(
                api,
                xInst,
                fts,
                i,
                &mut phrase,
                &mut column,
                &mut offset
            ))?;
            let weight = if column < n_args {
                ffi::sqlite3_value_double(*args.add(column as usize))
            } else {
                1.0
            };
            if let Some(f) = weights.frequency.get_mut(phrase as usize) {
                *f += weight;
            }
        }
        let mut tokens: c_int = 0;
        check(call!(api, xColumnSize, fts, -1, &mut tokens))?;
        let length = K1 * (1.0 - B + B * f64::from(tokens) / weights.average_length);
        Ok(weights
            .idf
            .iter()
            .zip(&weights.frequency)
            .map(|(idf, f)| idf * (f * (K1 + 1.0)) / (f + length))
            .sum())
    }
}

/// Each phrase's idf and the mean row length, for the statement's first row.
///
/// # Safety
/// As `rank`'s arguments.
unsafe fn statement_weights(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
) -> Result<Weights, c_int> {
    // SAFETY: `count_match` gets a count that outlives the query it is given to.
    unsafe {
        let phrases = call!(api, xPhraseCount, fts).max(0) as usize;
        let mut rows: i64 = 0;
        check(call!(api, xRowCount, fts, &mut rows))?;
        let mut tokens: i64 = 0;
        check(call!(api, xColumnTotalSize, fts, -1, &mut tokens))?;
        let rows = rows.max(1);
        let mut idf = Vec::with_capacity(phrases);
        for phrase in 0..phrases {
            let mut hits: i64 = 0;
            let rc = call!(
                api,
                xQueryPhrase,
                fts,
                phrase as c_int,
                (&mut hits as *mut i64).cast(),
                Some(count_match)
            );
            check(rc)?;
            let hits = hits as f64;
            let rows = rows as f64;
            // As FTS5: a phrase in more than half the rows would weigh less than nothing.
            let weight = ((rows - hits + 0.5) / (hits + 0.5)).ln();
            idf.push(if weight <= 0.0 { 1e-6 } else { weight });
        }
        Ok(Weights {
            idf,
            average_length: (tokens as f64 / rows as f64).max(f64::MIN_POSITIVE),
            frequency: vec![0.0; phrases],
        })
    }
}

/// Counts one match of the phrase being counted; stops at `COUNTED`.
unsafe extern "C" fn count_match(
    _api: *const ffi::Fts5ExtensionApi,
    _fts: *mut ffi::Fts5Context,
    data: *mut c_void,
) -> c_int {
    // SAFETY: `data` is the count `statement_weights` passed.
    let hits = unsafe { &mut *data.cast::<i64>() };
    *hits += 1;
    if *hits >= COUNTED {
        // FTS5 ends the query without an error.
        ffi::SQLITE_DONE
    } else {
        ffi::SQLITE_OK
    }
}

unsafe extern "C" fn drop_weights(weights: *mut c_void) {
    // SAFETY: set only by `score`, from `Box::into_raw`, and freed once by FTS5.
    drop(unsafe { Box::from_raw(weights.cast::<Weights>()) });
}

fn check(rc: c_int) -> Result<(), c_int> {
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(rc)
    }
}

#[cfg(test)]
mod tests {
    use super::COUNTED;
    use crate::server::db;
    use sea_orm::{ConnectionTrait, DbBackend, Statement};

    async fn scores(db: &sea_orm::DatabaseConnection, query: &str) -> Vec<(i64, f64, f64)> {
        db.query_all_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT rowid AS id, bm25(t, 8.0, 1.0) AS theirs, backyard_bm25(t, 8.0, 1.0) AS ours
               FROM t WHERE t MATCH ?1 ORDER BY rowid",
            [query.into()],
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.try_get::<i64>("", "id").unwrap(),
                r.try_get::<f64>("", "theirs").unwrap(),
                r.try_get::<f64>("", "ours").unwrap(),
            )
        })
        .collect()
    }

    async fn index(
        rows: usize,
        text: impl Fn(usize) -> (String, String),
    ) -> sea_orm::DatabaseConnection {
        let db = db::connect("sqlite::memory:").await.unwrap();
        db.execute_unprepared(
            "CREATE VIRTUAL TABLE t USING fts5(title, body, tokenize = 'porter unicode61 remove_diacritics 2')",
        )
        .await
        .unwrap();
        db.execute_unprepared("BEGIN").await.unwrap();
        for chunk in (1..=rows).collect::<Vec<_>>().chunks(400) {
            let mut values = Vec::new();
            let rows: Vec<String> = chunk
                .iter()
                .map(|i| {
                    let (title, body) = text(*i);
                    values.push(sea_orm::Value::from(*i as i64));
                    values.push(title.into());
                    values.push(body.into());
                    "(?, ?, ?)".to_string()
                })
                .collect();
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                format!(
                    "INSERT INTO t (rowid, title, body) VALUES {}",
                    rows.join(", ")
                ),
                values,
            ))
            .await
            .unwrap();
        }
        db.execute_unprepared("COMMIT").await.unwrap();
        db
    }

    /// Words by a fixed pseudo-random walk, so each row is its own mix of common and rare.
    fn words(i: usize, n: usize) -> String {
        const VOCABULARY: [&str; 12] = [
            "payment", "refund", "login", "broken", "slow", "export", "invoice", "dark", "mobile",
            "crash", "email", "search",
        ];
        let mut x = (i as u64)
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Skewed: early words far more often than late ones.
                let k = ((x % 144) as f64).sqrt() as usize;
                VOCABULARY[k.min(VOCABULARY.len() - 1)]
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[tokio::test]
    async fn below_the_count_it_is_bm25() {
        let db = index(3_000, |i| (words(i, 3), words(i + 7_919, 5 + i % 40))).await;
        for query in [
            "payment",
            "crash OR search",
            "refund AND login",
            "\"broken export\"",
            "title : invoice OR body : mobile",
            "pay*",
            "nothingmatches",
        ] {
            let rows = scores(&db, query).await;
            for (id, theirs, ours) in rows {
                assert!(
                    (theirs - ours).abs() <= 1e-9 * theirs.abs().max(1.0),
                    "{query}: row {id}: bm25 {theirs}, ours {ours}"
                );
            }
        }
    }

    #[tokio::test]
    async fn above_the_count_a_word_weighs_as_one_at_the_count_and_ranks_as_bm25() {
        // "common" in one row of three (more than COUNTED, fewer than half), "rare" in one in
        // fifty.
        let rows = (COUNTED as usize) * 36 / 10;
        let db = index(rows, |i| {
            let mut body = words(i, 4 + i % 30);
            if i % 3 == 0 {
                body.push_str(" common");
            }
            if i % 50 == 0 {
                body.push_str(" rare");
            }
            (words(i + 1, 2), body)
        })
        .await;
        let one_word = scores(&db, "common").await;
        assert_eq!(one_word.len(), rows / 3);
        let mut theirs: Vec<(i64, f64)> = one_word.iter().map(|(id, t, _)| (*id, *t)).collect();
        let mut ours: Vec<(i64, f64)> = one_word.iter().map(|(id, _, o)| (*id, *o)).collect();
        theirs.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        ours.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        let order = |v: &[(i64, f64)]| v.iter().map(|(id, _)| *id).collect::<Vec<_>>();
        assert_eq!(order(&theirs), order(&ours), "one word ranks as bm25 does");
        // Its weight is that of a word in COUNTED rows: every score scaled by the same ratio.
        let idf = |n: f64| ((rows as f64 - n + 0.5) / (n + 0.5)).ln();
        let ratio = idf(COUNTED as f64) / idf((rows / 3) as f64);
        for (id, theirs, ours) in &one_word {
            assert!(
                (ours - theirs * ratio).abs() <= 1e-9 * theirs.abs(),
                "row {id}: bm25 {theirs}, ours {ours}, ratio {ratio}"
            );
        }
        // A rare word's weight is counted: with it alone, bm25 exactly.
        for (id, theirs, ours) in scores(&db, "rare").await {
            assert!((theirs - ours).abs() <= 1e-9 * theirs.abs(), "row {id}");
        }
    }
}
