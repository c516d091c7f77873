//! The benchmark's ceiling: a bare axum handler that answers every GET with one file's bytes
//! from memory. What a page costs beyond writing bytes to a socket is the distance to this.
//! usage: ceiling FILE ADDR
use axum::{Router, http::header, response::IntoResponse, routing::get};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(file), Some(addr)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: ceiling FILE ADDR");
        std::process::exit(2);
    };
    let body: &'static [u8] = Box::leak(
        std::fs::read(file)
            .expect("readable file")
            .into_boxed_slice(),
    );
    let page = move || async move {
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
    };
    let app = Router::new().fallback(get(page));
    let listener = tokio::net::TcpListener::bind(addr.as_str())
        .await
        .expect("address free");
    axum::serve(listener, app).await.expect("serves");
}
