//! A response body read whole when it is small enough to keep or compress, and passed on as it
//! came when it is not: a page over a layer's bound is sent as it is, never turned into an
//! error (a customer's post can make a topic page several megabytes).
use axum::body::{Body, Bytes};
use futures_util::{StreamExt, stream};

/// The whole body when it holds at most `limit` bytes; else the body (what was read, then the
/// rest), to be sent without being kept.
pub async fn up_to(body: Body, limit: usize) -> Result<Bytes, Body> {
    let mut chunks = body.into_data_stream();
    let mut read: Vec<Bytes> = Vec::new();
    let mut len = 0;
    while let Some(chunk) = chunks.next().await {
        let Ok(chunk) = chunk else {
            // A body that failed part way fails the same way when sent.
            let read = stream::iter(read.into_iter().map(Ok::<_, axum::Error>));
            return Err(Body::from_stream(
                read.chain(stream::once(async move { chunk })),
            ));
        };
        len += chunk.len();
        read.push(chunk);
        if len > limit {
            let read = stream::iter(read.into_iter().map(Ok::<_, axum::Error>));
            return Err(Body::from_stream(read.chain(chunks)));
        }
    }
    Ok(match read.len() {
        1 => read.pop().unwrap_or_default(),
        _ => read.concat().into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(chunks: &[&'static str]) -> Body {
        let chunks: Vec<Result<Bytes, axum::Error>> = chunks
            .iter()
            .map(|c| Ok(Bytes::from_static(c.as_bytes())))
            .collect();
        Body::from_stream(stream::iter(chunks))
    }

    #[tokio::test]
    async fn small_bodies_come_whole_and_large_ones_come_back_entire() {
        assert_eq!(up_to(body(&["ab", "cd"]), 4).await.unwrap(), "abcd");
        assert_eq!(up_to(body(&[]), 4).await.unwrap(), "");
        let Err(large) = up_to(body(&["ab", "cd", "e", "fg"]), 4).await else {
            panic!("over the limit")
        };
        let sent = axum::body::to_bytes(large, usize::MAX).await.unwrap();
        assert_eq!(sent, "abcdefg");
    }
}
