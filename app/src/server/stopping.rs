//! The word that the server is stopping (SIGTERM or Ctrl-C): the background workers end between
//! rounds, and a round that can stop part-way (sending the outbox) takes on no more work and
//! writes down what it has done, while the pool is still open.
use tokio::sync::watch;

/// A receiver of the stop. Clones hear the same stop.
#[derive(Clone)]
pub struct Stopping(watch::Receiver<bool>);

impl Stopping {
    /// The sender that asks for the stop (`send(true)`), and its receiver.
    pub fn channel() -> (watch::Sender<bool>, Stopping) {
        let (stop, stopping) = watch::channel(false);
        (stop, Stopping(stopping))
    }

    /// A stop that never comes, for work run to its end (commands, tests).
    pub fn never() -> Stopping {
        Stopping(watch::channel(false).1)
    }

    /// Whether the stop has been asked for.
    pub fn asked(&self) -> bool {
        *self.0.borrow()
    }

    /// Returns once the stop is asked for; never if its sender is gone without asking.
    pub async fn asked_for(&mut self) {
        if self.0.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Waits for `wait` (a worker's next tick) unless the stop comes first: true if it did.
    pub async fn before(&mut self, wait: impl std::future::Future) -> bool {
        tokio::select! {
            _ = wait => false,
            _ = self.asked_for() => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Stopping;

    #[tokio::test]
    async fn a_stop_ends_the_wait_and_never_does_not() {
        let (stop, mut stopping) = Stopping::channel();
        let mut never = Stopping::never();
        assert!(!stopping.asked());
        let tick = || tokio::time::sleep(std::time::Duration::from_millis(20));
        assert!(!stopping.before(tick()).await, "the tick came first");
        assert!(!never.before(tick()).await, "a sender gone is no stop");
        stop.send(true).unwrap();
        assert!(stopping.asked());
        assert!(stopping.clone().before(std::future::pending::<()>()).await);
        assert!(!never.asked());
    }
}
